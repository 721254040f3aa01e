/**
 * The policy rule engine: allow / ask / deny rules in Claude Code's syntax
 * (`Read`, `Bash(git status)`, `Bash(npm run test:*)`, `Write(/etc/**)`,
 * `mcp__github__*`), matched by what the tool is — a shell command, a file
 * path, or a plain parameter — and turned into a {@link ToolPolicy.ToolPolicy}.
 *
 * Precedence is deny over ask over allow over the default, regardless of the
 * order or specificity of rules. Rules guard resources, not tool names: a
 * `Read(...)` deny also holds for Grep, Glob and the files shell readers
 * open, a `Write(...)`/`Edit(...)` deny for both tools and every shell write.
 * A shell command is read into its simple commands and each is judged on its
 * own: one denied segment denies the call, and the call is allowed only when
 * every segment is. Whenever the engine cannot tell — an unparseable or
 * opaque command, a missing or ill-typed parameter, a word only the shell can
 * compute — it asks; it never allows what no rule allows.
 *
 * The verdict itself is computed synchronously ({@link explainSync}); the
 * Effect API wraps it and resolves symlinks around it.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Layer, Schema } from "effect"
import type { Tool } from "effect/ai"
import * as NodePath from "node:path"
import * as Judge from "./internal/judge.ts"
import * as RuleIndex from "./internal/ruleIndex.ts"
import * as RuleSyntax from "./internal/ruleSyntax.ts"
import * as PolicySubject from "./PolicySubject.ts"
import * as ToolPolicy from "../ToolPolicy.ts"

// -----------------------------------------------------------------------------
// Models
// -----------------------------------------------------------------------------

/**
 * The three rule lists.
 *
 * @example
 * ```ts
 * import type { PolicyRules } from "toolgate/policy"
 * const list: PolicyRules.List = "deny"
 * ```
 *
 * @since 0.1.0
 */
export type List = "allow" | "ask" | "deny"

/**
 * Permission modes, presets over the rules:
 *
 * - `default`: the rules as written.
 * - `plan`: every tool that is not read-only is denied (reason says plan mode).
 * - `acceptEdits`: file edits (path tools that mutate, and shell redirections)
 *   inside the root are pre-approved — except writes into `.git/`, agent
 *   settings (`.claude/`, `.toolgate/`, …) and the policy files; ask and deny
 *   rules still apply.
 * - `bypass`: everything is pre-approved except what a deny rule denies; what
 *   the engine cannot judge (unparseable or opaque commands, ill-typed params)
 *   is still asked.
 *
 * @example
 * ```ts
 * import type { PolicyRules } from "toolgate/policy"
 * const mode: PolicyRules.Mode = "acceptEdits"
 * ```
 *
 * @since 0.1.0
 */
export type Mode = "default" | "plan" | "acceptEdits" | "bypass"

/**
 * The schema of {@link Mode}: exactly the four names, so a typo in a policy
 * file is an error rather than a silent `default`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { PolicyRules } from "toolgate/policy"
 * Schema.decodeUnknownSync(PolicyRules.Mode)("plan")
 * ```
 *
 * @since 0.1.0
 */
export const Mode = Schema.Literals(["default", "plan", "acceptEdits", "bypass"])

/**
 * The verdict for calls no rule matches.
 *
 * @example
 * ```ts
 * import type { PolicyRules } from "toolgate/policy"
 * const d: PolicyRules.Default = "ask"
 * ```
 *
 * @since 0.1.0
 */
export type Default = "allow" | "ask" | "deny"

/**
 * One parsed rule: its list, its text as written, the tool-name pattern and
 * the specifier inside the parentheses (absent for a whole-tool rule).
 *
 * @example
 * ```ts
 * import type { PolicyRules } from "toolgate/policy"
 * const r: PolicyRules.Rule = { list: "allow", text: "Bash(git status)", tool: "Bash", specifier: "git status" }
 * ```
 *
 * @since 0.1.0
 */
export interface Rule {
  readonly list: List
  readonly text: string
  readonly tool: string
  readonly specifier: string | undefined
}

