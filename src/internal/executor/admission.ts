/**
 * Stage 4, admission: an allowed call waits for a permit of its class pool
 * (reads concurrent, mutators serial unless promoted, per-tool caps) and
 * runs holding it. Only execution holds a permit: approval came before.
 * A call admitted after an approver stopped the batch does not start.
 */
import { Effect } from "effect"
import * as Concurrency from "../../Concurrency.ts"
import { notRun, Outcome, type ToolResult } from "../../ToolResult.ts"
import type { Env } from "./env.ts"
import { execute } from "./execute.ts"
import type { Batch, CallState } from "./state.ts"

/** Stages 4–5: the permit, then the tool. */
export const admit = (env: Env, batch: Batch, state: CallState): Effect.Effect<ToolResult> => {
  state.phase = "queued"
  return env.pools.admit(state.route!, state.call.name, env.origin.depth)(
    Effect.suspend(() => {
      state.times.admitted = performance.now()
      if (batch.stopped) return Effect.succeed(notRun(state.call, Outcome.Cancelled({ phase: "queued" })))
      return execute(env, state)
    })
  )
}

/**
 * How many of a run's calls go at once: the pools bound concurrency across
 * batches; bounding the workers too keeps a 10,000-call batch from parking
 * 10,000 fibers. A serial run (width 1) therefore asks and runs in model
 * order.
 */
export const width = (pools: Concurrency.Pools, route: Concurrency.Route, calls: number): number =>
  Math.min(
    calls,
    route === "read"
      ? pools.settings.reads
      : route === "serial"
      ? pools.settings.serialMutators
      : pools.settings.concurrentMutators
  )
