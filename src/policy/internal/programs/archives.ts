/**
 * Archivers and compressors: tar (old-style bundled keys, `-C`, `-f`,
 * extraction into the working directory, `--to-command`, `-I`,
 * `--checkpoint-action=exec=`, `--rsh-command`, `-F`), zip (`-T -TT`), unzip
 * (`-d`), gzip & friends (compressing replaces the file). tar's
 * `--transform` cannot climb out: tar strips a leading `/` and `../` from
 * the names it makes (checked with GNU tar 1.34).
 */
import type { Word } from "../shell/read.ts"
import { effect, type Effect, type Parsed, program, type ProgramSpec, read as readSpec } from "./spec.ts"

const tarTable = "-A --catenate --concatenate|-c --create|--delete|-d --diff --compare|-r --append|--test-label|-t --list|-u --update|-x --extract --get|--check-device|-g --listed-incremental=FILE|-G --incremental|--hole-detection=TYPE|--ignore-failed-read|--level=NUMBER|--no-check-device|--no-seek|-n --seek|--occurrence[=NUMBER|--sparse-version=MAJOR|-S --sparse|--add-file=FILE|-C --directory=DIR|--exclude=PATTERN|--exclude-backups|--exclude-caches|--exclude-caches-all|--exclude-caches-under|--exclude-ignore=FILE|--exclude-ignore-recursive=FILE|--exclude-tag=FILE|--exclude-tag-all=FILE|--exclude-tag-under=FILE|--exclude-vcs|--exclude-vcs-ignores|--no-null|--no-recursion|--no-unquote|--no-verbatim-files-from|--null|--recursion|-T --files-from=FILE|--unquote|--verbatim-files-from|-X --exclude-from=FILE|--anchored|--ignore-case|--no-anchored|--no-ignore-case|--no-wildcards|--no-wildcards-match-slash|--wildcards|--wildcards-match-slash|--keep-directory-symlink|--keep-newer-files|-k --keep-old-files|--no-overwrite-dir|--one-top-level[=DIR|--overwrite|--overwrite-dir|--recursive-unlink|--remove-files|--skip-old-files|-U --unlink-first|-W --verify|--ignore-command-error|--no-ignore-command-error|-O --to-stdout|--to-command=COMMAND|--atime-preserve[=METHOD|--clamp-mtime|--delay-directory-restore|--group=NAME|--group-map=FILE|--mode=CHANGES|--mtime=DATE|-m --touch|--no-delay-directory-restore|--no-same-owner|--no-same-permissions|--numeric-owner|--owner=NAME|--owner-map=FILE|-p --preserve-permissions --same-permissions|--same-owner|--sort=ORDER|-s --preserve-order --same-order|--acls|--no-acls|--no-selinux|--no-xattrs|--selinux|--xattrs|--xattrs-exclude=MASK|--xattrs-include=MASK|--force-local|-f --file=ARCHIVE|-F --info-script --new-volume-script=NAME|-L --tape-length=NUMBER|-M --multi-volume|--rmt-command=COMMAND|--rsh-command=COMMAND|--volno-file=FILE|-b --blocking-factor=BLOCKS|-B --read-full-records|-i --ignore-zeros|--record-size=NUMBER|-H --format=FORMAT|--old-archive --portability|--pax-option=keyword|--posix|-V --label=TEXT|-a --auto-compress|-I --use-compress-program=PROG|-j --bzip2|-J --xz|--lzip|--lzma|--lzop|--no-auto-compress|--zstd|-z --gzip --gunzip --ungzip|-Z --compress --uncompress|--backup[=CONTROL|-h --dereference|--hard-dereference|-K --starting-file=MEMBER|--newer-mtime=DATE|-N --newer --after-date=DATE|--one-file-system|-P --absolute-names|--suffix=STRING|--strip-components=NUMBER|--transform --xform=EXPRESSION|--checkpoint[=NUMBER|--checkpoint-action=ACTION|--full-time|--index-file=FILE|-l --check-links|--no-quote-chars=STRING|--quote-chars=STRING|--quoting-style=STYLE|-R --block-number|--show-defaults|--show-omitted-dirs|--show-snapshot-field-ranges|--show-transformed-names|--totals[=SIGNAL|--utc|-v --verbose|--warning=KEYWORD|-w --interactive --confirmation|--restrict|-? --help|--usage|--version|-o|-0|-1|-2|-3|-4|-5|-6|-7"

