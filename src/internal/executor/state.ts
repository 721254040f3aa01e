/**
 * The executor's own record of each call while it goes through the gate,
 * and of the batch they belong to. Only the stages of `src/internal/executor/`
 * write it; everyone else reads the public {@link CallRecord} made from it
 * when the call finishes, or (the Agent, after an interruption) the results
 * of a {@link Batch} it was given.
 *
 * Invariants: `result` is written once (by `finish.ts`), `phase` only moves
 * forward, and `decision` is set by the policy stage or the approval stage,
 * never copied from what a handler claims.
 */
import type { Fiber } from "effect"
import type { Tool } from "effect/ai"
import type * as Concurrency from "../../Concurrency.ts"
import type { ToolCall } from "../../ToolCall.ts"
import type { ToolClass } from "../../ToolClass.ts"
import type { CallRecord } from "../../ToolEvents.ts"
import type * as ToolPolicy from "../../ToolPolicy.ts"
import { type CancelPhase, type DecidedBy, notRun, Outcome, type ToolResult } from "../../ToolResult.ts"

/** Who decided and what, once someone did. */
export interface Decision {
  readonly allowed: boolean
  readonly decidedBy: DecidedBy
  readonly reason?: string | undefined
  readonly match?: ToolPolicy.Match | undefined
  readonly stop?: boolean | undefined
}

/** One call in the gate. Created when the call enters; mutated only by the stages. */
export interface CallState {
  readonly index: number
  /** The call as asked, read once (see snapshot.ts). */
  readonly call: ToolCall
  readonly enteredAt: number
  readonly entered: number
  tool: Tool.Any | undefined
  toolClass: ToolClass | undefined
  route: Concurrency.Route | undefined
  /** The params decoded by the tool's Schema, what its handler gets. */
  decoded: unknown
  verdict: ToolPolicy.Verdict | undefined
  decision: Decision | undefined
  /** The wire-form params the tool runs with, once it starts. */
  executed: unknown
  started: boolean
  phase: CancelPhase
  /** The fiber asking the approver, while it asks (what a stop interrupts). */
  asking: Fiber.Fiber<unknown, unknown> | undefined
  result: ToolResult | undefined
  readonly times: { approval: number; decided: number; admitted: number; running: number; finished: number }
}

/** A batch: its calls' states, in model order, and whether an approver stopped it. */
export interface Batch {
  readonly calls: ReadonlyArray<ToolCall>
  readonly states: Array<CallState>
  stopped: boolean
}

/** A batch for `calls`, nothing entered yet. The Agent makes one to read it after an interruption. */
export const makeBatch = (calls: ReadonlyArray<ToolCall>): Batch => ({ calls, states: [], stopped: false })

/** A call entering the gate. */
export const enter = (index: number, call: ToolCall): CallState => ({
  index,
  call,
  enteredAt: Date.now(),
  entered: performance.now(),
  tool: undefined,
  toolClass: undefined,
  route: undefined,
  decoded: undefined,
  verdict: undefined,
  decision: undefined,
  executed: undefined,
  started: false,
  phase: "queued",
  asking: undefined,
  result: undefined,
  times: { approval: 0, decided: 0, admitted: 0, running: 0, finished: 0 }
})

/**
 * One result per call of `batch`: its real one when it ended, `Cancelled`
 * in the phase it reached otherwise (a call that never entered: `queued`).
 */
export const answer = (batch: Batch): Array<ToolResult> =>
  batch.calls.map((call, i) => {
    const state = batch.states[i]
    return state?.result ?? notRun(state?.call ?? call, Outcome.Cancelled({ phase: state?.phase ?? "queued" }))
  })

const ms = (from: number, to: number): number | undefined => from > 0 && to >= from ? to - from : undefined

/** The public record of a finished call. */
export const toRecord = (state: CallState, origin: CallRecord["origin"]): CallRecord => {
  const result = state.result!
  const { times } = state
  const approvalMs = times.approval > 0 ? ms(times.approval, times.decided > 0 ? times.decided : times.finished) : undefined
  const queuedMs = times.admitted > 0
    ? ms(times.decided > 0 ? times.decided : state.entered, times.admitted)
    : undefined
  const runMs = times.running > 0 ? ms(times.running, times.finished) : undefined
  return {
    call: state.call,
    origin,
    ...(state.toolClass !== undefined ? { toolClass: state.toolClass } : {}),
    ...(state.verdict !== undefined ? { verdict: levelOf(state.verdict) } : {}),
    ...(state.decision !== undefined ? { decision: state.decision } : {}),
    ...(state.started ? { executedParams: state.executed } : {}),
    edited: state.started && state.executed !== state.call.params,
    phase: state.phase,
    result,
    isError: result.isFailure,
    timings: {
      enteredAt: state.enteredAt,
      ...(approvalMs !== undefined ? { approvalMs } : {}),
      ...(queuedMs !== undefined ? { queuedMs } : {}),
      ...(runMs !== undefined ? { runMs } : {}),
      totalMs: Math.max(0, times.finished - state.entered)
    }
  }
}

const levelOf = (verdict: ToolPolicy.Verdict): ToolPolicy.Level =>
  verdict._tag === "Allow" ? "allow" : verdict._tag === "Ask" ? "ask" : "deny"
