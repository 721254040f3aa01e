/**
 * Stage 5, execution: the tool runs, its handler called directly with the
 * params decoded once when effect/ai's handler entry is there, through
 * `toolkit.handle` otherwise (same result either way, see
 * ../toolHandler.ts). The call's `toolgate.call` span covers this stage
 * only — nothing stays open while a call waits for a permit or a human —
 * and carries the earlier stages as attributes: verdict, who decided, the
 * rule, the waits, and at the end the outcome.
 */
import { Cause, Effect, Exit, Option, Stream, Tracer } from "effect"
import type { Prompt } from "effect/ai"
import * as ToolCall from "../../ToolCall.ts"
import * as ToolClass from "../../ToolClass.ts"
import { ToolEvent } from "../../ToolEvents.ts"
import * as ToolPolicy from "../../ToolPolicy.ts"
import { notRun, Outcome, type ToolResult } from "../../ToolResult.ts"
import { describeCause } from "../describe.ts"
import * as ToolHandler from "../toolHandler.ts"
import { type Env, publish } from "./env.ts"
import { andThen } from "./fast.ts"
import type { CallState } from "./state.ts"

/** The fallback path: effect/ai's own dispatch, `handle` and the last element of its stream. */
const runViaHandle = (env: Env, state: CallState): Effect.Effect<ToolHandler.Ran> => {
  const { call } = state
  const tool = state.tool!
  return Effect.flatMap(env.kit, (kit) => kit.handle(call.name, state.executed, call.id)).pipe(
    Effect.flatMap(Stream.runLast),
    Effect.matchCause({
      onSuccess: (last): ToolHandler.Ran => {
        if (Option.isNone(last)) return { _tag: "Crashed", message: "the tool ended without a result" }
        const { encodedResult, isFailure, modelOutput, result } = last.value
        return isFailure
          // effect/ai's failure for a result that would not encode carries
          // the raw value, which may not serialise (cycles, bigints)
          ? { _tag: "Failed", error: result, encoded: ToolHandler.serialisable(encodedResult) }
          : { _tag: "Succeeded", encoded: encodedResult, modelOutput }
      },
      onFailure: (cause): ToolHandler.Ran => {
        const failure = Cause.findError(cause)
        if (failure._tag === "Success") {
          return { _tag: "Failed", error: failure.success, encoded: ToolHandler.encodeFailureSync(tool, failure.success) }
        }
        // Only reached when the tool interrupted itself: interrupting this
        // fiber from outside never runs a recovery.
        if (Cause.hasInterruptsOnly(cause)) return { _tag: "Interrupted" }
        return { _tag: "Crashed", message: describeCause(cause) }
      }
    })
  ) as Effect.Effect<ToolHandler.Ran>
}

const toResult = (call: ToolCall.ToolCall, ran: ToolHandler.Ran): ToolResult => {
  switch (ran._tag) {
    case "Succeeded":
      return {
        id: call.id,
        name: call.name,
        isFailure: false,
        result: ran.encoded,
        outcome: Outcome.Succeeded(),
        ...(ran.modelOutput !== undefined
          ? { modelOutput: ran.modelOutput as ReadonlyArray<Prompt.ToolModelOutputPart> }
          : {})
      }
    case "Failed":
      return { id: call.id, name: call.name, isFailure: true, result: ran.encoded, outcome: Outcome.Failed({ error: ran.error }) }
    case "Interrupted":
      return notRun(call, Outcome.Cancelled({ phase: "running" }))
    case "Crashed":
      return notRun(call, Outcome.Crashed({ message: ran.message }))
  }
}

/** The span attributes every `toolgate.call` carries: what the stages before decided. */
export const spanAttributes = (env: Env, state: CallState): Record<string, unknown> => {
  const { call, decision, times } = state
  const attributes: Record<string, unknown> = {
    "toolgate.tool": call.name,
    "toolgate.call": call.id,
    "toolgate.verdict": state.verdict?._tag.toLowerCase() ?? "none",
    "toolgate.decided_by": decision?.decidedBy ?? "none",
    "toolgate.allowed": decision?.allowed ?? false
  }
  if (state.route !== undefined) attributes["toolgate.route"] = state.route
  const match = decision?.match ?? state.verdict?.match
  if (match !== undefined) attributes["toolgate.rule"] = ToolPolicy.describeMatch(match)
  if (decision?.reason !== undefined) attributes["toolgate.reason"] = decision.reason
  if (times.approval > 0 && times.decided > 0) attributes["toolgate.approval_ms"] = times.decided - times.approval
  if (times.admitted > 0) attributes["toolgate.queued_ms"] = times.admitted - (times.decided > 0 ? times.decided : state.entered)
  if (env.traceParams) {
    attributes["toolgate.params"] = safeJson(call.params)
    if (state.started && state.executed !== call.params) attributes["toolgate.executed_params"] = safeJson(state.executed)
  }
  return attributes
}

const safeJson = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? "undefined"
  } catch {
    return "(not serialisable)"
  }
}

/** Marks the end of a call on its span. */
export const endAttributes = (span: Tracer.Span, result: ToolResult): void => {
  span.attribute("toolgate.outcome", result.outcome._tag)
  span.attribute("toolgate.is_error", result.isFailure)
}

/** Stage 5 for an admitted, allowed call: it runs. */
export const execute = (env: Env, state: CallState): Effect.Effect<ToolResult> => {
  const { call } = state
  const tool = state.tool!
  state.phase = "running"
  state.started = true
  state.times.running = performance.now()
  return andThen(
    // the params it runs with: a reviewer's edit, not what the model asked
    publish(env, () => ToolEvent.Started({ call: state.executed === undefined || state.executed === call.params ? call : { ...call, params: state.executed }, origin: env.origin })),
    () => {
      const entry = env.handlers === undefined ? undefined : ToolHandler.lookup(env.handlers, tool)
      const attributes = spanAttributes(env, state)
      attributes["toolgate.direct"] = entry !== undefined
      return Effect.useSpan("toolgate.call", { attributes }, (span): Effect.Effect<ToolResult> => {
        const ran = entry === undefined ? runViaHandle(env, state) : ToolHandler.run(entry, tool, state.decoded, call.id)
        const done = (r: ToolHandler.Ran) => {
          const result = toResult(call, r)
          endAttributes(span, result)
          return Effect.succeed(result)
        }
        // A handler that already returned its result has nothing left to run
        // under the span or the child origin.
        if (Exit.isExit(ran)) return andThen(ran as Exit.Exit<ToolHandler.Ran>, done)
        // the span is the parent of the tool's own spans (a sub-agent's run),
        // without the stack frame `withSpan` would also install
        const traced = Effect.provideService(ran, Tracer.ParentSpan, span)
        const scoped = ToolClass.isRecursive(tool)
          ? Effect.provideService(traced, ToolCall.CurrentOrigin, ToolCall.child(env.origin, call.id))
          : traced
        return Effect.flatMap(scoped, done)
      })
    }
  )
}
