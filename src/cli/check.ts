/**
 * `toolgate check`: judges one tool call against policy files and prints the
 * verdict, the deciding rule and the per-segment breakdown, or runs the
 * policy's self-tests. The exit status is the verdict — 0 allow, 1 ask,
 * 2 deny — so scripts and CI can gate on it; 64 means the input (flags,
 * call JSON or a policy file) was bad and nothing was judged.
 *
 * Two streaming forms serve other programs: `--jsonl` answers one call per
 * stdin line with one JSON line (a bad line is denied with an error and the
 * stream goes on), and `--hook claude` reads one Claude Code PreToolUse hook
 * payload and answers in Claude Code's hook output format, so the rules can
 * guard a Claude Code session. Both fail closed: what cannot be judged is
 * denied.
 *
 * @since 0.1.0
 */
import { Console, Data, Effect, Option, Result, Runtime, Schema, Stream } from "effect"
import * as Stdio from "effect/Stdio"
import { Argument, Command, Flag } from "effect/cli"
import * as NodePath from "node:path"
import * as PolicyFile from "../policy/PolicyFile.ts"
import * as PolicyRules from "../policy/PolicyRules.ts"
import { environment, policyFiles } from "./environment.ts"
import { failure } from "./hook/claude.ts"
import { respond } from "./hook/command.ts"
import { modeFlag, policyFlag } from "./options.ts"
import * as ToolPolicy from "../ToolPolicy.ts"

/**
 * The process exit status `toolgate` ends with when it did its job but the
 * answer is not "allow" (1 ask, 2 deny, 1 failing self-tests), or when its
 * input was bad (64, after printing why). Already reported: the runtime does
 * not log it again.
 *
 * @example
 * ```ts
 * import { Exit } from "../src/cli/check.ts"
 * new Exit({ code: 2 })
 * ```
 *
 * @since 0.1.0
 */
export class Exit extends Data.TaggedError("toolgate/cli/Exit")<{ readonly code: number }> {
  override get [Runtime.errorExitCode](): number {
    return this.code
  }
  // `false` tells the runtime not to log it: toolgate printed what mattered.
  override get [Runtime.errorReported](): boolean {
    return false
  }
}

/**
 * Exit statuses by verdict, and for bad input (64, BSD's `EX_USAGE`).
 *
 * @example
 * ```ts
 * import { exitCodes } from "../src/cli/check.ts"
 * exitCodes.Deny // 2
 * ```
 *
 * @since 0.1.0
 */
export const exitCodes = { Allow: 0, Ask: 1, Deny: 2, BadInput: 64 } as const

const Call = Schema.Struct({ name: Schema.String, input: Schema.Unknown })

// Claude Code's PreToolUse hook payload: the fields toolgate reads (the
// payload also carries session_id, transcript_path, permission_mode,
// hook_event_name and tool_use_id, which are ignored).
const HookPayload = Schema.Struct({
  tool_name: Schema.String,
  tool_input: Schema.Unknown,
  cwd: Schema.optional(Schema.String)
})

/**
 * One answer of `toolgate check --jsonl`: the input's `id` when it had one
 * (a string or a number, so a caller can pair answers with calls), the
 * verdict, the deciding rule as one line (`deny Bash(rm:*)`, `default ask`,
 * `engine unparseable`), the reason, and `error` when the line could not be
 * read (the verdict is then deny).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Answer } from "../src/cli/check.ts"
 * Schema.decodeUnknownSync(Answer)({ verdict: "deny", rule: "deny Bash(rm:*)", reason: "denied" })
 * ```
 *
 * @since 0.2.0
 */
export const Answer = Schema.Struct({
  id: Schema.optional(Schema.Union([Schema.String, Schema.Number])),
  verdict: Schema.Literals(["allow", "ask", "deny"]),
  rule: Schema.NullOr(Schema.String),
  reason: Schema.NullOr(Schema.String),
  segment: Schema.optional(Schema.String),
  error: Schema.optional(Schema.String)
})

/**
 * @since 0.2.0
 */
export type Answer = typeof Answer.Type

/**
 * A call read from a line: toolgate's own `{"name", "input"}` or Claude
 * Code's hook payload `{"tool_name", "tool_input", "cwd"}`, or why it cannot
 * be read.
 *
 * @example
 * ```ts
 * import { readCall } from "../src/cli/check.ts"
 * readCall('{"tool_name":"Bash","tool_input":{"command":"ls"}}') // => { _tag: "Call", name: "Bash", input: { command: "ls" }, cwd: undefined }
 * ```
 *
 * @since 0.2.0
 */
