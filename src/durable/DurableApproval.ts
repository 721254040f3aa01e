/**
 * Approvals that outlive a process: an `ApprovalHandler` whose requests are
 * rows in a store and wait on `effect/workflow`'s `DurableDeferred`, and
 * the Effects that answer them from any process.
 *
 * The path of one request:
 *
 * 1. `approve(request)` records the row (`RUN/CALL`, tool, params) —
 *    inserting it again keeps the first row — and runs the approval
 *    workflow, whose body waits for the answer (and, with a `timeout`, a
 *    durable clock that survives restarts).
 * 2. {@link answer}, in any process that reaches the store, flips the row
 *    from pending and completes the deferred in one transaction: the first
 *    answer wins, an answer to a withdrawn or answered request is refused,
 *    and a crash in between leaves neither.
 * 3. The workflow's owner resumes it and the handler returns the decision.
 *
 * A process killed while waiting loses nothing: asking the same call again
 * (the same run id and call id) attaches to the same execution, and an
 * answer given meanwhile is kept.
 *
 * **Cancel or shutdown?** Interrupting the waiting fiber (a cancelled call,
 * a stopped batch, a timeout) withdraws the request; a process shutting
 * down keeps it pending for the next start. The two are told apart by the
 * engine's lifetime, not by signals: the withdrawal runs `withdrawAfter`
 * (default 1 s) after the interruption, in the scope of this Layer, so a
 * shutdown, which closes that scope, cancels it and the request stays.
 *
 * @since 0.3.0
 */
