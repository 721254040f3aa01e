/**
 * A gating MCP proxy: the agent talks MCP to toolgate, toolgate talks MCP to
 * the real servers, and every call passes the same gate as a built-in tool
 * (policy → argument check → pools → approval → upstream).
 *
 * The configuration is the `mcpServers` file users already write for Claude
 * Desktop and Claude Code. Each upstream's tools are re-exposed as
 * `SERVER__TOOL` with their descriptions and input schemas unchanged; the
 * policy sees them as `mcp__SERVER__TOOL`, Claude Code's naming. Server names
 * are single-underscore words, so that name splits one way only: `a__b`
 * cannot pose as server `a`.
 *
 * The invariant: a call reaches an upstream only after the gate allowed it
 * and its arguments passed the tool's input schema. Everything else (a
 * denial, bad arguments, an upstream that crashed or hung) comes back to the
 * client as a tool result with `isError: true` whose text the model reads;
 * the gateway itself stays up and restarts a crashed upstream on its next
 * call.
 *
 * @since 0.1.0
 */
import { Context, type Duration, Effect, FileSystem, identity, Layer, Option, Schema } from "effect"
import { type McpClientError, McpProtocol, McpSchema, McpServer, Tool, Toolkit } from "effect/ai"
import * as Approval from "../Approval.ts"
import * as PolicySubject from "../policy/PolicySubject.ts"
import * as Concurrency from "../Concurrency.ts"
import * as Executor from "../Executor.ts"
import * as ToolEvents from "../ToolEvents.ts"
import * as ToolPolicy from "../ToolPolicy.ts"
import * as ToolResult from "../ToolResult.ts"
import { compile } from "./internal/mcp/inputSchema.ts"
import * as Upstream from "./internal/mcp/upstream.ts"

// -----------------------------------------------------------------------------
// Configuration
// -----------------------------------------------------------------------------

/**
 * One entry of `mcpServers`: a command speaking MCP on stdio (`command`,
 * `args`, `env`, `cwd`), or a Streamable HTTP server (`url`, `headers`).
 *
 * @example
 * ```ts
 * import type { McpGateway } from "toolgate/node"
 * const fs: McpGateway.ServerConfig = { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "."] }
 * ```
 *
 * @since 0.1.0
 */
export const ServerConfig = Schema.Struct({
  command: Schema.optional(Schema.String),
  args: Schema.optional(Schema.Array(Schema.String)),
  env: Schema.optional(Schema.Record(Schema.String, Schema.String)),
  cwd: Schema.optional(Schema.String),
  url: Schema.optional(Schema.String),
  headers: Schema.optional(Schema.Record(Schema.String, Schema.String))
})

/**
 * @since 0.1.0
 */
export type ServerConfig = typeof ServerConfig.Type

/**
 * The gateway's configuration file: `{ "mcpServers": { NAME: ServerConfig } }`,
 * the shape of Claude Desktop's and Claude Code's MCP settings.
 *
 * @example
 * ```ts
 * import type { McpGateway } from "toolgate/node"
 * const config: McpGateway.Config = { mcpServers: { fs: { command: "node", args: ["server.js"] } } }
 * ```
 *
 * @since 0.1.0
 */
export const Config = Schema.Struct({ mcpServers: Schema.Record(Schema.String, ServerConfig) })

/**
 * @since 0.1.0
 */
export type Config = typeof Config.Type

/**
 * The configuration is unusable. Nothing is started from a configuration
 * with an error: the message names the file, the server and what to change.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { McpGateway } from "toolgate/node"
 * McpGateway.loadConfig("mcp.json").pipe(Effect.catchTag("McpConfigError", (e) => Effect.logError(e.message)))
 * ```
 *
 * @since 0.1.0
 */
export class McpConfigError extends Schema.TaggedError<McpConfigError>()("McpConfigError", {
  file: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `${this.file}: ${this.problem}. Fix the file and start the gateway again; nothing was started.`
  }
}

/**
 * An upstream server could not be started or did not list its tools.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { McpGateway } from "toolgate/node"
 * const report = (e: McpGateway.UpstreamError) => Effect.logError(e.message)
 * ```
 *
 * @since 0.1.0
 */
