/**
 * awk (gawk, mawk, nawk, busybox awk): the program text can run commands
 * (`system()`, `print | "cmd"`, `"cmd" | getline`), write files
 * (`print > "f"`), read files (`getline < "f"`) and load extensions
 * (`@load`, `-l`). The engine does not model awk programs: a program using
 * any of those is opaque, one using none reads only its operands. gawk's
 * `--sandbox` disables them all.
 */
import type { Word } from "../shell/read.ts"
import { effect, type Effect, type Parsed, program, type ProgramSpec } from "./spec.ts"

/** Why an awk program may do more than read its input, or undefined. */
export const awkProgramRisk = (text: string): string | undefined => {
  if (/\bsystem\s*\(/.test(text) || /\bsystem\b/.test(text)) return "awk system() runs a command"
  if (/getline/.test(text)) return "awk getline reads a file or a command's output"
  if (/@load|@include|@namespace/.test(text)) return "awk @load/@include loads code"
  // gawk's indirect call `@f(…)` calls the function a string names: `f = "sys" "tem"` hides system().
  if (/@\s*[A-Za-z_][A-Za-z0-9_]*\s*\(/.test(text)) return "gawk @f() calls a function by a computed name"
  // Setting ARGV adds input files the command line does not show.
  if (/\bARGV\s*\[[^\]]*\]\s*(=[^=]|=$)|\bARGV\s*\[[^\]]*\]\s*[-+*/%^]=|\bARGC\s*(\+\+|[-+*/%^]?=[^=])|\+\+\s*ARGC\b|\b(split|patsplit|getline)\b[^;]*\bARGV\b|\bsub\b[^;]*\bARGV\b/.test(text)) return "awk assigns ARGV, which adds files it reads"
  // `|` (not `||`) pipes to or from a command; `|&` is a coprocess.
  if (/(^|[^|])\|(?!\|)/.test(text.replace(/\|\|/g, ""))) return "awk | runs a command"
  // In awk `print x > y` always redirects: any `>` after print/printf in a statement writes a file.
  if (/\bprintf?\b[^;{}\n]*>/.test(text)) return "awk print > writes a file"
  return undefined
}

const gawkTable = "-f --file=|-F --field-separator=|-v --assign=|-b --characters-as-bytes|-c --traditional|-C --copyright|-d --dump-variables[=|-D --debug[=|-e --source=|-E --exec=|-g --gen-pot|-h --help|-i --include=|-I --trace|-k --csv|-l --load=|-L --lint[=|-M --bignum|-N --use-lc-numeric|-n --non-decimal-data|-o --pretty-print[=|-O --optimize|-p --profile[=|-P --posix|-r --re-interval|-s --no-optimize|-S --sandbox|-t --lint-old|-V --version|-W="

const refine = (p: Parsed): ReadonlyArray<Effect> | string => {
  const name = p.argv[0] ?? "awk"
  const sandbox = p.found.some((f) => f.name === "-S" || f.name === "--sandbox")
  const out: Array<Effect> = []
  for (const f of p.found) {
    if (["-f", "--file", "-E", "--exec", "-i", "--include"].includes(f.name)) return `${name} ${f.name} runs a program file the engine cannot read`
    if (f.name === "-l" || f.name === "--load") return `${name} ${f.name} loads a shared library`
    if (f.name === "-W") return `${name} -W ${f.value ?? ""}: an implementation option the engine does not model`
    if (["-d", "--dump-variables", "-o", "--pretty-print", "-p", "--profile"].includes(f.name)) {
      out.push(effect("writes-file", f.at, f.value === "" ? undefined : f.value, `${name} ${f.name} writes a file`))
    }
    // gawk's debugger reads commands (its `eval` runs awk code) from a file or its input.
    if (f.name === "-D" || f.name === "--debug") return `${name} ${f.name} runs the debugger, whose commands run awk code`
  }
  const programs: Array<{ value: Word; at: number }> = p.found.filter((f) => f.name === "-e" || f.name === "--source").map((f) => ({ value: f.value, at: f.at }))
  const operands = p.operands.slice()
  if (programs.length === 0) {
    const first = operands.shift()
    if (first === undefined) return []
    programs.push(first)
  }
  for (const prog of programs) {
    if (prog.value === undefined) {
      if (!sandbox) return `${name} runs a computed program`
      continue
    }
    const risk = awkProgramRisk(prog.value)
    if (risk !== undefined && !sandbox) return risk
  }
  for (const o of operands) {
    // `var=value` operands assign; the others are files read.
    if (o.value !== undefined && /^[A-Za-z_][A-Za-z0-9_]*=/.test(o.value)) continue
    out.push(effect("reads-file", o.at, o.value, `${name} reads its input`))
  }
  return out
}

export const specs: ReadonlyArray<ProgramSpec> = [
  program("awk gawk nawk mawk", gawkTable, {}, { operands: "inert", posix: true, refine })
]