import { Duration, Effect, Exit, Layer, Option, Schedule, Schema, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import { Activity, DurableClock, DurableDeferred, Workflow, type WorkflowEngine } from "effect/workflow"
import * as Approval from "../Approval.ts"
import type * as DurableEngine from "./DurableEngine.ts"
import * as Store from "./internal/store.ts"

export type { Row, Status } from "./internal/store.ts"

/**
 * The approval workflow: one execution per request, keyed by its id.
 *
 * @since 0.3.0
 */
export const ApprovalWorkflow = Workflow.make("toolgate/Approval", {
  payload: { approvalId: Schema.String, timeoutMillis: Schema.optional(Schema.Number) },
  success: Approval.ApprovalDecision,
  idempotencyKey: ({ approvalId }) => approvalId,
  // A waiting caller asks for its execution's result again on this
  // schedule. A caller on the worker that owns the execution is woken the
  // moment it completes, whatever the schedule; only a caller whose
  // execution another worker owns depends on it. The engine's default backs
  // off to 30 s (far too late for a person's answer); a fixed 100 ms had
  // every one of 1,000 waiting callers ask 10 times a second, which starved
  // the store (1,000 answered requests took 7.5 s to resume on SQLite and
  // 45 s on PostgreSQL, bench/durable.bench.ts). Backing off to 2 s bounds
  // both: a cross-worker answer is seen within 2 s, and the idle load of
  // 1,000 waiting callers is 500 small queries a second at most.
  suspendedRetrySchedule: Schedule.min([Schedule.exponential("100 millis", 1.5), Schedule.spaced("2 seconds")])
})

/**
 * The answer a request waits for.
 *
 * @since 0.3.0
 */
export const Answer = DurableDeferred.make("toolgate/answer", { success: Approval.ApprovalDecision })

const timedOut = (timeoutMillis: number) =>
  Approval.ApprovalDecision.Deny({ reason: `nobody answered within ${Math.round(timeoutMillis / 1000)} s`, decidedBy: "timeout" })

/**
 * The workflow's body, registered in every process that runs workflows: it
 * waits for the answer, or for a durable timeout that denies the request
 * (marking its row, so a late answer is refused).
 */
const ApprovalWorkflowLive = ApprovalWorkflow.toLayer(({ approvalId, timeoutMillis }) =>
  timeoutMillis === undefined ? DurableDeferred.await(Answer) : DurableDeferred.raceAll({
    name: "toolgate/answer-or-timeout",
    success: Approval.ApprovalDecision,
    error: Schema.Never,
    effects: [
      DurableDeferred.await(Answer),
      Effect.gen(function*() {
        // always a durable clock: below its `inMemoryThreshold` (60 s by
        // default) DurableClock sleeps in memory, and a restart would start
        // the wait again (test/durable/DurableApproval.test.ts caught a 4 s
        // timeout reset by a restart)
        //
        // The deadline counts from the request's row, written when the call
        // was first asked — not from the first run of this body, which a
        // process stopping right after the insert postpones to its restart
        // (the same test, under load). The deadline is an Activity's result,
        // so every replay sleeps to the same instant.
        const deadline = yield* Activity.make({
          name: "toolgate/deadline",
          success: Schema.Number,
          execute: Effect.map(Effect.flatMap(Store.Store, (store) => store.get(approvalId)), (row) =>
            (row?.createdAt ?? Date.now()) + timeoutMillis)
        })
        yield* DurableClock.sleep({
          name: "toolgate/timeout",
          duration: Math.max(0, deadline - Date.now()),
          inMemoryThreshold: Duration.zero
        })
        const decision = timedOut(timeoutMillis)
        const expired = yield* Activity.make({
          name: "toolgate/expire",
          success: Schema.Boolean,
          execute: Effect.flatMap(Store.Store, (store) =>
            store.decide(approvalId, "denied", Schema.encodeSync(Approval.ApprovalDecision)(decision), "timeout"))
        })
        // answered just before the clock fired: the answer stands
        return expired ? decision : yield* DurableDeferred.await(Answer)
      })
    ]
  })
)

/**
 * The id of the request for `callId` in run `runId`.
 *
 * @since 0.3.0
 */
export const approvalId = (runId: string, callId: string): string => `${runId}/${callId}`

/**
 * Options of {@link layer}.
 *
 * - `runId`: names the run; a restarted run passes the same id to find its
 *   requests again.
 * - `timeout`: deny a request nobody answered in time; the deadline is
 *   durable (a restart does not reset it).
 * - `withdrawAfter`: how long after an interruption a request is withdrawn
 *   (default 1 s; a shutdown within it keeps the request pending).
 *
 * @since 0.3.0
 */
export interface Options {
  readonly runId: string
  readonly timeout?: Duration.Input | undefined
  readonly withdrawAfter?: Duration.Input | undefined
}

const withdrawnDecision = Approval.ApprovalDecision.Deny({ reason: "the request was withdrawn" })

// A withdrawal is an answer nobody waits for: the row's flip and the
// deferred's completion are one transaction, like `answer`'s. (Interrupting
// the execution instead raced with a workflow that had recorded its row but
// not yet started: the interruption found nothing, and the call then waited
// forever on a withdrawn request.)
const completeWithdrawn = (withdrawn: Store.Withdrawn) =>
  DurableDeferred.done(Answer, { token: withdrawn.token as DurableDeferred.Token, exit: Exit.succeed(withdrawnDecision) })

/**
 * Withdraws a pending request: later answers are refused and a call still
 * waiting on it is denied. `false` when it was not pending.
 *
 * @since 0.3.0
 */
export const withdraw = (id: string): Effect.Effect<boolean, never, DurableEngine.Services> =>
  Effect.gen(function*() {
    const store = yield* Store.Store
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(Effect.gen(function*() {
      const withdrawn = yield* store.withdraw(id)
      if (withdrawn !== undefined) yield* completeWithdrawn(withdrawn)
      return withdrawn !== undefined
    }))
  }).pipe(Effect.orDie)

/**
 * Withdraws every pending request of a run (it was cancelled for good);
 * returns their ids.
 *
 * @since 0.3.0
 */
export const withdrawRun = (runId: string): Effect.Effect<ReadonlyArray<string>, never, DurableEngine.Services> =>
  Effect.gen(function*() {
    const store = yield* Store.Store
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(Effect.gen(function*() {
      const withdrawn = yield* store.withdrawRun(runId)
      yield* Effect.forEach(withdrawn, completeWithdrawn, { discard: true })
      return withdrawn.map((w) => w.id)
    }))
  }).pipe(Effect.orDie)

const encodeRequest = Schema.encodeSync(Approval.ApprovalRequest)

/**
 * The durable handler.
 *
 * @since 0.3.0
 */
export const make = (
  options: Options
): Effect.Effect<Approval.ApprovalHandler, never, DurableEngine.Services | Scope.Scope> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<DurableEngine.Services>()
    const scope = yield* Effect.scope
    const timeoutMillis = options.timeout === undefined ? undefined : Duration.toMillis(Duration.fromInputUnsafe(options.timeout))
    const withdrawAfter = options.withdrawAfter ?? "1 second"
    return {
      approve: (request) => {
        const id = approvalId(options.runId, request.call.id)
        return Effect.gen(function*() {
          const store = yield* Store.Store
          const executionId = yield* ApprovalWorkflow.executionId({ approvalId: id })
          const row = yield* store.insertPending({
            id,
            runId: options.runId,
            callId: request.call.id,
            tool: request.call.name,
            request: encodeRequest(request),
            token: DurableDeferred.tokenFromExecutionId(Answer, { workflow: ApprovalWorkflow, executionId })
          })
          if (row.status === "withdrawn") {
            return Approval.ApprovalDecision.Deny({ reason: "this request was withdrawn earlier; ask again with a new call" })
          }
          return yield* ApprovalWorkflow.execute({ approvalId: id, ...(timeoutMillis === undefined ? {} : { timeoutMillis }) })
        }).pipe(
          // Cancelled, or shutting down? The withdrawal waits a moment in
          // this Layer's scope: a shutdown closes the scope and cancels it.
          // Around the whole request, the row's insert included: an
          // interruption just after the row was recorded, before the
          // workflow started, left the request pending for good.
          Effect.onInterrupt(() => Effect.forkIn(Effect.andThen(Effect.sleep(withdrawAfter), withdraw(id)), scope).pipe(Effect.asVoid)),
          Effect.provideContext(context)
        )
      }
    } satisfies Approval.ApprovalHandler
  })

