/**
 * Wrappers: programs whose arguments are another command (`timeout 5 cmd`,
 * `sudo -u x cmd`, `xargs -I{} cmd {}`). Each is peeled with its real option
 * table so the wrapped command is judged too.
 *
 * Invariant: an option outside a wrapper's table, a computed option, or a
 * wrapper that runs code the engine cannot read (`python -c`, `sh` reading
 * stdin, `source`) makes the command opaque — never a guess at where the
 * wrapped command starts.
 */
import { inertConfig } from "../programs/git.ts"
import type { Word } from "./read.ts"

export type Unwrapped =
  | {
    readonly _tag: "Inner"
    readonly argv: ReadonlyArray<Word>
    readonly privileged: boolean
    readonly writes: ReadonlyArray<Word>
    /** the wrapper also changes what the command does in a way the engine cannot judge (e.g. sets PATH) */
    readonly opaque?: string | undefined
  }
  | { readonly _tag: "Script"; readonly script: string }
  | { readonly _tag: "Opaque"; readonly reason: string }
  | { readonly _tag: "None"; readonly writes: ReadonlyArray<Word> }

const none: Unwrapped = { _tag: "None", writes: [] }
const opaque = (reason: string): Unwrapped => ({ _tag: "Opaque", reason })

/** Environment variables an assignment prefix may set without changing what runs. */
export const isInertVariable = (name: string) =>
  /^(LANG|LANGUAGE|LC_[A-Z]+|TZ|TERM|COLUMNS|LINES|NO_COLOR|FORCE_COLOR|CLICOLOR|CLICOLOR_FORCE|CI|DEBUG|VERBOSE|NODE_ENV|RUST_BACKTRACE|RUST_LOG|TIMEFORMAT)$/.test(name)

interface Table {
  /** short options without an argument */
  readonly flags?: string
  /** short options with an argument (attached or the next word) */
  readonly withArg?: string
  /** short options with an optional argument, attached only (xargs -i, -e, -l) */
  readonly optional?: string
  readonly long?: Readonly<Record<string, "flag" | "arg" | "optional">>
  /** options (letters or long names) that make the wrapper opaque */
  readonly refuse?: ReadonlyArray<string>
  /** `-10` style numeric options (nice) */
  readonly numeric?: boolean
}

type Parsed = { readonly index: number; readonly seen: Map<string, Word> } | { readonly opaque: string }

// GNU getopt-style option parsing up to the first operand. Long options
// must be spelled in full: an abbreviation is an unknown option (opaque).
const options = (argv: ReadonlyArray<Word>, from: number, t: Table, who: string): Parsed => {
  const seen = new Map<string, Word>()
  let i = from
  while (i < argv.length) {
    const w = argv[i]
    if (w === undefined) return { opaque: `${who} has a computed option` }
    if (w === "--") return { index: i + 1, seen }
    if (!w.startsWith("-") || w === "-") return { index: i, seen }
    if (w.startsWith("--")) {
      const eq = w.indexOf("=")
      const name = eq < 0 ? w.slice(2) : w.slice(2, eq)
      const kind = t.long?.[name]
      if (kind === undefined) return { opaque: `${who} has an option the engine does not know: --${name}` }
      if (t.refuse?.includes(name)) return { opaque: `${who} --${name} runs something the engine cannot read` }
      if (kind === "arg" && eq < 0) {
        seen.set(name, argv[i + 1])
        i += 2
      } else {
        seen.set(name, eq < 0 ? "" : w.slice(eq + 1))
        i += 1
      }
      continue
    }
    if (t.numeric === true && /^-\d+$/.test(w)) {
      i += 1
      continue
    }
    let next = i + 1
    for (let k = 1; k < w.length; k++) {
      const ch = w[k]!
      if (t.refuse?.includes(ch)) return { opaque: `${who} -${ch} runs something the engine cannot read` }
      if (t.flags?.includes(ch)) {
        seen.set(ch, "")
        continue
      }
      const rest = w.slice(k + 1)
      if (t.withArg?.includes(ch)) {
        if (rest.length > 0) seen.set(ch, rest)
        else {
          seen.set(ch, argv[i + 1])
          next = i + 2
        }
        break
      }
      if (t.optional?.includes(ch)) {
        seen.set(ch, rest)
        break
      }
      return { opaque: `${who} has an option the engine does not know: -${ch}` }
    }
    i = next
  }
  return { index: i, seen }
}

