/**
 * The agent loop: ask the model, run its tool calls through the gate, hand
 * it the results, until it answers without calling a tool.
 *
 * `run` is stateless: the caller owns the conversation, passes what came
 * before, and gets back the messages the run added, the final text, the
 * summed usage and why it stopped. Each turn is one model request with tool
 * call resolution disabled (effect/ai never runs a tool itself) and one
 * `Executor.executeBatch`, so every call passes policy and approval. The
 * history stays valid whatever happens: when a run is interrupted, a
 * finalizer that cannot itself be interrupted answers every call of the last
 * assistant message that has no result, with its real result if it finished
 * and `Cancelled` otherwise.
 *
 * `stream` is the same loop as a `Stream` of events for a UI, and `subAgent`
 * makes a recursive tool whose handler runs a nested `run` under the
 * parent's policy, approver and pools.
 *
 * @since 0.1.0
 */
import { Data, Effect, Layer, Queue, Ref, Schema, Stream } from "effect"
import { type AiError, LanguageModel, Prompt, Response, Tool, Toolkit } from "effect/ai"
import * as Executor from "./Executor.ts"
import * as CallBatch from "./internal/executor/state.ts"
import { canonicalJson } from "./internal/canonicalJson.ts"
import { CurrentEventObserver, type EventObserver } from "./internal/eventObserver.ts"
import * as ToolCall from "./ToolCall.ts"
import * as ToolClass from "./ToolClass.ts"
import type { ToolEvent } from "./ToolEvents.ts"
import { toPart, type ToolResult } from "./ToolResult.ts"

// -----------------------------------------------------------------------------
// Models
// -----------------------------------------------------------------------------

/**
 * Why a run ended.
 *
 * - `Completed`: the model answered without calling a tool.
 * - `StoppedByApprover`: an approver denied `call` and asked to stop the run
 *   (`Deny({ stop: true })`); the batch's results are in the history.
 * - `RepeatedDenial`: the model kept issuing the same denied call (same tool,
 *   same params) — `count` denials of it in this run — so the run stopped
 *   rather than loop.
 *
 * @example
 * ```ts
 * import { Agent } from "toolgate"
 * const describe = (reason: Agent.StopReason) =>
 *   Agent.StopReason.$match(reason, {
 *     Completed: () => "done",
 *     StoppedByApprover: ({ reason }) => `stopped: ${reason}`,
 *     RepeatedDenial: ({ call, count }) => `${call.name} denied ${count} times`
 *   })
 * ```
 *
 * @since 0.1.0
 */
export type StopReason = Data.TaggedEnum<{
  Completed: {}
  StoppedByApprover: { readonly reason: string; readonly call: ToolCall.ToolCall }
  RepeatedDenial: { readonly call: ToolCall.ToolCall; readonly count: number; readonly reason: string }
}>

/**
 * Constructors and matchers for {@link StopReason}.
 *
 * @example
 * ```ts
 * import { Agent } from "toolgate"
 * Agent.StopReason.$is("Completed")(Agent.StopReason.Completed()) // true
 * ```
 *
 * @since 0.1.0
 */
export const StopReason = Data.taggedEnum<StopReason>()

/**
 * The model was still calling tools after `maxTurns` turns. `messages` are
 * the messages the run added, every tool call answered, so the caller can
 * keep them and continue (with a higher limit, or a nudge to wrap up).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Agent } from "toolgate"
 * declare const run: Effect.Effect<Agent.Result, Agent.MaxTurnsExceeded>
 * const kept = run.pipe(Effect.catchTag("MaxTurnsExceeded", (e) => Effect.succeed(e.messages)))
 * ```
 *
 * @since 0.1.0
 */
export class MaxTurnsExceeded extends Schema.TaggedError<MaxTurnsExceeded>()("MaxTurnsExceeded", {
  maxTurns: Schema.Number,
  messages: Schema.Array(Prompt.Message)
}) {
  override get message(): string {
    return `The agent was still calling tools after ${this.maxTurns} turns. ` +
      `Its ${this.messages.length} messages so far are on this error; raise maxTurns or continue from them.`
  }
}

