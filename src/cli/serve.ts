/**
 * `toolgate serve`: answers Claude Code's HTTP hooks (`type: "http"`) on
 * loopback, with the policy loaded once; see `serveHooks.ts`, loaded only
 * when the subcommand runs.
 *
 * @since 0.3.0
 */
import { Console, Effect, Option, Redacted } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Exit, exitCodes } from "./check.ts"
import { portFlag } from "./console.ts"
import { modeFlag, policyFlag } from "./options.ts"


/**
 * The `serve` subcommand.
 *
 * @since 0.3.0
 */
export const serve = Command.make("serve", {
  policy: policyFlag,
  mode: modeFlag,
  root: Flag.String("root").pipe(Flag.optional, Flag.withDescription("root for relative paths (default: each payload's cwd)")),
  hookPort: Flag.Int("hook-port").pipe(Flag.withDefault(7878), Flag.withDescription("port for Claude Code's HTTP hooks, on 127.0.0.1 (0: a free one)")),
  tokenFile: Flag.String("token-file").pipe(
    Flag.optional,
    Flag.withDescription("read the hook token from this file (default: $TOOLGATE_TOKEN, else a new random one printed at start)")
  ),
  approver: Flag.Literals("approver", ["none", "web"]).pipe(
    Flag.withDefault("none" as const),
    Flag.withDescription("who answers a PermissionRequest the policy leaves open: none (Claude Code's own prompt) or web (the console)")
  ),
  port: portFlag,
  unmatched: Flag.Literals("unmatched", ["defer", "ask"]).pipe(
    Flag.withDefault("defer" as const),
    Flag.withDescription("a call no rule mentions gets no opinion (defer) or a forced prompt (ask)")
  ),
  audit: Flag.String("audit").pipe(Flag.optional, Flag.withDescription("append decisions and PostToolUse reports to this audit log")),
  hook: Argument.Literals("agent", ["claude"]).pipe(Argument.withDefault("claude" as const), Argument.withDescription("whose hooks to answer"))
}, (flags) =>
  Effect.scoped(Effect.gen(function*() {
    const { start } = yield* Effect.promise(() => import("./serveHooks.ts"))
    const server = yield* start(flags).pipe(
      Effect.catch((e) =>
        Effect.flatMap(Console.error(`toolgate serve: ${"message" in e ? e.message : String(e)}`), () => Effect.fail(new Exit({ code: exitCodes.BadInput })))
      )
    )
    const fromEnv = Option.isNone(flags.tokenFile) && process.env["TOOLGATE_TOKEN"] !== undefined
    yield* Console.error([
      `toolgate serve: answering Claude Code hooks at ${server.url}`,
      fromEnv || Option.isSome(flags.tokenFile) ? `  token: from ${fromEnv ? "$TOOLGATE_TOKEN" : Option.getOrElse(flags.tokenFile, () => "")}` : `  token: export TOOLGATE_TOKEN=${Redacted.value(server.token)}`,
      ...Option.match(server.console, { onNone: () => [], onSome: (c) => [`  console: ${c.url}`] }),
      `  add it to .claude/settings.json with: toolgate init claude --http --hook-port ${server.port}`
    ].join("\n"))
    return yield* Effect.never
  }))).pipe(Command.withDescription("Answer Claude Code's HTTP hooks on loopback (policy loaded once; PermissionRequest to the web console with --approver web)"))

/**
 * @since 0.3.0
 */
export type { Flags } from "./serveHooks.ts"
