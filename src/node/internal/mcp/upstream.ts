/**
 * One upstream MCP server as the gateway holds it: a connection that is made
 * on first use and made again after the server died.
 *
 * The connection lives in an `RcRef` kept open until the gateway closes. A
 * call that fails because the transport broke (the process exited, the pipe
 * closed) invalidates it, so the next call starts a fresh server: a crash
 * costs the calls in flight an error result, never the gateway. A call that
 * times out does not restart the server (other calls may be using it); the
 * caller gets a timeout result.
 */
import { Context, Duration, Effect, Exit, RcRef, Scope } from "effect"
import { McpClient, McpClientError, McpProtocol, type McpSchema } from "effect/ai"
import type { HttpClient } from "effect/http"
import { ChildProcess, ChildProcessSpawner } from "effect/process"
import * as StrayLines from "./strayLines.ts"
import * as Transport from "./transport.ts"

/** Where an upstream lives: a command speaking MCP on stdio, a Streamable HTTP URL, or a legacy SSE URL. */
export type Endpoint =
  | {
    readonly _tag: "Stdio"
    readonly command: string
    readonly args: ReadonlyArray<string>
    readonly env: Readonly<Record<string, string>>
    readonly cwd: string | undefined
  }
  | { readonly _tag: "Http"; readonly url: string; readonly headers: Readonly<Record<string, string>> }
  /** The legacy HTTP+SSE transport (see `transport.ts`). */
  | { readonly _tag: "Sse"; readonly url: string; readonly headers: Readonly<Record<string, string>> }

export interface Upstream {
  readonly name: string
  /** The server's `instructions` for the model, if it gave any. */
  readonly instructions: string | undefined
  /** The tools the server listed when the gateway started. */
  readonly tools: ReadonlyArray<McpSchema.Tool>
  /** Its resources and prompts at start (empty when it offers none). */
  readonly resources: ReadonlyArray<McpSchema.Resource>
  readonly prompts: ReadonlyArray<McpSchema.Prompt>
  /** Its resource templates at start (empty when it offers none). */
  readonly templates: ReadonlyArray<McpSchema.ResourceTemplate>
  /** What the server declared in `initialize`. */
  readonly capabilities: McpSchema.ServerCapabilities
  /** Lists again what the server offers (after it said a list changed). */
  readonly relist: Effect.Effect<Listed, McpClientError.McpClientError>
  /**
   * A request effect's client has no method for (`completion/complete`,
   * `logging/setLevel`): sent as is, the JSON-RPC result or error returned.
   */
  readonly raw: (method: string, params: Record<string, unknown>) => Effect.Effect<unknown, McpClientError.McpClientError>
  readonly readResource: (uri: string) => Effect.Effect<McpSchema.ReadResourceResult, McpClientError.McpClientError>
  readonly getPrompt: (
    prompt: McpSchema.Prompt,
    args: Readonly<Record<string, string>>
  ) => Effect.Effect<McpSchema.GetPromptResult, McpClientError.McpClientError>
  readonly call: (
    tool: McpSchema.Tool,
    args: Record<string, unknown>
  ) => Effect.Effect<McpSchema.CallToolResult, McpClientError.McpClientError>
}

/** What a server offers, as listed. */
export interface Listed {
  readonly tools: ReadonlyArray<McpSchema.Tool>
  readonly resources: ReadonlyArray<McpSchema.Resource>
  readonly templates: ReadonlyArray<McpSchema.ResourceTemplate>
  readonly prompts: ReadonlyArray<McpSchema.Prompt>
}

const clientInfo = { name: "toolgate", version: "0.1.0" }

/**
 * The protocol revisions the gateway speaks to upstreams, newest first: the
 * ones the official TypeScript SDK client accepts.
 */
export const protocols = [McpProtocol.v2025_11_25, McpProtocol.v2025_06_18, McpProtocol.v2025_03_26, McpProtocol.v2024_11_05] as const

type Protocol = (typeof protocols)[number]

// effect types the client's protocol as the two newest revisions; its
// implementation speaks the older ones through the same adapters (the
// gateway's tests drive servers of SDK 1.12 and 1.17 through them).
const asClientProtocol = (protocol: Protocol) => protocol as unknown as typeof McpProtocol.v2025_11_25

/** The server answered `initialize` with a revision other than the one offered. */
const versionRefused = (error: McpClientError.McpClientError) =>
  error.reason._tag === "UnsupportedError" && /protocol version/.test(error.message)

const transportFor = (endpoint: Endpoint, protocol: Protocol, peer: Transport.Peer) =>
  endpoint._tag === "Stdio"
    ? Transport.stdio({
      peer,
      protocol: asClientProtocol(protocol),
      command: ChildProcess.make(endpoint.command, [...endpoint.args], {
        env: endpoint.env,
        extendEnv: true,
        ...(endpoint.cwd !== undefined ? { cwd: endpoint.cwd } : {}),
        // stdout carries the protocol; the server's own logs go where ours do
        stderr: "inherit"
      })
    })
    : endpoint._tag === "Sse"
    ? Transport.sse({ peer, protocol: asClientProtocol(protocol), url: endpoint.url, headers: endpoint.headers })
    : Transport.streamableHttp({ peer, protocol: asClientProtocol(protocol), url: endpoint.url, headers: endpoint.headers })