/**
 * A sub-agent could not answer: it ran out of turns, its model failed, it
 * was nested too deep, or it was stopped. The parent model reads `reason`.
 *
 * @example
 * ```ts
 * import { Agent } from "toolgate"
 * const e = new Agent.SubAgentFailed({ reason: "too deep" })
 * ```
 *
 * @since 0.1.0
 */
export class SubAgentFailed extends Schema.TaggedError<SubAgentFailed>()("SubAgentFailed", {
  reason: Schema.String
}) {}

/**
 * What a run returns: the messages it added (the new user prompt first, then
 * assistant and tool messages), the text of the model's last turn, the usage
 * summed over its turns, why it stopped, and how many model turns it took.
 *
 * @example
 * ```ts
 * import type { Prompt } from "effect/ai"
 * import type { Agent } from "toolgate"
 * const next = (history: ReadonlyArray<Prompt.Message>, result: Agent.Result) => [...history, ...result.messages]
 * ```
 *
 * @since 0.1.0
 */
export interface Result {
  readonly messages: ReadonlyArray<Prompt.Message>
  readonly text: string
  readonly usage: Response.Usage
  readonly stopReason: StopReason
  readonly turns: number
}

/**
 * Options of {@link run} and {@link stream}.
 *
 * - `toolkit`: an effect/ai `Toolkit` (handlers provided as usual) or the
 *   `WithHandler` obtained by yielding one.
 * - `prompt`: the new input (a string is one user message); optional when
 *   the history already ends where the model should continue.
 * - `history`: the conversation so far. An array is read; a `Ref` is read
 *   and also updated as the run goes, message by message — the handle that
 *   stays valid if the run is interrupted.
 * - `system`: a system prompt, sent with every request, never stored in the
 *   history (a `system` message in the history is replaced by it).
 * - `maxTurns`: model requests allowed (default 25).
 * - `maxRepeatedDenials`: how many times the same call may be denied before
 *   the run stops (default 3).
 *
 * @example
 * ```ts
 * import { Ref } from "effect"
 * import type { Prompt } from "effect/ai"
 * import type { Agent } from "toolgate"
 * declare const toolkit: import("effect/ai").Toolkit.Toolkit<{}>
 * const history = Ref.makeUnsafe<ReadonlyArray<Prompt.Message>>([])
 * const options: Agent.RunOptions<typeof toolkit> = { toolkit, prompt: "hi", history, maxTurns: 5 }
 * ```
 *
 * @since 0.1.0
 */
export interface RunOptions<K extends Executor.AnyToolkit> {
  readonly toolkit: K
  readonly prompt?: Prompt.RawInput | undefined
  readonly history?: ReadonlyArray<Prompt.Message> | Ref.Ref<ReadonlyArray<Prompt.Message>> | undefined
  readonly system?: string | undefined
  readonly maxTurns?: number | undefined
  readonly maxRepeatedDenials?: number | undefined
}

/**
 * The services a run needs: a `LanguageModel` and what the toolkit's
 * handlers need.
 *
 * @example
 * ```ts
 * import type { Agent } from "toolgate"
 * declare const toolkit: import("effect/ai").Toolkit.Toolkit<{}>
 * type Needs = Agent.Requirements<typeof toolkit>
 * ```
 *
 * @since 0.1.0
 */
export type Requirements<K> = LanguageModel.LanguageModel | Executor.Requirements<K>

/**
 * One event of a streamed run.
 *
 * - `TurnStarted`: a model request is about to be sent (turns count from 1).
 * - `TextDelta`: a piece of the model's text, as it arrives.
 * - `Tool`: a stage of a tool call, straight from the executor (pending,
 *   approval requested, decided, started, finished), sub-agents' calls
 *   included (their `origin` says where they come from).
 * - `TurnFinished`: the turn's messages are in the history.
 * - `Done`: the run's result; always the last event of a run that ends.
 *
 * @example
 * ```ts
 * import { Agent } from "toolgate"
 * const line = (e: Agent.AgentEvent) =>
 *   Agent.AgentEvent.$match(e, {
 *     TurnStarted: ({ turn }) => `turn ${turn}`,
 *     TextDelta: ({ delta }) => delta,
 *     Tool: ({ event }) => event._tag,
 *     TurnFinished: ({ turn }) => `end of turn ${turn}`,
 *     Done: ({ result }) => result.stopReason._tag
 *   })
 * ```
 *
 * @since 0.1.0
 */
