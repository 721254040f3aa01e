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
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { otlpFlag, portFlag, traceParamsFlag } from "./console.ts"
import { modeFlag } from "./options.ts"

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
  traceParams: traceParamsFlag,
  callTimeout: timeoutFlag
}, (flags) =>
  // the gateway, its HTTP console and the MCP modules load only when `mcp` runs
  Effect.flatMap(Effect.promise(() => import("./mcpServe.ts")), (m) => m.serve(flags))
).pipe(Command.withDescription("Serve MCP on stdio, gating every tool of the configured MCP servers"))
