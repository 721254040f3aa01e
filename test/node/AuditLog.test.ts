import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, FileSystem, Layer } from "effect"
import { Approval, Executor, ToolEvents, ToolPolicy } from "toolgate"
import { AuditLog } from "toolgate/node"
import { handlers, makeTracker, toolkit } from "../fixtures.ts"

describe("AuditLog", () => {
  it.effect("writes every decision and result as a JSON line, including those still queued when the run ends", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const path = `${dir}/audit.jsonl`
      yield* fs.writeFileString(path, "{\"earlier\":\"line\"}\n")
      const run = Executor.executeBatch(toolkit, [
        { id: "1", name: "Read", params: { key: "a" } },
        { id: "2", name: "Write", params: { key: "etc", value: "x" } },
        { id: "3", name: "Write", params: { key: "b", value: "y" } }
      ]).pipe(
        Effect.provide(handlers(makeTracker())),
        Effect.provide(ToolPolicy.layer(ToolPolicy.make(({ call }) =>
          (call.params as { key: string }).key === "etc"
            ? ToolPolicy.Verdict.Deny({ reason: "no etc", match: { _tag: "Rule", list: "deny", rule: "Write(etc)" } })
            : ToolPolicy.Verdict.Ask()
        ))),
        Effect.provide(Approval.layer(Approval.readOnlyFastPath(Approval.denyAll("not now"))))
      )
      yield* run.pipe(Effect.provide(AuditLog.layer(path).pipe(Layer.provideMerge(ToolEvents.layer))))
      const lines = (yield* fs.readFileString(path)).trim().split("\n").map((l) => JSON.parse(l))
      expect(lines[0]).toEqual({ earlier: "line" })
      const entries = lines.slice(1).map(({ time, ...rest }) => {
        expect(typeof time).toBe("string")
        return rest
      })
      expect(entries).toEqual([
        { event: "decided", id: "2", name: "Write", allowed: false, decidedBy: "policy", reason: "no etc", rule: "deny: Write(etc)", depth: 0 },
        { event: "finished", id: "2", name: "Write", outcome: "PolicyDenied", isFailure: true, depth: 0 },
        { event: "decided", id: "1", name: "Read", allowed: true, decidedBy: "readOnlyFastPath", depth: 0 },
        { event: "finished", id: "1", name: "Read", outcome: "Succeeded", isFailure: false, depth: 0 },
        { event: "decided", id: "3", name: "Write", allowed: false, decidedBy: "handler", reason: "not now", depth: 0 },
        { event: "finished", id: "3", name: "Write", outcome: "ApprovalDenied", isFailure: true, depth: 0 }
      ])
    }).pipe(Effect.provide(NodeServices.layer)))
})