export const readCall = (line: string):
  | { readonly _tag: "Call"; readonly name: string; readonly input: unknown; readonly cwd: string | undefined; readonly id?: string | number }
  | { readonly _tag: "Bad"; readonly error: string; readonly id?: string | number } =>
{
  if (line.trim() === "") return { _tag: "Bad", error: "the line is empty" }
  let json: unknown
  try {
    json = JSON.parse(line)
  } catch (error) {
    return { _tag: "Bad", error: `not valid JSON (${(error as Error).message.split("\n")[0]})` }
  }
  const id = idOf(json)
  const withId = id === undefined ? {} : { id }
  const hook = Schema.decodeUnknownResult(HookPayload)(json)
  if (Result.isSuccess(hook)) return { _tag: "Call", name: hook.success.tool_name, input: hook.success.tool_input, cwd: hook.success.cwd, ...withId }
  const call = Schema.decodeUnknownResult(Call)(json)
  if (Result.isSuccess(call)) return { _tag: "Call", name: call.success.name, input: call.success.input, cwd: undefined, ...withId }
  return {
    _tag: "Bad",
    error: `a call looks like {"name": "...", "input": {...}} or a Claude Code hook payload {"tool_name": "...", "tool_input": {...}}`,
    ...withId
  }
}

// The caller's id for a line, when it gave one: `id`, or a hook payload's
// `tool_use_id`.
const idOf = (json: unknown): string | number | undefined => {
  if (typeof json !== "object" || json === null) return undefined
  const { id, tool_use_id } = json as { id?: unknown; tool_use_id?: unknown }
  if (typeof id === "string" || (typeof id === "number" && Number.isFinite(id))) return id
  return typeof tool_use_id === "string" ? tool_use_id : undefined
}

/**
 * The answer to one line, as `--jsonl` prints it. A line that cannot be
 * read is denied: the stream's reader must never take silence for consent.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PolicyRules } from "toolgate/policy"
 * import { answerLine } from "../src/cli/check.ts"
 * const rules = Effect.runSync(PolicyRules.make({ deny: ["Bash(rm:*)"] }))
 * Effect.runSync(answerLine(rules, { root: "/repo", home: "/home/me" }, '{"name":"Bash","input":{"command":"rm x"}}')).verdict // => "deny"
 * ```
 *
 * @since 0.2.0
 */
export const answerLine = (
  rules: PolicyRules.Rules,
  env: PolicyRules.Environment,
  line: string,
  options: { readonly rootGiven?: boolean } = {}
): Effect.Effect<Answer> => {
  const call = readCall(line)
  const id = call.id === undefined ? {} : { id: call.id }
  if (call._tag === "Bad") {
    return Effect.succeed({ ...id, verdict: "deny", rule: null, reason: `the line cannot be judged: ${call.error}`, error: call.error })
  }
  return Effect.map(
    PolicyRules.explain(
      rules,
      { name: call.name, params: call.input },
      // a hook payload names its own working directory; --root overrides it
      call.cwd === undefined || options.rootGiven === true ? env : { ...env, root: call.cwd }
    ),
    ({ verdict }): Answer => ({
      ...id,
      verdict: lower(verdict),
      rule: verdict.match === undefined ? null : describeMatch(verdict.match),
      reason: reasonOf(verdict) ?? null,
      ...(verdict.match?.segment === undefined ? {} : { segment: verdict.match.segment })
    })
  )
}

const badInput = (message: string) =>
  Effect.flatMap(Console.error(`toolgate check: ${message}`), () => Effect.fail(new Exit({ code: exitCodes.BadInput })))

const describeMatch = (match: ToolPolicy.Match | undefined) =>
  match === undefined ? "(none)" : ToolPolicy.describeMatch(match, " ")

const reasonOf = (verdict: ToolPolicy.Verdict): string | undefined =>
  verdict._tag === "Allow" ? undefined : verdict.reason

const lower = (verdict: ToolPolicy.Verdict) => verdict._tag === "Allow" ? "allow" as const : verdict._tag === "Ask" ? "ask" as const : "deny" as const

