/**
 * Runs a batch of tool calls through the gate: policy, lookup, decoding,
 * admission, approval, execution. Every call yields exactly one
 * `ToolResult`, in the order the model issued the calls.
 *
 * A batch is cut into contiguous runs of one routing class (read, concurrent
 * mutator, serial mutator); runs execute one after another and the calls of
 * a run concurrently, bounded by the `Concurrency` pools. That is the whole
 * ordering guarantee: `[Read A, Write A, Read A]` always sees the write
 * before the second read, while ten reads in a row run side by side. Calls
 * that end before admission (policy-denied, unknown tool, invalid params)
 * have no effects, so they are answered at once and do not split runs.
 *
 * Nothing that happens to a call is an error of the batch: denials, missing
 * tools, bad params, tool failures and tool defects are results the model
 * reads. Cancellation is interruption: interrupting the batch interrupts
 * pending approvals and running tools (their finalizers run) and starts
 * nothing new; {@link Cancellation} cancels one call by id.
 *
 * @since 0.1.0
 */
import { Cause, Context, Deferred, Effect, Layer, Option, PubSub, Schema, Stream } from "effect"
import { Tool, type Toolkit } from "effect/ai"
import * as Approval from "./Approval.ts"
import * as Concurrency from "./Concurrency.ts"
import { describeCause, describeValue } from "./internal/describe.ts"
import * as ToolCall from "./ToolCall.ts"
import * as ToolClass from "./ToolClass.ts"
import { ToolEvent, ToolEvents } from "./ToolEvents.ts"
import * as ToolPolicy from "./ToolPolicy.ts"
import { type CancelPhase, type DecidedBy, notRun, Outcome, type ToolResult } from "./ToolResult.ts"

// -----------------------------------------------------------------------------
// Cancellation
// -----------------------------------------------------------------------------

interface CancellationShape {
  /** Cancels the call with this id: now if it is queued, waiting or running; as soon as it starts otherwise. */
  readonly cancel: (id: string) => Effect.Effect<void>
  /** The signal a call with this id watches. */
  readonly signal: (id: string) => Deferred.Deferred<void>
  /** Forgets the signal of a call that has ended, so a long session does not keep one per call. */
  readonly release: (id: string) => void
  /** How many signals are held: calls running or waiting, and cancels not yet claimed. */
  readonly size: () => number
}

const makeCancellation = (): CancellationShape => {
  // One Deferred per id, created by whichever side comes first: a cancel may
  // arrive before its call has started (it sits in a later run), which a
  // FiberMap of running fibers could not express.
  const signals = new Map<string, Deferred.Deferred<void>>()
  const signal = (id: string) => {
    let found = signals.get(id)
    if (found === undefined) {
      found = Deferred.makeUnsafe<void>()
      signals.set(id, found)
    }
    return found
  }
  return {
    signal,
    cancel: (id) => Effect.asVoid(Deferred.succeed(signal(id), undefined)),
    release: (id) => void signals.delete(id),
    size: () => signals.size
  }
}

/**
 * Per-call cancellation. Provide {@link Cancellation.layer} to the program
 * running batches (and, through context, to their sub-agents), then call
 * `cancel(id)` from anywhere, a UI fiber say: that call ends with a
 * `Cancelled` result and the rest of the batch goes on. Without this service
 * calls can only be cancelled by interrupting their batch.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor } from "toolgate"
 * const cancelSecond = Effect.gen(function*() {
 *   const cancellation = yield* Executor.Cancellation
 *   yield* cancellation.cancel("call_2")
 * }).pipe(Effect.provide(Executor.Cancellation.layer))
 * ```
 *
 * @since 0.1.0
 */
export class Cancellation extends Context.Service<Cancellation, CancellationShape>()("toolgate/Executor/Cancellation") {
  static readonly layer: Layer.Layer<Cancellation> = Layer.sync(Cancellation, makeCancellation)
}

// -----------------------------------------------------------------------------
// Execution
// -----------------------------------------------------------------------------

/**
 * What `executeBatch` needs from its environment: for a `Toolkit`, the
 * handlers of its tools and the services those handlers use; for an already
 * resolved `WithHandler`, only the services.
 *
 * @example
 * ```ts
 * import type { Toolkit } from "effect/ai"
 * import type { Executor } from "toolgate"
 * type Needs<K extends Toolkit.Toolkit<any>> = Executor.Requirements<K>
 * ```
 *
 * @since 0.1.0
 */