export class UpstreamError extends Schema.TaggedError<UpstreamError>()("UpstreamError", {
  server: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `MCP server ${JSON.stringify(this.server)} did not start: ${this.problem}. ` +
      `Check its command (run it by hand: it must speak MCP 2025-11-25 on stdout) or URL.`
  }
}

// Words joined by single underscores: `SERVER__TOOL` and `mcp__SERVER__TOOL`
// then split at the first double underscore, one way only.
const serverNamePattern = /^[A-Za-z0-9-]+(?:_[A-Za-z0-9-]+)*$/

/**
 * Checks a decoded configuration: at least one server, names made of
 * letters, digits, `-` and single `_` (a `__` in a name would let a server
 * called `a__b` pass for server `a` in the rules), and each entry either a
 * `command` or a `url`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { McpGateway } from "toolgate/node"
 * McpGateway.validate("mcp.json", { mcpServers: { "a__b": { command: "x" } } })
 * // fails: McpConfigError "… server name "a__b" …"
 * ```
 *
 * @since 0.1.0
 */
export const validate = (file: string, config: Config): Effect.Effect<Config, McpConfigError> =>
  Effect.gen(function*() {
    const fail = (problem: string) => Effect.fail(new McpConfigError({ file, problem }))
    const names = Object.keys(config.mcpServers)
    if (names.length === 0) return yield* fail("\"mcpServers\" lists no server")
    for (const name of names) {
      if (!serverNamePattern.test(name)) {
        return yield* fail(
          `the server name ${JSON.stringify(name)} is not allowed: use letters, digits, "-" and single "_" ` +
            `(no "__", which separates the server from the tool in "mcp__SERVER__TOOL", and no "_" at either end)`
        )
      }
      const entry = config.mcpServers[name]!
      if ((entry.command === undefined) === (entry.url === undefined)) {
        return yield* fail(`the server ${JSON.stringify(name)} needs exactly one of "command" (stdio) or "url" (Streamable HTTP)`)
      }
      if (entry.url !== undefined && !URL.canParse(entry.url)) {
        return yield* fail(`the server ${JSON.stringify(name)} has an invalid "url" ${JSON.stringify(entry.url)}`)
      }
    }
    return config
  })

const decodeConfig = Schema.decodeUnknownEffect(Schema.fromJsonString(Config))

/**
 * Reads and checks a configuration file.
 *
 * @example
 * ```ts
 * import { NodeServices } from "@effect/platform-node"
 * import { Effect } from "effect"
 * import { McpGateway } from "toolgate/node"
 * const config = McpGateway.loadConfig("mcp.json").pipe(Effect.provide(NodeServices.layer))
 * ```
 *
 * @since 0.1.0
 */
export const loadConfig = Effect.fn("toolgate.McpGateway.loadConfig")(function*(file: string) {
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs.readFileString(file).pipe(
    Effect.mapError((e) => new McpConfigError({ file, problem: `cannot read the file (${e.message})` }))
  )
  const config = yield* decodeConfig(text).pipe(
    Effect.mapError((e) => new McpConfigError({ file, problem: `not a valid {"mcpServers": {...}} file: ${e.message}` }))
  )
  return yield* validate(file, config)
})

// -----------------------------------------------------------------------------
// Names
// -----------------------------------------------------------------------------

/**
 * The name a client sees for an upstream tool: `SERVER__TOOL`.
 *
 * @example
 * ```ts
 * import { McpGateway } from "toolgate/node"
 * McpGateway.exposedName("github", "create_issue") // => "github__create_issue"
 * ```
 *
 * @since 0.1.0
 */
export const exposedName = (server: string, tool: string): string => `${server}__${tool}`

/**
 * The name the policy sees for an upstream tool: `mcp__SERVER__TOOL`, as in
 * Claude Code's rules (`mcp__github`, `mcp__github__*`,
 * `mcp__github__create_issue`).
 *
 * @example
 * ```ts
 * import { McpGateway } from "toolgate/node"
 * McpGateway.policyName("github", "create_issue") // => "mcp__github__create_issue"
 * ```
 *
 * @since 0.1.0
 */
export const policyName = (server: string, tool: string): string => `mcp__${server}__${tool}`

// -----------------------------------------------------------------------------
// The gateway
// -----------------------------------------------------------------------------

