/**
 * Stage 2, lookup and decoding: the tool a call names and its params
 * decoded by the tool's Schema. Decoders are made once per tool.
 */
import { Effect, Schema } from "effect"
import type { Tool } from "effect/ai"
import * as ToolClass from "../../ToolClass.ts"
import { ToolEvent } from "../../ToolEvents.ts"
import { notRun, Outcome, type ToolResult } from "../../ToolResult.ts"
import { type Env, publish } from "./env.ts"
import { andThen } from "./fast.ts"
import * as Policy from "./policy.ts"
import type { CallState } from "./state.ts"

/** The tool named `name`, own properties only (`constructor` names no tool). */
export const lookup = (tools: Readonly<Record<string, Tool.Any>>, name: string): Tool.Any | undefined =>
  Object.hasOwn(tools, name) ? tools[name] : undefined

const decoders = new WeakMap<Tool.Any, (input: unknown) => Effect.Effect<unknown, Schema.SchemaError>>()

/** `input` decoded by `tool`'s parameters Schema (a tool with JSON Schema only takes it as is). */
export const decode = (tool: Tool.Any, input: unknown): Effect.Effect<unknown, Schema.SchemaError> => {
  let decoder = decoders.get(tool)
  if (decoder === undefined) {
    decoder = Schema.isSchema(tool.parametersSchema)
      ? (Schema.decodeUnknownEffect(tool.parametersSchema) as (u: unknown) => Effect.Effect<unknown, Schema.SchemaError>)
      // dynamic tools may declare JSON Schema only: nothing to decode with
      : Effect.succeed
    decoders.set(tool, decoder)
  }
  return decoder(input)
}

/**
 * Stages 1–2 for one call, in model order when the batch starts: the call
 * is announced (`Pending`), judged by the policy, looked up and decoded. A
 * result when the call ends here (unreadable params, denied, unknown tool,
 * invalid params), `undefined` when it goes on to approval. `Decided` is
 * published for a policy `Deny` at once, and for an `Allow` only once the
 * tool is found and the params decode: never before a `NotFound` or
 * `InvalidParams`.
 */
export const prepare = (env: Env, state: CallState, unreadable: string | undefined): Effect.Effect<ToolResult | undefined> => {
  const { call } = state
  const tool = lookup(env.tools, call.name)
  state.tool = tool
  state.toolClass = tool === undefined ? undefined : ToolClass.of(tool)
  return andThen(
    publish(env, () => ToolEvent.Pending({ call, toolClass: state.toolClass, origin: env.origin })),
    () => {
      if (unreadable !== undefined) return Effect.succeed(notRun(call, Outcome.InvalidParams({ message: unreadable })))
      return andThen(
        Policy.decide(env.policy, { call, tool, toolClass: state.toolClass, origin: env.origin }),
        (verdict): Effect.Effect<ToolResult | undefined> => {
          state.verdict = verdict
          if (verdict._tag === "Deny") {
            state.decision = { allowed: false, decidedBy: "policy", reason: verdict.reason, match: verdict.match }
            return andThen(
              publishDecided(env, state, undefined),
              () => Effect.succeed(notRun(call, Outcome.PolicyDenied({ reason: verdict.reason, match: verdict.match })))
            )
          }
          if (tool === undefined) {
            return Effect.succeed(notRun(call, Outcome.NotFound({ available: Object.keys(env.tools) })))
          }
          const decoded = Effect.matchEager(decode(tool, call.params), {
            onFailure: (error) => ({ ok: false as const, message: error.message }),
            onSuccess: (value) => ({ ok: true as const, value })
          })
          return andThen(decoded, (outcome): Effect.Effect<ToolResult | undefined> => {
            if (!outcome.ok) return Effect.succeed(notRun(call, Outcome.InvalidParams({ message: outcome.message })))
            state.decoded = outcome.value
            state.route = env.pools.route(tool)
            if (verdict._tag !== "Allow") return Effect.succeed(undefined)
            state.decision = { allowed: true, decidedBy: "policy", match: verdict.match }
            return andThen(publishDecided(env, state, undefined), () => Effect.succeed(undefined))
          })
        }
      )
    }
  )
}

/** The `Decided` event for the decision now in `state`; `edited`: the approver's params. */
export const publishDecided = (env: Env, state: CallState, edited: unknown): Effect.Effect<void> =>
  publish(env, () => {
    const decision = state.decision!
    return ToolEvent.Decided({
      call: state.call,
      allowed: decision.allowed,
      decidedBy: decision.decidedBy,
      reason: decision.reason,
      match: decision.match,
      ...(edited !== undefined ? { editedParams: edited } : {}),
      ...(decision.stop === true ? { stop: true } : {}),
      origin: env.origin
    })
  })
