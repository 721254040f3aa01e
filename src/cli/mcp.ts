/**
 * `toolgate mcp`: the gating MCP proxy on stdio. An MCP client (Claude
 * Desktop, Claude Code, any agent) starts it instead of its servers; it starts
 * the servers from the same `mcpServers` file and gates every call.
 *
 * stdout carries the protocol, so everything meant for a person (the console
 * URL, start-up problems) goes to stderr. Without `--approver web` nobody can
 * be asked, so whatever the policy asks about is denied.
 *
 * @since 0.1.0
 */
import { NodeStdio } from "@effect/platform-node"
import { Console, Duration, Effect, Layer, Logger, Option, type Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { FetchHttpClient } from "effect/http"
import * as NodePath from "node:path"
import * as Approval from "../Approval.ts"
import * as AuditLog from "../node/AuditLog.ts"
import * as McpGateway from "../node/McpGateway.ts"
import * as Tracing from "../node/Tracing.ts"
import * as PolicyFile from "../policy/PolicyFile.ts"
import * as PolicyRules from "../policy/PolicyRules.ts"
import * as ToolEvents from "../ToolEvents.ts"
import { Exit, exitCodes } from "./check.ts"
import { otlpFlag, portFlag, startConsole } from "./console.ts"
import { environment, modeFlag } from "./options.ts"

const bad = (message: string) =>
  Effect.flatMap(Console.error(`toolgate mcp: ${message}`), () => Effect.fail(new Exit({ code: exitCodes.BadInput })))

const configFlag = Flag.String("config").pipe(
  Flag.withDescription("MCP servers to gate: {\"mcpServers\": {NAME: {command, args, env} | {url}}}, as for Claude Desktop")
)
const policyFlag = Flag.String("policy").pipe(
  Flag.between(0, 16),
  Flag.withDescription("policy file (JSON); rules name tools mcp__NAME__TOOL, mcp__NAME__* or mcp__NAME. Without one, every call is asked")
)
const approverFlag = Flag.Literals("approver", ["deny", "web"]).pipe(
  Flag.withDefault("deny" as const),
  Flag.withDescription("who answers what the policy asks about: deny (nobody: denied) or web (a console on 127.0.0.1)")
)
const auditFlag = Flag.String("audit").pipe(
  Flag.optional,
  Flag.withDescription("append every decision to this file as JSON lines")
)
const timeoutFlag = Flag.Int("call-timeout").pipe(
  Flag.withDefault(60),
  Flag.withDescription("seconds an upstream call may take before the client gets an error result")
)

const openConsole = (port: Option.Option<number>, parameters: (name: string) => Schema.Top | undefined) =>
  startConsole(port, parameters, "toolgate mcp").pipe(
    Effect.tap((console) => Console.error(`toolgate mcp: approve calls at ${console.url}`)),
    Effect.catchTag("ServeError", (e) => bad(`the web console could not listen: ${e.message}`))
  )

/**
 * The `mcp` subcommand.
 *
 * @example
 * ```ts
 * import { Command } from "effect/cli"
 * import { mcp } from "../src/cli/mcp.ts"
 * const root = Command.make("toolgate").pipe(Command.withSubcommands([mcp]))
 * ```
 *
 * @since 0.1.0
 */
export const mcp = Command.make("mcp", {
  config: configFlag,
  policy: policyFlag,
  mode: modeFlag,
  approver: approverFlag,
  audit: auditFlag,
  port: portFlag,
  otlp: otlpFlag,
  callTimeout: timeoutFlag
}, (flags) =>
  Effect.scoped(Effect.gen(function*() {
    if (flags.callTimeout < 1) return yield* bad("--call-timeout must be at least 1 second")
    const config = yield* McpGateway.loadConfig(flags.config).pipe(Effect.catchTag("McpConfigError", (e) => bad(e.message)))
    const root = process.cwd()
    const policyLayer = flags.policy.length === 0
      ? Layer.empty
      : yield* PolicyFile.load(flags.policy).pipe(
        Effect.flatMap((policy) => Effect.map(environment(root, flags.mode), (env) => PolicyRules.layer(policy.rules, env))),
        Effect.catchTag("PolicyFileError", (e) => bad(e.message))
      )
    // The console starts before the gateway (the gateway's calls need an
    // approver), yet checks edited params with the gateway's tool schemas:
    // it looks them up when a reviewer edits, once the gateway exists.
    const tools: { parameters: McpGateway.Gateway["parameters"] } = { parameters: () => undefined }
    const approvalLayer = flags.approver === "web"
      ? Approval.layer((yield* openConsole(flags.port, (name) => tools.parameters(name))).handler)
      : Approval.layer(Approval.denyAll(
        "nobody is there to approve it (the gateway runs with --approver deny); allow it in the policy or use --approver web"
      ))
    const events = Option.isSome(flags.audit)
      ? AuditLog.layer(NodePath.resolve(flags.audit.value)).pipe(Layer.provideMerge(ToolEvents.layer))
      : Layer.empty

    yield* Console.error(
      `toolgate mcp: gating ${Object.keys(config.mcpServers).join(", ")}; ` +
        `policy ${flags.policy.length === 0 ? "none (every call is asked)" : flags.policy.join(", ")}; approver ${flags.approver}`
    )
    // Built in the command's scope, not provided to `make` alone: the audit
    // log's writer must outlive start-up.
    const services = yield* Layer.build(Layer.mergeAll(policyLayer, approvalLayer, events, FetchHttpClient.layer))
    const gateway = yield* McpGateway.make({ config, callTimeout: Duration.seconds(flags.callTimeout) }).pipe(
      Effect.provide(services),
      Effect.catchTag("UpstreamError", (e) => bad(e.message))
    )
    tools.parameters = gateway.parameters
    return yield* Layer.launch(McpGateway.serveStdio(gateway).pipe(Layer.provide(NodeStdio.layer)))
  })).pipe(
    Effect.provide(Tracing.layerFromEnv(flags.otlp)),
    Effect.catchTag("ConfigError", (e) => bad(`bad OpenTelemetry settings: ${e.message}`)),
    // stdout carries the protocol: logs, from anywhere, go to stderr
    Effect.provideService(Logger.LogToStderr, true)
  )).pipe(Command.withDescription("Serve MCP on stdio, gating every tool of the configured MCP servers"))
