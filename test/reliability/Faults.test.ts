/**
 * Faults in every part the gate does not own — the approval handler, the
 * tool, the policy — end in a failure result with a reason that names the
 * fault, and the rest of the batch goes on.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Schema } from "effect"
import { Tool, Toolkit } from "effect/ai"
import { TestClock } from "effect/testing"
import { Approval, Executor, ToolPolicy, type ToolResult } from "toolgate"

const P = Schema.Struct({ n: Schema.Number })
const Ok = Tool.make("Ok", { parameters: P, success: Schema.Number })
const Dies = Tool.make("Dies", { parameters: P, success: Schema.Number })
const Hangs = Tool.make("Hangs", { parameters: P, success: Schema.Number })
const Throws = Tool.make("Throws", { parameters: P, success: Schema.Number })
const BadFailure = Tool.make("BadFailure", {
  parameters: P,
  success: Schema.Number,
  failure: Schema.Struct({ reason: Schema.String })
})
const BadSuccess = Tool.make("BadSuccess", { parameters: P, success: Schema.Number })
const kit = Toolkit.make(Ok, Dies, Hangs, Throws, BadFailure, BadSuccess)

let hangFinalized = 0
const cyclic: Record<string, unknown> = { big: 10n }
cyclic.self = cyclic
const handlers = kit.toLayer({
  Ok: ({ n }) => Effect.succeed(n),
  Dies: () => Effect.die(new Error("segfault in the tool")),
  Hangs: () => Effect.never.pipe(Effect.ensuring(Effect.sync(() => void hangFinalized++))),
  Throws: () => {
    throw new Error("thrown before any effect")
  },
  // a failure value that is neither its schema's shape nor serialisable
  BadFailure: () => Effect.fail(cyclic as never),
  // a success value that is not a number, cyclic and holding a bigint
  BadSuccess: () => Effect.succeed(cyclic as never)
})

const call = (id: string, name: string) => ({ id, name, params: { n: Number(id) } })
const reasonOf = (r: ToolResult.ToolResult): string => JSON.stringify(r.result) ?? String(r.result)

describe("reliability: faults", () => {
  it.effect("a tool that dies, throws, fails or succeeds with an unserialisable value: failure results naming the fault, the batch goes on", () =>
    Effect.gen(function*() {
      const results = yield* Executor.executeBatch(kit, [
        call("1", "Dies"),
        call("2", "Throws"),
        call("3", "BadFailure"),
        call("4", "BadSuccess"),
        call("5", "Ok")
      ]).pipe(Effect.provide(handlers))
      expect(results.map((r) => r.id)).toEqual(["1", "2", "3", "4", "5"])
      expect(results.slice(0, 4).every((r) => r.isFailure)).toBe(true)
      expect(results[0]!.outcome._tag).toBe("Crashed")
      expect(reasonOf(results[0]!)).toContain("segfault in the tool")
      expect(results[1]!.outcome._tag).toBe("Crashed")
      expect(reasonOf(results[1]!)).toContain("thrown before any effect")
      expect(["Failed", "Crashed"]).toContain(results[2]!.outcome._tag)
      expect(["Failed", "Crashed"]).toContain(results[3]!.outcome._tag)
      // whatever the model reads can be sent to it
      for (const r of results) expect(() => JSON.stringify(r.result)).not.toThrow()
      expect(results[4]).toMatchObject({ isFailure: false, result: 5, outcome: { _tag: "Succeeded" } })
    }))

  it.effect("a tool that hangs is cancelled by id: Cancelled(running), its finalizer runs, the batch goes on", () =>
    Effect.gen(function*() {
      hangFinalized = 0
      const program = Effect.gen(function*() {
        const cancellation = yield* Executor.Cancellation
        const fiber = yield* Effect.forkChild(Executor.executeBatch(kit, [call("1", "Hangs"), call("2", "Ok")]))
        yield* TestClock.adjust("1 hour")
        expect(fiber.pollUnsafe()).toBeUndefined()
        yield* cancellation.cancel("1")
        return yield* Fiber.join(fiber)
      })
      const results = yield* program.pipe(Effect.provide(Layer.mergeAll(handlers, Executor.Cancellation.layer)))
      expect(results[0]!.outcome).toMatchObject({ _tag: "Cancelled", phase: "running" })
      expect(reasonOf(results[0]!)).toContain("cancelled while it ran")
      expect(results[1]!.outcome._tag).toBe("Succeeded")
      expect(hangFinalized).toBe(1)
    }))

  describe("approval handlers", () => {
    const run = (handler: Approval.ApprovalHandler) =>
      Executor.executeBatch(kit, [call("1", "Ok"), call("2", "Ok")]).pipe(
        Effect.provide(handlers),
        Effect.provideService(Approval.ApprovalHandler, handler)
      )

    it.effect("one that dies or throws denies with a reason naming the fault; the next call is asked as usual", () =>
      Effect.gen(function*() {
        for (
          const faulty of [
            Effect.die(new Error("approver crashed")),
            Effect.sync(() => {
              throw new Error("approver crashed")
            })
          ]
        ) {
          const results = yield* run({
            approve: (r) => r.call.id === "1" ? faulty : Effect.succeed(Approval.ApprovalDecision.Allow())
          })
          expect(results[0]!.outcome).toMatchObject({ _tag: "ApprovalDenied", decidedBy: "fault" })
          expect(reasonOf(results[0]!)).toContain("approver crashed")
          expect(results[1]!.outcome._tag).toBe("Succeeded")
        }
        // a handler that throws instead of returning an effect
        const results = yield* run({
          approve: (r) => {
            if (r.call.id === "1") throw new Error("approver threw synchronously")
            return Effect.succeed(Approval.ApprovalDecision.Allow())
          }
        })
        expect(results[0]!.outcome).toMatchObject({ _tag: "ApprovalDenied", decidedBy: "fault" })
        expect(reasonOf(results[0]!)).toContain("approver threw synchronously")
        expect(results[1]!.outcome._tag).toBe("Succeeded")
      }))

    it.effect("one that never answers, under a timeout, denies saying so; the batch goes on", () =>
      Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(
          run(Approval.timeout({ approve: (r) => r.call.id === "1" ? Effect.never : Effect.succeed(Approval.ApprovalDecision.Allow()) }, "5 seconds"))
        )
        yield* TestClock.adjust("5 seconds")
        const results = yield* Fiber.join(fiber)
        expect(results[0]!.outcome).toMatchObject({ _tag: "ApprovalDenied", decidedBy: "timeout" })
        expect(reasonOf(results[0]!)).toContain("no approval was given within 5s")
        expect(results[1]!.outcome._tag).toBe("Succeeded")
      }))

    it.effect("one that answers twice: the first answer counts and the call runs once", () =>
      Effect.gen(function*() {
        let ran = 0
        const twice = Effect.callback<Approval.ApprovalDecision>((resume) => {
          resume(Effect.succeed(Approval.ApprovalDecision.Deny({ reason: "first answer" })))
          resume(Effect.succeed(Approval.ApprovalDecision.Allow()))
        })
        const results = yield* Executor.executeBatch(kit, [call("1", "Ok")]).pipe(
          Effect.provide(kit.toLayer({
            Ok: ({ n }) => Effect.sync(() => ++ran && n),
            Dies: () => Effect.die("unused"),
            Hangs: () => Effect.never,
            Throws: () => Effect.die("unused"),
            BadFailure: () => Effect.die("unused"),
            BadSuccess: () => Effect.die("unused")
          })),
          Effect.provideService(Approval.ApprovalHandler, { approve: () => twice })
        )
        expect(results[0]!.outcome).toMatchObject({ _tag: "ApprovalDenied", reason: "first answer" })
        expect(ran).toBe(0)
        // through the queue bridge, a second decide is refused
        const bridge = yield* Approval.queueBridge
        const fiber = yield* Effect.forkChild(
          Executor.executeBatch(kit, [call("2", "Ok")]).pipe(
            Effect.provide(handlers),
            Effect.provideService(Approval.ApprovalHandler, bridge.handler)
          )
        )
        const pending = yield* bridge.take
        expect(yield* pending.decide(Approval.ApprovalDecision.Allow())).toBe(true)
        expect(yield* pending.decide(Approval.ApprovalDecision.Deny({ reason: "too late" }))).toBe(false)
        const [bridged] = yield* Fiber.join(fiber)
        expect(bridged!.outcome._tag).toBe("Succeeded")
      }))
  })

  it.effect("a policy that throws, fails or dies denies that call with a reason naming the fault; the batch goes on", () =>
    Effect.gen(function*() {
      const policy: ToolPolicy.ToolPolicy = {
        decide: ({ call }) => {
          if (call.id === "1") throw new Error("rules file corrupt")
          if (call.id === "2") return Effect.fail(new Error("rules service down"))
          if (call.id === "3") return Effect.die(new Error("rules engine bug"))
          return Effect.succeed(ToolPolicy.Verdict.Allow())
        }
      }
      const results = yield* Executor.executeBatch(kit, ["1", "2", "3", "4"].map((id) => call(id, "Ok"))).pipe(
        Effect.provide(handlers),
        Effect.provideService(ToolPolicy.ToolPolicy, policy)
      )
      expect(results.map((r) => r.outcome._tag)).toEqual(["PolicyDenied", "PolicyDenied", "PolicyDenied", "Succeeded"])
      expect(reasonOf(results[0]!)).toContain("rules file corrupt")
      expect(reasonOf(results[1]!)).toContain("rules service down")
      expect(reasonOf(results[2]!)).toContain("rules engine bug")
    }))
})
