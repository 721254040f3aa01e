import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Schema } from "effect"
import { DurableDeferred, Workflow } from "effect/workflow"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { Approval, Executor, ToolPolicy } from "toolgate"
import { DurableEngine } from "toolgate/durable"
import { handlers, makeTracker, toolkit } from "../fixtures.ts"

// Inside a workflow, `DurableDeferred.await` suspends by interrupting the
// fiber it runs in. When that fiber is an executor worker (an approver
// awaiting a deferred, two calls side by side), the executor used to record
// the calls as `Cancelled` and the workflow went on and completed without an
// answer. The executor now lets the suspension through (runWorkers in
// src/internal/executor/batch.ts interrupts the batch when the workflow
// instance is suspended): the workflow waits, and replays the batch when the
// answer comes.

const Go = DurableDeferred.make("test/go", { success: Schema.Boolean })

const ExecutorInWorkflow = Workflow.make("test/ExecutorInWorkflow", {
  payload: { id: Schema.String },
  success: Schema.String,
  idempotencyKey: ({ id }) => id
})

const Body = ExecutorInWorkflow.toLayer(() =>
  Effect.map(
    // two read-only calls, run side by side, both asked
    Executor.executeBatch(toolkit, [{ id: "c1", name: "Read", params: { key: "a" } }, { id: "c2", name: "Read", params: { key: "b" } }]),
    (results) => results.map((r) => r.outcome._tag).join(",")
  ).pipe(
    Effect.provide(Layer.mergeAll(
      handlers(makeTracker()),
      ToolPolicy.layer(ToolPolicy.permitAll),
      // the approver waits for a durable answer, inside the workflow
      // (the workflow engine and instance it needs are the body's, in the
      // executor's fiber at run time)
      Approval.layer(Approval.make(() =>
        Effect.as(DurableDeferred.await(Go), Approval.ApprovalDecision.Allow()) as Effect.Effect<Approval.ApprovalDecision>
      ))
    ))
  )
)

const engine = () =>
  DurableEngine.sqlite({ file: NodePath.join(Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-suspension-")), "s.db") })

describe("the executor inside a workflow", () => {
  it.live("an approver awaiting a durable deferred suspends the workflow instead of cancelling the call", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(ExecutorInWorkflow.execute({ id: "w1" }))
      // the workflow must still be waiting: nobody has answered
      const early = yield* Effect.raceFirst(Effect.map(Fiber.await(fiber), (exit) => ({ done: exit })), Effect.as(Effect.sleep("1 second"), { done: undefined }))
      expect(early.done === undefined ? "waiting" : Exit.isSuccess(early.done) ? early.done.value : "failed").toBe("waiting")
      const executionId = yield* ExecutorInWorkflow.executionId({ id: "w1" })
      yield* DurableDeferred.done(Go, {
        token: DurableDeferred.tokenFromExecutionId(Go, { workflow: ExecutorInWorkflow, executionId }),
        exit: Exit.succeed(true)
      })
      expect(yield* Fiber.join(fiber)).toBe("Succeeded,Succeeded")
    }).pipe(Effect.provide(Body.pipe(Layer.provideMerge(engine())))), 20_000)
})
