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
 * Resources (listed and templated), prompts and completions pass through
 * gated the same way (`internal/mcp/passthrough.ts`); what upstreams send
 * on their own — progress, log messages, `list_changed`, requests for the
 * client's roots, sampling and elicitation — is relayed to the client
 * (`internal/mcp/relay.ts`).
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
import { Context, Deferred, type Duration, Effect, FileSystem, identity, Layer, Option, References, Schema, Schedule, Semaphore } from "effect"
import { type McpClientError, McpProtocol, McpSchema, McpServer, Tool, Toolkit } from "effect/ai"
import * as Approval from "../Approval.ts"
import * as PolicySubject from "../policy/PolicySubject.ts"
import * as Concurrency from "../Concurrency.ts"
import * as Executor from "../Executor.ts"
import * as ToolEvents from "../ToolEvents.ts"
import * as ToolPolicy from "../ToolPolicy.ts"
import * as ToolResult from "../ToolResult.ts"
import { compile } from "./internal/mcp/inputSchema.ts"
import * as Passthrough from "./internal/mcp/passthrough.ts"
import * as Relay from "./internal/mcp/relay.ts"
import * as Transport from "./internal/mcp/transport.ts"
import * as Upstream from "./internal/mcp/upstream.ts"

// -----------------------------------------------------------------------------
// Configuration
// -----------------------------------------------------------------------------

/**
 * One entry of `mcpServers`: a command speaking MCP on stdio (`command`,
 * `args`, `env`, `cwd`), a Streamable HTTP server (`url`, `headers`), or
 * with `"type": "sse"` a server on the legacy HTTP+SSE transport (`url` of
 * its event stream, `headers`).
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
  type: Schema.optional(Schema.Literals(["stdio", "http", "sse"])),
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
      `Check its command (run it by hand: it must speak MCP, 2024-11-05 to 2025-11-25, on stdout) or URL.`
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
      if (entry.type === "stdio" && entry.command === undefined) return yield* fail(`the server ${JSON.stringify(name)} is "type": "stdio" but has no "command"`)
      if ((entry.type === "http" || entry.type === "sse") && entry.url === undefined) {
        return yield* fail(`the server ${JSON.stringify(name)} is "type": ${JSON.stringify(entry.type)} but has no "url"`)
      }
      if (entry.url !== undefined && !URL.canParse(entry.url)) {
        return yield* fail(`the server ${JSON.stringify(name)} has an invalid "url" ${JSON.stringify(entry.url)}`)
      }
    }
    return config
  })

const decodeConfig = Schema.decodeUnknownEffect(Schema.fromJsonString(Config))

const variable = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/**
 * Expands `${VAR}` and `${VAR:-default}` in a server's `command`, `args`,
 * `env`, `url` and `headers`, as Claude Code does in `.mcp.json`. A variable
 * that is not set and has no default is an error naming it: a server must
 * not start with an empty token or path in place of one.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { McpGateway } from "toolgate/node"
 * const config = { mcpServers: { gh: { url: "${API:-https://api.example.com}/mcp" } } }
 * Effect.runSync(McpGateway.expandVariables("mcp.json", config, {})).mcpServers["gh"]!.url // => "https://api.example.com/mcp"
 * ```
 *
 * @since 0.3.0
 */
