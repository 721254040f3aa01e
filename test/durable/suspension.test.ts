import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Schema } from "effect"
import { DurableDeferred, Workflow } from "effect/workflow"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { Approval, Executor, ToolPolicy } from "toolgate"
import { DurableEngine } from "toolgate/durable"
import { handlers, makeTracker, toolkit } from "../fixtures.ts"

// Why DurableAgent keeps the workflow instance out of the executor's
// context. Inside a workflow, `DurableDeferred.await` suspends by
// interrupting the fiber it runs in; when that fiber is an executor worker
// (an approver awaiting a deferred), the executor records the call as
// `Cancelled` and the workflow goes on and completes — a run that should
// have waited for an answer ends without it. Two calls side by side show it
// (today: "Cancelled,Cancelled" within milliseconds); with a single call the
// whole batch happens to be interrupted and the workflow does suspend.
//
// What the executor should do: in `runWorkers` (src/Executor.ts), after
// `Fiber.awaitAll(forked)`, a worker that ended interrupt-only while the
// context holds a `WorkflowEngine.WorkflowInstance` whose `suspended` flag
// is set (`Workflow.suspend` sets it, then interrupts the fiber that
// awaited) must make the batch interrupt itself (`Effect.interrupt`, other
// workers interrupted too) instead of filling `Cancelled` results — the
// workflow then suspends and replays the batch when the answer comes. The
// same check belongs wherever a call's interruption becomes a result
// (`executeReady`'s `Cancelled` for the running phase). This test is marked `fails`
// until then: it expects the workflow to wait for the deferred, which it
// does once the executor lets the suspension through; flip it then.

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
  it.live.fails("an approver awaiting a durable deferred suspends the workflow instead of cancelling the call", () =>
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