/**
 * `Approval.layer` over the durable handler, with the approval workflow
 * registered on the engine: put it in place of any other approver.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { DurableApproval, DurableEngine } from "toolgate/durable"
 * const ApprovalLive = DurableApproval.layer({ runId: "nightly-42" }).pipe(
 *   Layer.provide(DurableEngine.sqlite({ file: ".toolgate/approvals.db" }))
 * )
 * ```
 *
 * @since 0.3.0
 */
export const layer = (options: Options): Layer.Layer<never, never, DurableEngine.Services> =>
  Approval.layer(make(options)).pipe(Layer.provideMerge(ApprovalWorkflowLive))

/**
 * How {@link answer} went: `Answered`, or `Refused` with why (no such
 * request, or it is already allowed, denied or withdrawn).
 *
 * @since 0.3.0
 */
export type AnswerResult =
  | { readonly _tag: "Answered"; readonly row: Store.Row }
  | { readonly _tag: "Refused"; readonly reason: string; readonly row: Store.Row | undefined }

/**
 * Answers a pending request, from any process that reaches the store. The
 * decision is checked like any approver's (a malformed one is a fault and
 * denies); the status flip and the deferred's completion are one
 * transaction.
 *
 * @example
 * ```ts
 * import { Approval } from "toolgate"
 * import { DurableApproval } from "toolgate/durable"
 * const allow = DurableApproval.answer("nightly-42/call_1", Approval.ApprovalDecision.Allow(), { by: "alice" })
 * ```
 *
 * @since 0.3.0
 */
