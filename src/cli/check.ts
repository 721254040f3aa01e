/**
 * `toolgate check`: judges one tool call against policy files and prints the
 * verdict, the deciding rule and the per-segment breakdown, or runs the
 * policy's self-tests. The exit status is the verdict — 0 allow, 1 ask,
 * 2 deny — so scripts and CI can gate on it; 64 means the input (flags,
 * call JSON or a policy file) was bad and nothing was judged.
 *
 * @since 0.1.0
 */
import { Console, Data, Effect, FileSystem, Option, Result, Runtime, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as NodePath from "node:path"
import * as PolicyFile from "../policy/PolicyFile.ts"
import * as PolicyRules from "../policy/PolicyRules.ts"
import { environment, modeFlag } from "./options.ts"
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

const badInput = (message: string) =>
  Effect.flatMap(Console.error(`toolgate check: ${message}`), () => Effect.fail(new Exit({ code: exitCodes.BadInput })))

const describeMatch = (match: ToolPolicy.Match | undefined) =>
  match === undefined ? "(none)" : ToolPolicy.describeMatch(match, " ")

const reasonOf = (verdict: ToolPolicy.Verdict): string | undefined =>
  verdict._tag === "Allow" ? undefined : verdict.reason

const lower = (verdict: ToolPolicy.Verdict) => verdict._tag.toLowerCase()

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

const policyFlag = Flag.String("policy").pipe(
  Flag.atLeast(1),
  Flag.withDescription("policy file (JSON, Claude Code settings shape); repeat to layer, lowest precedence first")
)
const rootFlag = Flag.String("root").pipe(
  Flag.optional,
  Flag.withDescription("directory relative paths and ./ rules resolve against (default: the current directory)")
)
const selfTestFlag = Flag.Boolean("self-test").pipe(
  Flag.withDefault(false),
  Flag.withDescription("run the policy files' self-tests")
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
  call: callArgument
}, (config) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const policy = yield* PolicyFile.load(config.policy).pipe(
      Effect.catchTag("PolicyFileError", (e) => badInput(e.message))
    )
    const env = yield* environment(NodePath.resolve(Option.getOrElse(config.root, () => process.cwd())), config.mode)
    if (config.selfTest) {
      if (Option.isSome(config.call)) return yield* badInput("give either --self-test or a call, not both")
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
      return
    }
    if (Option.isNone(config.call)) return yield* badInput(`give a call as JSON, e.g. '{"name":"Bash","input":{"command":"git status"}}', or --self-test`)
    let json: unknown
    try {
      json = JSON.parse(config.call.value)
    } catch (error) {
      return yield* badInput(`the call is not valid JSON (${(error as Error).message})`)
    }
    const call = Schema.decodeUnknownResult(Call)(json)
    if (Result.isFailure(call)) {
      return yield* badInput(`the call must look like {"name": "...", "input": {...}}: ${call.failure.message.replace(/\n\s*/g, " ")}`)
    }
    const explanation = yield* PolicyRules.explain(policy.rules, { name: call.success.name, params: call.success.input }, env)
    yield* Console.log(render(explanation))
    const code = exitCodes[explanation.verdict._tag]
    if (code !== 0) return yield* Effect.fail(new Exit({ code }))
  })).pipe(Command.withDescription("Judge one tool call against policy files, or run their self-tests (exit 0 allow, 1 ask, 2 deny, 64 bad input)"))
