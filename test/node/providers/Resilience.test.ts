/**
 * What a real provider does on a bad day, on a loopback server: it never
 * answers, its stream stalls, it is rate limited or overloaded. A request is
 * bounded by the request timeout, a stalled stream fails the same way, and
 * 429/500/503/529 are retried (respecting `retry-after`) a few times before
 * the run fails.
 *
 * Time is the TestClock's: a test waits for the request (or the first
 * events) to reach its side, then moves the clock, so a loaded machine can
 * neither fire a timeout early nor make a bound fail.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Exit, Fiber, Layer, Redacted, Stream } from "effect"
import { HttpServerResponse } from "effect/http"
import { TestClock } from "effect/testing"
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
  it.effect("a server that never answers fails the run after the request timeout, once, not once per retry", () =>
    Effect.gen(function*() {
      const asked = yield* Deferred.make<void>()
      const server = yield* fakeProvider((_, __, hang) => Effect.andThen(Deferred.succeed(asked, undefined), hang))
      const fiber = yield* Effect.forkChild(Effect.exit(run(server.url, { requestTimeout: "1 second" })))
      yield* Deferred.await(asked)
      // the request hangs and the deadline has not come: nothing can end the run
      yield* TestClock.adjust("999 millis")
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust("1 millis")
      const exit = yield* Fiber.join(fiber)
      expect(Exit.isFailure(exit)).toBe(true)
      expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("request timeout")
      expect(server.received).toHaveLength(1)
    }).pipe(Effect.scoped))

  it.effect("a stream that stalls after its first events fails the same way", () =>
    Effect.gen(function*() {
      const first = sse([
        { event: "message_start", data: { type: "message_start", message: { ...answer, content: [], stop_reason: null } } },
        { event: "content_block_start", data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "", citations: null } } },
        { event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "par" } } }
      ])
      const server = yield* fakeProvider(() =>
        HttpServerResponse.stream(Stream.concat(Stream.make(new TextEncoder().encode(first)), Stream.never), {
          contentType: "text/event-stream"
        })
      )
      const delta = yield* Deferred.make<void>()
      const fiber = yield* Agent.stream({ prompt: "hi", toolkit }).pipe(
        Stream.tap((event) => event._tag === "TextDelta" ? Deferred.succeed(delta, undefined) : Effect.void),
        Stream.runCollect,
        Effect.provide(handlers(makeTracker())),
        Effect.provide(model(server.url, { requestTimeout: "1 second" })),
        Effect.exit,
        Effect.forkChild
      )
      // the first events arrived; then the stream stalls for the whole timeout
      yield* Deferred.await(delta)
      yield* TestClock.adjust("1 second")
      const exit = yield* Fiber.join(fiber)
      expect(Exit.isFailure(exit)).toBe(true)
      expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("stream sent nothing")
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

  it.effect("a 429's retry-after is waited out before the next attempt", () =>
    Effect.gen(function*() {
      const times: Array<number> = []
      const limited = yield* Deferred.make<void>()
      const server = yield* fakeProvider((_, i) =>
        Effect.gen(function*() {
          times.push(yield* Clock.currentTimeMillis)
          if (i > 0) return HttpServerResponse.jsonUnsafe(answer)
          yield* Deferred.succeed(limited, undefined)
          return status(429, { "retry-after": "1" })
        })
      )
      const fiber = yield* Effect.forkChild(run(server.url, {}))
      yield* Deferred.await(limited)
      yield* TestClock.adjust("1 second")
      const result = yield* Fiber.join(fiber)
      expect(result.text).toBe("fine")
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1000)
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
