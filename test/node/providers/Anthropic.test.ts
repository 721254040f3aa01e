import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted, Stream } from "effect"
import { HttpServerResponse } from "effect/http"
import { ToolPolicy } from "toolgate"
import * as Agent from "../../../src/Agent.ts"
import * as Providers from "../../../src/node/Providers.ts"
import { handlers, makeTracker, toolkit } from "../../fixtures.ts"
import { fakeProvider, sse } from "./server.ts"
import { anthropicMessage, anthropicUsage } from "./wire.ts"

const usage = anthropicUsage
const message = anthropicMessage

// Anthropic's Messages API: first a tool_use turn (one call the policy
// denies, one it lets through), then a plain text answer.
const answers = [
  message([
    { type: "text", text: "Let me look.", citations: null },
    { type: "tool_use", id: "toolu_01", name: "Write", input: { key: "etc", value: "x" } },
    { type: "tool_use", id: "toolu_02", name: "Read", input: { key: "a" } }
  ], "tool_use"),
  message([{ type: "text", text: "Writing etc is not allowed; a holds 1.", citations: null }], "end_turn")
]

describe("Providers.anthropic", () => {
  it.live("runs the agent loop against the Messages API wire format, every call through the gate", () =>
    Effect.gen(function*() {
      const server = yield* fakeProvider((_, i) => HttpServerResponse.jsonUnsafe(answers[i] ?? answers[1]))
      const t = makeTracker()
      t.store.set("a", "1")
      const model = Providers.anthropic({ apiKey: Redacted.make("test-key"), apiUrl: server.url }).pipe(
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
      expect(result.usage.outputTokens.total).toBe(18)
      expect(t.store.has("etc")).toBe(false)

      expect(server.received.map((r) => [r.method, r.url])).toEqual([
        ["POST", "/v1/messages?beta=true"],
        ["POST", "/v1/messages?beta=true"]
      ])
      const [first, second] = server.received
      expect(first!.headers["x-api-key"]).toBe("test-key")
      expect(first!.body.tools.map((tool: { name: string }) => tool.name)).toEqual(["Read", "Write", "Promoted", "Fail", "Die"])
      // The second request carries the gate's answers as tool_result blocks.
      const toolResults = second!.body.messages.at(-1).content
      expect(toolResults).toMatchObject([
        { type: "tool_result", tool_use_id: "toolu_01", is_error: true },
        { type: "tool_result", tool_use_id: "toolu_02" }
      ])
      expect(JSON.stringify(toolResults[0])).toContain("denied by policy: etc is off limits")
      expect(JSON.stringify(toolResults[1])).toContain("1")
      expect(toolResults[1].is_error).not.toBe(true)
    }).pipe(Effect.scoped))
})

type SseEvent = { readonly event?: string; readonly data: unknown }

// The same exchange, streamed as Messages API server-sent events.
const streamed = (blocks: ReadonlyArray<{ readonly text: string } | { readonly id: string; readonly name: string; readonly input: unknown }>, stop: string) =>
  sse([
    { event: "message_start", data: { type: "message_start", message: { ...message([], stop), stop_reason: null } } },
    ...blocks.flatMap((block, index): Array<SseEvent> =>
      "text" in block
        ? [
          { event: "content_block_start", data: { type: "content_block_start", index, content_block: { type: "text", text: "", citations: null } } },
          ...block.text.split(/(?<= )/).map((piece) => ({
            event: "content_block_delta",
            data: { type: "content_block_delta", index, delta: { type: "text_delta", text: piece } }
          })),
          { event: "content_block_stop", data: { type: "content_block_stop", index } }
        ]
        : [
          {
            event: "content_block_start",
            data: { type: "content_block_start", index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } }
          },
          {
            event: "content_block_delta",
            data: { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) } }
          },
          { event: "content_block_stop", data: { type: "content_block_stop", index } }
        ]
    ),
    {
      event: "message_delta",
      data: { type: "message_delta", delta: { stop_reason: stop, stop_sequence: null }, usage }
    },
    { event: "message_stop", data: { type: "message_stop" } }
  ])

describe("Providers.anthropic streaming", () => {
  it.live("Agent.stream relays the provider's text deltas and the gate's events", () =>
    Effect.gen(function*() {
      const bodies = [
        streamed([{ text: "Let me look at a." }, { id: "toolu_01", name: "Read", input: { key: "a" } }], "tool_use"),
        streamed([{ text: "a holds 1." }], "end_turn")
      ]
      const server = yield* fakeProvider((_, i) =>
        HttpServerResponse.text(bodies[i] ?? bodies[1]!, { contentType: "text/event-stream" })
      )
      const t = makeTracker()
      t.store.set("a", "1")
      const model = Providers.anthropic({ apiKey: Redacted.make("test-key"), apiUrl: server.url }).pipe(
        Layer.provide(NodeHttpClient.layerUndici)
      )
      const events = Array.from(
        yield* Agent.stream({ prompt: "what is in a?", toolkit }).pipe(
          Stream.runCollect,
          Effect.provide(handlers(t)),
          Effect.provide(model)
        )
      )
      const deltas = events.flatMap((e) => e._tag === "TextDelta" ? [e.delta] : [])
      expect(deltas).toEqual(["Let ", "me ", "look ", "at ", "a.", "a ", "holds ", "1."])
      expect(events.flatMap((e) => e._tag === "Tool" ? [e.event._tag] : [])).toEqual([
        "Pending",
        "ApprovalRequested",
        "Decided",
        "Started",
        "Finished"
      ])
      const done = events.at(-1)!
      expect(done._tag).toBe("Done")
      if (done._tag !== "Done") return
      expect(done.result.text).toBe("a holds 1.")
      expect(server.received[0]!.body.stream).toBe(true)
      const toolResult = server.received[1]!.body.messages.at(-1).content[0]
      expect(toolResult).toMatchObject({ type: "tool_result", tool_use_id: "toolu_01" })
      expect(JSON.stringify(toolResult)).toContain("1")
    }).pipe(Effect.scoped))
})