const inner = (argv: ReadonlyArray<Word>, i: number, privileged = false, writes: ReadonlyArray<Word> = []): Unwrapped =>
  i >= argv.length ? { _tag: "None", writes } : { _tag: "Inner", argv: argv.slice(i), privileged, writes }

// `NAME=value` operands before the command (env, sudo): the command still
// runs (deny rules apply to it), but never allowed unless every name is inert.
const assignments = (argv: ReadonlyArray<Word>, from: number, who: string, privileged: boolean): Unwrapped => {
  let i = from
  let reason: string | undefined
  for (; i < argv.length; i++) {
    const w = argv[i]
    if (w === undefined) return opaque(`${who} has a computed operand`)
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(w)
    if (m === null) break
    if (!isInertVariable(m[1]!)) reason ??= `${who} sets ${m[1]}, which can change what runs`
  }
  if (i >= argv.length) return reason === undefined ? none : opaque(reason)
  return { _tag: "Inner", argv: argv.slice(i), privileged, writes: [], opaque: reason }
}

const withOptions = (argv: ReadonlyArray<Word>, t: Table, who: string, then: (index: number, seen: Map<string, Word>) => Unwrapped): Unwrapped => {
  const p = options(argv, 1, t, who)
  return "opaque" in p ? opaque(p.opaque) : then(p.index, p.seen)
}

const tables = {
  env: {
    flags: "i0v",
    withArg: "uCS",
    refuse: ["S", "C", "split-string", "chdir"],
    long: { "ignore-environment": "flag", null: "flag", unset: "arg", chdir: "arg", "split-string": "arg", debug: "flag", "block-signal": "optional", "default-signal": "optional", "ignore-signal": "optional", "list-signal-handling": "flag" }
  },
  command: { flags: "pvV" },
  builtin: {},
  exec: { flags: "cl", withArg: "a" },
  nohup: { long: {} },
  nice: { withArg: "n", long: { adjustment: "arg" }, numeric: true },
  timeout: { flags: "v", withArg: "sk", long: { signal: "arg", "kill-after": "arg", "preserve-status": "flag", foreground: "flag", verbose: "flag" } },
  setsid: { flags: "cfw", long: { ctty: "flag", fork: "flag", wait: "flag" } },
  stdbuf: { withArg: "ioe", long: { input: "arg", output: "arg", error: "arg" } },
  sudo: {
    flags: "AbEHKknPSV",
    withArg: "CDghpRrTtUu",
    refuse: ["e", "i", "s", "l", "edit", "login", "shell", "list"],
    long: {
      user: "arg", group: "arg", host: "arg", prompt: "arg", "close-from": "arg", role: "arg", type: "arg", chdir: "arg", chroot: "arg",
      "command-timeout": "arg", "other-user": "arg", "preserve-env": "optional", "non-interactive": "flag", background: "flag", askpass: "flag",
      stdin: "flag", "set-home": "flag", "preserve-groups": "flag", "reset-timestamp": "flag", "remove-timestamp": "flag", bell: "flag",
      edit: "flag", login: "flag", shell: "flag", list: "flag"
    }
  },
  doas: { flags: "nLs", withArg: "uC", refuse: ["s", "C"] },
  xargs: {
    flags: "0prtxo",
    withArg: "adEILnPs",
    optional: "eil",
    long: {
      null: "flag", "arg-file": "arg", delimiter: "arg", eof: "optional", replace: "optional", "max-lines": "optional", "max-args": "arg",
      "max-procs": "arg", interactive: "flag", "no-run-if-empty": "flag", "max-chars": "arg", verbose: "flag", exit: "flag",
      "show-limits": "flag", "process-slot-var": "arg", "open-tty": "flag"
    }
  },
  time: { flags: "apqv", withArg: "of", long: { output: "arg", format: "arg", append: "flag", portability: "flag", verbose: "flag", quiet: "flag" } },
  npx: {
    flags: "yq",
    withArg: "pcw",
    long: {
      yes: "flag", no: "flag", package: "arg", call: "arg", workspace: "arg", workspaces: "flag", "include-workspace-root": "flag",
      silent: "flag", quiet: "flag", "prefer-offline": "flag", "prefer-online": "flag", offline: "flag", loglevel: "arg"
    }
  },
  shell: {
    flags: "abefhkmnptuvxBCEHPTilrcs",
    withArg: "oO",
    long: { norc: "flag", noprofile: "flag", posix: "flag", login: "flag", restricted: "flag", noediting: "flag", verbose: "flag" }
  }
} satisfies Record<string, Table>

