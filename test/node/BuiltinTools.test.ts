import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, FileSystem, Path } from "effect"
import * as NodeFs from "node:fs"
import { Concurrency, Executor, ToolClass } from "toolgate"
import { PolicySubject } from "toolgate/policy"
import * as BuiltinTools from "../../src/node/BuiltinTools.ts"
import { diesWithin5s, sandboxAvailable, sleepPids, uniqueSleep } from "./processes.ts"

/** A fresh workspace (and a sibling directory outside it) in a temp dir removed after the test. */
const workspace = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const base = yield* fs.makeTempDirectoryScoped({ prefix: "toolgate-tools-" })
  const root = path.join(base, "root")
  const outside = path.join(base, "outside")
  yield* fs.makeDirectory(root)
  yield* fs.makeDirectory(outside)
  yield* fs.writeFileString(path.join(outside, "secret.txt"), "top secret\n")
  const write = (rel: string, content: string | Uint8Array) =>
    Effect.gen(function*() {
      yield* fs.makeDirectory(path.dirname(path.join(root, rel)), { recursive: true })
      yield* typeof content === "string"
        ? fs.writeFileString(path.join(root, rel), content)
        : fs.writeFile(path.join(root, rel), content)
    })
  const read = (rel: string) => fs.readFileString(path.join(root, rel))
  const exists = (abs: string) => fs.exists(abs)
  return { base, root, outside, write, read, exists, join: path.join }
})

type Options = Omit<BuiltinTools.Options, "root">

/**
 * Runs one call through the executor, as an agent would. Bash runs in the
 * sandbox where bubblewrap works, else with the explicit opt-out: these
 * tests are about the tool's behaviour, `Sandbox.test.ts` about confinement.
 */
const call = (root: string, name: string, params: unknown, options: Options = {}) =>
  Executor.executeBatch(BuiltinTools.toolkit, [{ id: "c1", name, params }]).pipe(
    Effect.map((results) => results[0]!),
    Effect.provide(BuiltinTools.layer({
      root,
      ...options,
      bash: { sandbox: sandboxAvailable ? "auto" : "none", ...options.bash }
    })),
    Effect.provide(Concurrency.layer())
  )

const failureTag = (result: { readonly result: unknown }) => (result.result as { readonly _tag?: string })._tag