export const expandVariables = (
  file: string,
  config: Config,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<Config, McpConfigError> => {
  const missing = new Set<string>()
  const expand = (value: string) =>
    value.replace(variable, (_, name: string, fallback: string | undefined) => {
      const set = env[name]
      if (set !== undefined) return set
      if (fallback !== undefined) return fallback
      missing.add(name)
      return ""
    })
  const record = (r: Readonly<Record<string, string>> | undefined) =>
    r === undefined ? undefined : Object.fromEntries(Object.entries(r).map(([k, v]) => [k, expand(v)]))
  const servers = Object.fromEntries(Object.entries(config.mcpServers).map(([name, entry]) => {
    const expanded: Record<string, unknown> = { ...entry }
    if (entry.command !== undefined) expanded["command"] = expand(entry.command)
    if (entry.args !== undefined) expanded["args"] = entry.args.map(expand)
    if (entry.url !== undefined) expanded["url"] = expand(entry.url)
    if (entry.env !== undefined) expanded["env"] = record(entry.env)
    if (entry.headers !== undefined) expanded["headers"] = record(entry.headers)
    return [name, expanded as ServerConfig]
  }))
  return missing.size > 0
    ? Effect.fail(new McpConfigError({ file, problem: `environment variables not set (and without a default): ${[...missing].join(", ")}` }))
    : Effect.succeed({ mcpServers: servers })
}

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
  return yield* validate(file, yield* expandVariables(file, config, process.env))
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
  /** The tools of the upstreams that are up (those that start later are added to it). */
  readonly tools: ReadonlyArray<McpSchema.Tool>
  /**
   * Calls `register` with what the upstreams that are up offer, then again
   * with what each upstream that comes up later offers (its first start
   * failed and a retry succeeded): everything exactly once.
   */
  readonly subscribe: (register: (added: Added) => Effect.Effect<void>) => Effect.Effect<void>
  /** The upstreams' `instructions`, each under its server's name. */
  readonly instructions: () => string
  /** Reads a resource of `server`, gated as `mcp__SERVER__@resource`. */
  readonly readResource: (server: string, uri: string) => Effect.Effect<unknown, string>
  /** Gets a prompt by its exposed name (`SERVER__PROMPT`), gated as `mcp__SERVER__@prompt`. */
  readonly getPrompt: (
    exposed: string,
    args: Readonly<Record<string, string>>,
    origin?: Relay.Origin
  ) => Effect.Effect<unknown, string>
  /**
   * Asks `server` to complete an argument of one of its prompts (by the
   * upstream's own name) or resource templates, gated as `mcp__SERVER__@completion`.
   */
  readonly complete: (server: string, params: Relay.CompleteParams) => Effect.Effect<unknown, string>
  /**
   * Gates one call. `origin` is the client request it serves: where the
   * upstream's progress for it goes, and who answers the upstream's requests
   * (sampling, elicitation, roots) while it runs.
   */
  readonly call: (name: string, args: unknown, origin?: Relay.Origin) => Effect.Effect<McpSchema.CallToolResult>
  /**
   * Whether an upstream offers this now: a tool or prompt by its exposed
   * name, a resource by its URI, a template by its URI template. What a
   * server stopped offering (it said its list changed) stays registered on
   * effect's server, which cannot remove a registration, but is hidden.
   */
  readonly offers: (kind: "tool" | "prompt" | "resource" | "template", name: string) => boolean
  /** Where the upstreams' log messages go (the client); set once the server runs. */
  readonly attach: (downstream: Relay.Downstream) => void
  /** The argument check of a tool by its policy name (`mcp__SERVER__TOOL`), e.g. for a console's param editor. */
  readonly parameters: (policyName: string) => Schema.Top | undefined
}

/**
 * What an upstream offers the client: its tools (renamed `SERVER__TOOL`),
 * resources (by their own URI) and prompts (renamed `SERVER__PROMPT`).
 *
 * @since 0.3.0
 */
export interface Added {
  readonly tools: ReadonlyArray<McpSchema.Tool>
  readonly resources: ReadonlyArray<{ readonly server: string; readonly resource: McpSchema.Resource }>
  readonly prompts: ReadonlyArray<{ readonly server: string; readonly prompt: McpSchema.Prompt }>
  readonly templates: ReadonlyArray<{ readonly server: string; readonly template: McpSchema.ResourceTemplate }>
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
  /** The upstream's tools with their handlers: what the executor runs this call with. */
  readonly toolkit: Toolkit.WithHandler<any>
}

const endpointOf = (entry: ServerConfig): Upstream.Endpoint =>
  entry.url !== undefined
    ? { _tag: entry.type === "sse" ? "Sse" : "Http", url: entry.url, headers: entry.headers ?? {} }
    : { _tag: "Stdio", command: entry.command!, args: entry.args ?? [], env: entry.env ?? {}, cwd: entry.cwd }

