import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { HttpServerResponse } from "effect/http"
import { ToolPolicy } from "toolgate"
import * as Agent from "../../../src/Agent.ts"
import * as Providers from "../../../src/node/Providers.ts"
import { Toolkit } from "effect/ai"
import { handlers, makeTracker, Read, Write } from "../../fixtures.ts"
import { fakeProvider } from "./server.ts"
import { openAiResponse } from "./wire.ts"

const response = openAiResponse

const text = (id: string, value: string) => ({
  id,
  type: "message",
  role: "assistant",
  status: "completed",
  content: [{ type: "output_text", text: value, annotations: [] }]
})

// OpenAI's Responses API (the one @effect/ai-openai speaks): first two
// function calls (the policy denies one), then a plain message.
const answers = [
  response("resp_1", [
    text("msg_1", "Let me look."),
    { type: "function_call", id: "fc_1", call_id: "call_w", name: "Write", arguments: "{\"key\":\"etc\",\"value\":\"x\"}", status: "completed" },
    { type: "function_call", id: "fc_2", call_id: "call_r", name: "Read", arguments: "{\"key\":\"a\"}", status: "completed" }
  ]),
  response("resp_2", [text("msg_2", "Writing etc is not allowed; a holds 1.")])
]

// OpenAI's strict function schemas reject the fixtures' empty-params tools
// (an empty struct is not a plain object schema to it), so this toolkit keeps
// the two that matter.
const toolkit = Toolkit.make(Read, Write)

describe("Providers.openAi", () => {
  it.live("runs the agent loop against the Responses API wire format, every call through the gate", () =>
    Effect.gen(function*() {
      const server = yield* fakeProvider((_, i) => HttpServerResponse.jsonUnsafe(answers[i] ?? answers[1]))
      const t = makeTracker()
      t.store.set("a", "1")
      const model = Providers.openAi({ apiKey: Redacted.make("test-key"), apiUrl: `${server.url}/v1` }).pipe(
        Layer.provide(NodeHttpClient.layerUndici)
      )
      const policy = ToolPolicy.byName({ Write: ToolPolicy.Verdict.Deny({ reason: "etc is off limits" }) })
      const result = yield* Agent.run({ prompt: "what is in a?", toolkit }).pipe(
        Effect.provide(handlers(t)),
        Effect.provide(ToolPolicy.layer(policy)),
        Effect.provide(model)
      )
      expect(result.text).toBe("Writing etc is not allowed; a holds 1.")
      expect(result.stopReason._tag).toBe("Completed")
      expect(result.usage.inputTokens.total).toBe(60)
      expect(t.store.has("etc")).toBe(false)

      expect(server.received.map((r) => [r.method, r.url])).toEqual([["POST", "/v1/responses"], ["POST", "/v1/responses"]])
      const [first, second] = server.received
      expect(first!.headers["authorization"]).toBe("Bearer test-key")
      expect(first!.body.tools.map((tool: { name: string }) => tool.name)).toEqual(["Read", "Write"])
      // The second request carries the gate's answers as function_call_output items.
      const outputs = second!.body.input.filter((item: { type?: string }) => item.type === "function_call_output")
      expect(outputs.map((o: { call_id: string }) => o.call_id)).toEqual(["call_w", "call_r"])
      expect(JSON.stringify(outputs[0])).toContain("denied by policy: etc is off limits")
      expect(JSON.stringify(outputs[1])).toContain("1")
    }).pipe(Effect.scoped))
})
