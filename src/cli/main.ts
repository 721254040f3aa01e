/**
 * The `toolgate` command: a root command whose subcommands are the CLI's
 * tools. Add a subcommand by appending it to `subcommands`. Started by
 * `src/bin/toolgate.ts` once it has checked the Node version.
 *
 * @since 0.1.0
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { CliError, Command } from "effect/cli"
import { check, Exit, exitCodes } from "./check.ts"
import { approvals } from "./approvals.ts"
import { audit } from "./audit.ts"
import { mcp } from "./mcp.ts"
import { run } from "./run.ts"

const subcommands = [run, check, mcp, audit, approvals] as const

const toolgate = Command.make("toolgate").pipe(
  Command.withDescription("The tool gate for Effect agents"),
  Command.withSubcommands(subcommands)
)

Command.run(toolgate, { version: "0.1.0" }).pipe(
  // effect/cli has already printed what was wrong with the arguments; the
  // status says "bad input" rather than a generic failure.
  Effect.catchIf(CliError.isCliError, () => Effect.fail(new Exit({ code: exitCodes.BadInput }))),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain
)