export const answer = (
  id: string,
  decision: Approval.ApprovalDecision,
  options: { readonly by: string }
): Effect.Effect<AnswerResult, never, DurableEngine.Services> =>
  Effect.gen(function*() {
    const store = yield* Store.Store
    const sql = yield* SqlClient.SqlClient
    const checked = Approval.check(decision)
    const status = checked._tag === "Allow" ? "allowed" as const : "denied" as const
    return yield* sql.withTransaction(Effect.gen(function*() {
      const row = yield* store.get(id)
      if (row === undefined) return { _tag: "Refused", reason: `there is no request ${id}`, row } satisfies AnswerResult
      if (!(yield* store.decide(id, status, Schema.encodeSync(Approval.ApprovalDecision)(checked), options.by))) {
        return { _tag: "Refused", reason: `it is ${row.status}, not pending`, row } satisfies AnswerResult
      }
      yield* DurableDeferred.done(Answer, { token: row.token as DurableDeferred.Token, exit: Exit.succeed(checked) })
      return { _tag: "Answered", row: { ...row, status } } satisfies AnswerResult
    }))
  }).pipe(Effect.orDie)

/**
 * Pending requests, oldest first: what `toolgate approvals list` and the
 * console show.
 *
 * @since 0.3.0
 */
export const pending: Effect.Effect<ReadonlyArray<Store.Row>, never, Store.Store> = Effect.flatMap(
  Store.Store,
  (store) => store.pending
)

/**
 * One request, in any status.
 *
 * @since 0.3.0
 */
export const get = (id: string): Effect.Effect<Option.Option<Store.Row>, never, Store.Store> =>
  Effect.map(Effect.flatMap(Store.Store, (store) => store.get(id)), Option.fromUndefinedOr)

/**
 * What {@link prune} removed: approval rows, and the engine's own rows
 * (messages and replies in `cluster_messages` / `cluster_replies`) of the
 * finished executions behind them.
 *
 * @since 0.3.0
 */
export interface Pruned {
  readonly requests: number
  readonly engineRows: number
}

/**
 * Deletes answered and withdrawn requests decided before `before`, and the
 * engine's messages and replies of their executions — finished for good, so
 * nothing will replay them. (The engine keeps every execution's history
 * forever otherwise: its tables grow with each request ever asked.) A
 * pending request and its execution are never touched.
 *
 * @since 0.3.0
 */
export const prune = (before: Date): Effect.Effect<Pruned, never, DurableEngine.Services> =>
  Effect.gen(function*() {
    const store = yield* Store.Store
    const sql = yield* SqlClient.SqlClient
    const ids = yield* store.prunable(before.getTime())
    let requests = 0
    let engineRows = 0
    // (`RETURNING 1`: the engine's ids are 64-bit, more than node:sqlite
    // reads as a JavaScript number)
    // in slices, so one statement's parameter list stays small (SQLite
    // allows 32,766 at most; PostgreSQL 65,535)
    for (let i = 0; i < ids.length; i += 500) {
      const slice = ids.slice(i, i + 500)
      const executions = yield* Effect.forEach(slice, (approvalId) => ApprovalWorkflow.executionId({ approvalId }))
      const counts = yield* sql.withTransaction(Effect.gen(function*() {
        const replies = yield* sql`DELETE FROM cluster_replies WHERE request_id IN (
          SELECT id FROM cluster_messages WHERE entity_type = ${`Workflow/${ApprovalWorkflow._tag}`} AND ${sql.in("entity_id", executions)}
        ) RETURNING 1 AS deleted`
        const messages = yield* sql`DELETE FROM cluster_messages
          WHERE entity_type = ${`Workflow/${ApprovalWorkflow._tag}`} AND ${sql.in("entity_id", executions)} RETURNING 1 AS deleted`
        const rows = yield* store.deleteDecided(slice)
        return { engine: replies.length + messages.length, rows }
      }))
      requests += counts.rows
      engineRows += counts.engine
    }
    return { requests, engineRows }
  }).pipe(Effect.orDie)