const describeClientError = (error: McpClientError.McpClientError): string =>
  error.reason._tag === "TimeoutError" ? `the MCP server did not answer in time (${error.message})` : error.message

const text = (value: string, isError: boolean) =>
  new McpSchema.CallToolResult({ content: [{ type: "text", text: value }], isError })

// An upstream's answer as plain JSON data: effect/ai encodes a tool's
// success, and an McpSchema class instance does not encode as Unknown.
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

const decodeCallToolResult = Schema.decodeUnknownOption(McpSchema.CallToolResult)

/** The client's answer for a call that did not run, or whose upstream failed: the reason as text. */
const toCallToolResult = (result: ToolResult.ToolResult, name: string): McpSchema.CallToolResult => {
  if (result.outcome._tag === "Succeeded") {
    return Option.getOrElse(decodeCallToolResult(result.result), () => text(JSON.stringify(result.result), false))
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
        upstream.call(remote, args as Record<string, unknown>).pipe(Effect.map(plain), Effect.mapError(describeClientError)),
      entry: {
        exposed: new McpSchema.Tool({ ...remote, name: exposedName(upstream.name, remote.name) }),
        policyName: name,
        unchecked: check.unchecked
      }
    }
  })

/**
 * One upstream as the gateway holds it: its tools as entries sharing one
 * toolkit, with the gated reads of its resources and prompts (see
 * `internal/mcp/passthrough.ts`) in the same toolkit but not listed as tools.
 */
const entriesOf = (upstream: Upstream.Upstream) =>
  Effect.gen(function*() {
    const mirrored = mirror(upstream)
    const extras = Passthrough.mirror(upstream, policyName)
    const toolkit = Toolkit.make(...mirrored.map((m) => m.tool), ...extras.map((m) => m.tool))
    const handlers = Object.fromEntries([
      ...mirrored.map((m) => [m.entry.policyName, m.handler] as const),
      ...extras.map((m) => [m.policyName, m.handler] as const)
    ])
    const withHandler: Toolkit.WithHandler<any> = yield* Effect.provide(toolkit, toolkit.toLayer(handlers as never))
    return {
      server: upstream.name,
      instructions: upstream.instructions,
      tools: mirrored.map((m): Entry & { readonly parameters: Schema.Top } => ({
        ...m.entry,
        toolkit: withHandler,
        parameters: m.tool.parametersSchema as Schema.Top
      })),
      toolkit: withHandler,
      upstream,
      resources: upstream.resources,
      templates: upstream.templates,
      prompts: upstream.prompts.map((prompt) => new McpSchema.Prompt({ ...prompt, name: exposedName(upstream.name, prompt.name) }))
    }
  })

