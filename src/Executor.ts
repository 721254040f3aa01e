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
import { Effect, Tracer } from "effect"
import type { Tool, Toolkit } from "effect/ai"
import { runBatch } from "./internal/executor/batch.ts"
import * as Env from "./internal/executor/env.ts"
import { type Batch, makeBatch } from "./internal/executor/state.ts"
import type { ToolCall } from "./ToolCall.ts"
import type { ToolResult } from "./ToolResult.ts"
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
export const Cancellation = Env.Cancellation

/** @since 0.1.0 */
export type Cancellation = Env.Cancellation

/**
 * When provided `true`, every `toolgate.call` span also carries the call's
 * params (`toolgate.params`, and `toolgate.executed_params` after an edit).
 * Off by default: params may hold secrets, and a trace is shipped away.
 * `toolgate run --trace-params` turns it on.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Executor } from "toolgate"
 * declare const program: Effect.Effect<void>
 * const traced = program.pipe(Effect.provideService(Executor.TraceParams, true))
 * ```
 *
 * @since 0.1.0
 */
export const TraceParams = Env.TraceParams

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
  calls: Iterable<ToolCall>
): Effect.Effect<ReadonlyArray<ToolResult>, never, Requirements<K>> => {
  // The calls are read now (an iterator reads once); the batch's state is
  // made per run, so the returned Effect can be run again, or twice at
  // once, each run its own batch.
  const list = Array.isArray(calls) ? calls as ReadonlyArray<ToolCall> : Array.from(calls)
  return traced(Effect.suspend(() => runBatch(toolkit, makeBatch(list)))) as Effect.Effect<
    ReadonlyArray<ToolResult>,
    never,
    Requirements<K>
  >
}

// `useSpan` rather than `withSpan`: the latter also installs a stack frame,
// after which every interruption and failure continuation of the batch's
// fibers annotates its cause with it (most of the cost of interrupting
// 1,000 waiting calls).
const traced = <A, E, R>(batch: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.useSpan("toolgate.executeBatch", (span) => Effect.provideService(batch, Tracer.ParentSpan, span))

/**
 * Runs `batch` and returns its results: the Agent's way in, which keeps
 * the batch to answer its calls after an interruption. Internal.
 *
 * @internal
 */
export const executeTracked = (
  toolkit: AnyToolkit,
  batch: Batch
): Effect.Effect<ReadonlyArray<ToolResult>, never, unknown> => traced(runBatch(toolkit, batch))

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
  call: ToolCall
): Effect.Effect<ToolResult, never, Requirements<K>> =>
  Effect.map(executeBatch(toolkit, [call]), (results) => results[0]!)
