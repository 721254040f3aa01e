// Embedding the gated agent in an Effect program, with a custom approver.
// Runs as is from a project that installed toolgate: the scripted demo model
// replays the scenario shipped in the package; with an API key set, the
// real provider is used instead (it needs an HTTP client layer).
import { NodeHttpClient, NodeRuntime, NodeServices } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { Agent, Approval } from "toolgate"
import { BuiltinTools, Providers } from "toolgate/node"
import { PolicyRules } from "toolgate/policy"
import { ScriptedModel } from "toolgate/testing"

// Allow every write except to SUMMARY.md; ask about nothing else.
const approver = Approval.make(({ call }) =>
  (call.params as { file_path?: string }).file_path === "SUMMARY.md"
    ? Approval.ApprovalDecision.Deny({ reason: "summaries go in the wiki" })
    : Approval.ApprovalDecision.Allow())

// A real model when ANTHROPIC_API_KEY or OPENAI_API_KEY is set, else the demo script.
const ModelLive = Providers.fromEnv.pipe(
  Layer.provide(NodeHttpClient.layerUndici),
  Layer.catchTag("NoProviderConfigured", () => ScriptedModel.layerFile(ScriptedModel.demoScenario))
)

const program = Effect.gen(function*() {
  const root = yield* Effect.sync(() => process.argv[2] ?? process.cwd())
  const rules = yield* PolicyRules.make({ allow: ["Read", "Bash(ls:*)"], deny: ["Bash(rm:*)"] })
  const result = yield* Agent.run({ prompt: "Summarize the README", toolkit: BuiltinTools.toolkit }).pipe(
    Effect.provide(Layer.mergeAll(
      BuiltinTools.layer({ root }),
      PolicyRules.layer(rules, { root, home: "/nonexistent" }),
      Approval.layer(approver),
      ModelLive
    ))
  )
  yield* Console.log(result.stopReason._tag, "-", result.text)
})

program.pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
