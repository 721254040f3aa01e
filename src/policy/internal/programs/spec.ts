/**
 * Program specs: what each option and operand of a program does, so that an
 * allow rule naming the program covers only what the invocation is known to
 * do (issue 16). A spec lists the program's options as its `--help` spells
 * them (short, long, whether they take a value) and the effect of each:
 *
 * - `runs-command`: runs another program (its value is a shell command or an argv),
 * - `runs-code`: runs code (a script, a module, a build file, inline code),
 * - `reads-file` / `writes-file`: reads or writes the file its value names,
 * - `network`: reaches the network (its value is the address when known),
 * - `sets-cwd`: later file operands are relative to its value (`-C DIR`),
 * - `env`: changes the environment of what it runs,
 * - `inert`: none of these.
 *
 * Parsing is getopt_long's: clustered short options (`-rf`), attached or
 * separate values (`-ofile`, `-o file`, `--out=file`, `--out file`),
 * optional values attached only (`--color`, `--color=auto`), unique-prefix
 * abbreviations of long options (`--outp=F` is `--output=F`), `--` ending the
 * options, and operands anywhere (GNU permutes) unless the spec is POSIX.
 *
 * Invariant: an option outside the spec, an ambiguous abbreviation or a
 * computed word where an effectful option could stand makes the invocation
 * opaque: the judge asks, it never guesses.
 */
import type { Word } from "../shell/read.ts"

export type EffectKind = "runs-command" | "runs-code" | "reads-file" | "writes-file" | "network" | "sets-cwd" | "env" | "inert"

/** One effect of one invocation. `at` is the index in argv of the word that carries it (-1 when implicit). */
export interface Effect {
  readonly kind: EffectKind
  readonly at: number
  /** the file, directory, URL, script or code the effect acts on; undefined when the shell computes it */
  readonly value: Word
  /** a directory read with everything below it */
  readonly recursive?: boolean
  /** runs-command: the value is a shell script (`sh -c` style) rather than one program name */
  readonly script?: boolean
  /** runs-command: the argv it runs, when it is given as words (`find -exec cmd {} ;`) */
  readonly argv?: ReadonlyArray<Word>
  /** runs-command: how the inner command's segment is labelled (`-exec rm …`) */
  readonly label?: string
  /**
   * runs-code: the code is found at `value` (a directory or file: a
   * repository's configuration, a test file, a project): the project's own
   * when that lies inside the workspace, covered then like any other file of
   * it; outside, covered only by a rule that spells the word naming it.
   */
  readonly local?: boolean
  /** writes-file: the write removes its target (`rm`), planting nothing */
  readonly removes?: boolean
  readonly why: string
}

/** What one invocation does: its effects, or why the engine cannot tell. */
export interface Reading {
  readonly effects: ReadonlyArray<Effect>
  readonly opaque?: string | undefined
}

export interface OptionSpec {
  /** every spelling: `-o`, `--output` */
  readonly names: ReadonlyArray<string>
  readonly arg: "none" | "required" | "optional"
  readonly effect: EffectKind
  readonly recursive?: boolean
  readonly script?: boolean
}

/** An option as found on the command line. */
export interface Found {
  readonly spec: OptionSpec
  /**
   * the spelling written (`--outp`) and a name it stands for (`--output`).
   * An option is found once under each of its spellings (`-o`, `--output`),
   * so a refine that tests for one spelling meets every other: `make
   * --makefile=F` is `make -f F` whichever name the refine lists.
   */
  readonly written: string
  readonly name: string
  readonly value: Word
  readonly at: number
}

export interface Operand {
  readonly value: Word
  readonly at: number
}

export interface Parsed {
  readonly argv: ReadonlyArray<Word>
  readonly found: ReadonlyArray<Found>
  readonly operands: ReadonlyArray<Operand>
}

export interface ProgramSpec {
  /** the names the program is run by (base names) */
  readonly names: ReadonlyArray<string>
  readonly options: ReadonlyArray<OptionSpec>
  /** the effect of each operand (file effects act on the operand) */
  readonly operands: EffectKind
  /** options stop at the first operand (POSIX getopt, or a program that passes the rest on) */
  readonly posix?: boolean
  /** options after which every word is an operand (`python -m mod args…`) */
  readonly endsAt?: ReadonlyArray<string>
  /** `-5` style numeric options are inert (head -5, nice -10) */
  readonly numeric?: boolean
  /** a `+N` word is an inert option (tail +5, sort +1) */
  readonly plus?: boolean
  /** long options are spelled with one dash too (`-name`): no clustering */
  readonly singleDashLong?: boolean
  /** a computed word is only ever an operand or an inert option (its refine adds no hidden effect) */
  readonly computedOk?: boolean
  /** the program reads its own argv (subcommands, expressions): `refine` gets it unparsed */
  readonly raw?: boolean
  /** effects the generic reading cannot see (a sed script's `w` command), or why the invocation is opaque */
  readonly refine?: (parsed: Parsed) => ReadonlyArray<Effect> | string
}