type Mirrored = Effect.Success<ReturnType<typeof entriesOf>>

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
  const entries = new Map<string, Entry>()
  const parameters = new Map<string, Schema.Top>()
  const unchecked = new Map<string, string>()
  const tools: Array<McpSchema.Tool> = []
  const resources: Array<{ readonly server: string; readonly resource: McpSchema.Resource }> = []
  const prompts: Array<{ readonly server: string; readonly prompt: McpSchema.Prompt }> = []
  const templates: Array<{ readonly server: string; readonly template: McpSchema.ResourceTemplate }> = []
  const upstreams = new Map<string, Mirrored>()
  const toAdded = (m: Mirrored): Added => ({
    tools: m.tools.map((e) => e.exposed),
    resources: m.resources.map((resource) => ({ server: m.server, resource })),
    prompts: m.prompts.map((prompt) => ({ server: m.server, prompt })),
    templates: m.templates.map((template) => ({ server: m.server, template }))
  })
  const add = (m: Mirrored) => {
    const previous = upstreams.get(m.server)
    if (previous !== undefined) {
      // a server's lists changed: what it offered before goes, then what it offers now comes
      for (const entry of previous.tools) {
        entries.delete(entry.exposed.name)
        parameters.delete(entry.policyName)
        unchecked.delete(entry.policyName)
      }
      const others = <A extends { readonly server: string }>(items: Array<A>) => {
        const kept = items.filter((item) => item.server !== m.server)
        items.splice(0, items.length, ...kept)
      }
      const own = new Set(previous.tools.map((e) => e.exposed.name))
      const keptTools = tools.filter((t) => !own.has(t.name))
      tools.splice(0, tools.length, ...keptTools)
      others(resources)
      others(prompts)
      others(templates)
    }
    upstreams.set(m.server, m)
    for (const entry of m.tools) {
      entries.set(entry.exposed.name, entry)
      parameters.set(entry.policyName, entry.parameters)
      if (entry.unchecked !== undefined) unchecked.set(entry.policyName, entry.unchecked)
    }
    const added = toAdded(m)
    tools.push(...added.tools)
    resources.push(...added.resources)
    prompts.push(...added.prompts)
    templates.push(...added.templates)
    return added
  }
  const late: Array<(added: Added) => Effect.Effect<void>> = []

  // What the upstreams send on their own (see internal/mcp/relay.ts).
  const scope = yield* Effect.scope
  let downstream: Relay.Downstream | undefined
  // the progress tokens the gateway gave upstreams, each to the client's own
  const progress = new Map<string, (params: Readonly<Record<string, unknown>>) => Effect.Effect<void>>()
  let progressSequence = 0
  // per server, the origins of the calls in flight to it, newest last
  const inFlight = new Map<string, Array<Relay.Origin>>()
  const refreshing = Semaphore.makeUnsafe(1)
  // A server said a list changed: list again and offer the client what it
  // offers now, gated as before. Forked: the server's answer to the listing
  // arrives through the reader that delivered this notification.
  const refresh = (server: string) =>
    refreshing.withPermits(1)(Effect.gen(function*() {
      const current = upstreams.get(server)
      if (current === undefined) return
      const listed = yield* current.upstream.relist
      const now = add(yield* entriesOf({ ...current.upstream, ...listed }))
      yield* Effect.logInfo(`toolgate mcp: MCP server ${JSON.stringify(server)} changed its lists: ${now.tools.length} tools`)
      for (const register of [...late]) yield* register(now)
    })).pipe(
      Effect.catchCause((cause) => Effect.logWarning(`toolgate mcp: MCP server ${JSON.stringify(server)} changed its lists, and listing them again failed`, cause)),
      Effect.forkIn(scope),
      Effect.asVoid
    )
  const peerOf = (server: string): Transport.Peer => ({
    notification: (method, params) => {
      const p = (params ?? {}) as Record<string, unknown>
      switch (method) {
        case "notifications/progress": {
          const send = progress.get(String(p["progressToken"]))
          return send === undefined ? Effect.void : send(p)
        }
        case "notifications/message":
          // sent in the context of the call in flight, if any: delivered before its result
          return downstream === undefined ? Effect.void : (inFlight.get(server)?.at(-1)?.within ?? identity)(downstream.log({
            level: Schema.is(McpSchema.LoggingLevel)(p["level"]) ? p["level"] : "info",
            logger: typeof p["logger"] === "string" ? `${server}/${p["logger"]}` : server,
            data: p["data"]
          }))
        case "notifications/tools/list_changed":
        case "notifications/resources/list_changed":
        case "notifications/prompts/list_changed":
          return refresh(server)
        default:
          return Effect.void
      }
    },
    request: (method, params) => Relay.answer(inFlight.get(server)?.at(-1)?.client, method, params)
  })
  // the log level last asked of each upstream
  const levels = new Map<string, McpSchema.LoggingLevel>()
  // effect's server handles the client's logging/setLevel itself and offers
  // no hook, so the level reaches an upstream that logs before the next
  // call made to it (best effort: a refusal changes nothing)
  const forwardLevel = (server: string, level: McpSchema.LoggingLevel) => {
    const upstream = upstreams.get(server)?.upstream
    if (upstream?.capabilities.logging === undefined || levels.get(server) === level) return Effect.void
    return upstream.raw("logging/setLevel", { level }).pipe(
      Effect.tap(() => Effect.sync(() => levels.set(server, level))),
      Effect.ignore
    )
  }
  /** Runs a call to `server` on behalf of `origin`: its progress and requests go to that client. */
  const onBehalf = <A, E, R>(server: string, origin: Relay.Origin | undefined, effect: Effect.Effect<A, E, R>) => {
    if (origin === undefined) return effect
    return Effect.andThen(forwardLevel(server, origin.level), relayed(server, origin, effect))
  }
  const relayed = <A, E, R>(server: string, origin: Relay.Origin, effect: Effect.Effect<A, E, R>) => {
    const token = origin.progress === undefined ? undefined : `toolgate-progress-${++progressSequence}`
    const calls = inFlight.get(server) ?? []
    inFlight.set(server, calls)
    return Effect.acquireUseRelease(
      Effect.sync(() => {
        calls.push(origin)
        if (token !== undefined) progress.set(token, origin.progress!)
      }),
      () => token === undefined ? effect : Effect.provideService(effect, Transport.CallMeta, { progressToken: token }),
      () =>
        Effect.sync(() => {
          calls.splice(calls.indexOf(origin), 1)
          if (token !== undefined) progress.delete(token)
        })
    )
  }
  const connect = (name: string, entry: ServerConfig) =>
    Upstream.connect({
      name,
      endpoint: endpointOf(entry),
      startTimeout: options.startTimeout ?? "30 seconds",
      callTimeout: options.callTimeout ?? "60 seconds",
      peer: peerOf(name)
    }).pipe(Effect.mapError((e) => new UpstreamError({ server: name, problem: e.message })))
  // One upstream that does not start costs its own tools, not the gateway:
  // it is reported, and started again in the background (backing off up to
  // a minute between tries); its tools appear when it is up.
  const retry = (name: string, entry: ServerConfig) =>
    Effect.andThen(Effect.sleep("1 second"), connect(name, entry)).pipe(
      Effect.tapError((e) => Effect.logWarning(`toolgate mcp: ${e.message}; trying again later`)),
      Effect.retry(Schedule.min([Schedule.exponential("1 second"), Schedule.spaced("1 minute")])),
      Effect.flatMap(entriesOf),
      Effect.flatMap((added) =>
        Effect.gen(function*() {
          // adding and reading the subscribers in one step: a subscriber
          // sees these tools either in its snapshot or here, never twice
          const now = add(added)
          const subscribers = [...late]
          yield* Effect.logInfo(`toolgate mcp: MCP server ${JSON.stringify(name)} is up: ${now.tools.length} tools`)
          for (const register of subscribers) yield* register(now)
        })
      )
    )
  // Started side by side, added in the configuration's order: which server
  // keeps a resource URI two of them offer must not depend on which one
  // answered first.
  const started = yield* Effect.forEach(
    Object.entries(options.config.mcpServers),
    ([name, entry]) =>
      connect(name, entry).pipe(
        Effect.flatMap(entriesOf),
        Effect.catchTag("UpstreamError", (e) =>
          Effect.as(
            Effect.andThen(
              Effect.logError(`toolgate mcp: ${e.message}; its tools are left out until it starts (trying again in the background)`),
              Effect.forkScoped(retry(name, entry))
            ),
            undefined
          ))
      ),
    { concurrency: "unbounded" }
  )
  for (const mirrored of started) if (mirrored !== undefined) add(mirrored)

  // The services of the context `make` runs in, handed to every call (which
  // runs in the MCP server's fiber, under its own span).
  const policy = yield* ToolPolicy.ToolPolicy
  const approval = yield* Approval.ApprovalHandler
  const pools = yield* Concurrency.Concurrency
  const events = yield* Effect.serviceOption(ToolEvents.ToolEvents)
  // What the engine cannot check is asked, never allowed: a rule that allows
  // a tool whose arguments went unchecked becomes a question.
  // (always wrapped: a server that starts late or changes its list adds tools)
  const gatedPolicy: ToolPolicy.ToolPolicy = {
    decide: (request) =>
      Effect.map(policy.decide(request), (verdict) => {
        const why = unchecked.get(request.call.name)
        return verdict._tag === "Allow" && why !== undefined
          ? ToolPolicy.Verdict.Ask({ reason: `${why}, so every call is asked`, match: verdict.match })
          : verdict
      })
  }

  // "Deny and stop": once a reviewer stops this session, its pending calls
  // and every later one are refused as stopped (the client starts a new
  // session by reconnecting, which for stdio is a new gateway).
  const stopped = yield* Deferred.make<void>()
  const stoppedResult = text(
    "Stopped: the reviewer stopped this session, so this call was not run. Reconnect the MCP client to start a new session.",
    true
  )
  let sequence = 0
  /**
   * One gated call through the executor, raced against the session's stop.
   * The stop is signalled once this call's own race is over, so the call
   * that stopped the session answers with its own denial.
   */
  const gated = (
    toolkit: Toolkit.WithHandler<any>,
    policyName: string,
    params: unknown,
    label: string
  ): Effect.Effect<ToolResult.ToolResult | "stopped"> =>
    Effect.raceFirst(
      Effect.suspend((): Effect.Effect<ToolResult.ToolResult | "stopped"> =>
        Deferred.isDoneUnsafe(stopped) ? Effect.succeed("stopped") : execute(toolkit, policyName, params, label)
      ),
      Effect.as(Deferred.await(stopped), "stopped" as ToolResult.ToolResult | "stopped")
    ).pipe(
      Effect.tap((result) =>
        result !== "stopped" && result.outcome._tag === "ApprovalDenied" && result.outcome.stop
          ? Deferred.succeed(stopped, undefined)
          : Effect.void
      )
    )
  // The decision, who made it and the rule are on the executor's
  // `toolgate.call` span, a child of this one, read from its record of the
  // call: the gateway neither wraps the policy nor the approver to learn them.
  const execute = (toolkit: Toolkit.WithHandler<any>, policyName: string, params: unknown, label: string) => {
    const id = `mcp-${++sequence}`
    return (Executor.execute(toolkit, { id, name: policyName, params }) as Effect.Effect<ToolResult.ToolResult>).pipe(
      Effect.provideService(ToolPolicy.ToolPolicy, gatedPolicy),
      Effect.provideService(Approval.ApprovalHandler, approval),
      Effect.provideService(Concurrency.Concurrency, pools),
      Option.isSome(events) ? Effect.provideService(ToolEvents.ToolEvents, events.value) : identity,
      Effect.tap((result) => Effect.annotateCurrentSpan({ "toolgate.outcome": result.outcome._tag, "toolgate.is_error": result.isFailure })),
      Effect.withSpan("toolgate.mcp.call", { attributes: { "toolgate.tool": label, "toolgate.call": id } }, {
        captureStackTrace: false
      })
    )
  }
  const call = (name: string, args: unknown, origin?: Relay.Origin): Effect.Effect<McpSchema.CallToolResult> => {
    const entry = entries.get(name)
    if (entry === undefined) {
      const outcome = ToolResult.Outcome.NotFound({ available: Array.from(entries.keys()) })
      return Effect.succeed(text(ToolResult.explain(name, outcome), true))
    }
    const server = name.slice(0, name.indexOf("__"))
    return Effect.map(onBehalf(server, origin, gated(entry.toolkit, entry.policyName, args ?? {}, name)), (result) =>
      result === "stopped" ? stoppedResult : toCallToolResult(result, name))
  }
  /** A gated read of a resource, a prompt or a completion: the upstream's answer, or why not. */
  const gatedRead = (server: string, tool: string, params: unknown, origin?: Relay.Origin): Effect.Effect<unknown, string> => {
    const upstream = upstreams.get(server)
    if (upstream === undefined) return Effect.fail(`no MCP server ${JSON.stringify(server)} is up`)
    const label = exposedName(server, tool)
    return Effect.flatMap(onBehalf(server, origin, gated(upstream.toolkit, policyName(server, tool), params, label)), (result) =>
      result === "stopped"
        ? Effect.fail(stoppedResult.content.map((c) => c.type === "text" ? c.text : "").join(""))
        : result.outcome._tag === "Succeeded"
        ? Effect.succeed(result.result)
        : Effect.fail(result.outcome._tag === "Failed" ? String(result.result) : ToolResult.explain(label, result.outcome)))
  }

  return {
    tools,
    subscribe: (register) =>
      Effect.suspend(() => {
        const snapshot: Added = { tools: [...tools], resources: [...resources], prompts: [...prompts], templates: [...templates] }
        late.push(register)
        return register(snapshot)
      }),
    instructions: () =>
      Array.from(upstreams.values()).flatMap((m) => m.instructions === undefined ? [] : [`${m.server}: ${m.instructions}`]).join("\n\n"),
    readResource: (server, uri) => gatedRead(server, Passthrough.resourceTool, { uri }),
    getPrompt: (exposed, args, origin) => {
      const sep = exposed.indexOf("__")
      const server = exposed.slice(0, sep)
      return gatedRead(server, Passthrough.promptTool, { name: exposed.slice(sep + 2), arguments: args }, origin)
    },
    complete: (server, params) => gatedRead(server, Passthrough.completionTool, params),
    offers: (kind, name) =>
      kind === "tool"
        ? entries.has(name)
        : kind === "prompt"
        ? prompts.some((p) => p.prompt.name === name)
        : kind === "resource"
        ? resources.some((r) => r.resource.uri === name)
        : templates.some((t) => t.template.uriTemplate === name),
    call,
    attach: (d) => {
      downstream = d
    },
    parameters: (name) => parameters.get(name)
  } satisfies Gateway
})

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
const readResource = (gateway: Gateway, upstream: string, uri: string) =>
  gateway.readResource(upstream, uri).pipe(
    Effect.flatMap((result) =>
      Option.match(Schema.decodeUnknownOption(McpSchema.ReadResourceResult)(result), {
        onNone: () => Effect.fail("the server's answer is not a resource"),
        onSome: Effect.succeed
      })
    ),
    Effect.mapError((message) => new McpSchema.InternalError({ message }))
  )