export type AgentEvent = Data.TaggedEnum<{
  TurnStarted: { readonly turn: number }
  TextDelta: { readonly turn: number; readonly delta: string }
  Tool: { readonly event: ToolEvent }
  TurnFinished: { readonly turn: number; readonly messages: ReadonlyArray<Prompt.Message> }
  Done: { readonly result: Result }
}>

/**
 * Constructors and matchers for {@link AgentEvent}.
 *
 * @example
 * ```ts
 * import { Agent } from "toolgate"
 * const isText = Agent.AgentEvent.$is("TextDelta")
 * ```
 *
 * @since 0.1.0
 */
export const AgentEvent = Data.taggedEnum<AgentEvent>()

/**
 * The defaults of {@link RunOptions}.
 *
 * @example
 * ```ts
 * import { Agent } from "toolgate"
 * Agent.defaults.maxTurns // 25
 * ```
 *
 * @since 0.1.0
 */
export const defaults = { maxTurns: 25, maxRepeatedDenials: 3 } as const

// -----------------------------------------------------------------------------
// The loop
// -----------------------------------------------------------------------------

interface Hooks {
  readonly emit: ((event: AgentEvent) => Effect.Effect<void>) | undefined
  /** Sees the executor's events, nested runs' included (`stream` only). */
  readonly observe: EventObserver | undefined
}

interface ModelTurn {
  readonly messages: ReadonlyArray<Prompt.Message>
  readonly calls: ReadonlyArray<ToolCall.ToolCall>
  readonly text: string
  readonly usage: Response.Usage | undefined
}

// The loose model signature the loop calls: toolkits arrive typed by the
// caller, and effect/ai's overloads cannot follow a generic toolkit.
interface LooseModel {
  readonly generateText: (options: object) => Effect.Effect<LanguageModel.GenerateTextResponse<any, any>, AiError.AiError>
  readonly streamText: (options: object) => Stream.Stream<Response.AnyPart, AiError.AiError>
}

type AnyKit = Toolkit.WithHandler<any>

const isToolkit = (toolkit: Executor.AnyToolkit): toolkit is Toolkit.Toolkit<any> => !("handle" in toolkit)

const addUsage = (a: number | undefined, b: number | undefined) =>
  a === undefined ? b : b === undefined ? a : a + b

const sumUsage = (all: ReadonlyArray<Response.Usage>): Response.Usage =>
  new Response.Usage({
    inputTokens: {
      uncached: all.reduce<number | undefined>((n, u) => addUsage(n, u.inputTokens.uncached), undefined),
      total: all.reduce<number | undefined>((n, u) => addUsage(n, u.inputTokens.total), undefined),
      cacheRead: all.reduce<number | undefined>((n, u) => addUsage(n, u.inputTokens.cacheRead), undefined),
      cacheWrite: all.reduce<number | undefined>((n, u) => addUsage(n, u.inputTokens.cacheWrite), undefined)
    },
    outputTokens: {
      total: all.reduce<number | undefined>((n, u) => addUsage(n, u.outputTokens.total), undefined),
      text: all.reduce<number | undefined>((n, u) => addUsage(n, u.outputTokens.text), undefined),
      reasoning: all.reduce<number | undefined>((n, u) => addUsage(n, u.outputTokens.reasoning), undefined)
    }
  })

const callsOf = (parts: ReadonlyArray<Response.AnyPart>): Array<ToolCall.ToolCall> =>
  parts.flatMap((part) =>
    part.type === "tool-call" && part.providerExecuted !== true ? [{ id: part.id, name: part.name, params: part.params }] : []
  )

const requestOptions = (prompt: Prompt.Prompt, toolkit: AnyKit) => ({
  prompt,
  toolkit,
  disableToolCallResolution: true,
  // The gate answers unknown tools and bad params with results the model
  // reads; strict validation would fail the whole request instead.
  toolCallValidation: "deferred"
})

