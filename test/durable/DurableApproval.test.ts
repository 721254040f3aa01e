import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { Approval, Executor } from "toolgate"
import { DurableApproval, DurableEngine } from "toolgate/durable"
import { DurableDeferred } from "effect/workflow"
import * as Store from "../../src/durable/internal/store.ts"
import { SqlClient } from "effect/sql"
import { approvalRequest, handlers, makeTracker, toolkit } from "../fixtures.ts"
import { database } from "./postgres.ts"

// Durable approvals in one process, on an embedded SQLite store and on
// PostgreSQL: a request is a row that waits, an answer from the store
// resumes it, and the store's rules (first answer wins, no answer after a
// withdrawal) hold.

const tempStore = () => NodePath.join(Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-durable-")), "approvals.db")

// PostgreSQL: .ci/run starts a private instance on loopback and sets
// TOOLGATE_TEST_PG_URL; locally these tests skip with a message, in CI its
// absence fails the run.
const pgUrl = await database("test/durable/DurableApproval")

const engines = [
  { name: "SQLite", engine: () => DurableEngine.sqlite({ file: tempStore() }) },
  ...(pgUrl === undefined ? [] : [{ name: "PostgreSQL", engine: () => DurableEngine.postgres({ url: pgUrl }) }])
]

// One Write call, which the default policy asks about.
const write = Executor.executeBatch(toolkit, [{ id: "c1", name: "Write", params: { key: "k", value: "v" } }]).pipe(
  Effect.provide(handlers(makeTracker()))
)

// a database outlives a test run: every run id is new
const uniqueRun = () => `run-${Crypto.randomUUID().slice(0, 8)}`

const untilPending = (runId: string) =>
  Effect.gen(function*() {
    for (;;) {
      const rows = (yield* DurableApproval.pending).filter((r) => r.runId === runId)
      if (rows.length > 0) return rows[0]!
      yield* Effect.sleep("10 millis")
    }
  })

for (const { engine, name } of engines) {
  describe(`DurableApproval on ${name}`, () => {
    it.live("a request waits as a row; an answer resumes the call; a second answer is refused", () => {
      const runId = uniqueRun()
      return Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(write)
        const row = yield* untilPending(runId)
        expect(row).toMatchObject({ id: `${runId}/c1`, runId, callId: "c1", tool: "Write", status: "pending" })
        const answered = yield* DurableApproval.answer(row.id, Approval.ApprovalDecision.Allow(), { by: "test" })
        expect(answered._tag).toBe("Answered")
        const [result] = yield* Fiber.join(fiber)
        expect(result!.outcome._tag).toBe("Succeeded")
        const again = yield* DurableApproval.answer(row.id, Approval.ApprovalDecision.Deny({ reason: "late" }), { by: "test" })
        expect(again).toMatchObject({ _tag: "Refused", reason: "it is allowed, not pending" })
        expect(Option.getOrThrow(yield* DurableApproval.get(row.id))).toMatchObject({ status: "allowed", decidedBy: "test" })
      }).pipe(Effect.provide(DurableApproval.layer({ runId }).pipe(Layer.provideMerge(engine()))))
    })

    it.live("of two answers racing, exactly one wins, and the call follows it", () => {
      const runId = uniqueRun()
      return Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(write)
        const row = yield* untilPending(runId)
        const results = yield* Effect.all([
          DurableApproval.answer(row.id, Approval.ApprovalDecision.Allow(), { by: "alice" }),
          DurableApproval.answer(row.id, Approval.ApprovalDecision.Deny({ reason: "no" }), { by: "bob" })
        ], { concurrency: "unbounded" })
        expect(results.filter((r) => r._tag === "Answered")).toHaveLength(1)
        const [result] = yield* Fiber.join(fiber)
        const winner = results.find((r) => r._tag === "Answered")!
        expect(result!.outcome._tag).toBe(winner.row.status === "allowed" ? "Succeeded" : "ApprovalDenied")
      }).pipe(Effect.provide(DurableApproval.layer({ runId }).pipe(Layer.provideMerge(engine()))))
    })

    it.live("interrupting the waiting call withdraws the request; an answer after that is refused", () => {
      const runId = uniqueRun()
      return Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(write)
        const row = yield* untilPending(runId)
        yield* Fiber.interrupt(fiber)
        while (Option.getOrThrow(yield* DurableApproval.get(row.id)).status !== "withdrawn") yield* Effect.sleep("10 millis")
        const late = yield* DurableApproval.answer(row.id, Approval.ApprovalDecision.Allow(), { by: "test" })
        expect(late).toMatchObject({ _tag: "Refused", reason: "it is withdrawn, not pending" })
        expect((yield* DurableApproval.pending).filter((r) => r.runId === runId)).toEqual([])
      }).pipe(Effect.provide(DurableApproval.layer({ runId, withdrawAfter: "10 millis" }).pipe(Layer.provideMerge(engine()))))
    })

    it.live("closing the engine (a shutdown) keeps the request pending for the next start", () => {
      const runId = uniqueRun()
      return Effect.gen(function*() {
        const store = engine()
        const id = yield* Effect.scoped(Effect.gen(function*() {
          const context = yield* Layer.build(DurableApproval.layer({ runId }).pipe(Layer.provideMerge(store)))
          yield* Effect.forkScoped(Effect.provideContext(write, context))
          const row = yield* Effect.provideContext(untilPending(runId), context)
          return row.id
        }))
        // the scope closed: the call was interrupted with everything else
        const after = yield* Effect.scoped(Effect.flatMap(Layer.build(store), (context) =>
          Effect.provideContext(DurableApproval.get(id), context)))
        expect(Option.getOrThrow(after).status).toBe("pending")
      })
    })

    it.live("withdrawRun withdraws every pending request of a run", () => {
      const runId = uniqueRun()
      return Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(write)
        const row = yield* untilPending(runId)
        expect(yield* DurableApproval.withdrawRun(runId)).toEqual([row.id])
        const [result] = yield* Fiber.join(fiber)
        expect(result!.outcome._tag).toMatch(/ApprovalDenied|Cancelled/)
      }).pipe(Effect.provide(DurableApproval.layer({ runId }).pipe(Layer.provideMerge(engine()))))
    })

    // The order a loaded machine produced in CI: the row is recorded, the
    // run is withdrawn, and only then does the workflow start. The call is
    // denied instead of waiting forever on a withdrawn request.
    it.live("a request withdrawn before its workflow started is denied when it starts", () => {
      const runId = uniqueRun()
      return Effect.gen(function*() {
        const id = DurableApproval.approvalId(runId, "c1")
        const executionId = yield* DurableApproval.ApprovalWorkflow.executionId({ approvalId: id })
        yield* (yield* Store.Store).insertPending({
          id,
          runId,
          callId: "c1",
          tool: "Write",
          request: {},
          token: DurableDeferred.tokenFromExecutionId(DurableApproval.Answer, { workflow: DurableApproval.ApprovalWorkflow, executionId })
        })
        expect(yield* DurableApproval.withdrawRun(runId)).toEqual([id])
        const decision = yield* DurableApproval.ApprovalWorkflow.execute({ approvalId: id })
        expect(decision).toMatchObject({ _tag: "Deny", reason: "the request was withdrawn" })
      }).pipe(Effect.provide(DurableApproval.layer({ runId }).pipe(Layer.provideMerge(engine()))))
    })
    // The deadline is recorded with the request: a process that stops
    // before it and starts again denies at the original deadline, not one
    // timeout after the restart.
    it.live("a timeout survives a restart: the deadline does not start again", () => {
      const runId = uniqueRun()
      const file = tempStore()
      const store = name === "SQLite" ? DurableEngine.sqlite({ file }) : engine()
      const timeout = 4_000
      const down = 2_500
      const ask = Effect.flatMap(Approval.ApprovalHandler, (h) => h.approve(approvalRequest("c1")))
      const withApproval = DurableApproval.layer({ runId, timeout }).pipe(Layer.provideMerge(store))
      return Effect.gen(function*() {
        const started = Date.now()
        yield* Effect.scoped(Effect.gen(function*() {
          const context = yield* Layer.build(withApproval)
          yield* Effect.forkScoped(Effect.provideContext(ask, context))
          yield* Effect.provideContext(untilPending(runId), context)
        }))
        // down, as after a crash or a deploy
        yield* Effect.sleep(down)
        const restarted = Date.now()
        const decision = yield* Effect.scoped(Effect.flatMap(Layer.build(withApproval), (context) => Effect.provideContext(ask, context)))
        const decided = Date.now()
        expect(decision).toMatchObject({ _tag: "Deny", decidedBy: "timeout" })
        // not before the deadline set at the first ask, and before the
        // earliest a restarted clock could deny (restarted + timeout): the
        // bound is the claim itself, not a margin tuned to this machine
        expect(decided - started).toBeGreaterThanOrEqual(timeout)
        expect(decided - restarted).toBeLessThan(timeout)
        const row = yield* Effect.scoped(Effect.flatMap(Layer.build(store), (context) =>
          Effect.provideContext(DurableApproval.get(`${runId}/c1`), context)))
        expect(Option.getOrThrow(row)).toMatchObject({ status: "denied", decidedBy: "timeout" })
      })
    }, 30_000)

    it.live("prune removes decided requests and the engine's rows of their executions; a pending one keeps both", () => {
      const runId = uniqueRun()
      return Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const handler = yield* Approval.ApprovalHandler
        const engineRows = (approvalId: string) =>
          Effect.flatMap(DurableApproval.ApprovalWorkflow.executionId({ approvalId }), (executionId) =>
            Effect.map(sql`SELECT COUNT(*) AS n FROM cluster_messages WHERE entity_id = ${executionId}`, (rows) => Number(rows[0]!.n)))
        const answered = yield* Effect.forkChild(handler.approve(approvalRequest("done")))
        const waiting = yield* Effect.forkChild(handler.approve(approvalRequest("open")))
        while ((yield* DurableApproval.pending).filter((r) => r.runId === runId).length < 2) yield* Effect.sleep("10 millis")
        yield* DurableApproval.answer(`${runId}/done`, Approval.ApprovalDecision.Allow(), { by: "test" })
        expect(yield* Fiber.join(answered)).toMatchObject({ _tag: "Allow" })
        expect(yield* engineRows(`${runId}/done`)).toBeGreaterThan(0)
        const pendingBefore = yield* engineRows(`${runId}/open`)
        expect(pendingBefore).toBeGreaterThan(0)

        // decided after the cut-off: kept (the store may hold other runs'
        // requests, so only this run's rows are asserted)
        yield* DurableApproval.prune(new Date(Date.now() - 60_000))
        expect(Option.isSome(yield* DurableApproval.get(`${runId}/done`))).toBe(true)
        const pruned = yield* DurableApproval.prune(new Date(Date.now() + 1))
        expect(pruned.requests).toBeGreaterThanOrEqual(1)
        expect(pruned.engineRows).toBeGreaterThan(0)
        expect(yield* DurableApproval.get(`${runId}/done`)).toEqual(Option.none())
        expect(yield* engineRows(`${runId}/done`)).toBe(0)
        // the pending request and its execution are untouched, and it still works
        expect(yield* engineRows(`${runId}/open`)).toBe(pendingBefore)
        yield* DurableApproval.answer(`${runId}/open`, Approval.ApprovalDecision.Deny({ reason: "no" }), { by: "test" })
        expect(yield* Fiber.join(waiting)).toMatchObject({ _tag: "Deny", reason: "no" })
      }).pipe(Effect.provide(DurableApproval.layer({ runId }).pipe(Layer.provideMerge(engine()))))
    })
  })
}

