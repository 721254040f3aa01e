/**
 * The gateway's transports to upstreams (stdio, Streamable HTTP, legacy
 * HTTP+SSE): effect's `McpClient.Transport` shape, so effect's `McpClient`
 * runs on them, but hand-written, because effect's own transports (4.1)
 * drop every message a server sends unprompted — they answer server
 * requests with "method not found" and ignore notifications — declare
 * empty client capabilities, and include no legacy SSE transport. A gateway
 * must relay those messages: progress and log notifications,
 * `list_changed`, and the server's requests for roots, sampling and
 * elicitation, which belong to the client behind the gateway.
 *
 * So these transports hand what the server sends on its own to a
 * {@link Peer}, declare the capabilities the gateway relays in
 * `initialize`, and add the current call's `_meta` (a progress token) to
 * outgoing requests. Framing, message limits and shutdown follow effect's
 * transports; stray stdout lines are skipped by the spawner (`strayLines.ts`).
 */
import { Cause, Context, Deferred, Duration, Effect, Option, Queue, Schema, Scope, Stream } from "effect"
import { McpClient, McpClientError, type McpProtocol, McpSchema } from "effect/ai"
import * as Sse from "effect/encoding/Sse"
import { HttpClient, HttpClientRequest } from "effect/http"
import { type ChildProcess, ChildProcessSpawner } from "effect/process"

/** What an upstream sends unprompted: notifications, and requests the client behind the gateway answers. */
export interface Peer {
  readonly notification: (method: string, params: unknown) => Effect.Effect<void>
  readonly request: (method: string, params: unknown) => Effect.Effect<unknown, { readonly code: number; readonly message: string }>
}

/**
 * `_meta` to add to the requests made by the current fiber (a progress token
 * the gateway made for one relayed call); read by the transport when it sends.
 */
export const CallMeta = Context.Reference<Readonly<Record<string, unknown>> | undefined>("toolgate/mcp/CallMeta", {
  defaultValue: () => undefined
})

/**
 * The client capabilities the gateway declares to upstreams. Upstreams start
 * before any client connects, so the gateway declares what it can relay;
 * a relayed request the client cannot answer fails with an error the
 * upstream sees (see `McpGateway.ts`).
 */
export const relayedCapabilities = { roots: { listChanged: false }, sampling: {}, elicitation: { form: {} } }

const closeTimeout = Duration.seconds(3)

/** The longest message taken from an upstream, as effect's transports bound theirs: a server cannot make the gateway buffer without end. */
const maxMessageBytes = 16 * 1024 * 1024

const failure = (reason: McpClientError.McpClientErrorReason) => new McpClientError.McpClientError({ reason })
const transportError = (description: string, cause?: unknown) =>
  failure(new McpClientError.TransportError({ description, ...(cause === undefined ? {} : { cause }) }))

const decodeMessage = Schema.decodeUnknownOption(McpSchema.JsonRpcMessage)

type Message = McpSchema.JsonRpcMessage

/** Adds the relayed capabilities to `initialize` and the call's `_meta` to other requests. */
const outgoing = (message: McpSchema.JsonRpcRequest, meta: Readonly<Record<string, unknown>> | undefined) => {
  const params = (message.params ?? {}) as Record<string, unknown>
  if (message.method === "initialize") {
    return { ...message, params: { ...params, capabilities: { ...(params["capabilities"] as object ?? {}), ...relayedCapabilities } } }
  }
  if (meta === undefined) return message
  return { ...message, params: { ...params, _meta: { ...(params["_meta"] as object ?? {}), ...meta } } }
}

/**
 * Dispatches one message the server sent: a response to a pending request,
 * or a notification or request for the {@link Peer}. Requests are answered
 * on their own fiber so a slow answer (a human sampling) blocks nothing.
 */
