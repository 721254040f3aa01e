/**
 * The policy rule engine: allow / ask / deny rules in Claude Code's syntax
 * (`Read`, `Bash(git status)`, `Bash(npm run test:*)`, `Write(/etc/**)`),
 * matched by what the tool is — a shell command, a file path, or a plain
 * parameter — and turned into a {@link ToolPolicy.ToolPolicy}.
 *
 * Precedence is deny over ask over allow over the default, regardless of the
 * order or specificity of rules. A shell command is parsed with a real bash
 * parser and every simple command in it is judged on its own: one denied
 * segment denies the call, and the call is allowed only when every segment
 * is. Whenever the engine cannot tell — an unparseable command, a missing or
 * ill-typed parameter, a word only the shell can compute — it asks; it never
 * allows what no rule allows.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Layer, Schema } from "effect"
import type { Tool } from "effect/ai"
import * as NodePath from "node:path"
import picomatch from "picomatch"
import * as Shell from "./internal/shell.ts"
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
 *   inside the root are pre-approved; ask and deny rules still apply.
 * - `bypass`: everything is pre-approved except what a deny rule denies; what
 *   the engine cannot judge (unparseable commands, ill-typed params) is still
 *   asked.
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
  /** @internal */
  readonly index: Index
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
 * both are. {@link layer} wires it to `FileSystem.realPath`.
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
 * first `(` and the final `)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PolicyRules } from "toolgate/policy"
 * const rule = Effect.runSync(PolicyRules.parse("Bash(npm run test:*)", "allow"))
 * // { list: "allow", text: "Bash(npm run test:*)", tool: "Bash", specifier: "npm run test:*" }
 * ```
 *
 * @since 0.1.0
 */
export const parse = (text: string, list: List, index = 0): Effect.Effect<Rule, InvalidRule> => {
  const fail = (problem: string) => Effect.fail(new InvalidRule({ list, index, rule: text, problem }))
  const trimmed = text.trim()
  if (trimmed.length === 0) return fail("the rule is empty")
  const open = trimmed.indexOf("(")
  if (open < 0) {
    if (trimmed.includes(")")) return fail("a ')' without '('")
    return Effect.succeed({ list, text: trimmed, tool: trimmed, specifier: undefined })
  }
  const tool = trimmed.slice(0, open).trim()
  if (tool.length === 0) return fail("the tool name before '(' is missing")
  if (!trimmed.endsWith(")")) return fail("the specifier is not closed with ')' at the end")
  const specifier = trimmed.slice(open + 1, -1)
  if (specifier.trim().length === 0) return fail("the specifier is empty; write the bare tool name to match the whole tool")
  if (tool.includes(")")) return fail("a ')' in the tool name")
  if (tool === "Bash" || isCommandRuleFor(tool)) {
    if (compileCommand(specifier) === undefined) {
      return fail("a command rule names one simple command (words, optionally ending in ':*' or ' *'), not a script")
    }
  }
  return Effect.succeed({ list, text: trimmed, tool, specifier })
}

const isCommandRuleFor = (tool: string) => PolicySubject.standard[tool]?._tag === "Command"

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
 * when layering several sources.
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
  mode: Mode
): Rules => ({
  allow: lists.allow,
  ask: lists.ask,
  deny: lists.deny,
  default: defaultVerdict,
  mode,
  index: {
    allow: indexList(lists.allow, false),
    ask: indexList(lists.ask, true),
    deny: indexList(lists.deny, true)
  }
})

// -----------------------------------------------------------------------------
// Compiled matchers (internal)
// -----------------------------------------------------------------------------

interface CompiledRule {
  readonly rule: Rule
  readonly command: CommandMatcher | undefined | null
  readonly paths: Map<string, (path: string) => boolean>
  readonly plain: RegExp | undefined
}

interface ListIndex {
  readonly exact: Map<string, Array<CompiledRule>>
  readonly wildcard: Array<{ readonly pattern: RegExp; readonly rule: CompiledRule }>
  readonly fold: boolean
}