// `set` and shell options that leave the way bash reads a line as the
// reader reads it: errexit, nounset, pipefail, tracing, noclobber, noglob
// (which only makes globs literal), job control. Any other (`-k` keyword,
// `-o posix`, `-B`, `-a`, `-p`) makes what follows opaque.
const safeLetters = "euxvCEThbfnmH"
const safeNames = new Set(["errexit", "nounset", "pipefail", "xtrace", "verbose", "noclobber", "errtrace", "functrace", "notify", "hashall", "ignoreeof", "monitor", "noexec", "nolog", "noglob", "histexpand", "history", "emacs", "vi"])

/** Why shell options (`set …`, `bash -o …`) change how later lines are read, or undefined. */
export const unsafeShellOptions = (words: ReadonlyArray<Word>, who: string): string | undefined => {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]
    if (w === undefined) return `${who} has a computed option`
    if (w === "--" || w === "-") return undefined
    if (!/^[-+]/.test(w)) return undefined
    if (w.startsWith("--")) {
      if (w === "--posix") return `${who} --posix changes how bash reads later commands`
      continue
    }
    if (w === "-o" || w === "+o") {
      const name = words[i + 1]
      if (name === undefined && i + 1 < words.length) return `${who} ${w} has a computed option name`
      if (name !== undefined && !safeNames.has(name)) return `${who} ${w} ${name} changes how bash reads later commands`
      i++
      continue
    }
    if (w === "-O" || w === "+O") return `${who} ${w} sets a shopt option, which can change how bash reads later commands`
    for (const c of w.slice(1)) {
      if (c === "o" || c === "O") return `${who} ${w} sets options the engine does not follow`
      if (!safeLetters.includes(c) && !(who !== "set" && "cilsr".includes(c))) return `${who} -${c} changes how bash reads later commands`
    }
  }
  return undefined
}

