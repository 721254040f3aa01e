/**
 * A real model can name a tool that does not exist or send params that do
 * not fit the tool's schema. The provider packages used to reject the whole
 * response for that (the run crashed with an AiError); toolgate must instead
 * answer those calls with NotFound / InvalidParams results the model reads,
 * run the valid calls of the same response, and keep going. Each provider is
 * served by a loopback server sending exactly these calls, non-streaming
 * (Agent.run) and streaming (Agent.stream).
 */
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted, Stream } from "effect"
import { Toolkit } from "effect/ai"
import { HttpServerResponse } from "effect/http"
import * as Agent from "../../../src/Agent.ts"
import * as Providers from "../../../src/node/Providers.ts"
import { handlers, makeTracker, Read, Write } from "../../fixtures.ts"
import { fakeProvider, sse } from "./server.ts"
import { anthropicMessage, anthropicUsage, openAiResponse } from "./wire.ts"

const toolkit = Toolkit.make(Read, Write)

// The calls a confused model sends: an invented tool, a number where the
// schema wants a string, and one good call that must still run.
const calls = [
  { id: "call_unknown", name: "Frobnicate", input: { key: "etc" } },
  { id: "call_invalid", name: "Write", input: { key: 5, value: "x" } },
  { id: "call_good", name: "Read", input: { key: "a" } }
] as const

const expectGateAnswers = (results: ReadonlyArray<{ readonly id: string; readonly text: string; readonly failed: boolean }>) => {
  expect(results.map((r) => r.id)).toEqual(["call_unknown", "call_invalid", "call_good"])
  const [unknown, invalid, good] = results
  expect(unknown!.failed).toBe(true)
  expect(unknown!.text).toMatch(/There is no tool named .{0,6}Frobnicate/)
  expect(invalid!.failed).toBe(true)
  expect(invalid!.text).toMatch(/invalid params|Invalid params|Expected string/i)
  expect(good!.failed).toBe(false)
  expect(good!.text).toContain("1")
}

// --- Anthropic -------------------------------------------------------------


const anthropicAnswers = [
  anthropicMessage(calls.map((c) => ({ type: "tool_use", id: c.id, name: c.name, input: c.input })), "tool_use"),
  anthropicMessage([{ type: "text", text: "done", citations: null }], "end_turn")
]

