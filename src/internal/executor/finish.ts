/**
 * Stage 6, finish: a call's result is written into its record, once, and
 * `Finished` is published with the record. A call that was answered
 * without running (denied, unknown, invalid) gets its `toolgate.call` span
 * here, a span of no duration carrying the same attributes as a running
 * call's; calls cancelled by an interruption get none (a batch of 1,000
 * interrupted must stay cheap, bench/cancel.bench.ts).
 */
import { Effect } from "effect"
import { ToolEvent } from "../../ToolEvents.ts"
import { notRun, Outcome, type ToolResult } from "../../ToolResult.ts"
import { type Env, publish } from "./env.ts"
import { endAttributes, spanAttributes } from "./execute.ts"
import { type Batch, type CallState, toRecord } from "./state.ts"

/** Records `result` for `state` and tells whoever listens; a second result for the same call is ignored. */
export const finish = (env: Env, state: CallState, result: ToolResult): Effect.Effect<void> => {
  if (state.result !== undefined) return Effect.void
  state.result = result
  state.times.finished = performance.now()
  const announce = publish(env, () =>
    ToolEvent.Finished({ call: state.call, result, record: toRecord(state, env.origin), origin: env.origin }))
  if (state.started || result.outcome._tag === "Cancelled") return announce
  return Effect.andThen(
    Effect.useSpan("toolgate.call", { attributes: spanAttributes(env, state) }, (span) =>
      Effect.sync(() => endAttributes(span, result))),
    announce
  )
}

/**
 * Answers every call of `states` that has no result yet: `Cancelled` in
 * the phase it reached. Run when a run ends (calls a stop withdrew) and,
 * uninterruptibly, when the batch ends however it ends.
 */
export const sweep = (env: Env, states: ReadonlyArray<CallState>): Effect.Effect<void> =>
  Effect.forEach(
    states,
    (state) =>
      state.result === undefined
        ? finish(env, state, notRun(state.call, Outcome.Cancelled({ phase: state.phase })))
        : Effect.void,
    { discard: true }
  )

/** `sweep` over the whole batch. */
export const sweepBatch = (env: Env, batch: Batch): Effect.Effect<void> => sweep(env, batch.states)