const askModel = (model: LooseModel, prompt: Prompt.Prompt, toolkit: AnyKit): Effect.Effect<ModelTurn, AiError.AiError> =>
  Effect.map(model.generateText(requestOptions(prompt, toolkit)), (response) => ({
    messages: Prompt.fromResponseParts(response.content).content,
    calls: callsOf(response.content),
    text: response.text,
    usage: response.content.some((part) => part.type === "finish") ? response.usage : undefined
  }))

const streamModel = (
  model: LooseModel,
  prompt: Prompt.Prompt,
  toolkit: AnyKit,
  turn: number,
  emit: (event: AgentEvent) => Effect.Effect<void>
): Effect.Effect<ModelTurn, AiError.AiError> =>
  Effect.suspend(() => {
    const parts: Array<Response.AnyPart> = []
    let text = ""
    return model.streamText(requestOptions(prompt, toolkit)).pipe(
      Stream.runForEach((part) => {
        parts.push(part)
        if (part.type !== "text-delta") return Effect.void
        text += part.delta
        return emit(AgentEvent.TextDelta({ turn, delta: part.delta }))
      }),
      Effect.map((): ModelTurn => {
        const finish = parts.find((part) => part.type === "finish")
        return {
          messages: Prompt.fromResponseParts(parts).content,
          calls: callsOf(parts),
          text,
          usage: finish?.type === "finish" ? finish.usage : undefined
        }
      })
    )
  })

/**
 * Runs one batch, its calls recorded in `batch` (what the interruption
 * finalizer reads: which calls finished, how far the others got) and its
 * events handed to the UI, when there is one, as they happen. Events flow
 * through a plain callback rather than a PubSub: the stream's queue is
 * unbounded, so the gate never waits for a slow UI. A `ToolEvents` PubSub in
 * context is fed by the executor itself.
 */
const executeTracked = (
  toolkit: Executor.AnyToolkit,
  batch: CallBatch.Batch,
  hooks: Hooks
): Effect.Effect<ReadonlyArray<ToolResult>> => {
  const run = Executor.executeTracked(toolkit, batch) as Effect.Effect<ReadonlyArray<ToolResult>>
  return hooks.observe === undefined ? run : Effect.provideService(run, CurrentEventObserver, hooks.observe)
}

/**
 * The messages a run adds, kept in step with the caller's `Ref` (when the
 * history is one), and the batch in flight, which an interruption must
 * answer: every call of it gets a result, its real one if it finished and
 * `Cancelled` in the phase it reached otherwise, read from the executor's
 * record of the batch.
 */
const makeLedger = (handle: Ref.Ref<ReadonlyArray<Prompt.Message>> | undefined) => {
  const added: Array<Prompt.Message> = []
  let inFlight: CallBatch.Batch | undefined

  // The local list and the handle change together or not at all.
  const append = (messages: ReadonlyArray<Prompt.Message>) =>
    Effect.uninterruptible(Effect.suspend(() => {
      if (messages.length === 0) return Effect.void
      added.push(...messages)
      return handle === undefined ? Effect.void : Ref.update(handle, (all) => [...all, ...messages])
    }))

  // Runs uninterruptibly (onInterrupt finalizers do).
  const answerInFlight = Effect.suspend(() => {
    const batch = inFlight
    inFlight = undefined
    if (batch === undefined) return Effect.void
    return append([Prompt.toolMessage({ content: CallBatch.answer(batch).map(toPart) })])
  })

  const runTools = (toolkit: Executor.AnyToolkit, calls: ReadonlyArray<ToolCall.ToolCall>, hooks: Hooks) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function*() {
        const batch = CallBatch.makeBatch(calls)
        inFlight = batch
        const results = yield* restore(executeTracked(toolkit, batch, hooks))
        // Still masked: the results reach the history before anything
        // else can interrupt, so the finalizer never answers twice.
        inFlight = undefined
        yield* append([Prompt.toolMessage({ content: results.map(toPart) })])
        return results
      })
    )

  return { added, append, answerInFlight, runTools }
}