export type Requirements<K> = K extends Toolkit.Toolkit<infer Tools>
  ? Tool.HandlersFor<Tools> | Tool.HandlerServices<Tools[keyof Tools]>
  : K extends Toolkit.WithHandler<infer Tools> ? Tool.HandlerServices<Tools[keyof Tools]>
  : never

/**
 * A toolkit as the executor takes it: an effect/ai `Toolkit`, or the
 * `WithHandler` obtained by yielding one (cheaper when running many batches).
 *
 * @example
 * ```ts
 * import type { Executor } from "toolgate"
 * declare const kit: Executor.AnyToolkit
 * ```
 *
 * @since 0.1.0
 */
export type AnyToolkit = Toolkit.Toolkit<any> | Toolkit.WithHandler<any>

// The loose shape the executor works with internally: the public signatures
// keep the toolkit's precise types, and calls arrive by name at run time.
interface AnyKit {
  readonly tools: Readonly<Record<string, Tool.Any>>
  readonly handle: (
    name: string,
    params: unknown,
    toolCallId?: string
  ) => Effect.Effect<Stream.Stream<Tool.HandlerResult<Tool.Any>, unknown, unknown>, unknown, unknown>
}

interface Env {
  readonly policy: ToolPolicy.ToolPolicy
  readonly approval: Approval.ApprovalHandler
  readonly pools: Concurrency.Pools
  readonly origin: ToolCall.Origin
  readonly events: PubSub.PubSub<ToolEvent> | undefined
  readonly cancellation: CancellationShape | undefined
}

interface Ready {
  readonly index: number
  readonly call: ToolCall.ToolCall
  readonly tool: Tool.Any
  readonly toolClass: ToolClass.ToolClass
  readonly route: Concurrency.Route
  readonly params: unknown
  readonly verdict: ToolPolicy.Verdict
}

const publish = (env: Env, event: ToolEvent): Effect.Effect<void> =>
  env.events === undefined ? Effect.void : Effect.asVoid(PubSub.publish(env.events, event))

const decoders = new WeakMap<Tool.Any, (input: unknown) => Effect.Effect<unknown, Schema.SchemaError>>()

const decode = (tool: Tool.Any, input: unknown): Effect.Effect<unknown, Schema.SchemaError> => {
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

// A span per stage without a stack trace. The pipeable `Effect.withSpan(name,
// options)` of effect 4.1 captures `new Error().stack` on every call and
// ignores `captureStackTrace` (it reads the options from the wrong argument);
// that capture cost more than the span itself (bench/gate.bench.ts: ~3.5 µs
// of ~6 µs per span). Only the data-first form honours the option.
const span = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  name: string,
  attributes: Record<string, unknown>
): Effect.Effect<A, E, R> => Effect.withSpan(effect, name, { attributes, captureStackTrace: false })

const decidePolicy = (env: Env, request: ToolPolicy.PolicyRequest): Effect.Effect<ToolPolicy.Verdict> =>
  span(
    // suspended so that a policy throwing instead of returning an effect is
    // a fault that denies, not a defect of the whole batch
    Effect.suspend(() => env.policy.decide(request)).pipe(
      Effect.catchCause((cause) =>
        Effect.succeed(ToolPolicy.Verdict.Deny({
          reason: `the policy failed (${describeCause(cause)}), so the call was denied to be safe`
        }))
      )
    ),
    "toolgate.policy",
    { "toolgate.tool": request.call.name }
  )

const finish = (env: Env, call: ToolCall.ToolCall, result: ToolResult): Effect.Effect<ToolResult> =>
  Effect.as(publish(env, ToolEvent.Finished({ call, result, origin: env.origin })), result)

const decided = (
  env: Env,
  call: ToolCall.ToolCall,
  allowed: boolean,
  decidedBy: DecidedBy,
  reason: string | undefined,
  match: ToolPolicy.Match | undefined
) => publish(env, ToolEvent.Decided({ call, allowed, decidedBy, reason, match, origin: env.origin }))

