/**
 * sed: its script can read (`r`, `R`), write (`w`, `W`, `s///w`) and run
 * commands (`e`, `s///e`); `-i` writes its operands. The script is read
 * command by command the way GNU sed 4.9 parses it; what the reader does not
 * know makes the invocation opaque. `--sandbox` makes sed refuse `e`, `r`
 * and `w`, so a sandboxed script is inert.
 */
import type { Word } from "../shell/read.ts"
import { effect, type Effect, type Parsed, program, type ProgramSpec } from "./spec.ts"

type ScriptEffect = { readonly kind: "reads-file" | "writes-file" | "runs-command"; readonly value: string | undefined }

// Reads a sed script; returns its file and command effects or why it cannot.
export const sedScript = (src: string): ReadonlyArray<ScriptEffect> | string => {
  const out: Array<ScriptEffect> = []
  let i = 0
  const n = src.length
  const blank = () => {
    while (i < n && /[ \t\n;]/.test(src[i]!)) i++
  }
  const toEol = (): string => {
    const start = i
    while (i < n && src[i] !== "\n") i++
    return src.slice(start, i)
  }
  // A filename argument: leading blanks skipped, up to the end of the line.
  const filename = (): string => {
    while (i < n && (src[i] === " " || src[i] === "\t")) i++
    return toEol()
  }
  const regex = (delim: string): boolean => {
    while (i < n) {
      const c = src[i]!
      if (c === "\\") {
        i += 2
        continue
      }
      if (c === "\n" && delim !== "\n") return false
      i++
      if (c === delim) return true
    }
    return false
  }
  const address = (): boolean => {
    const c = src[i]
    if (c === undefined) return true
    if (/[0-9]/.test(c)) {
      while (i < n && /[0-9~]/.test(src[i]!)) i++
      return true
    }
    if (c === "$") {
      i++
      return true
    }
    if (c === "/" || c === "\\") {
      const delim = c === "\\" ? src[i + 1] : "/"
      if (delim === undefined) return false
      i += c === "\\" ? 2 : 1
      if (!regex(delim)) return false
      while (i < n && /[IM]/.test(src[i]!)) i++
      return true
    }
    return true
  }
  for (let guard = 0; guard < 100_000; guard++) {
    blank()
    if (i >= n) return out
    if (src[i] === "#") {
      toEol()
      continue
    }
    if (!address()) return "sed has an address the engine cannot read"
    while (i < n && (src[i] === " " || src[i] === "\t")) i++
    if (src[i] === ",") {
      i++
      while (i < n && (src[i] === " " || src[i] === "\t")) i++
      if (src[i] === "+" || src[i] === "~") i++
      if (!address()) return "sed has an address the engine cannot read"
    }
    while (i < n && (src[i] === " " || src[i] === "\t" || src[i] === "!")) i++
    const cmd = src[i]
    if (cmd === undefined) return "sed has an address without a command"
    i++
    switch (cmd) {
      case "{":
      case "}":
      case "=":
      case "d":
      case "D":
      case "g":
      case "G":
      case "h":
      case "H":
      case "n":
      case "N":
      case "p":
      case "P":
      case "x":
      case "z":
      case "F":
        break
      case "q":
      case "Q":
      case "l":
      case "L":
        while (i < n && /[ \t0-9]/.test(src[i]!)) i++
        break
      case ":":
      case "b":
      case "t":
      case "T":
      case "v":
        while (i < n && src[i] !== "\n" && src[i] !== ";") i++
        break
      case "a":
      case "i":
      case "c":
        // the text runs to the end of the line (a `\` at the end continues it)
        while (i < n) {
          if (src[i] === "\\") i += 2
          else if (src[i] === "\n") break
          else i++
        }
        break
      case "r":
      case "R":
        out.push({ kind: "reads-file", value: filename() })
        break
      case "w":
      case "W":
        out.push({ kind: "writes-file", value: filename() })
        break
      case "e": {
        const command = filename()
        out.push({ kind: "runs-command", value: command.trim().length === 0 ? undefined : command })
        break
      }
      case "y": {
        const delim = src[i]
        if (delim === undefined || delim === "\\" || delim === "\n") return "sed y has no delimiter"
        i++
        if (!regex(delim) || !regex(delim)) return "sed y is not terminated"
        break
      }
      case "s": {
        const delim = src[i]
        if (delim === undefined || delim === "\\" || delim === "\n") return "sed s has no delimiter"
        i++
        if (!regex(delim) || !regex(delim)) return "sed s is not terminated"
        for (;;) {
          const f = src[i]
          if (f === undefined || f === "\n" || f === ";" || f === "}" || f === " " || f === "\t") break
          if (f === "e") out.push({ kind: "runs-command", value: undefined })
          else if (f === "w") {
            i++
            out.push({ kind: "writes-file", value: filename() })
            break
          } else if (!/[gpiImM0-9]/.test(f)) return `sed s has a flag the engine does not know: ${f}`
          i++
        }
        break
      }
      default:
        return `sed has a command the engine does not know: ${cmd}`
    }
  }
  return "sed script too long"
}

