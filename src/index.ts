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
export * as TestApproval from "./TestApproval.ts"

/** @since 0.1.0 */
export * as AuditLog from "./AuditLog.ts"

/** @since 0.1.0 */
export * as BuiltinTools from "./BuiltinTools.ts"

/** @since 0.1.0 */
export * as TerminalApproval from "./TerminalApproval.ts"

/** @since 0.1.0 */
export * as PolicyFile from "./PolicyFile.ts"

/** @since 0.1.0 */
export * as PolicyRules from "./PolicyRules.ts"

/** @since 0.1.0 */
export * as Agent from "./Agent.ts"

/** @since 0.1.0 */
export * as ScriptedModel from "./ScriptedModel.ts"

/**
 * Real model providers (Anthropic, OpenAI), chosen from the environment.
 * Node only: it installs a module resolve hook for the provider packages.
 *
 * @since 0.1.0
 */
export * as Providers from "./Providers.ts"
