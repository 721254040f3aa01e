/**
 * Shell analysis for command rules: turns a command line into the simple
 * commands bash would run and the files it would write or read, in source
 * order, across operators, substitutions, wrappers and nested `sh -c` /
 * `eval` scripts.
 *
 * The contract with the judge (PolicyRules):
 * - `Unparseable`: the reader does not read this line the way bash would
 *   (or it is too long, nests too deep, holds NUL or CR). Never allowed.
 * - A `Command` lists every way of reading it (`views`): as written, each
 *   wrapper peeled off (`timeout 5 rm x` → `rm x`), and the program by its
 *   base name (`/bin/rm` → `rm`) and by its other names (`gawk` → `awk`,
 *   `python3.12` → `python3`), `denyOnly` views: they meet deny and ask
 *   rules, never allow rules. `opaque` says why the command may run more
 *   than the engine can see (computed name, unknown wrapper option, shell
 *   state change, `python -c`…): deny rules still apply to its views, but it
 *   is never allowed, by a rule, `bypass` or the default.
 * - `cwd` is every directory the segment may run in, as written in the `cd`
 *   that led there (`.` is the root, `~/x` under home), or `undefined` when
 *   the shell computes it. Redirect targets are already resolved against it
 *   (one `Redirect` per possible directory; `target` undefined when unknown).
 *
 * The reader is our own (./shell/read.ts), checked against real bash by
 * test/policy/differential; it replaced mvdan-sh, whose reading of comments,
 * CR and here-documents differed from bash's and which took ~0.6 ms per
 * command and seconds on long inputs.
 */
import * as NodePath from "node:path"
import { isLocalName, type Raw, Reader, ruleWords, Unreadable, type Word } from "./shell/read.ts"
import { baseName, isInertVariable, unsafeShellOptions, unwrap } from "./shell/wrappers.ts"
import * as Programs from "./programs/index.ts"
import * as Aliases from "./programs/aliases.ts"

export type { Word }

/** Every directory a segment may run in (see the module comment), or `undefined` when unknown. */
export type Cwd = ReadonlyArray<string> | undefined

/**
 * One way of reading a simple command. `privileged` marks views under
 * `sudo`/`doas` and `denyOnly` views that spell the program differently
 * from the command line (its base name): allow rules never match either.
 */
export interface View {
  readonly argv: ReadonlyArray<Word>
  readonly privileged: boolean
  readonly denyOnly?: boolean | undefined
}

/** A simple command found anywhere in the script, with every view of it. */
export interface Command {
  readonly _tag: "Command"
  readonly text: string
  readonly views: ReadonlyArray<View>
  /**
   * A shell running a script we parsed (`bash -c '…'`, `eval '…'`): the
   * script's commands are separate segments, so this line itself only meets
   * deny and ask rules.
   */
  readonly transparent: boolean
  /** Why this command may do more than its views show: never allowed when set. */
  readonly opaque?: string | undefined
  readonly cwd: Cwd
  /**
   * What the program finally run does, by its spec (programs/): the argv it
   * was read from (the last view) and its effects. Undefined when the
   * program has no spec, or the command is opaque or a parsed script.
   */
  readonly program?: { readonly argv: ReadonlyArray<Word>; readonly effects: ReadonlyArray<Programs.Effect> } | undefined
}

/** A redirection: a file the command line writes to or reads from, resolved against the working directory. */
export interface Redirect {
  readonly _tag: "Redirect"
  readonly text: string
  readonly access: "write" | "read"
  readonly target: Word
  readonly cwd: Cwd
}

export type Segment = Command | Redirect

export type Analysis =
  | { readonly _tag: "Parsed"; readonly segments: ReadonlyArray<Segment> }
  | { readonly _tag: "Unparseable"; readonly reason: string }

const maxDepth = 4
const maxLength = 100_000
const maxDirs = 8
const maxWrappers = 16
const chainWrappers = new Set(["timeout", "env", "nice", "xargs", "sudo", "doas", "nohup", "command", "builtin", "exec", "stdbuf", "setsid", "time", "ionice", "chrt", "taskset"])

