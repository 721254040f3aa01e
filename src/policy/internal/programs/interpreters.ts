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
import { effect, type Effect, type EffectKind, type Parsed, program, type ProgramSpec } from "./spec.ts"

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
    if (module.value === "pytest" || module.value === "py.test") out.push(...pytest(p.argv, module.at + 1))
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

// pytest (argparse without abbreviations): the options that load code, write
// files or reach the network; the others are its own and its plugins'
// inert options. Test paths are code: the project's inside the workspace,
// code the rule does not spell outside it.
const pytestLong: Readonly<Record<string, readonly [EffectKind, "value" | "optional" | "flag", string]>> = {
  "--junitxml": ["writes-file", "value", "writes a report"],
  "--junit-xml": ["writes-file", "value", "writes a report"],
  "--resultlog": ["writes-file", "value", "writes a log"],
  "--result-log": ["writes-file", "value", "writes a log"],
  "--report-log": ["writes-file", "value", "writes a log"],
  "--log-file": ["writes-file", "value", "writes a log"],
  "--html": ["writes-file", "value", "writes a report"],
  "--json-report-file": ["writes-file", "value", "writes a report"],
  "--debug": ["writes-file", "optional", "writes a debug log"],
  "--basetemp": ["writes-file", "value", "empties and writes its base directory"],
  "--cov-report": ["writes-file", "value", "writes a coverage report"],
  "--rootdir": ["runs-code", "value", "loads conftest.py from its root"],
  "--confcutdir": ["runs-code", "value", "loads conftest.py files up to a directory"],
  "--config-file": ["runs-code", "value", "reads a config, which names plugins and paths"],
  "--inifile": ["runs-code", "value", "reads a config, which names plugins and paths"],
  "--cov-config": ["runs-code", "value", "reads a coverage config, which names plugins"],
  "--override-ini": ["runs-code", "value", "overrides config (pythonpath, plugins, cache_dir)"],
  "--pdbcls": ["runs-code", "value", "imports a debugger class"],
  "--pastebin": ["network", "value", "uploads results"],
  "--pyargs": ["runs-code", "flag", "imports its arguments as packages"]
}
const pytestShort: Readonly<Record<string, readonly [EffectKind | "inert", string]>> = {
  p: ["runs-code", "loads a plugin"],
  c: ["runs-code", "reads a config, which names plugins and paths"],
  o: ["runs-code", "overrides config (pythonpath, plugins, cache_dir)"],
  k: ["inert", ""],
  m: ["inert", ""],
  W: ["inert", ""],
  r: ["inert", ""],
  n: ["inert", ""]
}
const pytest = (argv: ReadonlyArray<Word>, from: number): ReadonlyArray<Effect> => {
  const out: Array<Effect> = []
  let pyargs = false
  let ended = false
  for (let k = from; k < argv.length; k++) {
    const w = argv[k]
    if (w === undefined || ended || !w.startsWith("-") || w === "-") {
      // a test path (`tests/test_a.py::test_x`): code found where it names
      const path = w === undefined ? undefined : w.replace(/::.*$/, "")
      out.push(effect("runs-code", k, path, "pytest runs the tests it is given", pyargs ? {} : { local: true }))
      continue
    }
    if (w === "--") {
      ended = true
      continue
    }
    if (w.startsWith("--")) {
      const eq = w.indexOf("=")
      const name = eq < 0 ? w : w.slice(0, eq)
      const spec = pytestLong[name]
      if (spec === undefined) continue
      const [kind, arity, why] = spec
      if (name === "--pyargs") pyargs = true
      let value: Word = name
      let at = k
      if (eq >= 0) value = w.slice(eq + 1)
      else if (arity === "value" || (arity === "optional" && argv[k + 1] !== undefined && !argv[k + 1]!.startsWith("-"))) value = argv[at = ++k]
      else if (arity === "optional") value = "pytestdebug.log"
      // --cov-report=html:DIR / xml:FILE names where it writes
      if (name === "--cov-report" && value !== undefined) value = value.includes(":") ? value.slice(value.indexOf(":") + 1) : "."
      const local = name === "--rootdir" || name === "--confcutdir" || name === "--config-file" || name === "--inifile" || name === "--cov-config"
      out.push(effect(kind, at, value, `pytest ${name} ${why}`, kind === "writes-file" && name === "--basetemp" ? { recursive: true } : local ? { local: true } : {}))
      continue
    }
    // short options: flags cluster; a value option takes the rest of the word or the next one
    for (let c = 1; c < w.length; c++) {
      const spec = pytestShort[w[c]!]
      if (spec === undefined) continue
      const rest = w.slice(c + 1)
      const at = rest.length > 0 ? k : k + 1
      const value = rest.length > 0 ? rest : argv[++k]
      // `-p no:NAME` disables a plugin
      if (spec[0] !== "inert" && !(w[c] === "p" && value?.startsWith("no:") === true)) out.push(effect(spec[0], at, value, `pytest -${w[c]} ${spec[1]}`, w[c] === "c" ? { local: true } : {}))
      break
    }
  }
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
      // -iEXT keeps a backup: FILE+EXT, or with `*` a name that may carry a directory (asked)
      const ext = p.found.find((f) => f.name === "-i")?.value
      const backup = (o: { value: string | undefined }) => ext === undefined || o.value === undefined || /[*/]/.test(ext) ? undefined : `${o.value}${ext}`
      return [...r, ...files.flatMap((o) => [
        effect("reads-file", o.at, o.value, "perl reads its input"),
        ...(inPlace ? [effect("writes-file", o.at, o.value, "perl -i rewrites its input")] : []),
        ...(inPlace && ext !== "" ? [effect("writes-file", o.at, backup(o), "perl -iEXT writes a backup")] : [])
      ])]
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
  // pytest run by name: the project's tests (carried by the program word), its options and paths as `python3 -m pytest`'s
  { names: ["pytest", "py.test"], options: [], operands: "inert", raw: true, refine: (p) => [effect("runs-code", 0, p.argv[0], "pytest runs the project's tests"), ...pytest(p.argv, 1)] },
  program("lua lua5.1 lua5.2 lua5.3 lua5.4 luajit", "-e=|-i|-l=|-v|-E|-W|-", {}, { operands: "inert", posix: true, refine: codeWord("lua", ["-l"], ["-e"]) })
]
