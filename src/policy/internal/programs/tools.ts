/**
 * Build tools, pagers, editors, database shells and the other programs that
 * run commands or code of their own: make and cmake (recipes are code),
 * less/more/man (a pager runs commands on `!` and its `+cmd`), editors
 * (vim, nano, emacs, ed all run shell commands), sqlite3/psql/mysql (`.shell`,
 * `\!`, `.output`), openssl (writes with `-out`), patch, and the TypeScript
 * tools agents run every day (tsc, vitest, jest, eslint, prettier).
 */
import { effect, type Effect, type Parsed, program, type ProgramSpec } from "./spec.ts"

// openssl options whose value is a file it writes.
const opensslWrites = new Set(["-out", "-keyout", "-certout", "-sess_out", "-writerand", "-msgfile", "-signer", "-CAserial", "-keylogfile", "-outdir", "-respout", "-reqout", "-rand_out", "-pubout_file", "-dcert_out", "-serverinfo_out"])

const makeTable = "-b -m|-B --always-make|-C --directory=DIR|-d|--debug[=FLAGS|-e --environment-overrides|-E --eval=|-f --file --makefile=FILE|-h --help|-i --ignore-errors|-I --include-dir=DIR|-j --jobs[=N|-k --keep-going|-l --load-average --max-load[=N|-L --check-symlink-times|-n --just-print --dry-run --recon|-o --old-file --assume-old=FILE|-O --output-sync[=TYPE|-p --print-data-base|-q --question|-r --no-builtin-rules|-R --no-builtin-variables|--shuffle[=|-s --silent --quiet|--no-silent|-S --no-keep-going --stop|-t --touch|--trace|-v --version|-w --print-directory|--no-print-directory|-W --what-if --new-file --assume-new=FILE|--warn-undefined-variables"

// make: each target runs its recipe (code in the Makefile); no target runs the first one.
const makeRefine = (p: Parsed): ReadonlyArray<Effect> | string => {
  const out: Array<Effect> = []
  for (const f of p.found) {
    if (f.name === "-f" || f.name === "--file" || f.name === "-E" || f.name === "--eval" || f.name === "-I" || f.name === "--include-dir") out.push(effect("runs-code", f.at, f.value, `make ${f.written} reads code`))
    if (f.name === "-C" || f.name === "--directory") out.push(effect("sets-cwd", f.at, f.value, "make -C changes the directory"), effect("runs-code", f.at, f.value, "make -C runs another directory's Makefile"))
  }
  // -n, -q and -p still read the Makefile (its `$(shell …)` runs) and -n runs
  // the recipe lines that use $(MAKE) or start with `+`: a dry run runs code too.
  const targets = p.operands.filter((o) => o.value === undefined || !/^[A-Za-z_][A-Za-z0-9_.]*[:+?]?=/.test(o.value))
  const assigns = p.operands.filter((o) => !targets.includes(o))
  for (const a of assigns) out.push(effect("runs-code", a.at, a.value, "make VAR=value can change what recipes run"))
  if (targets.length === 0) out.push(effect("runs-code", 0, p.argv[0], "make runs the default target's recipe"))
  for (const t of targets) out.push(effect("runs-code", t.at, t.value, "make runs the target's recipe"))
  return out
}

// Editors run shell commands (`:!`, `M-!`, `!` in ed): whatever file they open, they run code.
const editor = (names: string): ProgramSpec => ({
  names: names.split(" "),
  options: [],
  operands: "inert",
  raw: true,
  refine: (p) => [
    // bare (`ed <<< '!id'`, `ex`), it runs the commands of its input: past the name, where `Bash(ed:*)` spells nothing
    p.argv.length > 1
      ? effect("runs-code", 1, p.argv[1], `${p.argv[0]} is an editor, which can run shell commands`)
      : effect("runs-code", 1, p.argv[0], `${p.argv[0]} is an editor, which runs the commands of its input`),
    ...p.argv.slice(1).flatMap((w, n) => w !== undefined && w.startsWith("-") ? [] : [effect("writes-file", n + 1, w, `${p.argv[0]} may write its file`)])
  ]
})