interface State {
  readonly segments: Array<Segment>
  cwd: Cwd
  /** the commands being read run under sudo/doas (a privileged `sh -c` script, `sudo find -exec`) */
  privileged: boolean
}

// Builtins that declare variables, evaluate arithmetic, or change how later
// names are looked up: shell state is code.
const stateBuiltins: Readonly<Record<string, string>> = {
  declare: "declares shell variables",
  typeset: "declares shell variables",
  local: "declares shell variables",
  export: "exports shell variables",
  readonly: "declares shell variables",
  let: "evaluates arithmetic over variables",
  alias: "defines an alias",
  enable: "enables or loads builtins",
  hash: "changes where commands are found",
  fc: "re-runs commands from history",
  bind: "binds keys to commands",
  complete: "registers completion commands",
  compgen: "may run completion commands",
  coproc: "starts a coprocess"
}
// Builtins whose operands name variables, where an array subscript is evaluated as arithmetic (and so can run commands).
const subscriptBuiltins = new Set(["unset", "test", "[", "read", "mapfile", "readarray", "getopts", "printf", "wait"])

const builtinOpaque = (argv: ReadonlyArray<Word>): string | undefined => {
  const name = argv[0]
  if (name === undefined) return undefined
  const state = stateBuiltins[name]
  if (state !== undefined) return `${name} ${state}`
  if (name === "trap" && argv.slice(1).some((w) => w !== "-l" && w !== "-p")) return "trap runs a command later"
  if (name === "shopt" && argv.some((w) => w === undefined || /^-[a-z]*s/.test(w))) return "shopt -s changes how bash reads later commands"
  if (name === "set") {
    const why = unsafeShellOptions(argv.slice(1), "set")
    if (why !== undefined) return why
  }
  if (subscriptBuiltins.has(name)) {
    if (argv.some((w, i) => i > 0 && w !== undefined && /\[.*\]/.test(w) && w !== "[" && w !== "]")) {
      return `${name} has an operand with an array subscript, which bash evaluates`
    }
  }
  const assigned: Array<Word> = []
  if (name === "read") {
    for (let i = 1; i < argv.length; i++) {
      const w = argv[i]
      if (w === undefined) return "read has a computed operand"
      if (/^-[ers]*[adinNptu]$/.test(w)) {
        if (w.endsWith("a")) assigned.push(argv[i + 1])
        i++
      } else if (!w.startsWith("-")) assigned.push(w)
    }
  } else if (name === "printf" && argv[1] !== undefined && argv[1].startsWith("-v")) {
    assigned.push(argv[1] === "-v" ? argv[2] : argv[1].slice(2))
  } else if ((name === "mapfile" || name === "readarray")) {
    if (argv.some((w) => w === undefined || /^-[^-]*C/.test(w))) return `${name} -C runs a callback`
    const last = argv[argv.length - 1]
    if (argv.length > 1 && last !== undefined && !last.startsWith("-")) assigned.push(last)
  } else if (name === "getopts") {
    assigned.push(argv[2])
  }
  const bad = assigned.find((w) => w === undefined || !isLocalName(w))
  if (assigned.length > 0 && (bad !== undefined || assigned.includes(undefined))) return `${name} assigns ${bad ?? "a computed name"}, which can change what runs`
  return undefined
}

const resolveDir = (from: string, dir: string): string =>
  dir.startsWith("/") || dir === "~" || dir.startsWith("~/") ? dir : NodePath.posix.join(from, dir)

// The directories after a `cd`-like command. `cd x` may fail, so the old
// directories stay possible alongside the new ones.
const changeDir = (argv: ReadonlyArray<Word>, cwd: Cwd): Cwd => {
  const name = argv[0]
  if (cwd === undefined || name === "popd") return undefined
  let i = 1
  while (i < argv.length && argv[i] !== undefined && /^-[LPe@]+$/.test(argv[i]!)) i++
  if (argv[i] === "--") i++
  if (i < argv.length && argv[i] === undefined) return undefined
  const dir = i < argv.length ? argv[i] : name === "cd" ? "~" : undefined
  if (dir === undefined || dir === "-" || (name === "pushd" && /^[+-]\d+$/.test(dir))) return undefined
  if (dir.startsWith("~") && dir !== "~" && !dir.startsWith("~/")) return undefined
  const next = new Set(cwd)
  for (const c of cwd) next.add(resolveDir(c, dir))
  return next.size > maxDirs ? undefined : [...next]
}

