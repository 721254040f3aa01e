/**
 * One whole agent turn: a scripted model asks for N no-op tool calls, then
 * answers with text. Per call, for
 *
 * - `Agent.run` (toolgate: generateText without tool resolution, then
 *   `executeBatch` through the gate, every call asked and auto-approved by
 *   the default policy and handler, then the closing generateText),
 * - effect/ai's `LanguageModel.generateText` resolving the same toolkit
 *   itself (twice: the tool-call step and the closing text step), no gate,
 * - the Vercel AI SDK 7's `generateText` with its mock model (`ai/test`),
 *   approval enabled so that both sides do the same work, two ways:
 *   `needsApproval: true` answered automatically (the approval requests come
 *   back, the program approves them all and calls `generateText` again,
 *   the SDK's documented flow), and the SDK's in-process `toolApproval`
 *   function answering "approved" for each call (one `generateText`).
 *
 * Every scripted model is built before its round's timer starts.
 *
 * Run: `npx node bench/turn.bench.ts`. Target: Agent.run < 0.5× the Vercel
 * AI SDK with approval at N = 1,000.
 */
import { generateText, jsonSchema, type ModelMessage, stepCountIs, tool } from "ai"
import { MockLanguageModelV3 } from "ai/test"
import { Effect } from "effect"
import { LanguageModel } from "effect/ai"
import * as Agent from "../src/Agent.ts"
import * as ScriptedModel from "../src/testing/ScriptedModel.ts"
import { noopCalls, noopHandler, noopToolkit } from "./fixtures.ts"
import { fmt, interleave, quick, roundsFor, sizesOr, stats, table, versionOf } from "./harness.ts"

const handlers = await Effect.runPromise(noopToolkit.toHandlers({ Noop: noopHandler }))

const scriptedModel = (n: number) =>
  Effect.runPromise(Effect.map(
    ScriptedModel.make({ turns: [{ toolCalls: noopCalls(n) }, { text: "done" }] }),
    (scripted) => scripted.model
  ))

const agentTurn = (model: LanguageModel.LanguageModel) =>
  Effect.runPromise(
    Agent.run({ prompt: "go", toolkit: noopToolkit }).pipe(
      Effect.provide(handlers),
      Effect.provideService(LanguageModel.LanguageModel, model)
    )
  )

const effectAiTurn = (n: number) => (model: LanguageModel.LanguageModel) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const first = yield* LanguageModel.generateText({ prompt: "go", toolkit: noopToolkit })
      if (first.toolResults.length !== n) {
        return yield* Effect.die(new Error(`effect/ai resolved ${first.toolResults.length} of ${n}`))
      }
      yield* LanguageModel.generateText({ prompt: "go on", toolkit: noopToolkit })
    }).pipe(
      Effect.provide(handlers),
      Effect.provideService(LanguageModel.LanguageModel, model)
    )
  )

const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 1, text: 1, reasoning: undefined }
}
const mockModel = (n: number) => {
  let step = 0
  return new MockLanguageModelV3({
    doGenerate: async () =>
      step++ === 0
        ? {
          content: Array.from({ length: n }, (_, i) => ({
            type: "tool-call" as const,
            toolCallId: `call_${i}`,
            toolName: "Noop",
            input: JSON.stringify({ i })
          })),
          finishReason: { unified: "tool-calls" as const, raw: undefined },
          usage,
          warnings: []
        }
        : {
          content: [{ type: "text" as const, text: "done" }],
          finishReason: { unified: "stop" as const, raw: undefined },
          usage,
          warnings: []
        }
  })
}

const inputSchema = jsonSchema<{ i: number }>({ type: "object", properties: { i: { type: "number" } }, required: ["i"] })
// counts the executions, for the check that every approved call ran
let executed = 0
const execute = async ({ i }: { i: number }) => {
  executed++
  return i
}
const askedTools = { Noop: tool({ inputSchema, execute, needsApproval: true }) }
const plainTools = { Noop: tool({ inputSchema, execute }) }

