import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as NodeOs from "node:os"
import * as BuiltinTools from "../../src/node/BuiltinTools.ts"
import * as Seccomp from "../../src/node/internal/seccomp.ts"

// The program's shape for both architectures (the x86_64 one also runs for
// real in SandboxEscape.test.ts).
describe("the seccomp program", () => {
  for (const arch of ["x64", "arm64"] as const) {
    it(`${arch}: checks the architecture first, ends in allow, every jump lands inside the program`, () => {
      const program = Seccomp.program(arch, { allowUnixSockets: false })
      expect(program[0]).toEqual({ code: 0x20, jt: 0, jf: 0, k: 4 })
      expect(program[1]!.k).toBe(arch === "x64" ? 0xC000003E : 0xC00000B7)
      expect(program[2]).toEqual({ code: 0x06, jt: 0, jf: 0, k: 0x80000000 })
      expect(program.at(-1)).toEqual({ code: 0x06, jt: 0, jf: 0, k: 0x7FFF0000 })
      program.forEach((instruction, i) => {
        if ((instruction.code & 0x07) === 0x05) {
          expect(i + 1 + instruction.jt).toBeLessThan(program.length)
          expect(i + 1 + instruction.jf).toBeLessThan(program.length)
        }
      })
      expect(program.length).toBeLessThan(4096)
      expect(Seccomp.encode(program).length).toBe(program.length * 8)
    })
  }

  it("allowUnixSockets drops exactly the socket(AF_UNIX) check", () => {
    const closed = Seccomp.program("x64", { allowUnixSockets: false })
    const open = Seccomp.program("x64", { allowUnixSockets: true })
    expect(closed.length - open.length).toBe(5)
    expect(closed.some((i) => i.code === 0x15 && i.k === 41)).toBe(true)
    expect(open.some((i) => i.code === 0x15 && i.k === 41)).toBe(false)
  })
})

describe("sandbox limits", () => {
  it.live("a mistyped or non-positive limit fails the layer loudly instead of meaning no limit", () =>
    Effect.gen(function*() {
      for (const limits of [{ processes: 0 }, { memoryBytes: 1.5 }, { procs: 10 }, { openFiles: Number.NaN }]) {
        const error = yield* Layer.build(
          BuiltinTools.layer({ root: NodeOs.tmpdir(), bash: { limits: limits as never } })
        ).pipe(Effect.scoped, Effect.flip)
        expect(error).toMatchObject({ _tag: "SandboxUnavailable" })
        expect(error.message).toMatch(/bash\.limits\./)
      }
    }).pipe(Effect.provide(NodeServices.layer)))
})
