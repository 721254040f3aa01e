/**
 * Stage 3, approval: when the policy asked, the approval handler decides.
 * It runs before admission, so a call waiting for a human holds no pool
 * permit (issue 17): the serial mutators of other batches — every other
 * MCP server's, say — go on while one waits. Within a batch a serial run
 * still asks one call at a time, in model order (its worker asks, then
 * waits for the permit, then runs, then takes the next call).
 *
 * Who decided comes from the building blocks only (see ../vouched.ts); a
 * handler that fails, dies, throws or answers something that is not a
 * decision denies as `fault`. An approved edit is a new call as far as
 * safety goes: read once, decoded and judged by the policy again; a policy
 * that denies it is recorded as a denial by the policy.
 */
import { Cause, Effect, Exit, Fiber } from "effect"
import { Tool } from "effect/ai"
import * as Approval from "../../Approval.ts"
import { ToolEvent } from "../../ToolEvents.ts"
import { notRun, Outcome, type ToolResult } from "../../ToolResult.ts"
import { describeCause } from "../describe.ts"
import { decidedByOf } from "../vouched.ts"
import { type Env, publish } from "./env.ts"
import { andThen } from "./fast.ts"
import { decode, publishDecided } from "./lookup.ts"
import * as Policy from "./policy.ts"
import { plain } from "./snapshot.ts"
import type { Batch, CallState } from "./state.ts"

/** What an approver is shown for `state`. */
const request = (env: Env, state: CallState): Approval.ApprovalRequest => {
  const { call, verdict } = state
  return {
    call: { id: call.id, name: call.name, params: state.decoded },
    input: call.params,
    toolClass: state.toolClass!,
    description: Tool.getDescription(state.tool!),
    reason: verdict?._tag === "Ask" ? verdict.reason : undefined,
    match: verdict?.match,
    origin: env.origin
  }
}

/** The handler's answer, checked, with who made it. */
interface Answer {
  readonly decision: Approval.ApprovalDecision
  readonly decidedBy: Approval.ApprovalDecision["decidedBy"] & {}
}

const fault = (cause: Cause.Cause<unknown>): Answer => ({
  decision: Approval.ApprovalDecision.Deny({
    reason: `the approval handler failed (${describeCause(cause)}), so the call was denied to be safe`
  }),
  decidedBy: "fault"
})

const checked = (raw: unknown): Answer => {
  const decision = Approval.check(raw)
  // `check` answers a malformed decision with a fault deny of its own
  // (vouched); a well-formed one is a fresh copy, so who made it is read
  // from what the handler returned
  return { decision, decidedBy: decidedByOf(decision) === "fault" ? "fault" : decidedByOf(raw) }
}

/** Asks the handler. An answer already there (an `Exit`) is taken without a step through the run loop. */
const ask = (env: Env, state: CallState): Effect.Effect<Answer> => {
  let answer: Effect.Effect<Approval.ApprovalDecision, unknown>
  try {
    answer = env.approval.approve(request(env, state))
  } catch (error) {
    return Effect.succeed(fault(Cause.die(error)))
  }
  if (Exit.isExit(answer)) {
    const exit = answer as Exit.Exit<Approval.ApprovalDecision, unknown>
    return Effect.succeed(Exit.isSuccess(exit) ? checked(exit.value) : fault(exit.cause))
  }
  // Waiting: the fiber is noted so that another call's `stop` can withdraw this question.
  return Effect.withFiber((fiber) => {
    state.asking = fiber
    return Effect.matchCause(answer, { onFailure: fault, onSuccess: checked }).pipe(
      Effect.ensuring(Effect.sync(() => void (state.asking = undefined)))
    )
  })
}

/**
 * An approver asked to stop: the batch starts nothing more, and the calls
 * of the batch still waiting for their answer are withdrawn (their fibers
 * interrupted: they end `Cancelled` in the approval phase). Calls already
 * running are left to finish.
 */