const runLoop = <K extends Executor.AnyToolkit>(options: RunOptions<K>, hooks: Hooks) =>
  Effect.gen(function*() {
    const maxTurns = options.maxTurns ?? defaults.maxTurns
    const maxDenials = options.maxRepeatedDenials ?? defaults.maxRepeatedDenials
    const model = (yield* LanguageModel.LanguageModel) as unknown as LooseModel
    const kit = (isToolkit(options.toolkit) ? yield* options.toolkit : options.toolkit) as AnyKit
    const handle = options.history === undefined || Array.isArray(options.history)
      ? undefined
      : options.history as Ref.Ref<ReadonlyArray<Prompt.Message>>
    const prior: ReadonlyArray<Prompt.Message> = handle !== undefined
      ? yield* Ref.get(handle)
      : (options.history as ReadonlyArray<Prompt.Message> | undefined) ?? []

    const ledger = makeLedger(handle)
    const { added, append } = ledger
    const usages: Array<Response.Usage> = []
    const denials = new Map<string, number>()

    const result = (text: string, stopReason: StopReason, turns: number): Result => ({
      messages: added,
      text,
      usage: sumUsage(usages),
      stopReason,
      turns
    })

    const loop = Effect.gen(function*() {
      if (options.prompt !== undefined) yield* append(Prompt.make(options.prompt).content)
      for (let turn = 1;; turn++) {
        if (turn > maxTurns) return yield* new MaxTurnsExceeded({ maxTurns, messages: [...added] })
        if (hooks.emit !== undefined) yield* hooks.emit(AgentEvent.TurnStarted({ turn }))
        const base = Prompt.fromMessages([...prior, ...added])
        const prompt = options.system === undefined ? base : Prompt.setSystem(base, options.system)
        const answer = hooks.emit === undefined
          ? yield* askModel(model, prompt, kit)
          : yield* streamModel(model, prompt, kit, turn, hooks.emit)
        if (answer.usage !== undefined) usages.push(answer.usage)
        const before = added.length
        yield* append(answer.messages)

        let stopReason: StopReason | undefined
        if (answer.calls.length === 0) {
          stopReason = StopReason.Completed()
        } else {
          // The executor takes the Toolkit itself, so that it can call the
          // handlers directly; the model only needs the tools' schemas.
          const results = yield* ledger.runTools(options.toolkit, answer.calls, hooks)
          stopReason = stopFor(answer.calls, results, denials, maxDenials)
        }
        if (hooks.emit !== undefined) {
          yield* hooks.emit(AgentEvent.TurnFinished({ turn, messages: added.slice(before) }))
        }
        yield* Effect.annotateCurrentSpan("toolgate.turns", turn)
        if (stopReason !== undefined) return result(answer.text, stopReason, turn)
      }
    })
    return yield* loop.pipe(Effect.onInterrupt(() => ledger.answerInFlight))
  })

/** Whether the batch's results end the run: an approver's stop first, then the repeat guard. */
const stopFor = (
  calls: ReadonlyArray<ToolCall.ToolCall>,
  results: ReadonlyArray<ToolResult>,
  denials: Map<string, number>,
  maxDenials: number
): StopReason | undefined => {
  for (const [i, r] of results.entries()) {
    if (r.outcome._tag === "ApprovalDenied" && r.outcome.stop) {
      return StopReason.StoppedByApprover({ reason: r.outcome.reason, call: calls[i]! })
    }
  }
  let repeated: StopReason | undefined
  for (const [i, r] of results.entries()) {
    if (r.outcome._tag !== "PolicyDenied" && r.outcome._tag !== "ApprovalDenied") continue
    const call = calls[i]!
    const key = `${call.name}\u0000${canonicalJson(call.params) ?? call.id}`
    const count = (denials.get(key) ?? 0) + 1
    denials.set(key, count)
    if (repeated === undefined && count >= maxDenials) {
      repeated = StopReason.RepeatedDenial({ call, count, reason: r.outcome.reason })
    }
  }
  return repeated
}

const runTraced = Effect.fn("toolgate.Agent.run")(
  (options: RunOptions<Executor.AnyToolkit>, hooks: Hooks) => runLoop(options, hooks)
)

