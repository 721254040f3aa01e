/**
 * What every stage needs: the services in force when the batch started,
 * read once, and how to publish an event. Events are built only when
 * someone listens (a `ToolEvents` PubSub or an observer): most batches run
 * unobserved.
 */
import { Context, Deferred, Effect, Layer, Option, PubSub, Stream } from "effect"
import { type Tool, Toolkit } from "effect/ai"
import * as Approval from "../../Approval.ts"
import * as Concurrency from "../../Concurrency.ts"
import * as ToolCall from "../../ToolCall.ts"
import { type ToolEvent, ToolEvents } from "../../ToolEvents.ts"
import * as ToolPolicy from "../../ToolPolicy.ts"
import { CurrentEventObserver, type EventObserver } from "../eventObserver.ts"

/** Per-call cancellation, as `Executor.Cancellation` provides it. */
export interface CancellationShape {
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

/** The service `Executor.Cancellation` is (documented there); declared here so the stages can read it. */
export class Cancellation extends Context.Service<Cancellation, CancellationShape>()("toolgate/Executor/Cancellation") {
  static readonly layer: Layer.Layer<Cancellation> = Layer.sync(Cancellation, makeCancellation)
}

/** Whether spans carry the params (`--trace-params`); never by default. */
export const TraceParams = Context.Reference<boolean>("toolgate/Executor/TraceParams", { defaultValue: () => false })

// The loose shape the executor works with internally: the public signatures
// keep the toolkit's precise types, and calls arrive by name at run time.
export interface AnyKit {
  readonly tools: Readonly<Record<string, Tool.Any>>
  readonly handle: (
    name: string,
    params: unknown,
    toolCallId?: string
  ) => Effect.Effect<Stream.Stream<Tool.HandlerResult<Tool.Any>, unknown, unknown>, unknown, unknown>
}

export interface Env {
  readonly policy: ToolPolicy.ToolPolicy
  readonly approval: Approval.ApprovalHandler
  readonly pools: Concurrency.Pools
  readonly origin: ToolCall.Origin
  readonly events: PubSub.PubSub<ToolEvent> | undefined
  readonly observer: EventObserver | undefined
  readonly cancellation: CancellationShape | undefined
  readonly traceParams: boolean
  readonly tools: Readonly<Record<string, Tool.Any>>
  /** Where handlers are looked up to be called directly; undefined: always through `toolkit.handle`. */
  readonly handlers: Context.Context<never> | undefined
  /** effect/ai's own dispatch, resolved on first use (the fallback path). */
  readonly kit: Effect.Effect<AnyKit, never, unknown>
}

/** Whether anyone listens: when not, no event is even built. */
export const observed = (env: Env): boolean => env.events !== undefined || env.observer !== undefined

/** Tells whoever listens. `event` is called only when someone does. */
export const publish = (env: Env, event: () => ToolEvent): Effect.Effect<void> => {
  if (env.events === undefined && env.observer === undefined) return Effect.void
  const built = event()
  env.observer?.(built)
  return env.events === undefined ? Effect.void : Effect.asVoid(PubSub.publish(env.events, built))
}

const isToolkit = (toolkit: Toolkit.Toolkit<any> | Toolkit.WithHandler<any>): toolkit is Toolkit.Toolkit<any> =>
  !("handle" in toolkit)

/** Reads the services in force. */
export const makeEnv = (toolkit: Toolkit.Toolkit<any> | Toolkit.WithHandler<any>) =>
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
      traceParams: yield* TraceParams,
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
