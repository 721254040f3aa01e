/**
 * The dynamic gate: does a human, or code acting for one, allow this call
 * now?
 *
 * The executor asks the `ApprovalHandler` only when the policy answered
 * `Ask`, after the call's params were decoded (nobody is asked to approve
 * garbage) and after the call was admitted by its pool (so serial mutators
 * are asked one at a time, in model order). The handler's default approves
 * everything, which is what headless agents want; interactive programs swap
 * it with {@link layer}. Handlers never watch for cancellation: when the call
 * is cancelled, the handler's effect is interrupted.
 *
 * The building blocks compose: `timeout(readOnlyFastPath(handler), "30
 * seconds")` asks only for mutators and denies when nobody answers in time;
 * {@link queueBridge} funnels concurrent requests into one UI fiber.
 *
 * @since 0.1.0
 */
import { Cause, Clock, Context, Deferred, Duration, Effect, Layer, MutableHashMap, Option, Queue, Schema, type Scope } from "effect"
import { taggedUnion } from "./internal/taggedUnion.ts"
import { vouch } from "./internal/vouched.ts"
import { Origin, ToolCall } from "./ToolCall.ts"
import { ToolClass } from "./ToolClass.ts"
import * as ToolPolicy from "./ToolPolicy.ts"
import { DecidedBy } from "./ToolResult.ts"

// -----------------------------------------------------------------------------
// Models
// -----------------------------------------------------------------------------

/**
 * What an approver is shown: the call with its decoded params, the params as
 * the model sent them (`input`), the tool's class and description, why the
 * policy asked (and the rule, when a rule engine decided), and where in the
 * agent tree the call comes from.
 *
 * @example
 * ```ts
 * import type { Approval } from "toolgate"
 * const title = (r: Approval.ApprovalRequest) => `${r.call.name} (${r.toolClass}) wants to run`
 * ```
 *
 * @since 0.1.0
 */
export const ApprovalRequest = Schema.Struct({
  call: ToolCall,
  input: Schema.Unknown,
  toolClass: ToolClass,
  description: Schema.optional(Schema.String),
  reason: Schema.optional(Schema.String),
  match: Schema.optional(ToolPolicy.Match),
  origin: Origin
})

/** @since 0.1.0 */
export type ApprovalRequest = typeof ApprovalRequest.Type

/**
 * An approver's answer, defined as a Schema: the executor decodes every
 * decision it gets, and one that is not a well-formed `Allow` or `Deny`
 * (`{}`, `{ _tag: "deny" }` from a JSON bridge, a `remember` of the wrong
 * type) denies the call as a fault.
 *
 * - `Allow`: the call runs. `params` replaces the model's params (in the
 *   wire form the model uses; they are decoded and checked by the policy
 *   again). `remember: true` allows identical calls (same tool, same params)
 *   for the rest of the session without asking; `remember: "tool"` allows
 *   every call of this tool (never with the edited params, and never for
 *   calls an explicit ask rule matched).
 * - `Deny`: the call does not run and the model reads `reason`. `stop: true`
 *   asks the agent loop to end the run: calls of the batch not yet started
 *   are cancelled.
 *
 * `decidedBy` is set by the building blocks (memory, timeout, fast path, the
 * decision check) and read only from the decisions they make: whatever a
 * handler writes there itself is ignored, and the call is recorded as
 * decided by the handler.
 *
 * @example
 * ```ts
 * import { Approval } from "toolgate"
 * Approval.ApprovalDecision.Allow()
 * Approval.ApprovalDecision.Allow({ remember: true })
 * const d = Approval.ApprovalDecision.Deny({ reason: "not on a Friday", stop: true })
 * Approval.ApprovalDecision.$match(d, { Allow: () => "go", Deny: (x) => x.reason }) // => "not on a Friday"
 * ```
 *
 * @since 0.1.0
 */
export const ApprovalDecision = taggedUnion({
  Allow: {
    params: Schema.optional(Schema.Unknown),
    remember: Schema.optional(Schema.Union([Schema.Boolean, Schema.Literal("tool")])),
    decidedBy: Schema.optional(DecidedBy)
  },
  Deny: {
    reason: Schema.String,
    stop: Schema.optional(Schema.Boolean),
    decidedBy: Schema.optional(DecidedBy)
  }
})

/** @since 0.1.0 */
export type ApprovalDecision = typeof ApprovalDecision.Type

const decodeDecision = Schema.decodeUnknownExit(ApprovalDecision)

/**
 * Checks that what a handler answered is a well-formed decision. Anything
 * else is a fault and comes back as a `Deny` (`decidedBy: "fault"`) naming
 * what was wrong: a malformed answer never runs a call. The executor applies
 * this to every decision.
 *
 * @example
 * ```ts
 * import { Approval } from "toolgate"
 * Approval.check({ _tag: "deny" })._tag // => "Deny"
 * Approval.check(Approval.ApprovalDecision.Allow())._tag // => "Allow"
 * ```
 *
 * @since 0.1.0
 */
