/**
 * What the gateway passes through besides tools: an upstream's resources
 * (listed ones and those its resource templates name), prompts and
 * completions. Each read of a resource, get of a prompt and completion is
 * gated like a tool call, as a read-only call of a tool the client never
 * sees:
 *
 * - `mcp__SERVER__@resource` with params `{ uri }` (a templated URI too),
 * - `mcp__SERVER__@prompt` with params `{ name, arguments }`,
 * - `mcp__SERVER__@completion` with params `{ ref, argument, context? }`,
 *   the upstream's own `completion/complete` request (the prompt's name
 *   as the upstream knows it, or the resource template's URI template).
 *
 * `@` cannot appear in an MCP tool name, so these never collide with an
 * upstream's own tools; rules name them like tools (`mcp__docs__@resource`),
 * and `mcp__docs` or `mcp__docs__*` covers them with the server's tools.
 */
import { Effect, Schema } from "effect"
import { type McpClientError, Tool } from "effect/ai"
import * as PolicySubject from "../../../policy/PolicySubject.ts"
import type * as Upstream from "./upstream.ts"

/** The tool part of the gated names. */
export const resourceTool = "@resource"
export const promptTool = "@prompt"
export const completionTool = "@completion"

// plain JSON data: effect/ai encodes a tool's success, and an McpSchema
// class instance does not encode as Unknown
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

const describe = (error: McpClientError.McpClientError) => error.message

/**
 * The gated reads of one upstream: a tool and its handler for resources and
 * one for prompts, when the upstream offers them.
 */
export const mirror = (upstream: Upstream.Upstream, policyName: (server: string, tool: string) => string) => {
  const items = []
  if (upstream.resources.length > 0 || upstream.templates.length > 0) {
    const name = policyName(upstream.name, resourceTool)
    items.push({
      tool: PolicySubject.mcp(upstream.name, resourceTool)(Tool.make(name, {
        description: `Read a resource of the MCP server ${upstream.name}`,
        parameters: Schema.Struct({ uri: Schema.String }),
        success: Schema.Unknown,
        failure: Schema.String
      })).annotate(Tool.Readonly, true),
      handler: (params: unknown) => upstream.readResource((params as { uri: string }).uri).pipe(Effect.map(plain), Effect.mapError(describe)),
      policyName: name
    })
  }
  if (upstream.prompts.length > 0) {
    const name = policyName(upstream.name, promptTool)
    items.push({
      tool: PolicySubject.mcp(upstream.name, promptTool)(Tool.make(name, {
        description: `Get a prompt of the MCP server ${upstream.name}`,
        parameters: Schema.Struct({ name: Schema.String, arguments: Schema.Record(Schema.String, Schema.String) }),
        success: Schema.Unknown,
        failure: Schema.String
      })).annotate(Tool.Readonly, true),
      handler: (params: unknown) => {
        const { arguments: args, name: promptName } = params as { name: string; arguments: Record<string, string> }
        const prompt = upstream.prompts.find((p) => p.name === promptName)
        return prompt === undefined
          ? Effect.fail(`the MCP server ${upstream.name} has no prompt ${JSON.stringify(promptName)}`)
          : upstream.getPrompt(prompt, args).pipe(Effect.map(plain), Effect.mapError(describe))
      },
      policyName: name
    })
  }
  if (upstream.capabilities.completions !== undefined) {
    const name = policyName(upstream.name, completionTool)
    items.push({
      tool: PolicySubject.mcp(upstream.name, completionTool)(Tool.make(name, {
        description: `Complete an argument of a prompt or resource template of the MCP server ${upstream.name}`,
        parameters: Schema.Struct({
          ref: Schema.Union([
            Schema.Struct({ type: Schema.Literal("ref/prompt"), name: Schema.String }),
            Schema.Struct({ type: Schema.Literal("ref/resource"), uri: Schema.String })
          ]),
          argument: Schema.Struct({ name: Schema.String, value: Schema.String }),
          context: Schema.optional(Schema.Struct({ arguments: Schema.optional(Schema.Record(Schema.String, Schema.String)) }))
        }),
        success: Schema.Unknown,
        failure: Schema.String
      })).annotate(Tool.Readonly, true),
      handler: (params: unknown) =>
        upstream.raw("completion/complete", plain(params) as Record<string, unknown>).pipe(Effect.map(plain), Effect.mapError(describe)),
      policyName: name
    })
  }
  return items
}
