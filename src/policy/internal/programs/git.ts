/**
 * git: global options (`-C DIR`, `-c key=value`, `--git-dir`), then a
 * subcommand. Configuration can name programs git runs (pager, editor, ssh
 * command, fsmonitor, hooks path, aliases, diff and merge tools, credential
 * helpers), so a `-c` setting outside a short list of inert keys, a repo
 * moved with `--git-dir`/`--work-tree`, or an unknown subcommand (an alias
 * may run a shell command) makes the invocation opaque.
 *
 * Subcommand options: git's parse-options accepts unique prefixes of long
 * options, so a word that is a prefix of an effectful option (`--out` for
 * `--output`) is read as that option. Options not listed here are the
 * subcommand's own inert options (git has hundreds); every option that runs
 * a program, writes a file outside the repository or reaches the network is
 * listed per subcommand.
 */
import type { Word } from "../shell/read.ts"
import { effect, type Effect, type EffectKind, type Parsed, type ProgramSpec } from "./spec.ts"

// `-c` keys that only change what git prints or records.
export const inertConfig = /^(color\..*|core\.quotepath|core\.autocrlf|core\.safecrlf|core\.abbrev|user\.(name|email)|author\.(name|email)|committer\.(name|email)|advice\..*|init\.defaultbranch|log\.(date|decorate|abbrevcommit|follow|showroot)|column\..*|diff\.(noprefix|renames|mnemonicprefix|relative|context|interhunkcontext|algorithm|indentheuristic|colormoved)|merge\.conflictstyle|pull\.(rebase|ff)|push\.(default|autosetupremote)|fetch\.prune|rebase\.autostash|commit\.gpgsign|tag\.gpgsign|status\.(short|branch|showuntrackedfiles)|format\.pretty|i18n\..*|gc\.auto|maintenance\.auto)$/i

interface Sub {
  readonly effect: EffectKind
  /** effectful options: spelling → [effect, takes a value] */
  readonly options?: Readonly<Record<string, readonly [EffectKind, boolean]>>
  /** operands are read files (`git diff --no-index a b`) */
  readonly readsOperands?: boolean
}

const outputOpts = { "--output": ["writes-file", true] } as const
const diffish: Sub = { effect: "inert", options: { ...outputOpts, "--ext-diff": ["runs-command", false] } }
const net: Sub = { effect: "network", options: { "--upload-pack": ["runs-command", true], "--receive-pack": ["runs-command", true], "--exec": ["runs-command", true], "-u": ["runs-command", true] } }

