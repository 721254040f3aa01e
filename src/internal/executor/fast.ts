/**
 * The executor's one fast path. Exits are effects in effect 4, and most
 * steps of a call return one: a policy or an approver answering from
 * memory, a sync Schema, a pure tool. Continuing such a step directly
 * instead of through `flatMap` keeps a call that never waits off the run
 * loop — half of the gate's cost at N = 1,000 (bench/gate.bench.ts measures
 * it: `gate ÷ dispatch`). Every stage goes through {@link andThen}; no stage
 * inspects an Exit itself, except to choose this path.
 *
 * Callers run it inside a suspended effect, so "directly" is still run time.
 *
 * (Not named `then`: a module exporting `then` is a thenable, and
 * `await import()` of it calls that export and never resolves.)
 */
import { Effect, Exit } from "effect"

/** `Effect.flatMap`, continuing at once when `self` is an already successful `Exit`. */
export const andThen = <A, E, B, E2, R2>(
  self: Effect.Effect<A, E>,
  f: (a: A) => Effect.Effect<B, E2, R2>
): Effect.Effect<B, E | E2, R2> => {
  if (Exit.isExit(self)) {
    const exit = self as Exit.Exit<A, E>
    if (Exit.isSuccess(exit)) return f(exit.value)
  }
  return Effect.flatMap(self, f)
}

/** Whether `self` is an `Exit`: a step that already has its answer. */
export const isDone = <A, E, R>(self: Effect.Effect<A, E, R>): self is Exit.Exit<A, E> => Exit.isExit(self)
