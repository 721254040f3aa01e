/**
 * Who may say who decided. `ApprovalDecision.decidedBy` is public (a UI
 * shows "remembered" or "timed out"), but only the building blocks of
 * `Approval` (session memory, timeout, the read-only fast path, the
 * decision check) may set it: a handler that writes
 * `Allow({ decidedBy: "policy" })` must not be recorded as the policy.
 *
 * A building block vouches for each decision object it makes; the executor
 * reads `decidedBy` only from a vouched object and records any other answer
 * as the handler's. A copy (`{ ...decision }`) is a new object and is not
 * vouched: it is the handler's. A `WeakSet` rather than a brand property,
 * because a property can be copied or forged and a set membership cannot.
 */
import type { DecidedBy } from "../ToolResult.ts"

const vouched = new WeakSet<object>()

/** Marks `decision` as made by a building block; returns it. */
export const vouch = <A extends object>(decision: A): A => {
  vouched.add(decision)
  return decision
}

/**
 * Who decided, for an answer an approval handler returned: the building
 * block's `decidedBy` when a building block made this very object, else
 * `"handler"`. Never `"policy"`: only the executor's policy stage decides
 * as the policy.
 */
export const decidedByOf = (answer: unknown): DecidedBy => {
  if (typeof answer !== "object" || answer === null || !vouched.has(answer)) return "handler"
  const claimed = (answer as { readonly decidedBy?: unknown }).decidedBy
  return claimed === "memory" || claimed === "timeout" || claimed === "readOnlyFastPath" || claimed === "fault"
    ? claimed
    : "handler"
}
