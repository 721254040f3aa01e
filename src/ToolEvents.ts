/**
 * What is happening to each call, as it happens, for a UI or an audit log.
 *
 * The executor publishes an event at every stage of a call — pending,
 * approval requested, decided (and by whom), started, finished — to the
 * `ToolEvents` PubSub when one is provided, and publishes nothing (at no
 * cost) when none is. A UI subscribes to show "waiting for approval" before
 * anything runs.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, PubSub, Schema, Stream } from "effect"
import * as Approval from "./Approval.ts"
import { taggedUnion } from "./internal/taggedUnion.ts"
import { Origin, ToolCall } from "./ToolCall.ts"
import { ToolClass } from "./ToolClass.ts"
import * as ToolPolicy from "./ToolPolicy.ts"
import { CancelPhase, DecidedBy, ToolResult } from "./ToolResult.ts"

/**
 * Everything the gate knows about one call once it has ended: the one
 * record the executor keeps, which the audit log, the spans, the terminal,
 * the web console and the MCP gateway read instead of rebuilding it from
 * the events. It comes with the call's `Finished` event.
 *
 * - `call`: the call as the model asked it (params read once, as plain data).
 * - `origin`, `toolClass` (absent for an unknown tool).
 * - `verdict`: the policy's answer (absent when the params could not even be read).
 * - `decision`: whether the call was allowed, who decided (`policy`,
 *   `handler`, `memory`, `timeout`, `readOnlyFastPath`, `fault`), the reason
 *   and the rule. Absent when nothing was decided: an unknown tool, invalid
 *   params, a call cancelled before its answer. A policy that denies an
 *   approver's edit is recorded as a denial by the policy.
 * - `executedParams`: the params the tool ran with, in the model's wire
 *   form (the approver's edit when there was one); absent when it did not
 *   run. `edited` tells whether they differ from the model's.
 * - `phase`: how far the call got (`queued`, `approval`, `running`).
 * - `result`: what the model reads, with the `outcome`. `isError`: the
 *   call's result is a failure (it did not run, or the tool failed).
 * - `timings`: when it entered (epoch ms) and how long each stage took.
 *
 * @example
 * ```ts
 * import { ToolEvents } from "toolgate"
 * const line = (r: ToolEvents.CallRecord) =>
 *   `${r.call.name}: ${r.decision?.allowed === false ? "denied" : r.result.outcome._tag} (by ${r.decision?.decidedBy ?? "nobody"})`
 * ```
 *
 * @since 0.1.0
 */
export const CallRecord = Schema.Struct({
  call: ToolCall,
  origin: Origin,
  toolClass: Schema.optional(ToolClass),
  verdict: Schema.optional(ToolPolicy.Level),
  decision: Schema.optional(Schema.Struct({
    allowed: Schema.Boolean,
    decidedBy: DecidedBy,
    reason: Schema.optional(Schema.String),
    match: Schema.optional(ToolPolicy.Match),
    stop: Schema.optional(Schema.Boolean)
  })),
  executedParams: Schema.optional(Schema.Unknown),
  edited: Schema.Boolean,
  phase: CancelPhase,
  result: ToolResult,
  isError: Schema.Boolean,
  timings: Schema.Struct({
    /** when the call entered the gate, ms since the epoch */
    enteredAt: Schema.Number,
    /** waiting for the approver */
    approvalMs: Schema.optional(Schema.Number),
    /** waiting for a pool permit */
    queuedMs: Schema.optional(Schema.Number),
    /** the tool running */
    runMs: Schema.optional(Schema.Number),
    /** from entering the gate to the result */
    totalMs: Schema.Number
  })
})

/** @since 0.1.0 */
export type CallRecord = typeof CallRecord.Type

/**
 * One stage of one call. Every event carries the call (`event.call.id`)
 * and where in the agent tree it comes from (`event.origin`); it is defined
 * as a Schema so an audit log or a web console encodes it from one
 * definition.
 *
 * - `Pending`: the call entered the gate.
 * - `ApprovalRequested`: the approval handler is being asked.
 * - `Decided`: the call was allowed or denied, and by whom (`policy`,
 *   `handler`, `memory`, `timeout`, `readOnlyFastPath`, `fault`).
 * - `Started`: the tool began to run; its `call` carries the params it
 *   runs with (an approver's edit, when there was one).
 * - `Finished`: the call has its result, and `record` everything the gate
 *   knows about it ({@link CallRecord}). Exactly one per call, also when
 *   the batch is interrupted.
 *
 * @example
 * ```ts
 * import { ToolEvents } from "toolgate"
 * const label = (e: ToolEvents.ToolEvent) =>
 *   ToolEvents.ToolEvent.$match(e, {
 *     Pending: (x) => `${x.call.name} pending`,
 *     ApprovalRequested: (x) => `${x.call.name} waiting for approval`,
 *     Decided: (x) => `${x.call.name} ${x.allowed ? "allowed" : "denied"} by ${x.decidedBy}`,
 *     Started: (x) => `${x.call.name} started`,
 *     Finished: (x) => `${x.call.name} finished`
 *   })
 * ```
 *
 * @since 0.1.0
 */
export const ToolEvent = taggedUnion({
  Pending: { call: ToolCall, toolClass: Schema.optional(ToolClass), origin: Origin },
  ApprovalRequested: { call: ToolCall, request: Approval.ApprovalRequest, origin: Origin },
  Decided: {
    call: ToolCall,
    allowed: Schema.Boolean,
    decidedBy: DecidedBy,
    reason: Schema.optional(Schema.String),
    match: Schema.optional(ToolPolicy.Match),
    /** the params the approver put in place of the model's (wire form) */
    editedParams: Schema.optional(Schema.Unknown),
    /** the approver denied and stopped the run */
    stop: Schema.optional(Schema.Boolean),
    origin: Origin
  },
  Started: { call: ToolCall, origin: Origin },
  Finished: { call: ToolCall, result: ToolResult, record: CallRecord, origin: Origin }
})

/** @since 0.1.0 */
export type ToolEvent = typeof ToolEvent.Type

/**
 * The PubSub the executor publishes to. Not provided by default: without it
 * nothing is published.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ToolEvents } from "toolgate"
 * const program = Effect.gen(function*() {
 *   const pubsub = yield* ToolEvents.ToolEvents
 *   return pubsub
 * }).pipe(Effect.provide(ToolEvents.layer))
 * ```
 *
 * @since 0.1.0
 */
export class ToolEvents extends Context.Service<ToolEvents, PubSub.PubSub<ToolEvent>>()("toolgate/ToolEvents") {}

/**
 * A Layer with an unbounded PubSub of events. Unbounded so that a slow
 * subscriber never slows the gate; subscribe only while you read.
 *
 * @example
 * ```ts
 * import { ToolEvents } from "toolgate"
 * const EventsLive = ToolEvents.layer
 * ```
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<ToolEvents> = Layer.effect(ToolEvents, PubSub.unbounded<ToolEvent>())

/**
 * The events published from now on, as a Stream.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { ToolEvents } from "toolgate"
 * const printAll = ToolEvents.stream.pipe(Stream.runForEach((e) => Effect.log(e._tag)))
 * ```
 *
 * @since 0.1.0
 */
export const stream: Stream.Stream<ToolEvent, never, ToolEvents> = Stream.unwrap(
  Effect.map(Effect.service(ToolEvents), (pubsub) => Stream.fromPubSub(pubsub))
)
