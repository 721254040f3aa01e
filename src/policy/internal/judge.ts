/**
 * The judge: the synchronous core that turns one call into a verdict and its
 * per-segment breakdown. No Effect, no spans, no allocation beyond what the
 * answer needs: it sits in front of every tool call and in editor hooks, so
 * a verdict takes microseconds. `PolicyRules.explain` wraps it in an Effect
 * (and resolves symlinks through the `FileSystem` around it).
 *
 * Invariant: deny over ask over allow over the default; a call is allowed
 * only when every segment is; what the engine cannot read (unparseable,
 * opaque, ill-typed) is asked, never allowed, in every mode.
 */
import { Context } from "effect"
import * as NodePath from "node:path"
import * as ToolPolicy from "../../ToolPolicy.ts"
import * as PolicySubject from "../PolicySubject.ts"
import type { Environment, Explanation, Mode, Request, Rules, Segment } from "../PolicyRules.ts"
import * as AnalysisCache from "./analysisCache.ts"
import * as Matchers from "./matchers.ts"
import * as Modes from "./modes.ts"
import * as Resources from "./resources.ts"
import * as RuleIndex from "./ruleIndex.ts"
import * as RuleSyntax from "./ruleSyntax.ts"
import * as StandardInputs from "./standardInputs.ts"
import * as Gtfobins from "./programs/gtfobins.ts"
import * as Programs from "./programs/index.ts"
import { words as Shell_words } from "./shell.ts"
import type * as Shell from "./shell.ts"

/** Turns a lexical path into the real one (symlinks resolved); identity when paths are judged lexically. */
export type RealPath = (lexical: string) => string

// What a call or segment is judged on. `Unknown` is a subject the engine
// cannot read (missing or ill-typed parameter, computed path): only
// whole-tool rules can match it, and it is never allowed.
type Subject =
  | { readonly _tag: "Argv"; readonly views: ReadonlyArray<Shell.View> }
  | { readonly _tag: "Paths"; readonly paths: ReadonlyArray<string>; readonly search: boolean; readonly filters?: boolean }
  | { readonly _tag: "Value"; readonly value: string }
  | { readonly _tag: "Host"; readonly host: string }
  | { readonly _tag: "None" }
  | { readonly _tag: "Unknown"; readonly why: string }

interface Context {
  readonly rules: Rules
  readonly root: string
  readonly home: string
  /** root and home, as the key of compiled path patterns */
  readonly envKey: string
  readonly mode: Mode
  readonly realPath: RealPath
  readonly name: string
  readonly mcp: RuleSyntax.McpIdentity | undefined
}

interface Judgment {
  readonly level: "deny" | "ask" | "allow" | "none"
  /** false when a deny or ask rule might apply but the engine cannot tell */
  readonly certain: boolean
  readonly match?: ToolPolicy.Match
  readonly reason?: string
  /** for a command allowed by a rule: how much of the program's argv the rule spells literally */
  readonly cover?: Cover
}

/**
 * What an allow rule spells of the argv of the program finally run: its
 * first `literal` words exactly (Infinity when the rule is that whole
 * command), and its word patterns from `offset` on (a URL glob names a host).
 */
interface Cover {
  readonly literal: number
  readonly words: ReadonlyArray<RuleSyntax.WordPattern>
  readonly offset: number
}

const describe = (match: ToolPolicy.Match & { readonly _tag: "Rule" }) =>
  `${match.list} rule ${JSON.stringify(match.rule)}${match.segment === undefined ? "" : ` (for ${JSON.stringify(match.segment)})`}`

const matchRule = (entry: RuleIndex.RuleEntry, kind: PolicySubject.PolicySubject, subject: Subject, ctx: Context): Matchers.RuleMatch => {
  if (entry.specifier === undefined) return "yes"
  const cannotTell: Matchers.RuleMatch = entry.guard ? "maybe" : "no"
  switch (subject._tag) {
    case "Unknown":
    case "None":
      return cannotTell
    case "Argv": {
      if (kind._tag !== "Command") return cannotTell
      const command = RuleIndex.commandOf(entry)
      if (command === undefined) return cannotTell
      let result: Matchers.RuleMatch = "no"
      for (const view of subject.views) {
        // Allow rules never match a privileged view (`sudo x` is not `x`) nor
        // a deny-only one (the program by another spelling than written).
        if (!entry.guard && (view.privileged || (view as { readonly denyOnly?: boolean }).denyOnly === true)) continue
        const m = Matchers.matchCommand(command.pattern, command.options, view.argv, entry.guard)
        if (m === "yes") return "yes"
        if (m === "maybe") result = "maybe"
      }
      return result
    }
    case "Paths": {
      if (kind._tag !== "Path") return cannotTell
      const pattern = RuleIndex.pathOf(entry, ctx.root, ctx.home, ctx.envKey)
      // Deny and ask: any reading of the path (as written, or through its
      // symlinks) matching is enough. Allow: every reading must match.
      // A search tool that skips guarded files meets only a rule on the
      // directory it searches (or above it); others meet any rule it reaches.
      if (subject.search && entry.guard && subject.filters === true) return subject.paths.some(pattern.test) ? "yes" : "no"
      if (subject.search && entry.guard) return subject.paths.some((p) => Matchers.reachesFrom(pattern, p, true)) ? "yes" : "no"
      return entry.guard
        ? subject.paths.some(pattern.test) ? "yes" : "no"
        : subject.paths.every(pattern.test) ? "yes" : "no"
    }
    case "Value":
      return RuleIndex.plainOf(entry).test(subject.value) ? "yes" : "no"
    case "Host": {
      const pattern = kind._tag === "Url" ? RuleSyntax.domainPattern(entry.specifier) : undefined
      if (pattern === undefined) return cannotTell
      return RuleSyntax.matchDomain(pattern, subject.host, entry.guard) ? "yes" : "no"
    }
  }
}