/**
 * Runs the agent loop until the model answers without calling a tool, an
 * approver stops the run, the same denied call comes back too often, or
 * `maxTurns` is reached (a {@link MaxTurnsExceeded} error carrying the
 * messages so far). Model failures are the model's `AiError`.
 *
 * Interrupting the run is safe for the history: with a `Ref` as `history`,
 * every tool call in it has exactly one result afterwards.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Tool, Toolkit } from "effect/ai"
 * import { Agent } from "toolgate"
import { ScriptedModel } from "toolgate/testing"
 *
 * const Read = Tool.make("Read", { parameters: Schema.Struct({ file_path: Schema.String }), success: Schema.String })
 *   .annotate(Tool.Readonly, true)
 * const toolkit = Toolkit.make(Read)
 *
 * const program = Agent.run({ prompt: "What is in a.txt?", toolkit }).pipe(
 *   Effect.provide(toolkit.toLayer({ Read: ({ file_path }) => Effect.succeed(`contents of ${file_path}`) })),
 *   Effect.provide(ScriptedModel.layer({
 *     turns: [{ toolCalls: [{ name: "Read", params: { file_path: "a.txt" } }] }, { text: "It says hello." }]
 *   }))
 * )
 * // { text: "It says hello.", stopReason: Completed, messages: [user, assistant, tool, assistant], ... }
 * ```
 *
 * @since 0.1.0
 */
export const run = <K extends Executor.AnyToolkit>(
  options: RunOptions<K>
): Effect.Effect<Result, MaxTurnsExceeded | AiError.AiError, Requirements<K>> =>
  runTraced(options, { emit: undefined, observe: undefined }) as Effect.Effect<Result, MaxTurnsExceeded | AiError.AiError, Requirements<K>>

/**
 * The agent loop as a stream of {@link AgentEvent}s: text as the model
 * streams it (`LanguageModel.streamText`), every stage of every tool call
 * (a UI shows "waiting for approval" before anything runs), turn
 * boundaries, and finally `Done` with the result. Fails as {@link run} does.
 * Stopping the stream early interrupts the run, with the same guarantee for
 * the history.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Agent } from "toolgate"
 * declare const toolkit: import("effect/ai").Toolkit.Toolkit<{}>
 * const printed = Agent.stream({ prompt: "hi", toolkit }).pipe(
 *   Stream.runForEach((event) =>
 *     event._tag === "TextDelta" ? Effect.sync(() => process.stdout.write(event.delta)) : Effect.void
 *   )
 * )
 * ```
 *
 * @since 0.1.0
 */
export const stream = <K extends Executor.AnyToolkit>(
  options: RunOptions<K>
): Stream.Stream<AgentEvent, MaxTurnsExceeded | AiError.AiError, Requirements<K>> =>
  Stream.callback<AgentEvent, MaxTurnsExceeded | AiError.AiError, Requirements<K>>(
    (queue) =>
      runTraced(options, {
        emit: (event) => Effect.asVoid(Queue.offer(queue, event)),
        // the queue is unbounded: offering never waits and never drops
        observe: (event) => void Queue.offerUnsafe(queue, AgentEvent.Tool({ event }))
      }).pipe(
        Effect.flatMap((result) => Queue.offer(queue, AgentEvent.Done({ result }))),
        Effect.andThen(Queue.end(queue))
      ) as Effect.Effect<void, MaxTurnsExceeded | AiError.AiError, Requirements<K>>,
    { bufferSize: Number.POSITIVE_INFINITY }
  )

// -----------------------------------------------------------------------------
// Sub-agents
// -----------------------------------------------------------------------------

/**
 * Parameters of a sub-agent tool: the task, in the parent model's words.
 *
 * @example
 * ```ts
 * import { Agent } from "toolgate"
 * const params: typeof Agent.SubAgentParams.Type = { prompt: "Find every TODO under src/" }
 * ```
 *
 * @since 0.1.0
 */
export const SubAgentParams = Schema.Struct({ prompt: Schema.String })

