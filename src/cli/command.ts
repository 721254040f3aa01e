/**
 * The `toolgate` command as an Effect: a root command whose subcommands are
 * the CLI's tools. Add a subcommand by appending it to `subcommands`.
 * `main.ts` runs it on the process's arguments with the Node services; tests
 * run it in-process on their own arguments, with a captured console and
 * terminal, since a spawned Node proves only that the binary starts.
 *
 * @since 0.3.0
 */
import { Console, Effect } from "effect"
import { CliError, CliOutput, Command } from "effect/cli"
import { approvals } from "./approvals.ts"
import { audit } from "./audit.ts"
import { check, Exit, exitCodes } from "./check.ts"
import { init } from "./init.ts"
import { mcp } from "./mcp.ts"
import { run } from "./run.ts"
import { sandbox } from "./sandbox.ts"
import { serve } from "./serve.ts"

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

/**
 * Runs `toolgate` on `args` (without the program name). A non-zero exit
 * status is a failure with `Exit`; bad arguments, which effect/cli has
 * already printed, are `Exit` 64.
 *
 * @example
 * ```ts
 * import { NodeRuntime, NodeServices } from "@effect/platform-node"
 * import { Effect } from "effect"
 * import { cli } from "../src/cli/command.ts"
 * cli(["check", "--help"]).pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
 * ```
 *
 * @since 0.3.0
 */
export const cli = (args: ReadonlyArray<string>) =>
  Command.runWith(toolgate, { version: "0.1.0" })(args).pipe(
    Effect.catchIf(CliError.isCliError, () => Effect.fail(new Exit({ code: exitCodes.BadInput }))),
    Effect.provide(presenter)
  )
