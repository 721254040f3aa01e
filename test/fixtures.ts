/**
 * A small toolkit whose handlers record what ran, when, and how many ran at
 * once, for tests of the executor's semantics. Durations are TestClock time.
 */
import { Effect, Fiber, Schema } from "effect"
import { Tool, Toolkit } from "effect/ai"
import { TestClock } from "effect/testing"
import type { Approval } from "toolgate"

const Params = Schema.Struct({ key: Schema.String, ms: Schema.optional(Schema.Number) })

export const Read = Tool.make("Read", {
  description: "Read a key",
  parameters: Params,
  success: Schema.String
}).annotate(Tool.Readonly, true)

export const Write = Tool.make("Write", {
  description: "Write a key",
  parameters: Schema.Struct({ key: Schema.String, value: Schema.String, ms: Schema.optional(Schema.Number) }),
  success: Schema.String
})

/** A second mutator, promoted in tests that configure `tools: { Promoted: { concurrent: true } }`. */
export const Promoted = Tool.make("Promoted", {
  parameters: Params,
  success: Schema.String
})

export class Boom extends Schema.TaggedError<Boom>()("Boom", { detail: Schema.String }) {}

export const Fail = Tool.make("Fail", {
  parameters: Schema.Struct({}),
  success: Schema.String,
  failure: Boom
})

export const Die = Tool.make("Die", {
  parameters: Schema.Struct({}),
  success: Schema.String
})

export const toolkit = Toolkit.make(Read, Write, Promoted, Fail, Die)

/** What the handlers observed. Plain mutable state: tests read it after the batch. */
export interface Tracker {
  /** "start:<key>" and "end:<key>" in the order they happened */
  readonly log: Array<string>
  readonly store: Map<string, string>
  /** calls of a tool running right now, and the most ever seen */
  readonly inFlight: Map<string, number>
  readonly peak: Map<string, number>
  /** finalizers that ran because a handler was interrupted */
  readonly interrupted: Array<string>
}

export const makeTracker = (): Tracker => ({
  log: [],
  store: new Map(),
  inFlight: new Map(),
  peak: new Map(),
  interrupted: []
})

export const started = (t: Tracker): Array<string> =>
  t.log.filter((e) => e.startsWith("start:")).map((e) => e.slice(6))

const track = <A>(t: Tracker, group: string, key: string, ms: number | undefined, result: Effect.Effect<A>) =>
  Effect.sync(() => {
    t.log.push(`start:${key}`)
    const now = (t.inFlight.get(group) ?? 0) + 1
    t.inFlight.set(group, now)
    t.peak.set(group, Math.max(t.peak.get(group) ?? 0, now))
  }).pipe(
    Effect.andThen(ms === undefined ? Effect.void : Effect.sleep(ms)),
    Effect.onInterrupt(() => Effect.sync(() => t.interrupted.push(key))),
    Effect.ensuring(Effect.sync(() => t.inFlight.set(group, (t.inFlight.get(group) ?? 1) - 1))),
    Effect.andThen(result),
    Effect.tap(() => Effect.sync(() => t.log.push(`end:${key}`)))
  )

export const handlers = (t: Tracker) =>
  toolkit.toLayer({
    Read: ({ key, ms }) => track(t, "Read", key, ms, Effect.sync(() => t.store.get(key) ?? "")),
    Write: ({ key, value, ms }) =>
      track(t, "Write", key, ms, Effect.sync(() => {
        t.store.set(key, value)
        return `wrote ${key}`
      })),
    Promoted: ({ key, ms }) => track(t, "Promoted", key, ms, Effect.succeed(`promoted ${key}`)),
    Fail: () => Effect.fail(new Boom({ detail: "disk full" })),
    Die: () => Effect.die(new Error("kaboom"))
  })

/**
 * Runs `effect` in a child fiber while moving the TestClock forward a
 * millisecond at a time until it is done (sleeps registered late, by fibers
 * started mid-way, are still reached in order).
 */
export const withClock = <A, E, R>(effect: Effect.Effect<A, E, R>, limit: number = 120_000) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(effect)
    yield* Effect.yieldNow
    for (let elapsed = 0; fiber.pollUnsafe() === undefined && elapsed < limit; elapsed++) {
      yield* TestClock.adjust(1)
    }
    return yield* Fiber.join(fiber)
  })

/** An approval request as the executor would build it for a top-level call. */
export const approvalRequest = (
  id: string,
  name = "Write",
  input: unknown = { key: id },
  extra: Partial<Approval.ApprovalRequest> = {}
): Approval.ApprovalRequest => ({
  call: { id, name, params: input },
  input,
  toolClass: name === "Read" ? "ReadOnly" : "Mutating",
  description: undefined,
  reason: undefined,
  match: undefined,
  origin: { depth: 0, parents: [] },
  ...extra
})