export const check = (decision: unknown): ApprovalDecision => {
  const decoded = decodeDecision(decision)
  return decoded._tag === "Success" ? decoded.value : vouch(ApprovalDecision.Deny({
    reason: `the approval handler answered something that is not a decision (${
      Cause.pretty(decoded.cause).split("\n")[0]
    }), so the call was denied to be safe`,
    decidedBy: "fault"
  }))
}

/**
 * The approval service shape. `approve` may be called from many fibers at
 * once. A handler that fails or dies denies the call, with a reason naming
 * the fault (fail closed).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Approval } from "toolgate"
 * const handler: Approval.ApprovalHandler = {
 *   approve: (request) =>
 *     Effect.succeed(
 *       request.call.name === "Deploy"
 *         ? Approval.ApprovalDecision.Deny({ reason: "deploys need a ticket" })
 *         : Approval.ApprovalDecision.Allow()
 *     )
 * }
 * ```
 *
 * @since 0.1.0
 */
export interface ApprovalHandler {
  readonly approve: (request: ApprovalRequest) => Effect.Effect<ApprovalDecision, unknown>
}

// -----------------------------------------------------------------------------
// Constructors
// -----------------------------------------------------------------------------

const allow = ApprovalDecision.Allow()

/**
 * Allows every call. The default handler.
 *
 * @example
 * ```ts
 * import { Approval } from "toolgate"
 * const layer = Approval.layer(Approval.autoApprove)
 * ```
 *
 * @since 0.1.0
 */
export const autoApprove: ApprovalHandler = { approve: () => Effect.succeed(allow) }

/**
 * Denies every call it is asked about, with `reason`.
 *
 * @example
 * ```ts
 * import { Approval } from "toolgate"
 * const layer = Approval.layer(Approval.denyAll("this agent may only read"))
 * ```
 *
 * @since 0.1.0
 */
export const denyAll = (reason: string): ApprovalHandler => {
  const deny = ApprovalDecision.Deny({ reason })
  return { approve: () => Effect.succeed(deny) }
}

/**
 * A handler from a function returning a decision or an effect of one.
 *
 * @example
 * ```ts
 * import { Approval } from "toolgate"
 * const handler = Approval.make((request) =>
 *   request.toolClass === "ReadOnly"
 *     ? Approval.ApprovalDecision.Allow()
 *     : Approval.ApprovalDecision.Deny({ reason: "read-only session" })
 * )
 * ```
 *
 * @since 0.1.0
 */
export const make = (
  approve: (request: ApprovalRequest) => ApprovalDecision | Effect.Effect<ApprovalDecision, unknown>
): ApprovalHandler => ({
  approve: (request) => {
    const decision = approve(request)
    return Effect.isEffect(decision) ? decision : Effect.succeed(decision)
  }
})

/**
 * Lets read-only calls through without asking `handler`; mutating calls are
 * asked as before. Only calls the policy asked about by default pass: a
 * read-only call that an explicit ask rule matched, or that the engine could
 * not read, is still asked.
 *
 * @example
 * ```ts
 * import { Approval } from "toolgate"
 * declare const terminal: Approval.ApprovalHandler
 * const handler = Approval.readOnlyFastPath(terminal)
 * ```
 *
 * @since 0.1.0
 */
export const readOnlyFastPath = (handler: ApprovalHandler): ApprovalHandler => {
  const pass = vouch(ApprovalDecision.Allow({ decidedBy: "readOnlyFastPath" }))
  return {
    approve: (request) =>
      request.toolClass === "ReadOnly" && isDefaultAsk(request) ? Effect.succeed(pass) : handler.approve(request)
  }
}

// A call is asked "by default" when no rule, mode or engine fact made the
// policy ask: only those may be passed without a human by the fast path or
// whole-tool memory. An explicit ask rule, or an engine that could not read
// the call, always reaches the handler.
const isDefaultAsk = (request: ApprovalRequest): boolean =>
  request.match === undefined || request.match._tag === "Default"

/**
 * Denies a call when `handler` has not answered within `duration`, with a
 * reason that says so. The late handler is interrupted, so an answer that
 * arrives afterwards is never acted on (and a queue-bridged prompt is
 * withdrawn); an answer from a handler that blocked the thread past the
 * deadline is ignored too.
 *
 * @example
 * ```ts
 * import { Approval } from "toolgate"
 * declare const terminal: Approval.ApprovalHandler
 * const handler = Approval.timeout(terminal, "2 minutes")
 * ```
 *
 * @since 0.1.0
 */
