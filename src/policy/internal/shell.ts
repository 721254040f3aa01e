/**
 * Shell analysis for command rules: turns a command line into the simple
 * commands it would run and the files it would write, using mvdan/sh's real
 * bash parser (the GopherJS build published as `mvdan-sh`).
 *
 * Why mvdan-sh and not its successor sh-syntax: sh-syntax 0.7.0 serialises
 * the AST to JSON and drops every command node's contents (a `Stmt.Cmd` comes
 * back as `{ Pos, End }` only), so it cannot tell `git status` from `rm -rf /`.
 * mvdan-sh exposes the parser's own typed tree and `syntax.Walk`, and parses
 * synchronously. The parser is strict (no error recovery), so anything it
 * cannot parse is reported as such, never guessed at.
 */
import { createRequire } from "node:module"

// The subset of mvdan-sh's GopherJS API this module relies on. The package
// ships no types; keeping the surface this narrow makes a version bump easy to
// audit (the redirect operators are also calibrated at load, see below).
interface ShNode {
  readonly Pos: () => { readonly Offset: () => number }
  readonly End: () => { readonly Offset: () => number }
  readonly [key: string]: any
}
interface MvdanSh {
  readonly syntax: {
    readonly NewParser: () => { readonly Parse: (src: string, name: string) => ShNode }
    readonly NodeType: (node: ShNode) => string
    readonly Walk: (node: ShNode, f: (node: ShNode | null) => boolean) => void
  }
}
// The parser is 1.5 MB of GopherJS that takes ~150 ms to load, and its loader
// sets `Error.stackTraceLimit = Infinity` for the whole process. It is loaded
// on the first analysis, not on import, and the global is put back.
let sh: MvdanSh
let parser: ReturnType<MvdanSh["syntax"]["NewParser"]>
let writeOps: ReadonlySet<number>
let dupOutOp: number
let readOps: ReadonlySet<number>
let loaded = false
const load = (): void => {
  if (loaded) return
  const stackTraceLimit = Error.stackTraceLimit
  try {
    sh = createRequire(import.meta.url)("mvdan-sh") as MvdanSh
  } finally {
    Error.stackTraceLimit = stackTraceLimit
  }
  parser = sh.syntax.NewParser()
  writeOps = new Set([": > f", ": >> f", ": >| f", ": &> f", ": &>> f", ": <> f"].map(opOf))
  dupOutOp = opOf(": >& f")
  readOps = new Set([": < f"].map(opOf))
  loaded = true
}

/** A word of a command: its literal value, or `undefined` when the shell computes it (expansions, globs). */
export type Word = string | undefined

/**
 * One way of reading a simple command: the command line as written, and
 * again for each wrapper peeled off (`timeout 5 npm test` → `npm test`).
 * `privileged` marks views that run under `sudo`/`doas`: allowing them
 * alone must not allow the privileged whole.
 */
export interface View {
  readonly argv: ReadonlyArray<Word>
  readonly privileged: boolean
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
}

/** A redirection: a file the command line writes to or reads from. */
export interface Redirect {
  readonly _tag: "Redirect"
  readonly text: string
  readonly access: "write" | "read"
  readonly target: Word
}

export type Segment = Command | Redirect

export type Analysis =
  | { readonly _tag: "Parsed"; readonly segments: ReadonlyArray<Segment> }
  | { readonly _tag: "Unparseable"; readonly reason: string }

const maxDepth = 4
const maxLength = 100_000
const maxChain = 128

// Redirect operators are numeric token ids whose values changed between
// mvdan/sh releases; learn them from the parser itself instead of hard-coding.
const opOf = (src: string): number => {
  let op = -1
  sh.syntax.Walk(parser.Parse(src, ""), (n) => {
    if (n !== null && sh.syntax.NodeType(n) === "Redirect") op = n.Op as number
    return true
  })
  return op
}

