/**
 * Specs for GNU coreutils, diffutils and the small text tools beside them.
 * Option tables are those of the programs' `--help` (coreutils 9.1, Debian
 * 12); the differential test checks the effectful ones against the real
 * programs.
 */
import { effect, type Effect, type Parsed, program, type ProgramSpec } from "./spec.ts"

const help = "--help|--version"

// The last operand of cp/mv/ln/install is written (or `-t DIR`), the others read.
const copier = (sourcesWritten: boolean) => (p: Parsed): ReadonlyArray<Effect> => {
  const out: Array<Effect> = []
  const target = p.found.find((f) => f.name === "-t" || f.name === "--target-directory")
  const noTarget = p.found.some((f) => f.name === "-T" || f.name === "--no-target-directory")
  const directory = p.found.some((f) => f.name === "-d" || f.name === "--directory")
  const ops = p.operands
  if (directory) {
    for (const o of ops) out.push(effect("writes-file", o.at, o.value, `${p.argv[0]} -d creates the directory`))
    return out
  }
  const dest = target === undefined ? (ops.length > 1 || noTarget ? ops[ops.length - 1] : undefined) : undefined
  const sources = target === undefined ? ops.slice(0, -1) : ops
  if (target !== undefined) out.push(effect("writes-file", target.at, target.value, `${p.argv[0]} writes into its target directory`, { recursive: true }))
  if (dest !== undefined) out.push(effect("writes-file", dest.at, dest.value, `${p.argv[0]} writes its last operand`, { recursive: true }))
  const recursive = p.found.some((f) => ["-r", "-R", "-a", "--recursive", "--archive"].includes(f.name)) || p.argv[0] === "mv"
  for (const s of sources) {
    out.push(effect("reads-file", s.at, s.value, `${p.argv[0]} reads its source`, { recursive }))
    if (sourcesWritten) out.push(effect("writes-file", s.at, s.value, `${p.argv[0]} removes its source`, { recursive: true }))
  }
  return out
}

const lsTable = "-a --all|-A --almost-all|--author|-b --escape|--block-size=SIZE|-B --ignore-backups|--color[=WHEN]|-d --directory|-D --dired|-F --classify[=WHEN]|--file-type|--format=WORD|--full-time|--group-directories-first|-G --no-group|-h --human-readable|--si|-H --dereference-command-line|--dereference-command-line-symlink-to-dir|--hide=PATTERN|--hyperlink[=WHEN]|--indicator-style=WORD|-i --inode|-I --ignore=PATTERN|-k --kibibytes|-L --dereference|-n --numeric-uid-gid|-N --literal|-p|-q --hide-control-chars|--show-control-chars|-Q --quote-name|--quoting-style=WORD|-r --reverse|-R --recursive|-s --size|--sort=WORD|--time=WORD|--time-style=TIME_STYLE|-T --tabsize=COLS|-w --width=COLS|-Z --context|--zero|-1|-C|-c|-f|-g|-l|-m|-o|-S|-t|-u|-U|-v|-x|-X"