/**
 * A running gateway: the tools it exposes (upstream tools renamed) and
 * `call`, which gates one call and always answers with a tool result.
 *
 * @example
 * ```ts
 * import type { McpGateway } from "toolgate/node"
 * const names = (g: McpGateway.Gateway) => g.tools.map((t) => t.name)
 * ```
 *
 * @since 0.1.0
 */
export interface Gateway {
  readonly tools: ReadonlyArray<McpSchema.Tool>
  readonly call: (name: string, args: unknown) => Effect.Effect<McpSchema.CallToolResult>
  /** The argument check of a tool by its policy name (`mcp__SERVER__TOOL`), e.g. for a console's param editor. */
  readonly parameters: (policyName: string) => Schema.Top | undefined
}

/**
 * Options for {@link make}. `callTimeout` bounds each upstream call (default
 * 60 seconds); `startTimeout` bounds an upstream's start-up and tool listing
 * (default 30 seconds).
 *
 * @example
 * ```ts
 * import type { McpGateway } from "toolgate/node"
 * const options: McpGateway.Options = { config: { mcpServers: { fs: { command: "fs-server" } } }, callTimeout: "10 seconds" }
 * ```
 *
 * @since 0.1.0
 */
export interface Options {
  readonly config: Config
  readonly callTimeout?: Duration.Input | undefined
  readonly startTimeout?: Duration.Input | undefined
}

interface Entry {
  readonly exposed: McpSchema.Tool
  readonly policyName: string
  readonly unchecked: string | undefined
}

const endpointOf = (entry: ServerConfig): Upstream.Endpoint =>
  entry.url !== undefined
    ? { _tag: "Http", url: entry.url, headers: entry.headers ?? {} }
    : { _tag: "Stdio", command: entry.command!, args: entry.args ?? [], env: entry.env ?? {}, cwd: entry.cwd }

const describeClientError = (error: McpClientError.McpClientError): string =>
  error.reason._tag === "TimeoutError" ? `the MCP server did not answer in time (${error.message})` : error.message

const text = (value: string, isError: boolean) =>
  new McpSchema.CallToolResult({ content: [{ type: "text", text: value }], isError })

/** The client's answer for a call that did not run, or whose upstream failed: the reason as text. */
const toCallToolResult = (result: ToolResult.ToolResult, name: string): McpSchema.CallToolResult => {
  if (result.outcome._tag === "Succeeded") {
    return Schema.is(McpSchema.CallToolResult)(result.result) ? result.result : text(JSON.stringify(result.result), false)
  }
  if (result.outcome._tag === "Failed") {
    return text(`Tool call ${name} failed: ${typeof result.result === "string" ? result.result : JSON.stringify(result.result)}`, true)
  }
  return text(ToolResult.explain(name, result.outcome), true)
}

/** Mirrors one upstream's tools as effect/ai tools named for the policy, with handlers calling the upstream. */
const mirror = (upstream: Upstream.Upstream) =>
  upstream.tools.map((remote) => {
    const name = policyName(upstream.name, remote.name)
    const check = compile(remote.inputSchema)
    // The structured identity, so rules match (server, tool) whatever the name spells.
    const tool = PolicySubject.mcp(upstream.name, remote.name)(Tool.make(name, {
      ...(remote.description !== undefined ? { description: remote.description } : {}),
      parameters: check.parameters,
      success: Schema.Unknown,
      failure: Schema.String
    }))
    return {
      // readOnlyHint is the server's own claim; anything short of `true` is a mutator (fail safe)
      tool: remote.annotations?.readOnlyHint === true ? tool.annotate(Tool.Readonly, true) : tool,
      handler: (args: unknown) =>
        upstream.call(remote, args as Record<string, unknown>).pipe(Effect.mapError(describeClientError)),
      entry: {
        exposed: new McpSchema.Tool({ ...remote, name: exposedName(upstream.name, remote.name) }),
        policyName: name,
        unchecked: check.unchecked
      } satisfies Entry
    }
  })