export const makeDispatch = (options: {
  readonly peer: Peer
  readonly pending: Map<McpSchema.RequestId, Deferred.Deferred<McpSchema.JsonRpcResponse>>
  readonly send: (message: Message) => Effect.Effect<void, McpClientError.McpClientError>
}) =>
(message: Message): Effect.Effect<void, never, Scope.Scope> => {
  if ("method" in message) {
    if ("id" in message && message.id !== undefined) {
      const id = message.id
      if (message.method === "ping") return Effect.ignore(options.send({ jsonrpc: "2.0", id, result: {} }))
      return options.peer.request(message.method, message.params).pipe(
        Effect.matchEffect({
          onFailure: (error) => options.send({ jsonrpc: "2.0", id, error: { code: error.code, message: error.message } }),
          onSuccess: (result) => options.send({ jsonrpc: "2.0", id, result: result as never })
        }),
        Effect.ignore,
        Effect.forkScoped,
        Effect.asVoid
      )
    }
    return options.peer.notification(message.method, message.params)
  }
  if (message.id === undefined || message.id === null) return Effect.void
  const waiting = options.pending.get(message.id)
  return waiting === undefined ? Effect.void : Deferred.succeed(waiting, message).pipe(Effect.asVoid)
}

/** Sends a request through `send` and waits for its answer in `pending`, failing when the transport did. */
export const makeRequest = (options: {
  readonly pending: Map<McpSchema.RequestId, Deferred.Deferred<McpSchema.JsonRpcResponse>>
  readonly send: (message: Message) => Effect.Effect<void, McpClientError.McpClientError>
  readonly failed: Deferred.Deferred<never, McpClientError.McpClientError>
}) =>
(message: McpSchema.JsonRpcRequest): Effect.Effect<McpSchema.JsonRpcResponse, McpClientError.McpClientError> =>
  Effect.gen(function*() {
    const meta = yield* CallMeta
    const response = yield* Deferred.make<McpSchema.JsonRpcResponse>()
    options.pending.set(message.id, response)
    return yield* options.send(outgoing(message, meta) as McpSchema.JsonRpcRequest).pipe(
      Effect.andThen(Deferred.await(response)),
      Effect.raceFirst(Deferred.await(options.failed)),
      Effect.onInterrupt(() =>
        Effect.ignore(options.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: message.id } }))
      ),
      Effect.ensuring(Effect.sync(() => options.pending.delete(message.id)))
    )
  })

