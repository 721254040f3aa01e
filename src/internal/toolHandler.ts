/**
 * Runs a tool's handler directly, with the semantics of effect/ai's
 * `Toolkit.handle` but without its per-call queue and stream, which cost
 * ~40 µs a call against ~0.2 µs for the handler itself (bench/gate.bench.ts).
 *
 * It leans on an effect/ai internal: a toolkit's handlers Layer stores,
 * under each tool's `id`, an entry `{ handler, context }` (effect 4.1,
 * `Toolkit.toHandlers`). {@link lookup} recognises that entry and answers
 * `undefined` for anything else, and the executor then falls back to
 * `toolkit.handle`, so a change in effect/ai costs speed, never behaviour.
 * Invariant: for the same decoded params, {@link run} yields the result
 * `toolkit.handle` followed by `Stream.runLast` would (test/Executor.dispatch.test.ts
 * checks it against the real thing): the same success and failure encoding,
 * `failureMode`, defects, self-interruption, `modelOutput`, and a handler
 * fiber of its own whose children end with it.
 */
import { Cause, Context, Effect, Exit, Fiber, Schema } from "effect"
import { AiError, Tool, type Toolkit } from "effect/ai"
import { describeCause, describeValue } from "./describe.ts"

/** What effect/ai keeps under a tool's id once its handlers are provided. */
export interface HandlerEntry {
  readonly handler: (params: unknown, context: Toolkit.HandlerContext<any>) => Effect.Effect<unknown, unknown, unknown>
  readonly context: Context.Context<never>
}

/** The handler entry of `tool` in `context`, when it has the shape this module knows. */
export const lookup = (context: Context.Context<never>, tool: Tool.Any): HandlerEntry | undefined => {
  const entry: unknown = context.mapUnsafe.get(tool.id)
  if (typeof entry !== "object" || entry === null) return undefined
  const { context: captured, handler } = entry as Partial<HandlerEntry>
  return typeof handler === "function" && Context.isContext(captured) ? entry as HandlerEntry : undefined
}

/** How a call that ran ended, before it becomes a `ToolResult`. */
export type Ran =
  | { readonly _tag: "Succeeded"; readonly encoded: unknown; readonly modelOutput: unknown }
  | { readonly _tag: "Failed"; readonly error: unknown; readonly encoded: unknown }
  | { readonly _tag: "Interrupted" }
  | { readonly _tag: "Crashed"; readonly message: string }

interface Codecs {
  readonly encodeSuccess: (u: unknown) => Effect.Effect<unknown, Schema.SchemaError>
  readonly encodeFailure: (u: unknown) => Effect.Effect<unknown, Schema.SchemaError>
}

const codecs = new WeakMap<Tool.Any, Codecs>()

const codecsOf = (tool: Tool.Any): Codecs => {
  let found = codecs.get(tool)
  if (found === undefined) {
    found = {
      encodeSuccess: Schema.encodeUnknownEffect(tool.successSchema as Schema.Codec<unknown, unknown>),
      encodeFailure: Schema.encodeUnknownEffect(
        Tool.failureResultSchema(tool) as unknown as Schema.Codec<unknown, unknown>
      )
    }
    codecs.set(tool, found)
  }
  return found
}

const encodingError = (tool: Tool.Any, result: unknown, error: Schema.SchemaError) =>
  AiError.make({
    module: "Toolkit",
    method: `${tool.name}.handle`,
    reason: new AiError.ToolResultEncodingError({
      toolName: tool.name,
      toolResult: result,
      description: error.message
    })
  })

// As effect/ai's `handle` does: a handler's SchemaError is an invalid
// result, a bare AiError reason is wrapped, anything else is kept.
const normalizeError = (tool: Tool.Any, error: unknown): unknown =>
  Schema.isSchemaError(error)
    ? AiError.make({
      module: "Toolkit",
      method: `${tool.name}.handle`,
      reason: new AiError.InvalidToolResultError({
        toolName: tool.name,
        description: `Tool handler returned invalid result: ${error.message}`
      })
    })
    : AiError.isAiErrorReason(error)
    ? AiError.make({ module: "Toolkit", method: `${tool.name}.handle`, reason: error })
    : error

/** The encoded failure a model reads; what `toolkit.handle`'s caller gets when encoding itself fails. */
export const encodeFailureSync = (tool: Tool.Any, error: unknown): unknown => {
  try {
    return serialisable(
      Schema.encodeUnknownSync(Tool.failureResultSchema(tool) as unknown as Schema.Codec<unknown, unknown>)(error)
    )
  } catch {
    return describeValue(error)
  }
}

