/**
 * An approval handler with a web page: pending approvals appear live in a
 * browser, where a reviewer allows (optionally with edited params, optionally
 * remembered for the session), denies with a reason, or denies and stops the
 * run. For programs that cannot prompt at a terminal, such as the MCP
 * gateway whose stdio carries the protocol.
 *
 * The console listens on 127.0.0.1 only, on a free port unless one is given,
 * and answers 401 to every request without its random token (in a header,
 * or in the cookie that opening the printed URL sets). A decision needs the
 * token in a header, never the cookie alone, so another site open in the same
 * browser cannot decide anything; the console sends no CORS headers and
 * refuses requests for any other host name (DNS rebinding). Each console has
 * its own token, port and cookie name, so several runs' consoles do not clash.
 *
 * @since 0.1.0
 */
// the module, not the package barrel: importing the barrel sets a global (a test checks none is)
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Context, type Duration, Effect, Layer, Option, type PubSub, Redacted, Schema, type Scope, Stream } from "effect"
import { Sse } from "effect/encoding"
import { HttpRouter, type HttpServerError, HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import * as Crypto from "node:crypto"
import { createServer } from "node:http"
import * as Approval from "../Approval.ts"
import * as ToolEvents from "../ToolEvents.ts"
import * as Board from "./internal/console/board.ts"
import { page } from "./internal/console/page.ts"
import { script } from "./internal/console/script.ts"

/**
 * A running console: the approval handler to put in place, and where to
 * open it. `url` carries the token (it logs the browser in); print it where
 * only the user sees it.
 *
 * @example
 * ```ts
 * import { Approval } from "toolgate"
 * import type { WebConsole } from "toolgate/node"
 * const use = (c: WebConsole.WebConsole) => Approval.layer(c.handler)
 * ```
 *
 * @since 0.1.0
 */
export interface WebConsole {
  readonly handler: Approval.ApprovalHandler
  readonly url: string
  readonly port: number
  readonly token: Redacted.Redacted<string>
}

/**
 * Options for {@link make}.
 *
 * - `port`: the port to listen on (default: a free one).
 * - `parameters`: the parameters Schema of a tool by call name, to check a
 *   reviewer's edited params before they are sent (the executor checks them
 *   again in any case).
 * - `recent`: how many recent decisions are kept (default 50).
 * - `title`: the page title.
 * - `token`: the login token (default: a new random one each start). With a
 *   fixed `port` and `token` the console's address stays the same across
 *   restarts, so a long-lived gateway's users keep their bookmark.
 *
 * @example
 * ```ts
 * import { BuiltinTools, type WebConsole } from "toolgate/node"
 * const options: WebConsole.Options = {
 *   port: 8787,
 *   parameters: (name) => BuiltinTools.toolkit.tools[name as keyof typeof BuiltinTools.toolkit.tools]?.parametersSchema
 * }
 * ```
 *
 * @since 0.1.0
 */
export interface Options {
  readonly port?: number | undefined
  readonly parameters?: ((tool: string) => Schema.Top | undefined) | undefined
  readonly recent?: number | undefined
  readonly title?: string | undefined
  readonly token?: Redacted.Redacted<string> | undefined
  /**
   * The run's tool events, so that each answered card's entry shows how the
   * call really ended (the policy re-check of an edit, a failure, the params
   * as executed). Default: the `ToolEvents` service, when in context.
   */
  readonly events?: PubSub.PubSub<ToolEvents.ToolEvent> | undefined
}

const sameToken = (given: string | undefined, token: Redacted.Redacted<string>): boolean => {
  if (given === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(Redacted.value(token))
  return a.length === b.length && Crypto.timingSafeEqual(a, b)
}

const unauthorized = HttpServerResponse.text(
  "401: open the console with the URL toolgate printed (it carries the token)",
  { status: 401 }
)

const encoder = new TextEncoder()
const sse = (event: string, data: unknown) =>
  encoder.encode(Sse.encoder.write({ _tag: "Event", event, id: undefined, data: JSON.stringify(data) }))

/** Where the console listens; the port is known only once the server is up, and read per request. */
interface Address {
  port: number
}

const cookieName = (address: Address) => `toolgate_${address.port}`

/**
 * Every route but /login goes through here: the host name first (DNS
 * rebinding), then the token. `headerOnly` routes (those that change state)
 * accept the token only from a header, never from the cookie.
 */
const guard = (token: Redacted.Redacted<string>, address: Address) =>
<E, R>(
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
  options: { readonly headerOnly?: boolean } = {}
) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const host = request.headers["host"]
    if (host !== `127.0.0.1:${address.port}` && host !== `localhost:${address.port}`) {
      return HttpServerResponse.text("403: unknown host", { status: 403 })
    }
    const header = request.headers["x-toolgate-token"] ?? request.headers["authorization"]?.replace(/^Bearer /, "")
    const given = options.headerOnly === true ? header : header ?? request.cookies[cookieName(address)]
    if (!sameToken(given, token)) return unauthorized
    return yield* handler
  })

