/**
 * Matchers: does one rule's specifier match one subject — the words of a
 * simple command, a normalized path, a plain parameter value.
 *
 * Invariant: an answer is "yes", "no" or "maybe". "maybe" (the engine cannot
 * tell, e.g. a computed word) is only ever given for deny and ask rules, and
 * the judge turns it into a question; an allow rule that cannot tell says
 * "no". Deny and ask rules match the program however it is spelt: by its
 * base name (`/bin/rm` is `rm`) and, when they name options, with the options
 * in any order, clustered or spelt long (`rm -rf` covers `rm -r -f`,
 * `rm -fr`, `rm --recursive --force`, `rm x -Rf`).
 */
import * as NodePath from "node:path"
import picomatch from "picomatch"
import type { Word } from "./shell.ts"
import type { CommandPattern, WordPattern } from "./ruleSyntax.ts"

export type RuleMatch = "yes" | "no" | "maybe"

// -----------------------------------------------------------------------------
// Commands
// -----------------------------------------------------------------------------

// Literal and glob words only match words whose value is known; `*` standing
// alone matches any run of words, computed ones included (their commands, if
// any, are separate segments judged on their own).
export const matchWords = (patterns: ReadonlyArray<WordPattern>, prefix: boolean, argv: ReadonlyArray<Word>): boolean => {
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

export const baseName = (program: string): string => {
  const slash = program.lastIndexOf("/")
  return slash < 0 ? program : program.slice(slash + 1)
}

// Long options and upper-case synonyms that mean the same as a short option,
// per program, so a deny of `rm -rf` also holds for `rm --recursive --force`.
const synonyms: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  rm: { "-R": "-r", "--recursive": "-r", "--force": "-f", "--dir": "-d", "--verbose": "-v" },
  cp: { "-R": "-r", "--recursive": "-r", "--force": "-f" },
  mv: { "--force": "-f" },
  chmod: { "--recursive": "-R" },
  chown: { "--recursive": "-R" },
  chgrp: { "--recursive": "-R" },
  sed: { "--in-place": "-i" },
  git: { "--force": "-f" },
  shred: { "--remove": "-u", "--zero": "-z", "--force": "-f" }
}

// The option words of an argv, expanded: clusters split (`-rf` → -r, -f),
// `--opt=value` cut to `--opt`, synonyms mapped. Positional words are kept in
// order. Options stop at `--`. `unknown` is set when a word is computed: it
// could be any option.
interface Options {
  readonly options: Set<string>
  readonly positional: Array<Word>
  readonly unknown: boolean
}
const optionsOf = (program: string, argv: ReadonlyArray<Word>): Options => {
  const table = synonyms[program] ?? {}
  const options = new Set<string>()
  const positional: Array<Word> = []
  let unknown = false
  let ended = false
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i]
    if (w === undefined) {
      unknown = true
      positional.push(undefined)
      continue
    }
    if (ended || w === "-" || !w.startsWith("-")) {
      positional.push(w)
      continue
    }
    if (w === "--") {
      ended = true
      continue
    }
    if (w.startsWith("--")) {
      const name = w.includes("=") ? w.slice(0, w.indexOf("=")) : w
      options.add(table[name] ?? name)
      continue
    }
    for (const letter of w.slice(1)) {
      const short = `-${letter}`
      options.add(table[short] ?? short)
    }
  }
  return { options, positional, unknown }
}

/**
 * The options-in-any-order reading of a deny or ask command pattern: the
 * program, the option words it names (expanded) and its other words in
 * order. Only built when the pattern starts with a literal program and names
 * at least one option.
 */
export interface OptionPattern {
  readonly program: string
  readonly options: ReadonlyArray<string>
  readonly positional: ReadonlyArray<WordPattern>
  readonly prefix: boolean
}

export const optionPattern = (pattern: CommandPattern): OptionPattern | undefined => {
  const first = pattern.words[0]
  if (first?._tag !== "Literal") return undefined
  const program = baseName(first.value)
  const rest = pattern.words.slice(1)
  const literal = rest.map((w) => w._tag === "Literal" ? w.value : undefined)
  if (!literal.some((w) => w !== undefined && w.startsWith("-") && w !== "-" && w !== "--")) return undefined
  const parsed = optionsOf(program, [first.value, ...literal.map((w) => w ?? "\u0000")])
  const positional = rest.filter((w) => !(w._tag === "Literal" && w.value.startsWith("-") && w.value !== "-"))
  return { program, options: [...parsed.options], positional, prefix: pattern.prefix }
}