const tarRefine = (p: Parsed): ReadonlyArray<Effect> | string => {
  const has = (...names: ReadonlyArray<string>) => p.found.some((f) => names.includes(f.name))
  const out: Array<Effect> = []
  const create = has("-c", "--create", "-r", "--append", "-u", "--update", "-A", "--catenate", "--delete")
  const extract = has("-x", "--extract")
  for (const f of p.found) {
    if (f.name === "--checkpoint-action" && (f.value === undefined || /exec/.test(f.value))) return "tar --checkpoint-action=exec runs a command"
    if (["--to-command", "-I", "--use-compress-program", "--rsh-command", "--rmt-command", "-F", "--info-script"].includes(f.name)) {
      if (f.value === undefined) return `tar ${f.name} runs a computed command`
      out.push(effect("runs-command", f.at, f.value, `tar ${f.written} runs a command`, { script: true }))
    }
    if (f.name === "-f" || f.name === "--file") {
      if (f.value !== undefined && /^[^/]*:/.test(f.value) && !has("--force-local")) out.push(effect("runs-command", f.at, "rsh", "tar -f host:file runs a remote shell"))
      out.push(effect(create ? "writes-file" : "reads-file", f.at, f.value, create ? "tar writes its archive" : "tar reads its archive"))
    }
    if (["-T", "--files-from", "-X", "--exclude-from", "--add-file", "-g", "--listed-incremental", "--volno-file", "--index-file", "--owner-map", "--group-map"].includes(f.name)) {
      const writes = ["-g", "--listed-incremental", "--volno-file", "--index-file"].includes(f.name)
      out.push(effect(writes ? "writes-file" : "reads-file", f.at, f.value, `tar ${f.written} ${writes ? "writes" : "reads"} a file`))
    }
    if (f.name === "-C" || f.name === "--directory") out.push(effect("sets-cwd", f.at, f.value, "tar -C changes the directory"))
  }
  if (create) for (const o of p.operands) out.push(effect("reads-file", o.at, o.value, "tar archives its operand", { recursive: true }))
  if (extract) {
    const absolute = has("-P", "--absolute-names")
    out.push(effect("writes-file", -1, absolute ? undefined : ".", absolute ? "tar -P extracts to any path" : "tar -x extracts into the working directory", { recursive: true }))
    // `--one-top-level=DIR` extracts into DIR, wherever it is (`/tmp/x`, `../x`)
    const top = p.found.find((f) => f.name === "--one-top-level" && f.value !== "")
    if (top !== undefined) out.push(effect("writes-file", top.at, top.value, "tar --one-top-level extracts into its directory", { recursive: true }))
  }
  if (has("--remove-files")) for (const o of p.operands) out.push(effect("writes-file", o.at, o.value, "tar --remove-files removes its operand", { recursive: true }))
  return out
}

const tarSpec = program("tar gtar", tarTable, {}, { operands: "inert", refine: tarRefine })

// `tar xzf a.tgz`: old-style bundled keys, their values taken from the words after.
const tarArgv = (argv: ReadonlyArray<Word>): ReadonlyArray<Word> => {
  const first = argv[1]
  if (first === undefined || first.startsWith("-") || !/^[A-Za-z0-9]+$/.test(first)) return argv
  const out: Array<Word> = [argv[0]]
  let next = 2
  for (const letter of first) {
    const o = tarSpec.options.find((x) => x.names.includes(`-${letter}`))
    out.push(`-${letter}`)
    if (o !== undefined && o.arg === "required") out.push(argv[next++])
  }
  return [...out, ...argv.slice(next)]
}

const zipTable = "-0|-1|-2|-3|-4|-5|-6|-7|-8|-9|-a|-A|-b=|-c|-d|-D|-db|-dc|-dd|-dg|-ds=|-du|-dv|-e|-f|-F|-FF|-FS|-g|-h|-h2|-i=|-j|-J|-k|-l|-ll|-L|-m|-n=|-nw|-o|-O=|-p|-P=|-q|-r|-R|-s=|-sb|-sc|-sd|-so|-sp|-su|-sU|-S|-t=|-tt=|-T|-TT=|-u|-U|-UN=|-v|-V|-w|-ws|-x=|-X|-y|-z|-Z=|-@|-$|--help|--version"

