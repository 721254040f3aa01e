import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { run, tag, tools, workspace } from "./fixtures.ts"

describe("Grep", () => {
  it.live("a catastrophic pattern ends at the deadline, and the event loop keeps running meanwhile", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      ws.write("evil.txt", `${"a".repeat(30)}!\n`)
      let ticks = 0
      const timer = setInterval(() => ticks++, 10)
      const [r] = yield* run([{ name: "Grep", params: { pattern: "(a+)+$" } }]).pipe(
        Effect.provide(tools(ws.root, { grep: { timeout: "1 second" } })),
        Effect.ensuring(Effect.sync(() => clearInterval(timer)))
      )
      // (no wall-clock bound: SearchTimedOut is the deadline ending it; unbounded, this pattern runs for minutes)
      expect(tag(r!)).toBe("SearchTimedOut")
      expect(r!.result).toMatchObject({ pattern: "(a+)+$", timeoutMs: 1000 })
      // A blocked loop would have ticked once or not at all in that second.
      expect(ticks).toBeGreaterThan(20)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("an ordinary search in the same layer still answers: the deadline is per call", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      ws.write("a.txt", "alpha\nbeta\n")
      const [r] = yield* run([{ name: "Grep", params: { pattern: "^b" } }]).pipe(
        Effect.provide(tools(ws.root, { grep: { timeout: "5 seconds" } }))
      )
      expect(r!.result).toEqual({ matches: [{ file: "a.txt", line: 2, text: "beta" }], truncated: false })
    }).pipe(Effect.provide(NodeServices.layer)))
})

describe("Glob and Grep skip node_modules, .git and git-ignored files", () => {
  const tree = (write: (rel: string, content: string) => void) => {
    write(".gitignore", "build/\n*.log\n!keep.log\n")
    write("src/a.ts", "needle\n")
    write("src/.gitignore", "generated.ts\n")
    write("src/generated.ts", "needle\n")
    write("build/out.ts", "needle\n")
    write("debug.log", "needle\n")
    write("keep.log", "needle\n")
    write("node_modules/pkg/index.ts", "needle\n")
    write(".git/config", "needle\n")
  }

  it.live("Glob lists only what git would track", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      tree(ws.write)
      const [all, sub] = yield* run([
        { name: "Glob", params: { pattern: "**/*" } },
        { name: "Glob", params: { pattern: "*", path: "src" } }
      ]).pipe(Effect.provide(tools(ws.root)))
      expect(all!.result).toEqual({ files: ["keep.log", "src/a.ts"], truncated: false })
      expect(sub!.result).toEqual({ files: ["src/a.ts"], truncated: false })
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("Grep searches only what git would track", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      tree(ws.write)
      const [r] = yield* run([{ name: "Grep", params: { pattern: "needle" } }]).pipe(Effect.provide(tools(ws.root)))
      const files = (r!.result as { matches: ReadonlyArray<{ file: string }> }).matches.map((m) => m.file)
      expect(files).toEqual(["keep.log", "src/a.ts"])
    }).pipe(Effect.provide(NodeServices.layer)))
})