/**
 * A rule set, ready to evaluate. Build it with {@link make}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PolicyRules } from "toolgate/policy"
 * const rules: Effect.Effect<PolicyRules.Rules, PolicyRules.InvalidRule> = PolicyRules.make({ allow: ["Read"] })
 * ```
 *
 * @since 0.1.0
 */
export interface Rules {
  readonly allow: ReadonlyArray<Rule>
  readonly ask: ReadonlyArray<Rule>
  readonly deny: ReadonlyArray<Rule>
  readonly default: Default
  readonly mode: Mode
  /** The policy files the rules came from (absolute); `acceptEdits` never pre-approves writes to them. */
  readonly files: ReadonlyArray<string>
  /** @internal */
  readonly index: Index
}

/** @internal */
export interface Index {
  readonly allow: RuleIndex.ListIndex
  readonly ask: RuleIndex.ListIndex
  readonly deny: RuleIndex.ListIndex
}

/**
 * The rules as a user writes them: three lists of rule strings, a default
 * verdict (`ask` unless set) and a mode (`default` unless set).
 *
 * @example
 * ```ts
 * import type { PolicyRules } from "toolgate/policy"
 * const input: PolicyRules.Input = { allow: ["Bash(git status)"], deny: ["Write(/etc/**)"] }
 * ```
 *
 * @since 0.1.0
 */
export interface Input {
  readonly allow?: ReadonlyArray<string> | undefined
  readonly ask?: ReadonlyArray<string> | undefined
  readonly deny?: ReadonlyArray<string> | undefined
  readonly default?: Default | undefined
  readonly mode?: Mode | undefined
}

/**
 * A rule that cannot be parsed. The message says what is wrong and how a
 * valid rule looks.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PolicyRules } from "toolgate/policy"
 * PolicyRules.make({ deny: ["Bash(rm"] }).pipe(
 *   Effect.catchTag("InvalidRule", (e) => Effect.log(e.message))
 * )
 * ```
 *
 * @since 0.1.0
 */
export class InvalidRule extends Schema.TaggedError<InvalidRule>()("InvalidRule", {
  list: Schema.String,
  index: Schema.Number,
  rule: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `${this.list}[${this.index}] ${JSON.stringify(this.rule)}: ${this.problem}. ` +
      `Write a rule as ToolName or ToolName(specifier), e.g. "Read", "Bash(git status)", "Bash(npm run test:*)", "Write(/etc/**)".`
  }
}

/**
 * Where the engine resolves paths: `root` for relative paths and `./`
 * patterns, `home` for `~`. `realPath`, when given, resolves symlinks (of
 * the longest existing prefix of a path): the engine then judges both the
 * path as written and the real path — denied if either is, allowed only if
 * both are. {@link layer} wires it to `FileSystem.realPath` (and `readLink`).
 *
 * @example
 * ```ts
 * import type { PolicyRules } from "toolgate/policy"
 * const env: PolicyRules.Environment = { root: "/work/repo", home: "/home/me" }
 * ```
 *
 * @since 0.1.0
 */
export interface Environment {
  readonly root: string
  readonly home: string
  readonly mode?: Mode | undefined
  readonly realPath?: ((path: string) => Effect.Effect<string, unknown>) | undefined
  /**
   * Reads a symlink's target. With it, a link whose target does not exist
   * yet (`src/x -> ~/.bashrc` before the file is made) is followed too:
   * writing through it creates the target.
   */
  readonly readLink?: ((path: string) => Effect.Effect<string, unknown>) | undefined
}

/**
 * The judgment of one segment of a call: a simple command of a shell line,
 * a redirection, or the call's single subject for path and plain tools.
 *
 * @example
 * ```ts
 * import type { PolicyRules } from "toolgate/policy"
 * const show = (s: PolicyRules.Segment) => `${s.verdict._tag} ${s.text}`
 * ```
 *
 * @since 0.1.0
 */
export interface Segment {
  readonly text: string
  readonly verdict: ToolPolicy.Verdict
}

/**
 * A verdict with the per-segment breakdown that led to it.
 *
 * @example
 * ```ts
 * import type { PolicyRules } from "toolgate/policy"
 * const denied = (e: PolicyRules.Explanation) => e.segments.filter((s) => s.verdict._tag === "Deny")
 * ```
 *
 * @since 0.1.0
 */