const narrowOf = (subject: Subject, ctx: Context): RuleIndex.Narrow =>
  subject._tag === "Argv"
    ? { _tag: "Programs", argvs: subject.views.map((v) => v.argv) }
    : subject._tag === "Paths"
    ? { _tag: "Paths", paths: subject.paths, root: ctx.root, home: ctx.home, envKey: ctx.envKey, search: subject.search }
    : { _tag: "None" }

// Judges one subject against the lists, strongest first. `guards` are the
// tool names whose deny and ask rules apply; `allowNames` those whose allow
// rules may allow it.
const judge = (
  ctx: Context,
  guards: ReadonlyArray<string>,
  allowNames: ReadonlyArray<string>,
  kind: PolicySubject.PolicySubject,
  subject: Subject,
  segment: string | undefined
): Judgment => {
  const narrow = narrowOf(subject, ctx)
  let maybe: Judgment | undefined
  for (const list of ["deny", "ask"] as const) {
    for (const name of guards) {
      const mcp = name === ctx.name ? ctx.mcp : undefined
      for (const entry of RuleIndex.candidates(ctx.rules.index[list], name, mcp, narrow)) {
        const m = matchRule(entry, kind, subject, ctx)
        if (m === "no") continue
        const match = { _tag: "Rule", list, rule: entry.text, segment } as const
        if (m === "yes") return { level: list, certain: true, match, reason: `${list === "deny" ? "denied" : "asked"} by ${describe(match)}` }
        maybe ??= {
          level: "ask",
          certain: false,
          match,
          reason: `cannot tell whether ${describe(match)} applies${subject._tag === "Unknown" ? `: ${subject.why}` : ""}`
        }
      }
    }
  }
  if (maybe !== undefined) return maybe
  if (subject._tag === "Unknown") {
    return { level: "ask", certain: false, match: { _tag: "Fact", fact: "unreadable", segment }, reason: subject.why }
  }
  // Of the allow rules that match a command, the one spelling most of it
  // decides (`Bash(gh pr list:*)` covers what `Bash(gh:*)` does not).
  let best: Judgment | undefined
  for (const name of allowNames) {
    const mcp = name === ctx.name ? ctx.mcp : undefined
    for (const entry of RuleIndex.candidates(ctx.rules.index.allow, name, mcp, narrow)) {
      if (subject._tag === "Argv" && entry.specifier !== undefined) {
        const cover = allowCover(entry, subject.views)
        if (cover !== undefined && (best?.cover === undefined || cover.literal > best.cover.literal)) {
          best = { level: "allow", certain: true, match: { _tag: "Rule", list: "allow", rule: entry.text, segment }, cover }
        }
        continue
      }
      if (best !== undefined) continue
      if (matchRule(entry, kind, subject, ctx) === "yes") {
        return { level: "allow", certain: true, match: { _tag: "Rule", list: "allow", rule: entry.text, segment } }
      }
    }
  }
  return best ?? { level: "none", certain: true }
}

/** The view of a command whose program finally runs: the last one spelt as written. */
export const runView = (views: ReadonlyArray<Shell.View>): Shell.View => {
  for (let i = views.length - 1; i > 0; i--) if (views[i]!.denyOnly !== true) return views[i]!
  return views[0]!
}

// An allow rule allows a command only through the program that finally runs:
// a rule naming a wrapper (`timeout`, `env`, `xargs`, `npx`) covers its inner
// command only when its literal words reach past the wrapper into the inner
// program (`Bash(npx vitest:*)`), never a privileged view, never a base-name
// view. Returns what the rule spells of the run view's argv, or undefined.
const allowCover = (entry: RuleIndex.RuleEntry, views: ReadonlyArray<Shell.View>): Cover | undefined => {
  const command = RuleIndex.commandOf(entry)
  if (command === undefined) return undefined
  const run = runView(views)
  if (run.privileged) return undefined
  const { pattern } = command
  let literal = 0
  while (literal < pattern.words.length && pattern.words[literal]!._tag === "Literal") literal++
  const exact = !pattern.prefix && literal === pattern.words.length
  for (const view of views) {
    if (view.privileged || view.denyOnly === true) continue
    const offset = view.argv.length - run.argv.length
    if (view !== run && (offset <= 0 || !run.argv.every((w, i) => view.argv[offset + i] === w))) continue
    if (view !== run && literal <= offset && !exact) continue
    if (!Matchers.matchWords(pattern.words, pattern.prefix, view.argv)) continue
    return { literal: exact ? Infinity : literal - offset, words: pattern.words, offset }
  }
  return undefined
}

const toVerdict = (j: Judgment, ctx: Context, mode: Mode, segment: string | undefined): ToolPolicy.Verdict => {
  switch (j.level) {
    case "deny":
      return ToolPolicy.Verdict.Deny({ reason: j.reason ?? "denied", match: j.match })
    case "ask":
      // bypass pre-approves what ask rules would ask, but never what the
      // engine could not read.
      if (mode === "bypass" && j.certain && j.match?._tag === "Rule" && j.match.list === "ask") {
        return ToolPolicy.Verdict.Allow({ match: { _tag: "Mode", mode: "bypass", segment } })
      }
      return ToolPolicy.Verdict.Ask({ reason: j.reason, match: j.match })
    case "allow":
      return ToolPolicy.Verdict.Allow({ match: j.match })
    case "none": {
      if (mode === "bypass") return ToolPolicy.Verdict.Allow({ match: { _tag: "Mode", mode: "bypass", segment } })
      const value = ctx.rules.default
      const match: ToolPolicy.Match = { _tag: "Default", value, segment }
      const what = segment === undefined ? "no rule matches this call" : `no rule matches ${JSON.stringify(segment)}`
      return value === "allow"
        ? ToolPolicy.Verdict.Allow({ match })
        : value === "deny"
        ? ToolPolicy.Verdict.Deny({ reason: `${what} and the default is deny`, match })
        : ToolPolicy.Verdict.Ask({ reason: what, match })
    }
  }
}

