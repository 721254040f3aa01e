/**
 * Approval handlers for tests: scripted answers, a recorder of what was
 * asked (and which waits were interrupted), and a handler that never
 * answers.
 *
 * @since 0.1.0
 */
import { Effect, Ref } from "effect"
import { type ApprovalDecision, ApprovalDecision as Decision, type ApprovalHandler, type ApprovalRequest } from "../Approval.ts"

/**
 * Answers with `answers` in order, one per request; once they run out every
 * request is denied with a reason saying so.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Approval } from "toolgate"
import { TestApproval } from "toolgate/testing"
 * const handler = TestApproval.scripted([
 *   Approval.ApprovalDecision.Allow(),
 *   Approval.ApprovalDecision.Deny({ reason: "second call denied" })
 * ])
 * ```
 *
 * @since 0.1.0
 */
export const scripted = (answers: ReadonlyArray<ApprovalDecision>): Effect.Effect<ApprovalHandler> =>
  Effect.map(Ref.make(0), (next) => ({
    approve: () =>
      Effect.map(
        Ref.getAndUpdate(next, (n) => n + 1),
        (n) => answers[n] ?? Decision.Deny({ reason: `no scripted answer left for request ${n + 1}` })
      )
  }))

/**
 * Answers by call id, `fallback` (default: allow) for ids not listed.
 *
 * @example
 * ```ts
 * import { Approval } from "toolgate"
import { TestApproval } from "toolgate/testing"
 * const handler = TestApproval.byCallId({ call_2: Approval.ApprovalDecision.Deny({ reason: "no" }) })
 * ```
 *
 * @since 0.1.0
 */
export const byCallId = (
  answers: Readonly<Record<string, ApprovalDecision>>,
  fallback: ApprovalDecision = Decision.Allow()
): ApprovalHandler => ({
  approve: (request) =>
    Effect.succeed(Object.hasOwn(answers, request.call.id) ? answers[request.call.id]! : fallback)
})

/**
 * Never answers: the request waits until its call is cancelled or its batch
 * interrupted.
 *
 * @example
 * ```ts
 * import { Approval } from "toolgate"
import { TestApproval } from "toolgate/testing"
 * const layer = Approval.layer(TestApproval.never)
 * ```
 *
 * @since 0.1.0
 */
export const never: ApprovalHandler = { approve: () => Effect.never }

/**
 * A recorder around `handler`: `requests` lists every request in the order
 * it was asked, `interrupted` those whose wait was interrupted.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Approval } from "toolgate"
import { TestApproval } from "toolgate/testing"
 * const program = Effect.gen(function*() {
 *   const recorder = yield* TestApproval.recording(Approval.autoApprove)
 *   // ... run batches with Approval.layer(recorder.handler) ...
 *   return (yield* recorder.requests).map((r) => r.call.id)
 * })
 * ```
 *
 * @since 0.1.0
 */
export const recording = (handler: ApprovalHandler): Effect.Effect<{
  readonly handler: ApprovalHandler
  readonly requests: Effect.Effect<ReadonlyArray<ApprovalRequest>>
  readonly interrupted: Effect.Effect<ReadonlyArray<ApprovalRequest>>
}> =>
  Effect.gen(function*() {
    const requests = yield* Ref.make<ReadonlyArray<ApprovalRequest>>([])
    const interrupted = yield* Ref.make<ReadonlyArray<ApprovalRequest>>([])
    return {
      handler: {
        approve: (request) =>
          Ref.update(requests, (all) => [...all, request]).pipe(
            Effect.andThen(handler.approve(request)),
            Effect.onInterrupt(() => Ref.update(interrupted, (all) => [...all, request]))
          )
      },
      requests: Ref.get(requests),
      interrupted: Ref.get(interrupted)
    }
  })
