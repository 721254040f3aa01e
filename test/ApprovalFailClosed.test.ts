import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { Approval, Executor, ToolPolicy } from "toolgate"
import { TestApproval } from "toolgate/testing"
import { approvalRequest as request, handlers, makeTracker, started, toolkit } from "./fixtures.ts"

const { ApprovalDecision } = Approval
const askRule: ToolPolicy.Match = { _tag: "Rule", list: "ask", rule: "Write(secrets/**)" }
const byDefault: ToolPolicy.Match = { _tag: "Default", value: "ask" }

// What a JSON bridge or a careless handler might answer instead of a decision.
const malformed: ReadonlyArray<readonly [string, unknown]> = [
  ["an empty object", {}],
  ["a lower-case tag", { _tag: "deny" }],
  ["a lower-case allow", { _tag: "allow" }],
  ["a Deny without a reason", { _tag: "Deny" }],
  ["a reason of the wrong type", { _tag: "Deny", reason: 42 }],
  ["remember of the wrong type", { _tag: "Allow", remember: "yes" }],
  ["a string", "Allow"],
  ["null", null],
  ["undefined", undefined],
  ["a number", 1],
  ["an unknown decidedBy", { _tag: "Allow", decidedBy: "root" }]
]

describe("approvals fail closed", () => {
  describe("a decision that is not a well-formed Allow or Deny denies the call", () => {
    for (const [what, answer] of malformed) {
      it.effect(what, () =>
        Effect.gen(function*() {
          const tracker = makeTracker()
          const [result] = yield* Executor.executeBatch(toolkit, [{ id: "1", name: "Write", params: { key: "k", value: "v" } }]).pipe(
            Effect.provide(Layer.mergeAll(
              handlers(tracker),
              Approval.layer({ approve: () => Effect.succeed(answer as Approval.ApprovalDecision) })
            ))
          )
          expect(started(tracker)).toEqual([])
          expect(result!.outcome).toMatchObject({ _tag: "ApprovalDenied", decidedBy: "fault" })
          expect((result!.outcome as { reason: string }).reason).toContain("not a decision")
        }))
    }
  })

  it("check keeps well-formed decisions as they are", () => {
    const allow = ApprovalDecision.Allow({ remember: "tool", params: { key: "x" } })
    expect(Approval.check(allow)).toEqual(allow)
    const deny = ApprovalDecision.Deny({ reason: "no", stop: true })
    expect(Approval.check(deny)).toEqual(deny)
    expect(Approval.check(JSON.parse(JSON.stringify(deny)))).toEqual(deny)
  })

  it.effect("a malformed answer with remember is not remembered: the next identical call is asked again", () =>
    Effect.gen(function*() {
      const recorder = yield* TestApproval.recording(Approval.make(() => ({ _tag: "Allow", remember: "always" }) as never))
      const handler = yield* Approval.sessionMemory(recorder.handler)
      yield* handler.approve(request("1"))
      yield* handler.approve(request("1"))
      expect((yield* recorder.requests).length).toBe(2)
    }))

  describe("remember: \"tool\"", () => {
    it.effect("never replays edited params into later calls", () =>
      Effect.gen(function*() {
        const handler = yield* Approval.sessionMemory(
          Approval.make(() => ApprovalDecision.Allow({ remember: "tool", params: { key: "edited" } }))
        )
        yield* handler.approve(request("1", "Write", { key: "a" }))
        const later = yield* handler.approve(request("2", "Write", { key: "b" }))
        expect(later._tag).toBe("Allow")
        expect(later).not.toHaveProperty("params")
      }))

    it.effect("never covers a call that an explicit ask rule matched", () =>
      Effect.gen(function*() {
        const recorder = yield* TestApproval.recording(Approval.make(() => ApprovalDecision.Allow({ remember: "tool" })))
        const handler = yield* Approval.sessionMemory(recorder.handler)
        yield* handler.approve(request("1", "Write", { key: "a" }, { match: byDefault }))
        const plain = yield* handler.approve(request("2", "Write", { key: "b" }, { match: byDefault }))
        yield* handler.approve(request("3", "Write", { key: "c" }, { match: askRule }))
        expect(plain).toMatchObject({ decidedBy: "memory" })
        expect((yield* recorder.requests).map((r) => r.call.id)).toEqual(["1", "3"])
      }))
  })

  describe("readOnlyFastPath", () => {
    it.effect("passes a read the policy asked about by default", () =>
      Effect.gen(function*() {
        const handler = Approval.readOnlyFastPath(Approval.denyAll("asked"))
        const decision = yield* handler.approve(request("1", "Read", { key: "a" }, { match: byDefault }))
        expect(decision).toMatchObject({ _tag: "Allow", decidedBy: "readOnlyFastPath" })
      }))

    const notDefault: ReadonlyArray<readonly [string, ToolPolicy.Match]> = [
      ["an explicit ask rule", { _tag: "Rule", list: "ask", rule: "Read(~/.ssh/**)" }],
      ["an engine fact", { _tag: "Fact", fact: "unreadable" }],
      ["a mode", { _tag: "Mode", mode: "plan" }]
    ]
    for (const [what, match] of notDefault) {
      it.effect(`asks the handler about a read matched by ${what}`, () =>
        Effect.gen(function*() {
          const handler = Approval.readOnlyFastPath(Approval.denyAll("asked"))
          const decision = yield* handler.approve(request("1", "Read", { key: "a" }, { match }))
          expect(decision).toMatchObject({ _tag: "Deny", reason: "asked" })
        }))
    }
  })

  it.live("timeout ignores an answer from a handler that blocked the thread past the deadline", () =>
    Effect.gen(function*() {
      const blocking = Approval.make(() => {
        const until = Date.now() + 60
        while (Date.now() < until) {
          // a handler that blocks synchronously (a sync prompt, a busy loop)
        }
        return ApprovalDecision.Allow()
      })
      const decision = yield* Approval.timeout(blocking, "20 millis").approve(request("1"))
      expect(decision).toMatchObject({ _tag: "Deny", decidedBy: "timeout" })
      const quick = yield* Approval.timeout(Approval.autoApprove, "1 second").approve(request("2"))
      expect(quick._tag).toBe("Allow")
    }))

  it("decisions, requests, results and matches round-trip through JSON by their Schemas", () => {
    const decision = ApprovalDecision.Allow({ params: { key: "x" }, remember: true })
    const json = Schema.encodeSync(Schema.fromJsonString(ApprovalDecision))(decision)
    expect(Schema.decodeSync(Schema.fromJsonString(ApprovalDecision))(json)).toEqual(decision)
    const req = request("9", "Write", { key: "x" }, { match: askRule })
    expect(Schema.decodeUnknownSync(Approval.ApprovalRequest)(JSON.parse(JSON.stringify(req)))).toEqual(req)
  })
})
