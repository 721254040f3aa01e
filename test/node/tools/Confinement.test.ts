import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { run, tag, tools, workspace } from "./fixtures.ts"

/**
 * Swaps `dir` between the real directory and a link to `target` in a tight
 * loop (four renames a cycle, each state held about half the time), in a
 * child process so the swaps really interleave with the tools' system calls.
 */
const swapper = (dir: string, target: string) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      NodeChild.spawn(process.execPath, [
        "-e",
        `const fs = require("fs")
         const [dir, target] = process.argv.slice(1)
         const stash = dir + ".real", link = dir + ".link"
         fs.symlinkSync(target, link)
         let cycles = 0
         process.on("SIGTERM", () => { console.log(cycles); process.exit(0) })
         setInterval(() => {}, 1000)
         const spin = () => {
           for (let i = 0; i < 200; i++) {
             try {
               fs.renameSync(dir, stash); fs.renameSync(link, dir)
               fs.renameSync(dir, link); fs.renameSync(stash, dir)
               if (cycles++ === 0) console.log("swapping")
             } catch {}
           }
           setImmediate(spin)
         }
         spin()`,
        dir,
        target
      ], { stdio: ["ignore", "pipe", "inherit"] })
    ),
    (child) =>
      Effect.promise(() =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done()
          child.once("exit", () => done())
          child.kill("SIGTERM")
        })
      )
  )

describe("file tools under a directory ↔ symlink swap race", () => {
  it.live("thousands of Reads, Writes and Edits racing the swap: 0 escapes", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const dir = NodePath.join(ws.root, "dir")
      NodeFs.mkdirSync(dir)
      NodeFs.writeFileSync(NodePath.join(dir, "file.txt"), "inside\n")
      NodeFs.writeFileSync(NodePath.join(dir, "edit.txt"), "ping\n")
      NodeFs.writeFileSync(NodePath.join(ws.outside, "file.txt"), "OUTSIDE\n")
      NodeFs.writeFileSync(NodePath.join(ws.outside, "edit.txt"), "ping\n")

      const child = yield* swapper(dir, ws.outside)
      let printed = ""
      child.stdout!.on("data", (chunk) => (printed += chunk))
      // the race starts once the swapper has swapped: on a loaded machine it may start late
      yield* Effect.promise(() =>
        new Promise<void>((ready) => {
          const look = () => printed.includes("swapping") ? ready() : setTimeout(look, 5)
          look()
        })
      )
      let readsInside = 0
      let escapes = 0
      let refused = 0
      // At least 20 rounds, and on until both outcomes were seen (a starved
      // swapper only makes it take more rounds): the race must be real.
      yield* Effect.gen(function*() {
      for (let round = 0; round < 20 || ((readsInside === 0 || refused === 0) && round < 400); round++) {
        const calls = [
          ...Array.from({ length: 100 }, () => ({ name: "Read", params: { file_path: "dir/file.txt" } })),
          ...Array.from({ length: 35 }, (_, i) => ({
            name: "Write",
            params: { file_path: `dir/new-${round}-${i}.txt`, content: "written\n" }
          })),
          ...Array.from({ length: 15 }, (_, i) => ({
            name: "Edit",
            params: { file_path: "dir/edit.txt", old_string: i % 2 === 0 ? "ping" : "pong", new_string: i % 2 === 0 ? "pong" : "ping" }
          }))
        ]
        const results = yield* run(calls)
        for (const r of results) {
          if (r.name !== "Read") continue
          if (typeof r.result === "string" && r.result.includes("OUTSIDE")) escapes++
          else if (typeof r.result === "string" && r.result.includes("inside")) readsInside++
          else refused++
        }
      }
      }).pipe(Effect.provide(tools(ws.root)))
      const cycles = yield* Effect.promise(() =>
        new Promise<number>((done) => {
          child.once("close", () => done(Number.parseInt(printed.trim().split("\n").at(-1)!, 10)))
          child.kill("SIGTERM")
        })
      )
      // Reads that escaped, and files written or changed beside the workspace.
      expect(escapes).toBe(0)
      expect(NodeFs.readdirSync(ws.outside).sort()).toEqual(["edit.txt", "file.txt"])
      expect(NodeFs.readFileSync(NodePath.join(ws.outside, "edit.txt"), "utf8")).toBe("ping\n")
      expect(NodeFs.readFileSync(NodePath.join(ws.outside, "file.txt"), "utf8")).toBe("OUTSIDE\n")
      // The race was real: the swap ran and both outcomes happened.
      expect(cycles).toBeGreaterThan(0)
      expect(readsInside).toBeGreaterThan(0)
      expect(refused).toBeGreaterThan(0)
    }).pipe(Effect.provide(NodeServices.layer)), 240_000)
})

describe("hard links", () => {
  it.live("Write and Edit refuse a file with a second hard link outside; the outside file is unchanged", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const target = NodePath.join(ws.outside, "target.txt")
      NodeFs.writeFileSync(target, "original\n")
      NodeFs.linkSync(target, NodePath.join(ws.root, "linked.txt"))
      const [write, edit] = yield* run([
        { name: "Write", params: { file_path: "linked.txt", content: "overwritten\n" } },
        { name: "Edit", params: { file_path: "linked.txt", old_string: "original", new_string: "edited" } }
      ]).pipe(Effect.provide(tools(ws.root)))
      expect(tag(write!)).toBe("NotWritable")
      expect(tag(edit!)).toBe("NotWritable")
      expect((write!.result as { message: string }).message).toMatch(/2 hard links/)
      expect(NodeFs.readFileSync(target, "utf8")).toBe("original\n")
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("a FIFO is neither read nor written, and opening it does not block", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      NodeChild.execFileSync("mkfifo", [NodePath.join(ws.root, "pipe")])
      const [read, write] = yield* run([
        { name: "Read", params: { file_path: "pipe" } },
        { name: "Write", params: { file_path: "pipe", content: "x" } }
      ]).pipe(Effect.provide(tools(ws.root)))
      expect(tag(read!)).toBe("NotReadable")
      expect(["NotWritable", "NotReadable"]).toContain(tag(write!))
    }).pipe(Effect.provide(NodeServices.layer)))
})