/** Interpreters run by name: the shells whose `-c` script the engine reads. */
export const shells = new Set(["sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "rbash"])

// Programs that run a command given in their arguments, for which the
// engine has no option table: their command is never seen, so they are opaque.
const runners = new Set([
  "flock", "chroot", "unshare", "nsenter", "ionice", "chrt", "taskset", "runuser", "su", "script", "ssh", "parallel", "watch", "strace",
  "ltrace", "gdb", "valgrind", "xvfb-run", "systemd-run", "firejail", "bwrap", "fakeroot", "proot", "torsocks", "proxychains",
  "proxychains4", "rlwrap", "expect", "dbus-run-session", "unbuffer", "pkexec", "sg", "chpst", "cgexec", "numactl", "prlimit", "faketime",
  "tini", "dumb-init", "direnv", "uvx", "pipx", "bunx", "entr", "tclsh", "wish"
])
// Package runners whose named subcommands run a command.
const runnerSubcommands: Readonly<Record<string, ReadonlyArray<string>>> = {
  pnpm: ["exec", "dlx", "x"],
  yarn: ["exec", "dlx"],
  poetry: ["run"],
  pipenv: ["run"],
  uv: ["run", "tool"],
  bundle: ["exec"],
  bun: ["x"]
}
// Interpreters whose inline-code options run code the engine cannot read.
const inlineCode: Readonly<Record<string, RegExp>> = {
  python: /^-[A-Za-z]*c|^--command/,
  node: /^-[A-Za-z]*[ep]|^--(eval|print)/,
  perl: /^-[A-Za-z]*[eE]/,
  ruby: /^-[A-Za-z]*e/,
  php: /^-[A-Za-z]*r/,
  lua: /^-[A-Za-z]*e/,
  Rscript: /^-e/,
  osascript: /^-e/
}

const interpreterOf = (base: string): string | undefined => {
  if (/^python[0-9.]*$/.test(base) || base === "pypy" || base === "pypy3") return "python"
  if (base === "nodejs") return "node"
  if (/^(perl|ruby|php|lua)[0-9.]*$/.test(base)) return base.replace(/[0-9.]+$/, "")
  return inlineCode[base] === undefined ? undefined : base
}

/** The name a program is run by: the last path segment. */
export const baseName = (name: string) => name.includes("/") ? name.slice(name.lastIndexOf("/") + 1) : name

const git = (argv: ReadonlyArray<Word>): Unwrapped => {
  let i = 1
  const plain = new Set(["-p", "--paginate", "-P", "--no-pager", "--bare", "--no-replace-objects", "--literal-pathspecs", "--glob-pathspecs", "--noglob-pathspecs", "--icase-pathspecs", "--no-optional-locks", "--no-advice"])
  while (i < argv.length) {
    const w = argv[i]
    if (w === undefined) return opaque("git has a computed option or subcommand")
    if (!w.startsWith("-")) break
    if (plain.has(w)) i += 1
    else if (w === "-C") i += 2
    // `-c color.ui=always`: the keys that only change what git prints (its spec reads them)
    else if (w === "-c" && argv[i + 1] !== undefined && inertConfig.test(argv[i + 1]!.split("=")[0]!)) i += 2
    else return opaque(`git ${w.split("=")[0]} can run configured programs the engine cannot see`)
  }
  const sub = argv[i]
  if (sub === "submodule" && argv.slice(i + 1).includes("foreach")) return opaque("git submodule foreach runs a shell command")
  if (sub === "rebase" && argv.slice(i + 1).some((w) => w === undefined || w === "-x" || w.startsWith("--exec") || /^-[A-Za-z]*x/.test(w))) {
    return opaque("git rebase --exec runs a shell command")
  }
  if (sub === "filter-branch") return opaque("git filter-branch runs shell commands")
  if (sub === "bisect" && argv[i + 1] === "run") return inner(argv, i + 2)
  return i === 1 ? none : { _tag: "Inner", argv: ["git", ...argv.slice(i)], privileged: false, writes: [] }
}

const shell = (argv: ReadonlyArray<Word>, base: string): Unwrapped => {
  const p = options(argv, 1, tables.shell, base)
  if ("opaque" in p) return opaque(p.opaque)
  // `-k`, `-o keyword`, `-O extglob`…: the script would not be read as the reader reads it.
  const changed = unsafeShellOptions(argv.slice(1, p.index), base)
  if (changed !== undefined) return opaque(changed)
  // `+o opt` style options are not in the table: they are rare enough to ask.
  const script = argv[p.index]
  if (!p.seen.has("c")) {
    return opaque(argv.length > p.index ? `${base} runs a script file the engine cannot read` : `${base} runs commands from its input`)
  }
  if (script === undefined) return opaque(`${base} -c runs a computed script`)
  return { _tag: "Script", script }
}

/**
 * Peels one wrapper off `argv`: the command it runs, a script it runs
 * (`sh -c`, `eval`), opaque, or `None` when `argv` is no wrapper. One case
 * per wrapper, kept in one switch so the whole table reads on one page.
 */
export const unwrap = (argv: ReadonlyArray<Word>): Unwrapped => {
  const name = argv[0]
  if (name === undefined) return opaque("the command name is computed")
  const base = baseName(name)
  switch (base) {
    case "env":
      return withOptions(argv, tables.env, "env", (i) => assignments(argv, i, "env", false))
    case "command":
      // `command -v x` names x without running it.
      return withOptions(argv, tables.command, base, (i, seen) => seen.has("v") || seen.has("V") ? none : inner(argv, i))
    case "builtin":
    case "exec":
    case "nohup":
    case "nice":
    case "setsid":
      return withOptions(argv, tables[base], base, (i) => inner(argv, i))
    case "stdbuf":
      return withOptions(argv, tables.stdbuf, base, (i) => i >= argv.length ? opaque("stdbuf without a command") : inner(argv, i))
    case "timeout":
      return withOptions(argv, tables.timeout, base, (i) => i >= argv.length ? opaque("timeout without a duration") : inner(argv, i + 1))
    case "time":
      return withOptions(argv, tables.time, base, (i, seen) => {
        const out = seen.has("o") ? seen.get("o") : seen.has("output") ? seen.get("output") : null
        return inner(argv, i, false, out === null ? [] : [out])
      })
    case "sudo":
    case "doas":
      return withOptions(argv, tables[base], base, (i) => base === "sudo" ? assignments(argv, i, "sudo", true) : inner(argv, i, true))
    case "xargs":
      return withOptions(argv, tables.xargs, base, (i, seen) => {
        const replace = seen.get("I") ?? (seen.has("i") ? seen.get("i") || "{}" : seen.has("replace") ? seen.get("replace") || "{}" : undefined)
        if ((seen.has("I") || seen.has("i") || seen.has("replace")) && replace === undefined) return opaque("xargs has a computed replace string")
        const rest = i >= argv.length ? ["echo"] : argv.slice(i)
        const words = replace === undefined ? rest : rest.map((w) => w === undefined || w.includes(replace) ? undefined : w)
        // xargs appends what it reads from stdin: arguments nobody can see.
        return { _tag: "Inner", argv: [...words, undefined], privileged: false, writes: [] }
      })
    case "busybox": {
      const applet = argv[1]
      if (applet === undefined || applet.startsWith("-")) return argv.length > 1 ? opaque("busybox with an option or computed applet") : none
      return inner(argv, 1)
    }
    case "git":
      return git(argv)
    case "npm": {
      if (argv[1] === "exec" || argv[1] === "x") return npmExec(argv, 2, "npm exec")
      const k = runnerAt(argv, ["exec", "x"])
      return k === undefined ? none : opaque(k < 0 ? "npm has a computed word where its subcommand could stand" : `npm ${argv[k]} after global options: the engine cannot tell where its command starts`)
    }
    case "npx":
      return npmExec(argv, 1, "npx")
    case "eval": {
      const words = argv.slice(1)
      if (words.some((w) => w === undefined)) return opaque("eval runs a computed script")
      return { _tag: "Script", script: words.join(" ") }
    }
    case "source":
    case ".":
      return opaque(`${base} runs a script file the engine cannot read`)
  }
  if (shells.has(base)) return shell(argv, base)
  if (runners.has(base)) return opaque(`${base} runs a command the engine has no option table for`)
  const subs = runnerSubcommands[base]
  if (subs !== undefined) {
    const k = runnerAt(argv, subs)
    if (k !== undefined) return opaque(k < 0 ? `${base} has a computed subcommand` : `${base} ${argv[k]} runs a command the engine has no option table for`)
  }
  // awk programs run commands through system() and `print | "cmd"`.
  if (/^[gmn]?awk$/.test(base)) {
    if (argv.some((w, i) => i > 0 && (w === undefined || /system|\||getline|^-f|^--file|^-[A-Za-z]*f$|^-E$|^--exec/.test(w)))) {
      return opaque(`${base} may run commands the engine cannot read`)
    }
    return none
  }
  const interpreter = interpreterOf(base)
  if (interpreter !== undefined) {
    const code = inlineCode[interpreter]!
    for (let i = 1; i < argv.length; i++) {
      const w = argv[i]
      if (w === undefined) return opaque(`${base} has a computed argument`)
      if (w === "--" || !w.startsWith("-") || w === "-") break
      if (code.test(w)) return opaque(`${base} ${w} runs inline code the engine cannot read`)
    }
  }
  return none
}

// Where a runner subcommand (`exec`, `dlx`) may stand after global options
// (`pnpm -r exec`, `pnpm --filter x exec`, `npm -s exec`): the index of the
// first word that is one while every word before it is an option or may be
// an option's value; -1 for a computed word there; undefined for none.
const runnerAt = (argv: ReadonlyArray<Word>, subs: ReadonlyArray<string>): number | undefined => {
  let valueNext = false
  for (let k = 1; k < argv.length; k++) {
    const w = argv[k]
    if (w === undefined) return -1
    if (subs.includes(w)) return k
    if (w === "--") return undefined
    if (w.startsWith("-")) {
      valueNext = !w.includes("=")
      continue
    }
    if (!valueNext) return undefined
    valueNext = false
  }
  return undefined
}

const npmExec = (argv: ReadonlyArray<Word>, from: number, who: string): Unwrapped => {
  const p = options(argv, from, tables.npx, who)
  if ("opaque" in p) return opaque(p.opaque)
  // --package installs packages from the registry and runs the command from them, not the project's
  if (p.seen.has("p") || p.seen.has("package")) return opaque(`${who} --package runs a command from packages it installs`)
  const call = p.seen.get("c") ?? p.seen.get("call")
  if (p.seen.has("c") || p.seen.has("call")) return call === undefined ? opaque(`${who} runs a computed script`) : { _tag: "Script", script: call }
  return inner(argv, p.index)
}