/**
 * Starts every upstream, lists its tools and returns the {@link Gateway}.
 * Fails with {@link UpstreamError} when a server does not start: a gateway
 * missing a configured server would hide that server's tools silently.
 *
 * Calls use the `ToolPolicy` and `ApprovalHandler` of the context `make`
 * runs in, plus the optional `ToolEvents` and `Concurrency` services. A
 * tool whose input schema could not be imported is asked about even when
 * the policy allows it.
 *
 * @example
 * ```ts
 * import { NodeServices } from "@effect/platform-node"
 * import { Effect } from "effect"
 * import { FetchHttpClient } from "effect/http"
 * import { McpGateway } from "toolgate/node"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const gateway = yield* McpGateway.make({ config: { mcpServers: { fs: { command: "fs-server" } } } })
 *   return yield* gateway.call("fs__read_file", { path: "README.md" })
 * })).pipe(Effect.provide([NodeServices.layer, FetchHttpClient.layer]))
 * ```
 *
 * @since 0.1.0
 */
export const make = Effect.fn("toolgate.McpGateway.make")(function*(options: Options) {
  const upstreams = yield* Effect.forEach(
    Object.entries(options.config.mcpServers),
    ([name, entry]) =>
      Upstream.connect({
        name,
        endpoint: endpointOf(entry),
        startTimeout: options.startTimeout ?? "30 seconds",
        callTimeout: options.callTimeout ?? "60 seconds"
      }).pipe(Effect.mapError((e) => new UpstreamError({ server: name, problem: e.message }))),
    { concurrency: "unbounded" }
  )
  const mirrored = upstreams.flatMap(mirror)
  const toolkit = Toolkit.make(...mirrored.map((m) => m.tool))
  const handlers = Object.fromEntries(mirrored.map((m) => [m.entry.policyName, m.handler]))
  const withHandler: Toolkit.WithHandler<any> = yield* Effect.provide(toolkit, toolkit.toLayer(handlers as never))
  const entries = new Map(mirrored.map((m) => [m.entry.exposed.name, m.entry]))
  const unchecked = new Map(mirrored.flatMap((m) => m.entry.unchecked === undefined ? [] : [[m.entry.policyName, m.entry.unchecked]]))

  // The services of the context `make` runs in, handed to every call (which
  // runs in the MCP server's fiber, under its own span).
  const policy = yield* ToolPolicy.ToolPolicy
  const approval = yield* Approval.ApprovalHandler
  const pools = yield* Concurrency.Concurrency
  const events = yield* Effect.serviceOption(ToolEvents.ToolEvents)
  // What the engine cannot check is asked, never allowed: a rule that allows
  // a tool whose arguments went unchecked becomes a question.
  const gatedPolicy: ToolPolicy.ToolPolicy = unchecked.size === 0 ? policy : {
    decide: (request) =>
      Effect.map(policy.decide(request), (verdict) => {
        const why = unchecked.get(request.call.name)
        return verdict._tag === "Allow" && why !== undefined
          ? ToolPolicy.Verdict.Ask({ reason: `${why}, so every call is asked`, match: verdict.match })
          : verdict
      })
  }

  let sequence = 0
  const call = (name: string, args: unknown): Effect.Effect<McpSchema.CallToolResult> => {
    const entry = entries.get(name)
    const id = `mcp-${++sequence}`
    const params = args ?? {}
    if (entry === undefined) {
      const outcome = ToolResult.Outcome.NotFound({ available: Array.from(entries.keys()) })
      return Effect.succeed(text(ToolResult.explain(name, outcome), true))
    }
    const trace = { verdict: undefined as ToolPolicy.Verdict | undefined, decision: undefined as Approval.ApprovalDecision | undefined }
    const recordingPolicy: ToolPolicy.ToolPolicy = {
      decide: (request) => Effect.tap(gatedPolicy.decide(request), (v) => Effect.sync(() => void (trace.verdict ??= v)))
    }
    const recordingApproval: Approval.ApprovalHandler = {
      approve: (request) => Effect.tap(approval.approve(request), (d) => Effect.sync(() => void (trace.decision = d)))
    }
    const execute = (Executor.execute(withHandler, { id, name: entry.policyName, params }) as Effect.Effect<
      ToolResult.ToolResult
    >).pipe(
      Effect.provideService(ToolPolicy.ToolPolicy, recordingPolicy),
      Effect.provideService(Approval.ApprovalHandler, recordingApproval),
      Effect.provideService(Concurrency.Concurrency, pools),
      Option.isSome(events) ? Effect.provideService(ToolEvents.ToolEvents, events.value) : identity
    )
    return Effect.gen(function*() {
      const result = yield* execute
      yield* Effect.annotateCurrentSpan(spanAttributes(result, trace))
      return toCallToolResult(result, name)
    }).pipe(
      Effect.withSpan("toolgate.mcp.call", { attributes: { "toolgate.tool": name, "toolgate.call": id } }, {
        captureStackTrace: false
      })
    )
  }

  const parameters = new Map(mirrored.map((m) => [m.entry.policyName, m.tool.parametersSchema as Schema.Top]))
  return {
    tools: mirrored.map((m) => m.entry.exposed),
    call,
    parameters: (name) => parameters.get(name)
  } satisfies Gateway
})

