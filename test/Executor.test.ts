import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, PubSub, Schema } from "effect"
import { Tool, Toolkit } from "effect/ai"
import { TestClock } from "effect/testing"
import { Approval, Concurrency, Executor, ToolCall, ToolClass, ToolEvents, ToolPolicy } from "toolgate"
import { TestApproval } from "toolgate/testing"
import { handlers, makeTracker, started, toolkit, withClock } from "./fixtures.ts"

const { ApprovalDecision } = Approval
const { Verdict } = ToolPolicy

const read = (id: string, key: string, ms?: number) => ({ id, name: "Read", params: { key, ...(ms !== undefined ? { ms } : {}) } })
const write = (id: string, key: string, value: string, ms?: number) => ({
  id,
  name: "Write",
  params: { key, value, ...(ms !== undefined ? { ms } : {}) }
})
const promoted = (id: string, key: string, ms?: number) => ({
  id,
  name: "Promoted",
  params: { key, ...(ms !== undefined ? { ms } : {}) }
})

/** A fresh set of pools per test, so tests never share the process-wide default. */
const pools = (settings: Partial<Concurrency.Settings> = {}) => Concurrency.layer(settings)

describe("Executor.executeBatch", () => {
  it.effect("with no layers provided every call is allowed and runs, results in model order", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const results = yield* Executor.executeBatch(toolkit, [
        write("1", "a", "x"),
        read("2", "a"),
        read("3", "missing")
      ]).pipe(Effect.provide(handlers(t)))
      expect(results.map((r) => r.id)).toEqual(["1", "2", "3"])
      expect(results.map((r) => r.outcome._tag)).toEqual(["Succeeded", "Succeeded", "Succeeded"])
      expect(results.map((r) => r.result)).toEqual(["wrote a", "x", ""])
      expect(results.every((r) => !r.isFailure)).toBe(true)
      expect(started(t)).toEqual(["a", "a", "missing"])
    }))

  it.effect("a policy Deny is a PolicyDenied result with the reason; the handler is not asked and the tool does not run", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const recorder = yield* TestApproval.recording(Approval.autoApprove)
      const results = yield* Executor.executeBatch(toolkit, [write("1", "etc", "x"), read("2", "a")]).pipe(
        Effect.provide(handlers(t)),
        Effect.provide(ToolPolicy.layer(ToolPolicy.byName({ Write: Verdict.Deny({ reason: "no writes today" }) }))),
        Effect.provide(Approval.layer(recorder.handler))
      )
      expect(results[0]!.outcome).toMatchObject({ _tag: "PolicyDenied", reason: "no writes today" })
      expect(results[0]!.isFailure).toBe(true)
      expect(results[0]!.result).toEqual({
        type: "execution-denied",
        reason: "Tool call Write was denied by policy: no writes today"
      })
      expect(results[1]!.outcome._tag).toBe("Succeeded")
      expect((yield* recorder.requests).map((r) => r.call.id)).toEqual(["2"])
      expect(started(t)).toEqual(["a"])
    }))

  it.effect("a policy Allow pre-approves: the handler is not asked", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const recorder = yield* TestApproval.recording(Approval.denyAll("should not be asked"))
      const results = yield* Executor.executeBatch(toolkit, [write("1", "a", "x")]).pipe(
        Effect.provide(handlers(t)),
        Effect.provide(ToolPolicy.layer(ToolPolicy.allowAll)),
        Effect.provide(Approval.layer(recorder.handler))
      )
      expect(results[0]!.outcome._tag).toBe("Succeeded")
      expect(yield* recorder.requests).toEqual([])
    }))

  it.effect("an unknown tool is NotFound and invalid params are InvalidParams with the schema's message; nobody is asked", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const recorder = yield* TestApproval.recording(Approval.autoApprove)
      const results = yield* Executor.executeBatch(toolkit, [
        { id: "1", name: "Delete", params: {} },
        { id: "2", name: "Read", params: { key: 42 } },
        { id: "3", name: "__proto__", params: {} },
        { id: "4", name: "Read", params: "not an object" }
      ]).pipe(Effect.provide(handlers(t)), Effect.provide(Approval.layer(recorder.handler)))
      expect(results[0]!.outcome).toMatchObject({ _tag: "NotFound" })
      expect(results[0]!.result).toContain("There is no tool named \"Delete\"")
      expect(results[0]!.result).toContain("Read, Write")
      expect(results[1]!.outcome._tag).toBe("InvalidParams")
      const message = (results[1]!.outcome as { message: string }).message
      expect(message).toContain("key")
      expect(message).toContain("string")
      expect(results[2]!.outcome._tag).toBe("NotFound")
      expect(results[3]!.outcome._tag).toBe("InvalidParams")
      expect(results.every((r) => r.isFailure)).toBe(true)
      expect(yield* recorder.requests).toEqual([])
      expect(t.log).toEqual([])
    }))

  it.effect("an approval Deny is ApprovalDenied with the reason; the tool does not run and the rest of the batch does", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const results = yield* Executor.executeBatch(toolkit, [
        write("1", "a", "x"),
        write("2", "b", "y"),
        read("3", "b")
      ]).pipe(
        Effect.provide(handlers(t)),
        Effect.provide(Approval.layer(TestApproval.byCallId({ "1": ApprovalDecision.Deny({ reason: "not a" }) })))
      )
      expect(results[0]!.outcome).toMatchObject({ _tag: "ApprovalDenied", reason: "not a", decidedBy: "handler", stop: false })
      expect(results[0]!.result).toEqual({ type: "execution-denied", reason: "Tool call Write was denied by the user: not a" })
      expect(results[1]!.outcome._tag).toBe("Succeeded")
      expect(results[2]!.result).toBe("y")
      expect(started(t)).toEqual(["b", "b"])
    }))

  it.effect("a handler that fails or dies counts as a deny naming the fault; the batch goes on", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const faulty = Approval.make((request) =>
        request.call.id === "1"
          ? Effect.fail(new Error("terminal closed"))
          : request.call.id === "2"
          ? Effect.die("approver bug")
          : ApprovalDecision.Allow()
      )
      const results = yield* Executor.executeBatch(toolkit, [
        write("1", "a", "x"),
        write("2", "b", "y"),
        write("3", "c", "z")
      ]).pipe(Effect.provide(handlers(t)), Effect.provide(Approval.layer(faulty)))
      expect(results[0]!.outcome).toMatchObject({ _tag: "ApprovalDenied", decidedBy: "fault" })
      expect((results[0]!.outcome as { reason: string }).reason).toContain("terminal closed")
      expect(results[1]!.outcome).toMatchObject({ _tag: "ApprovalDenied", decidedBy: "fault" })
      expect((results[1]!.outcome as { reason: string }).reason).toContain("approver bug")
      expect(results[2]!.outcome._tag).toBe("Succeeded")
      expect(started(t)).toEqual(["c"])
    }))

  it.effect("a policy that fails or dies denies the call, and the batch goes on", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const policy = ToolPolicy.make(({ call }) =>
        call.id === "1" ? Effect.die(new Error("rules file vanished")) : Verdict.Ask()
      )
      const results = yield* Executor.executeBatch(toolkit, [write("1", "a", "x"), write("2", "b", "y")]).pipe(
        Effect.provide(handlers(t)),
        Effect.provide(ToolPolicy.layer(policy))
      )
      expect(results[0]!.outcome._tag).toBe("PolicyDenied")
      expect((results[0]!.outcome as { reason: string }).reason).toContain("rules file vanished")
      expect(results[1]!.outcome._tag).toBe("Succeeded")
    }))

  describe("edited params", () => {
    const policy = ToolPolicy.make(({ call }) =>
      (call.params as { key?: unknown }).key === "secret" ? Verdict.Deny({ reason: "secret is off limits" }) : Verdict.Ask()
    )
    const run = (decision: Approval.ApprovalDecision) =>
      Effect.gen(function*() {
        const t = makeTracker()
        const results = yield* Executor.executeBatch(toolkit, [write("1", "a", "original")]).pipe(
          Effect.provide(handlers(t)),
          Effect.provide(ToolPolicy.layer(policy)),
          Effect.provide(Approval.layer(Approval.make(() => decision)))
        )
        return { result: results[0]!, t }
      })

    it.effect("are decoded again and run instead of the model's", () =>
      Effect.gen(function*() {
        const { result, t } = yield* run(ApprovalDecision.Allow({ params: { key: "b", value: "edited" } }))
        expect(result.outcome._tag).toBe("Succeeded")
        expect(t.store.get("b")).toBe("edited")
        expect(t.store.has("a")).toBe(false)
      }))

    it.effect("that fail the schema are InvalidParams and do not run", () =>
      Effect.gen(function*() {
        const { result, t } = yield* run(ApprovalDecision.Allow({ params: { key: "b" } }))
        expect(result.outcome._tag).toBe("InvalidParams")
        expect((result.outcome as { message: string }).message).toContain("value")
        expect(t.log).toEqual([])
      }))

    it.effect("that the policy denies are PolicyDenied and do not run", () =>
      Effect.gen(function*() {
        const { result, t } = yield* run(ApprovalDecision.Allow({ params: { key: "secret", value: "v" } }))
        expect(result.outcome).toMatchObject({ _tag: "PolicyDenied" })
        expect((result.outcome as { reason: string }).reason).toContain("secret is off limits")
        expect(t.log).toEqual([])
      }))

    it.effect("cannot change the tool: a name in the edit is just an ignored param", () =>
      Effect.gen(function*() {
        const { result, t } = yield* run(ApprovalDecision.Allow({ params: { key: "b", value: "v", name: "Fail" } }))
        expect(result.name).toBe("Write")
        expect(result.outcome._tag).toBe("Succeeded")
        expect(t.store.get("b")).toBe("v")
      }))
  })

  it.effect("an allow remembered for the session is not asked again for an identical call; a different call is", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const recorder = yield* TestApproval.recording(Approval.make(() => ApprovalDecision.Allow({ remember: true })))
      const events: Array<ToolEvents.ToolEvent> = []
      const program = Effect.gen(function*() {
        const pubsub = yield* ToolEvents.ToolEvents
        const subscription = yield* PubSub.subscribe(pubsub)
        const first = yield* Executor.executeBatch(toolkit, [write("1", "a", "x")])
        // same params in another key order: still the same call
        const second = yield* Executor.executeBatch(toolkit, [{ id: "2", name: "Write", params: { value: "x", key: "a" } }])
        const third = yield* Executor.executeBatch(toolkit, [write("3", "a", "other")])
        events.push(...(yield* PubSub.takeAll(subscription)))
        return [...first, ...second, ...third]
      })
      const results = yield* program.pipe(
        Effect.provide(handlers(t)),
        Effect.provide(Layer.mergeAll(Approval.layer(recorder.handler), ToolEvents.layer))
      )
      expect(results.map((r) => r.outcome._tag)).toEqual(["Succeeded", "Succeeded", "Succeeded"])
      expect((yield* recorder.requests).map((r) => r.call.id)).toEqual(["1", "3"])
      const decidedBy = events.flatMap((e) => e._tag === "Decided" ? [`${e.call.id}:${e.decidedBy}`] : [])
      expect(decidedBy).toEqual(["1:handler", "2:memory", "3:handler"])
    }))

  it.effect("timeout: no answer in time is ApprovalDenied saying so, and the tool never runs even if an answer comes later", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const bridge = yield* Approval.queueBridge
      const fiber = yield* Executor.executeBatch(toolkit, [write("1", "a", "x")]).pipe(
        Effect.provide(handlers(t)),
        Effect.provide(Approval.layer(Approval.timeout(bridge.handler, "30 seconds"))),
        Effect.forkChild
      )
      const pending = yield* bridge.take
      yield* TestClock.adjust("29 seconds")
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust("1 second")
      const results = yield* Fiber.join(fiber)
      expect(results[0]!.outcome).toMatchObject({ _tag: "ApprovalDenied", decidedBy: "timeout" })
      expect((results[0]!.outcome as { reason: string }).reason).toBe("no approval was given within 30s")
      // the late answer is refused and nothing runs
      expect(yield* pending.decide(ApprovalDecision.Allow())).toBe(false)
      expect(yield* pending.isWithdrawn).toBe(true)
      yield* TestClock.adjust("1 minute")
      expect(t.log).toEqual([])
    }))

  it.effect("readOnlyFastPath: read-only calls are not asked, mutators are", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const recorder = yield* TestApproval.recording(Approval.denyAll("no writes"))
      const results = yield* Executor.executeBatch(toolkit, [read("1", "a"), write("2", "a", "x"), read("3", "a")]).pipe(
        Effect.provide(handlers(t)),
        Effect.provide(Approval.layer(Approval.readOnlyFastPath(recorder.handler)))
      )
      expect(results.map((r) => r.outcome._tag)).toEqual(["Succeeded", "ApprovalDenied", "Succeeded"])
      expect((yield* recorder.requests).map((r) => r.call.id)).toEqual(["2"])
    }))

  describe("ordering", () => {
    it.effect("[Read A, Write A, Read A]: the write finishes before the second read starts", () =>
      Effect.gen(function*() {
        const t = makeTracker()
        t.store.set("a", "old")
        const results = yield* withClock(
          Executor.executeBatch(toolkit, [read("1", "a", 30), write("2", "a", "new", 10), read("3", "a", 1)]).pipe(
            Effect.provide(handlers(t)),
            Effect.provide(pools())
          )
        )
        expect(t.log).toEqual(["start:a", "end:a", "start:a", "end:a", "start:a", "end:a"])
        expect(results.map((r) => r.result)).toEqual(["old", "wrote a", "new"])
      }))

    it.effect("results keep input order when the first of concurrent reads is the slowest", () =>
      Effect.gen(function*() {
        const t = makeTracker()
        const results = yield* withClock(
          Executor.executeBatch(toolkit, [read("1", "slow", 50), read("2", "mid", 20), read("3", "fast", 1)]).pipe(
            Effect.provide(handlers(t)),
            Effect.provide(pools())
          )
        )
        expect(t.log.filter((e) => e.startsWith("end:"))).toEqual(["end:fast", "end:mid", "end:slow"])
        expect(results.map((r) => r.id)).toEqual(["1", "2", "3"])
        expect(t.peak.get("Read")).toBe(3)
      }))
  })

  describe("pools", () => {
    it.effect("25 read-only calls with the default cap never exceed 20 in flight", () =>
      Effect.gen(function*() {
        const t = makeTracker()
        const calls = Array.from({ length: 25 }, (_, i) => read(`${i}`, `k${i}`, 10))
        const results = yield* withClock(
          Executor.executeBatch(toolkit, calls).pipe(Effect.provide(handlers(t)), Effect.provide(pools()))
        )
        expect(results).toHaveLength(25)
        expect(t.peak.get("Read")).toBe(20)
      }))

    it.effect("serial mutators never overlap, also across two batches running at the same time", () =>
      Effect.gen(function*() {
        const t = makeTracker()
        const batch = (prefix: string) =>
          Executor.executeBatch(toolkit, Array.from({ length: 5 }, (_, i) => write(`${prefix}${i}`, `${prefix}${i}`, "v", 10)))
        const [a, b] = yield* withClock(
          Effect.all([batch("a"), batch("b")], { concurrency: "unbounded" }).pipe(
            Effect.provide(handlers(t)),
            Effect.provide(pools())
          )
        )
        expect([...a, ...b].every((r) => r.outcome._tag === "Succeeded")).toBe(true)
        expect(started(t)).toHaveLength(10)
        expect(t.peak.get("Write")).toBe(1)
      }))

    it.effect("a promoted mutator overlaps up to its cap", () =>
      Effect.gen(function*() {
        const t = makeTracker()
        yield* withClock(
          Executor.executeBatch(toolkit, Array.from({ length: 8 }, (_, i) => promoted(`${i}`, `k${i}`, 10))).pipe(
            Effect.provide(handlers(t)),
            Effect.provide(pools({ concurrentMutators: 3, tools: { Promoted: { concurrent: true } } }))
          )
        )
        expect(started(t)).toHaveLength(8)
        expect(t.peak.get("Promoted")).toBe(3)
      }))

    it.effect("a per-tool max narrows a promoted mutator and reads", () =>
      Effect.gen(function*() {
        const t = makeTracker()
        yield* withClock(
          Executor.executeBatch(toolkit, [
            ...Array.from({ length: 6 }, (_, i) => promoted(`p${i}`, `p${i}`, 10)),
            ...Array.from({ length: 12 }, (_, i) => read(`r${i}`, `r${i}`, 10))
          ]).pipe(
            Effect.provide(handlers(t)),
            Effect.provide(pools({ tools: { Promoted: { concurrent: true, max: 2 }, Read: { max: 5 } } }))
          )
        )
        expect(started(t)).toHaveLength(18)
        expect(t.peak.get("Promoted")).toBe(2)
        expect(t.peak.get("Read")).toBe(5)
      }))
  })

  it.effect("a recursive tool running a nested batch while its parent saturates the promoted pool completes", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const Task = ToolClass.recursive(Tool.make("Task", {
        parameters: Schema.Struct({ key: Schema.String }),
        success: Schema.Array(Schema.String)
      }))
      const outer = Toolkit.make(Task)
      const origins: Array<ToolCall.Origin> = []
      const outerHandlers = outer.toLayer(Effect.gen(function*() {
        const inner = yield* toolkit
        return {
          Task: ({ key }) =>
            Effect.gen(function*() {
              origins.push(yield* ToolCall.CurrentOrigin)
              const results = yield* Executor.executeBatch(inner, [promoted(`${key}-1`, `${key}-1`, 5), promoted(`${key}-2`, `${key}-2`, 5)])
              return results.map((r) => r.outcome._tag)
            })
        }
      })).pipe(Layer.provide(handlers(t)))
      // two recursive calls take both permits of the top level's concurrent pool;
      // their promoted children need permits too, from the next level's pool
      const results = yield* withClock(
        Executor.executeBatch(outer, [{ id: "t1", name: "Task", params: { key: "a" } }, { id: "t2", name: "Task", params: { key: "b" } }]).pipe(
          Effect.provide(outerHandlers),
          Effect.provide(pools({ concurrentMutators: 2, tools: { Promoted: { concurrent: true } } }))
        )
      )
      expect(results.map((r) => r.result)).toEqual([["Succeeded", "Succeeded"], ["Succeeded", "Succeeded"]])
      expect(started(t)).toHaveLength(4)
      expect(origins).toEqual([{ depth: 1, parents: ["t1"] }, { depth: 1, parents: ["t2"] }])
    }))

  it.effect("tool failures are Failed with the encoded error and defects are Crashed; neither stops the batch", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const results = yield* Executor.executeBatch(toolkit, [
        { id: "1", name: "Fail", params: {} },
        { id: "2", name: "Die", params: {} },
        read("3", "a")
      ]).pipe(Effect.provide(handlers(t)))
      expect(results[0]!.outcome._tag).toBe("Failed")
      expect(results[0]!.isFailure).toBe(true)
      expect(results[0]!.result).toEqual({ _tag: "Boom", detail: "disk full" })
      expect(results[1]!.outcome._tag).toBe("Crashed")
      expect((results[1]!.outcome as { message: string }).message).toContain("kaboom")
      expect(results[2]!.outcome._tag).toBe("Succeeded")
    }))

  it.effect("interrupting a batch interrupts a pending approval, withdraws it from the UI queue, runs running tools' finalizers and starts nothing new", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const bridge = yield* Approval.queueBridge
      const recorder = yield* TestApproval.recording(bridge.handler)
      // Read is pre-approved and runs for a long time; Promoted waits for a human
      const policy = ToolPolicy.byName({ Read: Verdict.Allow() })
      const fiber = yield* Executor.executeBatch(toolkit, [
        read("1", "long", 60_000),
        { id: "2", name: "Read", params: { key: "asked" } },
        write("3", "never", "v")
      ]).pipe(
        Effect.provide(handlers(t)),
        Effect.provide(ToolPolicy.layer(ToolPolicy.make((r) => r.call.id === "2" ? Verdict.Ask() : policy.decide(r)))),
        Effect.provide(Approval.layer(recorder.handler)),
        Effect.provide(pools()),
        Effect.forkChild
      )
      const pending = yield* bridge.take
      expect(pending.request.call.id).toBe("2")
      expect(started(t)).toEqual(["long"])
      yield* Fiber.interrupt(fiber)
      expect((yield* recorder.interrupted).map((r) => r.call.id)).toEqual(["2"])
      expect(yield* bridge.pending).toEqual([])
      expect(yield* pending.isWithdrawn).toBe(true)
      expect(t.interrupted).toEqual(["long"])
      yield* TestClock.adjust("2 minutes")
      expect(started(t)).toEqual(["long"])
    }))

  describe("cancelling one call by id", () => {
    it.effect("a running call is Cancelled(running), its finalizer runs, and the others complete", () =>
      Effect.gen(function*() {
        const t = makeTracker()
        const program = Effect.gen(function*() {
          const cancellation = yield* Executor.Cancellation
          const fiber = yield* Effect.forkChild(
            Executor.executeBatch(toolkit, [read("1", "slow", 1_000), read("2", "quick", 10)])
          )
          yield* TestClock.adjust(5)
          yield* cancellation.cancel("1")
          yield* TestClock.adjust(100)
          return yield* Fiber.join(fiber)
        })
        const results = yield* program.pipe(
          Effect.provide(handlers(t)),
          Effect.provide(Layer.mergeAll(pools(), Executor.Cancellation.layer))
        )
        expect(results[0]!.outcome).toMatchObject({ _tag: "Cancelled", phase: "running" })
        expect(results[0]!.result).toMatchObject({ type: "execution-interrupted" })
        expect(results[1]!.outcome._tag).toBe("Succeeded")
        expect(t.interrupted).toEqual(["slow"])
      }))

    it.effect("a call waiting for approval or for its turn is Cancelled in that phase and never starts", () =>
      Effect.gen(function*() {
        const t = makeTracker()
        const bridge = yield* Approval.queueBridge
        const program = Effect.gen(function*() {
          const cancellation = yield* Executor.Cancellation
          const fiber = yield* Effect.forkChild(
            Executor.executeBatch(toolkit, [write("1", "a", "x"), write("2", "b", "y"), write("3", "c", "z")])
          )
          const first = yield* bridge.take
          yield* cancellation.cancel("2") // queued behind call 1 in the serial pool
          yield* cancellation.cancel("1") // waiting for approval
          expect(yield* first.isWithdrawn).toBe(true)
          const third = yield* bridge.take
          expect(third.request.call.id).toBe("3")
          yield* third.decide(ApprovalDecision.Allow())
          return yield* Fiber.join(fiber)
        })
        const results = yield* program.pipe(
          Effect.provide(handlers(t)),
          Effect.provide(Layer.mergeAll(pools(), Executor.Cancellation.layer, Approval.layer(bridge.handler)))
        )
        expect(results.map((r) => r.outcome)).toMatchObject([
          { _tag: "Cancelled", phase: "approval" },
          { _tag: "Cancelled", phase: "queued" },
          { _tag: "Succeeded" }
        ])
        expect(started(t)).toEqual(["c"])
      }))
  })

  it.effect("the cancellation registry forgets calls once they end, cancelled or not", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const program = Effect.gen(function*() {
        const cancellation = yield* Executor.Cancellation
        yield* cancellation.cancel("2")
        const results = yield* Executor.executeBatch(toolkit, Array.from({ length: 50 }, (_, i) => read(`${i}`, `k${i}`)))
        return { results, held: cancellation.size() }
      })
      const { held, results } = yield* program.pipe(
        Effect.provide(handlers(t)),
        Effect.provide(Layer.mergeAll(pools(), Executor.Cancellation.layer))
      )
      expect(results[2]!.outcome).toMatchObject({ _tag: "Cancelled", phase: "queued" })
      expect(results.filter((r) => r.outcome._tag === "Succeeded")).toHaveLength(49)
      expect(held).toBe(0)
    }))

  it.effect("several promoted mutators asking at once through the queue bridge: the UI sees one at a time and each answer reaches its call", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const bridge = yield* Approval.queueBridge
      const shown: Array<string> = []
      const waitingWhileShown: Array<number> = []
      // the UI: one prompt at a time, a human taking 1 second each; odd ids denied
      yield* Effect.forkChild(Effect.forever(Effect.gen(function*() {
        const pending = yield* bridge.take
        shown.push(pending.request.call.id)
        waitingWhileShown.push((yield* bridge.pending).length)
        yield* Effect.sleep("1 second")
        const n = Number(pending.request.call.id)
        yield* pending.decide(n % 2 === 1 ? ApprovalDecision.Deny({ reason: `odd ${n}` }) : ApprovalDecision.Allow())
      })))
      const calls = Array.from({ length: 6 }, (_, i) => promoted(`${i}`, `k${i}`))
      const results = yield* withClock(
        Executor.executeBatch(toolkit, calls).pipe(
          Effect.provide(handlers(t)),
          Effect.provide(Approval.layer(bridge.handler)),
          Effect.provide(pools({ tools: { Promoted: { concurrent: true } } }))
        )
      )
      expect([...shown].sort()).toEqual(["0", "1", "2", "3", "4", "5"])
      // all six asked at once; the first shown left five more waiting
      expect(waitingWhileShown[0]).toBe(6)
      expect(results.map((r) => r.outcome._tag)).toEqual([
        "Succeeded", "ApprovalDenied", "Succeeded", "ApprovalDenied", "Succeeded", "ApprovalDenied"
      ])
      expect(results.flatMap((r) => r.outcome._tag === "ApprovalDenied" ? [r.outcome.reason] : [])).toEqual(["odd 1", "odd 3", "odd 5"])
      expect(started(t).sort()).toEqual(["k0", "k2", "k4"])
    }))

  describe("Deny({ stop: true }) stops the batch now", () => {
    it.effect("calls being asked at the same time are withdrawn and Cancelled(approval); calls not admitted yet, and later runs, are Cancelled(queued) without being asked", () =>
      Effect.gen(function*() {
        const t = makeTracker()
        // call 0 is denied with stop after 1 second; calls 1 and 2 wait for a
        // human who never answers; call 3 waits for a permit (cap 3)
        const approver = yield* TestApproval.recording({
          approve: (request) =>
            request.call.id === "0"
              ? Effect.as(Effect.sleep("1 second"), ApprovalDecision.Deny({ reason: "enough", stop: true }))
              : Effect.never
        })
        const results = yield* withClock(
          Executor.executeBatch(toolkit, [
            promoted("0", "k0"),
            promoted("1", "k1"),
            promoted("2", "k2"),
            promoted("3", "k3"),
            write("4", "k4", "v"),
            read("5", "k5")
          ]).pipe(
            Effect.provide(handlers(t)),
            Effect.provide(Approval.layer(approver.handler)),
            Effect.provide(pools({ concurrentMutators: 3, tools: { Promoted: { concurrent: true } } }))
          )
        )
        expect(results.map((r) => r.outcome)).toEqual([
          { _tag: "ApprovalDenied", reason: "enough", decidedBy: "handler", stop: true },
          { _tag: "Cancelled", phase: "approval" },
          { _tag: "Cancelled", phase: "approval" },
          { _tag: "Cancelled", phase: "queued" },
          { _tag: "Cancelled", phase: "queued" },
          { _tag: "Cancelled", phase: "queued" }
        ])
        expect((yield* approver.requests).map((r) => r.call.id).sort()).toEqual(["0", "1", "2"])
        expect((yield* approver.interrupted).map((r) => r.call.id).sort()).toEqual(["1", "2"])
        expect(started(t)).toEqual([])
      }))

    it.effect("serial mutators after the stopped one are not asked; calls that ran before keep their results", () =>
      Effect.gen(function*() {
        const t = makeTracker()
        const approver = yield* TestApproval.recording(TestApproval.byCallId({
          "2": ApprovalDecision.Deny({ reason: "stop", stop: true })
        }))
        const results = yield* Executor.executeBatch(toolkit, [
          write("1", "a", "x"),
          write("2", "b", "y"),
          write("3", "c", "z"),
          // answered before admission: not affected
          { id: "4", name: "Nope", params: {} }
        ]).pipe(
          Effect.provide(handlers(t)),
          Effect.provide(Approval.layer(approver.handler)),
          Effect.provide(pools())
        )
        expect(results.map((r) => r.outcome._tag)).toEqual(["Succeeded", "ApprovalDenied", "Cancelled", "NotFound"])
        expect((yield* approver.requests).map((r) => r.call.id)).toEqual(["1", "2"])
        expect(started(t)).toEqual(["a"])
      }))

    it.effect("a Deny without stop stops nothing", () =>
      Effect.gen(function*() {
        const t = makeTracker()
        const results = yield* Executor.executeBatch(toolkit, [write("1", "a", "x"), write("2", "b", "y")]).pipe(
          Effect.provide(handlers(t)),
          Effect.provide(Approval.layer(TestApproval.byCallId({ "1": ApprovalDecision.Deny({ reason: "no" }) }))),
          Effect.provide(pools())
        )
        expect(results.map((r) => r.outcome._tag)).toEqual(["ApprovalDenied", "Succeeded"])
        expect(started(t)).toEqual(["b"])
      }))
  })

  it.live("a cap of 10,000 with a full batch waiting for approval, interrupted, settles: every wait withdrawn, no stack overflow", () =>
    Effect.gen(function*() {
      const n = 10_000
      const bridge = yield* Approval.queueBridge
      const fiber = yield* Executor.executeBatch(toolkit, Array.from({ length: n }, (_, i) => read(`${i}`, `k${i}`))).pipe(
        Effect.provide(handlers(makeTracker())),
        Effect.provide(Approval.layer(bridge.handler)),
        Effect.provide(pools({ reads: n })),
        Effect.forkChild
      )
      while ((yield* bridge.pending).length < n) yield* Effect.sleep(5)
      const exit = yield* Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber)))
      expect(exit._tag).toBe("Failure")
      expect((yield* bridge.pending).length).toBe(0)
    }), 60_000)

  it.effect("events: pending is published before the handler is asked, and decided says who decided", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const seenBeforeAsking: Array<string> = []
      const collected: Array<ToolEvents.ToolEvent> = []
      const program = Effect.gen(function*() {
        const pubsub = yield* ToolEvents.ToolEvents
        const subscription = yield* PubSub.subscribe(pubsub)
        const handler = Approval.timeout(
          Approval.make((request) =>
            Effect.gen(function*() {
              const sofar = yield* PubSub.takeAll(subscription)
              collected.push(...sofar)
              seenBeforeAsking.push(
                ...collected.flatMap((e) => e._tag === "Pending" && e.call.id === request.call.id ? [e.call.id] : [])
              )
              if (request.call.id === "4") return yield* Effect.never
              return ApprovalDecision.Allow()
            })
          ),
          "10 seconds"
        )
        const results = yield* Executor.executeBatch(toolkit, [
          read("1", "a"),
          write("2", "a", "x"),
          write("3", "b", "y"),
          write("4", "c", "z")
        ]).pipe(
          Effect.provide(ToolPolicy.layer(ToolPolicy.byName({ Read: Verdict.Allow(), Write: Verdict.Ask({ reason: "writes" }) }))),
          Effect.provide(Approval.layer(handler))
        )
        collected.push(...(yield* PubSub.takeAll(subscription)))
        return results
      })
      const results = yield* withClock(program.pipe(Effect.provide(handlers(t)), Effect.provide(ToolEvents.layer)))
      expect(results.map((r) => r.outcome._tag)).toEqual(["Succeeded", "Succeeded", "Succeeded", "ApprovalDenied"])
      expect(seenBeforeAsking).toEqual(["2", "3", "4"])
      const decided = collected.flatMap((e) => e._tag === "Decided" ? [`${e.call.id}:${e.allowed}:${e.decidedBy}`] : [])
      expect(decided).toEqual(["1:true:policy", "2:true:handler", "3:true:handler", "4:false:timeout"])
      const forCall2 = collected
        .filter((e) => e.call.id === "2")
        .map((e) => e._tag)
      expect(forCall2).toEqual(["Pending", "ApprovalRequested", "Decided", "Started", "Finished"])
      const asked = collected.find((e) => e._tag === "ApprovalRequested")
      expect(asked?._tag === "ApprovalRequested" && asked.request.reason).toBe("writes")
    }))
})

describe("Executor.execute", () => {
  it.effect("runs one call through the gate", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      t.store.set("a", "hello")
      const result = yield* Executor.execute(toolkit, read("1", "a")).pipe(Effect.provide(handlers(t)))
      expect(result).toMatchObject({ id: "1", name: "Read", isFailure: false, result: "hello" })
    }))
})