export const specs: ReadonlyArray<ProgramSpec> = [
  { ...tarSpec, raw: true, refine: (p) => {
    const r = readSpec({ ...tarSpec, raw: false }, tarArgv(p.argv))
    return r.opaque ?? r.effects
  } },
  program("zip", zipTable, {}, {
    operands: "inert", singleDashLong: true,
    refine: (p) => {
      const out: Array<Effect> = []
      if (p.found.some((f) => f.name === "-TT")) {
        const tt = p.found.find((f) => f.name === "-TT")!
        if (tt.value === undefined) return "zip -TT runs a computed command"
        out.push(effect("runs-command", tt.at, tt.value, "zip -TT runs a command", { script: true }))
      }
      const recursive = p.found.some((f) => f.name === "-r" || f.name === "-R")
      const [archive, ...files] = p.operands
      if (archive !== undefined) out.push(effect("writes-file", archive.at, archive.value, "zip writes its archive"))
      for (const o of files) out.push(effect("reads-file", o.at, o.value, "zip reads its operand", { recursive }))
      if (p.found.some((f) => f.name === "-m")) for (const o of files) out.push(effect("writes-file", o.at, o.value, "zip -m removes its operand", { recursive }))
      return out
    }
  }),
  program("unzip", "-Z|-c|-f|-l|-p|-t|-T|-u|-v|-z|-b|-B|-C|-D|-DD|-e|-E|-F|-FF|-i|-j|-K|-L|-M|-n|-N|-o|-q|-qq|-s|-U|-UU|-V|-W|-x|-X|-Y|-$|-:|-^|-d=|-P=|-O=|-I=|-a|-aa|-h|--help", {}, {
    operands: "inert",
    refine: (p) => {
      const out: Array<Effect> = []
      const archive = p.operands[0]
      if (archive !== undefined) out.push(effect("reads-file", archive.at, archive.value, "unzip reads its archive"))
      const toStdout = p.found.some((f) => ["-p", "-c", "-l", "-t", "-v", "-z", "-Z"].includes(f.name))
      if (toStdout) return out
      const dest = p.found.find((f) => f.name === "-d")
      const escape = p.found.some((f) => f.name === "-:" || f.name === "-^")
      out.push(effect("writes-file", dest?.at ?? -1, escape ? undefined : dest === undefined ? "." : dest.value, "unzip extracts files", { recursive: true }))
      return out
    }
  }),
  ...["gzip gunzip", "bzip2 bunzip2", "xz unxz lzma unlzma", "zstd unzstd", "lz4", "brotli"].map((names) =>
    program(names, "-c --stdout --to-stdout|-d --decompress --uncompress|-f --force|-h --help|-k --keep|-l --list|-L --license|-n --no-name|-N --name|-q --quiet|-r --recursive|--rsyncable|-S --suffix=SUF|--synchronous|-t --test|-v --verbose|-V --version|-1 --fast|-2|-3|-4|-5|-6|-7|-8|-9 --best|-z --compress|-s --small|-e --extreme|-T --threads=|-M --memlimit=|--format=|-F|-o --output=|-0|--rm|--ultra|--long[=|-D=|--no-progress|--progress|-B=|--single-thread", { "--output": "writes-file" }, {
      operands: "inert",
      refine: (p) => {
        const stdout = p.found.some((f) => ["-c", "--stdout", "--to-stdout", "-l", "--list", "-t", "--test"].includes(f.name))
        const recursive = p.found.some((f) => f.name === "-r" || f.name === "--recursive")
        return p.operands.flatMap((o) => [
          effect("reads-file", o.at, o.value, `${p.argv[0]} reads its operand`, { recursive }),
          ...(stdout ? [] : [effect("writes-file", o.at, o.value, `${p.argv[0]} replaces its operand`, { recursive })])
        ])
      }
    })
  ),
  program("zcat bzcat xzcat zstdcat lz4cat", "-f --force|-h --help|-L --license|-q --quiet|-v --verbose|-V --version", {}, { operands: "reads-file" })
]
