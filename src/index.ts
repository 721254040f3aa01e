/**
 * toolgate: the gate between an LLM's tool calls and the tools, for Effect.
 *
 * This is the core entry point. It knows nothing of shells, files, terminals
 * or HTTP, loads no parser and touches no global on import. The rule engine
 * is `toolgate/policy`, what needs Node (terminal approver, audit log,
 * providers, built-in tools) is `toolgate/node`, and test doubles are
 * `toolgate/testing`.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as ToolCall from "./ToolCall.ts"

/** @since 0.1.0 */
export * as ToolClass from "./ToolClass.ts"

/** @since 0.1.0 */
export * as ToolPolicy from "./ToolPolicy.ts"

/** @since 0.1.0 */
export * as Approval from "./Approval.ts"

/** @since 0.1.0 */
export * as Concurrency from "./Concurrency.ts"

/** @since 0.1.0 */
export * as Executor from "./Executor.ts"

/** @since 0.1.0 */
export * as ToolEvents from "./ToolEvents.ts"

/** @since 0.1.0 */
export * as ToolResult from "./ToolResult.ts"

/** @since 0.1.0 */
export * as Agent from "./Agent.ts"
