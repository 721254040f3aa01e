/**
 * A whole agent run as a durable workflow: each model turn and each tool
 * call is an `effect/workflow` Activity, recorded in the store when it
 * ends. A run killed at any point and started again (the same run id)
 * replays what was recorded — the model is not asked again for a turn it
 * answered, and a call that ended is not run again — and continues from the
 * first step that had not ended.
 *
 * A tool call that had started but not recorded its end may have run, or
 * half run. It is **not re-run silently**: the approver is asked again,
 * with a request whose `reason` says the call may already have run (a
 * denial is the call's result). Handlers read {@link CurrentCall} for the
 * call id, the idempotency key to give whatever they change.
 *
 * Each call of a model turn is its own step, run by toolgate's executor
 * (policy, approval, timeouts, result encoding as in `Agent.run`) one call
 * at a time, in the model's order: a batch's read-only calls do not run
 * concurrently as they do in `Agent.run`.
 *
 * Approvals: put `DurableApproval.layer({ runId })` under this layer and
 * the waiting request is a row any process can answer; a restart re-asks
 * the same call id and finds the same request, answered or not.
 *
 * @since 0.3.0
 */
import { Context, Effect, Layer, Schema } from "effect"
import { type AiError, LanguageModel, Prompt, type Response, type Toolkit } from "effect/ai"
import { Activity, Workflow, WorkflowEngine } from "effect/workflow"
import * as Approval from "../Approval.ts"
import { decidedByOf } from "../internal/vouched.ts"
import * as Executor from "../Executor.ts"
import * as ToolCall from "../ToolCall.ts"
import * as ToolResult from "../ToolResult.ts"
import type * as DurableEngine from "./DurableEngine.ts"
import * as Store from "./internal/store.ts"

/**
 * The call a handler is running inside a durable run: `idempotencyKey`
 * (`RUN/CALL`) is the same on every attempt of the call, so a handler can
 * make a second attempt a no-op; `mayHaveRun` is true on an attempt after
 * one that started and did not record its end (the approver allowed it to
 * run again).
 *
 * @since 0.3.0
 */
export interface Call {
  readonly runId: string
  readonly callId: string
  readonly idempotencyKey: string
  readonly mayHaveRun: boolean
}

/**
 * The durable call in progress, for handlers; `undefined` outside a
 * durable run.
 *
 * @since 0.3.0
 */
export const CurrentCall = Context.Reference<Call | undefined>("toolgate/durable/DurableAgent/CurrentCall", {
  defaultValue: () => undefined
})

/**
 * Why a durable run ended.
 *
 * @since 0.3.0
 */
export const StopReason = Schema.Literals(["Completed", "StoppedByApprover", "MaxTurns"])

/** @since 0.3.0 */
export type StopReason = typeof StopReason.Type

/**
 * What a durable run returns (its messages are in the store, step by step).
 *
 * @since 0.3.0
 */
export const Result = Schema.Struct({
  text: Schema.String,
  stopReason: StopReason,
  turns: Schema.Number
})

/** @since 0.3.0 */
export type Result = typeof Result.Type

/**
 * The model failed; the run can be started again with the same id and
 * continues from the turn that failed.
 *
 * @since 0.3.0
 */
export class ModelFailed extends Schema.TaggedError<ModelFailed>()("ModelFailed", {
  turn: Schema.Number,
  message: Schema.String
}) {}

/**
 * The run workflow, one execution per run id.
 *
 * @since 0.3.0
 */
export const AgentWorkflow = Workflow.make("toolgate/AgentRun", {
  payload: { runId: Schema.String, prompt: Schema.String },
  success: Result,
  error: ModelFailed,
  idempotencyKey: ({ runId }) => runId
})

// One model turn as recorded: the assistant's messages (which carry the
// call ids, so a replay sees the same ids) and the text.
const Turn = Schema.Struct({
  messages: Schema.Array(Prompt.Message),
  calls: Schema.Array(ToolCall.ToolCall),
  text: Schema.String
})

const callsOf = (parts: ReadonlyArray<Response.AnyPart>): Array<ToolCall.ToolCall> =>
  parts.flatMap((part) =>
    part.type === "tool-call" && part.providerExecuted !== true ? [{ id: part.id, name: part.name, params: part.params }] : []
  )

// The same request Agent.run sends (its helper is private to Agent.ts): the
// gate answers unknown tools and bad params, so the model's own tool-call
// resolution and strict validation are off.
const askModel = (prompt: Prompt.Prompt, toolkit: Toolkit.WithHandler<any>) =>
  Effect.flatMap(LanguageModel.LanguageModel, (model) =>
    Effect.map(
      (model as unknown as {
        generateText: (o: object) => Effect.Effect<LanguageModel.GenerateTextResponse<any, any>, AiError.AiError>
      }).generateText({ prompt, toolkit, disableToolCallResolution: true, toolCallValidation: "deferred" }),
      (response) => ({ messages: Prompt.fromResponseParts(response.content).content, calls: callsOf(response.content), text: response.text })
    ))

const againReason = "This call started before the run was interrupted and did not record its end: it may already have run, " +
  "in whole or in part. Allow it to run again?"

/**
 * Options of {@link layer}.
 *
 * @since 0.3.0
 */
export interface Options<K extends Executor.AnyToolkit> {
  readonly toolkit: K
  readonly system?: string | undefined
  readonly maxTurns?: number | undefined
}