/** Steps 1–3: policy, lookup, decoding. Either a final result or a call ready for admission. */
const prepare = (env: Env, kit: AnyKit, call: ToolCall.ToolCall, index: number) =>
  Effect.gen(function*() {
    const tool = typeof call.name === "string" && Object.hasOwn(kit.tools, call.name) ? kit.tools[call.name] : undefined
    const toolClass = tool === undefined ? undefined : ToolClass.of(tool)
    yield* publish(env, ToolEvent.Pending({ call, toolClass, origin: env.origin }))

    const verdict = yield* decidePolicy(env, { call, tool, toolClass, origin: env.origin })
    if (verdict._tag === "Deny") {
      yield* decided(env, call, false, "policy", verdict.reason, verdict.match)
      return yield* finish(env, call, notRun(call, Outcome.PolicyDenied({ reason: verdict.reason, match: verdict.match })))
    }
    if (verdict._tag === "Allow") yield* decided(env, call, true, "policy", undefined, verdict.match)

    if (tool === undefined || toolClass === undefined) {
      return yield* finish(env, call, notRun(call, Outcome.NotFound({ available: Object.keys(kit.tools) })))
    }
    const decodedParams = yield* Effect.result(decode(tool, call.params))
    if (decodedParams._tag === "Failure") {
      return yield* finish(env, call, notRun(call, Outcome.InvalidParams({ message: decodedParams.failure.message })))
    }
    const ready: Ready = {
      index,
      call,
      tool,
      toolClass,
      route: env.pools.route(tool),
      params: decodedParams.success,
      verdict
    }
    return ready
  })

const serialisable = (value: unknown): unknown => {
  try {
    JSON.stringify(value)
    return value
  } catch {
    return describeValue(value)
  }
}

const encodeFailure = (tool: Tool.Any, error: unknown): unknown => {
  try {
    return serialisable(
      Schema.encodeUnknownSync(Tool.failureResultSchema(tool) as unknown as Schema.Codec<unknown, unknown>)(error)
    )
  } catch {
    return describeValue(error)
  }
}

/** Step 6: run the tool through effect/ai's own dispatch and read its final result. */
const runTool = (kit: AnyKit, ready: Ready, input: unknown): Effect.Effect<ToolResult> => {
  const { call, tool } = ready
  const run = kit.handle(call.name, input, call.id).pipe(
    Effect.flatMap(Stream.runLast),
    Effect.matchCause({
      onSuccess: (last): ToolResult => {
        if (Option.isNone(last)) {
          return notRun(call, Outcome.Crashed({ message: "the tool ended without a result" }))
        }
        const { encodedResult, isFailure, modelOutput, result } = last.value
        return {
          id: call.id,
          name: call.name,
          isFailure,
          // effect/ai's failure for a result that would not encode carries
          // the raw value, which may not serialise (cycles, bigints): the
          // model must always get something it can be sent
          result: isFailure ? serialisable(encodedResult) : encodedResult,
          outcome: isFailure ? Outcome.Failed({ error: result }) : Outcome.Succeeded(),
          ...(modelOutput !== undefined ? { modelOutput } : {})
        }
      },
      onFailure: (cause): ToolResult => {
        const failure = Cause.findError(cause)
        if (failure._tag === "Success") {
          return {
            id: call.id,
            name: call.name,
            isFailure: true,
            result: encodeFailure(tool, failure.success),
            outcome: Outcome.Failed({ error: failure.success })
          }
        }
        // Only reached when the tool interrupted itself: interrupting this
        // fiber from outside never runs a recovery.
        if (Cause.hasInterruptsOnly(cause)) return notRun(call, Outcome.Cancelled({ phase: "running" }))
        return notRun(call, Outcome.Crashed({ message: describeCause(cause) }))
      }
    })
  ) as Effect.Effect<ToolResult>
  return span(run, "toolgate.run", { "toolgate.tool": call.name, "toolgate.call": call.id })
}

