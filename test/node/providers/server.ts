/**
 * A fake model provider for the provider tests: an `effect/http` server on
 * 127.0.0.1 (port chosen by the OS) that records every request body and
 * answers with whatever the test's `respond` returns, in the provider's own
 * wire format. Nothing leaves the machine.
 */
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Layer, type Scope } from "effect"
import { HttpServer, HttpServerRequest, type HttpServerResponse } from "effect/http"
import * as http from "node:http"

export interface Received {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: any
}

export const fakeProvider = (
  respond: (request: Received, index: number) => HttpServerResponse.HttpServerResponse
): Effect.Effect<{ readonly url: string; readonly received: Array<Received> }, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const received: Array<Received> = []
    const app = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const body = yield* request.json
      const entry: Received = { method: request.method, url: request.url, headers: request.headers, body }
      received.push(entry)
      return respond(entry, received.length - 1)
    })
    const context = yield* Layer.build(
      HttpServer.serve(app).pipe(
        Layer.provideMerge(NodeHttpServer.layer(() => http.createServer(), { port: 0, host: "127.0.0.1" }))
      )
    )
    const address = Context.get(context, HttpServer.HttpServer).address
    if (!("port" in address)) return yield* Effect.die(new Error("expected a TCP address"))
    return { url: `http://127.0.0.1:${address.port}`, received }
  })

/** Server-sent events, as both providers stream them. */
export const sse = (events: ReadonlyArray<{ readonly event?: string; readonly data: unknown }>): string =>
  events.map((e) => `${e.event !== undefined ? `event: ${e.event}\n` : ""}data: ${JSON.stringify(e.data)}\n\n`).join("")