const anthropicStreamed = (message: ReturnType<typeof anthropicMessage>) =>
  sse([
    { event: "message_start", data: { type: "message_start", message: { ...message, content: [], stop_reason: null } } },
    ...message.content.flatMap((block: any, index): Array<{ event: string; data: unknown }> =>
      block.type === "text"
        ? [
          { event: "content_block_start", data: { type: "content_block_start", index, content_block: { type: "text", text: "", citations: null } } },
          { event: "content_block_delta", data: { type: "content_block_delta", index, delta: { type: "text_delta", text: block.text } } },
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
    { event: "message_delta", data: { type: "message_delta", delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: anthropicUsage } },
    { event: "message_stop", data: { type: "message_stop" } }
  ])

const anthropicResults = (body: any) =>
  body.messages.at(-1).content.map((block: any) => ({
    id: block.tool_use_id,
    text: JSON.stringify(block.content),
    failed: block.is_error === true
  }))

// --- OpenAI ----------------------------------------------------------------


const functionCall = (c: (typeof calls)[number], i: number) => ({
  type: "function_call",
  id: `fc_${i}`,
  call_id: c.id,
  name: c.name,
  arguments: JSON.stringify(c.input),
  status: "completed"
})

const openAiText = {
  id: "msg_2",
  type: "message",
  role: "assistant",
  status: "completed",
  content: [{ type: "output_text", text: "done", annotations: [] }]
}

const openAiAnswers = [openAiResponse("resp_1", calls.map(functionCall)), openAiResponse("resp_2", [openAiText])]

const openAiStreamed = (response: ReturnType<typeof openAiResponse>) => {
  let seq = 0
  const event = (data: Record<string, unknown>) => ({ event: data.type as string, data: { ...data, sequence_number: seq++ } })
  return sse([
    event({ type: "response.created", response: { ...response, status: "in_progress", output: [] } }),
    ...response.output.flatMap((item: any, output_index) => [
      event({
        type: "response.output_item.added",
        output_index,
        item: item.type === "function_call" ? { ...item, arguments: "", status: "in_progress" } : { ...item, content: [], status: "in_progress" }
      }),
      ...(item.type === "function_call"
        ? [
          event({ type: "response.function_call_arguments.delta", output_index, item_id: item.id, delta: item.arguments }),
          event({ type: "response.function_call_arguments.done", output_index, item_id: item.id, arguments: item.arguments })
        ]
        : [
          event({ type: "response.output_text.delta", output_index, item_id: item.id, content_index: 0, delta: item.content[0].text, logprobs: [] })
        ]),
      event({ type: "response.output_item.done", output_index, item })
    ]),
    event({ type: "response.completed", response })
  ])
}

const openAiResults = (body: any) =>
  body.input.filter((item: any) => item.type === "function_call_output").map((item: any) => ({
    id: item.call_id,
    text: JSON.stringify(item.output),
    failed: /There is no tool|nvalid params|Expected/.test(JSON.stringify(item.output))
  }))

// --- the runs --------------------------------------------------------------

const providers = [
  {
    name: "anthropic",
    model: (url: string) => Providers.anthropic({ apiKey: Redacted.make("k"), apiUrl: url }),
    json: anthropicAnswers,
    streamed: anthropicAnswers.map(anthropicStreamed),
    results: anthropicResults
  },
  {
    name: "openai",
    model: (url: string) => Providers.openAi({ apiKey: Redacted.make("k"), apiUrl: `${url}/v1` }),
    json: openAiAnswers,
    streamed: openAiAnswers.map(openAiStreamed),
    results: openAiResults
  }
] as const

describe.each(providers)("$name: calls the model gets wrong become results it reads", (provider) => {
  it.live("Agent.run answers an unknown tool with NotFound and bad params with InvalidParams, and runs the good call", () =>
    Effect.gen(function*() {
      const server = yield* fakeProvider((_, i) => HttpServerResponse.jsonUnsafe(provider.json[Math.min(i, 1)]))
      const t = makeTracker()
      t.store.set("a", "1")
      const result = yield* Agent.run({ prompt: "go", toolkit }).pipe(
        Effect.provide(handlers(t)),
        Effect.provide(provider.model(server.url).pipe(Layer.provide(NodeHttpClient.layerUndici)))
      )
      expect(result.stopReason._tag).toBe("Completed")
      expect(result.text).toBe("done")
      expect(t.store.has("5")).toBe(false)
      expectGateAnswers(provider.results(server.received[1]!.body))
      // The model was still sent each tool's real schema.
      expect(JSON.stringify(server.received[0]!.body.tools)).toContain("\"key\":{\"type\":\"string\"")
    }).pipe(Effect.scoped))

  it.live("Agent.stream does the same on a streamed response", () =>
    Effect.gen(function*() {
      const server = yield* fakeProvider((_, i) =>
        HttpServerResponse.text(provider.streamed[Math.min(i, 1)]!, { contentType: "text/event-stream" })
      )
      const t = makeTracker()
      t.store.set("a", "1")
      const events = Array.from(
        yield* Agent.stream({ prompt: "go", toolkit }).pipe(
          Stream.runCollect,
          Effect.provide(handlers(t)),
          Effect.provide(provider.model(server.url).pipe(Layer.provide(NodeHttpClient.layerUndici)))
        )
      )
      const outcomes = events.flatMap((e) =>
        e._tag === "Tool" && e.event._tag === "Finished" ? [`${e.event.result.id}:${e.event.result.outcome._tag}`] : []
      )
      expect(outcomes).toEqual(["call_unknown:NotFound", "call_invalid:InvalidParams", "call_good:Succeeded"])
      expect(events.at(-1)?._tag).toBe("Done")
      expectGateAnswers(provider.results(server.received[1]!.body))
    }).pipe(Effect.scoped))
})
