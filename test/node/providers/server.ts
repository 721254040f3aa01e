/**
 * A fake model provider for the provider tests: an `effect/http` server on
 * 127.0.0.1 (port chosen by the OS) that records every request body and
 * answers with whatever the test's `respond` returns, in the provider's own
 * wire format. Nothing leaves the machine.
 */
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Deferred, Effect, Layer, type Scope } from "effect"
import { HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import * as http from "node:http"

export interface Received {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: any
}

export const fakeProvider = (
  respond: (
    request: Received,
    index: number,
    /** Never answers while the test runs (the server's close waits for its handlers, so `Effect.never` would hang it). */
    hang: Effect.Effect<HttpServerResponse.HttpServerResponse>
  ) => HttpServerResponse.HttpServerResponse | Effect.Effect<HttpServerResponse.HttpServerResponse>
): Effect.Effect<{ readonly url: string; readonly received: Array<Received> }, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const received: Array<Received> = []
    const closing = yield* Deferred.make<void>()
    const hang = Effect.as(Deferred.await(closing), HttpServerResponse.empty({ status: 503 }))
    const app = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const body = yield* request.json
      const entry: Received = { method: request.method, url: request.url, headers: request.headers, body }
      received.push(entry)
      const response = respond(entry, received.length - 1, hang)
      return Effect.isEffect(response) ? yield* response : response
    })
    const server = http.createServer()
    const context = yield* Layer.build(
      HttpServer.serve(app).pipe(
        Layer.provideMerge(NodeHttpServer.layer(() => server, { port: 0, host: "127.0.0.1" }))
      )
    )
    // Runs before the server's own close (finalizers run in reverse): a
    // request the test left unanswered must not keep the server open.
    yield* Effect.addFinalizer(() => Effect.andThen(Deferred.succeed(closing, undefined), Effect.sync(() => server.closeAllConnections())))
    const address = Context.get(context, HttpServer.HttpServer).address
    if (!("port" in address)) return yield* Effect.die(new Error("expected a TCP address"))
    return { url: `http://127.0.0.1:${address.port}`, received }
  })

/** Server-sent events, as both providers stream them. */
export const sse = (events: ReadonlyArray<{ readonly event?: string; readonly data: unknown }>): string =>
  events.map((e) => `${e.event !== undefined ? `event: ${e.event}\n` : ""}data: ${JSON.stringify(e.data)}\n\n`).join("")
