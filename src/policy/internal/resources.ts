/**
 * Resources: what files a call touches, whatever tool it goes through. Rules
 * guard resources, not tool names: a `Read(~/.aws/**)` deny also holds for
 * Grep and Glob and for `head ~/.aws/credentials` in Bash; a `Write(...)` or
 * `Edit(...)` deny holds for both tools, shell redirections, `tee`,
 * `dd of=`, the targets of `cp`/`mv`/`install`/`ln`, `sed -i` and the other
 * known writers.
 *
 * Invariant: the tables here only ever add accesses. A word that might be a
 * file is treated as one (an option's value read as a path costs at most a
 * needless question, a missed path would be an unsafe allow), and a computed
 * word is an access to an unknown file, which deny and ask rules on that
 * resource turn into a question.
 */
import type { Word } from "./shell.ts"
import { baseName } from "./matchers.ts"

export type Access = "read" | "write"

/** One file a simple command reads or writes; `path` is undefined when the shell computes it. */
export interface FileAccess {
  readonly access: Access
  readonly path: Word
  /** A directory argument is read with everything below it (`grep -r`, `rg`, `cp -r`, `tar`). */
  readonly recursive: boolean
}

// Programs that read directories recursively: always, or given one of the
// listed option letters (in any cluster) or long options.
const recursiveReaders: Readonly<Record<string, true | { readonly letters: string; readonly long: ReadonlyArray<string> }>> = {
  rg: true,
  ag: true,
  ack: true,
  tar: true,
  grep: { letters: "rR", long: ["--recursive", "--dereference-recursive", "--directories=recurse"] },
  egrep: { letters: "rR", long: ["--recursive", "--dereference-recursive", "--directories=recurse"] },
  fgrep: { letters: "rR", long: ["--recursive", "--dereference-recursive", "--directories=recurse"] },
  zgrep: { letters: "rR", long: ["--recursive"] },
  cp: { letters: "rRa", long: ["--recursive", "--archive"] },
  scp: { letters: "r", long: [] },
  rsync: { letters: "ra", long: ["--recursive", "--archive"] },
  zip: { letters: "r", long: ["--recurse-paths"] },
  du: true,
  diff: { letters: "r", long: ["--recursive"] },
  chmod: { letters: "R", long: ["--recursive"] },
  chown: { letters: "R", long: ["--recursive"] }
}

const isRecursive = (name: string, argv: ReadonlyArray<Word>): boolean => {
  const spec = recursiveReaders[name]
  if (spec === undefined) return false
  if (spec === true) return true
  return argv.slice(1).some((w) =>
    w === undefined ||
    spec.long.includes(w) ||
    (w === "-d" && argv[argv.indexOf(w) + 1] === "recurse") ||
    (/^-[A-Za-z]+$/.test(w) && [...w.slice(1)].some((c) => spec.letters.includes(c)))
  )
}

/**
 * The tools whose deny and ask rules guard a resource access, beyond the
 * tool's own name: reads are guarded by `Read` rules, writes by `Write` and
 * `Edit` rules.
 */
export const guardsOf: Readonly<Record<Access, ReadonlyArray<string>>> = {
  read: ["Read"],
  write: ["Write", "Edit"]
}

/**
 * For a tool call, the other tool names whose deny and ask rules also apply:
 * Grep and Glob read, so `Read` rules guard them; `Write` and `Edit` (and the
 * other editing tools) write, so rules on either guard both.
 */
export const toolGuards: Readonly<Record<string, ReadonlyArray<string>>> = {
  Grep: ["Read"],
  Glob: ["Read"],
  LS: ["Read"],
  NotebookRead: ["Read"],
  Write: ["Edit"],
  Edit: ["Write"],
  MultiEdit: ["Write", "Edit"],
  NotebookEdit: ["Write", "Edit"]
}

/**
 * The standard search tools: their path is a directory searched recursively
 * (the root when absent), and a Glob pattern that leaves it (`/etc/*`,
 * `../../x/**`) searches from its own literal base too.
 */
export const searchTools: Readonly<Record<string, { readonly path: string; readonly pattern?: string }>> = {
  Grep: { path: "path" },
  Glob: { path: "path", pattern: "pattern" },
  LS: { path: "path" }
}

// Programs that read every file argument (their non-option words, and the
// values of their options, which may name files too: `grep -f FILE`).
const readers = new Set([
  "cat", "tac", "nl", "head", "tail", "less", "more", "most", "view", "bat", "batcat", "grep", "egrep", "fgrep", "rg", "ag",
  "ack", "zgrep", "zcat", "bzcat", "xzcat", "zstdcat", "zless", "zmore", "base64", "base32", "basenc", "xxd", "od",
  "hexdump", "hd", "strings", "diff", "diff3", "sdiff", "cmp", "comm", "wc", "sort", "uniq", "cut", "paste", "join", "fold",
  "fmt", "pr", "column", "expand", "unexpand", "rev", "file", "stat", "md5sum", "sha1sum", "sha224sum", "sha256sum",
  "sha384sum", "sha512sum", "b2sum", "cksum", "sum", "du", "jq", "yq", "awk", "gawk", "mawk", "nawk", "iconv", "look", "split",
  "csplit", "tr", "shuf", "tsort", "ptx", "readlink", "realpath", "gpg", "openssl", "source", ".", "python", "python3",
  "node", "perl", "ruby", "php", "lua", "tar", "zip", "unzip", "gzip", "gunzip", "bzip2", "bunzip2", "xz", "unxz", "zstd",
  "vi", "vim", "nvim", "nano", "emacs", "ed", "ex", "sqlite3"
])

