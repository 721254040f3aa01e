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
 * nothing new; {@link Cancellation} cancels one call by id. An approver's
 * `Deny({ stop: true })` stops the batch at once: its calls not yet started
 * end `Cancelled` without being asked, those running finish.
 *
 * @since 0.1.0
 */
import { Cause, Context, Deferred, Effect, Exit, Fiber, Layer, Option, PubSub, Schema, Stream, Tracer } from "effect"
import { type Prompt, Tool, Toolkit } from "effect/ai"
import * as Approval from "./Approval.ts"
import * as Concurrency from "./Concurrency.ts"
import * as CallTracker from "./internal/callTracker.ts"
import { describeCause } from "./internal/describe.ts"
import { CurrentEventObserver, type EventObserver } from "./internal/eventObserver.ts"
import * as ToolHandler from "./internal/toolHandler.ts"
import * as ToolCall from "./ToolCall.ts"
import * as ToolClass from "./ToolClass.ts"
import { ToolEvent, ToolEvents } from "./ToolEvents.ts"
import * as ToolPolicy from "./ToolPolicy.ts"
import { type DecidedBy, notRun, Outcome, type ToolResult } from "./ToolResult.ts"

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
 * A toolkit as the executor takes it: an effect/ai `Toolkit`, whose handlers
 * (provided as usual) the executor calls directly, or the `WithHandler`
 * obtained by yielding one, which it calls through `handle` (same results,
 * several times the cost per call).
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
  readonly observer: EventObserver | undefined
  readonly cancellation: CancellationShape | undefined
  readonly tools: Readonly<Record<string, Tool.Any>>
  /** Where handlers are looked up to be called directly; undefined: always through `toolkit.handle`. */
  readonly handlers: Context.Context<never> | undefined
  /** effect/ai's own dispatch, resolved on first use (the fallback path). */
  readonly kit: Effect.Effect<AnyKit, never, unknown>
}

/** One batch: the tracker of its calls, whether an approver stopped it, and the workers of the run in progress. */
interface Batch {
  readonly tracker: CallTracker.CallTracker
  stopped: boolean
  workers: ReadonlyArray<Worker>
}

