/**
 * A tool call as the model issued it, and where in the agent tree it comes
 * from.
 *
 * `params` is whatever the model sent (the wire form, not yet decoded): the
 * policy sees it as sent, and the executor decodes it with the tool's
 * parameters Schema before anyone is asked to approve it.
 *
 * @since 0.1.0
 */
import { Context, Schema } from "effect"

/**
 * One tool call: the id the model gave it, the tool's name and the raw
 * parameters.
 *
 * @example
 * ```ts
 * import { ToolCall } from "toolgate"
 * const call: ToolCall.ToolCall = { id: "call_1", name: "Read", params: { path: "README.md" } }
 * ```
 *
 * @since 0.1.0
 */
export const ToolCall = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  params: Schema.Unknown
})

/** @since 0.1.0 */
export type ToolCall = typeof ToolCall.Type

/**
 * Where a call comes from: `depth` 0 is the top-level agent, and `parents`
 * lists the ids of the recursive tool calls that led here, outermost first.
 *
 * @example
 * ```ts
 * import type { ToolCall } from "toolgate"
 * const origin: ToolCall.Origin = { depth: 1, parents: ["call_task_1"] }
 * ```
 *
 * @since 0.1.0
 */
export const Origin = Schema.Struct({
  depth: Schema.Number,
  parents: Schema.Array(Schema.String)
})

/** @since 0.1.0 */
export type Origin = typeof Origin.Type

/**
 * The origin of the calls executed by the current fiber. The executor sets
 * it for the handlers of recursive tools, so a nested batch knows its place
 * in the tree; top-level code never needs to provide it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ToolCall } from "toolgate"
 * const depth: Effect.Effect<number> = ToolCall.CurrentOrigin.useSync((o) => o.depth)
 * ```
 *
 * @since 0.1.0
 */
export const CurrentOrigin = Context.Reference<Origin>("toolgate/ToolCall/CurrentOrigin", {
  defaultValue: () => root
})

const root: Origin = { depth: 0, parents: [] }

/**
 * The origin of a call made by the handler of `parent`.
 *
 * @example
 * ```ts
 * import { ToolCall } from "toolgate"
 * ToolCall.child({ depth: 0, parents: [] }, "call_1") // { depth: 1, parents: ["call_1"] }
 * ```
 *
 * @since 0.1.0
 */
export const child = (origin: Origin, parent: string): Origin => ({
  depth: origin.depth + 1,
  parents: [...origin.parents, parent]
})
