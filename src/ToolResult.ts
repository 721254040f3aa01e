/**
 * The one result every tool call gets, whatever happened to it.
 *
 * A denial, a missing tool, bad parameters, a tool's failure, a tool's
 * defect and a cancellation are all results the model reads (`isFailure:
 * true`), never errors of the run: the model sees the reason and tries
 * another way. The fields line up with effect/ai's `Prompt.ToolResultPart`,
 * and {@link toPart} converts. `outcome` keeps the facts a UI or an audit log
 * needs, which the model never has to parse.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { Prompt } from "effect/ai"
import { taggedUnion } from "./internal/taggedUnion.ts"
import * as ToolPolicy from "./ToolPolicy.ts"

/**
 * Who decided an approval: the approval handler, the session memory of an
 * earlier "allow and remember", a timeout, the read-only fast path, or a
 * fault of the handler (which always denies).
 *
 * @example
 * ```ts
 * import type { ToolResult } from "toolgate"
 * const by: ToolResult.DecidedBy = "timeout"
 * ```
 *
 * @since 0.1.0
 */
export const DecidedBy = Schema.Literals(["policy", "handler", "memory", "timeout", "readOnlyFastPath", "fault"])

/** @since 0.1.0 */
export type DecidedBy = typeof DecidedBy.Type

/**
 * When a cancelled call was stopped: waiting for a pool permit (`queued`),
 * waiting for approval (`approval`), or while the tool ran (`running`).
 *
 * @example
 * ```ts
 * import type { ToolResult } from "toolgate"
 * const phase: ToolResult.CancelPhase = "approval"
 * ```
 *
 * @since 0.1.0
 */
export const CancelPhase = Schema.Literals(["queued", "approval", "running"])

/** @since 0.1.0 */
export type CancelPhase = typeof CancelPhase.Type

/**
 * What happened to a call.
 *
 * - `Succeeded`: the tool ran and returned.
 * - `Failed`: the tool ran and failed with one of its declared failures
 *   (`error`), or its result could not be encoded.
 * - `Crashed`: the tool died (a defect); `message` describes it.
 * - `PolicyDenied`: the static gate denied it; the deciding rule if known.
 * - `ApprovalDenied`: the approver denied it; `stop` asks the caller (the
 *   agent loop) to end the run; the batch's calls not yet started were
 *   cancelled.
 * - `NotFound`: no tool of that name; `available` lists the names there are.
 * - `InvalidParams`: the params failed the tool's Schema; `message` is the
 *   Schema's.
 * - `Cancelled`: the call was cancelled or its batch interrupted.
 *
 * @example
 * ```ts
 * import { ToolResult } from "toolgate"
 * const o = ToolResult.Outcome.NotFound({ available: ["Read"] })
 * ToolResult.Outcome.$is("NotFound")(o) // true
 * ```
 *
 * @since 0.1.0
 */
export const Outcome = taggedUnion({
  Succeeded: {},
  Failed: { error: Schema.Unknown },
  Crashed: { message: Schema.String },
  PolicyDenied: { reason: Schema.String, match: Schema.optional(ToolPolicy.Match) },
  ApprovalDenied: { reason: Schema.String, decidedBy: DecidedBy, stop: Schema.Boolean },
  NotFound: { available: Schema.Array(Schema.String) },
  InvalidParams: { message: Schema.String },
  Cancelled: { phase: CancelPhase }
})

/**
 * @since 0.1.0
 */
export type Outcome = typeof Outcome.Type


/**
 * The result of one tool call. `result` is what the model reads: the tool's
 * encoded success or failure when it ran, a plain sentence giving the reason
 * when it did not.
 *
 * @example
 * ```ts
 * import type { ToolResult } from "toolgate"
 * const failed = (r: ToolResult.ToolResult) => r.isFailure && r.outcome._tag !== "Failed"
 * ```
 *
 * @since 0.1.0
 */
export const ToolResult = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  isFailure: Schema.Boolean,
  result: Schema.Unknown,
  outcome: Outcome,
  /** What the tool's `toModelOutput` made of a successful result, if it has one. */
  modelOutput: Schema.optional(Schema.Array(Prompt.ToolModelOutputPart))
})

/** @since 0.1.0 */
export type ToolResult = typeof ToolResult.Type

/**
 * A result for a call that did not run. `isFailure` is true and `result` is
 * what the model reads: for a denial effect/ai's own shape
 * `{ type: "execution-denied", reason }`, for a cancellation
 * `{ type: "execution-interrupted", reason }`, otherwise the sentence from
 * {@link explain}.
 *
 * @example
 * ```ts
 * import { ToolResult } from "toolgate"
 * const r = ToolResult.notRun({ id: "1", name: "Write" }, ToolResult.Outcome.Cancelled({ phase: "queued" }))
 * r.result // { type: "execution-interrupted", reason: "Tool call Write was cancelled before it started." }
 * ```
 *
 * @since 0.1.0
 */
export const notRun = (call: { readonly id: string; readonly name: string }, outcome: Outcome): ToolResult => {
  const reason = explain(call.name, outcome)
  return {
    id: call.id,
    name: call.name,
    isFailure: true,
    result: outcome._tag === "PolicyDenied" || outcome._tag === "ApprovalDenied"
      ? { type: "execution-denied", reason }
      : outcome._tag === "Cancelled"
      ? { type: "execution-interrupted", reason }
      : reason,
    outcome
  }
}

/**
 * The sentence the model reads for an outcome.
 *
 * @example
 * ```ts
 * import { ToolResult } from "toolgate"
 * ToolResult.explain("Bash", ToolResult.Outcome.PolicyDenied({ reason: "rm is not allowed" }))
 * // "Tool call Bash was denied by policy: rm is not allowed"
 * ```
 *
 * @since 0.1.0
 */
export const explain = (name: string, outcome: Outcome): string =>
  Outcome.$match(outcome, {
    Succeeded: () => `Tool call ${name} succeeded.`,
    Failed: () => `Tool call ${name} failed.`,
    Crashed: ({ message }) => `Tool call ${name} crashed: ${message}`,
    PolicyDenied: ({ reason }) => `Tool call ${name} was denied by policy: ${reason}`,
    ApprovalDenied: ({ reason }) => `Tool call ${name} was denied by the user: ${reason}`,
    NotFound: ({ available }) =>
      `There is no tool named ${JSON.stringify(name)}. Available tools: ${
        available.length === 0 ? "none" : available.join(", ")
      }.`,
    InvalidParams: ({ message }) => `Invalid parameters for tool ${name}: ${message}`,
    Cancelled: ({ phase }) =>
      phase === "running"
        ? `Tool call ${name} was cancelled while it ran; it may have partly completed.`
        : `Tool call ${name} was cancelled before it started.`
  })

/**
 * Converts a result into effect/ai's `Prompt.ToolResultPart`, ready to be
 * appended to the conversation.
 *
 * @example
 * ```ts
 * import { Prompt } from "effect/ai"
 * import { ToolResult } from "toolgate"
 * declare const results: ReadonlyArray<ToolResult.ToolResult>
 * const message = Prompt.makeMessage("tool", { content: results.map(ToolResult.toPart) })
 * ```
 *
 * @since 0.1.0
 */
export const toPart = (result: ToolResult): Prompt.ToolResultPart =>
  Prompt.toolResultPart({
    id: result.id,
    name: result.name,
    isFailure: result.isFailure,
    result: result.result,
    providerExecuted: false,
    ...(result.modelOutput !== undefined ? { modelOutput: result.modelOutput } : {})
  })
