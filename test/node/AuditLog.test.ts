import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, FileSystem, Layer, Schema } from "effect"
import { Approval, Executor, ToolEvents, ToolPolicy } from "toolgate"
import { AuditLog } from "toolgate/node"
import { TestApproval } from "toolgate/testing"
import { handlers, makeTracker, toolkit } from "../fixtures.ts"

const readRecords = (fs: FileSystem.FileSystem, path: string) =>
  Effect.map(fs.readFileString(path), (text) => text.trim().split("\n").map((l) => JSON.parse(l)))

const decodeRecord = Schema.decodeUnknownSync(AuditLog.AuditRecord)

describe("AuditLog", () => {
  it.effect("writes a decision and a final record per call, Schema-valid, with run id, call id, tool, params, who decided and the rule", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const path = `${dir}/audit.jsonl`
      yield* fs.writeFileString(path, "{\"earlier\":\"line\"}\n")
      const run = Executor.executeBatch(toolkit, [
        { id: "1", name: "Read", params: { key: "a" } },
        { id: "2", name: "Write", params: { key: "etc", value: "x" } },
        { id: "3", name: "Write", params: { key: "b", value: "y" } },
        { id: "4", name: "Nope", params: {} }
      ]).pipe(
        Effect.provide(handlers(makeTracker())),
        Effect.provide(ToolPolicy.layer(ToolPolicy.make(({ call }) =>
          (call.params as { key: string }).key === "etc"
            ? ToolPolicy.Verdict.Deny({ reason: "no etc", match: { _tag: "Rule", list: "deny", rule: "Write(etc)" } })
            : ToolPolicy.Verdict.Ask()
        ))),
        Effect.provide(Approval.layer(Approval.readOnlyFastPath(Approval.denyAll("not now"))))
      )
      yield* run.pipe(Effect.provide(AuditLog.layer(path, { runId: "run-1" }).pipe(Layer.provideMerge(ToolEvents.layer))))
      const lines = yield* readRecords(fs, path)
      expect(lines[0]).toEqual({ earlier: "line" })
      const records = lines.slice(1).map((line) => decodeRecord(line))
      for (const r of records) expect(r.runId).toBe("run-1")
      const summary = records.map((r) =>
        r._tag === "Decided"
          ? `decided ${r.callId} ${r.tool} ${r.allowed ? "allow" : "deny"} by ${r.decidedBy}${r.rule ? ` [${r.rule}]` : ""}`
          : r._tag === "Finished"
          ? `final ${r.callId} ${r.tool} ${r.verdict} ${r.outcome._tag}`
          : r._tag
      )
      expect(summary.sort()).toEqual([
        "decided 1 Read allow by readOnlyFastPath",
        "decided 2 Write deny by policy [deny: Write(etc)]",
        "decided 3 Write deny by handler",
        "final 1 Read allowed Succeeded",
        "final 2 Write denied PolicyDenied",
        "final 3 Write denied ApprovalDenied",
        "final 4 Nope rejected NotFound"
      ])
      const decided2 = records.find((r) => r._tag === "Decided" && r.callId === "2")
      expect(decided2).toMatchObject({ params: { key: "etc", value: "x" }, reason: "no etc" })
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("an approver's edit and its stop are in the decision records; the final record says who decided and what ran", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const path = `${dir}/audit.jsonl`
      const approver = yield* TestApproval.scripted([
        Approval.ApprovalDecision.Allow({ params: { key: "safe", value: "v" } }),
        Approval.ApprovalDecision.Deny({ reason: "enough", stop: true })
      ])
      yield* Executor.executeBatch(toolkit, [
        { id: "1", name: "Write", params: { key: "a", value: "x" } },
        { id: "2", name: "Write", params: { key: "b", value: "y" } }
      ]).pipe(
        Effect.provide(handlers(makeTracker())),
        Effect.provide(Approval.layer(approver)),
        Effect.provide(AuditLog.layer(path, { runId: "run-2" }).pipe(Layer.provideMerge(ToolEvents.layer)))
      )
      const records = (yield* readRecords(fs, path)).map((line) => decodeRecord(line))
      const decided = (id: string) => records.find((r) => r._tag === "Decided" && r.callId === id)
      expect(decided("1")).toMatchObject({ allowed: true, editedParams: { key: "safe", value: "v" } })
      expect(decided("1")).not.toHaveProperty("stop")
      expect(decided("2")).toMatchObject({ allowed: false, reason: "enough", stop: true })
      expect(decided("2")).not.toHaveProperty("editedParams")
      // the final records are the executor's record of each call
      const finished = (id: string) => records.find((r) => r._tag === "Finished" && r.callId === id)
      expect(finished("1")).toMatchObject({
        params: { key: "a", value: "x" },
        executedParams: { key: "safe", value: "v" },
        decidedBy: "handler",
        isError: false,
        outcome: { _tag: "Succeeded" }
      })
      expect(finished("2")).toMatchObject({ decidedBy: "handler", isError: true, outcome: { _tag: "ApprovalDenied" } })
      expect(finished("2")).not.toHaveProperty("executedParams")
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("with params: \"hash\", no params are written, only their SHA-256", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const path = `${dir}/audit.jsonl`
      yield* Executor.executeBatch(toolkit, [{ id: "1", name: "Write", params: { key: "secret", value: "hunter2" } }]).pipe(
        Effect.provide(handlers(makeTracker())),
        Effect.provide(AuditLog.layer(path, { params: "hash" }).pipe(Layer.provideMerge(ToolEvents.layer)))
      )
      const text = yield* fs.readFileString(path)
      expect(text).not.toContain("hunter2")
      const records = (yield* readRecords(fs, path)).map((l) => decodeRecord(l))
      expect(records.every((r) => "paramsHash" in r && r.paramsHash === AuditLog.hashParams({ value: "hunter2", key: "secret" }))).toBe(true)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("a run interrupted while a call waits for approval still gets a Cancelled final record for it", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const path = `${dir}/audit.jsonl`
      // interrupted once the call waits for its answer (the layer opens a
      // real file first: counting yields would race it)
      const asked = yield* Deferred.make<void>()
      const waiting = Approval.make(() => Effect.andThen(Deferred.succeed(asked, undefined), Effect.never))
      const fiber = yield* Executor.executeBatch(toolkit, [{ id: "w", name: "Write", params: { key: "a", value: "1" } }]).pipe(
        Effect.provide(handlers(makeTracker())),
        Effect.provide(Approval.layer(waiting)),
        Effect.provide(AuditLog.layer(path).pipe(Layer.provideMerge(ToolEvents.layer))),
        Effect.forkChild
      )
      yield* Deferred.await(asked)
      yield* Fiber.interrupt(fiber)
      const records = (yield* readRecords(fs, path)).map((l) => decodeRecord(l))
      expect(records).toHaveLength(1)
      expect(records[0]).toMatchObject({ _tag: "Finished", callId: "w", verdict: "cancelled", outcome: { _tag: "Cancelled", phase: "approval" } })
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("a path that cannot be opened fails the layer before anything runs", () =>
    Effect.gen(function*() {
      let ran = false
      const exit = yield* Effect.sync(() => {
        ran = true
      }).pipe(
        Effect.provide(AuditLog.layer("/nonexistent-dir/for/sure/audit.jsonl").pipe(Layer.provideMerge(ToolEvents.layer))),
        Effect.exit
      )
      expect(Exit.isFailure(exit)).toBe(true)
      expect(ran).toBe(false)
    }).pipe(Effect.provide(NodeServices.layer)))
})