const pushRedirect = (state: State, text: string, access: "write" | "read", target: Word, cwd: Cwd = state.cwd): void => {
  if (target !== undefined && (target.startsWith("/") || target.startsWith("~"))) {
    state.segments.push({ _tag: "Redirect", text, access, target, cwd })
    return
  }
  if (target === undefined || cwd === undefined) {
    state.segments.push({ _tag: "Redirect", text, access, target: undefined, cwd })
    return
  }
  for (const dir of cwd) state.segments.push({ _tag: "Redirect", text, access, target: dir === "." ? target : NodePath.posix.join(dir, target), cwd })
}

const withBaseNames = (views: Array<View>): Array<View> => {
  const out = views.slice()
  for (const v of views) {
    const name = v.argv[0]
    if (name === undefined) continue
    const base = baseName(name)
    if (name.includes("/")) out.push({ argv: [base, ...v.argv.slice(1)], privileged: v.privileged, denyOnly: true })
    // the program's other names (`gawk` for `awk`, `python3.12` for `python3`)
    for (const alias of Aliases.aliasesOf(base)) out.push({ argv: [alias, ...v.argv.slice(1)], privileged: v.privileged, denyOnly: true })
  }
  return out
}

const command = (argv: ReadonlyArray<Word>, label: string, prefixOpaque: string | undefined, state: State, depth: number): void => {
  const cwd = state.cwd
  let privileged = state.privileged
  const views: Array<View> = [{ argv, privileged }]
  let opaque = prefixOpaque
  let current = argv
  let transparent = false
  for (let peeled = 0; ; peeled++) {
    // Each peel copies the rest of argv: a chain of thousands of wrappers
    // would cost quadratic time. No real command nests this deep.
    if (peeled >= maxWrappers) {
      opaque ??= `more than ${maxWrappers} wrappers in a row`
      // Deny rules still meet the command at the end of the chain: its first
      // word that is no wrapper, option or number starts one more view
      // (privileged, so no allow rule matches it).
      const k = current.findIndex((w, i) => i > 0 && w !== undefined && !/^[-+\d]/.test(w) && !chainWrappers.has(baseName(w)))
      if (k > 0) views.push({ argv: current.slice(k), privileged: true })
      break
    }
    const step = unwrap(current)
    if (step._tag === "None") {
      for (const w of step.writes) pushRedirect(state, `${label}`, "write", w)
      break
    }
    if (step._tag === "Opaque") {
      opaque ??= step.reason
      break
    }
    if (step._tag === "Script") {
      // The shell's own line is still a segment (deny rules on `bash` apply);
      // the script's commands are judged on their own.
      withPrivilege(state, privileged, () => read(step.script, depth + 1, state))
      transparent = true
      break
    }
    for (const w of step.writes) pushRedirect(state, `${label}`, "write", w)
    opaque ??= step.opaque
    privileged = privileged || step.privileged
    current = step.argv
    views.push({ argv: current, privileged })
  }
  let nextCwd = state.cwd
  for (const v of views) {
    opaque ??= builtinOpaque(v.argv)
    const name = v.argv[0]
    if (name === "cd" || name === "pushd" || name === "popd") nextCwd = changeDir(v.argv, nextCwd)
  }
  // The program finally run, read by its spec: the commands it runs are
  // segments of their own (listed after it), its other effects go to the judge.
  let program: Command["program"]
  if (!transparent && opaque === undefined) {
    // git's own peel (`git -C dir log` → `git log`) drops options its spec
    // must see: read the first view of the same program.
    const same = views.find((v) => v.argv[0] !== undefined && current[0] !== undefined && baseName(v.argv[0]) === baseName(current[0]))?.argv ?? current
    const reading = Programs.read(same)
    if (reading !== undefined) {
      opaque ??= reading.opaque
      program = { argv: same, effects: reading.effects }
    }
  }
  state.segments.push({ _tag: "Command", text: label, views: withBaseNames(views), transparent, opaque, cwd, program })
  if (program !== undefined && opaque === undefined) {
    withPrivilege(state, privileged, () => {
      for (const e of program.effects) {
        if (e.kind !== "runs-command") continue
        if (e.argv !== undefined) command(e.argv, e.label ?? `${e.argv.map((x) => x ?? "…").join(" ")}`, undefined, state, depth + 1)
        else if (e.value === undefined) opaqueSegment(state, label, e.why)
        else if (e.script === true) read(e.value, depth + 1, state)
        else command([e.value, undefined], `${e.value} …`, undefined, state, depth + 1)
      }
    })
  }
  state.cwd = nextCwd
}