/**
 * Registers the run workflow on the engine: its body asks the model and
 * runs the calls with what this layer is given (the `LanguageModel`, the
 * toolkit's handlers, an `Approval` layer, a policy).
 *
 * @since 0.3.0
 */
export const layer = <K extends Executor.AnyToolkit>(
  options: Options<K>
): Layer.Layer<never, never, DurableEngine.Services | LanguageModel.LanguageModel | Executor.Requirements<K>> =>
  AgentWorkflow.toLayer(({ prompt, runId }) =>
    Effect.gen(function*() {
      const store = yield* Store.Store
      const kit = ("handle" in options.toolkit ? options.toolkit : yield* (options.toolkit as Toolkit.Toolkit<any>)) as Toolkit.WithHandler<any>
      const maxTurns = options.maxTurns ?? 25
      const messages: Array<Prompt.Message> = [...Prompt.make(prompt).content]
      for (let turn = 1; turn <= maxTurns; turn++) {
        const base = Prompt.fromMessages(messages)
        const request = options.system === undefined ? base : Prompt.setSystem(base, options.system)
        const answer = yield* Activity.make({
          name: `model/${turn}`,
          success: Turn,
          error: ModelFailed,
          execute: Effect.mapError(askModel(request, kit), (e) => new ModelFailed({ turn, message: e.message }))
        })
        messages.push(...answer.messages)
        if (answer.calls.length === 0) return { text: answer.text, stopReason: "Completed" as const, turns: turn }
        const results: Array<ToolResult.ToolResult> = []
        for (const call of answer.calls) {
          results.push(yield* Activity.make({
            name: `tool/${call.id}`,
            success: ToolResult.ToolResult,
            execute: runCall(options.toolkit, runId, call, store)
          }))
        }
        messages.push(Prompt.toolMessage({ content: results.map(ToolResult.toPart) }))
        if (results.some((r) => r.outcome._tag === "ApprovalDenied" && r.outcome.stop)) {
          return { text: answer.text, stopReason: "StoppedByApprover" as const, turns: turn }
        }
      }
      return { text: "", stopReason: "MaxTurns" as const, turns: maxTurns }
    })
  ) as unknown as Layer.Layer<never, never, DurableEngine.Services | LanguageModel.LanguageModel | Executor.Requirements<K>>

/**
 * One call, as one attempt of its Activity:
 *
 * 1. record that an attempt began; if one had begun before (and, being
 *    asked again, did not record its end) and its approval is not still
 *    pending, the call may have run: ask the approver again, saying so;
 * 2. run it through the executor, as a batch of one, with the call in
 *    {@link CurrentCall}.
 *
 * The executor runs without the workflow instance in its context: an
 * approval then waits as a workflow of its own (DurableApproval's), not as
 * a suspension of this run — the executor would record a suspension as
 * `Cancelled` (see docs/durable.md).
 */
const runCall = (toolkit: Executor.AnyToolkit, runId: string, call: ToolCall.ToolCall, store: Store.Store["Service"]) =>
  Effect.gen(function*() {
    const first = yield* store.beginCall(runId, call.id)
    const approvalRow = yield* store.get(`${runId}/${call.id}`)
    const mayHaveRun = !first && approvalRow?.status !== "pending"
    if (mayHaveRun) {
      const handler = yield* Approval.ApprovalHandler
      // who decided as the executor records it: a building block's own
      // decision (a timeout, say) keeps its name, a failed handler is a fault
      const raw = yield* handler.approve({
        call: { ...call, id: `${call.id}.again` },
        input: call.params,
        toolClass: "Mutating",
        reason: againReason,
        origin: { depth: 0, parents: [] }
      }).pipe(Effect.catchCause(() => Effect.succeed(undefined)))
      const decision = raw === undefined
        ? Approval.ApprovalDecision.Deny({ reason: "the approval handler failed, so the call was denied to be safe" })
        : Approval.check(raw)
      if (decision._tag === "Deny") {
        const checkedBy = decidedByOf(decision)
        return ToolResult.notRun(call, {
          _tag: "ApprovalDenied",
          reason: decision.reason,
          decidedBy: raw === undefined ? "fault" : checkedBy === "fault" ? "fault" : decidedByOf(raw),
          stop: decision.stop ?? false
        })
      }
    }
    const [result] = yield* Executor.executeBatch(toolkit, [call]).pipe(
      Effect.provideService(CurrentCall, { runId, callId: call.id, idempotencyKey: `${runId}/${call.id}`, mayHaveRun }),
      Effect.updateContext((context: Context.Context<any>) => Context.omit(WorkflowEngine.WorkflowInstance)(context) as Context.Context<any>)
    ) as Effect.Effect<ReadonlyArray<ToolResult.ToolResult>>
    return result!
  }).pipe(Effect.orDie)

/**
 * Runs (or resumes) the durable run `runId`. The prompt is only read the
 * first time: a run that exists continues where it stopped.
 *
 * @example
 * ```ts
 * import { DurableAgent } from "toolgate/durable"
 * const result = DurableAgent.run({ runId: "nightly-42", prompt: "Tidy the changelog" })
 * ```
 *
 * @since 0.3.0
 */
export const run = (options: { readonly runId: string; readonly prompt: string }): Effect.Effect<Result, ModelFailed, WorkflowEngine.WorkflowEngine> =>
  AgentWorkflow.execute({ runId: options.runId, prompt: options.prompt })
