import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { run, tag, tools, workspace } from "./fixtures.ts"

describe("Read", () => {
  it.live("the whole answer is bounded, not only each line, and says where to continue", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const line = "x".repeat(199)
      ws.write("wide.txt", Array.from({ length: 1500 }, () => line).join("\n") + "\n")
      const [first] = yield* run([{ name: "Read", params: { file_path: "wide.txt" } }]).pipe(Effect.provide(tools(ws.root)))
      const text = first!.result as string
      expect(text.length).toBeLessThanOrEqual(100_200)
      const cut = /\[output cut at 100000 characters after line (\d+); continue with offset (\d+)\]$/.exec(text)
      expect(cut).not.toBeNull()
      const next = Number(cut![2])
      expect(next).toBe(Number(cut![1]) + 1)
      const [rest] = yield* run([{ name: "Read", params: { file_path: "wide.txt", offset: next } }]).pipe(
        Effect.provide(tools(ws.root))
      )
      expect((rest!.result as string).startsWith(`${String(next).padStart(6)}\t${line}`)).toBe(true)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("a NUL byte past the first 8 KB still makes the file binary", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      ws.write("late.bin", Buffer.concat([Buffer.from("text\n".repeat(4000)), Buffer.from([0, 1, 2])]))
      const [r] = yield* run([{ name: "Read", params: { file_path: "late.bin" } }]).pipe(Effect.provide(tools(ws.root)))
      expect(tag(r!)).toBe("NotReadable")
      expect((r!.result as { message: string }).message).toMatch(/binary/)
    }).pipe(Effect.provide(NodeServices.layer)))
})