/**
 * Formats an explanation the way `toolgate check` prints it.
 *
 * @example
 * ```ts
 * import { ToolPolicy } from "toolgate"
 * import { render } from "../src/cli/check.ts"
 * const verdict = ToolPolicy.Verdict.Allow({ match: { _tag: "Rule", list: "allow", rule: "Read" } })
 * render({ verdict, segments: [{ text: "a.txt", verdict }] })
 * ```
 *
 * @since 0.1.0
 */
export const render = (explanation: PolicyRules.Explanation): string => {
  const { verdict, segments } = explanation
  const lines = [`verdict: ${lower(verdict)}`, `rule:    ${describeMatch(verdict.match)}`]
  if (verdict.match?.segment !== undefined) lines.push(`segment: ${verdict.match.segment}`)
  const reason = reasonOf(verdict)
  if (reason !== undefined) lines.push(`reason:  ${reason}`)
  lines.push("segments:")
  const width = Math.min(60, Math.max(...segments.map((s) => s.text.length), 7))
  for (const s of segments) {
    const text = s.text.length > width ? `${s.text.slice(0, width - 1)}…` : s.text.padEnd(width)
    lines.push(`  ${lower(s.verdict).padEnd(5)}  ${text.replace(/\n/g, "⏎")}  ${describeMatch(s.verdict.match)}`)
  }
  return lines.join("\n")
}

const rootFlag = Flag.String("root").pipe(
  Flag.optional,
  Flag.withDescription("directory relative paths and ./ rules resolve against (default: the current directory)")
)
const selfTestFlag = Flag.Boolean("self-test").pipe(
  Flag.withDefault(false),
  Flag.withDescription("run the policy files' self-tests")
)
const jsonlFlag = Flag.Boolean("jsonl").pipe(
  Flag.withDefault(false),
  Flag.withDescription("read one call per stdin line, answer one JSON line each: {verdict, rule, reason}")
)
const hookFlag = Flag.Literals("hook", ["claude"]).pipe(
  Flag.optional,
  Flag.withDescription("read one hook payload on stdin and answer in that agent's hook format (claude: Claude Code PreToolUse, PermissionRequest, PostToolUse); every failure blocks the call")
)
const unmatchedFlag = Flag.Literals("unmatched", ["defer", "ask"]).pipe(
  Flag.withDefault("defer" as const),
  Flag.withDescription("hook mode: a call no rule mentions gets no opinion (defer: Claude Code's own flow decides) or a forced prompt (ask)")
)
const auditFlag = Flag.String("audit").pipe(
  Flag.optional,
  Flag.withDescription("hook mode: append the policy's allow/deny decisions and PostToolUse reports to this audit log (JSON lines)")
)
const callArgument = Argument.String("call").pipe(
  Argument.optional,
  Argument.withDescription(`the tool call as JSON: {"name": "Bash", "input": {"command": "git status"}}`)
)

/**
 * The `check` subcommand.
 *
 * @example
 * ```ts
 * import { Command } from "effect/cli"
 * import { check } from "../src/cli/check.ts"
 * const root = Command.make("toolgate").pipe(Command.withSubcommands([check]))
 * ```
 *
 * @since 0.1.0
 */