// -----------------------------------------------------------------------------
// Paths and params
// -----------------------------------------------------------------------------

// Lexical normalization: `~` expanded, relative paths against the root,
// `.`/`..` resolved. `~user` forms are not expanded (the engine does not
// read the password database): such a path is unreadable.
const normalize = (path: string, root: string, home: string): string | undefined => {
  if (path.startsWith("~") && path !== "~" && !path.startsWith("~/")) return undefined
  const expanded = path === "~" ? home : path.startsWith("~/") ? NodePath.posix.join(home, path.slice(2)) : path
  return NodePath.posix.resolve(root, expanded)
}

const pathsOf = (raw: string, ctx: Context, search = false): Subject => {
  if (raw.length === 0) return { _tag: "Unknown", why: "the path is empty" }
  if (raw.includes("\u0000")) return { _tag: "Unknown", why: "the path contains a NUL byte" }
  const lexical = normalize(raw, ctx.root, ctx.home)
  if (lexical === undefined) return { _tag: "Unknown", why: `cannot expand ${JSON.stringify(raw)}` }
  const real = ctx.realPath(lexical)
  const paths = real === lexical ? [lexical] : [lexical, real]
  const physical = physicalPath(raw, ctx)
  if (physical !== undefined && !paths.includes(physical)) paths.push(physical)
  return { _tag: "Paths", paths, search }
}

// The kernel resolves `..` after a symlinked directory from the link's
// target (`link/../x` is `dirname(target)/x`), not by dropping `link`: walk
// the path, resolving symlinks before each `..`. undefined without `..`.
const physicalPath = (raw: string, ctx: Context): string | undefined => {
  if (!raw.split("/").includes("..")) return undefined
  const expanded = raw === "~" ? ctx.home : raw.startsWith("~/") ? NodePath.posix.join(ctx.home, raw.slice(2)) : raw
  let cur = expanded.startsWith("/") ? "/" : ctx.root
  for (const part of expanded.split("/")) {
    if (part === "" || part === ".") continue
    cur = part === ".." ? NodePath.posix.dirname(ctx.realPath(cur)) : NodePath.posix.join(cur, part)
  }
  return ctx.realPath(cur)
}