export const specs: ReadonlyArray<ProgramSpec> = [
  program("cat", `-A --show-all|-b --number-nonblank|-e|-E --show-ends|-n --number|-s --squeeze-blank|-t|-T --show-tabs|-u|-v --show-nonprinting|${help}`, {}, { operands: "reads-file" }),
  program("tac", `-b --before|-r --regex|-s --separator=STRING|${help}`, {}, { operands: "reads-file" }),
  program("nl", `-b --body-numbering=STYLE|-d --section-delimiter=CC|-f --footer-numbering=STYLE|-h --header-numbering=STYLE|-i --line-increment=NUMBER|-l --join-blank-lines=NUMBER|-n --number-format=FORMAT|-p --no-renumber|-s --number-separator=STRING|-v --starting-line-number=NUMBER|-w --number-width=NUMBER|${help}`, {}, { operands: "reads-file" }),
  program("head", `-c --bytes=|-n --lines=|-q --quiet --silent|-v --verbose|-z --zero-terminated|${help}`, {}, { operands: "reads-file", numeric: true }),
  program("tail", `-c --bytes=|-f --follow[=|-F|--max-unchanged-stats=N|--pid=PID|-q --quiet --silent|--retry|-s --sleep-interval=N|-v --verbose|-z --zero-terminated|-n --lines=|${help}`, {}, { operands: "reads-file", numeric: true, plus: true }),
  program("ls dir vdir", `${lsTable}|${help}`, {}, { operands: "inert" }),
  program("wc", `-c --bytes|-m --chars|-l --lines|--files0-from=F|-L --max-line-length|-w --words|--total=WHEN|${help}`, { "--files0-from": "reads-file" }, { operands: "reads-file" }),
  program("sort", `-b --ignore-leading-blanks|-d --dictionary-order|-f --ignore-case|-g --general-numeric-sort|-i --ignore-nonprinting|-M --month-sort|-h --human-numeric-sort|-n --numeric-sort|-R --random-sort|--random-source=FILE|-r --reverse|--sort=WORD|-V --version-sort|--batch-size=NMERGE|-c --check[=|-C|--compress-program=PROG|--debug|--files0-from=F|-k --key=KEYDEF|-m --merge|-o --output=FILE|-s --stable|-S --buffer-size=SIZE|-t --field-separator=SEP|-T --temporary-directory=DIR|--parallel=N|-u --unique|-z --zero-terminated|${help}`, {
    "--output": "writes-file", "--random-source": "reads-file", "--files0-from": "reads-file", "--compress-program": "runs-command", "--temporary-directory": "writes-file"
  }, { operands: "reads-file" }),
  program("uniq", `-c --count|-d --repeated|-D|--all-repeated[=METHOD]|-f --skip-fields=N|--group[=METHOD]|-i --ignore-case|-s --skip-chars=N|-u --unique|-z --zero-terminated|-w --check-chars=N|${help}`, {}, {
    computedOk: true, operands: "inert",
    // uniq [INPUT [OUTPUT]]: the second operand is written.
    refine: (p) => p.operands.flatMap((o, i) => i === 0 ? [effect("reads-file", o.at, o.value, "uniq reads its input")] : [effect("writes-file", o.at, o.value, "uniq writes its second operand")])
  }),
  program("cut", `-b --bytes=LIST|-c --characters=LIST|-d --delimiter=DELIM|-f --fields=LIST|-n|--complement|-s --only-delimited|--output-delimiter=STRING|-z --zero-terminated|${help}`, {}, { operands: "reads-file" }),
  program("paste", `-d --delimiters=LIST|-s --serial|-z --zero-terminated|${help}`, {}, { operands: "reads-file" }),
  program("join", `-a=|-e=|-i --ignore-case|-j=|-o=|-t=|-v=|-1=|-2=|--check-order|--nocheck-order|--header|-z --zero-terminated|${help}`, {}, { operands: "reads-file" }),
  program("comm", `-1|-2|-3|--check-order|--nocheck-order|--output-delimiter=STR|--total|-z --zero-terminated|${help}`, {}, { operands: "reads-file" }),
  program("tr", `-c -C --complement|-d --delete|-s --squeeze-repeats|-t --truncate-set1|${help}`, {}, { operands: "inert" }),
  program("fold", `-b --bytes|-s --spaces|-w --width=WIDTH|${help}`, {}, { operands: "reads-file", numeric: true }),
  program("fmt", `-c --crown-margin|-p --prefix=STRING|-s --split-only|-t --tagged-paragraph|-u --uniform-spacing|-w --width=WIDTH|-g --goal=WIDTH|${help}`, {}, { operands: "reads-file", numeric: true }),
  program("expand unexpand", `-i --initial|-a --all|--first-only|-t --tabs=N|${help}`, {}, { operands: "reads-file", numeric: true }),
  program("rev", "-h --help|-V --version|-0 --zero", {}, { operands: "reads-file" }),
  program("od", `-A --address-radix=RADIX|--endian=|-j --skip-bytes=BYTES|-N --read-bytes=BYTES|-S --strings[=|-t --format=TYPE|-v --output-duplicates|-w --width[=|--traditional|-a|-b|-c|-d|-f|-i|-l|-o|-s|-x|${help}`, {}, { operands: "reads-file" }),
  program("base64 base32 basenc", `-d --decode|-i --ignore-garbage|-w --wrap=COLS|--base64|--base64url|--base32|--base32hex|--base16|--base2msbf|--base2lsbf|--z85|${help}`, {}, { operands: "reads-file" }),
  program("md5sum sha1sum sha224sum sha256sum sha384sum sha512sum b2sum", `-b --binary|-c --check|--tag|-t --text|-z --zero|-l --length=|--ignore-missing|--quiet|--status|--strict|-w --warn|${help}`, {}, { operands: "reads-file" }),
  program("cksum sum", `-a --algorithm=TYPE|--base64|-c --check|-l --length=BITS|--raw|--tag|--untagged|-z --zero|-r|-s --sysv|-w --warn|--strict|--status|--quiet|--ignore-missing|--debug|${help}`, {}, { operands: "reads-file" }),
  program("stat", `-L --dereference|-f --file-system|--cached=MODE|-c --format=FORMAT|--printf=FORMAT|-t --terse|${help}`, {}, { operands: "inert" }),
  program("du", `-0 --null|-a --all|--apparent-size|-B --block-size=SIZE|-b --bytes|-c --total|-D --dereference-args|-d --max-depth=N|--files0-from=F|-H|-h --human-readable|--inodes|-k|-L --dereference|-l --count-links|-m|-P --no-dereference|-S --separate-dirs|--si|-s --summarize|-t --threshold=SIZE|--time[=WORD|--time-style=STYLE|-X --exclude-from=FILE|--exclude=PATTERN|-x --one-file-system|${help}`, { "--files0-from": "reads-file", "--exclude-from": "reads-file" }, { operands: "inert" }),
  program("df", `-a --all|-B --block-size=SIZE|-h --human-readable|-H --si|-i --inodes|-k|-l --local|--no-sync|--output[=FIELD_LIST]|-P --portability|--sync|--total|-t --type=TYPE|-T --print-type|-x --exclude-type=TYPE|-v|${help}`, {}, { operands: "inert" }),
  program("realpath", `-e --canonicalize-existing|-m --canonicalize-missing|-L --logical|-P --physical|-q --quiet|--relative-to=DIR|--relative-base=DIR|-s --strip --no-symlinks|-z --zero|${help}`, {}, { operands: "inert" }),
  program("readlink", `-f --canonicalize|-e --canonicalize-existing|-m --canonicalize-missing|-n --no-newline|-q --quiet|-s --silent|-v --verbose|-z --zero|${help}`, {}, { operands: "inert" }),
  program("basename", `-a --multiple|-s --suffix=SUFFIX|-z --zero|${help}`, {}, { operands: "inert" }),
  program("dirname", `-z --zero|${help}`, {}, { operands: "inert" }),
  program("seq", `-f --format=FORMAT|-s --separator=STRING|-w --equal-width|${help}`, {}, { operands: "inert", posix: false, numeric: true }),
  program("date", `-d --date=STRING|--debug|-f --file=DATEFILE|-I --iso-8601[=FMT|--resolution|-R --rfc-email|--rfc-3339=FMT|-r --reference=FILE|-s --set=STRING|-u --utc --universal|${help}`, { "--file": "reads-file", "--set": "env" }, { operands: "inert" }),
  program("echo", "", {}, { operands: "inert", posix: true }),
  program("true false pwd whoami id groups hostname uname arch nproc printenv tty logname users uptime", `-a --all|-L|-P|-s --kernel-name|-n --nodename|-r --kernel-release|-v --kernel-version|-m --machine|-p --processor|-i --hardware-platform|-o --operating-system|-u --user|-g --group|-G --groups|-z --zero|-0 --null|--ignore=N|-f --fqdn --long|-d --domain|-I --all-ip-addresses|-S --short|${help}`, {}, { operands: "inert" }),
  program("sleep", help, {}, { operands: "inert" }),
  program("which", "-a|-s", {}, { operands: "inert" }),
  program("yes", help, {}, { operands: "inert", posix: true }),
  program("file", `-v --version|-m --magic-file=|-z --uncompress|-Z --uncompress-noreport|-b --brief|-c --checking-printout|-e --exclude=|--exclude-quiet=|-f --files-from=|-F --separator=|-i --mime|--mime-encoding|--apple|--extension|--mime-type|-k --keep-going|-l --list|-L --dereference|-h --no-dereference|-n --no-buffer|-N --no-pad|-0 --print0|-p --preserve-date|-P --parameter=|-r --raw|-s --special-files|-S --no-sandbox|-C --compile|-d --debug|--help`, { "--magic-file": "reads-file", "--files-from": "reads-file", "--compile": "writes-file" }, { operands: "reads-file" }),
  program("shuf", `-e --echo|-i --input-range=LO|-n --head-count=COUNT|-o --output=FILE|--random-source=FILE|-r --repeat|-z --zero-terminated|${help}`, { "--output": "writes-file", "--random-source": "reads-file" }, { operands: "reads-file" }),
  program("diff", `--normal|-q --brief|-s --report-identical-files|-c|-C --context=NUM|-u|-U --unified=NUM|-e --ed|-n --rcs|-y --side-by-side|-W --width=NUM|--left-column|--suppress-common-lines|-p --show-c-function|-F --show-function-line=RE|--label=|-t --expand-tabs|-T --initial-tab|--tabsize=NUM|--suppress-blank-empty|-l --paginate|-r --recursive|--no-dereference|-N --new-file|--unidirectional-new-file|--ignore-file-name-case|--no-ignore-file-name-case|-x --exclude=PAT|-X --exclude-from=FILE|-S --starting-file=FILE|--from-file=FILE|--to-file=FILE|-i --ignore-case|-E --ignore-tab-expansion|-Z --ignore-trailing-space|-b --ignore-space-change|-w --ignore-all-space|-B --ignore-blank-lines|-I --ignore-matching-lines=RE|-a --text|--strip-trailing-cr|-D --ifdef=NAME|--line-format=LFMT|--old-line-format=|--new-line-format=|--unchanged-line-format=|--old-group-format=|--new-group-format=|--unchanged-group-format=|--changed-group-format=|-d --minimal|--horizon-lines=NUM|--speed-large-files|--color[=WHEN]|--palette=PALETTE|--help|-v --version`, {
    "--exclude-from": "reads-file", "--from-file": "reads-file", "--to-file": "reads-file"
  }, { operands: "reads-file", numeric: true, refine: (p) => p.found.some((f) => f.name === "-r" || f.name === "--recursive") ? p.operands.map((o) => effect("reads-file", o.at, o.value, "diff -r reads directories", { recursive: true })) : [] }),
  program("cmp", `-b --print-bytes|-i --ignore-initial=SKIP|-l --verbose|-n --bytes=LIMIT|-s --quiet --silent|--help|-v --version`, {}, { operands: "reads-file" }),
  program("mkdir", `-m --mode=MODE|-p --parents|-v --verbose|-Z|--context[=CTX]|${help}`, {}, { operands: "writes-file" }),
  program("rmdir", `--ignore-fail-on-non-empty|-p --parents|-v --verbose|${help}`, {}, {
    operands: "inert",
    refine: (p) => p.operands.map((o) => effect("writes-file", o.at, o.value, "rmdir removes its operand", { removes: true }))
  }),
  program("touch", `-a|-c --no-create|-d --date=STRING|-f|-h --no-dereference|-m|-r --reference=FILE|-t=|--time=WORD|${help}`, { "--reference": "reads-file" }, { operands: "writes-file" }),
  program("rm", `-f --force|-i|-I|--interactive[=WHEN]|--one-file-system|--no-preserve-root|--preserve-root[=all]|-r -R --recursive|-d --dir|-v --verbose|${help}`, {}, {
    computedOk: true, operands: "inert",
    refine: (p) => {
      const recursive = p.found.some((f) => f.name === "-r" || f.name === "-R" || f.name === "--recursive")
      return p.operands.map((o) => effect("writes-file", o.at, o.value, "rm removes its operand", { recursive, removes: true }))
    }
  }),
  program("unlink shred", `-f --force|-n --iterations=N|--random-source=FILE|-s --size=N|-u|--remove[=HOW]|-v --verbose|-x --exact|-z --zero|${help}`, { "--random-source": "reads-file" }, { operands: "writes-file" }),
  program("truncate", `-c --no-create|-o --io-blocks|-r --reference=RFILE|-s --size=SIZE|${help}`, { "--reference": "reads-file" }, { operands: "writes-file" }),
  program("mktemp", `-d --directory|-u --dry-run|-q --quiet|--suffix=SUFF|-p=|--tmpdir[=DIR]|-t|${help}`, {}, { operands: "inert" }),
  program("tee", `-a --append|-i --ignore-interrupts|-p|--output-error[=MODE]|${help}`, {}, { operands: "writes-file" }),
  program("cp", `-a --archive|--attributes-only|--backup[=CONTROL]|-b|--copy-contents|-d|-f --force|-i --interactive|-H|-l --link|-L --dereference|-n --no-clobber|-P --no-dereference|-p|--preserve[=ATTR_LIST]|--no-preserve=ATTR_LIST|--parents|-R -r --recursive|--reflink[=WHEN]|--remove-destination|--sparse=WHEN|--strip-trailing-slashes|-s --symbolic-link|-S --suffix=SUFFIX|-t --target-directory=DIRECTORY|-T --no-target-directory|-u|--update[=UPDATE]|-v --verbose|--keep-directory-symlink|-x --one-file-system|-Z|--context[=CTX]|--debug|${help}`, {}, { computedOk: true, operands: "inert", refine: copier(false) }),
  program("mv", `--backup[=CONTROL]|-b|--debug|-f --force|-i --interactive|-n --no-clobber|--no-copy|--strip-trailing-slashes|-S --suffix=SUFFIX|-t --target-directory=DIRECTORY|-T --no-target-directory|-u|--update[=UPDATE]|-v --verbose|-Z --context|${help}`, {}, { computedOk: true, operands: "inert", refine: copier(true) }),
  program("ln", `--backup[=CONTROL]|-b|-d -F --directory|-f --force|-i --interactive|-L --logical|-n --no-dereference|-P --physical|-r --relative|-s --symbolic|-S --suffix=SUFFIX|-t --target-directory=DIRECTORY|-T --no-target-directory|-v --verbose|${help}`, {}, { computedOk: true, operands: "inert", refine: copier(false) }),
  program("install", `--backup[=CONTROL]|-b|-c|-C --compare|-d --directory|-D|-g --group=GROUP|-m --mode=MODE|-o --owner=OWNER|-p --preserve-timestamps|-s --strip|--strip-program=PROGRAM|-S --suffix=SUFFIX|-t --target-directory=DIRECTORY|-T --no-target-directory|-v --verbose|--preserve-context|-Z|--context[=CTX]|${help}`, { "--strip-program": "runs-command" }, { operands: "inert", refine: copier(false) }),
  program("chmod chown chgrp", `-c --changes|-f --silent --quiet|-v --verbose|--dereference|-h --no-dereference|--from=CURRENT_OWNER|--no-preserve-root|--preserve-root|--reference=RFILE|-R --recursive|-H|-L|-P|${help}`, { "--reference": "reads-file" }, {
    computedOk: true, operands: "inert",
    // the first operand is the mode or owner (unless --reference), the rest are changed
    refine: (p) => {
      const ref = p.found.some((f) => f.name === "--reference")
      const recursive = p.found.some((f) => f.name === "-R" || f.name === "--recursive")
      return p.operands.slice(ref ? 0 : 1).map((o) => effect("writes-file", o.at, o.value, `${p.argv[0]} changes its operand`, { recursive }))
    }
  }),
  program("split", `-a --suffix-length=N|--additional-suffix=SUFFIX|-b --bytes=SIZE|-C --line-bytes=SIZE|-d|--numeric-suffixes[=FROM]|-x|--hex-suffixes[=FROM]|-e --elide-empty-files|--filter=COMMAND|-l --lines=NUMBER|-n --number=CHUNKS|-t --separator=SEP|-u --unbuffered|--verbose|${help}`, { "--filter": ["runs-command", "script"] }, {
    operands: "inert",
    numeric: true,
    // split [INPUT [PREFIX]]: the input is read and PREFIX* written (default x* in the cwd).
    refine: (p) => {
      const input = p.operands[0]
      const prefix = p.operands[1]
      return [
        ...(input === undefined ? [] : [effect("reads-file", input.at, input.value, "split reads its input")]),
        effect("writes-file", prefix?.at ?? -1, prefix === undefined ? "x" : prefix.value === undefined ? undefined : `${prefix.value}`, "split writes files named by its prefix")
      ]
    }
  }),
  program("csplit", `-b --suffix-format=FORMAT|-f --prefix=PREFIX|-k --keep-files|--suppress-matched|-n --digits=DIGITS|-s --quiet --silent|-z --elide-empty-files|${help}`, { "--prefix": "writes-file" }, {
    operands: "inert",
    refine: (p) => [
      ...p.operands.slice(0, 1).map((o) => effect("reads-file", o.at, o.value, "csplit reads its input")),
      ...(p.found.some((f) => f.name === "-f" || f.name === "--prefix") ? [] : [effect("writes-file", -1, "xx", "csplit writes xx* files")])
    ]
  }),
  program("dd", "", {}, {
    operands: "inert",
    refine: (p) => {
      const out: Array<Effect> = []
      for (const o of p.operands) {
        if (o.value === undefined) return "dd has a computed operand"
        const eq = o.value.indexOf("=")
        const key = o.value.slice(0, eq)
        if (eq < 0 || !/^(if|of|bs|ibs|obs|cbs|count|skip|seek|iseek|oseek|conv|iflag|oflag|status)$/.test(key)) return `dd has an operand the engine does not know: ${o.value}`
        if (key === "if") out.push(effect("reads-file", o.at, o.value.slice(3), "dd if= reads a file"))
        if (key === "of") out.push(effect("writes-file", o.at, o.value.slice(3), "dd of= writes a file"))
      }
      return out
    }
  }),
  program("jq", "-c --compact-output|-n --null-input|-r --raw-output|-j --join-output|-a --ascii-output|-s --slurp|-S --sort-keys|-C --color-output|-M --monochrome-output|-e --exit-status|--tab|--indent=|--unbuffered|--stream|--stream-errors|--seq|-f --from-file=|-L=|--arg=|--argjson=|--slurpfile=|--rawfile=|--args|--jsonargs|--raw-input -R|--raw-output0|-h --help|-V --version|--build-configuration", { "--from-file": "reads-file", "-L": "reads-file" }, {
    computedOk: true, operands: "inert",
    // jq's first operand is its filter; the rest are files. --arg NAME VALUE and friends take two words.
    refine: (p) => {
      const out: Array<Effect> = []
      const twoWords = p.found.filter((f) => ["--arg", "--argjson", "--slurpfile", "--rawfile"].includes(f.name))
      const taken = new Set(twoWords.map((f) => f.at + 1))
      for (const f of twoWords) {
        if (f.name !== "--slurpfile" && f.name !== "--rawfile") continue
        // NAME FILE; a `--rawfile=X` spelling is read both ways
        out.push(effect("reads-file", f.at + 1, p.argv[f.at + 1], `jq ${f.name} reads a file`))
        if (p.argv[f.at] !== f.value) out.push(effect("reads-file", f.at, f.value, `jq ${f.name} reads a file`))
      }
      const rest = p.operands.filter((o) => !taken.has(o.at))
      const fromFile = p.found.some((f) => f.name === "-f" || f.name === "--from-file")
      // --args/--jsonargs make the operands after them strings; those before are still files.
      const args = p.found.filter((f) => f.name === "--args" || f.name === "--jsonargs").map((f) => f.at)
      const argsAt = args.length === 0 ? Infinity : Math.min(...args)
      for (const o of rest.slice(fromFile ? 0 : 1)) if (o.at < argsAt) out.push(effect("reads-file", o.at, o.value, "jq reads its input file"))
      // a computed word may be several (`$F` = `--rawfile k FILE`): a file the shell computes
      if (p.argv.some((w, i) => i > 0 && w === undefined)) out.push(effect("reads-file", -1, undefined, "jq has a computed word, which may name a file it reads"))
      return out
    }
  })
]