/** The board as server-sent events: a snapshot, then every change. */
const eventStream = (board: Board.Board) =>
  HttpServerResponse.stream(
    // Subscribe before the snapshot so that nothing falls in between; the
    // subscription belongs to the stream and closes when the page goes.
    Stream.unwrap(Effect.gen(function*() {
      const subscription = yield* board.subscribe
      const snapshot = yield* board.snapshot
      return Stream.concat(
        Stream.make(sse("snapshot", snapshot)),
        Stream.fromSubscription(subscription).pipe(Stream.map((event) => sse(event.type, event)))
      )
    })).pipe(Stream.merge(Stream.tick("15 seconds").pipe(Stream.map(() => encoder.encode(": keep-alive\n\n"))))),
    { contentType: "text/event-stream", headers: { "cache-control": "no-cache", "x-accel-buffering": "no" } }
  )

/** POST /api/decide/:id: a reviewer's decision for one card. */
const decision = (board: Board.Board) =>
  Effect.gen(function*() {
    const { id } = yield* HttpRouter.schemaPathParams(Schema.Struct({ id: Schema.String }))
    const body = yield* HttpServerRequest.schemaBodyJson(Board.DecisionBody)
    const result = yield* board.decide(id, body)
    switch (result._tag) {
      case "Decided":
        return HttpServerResponse.jsonUnsafe({ ok: true })
      case "Gone":
        return HttpServerResponse.jsonUnsafe({ ok: false, problem: "no such pending call" }, { status: 404 })
      case "InvalidParams":
        return HttpServerResponse.text(`The edited params do not fit the tool: ${result.message}`, { status: 400 })
    }
  }).pipe(
    Effect.catchTag("SchemaError", (e) => Effect.succeed(HttpServerResponse.text(`Bad decision: ${e.message}`, { status: 400 }))),
    Effect.catchTag("HttpServerError", () => Effect.succeed(HttpServerResponse.text("Bad request body", { status: 400 })))
  )

const routes = (board: Board.Board, token: Redacted.Redacted<string>, address: Address, title: string) => {
  const guarded = guard(token, address)
  const login = HttpRouter.add("GET", "/login", (request) =>
    Effect.gen(function*() {
      const given = new URL(request.url, "http://console").searchParams.get("token") ?? undefined
      if (!sameToken(given, token)) return unauthorized
      return yield* HttpServerResponse.redirect("/").pipe(
        HttpServerResponse.setCookie(cookieName(address), Redacted.value(token), { httpOnly: true, sameSite: "strict", path: "/" })
      )
    }).pipe(Effect.orDie))
  const html = HttpServerResponse.html(page({ token: Redacted.value(token), title }))
  const js = HttpServerResponse.text(script, { contentType: "text/javascript; charset=utf-8" })
  return Layer.mergeAll(
    login,
    HttpRouter.add("GET", "/", guarded(Effect.succeed(html))),
    HttpRouter.add("GET", "/app.js", guarded(Effect.succeed(js))),
    HttpRouter.add("GET", "/api/state", guarded(Effect.map(board.snapshot, (s) => HttpServerResponse.jsonUnsafe(s)))),
    HttpRouter.add("GET", "/api/events", guarded(Effect.sync(() => eventStream(board)))),
    HttpRouter.add("POST", "/api/decide/:id", guarded(decision(board), { headerOnly: true }))
  )
}

/**
 * Starts a console for the lifetime of the scope and returns it. Put its
 * `handler` in place with `Approval.layer` (which adds session memory, for
 * "remember for the session"); combine with `Approval.timeout` to withdraw
 * cards nobody answers.
 *
 * @example
 * ```ts
 * import { Console, Effect } from "effect"
 * import { Approval } from "toolgate"
 * import { WebConsole } from "toolgate/node"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const console = yield* WebConsole.make()
 *   yield* Console.error(`approve calls at ${console.url}`)
 *   return Approval.layer(Approval.timeout(console.handler, "5 minutes"))
 * }))
 * ```
 *
 * @since 0.1.0
 */
