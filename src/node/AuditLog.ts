/**
 * A durable record of every decision the gate makes, as JSON lines an
 * auditor can read back (`toolgate audit FILE`).
 *
 * The audit log subscribes to `ToolEvents` and appends one {@link AuditRecord}
 * per decision and per final result, writing and syncing each line as it
 * happens: a run that crashes or is killed still leaves every decision made
 * before it on disk. Records are defined once as a Schema built on the
 * core's (`DecidedBy`, `Outcome`), so the writer and the reader cannot
 * disagree. Every call that entered the gate gets a final record, the calls
 * of an interrupted run included (as `Cancelled`).
 *
 * @since 0.1.0
 */
import { Clock, Context, Effect, FileSystem, Layer, PubSub, Schema, type Scope } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { createHash, randomUUID } from "node:crypto"
import { type ToolEvent, ToolEvents } from "../ToolEvents.ts"
import * as ToolPolicy from "../ToolPolicy.ts"
import { DecidedBy, Outcome } from "../ToolResult.ts"

// -----------------------------------------------------------------------------
// Records
// -----------------------------------------------------------------------------

/**
 * What a call was asked to do: the params, or with `params: "hash"` only
 * their SHA-256 (of the JSON with sorted keys), for logs that must not hold
 * file contents or secrets.
 */
const CallFields = {
  time: Schema.String,
  runId: Schema.String,
  callId: Schema.String,
  tool: Schema.String,
  depth: Schema.Number,
  params: Schema.optional(Schema.Unknown),
  paramsHash: Schema.optional(Schema.String)
}

/**
 * The effective verdict of a call once everything is known: `allowed` (it
 * ran), `denied` (by a rule, an approver, the timeout, a fault; an edit the
 * policy denied on re-check is `denied`), `rejected` (unknown tool, bad
 * params), `cancelled`.
 *
 * @since 0.1.0
 */
export const Verdict = Schema.Literals(["allowed", "denied", "rejected", "cancelled"])

/** @since 0.1.0 */
export type Verdict = typeof Verdict.Type

/**
 * One line of the audit log.
 *
 * - `RunStarted` / `RunEnded`: written by the program around a run (the
 *   `toolgate` CLI does): what ran it and how it ended.
 * - `Decided`: an allow or deny as it happened: `decidedBy` (`policy`,
 *   `handler` — the approver —, `memory`, `timeout`, `readOnlyFastPath`,
 *   `fault`), the rule that matched, the reason, `stop` when the approver
 *   stopped the run, `editedParams` when it changed them.
 * - `Finished`: the call's final record, read from the executor's
 *   `CallRecord`: its `outcome`, the effective `verdict`, who decided and
 *   by which rule, the params as executed when an approver edited them,
 *   and `isError`. Every call that entered the gate gets exactly one: the
 *   executor publishes it also for a call its batch's interruption ended.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { AuditLog } from "toolgate/node"
 * const decode = Schema.decodeUnknownSync(Schema.fromJsonString(AuditLog.AuditRecord))
 * const record = decode('{"_tag":"RunEnded","time":"2026-12-02T00:00:00.000Z","runId":"r1","stopReason":"Completed","exitCode":0}')
 * record._tag // => "RunEnded"
 * ```
 *
 * @since 0.1.0
 */
export const AuditRecord = Schema.TaggedUnion({
  RunStarted: {
    time: Schema.String,
    runId: Schema.String,
    model: Schema.optional(Schema.String),
    workspace: Schema.optional(Schema.String),
    approver: Schema.optional(Schema.String),
    task: Schema.optional(Schema.String)
  },
  Decided: {
    ...CallFields,
    allowed: Schema.Boolean,
    decidedBy: DecidedBy,
    rule: Schema.optional(Schema.String),
    reason: Schema.optional(Schema.String),
    stop: Schema.optional(Schema.Boolean),
    editedParams: Schema.optional(Schema.Unknown),
    editedParamsHash: Schema.optional(Schema.String)
  },
  Finished: {
    ...CallFields,
    verdict: Verdict,
    outcome: Outcome,
    isFailure: Schema.Boolean,
    decidedBy: Schema.optional(DecidedBy),
    rule: Schema.optional(Schema.String),
    executedParams: Schema.optional(Schema.Unknown),
    executedParamsHash: Schema.optional(Schema.String),
    isError: Schema.optional(Schema.Boolean)
  },
  RunEnded: {
    time: Schema.String,
    runId: Schema.String,
    stopReason: Schema.String,
    exitCode: Schema.Number
  }
})