// Programs that write (create, change or remove) every file argument.
const writers = new Set([
  "tee", "touch", "truncate", "rm", "rmdir", "unlink", "shred", "mkdir", "mkfifo", "mknod", "chmod", "chown", "chgrp",
  "chattr", "setfacl", "vi", "vim", "nvim", "nano", "emacs", "ed", "ex", "gzip", "gunzip", "bzip2", "bunzip2", "xz",
  "unxz", "zstd", "split", "csplit", "sqlite3"
])

// Programs whose last operand (or `-t DIR`) is written and whose other
// operands are read (and, for mv, removed). Options that take a value are
// listed so the value is not mistaken for the target.
const copiers: Readonly<Record<string, { readonly withValue: ReadonlySet<string>; readonly sourcesWritten: boolean }>> = {
  cp: { withValue: new Set(["-S", "--suffix", "-t", "--target-directory"]), sourcesWritten: false },
  mv: { withValue: new Set(["-S", "--suffix", "-t", "--target-directory"]), sourcesWritten: true },
  install: { withValue: new Set(["-m", "--mode", "-o", "--owner", "-g", "--group", "-S", "--suffix", "-t", "--target-directory", "--strip-program"]), sourcesWritten: false },
  ln: { withValue: new Set(["-S", "--suffix", "-t", "--target-directory"]), sourcesWritten: false },
  link: { withValue: new Set(), sourcesWritten: false },
  rsync: { withValue: new Set(["-e", "--rsh", "--exclude", "--include", "--filter", "-f", "--rsync-path", "--backup-dir", "--suffix", "--log-file", "--files-from", "--exclude-from", "--include-from", "-T", "--temp-dir", "--partial-dir", "--compare-dest", "--copy-dest", "--link-dest"]), sourcesWritten: false },
  scp: { withValue: new Set(["-c", "-F", "-i", "-J", "-l", "-o", "-P", "-S", "-D", "-X"]), sourcesWritten: false }
}

// Options that name a file the program writes, per program.
const writeOptions: Readonly<Record<string, ReadonlySet<string>>> = {
  sort: new Set(["-o", "--output"]),
  curl: new Set(["-o", "--output", "-c", "--cookie-jar", "--dump-header", "-D", "--trace", "--trace-ascii", "--stderr", "--libcurl", "--etag-save"]),
  wget: new Set(["-O", "--output-document", "-o", "--output-file", "-a", "--append-output", "--save-cookies", "-P", "--directory-prefix"]),
  tar: new Set(["-f", "--file", "-C", "--directory"]),
  git: new Set(["-o", "--output"]),
  uniq: new Set(),
  gcc: new Set(["-o"]),
  cc: new Set(["-o"]),
  ssh: new Set(["-E"]),
  "ssh-keygen": new Set(["-f"])
}

// Options that name a file the program reads (uploads, config), per program
// that is not a reader already.
const readOptions: Readonly<Record<string, ReadonlySet<string>>> = {
  curl: new Set(["-T", "--upload-file", "-K", "--config", "-b", "--cookie", "--cert", "--key", "--cacert", "-E", "--netrc-file", "--data-binary", "-d", "--data", "--data-ascii", "--data-urlencode", "-F", "--form", "--json"]),
  wget: new Set(["-i", "--input-file", "--post-file", "--body-file", "--load-cookies", "--certificate", "--private-key", "--config"]),
  ssh: new Set(["-i", "-F"]),
  git: new Set(["-F", "--file"]),
  "ssh-keygen": new Set(["-f"]),
  // xargs -a FILE reads its arguments from the file (and prints them in errors)
  xargs: new Set(["-a", "--arg-file"])
}

// The value of `--opt=value` or the word after `-o` / `--opt`.
interface OptionWord {
  readonly name: string
  readonly value: Word | "next"
}
const optionOf = (w: string): OptionWord => {
  if (w.startsWith("--")) {
    const eq = w.indexOf("=")
    return eq < 0 ? { name: w, value: "next" } : { name: w.slice(0, eq), value: w.slice(eq + 1) }
  }
  // `-ofile` (an attached value) or `-o file`.
  return w.length > 2 ? { name: w.slice(0, 2), value: w.slice(2) } : { name: w, value: "next" }
}

// curl's `@file` and `name=@file` / `name=<file` values read that file.
const curlFile = (value: string): string | undefined => {
  if (value.startsWith("@")) return value.slice(1)
  const m = /=[@<]([^;]*)/.exec(value)
  return m?.[1]
}

