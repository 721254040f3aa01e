/**
 * A grammar-based generator of shell lines for the differential test: the
 * spellings where a reader may part ways with bash (quotes, comments right
 * after a quote or an expansion, CR, line continuations, here-documents,
 * substitutions, wrappers, redirects, keywords). Deterministic per seed.
 *
 * Invariant: every line is harmless to run in the scratch directory — the
 * programs it names are markers, real wrappers only run markers, and
 * redirections and `cd` stay inside the scratch tree.
 */

/** A small deterministic PRNG (mulberry32): the same seed gives the same lines. */
export const random = (seed: number) => {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[int(xs.length)]!
  const chance = (p: number) => next() < p
  return { next, int, pick, chance }
}
type Random = ReturnType<typeof random>

/** Programs that are markers on the scratch PATH. */
export const markerNames = ["echo", "cat", "ls", "rm", "shred", "curl", "git", "touch", "sudo", "doas", "python3", "node", "busybox", "npx", "printf", "pwd", "test", "true", "false", "kill", "type", "sleep", "wc", "grep", "head"]

const quoteSingle = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

// The ways a program name can be spelled so that bash still runs it.
const spellName = (r: Random, name: string): string => {
  switch (r.int(16)) {
    case 0:
      return `'${name}'`
    case 1:
      return `"${name}"`
    case 2:
      return `${name[0]}''${name.slice(1)}`
    case 3:
      return `${name[0]}"${name.slice(1, 2)}"${name.slice(2)}`
    case 4:
      return `\\${name}`
    case 5:
      return `${name.slice(0, 1)}\\${name.slice(1)}`
    case 6:
      return `$'${[...name].map((c, i) => i === 1 ? `\\x${c.charCodeAt(0).toString(16)}` : c).join("")}'`
    case 7:
      return `$'${[...name].map((c, i) => i === 0 ? `\\${c.charCodeAt(0).toString(8)}` : c).join("")}'`
    case 8:
      return r.pick([`./b/${name}`, `b/${name}`, `../work/b/${name}`, `b/../b/${name}`, `./sub/../b/${name}`, `"b/${name}"`])
    case 9:
      return `${name.slice(0, 1)}\\\n${name.slice(1)}`
    case 10:
      return r.pick([`{${name},x}`, `${name.slice(0, -1)}?`, `$N`, `\${N}`, `$(echo ${name})`])
    default:
      return name
  }
}

const argWords = [
  "x", "-rf", "/", "a b", "'q#'", "a#b", "'a'#b", "\"a\"#b", "$HOME#b", "${HOME}#x", "\\#x", "'x'\\;", "\"$HOME\"", "$'a\\tb'", "$'\\''",
  "\"a\\\"b\"", "'a\"b'", "--", "-n", "1", "{}", "\\{a,b\\}", "~/k", "'~/k'", "a=b", "-o", "out", "\"\\$x\"", "$'\\x3b'", "';'", "\\;",
  "'&&'", "\"|\"", "a\\ b", "\"`echo x`\"", "\"$(echo y)\"", "$(echo z)", "`echo w`", "x#", "#", "\"#\"", "a\\\nb", "$'q\\x23'"
]

const simple = (r: Random, depth: number): string => {
  const name = r.pick(markerNames)
  const words = [spellName(r, name)]
  const n = r.int(4)
  for (let i = 0; i < n; i++) words.push(r.chance(0.12) && depth < 1 ? substitution(r, depth + 1) : r.pick(argWords))
  let line = words.join(r.chance(0.1) ? " \\\n " : " ")
  if (r.chance(0.2)) line = `${r.pick(["A=1", "LANG=C", "A='x y'", "A=$(echo v)", "A=\"#\""])} ${line}`
  if (r.chance(0.25)) line += ` ${r.pick([">f", "2>&1", ">>g", "2>/dev/null", ">sub/h", "&>i", "<>j", ">|k", ">&2", "1>&-"])}`
  if (r.chance(0.12)) line += r.pick([" #c", " # c; rm x", "#c", " #c \\", " #'", " #\"x", " #`"])
  return line
}

const substitution = (r: Random, depth: number): string => {
  const inner = pipeline(r, depth)
  switch (r.int(5)) {
    case 0:
      return `$(${inner})`
    case 1:
      return `"$(${inner})"`
    case 2:
      return `\`${inner.replace(/[\\`$]/g, "\\$&")}\``
    case 3:
      return `<(${inner})`
    default:
      return `$( ${inner} )#x`
  }
}