const subs: Readonly<Record<string, Sub>> = {
  status: { effect: "inert" },
  log: diffish,
  show: diffish,
  diff: { ...diffish, readsOperands: false },
  whatchanged: diffish,
  "range-diff": diffish,
  "diff-tree": diffish,
  "diff-files": diffish,
  "diff-index": diffish,
  shortlog: { effect: "inert" },
  blame: { effect: "inert", options: { "--contents": ["reads-file", true], "-S": ["reads-file", true], "--ignore-revs-file": ["reads-file", true] } },
  annotate: { effect: "inert" },
  branch: { effect: "inert" },
  tag: { effect: "inert", options: { "-F": ["reads-file", true], "--file": ["reads-file", true] } },
  "rev-parse": { effect: "inert" },
  "rev-list": { effect: "inert" },
  "ls-files": { effect: "inert" },
  "ls-tree": { effect: "inert" },
  "cat-file": { effect: "inert", options: { "--textconv": ["runs-command", false], "--filters": ["runs-command", false] } },
  describe: { effect: "inert" },
  reflog: { effect: "inert" },
  "for-each-ref": { effect: "inert" },
  "show-ref": { effect: "inert" },
  "merge-base": { effect: "inert" },
  "name-rev": { effect: "inert" },
  "check-ignore": { effect: "inert" },
  "check-attr": { effect: "inert" },
  "count-objects": { effect: "inert" },
  "show-branch": { effect: "inert" },
  version: { effect: "inert" },
  help: { effect: "inert", options: { "--web": ["runs-command", false], "-w": ["runs-command", false], "--man": ["runs-command", false], "-m": ["runs-command", false] } },
  var: { effect: "inert" },
  grep: { effect: "inert", options: { "-O": ["runs-command", false], "--open-files-in-pager": ["runs-command", false], "-f": ["reads-file", true], "--file": ["reads-file", true] } },
  add: { effect: "inert", options: { "--pathspec-from-file": ["reads-file", true] } },
  rm: { effect: "inert" },
  mv: { effect: "inert" },
  restore: { effect: "inert" },
  checkout: { effect: "inert" },
  switch: { effect: "inert" },
  reset: { effect: "inert" },
  stash: { effect: "inert" },
  commit: { effect: "inert", options: { "-F": ["reads-file", true], "--file": ["reads-file", true], "-t": ["reads-file", true], "--template": ["reads-file", true] } },
  merge: { effect: "inert", options: { "-F": ["reads-file", true], "--file": ["reads-file", true] } },
  "cherry-pick": { effect: "inert" },
  revert: { effect: "inert" },
  rebase: { effect: "inert", options: { "-x": ["runs-command", true], "--exec": ["runs-command", true], "-s": ["runs-command", true], "--strategy": ["runs-command", true] } },
  init: { effect: "inert", options: { "--template": ["runs-code", true], "--separate-git-dir": ["writes-file", true] } },
  clean: { effect: "inert" },
  apply: { effect: "inert", readsOperands: true, options: { "--unsafe-paths": ["writes-file", false], "--directory": ["writes-file", true] } },
  am: { effect: "inert", readsOperands: true },
  "format-patch": { effect: "inert", options: { "-o": ["writes-file", true], "--output-directory": ["writes-file", true], "--output": ["writes-file", true] } },
  archive: { effect: "inert", options: { "-o": ["writes-file", true], "--output": ["writes-file", true], "--remote": ["network", true], "--exec": ["runs-command", true] } },
  worktree: { effect: "inert" },
  notes: { effect: "inert", options: { "-F": ["reads-file", true], "--file": ["reads-file", true] } },
  gc: { effect: "inert" },
  fetch: net,
  pull: net,
  push: net,
  clone: { ...net, options: { ...net.options, "--template": ["runs-code", true], "-c": ["runs-code", true], "--config": ["runs-code", true] } },
  "ls-remote": net,
  remote: { effect: "inert" },
  submodule: { effect: "network" },
  bisect: { effect: "inert" }
}

const runsConfigured = new Set(["difftool", "mergetool", "filter-branch", "send-email", "instaweb", "daemon", "web--browse", "credential", "hook", "config", "maintenance", "gui", "citool", "gitk", "p4", "svn", "cvsimport", "cvsexportcommit", "cvsserver", "shell", "upload-pack", "receive-pack", "fsmonitor--daemon"])

// Options every subcommand that takes pathspecs reads a file with (git
// prints what it read in its errors: `pathspec 'SECRET' did not match`).
const common: Readonly<Record<string, readonly [EffectKind, boolean]>> = { "--pathspec-from-file": ["reads-file", true] }