/** @since 0.1.0 */
export type AuditRecord = typeof AuditRecord.Type

/**
 * The effective verdict an outcome stands for.
 *
 * @example
 * ```ts
 * import { AuditLog } from "toolgate/node"
 * AuditLog.verdictOf({ _tag: "PolicyDenied", reason: "edited params: no" }) // => "denied"
 * ```
 *
 * @since 0.1.0
 */
export const verdictOf = (outcome: Outcome): Verdict =>
  Outcome.match(outcome, {
    Succeeded: () => "allowed" as const,
    Failed: () => "allowed" as const,
    Crashed: () => "allowed" as const,
    PolicyDenied: () => "denied" as const,
    ApprovalDenied: () => "denied" as const,
    NotFound: () => "rejected" as const,
    InvalidParams: () => "rejected" as const,
    Cancelled: () => "cancelled" as const
  })

/**
 * How params are written: in full, or as a hash only.
 *
 * @since 0.1.0
 */
export type ParamsMode = "full" | "hash"

const sorted = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(sorted)
    : typeof value === "object" && value !== null
    ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted((value as Record<string, unknown>)[k])]))
    : value

/**
 * The SHA-256 of `params` as JSON with sorted keys, so equal params hash
 * equal whatever their key order.
 *
 * @example
 * ```ts
 * import { AuditLog } from "toolgate/node"
 * AuditLog.hashParams({ b: 1, a: 2 }) === AuditLog.hashParams({ a: 2, b: 1 }) // => true
 * ```
 *
 * @since 0.1.0
 */
export const hashParams = (params: unknown): string => {
  let json: string
  try {
    json = JSON.stringify(sorted(params)) ?? "undefined"
  } catch {
    json = String(params)
  }
  return `sha256:${createHash("sha256").update(json).digest("hex")}`
}

const paramsFields = (mode: ParamsMode, params: unknown) =>
  mode === "hash" ? { paramsHash: hashParams(params) } : { params }

// -----------------------------------------------------------------------------
// From events to records
// -----------------------------------------------------------------------------

const callFields = (runId: string, mode: ParamsMode, time: string, call: { id: string; name: string; params: unknown }, depth: number) => ({
  time,
  runId,
  callId: call.id,
  tool: call.name,
  depth,
  ...paramsFields(mode, call.params)
})

/**
 * The audit record for an event, or `undefined` for stages that decide
 * nothing (pending, approval requested, started).
 *
 * @example
 * ```ts
 * import { AuditLog } from "toolgate/node"
 * declare const event: import("toolgate").ToolEvents.ToolEvent
 * const record = AuditLog.record(event, { runId: "r1", time: new Date().toISOString() })
 * ```
 *
 * @since 0.1.0
 */
export const record = (
  event: ToolEvent,
  context: { readonly runId: string; readonly time: string; readonly params?: ParamsMode | undefined }
): AuditRecord | undefined => {
  const mode = context.params ?? "full"
  switch (event._tag) {
    case "Decided": {
      const edited = event.editedParams
      const stop = event.stop
      return {
        _tag: "Decided",
        ...callFields(context.runId, mode, context.time, event.call, event.origin.depth),
        allowed: event.allowed,
        decidedBy: event.decidedBy,
        ...(event.match !== undefined ? { rule: ToolPolicy.describeMatch(event.match) } : {}),
        ...(event.reason !== undefined ? { reason: event.reason } : {}),
        ...(typeof stop === "boolean" ? { stop } : {}),
        ...(edited === undefined ? {} : mode === "hash" ? { editedParamsHash: hashParams(edited) } : { editedParams: edited })
      }
    }
    case "Finished": {
      const { decision, edited, executedParams, isError } = event.record
      const outcome = event.result.outcome
      return {
        _tag: "Finished",
        ...callFields(context.runId, mode, context.time, event.call, event.origin.depth),
        verdict: verdictOf(outcome),
        outcome,
        isFailure: event.result.isFailure,
        ...(decision !== undefined ? { decidedBy: decision.decidedBy } : {}),
        ...(decision?.match !== undefined ? { rule: ToolPolicy.describeMatch(decision.match) } : {}),
        ...(edited ? mode === "hash" ? { executedParamsHash: hashParams(executedParams) } : { executedParams } : {}),
        isError
      }
    }
    default:
      return undefined
  }
}