export const timeout = (handler: ApprovalHandler, duration: Duration.Input): ApprovalHandler => {
  const deny = vouch(ApprovalDecision.Deny({
    reason: `no approval was given within ${Duration.format(Duration.fromInputUnsafe(duration))}`,
    decidedBy: "timeout"
  }))
  const limit = Duration.toMillis(Duration.fromInputUnsafe(duration))
  return {
    approve: (request) =>
      Effect.gen(function*() {
        const start = yield* Clock.currentTimeMillis
        const answer = yield* Effect.timeoutOption(handler.approve(request), duration)
        // A handler that blocks the thread answers before the timer can
        // fire; the clock still says it was late, and late is a deny.
        const late = (yield* Clock.currentTimeMillis) - start > limit
        return Option.isNone(answer) || late ? deny : answer.value
      })
  }
}

/**
 * Adds session memory to `handler`: after an `Allow` with `remember`, later
 * calls it covers are allowed without asking (`decidedBy: "memory"`), with
 * the same edited params if there were any. The session is the returned
 * handler's lifetime; {@link layer} adds memory for you.
 *
 * Calls match when they name the same tool and their params are equal as
 * values (key order aside); `remember: "tool"` matches every later call of
 * the tool that the policy asked about by default (not one an explicit ask
 * rule matched) and never replays edited params.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Approval } from "toolgate"
 * declare const terminal: Approval.ApprovalHandler
 * const program = Effect.gen(function*() {
 *   const handler = yield* Approval.sessionMemory(terminal)
 *   return handler
 * })
 * ```
 *
 * @since 0.1.0
 */
export const sessionMemory = (handler: ApprovalHandler): Effect.Effect<ApprovalHandler> =>
  Effect.sync(() => {
    // Keys are structural (tool name and params compared as values, key
    // order aside), so no canonical string is built per call. Lookups and
    // inserts are synchronous single steps: fibers cannot interleave inside.
    const exact = MutableHashMap.empty<readonly [string, unknown], ApprovalDecision>()
    const wholeTool = new Set<string>()
    const byTool = vouch(ApprovalDecision.Allow({ decidedBy: "memory" }))
    const recall = (request: ApprovalRequest): ApprovalDecision | undefined =>
      wholeTool.has(request.call.name) && isDefaultAsk(request)
        ? byTool
        : Option.getOrUndefined(MutableHashMap.get(exact, [request.call.name, request.input]))
    const remember = (request: ApprovalRequest, decision: ApprovalDecision) => {
      if (decision._tag !== "Allow" || !decision.remember) return
      // A whole-tool memory never carries edited params: they were meant
      // for one call, and replaying them into others would run calls
      // nobody saw.
      if (decision.remember === "tool") return void wholeTool.add(request.call.name)
      MutableHashMap.set(
        exact,
        [request.call.name, request.input],
        vouch(ApprovalDecision.Allow({
          ...(decision.params !== undefined ? { params: decision.params } : {}),
          decidedBy: "memory"
        }))
      )
    }
    return {
      approve: (request) =>
        Effect.suspend(() => {
          const remembered = recall(request)
          if (remembered !== undefined) return Effect.succeed(remembered)
          // Only a well-formed decision is remembered: a malformed one denies
          // this call (the executor checks it) and must not allow later ones.
          return Effect.tap(handler.approve(request), (decision) => Effect.sync(() => remember(request, check(decision))))
        })
    }
  })

// -----------------------------------------------------------------------------
// Queue bridge
// -----------------------------------------------------------------------------

/**
 * A request waiting in a {@link QueueBridge}. `decide` answers it (it returns
 * `false` when the request was already answered or withdrawn); `withdrawn`
 * completes when the caller stopped waiting (its call was cancelled or timed
 * out), so a UI showing the request can take it off the screen.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Approval } from "toolgate"
 * const answer = (p: Approval.PendingApproval) => p.decide(Approval.ApprovalDecision.Allow())
 * ```
 *
 * @since 0.1.0
 */
export interface PendingApproval {
  readonly request: ApprovalRequest
  readonly decide: (decision: ApprovalDecision) => Effect.Effect<boolean>
  readonly withdrawn: Effect.Effect<void>
  readonly isWithdrawn: Effect.Effect<boolean>
}

/**
 * A handler that queues every request for one UI fiber, which takes them
 * one at a time with `take`, shows each and answers it with `decide`.
 * `pending` lists the requests still waiting, in arrival order. A request
 * whose caller was interrupted is withdrawn: it leaves `pending`, `take`
 * never returns it, and its `withdrawn` completes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Approval } from "toolgate"
 * const program = Effect.gen(function*() {
 *   const bridge = yield* Approval.queueBridge
 *   yield* Effect.forkChild(Effect.forever(Effect.gen(function*() {
 *     const pending = yield* bridge.take
 *     yield* pending.decide(Approval.ApprovalDecision.Allow())
 *   })))
 *   return Approval.layer(bridge.handler)
 * })
 * ```
 *
 * @since 0.1.0
 */