const stop = (batch: Batch, by: CallState): Effect.Effect<void> =>
  Effect.suspend(() => {
    batch.stopped = true
    const waiting: Array<Fiber.Fiber<unknown, unknown>> = []
    for (const state of batch.states) {
      if (state !== by && state.asking !== undefined && state.asking !== by.asking) waiting.push(state.asking)
    }
    return waiting.length === 0 ? Effect.void : Fiber.interruptAll(waiting)
  })

/**
 * Stage 3 for one call. `undefined` when the call may go on to admission
 * (its executed params and decoded params set), its result otherwise.
 */
export const approve = (env: Env, batch: Batch, state: CallState): Effect.Effect<ToolResult | undefined> =>
  Effect.suspend(() => {
    const { call } = state
    if (batch.stopped) return Effect.succeed(notRun(call, Outcome.Cancelled({ phase: state.phase })))
    if (state.verdict?._tag !== "Ask") {
      state.executed = call.params
      return Effect.succeed(undefined)
    }
    state.phase = "approval"
    state.times.approval = performance.now()
    return andThen(
      publish(env, () => ToolEvent.ApprovalRequested({ call, request: request(env, state), origin: env.origin })),
      () => andThen(ask(env, state), (answer) => decided(env, batch, state, answer))
    )
  })

const decided = (env: Env, batch: Batch, state: CallState, answer: Answer): Effect.Effect<ToolResult | undefined> => {
  const { call } = state
  const { decision, decidedBy } = answer
  state.times.decided = performance.now()
  if (decision._tag === "Deny") {
    const stopping = decision.stop === true
    state.decision = { allowed: false, decidedBy, reason: decision.reason, stop: stopping || undefined }
    const denied = notRun(call, Outcome.ApprovalDenied({ reason: decision.reason, decidedBy, stop: stopping }))
    return andThen(
      stopping ? stop(batch, state) : Effect.void,
      () => andThen(publishDecided(env, state, undefined), () => Effect.succeed(denied))
    )
  }
  if (decision.params === undefined) {
    state.decision = { allowed: true, decidedBy }
    state.executed = call.params
    return andThen(publishDecided(env, state, undefined), () => afterAllow(batch, state))
  }
  return andThen(checkEdit(env, state, decision.params), (edit) => {
    if ("outcome" in edit) return Effect.succeed(edit)
    state.decision = { allowed: true, decidedBy }
    state.executed = edit.input
    state.decoded = edit.decoded
    return andThen(publishDecided(env, state, edit.input), () => afterAllow(batch, state))
  })
}

// allowed, but another call's approver stopped the batch meanwhile
const afterAllow = (batch: Batch, state: CallState): Effect.Effect<ToolResult | undefined> =>
  Effect.succeed(batch.stopped ? notRun(state.call, Outcome.Cancelled({ phase: "approval" })) : undefined)

/** An approved edit: read once, decoded, judged again. The tool stays the one the model named. */
const checkEdit = (
  env: Env,
  state: CallState,
  edited: unknown
): Effect.Effect<ToolResult | { readonly input: unknown; readonly decoded: unknown }> => {
  const { call } = state
  let input: unknown
  try {
    input = plain(edited)
  } catch (error) {
    return Effect.succeed(notRun(call, Outcome.InvalidParams({ message: `edited params: ${String((error as Error).message)}` })))
  }
  return Effect.flatMap(Effect.result(decode(state.tool!, input)), (decoded) => {
    if (decoded._tag === "Failure") {
      return Effect.succeed(notRun(call, Outcome.InvalidParams({ message: `edited params: ${decoded.failure.message}` })))
    }
    const recheck = { call: { id: call.id, name: call.name, params: input }, tool: state.tool, toolClass: state.toolClass, origin: env.origin }
    return Effect.flatMap(Policy.decide(env.policy, recheck), (verdict): Effect.Effect<ToolResult | { readonly input: unknown; readonly decoded: unknown }> => {
      if (verdict._tag !== "Deny") return Effect.succeed({ input, decoded: decoded.success })
      const reason = `edited params: ${verdict.reason}`
      state.decision = { allowed: false, decidedBy: "policy", reason, match: verdict.match }
      return Effect.as(
        publishDecided(env, state, input),
        notRun(call, Outcome.PolicyDenied({ reason, match: verdict.match }))
      )
    })
  })
}