/** A transport over a child process speaking newline-delimited JSON-RPC. */
export const stdio = (options: {
  readonly command: ChildProcess.Command
  readonly protocol: McpProtocol.ProtocolAdapter<McpClient.ProtocolVersion>
  readonly peer: Peer
}): Effect.Effect<McpClient.Transport, McpClientError.McpClientError, ChildProcessSpawner.ChildProcessSpawner | Scope.Scope> =>
  Effect.gen(function*() {
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    const process = yield* spawner.spawn(options.command).pipe(
      Effect.mapError((cause) => transportError("Cannot spawn MCP server", cause))
    )
    const pending = new Map<McpSchema.RequestId, Deferred.Deferred<McpSchema.JsonRpcResponse>>()
    const failed = yield* Deferred.make<never, McpClientError.McpClientError>()
    const input = yield* Queue.unbounded<string, Cause.Done>()
    const send = (message: Message): Effect.Effect<void, McpClientError.McpClientError> =>
      Effect.suspend((): Effect.Effect<void, McpClientError.McpClientError> =>
        Deferred.isDoneUnsafe(failed) ? Deferred.await(failed) : Effect.asVoid(Queue.offer(input, JSON.stringify(message) + "\n"))
      )
    const dispatch = makeDispatch({ peer: options.peer, pending, send })
    yield* Stream.fromQueue(input).pipe(
      Stream.encodeText,
      Stream.run(process.stdin),
      Effect.catch((cause) => Deferred.fail(failed, transportError("MCP stdin failed", cause))),
      Effect.forkScoped
    )
    const onLine = (line: string) =>
      line.trim() === "" ? Effect.void : Option.match(
        Option.flatMap(Option.liftThrowable(JSON.parse)(line), decodeMessage),
        { onNone: () => Effect.logWarning(`toolgate mcp: an upstream sent a message that is not JSON-RPC: ${line.slice(0, 200)}`), onSome: dispatch }
      )
    yield* Stream.runDrain(process.stderr).pipe(Effect.ignore, Effect.forkScoped)
    const drained = yield* Deferred.make<void>()
    let buffer = ""
    yield* process.stdout.pipe(
      Stream.decodeText(),
      Stream.runForEach((chunk) =>
        Effect.gen(function*() {
          buffer += chunk
          let start = 0
          let index: number
          while ((index = buffer.indexOf("\n", start)) >= 0) {
            yield* onLine(buffer.slice(start, index))
            start = index + 1
          }
          buffer = buffer.slice(start)
          if (buffer.length > maxMessageBytes) {
            return yield* Effect.fail(failure(new McpClientError.LimitError({ description: "MCP message exceeds 16 MiB" })))
          }
        })
      ),
      Effect.andThen(Effect.fail(transportError("MCP server closed stdout"))),
      Effect.catch((error) => Deferred.fail(failed, McpClientError.isMcpClientError(error) ? error : transportError("MCP stdout failed", error))),
      Effect.ensuring(Deferred.succeed(drained, undefined)),
      Effect.forkScoped
    )
    // What the server wrote just before it exited is read before pending requests fail.
    yield* process.exitCode.pipe(
      Effect.map((code) => `MCP process exited (${code})`),
      Effect.orElseSucceed(() => "MCP process exited"),
      Effect.tap(() => Deferred.await(drained).pipe(Effect.timeoutOption(closeTimeout))),
      Effect.flatMap((description) => Deferred.fail(failed, transportError(description))),
      Effect.forkScoped
    )
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* Deferred.fail(failed, failure(new McpClientError.ClosedError({ description: "MCP transport closed" })))
        yield* Queue.end(input)
        const exited = yield* process.exitCode.pipe(Effect.timeoutOption(closeTimeout), Effect.option)
        if (Option.isNone(exited) || Option.isNone(exited.value)) {
          yield* process.kill({ killSignal: "SIGTERM", forceKillAfter: Duration.toMillis(closeTimeout) }).pipe(Effect.ignore)
        }
      })
    )
    return {
      ["~effect/ai/McpClient/Transport"]: "~effect/ai/McpClient/Transport",
      protocol: options.protocol,
      isCallable: () => true,
      notify: send,
      request: makeRequest({ pending, send, failed })
    } as unknown as McpClient.Transport
  })

/**
 * A transport over the legacy HTTP+SSE transport (protocol 2024-11-05),
 * which effect's client does not speak: a GET opens an event stream whose
 * first `endpoint` event names the URL to POST messages to; every message
 * from the server, answers included, comes as a `message` event on that
 * stream. As the official SDK's `SSEClientTransport` does, the endpoint
 * must have the stream's origin (a server cannot send our messages, and the
 * headers configured for it, elsewhere).
 */
