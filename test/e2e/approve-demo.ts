/**
 * A small program for the terminal end-to-end test: two Write calls to the
 * workspace given as the first argument, through the gate, with the terminal
 * approver on the real NodeTerminal. It prints each call's outcome and then
 * "demo: done", so the test can read the result off the screen.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import * as BuiltinTools from "../../src/node/BuiltinTools.ts"
import { Executor } from "../../src/index.ts"
import * as TerminalApproval from "../../src/node/TerminalApproval.ts"

const root = process.argv[2]
if (root === undefined) throw new Error("usage: approve-demo.ts <workspace>")

const program = Effect.gen(function*() {
  const results = yield* Executor.executeBatch(BuiltinTools.toolkit, [
    { id: "w1", name: "Write", params: { file_path: "a.txt", content: "from the first call\n" } },
    { id: "w2", name: "Write", params: { file_path: "b.txt", content: "from the second call\n" } }
  ])
  for (const r of results) {
    const detail = r.outcome._tag === "ApprovalDenied" ? `: ${r.outcome.reason}` : ""
    yield* Console.log(`demo: ${r.id} ${r.outcome._tag}${detail}`)
  }
  yield* Console.log("demo: done")
})

program.pipe(
  Effect.provide(Layer.mergeAll(BuiltinTools.layer({ root }), TerminalApproval.layer).pipe(
    Layer.provideMerge(NodeServices.layer)
  )),
  NodeRuntime.runMain
)