export interface Explanation {
  readonly verdict: ToolPolicy.Verdict
  readonly segments: ReadonlyArray<Segment>
}

// -----------------------------------------------------------------------------
// Parsing rules
// -----------------------------------------------------------------------------

/**
 * Parses one rule string. Tool names may contain spaces and `*` wildcards
 * but no parentheses; a specifier, when present, is everything between the
 * first `(` and the final `)`. A command rule names one simple command.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PolicyRules } from "toolgate/policy"
 * const rule = Effect.runSync(PolicyRules.parse("Bash(npm run test:*)", "allow"))
 * // => { list: "allow", text: "Bash(npm run test:*)", tool: "Bash", specifier: "npm run test:*" }
 * ```
 *
 * @since 0.1.0
 */
export const parse = (text: string, list: List, index = 0): Effect.Effect<Rule, InvalidRule> => {
  const parsed = RuleSyntax.parse(text)
  if (parsed._tag === "Problem") return Effect.fail(new InvalidRule({ list, index, rule: text, problem: parsed.problem }))
  const { tool, specifier } = parsed
  if (specifier !== undefined && PolicySubject.standard[tool]?._tag === "Command") {
    if (RuleSyntax.commandPattern(specifier) === undefined) {
      return Effect.fail(new InvalidRule({
        list,
        index,
        rule: text,
        problem: "a command rule names one simple command (words, optionally ending in ':*' or ' *'), not a script"
      }))
    }
  }
  if (specifier !== undefined && PolicySubject.standard[tool]?._tag === "Url" && RuleSyntax.domainPattern(specifier) === undefined) {
    return Effect.fail(new InvalidRule({ list, index, rule: text, problem: RuleSyntax.domainProblem }))
  }
  return Effect.succeed({ list, text: text.trim(), tool, specifier })
}

/**
 * Builds a rule set. Fails with the first {@link InvalidRule}: a rule set is
 * never half-applied.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PolicyRules } from "toolgate/policy"
 * const rules = PolicyRules.make({
 *   allow: ["Read", "Bash(git status)", "Bash(npm run test:*)"],
 *   deny: ["Bash(rm:*)", "Write(/etc/**)"]
 * })
 * ```
 *
 * @since 0.1.0
 */
export const make = (input: Input): Effect.Effect<Rules, InvalidRule> =>
  Effect.gen(function*() {
    const lists = { allow: [] as Array<Rule>, ask: [] as Array<Rule>, deny: [] as Array<Rule> }
    for (const list of ["deny", "ask", "allow"] as const) {
      const texts = input[list] ?? []
      for (let i = 0; i < texts.length; i++) lists[list].push(yield* parse(texts[i]!, list, i))
    }
    return fromRules(lists, input.default ?? "ask", input.mode ?? "default")
  })

/**
 * Builds a rule set from rules already parsed (as {@link make} does), e.g.
 * when layering several sources. `files` are the policy files the rules came
 * from, which `acceptEdits` never pre-approves writing.
 *
 * @example
 * ```ts
 * import { PolicyRules } from "toolgate/policy"
 * const rules = PolicyRules.fromRules({ allow: [], ask: [], deny: [] }, "ask", "default")
 * ```
 *
 * @since 0.1.0
 */
export const fromRules = (
  lists: { readonly allow: ReadonlyArray<Rule>; readonly ask: ReadonlyArray<Rule>; readonly deny: ReadonlyArray<Rule> },
  defaultVerdict: Default,
  mode: Mode,
  files: ReadonlyArray<string> = []
): Rules => ({
  allow: lists.allow,
  ask: lists.ask,
  deny: lists.deny,
  default: defaultVerdict,
  mode,
  files: files.map((f) => NodePath.resolve(f)),
  index: {
    allow: RuleIndex.build(lists.allow, false),
    ask: RuleIndex.build(lists.ask, true),
    deny: RuleIndex.build(lists.deny, true)
  }
})