describe("BuiltinTools", () => {
  describe("declarations", () => {
    it.effect("readers are ReadOnly, writers and Bash Mutating, each with the policy kind of its standard name", () =>
      Effect.sync(() => {
        const tools = BuiltinTools.toolkit.tools
        expect(Object.keys(tools)).toEqual(["Read", "Glob", "Grep", "Write", "Edit", "Bash"])
        for (const [name, tool] of Object.entries(tools)) {
          expect(ToolClass.of(tool)).toBe(PolicySubject.standardReadOnly.has(name) ? "ReadOnly" : "Mutating")
          expect(PolicySubject.of(tool)).toEqual(PolicySubject.standard[name])
        }
      }).pipe(Effect.provide(NodeServices.layer)))
  })

  describe("confinement", () => {
    it.effect("../ traversal and absolute paths outside the root are OutsideWorkspace failures, not crashes", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        for (const file_path of ["../outside/secret.txt", ws.join(ws.outside, "secret.txt"), "/etc/passwd", "a/../../outside/secret.txt"]) {
          const r = yield* call(ws.root, "Read", { file_path })
          expect(r.isFailure).toBe(true)
          expect(r.outcome._tag).toBe("Failed")
          expect(failureTag(r)).toBe("OutsideWorkspace")
          expect((r.result as { message: string }).message).toContain("outside the workspace")
        }
        const w = yield* call(ws.root, "Write", { file_path: "../outside/new.txt", content: "x" })
        expect(failureTag(w)).toBe("OutsideWorkspace")
        expect(yield* ws.exists(ws.join(ws.outside, "new.txt"))).toBe(false)
      }).pipe(Effect.provide(NodeServices.layer)))

    it.effect("a symbolic link leading out is refused, for existing files and for files not yet written", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        NodeFs.symlinkSync(ws.outside, ws.join(ws.root, "escape"))
        NodeFs.symlinkSync(ws.join(ws.outside, "secret.txt"), ws.join(ws.root, "secret-link.txt"))
        expect(failureTag(yield* call(ws.root, "Read", { file_path: "escape/secret.txt" }))).toBe("OutsideWorkspace")
        expect(failureTag(yield* call(ws.root, "Read", { file_path: "secret-link.txt" }))).toBe("OutsideWorkspace")
        const w = yield* call(ws.root, "Write", { file_path: "escape/deeper/new.txt", content: "x" })
        expect(failureTag(w)).toBe("OutsideWorkspace")
        expect(yield* ws.exists(ws.join(ws.outside, "deeper"))).toBe(false)
        const g = yield* call(ws.root, "Glob", { pattern: "*", path: "escape" })
        expect(failureTag(g)).toBe("OutsideWorkspace")
      }).pipe(Effect.provide(NodeServices.layer)))

    it.effect("a dangling link is refused: writing through it would create its target anywhere", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        NodeFs.symlinkSync(ws.join(ws.outside, "planted.txt"), ws.join(ws.root, "dangling.txt"))
        const w = yield* call(ws.root, "Write", { file_path: "dangling.txt", content: "x" })
        expect(w.isFailure).toBe(true)
        expect(yield* ws.exists(ws.join(ws.outside, "planted.txt"))).toBe(false)
      }).pipe(Effect.provide(NodeServices.layer)))

    it.effect("links that stay inside the root, and absolute paths inside it, work", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        yield* ws.write("real/a.txt", "hello\n")
        NodeFs.symlinkSync(ws.join(ws.root, "real"), ws.join(ws.root, "alias"))
        expect((yield* call(ws.root, "Read", { file_path: "alias/a.txt" })).result).toBe("     1\thello")
        expect((yield* call(ws.root, "Read", { file_path: ws.join(ws.root, "real/a.txt") })).result).toBe("     1\thello")
      }).pipe(Effect.provide(NodeServices.layer)))
  })

  describe("Read", () => {
    it.effect("returns numbered lines; offset and limit select a window and say how to read on", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        yield* ws.write("f.txt", "one\ntwo\nthree\nfour\n")
        const all = yield* call(ws.root, "Read", { file_path: "f.txt" })
        expect(all.outcome._tag).toBe("Succeeded")
        expect(all.result).toBe("     1\tone\n     2\ttwo\n     3\tthree\n     4\tfour")
        const window = yield* call(ws.root, "Read", { file_path: "f.txt", offset: 2, limit: 2 })
        expect(window.result).toBe("     2\ttwo\n     3\tthree\n[1 more lines; continue with offset 4]")
        expect((yield* call(ws.root, "Read", { file_path: "f.txt", offset: 9 })).result).toContain("past the end")
      }).pipe(Effect.provide(NodeServices.layer)))

    it.effect("missing files, directories and binary files are declared failures with a message", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        yield* ws.write("dir/x.txt", "x")
        yield* ws.write("bin.dat", new Uint8Array([1, 0, 2, 3]))
        const missing = yield* call(ws.root, "Read", { file_path: "nope.txt" })
        expect(missing.result).toEqual({ _tag: "FileNotFound", path: "nope.txt", message: "nope.txt does not exist" })
        expect(failureTag(yield* call(ws.root, "Read", { file_path: "dir" }))).toBe("NotReadable")
        expect(failureTag(yield* call(ws.root, "Read", { file_path: "bin.dat" }))).toBe("NotReadable")
        const bad = yield* call(ws.root, "Read", { file_path: "f", offset: 0 })
        expect(bad.outcome._tag).toBe("InvalidParams")
      }).pipe(Effect.provide(NodeServices.layer)))
  })

  describe("Write and Edit", () => {
    it.effect("Write creates parent directories and says whether the file is new", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        const first = yield* call(ws.root, "Write", { file_path: "a/b/c.txt", content: "héllo" })
        expect(first.result).toEqual({ path: "a/b/c.txt", bytes: 6, created: true })
        const second = yield* call(ws.root, "Write", { file_path: "a/b/c.txt", content: "bye" })
        expect(second.result).toEqual({ path: "a/b/c.txt", bytes: 3, created: false })
        expect(yield* ws.read("a/b/c.txt")).toBe("bye")
      }).pipe(Effect.provide(NodeServices.layer)))

    it.effect("Edit replaces a unique string; missing and ambiguous strings fail and leave the file alone", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        yield* ws.write("e.ts", "let a = 1\nlet b = 1\nlet c = 2\n")
        const ok = yield* call(ws.root, "Edit", { file_path: "e.ts", old_string: "let c", new_string: "const c" })
        expect(ok.result).toEqual({ path: "e.ts", replacements: 1 })
        const ambiguous = yield* call(ws.root, "Edit", { file_path: "e.ts", old_string: "= 1", new_string: "= 3" })
        expect(ambiguous.result).toMatchObject({ _tag: "EditFailed", reason: "NotUnique", occurrences: 2 })
        const missing = yield* call(ws.root, "Edit", { file_path: "e.ts", old_string: "var", new_string: "let" })
        expect(missing.result).toMatchObject({ _tag: "EditFailed", reason: "NotFound", occurrences: 0 })
        const same = yield* call(ws.root, "Edit", { file_path: "e.ts", old_string: "let", new_string: "let" })
        expect(same.result).toMatchObject({ _tag: "EditFailed", reason: "NoChange" })
        expect(yield* ws.read("e.ts")).toBe("let a = 1\nlet b = 1\nconst c = 2\n")
        const empty = yield* call(ws.root, "Edit", { file_path: "e.ts", old_string: "", new_string: "x" })
        expect(empty.outcome._tag).toBe("InvalidParams")
        expect(failureTag(yield* call(ws.root, "Edit", { file_path: "no.ts", old_string: "a", new_string: "b" }))).toBe(
          "FileNotFound"
        )
      }).pipe(Effect.provide(NodeServices.layer)))

    it.effect("Edit with replace_all replaces every occurrence, and $-patterns in new_string stay literal", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        yield* ws.write("e.txt", "x x x")
        const all = yield* call(ws.root, "Edit", { file_path: "e.txt", old_string: "x", new_string: "$&y", replace_all: true })
        expect(all.result).toEqual({ path: "e.txt", replacements: 3 })
        expect(yield* ws.read("e.txt")).toBe("$&y $&y $&y")
      }).pipe(Effect.provide(NodeServices.layer)))
  })

  describe("Glob and Grep", () => {
    it.effect("Glob lists matching files (not directories, not dot files) in name order, workspace-relative", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        for (const f of ["src/b.ts", "src/a.ts", "src/sub/c.ts", "src/d.md", ".hidden/e.ts"]) yield* ws.write(f, "")
        const all = yield* call(ws.root, "Glob", { pattern: "**/*.ts" })
        expect(all.result).toEqual({ files: ["src/a.ts", "src/b.ts", "src/sub/c.ts"], truncated: false })
        const scoped = yield* call(ws.root, "Glob", { pattern: "*.{ts,md}", path: "src" })
        expect(scoped.result).toEqual({ files: ["src/a.ts", "src/b.ts", "src/d.md"], truncated: false })
        expect(failureTag(yield* call(ws.root, "Glob", { pattern: "../**" }))).toBe("InvalidPattern")
        expect(failureTag(yield* call(ws.root, "Glob", { pattern: "/etc/*" }))).toBe("InvalidPattern")
        expect(failureTag(yield* call(ws.root, "Glob", { pattern: "*", path: "missing" }))).toBe("FileNotFound")
      }).pipe(Effect.provide(NodeServices.layer)))

    it.effect("Glob and Grep never list or read through a link leading out of the root", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        yield* ws.write("in.txt", "top secret? no\n")
        NodeFs.symlinkSync(ws.outside, ws.join(ws.root, "escape"))
        NodeFs.symlinkSync(ws.join(ws.outside, "secret.txt"), ws.join(ws.root, "link.txt"))
        expect((yield* call(ws.root, "Glob", { pattern: "**/*.txt" })).result).toEqual({ files: ["in.txt"], truncated: false })
        expect((yield* call(ws.root, "Glob", { pattern: "escape/*.txt" })).result).toEqual({ files: [], truncated: false })
        const grep = yield* call(ws.root, "Grep", { pattern: "secret" })
        expect(grep.result).toEqual({ matches: [{ file: "in.txt", line: 1, text: "top secret? no" }], truncated: false })
      }).pipe(Effect.provide(NodeServices.layer)))

    it.effect("Grep finds matching lines by regex, filtered by glob at any depth, skipping binary files", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        yield* ws.write("a.ts", "const x = 1\n// TODO: y\n")
        yield* ws.write("deep/b.ts", "nothing\nFIXME later\n")
        yield* ws.write("c.md", "TODO in markdown\n")
        yield* ws.write("bin.dat", new Uint8Array([84, 79, 68, 79, 0]))
        const ts = yield* call(ws.root, "Grep", { pattern: "TODO|FIXME", glob: "*.ts" })
        expect(ts.result).toEqual({
          matches: [{ file: "a.ts", line: 2, text: "// TODO: y" }, { file: "deep/b.ts", line: 2, text: "FIXME later" }],
          truncated: false
        })
        const all = yield* call(ws.root, "Grep", { pattern: "^TODO" })
        expect(all.result).toEqual({ matches: [{ file: "c.md", line: 1, text: "TODO in markdown" }], truncated: false })
        const oneFile = yield* call(ws.root, "Grep", { pattern: "x", path: "a.ts" })
        expect(oneFile.result).toEqual({ matches: [{ file: "a.ts", line: 1, text: "const x = 1" }], truncated: false })
        expect(failureTag(yield* call(ws.root, "Grep", { pattern: "(" }))).toBe("InvalidPattern")
      }).pipe(Effect.provide(NodeServices.layer)))
  })

  describe("Bash", () => {
    it.live("runs in the root; a non-zero exit is a success carrying exit code, stdout and stderr", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        const ok = yield* call(ws.root, "Bash", { command: "pwd; echo oops >&2; exit 3" })
        expect(ok.outcome._tag).toBe("Succeeded")
        expect(ok.isFailure).toBe(false)
        expect(ok.result).toEqual({ exitCode: 3, stdout: `${NodeFs.realpathSync(ws.root)}\n`, stderr: "oops\n" })
      }).pipe(Effect.provide(NodeServices.layer)))

    it.live("a command running past its timeout is killed and is a CommandTimedOut failure with its output so far", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        // 300 ms asked; clamped to the 1 s minimum (a tiny timeout would only race the sandbox's set-up).
        // No wall-clock bound: CommandTimedOut at 1000 ms is the kill, not the end of `sleep 20`.
        const r = yield* call(ws.root, "Bash", { command: "echo started; sleep 20", timeout: 300 })
        expect(r.outcome._tag).toBe("Failed")
        expect(r.result).toMatchObject({ _tag: "CommandTimedOut", timeoutMs: 1000, stdout: "started\n" })
      }).pipe(Effect.provide(NodeServices.layer)))

    it.live("the layer's timeout caps the call's", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        const r = yield* call(ws.root, "Bash", { command: "sleep 20", timeout: 60_000 }, { bash: { timeout: "200 millis" } })
        expect(r.result).toMatchObject({ _tag: "CommandTimedOut", timeoutMs: 200 })
      }).pipe(Effect.provide(NodeServices.layer)))

    it.live("output beyond the byte limit is cut with a marker", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        const r = yield* call(ws.root, "Bash", { command: "head -c 5000 /dev/zero | tr '\\0' a" }, {
          bash: { maxOutputBytes: 100 }
        })
        const { stdout } = r.result as { stdout: string }
        expect(stdout.startsWith("a".repeat(100) + "\n[output truncated: 4900 more bytes]")).toBe(true)
      }).pipe(Effect.provide(NodeServices.layer)))

    it.live("a command that leaves a background child returns when the shell exits, and the child dies with it", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        const marker = uniqueSleep()
        // an exit status rather than CommandTimedOut: the call returned when the shell exited, not at its timeout
        const r = yield* call(ws.root, "Bash", { command: `sleep ${marker} & echo back` })
        expect(r.result).toMatchObject({ exitCode: 0, stdout: "back\n" })
        expect(yield* diesWithin5s(marker)).toBe(true)
      }).pipe(Effect.provide(NodeServices.layer)))

    it.live("interrupting a running command kills its whole process tree", () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        const marker = uniqueSleep()
        const fiber = yield* call(ws.root, "Bash", { command: `sleep ${marker} & wait` }).pipe(Effect.forkChild)
        // wait for the command itself, not only the sandbox starting around it
        for (let i = 0; i < 200 && sleepPids(marker).length === 0; i++) yield* Effect.sleep("20 millis")
        expect(sleepPids(marker).length).toBeGreaterThan(0)
        yield* Fiber.interrupt(fiber)
        expect(yield* diesWithin5s(marker)).toBe(true)
      }).pipe(Effect.provide(NodeServices.layer)))
  })
})