// Options that take a value in the next word, for the subcommands whose
// operands the engine reads (a repository, a directory): their value is no operand.
const valued: Readonly<Record<string, ReadonlySet<string>>> = {
  clone: new Set(["-o", "--origin", "-b", "--branch", "-u", "--upload-pack", "--reference", "--reference-if-able", "--separate-git-dir", "--depth", "--shallow-since", "--shallow-exclude", "-c", "--config", "--template", "-j", "--jobs", "--filter", "--server-option", "--bundle-uri", "--ref-format", "--revision"]),
  init: new Set(["--template", "--separate-git-dir", "-b", "--initial-branch", "--object-format", "--ref-format"]),
  worktree: new Set(["-b", "-B", "--reason", "--orphan"]),
  fetch: new Set(["--upload-pack", "--depth", "--shallow-since", "--shallow-exclude", "--deepen", "-j", "--jobs", "--negotiation-tip", "--server-option", "-o", "--refmap", "--recurse-submodules-default", "--filter"]),
  pull: new Set(["--upload-pack", "--depth", "--shallow-since", "--shallow-exclude", "--deepen", "-j", "--jobs", "--negotiation-tip", "--server-option", "-o", "-s", "--strategy", "-X", "--strategy-option", "--refmap"]),
  push: new Set(["--receive-pack", "--exec", "--repo", "-o", "--push-option", "--signed", "--force-with-lease"]),
  "ls-remote": new Set(["--upload-pack", "--sort", "-o", "--server-option"]),
  grep: new Set(["-e", "-f", "--file", "--max-depth", "-A", "-B", "-C", "--after-context", "--before-context", "--context", "-m", "--max-count", "--threads", "--open-files-in-pager", "-O"])
}

// A repository named by URL (`https://`, `ssh://`, `ext::`, `host:path`,
// `user@host:path`) is reached over the network; one named by path is read.
const repository = (sub: string, o: { value: Word; at: number }): Effect | undefined => {
  const v = o.value
  if (v === undefined) return effect("network", o.at, undefined, `git ${sub} reaches a repository the shell computes`)
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(v) || /:\/\//.test(v) || /^[^/]*:/.test(v) && !/^[A-Za-z]:[\\/]/.test(v)) return effect("network", o.at, v, `git ${sub} reaches the repository ${v}`)
  if (/^(\/|~|\.\.?(\/|$))/.test(v)) return effect("reads-file", o.at, v, `git ${sub} reads the repository ${v}`, { recursive: true })
  return undefined
}

const prefixOf = (written: string, options: Readonly<Record<string, readonly [EffectKind, boolean]>>): ReadonlyArray<readonly [string, readonly [EffectKind, boolean]]> => {
  if (!written.startsWith("--")) return Object.entries(options).filter(([k]) => k === written)
  const exact = Object.entries(options).filter(([k]) => k === written)
  if (exact.length > 0) return exact
  return Object.entries(options).filter(([k]) => k.startsWith("--") && k.startsWith(written) && written.length > 2)
}