describe("DurableEngine", () => {
  it.live("a second worker on the same SQLite file is refused; a client may open it alongside", () =>
    Effect.gen(function*() {
      const file = tempStore()
      yield* Layer.build(DurableEngine.sqlite({ file }))
      const second = yield* Effect.exit(Effect.scoped(Layer.build(DurableEngine.sqlite({ file }))))
      expect(second._tag).toBe("Failure")
      expect(String(second)).toContain("another process owns the durable store")
      const client = yield* Effect.exit(Effect.scoped(Layer.build(DurableEngine.client({ store: `sqlite:${file}` }))))
      expect(client._tag).toBe("Success")
    }).pipe(Effect.scoped))

  it.effect("store URLs: sqlite:FILE, a plain file, postgres://; anything else is refused", () =>
    Effect.gen(function*() {
      expect(yield* DurableEngine.parseStore("sqlite:a.db")).toEqual({ _tag: "Sqlite", file: "a.db" })
      expect(yield* DurableEngine.parseStore("a.db")).toEqual({ _tag: "Sqlite", file: "a.db" })
      expect(yield* DurableEngine.parseStore("postgresql://u@h/db")).toEqual({ _tag: "Postgres", url: "postgresql://u@h/db" })
      for (const bad of ["", "sqlite:", "mysql://x", "redis://y"]) {
        expect((yield* Effect.exit(DurableEngine.parseStore(bad)))._tag).toBe("Failure")
      }
    }))
})