export const sse = (options: {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly protocol: McpProtocol.ProtocolAdapter<McpClient.ProtocolVersion>
  readonly peer: Peer
}): Effect.Effect<McpClient.Transport, McpClientError.McpClientError, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const pending = new Map<McpSchema.RequestId, Deferred.Deferred<McpSchema.JsonRpcResponse>>()
    const failed = yield* Deferred.make<never, McpClientError.McpClientError>()
    const endpoint = yield* Deferred.make<URL, McpClientError.McpClientError>()
    const send = (message: Message): Effect.Effect<void, McpClientError.McpClientError> =>
      Effect.gen(function*() {
        const url = yield* Deferred.await(endpoint)
        const response = yield* http.execute(
          HttpClientRequest.post(url, { headers: options.headers }).pipe(HttpClientRequest.bodyText(JSON.stringify(message), "application/json"))
        ).pipe(Effect.mapError((cause) => transportError("Cannot POST to the MCP server's SSE endpoint", cause)))
        if (response.status < 200 || response.status >= 300) {
          return yield* failure(new McpClientError.HttpError({ status: response.status, description: `MCP SSE endpoint answered HTTP ${response.status}` }))
        }
      })
    const dispatch = makeDispatch({ peer: options.peer, pending, send })
    const stream = yield* http.execute(
      HttpClientRequest.get(options.url, { headers: { ...options.headers, accept: "text/event-stream" } })
    ).pipe(Effect.mapError((cause) => transportError("Cannot open the MCP server's SSE stream", cause)))
    if (stream.status !== 200) {
      return yield* failure(new McpClientError.HttpError({ status: stream.status, description: `MCP SSE stream answered HTTP ${stream.status}` }))
    }
    const events: Array<Sse.Event> = []
    const parser = Sse.makeParser((event) => {
      if (event._tag === "Event") events.push(event)
    })
    const onEvent = (event: Sse.Event): Effect.Effect<void, never, Scope.Scope> => {
      if (event.event === "endpoint") {
        const url = URL.parse(event.data, options.url)
        return url !== null && url.origin === new URL(options.url).origin
          ? Deferred.succeed(endpoint, url).pipe(Effect.asVoid)
          : Deferred.fail(endpoint, transportError(`the MCP server named an endpoint of another origin: ${event.data.slice(0, 200)}`)).pipe(Effect.asVoid)
      }
      if (event.event !== "message" && event.event !== "") return Effect.void
      return Option.match(Option.flatMap(Option.liftThrowable(JSON.parse)(event.data), decodeMessage), {
        onNone: () => Effect.logWarning(`toolgate mcp: an upstream sent an SSE message that is not JSON-RPC: ${event.data.slice(0, 200)}`),
        onSome: dispatch
      })
    }
    yield* stream.stream.pipe(
      Stream.decodeText(),
      Stream.runForEach((chunk) => {
        parser.feed(chunk)
        return Effect.forEach(events.splice(0), onEvent, { discard: true })
      }),
      Effect.catch((cause) => Effect.succeed(cause)),
      Effect.andThen(Effect.suspend(() => {
        const closed = transportError("MCP server closed its SSE stream")
        return Effect.andThen(Deferred.fail(endpoint, closed), Deferred.fail(failed, closed))
      })),
      Effect.forkScoped
    )
    yield* Effect.addFinalizer(() => Deferred.fail(failed, failure(new McpClientError.ClosedError({ description: "MCP transport closed" }))))
    return {
      ["~effect/ai/McpClient/Transport"]: "~effect/ai/McpClient/Transport",
      protocol: options.protocol,
      isCallable: () => true,
      notify: send,
      request: makeRequest({ pending, send, failed })
    } as unknown as McpClient.Transport
  })

/** Reads the messages of a response body that is an SSE stream (each `message` event one message) and hands each to `onMessage`. */
const readEvents = <R>(
  body: Stream.Stream<Uint8Array, unknown>,
  onEvent: (event: Sse.Event) => Effect.Effect<void, never, R>
): Effect.Effect<void, unknown, R> => {
  const events: Array<Sse.Event> = []
  const parser = Sse.makeParser((event) => {
    if (event._tag === "Event") events.push(event)
  }, { maxEventSize: maxMessageBytes })
  return body.pipe(
    Stream.decodeText(),
    Stream.runForEach((chunk) => {
      const error = parser.feed(chunk)
      return Effect.andThen(
        Effect.forEach(events.splice(0), onEvent, { discard: true }),
        error === undefined ? Effect.void : Effect.fail(error)
      )
    })
  )
}

const parseEvent = (event: Sse.Event): Option.Option<Message> =>
  event.event !== "message" && event.event !== "" ? Option.none() : Option.flatMap(Option.liftThrowable(JSON.parse)(event.data), decodeMessage)

/**
 * A transport over Streamable HTTP (protocol 2025-03-26 and later), written
 * for the same reason as {@link stdio}: effect's HTTP transport drops the
 * notifications and requests a server sends in a response's event stream.
 * Each message is POSTed; an answer comes as JSON or as an event stream that
 * may carry the server's notifications and requests first. The session id
 * the server gives in `initialize` goes with every later message, the
 * negotiated revision in `MCP-Protocol-Version`, and the session is ended
 * with a DELETE when the connection closes. Once initialized, a GET opens
 * the stream on which the server sends what is not tied to one request
 * (log messages, `list_changed`, requests servers make outside the call's
 * own stream); a server that offers none answers 405.
 */
