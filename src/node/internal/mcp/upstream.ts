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
import { McpClient, type McpClientError, McpProtocol, type McpSchema } from "effect/ai"
import type { HttpClient } from "effect/http"
import { ChildProcess, ChildProcessSpawner } from "effect/process"
import * as StrayLines from "./strayLines.ts"

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
  /** The server's `instructions` for the model, if it gave any. */
  readonly instructions: string | undefined
  /** The tools the server listed when the gateway started. */
  readonly tools: ReadonlyArray<McpSchema.Tool>
  /** Its resources and prompts at start (empty when it offers none). */
  readonly resources: ReadonlyArray<McpSchema.Resource>
  readonly prompts: ReadonlyArray<McpSchema.Prompt>
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

const transportFor = (endpoint: Endpoint, protocol: Protocol) =>
  endpoint._tag === "Stdio"
    ? McpClient.stdio({
      protocol: asClientProtocol(protocol),
      command: ChildProcess.make(endpoint.command, [...endpoint.args], {
        env: endpoint.env,
        extendEnv: true,
        ...(endpoint.cwd !== undefined ? { cwd: endpoint.cwd } : {}),
        // stdout carries the protocol; the server's own logs go where ours do
        stderr: "inherit"
      })
    })
    : McpClient.http({ protocol: asClientProtocol(protocol), url: endpoint.url, headers: endpoint.headers })

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
    const open = (index: number): Effect.Effect<McpClient.McpClient, McpClientError.McpClientError, Scope.Scope> =>
      Effect.gen(function*() {
        const attempt = yield* Scope.fork(yield* Effect.scope)
        return yield* Effect.gen(function*() {
          const transport = yield* transportFor(options.endpoint, protocols[index]!)
          return yield* McpClient.make({ ...clientInfo, timeout: options.startTimeout }).pipe(
            Effect.provideService(McpClient.Transport, transport)
          )
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
    const { instructions, prompts, resources, tools } = yield* Effect.scoped(Effect.gen(function*() {
      const client = yield* RcRef.get(connection)
      return {
        instructions: client.instructions,
        tools: yield* client.listTools(),
        // listing what a server does not offer yields nothing, not an error
        resources: yield* client.listResources(),
        prompts: yield* client.listPrompts()
      }
    }))
    // Every use gets the live connection; a broken transport makes the next
    // use start the server again.
    const use = <A>(f: (client: McpClient.McpClient) => Effect.Effect<A, McpClientError.McpClientError>) =>
      Effect.scoped(Effect.flatMap(RcRef.get(connection), f)).pipe(
        Effect.tapError((error) => brokenTransport(error) ? RcRef.invalidate(connection) : Effect.void)
      )
    return {
      name: options.name,
      instructions,
      tools,
      resources,
      prompts,
      call: (tool, args) => use((client) => client.callTool({ tool, arguments: args }, { timeout: options.callTimeout })),
      readResource: (uri) => use((client) => client.readResource({ uri }, { timeout: options.callTimeout })),
      getPrompt: (prompt, args) => use((client) => client.getPrompt({ prompt, arguments: args }, { timeout: options.callTimeout }))
    }
  })