interface Connection {
  readonly client: McpClient.McpClient
  readonly transport: McpClient.Transport
}

const brokenTransport = (error: McpClientError.McpClientError) =>
  error.reason._tag === "TransportError" || error.reason._tag === "ClosedError" || error.reason._tag === "HttpError"

/**
 * Connects to an upstream and lists its tools. Fails when the server cannot
 * be started or does not answer `initialize` and `tools/list` within
 * `startTimeout`.
 */
export const connect = (options: {
  readonly name: string
  readonly endpoint: Endpoint
  readonly startTimeout: Duration.Input
  readonly callTimeout: Duration.Input
  readonly peer: Transport.Peer
}): Effect.Effect<
  Upstream,
  McpClientError.McpClientError,
  Scope.Scope | ChildProcessSpawner.ChildProcessSpawner | HttpClient.HttpClient
> =>
  Effect.gen(function*() {
    // the upstream's stdout reaches effect's client with its stray lines skipped
    const filtering = yield* StrayLines.filtering(options.name)
    const spawner = Context.add(
      yield* Effect.context<ChildProcessSpawner.ChildProcessSpawner | HttpClient.HttpClient>(),
      ChildProcessSpawner.ChildProcessSpawner,
      filtering
    )
    // the revision the server accepted; the next connection starts there
    let accepted = 0
    // Each attempt in a scope of its own, closed when the server refuses:
    // the refusing server's process ends before the next one starts.
    const open = (index: number): Effect.Effect<Connection, McpClientError.McpClientError, Scope.Scope> =>
      Effect.gen(function*() {
        const attempt = yield* Scope.fork(yield* Effect.scope)
        return yield* Effect.gen(function*() {
          const transport = yield* transportFor(options.endpoint, protocols[index]!, options.peer)
          const client = yield* McpClient.make({ ...clientInfo, timeout: options.startTimeout }).pipe(
            Effect.provideService(McpClient.Transport, transport)
          )
          return { client, transport }
        }).pipe(Scope.provide(attempt), Effect.onError(() => Scope.close(attempt, Exit.void)))
      }).pipe(
        Effect.provideContext(spawner),
        Effect.tap(() => Effect.sync(() => void (accepted = index))),
        Effect.catchIf(
          (error) => versionRefused(error) && index + 1 < protocols.length,
          () => open(index + 1)
        )
      )
    const connection = yield* RcRef.make({
      acquire: Effect.suspend(() => open(accepted)),
      idleTimeToLive: Duration.infinity
    })
    // Every use gets the live connection; a broken transport makes the next
    // use start the server again.
    const useConnection = <A>(f: (connection: Connection) => Effect.Effect<A, McpClientError.McpClientError>) =>
      Effect.scoped(Effect.flatMap(RcRef.get(connection), f)).pipe(
        Effect.tapError((error) => brokenTransport(error) ? RcRef.invalidate(connection) : Effect.void)
      )
    const use = <A>(f: (client: McpClient.McpClient) => Effect.Effect<A, McpClientError.McpClientError>) =>
      useConnection((c) => f(c.client))
    let rawId = 0
    const raw = (method: string, params: Record<string, unknown>, timeout: Duration.Input = options.callTimeout) =>
      useConnection(({ transport }) =>
        transport.request({ jsonrpc: "2.0", id: `toolgate-${++rawId}`, method, params }).pipe(
          Effect.timeoutOrElse({
            duration: timeout,
            orElse: () => Effect.fail(new McpClientError.McpClientError({ reason: new McpClientError.TimeoutError({ operation: method }) }))
          }),
          Effect.flatMap((response) =>
            "error" in response
              ? Effect.fail(new McpClientError.McpClientError({
                reason: new McpClientError.ProtocolError({ code: response.error.code, description: response.error.message })
              }))
              : Effect.succeed(response.result as unknown)
          )
        )
      )
    const list: Effect.Effect<Listed, McpClientError.McpClientError> = use((client) =>
      Effect.gen(function*() {
        const templates = client.capabilities.resources === undefined
          ? []
          : yield* raw("resources/templates/list", {}, options.startTimeout).pipe(
            Effect.map((result) => (result as { resourceTemplates?: ReadonlyArray<McpSchema.ResourceTemplate> }).resourceTemplates ?? [])
          )
        return {
          tools: yield* client.listTools(),
          // listing what a server does not offer yields nothing, not an error
          resources: yield* client.listResources(),
          templates,
          prompts: yield* client.listPrompts()
        }
      })
    )
    const { capabilities, instructions } = yield* use((client) =>
      Effect.succeed({ capabilities: client.capabilities, instructions: client.instructions })
    )
    const { prompts, resources, templates, tools } = yield* list
    return {
      name: options.name,
      instructions,
      capabilities,
      tools,
      resources,
      templates,
      prompts,
      relist: list,
      raw: (method, params) => raw(method, params),
      call: (tool, args) => use((client) => client.callTool({ tool, arguments: args }, { timeout: options.callTimeout })),
      readResource: (uri) => use((client) => client.readResource({ uri }, { timeout: options.callTimeout })),
      getPrompt: (prompt, args) => use((client) => client.getPrompt({ prompt, arguments: args }, { timeout: options.callTimeout }))
    }
  })
