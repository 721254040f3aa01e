/**
 * After a soak of many interrupted batches nothing of ours is left behind:
 * no fiber still alive (counted by a fiber supervisor, effect's
 * `Metric.FiberRuntimeMetrics` hook, which sees every fiber forked under
 * it) and no stale subscriber on the events PubSub.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Metric, PubSub, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Approval, Concurrency, Executor, ToolEvents } from "toolgate"
import { handlers, makeTracker, toolkit } from "../fixtures.ts"
import { runs } from "./runs.ts"

const SOAK = runs(200)

describe("reliability: leaks", () => {
  it.effect(`after ${SOAK} interrupted batches no fiber is alive and the events PubSub has no subscriber`, () =>
    Effect.gen(function*() {
      let live = 0
      let peak = 0
      const supervisor: Metric.FiberRuntimeMetricsService = {
        recordFiberStart: () => {
          peak = Math.max(peak, ++live)
        },
        recordFiberEnd: () => {
          live--
        }
      }
      const t = makeTracker()
      const pubsub = yield* PubSub.unbounded<ToolEvents.ToolEvent>()
      const bridge = yield* Approval.queueBridge
      let seen = 0

      const soak = Effect.gen(function*() {
        const cancellation = yield* Executor.Cancellation
        for (let round = 0; round < SOAK; round++) {
          // a UI following the events for the length of the batch
          const ui = yield* Effect.forkChild(
            Stream.fromPubSub(pubsub).pipe(Stream.runForEach(() => Effect.sync(() => void seen++)))
          )
          const calls = Array.from({ length: 12 }, (_, i) => {
            const id = `${round}-${i}`
            // runs of four reads, four promoted mutators, four serial ones
            return i < 4
              ? { id, name: "Read", params: { key: id, ms: 2 } }
              : i < 8
              ? { id, name: "Promoted", params: { key: id, ms: 3 } }
              : { id, name: "Write", params: { key: id, value: "v", ms: 2 } }
          })
          const batch = yield* Effect.forkChild(Executor.executeBatch(toolkit, calls))
          // answer some prompts, cancel one call, then interrupt mid-way
          yield* TestClock.adjust(round % 7)
          const pending = yield* bridge.pending
          for (const p of pending.slice(0, round % 4)) {
            yield* cancellation.cancel(p.call.id)
          }
          if (round % 2 === 0) {
            const next = yield* Effect.forkChild(bridge.take)
            yield* TestClock.adjust(1)
            const taken = next.pollUnsafe()
            if (taken !== undefined && taken._tag === "Success") yield* taken.value.decide(Approval.ApprovalDecision.Allow())
            else yield* Fiber.interrupt(next)
          }
          yield* TestClock.adjust(round % 5)
          yield* Fiber.interrupt(batch)
          yield* Fiber.interrupt(ui)
        }
      })

      yield* soak.pipe(
        Effect.provide(handlers(t)),
        Effect.provide(Layer.mergeAll(
          Executor.Cancellation.layer,
          Layer.succeed(ToolEvents.ToolEvents, pubsub),
          Approval.layer(bridge.handler),
          Concurrency.layer({ tools: { Promoted: { concurrent: true } } })
        )),
        Effect.provideService(Metric.FiberRuntimeMetrics, supervisor)
      )
      // the supervisor saw the batches' fibers, and every one of them ended
      expect(peak).toBeGreaterThanOrEqual(8)
      expect(live).toBe(0)
      expect(pubsub.subscribers.size).toBe(0)
      expect(yield* bridge.pending).toEqual([])
      expect([...t.inFlight.values()].every((n) => n === 0)).toBe(true)
      expect(seen).toBeGreaterThan(0)
    }))
})