const lessTable = "-? --help|-a --search-skip-screen|-A --SEARCH-SKIP-SCREEN|-b --buffers=|-B --auto-buffers|-c --clear-screen|-C --CLEAR-SCREEN|-d --dumb|-D --color=|-e --quit-at-eof|-E --QUIT-AT-EOF|-f --force|-F --quit-if-one-screen|-g --hilite-search|-G --HILITE-SEARCH|-h --max-back-scroll=|-i --ignore-case|-I --IGNORE-CASE|-j --jump-target=|-J --status-column|-k --lesskey-file=|-K --quit-on-intr|-L --no-lessopen|-m --long-prompt|-M --LONG-PROMPT|-n --line-numbers|-N --LINE-NUMBERS|-o --log-file=|-O --LOG-FILE=|-p --pattern=|-P --prompt=|-q --quiet --silent|-Q --QUIET --SILENT|-r --raw-control-chars|-R --RAW-CONTROL-CHARS|-s --squeeze-blank-lines|-S --chop-long-lines|-t --tag=|-T --tag-file=|-u --underline-special|-U --UNDERLINE-SPECIAL|-V --version|-w --hilite-unread|-W --HILITE-UNREAD|-x --tabs=|-X --no-init|-y --max-forw-scroll=|-z --window=|--no-keypad|--follow-name|--mouse|--wheel-lines=|--incsearch|--use-color|--header=|--redraw-on-quit|--exit-follow-on-close|--file-size|--line-num-width=|--status-col-width="