// Privilege carries into what a privileged command runs: the commands of a
// `sudo sh -c` script or of `sudo find -exec` are judged as if under sudo.
const withPrivilege = (state: State, privileged: boolean, f: () => void): void => {
  const before = state.privileged
  state.privileged = before || privileged
  try {
    f()
  } finally {
    state.privileged = before
  }
}

const opaqueSegment = (state: State, text: string, reason: string): void => {
  state.segments.push({ _tag: "Command", text, views: [{ argv: [undefined], privileged: false }], transparent: false, opaque: reason, cwd: state.cwd })
}

const judgeRaw = (raw: Raw, state: State, depth: number): void => {
  if (raw._tag === "Opaque") return opaqueSegment(state, raw.text, raw.reason)
  // Redirections are listed after their command, resolved where it starts
  // (`cd /x > f` writes f in the directory before the cd).
  const cwd = state.cwd
  if (raw.words.length === 0) {
    if (raw.assigns.length > 0) opaqueSegment(state, raw.text, `assigns ${raw.assigns.map((a) => a.name).join(", ")}: shell state the engine does not track`)
  } else {
    const prefix = raw.assigns.find((a) => !isInertVariable(a.name))
    command(raw.words, raw.text, prefix === undefined ? undefined : `sets ${prefix.name} for the command, which can change what runs`, state, depth)
    // A relative `cd` in a loop body may run any number of times: where the
    // later commands run is unknown.
    if (raw.inLoop === true && state.cwd !== cwd && state.cwd !== undefined) state.cwd = undefined
  }
  for (const r of raw.redirects) pushRedirect(state, r.text, r.access, r.target, cwd)
}

const read = (src: string, depth: number, state: State): void => {
  if (depth > maxDepth) throw new Unreadable(`shell wrappers nest deeper than ${maxDepth} levels`)
  const raws: Array<Raw> = []
  new Reader(src, raws).readAll()
  for (const raw of raws) judgeRaw(raw, state, depth)
}

/**
 * Reads `src` as bash and lists every simple command and redirection in it,
 * in source order, across all operators, substitutions and nested `sh -c` /
 * `eval` scripts. Pure: callers may cache it (see analysisCache.ts).
 */
export const analyze = (src: string): Analysis => {
  if (src.includes("\u0000")) return { _tag: "Unparseable", reason: "the command contains a NUL byte" }
  if (src.length > maxLength) return { _tag: "Unparseable", reason: `the command is longer than ${maxLength} characters` }
  if (src.includes("\r")) return { _tag: "Unparseable", reason: "the command contains a carriage return" }
  const state: State = { segments: [], cwd: ["."], privileged: false }
  try {
    read(src, 0, state)
  } catch (error) {
    if (error instanceof Unreadable) return { _tag: "Unparseable", reason: error.reason }
    if (error instanceof RangeError) return { _tag: "Unparseable", reason: "the command nests too deeply" }
    throw error
  }
  return { _tag: "Parsed", segments: state.segments }
}

/**
 * Splits a rule specifier into shell words. `undefined` when it is not a
 * plain list of words (rules are literal text, not scripts).
 */
export const words = (src: string): ReadonlyArray<string> | undefined => ruleWords(src)