const askApprover = (env: Env, ready: Ready): Effect.Effect<Approval.ApprovalDecision> => {
  const { call, tool, toolClass, verdict } = ready
  const request: Approval.ApprovalRequest = {
    call: { id: call.id, name: call.name, params: ready.params },
    input: call.params,
    toolClass,
    description: Tool.getDescription(tool),
    reason: verdict._tag === "Ask" ? verdict.reason : undefined,
    match: verdict.match,
    origin: env.origin
  }
  const ask = publish(env, ToolEvent.ApprovalRequested({ call, request, origin: env.origin })).pipe(
    // suspended: a handler that throws is a fault that denies, like one that dies
    Effect.andThen(Effect.suspend(() => env.approval.approve(request))),
    // a decision that is not a well-formed Allow or Deny is a fault: it denies
    Effect.map(Approval.check),
    Effect.catchCause((cause) =>
      Effect.succeed(Approval.ApprovalDecision.Deny({
        reason: `the approval handler failed (${describeCause(cause)}), so the call was denied to be safe`,
        decidedBy: "fault"
      }))
    )
  )
  return span(ask, "toolgate.approve", { "toolgate.tool": call.name, "toolgate.call": call.id })
}

/** Steps 5–6 for an admitted call: approval when the policy asked, then the tool. */
const approveAndRun = (env: Env, kit: AnyKit, ready: Ready, setPhase: (phase: CancelPhase) => void) =>
  Effect.gen(function*() {
    const { call } = ready
    let input = call.params
    if (ready.verdict._tag === "Ask") {
      setPhase("approval")
      const decision = yield* askApprover(env, ready)
      const decidedBy = decision.decidedBy ?? "handler"
      if (decision._tag === "Deny") {
        yield* decided(env, call, false, decidedBy, decision.reason, undefined)
        return notRun(
          call,
          Outcome.ApprovalDenied({ reason: decision.reason, decidedBy, stop: decision.stop === true })
        )
      }
      yield* decided(env, call, true, decidedBy, undefined, undefined)
      if (decision.params !== undefined) {
        // An edit is a new call as far as safety goes: decode it and ask the
        // policy again. The tool stays the one the model named.
        input = decision.params
        const edited = yield* Effect.result(decode(ready.tool, input))
        if (edited._tag === "Failure") {
          return notRun(call, Outcome.InvalidParams({ message: `edited params: ${edited.failure.message}` }))
        }
        const recheck = yield* decidePolicy(env, {
          call: { id: call.id, name: call.name, params: input },
          tool: ready.tool,
          toolClass: ready.toolClass,
          origin: env.origin
        })
        if (recheck._tag === "Deny") {
          return notRun(call, Outcome.PolicyDenied({ reason: `edited params: ${recheck.reason}`, match: recheck.match }))
        }
      }
    }
    setPhase("running")
    yield* publish(env, ToolEvent.Started({ call, origin: env.origin }))
    const run = runTool(kit, ready, input)
    return yield* (ToolClass.isRecursive(ready.tool)
      ? Effect.provideService(run, ToolCall.CurrentOrigin, ToolCall.child(env.origin, call.id))
      : run)
  })

/** Steps 4–6 with per-call cancellation. */
const executeReady = (env: Env, kit: AnyKit, ready: Ready): Effect.Effect<ToolResult> => {
  let phase: CancelPhase = "queued"
  const setPhase = (next: CancelPhase) => {
    phase = next
  }
  const gated = env.pools.admit(ready.route, ready.call.name, env.origin.depth)(
    approveAndRun(env, kit, ready, setPhase)
  )
  const { cancellation } = env
  const withCancel: Effect.Effect<ToolResult> = cancellation === undefined
    ? gated
    : Effect.suspend(() => {
      const signal = cancellation.signal(ready.call.id)
      const cancelled = Effect.sync(() => notRun(ready.call, Outcome.Cancelled({ phase })))
      // Checked first so that a call cancelled before its turn never starts.
      return Effect.flatMap(
        Deferred.isDone(signal),
        (done) => done ? cancelled : Effect.raceFirst(gated, Effect.andThen(Deferred.await(signal), cancelled))
      ).pipe(Effect.ensuring(Effect.sync(() => cancellation.release(ready.call.id))))
    })
  return span(Effect.flatMap(withCancel, (result) => finish(env, ready.call, result)), "toolgate.call", {
    "toolgate.tool": ready.call.name,
    "toolgate.call": ready.call.id,
    "toolgate.route": ready.route
  })
}

const isToolkit = (toolkit: AnyToolkit): toolkit is Toolkit.Toolkit<any> => !("handle" in toolkit)

