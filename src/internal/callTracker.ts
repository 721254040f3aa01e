/**
 * What the executor knows about each call of a batch as it goes: how far
 * the call got (its phase) and, once it ended, its result. The Agent's
 * interruption handling reads it to answer every call of a cut-short batch
 * (its real result when it finished, `Cancelled` in the phase it reached
 * otherwise) instead of rebuilding that from events. Invariant: a call's
 * result is written once, the moment the executor has it, and its phase
 * only moves forward (queued, approval, running).
 */
import { Context } from "effect"
import type { ToolCall } from "../ToolCall.ts"
import { type CancelPhase, notRun, Outcome, type ToolResult } from "../ToolResult.ts"

/** The state of one batch, indexed like its calls. */
export interface CallTracker {
  readonly calls: ReadonlyArray<ToolCall>
  readonly phases: Array<CancelPhase>
  readonly results: Array<ToolResult | undefined>
}

/** A tracker for `calls`, every call queued and without result. */
export const make = (calls: ReadonlyArray<ToolCall>): CallTracker => ({
  calls,
  phases: new Array<CancelPhase>(calls.length).fill("queued"),
  results: new Array<ToolResult | undefined>(calls.length)
})

/** One result per call: the real one when the call ended, `Cancelled` in its phase otherwise. */
export const answer = (tracker: CallTracker): Array<ToolResult> =>
  tracker.calls.map((call, i) =>
    tracker.results[i] ?? notRun(call, Outcome.Cancelled({ phase: tracker.phases[i] ?? "queued" }))
  )

/**
 * The tracker the next `executeBatch` fills, when the caller wants to read
 * it (the Agent does). The executor uses it only for the very array of
 * calls it was made for, so a nested batch that inherits the context gets
 * its own.
 */
export const CurrentCallTracker = Context.Reference<CallTracker | undefined>("toolgate/internal/CallTracker", {
  defaultValue: () => undefined
})
