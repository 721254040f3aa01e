/**
 * Stage 1, the policy: what the static gate says about a call. A policy
 * that fails, dies or throws denies the call with a reason naming the
 * fault (fail closed); it is never a defect of the batch.
 */
import { Cause, Effect, Exit } from "effect"
import * as ToolPolicy from "../../ToolPolicy.ts"
import { describeCause } from "../describe.ts"

const fault = (cause: Cause.Cause<unknown>) =>
  ToolPolicy.Verdict.Deny({
    reason: `the policy failed (${describeCause(cause)}), so the call was denied to be safe`
  })

/** The policy's verdict for `request`; a fault is a `Deny`. Answers from memory stay `Exit`s (see fast.ts). */
export const decide = (policy: ToolPolicy.ToolPolicy, request: ToolPolicy.PolicyRequest): Effect.Effect<ToolPolicy.Verdict> => {
  let verdict: Effect.Effect<ToolPolicy.Verdict, unknown>
  try {
    verdict = policy.decide(request)
  } catch (error) {
    return Effect.succeed(fault(Cause.die(error)))
  }
  if (Exit.isExit(verdict)) {
    const exit = verdict as Exit.Exit<ToolPolicy.Verdict, unknown>
    return Effect.succeed(Exit.isSuccess(exit) ? checkVerdict(exit.value) : fault(exit.cause))
  }
  return Effect.matchCause(verdict, { onFailure: fault, onSuccess: checkVerdict })
}

// A verdict that is none of the three is a fault too: what the gate does
// not understand is never allowed.
const checkVerdict = (verdict: ToolPolicy.Verdict): ToolPolicy.Verdict => {
  const tag: unknown = (verdict as { readonly _tag?: unknown } | null | undefined)?._tag
  if (tag === "Allow" || tag === "Ask") return verdict
  if (tag === "Deny" && typeof (verdict as { readonly reason?: unknown }).reason === "string") return verdict
  return ToolPolicy.Verdict.Deny({
    reason: "the policy answered something that is not a verdict, so the call was denied to be safe"
  })
}
