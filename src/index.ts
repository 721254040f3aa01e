/**
 * toolgate: the gate between an LLM's tool calls and the tools, for Effect.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as ToolCall from "./ToolCall.ts"

/** @since 0.1.0 */
export * as ToolClass from "./ToolClass.ts"

/** @since 0.1.0 */
export * as ToolKind from "./ToolKind.ts"

/** @since 0.1.0 */
export * as ToolPolicy from "./ToolPolicy.ts"
