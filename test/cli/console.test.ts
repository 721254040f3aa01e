import { NodeServices } from "@effect/platform-node"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import * as Net from "node:net"
import { startConsole } from "../../src/cli/console.ts"

// A long-lived gateway's console keeps its address across restarts when the
// user fixes the port and the token ($TOOLGATE_CONSOLE_TOKEN).

const freePort = Effect.promise(() =>
  new Promise<number>((resolve) => {
    const server = Net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as Net.AddressInfo
      server.close(() => resolve(port))
    })
  })
)

afterEach(() => {
  delete process.env["TOOLGATE_CONSOLE_TOKEN"]
})

describe("the console's address", () => {
  it.live("is the same across restarts with a fixed --port and $TOOLGATE_CONSOLE_TOKEN", () =>
    Effect.gen(function*() {
      process.env["TOOLGATE_CONSOLE_TOKEN"] = "a-stable-token-for-the-console"
      const port = yield* freePort
      const first = yield* Effect.scoped(Effect.map(startConsole(Option.some(port), () => undefined, "test"), (c) => c.url))
      const second = yield* Effect.scoped(Effect.map(startConsole(Option.some(port), () => undefined, "test"), (c) => c.url))
      expect(first).toBe(second)
      expect(first).toBe(`http://127.0.0.1:${port}/login?token=a-stable-token-for-the-console`)
    }).pipe(Effect.provide(NodeServices.layer)))
  it.live("a token too short to be a secret is refused, not used", () =>
    Effect.gen(function*() {
      process.env["TOOLGATE_CONSOLE_TOKEN"] = "short"
      const exit = yield* Effect.exit(Effect.scoped(startConsole(Option.none(), () => undefined, "test")))
      expect(exit._tag).toBe("Failure")
      expect(String(exit)).toContain("at least 16 characters")
    }).pipe(Effect.provide(NodeServices.layer)))
  it.live("without it, every start gets a new token", () =>
    Effect.gen(function*() {
      const a = yield* Effect.scoped(Effect.map(startConsole(Option.none(), () => undefined, "test"), (c) => Redacted.value(c.token)))
      const b = yield* Effect.scoped(Effect.map(startConsole(Option.none(), () => undefined, "test"), (c) => Redacted.value(c.token)))
      expect(a).not.toBe(b)
    }).pipe(Effect.provide(NodeServices.layer)))
})