const special = new Set(["/dev/stdout", "/dev/stderr", "/dev/stdin"])

const refine = (p: Parsed): ReadonlyArray<Effect> | string => {
  const sandbox = p.found.some((f) => f.name === "--sandbox")
  const inPlace = p.found.some((f) => f.name === "-i" || f.name === "--in-place")
  const scripts: Array<{ value: Word; at: number }> = p.found.filter((f) => f.name === "-e" || f.name === "--expression").map((f) => ({ value: f.value, at: f.at }))
  const files = p.found.filter((f) => f.name === "-f" || f.name === "--file")
  const operands = p.operands.slice()
  if (scripts.length === 0 && files.length === 0) {
    const first = operands.shift()
    if (first === undefined) return []
    scripts.push(first)
  }
  const out: Array<Effect> = []
  for (const f of files) {
    out.push(effect("reads-file", f.at, f.value, "sed -f reads its script"))
    if (!sandbox) return "sed -f runs a script file the engine cannot read"
  }
  for (const s of scripts) {
    if (s.value === undefined) {
      if (sandbox) continue
      return "sed runs a computed script"
    }
    const read = sedScript(s.value)
    if (typeof read === "string") return read
    if (sandbox) continue
    for (const e of read) {
      if (e.kind === "runs-command") {
        if (e.value === undefined) return "sed runs the pattern space as a command (e, s///e)"
        out.push(effect("runs-command", s.at, e.value, "sed e runs a command", { script: true }))
      } else if (e.value === undefined || !special.has(e.value)) {
        out.push(effect(e.kind, s.at, e.value, `sed ${e.kind === "reads-file" ? "r" : "w"} ${e.kind === "reads-file" ? "reads" : "writes"} a file`))
      }
    }
  }
  // -iSUFFIX keeps a backup: FILE+SUFFIX beside it, or with `*` the suffix is a
  // name pattern that may carry a directory (`-i'/elsewhere/*'`): asked then.
  const suffix = p.found.find((f) => f.name === "-i" || f.name === "--in-place")?.value
  for (const o of operands) {
    out.push(effect("reads-file", o.at, o.value, "sed reads its input"))
    if (!inPlace) continue
    out.push(effect("writes-file", o.at, o.value, "sed -i rewrites its input"))
    if (suffix === "") continue
    const backup = suffix === undefined || o.value === undefined || /[*/]/.test(suffix) ? undefined : `${o.value}${suffix}`
    out.push(effect("writes-file", o.at, backup, "sed -iSUFFIX writes a backup"))
  }
  return out
}

export const specs: ReadonlyArray<ProgramSpec> = [
  program("sed", "-n --quiet --silent|--debug|-e --expression=|-f --file=|--follow-symlinks|-i --in-place[=SUFFIX|-l --line-length=N|--posix|-E -r --regexp-extended|-s --separate|--sandbox|-u --unbuffered|-z --null-data|--help|--version", {}, { operands: "inert", refine })
]
