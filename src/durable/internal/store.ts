/**
 * toolgate's table of approvals, beside the engine's own tables: what the
 * CLI and the console list and answer. (The engine's tables hold the
 * durable wake-up as serialized envelopes; they cannot say what is pending
 * or whether a request was already answered.)
 *
 * A row's status moves once — pending → allowed | denied | withdrawn — by a
 * conditional `UPDATE … WHERE status = 'pending'`, so the first answer wins
 * and an answer after a withdrawal is refused, on SQLite and Postgres alike.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"

/** @since 0.3.0 */
export const Status = Schema.Literals(["pending", "allowed", "denied", "withdrawn"])

/** @since 0.3.0 */
export type Status = typeof Status.Type

/**
 * One approval as stored.
 *
 * @since 0.3.0
 */
export interface Row {
  readonly id: string
  readonly runId: string
  readonly callId: string
  readonly tool: string
  /** The encoded `ApprovalRequest`. */
  readonly request: unknown
  /** The token of the durable deferred an answer completes. */
  readonly token: string
  readonly status: Status
  /** The encoded `ApprovalDecision`, once answered. */
  readonly decision: unknown
  readonly decidedBy: string | null
  readonly createdAt: number
  readonly decidedAt: number | null
}

const toRow = (r: any): Row => ({
  id: r.id,
  runId: r.run_id,
  callId: r.call_id,
  tool: r.tool,
  request: JSON.parse(r.request),
  token: r.token,
  status: r.status,
  decision: r.decision === null || r.decision === undefined ? null : JSON.parse(r.decision),
  decidedBy: r.decided_by ?? null,
  createdAt: Number(r.created_at),
  decidedAt: r.decided_at === null || r.decided_at === undefined ? null : Number(r.decided_at)
})

/**
 * A request just withdrawn: its id and the token of the deferred it waits on.
 *
 * @since 0.3.0
 */
export interface Withdrawn {
  readonly id: string
  readonly token: string
}

/**
 * The approvals table.
 *
 * @since 0.3.0
 */
export class Store extends Context.Service<Store, {
  /** Records a pending request; inserting an id again keeps the first row and returns it. */
  readonly insertPending: (row: Pick<Row, "id" | "runId" | "callId" | "tool" | "request" | "token">) => Effect.Effect<Row>
  /** pending → allowed | denied; false when the row was not pending. */
  readonly decide: (id: string, status: "allowed" | "denied", decision: unknown, by: string) => Effect.Effect<boolean>
  /** pending → withdrawn; the row's deferred token, or undefined when it was not pending. */
  readonly withdraw: (id: string) => Effect.Effect<Withdrawn | undefined>
  /** Withdraws every pending request of a run; returns their ids and tokens. */
  readonly withdrawRun: (runId: string) => Effect.Effect<ReadonlyArray<Withdrawn>>
  readonly get: (id: string) => Effect.Effect<Row | undefined>
  /** Pending requests, oldest first. */
  readonly pending: Effect.Effect<ReadonlyArray<Row>>
  /**
   * Records that an attempt of a durable run's call began: true for the
   * first attempt, false when one had begun before (DurableAgent).
   */
  readonly beginCall: (runId: string, callId: string) => Effect.Effect<boolean>
  /** The ids of answered and withdrawn rows decided before `before` (ms since the epoch). */
  readonly prunable: (before: number) => Effect.Effect<ReadonlyArray<string>>
  /** Deletes these rows if they are no longer pending; returns how many. */
  readonly deleteDecided: (ids: ReadonlyArray<string>) => Effect.Effect<number>
}>()("toolgate/durable/Store") {}

/**
 * The table on the `SqlClient` in context, created when missing.
 *
 * @since 0.3.0
 */
export const layer = Layer.effect(Store, Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS toolgate_approvals (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    tool TEXT NOT NULL,
    request TEXT NOT NULL,
    token TEXT NOT NULL,
    status TEXT NOT NULL,
    decision TEXT,
    decided_by TEXT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT
  )`
  // DurableAgent's record of call attempts: a row means an attempt began;
  // the call's end is the engine's record of its Activity
  yield* sql`CREATE TABLE IF NOT EXISTS toolgate_calls (
    run_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    begun_at BIGINT NOT NULL,
    PRIMARY KEY (run_id, call_id)
  )`
  yield* sql`CREATE INDEX IF NOT EXISTS toolgate_approvals_status ON toolgate_approvals (status, created_at)`
  const get = (id: string) =>
    Effect.map(sql`SELECT * FROM toolgate_approvals WHERE id = ${id}`, (rows) => rows[0] === undefined ? undefined : toRow(rows[0]))
  // The store's queries are simple and its callers cannot recover from a
  // database that stopped answering: such a failure is a defect.
  return Store.of({
    insertPending: (row) =>
      sql`INSERT INTO toolgate_approvals (id, run_id, call_id, tool, request, token, status, created_at)
          VALUES (${row.id}, ${row.runId}, ${row.callId}, ${row.tool}, ${JSON.stringify(row.request)}, ${row.token}, 'pending', ${Date.now()})
          ON CONFLICT (id) DO NOTHING`.pipe(Effect.andThen(get(row.id)), Effect.map((r) => r!), Effect.orDie),
    decide: (id, status, decision, by) =>
      sql`UPDATE toolgate_approvals SET status = ${status}, decision = ${JSON.stringify(decision)}, decided_by = ${by}, decided_at = ${Date.now()}
          WHERE id = ${id} AND status = 'pending' RETURNING id`.pipe(Effect.map((rows) => rows.length === 1), Effect.orDie),
    withdraw: (id) =>
      sql`UPDATE toolgate_approvals SET status = 'withdrawn', decided_at = ${Date.now()}
          WHERE id = ${id} AND status = 'pending' RETURNING id, token`.pipe(
        Effect.map((rows) => rows[0] === undefined ? undefined : { id: String(rows[0].id), token: String(rows[0].token) }),
        Effect.orDie
      ),
    withdrawRun: (runId) =>
      sql`UPDATE toolgate_approvals SET status = 'withdrawn', decided_at = ${Date.now()}
          WHERE run_id = ${runId} AND status = 'pending' RETURNING id, token`.pipe(
        Effect.map((rows) => rows.map((r: any) => ({ id: String(r.id), token: String(r.token) }))),
        Effect.orDie
      ),
    get: (id) => Effect.orDie(get(id)),
    pending: sql`SELECT * FROM toolgate_approvals WHERE status = 'pending' ORDER BY created_at, id`.pipe(
      Effect.map((rows) => rows.map(toRow)),
      Effect.orDie
    ),
    beginCall: (runId, callId) =>
      sql`INSERT INTO toolgate_calls (run_id, call_id, begun_at) VALUES (${runId}, ${callId}, ${Date.now()})
          ON CONFLICT (run_id, call_id) DO NOTHING RETURNING run_id`.pipe(Effect.map((rows) => rows.length === 1), Effect.orDie),
    prunable: (before) =>
      sql`SELECT id FROM toolgate_approvals WHERE status <> 'pending' AND decided_at < ${before} ORDER BY id`.pipe(
        Effect.map((rows) => rows.map((r: any) => String(r.id))),
        Effect.orDie
      ),
    deleteDecided: (ids) =>
      ids.length === 0 ? Effect.succeed(0) : sql`DELETE FROM toolgate_approvals WHERE status <> 'pending' AND ${sql.in("id", ids)} RETURNING id`.pipe(
        Effect.map((rows) => rows.length),
        Effect.orDie
      )
  })
}))