/** @internal */
export interface Index {
  readonly allow: ListIndex
  readonly ask: ListIndex
  readonly deny: ListIndex
}

// Deny and ask rules match tool names case-insensitively after Unicode
// compatibility folding: a toolkit that also has a `bash` tool must not slip
// past `Bash` deny rules. Allow rules match names exactly. Look-alike letters
// from other scripts (Cyrillic `а`) are not folded: such a name matches no
// allow rule, so it is asked at most.
const foldName = (name: string, fold: boolean) => fold ? name.normalize("NFKC").toLowerCase() : name

const wildcardRegExp = (pattern: string, flags = "") =>
  new RegExp(`^${pattern.split("*").map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, `s${flags}`)

const indexList = (rules: ReadonlyArray<Rule>, fold: boolean): ListIndex => {
  const exact = new Map<string, Array<CompiledRule>>()
  const wildcard: Array<{ pattern: RegExp; rule: CompiledRule }> = []
  for (const rule of rules) {
    const compiled: CompiledRule = { rule, command: null, paths: new Map(), plain: undefined }
    if (rule.tool.includes("*")) {
      wildcard.push({ pattern: wildcardRegExp(foldName(rule.tool, fold), fold ? "i" : ""), rule: compiled })
    } else {
      const key = foldName(rule.tool, fold)
      const bucket = exact.get(key)
      if (bucket === undefined) exact.set(key, [compiled])
      else bucket.push(compiled)
    }
  }
  return { exact, wildcard, fold }
}

const rulesFor = (index: ListIndex, name: string): ReadonlyArray<CompiledRule> => {
  const key = foldName(name, index.fold)
  const exact = index.exact.get(key) ?? []
  if (index.wildcard.length === 0) return exact
  const wild = index.wildcard.filter((w) => w.pattern.test(key)).map((w) => w.rule)
  return wild.length === 0 ? exact : [...exact, ...wild]
}

// A command rule, as a sequence of word patterns. `prefix` lets any further
// words follow (`:*`, a trailing ` *`, or a last word ending in `*`).
interface CommandMatcher {
  readonly words: ReadonlyArray<WordPattern>
  readonly prefix: boolean
}
type WordPattern =
  | { readonly _tag: "Literal"; readonly value: string }
  | { readonly _tag: "Glob"; readonly pattern: RegExp }
  | { readonly _tag: "Any" }

const compileCommand = (specifier: string): CommandMatcher | undefined => {
  let src = specifier.trim()
  let prefix = false
  if (src.endsWith(":*")) {
    prefix = true
    src = src.slice(0, -2)
  }
  const words = Shell.words(src)
  if (words === undefined || words.length === 0) return undefined
  const patterns: Array<WordPattern> = words.map((w) =>
    w === "*" ? { _tag: "Any" } : w.includes("*") ? { _tag: "Glob", pattern: wildcardRegExp(w) } : { _tag: "Literal", value: w }
  )
  const last = patterns[patterns.length - 1]!
  if (last._tag === "Any") {
    patterns.pop()
    prefix = true
  } else if (last._tag === "Glob" && words[words.length - 1]!.endsWith("*")) {
    prefix = true
  }
  return { words: patterns, prefix }
}

// Literal and glob words only match words whose value is known; `*` standing
// alone matches any run of words, computed ones included (their commands, if
// any, are separate segments judged on their own).
const matchWords = (patterns: ReadonlyArray<WordPattern>, prefix: boolean, argv: ReadonlyArray<Shell.Word>): boolean => {
  const go = (p: number, a: number): boolean => {
    if (p === patterns.length) return prefix || a === argv.length
    const pattern = patterns[p]!
    if (pattern._tag === "Any") {
      for (let k = a; k <= argv.length; k++) if (go(p + 1, k)) return true
      return false
    }
    if (a >= argv.length) return false
    const word = argv[a]
    if (word === undefined) return false
    if (pattern._tag === "Literal" ? word !== pattern.value : !pattern.pattern.test(word)) return false
    return go(p + 1, a + 1)
  }
  return go(0, 0)
}

const commandMatcher = (compiled: CompiledRule): CommandMatcher | undefined => {
  if (compiled.command === null) {
    ;(compiled as { command: CommandMatcher | undefined | null }).command = compiled.rule.specifier === undefined
      ? undefined
      : compileCommand(compiled.rule.specifier)
  }
  return compiled.command ?? undefined
}

// Path patterns, gitignore-style:
// - `//abs/**` and `/abs/**` are absolute, `~/x` is under home,
// - `./x` and `dir/x` are under the root,
// - a pattern without a slash (`.env`, `*.pem`) matches that name at any
//   depth: under the root for allow rules, anywhere for deny and ask rules,
// - a trailing `/` means everything below.
// Allow patterns are case-sensitive; deny and ask patterns are not, since a
// case-insensitive file system would otherwise open `/ETC/passwd`.
const compilePath = (specifier: string, list: List, env: Environment): ((path: string) => boolean) => {
  let pattern = specifier.trim()
  if (pattern.endsWith("/")) pattern = `${pattern}**`
  let absolute: string
  if (pattern.startsWith("//")) absolute = pattern.slice(1)
  else if (pattern.startsWith("/")) absolute = pattern
  else if (pattern === "~" || pattern.startsWith("~/")) absolute = NodePath.posix.join(env.home, pattern.slice(1))
  else if (!pattern.includes("/")) {
    absolute = list === "allow" ? NodePath.posix.join(env.root, "**", pattern) : `**/${pattern}`
  } else absolute = NodePath.posix.join(env.root, pattern)
  if (absolute.startsWith("/")) absolute = NodePath.posix.normalize(absolute)
  const isMatch = picomatch(absolute, { dot: true, nocase: list !== "allow" })
  // `/etc/**` also covers `/etc` itself.
  return (path) => isMatch(path) || isMatch(`${path}/`)
}

const pathMatcher = (compiled: CompiledRule, env: Environment) => {
  const key = `${env.root}\u0000${env.home}`
  let matcher = compiled.paths.get(key)
  if (matcher === undefined) {
    matcher = compilePath(compiled.rule.specifier!, compiled.rule.list, env)
    compiled.paths.set(key, matcher)
  }
  return matcher
}

const plainMatcher = (compiled: CompiledRule): RegExp => {
  if (compiled.plain === undefined) {
    ;(compiled as { plain: RegExp | undefined }).plain = wildcardRegExp(compiled.rule.specifier!)
  }
  return compiled.plain!
}

// -----------------------------------------------------------------------------
// Judging
// -----------------------------------------------------------------------------

// What a call or segment is judged on. `Unknown` is a subject the engine
// cannot read (missing or ill-typed parameter, computed path): only
// whole-tool rules can match it, and it is never allowed.
type Subject =
  | { readonly _tag: "Argv"; readonly views: ReadonlyArray<Shell.View> }
  | { readonly _tag: "Paths"; readonly paths: ReadonlyArray<string> }
  | { readonly _tag: "Value"; readonly value: string }
  | { readonly _tag: "None" }
  | { readonly _tag: "Unknown"; readonly why: string }

type RuleMatch = "yes" | "no" | "maybe"

const matchRule = (compiled: CompiledRule, kind: PolicySubject.PolicySubject, subject: Subject, env: Environment): RuleMatch => {
  const { rule } = compiled
  if (rule.specifier === undefined) return "yes"
  const cannotTell: RuleMatch = rule.list === "allow" ? "no" : "maybe"
  switch (subject._tag) {
    case "Unknown":
    case "None":
      return cannotTell
    case "Argv": {
      if (kind._tag !== "Command") return cannotTell
      const m = commandMatcher(compiled)
      if (m === undefined) return cannotTell
      const views = rule.list === "allow" ? subject.views.filter((v) => !v.privileged && v.denyOnly !== true) : subject.views
      return views.some((v) => matchWords(m.words, m.prefix, v.argv)) ? "yes" : "no"
    }
    case "Paths": {
      if (kind._tag !== "Path") return cannotTell
      const m = pathMatcher(compiled, env)
      // Deny and ask: any reading of the path (as written, or through its
      // symlinks) matching is enough. Allow: every reading must match.
      return rule.list === "allow"
        ? subject.paths.every(m) ? "yes" : "no"
        : subject.paths.some(m) ? "yes" : "no"
    }
    case "Value":
      return plainMatcher(compiled).test(subject.value) ? "yes" : "no"
  }
}

// Large rule sets are mostly command rules for one tool; bucketing them by
// their literal first word keeps a segment from being tried against every
// rule. Built lazily per bucket of rules and cached on the bucket.
interface ByFirstWord {
  readonly byWord: Map<string, Array<CompiledRule>>
  readonly others: Array<CompiledRule>
}
const firstWordIndex = new WeakMap<ReadonlyArray<CompiledRule>, ByFirstWord>()

const candidates = (rules: ReadonlyArray<CompiledRule>, subject: Subject): ReadonlyArray<CompiledRule> => {
  if (subject._tag !== "Argv" || rules.length < 32) return rules
  let index = firstWordIndex.get(rules)
  if (index === undefined) {
    const built: ByFirstWord = { byWord: new Map(), others: [] }
    for (const compiled of rules) {
      const first = compiled.rule.specifier === undefined ? undefined : commandMatcher(compiled)?.words[0]
      if (first?._tag === "Literal") {
        const bucket = built.byWord.get(first.value)
        if (bucket === undefined) built.byWord.set(first.value, [compiled])
        else bucket.push(compiled)
      } else built.others.push(compiled)
    }
    firstWordIndex.set(rules, built)
    index = built
  }
  const words = new Set<string>()
  for (const view of subject.views) if (view.argv[0] !== undefined) words.add(view.argv[0])
  // Keep list order so the reported rule is the first that matches.
  const picked = new Set<CompiledRule>(index.others)
  for (const word of words) for (const c of index.byWord.get(word) ?? []) picked.add(c)
  return rules.filter((c) => picked.has(c))
}

interface Judgment {
  readonly level: "deny" | "ask" | "allow" | "none"
  /** false when a deny or ask rule might apply but the engine cannot tell */
  readonly certain: boolean
  readonly match?: ToolPolicy.Match
  readonly reason?: string
}

const describe = (match: ToolPolicy.Match & { readonly _tag: "Rule" }) =>
  `${match.list} rule ${JSON.stringify(match.rule)}${match.segment === undefined ? "" : ` (for ${JSON.stringify(match.segment)})`}`

// Judges one subject of one tool against the lists, strongest first.
const judge = (
  rules: Rules,
  names: ReadonlyArray<string>,
  kind: PolicySubject.PolicySubject,
  subject: Subject,
  env: Environment,
  segment: string | undefined
): Judgment => {
  let maybe: Judgment | undefined
  for (const list of ["deny", "ask"] as const) {
    for (const name of names) {
      for (const compiled of candidates(rulesFor(rules.index[list], name), subject)) {
        const m = matchRule(compiled, kind, subject, env)
        const match = { _tag: "Rule", list, rule: compiled.rule.text, segment } as const
        if (m === "yes") return { level: list, certain: true, match, reason: `${list === "deny" ? "denied" : "asked"} by ${describe(match)}` }
        if (m === "maybe" && maybe === undefined) {
          maybe = {
            level: "ask",
            certain: false,
            match,
            reason: `cannot tell whether ${describe(match)} applies${subject._tag === "Unknown" ? `: ${subject.why}` : ""}`
          }
        }
      }
    }
  }
  if (maybe !== undefined) return maybe
  if (subject._tag === "Unknown") {
    return { level: "ask", certain: false, match: { _tag: "Fact", fact: "unreadable", segment }, reason: subject.why }
  }
  for (const name of names) {
    for (const compiled of candidates(rulesFor(rules.index.allow, name), subject)) {
      if (matchRule(compiled, kind, subject, env) === "yes") {
        return { level: "allow", certain: true, match: { _tag: "Rule", list: "allow", rule: compiled.rule.text, segment } }
      }
    }
  }
  return { level: "none", certain: true }
}

const toVerdict = (j: Judgment, rules: Rules, mode: Mode, segment: string | undefined): ToolPolicy.Verdict => {
  switch (j.level) {
    case "deny":
      return ToolPolicy.Verdict.Deny({ reason: j.reason ?? "denied", match: j.match })
    case "ask":
      // bypass pre-approves what ask rules would ask, but never what the
      // engine could not read.
      if (mode === "bypass" && j.match?._tag === "Rule" && j.match.list === "ask") {
        return ToolPolicy.Verdict.Allow({ match: { _tag: "Mode", mode: "bypass", segment } })
      }
      return ToolPolicy.Verdict.Ask({ reason: j.reason, match: j.match })
    case "allow":
      return ToolPolicy.Verdict.Allow({ match: j.match })
    case "none": {
      if (mode === "bypass") return ToolPolicy.Verdict.Allow({ match: { _tag: "Mode", mode: "bypass", segment } })
      const match: ToolPolicy.Match = { _tag: "Default", value: rules.default, segment }
      const what = segment === undefined ? "no rule matches this call" : `no rule matches ${JSON.stringify(segment)}`
      return rules.default === "allow"
        ? ToolPolicy.Verdict.Allow({ match })
        : rules.default === "deny"
        ? ToolPolicy.Verdict.Deny({ reason: `${what} and the default is deny`, match })
        : ToolPolicy.Verdict.Ask({ reason: what, match })
    }
  }
}

const homeOf = (path: string, env: Environment): string | undefined => {
  if (path === "~") return env.home
  if (path.startsWith("~/")) return NodePath.posix.join(env.home, path.slice(2))
  return undefined
}

// Lexical normalization: `~` expanded, relative paths against the root,
// `.`/`..` resolved. `~user` forms are not expanded (the engine does not
// read the password database): such a path is unreadable.
const normalize = (path: string, env: Environment): string | undefined => {
  if (path.startsWith("~") && path !== "~" && !path.startsWith("~/")) return undefined
  const expanded = homeOf(path, env) ?? path
  return NodePath.posix.resolve(env.root, expanded)
}

// Resolves symlinks along the longest existing prefix of `path`: a file
// about to be created has no real path, but its directory may be a link.
const realPathOf = (path: string, env: Environment): Effect.Effect<string> => {
  const realPath = env.realPath
  if (realPath === undefined) return Effect.succeed(path)
  const go = (p: string, rest: ReadonlyArray<string>, depth: number): Effect.Effect<string> =>
    realPath(p).pipe(
      Effect.map((real) => rest.length === 0 ? real : NodePath.posix.join(real, ...rest)),
      Effect.catchCause(() => {
        const parent = NodePath.posix.dirname(p)
        return parent === p || depth > 256 ? Effect.succeed(path) : go(parent, [NodePath.posix.basename(p), ...rest], depth + 1)
      })
    )
  return go(path, [], 0)
}

const pathsOf = (raw: string, env: Environment): Effect.Effect<Subject> => {
  if (raw.length === 0) return Effect.succeed({ _tag: "Unknown", why: "the path is empty" })
  if (raw.includes("\u0000")) return Effect.succeed({ _tag: "Unknown", why: "the path contains a NUL byte" })
  const lexical = normalize(raw, env)
  if (lexical === undefined) return Effect.succeed({ _tag: "Unknown", why: `cannot expand ${JSON.stringify(raw)}` })
  return Effect.map(realPathOf(lexical, env), (real): Subject => ({
    _tag: "Paths",
    paths: real === lexical ? [lexical] : [lexical, real]
  }))
}

const param = (params: unknown, name: string): Subject | string => {
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    return { _tag: "Unknown", why: `the parameters are not an object` }
  }
  if (!Object.hasOwn(params, name)) return { _tag: "Unknown", why: `the parameter ${JSON.stringify(name)} is missing` }
  const value = (params as Record<string, unknown>)[name]
  if (typeof value !== "string") return { _tag: "Unknown", why: `the parameter ${JSON.stringify(name)} is not a string` }
  return value
}

