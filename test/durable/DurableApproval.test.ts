import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { Approval, Executor } from "toolgate"
import { DurableApproval, DurableEngine } from "toolgate/durable"
import { handlers, makeTracker, toolkit } from "../fixtures.ts"

// Durable approvals in one process on an embedded SQLite store: a request
// is a row that waits, an answer from the store resumes it, and the store's
// rules (first answer wins, no answer after a withdrawal) hold.

const tempStore = () => NodePath.join(Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-durable-")), "approvals.db")

// One Write call, which the default policy asks about.
const write = Executor.executeBatch(toolkit, [{ id: "c1", name: "Write", params: { key: "k", value: "v" } }]).pipe(
  Effect.provide(handlers(makeTracker()))
)

const untilPending = (count: number) =>
  Effect.gen(function*() {
    for (;;) {
      const rows = yield* DurableApproval.pending
      if (rows.length >= count) return rows
      yield* Effect.sleep("10 millis")
    }
  })

describe("DurableApproval on SQLite", () => {
  it.live("a request waits as a row; an answer resumes the call", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(write)
      const [row] = yield* untilPending(1)
      expect(row).toMatchObject({ id: "run-1/c1", runId: "run-1", callId: "c1", tool: "Write", status: "pending" })
      const answered = yield* DurableApproval.answer(row!.id, Approval.ApprovalDecision.Allow(), { by: "test" })
      expect(answered._tag).toBe("Answered")
      const [result] = yield* Fiber.join(fiber)
      expect(result!.outcome._tag).toBe("Succeeded")
      // a second answer is refused and changes nothing
      const again = yield* DurableApproval.answer(row!.id, Approval.ApprovalDecision.Deny({ reason: "late" }), { by: "test" })
      expect(again).toMatchObject({ _tag: "Refused", reason: "it is allowed, not pending" })
      expect(Option.getOrThrow(yield* DurableApproval.get(row!.id))).toMatchObject({ status: "allowed", decidedBy: "test" })
    }).pipe(
      Effect.provide(DurableApproval.layer({ runId: "run-1" }).pipe(Layer.provideMerge(DurableEngine.sqlite({ file: tempStore() }))))
    ))

  it.live("of two answers racing, exactly one wins", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(write)
      const [row] = yield* untilPending(1)
      const results = yield* Effect.all([
        DurableApproval.answer(row!.id, Approval.ApprovalDecision.Allow(), { by: "alice" }),
        DurableApproval.answer(row!.id, Approval.ApprovalDecision.Deny({ reason: "no" }), { by: "bob" })
      ], { concurrency: "unbounded" })
      expect(results.filter((r) => r._tag === "Answered")).toHaveLength(1)
      const [result] = yield* Fiber.join(fiber)
      const winner = results.find((r) => r._tag === "Answered")!
      expect(result!.outcome._tag).toBe(winner.row.status === "allowed" ? "Succeeded" : "ApprovalDenied")
    }).pipe(
      Effect.provide(DurableApproval.layer({ runId: "run-2" }).pipe(Layer.provideMerge(DurableEngine.sqlite({ file: tempStore() }))))
    ))

  it.live("interrupting the waiting call withdraws the request; an answer after that is refused", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(write)
      const [row] = yield* untilPending(1)
      yield* Fiber.interrupt(fiber)
      for (;;) {
        const now = Option.getOrThrow(yield* DurableApproval.get(row!.id))
        if (now.status === "withdrawn") break
        yield* Effect.sleep("10 millis")
      }
      const late = yield* DurableApproval.answer(row!.id, Approval.ApprovalDecision.Allow(), { by: "test" })
      expect(late).toMatchObject({ _tag: "Refused", reason: "it is withdrawn, not pending" })
      expect(yield* DurableApproval.pending).toEqual([])
    }).pipe(
      Effect.provide(DurableApproval.layer({ runId: "run-3", withdrawAfter: "10 millis" }).pipe(Layer.provideMerge(DurableEngine.sqlite({ file: tempStore() }))))
    ))

  it.live("a second worker on the same SQLite file is refused", () =>
    Effect.gen(function*() {
      const file = tempStore()
      yield* Layer.build(DurableEngine.sqlite({ file }))
      const second = yield* Effect.exit(Effect.scoped(Layer.build(DurableEngine.sqlite({ file }))))
      expect(second._tag).toBe("Failure")
      expect(String(second)).toContain("another process owns the durable store")
      // a client may open it alongside
      const client = yield* Effect.exit(Effect.scoped(Layer.build(DurableEngine.client({ store: `sqlite:${file}` }))))
      expect(client._tag).toBe("Success")
    }).pipe(Effect.scoped))
})
