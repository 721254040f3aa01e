/**
 * The `toolgate` command: a root command whose subcommands are the CLI's
 * tools. Add a subcommand by appending it to `subcommands`. Started by
 * `src/bin/toolgate.ts` once it has checked the Node version.
 *
 * @since 0.1.0
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { CliError, CliOutput, Command } from "effect/cli"
import { check, Exit, exitCodes } from "./check.ts"
import { approvals } from "./approvals.ts"
import { init } from "./init.ts"
import { serve } from "./serve.ts"
import { audit } from "./audit.ts"
import { mcp } from "./mcp.ts"
import { run } from "./run.ts"
import { sandbox } from "./sandbox.ts"

const subcommands = [run, check, serve, init, mcp, audit, approvals, sandbox] as const

const toolgate = Command.make("toolgate").pipe(
  Command.withDescription("The tool gate for Effect agents"),
  Command.withSubcommands(subcommands)
)

// A mistyped flag is answered with the error and effect/cli's suggestion
// first, then the usage line and where the full help is: not 40 lines of
// help with the error at the end, out of sight.
const presenter = CliOutput.layerPresenter({
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.gen(function*() {
        const formatter = yield* CliOutput.Formatter
        yield* Console.error(formatter.formatErrors(event.errors).trim())
        yield* Console.error(`\nusage: ${event.helpDoc.usage}\n(${event.commandPath.join(" ")} --help for every flag)`)
      })
      : CliOutput.defaultPresenter.present(event)
})

Command.run(toolgate, { version: "0.1.0" }).pipe(
  // effect/cli has already printed what was wrong with the arguments; the
  // status says "bad input" rather than a generic failure.
  Effect.catchIf(CliError.isCliError, () => Effect.fail(new Exit({ code: exitCodes.BadInput }))),
  Effect.provide([NodeServices.layer, presenter]),
  NodeRuntime.runMain
)