const harmlessWrites = new Set(["/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"])
const writeTools = ["Write", "Edit"]
const readTools = ["Read"]

const inside = (root: string, path: string) => path === root || path.startsWith(root.endsWith("/") ? root : `${root}/`)

const combine = (segments: ReadonlyArray<Segment>, empty: () => ToolPolicy.Verdict): ToolPolicy.Verdict => {
  if (segments.length === 0) return empty()
  return segments.find((s) => s.verdict._tag === "Deny")?.verdict ??
    segments.find((s) => s.verdict._tag === "Ask")?.verdict ??
    segments[0]!.verdict
}

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

const isMutator = (request: Request): boolean =>
  request.toolClass !== undefined
    ? request.toolClass === "Mutating"
    : !PolicySubject.standardReadOnly.has(request.name)

/**
 * Judges one call and says why: the verdict (its `match` names the deciding
 * rule, list and segment) and the verdict of every segment — each simple
 * command and write of a shell line, or the single subject of a path or
 * plain tool.
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
 *   return e.verdict._tag // "Deny"
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
  const mode = env.mode ?? rules.mode
  const root = NodePath.posix.resolve(env.root)
  const envR: Environment = { ...env, root }
  const kind = PolicySubject.resolve(request.name, request.tool)
  const names = [request.name]
  const segments: Array<Segment> = []
  const one = (text: string, j: Judgment): Explanation => {
    const verdict = toVerdict(j, rules, mode, undefined)
    return { verdict, segments: [{ text, verdict }] }
  }
  const planDeny = (explanation: Explanation): Explanation => {
    if (mode !== "plan" || explanation.verdict._tag === "Deny" || !isMutator(request)) return explanation
    const verdict = ToolPolicy.Verdict.Deny({
      reason: `plan mode: ${request.name} may change things, and only read-only tools run while planning`,
      match: { _tag: "Mode", mode: "plan" }
    })
    return { verdict, segments: explanation.segments }
  }

  switch (kind._tag) {
    case "Command": {
      const command = param(request.params, kind.param)
      if (typeof command !== "string") return planDeny(one(request.name, judge(rules, names, kind, command, envR, undefined)))
      const analysis = Shell.analyze(command)
      if (analysis._tag === "Unparseable") {
        const j = judge(rules, names, kind, { _tag: "Unknown", why: `the command cannot be parsed (${analysis.reason})` }, envR, undefined)
        // Only whole-tool deny and ask rules can judge what cannot be parsed.
        const verdict = (j.level === "deny" || j.level === "ask") && j.certain
          ? toVerdict(j, rules, mode === "bypass" ? "default" : mode, undefined)
          : ToolPolicy.Verdict.Ask({ reason: `the command cannot be parsed: ${analysis.reason}`, match: { _tag: "Fact", fact: "unparseable" } })
        return planDeny({ verdict, segments: [{ text: command, verdict }] })
      }
      for (const segment of analysis.segments) {
        if (segment._tag === "Command") {
          const j = judge(rules, names, kind, { _tag: "Argv", views: segment.views }, envR, segment.text)
          // A shell running a script we parsed is judged by its script's
          // segments; its own line only meets deny and ask rules.
          // An opaque command may run more than its views show: deny rules
          // still apply, anything else is asked (never a rule's, the
          // default's or bypass's allow).
          const settled = segment.opaque !== undefined && j.level !== "deny"
            ? ToolPolicy.Verdict.Ask({ reason: `cannot judge ${JSON.stringify(segment.text)}: ${segment.opaque}`, match: { _tag: "Fact", fact: "opaque", segment: segment.text } })
            : segment.transparent && (j.level === "allow" || j.level === "none")
            ? ToolPolicy.Verdict.Allow({ match: { _tag: "Fact", fact: "script judged by its commands", segment: segment.text } })
            : toVerdict(j, rules, mode, segment.text)
          segments.push({ text: segment.text, verdict: settled })
        } else {
          segments.push({ text: segment.text, verdict: yield* judgeRedirect(rules, segment, envR, mode) })
        }
      }
      const verdict = combine(segments, () =>
        toVerdict(judge(rules, names, kind, { _tag: "None" }, envR, command), rules, mode, command))
      return planDeny({ verdict, segments })
    }
    case "Path": {
      const raw = param(request.params, kind.param)
      const subject = typeof raw === "string" ? yield* pathsOf(raw, envR) : raw
      const text = typeof raw === "string" ? raw : request.name
      const j = judge(rules, names, kind, subject, envR, undefined)
      if (j.level === "none" && mode === "acceptEdits" && subject._tag === "Paths" && isMutator(request) && subject.paths.every((p) => inside(root, p))) {
        const verdict = ToolPolicy.Verdict.Allow({ match: { _tag: "Mode", mode: "acceptEdits" } })
        return { verdict, segments: [{ text, verdict }] }
      }
      return planDeny(one(text, j))
    }
    case "Plain": {
      const raw = kind.param === undefined ? { _tag: "None" } as const : param(request.params, kind.param)
      const subject: Subject = typeof raw === "string" ? { _tag: "Value", value: raw } : raw
      return planDeny(one(typeof raw === "string" ? raw : request.name, judge(rules, names, kind, subject, envR, undefined)))
    }
  }
})

const judgeRedirect = (rules: Rules, redirect: Shell.Redirect, env: Environment, mode: Mode): Effect.Effect<ToolPolicy.Verdict> =>
  Effect.gen(function*() {
    const pathKind = PolicySubject.PolicySubject.Path({ param: "file_path" })
    const names = redirect.access === "write" ? writeTools : readTools
    const subject: Subject = redirect.target === undefined
      ? { _tag: "Unknown", why: `the shell computes the target of ${JSON.stringify(redirect.text)}` }
      : yield* pathsOf(redirect.target, env)
    const j = judge(rules, names, pathKind, subject, env, redirect.text)
    if (j.level === "deny" || j.level === "ask") return toVerdict(j, rules, mode, redirect.text)
    if (redirect.access === "read") return ToolPolicy.Verdict.Allow({ match: { _tag: "Fact", fact: "reads are judged by the command", segment: redirect.text } })
    if (j.level === "allow") return toVerdict(j, rules, mode, redirect.text)
    if (subject._tag === "Paths" && subject.paths.every((p) => harmlessWrites.has(p))) {
      return ToolPolicy.Verdict.Allow({ match: { _tag: "Fact", fact: "harmless device", segment: redirect.text } })
    }
    if (mode === "acceptEdits" && subject._tag === "Paths" && subject.paths.every((p) => inside(env.root, p))) {
      return ToolPolicy.Verdict.Allow({ match: { _tag: "Mode", mode: "acceptEdits", segment: redirect.text } })
    }
    return toVerdict(j, rules, mode, redirect.text)
  })

// -----------------------------------------------------------------------------
// Policy
// -----------------------------------------------------------------------------

/**
 * The rule set as a {@link ToolPolicy.ToolPolicy}. Without `realPath` in the
 * environment, paths are judged lexically (symlinks are not followed); use
 * {@link layer} to resolve them through the `FileSystem`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PolicyRules } from "toolgate/policy"
import { ToolPolicy } from "toolgate"
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
      explain(rules, {
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
      return toPolicy(rules, { ...env, realPath: env.realPath ?? ((p) => fs.realPath(p)) })
    })
  )
