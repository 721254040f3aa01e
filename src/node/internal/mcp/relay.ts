/**
 * What the gateway relays between an upstream and the client besides
 * requests the client makes: an upstream's progress for a call (under the
 * client's own progress token), its log messages, and its requests for the
 * client's roots, a sampled model message or an elicited answer.
 *
 * An upstream's request for the client is answered by the client of the
 * call it is serving (the newest call in flight to that upstream): a server
 * asks for sampling or elicitation while it handles a call, and stdio and
 * the gateway's other transports carry one client. With no call in flight
 * the request is refused: there is nobody to ask. The gate does not review
 * these requests itself: they go to the client, where the human is (an MCP
 * client shows sampling and elicitation to its user), and the client's
 * refusal or lack of the capability goes back to the upstream as an error.
 */
import { Cause, Effect, Schema } from "effect"
import { McpSchema } from "effect/ai"

/** The params of `completion/complete`, as the upstream receives them. */
export interface CompleteParams {
  readonly ref: { readonly type: "ref/prompt"; readonly name: string } | { readonly type: "ref/resource"; readonly uri: string }
  readonly argument: { readonly name: string; readonly value: string }
  readonly context?: { readonly arguments?: Readonly<Record<string, string>> | undefined } | undefined
}

/** The client request a gated call serves. */
export interface Origin {
  /** Sends the upstream's progress to the client under the client's token; absent when the client asked for none. */
  readonly progress: ((params: Readonly<Record<string, unknown>>) => Effect.Effect<void>) | undefined
  /** Runs a notification to the client in the request's context: effect's server then delivers it before the request's answer. */
  readonly within: (effect: Effect.Effect<void>) => Effect.Effect<void>
  /** The log level the client set (or effect's server's default), to forward to the upstream before the call. */
  readonly level: McpSchema.LoggingLevel
  /** The client, to answer the upstream's requests while the call runs. */
  readonly client: McpSchema.McpServerClient["Service"] | undefined
}

/** Where the upstreams' log messages go. */
export interface Downstream {
  readonly log: (params: { readonly level: McpSchema.LoggingLevel; readonly logger: string; readonly data: unknown }) => Effect.Effect<void>
}

/** A JSON-RPC error for the upstream. */
export interface RpcError {
  readonly code: number
  readonly message: string
}

/**
 * The MCP level to ask an upstream for, from the effect log level effect's
 * server gives a request for the client's `logging/setLevel`. That mapping
 * folds MCP's eight levels into effect's six, so this asks for at least
 * what the client wants (`notice` becomes `info`); effect's server then
 * filters what it relays by the client's exact level.
 */
export const mcpLevel = (level: string): McpSchema.LoggingLevel => {
  switch (level) {
    case "Info":
      return "info"
    case "Warn":
      return "warning"
    case "Error":
      return "error"
    case "Fatal":
      return "critical"
    case "None":
      return "emergency"
    default:
      return "debug"
  }
}

const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

const decodeCreateMessage = Schema.decodeUnknownEffect(McpSchema.CreateMessage.payloadSchema)
const decodeElicit = Schema.decodeUnknownEffect(McpSchema.Elicit.payloadSchema)

/**
 * Answers an upstream's request through the client, or refuses it. What
 * goes back is the client's answer as JSON, or a JSON-RPC error.
 */
export const answer = (
  client: McpSchema.McpServerClient["Service"] | undefined,
  method: string,
  params: unknown
): Effect.Effect<unknown, RpcError> => {
  if (client === undefined) {
    return Effect.fail({
      code: McpSchema.INTERNAL_ERROR_CODE,
      message: `toolgate: ${method} can only be relayed to the client while one of its calls to this server runs`
    })
  }
  const forward = (reverse: McpSchema.McpReverseClient): Effect.Effect<unknown, unknown> => {
    switch (method) {
      case "roots/list":
        return reverse.listRoots((params ?? {}) as never)
      case "sampling/createMessage":
        return Effect.flatMap(decodeCreateMessage(params), reverse.createMessage)
      case "elicitation/create":
        return Effect.flatMap(decodeElicit(params), reverse.elicit)
      default:
        return Effect.fail({ code: McpSchema.METHOD_NOT_FOUND_ERROR_CODE, message: `Method not found: ${method}` })
    }
  }
  return Effect.scoped(Effect.flatMap(client.getClient, forward)).pipe(
    Effect.map(plain),
    Effect.catchCause((cause) => {
      const error = Cause.squash(cause)
      const rpc = error as Partial<RpcError>
      return Effect.fail(
        typeof rpc.code === "number" && typeof rpc.message === "string"
          ? { code: rpc.code, message: rpc.message }
          : { code: McpSchema.INTERNAL_ERROR_CODE, message: `the client did not answer ${method}: ${describe(error)}` }
      )
    })
  )
}

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.message || error.name}${"reason" in error ? ` (${String((error as { reason: unknown }).reason)})` : ""}` : String(error)

/**
 * An RFC 6570 URI template as effect's resource router reads it: each
 * expression becomes a path parameter `:N` (a reserved one at the end, a
 * wildcard), and the variables it names are
 * returned in order (the keys its completions are registered under). Query
 * expressions (`{?a,b}`, `{&c}`) are left out of the route: the router
 * matches the path, and the upstream reads the whole URI. Written here
 * because effect compiles its own templates (`compileUriTemplate`) only from
 * template literals, privately; an upstream's template arrives as a string.
 */
export const route = (uriTemplate: string): { readonly routerPath: string; readonly variables: ReadonlyArray<string> } => {
  const variables: Array<string> = []
  let routerPath = ""
  let index = 0
  let last = 0
  for (const match of uriTemplate.matchAll(/\{([+#./;?&]?)([^}]*)\}/g)) {
    routerPath += uriTemplate.slice(last, match.index).replaceAll(":", "::")
    last = match.index + match[0].length
    const names = match[2]!.split(",").map((v) => v.replace(/[*]$|:\d+$/, "")).filter((v) => v !== "")
    variables.push(...names)
    if (match[1] === "?" || match[1] === "&") continue
    // reserved expansion may span `/`: at the end of the template it is the
    // router's wildcard (which may only come last), elsewhere one segment
    const spans = (match[1] === "+" || match[1] === "#") && last === uriTemplate.length
    routerPath += spans ? "*" : `${match[1] === "/" ? "/" : ""}:${index++}`
  }
  routerPath += uriTemplate.slice(last).replaceAll(":", "::")
  return { routerPath, variables }
}
