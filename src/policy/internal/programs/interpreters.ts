/**
 * Interpreters: python, node, perl, ruby, php, lua. What they run is code:
 * a script file, a module (`-m`, `-r`, `-M`), inline code (`-c`, `-e`) or
 * their input. The word naming the code carries the `runs-code` effect, so
 * `Bash(python3 -m pytest:*)` covers `python3 -m pytest -q` (the words
 * `-m pytest` are literal in the rule) while `Bash(python3:*)` covers no
 * script at all. Options before the code word are read by each
 * interpreter's table; code on stdin (no script, or `-`) is opaque.
 * Inline code is opaque already (shell/wrappers.ts).
 */
import type { Word } from "../shell/read.ts"
import { effect, type Effect, type Parsed, program, type ProgramSpec } from "./spec.ts"

// The code an interpreter runs: the option that names it (`-m mod`) or the
// first operand (a script); the rest of argv is the script's.
const codeWord = (who: string, modules: ReadonlyArray<string>, inline: ReadonlyArray<string>) => (p: Parsed): ReadonlyArray<Effect> | string => {
  const out: Array<Effect> = []
  for (const f of p.found) {
    if (inline.includes(f.name)) return `${who} ${f.name} runs inline code the engine cannot read`
    if (modules.includes(f.name)) out.push(effect("runs-code", f.at, f.value, `${who} ${f.name} loads code`))
  }
  const module = p.found.find((f) => f.name === "-m")
  if (module !== undefined) {
    // pytest loads plugins named on its command line (`-p name`, `-pname`): code the rule does not spell.
    if (module.value === "pytest") {
      p.argv.forEach((w, k) => {
        if (k <= module.at || w === undefined) return
        if (w === "-p") out.push(effect("runs-code", k + 1, p.argv[k + 1], "pytest -p loads a plugin"))
        else if (/^-p./.test(w)) out.push(effect("runs-code", k, w.slice(2), "pytest -p loads a plugin"))
      })
    }
    return out
  }
  const script = p.operands[0]
  if (script === undefined || script.value === "-") {
    if (p.found.some((f) => ["-V", "--version", "-h", "--help", "-v", "--check", "-c"].includes(f.name) && !inline.includes(f.name))) return out
    if (out.length > 0 && who === "node") return out
    return `${who} runs code from its input`
  }
  out.push(effect("runs-code", script.at, script.value, `${who} runs a script`))
  return out
}

export const specs: ReadonlyArray<ProgramSpec> = [
  program("python python2 python3 pypy pypy3", "-b|-B|-c=|-d|-E|-h -? --help|--help-env|--help-xoptions|--help-all|-i|-I|-m=|-O|-OO|-P|-q|-s|-S|-u|-v|-V --version|-W=|-x|-X=|--check-hash-based-pycs=", {}, {
    operands: "inert", posix: true, endsAt: ["-m", "-c"], refine: codeWord("python", ["-m"], ["-c"])
  }),
  program("node nodejs", "-e --eval=|-p --print=|-c --check|-i --interactive|-r --require=|--import=|--loader= --experimental-loader=|--input-type=|--test|--watch|--watch-path=|--inspect[=|--inspect-brk[=|--enable-source-maps|--no-warnings|--trace-warnings|--experimental-strip-types|--experimental-transform-types|--experimental-vm-modules|--no-experimental-strip-types|--conditions= -C=|--max-old-space-size=|--stack-size=|--env-file=|--env-file-if-exists=|--title=|--unhandled-rejections=|--preserve-symlinks|-v --version|-h --help|--v8-options|--abort-on-uncaught-exception|--expose-gc|--test-reporter=|--test-name-pattern=|--test-only|--frozen-intrinsics|--pending-deprecation|--throw-deprecation|--no-deprecation|--trace-uncaught|--run=", {
    "--env-file": "env", "--env-file-if-exists": "env", "--run": "runs-code"
  }, { operands: "inert", posix: true, refine: codeWord("node", ["-r", "--require", "--import", "--loader", "--experimental-loader", "--run"], ["-e", "--eval", "-p", "--print"]) }),
  program("perl", "-0[=|-a|-c|-C[=|-d[=|-D[=|-e=|-E=|-f|-F=|-h|-i[=|-I=|-l[=|-m=|-M=|-n|-p|-s|-S|-t|-T|-u|-U|-v|-V[=|-w|-W|-x[=|-X", {}, {
    operands: "inert", posix: true,
    refine: (p) => {
      const r = codeWord("perl", ["-m", "-M", "-d"], ["-e", "-E"])(p)
      if (typeof r === "string") return r
      const inPlace = p.found.some((f) => f.name === "-i")
      const files = p.operands.slice(1)
      return [...r, ...files.flatMap((o) => [effect("reads-file", o.at, o.value, "perl reads its input"), ...(inPlace ? [effect("writes-file", o.at, o.value, "perl -i rewrites its input")] : [])])]
    }
  }),
  program("ruby", "-0[=|-a|-c|-C=|-d --debug|-e=|-E= --encoding=|-F=|-i[=|-I=|-l|-n|-p|-r=|-s|-S|-v|-w|-W[=|-x[=|-h --help|--version|--verbose|--enable=|--disable=|--jit|--yjit", { "-C": "sets-cwd" }, {
    operands: "inert", posix: true, refine: codeWord("ruby", ["-r"], ["-e"])
  }),
  program("php", "-a|-c=|-n|-d=|-e|-f=|-h|-i|-l|-m|-r=|-B=|-R=|-F=|-E=|-H|-S=|-t=|-s|-v|-w|-z=|--ini|--rf=|--rc=|--re=|--rz=|--ri=", {}, {
    operands: "inert", posix: true,
    refine: (p) => {
      for (const f of p.found) {
        if (["-r", "-B", "-R", "-E", "-a", "-S"].includes(f.name)) return `php ${f.name} runs code the engine cannot read or serves files`
        if (f.name === "-f") return [effect("runs-code", f.at, f.value, "php -f runs a script")]
        if (f.name === "-d") return "php -d changes settings that can load code"
      }
      if (p.found.some((f) => f.name === "-v" || f.name === "-h" || f.name === "-m" || f.name === "-i" || f.name === "--ini")) return []
      return codeWord("php", [], [])(p)
    }
  }),
  program("lua lua5.1 lua5.2 lua5.3 lua5.4 luajit", "-e=|-i|-l=|-v|-E|-W|-", {}, { operands: "inert", posix: true, refine: codeWord("lua", ["-l"], ["-e"]) })
]
