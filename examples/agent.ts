// Embedding the gated agent in an Effect program, with a custom approver.
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { Agent, Approval } from "toolgate"
import { BuiltinTools } from "toolgate/node"
import { PolicyRules } from "toolgate/policy"
import { ScriptedModel } from "toolgate/testing"

// Allow every write except to SUMMARY.md; ask about nothing else.
const approver = Approval.make(({ call }) =>
  (call.params as { file_path?: string }).file_path === "SUMMARY.md"
    ? Approval.ApprovalDecision.Deny({ reason: "summaries go in the wiki" })
    : Approval.ApprovalDecision.Allow())

const program = Effect.gen(function*() {
  const root = yield* Effect.sync(() => process.argv[2] ?? process.cwd())
  const rules = yield* PolicyRules.make({ allow: ["Read", "Bash(ls:*)"], deny: ["Bash(rm:*)"] })
  const result = yield* Agent.run({ prompt: "Summarize the README", toolkit: BuiltinTools.toolkit }).pipe(
    Effect.provide(Layer.mergeAll(
      BuiltinTools.layer({ root }),
      PolicyRules.layer(rules, { root, home: "/nonexistent" }),
      Approval.layer(approver),
      ScriptedModel.layerFile("scenarios/demo.json") // or Providers.fromEnv
    ))
  )
  yield* Console.log(result.stopReason._tag, "-", result.text)
})

program.pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