export const streamableHttp = (options: {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly protocol: McpProtocol.ProtocolAdapter<McpClient.ProtocolVersion>
  readonly peer: Peer
}): Effect.Effect<McpClient.Transport, McpClientError.McpClientError, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const scope = yield* Effect.scope
    const pending = new Map<McpSchema.RequestId, Deferred.Deferred<McpSchema.JsonRpcResponse>>()
    const failed = yield* Deferred.make<never, McpClientError.McpClientError>()
    let session: string | undefined
    let initialized = false
    const headersFor = () => ({
      ...options.headers,
      accept: "application/json, text/event-stream",
      ...(session === undefined ? {} : { "mcp-session-id": session }),
      ...(initialized ? { "mcp-protocol-version": options.protocol.protocolVersion } : {})
    })
    const dispatchIn = (message: Message) => Effect.provideService(dispatch(message), Scope.Scope, scope)
    const send = (message: Message): Effect.Effect<void, McpClientError.McpClientError> =>
      Effect.gen(function*() {
        const response = yield* http.execute(
          HttpClientRequest.post(options.url, { headers: headersFor() }).pipe(HttpClientRequest.bodyText(JSON.stringify(message), "application/json"))
        ).pipe(Effect.mapError((cause) => transportError("Cannot POST to the MCP server", cause)))
        const given = response.headers["mcp-session-id"]
        if (given !== undefined) session = given
        if ("method" in message && message.method === "initialize") initialized = true
        if ("method" in message && message.method === "notifications/initialized") yield* Effect.forkIn(listen, scope)
        if (response.status === 202 || response.status === 204) return
        if (response.status < 200 || response.status >= 300) {
          return yield* failure(new McpClientError.HttpError({ status: response.status, description: `MCP server answered HTTP ${response.status}` }))
        }
        const type = response.headers["content-type"]?.split(";", 1)[0]?.trim().toLowerCase()
        if (type === "text/event-stream") {
          return yield* readEvents(response.stream, (event) =>
            Option.match(parseEvent(event), {
              onNone: () => Effect.logWarning(`toolgate mcp: an upstream sent an SSE message that is not JSON-RPC: ${event.data.slice(0, 200)}`),
              onSome: dispatchIn
            })).pipe(Effect.mapError((cause) => transportError("Cannot read the MCP server's event stream", cause)))
        }
        const text = yield* response.text.pipe(Effect.mapError((cause) => transportError("Cannot read the MCP server's answer", cause)))
        if (text.trim() === "") return
        const parsed = Option.liftThrowable(JSON.parse)(text)
        const messages = Option.map(parsed, (json) => Array.isArray(json) ? json : [json])
        if (Option.isNone(messages)) return yield* failure(new McpClientError.ProtocolError({ description: "Invalid MCP JSON" }))
        for (const json of messages.value) {
          const decoded = decodeMessage(json)
          if (Option.isSome(decoded)) yield* dispatchIn(decoded.value)
        }
      })
    const dispatch = makeDispatch({ peer: options.peer, pending, send })
    const listen: Effect.Effect<void> = Effect.gen(function*() {
      const response = yield* http.execute(HttpClientRequest.get(options.url, { headers: { ...headersFor(), accept: "text/event-stream" } }))
      if (response.status !== 200) return
      yield* readEvents(response.stream, (event) => Option.match(parseEvent(event), { onNone: () => Effect.void, onSome: dispatchIn }))
    }).pipe(
      Effect.catchCause((cause) => Effect.logDebug("toolgate mcp: an upstream's event stream ended", cause))
    )
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* Deferred.fail(failed, failure(new McpClientError.ClosedError({ description: "MCP transport closed" })))
        if (session !== undefined) {
          yield* http.execute(HttpClientRequest.delete(options.url, { headers: headersFor() })).pipe(
            Effect.timeoutOption(closeTimeout),
            Effect.ignore
          )
        }
      })
    )
    const request = makeRequest({ pending, send, failed })
    return {
      ["~effect/ai/McpClient/Transport"]: "~effect/ai/McpClient/Transport",
      protocol: options.protocol,
      isCallable: () => true,
      notify: send,
      // the answer comes in the POST's own response, which `send` reads to
      // its end, dispatching the server's messages on the way
      request
    } as unknown as McpClient.Transport
  })