export const registrations = (gateway: Gateway): Layer.Layer<never, never, McpServer.McpServer> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const server = yield* McpServer.McpServer
    // the upstreams' log messages go to the client; effect's server applies
    // the level the client set with logging/setLevel
    gateway.attach({
      log: (params) => Effect.ignore(server.notifications["notifications/message"](params))
    })
    // The client request a handler serves: its progress token and the
    // client, read from the request's context (effect provides them to handlers).
    const originOf: Effect.Effect<Relay.Origin> = Effect.map(Effect.context<never>(), (context) => {
      const request = Context.getOrUndefined(context, McpSchema.McpRequestContext)
      const token = (request?.requestMetadata as { readonly progressToken?: McpSchema.ProgressToken } | undefined)?.progressToken
      return {
        progress: token === undefined ? undefined : (params) =>
          server.notifications["notifications/progress"]({
            progressToken: token,
            progress: typeof params["progress"] === "number" ? params["progress"] : 0,
            ...(typeof params["total"] === "number" ? { total: params["total"] } : {}),
            ...(typeof params["message"] === "string" ? { message: params["message"] } : {})
          }).pipe(Effect.provideContext(context), Effect.ignore),
        within: (effect) => Effect.provideContext(effect, context),
        level: Relay.mcpLevel(Context.get(context, References.CurrentLogLevel)),
        client: Context.getOrUndefined(context, McpSchema.McpServerClient)
      }
    })
    const decodeComplete = Schema.decodeUnknownOption(McpSchema.CompleteResult)
    const completion = (upstream: string, ref: Relay.CompleteParams["ref"], argument: string) =>
    (value: string, context: { readonly arguments?: Readonly<Record<string, string>> | undefined } | undefined) =>
      gateway.complete(upstream, {
        ref,
        argument: { name: argument, value },
        ...(context?.arguments === undefined ? {} : { context: { arguments: context.arguments } })
      }).pipe(
        Effect.flatMap((result) =>
          Option.match(decodeComplete(result), {
            onNone: () => Effect.fail("the server's answer is not a completion"),
            onSome: Effect.succeed
          })
        ),
        Effect.mapError((message) => new McpSchema.InternalError({ message }))
      )
    // hidden from lists and refused once the upstream no longer offers it
    const whileOffered = (kind: Parameters<Gateway["offers"]>[0], name: string) =>
      Context.make(McpSchema.EnabledWhen, () => gateway.offers(kind, name))
    // which server a resource URI or template belongs to: the first that offered it
    const owners = new Map<string, string>()
    const claim = (key: string, upstream: string, what: string) =>
      Effect.suspend(() => {
        const owner = owners.get(key)
        if (owner === undefined) owners.set(key, upstream)
        return owner === undefined || owner === upstream ? Effect.succeed(true) : Effect.as(
          Effect.logWarning(`toolgate mcp: ${upstream}: the ${what} is offered by ${owner} too; the one listed first in the configuration is kept`),
          false
        )
      })
    const register = (added: Added) =>
      Effect.gen(function*() {
        for (const tool of added.tools) {
          yield* server.addTool({
            tool,
            annotations: whileOffered("tool", tool.name),
            handle: (args) => Effect.flatMap(originOf, (origin) => gateway.call(tool.name, args, origin))
          })
        }
        for (const { server: upstream, template } of added.templates) {
          if (!(yield* claim(`template ${template.uriTemplate}`, upstream, `resource template ${template.uriTemplate}`))) continue
          const { routerPath, variables } = Relay.route(template.uriTemplate)
          yield* server.addResourceTemplate({
            template,
            routerPath,
            annotations: whileOffered("template", template.uriTemplate),
            completions: Object.fromEntries(variables.map((v) => [v, completion(upstream, { type: "ref/resource", uri: template.uriTemplate }, v)])),
            handle: (uri) => readResource(gateway, upstream, uri)
          })
        }
        for (const { resource, server: upstream } of added.resources) {
          if (!(yield* claim(`resource ${resource.uri}`, upstream, `resource ${resource.uri}`))) continue
          yield* server.addResource({ resource, annotations: whileOffered("resource", resource.uri), handle: readResource(gateway, upstream, resource.uri) })
        }
        for (const { prompt, server: upstream } of added.prompts) {
          const own = prompt.name.slice(upstream.length + 2)
          yield* server.addPrompt({
            prompt,
            annotations: whileOffered("prompt", prompt.name),
            completions: Object.fromEntries(
              (prompt.arguments ?? []).map((a) => [a.name, completion(upstream, { type: "ref/prompt", name: own }, a.name)])
            ),
            handle: (params) =>
              Effect.flatMap(originOf, (origin) => gateway.getPrompt(prompt.name, params, origin)).pipe(
                Effect.flatMap((result) =>
                  Option.match(Schema.decodeUnknownOption(McpSchema.GetPromptResult)(result), {
                    onNone: () => Effect.fail("the server's answer is not a prompt"),
                    onSome: Effect.succeed
                  })
                ),
                Effect.mapError((message) => new McpSchema.InternalError({ message }))
              )
          })
        }
      })
    // what the upstreams that are up offer, and what each that comes up
    // later offers (the server tells the client with list_changed)
    yield* gateway.subscribe(register)
  }))

/**
 * The gateway served over stdio, as an MCP client such as Claude Desktop or
 * Claude Code starts it. The protocols offered are the ones effect's server
 * speaks (2024-11-05 to 2025-11-25); the upstreams' `instructions` are passed on, each under its server's name.
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
  Layer.unwrap(Effect.sync(() => {
    const instructions = gateway.instructions()
    return McpServer.layerStdio({
      name: "toolgate",
      version: "0.1.0",
      protocols: [McpProtocol.v2025_11_25, McpProtocol.v2025_06_18, McpProtocol.v2025_03_26, McpProtocol.v2024_11_05],
      ...(instructions === "" ? {} : { instructions }),
      registrations: registrations(gateway)
    })
  }))