const globChars = /[*?[{]/

// Evaluates a word to its literal value when no expansion can change it.
// Unquoted glob and brace characters make the value unknown: `{rm,-rf,/}`
// is `rm -rf /` once bash is done with it.
const literal = (word: ShNode): Word => {
  let out = ""
  const parts = word.Parts as Array<ShNode>
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    switch (sh.syntax.NodeType(part)) {
      case "Lit": {
        const value = part.Value as string
        if (globChars.test(value)) return undefined
        out += value.replace(/\\\n/g, "").replace(/\\(.)/gs, "$1")
        break
      }
      case "SglQuoted": {
        const value = part.Value as string
        if (part.Dollar === true && value.includes("\\")) return undefined
        out += i === 0 && value.startsWith("~") ? `./${value}` : value
        break
      }
      case "DblQuoted": {
        if (part.Dollar === true) return undefined
        let inner = ""
        for (const p of part.Parts as Array<ShNode>) {
          if (sh.syntax.NodeType(p) !== "Lit") return undefined
          inner += (p.Value as string).replace(/\\\n/g, "").replace(/\\([$`"\\])/g, "$1")
        }
        out += i === 0 && inner.startsWith("~") ? `./${inner}` : inner
        break
      }
      default:
        return undefined
    }
  }
  return out
}

const utf8 = (src: string) => {
  const bytes = Buffer.from(src, "utf8")
  return (node: ShNode): string => bytes.subarray(node.Pos().Offset(), node.End().Offset()).toString("utf8")
}

const shells = new Set(["sh", "bash", "zsh", "dash", "ksh", "mksh", "ash"])

type Unwrapped =
  | { readonly _tag: "Inner"; readonly argv: ReadonlyArray<Word>; readonly privileged: boolean }
  | { readonly _tag: "Script"; readonly script: string }
  | { readonly _tag: "Opaque" }
  | { readonly _tag: "None" }

// Skips leading options of a wrapper. `withArg` lists the options that take
// a separate argument. Returns the index of the wrapped command, or -1 when
// an option cannot be read (then the wrapper is opaque: never allowed by its
// inner command).
const skipOptions = (argv: ReadonlyArray<Word>, from: number, withArg: ReadonlySet<string>): number => {
  let i = from
  while (i < argv.length) {
    const w = argv[i]
    if (w === undefined) return -1
    if (w === "--") return i + 1
    if (!w.startsWith("-") || w === "-") return i
    if (withArg.has(w)) i += 2
    else i += 1
  }
  return i
}

const timeoutArgs = new Set(["-s", "--signal", "-k", "--kill-after"])
const sudoArgs = new Set(["-u", "--user", "-g", "--group", "-h", "--host", "-p", "--prompt", "-C", "--close-from", "-r", "--role", "-t", "--type", "-D", "--chdir", "-R", "--chroot", "-T", "--command-timeout", "-U", "--other-user"])
const xargsArgs = new Set(["-I", "-i", "-n", "-P", "-L", "-l", "-s", "-d", "-E", "-e", "-a", "--arg-file", "--delimiter", "--max-args", "--max-procs", "--max-lines", "--replace", "--eof", "--process-slot-var"])
const execArgs = new Set(["-a"])
const niceArgs = new Set(["-n", "--adjustment"])
const noArgs = new Set<string>()
const findExec = new Set(["-exec", "-execdir", "-ok", "-okdir"])

const unwrap = (argv: ReadonlyArray<Word>): Unwrapped => {
  const name = argv[0]
  if (name === undefined) return { _tag: "None" }
  const base = name.includes("/") ? name.slice(name.lastIndexOf("/") + 1) : name
  const inner = (i: number, privileged = false, extra: ReadonlyArray<Word> = []): Unwrapped =>
    i < 0 ? { _tag: "Opaque" } : i >= argv.length ? { _tag: "None" } : { _tag: "Inner", argv: [...argv.slice(i), ...extra], privileged }
  switch (base) {
    case "env": {
      let i = 1
      while (i < argv.length) {
        const w = argv[i]
        if (w === undefined) return { _tag: "Opaque" }
        // `env -S 'a b'` splits its argument into a new command line.
        if (w === "-S" || w.startsWith("--split-string") || (w.startsWith("-") && !w.startsWith("--") && w.includes("S"))) return { _tag: "Opaque" }
        if (w === "-u" || w === "--unset" || w === "-C" || w === "--chdir") i += 2
        else if (w === "--") i += 1
        else if (w.startsWith("-") || /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) i += 1
        else break
      }
      return inner(i)
    }
    case "command":
    case "builtin":
    case "nohup":
    case "time":
      return inner(skipOptions(argv, 1, noArgs))
    case "exec":
      return inner(skipOptions(argv, 1, execArgs))
    case "nice":
      return inner(skipOptions(argv, 1, niceArgs))
    case "timeout": {
      const i = skipOptions(argv, 1, timeoutArgs)
      return i < 0 || argv[i] === undefined ? { _tag: "Opaque" } : inner(i + 1)
    }
    case "sudo":
    case "doas": {
      const i = skipOptions(argv, 1, sudoArgs)
      // `sudo -s`/`sudo -i` without a command opens a root shell.
      return i >= argv.length ? { _tag: "Opaque" } : inner(i, true)
    }
    case "xargs":
      // xargs appends what it reads from stdin: the wrapped command gets
      // arguments nobody can see, so an exact rule can never match it.
      return inner(skipOptions(argv, 1, xargsArgs), false, [undefined])
    case "eval": {
      const words = argv.slice(1)
      if (words.some((w) => w === undefined)) return { _tag: "Opaque" }
      return { _tag: "Script", script: words.join(" ") }
    }
    default: {
      if (!shells.has(base)) return { _tag: "None" }
      // `bash -lc 'script'`: the first non-option argument after a flag
      // cluster containing `c` is the script.
      let sawC = false
      let i = 1
      while (i < argv.length) {
        const w = argv[i]
        if (w === undefined) return sawC ? { _tag: "Opaque" } : { _tag: "None" }
        if (w === "-o" || w === "+o" || w === "-O" || w === "+O") { i += 2; continue }
        if (/^[-+][A-Za-z]+$/.test(w)) { if (w.startsWith("-") && w.includes("c")) sawC = true; i += 1; continue }
        if (w === "--") { i += 1; continue }
        if (w.startsWith("--")) { i += 1; continue }
        break
      }
      if (!sawC) return { _tag: "None" }
      const script = argv[i]
      return script === undefined ? { _tag: "Opaque" } : { _tag: "Script", script }
    }
  }
}

class Unparseable {
  readonly reason: string
  constructor(reason: string) {
    this.reason = reason
  }
}

const analyse = (src: string, depth: number, segments: Array<Segment>): void => {
  if (depth > maxDepth) throw new Unparseable(`shell wrappers nest deeper than ${maxDepth} levels`)
  let file: ShNode
  try {
    file = parser.Parse(src, "")
  } catch (error) {
    const message = typeof (error as any)?.Error === "function" ? String((error as any).Error()) : String(error)
    throw new Unparseable(message.replace(/^:/, ""))
  }
  const text = utf8(src)
  const command = (node: ShNode, argv: ReadonlyArray<Word>, label = text(node)) => {
    const views: Array<View> = [{ argv, privileged: false }]
    let current = argv
    let privileged = false
    let transparent = false
    for (;;) {
      const step = unwrap(current)
      if (step._tag === "None") break
      if (step._tag === "Opaque") {
        views.push({ argv: [undefined], privileged })
        break
      }
      if (step._tag === "Script") {
        // The shell's own line is still a segment (deny rules on `bash` apply);
        // the script's commands are judged on their own, after it.
        analyse(step.script, depth + 1, segments)
        transparent = true
        break
      }
      privileged = privileged || step.privileged
      current = step.argv
      views.push({ argv: current, privileged })
    }
    segments.push({ _tag: "Command", text: label, views, transparent })
    // `find … -exec cmd {} ;` runs cmd: each clause is a command of its own.
    const name = current[0]
    if (name !== undefined && (name === "find" || name.endsWith("/find"))) {
      for (let i = 1; i < current.length; i++) {
        if (!findExec.has(current[i] ?? "")) continue
        let end = i + 1
        while (end < current.length && current[end] !== ";" && current[end] !== "+") end++
        const inner = current.slice(i + 1, end)
        if (inner.length > 0) command(node, inner, `${current[i]} ${inner.map((w) => w ?? "…").join(" ")}`)
        i = end
      }
    }
  }
  sh.syntax.Walk(file, (node) => {
    if (node === null) return true
    switch (sh.syntax.NodeType(node)) {
      case "CallExpr": {
        const args = node.Args as Array<ShNode>
        if (args.length > 0) command(node, args.map(literal))
        break
      }
      case "DeclClause":
        // `export`/`declare`/`local`/`readonly`: judged by name, and the
        // assignments' values are walked for command substitutions.
        command(node, [node.Variant.Value as string, ...(node.Args as Array<ShNode>).map(() => undefined)])
        break
      case "TestClause":
        command(node, ["[[", undefined])
        break
      case "ArithmCmd":
        command(node, ["((", undefined])
        break
      case "LetClause":
        command(node, ["let", undefined])
        break
      case "FuncDecl":
        // Defining a function runs nothing, but calling it later runs a name
        // no rule has seen; the body is still walked and judged.
        command(node, ["function", node.Name.Value as string])
        break
      case "Redirect": {
        const op = node.Op as number
        const target = node.Word === null || node.Word === undefined ? undefined : literal(node.Word)
        const isDup = op === dupOutOp && target !== undefined && /^(\d+|-)$/.test(target)
        if (writeOps.has(op) || (op === dupOutOp && !isDup)) {
          segments.push({ _tag: "Redirect", text: text(node), access: "write", target })
        } else if (readOps.has(op)) {
          segments.push({ _tag: "Redirect", text: text(node), access: "read", target })
        }
        break
      }
    }
    return true
  })
}

/**
 * Parses `src` as bash and lists every simple command and redirection in it,
 * in source order of discovery, across all operators, substitutions and
 * nested `sh -c` / `eval` scripts.
 */
export const analyze = (src: string): Analysis => {
  load()
  if (src.includes("\u0000")) return { _tag: "Unparseable", reason: "the command contains a NUL byte" }
  // The GopherJS parser recurses once per `&&`, `||` and `|`, and overflows
  // the JS stack after a few hundred of them — slowly (seconds to tens of
  // seconds to unwind). Long chains and huge inputs are refused up front:
  // such a command is asked, never parsed. The count is over the raw text,
  // quotes included, so it can only err towards asking.
  if (src.length > maxLength) return { _tag: "Unparseable", reason: `the command is longer than ${maxLength} characters` }
  if ((src.match(/&&|\|\||\|/g)?.length ?? 0) > maxChain) {
    return { _tag: "Unparseable", reason: `the command chains more than ${maxChain} &&, || and | operators` }
  }
  const segments: Array<Segment> = []
  try {
    analyse(src, 0, segments)
  } catch (error) {
    if (error instanceof Unparseable) return { _tag: "Unparseable", reason: error.reason }
    return { _tag: "Unparseable", reason: String(error) }
  }
  return { _tag: "Parsed", segments }
}

/**
 * Splits a rule specifier into shell words. `undefined` when it is not a
 * plain list of words (rules are literal text, not scripts).
 */
export const words = (src: string): ReadonlyArray<string> | undefined => {
  load()
  let file: ShNode
  try {
    file = parser.Parse(src, "")
  } catch {
    return undefined
  }
  const stmts = file.Stmts as Array<ShNode>
  if (stmts.length !== 1) return undefined
  const stmt = stmts[0]!
  const cmd = stmt.Cmd as ShNode | null
  if (cmd === null || sh.syntax.NodeType(cmd) !== "CallExpr" || (stmt.Redirs as Array<ShNode>).length > 0) return undefined
  if ((cmd.Assigns as Array<ShNode>).length > 0) return undefined
  const out: Array<string> = []
  for (const word of cmd.Args as Array<ShNode>) {
    // Rule words keep `*` as a wildcard, so read them without glob checks.
    let value = ""
    for (const part of word.Parts as Array<ShNode>) {
      const type = sh.syntax.NodeType(part)
      if (type === "Lit") value += (part.Value as string).replace(/\\(.)/gs, "$1")
      else if (type === "SglQuoted" && part.Dollar !== true) value += part.Value as string
      else if (type === "DblQuoted" && (part.Parts as Array<ShNode>).every((p) => sh.syntax.NodeType(p) === "Lit")) {
        value += (part.Parts as Array<ShNode>).map((p) => p.Value as string).join("")
      } else return undefined
    }
    out.push(value)
  }
  return out
}
