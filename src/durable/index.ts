/**
 * `toolgate/durable`: approvals that outlive a process, on `effect/workflow`
 * and `effect/cluster` — SQLite embedded, PostgreSQL for several machines.
 * Opt-in: the core entry point loads none of it.
 *
 * @since 0.3.0
 */

/**
 * @since 0.3.0
 */
export * as DurableApproval from "./DurableApproval.ts"

/**
 * @since 0.3.0
 */
export * as DurableEngine from "./DurableEngine.ts"

/**
 * @since 0.3.0
 */
export * as DurableAgent from "./DurableAgent.ts"
