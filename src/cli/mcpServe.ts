/**
 * What `toolgate mcp` does once its flags are read: load the configuration
 * and the policy, start the approver (and the console), start the gateway
 * and serve it on stdio. Loaded by `mcp.ts` only when the subcommand runs,
 * so the other subcommands do not pay for the MCP and HTTP modules.
 *
 * @since 0.1.0
 */
import { NodeStdio } from "@effect/platform-node"
import { Cause, Console, Duration, Exit as EffectExit, Fiber, Effect, Layer, Logger, Option, PubSub, type Schema } from "effect"
import { FetchHttpClient } from "effect/http"
import * as NodePath from "node:path"
import * as Approval from "../Approval.ts"
import * as AuditLog from "../node/AuditLog.ts"
import * as Executor from "../Executor.ts"
import * as McpGateway from "../node/McpGateway.ts"
import * as Tracing from "../node/Tracing.ts"
import * as PolicyFile from "../policy/PolicyFile.ts"
import * as PolicyRules from "../policy/PolicyRules.ts"
import * as ToolEvents from "../ToolEvents.ts"
import { Exit, exitCodes } from "./check.ts"
import { startConsole } from "./console.ts"
import * as Environment from "./environment.ts"
import { environment } from "./options.ts"

/**
 * The parsed flags of `toolgate mcp`.
 *
 * @since 0.1.0
 */
export interface Flags {
  readonly config: string
  readonly policy: ReadonlyArray<string>
  readonly mode: Option.Option<PolicyRules.Mode>
  readonly approver: "deny" | "web"
  readonly audit: Option.Option<string>
  readonly port: Option.Option<number>
  readonly otlp: Option.Option<string>
  readonly traceParams: boolean
  readonly callTimeout: number
}

const bad = (message: string) =>
  Effect.flatMap(Console.error(`toolgate mcp: ${message}`), () => Effect.fail(new Exit({ code: exitCodes.BadInput })))

const openConsole = (port: Option.Option<number>, parameters: (name: string) => Schema.Top | undefined) =>
  startConsole(port, parameters, "toolgate mcp").pipe(
    Effect.tap((console) => Console.error(`toolgate mcp: approve calls at ${console.url}`)),
    Effect.catchTag("ServeError", (e) => bad(`the web console could not listen: ${e.message}`))
  )

/**
 * Runs the gateway until stdin closes.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { serve } from "../src/cli/mcpServe.ts"
 * const program = serve({ config: "mcp.json", policy: [], mode: Option.none(), approver: "deny",
 *   audit: Option.none(), port: Option.none(), otlp: Option.none(), traceParams: false, callTimeout: 60 })
 * ```
 *
 * @since 0.1.0
 */
export const serve = (flags: Flags) =>
  Effect.scoped(Effect.gen(function*() {
    if (flags.callTimeout < 1) return yield* bad("--call-timeout must be at least 1 second")
    const config = yield* McpGateway.loadConfig(flags.config).pipe(Effect.catchTag("McpConfigError", (e) => bad(e.message)))
    const root = process.cwd()
    const policyLayer = flags.policy.length === 0
      ? Layer.empty
      : yield* Environment.policyFiles(flags.policy).pipe(
        Effect.flatMap(PolicyFile.load),
        Effect.flatMap((policy) => Effect.map(environment(root, flags.mode), (env) => PolicyRules.layer(policy.rules, env))),
        Effect.catchTag("PolicyFileError", (e) => bad(e.message))
      )
    // The console starts before the gateway (the gateway's calls need an
    // approver), yet checks edited params with the gateway's tool schemas:
    // it looks them up when a reviewer edits, once the gateway exists.
    const tools: { parameters: McpGateway.Gateway["parameters"] } = { parameters: () => undefined }
    // One event hub for the command: the audit log writes from it and the
    // console shows from it how each answered call really ended.
    const hub = Layer.succeed(ToolEvents.ToolEvents, yield* PubSub.unbounded<ToolEvents.ToolEvent>())
    const approvalLayer = flags.approver === "web"
      ? Approval.layer((yield* openConsole(flags.port, (name) => tools.parameters(name)).pipe(Effect.provide(hub))).handler)
      : Approval.layer(Approval.denyAll(
        "nobody is there to approve it (the gateway runs with --approver deny); allow it in the policy or use --approver web"
      ))
    const events = Option.isSome(flags.audit)
      ? AuditLog.layer(NodePath.resolve(flags.audit.value)).pipe(Layer.provideMerge(hub))
      : hub

    yield* Console.error(
      `toolgate mcp: gating ${Object.keys(config.mcpServers).join(", ")}; ` +
        `policy ${flags.policy.length === 0 ? "none (every call is asked)" : flags.policy.join(", ")}; approver ${flags.approver}`
    )
    // Built in the command's scope, not provided to `make` alone: the audit
    // log's writer must outlive start-up.
    const services = yield* Layer.build(Layer.mergeAll(policyLayer, approvalLayer, events, FetchHttpClient.layer))
    // An upstream that does not start is reported and retried by the gateway.
    const gateway = yield* McpGateway.make({ config, callTimeout: Duration.seconds(flags.callTimeout) }).pipe(
      Effect.provide(services)
    )
    tools.parameters = gateway.parameters
    // When the client closes stdin, effect's stdio transport interrupts the
    // fiber that built the server: that is the session's normal end, so the
    // server runs in a fiber of its own and its interruption ends the
    // command with exit 0. (A signal interrupts the whole program instead
    // and still exits 130.)
    const server = yield* Effect.forkChild(Layer.launch(McpGateway.serveStdio(gateway).pipe(Layer.provide(NodeStdio.layer))))
    const ended = yield* Fiber.await(server)
    if (EffectExit.isFailure(ended) && !Cause.hasInterruptsOnly(ended.cause)) return yield* Effect.failCause(ended.cause)
  })).pipe(
    Effect.provide(Tracing.layerFromEnv(flags.otlp)),
    Effect.provideService(Executor.TraceParams, flags.traceParams),
    Effect.catchTag("ConfigError", (e) => bad(`bad OpenTelemetry settings: ${e.message}`)),
    // stdout carries the protocol: logs, from anywhere, go to stderr
    Effect.provideService(Logger.LogToStderr, true)
  )