/** Matches an argv against a command rule; `guard` is true for deny and ask rules. */
export const matchCommand = (
  pattern: CommandPattern,
  options: OptionPattern | undefined,
  argv: ReadonlyArray<Word>,
  guard: boolean
): RuleMatch => {
  if (matchWords(pattern.words, pattern.prefix, argv)) return "yes"
  if (!guard) return "no"
  const program = argv[0]
  if (program === undefined) return "no"
  const base = baseName(program)
  // Deny and ask rules hold for the program named by any path.
  if (base !== program && matchWords(pattern.words, pattern.prefix, [base, ...argv.slice(1)])) return "yes"
  if (options === undefined || base !== options.program) return "no"
  const have = optionsOf(base, argv)
  const positionalOk = matchWords(options.positional, true, have.positional) &&
    (options.prefix || have.positional.length === options.positional.length)
  if (!positionalOk) return "no"
  if (options.options.every((o) => have.options.has(o))) return "yes"
  return have.unknown ? "maybe" : "no"
}

// -----------------------------------------------------------------------------
// Paths
// -----------------------------------------------------------------------------

/** A compiled path pattern: the matcher and the literal directory it lives under. */
export interface PathPattern {
  readonly test: (path: string) => boolean
  /** The longest glob-free directory prefix of the absolute pattern ("/" at worst). */
  readonly base: string
}

const globChar = /[*?[\]{}()!+@]/

// Path patterns, gitignore-style:
// - `//abs/**` and `/abs/**` are absolute, `~/x` is under home,
// - `./x` and `dir/x` are under the root,
// - a pattern without a slash (`.env`, `*.pem`) matches that name at any
//   depth: under the root for allow rules, anywhere for deny and ask rules,
// - a trailing `/` means everything below.
// Allow patterns are case-sensitive; deny and ask patterns are not, since a
// case-insensitive file system would otherwise open `/ETC/passwd`.
export const pathPattern = (specifier: string, guard: boolean, root: string, home: string): PathPattern => {
  let pattern = specifier.trim()
  if (pattern.endsWith("/")) pattern = `${pattern}**`
  let absolute: string
  if (pattern.startsWith("//")) absolute = pattern.slice(1)
  else if (pattern.startsWith("/")) absolute = pattern
  else if (pattern === "~" || pattern.startsWith("~/")) absolute = NodePath.posix.join(home, pattern.slice(1))
  else if (!pattern.includes("/")) {
    absolute = guard ? `/**/${pattern}` : NodePath.posix.join(root, "**", pattern)
  } else absolute = NodePath.posix.join(root, pattern)
  if (absolute.startsWith("/")) absolute = NodePath.posix.normalize(absolute)
  const isMatch = picomatch(absolute, { dot: true, nocase: guard })
  const parts = absolute.split("/")
  const literal: Array<string> = []
  for (const part of parts.slice(0, -1)) {
    if (globChar.test(part)) break
    literal.push(part)
  }
  const base = literal.join("/") || "/"
  // `/etc/**` also covers `/etc` itself.
  return { test: (path) => isMatch(path) || isMatch(`${path}/`), base: guard ? base.toLowerCase() : base }
}

/**
 * Does a recursive search rooted at `dir` (Grep, Glob) reach what the
 * pattern guards? Yes when the pattern matches the directory or a file in
 * it, or when the pattern's literal base lies inside the directory: a Grep
 * over `~` reaches `~/.aws/credentials`.
 */
export const reachesFrom = (pattern: PathPattern, dir: string, guard: boolean): boolean => {
  if (pattern.test(dir) || pattern.test(`${dir === "/" ? "" : dir}/\u0001`)) return true
  const d = guard ? dir.toLowerCase() : dir
  return pattern.base !== "/" && (d === "/" || pattern.base === d || pattern.base.startsWith(`${d}/`))
}