// -----------------------------------------------------------------------------
// Building specs
// -----------------------------------------------------------------------------

/**
 * Builds option specs from a `--help`-like table: options separated by `|`,
 * the spellings of one option by spaces, `=` after a spelling when it takes
 * a value, `[=` when the value is optional (attached only). `effects` maps a
 * spelling to the option's effect (inert otherwise).
 *
 * @example options("-o --output=FILE|-n --lines=|--color[=WHEN]|-v", { "--output": "writes-file" })
 */
export const options = (
  table: string,
  effects: Readonly<Record<string, EffectKind | readonly [EffectKind, "recursive" | "script"]>> = {}
): ReadonlyArray<OptionSpec> =>
  table.split("|").map((s) => s.trim()).filter((s) => s.length > 0).map((entry) => {
    const spellings = entry.split(/\s+/)
    let arg: OptionSpec["arg"] = "none"
    const names = spellings.map((sp) => {
      const opt = sp.indexOf("[=")
      if (opt >= 0) {
        arg = "optional"
        return sp.slice(0, opt)
      }
      const eq = sp.indexOf("=")
      if (eq >= 0) {
        arg = "required"
        return sp.slice(0, eq)
      }
      return sp
    })
    const e = names.map((n) => effects[n]).find((x) => x !== undefined)
    const effect = e === undefined ? "inert" : typeof e === "string" ? e : e[0]
    const extra = e === undefined || typeof e === "string" ? {} : e[1] === "recursive" ? { recursive: true } : { script: true }
    return { names, arg, effect, ...extra }
  })

// -----------------------------------------------------------------------------
// Parsing an invocation
// -----------------------------------------------------------------------------

type Lookup = { readonly _tag: "One"; readonly spec: OptionSpec; readonly name: string } | { readonly _tag: "None" | "Ambiguous" }

const lookupLong = (spec: ProgramSpec, name: string): Lookup => {
  const candidates: Array<{ spec: OptionSpec; name: string }> = []
  for (const o of spec.options) {
    for (const n of o.names) {
      if (n === name) return { _tag: "One", spec: o, name: n }
      if (n.startsWith("--") ? name.startsWith("--") && n.startsWith(name) : spec.singleDashLong === true && n.length > 2 && n.startsWith(name)) {
        candidates.push({ spec: o, name: n })
      }
    }
  }
  if (candidates.length === 0) return { _tag: "None" }
  // getopt_long accepts a prefix shared by several spellings of one option,
  // or of options that take values the same way (it then picks the first);
  // the effect is the strongest of them, so an ambiguity never hides one.
  const first = candidates[0]!
  if (candidates.every((c) => c.spec === first.spec)) return { _tag: "One", ...first }
  if (candidates.every((c) => c.spec.arg === first.spec.arg && c.spec.effect === first.spec.effect)) return { _tag: "One", ...first }
  return { _tag: "Ambiguous" }
}

const lookupShort = (spec: ProgramSpec, letter: string): OptionSpec | undefined =>
  spec.options.find((o) => o.names.includes(`-${letter}`))

/** True when an option of the spec does more than read a file: a computed word standing where it could is opaque. */
const hasStrongOption = (spec: ProgramSpec): boolean =>
  spec.options.some((o) => o.effect !== "inert" && o.effect !== "reads-file")

/**
 * Reads `argv` by the spec: the options found and the operands, or why the
 * engine cannot read it.
 */
export const parse = (spec: ProgramSpec, argv: ReadonlyArray<Word>, from = 1): Parsed | string => {
  const found: Array<Found> = []
  const operands: Array<Operand> = []
  const strong = hasStrongOption(spec) || (spec.refine !== undefined && spec.computedOk !== true)
  let ended = false
  const program = argv[0] ?? "the program"
  for (let i = from; i < argv.length; i++) {
    const w = argv[i]
    if (w === undefined) {
      if (!ended && strong) return `${program} has a computed word where an option could stand`
      operands.push({ value: undefined, at: i })
      continue
    }
    if (ended || w === "-" || !w.startsWith("-") && !(spec.plus === true && /^\+\d/.test(w))) {
      operands.push({ value: w, at: i })
      if (spec.posix === true) ended = true
      continue
    }
    if (w === "--") {
      ended = true
      continue
    }
    if (spec.plus === true && w.startsWith("+")) continue
    if (spec.numeric === true && /^-\d+$/.test(w)) continue
    if (w.startsWith("--") || spec.singleDashLong === true) {
      const eq = w.indexOf("=")
      const name = eq < 0 ? w : w.slice(0, eq)
      const look = lookupLong(spec, name)
      if (look._tag === "None") {
        // a one-dash word that names no long option is read as short options below
        if (spec.singleDashLong !== true || w.startsWith("--")) return `${program} has an option the engine does not know: ${name}`
      } else if (look._tag === "Ambiguous") return `${program} ${name} is an ambiguous abbreviation`
      else if (look._tag === "One") {
        const o = look.spec
        if (o.arg === "none" && eq >= 0) return `${program} ${name} takes no value`
        let value: Word = ""
        if (eq >= 0) value = w.slice(eq + 1)
        else if (o.arg === "required") {
          if (i + 1 >= argv.length) return `${program} ${name} lacks its value`
          value = argv[++i]
        }
        for (const n of o.names) found.push({ spec: o, written: name, name: n, value, at: i })
        if (spec.endsAt?.some((n) => o.names.includes(n)) === true) ended = true
        continue
      }
    }
    for (let k = 1; k < w.length; k++) {
      const letter = w[k]!
      const o = lookupShort(spec, letter)
      if (o === undefined) return `${program} has an option the engine does not know: -${letter}`
      if (o.arg === "none") {
        for (const n of o.names) found.push({ spec: o, written: `-${letter}`, name: n, value: "", at: i })
        continue
      }
      const rest = w.slice(k + 1)
      if (rest.length > 0 || o.arg === "optional") {
        for (const n of o.names) found.push({ spec: o, written: `-${letter}`, name: n, value: rest, at: i })
      } else {
        if (i + 1 >= argv.length) return `${program} -${letter} lacks its value`
        for (const n of o.names) found.push({ spec: o, written: `-${letter}`, name: n, value: argv[i + 1], at: i + 1 })
        i++
      }
      if (spec.endsAt?.some((n) => o.names.includes(n)) === true) ended = true
      break
    }
  }
  return { argv, found, operands }
}

