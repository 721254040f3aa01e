import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Approval } from "toolgate"
import { TestApproval } from "toolgate/testing"
import { approvalRequest } from "./fixtures.ts"

const { ApprovalDecision } = Approval

const request = approvalRequest

describe("Approval", () => {
  it.effect("the default handler allows everything", () =>
    Effect.gen(function*() {
      const handler = yield* Approval.ApprovalHandler
      expect((yield* handler.approve(request("1")))._tag).toBe("Allow")
    }))

  it.effect("layer swaps the handler in", () =>
    Effect.gen(function*() {
      const handler = yield* Approval.ApprovalHandler
      const decision = yield* handler.approve(request("1"))
      expect(decision).toMatchObject({ _tag: "Deny", reason: "nope" })
    }).pipe(Effect.provide(Approval.layer(Approval.denyAll("nope")))))

  describe("sessionMemory", () => {
    it.effect("remember: \"tool\" allows every later call of that tool, and only that tool", () =>
      Effect.gen(function*() {
        const recorder = yield* TestApproval.recording(
          Approval.make((r) => r.call.name === "Write" ? ApprovalDecision.Allow({ remember: "tool" }) : ApprovalDecision.Allow())
        )
        const handler = yield* Approval.sessionMemory(recorder.handler)
        yield* handler.approve(request("1", "Write", { key: "a" }))
        const second = yield* handler.approve(request("2", "Write", { key: "b" }))
        yield* handler.approve(request("3", "Bash", { command: "ls" }))
        yield* handler.approve(request("4", "Bash", { command: "ls" }))
        expect(second).toMatchObject({ _tag: "Allow", decidedBy: "memory" })
        expect((yield* recorder.requests).map((r) => r.call.id)).toEqual(["1", "3", "4"])
      }))

    it.effect("a remembered edit is applied again to the identical call", () =>
      Effect.gen(function*() {
        const handler = yield* Approval.sessionMemory(
          Approval.make(() => ApprovalDecision.Allow({ remember: true, params: { key: "safe" } }))
        )
        yield* handler.approve(request("1"))
        const again = yield* handler.approve(request("2", "Write", { key: "1" }))
        expect(again).toMatchObject({ _tag: "Allow", params: { key: "safe" }, decidedBy: "memory" })
      }))

    it.effect("denials are never remembered", () =>
      Effect.gen(function*() {
        const handler = yield* Approval.sessionMemory(yield* TestApproval.scripted([
          ApprovalDecision.Deny({ reason: "first" }),
          ApprovalDecision.Allow()
        ]))
        expect((yield* handler.approve(request("1")))._tag).toBe("Deny")
        expect((yield* handler.approve(request("1")))._tag).toBe("Allow")
      }))
  })

  it.effect("readOnlyFastPath passes reads without asking and tags who decided", () =>
    Effect.gen(function*() {
      const recorder = yield* TestApproval.recording(Approval.denyAll("asked"))
      const handler = Approval.readOnlyFastPath(recorder.handler)
      expect(yield* handler.approve(request("1", "Read"))).toMatchObject({ _tag: "Allow", decidedBy: "readOnlyFastPath" })
      expect((yield* handler.approve(request("2", "Write")))._tag).toBe("Deny")
      expect((yield* recorder.requests).map((r) => r.call.id)).toEqual(["2"])
    }))

  it.effect("timeout answers with the handler's decision when it comes in time", () =>
    Effect.gen(function*() {
      const slow = Approval.make(() => Effect.as(Effect.sleep("5 seconds"), ApprovalDecision.Allow()))
      const fiber = yield* Effect.forkChild(Approval.timeout(slow, "10 seconds").approve(request("1")))
      yield* TestClock.adjust("5 seconds")
      expect((yield* Fiber.join(fiber))._tag).toBe("Allow")
    }))

  describe("queueBridge", () => {
    it.effect("hands requests to the UI one at a time, in arrival order, and routes each answer to its caller", () =>
      Effect.gen(function*() {
        const bridge = yield* Approval.queueBridge
        const a = yield* Effect.forkChild(bridge.handler.approve(request("a")))
        const b = yield* Effect.forkChild(bridge.handler.approve(request("b")))
        yield* Effect.yieldNow
        expect((yield* bridge.pending).map((r) => r.call.id)).toEqual(["a", "b"])
        const first = yield* bridge.take
        expect(first.request.call.id).toBe("a")
        const second = yield* bridge.take
        yield* second.decide(ApprovalDecision.Deny({ reason: "b no" }))
        yield* first.decide(ApprovalDecision.Allow())
        expect((yield* Fiber.join(a))._tag).toBe("Allow")
        expect(yield* Fiber.join(b)).toMatchObject({ _tag: "Deny", reason: "b no" })
        expect(yield* bridge.pending).toEqual([])
      }))

    it.effect("a request whose caller was interrupted is withdrawn: take skips it and pending forgets it", () =>
      Effect.gen(function*() {
        const bridge = yield* Approval.queueBridge
        const a = yield* Effect.forkChild(bridge.handler.approve(request("a")))
        const b = yield* Effect.forkChild(bridge.handler.approve(request("b")))
        yield* Effect.yieldNow
        yield* Fiber.interrupt(a)
        expect((yield* bridge.pending).map((r) => r.call.id)).toEqual(["b"])
        const next = yield* bridge.take
        expect(next.request.call.id).toBe("b")
        yield* next.decide(ApprovalDecision.Allow())
        expect((yield* Fiber.join(b))._tag).toBe("Allow")
      }))

    it.effect("a second answer to the same request is refused", () =>
      Effect.gen(function*() {
        const bridge = yield* Approval.queueBridge
        const a = yield* Effect.forkChild(bridge.handler.approve(request("a")))
        const pending = yield* bridge.take
        expect(yield* pending.decide(ApprovalDecision.Allow())).toBe(true)
        expect(yield* pending.decide(ApprovalDecision.Deny({ reason: "changed my mind" }))).toBe(false)
        expect((yield* Fiber.join(a))._tag).toBe("Allow")
      }))

    it.effect("withdrawn completes for a request on screen when its caller goes away", () =>
      Effect.gen(function*() {
        const bridge = yield* Approval.queueBridge
        const a = yield* Effect.forkChild(bridge.handler.approve(request("a")))
        const shown = yield* bridge.take
        const watcher = yield* Effect.forkChild(shown.withdrawn)
        yield* Fiber.interrupt(a)
        yield* Fiber.join(watcher)
        expect(yield* shown.isWithdrawn).toBe(true)
        expect(yield* shown.decide(ApprovalDecision.Allow())).toBe(false)
      }))
  })

  describe("TestApproval", () => {
    it.effect("scripted answers in order, then denies saying the script ran out", () =>
      Effect.gen(function*() {
        const handler = yield* TestApproval.scripted([ApprovalDecision.Allow()])
        expect((yield* handler.approve(request("1")))._tag).toBe("Allow")
        const out = yield* handler.approve(request("2"))
        expect(out).toMatchObject({ _tag: "Deny" })
        expect(out._tag === "Deny" && out.reason).toContain("no scripted answer left")
      }))

    it.effect("never never answers", () =>
      Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(TestApproval.never.approve(request("1")))
        yield* TestClock.adjust("1 hour")
        expect(fiber.pollUnsafe()).toBeUndefined()
        yield* Fiber.interrupt(fiber)
      }))
  })
})
