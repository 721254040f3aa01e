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
import { Duration, Effect, RcRef, type Scope } from "effect"
import { McpClient, type McpClientError, McpProtocol, type McpSchema } from "effect/ai"
import type { HttpClient } from "effect/http"
import { ChildProcess, type ChildProcessSpawner } from "effect/process"

/** Where an upstream lives: a command speaking MCP on stdio, or a Streamable HTTP URL. */
export type Endpoint =
  | {
    readonly _tag: "Stdio"
    readonly command: string
    readonly args: ReadonlyArray<string>
    readonly env: Readonly<Record<string, string>>
    readonly cwd: string | undefined
  }
  | { readonly _tag: "Http"; readonly url: string; readonly headers: Readonly<Record<string, string>> }

export interface Upstream {
  readonly name: string
  /** The tools the server listed when the gateway started. */
  readonly tools: ReadonlyArray<McpSchema.Tool>
  readonly call: (
    tool: McpSchema.Tool,
    args: Record<string, unknown>
  ) => Effect.Effect<McpSchema.CallToolResult, McpClientError.McpClientError>
}

const clientInfo = { name: "toolgate", version: "0.1.0" }

const transportFor = (endpoint: Endpoint) =>
  endpoint._tag === "Stdio"
    ? McpClient.stdio({
      protocol: McpProtocol.v2025_11_25,
      command: ChildProcess.make(endpoint.command, [...endpoint.args], {
        env: endpoint.env,
        extendEnv: true,
        ...(endpoint.cwd !== undefined ? { cwd: endpoint.cwd } : {}),
        // stdout carries the protocol; the server's own logs go where ours do
        stderr: "inherit"
      })
    })
    : McpClient.http({ protocol: McpProtocol.v2025_11_25, url: endpoint.url, headers: endpoint.headers })

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
}): Effect.Effect<
  Upstream,
  McpClientError.McpClientError,
  Scope.Scope | ChildProcessSpawner.ChildProcessSpawner | HttpClient.HttpClient
> =>
  Effect.gen(function*() {
    const spawner = yield* Effect.context<ChildProcessSpawner.ChildProcessSpawner | HttpClient.HttpClient>()
    const connection = yield* RcRef.make({
      acquire: Effect.gen(function*() {
        const transport = yield* transportFor(options.endpoint)
        return yield* McpClient.make({ ...clientInfo, timeout: options.startTimeout }).pipe(
          Effect.provideService(McpClient.Transport, transport)
        )
      }).pipe(Effect.provideContext(spawner)),
      idleTimeToLive: Duration.infinity
    })
    const tools = yield* Effect.scoped(Effect.flatMap(RcRef.get(connection), (client) => client.listTools()))
    const call: Upstream["call"] = (tool, args) =>
      Effect.scoped(Effect.gen(function*() {
        const client = yield* RcRef.get(connection)
        return yield* client.callTool({ tool, arguments: args }, { timeout: options.callTimeout })
      })).pipe(
        Effect.tapError((error) => brokenTransport(error) ? RcRef.invalidate(connection) : Effect.void)
      )
    return { name: options.name, tools, call }
  })
