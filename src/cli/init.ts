/**
 * `toolgate init claude`: adds toolgate's hooks to a Claude Code settings
 * file (`.claude/settings.json` by default), merging: every other setting
 * and every other hook stays as it was, an earlier toolgate hook is
 * replaced rather than doubled, and a file that does not parse is left
 * untouched (exit 64). It prints what it changed.
 *
 * @since 0.3.0
 */
import { Console, Effect, FileSystem, Option, Path } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Exit, exitCodes } from "./check.ts"

/**
 * What to install: the command hook (one process per call; fails closed
 * even when nothing is listening) or the HTTP hook of `toolgate serve`.
 *
 * @since 0.3.0
 */
export interface InitOptions {
  readonly http: boolean
  readonly hookPort: number
  readonly command: string
  readonly policy: ReadonlyArray<string>
  readonly audit: Option.Option<string>
}

type Json = { [key: string]: unknown }
type HookEntry = { matcher?: string; hooks: Array<Json> }

const shellQuote = (word: string) => /^[\w@%+=:,./$"{}-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`

/** Whether a hook handler is one toolgate installed (to replace, not double). */
const isToolgate = (hook: Json): boolean =>
  (typeof hook["command"] === "string" && / check .*--hook claude/.test(hook["command"]) && hook["command"].includes("toolgate")) ||
  (typeof hook["url"] === "string" && hook["url"].endsWith("/hooks/claude"))

/**
 * The hook handler for one event.
 *
 * @since 0.3.0
 */
export const handlerFor = (options: InitOptions, event: "PreToolUse" | "PermissionRequest" | "PostToolUse"): Json => {
  if (options.http) {
    return {
      type: "http",
      url: `http://127.0.0.1:${options.hookPort}/hooks/claude`,
      headers: { Authorization: "Bearer $TOOLGATE_TOKEN" },
      allowedEnvVars: ["TOOLGATE_TOKEN"],
      // a PermissionRequest may wait for a person in the console
      ...(event === "PermissionRequest" ? { timeout: 600 } : {})
    }
  }
  const words = [
    options.command,
    "check",
    "--hook",
    "claude",
    ...options.policy.flatMap((p) => ["--policy", p]),
    ...Option.match(options.audit, { onNone: () => [], onSome: (a) => ["--audit", a] })
  ]
  return { type: "command", command: words.map(shellQuote).join(" ") }
}

/**
 * Merges toolgate's hooks into a settings object; returns the new object
 * and a line per change.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { merge } from "../src/cli/init.ts"
 * const { settings } = merge({ model: "opus" }, { http: false, hookPort: 7878, command: "toolgate", policy: [], audit: Option.none() })
 * Object.keys(settings) // => ["model", "hooks"]
 * ```
 *
 * @since 0.3.0
 */
export const merge = (settings: Json, options: InitOptions): { readonly settings: Json; readonly changes: ReadonlyArray<string> } => {
  const hooks: Json = typeof settings["hooks"] === "object" && settings["hooks"] !== null && !Array.isArray(settings["hooks"])
    ? { ...(settings["hooks"] as Json) }
    : {}
  const events = ["PreToolUse", "PermissionRequest", ...(Option.isSome(options.audit) ? ["PostToolUse" as const] : [])] as const
  const changes: Array<string> = []
  for (const event of events) {
    const entries = Array.isArray(hooks[event]) ? (hooks[event] as Array<HookEntry>) : []
    const handler = handlerFor(options, event)
    let replaced = false
    const kept = entries.map((entry) => {
      const others = (entry.hooks ?? []).filter((h) => !isToolgate(h))
      if (others.length !== (entry.hooks ?? []).length) replaced = true
      return { ...entry, hooks: others }
    }).filter((entry) => entry.hooks.length > 0)
    hooks[event] = [...kept, { matcher: "*", hooks: [handler] }]
    changes.push(`${replaced ? "replaced" : "added"} the ${event} hook: ${handler["command"] ?? handler["url"]}`)
  }
  return { settings: { ...settings, hooks }, changes }
}

/**
 * The `init` subcommand.
 *
 * @since 0.3.0
 */
export const init = Command.make("init", {
  agent: Argument.Literals("agent", ["claude"]).pipe(Argument.withDescription("whose settings to add toolgate's hooks to")),
  settings: Flag.String("settings").pipe(
    Flag.withDefault(".claude/settings.json"),
    Flag.withDescription("the settings file to merge into (created when missing)")
  ),
  http: Flag.Boolean("http").pipe(Flag.withDefault(false), Flag.withDescription("install the HTTP hook of `toolgate serve` instead of the command hook")),
  hookPort: Flag.Int("hook-port").pipe(Flag.withDefault(7878), Flag.withDescription("with --http: the port toolgate serve listens on")),
  command: Flag.String("command").pipe(Flag.withDefault("toolgate"), Flag.withDescription("how the hook starts toolgate (default: toolgate on PATH)")),
  policy: Flag.String("policy").pipe(
    Flag.atLeast(0),
    Flag.withDescription("policy files for the command hook (default: optional:$HOME/.toolgate.json and optional:\"$CLAUDE_PROJECT_DIR\"/.toolgate.json)")
  ),
  audit: Flag.String("audit").pipe(Flag.optional, Flag.withDescription("also record PostToolUse and decisions in this audit log"))
}, (flags) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const bad = (message: string) => Effect.flatMap(Console.error(`toolgate init: ${message}`), () => Effect.fail(new Exit({ code: exitCodes.BadInput })))
    const exists = yield* fs.exists(flags.settings).pipe(Effect.orElseSucceed(() => false))
    let settings: Json = {}
    if (exists) {
      const text = yield* fs.readFileString(flags.settings).pipe(Effect.catch((e) => bad(`cannot read ${flags.settings} (${e.message})`)))
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch (error) {
        return yield* bad(`${flags.settings} is not valid JSON (${(error as Error).message}); left it as it was`)
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return yield* bad(`${flags.settings} is not a JSON object; left it as it was`)
      settings = parsed as Json
    }
    const policy = flags.policy.length > 0 ? flags.policy : ["optional:$HOME/.toolgate.json", `optional:"$CLAUDE_PROJECT_DIR"/.toolgate.json`]
    const { settings: merged, changes } = merge(settings, { ...flags, policy })
    yield* fs.makeDirectory(path.dirname(flags.settings), { recursive: true }).pipe(Effect.catch((e) => bad(e.message)))
    yield* fs.writeFileString(flags.settings, JSON.stringify(merged, null, 2) + "\n").pipe(Effect.catch((e) => bad(e.message)))
    yield* Console.log([`toolgate init: ${exists ? "updated" : "created"} ${flags.settings}`, ...changes.map((c) => `  ${c}`)].join("\n"))
    if (flags.http) {
      yield* Console.log(`  start the server with: TOOLGATE_TOKEN=… toolgate serve --hook-port ${flags.hookPort} --policy …`)
      yield* Console.log(`  note: Claude Code runs a tool when an HTTP hook cannot be reached; the command hook has no such gap`)
    }
  })).pipe(Command.withDescription("Add toolgate's hooks to Claude Code's settings (.claude/settings.json), merging with what is there"))
