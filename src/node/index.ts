/**
 * toolgate/node: what needs Node. The terminal approver, the web approval
 * console, the MCP gateway, OTLP tracing, the JSON-lines
 * audit log, real model providers (Anthropic, OpenAI) and the built-in
 * coding tools (Read, Glob, Grep, Write, Edit, Bash) confined to a root.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as TerminalApproval from "./TerminalApproval.ts"

/** @since 0.1.0 */
export * as AuditLog from "./AuditLog.ts"

/** @since 0.1.0 */
export * as BuiltinTools from "./BuiltinTools.ts"

/**
 * Real model providers (Anthropic, OpenAI), chosen from the environment.
 * Building a provider layer installs a module resolve hook for the provider
 * packages; importing this module does not.
 *
 * @since 0.1.0
 */
export * as Providers from "./Providers.ts"

/**
 * The gating MCP proxy: upstream MCP servers' tools behind the policy and
 * the approver, served over stdio.
 *
 * @since 0.1.0
 */
export * as McpGateway from "./McpGateway.ts"

/**
 * The web approval console: pending approvals live in a browser, on
 * 127.0.0.1 behind a token.
 *
 * @since 0.1.0
 */
export * as WebConsole from "./WebConsole.ts"

/**
 * OTLP export of the gate's spans through effect's own exporter.
 *
 * @since 0.1.0
 */
export * as Tracing from "./Tracing.ts"
