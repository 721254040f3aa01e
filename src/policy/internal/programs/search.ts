/**
 * Specs for the search tools: find (its expression runs commands, deletes
 * and writes files), grep and ripgrep (a recursive search with no path reads
 * the working directory; `rg --pre` runs a command on every file).
 */
import type { Word } from "../shell/read.ts"
import { effect, type Effect, type Parsed, program, type ProgramSpec } from "./spec.ts"

// find's primaries and how many words each takes. Tests, actions and options
// that take no word are listed under 0.
const findArity: Record<string, number> = {}
for (const p of "-depth -mount -xdev -noleaf -ignore_readdir_race -noignore_readdir_race -daystart -follow -nowarn -warn -true -false -empty -executable -readable -writable -nogroup -nouser -print -print0 -ls -prune -quit -not -a -and -o -or -help --help -version --version -P -H -L".split(" ")) findArity[p] = 0
for (const p of "-maxdepth -mindepth -amin -anewer -atime -cmin -cnewer -ctime -fstype -gid -group -ilname -iname -inum -ipath -iregex -iwholename -links -lname -mmin -mtime -name -newer -path -perm -regex -regextype -samefile -size -type -uid -used -user -wholename -xtype -context -printf -files0-from -D -fprint -fprint0 -fls".split(" ")) findArity[p] = 1
findArity["-fprintf"] = 2
const findWrites = new Set(["-fprint", "-fprint0", "-fls", "-fprintf"])
const findExec = new Set(["-exec", "-execdir", "-ok", "-okdir"])

/** find reads its own argv: start points, then an expression. */
const findRefine = (p: Parsed): ReadonlyArray<Effect> | string => {
  const argv = p.argv
  const out: Array<Effect> = []
  let i = 1
  while (i < argv.length && argv[i] !== undefined && /^-[HLP]+$/.test(argv[i]!)) i++
  while (i < argv.length && argv[i] !== undefined && (/^-O\d*$/.test(argv[i]!) || argv[i] === "-D")) i += argv[i] === "-D" ? 2 : 1
  const starts: Array<{ value: Word; at: number }> = []
  for (; i < argv.length; i++) {
    const w = argv[i]
    if (w === undefined) return "find has a computed argument, which could be -exec or -delete"
    if (w.startsWith("-") || w === "(" || w === "!" || w === ")" || w === ",") break
    starts.push({ value: w, at: i })
  }
  if (starts.length === 0) starts.push({ value: ".", at: 0 })
  for (; i < argv.length; i++) {
    const w = argv[i]
    if (w === undefined) return "find has a computed argument, which could be -exec or -delete"
    if (w === "(" || w === ")" || w === "!" || w === ",") continue
    // -delete removes files without naming a program a deny rule could
    // guard (`Bash(rm:*)`): opaque, as a deleting option of any program.
    if (w === "-delete") return "find -delete removes files"
    if (findExec.has(w)) {
      let end = i + 1
      while (end < argv.length && argv[end] !== ";" && argv[end] !== "+") end++
      if (end >= argv.length) return `find ${w} is not terminated`
      const inner = argv.slice(i + 1, end).map((x) => x === undefined || x.includes("{}") ? undefined : x)
      if (inner.length === 0 || inner[0] === undefined) return `find ${w} runs a computed command`
      out.push(effect("runs-command", i + 1, inner[0], `find ${w} runs a command`, { argv: inner, label: `${w} ${inner.map((x) => x ?? "…").join(" ")}` }))
      i = end
      continue
    }
    const arity = findArity[w]
    if (arity === undefined) return `find has an expression the engine does not know: ${w}`
    if (findWrites.has(w)) out.push(effect("writes-file", i + 1, argv[i + 1], `find ${w} writes a file`))
    if (w === "-files0-from") out.push(effect("reads-file", i + 1, argv[i + 1], "find -files0-from reads a file"))
    i += arity
  }
  return out
}

const grepTable = "-E --extended-regexp|-F --fixed-strings|-G --basic-regexp|-P --perl-regexp|-e --regexp=PATTERNS|-f --file=FILE|-i -y --ignore-case|--no-ignore-case|-w --word-regexp|-x --line-regexp|-z --null-data|-s --no-messages|-v --invert-match|-V --version|--help|-m --max-count=NUM|-b --byte-offset|-n --line-number|--no-line-number|--line-buffered|-H --with-filename|-h --no-filename|--label=LABEL|-o --only-matching|-q --quiet --silent|--binary-files=TYPE|-a --text|-I|-d --directories=ACTION|-D --devices=ACTION|-r --recursive|-R --dereference-recursive|--include=GLOB|--exclude=GLOB|--exclude-from=FILE|--exclude-dir=GLOB|-L --files-without-match|-l --files-with-matches|-c --count|-T --initial-tab|-Z --null|-B --before-context=NUM|-A --after-context=NUM|-C --context=NUM|--group-separator=SEP|--no-group-separator|--color[=WHEN]|--colour[=WHEN]|-U --binary"