/**
 * The file accesses of one simple command, read off its argv. Unknown
 * programs have none: their file arguments are theirs to interpret, and the
 * command rule that allows them allows that. One case per program family,
 * kept in one switch so the whole table reads on one page.
 */
export const accessesOf = (argv: ReadonlyArray<Word>): ReadonlyArray<FileAccess> => {
  const program = argv[0]
  if (program === undefined) return []
  const name = baseName(program)
  const out: Array<FileAccess> = []
  const recursive = isRecursive(name, argv)
  const add = (access: Access, path: Word) => {
    if (path === "-" || path === "") return
    out.push({ access, path, recursive })
  }
  if (name === "dd") {
    for (const w of argv.slice(1)) {
      if (w === undefined) add("write", undefined)
      else if (w.startsWith("if=")) add("read", w.slice(3))
      else if (w.startsWith("of=")) add("write", w.slice(3))
    }
    return out
  }
  if (name === "sed" || name === "perl" || name === "ruby") {
    // `sed -i` (any spelling: `-i.bak`, `-ni`, `--in-place`) edits its files in place.
    const inPlace = argv.slice(1).some((w) =>
      w === undefined || w === "--in-place" || w.startsWith("--in-place=") || (/^-[A-Za-z]/.test(w) && !w.startsWith("--") && w.slice(1).includes("i"))
    )
    for (const w of operandsAndValues(argv)) {
      add("read", w)
      if (inPlace || name === "sed" && w !== undefined && /(^|;|\n)\s*[wW]\s/.test(w)) add("write", w)
    }
    return out
  }
  const copier = copiers[name]
  if (copier !== undefined) {
    const operands: Array<Word> = []
    let target: Word | null = null
    for (let i = 1; i < argv.length; i++) {
      const w = argv[i]
      if (w === undefined) {
        operands.push(undefined)
        continue
      }
      if (w === "--") {
        operands.push(...argv.slice(i + 1))
        break
      }
      if (!w.startsWith("-") || w === "-") {
        operands.push(w)
        continue
      }
      const opt = optionOf(w)
      const takes = copier.withValue.has(opt.name) || copier.withValue.has(w)
      const value = takes ? (opt.value === "next" || copier.withValue.has(w) ? argv[++i] : opt.value) : undefined
      if (opt.name === "-t" || opt.name === "--target-directory") target = value ?? undefined
      else if (value !== undefined) add("read", value)
    }
    const dest = target !== null ? target : operands.length > 1 ? operands[operands.length - 1] : undefined
    const sources = target !== null ? operands : operands.slice(0, -1)
    if (target !== null || operands.length > 1) add("write", dest)
    for (const s of sources) {
      add("read", s)
      if (copier.sourcesWritten) add("write", s)
    }
    return out
  }
  const reads = readers.has(name)
  const writes = writers.has(name)
  if (reads || writes) {
    for (const w of operandsAndValues(argv)) {
      if (reads) add("read", w)
      if (writes) add("write", w)
    }
  }
  const wopts = writeOptions[name]
  const ropts = readOptions[name]
  if (wopts !== undefined || ropts !== undefined) {
    for (let i = 1; i < argv.length; i++) {
      const w = argv[i]
      if (w === undefined || !w.startsWith("-") || w === "-" || w === "--") continue
      const opt = optionOf(w)
      const value = opt.value === "next" ? argv[i + 1] : opt.value
      if (wopts?.has(opt.name) === true || wopts?.has(w) === true) add("write", value)
      if (ropts?.has(opt.name) === true || ropts?.has(w) === true) {
        const file = name === "curl" && value !== undefined ? curlFile(value) ?? (opt.name === "-T" || opt.name === "--upload-file" || opt.name === "-K" || opt.name === "--config" ? value : undefined) : value
        if (file !== undefined || value === undefined) add("read", file)
      }
    }
  }
  if (name === "curl") {
    // `curl -d@file` clustered, or a bare `@file` after any option.
    for (const w of argv.slice(1)) if (w !== undefined && /^-[dF]@/.test(w)) add("read", w.slice(3))
  }
  return out
}

// Every word after the program that may name a file: operands, and the
// values of options (`--file=x`, `-f x` — the next word is an operand anyway).
const operandsAndValues = (argv: ReadonlyArray<Word>): ReadonlyArray<Word> => {
  const out: Array<Word> = []
  let ended = false
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i]
    if (w === undefined || ended || !w.startsWith("-") || w === "-") {
      out.push(w)
      continue
    }
    if (w === "--") {
      ended = true
      continue
    }
    if (w.startsWith("--") && w.includes("=")) out.push(w.slice(w.indexOf("=") + 1))
    // An attached short-option value (`-f~/.aws/x`, `-o/etc/x`) may be a path.
    else if (!w.startsWith("--") && w.length > 2 && /[/~.]/.test(w.slice(2))) out.push(w.slice(2))
  }
  return out
}