/** The value itself when it serialises, a description of it otherwise: the model must always get something it can be sent. */
export const serialisable = (value: unknown): unknown => {
  try {
    JSON.stringify(value)
    return value
  } catch {
    return describeValue(value)
  }
}

// The stream of `handle` fails when a result does not encode: the call
// then fails with that encoding error, encoded as a failure.
const encodingFailed = (tool: Tool.Any, result: unknown, error: Schema.SchemaError): Ran => {
  const failure = encodingError(tool, result, error)
  return { _tag: "Failed", error: failure, encoded: encodeFailureSync(tool, failure) }
}

const succeeded = (tool: Tool.Any, result: unknown): Effect.Effect<Ran> =>
  Effect.matchEager(codecsOf(tool).encodeSuccess(result), {
    onFailure: (error) => encodingFailed(tool, result, error),
    onSuccess: (encoded): Ran => ({
      _tag: "Succeeded",
      encoded,
      modelOutput: tool.toModelOutput === undefined ? undefined : tool.toModelOutput(result)
    })
  })

const failed = (tool: Tool.Any, cause: Cause.Cause<unknown>): Effect.Effect<Ran> => {
  const found = Cause.findError(cause)
  if (found._tag === "Success") {
    const error = normalizeError(tool, found.success)
    // failureMode "error": handle's stream fails with the normalized error
    // and the executor encodes it; "return": handle encodes it as a result.
    if (tool.failureMode === "error") {
      return Effect.succeed({ _tag: "Failed", error, encoded: encodeFailureSync(tool, error) })
    }
    return Effect.matchEager(codecsOf(tool).encodeFailure(error), {
      onFailure: (encodeError) => encodingFailed(tool, error, encodeError),
      onSuccess: (encoded): Ran => ({ _tag: "Failed", error, encoded: serialisable(encoded) })
    })
  }
  // Only reached when the tool interrupted itself: interrupting the
  // caller from outside never runs a recovery.
  if (Cause.hasInterruptsOnly(cause)) return Effect.succeed({ _tag: "Interrupted" })
  return Effect.succeed({ _tag: "Crashed", message: describeCause(cause) })
}

const settle = (tool: Tool.Any, exit: Exit.Exit<unknown, unknown>): Effect.Effect<Ran> =>
  Exit.isSuccess(exit) ? succeeded(tool, exit.value) : failed(tool, exit.cause)

/**
 * Runs `entry`'s handler with already decoded `params` in a fiber of its
 * own (the handler function is called now: call this at run time) (as `handle` does: what the handler forks ends with it) and reads how
 * it ended. The handler sees its captured context overlaid with the
 * caller's, as in `handle`.
 */
export const run = (
  entry: HandlerEntry,
  tool: Tool.Any,
  params: unknown,
  toolCallId: string
): Effect.Effect<Ran> => {
    // A preliminary result that does not encode fails the call, as it
    // fails handle's stream; the handler is then stopped.
    let preliminaryFailure: Ran | undefined
    const context: Toolkit.HandlerContext<any> = {
      toolCallId,
      preliminary: (result: unknown) =>
        Effect.flatMap(
          Effect.result(codecsOf(tool).encodeSuccess(result)),
          (encoded) => {
            if (encoded._tag === "Success") return Effect.void
            preliminaryFailure = encodingFailed(tool, result, encoded.failure)
            return Effect.interrupt
          }
        )
    }
    let returned: Effect.Effect<unknown, unknown, unknown>
    try {
      returned = entry.handler(params, context)
    } catch (error) {
      return failed(tool, Cause.die(error))
    }
    // A handler that returned a completed Exit has already run: there is no
    // fiber to give it, nor context to read (the common no-op and pure tools).
    if (Exit.isExit(returned)) return settle(tool, returned)
    const handler = returned.pipe(
      Effect.updateContext((input: Context.Context<unknown>) => Context.merge(entry.context, input))
    )
    return Effect.flatMap(
      Effect.forkChild(handler, { startImmediately: true }),
      (fiber) =>
        Fiber.await(fiber).pipe(
          Effect.flatMap((exit) => preliminaryFailure !== undefined ? Effect.succeed(preliminaryFailure) : settle(tool, exit)),
          Effect.onInterrupt(() => Fiber.interrupt(fiber))
        )
    ) as Effect.Effect<Ran>
}