// grep: the first operand is the pattern unless -e/-f gave one; a recursive
// search reads its operands with everything below, the cwd when it has none.
const grepRefine = (p: Parsed): ReadonlyArray<Effect> => {
  const given = p.found.some((f) => ["-e", "--regexp", "-f", "--file"].includes(f.name))
  const recursive = p.argv[0] === "rgrep" || p.found.some((f) => ["-r", "-R", "--recursive", "--dereference-recursive"].includes(f.name) || ((f.name === "-d" || f.name === "--directories") && f.value === "recurse"))
  const files = p.operands.slice(given ? 0 : 1)
  const out = files.map((o) => effect("reads-file", o.at, o.value, `${p.argv[0]} reads its operand`, { recursive }))
  if (recursive && files.length === 0) out.push(effect("reads-file", -1, ".", `${p.argv[0]} -r with no path searches the working directory`, { recursive: true }))
  return out
}

const rgTable = "-e --regexp=|-f --file=|-A --after-context=|-B --before-context=|-C --context=|-c --count|--count-matches|--color=|--colors=|--column|--no-column|--context-separator=|-E --encoding=|--engine=|-F --fixed-strings|-L --follow|-g --glob=|--iglob=|--glob-case-insensitive|-h --help|--heading|--no-heading|--hidden|--no-hidden|-i --ignore-case|--ignore-file=|--ignore-file-case-insensitive|-v --invert-match|--json|--no-json|--line-buffered|-n --line-number|-N --no-line-number|-x --line-regexp|-M --max-columns=|--max-columns-preview|-m --max-count=|-d --max-depth=|--max-filesize=|--mmap|--no-mmap|-U --multiline|--multiline-dotall|--no-config|--no-ignore|--no-ignore-dot|--no-ignore-exclude|--no-ignore-files|--no-ignore-global|--no-ignore-parent|--no-ignore-vcs|--no-messages|--no-unicode|-0 --null|--null-data|--one-file-system|-o --only-matching|--passthru|--path-separator=|-P --pcre2|--pcre2-version|--pre=|--pre-glob=|-p --pretty|-q --quiet|--regex-size-limit=|-r --replace=|-z --search-zip|-S --smart-case|--sort=|--sortr=|--sort-files|--stats|--no-stats|-a --text|-j --threads=|--trim|-t --type=|-T --type-not=|--type-add=|--type-clear=|--type-list|-u --unrestricted|-V --version|--vimgrep|-H --with-filename|-I --no-filename|-w --word-regexp|-l --files-with-matches|--files-without-match|--files|-s --case-sensitive|--crlf|--no-crlf|--debug|--trace|-b --byte-offset|--binary|--no-binary|--block-buffered|--dfa-size-limit=|--field-context-separator=|--field-match-separator=|--hostname-bin=|--hyperlink-format=|--include-zero|--no-include-zero|--max-depth=|--no-require-git|--no-pcre2-unicode|--auto-hybrid-regex|--no-auto-hybrid-regex|--generate="

const rgRefine = (p: Parsed): ReadonlyArray<Effect> => {
  const given = p.found.some((f) => ["-e", "--regexp", "-f", "--file"].includes(f.name)) || p.found.some((f) => f.name === "--files" || f.name === "--type-list")
  const files = p.operands.slice(given ? 0 : 1)
  const out = files.map((o) => effect("reads-file", o.at, o.value, "rg reads its operand", { recursive: true }))
  if (files.length === 0) out.push(effect("reads-file", -1, ".", "rg with no path searches the working directory", { recursive: true }))
  return out
}

export const specs: ReadonlyArray<ProgramSpec> = [
  { names: ["find"], options: [], operands: "inert", raw: true, refine: findRefine },
  program("grep egrep fgrep rgrep", grepTable, { "--file": "reads-file", "--exclude-from": "reads-file" }, { operands: "inert", numeric: true, computedOk: true, refine: grepRefine }),
  program("rg", rgTable, {
    "--file": "reads-file", "--ignore-file": "reads-file", "--pre": "runs-command", "--hostname-bin": "runs-command"
  }, { operands: "inert", computedOk: true, refine: rgRefine }),
  program("zgrep zegrep zfgrep", grepTable, { "--file": "reads-file" }, { operands: "inert", computedOk: true, refine: grepRefine })
]