/** A fiber working through a run's calls, and the call it is on (-1 between calls). */
interface Worker {
  fiber: Fiber.Fiber<void> | undefined
  index: number
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

// Events are built only when someone listens: most batches run unobserved.
const publish = (env: Env, event: () => ToolEvent): Effect.Effect<void> => {
  if (env.events === undefined && env.observer === undefined) return Effect.void
  const built = event()
  env.observer?.(built)
  return env.events === undefined ? Effect.void : Effect.asVoid(PubSub.publish(env.events, built))
}

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

// Exits are effects in effect 4, and most steps of a call return one: a
// policy or an approver answering from memory, a sync Schema, a pure tool.
// Continuing such a step directly instead of through `flatMap` keeps a call
// that never waits off the run loop (half of the gate's cost at N = 1,000).
// Callers run it inside a suspended effect, so "directly" is still run time.
const then = <A, E, B, E2, R2>(
  self: Effect.Effect<A, E>,
  f: (a: A) => Effect.Effect<B, E2, R2>
): Effect.Effect<B, E | E2, R2> => {
  if (Exit.isExit(self)) {
    const exit = self as Exit.Exit<A, E>
    if (Exit.isSuccess(exit)) return f(exit.value)
  }
  return Effect.flatMap(self, f)
}

const policyFault = (cause: Cause.Cause<unknown>) =>
  ToolPolicy.Verdict.Deny({
    reason: `the policy failed (${describeCause(cause)}), so the call was denied to be safe`
  })

const decidePolicy = (env: Env, request: ToolPolicy.PolicyRequest): Effect.Effect<ToolPolicy.Verdict> => {
  let verdict: Effect.Effect<ToolPolicy.Verdict, unknown>
  try {
    verdict = env.policy.decide(request)
  } catch (error) {
    // a policy throwing instead of returning an effect is a fault that
    // denies, not a defect of the whole batch
    return Effect.succeed(policyFault(Cause.die(error)))
  }
  if (Exit.isExit(verdict)) {
    const exit = verdict as Exit.Exit<ToolPolicy.Verdict, unknown>
    return Effect.succeed(Exit.isSuccess(exit) ? exit.value : policyFault(exit.cause))
  }
  return Effect.catchCause(verdict, (cause) => Effect.succeed(policyFault(cause)))
}

/** Records a call's result in the tracker, then tells whoever listens. */
const finish = (env: Env, batch: Batch, index: number, result: ToolResult): Effect.Effect<void> => {
  batch.tracker.results[index] = result
  return publish(env, () => ToolEvent.Finished({ call: batch.tracker.calls[index]!, result, origin: env.origin }))
}

const decided = (
  env: Env,
  call: ToolCall.ToolCall,
  allowed: boolean,
  decidedBy: DecidedBy,
  reason: string | undefined,
  match: ToolPolicy.Match | undefined,
  approver?: { readonly editedParams?: unknown; readonly stop?: boolean }
) =>
  publish(env, () =>
    ToolEvent.Decided({
      call,
      allowed,
      decidedBy,
      reason,
      match,
      ...(approver?.editedParams !== undefined ? { editedParams: approver.editedParams } : {}),
      ...(approver?.stop === true ? { stop: true } : {}),
      origin: env.origin
    }))

/** Steps 1–3: policy, lookup, decoding. Either a final result or a call ready for admission. */
const prepare = (env: Env, call: ToolCall.ToolCall, index: number): Effect.Effect<Ready | ToolResult> => {
  const tool = typeof call.name === "string" && Object.hasOwn(env.tools, call.name) ? env.tools[call.name] : undefined
  const toolClass = tool === undefined ? undefined : ToolClass.of(tool)
  return then(
    publish(env, () => ToolEvent.Pending({ call, toolClass, origin: env.origin })),
    () =>
      then(decidePolicy(env, { call, tool, toolClass, origin: env.origin }), (verdict) => {
        if (verdict._tag === "Deny") {
          return then(
            decided(env, call, false, "policy", verdict.reason, verdict.match),
            () => Effect.succeed(notRun(call, Outcome.PolicyDenied({ reason: verdict.reason, match: verdict.match })))
          )
        }
        const announced = verdict._tag === "Allow"
          ? decided(env, call, true, "policy", undefined, verdict.match)
          : Effect.void
        return then(announced, (): Effect.Effect<Ready | ToolResult> => {
          if (tool === undefined || toolClass === undefined) {
            return Effect.succeed(notRun(call, Outcome.NotFound({ available: Object.keys(env.tools) })))
          }
          return Effect.matchEager(decode(tool, call.params), {
            onFailure: (error) => notRun(call, Outcome.InvalidParams({ message: error.message })),
            onSuccess: (params): Ready => ({
              index,
              call,
              tool,
              toolClass,
              route: env.pools.route(tool),
              params,
              verdict
            })
          })
        })
      })
  )
}

/** The fallback path, step 6 through effect/ai's own dispatch: `handle` and the last element of its stream. */
const runViaHandle = (env: Env, ready: Ready, input: unknown): Effect.Effect<ToolHandler.Ran> => {
  const { call, tool } = ready
  return Effect.flatMap(env.kit, (kit) => kit.handle(call.name, input, call.id)).pipe(
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

/**
 * Step 6: run the tool, its handler called directly with the params decoded
 * once when effect/ai's handler entry is there, through `toolkit.handle`
 * otherwise (same result either way). The call's one span covers this stage
 * only: nothing stays open while a call waits for a permit or a human, and
 * the earlier stages are its attributes.
 */
const runTool = (env: Env, ready: Ready, params: unknown, input: unknown, timings: Timings) => {
  const { call, tool } = ready
  const entry = env.handlers === undefined ? undefined : ToolHandler.lookup(env.handlers, tool)
  const now = performance.now()
  return Effect.useSpan(
    "toolgate.call",
    {
      attributes: {
        "toolgate.tool": call.name,
        "toolgate.call": call.id,
        "toolgate.route": ready.route,
        "toolgate.queued_ms": timings.admitted - timings.entered,
        "toolgate.approval_ms": now - timings.admitted,
        "toolgate.direct": entry !== undefined
      }
    },
    (span): Effect.Effect<ToolResult> => {
      const ran = entry === undefined ? runViaHandle(env, ready, input) : ToolHandler.run(entry, tool, params, call.id)
      // A handler that already returned its result has nothing left to run
      // under the span or the child origin.
      if (Exit.isExit(ran)) return then(ran as Exit.Exit<ToolHandler.Ran>, (r) => Effect.succeed(toResult(call, r)))
      // the span is the parent of the tool's own spans (a sub-agent's run),
      // without the stack frame `withSpan` would also install
      const traced = Effect.provideService(ran, Tracer.ParentSpan, span)
      const scoped = ToolClass.isRecursive(tool)
        ? Effect.provideService(traced, ToolCall.CurrentOrigin, ToolCall.child(env.origin, call.id))
        : traced
      return Effect.map(scoped, (r) => toResult(call, r))
    }
  )
}

interface Timings {
  readonly entered: number
  admitted: number
}

const approvalRequest = (env: Env, ready: Ready): Approval.ApprovalRequest => {
  const { call, tool, toolClass, verdict } = ready
  return {
    call: { id: call.id, name: call.name, params: ready.params },
    input: call.params,
    toolClass,
    description: Tool.getDescription(tool),
    reason: verdict._tag === "Ask" ? verdict.reason : undefined,
    match: verdict.match,
    origin: env.origin
  }
}

const handlerFault = (cause: Cause.Cause<unknown>) =>
  Approval.ApprovalDecision.Deny({
    reason: `the approval handler failed (${describeCause(cause)}), so the call was denied to be safe`,
    decidedBy: "fault"
  })

// A handler that fails or dies denies, naming the fault (fail closed).
// A decision that is not a well-formed Allow or Deny is a fault too.
const orFault = (effect: Effect.Effect<Approval.ApprovalDecision, unknown>): Effect.Effect<Approval.ApprovalDecision> =>
  Effect.matchCause(effect, { onFailure: handlerFault, onSuccess: Approval.check })

/**
 * Step 5: ask the approval handler. An answer that is already there (the
 * handler returned a completed `Exit`: auto-approve, a fixed decision) is
 * taken as is, without a step through the run loop.
 */
const ask = (env: Env, ready: Ready): Effect.Effect<Approval.ApprovalDecision> => {
  const request = approvalRequest(env, ready)
  return then(publish(env, () => ToolEvent.ApprovalRequested({ call: ready.call, request, origin: env.origin })), () => {
    let answer: Effect.Effect<Approval.ApprovalDecision, unknown>
    try {
      answer = env.approval.approve(request)
    } catch (error) {
      // a handler that throws is a fault that denies, like one that dies
      return Effect.succeed(handlerFault(Cause.die(error)))
    }
    if (Exit.isExit(answer)) {
      const exit = answer as Exit.Exit<Approval.ApprovalDecision, unknown>
      return Effect.succeed(Exit.isSuccess(exit) ? Approval.check(exit.value) : handlerFault(exit.cause))
    }
    return orFault(answer)
  })
}

/**
 * An approver asked to stop: the batch starts nothing more, and the workers
 * of the run whose call is being asked are interrupted (the approval is
 * withdrawn; the call ends `Cancelled` in the approval phase, see
 * {@link runWorkers}). Workers whose call runs are left alone.
 */
const stop = (batch: Batch, by: number) => {
  batch.stopped = true
  for (const worker of batch.workers) {
    const { fiber, index } = worker
    if (fiber === undefined || index < 0 || index === by) continue
    if (batch.tracker.phases[index] === "approval" && batch.tracker.results[index] === undefined) fiber.interruptUnsafe()
  }
}

/** An approved edit is a new call as far as safety goes: decode it and ask the policy again. The tool stays the one the model named. */
const checkEdit = (env: Env, ready: Ready, input: unknown): Effect.Effect<ToolResult | { readonly params: unknown }> => {
  const { call } = ready
  return Effect.flatMap(Effect.result(decode(ready.tool, input)), (edited) => {
    if (edited._tag === "Failure") {
      return Effect.succeed(notRun(call, Outcome.InvalidParams({ message: `edited params: ${edited.failure.message}` })))
    }
    const request = { call: { id: call.id, name: call.name, params: input }, tool: ready.tool, toolClass: ready.toolClass, origin: env.origin }
    return Effect.map(decidePolicy(env, request), (recheck) =>
      recheck._tag === "Deny"
        ? notRun(call, Outcome.PolicyDenied({ reason: `edited params: ${recheck.reason}`, match: recheck.match }))
        : { params: edited.success })
  })
}

/** Step 6 once allowed: the call is running. */
const start = (env: Env, batch: Batch, ready: Ready, params: unknown, input: unknown, timings: Timings) => {
  batch.tracker.phases[ready.index] = "running"
  return then(
    publish(env, () => ToolEvent.Started({ call: ready.call, origin: env.origin })),
    () => runTool(env, ready, params, input, timings)
  )
}

/** What an approver's answer leads to: a denial (stopping the batch if asked), or the tool, with edited params checked again. */
const afterDecision = (
  env: Env,
  batch: Batch,
  ready: Ready,
  decision: Approval.ApprovalDecision,
  timings: Timings
): Effect.Effect<ToolResult> => {
  const { call } = ready
  const decidedBy = decision.decidedBy ?? "handler"
  if (decision._tag === "Deny") {
    const stopping = decision.stop === true
    if (stopping) stop(batch, ready.index)
    return then(
      decided(env, call, false, decidedBy, decision.reason, undefined, { stop: stopping }),
      () => Effect.succeed(notRun(call, Outcome.ApprovalDenied({ reason: decision.reason, decidedBy, stop: stopping })))
    )
  }
  return then(decided(env, call, true, decidedBy, undefined, undefined, { editedParams: decision.params }), () => {
    // allowed, but another call's approver stopped the batch meanwhile
    if (batch.stopped) return Effect.succeed(notRun(call, Outcome.Cancelled({ phase: "approval" })))
    if (decision.params === undefined) return start(env, batch, ready, ready.params, call.params, timings)
    const input = decision.params
    return Effect.flatMap(
      checkEdit(env, ready, input),
      (edit) => "outcome" in edit ? Effect.succeed(edit) : start(env, batch, ready, edit.params, input, timings)
    )
  })
}

/** Steps 5–6 for an admitted call: approval when the policy asked, then the tool. */
const approveAndRun = (env: Env, batch: Batch, ready: Ready, timings: Timings) =>
  Effect.suspend((): Effect.Effect<ToolResult> => {
    timings.admitted = performance.now()
    if (batch.stopped) return Effect.succeed(notRun(ready.call, Outcome.Cancelled({ phase: "queued" })))
    if (ready.verdict._tag !== "Ask") return start(env, batch, ready, ready.params, ready.call.params, timings)
    batch.tracker.phases[ready.index] = "approval"
    return then(ask(env, ready), (decision) => afterDecision(env, batch, ready, decision, timings))
  })

/** Steps 4–6 with per-call cancellation. */
const executeReady = (env: Env, batch: Batch, ready: Ready): Effect.Effect<void> => {
  const timings: Timings = { entered: performance.now(), admitted: 0 }
  const gated = env.pools.admit(ready.route, ready.call.name, env.origin.depth)(
    approveAndRun(env, batch, ready, timings)
  )
  const { cancellation } = env
  const withCancel: Effect.Effect<ToolResult> = cancellation === undefined
    ? gated
    : Effect.suspend(() => {
      const signal = cancellation.signal(ready.call.id)
      const cancelled = Effect.sync(() =>
        notRun(ready.call, Outcome.Cancelled({ phase: batch.tracker.phases[ready.index] ?? "queued" }))
      )
      // Checked first so that a call cancelled before its turn never starts.
      return Effect.flatMap(
        Deferred.isDone(signal),
        (done) => done ? cancelled : Effect.raceFirst(gated, Effect.andThen(Deferred.await(signal), cancelled))
      ).pipe(Effect.ensuring(Effect.sync(() => cancellation.release(ready.call.id))))
    })
  return Effect.flatMap(withCancel, (result) => finish(env, batch, ready.index, result))
}

/**
 * Runs the calls of one run, at most `width` at a time, in model order of
 * start: `width` workers each take the next call in turn. Hand-written
 * rather than `Effect.forEach({ concurrency })` for three reasons: in
 * effect 4.1.0 interrupting a saturated `forEach` re-enters its loop once
 * per child, a recursion as deep as the cap that overflows the stack for
 * caps in the thousands; a worker per slot is one fiber per slot instead of
 * one per call (interrupting 1,000 waiting calls is then 1,000 fibers, not
 * 2,000); and a worker can be interrupted alone when an approver stops the
 * batch, the others going on. A call whose worker was interrupted has no
 * result; it gets `Cancelled` in the phase it reached once the run is over.
 */
const runWorkers = (env: Env, batch: Batch, run: ReadonlyArray<Ready>, width: number) =>
  Effect.suspend(() => {
    let next = 0
    const work = (worker: Worker) =>
      Effect.whileLoop({
        while: () => next < run.length,
        body: () => {
          const ready = run[next++]!
          worker.index = ready.index
          return executeReady(env, batch, ready)
        },
        step: () => {
          worker.index = -1
        }
      })
    if (width <= 1) return work({ fiber: undefined, index: -1 })
    const workers = Array.from({ length: width }, (): Worker => ({ fiber: undefined, index: -1 }))
    batch.workers = workers
    return Effect.flatMap(
      // started at once: calls that never wait finish without being scheduled
      Effect.forEach(workers, (worker) =>
        Effect.map(Effect.forkChild(work(worker), { startImmediately: true }), (fiber) => {
          worker.fiber = fiber
          return fiber
        })),
      (forked) =>
        Effect.flatMap(Fiber.awaitAll(forked), (exits) => {
          batch.workers = []
          for (const exit of exits) {
            // a defect of the executor itself is the batch's, as with forEach
            if (exit._tag === "Failure" && !Cause.hasInterruptsOnly(exit.cause)) return Effect.failCause(exit.cause)
          }
          return Effect.forEach(run, (ready) =>
            batch.tracker.results[ready.index] === undefined
              ? finish(env, batch, ready.index, notRun(ready.call, Outcome.Cancelled({ phase: batch.tracker.phases[ready.index] ?? "queued" })))
              : Effect.void, { discard: true })
        })
    )
  })

const isToolkit = (toolkit: AnyToolkit): toolkit is Toolkit.Toolkit<any> => !("handle" in toolkit)

const makeEnv = (toolkit: AnyToolkit) =>
  Effect.gen(function*() {
    const direct = isToolkit(toolkit) && (yield* Toolkit.PreliminaryBuffer) === "unbounded"
    let resolved: AnyKit | undefined = isToolkit(toolkit) ? undefined : toolkit as unknown as AnyKit
    const env: Env = {
      policy: yield* ToolPolicy.ToolPolicy,
      approval: yield* Approval.ApprovalHandler,
      pools: yield* Concurrency.Concurrency,
      origin: yield* ToolCall.CurrentOrigin,
      events: Option.getOrUndefined(yield* Effect.serviceOption(ToolEvents)),
      observer: yield* CurrentEventObserver,
      cancellation: Option.getOrUndefined(yield* Effect.serviceOption(Cancellation)),
      tools: toolkit.tools as Readonly<Record<string, Tool.Any>>,
      // A bounded preliminary buffer is a setting only `handle` implements.
      handlers: direct ? yield* Effect.context<never>() : undefined,
      kit: Effect.suspend(() =>
        resolved !== undefined
          ? Effect.succeed(resolved)
          : Effect.map(toolkit as unknown as Effect.Effect<AnyKit>, (kit) => (resolved = kit))
      )
    }
    return env
  })

const runBatch = (
  toolkit: AnyToolkit,
  calls: Iterable<ToolCall.ToolCall>
): Effect.Effect<ReadonlyArray<ToolResult>, never, unknown> =>
  Effect.gen(function*() {
    const env = yield* makeEnv(toolkit)
    const list = Array.isArray(calls) ? calls as ReadonlyArray<ToolCall.ToolCall> : Array.from(calls)
    const provided = yield* CallTracker.CurrentCallTracker
    const batch: Batch = {
      tracker: provided !== undefined && provided.calls === calls ? provided : CallTracker.make(list),
      stopped: false,
      workers: []
    }
    const runs: Array<{ readonly route: Concurrency.Route; readonly calls: Array<Ready> }> = []
    for (let index = 0; index < list.length; index++) {
      const prepared = yield* prepare(env, list[index]!, index)
      if ("outcome" in prepared) {
        yield* finish(env, batch, index, prepared)
        continue
      }
      const last = runs.at(-1)
      if (last !== undefined && last.route === prepared.route) last.calls.push(prepared)
      else runs.push({ route: prepared.route, calls: [prepared] })
    }
    const { settings } = env.pools
    for (const run of runs) {
      // The pools bound concurrency across batches; bounding the workers
      // too keeps a 10,000-call batch from parking 10,000 fibers. A serial
      // run of width 1 therefore runs, and asks, in model order.
      const width = Math.min(
        run.calls.length,
        run.route === "read"
          ? settings.reads
          : run.route === "serial"
          ? settings.serialMutators
          : settings.concurrentMutators
      )
      yield* runWorkers(env, batch, run.calls, width)
    }
    return batch.tracker.results as ReadonlyArray<ToolResult>
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
  // `useSpan` rather than `withSpan`: the latter also installs a stack
  // frame, after which every interruption and failure continuation of the
  // batch's fibers annotates its cause with it (most of the cost of
  // interrupting 1,000 waiting calls).
  Effect.useSpan("toolgate.executeBatch", (span) => Effect.provideService(runBatch(toolkit, calls), Tracer.ParentSpan, span)) as Effect.Effect<ReadonlyArray<ToolResult>, never, Requirements<K>>

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