/** Decision, who decided and the rule, for the call's span. */
const spanAttributes = (
  result: ToolResult.ToolResult,
  trace: { readonly verdict: ToolPolicy.Verdict | undefined; readonly decision: Approval.ApprovalDecision | undefined }
): Record<string, unknown> => {
  const { outcome } = result
  const denied = outcome._tag === "PolicyDenied" || outcome._tag === "ApprovalDenied"
  const decidedBy = outcome._tag === "PolicyDenied" || trace.verdict?._tag === "Allow"
    ? "policy"
    : trace.decision !== undefined
    ? trace.decision.decidedBy ?? "handler"
    : outcome._tag === "ApprovalDenied"
    ? outcome.decidedBy
    : undefined
  return {
    "toolgate.outcome": outcome._tag,
    "toolgate.decision": denied ? "deny" : trace.verdict === undefined ? "none" : "allow",
    ...(decidedBy !== undefined ? { "toolgate.decided_by": decidedBy } : {}),
    ...(trace.verdict?.match !== undefined ? { "toolgate.rule": ToolPolicy.describeMatch(trace.verdict.match) } : {})
  }
}

/**
 * Registers a gateway's tools on the `McpServer` being built, each handled
 * by `gateway.call`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { McpServer, McpProtocol } from "effect/ai"
 * import { McpGateway } from "toolgate/node"
 * declare const gateway: McpGateway.Gateway
 * const server = McpServer.layerStdio({
 *   name: "toolgate", version: "0.1.0", protocols: [McpProtocol.v2025_11_25],
 *   registrations: McpGateway.registrations(gateway)
 * })
 * ```
 *
 * @since 0.1.0
 */
export const registrations = (gateway: Gateway): Layer.Layer<never, never, McpServer.McpServer> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const server = yield* McpServer.McpServer
    for (const tool of gateway.tools) {
      yield* server.addTool({ tool, annotations: Context.empty(), handle: (args) => gateway.call(tool.name, args) })
    }
  }))

/**
 * The gateway served over stdio, as an MCP client such as Claude Desktop or
 * Claude Code starts it. The protocols offered are the ones effect's server
 * speaks (2025-06-18 and later).
 *
 * @example
 * ```ts
 * import { NodeRuntime, NodeServices, NodeStdio } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import { FetchHttpClient } from "effect/http"
 * import { McpGateway } from "toolgate/node"
 * const config: McpGateway.Config = { mcpServers: { fs: { command: "fs-server" } } }
 * Layer.launch(McpGateway.layerStdio({ config }).pipe(
 *   Layer.provide([NodeStdio.layer, NodeServices.layer, FetchHttpClient.layer])
 * )).pipe(NodeRuntime.runMain)
 * ```
 *
 * @since 0.1.0
 */
export const layerStdio = (options: Options) => Layer.unwrap(Effect.map(make(options), serveStdio))

/**
 * Serves a gateway that is already running over stdio.
 *
 * @example
 * ```ts
 * import { NodeStdio } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import { McpGateway } from "toolgate/node"
 * declare const gateway: McpGateway.Gateway
 * const served = Layer.launch(McpGateway.serveStdio(gateway).pipe(Layer.provide(NodeStdio.layer)))
 * ```
 *
 * @since 0.1.0
 */
export const serveStdio = (gateway: Gateway) =>
  McpServer.layerStdio({
    name: "toolgate",
    version: "0.1.0",
    protocols: [McpProtocol.v2025_11_25, McpProtocol.v2025_06_18, McpProtocol.v2025_03_26],
    registrations: registrations(gateway)
  })
