import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Tool } from "effect/ai"
import { ToolClass, ToolPolicy } from "toolgate"

const { Verdict } = ToolPolicy

const Read = Tool.make("Read", { parameters: Schema.Struct({}) }).annotate(Tool.Readonly, true)
const Write = Tool.make("Write", { parameters: Schema.Struct({}) })

const request = (tool: Tool.Any | undefined, name = tool?.name ?? "Missing"): ToolPolicy.PolicyRequest => ({
  call: { id: "1", name, params: {} },
  tool,
  toolClass: tool === undefined ? undefined : ToolClass.of(tool),
  origin: { depth: 0, parents: [] }
})

describe("ToolPolicy", () => {
  it.effect("the default policy asks for every call", () =>
    Effect.gen(function*() {
      const policy = yield* ToolPolicy.ToolPolicy
      expect((yield* policy.decide(request(Write)))._tag).toBe("Ask")
      expect((yield* policy.decide(request(undefined)))._tag).toBe("Ask")
    }))

  it.effect("byClass decides by the tool's class; unknown tools are asked", () =>
    Effect.gen(function*() {
      const policy = ToolPolicy.byClass({ ReadOnly: Verdict.Allow(), Mutating: Verdict.Deny({ reason: "read-only" }) })
      expect((yield* policy.decide(request(Read)))._tag).toBe("Allow")
      expect(yield* policy.decide(request(Write))).toMatchObject({ _tag: "Deny", reason: "read-only" })
      expect((yield* policy.decide(request(undefined)))._tag).toBe("Ask")
    }))

  it.effect("byName matches exact names only and falls back", () =>
    Effect.gen(function*() {
      const policy = ToolPolicy.byName({ Write: Verdict.Deny({ reason: "no" }) }, Verdict.Allow())
      expect((yield* policy.decide(request(Write)))._tag).toBe("Deny")
      expect((yield* policy.decide(request(Write, "write")))._tag).toBe("Allow")
      expect((yield* policy.decide(request(undefined, "__proto__")))._tag).toBe("Allow")
    }))

  it.effect("combine: the strictest verdict wins, whatever the order", () =>
    Effect.gen(function*() {
      const allow = ToolPolicy.allowAll
      const ask = ToolPolicy.permitAll
      const deny = ToolPolicy.make(() => Verdict.Deny({ reason: "no" }))
      expect((yield* ToolPolicy.combine(allow, ask).decide(request(Write)))._tag).toBe("Ask")
      expect((yield* ToolPolicy.combine(deny, allow, ask).decide(request(Write)))._tag).toBe("Deny")
      expect((yield* ToolPolicy.combine(ask, allow, deny).decide(request(Write)))._tag).toBe("Deny")
      expect((yield* ToolPolicy.combine(allow, allow).decide(request(Write)))._tag).toBe("Allow")
      expect((yield* ToolPolicy.combine().decide(request(Write)))._tag).toBe("Allow")
    }))
})

describe("ToolClass", () => {
  it("reads ReadOnly from Tool.Readonly and defaults to Mutating", () => {
    expect(ToolClass.of(Read)).toBe("ReadOnly")
    expect(ToolClass.of(Write)).toBe("Mutating")
    expect(ToolClass.of(Read.annotate(Tool.Readonly, false))).toBe("Mutating")
  })

  it("marks tools recursive without changing their class", () => {
    const task = ToolClass.recursive(Write)
    expect(ToolClass.isRecursive(task)).toBe(true)
    expect(ToolClass.isRecursive(Write)).toBe(false)
    expect(ToolClass.of(task)).toBe("Mutating")
  })
})