const runBatch = (
  toolkit: AnyToolkit,
  calls: Iterable<ToolCall.ToolCall>
): Effect.Effect<ReadonlyArray<ToolResult>, never, unknown> =>
  Effect.gen(function*() {
    const kit = (isToolkit(toolkit) ? yield* toolkit : toolkit) as unknown as AnyKit
    const env: Env = {
      policy: yield* ToolPolicy.ToolPolicy,
      approval: yield* Approval.ApprovalHandler,
      pools: yield* Concurrency.Concurrency,
      origin: yield* ToolCall.CurrentOrigin,
      events: Option.getOrUndefined(yield* Effect.serviceOption(ToolEvents)),
      cancellation: Option.getOrUndefined(yield* Effect.serviceOption(Cancellation))
    }
    const list = Array.from(calls)
    const results = new Array<ToolResult>(list.length)
    const runs: Array<{ readonly route: Concurrency.Route; readonly calls: Array<Ready> }> = []
    for (let index = 0; index < list.length; index++) {
      const prepared = yield* prepare(env, kit, list[index]!, index)
      if ("outcome" in prepared) {
        results[index] = prepared
        continue
      }
      const last = runs.at(-1)
      if (last !== undefined && last.route === prepared.route) last.calls.push(prepared)
      else runs.push({ route: prepared.route, calls: [prepared] })
    }
    const { settings } = env.pools
    for (const run of runs) {
      yield* Effect.forEach(
        run.calls,
        (ready) =>
          Effect.map(executeReady(env, kit, ready), (result) => {
            results[ready.index] = result
          }),
        {
          discard: true,
          // The pools bound concurrency across batches; bounding the fibers
          // too keeps a 10,000-call batch from parking 10,000 fibers. A
          // serial run of width 1 therefore runs, and asks, in model order.
          concurrency: run.route === "read"
            ? settings.reads
            : run.route === "serial"
            ? settings.serialMutators
            : settings.concurrentMutators
        }
      )
    }
    return results
  })

/**
 * Runs a batch of tool calls through the gate and returns one result per
 * call, in the order of `calls`. Never fails: whatever happens to a call is
 * its result. Reads the policy, approval handler, pools, events and
 * cancellation from context (each has a default or is optional).
 *
 * `toolkit` is an effect/ai `Toolkit` (its handlers provided as usual, with
 * `toolkit.toLayer`) or the `WithHandler` obtained by yielding one.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Tool, Toolkit } from "effect/ai"
 * import { Executor } from "toolgate"
 *
 * const Read = Tool.make("Read", { parameters: Schema.Struct({ path: Schema.String }), success: Schema.String })
 *   .annotate(Tool.Readonly, true)
 * const toolkit = Toolkit.make(Read)
 * const handlers = toolkit.toLayer({ Read: ({ path }) => Effect.succeed(`contents of ${path}`) })
 *
 * const program = Executor.executeBatch(toolkit, [
 *   { id: "1", name: "Read", params: { path: "a.txt" } },
 *   { id: "2", name: "Delete", params: {} }
 * ]).pipe(Effect.provide(handlers))
 * // [{ id: "1", isFailure: false, result: "contents of a.txt", ... }, { id: "2", isFailure: true, outcome: NotFound, ... }]
 * ```
 *
 * @since 0.1.0
 */
export const executeBatch = <K extends AnyToolkit>(
  toolkit: K,
  calls: Iterable<ToolCall.ToolCall>
): Effect.Effect<ReadonlyArray<ToolResult>, never, Requirements<K>> =>
  runBatch(toolkit, calls).pipe(
    Effect.withSpan("toolgate.executeBatch")
  ) as Effect.Effect<ReadonlyArray<ToolResult>, never, Requirements<K>>

/**
 * Runs a single call through the gate: `executeBatch` with one call.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor } from "toolgate"
 * declare const toolkit: import("effect/ai").Toolkit.Toolkit<{}>
 * const result = Executor.execute(toolkit, { id: "1", name: "Read", params: { path: "a.txt" } })
 * ```
 *
 * @since 0.1.0
 */
export const execute = <K extends AnyToolkit>(
  toolkit: K,
  call: ToolCall.ToolCall
): Effect.Effect<ToolResult, never, Requirements<K>> =>
  Effect.map(executeBatch(toolkit, [call]), (results) => results[0]!)
