/**
 * The executor's record of a call (issue 17): one `Finished` per call with
 * its `CallRecord`, also when the batch is interrupted; no `Decided` before
 * a lookup or decode failure; who decided comes from the building blocks,
 * never from a handler's claim; params are read once; a call waiting for a
 * human holds no pool permit.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, PubSub } from "effect"
import { Approval, Executor, ToolEvents } from "toolgate"
import { handlers, makeTracker, toolkit } from "./fixtures.ts"

const { ApprovalDecision } = Approval

const collect = <A, E, R>(program: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const pubsub = yield* ToolEvents.ToolEvents
    const subscription = yield* PubSub.subscribe(pubsub)
    const value = yield* program
    const events = yield* PubSub.takeAll(subscription)
    return { value, events: Array.from(events) }
  }).pipe(Effect.scoped)

const write = (id: string, key = id) => ({ id, name: "Write", params: { key, value: "v" } })

describe("Executor: the record of a call", () => {
  it.effect("waiting for a human holds no pool permit: one pending approval, 100 allowed mutating calls of another batch complete", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const asked = yield* Deferred.make<void>()
      const approver = Approval.make((request) =>
        request.call.id === "held"
          ? Effect.andThen(Deferred.succeed(asked, undefined), Effect.never)
          : ApprovalDecision.Allow()
      )
      const layers = Layer.mergeAll(handlers(t), Approval.layer(approver))
      const held = yield* Effect.forkChild(Executor.executeBatch(toolkit, [write("held")]).pipe(Effect.provide(layers)))
      yield* Deferred.await(asked)
      const others = yield* Executor.executeBatch(toolkit, Array.from({ length: 100 }, (_, i) => write(`w${i}`))).pipe(
        Effect.provide(layers)
      )
      expect(others.map((r) => r.outcome._tag)).toEqual(Array(100).fill("Succeeded"))
      expect(held.pollUnsafe()).toBeUndefined()
      yield* Fiber.interrupt(held)
    }))

  it.effect("exactly one Finished per call with its record, also when the batch is interrupted while a call waits", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const asked = yield* Deferred.make<void>()
      const approver = Approval.make((request) =>
        request.call.id === "b" ? Effect.andThen(Deferred.succeed(asked, undefined), Effect.never) : ApprovalDecision.Allow()
      )
      const { events } = yield* collect(Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(Executor.executeBatch(toolkit, [write("a"), write("b"), write("c")]))
        yield* Deferred.await(asked)
        yield* Fiber.interrupt(fiber)
      })).pipe(Effect.provide(Layer.mergeAll(handlers(t), Approval.layer(approver), ToolEvents.layer)))
      const finished = events.filter((e) => e._tag === "Finished")
      expect(finished.map((e) => e.call.id).sort()).toEqual(["a", "b", "c"])
      const byId = new Map(finished.map((e) => [e.call.id, e.record]))
      expect(byId.get("a")).toMatchObject({ verdict: "ask", decision: { allowed: true, decidedBy: "handler" }, isError: false })
      expect(byId.get("a")!.result.outcome._tag).toBe("Succeeded")
      expect(byId.get("b")!.result.outcome._tag).toBe("Cancelled")
      expect(byId.get("c")!.result.outcome._tag).toBe("Cancelled")
      expect(t.store.has("c")).toBe(false)
    }))

  it.effect("no Decided before a NotFound or InvalidParams result; both are recorded as failures", () =>
    Effect.gen(function*() {
      const { events, value } = yield* collect(Executor.executeBatch(toolkit, [
        { id: "x", name: "Nope", params: {} },
        { id: "y", name: "Write", params: { key: 1 } }
      ])).pipe(Effect.provide(Layer.mergeAll(handlers(makeTracker()), Approval.layer(Approval.autoApprove), ToolEvents.layer)))
      expect(value.map((r) => r.outcome._tag)).toEqual(["NotFound", "InvalidParams"])
      expect(events.filter((e) => e._tag === "Decided")).toEqual([])
      const records = events.flatMap((e) => e._tag === "Finished" ? [e.record] : [])
      expect(records.map((r) => [r.call.id, r.isError])).toEqual([["x", true], ["y", true]])
    }))

  it.effect("a handler claiming decidedBy policy or memory is recorded as the handler", () =>
    Effect.gen(function*() {
      const forged = Approval.make(() => ({ _tag: "Allow", decidedBy: "policy" }) as unknown as Approval.ApprovalDecision)
      const { events } = yield* collect(Executor.executeBatch(toolkit, [write("1")])).pipe(
        Effect.provide(Layer.mergeAll(handlers(makeTracker()), Approval.layer(forged), ToolEvents.layer))
      )
      const decided = events.flatMap((e) => e._tag === "Decided" ? [e.decidedBy] : [])
      expect(decided).toEqual(["handler"])
      const record = events.flatMap((e) => e._tag === "Finished" ? [e.record] : [])[0]!
      expect(record.decision?.decidedBy).toBe("handler")
    }))

  it.effect("params are read once: a getter cannot show the approver one value and the tool another", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      let reads = 0
      const params = {
        value: "v",
        get key() {
          reads++
          return reads === 1 ? "shown" : "swapped"
        }
      }
      const seen: Array<unknown> = []
      const approver = Approval.make((request) => {
        seen.push(request.input)
        return ApprovalDecision.Allow()
      })
      const [result] = yield* Executor.executeBatch(toolkit, [{ id: "1", name: "Write", params }]).pipe(
        Effect.provide(Layer.mergeAll(handlers(t), Approval.layer(approver)))
      )
      expect(result!.outcome._tag).toBe("Succeeded")
      expect(reads).toBe(1)
      expect(seen).toEqual([{ key: "shown", value: "v" }])
      expect([...t.store.keys()]).toEqual(["shown"])
    }))

  it.effect("an approved edit: the record keeps the params as asked and as executed", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const editor = Approval.make(() => ApprovalDecision.Allow({ params: { key: "edited", value: "v2" } }))
      const { events } = yield* collect(Executor.executeBatch(toolkit, [write("1", "asked")])).pipe(
        Effect.provide(Layer.mergeAll(handlers(t), Approval.layer(editor), ToolEvents.layer))
      )
      const record = events.flatMap((e) => e._tag === "Finished" ? [e.record] : [])[0]!
      expect(record.call.params).toEqual({ key: "asked", value: "v" })
      expect(record).toMatchObject({ edited: true, executedParams: { key: "edited", value: "v2" } })
      expect([...t.store.entries()]).toEqual([["edited", "v2"]])
      // what a terminal shows when the tool starts: the params it runs with, under the same call id
      const started = events.flatMap((e) => e._tag === "Started" ? [e.call] : [])
      expect(started).toEqual([{ ...record.call, params: { key: "edited", value: "v2" } }])
    }))

  it.effect("one executeBatch Effect run twice is two batches: the second run is asked again, not answered from the first", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const answers = [ApprovalDecision.Allow(), ApprovalDecision.Deny({ reason: "not twice" })]
      const approver = Approval.make(() => answers.shift()!)
      const batch = Executor.executeBatch(toolkit, [write("1")]).pipe(
        Effect.provide(Layer.mergeAll(handlers(t), Approval.layer(approver)))
      )
      const first = yield* batch
      const second = yield* batch
      expect([first[0]!.outcome._tag, second[0]!.outcome._tag]).toEqual(["Succeeded", "ApprovalDenied"])
      expect(answers).toEqual([])
    }))

  it.effect("params sharing one object on many paths are read once per object, not once per path", () =>
    Effect.gen(function*() {
      // 2^60 paths, 60 objects: a copy per path would never end
      let shared: unknown = { key: "k", value: "v" }
      for (let i = 0; i < 60; i++) shared = { key: shared, value: [shared] }
      const [result] = yield* Executor.executeBatch(toolkit, [{ id: "1", name: "Write", params: shared }]).pipe(
        Effect.provide(Layer.mergeAll(handlers(makeTracker()), Approval.layer(Approval.autoApprove)))
      )
      expect(result!.outcome._tag).toBe("InvalidParams")
    }))
})
