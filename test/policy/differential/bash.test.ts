/**
 * The judge is bash itself: every line is run by real `bash -c` in a scratch
 * directory where every program is a marker that records its argv (builtins
 * such as echo and printf are disabled so they run the marker too, and
 * unknown names are caught by `command_not_found_handle`). Every program bash
 * started must be one the engine listed — a view of a command segment with
 * the same name and arguments — unless the engine found the line opaque or
 * unreadable, which it asks and never allows.
 *
 * Lines come from a grammar-based generator (TOOLGATE_DIFF_LINES lines,
 * 400 by default, seed TOOLGATE_DIFF_SEED) plus hand-written cases. Real
 * wrappers (timeout, nice, nohup, xargs, find, setsid, stdbuf, bash) log
 * themselves and then run for real, so their option parsing is checked too.
 * The runs happen inside bubblewrap (read-only root, no network) when it is
 * installed, and are harmless by construction otherwise.
 */
import { describe, expect, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import * as Shell from "../../../src/policy/internal/shell.ts"
import { lines as generated, markerNames } from "./generate.ts"
import { required } from "../../systemPackage.ts"

const which = (name: string) => ["/usr/bin", "/bin"].map((d) => `${d}/${name}`).find((p) => Fs.existsSync(p))
const bash = which("bash")
const bwrap = which("bwrap")
const realWrappers = ["timeout", "nice", "nohup", "xargs", "find", "setsid", "stdbuf", "env"]

/** Hand-written lines: the divergences seen in other readers, and the classes of issue 13. */
export const handWritten: ReadonlyArray<string> = [
  "echo 'a'#b; rm x",
  "echo \"a\"#b; rm x",
  "echo $HOME#b; rm x",
  "echo ${HOME}# rm x",
  "echo a #b\\\nrm x",
  "echo a # comment \\\nrm x",
  "echo x\r\nrm x",
  "echo x\rrm x",
  "cat <<EOF\nbody\nEOF\nrm x",
  "cat <<EOF\nEOF\r\nrm x\nEOF",
  "cat <<EOF\nbody\\\nEOF\nrm x\nEOF",
  "echo \"$(cat <<EOF\nx\nEOF)\"; rm x",
  "echo $(cat <<EOF\nx\nEOF\n); rm y",
  "cat <<-EOF\n\tbody\n\tEOF\nrm x",
  "cat <<'EOF'\n$(rm no)\nEOF\nls",
  "cat <<EOF\n$(rm yes)\nEOF",
  "cat <<A <<B\na\nA\n$(rm b)\nB",
  "echo a\\\n;rm x",
  "ec\\\nho a; r\\\nm x",
  "echo `echo \\`rm x\\``",
  "echo \"`rm x`\"",
  "(echo a)#b\nrm x",
  "{ echo a; }#x; rm y",
  "echo a;#b\nrm x",
  "echo a&&#b\nrm x",
  "echo a|#b\nrm x",
  "echo a#b|rm x",
  "$'\\x72m' x",
  "$'\\162m' x",
  "r''m x; \"r\"m y; \\rm z",
  "./b/rm x; b/../b/rm y",
  "{rm,x}",
  "IFS=,; x=rm,y; $x",
  "time -p rm x",
  "echo | time rm x",
  "\\time rm x",
  "timeout -k 1 -s KILL 5 rm x",
  "nice -n 3 rm x; nice -7 shred y",
  "xargs -I{} rm {} x",
  "xargs -0rn1 rm",
  "find . -maxdepth 0 -exec rm {} \\; -exec shred {} +",
  "env -- rm x; env A=1 B=2 shred y",
  "stdbuf -oL -e0 rm x",
  "setsid -w rm x",
  "nohup rm x",
  "bash -c 'rm x; echo $(shred y)'",
  "sh -c \"rm x\" arg0",
  "eval 'rm x;' \"shred y\"",
  "command -p rm x; builtin echo y",
  "exec rm x",
  "if rm x; then shred y; elif ls; then cat; else echo; fi",
  "for i in $(rm x); do echo $i; done",
  "! rm x | shred y |& cat",
  "f() { rm x; }; f",
  "function g { rm x; }; g",
  "cat <(rm x) >(shred y)",
  "echo a<(rm x)",
  "echo ${HOME:-$(rm x)}",
  "x=$(rm x) echo y",
  "echo \"${HOME}\"'#'$'\\''\"$(rm x)\"",
  "echo $'a\\'b'; rm x",
  "echo \"a\\\"b\"; rm x",
  "echo 'a\\'; rm x",
  "cd sub && rm x; cd .. && shred y",
  "echo a >f; rm x <f 2>&1 >&2",
  "echo a 2>&1 1>&- >|k; rm x",
  "echo x &> i & rm y",
  "rm x &\nshred y",
  "echo a;; rm x",
  "echo a; } rm x",
  "case x in x) rm x;; esac",
  "[[ -f x ]] && rm x",
  "(( 1 )) && rm x",
  "echo $((1+2)); rm x",
  "echo $[1+2]; rm x",
  "a=(1 2); rm x",
  "printf -v PATH x; rm y",
  "echo \\\n#c\nrm x",
  "echo a \\#b; rm x",
  "echo a\\ #b; rm x",
  "echo 'a\nb' #c\nrm x",
  "doas\\\nA=1 rm x",
  "i\\\nf rm x; then shred y; fi",
  "echo \"$\\\n(rm x)\"",
  "echo $\\\nHOME; rm x",
  "echo 2\\\n>f; rm x",
  "echo a |\\\n| rm x",
  "echo a &\\\n& rm x",
  "A\\\n=1 rm x",
  "echo a |\n time -p rm x",
  "echo a |\n\n time rm x"
]

interface Scratch {
  readonly root: string
  readonly work: string
}

const setup = (): Scratch => {
  const root = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-diff-"))
  const work = NodePath.join(root, "work")
  for (const d of ["bin", "work", "work/b", "work/sub", "home", "logs"]) Fs.mkdirSync(NodePath.join(root, d), { recursive: true })
  // Records its argv: name, then each argument, separated by US, ended by RS.
  // One write per record (O_APPEND), so the programs of a pipeline do not interleave.
  const record = `r="\${0##*/}"; for a in "$@"; do r="$r\u001f$a"; done; printf '%s\\036' "$r" >> "$MARKER_LOG"`
  const marker = NodePath.join(root, "marker")
  Fs.writeFileSync(marker, `#!/bin/sh\n${record}\nexit 0\n`, { mode: 0o755 })
  for (const name of markerNames) {
    Fs.symlinkSync(marker, NodePath.join(root, "bin", name))
    Fs.symlinkSync(marker, NodePath.join(work, "b", name))
  }
  for (const name of [...realWrappers, "bash", "sh"]) {
    const real = name === "sh" ? bash! : which(name)
    if (real === undefined) continue
    Fs.writeFileSync(NodePath.join(root, "bin", name), `#!/bin/sh\n${record}\nexec ${real} "$@"\n`, { mode: 0o755 })
  }
  const disabled = ["echo", "printf", "test", "[", "true", "false", "pwd", "kill", "type"]
  Fs.writeFileSync(
    NodePath.join(root, "env.sh"),
    `enable -n ${disabled.map((d) => `'${d}'`).join(" ")}\n` +
      // the handler runs in a child of bash: enabling printf there changes nothing for the line
      `command_not_found_handle() { enable printf; local r="$1"; shift; for a in "$@"; do r="$r\u001f$a"; done; printf '%s\\036' "$r" >> "$MARKER_LOG"; return 127; }\n`
  )
  // One driver per worker runs its lines one after another.
  Fs.writeFileSync(
    NodePath.join(root, "driver.sh"),
    `#!${bash}\n` +
      `n=$2\n` +
      `while IFS= read -r -d '' line; do\n` +
      `  cd "${work}" || exit 1\n` +
      `  MARKER_LOG="${root}/logs/$n" PATH="${root}/bin" BASH_ENV="${root}/env.sh" HOME="${root}/home" ${which("timeout")} -s KILL 3 ${bash} -c "$line" </dev/null >/dev/null 2>&1\n` +
      `  n=$((n+1))\n` +
      `done < "$1"\n`,
    { mode: 0o755 }
  )
  return { root, work }
}

const runAll = async (scratch: Scratch, all: ReadonlyArray<string>, workers: number): Promise<Array<ReadonlyArray<ReadonlyArray<string>>>> => {
  const per = Math.ceil(all.length / workers)
  await Promise.all(Array.from({ length: workers }, (_, w) => {
    const chunk = all.slice(w * per, (w + 1) * per)
    const file = NodePath.join(scratch.root, `lines.${w}`)
    Fs.writeFileSync(file, chunk.map((l) => `${l}\u0000`).join(""))
    const driver = [NodePath.join(scratch.root, "driver.sh"), file, String(w * per)]
    const argv = bwrap === undefined
      ? driver
      : [bwrap, "--ro-bind", "/", "/", "--bind", scratch.root, scratch.root, "--dev", "/dev", "--proc", "/proc", "--unshare-net", "--unshare-pid", "--die-with-parent", ...driver]
    return new Promise<void>((resolve, reject) => {
      const child = ChildProcess.spawn(argv[0]!, argv.slice(1), { stdio: "ignore" })
      child.on("error", reject)
      child.on("exit", () => resolve())
    })
  }))
  return all.map((_, i) => {
    const log = NodePath.join(scratch.root, "logs", String(i))
    if (!Fs.existsSync(log)) return []
    return Fs.readFileSync(log, "utf8").split("\u001e").filter((r) => r.length > 0).map((r) => r.split("\u001f"))
  })
}

const base = (name: string) => name.slice(name.lastIndexOf("/") + 1)

// A view accounts for a run when the names agree and the arguments line up:
// a literal word is that argument, a computed one any number of them (an
// unquoted expansion may vanish or split), a `~` word the engine expands.
const accounts = (view: Shell.View, run: ReadonlyArray<string>): boolean => {
  const argv = view.argv
  if (argv[0] === undefined || base(argv[0]) !== run[0]) return false
  const go = (v: number, r: number): boolean => {
    if (v === argv.length) return r === run.length
    const w = argv[v]
    if (w === undefined) {
      for (let k = r; k <= run.length; k++) if (go(v + 1, k)) return true
      return false
    }
    if (r === run.length) return false
    if (w.startsWith("~") || w.startsWith("./~") || w === run[r]) return go(v + 1, r + 1)
    return false
  }
  return go(1, 1)
}

/** Why the engine's reading of `line` misses a program bash ran, or undefined when it accounts for all. */
export const divergence = (line: string, runs: ReadonlyArray<ReadonlyArray<string>>): string | undefined => {
  const analysis = Shell.analyze(line)
  if (analysis._tag === "Unparseable") return undefined
  const commands = analysis.segments.filter((s): s is Shell.Command => s._tag === "Command")
  if (commands.some((c) => c.opaque !== undefined)) return undefined
  for (const run of runs) {
    if (!commands.some((c) => c.views.some((v) => accounts(v, run)))) {
      return `bash ran ${JSON.stringify(run)}; the engine saw ${JSON.stringify(commands.map((c) => c.views.map((v) => v.argv)))}`
    }
  }
  return undefined
}

const count = Number(process.env["TOOLGATE_DIFF_LINES"] ?? 400)
const seed = Number(process.env["TOOLGATE_DIFF_SEED"] ?? 13)

const present = required(bash !== undefined && which("timeout") !== undefined, "the bash differential test", "bash and coreutils (timeout)")
describe.skipIf(!present)("the engine reads lines as bash runs them", () => {
  it("accounts for every program bash starts, on hand-written and generated lines", async () => {
    const scratch = setup()
    try {
      const all = [...handWritten, ...generated(seed, count)]
      const runs = await runAll(scratch, all, 2)
      // the harness must observe something, or the test proves nothing
      expect(runs.filter((r) => r.length > 0).length).toBeGreaterThan(all.length / 3)
      const failures = all.flatMap((line, i) => {
        const why = divergence(line, runs[i]!)
        return why === undefined ? [] : [`${JSON.stringify(line)}: ${why}`]
      })
      expect(failures, `seed ${seed}`).toEqual([])
    } finally {
      Fs.rmSync(scratch.root, { recursive: true, force: true })
    }
  }, 600_000)
})