/**
 * A rule that parses but will not do what its author meant: a tool name
 * that differs from a standard tool only by case (`bash(...)` in an allow
 * list matches nothing), a name that is not a standard tool, or a specifier
 * with leading or trailing spaces.
 *
 * @example
 * ```ts
 * import type { PolicyRules } from "toolgate/policy"
 * const show = (w: PolicyRules.Warning) => `${w.list}[${w.index}] ${w.rule}: ${w.problem}`
 * ```
 *
 * @since 0.2.0
 */
export interface Warning {
  readonly list: List
  readonly index: number
  readonly rule: string
  readonly problem: string
}

/**
 * The dead-rule warnings of a rule set, in list order (deny, ask, allow).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PolicyRules } from "toolgate/policy"
 * const rules = Effect.runSync(PolicyRules.make({ allow: ["bash(git status)"] }))
 * PolicyRules.warnings(rules)[0]?.problem
 * // => '"bash" is not "Bash": tool names are matched exactly, so this allow rule matches nothing'
 * ```
 *
 * @since 0.2.0
 */
export const warnings = (rules: Rules): ReadonlyArray<Warning> =>
  (["deny", "ask", "allow"] as const).flatMap((list) =>
    rules[list].flatMap((rule, index) =>
      RuleSyntax.lint(rule.text, rule.tool, rule.specifier, list).map((problem) => ({ list, index, rule: rule.text, problem }))
    )
  )

/**
 * The request {@link explain} judges: a call by name with raw params, and
 * optionally the tool (for its kind annotation) and its class.
 *
 * @example
 * ```ts
 * import type { PolicyRules } from "toolgate/policy"
 * const req: PolicyRules.Request = { name: "Bash", params: { command: "git status" } }
 * ```
 *
 * @since 0.1.0
 */
export interface Request {
  readonly name: string
  readonly params: unknown
  readonly tool?: Tool.Any | undefined
  readonly toolClass?: "ReadOnly" | "Mutating" | undefined
}

/**
 * Judges one call synchronously, with paths judged as written (symlinks are
 * not resolved): the untraced core of {@link explain}, for hot paths such as
 * editor hooks. Pass `realPath` to resolve symlinks with a synchronous
 * function of your own.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PolicyRules } from "toolgate/policy"
 * const rules = Effect.runSync(PolicyRules.make({ allow: ["Bash(git status)"], deny: ["Read(~/.aws/**)"] }))
 * const env = { root: "/repo", home: "/home/me" }
 * PolicyRules.explainSync(rules, { name: "Bash", params: { command: "head ~/.aws/credentials" } }, env).verdict._tag
 * // => "Deny"
 * ```
 *
 * @since 0.2.0
 */
export const explainSync = (
  rules: Rules,
  request: Request,
  env: Environment,
  realPath: (lexical: string) => string = (p) => p
): Explanation => Judge.explain(rules, request, env, realPath)

// Resolves symlinks along the longest existing prefix of `path`: a file
// about to be created has no real path, but its directory may be a link, and
// the path itself may be a link to a file not made yet (followed, as the
// kernel does, up to 40 links).
const realPathOf = (
  path: string,
  realPath: (path: string) => Effect.Effect<string, unknown>,
  readLink: ((path: string) => Effect.Effect<string, unknown>) | undefined
): Effect.Effect<string> => {
  const go = (p: string, rest: ReadonlyArray<string>, depth: number, links: number): Effect.Effect<string> =>
    realPath(p).pipe(
      Effect.map((real) => rest.length === 0 ? real : NodePath.posix.join(real, ...rest)),
      Effect.catchCause(() => {
        const up = (): Effect.Effect<string> => {
          const parent = NodePath.posix.dirname(p)
          return parent === p || depth > 256 ? Effect.succeed(path) : go(parent, [NodePath.posix.basename(p), ...rest], depth + 1, links)
        }
        if (readLink === undefined || links >= 40) return up()
        return readLink(p).pipe(
          Effect.matchCauseEffect({
            onFailure: up,
            onSuccess: (target) => go(NodePath.posix.resolve(NodePath.posix.dirname(p), target), rest, depth + 1, links + 1)
          })
        )
      })
    )
  return go(path, [], 0, 0)
}