// -----------------------------------------------------------------------------
// Effects
// -----------------------------------------------------------------------------

const fileKinds = new Set<EffectKind>(["reads-file", "writes-file"])

/**
 * The effects of a parsed invocation: each option's and operand's, with
 * relative file paths also read against every `sets-cwd` directory.
 */
export const effectsOf = (spec: ProgramSpec, parsed: Parsed): Reading => {
  const effects: Array<Effect> = []
  const program = parsed.argv[0] ?? "the program"
  const once = new Set<string>()
  for (const f of parsed.found) {
    if (f.spec.effect === "inert") continue
    const key = `${f.at}\u0000${f.spec.names[0]}`
    if (once.has(key)) continue
    once.add(key)
    effects.push({
      kind: f.spec.effect,
      at: f.at,
      value: f.value,
      ...(f.spec.recursive === true ? { recursive: true } : {}),
      ...(f.spec.script === true ? { script: true } : {}),
      why: `${program} ${f.written}${f.written === f.name ? "" : ` (${f.name})`} ${describeKind(f.spec.effect)}`
    })
  }
  if (spec.operands !== "inert") {
    for (const o of parsed.operands) {
      effects.push({ kind: spec.operands, at: o.at, value: o.value, why: `${program} ${describeKind(spec.operands)} its operand` })
    }
  }
  if (spec.refine !== undefined) {
    const more = spec.refine(parsed)
    if (typeof more === "string") return { effects, opaque: more }
    effects.push(...more)
  }
  const dirs = effects.filter((e) => e.kind === "sets-cwd")
  if (dirs.length === 0) return { effects }
  const out: Array<Effect> = []
  for (const e of effects) {
    out.push(e)
    if (!fileKinds.has(e.kind) || e.value === undefined || e.value.startsWith("/") || e.value.startsWith("~")) continue
    for (const d of dirs) {
      out.push({ ...e, value: d.value === undefined ? undefined : `${d.value}/${e.value}`, why: `${e.why}, relative to ${d.value ?? "a computed directory"}` })
    }
  }
  return { effects: out }
}

export const describeKind = (kind: EffectKind): string => {
  switch (kind) {
    case "runs-command":
      return "runs a command"
    case "runs-code":
      return "runs code"
    case "reads-file":
      return "reads a file"
    case "writes-file":
      return "writes a file"
    case "network":
      return "reaches the network"
    case "sets-cwd":
      return "changes the directory"
    case "env":
      return "changes the environment"
    case "inert":
      return "does nothing of note"
  }
}

/** Reads `argv` with `spec`: parse, then effects. */
export const read = (spec: ProgramSpec, argv: ReadonlyArray<Word>, from = 1): Reading => {
  const parsed = spec.raw === true ? { argv, found: [], operands: [] } : parse(spec, argv, from)
  return typeof parsed === "string" ? { effects: [], opaque: parsed } : effectsOf(spec, parsed)
}

/** An effect built by a refine function. */
export const effect = (kind: EffectKind, at: number, value: Word, why: string, extra: Partial<Effect> = {}): Effect => ({ kind, at, value, why, ...extra })

/** A spec in one call: the option table, operands' effect, and the rest. */
export const program = (
  names: string,
  table: string,
  effects: Parameters<typeof options>[1],
  rest: Omit<ProgramSpec, "names" | "options"> & { readonly extra?: ReadonlyArray<OptionSpec> }
): ProgramSpec => {
  const { extra, ...others } = rest
  return { names: names.split(/\s+/), options: [...options(table, effects), ...(extra ?? [])], ...others }
}