export interface QueueBridge {
  readonly handler: ApprovalHandler
  readonly take: Effect.Effect<PendingApproval>
  readonly pending: Effect.Effect<ReadonlyArray<ApprovalRequest>>
}

interface Entry {
  readonly pending: PendingApproval
  readonly reply: Deferred.Deferred<ApprovalDecision>
  /** The caller stopped waiting; `signal` exists only once someone awaits it. */
  gone: boolean
  signal: Deferred.Deferred<void> | undefined
}

/**
 * Makes a {@link QueueBridge}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Approval } from "toolgate"
 * const pendingCount = Effect.flatMap(Approval.queueBridge, (b) => Effect.map(b.pending, (p) => p.length))
 * ```
 *
 * @since 0.1.0
 */
export const queueBridge: Effect.Effect<QueueBridge> = Effect.gen(function*() {
  // A Queue cannot drop an element from its middle, so a withdrawn entry is
  // marked (its `gone` Deferred completes) and skipped when it reaches the
  // front; `waiting` is the authoritative list of what is still pending. It
  // is a Set (insertion-ordered, O(1) removal; each update is one synchronous
  // step) rather than an array filtered on every exit: with 1,000 prompts
  // withdrawn at once the filtering alone took ~10 ms (bench/cancel.bench.ts).
  //
  // A wait costs one Deferred and one finalizer: interrupting 1,000 waiting
  // calls at once must stay well under 5 ms (bench/cancel.bench.ts).
  const queue = yield* Queue.unbounded<Entry>()
  const waiting = new Set<Entry>()

  const withdraw = (entry: Entry) => {
    entry.gone = true
    if (entry.signal !== undefined) Deferred.doneUnsafe(entry.signal, Effect.void)
  }

  const approve = (request: ApprovalRequest) =>
    Effect.suspend(() => {
      const entry: Entry = {
        reply: Deferred.makeUnsafe<ApprovalDecision>(),
        gone: false,
        signal: undefined,
        pending: {
          request,
          decide: (decision) =>
            Effect.suspend(() => entry.gone ? Effect.succeed(false) : Deferred.succeed(entry.reply, decision)),
          withdrawn: Effect.suspend(() =>
            entry.gone ? Effect.void : Deferred.await(entry.signal ??= Deferred.makeUnsafe<void>())
          ),
          isWithdrawn: Effect.sync(() => entry.gone)
        }
      }
      // entering the list, the queue and the finalizer is one synchronous
      // step: no interruption can fall between them
      waiting.add(entry)
      Queue.offerUnsafe(queue, entry)
      return Effect.onExit(Deferred.await(entry.reply), (exit) =>
        Effect.sync(() => {
          waiting.delete(entry)
          if (exit._tag === "Failure") withdraw(entry)
        }))
    })

  const take: Effect.Effect<PendingApproval> = Effect.gen(function*() {
    while (true) {
      const entry = yield* Queue.take(queue)
      if (!entry.gone) return entry.pending
    }
  })

  return {
    handler: { approve },
    take,
    pending: Effect.sync(() => Array.from(waiting, (e) => e.pending.request))
  }
})

// -----------------------------------------------------------------------------
// Service
// -----------------------------------------------------------------------------

/**
 * The approval handler in force. Defaults to {@link autoApprove}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Approval } from "toolgate"
 * const program = Effect.gen(function*() {
 *   const handler = yield* Approval.ApprovalHandler
 *   return handler
 * })
 * ```
 *
 * @since 0.1.0
 */
export const ApprovalHandler = Context.Reference<ApprovalHandler>("toolgate/ApprovalHandler", {
  defaultValue: () => autoApprove
})

/**
 * A Layer putting `handler` in place, with {@link sessionMemory}: the
 * session is the Layer's lifetime. `handler` may also be an effect that
 * builds one (a terminal prompt needing the `Terminal` service, say).
 *
 * @example
 * ```ts
 * import { Approval } from "toolgate"
 * const ApprovalLive = Approval.layer(
 *   Approval.timeout(Approval.readOnlyFastPath(Approval.denyAll("nobody is watching")), "1 minute")
 * )
 * ```
 *
 * @since 0.1.0
 */
export const layer = <E = never, R = never>(
  handler: ApprovalHandler | Effect.Effect<ApprovalHandler, E, R>
): Layer.Layer<never, E, Exclude<R, Scope.Scope>> =>
  Layer.effect(
    ApprovalHandler,
    Effect.flatMap(Effect.isEffect(handler) ? handler : Effect.succeed(handler), sessionMemory)
  )