export const check = Command.make("check", {
  policy: policyFlag,
  mode: modeFlag,
  root: rootFlag,
  selfTest: selfTestFlag,
  jsonl: jsonlFlag,
  hook: hookFlag,
  unmatched: unmatchedFlag,
  audit: auditFlag,
  call: callArgument
}, (config) =>
  Effect.gen(function*() {
    const modes = [config.selfTest, config.jsonl, Option.isSome(config.hook), Option.isSome(config.call)].filter(Boolean).length
    if (modes > 1) return yield* badInput("give one of --self-test, --jsonl, --hook or a call")
    // The hook loads its policy itself: in hook mode a broken policy must
    // block the call, not end in "bad input" (which Claude Code ignores).
    if (Option.isSome(config.hook)) return yield* hook(config)
    const policy = yield* policyFiles(config.policy).pipe(
      Effect.flatMap(PolicyFile.load),
      Effect.catchTag("PolicyFileError", (e) => badInput(e.message))
    )
    for (const w of policy.warnings) {
      yield* Console.error(`toolgate check: warning: ${w.file} at ${w.path} ${JSON.stringify(w.rule)}: ${w.problem}`)
    }
    const root = NodePath.resolve(Option.getOrElse(config.root, () => process.cwd()))
    const env = yield* environment(root, Option.getOrUndefined(config.mode))
    if (config.selfTest) return yield* selfTests(policy, env)
    // A hook payload names its own working directory; --root overrides it.
    const rootGiven = Option.isSome(config.root)
    if (config.jsonl) return yield* jsonl(policy.rules, env, rootGiven)
    if (Option.isNone(config.call)) return yield* badInput(`give a call as JSON, e.g. '{"name":"Bash","input":{"command":"git status"}}', --jsonl, --hook claude or --self-test`)
    const call = readCall(config.call.value)
    if (call._tag === "Bad") return yield* badInput(`the call is ${call.error.startsWith("not valid") ? call.error : `not a call: ${call.error}`}`)
    const explanation = yield* PolicyRules.explain(policy.rules, { name: call.name, params: call.input }, env)
    yield* Console.log(render(explanation))
    const code = exitCodes[explanation.verdict._tag]
    if (code !== 0) return yield* Effect.fail(new Exit({ code }))
  })).pipe(Command.withDescription(
    "Judge one tool call against policy files, a stream of calls (--jsonl), a Claude Code hook payload (--hook claude), or run their self-tests (exit 0 allow, 1 ask, 2 deny, 64 bad input)"
  ))

const selfTests = (policy: PolicyFile.Policy, env: PolicyRules.Environment) =>
  Effect.gen(function*() {
    if (policy.tests.length === 0) {
      yield* Console.error(`toolgate check: the policy has no self-tests; add a "tests" array to a policy file`)
      return yield* Effect.fail(new Exit({ code: 1 }))
    }
    const results = yield* PolicyFile.selfTest(policy, env)
    for (const r of results) {
      const got = `${lower(r.verdict)} (${describeMatch(r.verdict.match)})`
      yield* Console.log(
        `${r.passed ? "pass" : "FAIL"}  ${r.file} tests[${r.index}]  ${r.test.call.name} ${JSON.stringify(r.test.call.input)}  expected ${r.test.expect}, got ${got}`
      )
    }
    const failed = results.filter((r) => !r.passed).length
    yield* Console.log(`${results.length - failed} passed, ${failed} failed`)
    if (failed > 0) return yield* Effect.fail(new Exit({ code: 1 }))
  })

const jsonl = (rules: PolicyRules.Rules, env: PolicyRules.Environment, rootGiven: boolean) =>
  Effect.gen(function*() {
    const stdio = yield* Stdio.Stdio
    const encode = Schema.encodeSync(Schema.fromJsonString(Answer))
    yield* stdio.stdin.pipe(
      Stream.decodeText,
      Stream.splitLines,
      Stream.mapEffect((line) => answerLine(rules, env, line, { rootGiven })),
      Stream.runForEach((answer) => Console.log(encode(answer)))
    )
  }).pipe(Effect.catchTag("PlatformError", (e) => badInput(`cannot read stdin (${e.message})`)))

const hook = (config: HookFlags) =>
  Effect.gen(function*() {
    const stdio = yield* Stdio.Stdio
    const text = yield* stdio.stdin.pipe(Stream.decodeText, Stream.mkString)
    const reply = yield* respond({
      policy: config.policy,
      mode: Option.getOrUndefined(config.mode),
      root: Option.getOrUndefined(config.root),
      unmatched: config.unmatched,
      audit: Option.getOrUndefined(config.audit)
    }, text)
    if (reply.body !== undefined) yield* Console.log(JSON.stringify(reply.body))
    if (reply.stderr !== undefined) yield* Console.error(reply.stderr)
    if (reply.exitCode !== 0) return yield* Effect.fail(new Exit({ code: reply.exitCode }))
  }).pipe(Effect.catchTag("PlatformError", (e) => {
    const reply = failure(`cannot read the hook input (${e.message})`)
    return Effect.flatMap(Console.error(reply.stderr), () => Effect.fail(new Exit({ code: reply.exitCode })))
  }))

interface HookFlags {
  readonly policy: ReadonlyArray<string>
  readonly mode: Option.Option<PolicyRules.Mode>
  readonly root: Option.Option<string>
  readonly unmatched: "defer" | "ask"
  readonly audit: Option.Option<string>
}