// A subject naming several possible paths (a file argument after a `cd`
// that may or may not have happened): denied if any is, allowed if all are.
const manyPaths = (paths: ReadonlyArray<string>, ctx: Context, search: boolean): Subject => {
  if (paths.length === 1) return pathsOf(paths[0]!, ctx, search)
  const out: Array<string> = []
  for (const p of paths) {
    const s = pathsOf(p, ctx, search)
    if (s._tag !== "Paths") return s
    out.push(...s.paths)
  }
  return { _tag: "Paths", paths: out, search }
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
const pathKind = PolicySubject.PolicySubject.Path({ param: "file_path" })

// Deny wins, then an ask: a rule's or the engine's before the default's, so
// that one unmatched segment does not hide another a rule asks about (the
// hook defers only the default's ask: `whoami && git push` under an ask
// rule for git push is toolgate's ask, not "no opinion").
const combine = (segments: ReadonlyArray<Segment>, empty: () => ToolPolicy.Verdict): ToolPolicy.Verdict => {
  if (segments.length === 0) return empty()
  return segments.find((s) => s.verdict._tag === "Deny")?.verdict ??
    segments.find((s) => s.verdict._tag === "Ask" && s.verdict.match?._tag !== "Default")?.verdict ??
    segments.find((s) => s.verdict._tag === "Ask")?.verdict ??
    segments[0]!.verdict
}

// WebFetch and WebSearch change nothing here (they are still judged by the
// rules: a fetch can carry data out in its URL), so plan mode does not deny them.
const isMutator = (request: Request): boolean =>
  request.toolClass !== undefined
    ? request.toolClass === "Mutating"
    : !PolicySubject.standardReadOnly.has(request.name) && request.name !== "WebFetch" && request.name !== "WebSearch"

// acceptEdits pre-approves a write only inside the root and never to a file
// that configures git, an agent or the policy itself.
const editable = (ctx: Context, paths: ReadonlyArray<string>): boolean =>
  paths.every((p) => Modes.inside(ctx.root, p) && !Modes.isProtected(p, ctx.rules.files))

// -----------------------------------------------------------------------------
// Explaining a call
// -----------------------------------------------------------------------------

/**
 * Judges one call. `realPath` maps a lexical path to its real path (the
 * identity when symlinks are not resolved).
 */
export const explain = (rules: Rules, request: Request, env: Environment, realPath: RealPath): Explanation => {
  const mode = env.mode ?? rules.mode
  const root = NodePath.posix.resolve(env.root)
  const ctx: Context = {
    rules,
    root,
    home: env.home,
    envKey: `${root}\u0000${env.home}`,
    mode,
    realPath,
    name: request.name,
    mcp: PolicySubject.mcpIdentity(request.name, request.tool)
  }
  const kind = PolicySubject.resolve(request.name, request.tool)
  const explanation = kind._tag === "Command"
    ? explainCommand(ctx, request, kind)
    : kind._tag === "Path"
    ? explainPath(ctx, request, kind)
    : kind._tag === "Url"
    ? explainUrl(ctx, request, kind)
    : explainPlain(ctx, request, kind)
  const planned = mode !== "plan" || explanation.verdict._tag === "Deny" || !isMutator(request)
    ? explanation
    : {
      verdict: ToolPolicy.Verdict.Deny({
        reason: `plan mode: ${request.name} may change things, and only read-only tools run while planning`,
        match: { _tag: "Mode", mode: "plan" }
      }),
      segments: explanation.segments
    }
  // A standard tool's input it would not accept (judged without its schema):
  // what the rules saw is not what would run. Deny rules still deny; an allow becomes an ask.
  const bad = request.tool === undefined && planned.verdict._tag === "Allow" ? StandardInputs.badInput(request.name, request.params) : undefined
  if (bad === undefined) return planned
  const verdict = ToolPolicy.Verdict.Ask({ reason: bad, match: { _tag: "Fact", fact: "unreadable" } })
  return { verdict, segments: [...planned.segments, { text: request.name, verdict }] }
}

// Edit rules apply to every built-in tool that edits files, as in Claude
// Code: `Edit(./src/**)` allows Write, MultiEdit and NotebookEdit there too.
const editingTools = new Set(["Write", "MultiEdit", "NotebookEdit"])
const allowFor = (name: string): ReadonlyArray<string> => editingTools.has(name) ? [name, "Edit"] : [name]

const guardsFor = (name: string): ReadonlyArray<string> => {
  const extra = Resources.toolGuards[name]
  return extra === undefined ? [name] : [name, ...extra]
}

const one = (ctx: Context, text: string, j: Judgment): Explanation => {
  const verdict = toVerdict(j, ctx, ctx.mode, undefined)
  return { verdict, segments: [{ text, verdict }] }
}

const explainPlain = (ctx: Context, request: Request, kind: PolicySubject.PolicySubject & { readonly _tag: "Plain" }): Explanation => {
  const raw = kind.param === undefined ? { _tag: "None" } as const : param(request.params, kind.param)
  const subject: Subject = typeof raw === "string" ? { _tag: "Value", value: raw } : raw
  const names = guardsFor(request.name)
  const j = judge(ctx, names, [request.name], kind, subject, undefined)
  const annotated = request.tool !== undefined && Context.get(request.tool.annotations, PolicySubject.McpTool) !== undefined
  const ambiguous = ambiguousMcp(request.name, ctx.mcp, annotated)
  if (ambiguous !== undefined && (j.level === "allow" || j.level === "none")) {
    const verdict = ToolPolicy.Verdict.Ask({ reason: ambiguous, match: { _tag: "Fact", fact: "ambiguous MCP name" } })
    return { verdict, segments: [{ text: request.name, verdict }] }
  }
  return one(ctx, typeof raw === "string" ? raw : request.name, j)
}

// A URL tool is judged on the host the URL parser reads (what the fetch
// will reach, however the URL spells it: case, punycode, a trailing dot,
// `user@host`, numeric IPv4). A URL that does not parse or is not http(s)
// (`file:`, `ftp:`) names no host: never allowed by a domain rule.
const explainUrl = (ctx: Context, request: Request, kind: PolicySubject.PolicySubject & { readonly _tag: "Url" }): Explanation => {
  const raw = param(request.params, kind.param)
  let subject: Subject
  if (typeof raw !== "string") subject = raw
  else {
    const host = RuleSyntax.hostOf(raw)
    subject = host === undefined ? { _tag: "Unknown", why: `${JSON.stringify(raw.slice(0, 200))} is not an http(s) URL with a host` } : { _tag: "Host", host }
  }
  const j = judge(ctx, guardsFor(request.name), [request.name], kind, subject, undefined)
  return one(ctx, typeof raw === "string" ? raw : request.name, j)
}

// `mcp__a__b__c` names tool `b__c` of server `a` or tool `c` of server
// `a__b`: no allow rule, mode or default can tell which server it trusts.
const ambiguousMcp = (name: string, identity: RuleSyntax.McpIdentity | undefined, annotated: boolean): string | undefined => {
  if (identity === undefined) return undefined
  if (identity.server.includes("__")) return `the MCP server name ${JSON.stringify(identity.server)} contains "__", so ${name} cannot be told from another server's tool`
  if (!annotated && name.startsWith("mcp__") && name.slice(5).split("__").length > 2) return `${name} splits into server and tool in more than one way`
  return undefined
}

const explainPath = (ctx: Context, request: Request, kind: PolicySubject.PolicySubject & { readonly _tag: "Path" }): Explanation => {
  const search = Resources.searchTools[request.name]
  let raw = param(request.params, kind.param)
  let subject: Subject
  if (search !== undefined && typeof raw !== "string" && raw._tag === "Unknown" && raw.why.endsWith("is missing")) {
    // A search without a path searches the root.
    raw = "."
  }
  if (typeof raw === "string") {
    subject = pathsOf(raw, ctx, search !== undefined)
    const pattern = search?.pattern === undefined ? undefined : param(request.params, search.pattern)
    if (typeof pattern !== "string" && pattern !== undefined && !(pattern._tag === "Unknown" && pattern.why.endsWith("is missing"))) subject = pattern
    else if (subject._tag === "Paths" && typeof pattern === "string" && /[{}]/.test(pattern) && /\.\.|[{,]\s*[/~]/.test(pattern)) {
      // Braces that climb out (`{../../etc,src}/*`, `{/etc,x}/*`) reach
      // wherever their alternatives do: judged as a search from `/`.
      const from = pathsOf("/", ctx, true)
      if (from._tag === "Paths") subject = { ...subject, paths: [...new Set([...subject.paths, ...from.paths])] }
    } else if (subject._tag === "Paths" && typeof pattern === "string") {
      // A Glob pattern that leaves its directory (`/etc/*`, `~/x/*`,
      // `../../x/**`) also searches from its own literal base.
      const base = literalBase(pattern)
      const leaves = pattern.startsWith("/") || pattern.startsWith("~") || pattern.split("/").includes("..")
      if (leaves) {
        const from = pathsOf(pattern.startsWith("/") || pattern.startsWith("~") ? base || "/" : NodePath.posix.join(raw, base || "."), ctx, true)
        subject = from._tag === "Paths" ? { ...subject, paths: [...new Set([...subject.paths, ...from.paths])] } : from
      }
    }
  } else subject = raw
  // A search's pattern and glob must be strings: an ill-typed one is a bad call, never ignored.
  if ((request.name === "Grep" || request.name === "Glob") && subject._tag === "Paths") {
    for (const key of request.name === "Grep" ? ["pattern", "glob", "type"] : ["pattern"]) {
      const v = typeof request.params === "object" && request.params !== null ? (request.params as Record<string, unknown>)[key] : undefined
      if ((key === "pattern" || v !== undefined) && typeof v !== "string") subject = { _tag: "Unknown", why: `the parameter ${JSON.stringify(key)} is ${v === undefined ? "missing" : "not a string"}` }
    }
  }
  const text = typeof raw === "string" ? raw : request.name
  if (subject._tag === "Paths" && search !== undefined && request.tool !== undefined && Context.get(request.tool.annotations, PolicySubject.FiltersDenied)) {
    subject = { ...subject, filters: true }
  }
  const j = judge(ctx, guardsFor(request.name), allowFor(request.name), kind, subject, undefined)
  if (j.level === "none" && ctx.mode === "acceptEdits" && subject._tag === "Paths" && isMutator(request)) {
    if (editable(ctx, subject.paths)) {
      const verdict = ToolPolicy.Verdict.Allow({ match: { _tag: "Mode", mode: "acceptEdits" } })
      return { verdict, segments: [{ text, verdict }] }
    }
    // Inside the root but protected: the engine's own ask, not the default's, so that
    // the Claude Code hook gives it instead of deferring to Claude Code's acceptEdits.
    const guarded = subject.paths.find((p) => Modes.inside(ctx.root, p) && Modes.isProtected(p, ctx.rules.files))
    if (guarded !== undefined) {
      const verdict = ToolPolicy.Verdict.Ask({
        reason: `acceptEdits does not pre-approve ${request.name} of ${guarded}: it configures what runs next or what is allowed`,
        match: { _tag: "Fact", fact: "protected file" }
      })
      return { verdict, segments: [{ text, verdict }] }
    }
  }
  return one(ctx, text, j)
}

// The glob-free directory prefix of a glob pattern ("" when it has none).
const literalBase = (pattern: string): string => {
  const parts = pattern.split("/")
  const out: Array<string> = []
  for (const part of parts.slice(0, -1)) {
    if (/[*?[\]{}]/.test(part)) break
    out.push(part)
  }
  const base = out.join("/")
  return pattern.startsWith("/") && base === "" ? "/" : base
}

// Why a command segment is opaque — the engine cannot see all it runs (a
// computed program name, an unknown wrapper option, a shell-state change) —
// or undefined. The shell reader says why; a view without a program is
// opaque whatever the reader says.
const opacityOf = (segment: Shell.Command): string | undefined => {
  const opaque = (segment as { readonly opaque?: unknown }).opaque
  if (typeof opaque === "string") return opaque
  if (opaque === true || segment.views.some((v) => v.argv[0] === undefined)) return "the shell computes what it runs"
  return undefined
}

// The directories a segment may run in, as the shell reader tracked them
// through `cd`/`pushd` (`.` is the root); undefined when the shell computes one.
const cwdOf = (segment: Shell.Segment): ReadonlyArray<string> | undefined => {
  const cwd = (segment as { readonly cwd?: ReadonlyArray<string> | undefined }).cwd
  return "cwd" in segment ? cwd : ["."]
}

// A file argument as the paths it may name, given where the command runs;
// undefined when the shell computes it or the directory.
const inDirs = (path: string, dirs: ReadonlyArray<string> | undefined): ReadonlyArray<string> | undefined =>
  path.startsWith("/") || path.startsWith("~")
    ? [path]
    : dirs === undefined
    ? undefined
    : dirs.map((d) => d === "." ? path : NodePath.posix.join(d, path))

const explainCommand = (ctx: Context, request: Request, kind: PolicySubject.PolicySubject & { readonly _tag: "Command" }): Explanation => {
  const names = guardsFor(request.name)
  const allowNames = [request.name]
  const command = param(request.params, kind.param)
  if (typeof command !== "string") return one(ctx, request.name, judge(ctx, names, allowNames, kind, command, undefined))
  const analysis = AnalysisCache.analyze(command)
  if (analysis._tag === "Unparseable") {
    const j = judge(ctx, names, allowNames, kind, { _tag: "Unknown", why: `the command cannot be parsed (${analysis.reason})` }, undefined)
    // Only whole-tool deny and ask rules can judge what cannot be parsed.
    const verdict = (j.level === "deny" || j.level === "ask") && j.certain
      ? toVerdict(j, ctx, ctx.mode === "bypass" ? "default" : ctx.mode, undefined)
      : ToolPolicy.Verdict.Ask({ reason: `the command cannot be parsed: ${analysis.reason}`, match: { _tag: "Fact", fact: "unparseable" } })
    return { verdict, segments: [{ text: command, verdict }] }
  }
  const segments: Array<Segment> = []
  // A long line repeats itself (`git status; git status; …`): a simple
  // command with the same text, run in the same directories, is judged once.
  const judged = new Map<string, ReadonlyArray<Segment>>()
  for (const segment of analysis.segments) {
    if (segment._tag === "Command") {
      const key = `${segment.text}\u0000${cwdOf(segment)?.join("\u0000") ?? "\u0001"}`
      const again = judged.get(key)
      if (again !== undefined) {
        segments.push(...again)
        continue
      }
      const start = segments.length
      const j = judge(ctx, names, allowNames, kind, { _tag: "Argv", views: segment.views }, segment.text)
      const open = j.level === "allow" || j.level === "none"
      const opaque = opacityOf(segment)
      // An opaque command may run more than its views show: deny rules still
      // apply, anything else is asked (never a rule's, the default's or
      // bypass's allow). A shell running a script we parsed is judged by its
      // script's segments; its own line only meets deny and ask rules.
      const settled = opaque !== undefined && j.level !== "deny"
        ? ToolPolicy.Verdict.Ask({
          reason: `cannot judge ${JSON.stringify(segment.text)}: ${opaque}`,
          match: { _tag: "Fact", fact: "opaque", segment: segment.text }
        })
        : segment.transparent && open
        ? ToolPolicy.Verdict.Allow({ match: { _tag: "Fact", fact: "script judged by its commands", segment: segment.text } })
        : uncoveredVerdict(ctx, segment, j) ?? toVerdict(j, ctx, ctx.mode, segment.text)
      segments.push({ text: segment.text, verdict: protectedEdit(ctx, segment, settled) })
      judgeAccesses(ctx, segment, segments)
      judged.set(key, segments.slice(start))
    } else {
      segments.push({ text: segment.text, verdict: protectedEdit(ctx, segment, judgeRedirect(ctx, segment)) })
    }
  }
  const verdict = combine(segments, () => toVerdict(judge(ctx, names, allowNames, kind, { _tag: "None" }, command), ctx, ctx.mode, command))
  return { verdict, segments }
}

// Under acceptEdits, the default's ask on a command or redirection that
// writes a protected file inside the root (`cp x .npmrc`, `mv y .envrc`,
// `echo x > node_modules/.bin/tsc`) becomes the engine's own: Claude Code's
// acceptEdits runs mkdir, touch, rm, mv, cp and sed by itself, and the hook
// defers the default's ask to it.
const protectedEdit = (ctx: Context, segment: Shell.Segment, verdict: ToolPolicy.Verdict): ToolPolicy.Verdict => {
  if (ctx.mode !== "acceptEdits" || verdict._tag !== "Ask" || verdict.match?._tag !== "Default") return verdict
  const writes: Array<{ readonly path: string; readonly removes: boolean }> = []
  if (segment._tag === "Command") {
    for (const e of segment.program?.effects ?? []) {
      if (e.kind === "writes-file" && e.value !== undefined) writes.push({ path: e.value, removes: e.removes === true })
    }
  } else if (segment._tag === "Redirect" && segment.access === "write" && segment.target !== undefined) {
    writes.push({ path: segment.target, removes: false })
  }
  for (const write of writes) {
    const named = inDirs(write.path, cwdOf(segment))
    const subject = named === undefined ? undefined : manyPaths(named, ctx, false)
    if (subject?._tag !== "Paths") continue
    const guarded = subject.paths.find((p) => Modes.inside(ctx.root, p) && Modes.isProtected(p, ctx.rules.files, write.removes))
    if (guarded === undefined) continue
    return ToolPolicy.Verdict.Ask({
      reason: `${JSON.stringify(segment.text)} writes ${guarded}, which configures what runs next or what is allowed: acceptEdits does not pre-approve it`,
      match: { _tag: "Fact", fact: "protected file", segment: segment.text }
    })
  }
  return verdict
}

// -----------------------------------------------------------------------------
// What an allow covers
// -----------------------------------------------------------------------------

// Builtins and programs that do nothing a rule needs to see beyond their
// words (their file effects, if any, are redirections judged on their own).
const inertBuiltins = new Set([
  "cd", "pushd", "popd", "dirs", "echo", "printf", "test", "[", "[[", "true", "false", ":", "exit", "return", "shift",
  "unset", "wait", "type", "read", "pwd", "break", "continue", "jobs", "umask", "times", "getopts", "mapfile", "readarray"
])

// Names of shells and interpreters: a word naming one, given to a program
// the engine has no spec for, may be run by it.
const interpreterName = /^(sh|bash|zsh|dash|ksh|mksh|ash|rbash|fish|csh|tcsh|busybox|python[0-9.]*|pypy3?|node|nodejs|deno|bun|perl[0-9.]*|ruby[0-9.]*|php[0-9.]*|lua[0-9.]*|luajit|tclsh|wish|Rscript|osascript|awk|gawk|mawk|nawk|env|xargs|sudo|doas|eval|exec|source)$/

interface DenyFacts {
  /** some deny rule guards Bash commands */
  readonly bashDeny: boolean
  /** the programs Bash deny and ask rules name (their first literal word, base name) */
  readonly programs: ReadonlySet<string>
}
const denyFactsCache = new WeakMap<Rules, DenyFacts>()
const denyFacts = (rules: Rules): DenyFacts => {
  let facts = denyFactsCache.get(rules)
  if (facts === undefined) {
    const programs = new Set<string>()
    let bashDeny = false
    for (const r of [...rules.deny, ...rules.ask]) {
      if (r.tool !== "Bash" && !(r.tool.includes("*") && "Bash".match(new RegExp(`^${r.tool.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`)))) continue
      if (r.list === "deny") bashDeny = true
      const first = r.specifier === undefined ? undefined : Shell_words(r.specifier.replace(/:\*$/, ""))?.[0]
      if (first !== undefined) programs.add(first.slice(first.lastIndexOf("/") + 1))
    }
    facts = { bashDeny, programs }
    denyFactsCache.set(rules, facts)
  }
  return facts
}

const hostOf = (url: string): string | undefined => /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1]?.toLowerCase()

// Does the rule spell the word at `at` of the run view's argv? Literal words
// do; for a network effect, a glob word whose literal start names the same
// scheme and host (`https://api.github.com/*`) does too.
const spelt = (cover: Cover | undefined, effect: Programs.Effect): boolean => {
  if (cover === undefined) return false
  if (cover.literal === Infinity) return true
  const at = effect.at < 0 ? 0 : effect.at
  if (at < cover.literal) return true
  if (effect.kind !== "network" || effect.value === undefined) return false
  const word = cover.words[cover.offset + at]
  if (word?._tag !== "Glob") return false
  const star = word.text.indexOf("*")
  const head = word.text.slice(0, star)
  const host = hostOf(effect.value)
  return host !== undefined && /^[a-z][a-z0-9+.-]*:\/\/[^/*?]+\//i.test(head) && hostOf(head) === host && effect.value.startsWith(head)
}

// Does the rule spell every word of the run view's argv: an exact rule, or
// a prefix rule as long as the command? (`X:*` alone spells no more than the
// program's name, and a bare `irb` or `gdb` runs what its input says.)
const speltWhole = (cover: Cover | undefined, argv: ReadonlyArray<unknown>): boolean =>
  cover !== undefined && (cover.literal === Infinity || (argv.length > 1 && cover.literal >= argv.length))

// The places a word of an unspec'd program may name: the word, the value
// after `=` (`--out=F`), after `@` (`@LISTFILE`), the path glued to a
// short option (`-o/tmp/x`, `-o~/x`), and every absolute or home path
// inside it after a separator (`-c 'Include /etc/x'`, `man:/etc/x`,
// `file:///etc/x`, `--extra-opts=@/etc/x`).
const pathsIn = (w: string): ReadonlyArray<string> => {
  const out = new Set([w])
  if (w.includes("=")) out.add(w.slice(w.indexOf("=") + 1))
  if (w.startsWith("@") && w.length > 1) out.add(w.slice(1))
  if (/^-[^-/~]+[/~]/.test(w)) out.add(w.slice(w.search(/[/~]/)))
  for (const m of w.matchAll(/(?:^|[\s=@:'"(,<>])((?:~\/|\/)[^\s'"(),;<>]*|~(?=$|[\s'"(),;<>]))/g)) out.add(m[1]!.replace(/^\/{2,}/, "/"))
  return [...out]
}

// A write to `paths` is covered without a Write rule when it lands in the
// workspace on a file that configures nothing that runs (a removal may
// remove installed dependencies), or on /dev/null and its kin.
const writeCovered = (ctx: Context, subject: Subject & { readonly _tag: "Paths" }, removes = false): boolean => {
  const paths = subject.paths
  if (paths.every((p) => harmlessWrites.has(p))) return true
  // (a recursive write on the root itself is covered too: extracting an archive into the workspace)
  if (paths.every((p) => Modes.inside(ctx.root, p) && !Modes.isProtected(p, ctx.rules.files, removes))) return true
  return judge(ctx, Resources.guardsOf.write, Resources.guardsOf.write, pathKind, subject, undefined).level === "allow"
}

/**
 * Asks for a command that a rule, the default or bypass would allow when
 * what it does is not covered (see docs/policy.md, "What an allow rule
 * covers"). undefined when every effect is covered.
 */
const uncoveredVerdict = (ctx: Context, segment: Shell.Command, j: Judgment): ToolPolicy.Verdict | undefined => {
  if (j.level !== "allow" && j.level !== "none") return undefined
  // "none" only allows under bypass or `default: allow`; otherwise it asks anyway.
  if (j.level === "none" && ctx.mode !== "bypass" && ctx.rules.default !== "allow") return undefined
  const reason = uncovered(ctx, segment, j)
  return reason === undefined
    ? undefined
    : ToolPolicy.Verdict.Ask({ reason: `${JSON.stringify(segment.text)}: ${reason}`, match: { _tag: "Fact", fact: "uncovered effect", segment: segment.text } })
}

const uncovered = (ctx: Context, segment: Shell.Command, j: Judgment): string | undefined => {
  const byRule = j.level === "allow" && j.cover !== undefined
  const facts = denyFacts(ctx.rules)
  const run = runView(segment.views)
  const name = run.argv[0]
  if (name === undefined) return undefined
  if (segment.program === undefined) {
    if (inertBuiltins.has(name)) return undefined
    if (!byRule && facts.bashDeny) return `${name} has no spec, and deny rules guard Bash: it is not pre-approved`
    // A program GTFOBins lists can do through its options what its words do
    // not show: a prefix rule covers it only when it spells every word.
    const program = name.slice(name.lastIndexOf("/") + 1)
    const caps = byRule && !speltWhole(j.cover, run.argv) ? Gtfobins.capabilities(program) : undefined
    if (caps !== undefined && Gtfobins.runsOrReaches(caps)) {
      return `${program} can ${Gtfobins.describe(caps)} through options the engine has no table for (GTFOBins lists it); only a rule that spells the whole command covers it`
    }
    const writes = caps?.includes("w") === true
    // A program the engine has no spec for: a word that names a denied
    // program, a shell or interpreter, or a guarded path may be what it runs
    // or opens (a file writer's words, where it may write). A mode (bypass,
    // `default: allow`) still meets the guarded paths.
    for (const w of run.argv.slice(1)) {
      if (w === undefined) {
        if (writes) return `${program} can write files (GTFOBins lists it) and is given a word the shell computes`
        continue
      }
      for (const word of pathsIn(w)) {
        const base = word.slice(word.lastIndexOf("/") + 1)
        // (bypass pre-approves what ask rules ask; with no Bash deny rule, only ask rules name programs)
        if (facts.programs.has(base) && (byRule || ctx.mode !== "bypass")) return `${name} has no spec and is given ${JSON.stringify(w)}, which a rule guards as a program`
        if (byRule && interpreterName.test(base)) return `${name} has no spec and is given ${JSON.stringify(w)}, a shell or interpreter`
        const named = inDirs(word, cwdOf(segment))
        if (named === undefined) {
          if (writes) return `${program} can write files (GTFOBins lists it) and is given ${JSON.stringify(w)} in a directory the shell computes`
          continue
        }
        const subject = manyPaths(named, ctx, false)
        if (subject._tag !== "Paths") continue
        const g = judge(ctx, ["Read", "Write", "Edit"], [], pathKind, subject, undefined)
        if (g.level === "deny" || (g.level === "ask" && g.match?._tag === "Rule")) return `${name} has no spec and is given ${JSON.stringify(w)}, a path a rule guards`
        if (writes && !writeCovered(ctx, subject)) {
          return `${program} can write files (GTFOBins lists it) and is given ${JSON.stringify(w)}, outside the workspace or a file that configures what runs, which no Write or Edit rule allows`
        }
      }
    }
    return undefined
  }
  const seen = new Set<string>()
  for (const e of segment.program.effects) {
    const key = `${e.kind}\u0000${e.value ?? "\u0001"}\u0000${e.at}\u0000${e.recursive === true}`
    if (seen.has(key)) continue
    seen.add(key)
    switch (e.kind) {
      case "inert":
      case "sets-cwd":
      case "reads-file":
      case "runs-command":
        continue
      case "runs-code":
      case "env":
        if (e.local === true) {
          // the project's own code (its repository, its tests) is covered where the program is;
          // code from outside the workspace only by a rule that spells the word naming it
          const named = e.value === undefined ? undefined : inDirs(e.value, cwdOf(segment))
          const subject = named === undefined ? undefined : manyPaths(named, ctx, false)
          if (subject?._tag === "Paths" && subject.paths.every((p) => Modes.inside(ctx.root, p))) continue
          if (byRule ? e.at >= 0 && spelt(j.cover, e) : !facts.bashDeny) continue
          return `${e.why} (${e.value ?? "a directory the shell computes"}), outside the workspace${byRule ? ", which the rule does not spell out" : ", which deny rules guarding Bash cannot see into"}`
        }
        if (byRule ? spelt(j.cover, e) : !facts.bashDeny) continue
        return `${e.why}${e.value === undefined ? "" : ` (${e.value})`}, which ${byRule ? `the rule does not spell out` : "deny rules guarding Bash cannot see into"}`
      case "network":
        if (byRule ? spelt(j.cover, e) : true) continue
        return `${e.why}${e.value === undefined ? "" : ` (${e.value})`}, which the rule does not name`
      case "writes-file": {
        if (!byRule) continue
        if (e.value === undefined) return `${e.why}, and the shell computes which`
        const named = inDirs(e.value, cwdOf(segment))
        if (named === undefined) return `${e.why} (${e.value}) in a directory the shell computes`
        const subject = manyPaths(named, ctx, false)
        if (subject._tag !== "Paths") return `${e.why}: ${subject._tag === "Unknown" ? subject.why : "unreadable path"}`
        if (writeCovered(ctx, subject, e.removes === true)) continue
        return `${e.why} (${e.value}) outside the workspace or into a file that configures what runs, and no Write or Edit rule allows it`
      }
    }
  }
  return undefined
}

// The files a simple command reads or writes meet the deny and ask rules
// guarding them (Read for reads, Write and Edit for writes). Their allow is
// the command rule's: only accesses that are denied or asked are listed.
const judgeAccesses = (ctx: Context, segment: Shell.Command, out: Array<Segment>): void => {
  const seen = new Set<string>()
  const dirs = cwdOf(segment)
  const fromSpec: Array<Resources.FileAccess> = []
  for (const e of segment.program?.effects ?? []) {
    if (e.kind === "reads-file" || e.kind === "writes-file") fromSpec.push({ access: e.kind === "reads-file" ? "read" : "write", path: e.value, recursive: e.recursive === true })
  }
  // The program finally run is read by its spec when it has one (the spec
  // knows which words are files); the other views by the resource tables.
  const run = runView(segment.views)
  const byTables = segment.views.filter((v) => segment.program === undefined || (v !== run && v.argv[0] !== run.argv[0]))
  for (const accesses of [...byTables.map((v) => Resources.accessesOf(v.argv)), fromSpec]) {
    for (const access of accesses) {
      const text = `${access.access === "read" ? "reads" : "writes"} ${access.path ?? "a computed path"}`
      if (seen.has(text)) continue
      seen.add(text)
      const named = access.path === undefined ? undefined : inDirs(access.path, dirs)
      const subject: Subject = named === undefined
        ? { _tag: "Unknown", why: `the shell computes a file ${JSON.stringify(segment.text)} ${access.access === "read" ? "reads" : "writes"}` }
        : manyPaths(named, ctx, access.recursive)
      const j = judge(ctx, Resources.guardsOf[access.access], [], pathKind, subject, text)
      // An unreadable path only matters when a rule guards this resource.
      if (j.level === "deny" || (j.level === "ask" && j.match?._tag === "Rule")) {
        out.push({ text, verdict: toVerdict(j, ctx, ctx.mode, text) })
      }
    }
  }
}

const judgeRedirect = (ctx: Context, redirect: Shell.Redirect): ToolPolicy.Verdict => {
  // bash opens a socket for /dev/tcp/HOST/PORT and /dev/udp/HOST/PORT: a
  // connection no rule can name, asked in every mode.
  const names = Resources.guardsOf[redirect.access]
  const subject: Subject = redirect.target === undefined
    ? { _tag: "Unknown", why: `the shell computes the target of ${JSON.stringify(redirect.text)}` }
    : pathsOf(redirect.target, ctx)
  if (subject._tag === "Paths" && subject.paths.some((p) => /^\/dev\/(tcp|udp)(\/|$)/.test(p))) {
    return ToolPolicy.Verdict.Ask({ reason: `${JSON.stringify(redirect.text)} opens a network connection`, match: { _tag: "Fact", fact: "network", segment: redirect.text } })
  }
  const allowNames = redirect.access === "write" ? names : []
  const j = judge(ctx, names, allowNames, pathKind, subject, redirect.text)
  if (j.level === "deny" || j.level === "ask") return toVerdict(j, ctx, ctx.mode, redirect.text)
  if (redirect.access === "read") return ToolPolicy.Verdict.Allow({ match: { _tag: "Fact", fact: "reads are judged by the command", segment: redirect.text } })
  if (j.level === "allow") return toVerdict(j, ctx, ctx.mode, redirect.text)
  if (subject._tag === "Paths" && subject.paths.every((p) => harmlessWrites.has(p))) {
    return ToolPolicy.Verdict.Allow({ match: { _tag: "Fact", fact: "harmless device", segment: redirect.text } })
  }
  if (ctx.mode === "acceptEdits" && subject._tag === "Paths" && editable(ctx, subject.paths)) {
    return ToolPolicy.Verdict.Allow({ match: { _tag: "Mode", mode: "acceptEdits", segment: redirect.text } })
  }
  return toVerdict(j, ctx, ctx.mode, redirect.text)
}