const wrapped = (r: Random, depth: number): string => {
  const inner = simple(r, depth)
  switch (r.int(22)) {
    case 0:
      return `timeout 5 ${inner}`
    case 1:
      return `timeout -s KILL -k 1 5 ${inner}`
    case 2:
      return `nice -n 5 ${inner}`
    case 3:
      return `nohup ${inner}`
    case 4:
      return `command ${inner}`
    case 5:
      return `env A=1 ${inner}`
    case 6:
      return `xargs ${inner}`
    case 7:
      return `xargs -I{} ${inner} {}`
    case 8:
      return `xargs -0 -n1 ${inner}`
    case 9:
      return `find . -maxdepth 0 -exec ${inner} {} \\;`
    case 10:
      return `bash -c ${quoteSingle(depth < 1 ? list(r, depth + 1) : inner)}`
    case 11:
      return `sh -c "${inner.replace(/[\\"$`]/g, "\\$&")}"`
    case 12:
      return `eval ${quoteSingle(inner)}`
    case 13:
      return `time ${inner}`
    case 14:
      return `time -p ${inner}`
    case 15:
      return `setsid ${inner}`
    case 16:
      return `stdbuf -oL ${inner}`
    case 17:
      return `builtin ${inner}`
    case 18:
      return `! ${inner}`
    case 19:
      return `nice -5 ${inner}`
    case 20:
      return `env -- ${inner}`
    default:
      return `timeout --preserve-status 5 ${inner}`
  }
}

const heredoc = (r: Random, depth: number): string => {
  const delim = r.pick(["EOF", "E_1", "x.y"])
  const quoted = r.pick([delim, `'${delim}'`, `"${delim}"`, `${delim.slice(0, 1)}'${delim.slice(1)}'`])
  const dash = r.chance(0.3)
  const body = r.pick(["text", "$(echo b)", "`echo c`", "line \\\nmore", "x $HOME", `${delim} not`, `\t${delim}`, `${delim}\r`, "\\$(echo no)", `${delim})`])
  const end = r.pick([delim, delim, dash ? `\t${delim}` : delim, `${delim} `, `${delim}\r`])
  const after = r.chance(0.5) ? `\n${simple(r, depth)}` : ""
  const head = `${spellName(r, "cat")} <<${dash ? "-" : ""}${quoted}${r.chance(0.3) ? ` ; ${simple(r, depth)}` : ""}`
  const doc = `${head}\n${body}\n${end}${after}`
  return r.chance(0.15) && depth < 1 ? `echo "$(${doc})"` : doc
}

const command = (r: Random, depth: number): string => {
  const k = r.int(20)
  if (k < 8 || depth >= 2) return simple(r, depth)
  if (k < 12) return wrapped(r, depth)
  if (k === 12) return `(${list(r, depth + 1)})`
  if (k === 13) return `{ ${list(r, depth + 1)}; }`
  if (k === 14) return `if ${simple(r, depth)}; then ${list(r, depth + 1)}; fi`
  if (k === 15) return `for i in a b; do ${simple(r, depth)}; done`
  if (k === 16) return heredoc(r, depth)
  if (k === 17) return `cd ${r.pick(["sub", "./sub", "..", "sub/..", "$HOME/../work"])} && ${simple(r, depth)}`
  if (k === 18) return `${simple(r, depth)}${r.pick(["'#'", "#", "\\\n"])}${simple(r, depth)}`
  return `${r.pick(["A=1", "x=$(echo q)", "B=\"a b\""])}; ${simple(r, depth)}`
}

const pipeline = (r: Random, depth: number): string => {
  let out = command(r, depth)
  const n = r.chance(0.3) ? 1 : 0
  for (let i = 0; i < n; i++) out += `${r.pick([" | ", "|", " |& ", " |\n "])}${command(r, depth)}`
  return out
}

const list = (r: Random, depth: number): string => {
  let out = pipeline(r, depth)
  const n = depth > 0 ? r.int(2) : r.int(3)
  for (let i = 0; i < n; i++) out += `${r.pick([" && ", " || ", "; ", ";", " & ", "\n", " ;\n", "&&\n", " \\\n&& "])}${pipeline(r, depth)}`
  return out
}

/** `count` lines from `seed`. Some carry a CR, which no reader may take for a blank. */
export const lines = (seed: number, count: number): Array<string> => {
  const r = random(seed)
  const out: Array<string> = []
  for (let i = 0; i < count; i++) {
    let line = list(r, 0)
    if (r.chance(0.04)) {
      const at = r.int(line.length + 1)
      line = `${line.slice(0, at)}\r${line.slice(at)}`
    }
    out.push(line)
  }
  return out
}