const read = (argv: ReadonlyArray<Word>): Parsed | string => {
  const out: Array<Effect> = []
  let i = 1
  const cwd: Array<Word> = []
  for (; i < argv.length; i++) {
    const w = argv[i]
    if (w === undefined) return "git has a computed option or subcommand"
    if (!w.startsWith("-")) break
    if (["-p", "--paginate", "-P", "--no-pager", "--bare", "--no-replace-objects", "--literal-pathspecs", "--glob-pathspecs", "--noglob-pathspecs", "--icase-pathspecs", "--no-optional-locks", "--no-advice", "--version", "-v", "--help", "-h", "--html-path", "--man-path", "--info-path"].includes(w)) continue
    if (w === "-C") {
      cwd.push(argv[++i])
      continue
    }
    if (w === "-c") {
      const kv = argv[++i]
      if (kv === undefined) return "git -c sets a computed configuration"
      const key = kv.split("=")[0]!
      if (!inertConfig.test(key)) return `git -c ${key} can make git run a program the engine cannot see`
      continue
    }
    return `git ${w.split("=")[0]} can run configured programs the engine cannot see`
  }
  const sub = argv[i]
  if (sub === undefined) return i >= argv.length ? { argv, found: [], operands: [] } : "git has a computed subcommand"
  const spec = subs[sub]
  if (spec === undefined) {
    if (runsConfigured.has(sub)) return `git ${sub} runs configured programs the engine cannot see`
    return `git ${sub} is not a subcommand the engine knows (an alias can run a shell command)`
  }
  if (spec.effect !== "inert") out.push(effect(spec.effect, i, sub, `git ${sub} ${spec.effect === "network" ? "reaches the network" : "runs code"}`))
  if (sub === "submodule" && argv.slice(i + 1).includes("foreach")) return "git submodule foreach runs a shell command"
  if (sub === "bisect" && argv[i + 1] === "run") {
    const inner = argv.slice(i + 2)
    if (inner.length === 0 || inner[0] === undefined) return "git bisect run runs a computed command"
    out.push(effect("runs-command", i + 2, inner[0], "git bisect run runs a command", { argv: inner }))
  }
  const noIndex = (sub === "diff" || sub === "grep") && argv.includes("--no-index")
  const options = { ...common, ...spec.options }
  const operands: Array<{ value: Word; at: number }> = []
  const takesValue = valued[sub]
  let ended = false
  for (let k = i + 1; k < argv.length; k++) {
    const w = argv[k]
    if (w === undefined) {
      if (!ended && spec.options !== undefined) return `git ${sub} has a computed word where an option could stand`
      // it may be `--pathspec-from-file=F`: a file the shell computes
      if (!ended) out.push(effect("reads-file", k, undefined, `git ${sub} has a computed word, which may name a file it reads`))
      if (noIndex || spec.readsOperands === true) out.push(effect("reads-file", k, undefined, `git ${sub} reads a file`))
      operands.push({ value: undefined, at: k })
      continue
    }
    if (ended || !w.startsWith("-") || w === "-") {
      if ((noIndex && sub === "diff") || spec.readsOperands === true) out.push(effect("reads-file", k, w, `git ${sub} reads a file`))
      // a path outside the repository makes `git diff` compare files as --no-index does (`git diff /dev/null /etc/x`):
      // a word that may be a path is a read (inside the repository, a read of the project's own files)
      else if (sub === "diff" && /[/~]|^\.\.?$/.test(w)) out.push(effect("reads-file", k, w, "git diff reads the files a path outside the repository names"))
      operands.push({ value: w, at: k })
      continue
    }
    if (w === "--") {
      ended = true
      continue
    }
    if (takesValue?.has(w) === true) k++
    const eq = w.indexOf("=")
    const name = w.startsWith("--") ? (eq < 0 ? w : w.slice(0, eq)) : w.slice(0, 2)
    const hits = prefixOf(name, options)
    // a short option may sit in a cluster (`-nO`): any effectful letter in it counts
    const clusterHits = !w.startsWith("--") && w.length > 2
      ? Object.entries(options).filter(([k2]) => k2.length === 2 && w.slice(1).includes(k2[1]!))
      : []
    for (const [opt, [kind, takes]] of [...hits, ...clusterHits]) {
      let value: Word = ""
      let at = k
      if (takes) {
        if (w.startsWith("--") && eq >= 0) value = w.slice(eq + 1)
        else if (!w.startsWith("--") && w.length > 2 && w.startsWith(opt)) value = w.slice(2)
        else {
          value = argv[k + 1]
          at = k + 1
        }
      }
      if (kind === "runs-command") {
        if (opt === "--ext-diff" || opt === "--textconv" || opt === "--filters" || opt === "-O" || opt === "--open-files-in-pager" || opt === "-s" || opt === "--strategy" || opt === "--web" || opt === "-w" || opt === "--man" || opt === "-m") {
          return `git ${sub} ${opt} runs a configured program the engine cannot see`
        }
        out.push(effect("runs-command", at, value, `git ${sub} ${opt} runs a command`, { script: true }))
      } else out.push(effect(kind, at, value, `git ${sub} ${opt} ${kind === "writes-file" ? "writes a file" : kind === "reads-file" ? "reads a file" : kind === "network" ? "reaches the network" : "runs code"}`))
      if (takes && at === k + 1 && takesValue?.has(w) !== true) k++
    }
  }
  out.push(...byOperands(sub, argv, i, operands))
  // git reads the configuration of the repository it runs in, which names
  // programs it runs (core.fsmonitor, core.pager, hooks): a repository
  // outside the workspace is code the rule does not spell.
  const where = cwd.reduce<Word>((acc, d) => acc === undefined || d === undefined ? undefined : d.startsWith("/") || d.startsWith("~") ? d : `${acc}/${d}`, ".")
  out.push(effect("runs-code", cwd.length === 0 ? -1 : 2, where, "git runs the programs its repository's configuration names", { local: true }))
  const effects = cwd.length === 0 ? out : [
    ...cwd.map((d, n) => effect("sets-cwd", n, d, "git -C changes the directory")),
    ...out
  ]
  return { argv, found: [], operands: [], effects } as Parsed & { readonly effects: ReadonlyArray<Effect> }
}

