/**
 * The command hook: `toolgate check --hook claude` as its own small process
 * entry. Claude Code starts it for every tool call, so it must cost little
 * more than a bare Node start: `src/bin/toolgate.ts` routes hook mode here
 * before loading `effect/cli` and the other commands, and the published
 * package runs this module bundled into one file (`npm run build`), which
 * spares Node resolving and compiling hundreds of modules.
 *
 * Its flags are read with Node's own `util.parseArgs` rather than
 * `effect/cli` for the same reason; they are the hook flags of `toolgate
 * check` (see `check.ts`, whose `--hook` branch runs {@link respond} too,
 * so both paths answer alike).
 *
 * Every failure blocks the call: a flag it does not know, a policy file
 * that is missing or broken, a payload it cannot read, a defect. Claude
 * Code runs the tool when a hook exits with anything but 0 or 2.
 *
 * @since 0.3.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { parseArgs } from "node:util"
import * as PolicyFile from "../../policy/PolicyFile.ts"
import type * as PolicyRules from "../../policy/PolicyRules.ts"
import { environment, policyFiles } from "../environment.ts"
import * as Claude from "./claude.ts"

/**
 * The hook's flags, as `toolgate check` takes them.
 *
 * @since 0.3.0
 */
export interface HookArgs {
  readonly policy: ReadonlyArray<string>
  readonly mode?: PolicyRules.Mode | undefined
  readonly root?: string | undefined
  readonly unmatched: Claude.Unmatched
  readonly audit?: string | undefined
}

const modes: ReadonlyArray<string> = ["default", "plan", "acceptEdits", "bypass"]

/**
 * Reads the hook's flags from `toolgate check ... --hook claude` argv (the
 * words after `check`); throws with a message for anything else.
 *
 * @example
 * ```ts
 * import { parseHookArgs } from "../src/cli/hook/command.ts"
 * parseHookArgs(["--policy", "p.json", "--hook", "claude"]).policy // => ["p.json"]
 * ```
 *
 * @since 0.3.0
 */
export const parseHookArgs = (argv: ReadonlyArray<string>): HookArgs => {
  const { values, positionals } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      policy: { type: "string", multiple: true },
      mode: { type: "string" },
      root: { type: "string" },
      hook: { type: "string" },
      unmatched: { type: "string" },
      audit: { type: "string" }
    }
  })
  if (positionals.length > 0) throw new Error(`unexpected argument ${JSON.stringify(positionals[0])}: the hook reads its payload on stdin`)
  if (values.hook !== "claude") throw new Error(`--hook takes "claude", not ${JSON.stringify(values.hook)}`)
  if (values.policy === undefined || values.policy.length === 0) throw new Error("give at least one --policy file")
  if (values.mode !== undefined && !modes.includes(values.mode)) throw new Error(`--mode takes one of ${modes.join(", ")}, not ${JSON.stringify(values.mode)}`)
  if (values.unmatched !== undefined && values.unmatched !== "defer" && values.unmatched !== "ask") {
    throw new Error(`--unmatched takes "defer" or "ask", not ${JSON.stringify(values.unmatched)}`)
  }
  return {
    policy: values.policy,
    mode: values.mode as PolicyRules.Mode | undefined,
    root: values.root,
    unmatched: (values.unmatched ?? "defer") as Claude.Unmatched,
    audit: values.audit
  }
}

const eventOf = (input: string): string | undefined => {
  try {
    const event = (JSON.parse(input) as { hook_event_name?: unknown }).hook_event_name
    return typeof event === "string" ? event : undefined
  } catch {
    return undefined
  }
}

/**
 * The hook's reply to one payload: loads the policy, reads the payload,
 * judges or records it. Never fails: a failure is a blocking reply.
 *
 * @since 0.3.0
 */
export const respond = (args: HookArgs, input: string): Effect.Effect<Claude.Reply, never, FileSystem.FileSystem> => {
  const event = eventOf(input)
  return Effect.gen(function*() {
    const payload = Claude.readPayload(input)
    if (payload._tag === "Bad") return Claude.failure(payload.error)
    if (payload._tag === "Other") return Claude.noOpinion
    if (payload._tag === "Post") {
      if (args.audit !== undefined) yield* audit(args.audit, payload.payload, undefined)
      return Claude.noOpinion
    }
    const files = yield* policyFiles(args.policy)
    const policy = yield* PolicyFile.load(files)
    const root = NodePath.resolve(args.root ?? process.cwd())
    const env = yield* environment(root, undefined)
    const gate: Claude.Gate = { rules: policy.rules, env, mode: args.mode, unmatched: args.unmatched, rootGiven: args.root !== undefined }
    const verdict = yield* Claude.judge(gate, payload.payload)
    if (args.audit !== undefined) yield* audit(args.audit, payload.payload, verdict)
    return Claude.replyFor(gate, payload.payload, verdict)
  }).pipe(
    Effect.catchCause((cause) => Effect.succeed(Claude.failure(describe(cause), event)))
  )
}

// The failure's own message (a PolicyFileError's names the file, the line
// and the problem), not the cause's rendering around it.
const describe = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  const text = error instanceof Error ? error.message : String(error)
  return (text.split("\n")[0] ?? "").trim() || "an unexpected error"
}

/**
 * Appends what the hook saw to the audit log: a `Decided` record for a
 * verdict toolgate gave (allow or deny), a `Finished` one when Claude Code
 * reports that the call ran. Loaded only when `--audit` is given.
 */
const audit = (
  file: string,
  payload: Claude.ToolPayload | Claude.PostPayload,
  verdict: import("../../ToolPolicy.ts").Verdict | undefined
) =>
  Effect.gen(function*() {
    if (verdict?._tag === "Ask") return
    const { hookRecord } = yield* Effect.promise(() => import("./audit.ts"))
    const line = hookRecord(payload, verdict, new Date().toISOString())
    const fs = yield* FileSystem.FileSystem
    yield* fs.writeFileString(file, line + "\n", { flag: "a" })
  })

/**
 * Runs the hook process: flags from `argv` (the words after `check`), the
 * payload from stdin, the answer on stdout (or stderr and exit status 2).
 *
 * @since 0.3.0
 */
export const main = async (argv: ReadonlyArray<string>): Promise<void> => {
  let args: HookArgs
  try {
    args = parseHookArgs(argv)
  } catch (error) {
    return finish(Claude.failure(`toolgate check --hook: ${(error as Error).message}`))
  }
  let input: string
  try {
    input = NodeFs.readFileSync(0, "utf8")
  } catch (error) {
    return finish(Claude.failure(`cannot read the hook input (${(error as Error).message})`))
  }
  finish(await Effect.runPromise(respond(args, input).pipe(Effect.provide(NodeFileSystem.layer))))
}

/**
 * Writes a reply the way a command hook answers and sets the exit status.
 *
 * @since 0.3.0
 */
export const finish = (reply: Claude.Reply): void => {
  if (reply.body !== undefined) process.stdout.write(JSON.stringify(reply.body) + "\n")
  if (reply.stderr !== undefined) process.stderr.write(reply.stderr + "\n")
  process.exitCode = reply.exitCode
}
