/**
 * What `toolgate run` and `toolgate mcp` share for the web console and
 * tracing: the `--approver web`, `--port` and `--otlp` flags, and starting a
 * console whose URL is printed where only the user sees it.
 *
 * @since 0.1.0
 */
import { Data, Effect, Option, Redacted, type Schema } from "effect"
import { Flag } from "effect/cli"
import type * as WebConsole from "../node/WebConsole.ts"

/**
 * `--port`: the web console's port (default: a free one).
 *
 * @example
 * ```ts
 * import { Command } from "effect/cli"
 * import { portFlag } from "../src/cli/console.ts"
 * const cmd = Command.make("x", { port: portFlag })
 * ```
 *
 * @since 0.1.0
 */
export const portFlag = Flag.Int("port").pipe(
  Flag.optional,
  Flag.withDescription(
    "port of the web console (default: a free one); it always listens on 127.0.0.1 only. With $TOOLGATE_CONSOLE_TOKEN set too, its address stays the same across restarts"
  )
)

/**
 * `--otlp`: where to export the gate's spans (OTLP/HTTP base URL).
 *
 * @example
 * ```ts
 * import { Command } from "effect/cli"
 * import { otlpFlag } from "../src/cli/console.ts"
 * const cmd = Command.make("x", { otlp: otlpFlag })
 * ```
 *
 * @since 0.1.0
 */
export const otlpFlag = Flag.String("otlp").pipe(
  Flag.optional,
  Flag.withDescription("export the gate's spans to this OTLP/HTTP collector (default: $OTEL_EXPORTER_OTLP_ENDPOINT, if set)")
)

/**
 * `--trace-params`: put each call's params (as asked and as executed) on its
 * `toolgate.call` span. Off by default: params can hold secrets, and a trace
 * collector is often kept longer and shared wider than an audit log.
 *
 * @example
 * ```ts
 * import { Command } from "effect/cli"
 * import { traceParamsFlag } from "../src/cli/console.ts"
 * const cmd = Command.make("x", { traceParams: traceParamsFlag })
 * ```
 *
 * @since 0.4.0
 */
export const traceParamsFlag = Flag.Boolean("trace-params").pipe(
  Flag.withDefault(false),
  Flag.withDescription("put each call's params (as asked and as executed) on its span; off by default, since params can hold secrets")
)

/**
 * The console would not be safe to start; reported like a port that cannot
 * be listened on.
 */
export class ConsoleSetupError extends Data.TaggedError("ServeError")<{ readonly message: string }> {}

/** `$TOOLGATE_CONSOLE_TOKEN`: a fixed login token; one too short to be a secret is an error, never used. */
const consoleToken = (): Effect.Effect<Option.Option<Redacted.Redacted<string>>, ConsoleSetupError> => {
  const token = process.env["TOOLGATE_CONSOLE_TOKEN"]?.trim()
  if (token === undefined || token === "") return Effect.succeed(Option.none())
  return token.length < 16
    ? Effect.fail(new ConsoleSetupError({ message: "$TOOLGATE_CONSOLE_TOKEN must be at least 16 characters" }))
    : Effect.succeed(Option.some(Redacted.make(token)))
}

/**
 * Starts a web console on `port` (or a free one) for the rest of the scope.
 * `parameters` gives a tool's parameters Schema by call name, to check a
 * reviewer's edits. The console's module (an HTTP server) is loaded only
 * here, so a run without `--approver web` does not load it.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { startConsole } from "../src/cli/console.ts"
 * const console = startConsole(Option.none(), () => undefined, "toolgate run")
 * ```
 *
 * @since 0.1.0
 */
export const startConsole = (
  port: Option.Option<number>,
  parameters: (name: string) => Schema.Top | undefined,
  title: string
) =>
  Effect.gen(function*() {
    // a stable address for long-lived gateways: a fixed --port and this token
    const token = yield* consoleToken()
    const module = yield* Effect.promise((): Promise<typeof WebConsole> => import("../node/WebConsole.ts"))
    return yield* module.make({
      port: Option.getOrUndefined(port),
      parameters,
      title: `${title} · approvals`,
      token: Option.getOrUndefined(token)
    })
  })