// What the operands of a subcommand do: a repository reached or read, a
// directory created or written, a directory searched.
const byOperands = (sub: string, argv: ReadonlyArray<Word>, i: number, operands: ReadonlyArray<{ value: Word; at: number }>): ReadonlyArray<Effect> => {
  const out: Array<Effect> = []
  const [first, second] = operands
  switch (sub) {
    case "fetch":
    case "pull":
    case "push":
    case "ls-remote": {
      const r = first === undefined ? undefined : repository(sub, first)
      if (r !== undefined) out.push(r)
      break
    }
    case "clone": {
      const r = first === undefined ? undefined : repository(sub, first)
      if (r !== undefined) out.push(r)
      if (second !== undefined) out.push(effect("writes-file", second.at, second.value, "git clone writes its directory", { recursive: true }))
      break
    }
    case "init":
      if (first !== undefined) out.push(effect("writes-file", first.at, first.value, "git init writes its directory", { recursive: true }))
      break
    case "worktree":
      // `git worktree add PATH`, `move WT PATH`: the new place is written
      if ((first?.value === "add" || first?.value === "move") && operands.length > (first.value === "add" ? 1 : 2)) {
        const target = first.value === "add" ? second! : operands[2]!
        out.push(effect("writes-file", target.at, target.value, `git worktree ${first.value} writes its directory`, { recursive: true }))
      }
      if (first !== undefined && first.value === undefined) out.push(effect("writes-file", first.at, undefined, "git worktree writes a directory the engine cannot tell"))
      break
    case "remote":
      // update, prune, show and set-head --auto talk to the remotes
      if (first !== undefined && (first.value === undefined || ["update", "prune", "show", "set-head"].includes(first.value))) {
        out.push(effect("network", first.at, first.value, `git remote ${first.value ?? ""} reaches the remote`))
      }
      break
    case "grep":
      // --no-index searches files outside the repository: its paths, or the working directory
      if (argv.includes("--no-index")) {
        const given = argv.some((w) => w === "-e" || w === "-f" || w === "--file" || w?.startsWith("--file=") === true || (w !== undefined && /^-[A-Za-z]*[ef]/.test(w) && !w.startsWith("--")))
        const paths = operands.slice(given ? 0 : 1)
        for (const o of paths) out.push(effect("reads-file", o.at, o.value, "git grep --no-index reads its path", { recursive: true }))
        if (paths.length === 0) out.push(effect("reads-file", -1, ".", "git grep --no-index searches the working directory", { recursive: true }))
      }
      break
    case "apply":
      break
  }
  return out
}

export const specs: ReadonlyArray<ProgramSpec> = [{
  names: ["git"],
  options: [],
  raw: true,
  operands: "inert",
  // git reads its own argv (global options, subcommand, its options)
  refine: (p) => {
    const r = read(p.argv)
    if (typeof r === "string") return r
    return (r as { readonly effects?: ReadonlyArray<Effect> }).effects ?? []
  }
}]