// With a realPath in the environment: judge once lexically while noting the
// paths met, resolve them, and judge again only if a symlink changed one.
const explainResolving = (rules: Rules, request: Request, env: Environment): Effect.Effect<Explanation> => {
  const realPath = env.realPath
  if (realPath === undefined) return Effect.sync(() => Judge.explain(rules, request, env, (p) => p))
  return Effect.suspend(() => {
    const met = new Set<string>()
    const lexical = Judge.explain(rules, request, env, (p) => {
      met.add(p)
      return p
    })
    if (met.size === 0) return Effect.succeed(lexical)
    return Effect.map(
      Effect.forEach([...met], (p) => Effect.map(realPathOf(p, realPath, env.readLink), (real) => [p, real] as const)),
      (pairs) => {
        const reals = new Map(pairs)
        if (pairs.every(([p, real]) => p === real)) return lexical
        return Judge.explain(rules, request, env, (p) => reals.get(p) ?? p)
      }
    )
  })
}

/**
 * Judges one call and says why: the verdict (its `match` names the deciding
 * rule, list and segment) and the verdict of every segment — each simple
 * command, denied or asked file access and write of a shell line, or the
 * single subject of a path or plain tool.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PolicyRules } from "toolgate/policy"
 * const program = Effect.gen(function*() {
 *   const rules = yield* PolicyRules.make({ allow: ["Bash(git status)"], deny: ["Bash(rm:*)"] })
 *   const e = yield* PolicyRules.explain(rules, { name: "Bash", params: { command: "git status && rm -rf /" } }, {
 *     root: "/repo",
 *     home: "/home/me"
 *   })
 *   return e.verdict._tag // => "Deny"
 * })
 * ```
 *
 * @since 0.1.0
 */
export const explain = Effect.fn("toolgate.PolicyRules.explain")(function*(
  rules: Rules,
  request: Request,
  env: Environment
) {
  return yield* explainResolving(rules, request, env)
})

// -----------------------------------------------------------------------------
// Policy
// -----------------------------------------------------------------------------

/**
 * The rule set as a {@link ToolPolicy.ToolPolicy}. Without `realPath` in the
 * environment, paths are judged lexically (symlinks are not followed); use
 * {@link layer} to resolve them through the `FileSystem`. Each decision runs
 * the synchronous core untraced: it is on every call's path.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ToolPolicy } from "toolgate"
 * import { PolicyRules } from "toolgate/policy"
 * const PolicyLive = Effect.gen(function*() {
 *   const rules = yield* PolicyRules.make({ allow: ["Read"], deny: ["Bash(rm:*)"] })
 *   return ToolPolicy.layer(PolicyRules.toPolicy(rules, { root: process.cwd(), home: "/home/me" }))
 * })
 * ```
 *
 * @since 0.1.0
 */
export const toPolicy = (rules: Rules, env: Environment): ToolPolicy.ToolPolicy => ({
  decide: (request) =>
    Effect.map(
      explainResolving(rules, {
        name: request.call.name,
        params: request.call.params,
        tool: request.tool,
        toolClass: request.toolClass
      }, env),
      (e) => e.verdict
    )
})

/**
 * A Layer putting the rule set in place as the {@link ToolPolicy.ToolPolicy},
 * resolving symlinks with the `FileSystem` service: a path is judged both as
 * written and as the file it really is.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { NodeServices } from "@effect/platform-node"
 * import { PolicyRules } from "toolgate/policy"
 * const PolicyLive = Layer.unwrap(
 *   Effect.map(PolicyRules.make({ deny: ["Write(/etc/**)"] }), (rules) =>
 *     PolicyRules.layer(rules, { root: process.cwd(), home: "/home/me" }))
 * ).pipe(Layer.provide(NodeServices.layer))
 * ```
 *
 * @since 0.1.0
 */
export const layer = (rules: Rules, env: Environment): Layer.Layer<never, never, FileSystem.FileSystem> =>
  Layer.effect(
    ToolPolicy.ToolPolicy,
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      return toPolicy(rules, { ...env, realPath: env.realPath ?? ((p) => fs.realPath(p)), readLink: env.readLink ?? ((p) => fs.readLink(p)) })
    })
  )