/** needsApproval: the first generateText returns the approval requests; approve them all and continue. */
const vercelNeedsApproval = (n: number) => async (model: MockLanguageModelV3) => {
  const prompt: Array<ModelMessage> = [{ role: "user", content: "go" }]
  const before = executed
  const first = await generateText({ model, messages: prompt, tools: askedTools, stopWhen: stepCountIs(2) })
  const requests = first.content.flatMap((part) => part.type === "tool-approval-request" ? [part] : [])
  if (requests.length !== n) throw new Error(`Vercel AI SDK asked ${requests.length} of ${n}`)
  const second = await generateText({
    model,
    messages: [
      ...prompt,
      ...first.response.messages,
      {
        role: "tool",
        content: requests.map((r) => ({ type: "tool-approval-response" as const, approvalId: r.approvalId, approved: true }))
      }
    ],
    tools: askedTools,
    stopWhen: stepCountIs(2)
  })
  const ran = executed - before
  if (ran !== n || second.text !== "done") throw new Error(`Vercel AI SDK ran ${ran} of ${n} approved calls`)
}

/** toolApproval: the SDK asks a function for each call, which approves. */
const vercelToolApproval = (n: number) => async (model: MockLanguageModelV3) => {
  const result = await generateText({
    model,
    prompt: "go",
    tools: plainTools,
    toolApproval: { Noop: () => "approved" },
    stopWhen: stepCountIs(2)
  })
  if (result.steps[0]?.toolResults.length !== n || result.text !== "done") {
    throw new Error(`Vercel AI SDK resolved ${result.steps[0]?.toolResults.length} of ${n}`)
  }
}

// sanity: the agent really ran every call through the gate, each variant checks its own
{
  const result = await agentTurn(await scriptedModel(10))
  const ran = result.messages.flatMap((m) => m.role === "tool" ? m.content : []).filter((p) => p.type === "tool-result")
  if (result.text !== "done" || ran.length !== 10 || ran.some((p) => p.isFailure)) {
    throw new Error(`Agent.run did not run the scripted turn: ${JSON.stringify(result).slice(0, 300)}`)
  }
}

const sizes = sizesOr(quick ? [1, 100] : [1, 10, 100, 1_000])
const rows: Array<Array<string>> = []
const ratios: Record<number, { asked: number; fn: number }> = {}
for (const n of sizes) {
  const rounds = quick ? 3 : roundsFor(n, 20_000, 10, 200)
  const samples = await interleave({
    agent: { setup: () => scriptedModel(n), run: agentTurn },
    effectAi: { setup: () => scriptedModel(n), run: effectAiTurn(n) },
    vercelAsked: { setup: async () => mockModel(n), run: vercelNeedsApproval(n) },
    vercelFn: { setup: async () => mockModel(n), run: vercelToolApproval(n) }
  }, { rounds, warmup: Math.max(3, Math.ceil(rounds / 5)) })
  const us = (k: keyof typeof samples) => {
    const s = stats(samples[k])
    return { median: (s.median * 1000) / n, p90: (s.p90 * 1000) / n }
  }
  const r = { agent: us("agent"), effectAi: us("effectAi"), asked: us("vercelAsked"), fn: us("vercelFn") }
  ratios[n] = { asked: r.agent.median / r.asked.median, fn: r.agent.median / r.fn.median }
  rows.push([
    n.toLocaleString("en"),
    `${rounds}`,
    ...[r.agent, r.effectAi, r.asked, r.fn].map((x) => `${fmt(x.median)} / ${fmt(x.p90)}`),
    `${fmt(ratios[n]!.asked)}×`,
    `${fmt(ratios[n]!.fn)}×`,
    `${fmt(r.effectAi.median / r.asked.median)}×`
  ])
}
const last = sizes.at(-1)!
const at = ratios[last]!
console.log(`## 2. Whole turn against the peers

One turn: a scripted model asks for N no-op tool calls, then answers with text; every call is approved (toolgate: the default policy asks and the default handler approves; Vercel AI SDK ${
  versionOf("ai")
}: \`needsApproval\` answered automatically with a second \`generateText\`, or its \`toolApproval\` function). Models are built outside the timed region. Per call, µs, median / p90 (variants interleaved). OpenAI Agents JS is not measured here (its reference figure, ≈ 17,800 µs per call at N = 1,000, grows quadratically).

${
  table([
    "N",
    "rounds",
    "toolgate Agent.run",
    "effect/ai generateText (no gate)",
    "Vercel needsApproval",
    "Vercel toolApproval fn",
    "Agent ÷ Vercel needsApproval",
    "Agent ÷ Vercel toolApproval",
    "effect/ai ÷ Vercel needsApproval"
  ], rows)
}

Target: Agent.run < 0.5× the Vercel AI SDK with approval at N = ${last.toLocaleString("en")} — measured **${fmt(at.asked)}×** against \`needsApproval\` (${
  at.asked < 0.5 ? "met" : "missed"
}), ${fmt(at.fn)}× against the \`toolApproval\` function.
`)
