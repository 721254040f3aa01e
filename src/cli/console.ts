/**
 * What `toolgate run` and `toolgate mcp` share for the web console and
 * tracing: the `--approver web`, `--port` and `--otlp` flags, and starting a
 * console whose URL is printed where only the user sees it.
 *
 * @since 0.1.0
 */
import { Effect, Option, type Schema } from "effect"
import { Flag } from "effect/cli"
import * as WebConsole from "../node/WebConsole.ts"

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
  Flag.withDescription("port of the web console (default: a free one); it always listens on 127.0.0.1 only")
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
 * Starts a web console on `port` (or a free one) for the rest of the scope.
 * `parameters` gives a tool's parameters Schema by call name, to check a
 * reviewer's edits.
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
) => WebConsole.make({ port: Option.getOrUndefined(port), parameters, title: `${title} · approvals` })