// -----------------------------------------------------------------------------
// The writer
// -----------------------------------------------------------------------------

/**
 * The open audit log: the run id its records carry, and `write` for the
 * records a program adds itself (`RunStarted`, `RunEnded`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { AuditLog } from "toolgate/node"
 * const ended = Effect.flatMap(AuditLog.AuditLog.asEffect(), (log) =>
 *   log.write({ _tag: "RunEnded", time: new Date().toISOString(), runId: log.runId, stopReason: "Completed", exitCode: 0 }))
 * ```
 *
 * @since 0.1.0
 */
export class AuditLog extends Context.Service<AuditLog, {
  readonly runId: string
  readonly write: (record: AuditRecord) => Effect.Effect<void>
}>()("toolgate/node/AuditLog") {}

/**
 * Options of {@link layer}: `params: "hash"` writes the params' SHA-256
 * instead of the params; `runId` names the run (default: a random UUID).
 *
 * @since 0.1.0
 */
export interface Options {
  readonly params?: ParamsMode | undefined
  readonly runId?: string | undefined
}

/**
 * Appends the audit log to the file at `path` for as long as the Layer
 * lives, and provides {@link AuditLog}. The file is opened when the Layer is
 * built (a path that cannot be opened fails it, before anything runs), the
 * subscription is taken then too, so no decision made under it is missed,
 * and the events still queued when it closes are written before it does.
 *
 * @example
 * ```ts
 * import { NodeServices } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import { ToolEvents } from "toolgate"
 * import { AuditLog } from "toolgate/node"
 * const Audit = AuditLog.layer("audit.jsonl", { params: "hash" }).pipe(
 *   Layer.provideMerge(ToolEvents.layer),
 *   Layer.provide(NodeServices.layer)
 * )
 * ```
 *
 * @since 0.1.0
 */
export const layer = (
  path: string,
  options: Options = {}
): Layer.Layer<AuditLog, PlatformError, FileSystem.FileSystem | ToolEvents> => Layer.effect(AuditLog, make(path, options))

const encodeLine = Schema.encodeSync(Schema.fromJsonString(AuditRecord))

// One closure over the open file and the run id:
// its helpers are small named steps that share that state.
const make = (
  path: string,
  options: Options
): Effect.Effect<AuditLog["Service"], PlatformError, FileSystem.FileSystem | ToolEvents | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const pubsub = yield* ToolEvents
    const file = yield* fs.open(path, { flag: "a" })
    const subscription = yield* PubSub.subscribe(pubsub)
    const runId = options.runId ?? randomUUID()
    const mode = options.params ?? "full"
    const encoder = new TextEncoder()
    const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

    // Logging must not break the run it records: a failed write is reported
    // on the console and the gate goes on.
    const writeLine = (line: AuditRecord) =>
      Effect.gen(function*() {
        yield* file.writeAll(encoder.encode(encodeLine(line) + "\n"))
        yield* file.sync
      }).pipe(Effect.catch((error) => Effect.logError(`toolgate: could not write the audit log ${path}`, error)))

    let busy = false
    const append = (event: ToolEvent) =>
      Effect.gen(function*() {
        busy = true
        const line = record(event, { runId, time: yield* now, params: mode })
        if (line !== undefined) yield* writeLine(line)
      }).pipe(Effect.ensuring(Effect.sync(() => {
        busy = false
      })))
    // A record the program adds goes after every event published before it:
    // wait (briefly, cooperatively) until the writer has caught up.
    const settled = Effect.gen(function*() {
      for (let i = 0; i < 10_000 && (busy || (yield* PubSub.remaining(subscription)) > 0); i++) yield* Effect.yieldNow
    })
    const drain = Effect.flatMap(PubSub.takeAll(subscription), (events) => Effect.forEach(events, append))
    // Finalizers run in reverse: the writer fiber (forked last) is stopped
    // first, never in the middle of a line, then what is left is drained.
    // (No bookkeeping of open calls: the executor publishes every call's
    // Finished, also when its batch was interrupted.)
    yield* Effect.addFinalizer(() =>
      Effect.flatMap(PubSub.remaining(subscription), (n) => n > 0 ? Effect.asVoid(drain) : Effect.void)
    )
    yield* Effect.forkScoped(Effect.forever(
      Effect.uninterruptibleMask((restore) => Effect.flatMap(restore(PubSub.take(subscription)), append))
    ))
    return { runId, write: (line: AuditRecord) => Effect.andThen(settled, writeLine(line)) }
  })