/**
 * Makes a sub-agent: a recursive tool whose handler runs a nested {@link run}
 * with `toolkit` and answers with the nested run's final text. Merge `tool`
 * into the parent's toolkit and `layer` into its handlers.
 *
 * The nested run inherits everything from the call's context: the model,
 * the policy, the approval handler (its session memory included), the
 * shared pools; the executor hands the handler the next level's forked
 * pools and the child origin. Calls nested deeper than `maxDepth` levels
 * (default 2) fail with {@link SubAgentFailed} without running, as do
 * nested runs that exceed `maxTurns`, fail in the model, or are stopped.
 *
 * `includeSelf: true` gives the sub-agent its own tool too, so it can
 * delegate in turn, down to `maxDepth`.
 *
 * Gotcha: `toolkit`'s handlers are looked up when the sub-agent runs, from
 * the context of the call: provide them with the parent's handlers.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Schema } from "effect"
 * import { Tool, Toolkit } from "effect/ai"
 * import { Agent } from "toolgate"
 *
 * const Read = Tool.make("Read", { parameters: Schema.Struct({ file_path: Schema.String }), success: Schema.String })
 * const base = Toolkit.make(Read)
 * const task = Agent.subAgent({ name: "Task", description: "Delegate a research task", toolkit: base })
 * const toolkit = Toolkit.merge(base, task.toolkit)
 * const handlers = Layer.merge(base.toLayer({ Read: () => Effect.succeed("...") }), task.layer)
 * ```
 *
 * @since 0.1.0
 */
export const subAgent = <const Name extends string, Tools extends Record<string, Tool.Any>>(options: {
  readonly name: Name
  readonly description?: string | undefined
  readonly toolkit: Toolkit.Toolkit<Tools>
  readonly includeSelf?: boolean | undefined
  readonly system?: string | undefined
  readonly maxTurns?: number | undefined
  readonly maxDepth?: number | undefined
}) => {
  const maxDepth = options.maxDepth ?? 2
  const tool = ToolClass.recursive(Tool.make(options.name, {
    description: options.description ?? "Hand a self-contained task to a sub-agent and get back its answer.",
    parameters: SubAgentParams,
    success: Schema.String,
    failure: SubAgentFailed,
    dependencies: [LanguageModel.LanguageModel]
  }))
  const toolkit = Toolkit.make(tool)
  const nestedKit: Toolkit.Any = options.includeSelf === true ? Toolkit.merge(options.toolkit, toolkit) : options.toolkit
  const handler = Effect.fn(`toolgate.Agent.subAgent`)(function*({ prompt }: typeof SubAgentParams.Type) {
    const origin = yield* ToolCall.CurrentOrigin
    yield* Effect.annotateCurrentSpan("toolgate.depth", origin.depth)
    if (origin.depth > maxDepth) {
      return yield* new SubAgentFailed({
        reason: `sub-agents may nest at most ${maxDepth} level${maxDepth === 1 ? "" : "s"} deep; ` +
          `this one would be level ${origin.depth}. Do the task yourself.`
      })
    }
    const result = yield* (run({
      prompt,
      toolkit: nestedKit as Toolkit.Toolkit<any>,
      system: options.system,
      maxTurns: options.maxTurns
    }) as Effect.Effect<Result, MaxTurnsExceeded | AiError.AiError, LanguageModel.LanguageModel>).pipe(
      Effect.catch((error) => Effect.fail(new SubAgentFailed({ reason: error.message })))
    )
    return yield* StopReason.$match(result.stopReason, {
      Completed: () => Effect.succeed(result.text),
      StoppedByApprover: ({ reason }) =>
        Effect.fail(new SubAgentFailed({ reason: `the sub-agent was stopped by the user: ${reason}` })),
      RepeatedDenial: ({ call, count }) =>
        Effect.fail(
          new SubAgentFailed({ reason: `the sub-agent stopped after ${call.name} was denied ${count} times` })
        )
    })
  })
  const layer = toolkit.toLayer({ [options.name]: handler } as never) as Layer.Layer<
    Tool.HandlersFor<{ [N in Name]: typeof tool }>
  >
  return { tool, toolkit, layer } as const
}