export const specs: ReadonlyArray<ProgramSpec> = [
  program("make gmake", makeTable, {}, { operands: "inert", refine: makeRefine }),
  {
    names: ["cmake"], options: [], operands: "inert", raw: true,
    refine: (p) => {
      const a = p.argv
      if (a.length === 2 && (a[1] === "--version" || a[1] === "--help")) return []
      if (a[1] === "-E") return "cmake -E runs a command-mode tool the engine does not model"
      return [effect("runs-code", a.length > 1 ? 1 : 0, a[1] ?? "cmake", "cmake runs CMake code and the build it configures")]
    }
  },
  program("less more most pg", lessTable, { "--log-file": "writes-file", "--LOG-FILE": "writes-file", "--lesskey-file": "runs-code", "--tag-file": "reads-file" }, {
    operands: "reads-file",
    refine: (p) => p.argv.some((w, i) => i > 0 && (w === undefined || w.startsWith("+"))) ? "a pager's +command can run shell commands" : []
  }),
  program("man", "-C --config-file=|-d --debug|-D --default|--warnings[=|-f --whatis|-k --apropos|-K --global-apropos|-l --local-file|-w --where --path --location|-W --where-cat --location-cat|-c --catman|-R --recode=|-L --locale=|-m --systems=|-M --manpath=|-S -s --sections=|-e --extension=|-i --ignore-case|-I --match-case|--regex|--wildcard|--names-only|-a --all|-u --update|--no-subpages|-P --pager=|-r --prompt=|-7 --ascii|-E --encoding=|--no-hyphenation --nh|--no-justification --nj|-p --preprocessor=|-t --troff|-T --troff-device[=|-H --html[=|-X --gxditview[=|-Z --ditroff|-? --help|--usage|-V --version", {
    "--pager": ["runs-command", "script"], "--config-file": "runs-code", "--html": "runs-command", "--preprocessor": "runs-code", "--gxditview": "runs-command", "--manpath": "runs-code"
  }, { operands: "inert", refine: (p) => p.found.some((f) => f.name === "-l" || f.name === "--local-file") ? p.operands.map((o) => effect("runs-code", o.at, o.value, "man -l renders a local file (troff requests can run programs)")) : [] }),
  editor("vi vim nvim view vimdiff rvim ex nano pico emacs emacsclient ed red joe jed mcedit micro kak helix hx code subl"),
  {
    names: ["sqlite3", "psql", "mysql", "mariadb", "duckdb", "redis-cli", "mongo", "mongosh"], options: [], operands: "inert", raw: true,
    // their dot/backslash commands run shell commands and write files (`.shell`, `.system`, `\!`, `.output`):
    // a database shell runs code.
    // The code is its SQL: an argument or, without one, whatever its input holds
    // (`cat x.sql | psql`), so only a rule spelling the whole command covers it.
    refine: (p) => [effect("runs-code", p.argv.length, undefined, `${p.argv[0]} runs SQL and its own commands (from its arguments or its input), which can run programs and write files`), effect("network", 0, p.argv[0], `${p.argv[0]} may reach a database server`)]
  },
  {
    names: ["openssl"], options: [], operands: "inert", raw: true,
    refine: (p) => {
      const out: Array<Effect> = []
      const a = p.argv
      const sub = a[1]
      if (sub === undefined) return a.length > 1 ? "openssl has a computed subcommand" : "openssl without a subcommand reads commands from its input"
      if (["s_client", "s_server", "s_time", "ocsp"].includes(sub)) out.push(effect("network", 1, sub, `openssl ${sub} reaches the network`))
      if (sub === "engine" || a.some((w) => w === "-engine" || w === "-provider-path" || w === "-provider")) return "openssl -engine/-provider loads a shared library"
      // openssl's subcommands take hundreds of options: every word that is
      // not an option may be a file it reads (`openssl dgst FILE`, `-in FILE`,
      // `-pass file:F`); the options that name a file it writes are listed.
      for (let i = 2; i < a.length; i++) {
        const w = a[i]
        if (w === undefined) return "openssl has a computed argument"
        if (opensslWrites.has(w)) {
          out.push(effect("writes-file", i + 1, a[i + 1], `openssl ${w} writes a file`))
          i++
          continue
        }
        // a config file can load engines and providers (shared libraries)
        if (w === "-config" || w === "-conf") {
          out.push(effect("runs-code", i + 1, a[i + 1], `openssl ${w} reads a config, which can load shared libraries`))
          i++
          continue
        }
        if (w.startsWith("-")) continue
        const path = w.startsWith("file:") ? w.slice(5) : w
        out.push(effect("reads-file", i, path, "openssl may read the file its argument names"))
      }
      return out
    }
  },
  program("patch", "-b --backup|-B --prefix=|-c --context|-d --directory=|-D --ifdef=|--dry-run|-e --ed|-E --remove-empty-files|-f --force|-F --fuzz=|-g --get=|--help|-i --input=|-l --ignore-whitespace|--merge[=|-n --normal|-N --forward|-o --output=|-p --strip=|--posix|--quoting-style=|-r --reject-file=|-R --reverse|-s --quiet --silent|-t --batch|-T --set-time|-u --unified|-v --version|-V --version-control=|--verbose|-x --debug=|-Y --basename-prefix=|-z --suffix=|-Z --set-utc|--backup-if-mismatch|--no-backup-if-mismatch|--binary|--follow-symlinks|--read-only=|--reject-format=", {
    "--input": "reads-file", "--output": "writes-file", "--reject-file": "writes-file", "--directory": "sets-cwd", "--ed": "runs-command"
  }, {
    operands: "inert",
    // patch writes the files its diff names (unknown to the engine) unless --dry-run;
    // `-g`/git-style diffs can run the version control tool, ed-style diffs run ed.
    refine: (p) => {
      if (p.found.some((f) => f.name === "-e" || f.name === "--ed")) return "patch -e feeds the diff to ed, which can run commands"
      const dry = p.found.some((f) => f.name === "--dry-run")
      const out: Array<Effect> = []
      const [file, patchfile] = p.operands
      if (patchfile !== undefined) out.push(effect("reads-file", patchfile.at, patchfile.value, "patch reads its patch"))
      // GNU patch refuses absolute and `..` names in a diff ("Ignoring potentially
      // dangerous file name") and does not follow symlinks: the files its diff
      // names are below the directory it runs in (-d moves it).
      if (!dry) out.push(file === undefined ? effect("writes-file", -1, ".", "patch writes the files its diff names, below its directory", { recursive: true }) : effect("writes-file", file.at, file.value, "patch writes its file"))
      return out
    }
  }),
  program("tsc", "-h --help|-v --version|--init|-p --project=|-b --build|-w --watch|--all|--listFiles|--listFilesOnly|--showConfig|--noEmit|--pretty|--strict|--target=|-t=|--module=|-m=|--lib=|--outDir=|--outFile=|--rootDir=|--declaration -d|--declarationDir=|--sourceMap|--incremental|--skipLibCheck|--noEmitOnError|--allowJs|--checkJs|--jsx=|--esModuleInterop|--moduleResolution=|--resolveJsonModule|--isolatedModules|--composite|--types=|--baseUrl=|--noUnusedLocals|--noUnusedParameters|--extendedDiagnostics|--diagnostics|--generateTrace=|--verbose|--clean|--force|--dry|--erasableSyntaxOnly|--noCheck|--tsBuildInfoFile=|--traceResolution|--locale=|--emitDeclarationOnly|--removeComments|--preserveWatchOutput", {
    "--outDir": "writes-file", "--outFile": "writes-file", "--declarationDir": "writes-file", "--generateTrace": "writes-file", "--tsBuildInfoFile": "writes-file", "--project": "reads-file"
  }, {
    operands: "reads-file",
    // tsc emits next to its inputs or where tsconfig says, inside the project unless told otherwise.
    // A project elsewhere (`-p DIR`, `--build DIR`) or a file elsewhere emits there.
    refine: (p) => {
      if (p.found.some((f) => f.name === "--noEmit" || f.name === "--showConfig" || f.name === "--listFilesOnly" || f.name === "-v" || f.name === "--version")) return []
      const dir = (w: string | undefined) => w === undefined ? undefined : /\.json$/i.test(w) || /\.[cm]?[jt]sx?$/i.test(w) ? (w.includes("/") ? w.slice(0, w.lastIndexOf("/")) || "/" : ".") : w
      const project = p.found.filter((f) => f.name === "-p" || f.name === "--project")
      const out = [effect("writes-file", -1, ".", "tsc emits output into the project", { recursive: true })]
      for (const f of project) out.push(effect("writes-file", f.at, dir(f.value), "tsc emits into its project's directory", { recursive: true }))
      for (const o of p.operands) out.push(effect("writes-file", o.at, dir(o.value), "tsc emits beside its input or into the project it builds", { recursive: true }))
      return out
    }
  }),
  program("vitest jest", "-c --config=|-r --root=|--dir=|-w --watch|-u --update|-t --testNamePattern=|--reporter=|--coverage|--coverage.enabled|--ui|--silent|--bail=|--passWithNoTests|--no-watch|--project=|--environment=|--pool=|--maxWorkers=|--minWorkers=|--typecheck|--changed[=|--related|--run|--shard=|--sequence.shuffle|--retry=|--testTimeout=|--hookTimeout=|--no-color|--allowOnly|--logHeapUsage|--clearCache|--outputFile=|--json|--ci|--runInBand -i|--verbose|--watchAll|--onlyChanged -o|--detectOpenHandles|--forceExit|--listTests|--noStackTrace|--expand -e|--testPathPattern=|--selectProjects=|--setupFiles=|--globals|--exclude=|-h --help|-v --version|--standalone|--inspect|--inspect-brk|--no-file-parallelism|--isolate|--no-isolate|--mode=|--browser[=", {
    "--config": "runs-code", "--root": "runs-code", "--dir": "runs-code", "--outputFile": "writes-file", "--setupFiles": "runs-code", "--environment": "runs-code", "--pool": "runs-code", "--project": "runs-code"
  }, {
    operands: "inert",
    // a test runner runs the project's tests: code carried by the program's own name.
    refine: (p) => [
      effect("runs-code", 0, p.argv[0], `${p.argv[0]} runs the project's tests`),
      // a reporter named by a path is a module it loads
      ...p.found.filter((f) => f.name === "--reporter" && (f.value === undefined || /[/.]/.test(f.value))).map((f) => effect("runs-code", f.at, f.value, `${p.argv[0]} --reporter loads a module`))
    ]
  }),
  program("eslint prettier biome", "--fix|--fix-dry-run|--cache|--cache-location=|-c --config=|--no-eslintrc|--ext=|--ignore-path=|--ignore-pattern=|--max-warnings=|-f --format=|-o --output-file=|--quiet|--color|--no-color|--debug|--print-config=|--report-unused-disable-directives|--no-error-on-unmatched-pattern|--no-ignore|--write -w|--check|--list-different -l|--log-level=|--ignore-unknown -u|--no-config|--plugin=|--rulesdir=|--resolve-plugins-relative-to=|--stdin|--stdin-filename=|--parser=|--single-quote|--no-semi|--tab-width=|--print-width=|--trailing-comma=|--end-of-line=|-h --help|-v --version|--env=|--global=|--parser-options=|--rule=|--flag=|--concurrency=|--stats|--pass-on-no-patterns|--inspect-config", {
    "--config": "runs-code", "--plugin": "runs-code", "--rulesdir": "runs-code", "--resolve-plugins-relative-to": "runs-code", "--output-file": "writes-file", "--format": "runs-code", "--cache-location": "writes-file", "--ignore-path": "reads-file"
  }, {
    operands: "reads-file",
    // linters and formatters load the project's config and plugins (code named by the program word);
    // --fix / --write rewrite the files they are given.
    refine: (p) => {
      const writes = p.found.some((f) => ["--fix", "--write", "-w"].includes(f.name))
      // `--parser ./p.js` (eslintrc mode, prettier 2) loads the module a path names; a bare name is a built-in parser or a dependency's
      const parsers = p.found.filter((f) => f.name === "--parser" && (f.value === undefined || /[/\\]|^\./.test(f.value)))
      return [
        effect("runs-code", 0, p.argv[0], `${p.argv[0]} loads the project's config and plugins`),
        ...parsers.map((f) => effect("runs-code", f.at, f.value, `${p.argv[0]} --parser loads the module a path names`, { local: true })),
        ...(writes ? p.operands.map((o) => effect("writes-file", o.at, o.value, `${p.argv[0]} rewrites its operand`, { recursive: true })) : [])
      ]
    }
  })
]
