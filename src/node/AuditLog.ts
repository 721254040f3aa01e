/**
 * A durable record of every decision the gate makes, as JSON lines.
 *
 * The audit log subscribes to `ToolEvents` and appends one line per decision
 * (who allowed or denied which call, and why) and per result, writing and
 * syncing each line as it happens: a run that crashes or is killed still
 * leaves every decision made before it on disk. It needs the `ToolEvents`
 * PubSub and a `FileSystem` (`NodeServices.layer` from
 * `@effect/platform-node`).
 *
 * @since 0.1.0
 */
import { Clock, Effect, FileSystem, Layer, PubSub, type Scope } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { type ToolEvent, ToolEvents } from "../ToolEvents.ts"
import * as ToolPolicy from "../ToolPolicy.ts"

/**
 * One line of the audit log: a decision (`decided`) or a call's final
 * result (`finished`).
 *
 * @example
 * ```ts
 * import type { AuditLog } from "toolgate/node"
 * const denied = (e: AuditLog.Entry) => e.event === "decided" && !e.allowed
 * ```
 *
 * @since 0.1.0
 */
export type Entry =
  | {
    readonly time: string
    readonly event: "decided"
    readonly id: string
    readonly name: string
    readonly allowed: boolean
    readonly decidedBy: string
    readonly reason?: string | undefined
    readonly rule?: string | undefined
    readonly depth: number
  }
  | {
    readonly time: string
    readonly event: "finished"
    readonly id: string
    readonly name: string
    readonly outcome: string
    readonly isFailure: boolean
    readonly depth: number
  }

/**
 * The audit entry for an event, or `undefined` for stages that decide
 * nothing (pending, approval requested, started).
 *
 * @example
 * ```ts
 * import { AuditLog } from "toolgate/node"
 * declare const event: import("toolgate").ToolEvents.ToolEvent
 * const line = AuditLog.entry(event, new Date())
 * ```
 *
 * @since 0.1.0
 */
export const entry = (event: ToolEvent, now: Date): Entry | undefined => {
  const time = now.toISOString()
  switch (event._tag) {
    case "Decided":
      return {
        time,
        event: "decided",
        id: event.call.id,
        name: event.call.name,
        allowed: event.allowed,
        decidedBy: event.decidedBy,
        ...(event.reason !== undefined ? { reason: event.reason } : {}),
        ...(event.match !== undefined ? { rule: ToolPolicy.describeMatch(event.match) } : {}),
        depth: event.origin.depth
      }
    case "Finished":
      return {
        time,
        event: "finished",
        id: event.result.id,
        name: event.result.name,
        outcome: event.result.outcome._tag,
        isFailure: event.result.isFailure,
        depth: event.origin.depth
      }
    default:
      return undefined
  }
}

/**
 * Appends the audit log to the file at `path` for as long as the Layer
 * lives. The subscription is taken when the Layer is built, so no decision
 * made under it is missed, and the events still queued when it closes are
 * written before it does.
 *
 * @example
 * ```ts
 * import { NodeServices } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import { AuditLog } from "toolgate/node"
import { ToolEvents } from "toolgate"
 * const Audit = AuditLog.layer("audit.jsonl").pipe(
 *   Layer.provideMerge(ToolEvents.layer),
 *   Layer.provide(NodeServices.layer)
 * )
 * ```
 *
 * @since 0.1.0
 */
export const layer = (path: string): Layer.Layer<never, PlatformError, FileSystem.FileSystem | ToolEvents> =>
  Layer.effectDiscard(write(path))

const write = (path: string): Effect.Effect<void, PlatformError, FileSystem.FileSystem | ToolEvents | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const pubsub = yield* ToolEvents
    const file = yield* fs.open(path, { flag: "a" })
    const subscription = yield* PubSub.subscribe(pubsub)
    const encoder = new TextEncoder()
    const append = (event: ToolEvent) =>
      Effect.gen(function*() {
        const line = entry(event, new Date(yield* Clock.currentTimeMillis))
        if (line === undefined) return
        yield* file.writeAll(encoder.encode(JSON.stringify(line) + "\n"))
        yield* file.sync
      })
    const drain = Effect.flatMap(PubSub.takeAll(subscription), (events) => Effect.forEach(events, append))
    // Logging must not break the run it records: a failed write is reported
    // on the console and the gate goes on.
    const safely = <A>(effect: Effect.Effect<A, PlatformError>) =>
      Effect.catch(effect, (error) => Effect.logError(`toolgate: could not write the audit log ${path}`, error))
    // Finalizers run in reverse: the writer fiber (forked last) is stopped
    // first, never in the middle of a line, then what is left is drained.
    yield* Effect.addFinalizer(() =>
      Effect.flatMap(PubSub.remaining(subscription), (n) => n > 0 ? safely(Effect.asVoid(drain)) : Effect.void)
    )
    yield* Effect.forkScoped(Effect.forever(
      Effect.uninterruptibleMask((restore) => Effect.flatMap(restore(PubSub.take(subscription)), (e) => safely(append(e))))
    ))
  })
