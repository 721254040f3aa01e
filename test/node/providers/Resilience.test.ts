/**
 * What a real provider does on a bad day, on a loopback server: it never
 * answers, its stream stalls, it is rate limited or overloaded. A request is
 * bounded by the request timeout, a stalled stream fails the same way, and
 * 429/500/503/529 are retried (respecting `retry-after`) a few times before
 * the run fails.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Redacted, Stream } from "effect"
import { HttpServerResponse } from "effect/http"
import * as Agent from "../../../src/Agent.ts"
import * as Providers from "../../../src/node/Providers.ts"
import { handlers, makeTracker, toolkit } from "../../fixtures.ts"
import { fakeProvider, sse } from "./server.ts"
import { anthropicMessage } from "./wire.ts"

const answer = anthropicMessage([{ type: "text", text: "fine", citations: null }], "end_turn", "msg_1")

const model = (url: string, settings: Providers.Settings) =>
  Providers.anthropic({ apiKey: Redacted.make("k"), apiUrl: url, ...settings }).pipe(Layer.provide(NodeHttpClient.layerUndici))

const run = (url: string, settings: Providers.Settings) =>
  Agent.run({ prompt: "hi", toolkit }).pipe(Effect.provide(handlers(makeTracker())), Effect.provide(model(url, settings)))

const status = (code: number, headers: Record<string, string> = {}) =>
  HttpServerResponse.jsonUnsafe({ type: "error", error: { type: "overloaded_error", message: `status ${code}` } }, { status: code, headers })

describe("provider requests are bounded", () => {
  it.live("a server that never answers fails the run after the request timeout, once, not once per retry", () =>
    Effect.gen(function*() {
      const server = yield* fakeProvider((_, __, hang) => hang)
      const started = Date.now()
      const exit = yield* Effect.exit(run(server.url, { requestTimeout: "1 second" }))
      const elapsed = Date.now() - started
      expect(Exit.isFailure(exit)).toBe(true)
      expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("request timeout")
      expect(elapsed).toBeGreaterThanOrEqual(950)
      expect(elapsed).toBeLessThan(5_000)
      expect(server.received).toHaveLength(1)
    }).pipe(Effect.scoped))

  it.live("a stream that stalls after its first event fails the same way", () =>
    Effect.gen(function*() {
      const first = sse([{ event: "message_start", data: { type: "message_start", message: { ...answer, content: [], stop_reason: null } } }])
      const server = yield* fakeProvider(() =>
        HttpServerResponse.stream(Stream.concat(Stream.make(new TextEncoder().encode(first)), Stream.never), {
          contentType: "text/event-stream"
        })
      )
      const started = Date.now()
      const exit = yield* Agent.stream({ prompt: "hi", toolkit }).pipe(
        Stream.runCollect,
        Effect.provide(handlers(makeTracker())),
        Effect.provide(model(server.url, { requestTimeout: "1 second" })),
        Effect.exit
      )
      expect(Exit.isFailure(exit)).toBe(true)
      expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("stream sent nothing")
      expect(Date.now() - started).toBeLessThan(5_000)
    }).pipe(Effect.scoped))
})

describe("provider requests are retried", () => {
  it.live("529 (overloaded) and 500 are retried with backoff, then the answer is used", () =>
    Effect.gen(function*() {
      const server = yield* fakeProvider((_, i) => i === 0 ? status(529) : i === 1 ? status(500) : HttpServerResponse.jsonUnsafe(answer))
      const result = yield* run(server.url, {})
      expect(result.text).toBe("fine")
      expect(server.received).toHaveLength(3)
    }).pipe(Effect.scoped))

  it.live("a 429's retry-after is waited out before the next attempt", () =>
    Effect.gen(function*() {
      const times: Array<number> = []
      const server = yield* fakeProvider((_, i) => {
        times.push(Date.now())
        return i === 0 ? status(429, { "retry-after": "1" }) : HttpServerResponse.jsonUnsafe(answer)
      })
      const result = yield* run(server.url, {})
      expect(result.text).toBe("fine")
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(950)
    }).pipe(Effect.scoped))

  it.live("a provider that stays unavailable fails the run after the retries", () =>
    Effect.gen(function*() {
      const server = yield* fakeProvider(() => status(503))
      const exit = yield* Effect.exit(run(server.url, { retries: 2 }))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(server.received).toHaveLength(3)
    }).pipe(Effect.scoped))

  it.live("a bad request (400) is not retried", () =>
    Effect.gen(function*() {
      const server = yield* fakeProvider(() => status(400))
      const exit = yield* Effect.exit(run(server.url, {}))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(server.received).toHaveLength(1)
    }).pipe(Effect.scoped))

  it.live("a server that refuses the connection fails the run with a NetworkError naming the URL, not a defect", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(run("http://127.0.0.1:9", { retries: 1 }))
      expect(Exit.isFailure(exit)).toBe(true)
      if (!Exit.isFailure(exit)) return
      const error = exit.cause.reasons[0]
      expect(error?._tag).toBe("Fail")
      expect(JSON.stringify(error)).toContain("NetworkError")
      expect(JSON.stringify(error)).toContain("127.0.0.1:9")
    }))
})