export const make = Effect.fn("toolgate.WebConsole.make")(function*(
  options: Options = {}
): Effect.fn.Return<WebConsole, HttpServerError.ServeError, Scope.Scope> {
  const events = options.events ?? Option.getOrUndefined(yield* Effect.serviceOption(ToolEvents.ToolEvents))
  const board = yield* Board.make({ recent: options.recent ?? 50, parameters: options.parameters ?? (() => undefined), events })
  return { handler: board.handler, ...(yield* serve(board, options)) }
})

/**
 * Requests kept outside this process (a durable store), for
 * {@link polling}: `pending` lists them (each with the encoded
 * `ApprovalRequest`), `answer` answers one where it is kept and says
 * whether the answer was taken (false: answered, withdrawn or timed out
 * elsewhere first), `every` is how often the list is read (default 500 ms).
 *
 * @since 0.3.0
 */
export interface Source {
  readonly pending: Effect.Effect<ReadonlyArray<Board.Kept>>
  readonly answer: (id: string, decision: Approval.ApprovalDecision) => Effect.Effect<boolean>
  readonly every?: Duration.Input | undefined
}

/**
 * A console for requests kept elsewhere: every pending request `source`
 * lists, from every run and process, answered where it is kept.
 * `toolgate approvals console --store URL` serves a durable store's this
 * way. There is no handler: the requests are not this process's.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { WebConsole } from "toolgate/node"
 * const empty = WebConsole.polling({ pending: Effect.succeed([]), answer: () => Effect.succeed(false) })
 * ```
 *
 * @since 0.3.0
 */
export const polling = Effect.fn("toolgate.WebConsole.polling")(function*(
  source: Source,
  options: Omit<Options, "events"> = {}
): Effect.fn.Return<Omit<WebConsole, "handler">, HttpServerError.ServeError, Scope.Scope> {
  const board = yield* Board.polling({
    recent: options.recent ?? 50,
    parameters: options.parameters ?? (() => undefined),
    every: source.every ?? "500 millis",
    pending: source.pending,
    answer: source.answer
  })
  return yield* serve(board, options)
})

// Serves a board's pages and API on loopback for the lifetime of the scope.
const serve = Effect.fnUntraced(function*(
  board: Board.Board,
  options: Omit<Options, "events">
): Effect.fn.Return<Omit<WebConsole, "handler">, HttpServerError.ServeError, Scope.Scope> {
  const token = options.token ?? Redacted.make(Crypto.randomBytes(24).toString("base64url"))
  // The port is known only once the server listens; the routes read it per request.
  const address = { port: options.port ?? 0 }
  const served = HttpRouter.serve(routes(board, token, address, options.title ?? "toolgate approvals"), {
    disableLogger: true,
    // the MCP gateway's stdout is the protocol: nothing else may print there
    disableListenLog: true
  }).pipe(Layer.provideMerge(NodeHttpServer.layer(createServer, {
    port: address.port,
    host: "127.0.0.1",
    // An open page holds an event stream that never ends by itself: waiting
    // the default 20 s for it held every command that closes a console (the
    // end of `toolgate run --approver web`) for 20 s. Decisions are short
    // requests; a second is plenty for one in flight.
    gracefulShutdownTimeout: "1 second"
  })))
  const context = yield* Layer.build(served)
  const listening = Context.get(context, HttpServer.HttpServer).address
  if (listening._tag !== "UnixPathAddress") address.port = listening.port
  return {
    port: address.port,
    token,
    url: `http://127.0.0.1:${address.port}/login?token=${Redacted.value(token)}`
  }
})

/**
 * A Layer running a console and putting its handler in place (with session
 * memory). `onReady` receives the console once it listens, to print its URL.
 *
 * @example
 * ```ts
 * import { Console } from "effect"
 * import { WebConsole } from "toolgate/node"
 * const ApprovalLive = WebConsole.layer({ onReady: (c) => Console.error(`approve at ${c.url}`) })
 * ```
 *
 * @since 0.1.0
 */
export const layer = (
  options: Options & { readonly onReady?: ((console: WebConsole) => Effect.Effect<void>) | undefined } = {}
): Layer.Layer<never, HttpServerError.ServeError> =>
  Layer.unwrap(Effect.gen(function*() {
    const console = yield* make(options)
    if (options.onReady !== undefined) yield* options.onReady(console)
    return Approval.layer(console.handler)
  }))
