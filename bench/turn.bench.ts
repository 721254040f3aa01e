/**
 * One whole agent turn: a scripted model asks for N no-op tool calls, then
 * answers with text. Per call, for
 *
 * - `Agent.run` (toolgate: generateText without tool resolution, then
 *   `executeBatch` through the gate, then the closing generateText),
 * - effect/ai's `LanguageModel.generateText` resolving the same toolkit
 *   itself (twice: the tool-call step and the closing text step),
 * - the Vercel AI SDK's `generateText` with its mock model (`ai/test`), two
 *   steps.
 *
 * Run: `npx node bench/turn.bench.ts`. Target: Agent.run below the Vercel
 * AI SDK in the same run.
 */
import { generateText, jsonSchema, stepCountIs, tool } from "ai"
import { MockLanguageModelV3 } from "ai/test"
import { Effect } from "effect"
import { LanguageModel } from "effect/ai"
import * as Agent from "../src/Agent.ts"
import * as ScriptedModel from "../src/testing/ScriptedModel.ts"
import { noopHandlers, noopToolkit } from "./fixtures.ts"
import { fmt, interleave, quick, roundsFor, stats, table } from "./harness.ts"

const scenario = (n: number) => ({
  turns: [
    { toolCalls: Array.from({ length: n }, (_, i) => ({ id: `call_${i}`, name: "Noop", params: { i } })) },
    { text: "done" }
  ]
})

const agentTurn = (n: number) =>
  Agent.run({ prompt: "go", toolkit: noopToolkit }).pipe(
    Effect.provide(noopHandlers),
    Effect.provide(ScriptedModel.layer(scenario(n)))
  )

const effectAiTurn = (n: number) =>
  Effect.gen(function*() {
    const first = yield* LanguageModel.generateText({ prompt: "go", toolkit: noopToolkit })
    if (first.toolResults.length !== n) return yield* Effect.die(new Error(`effect/ai resolved ${first.toolResults.length} of ${n}`))
    yield* LanguageModel.generateText({ prompt: "go on", toolkit: noopToolkit })
  }).pipe(
    Effect.provide(noopHandlers),
    Effect.provide(ScriptedModel.layer(scenario(n)))
  )

const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 1, text: 1, reasoning: undefined }
}
const vercelTurn = async (n: number) => {
  let step = 0
  const model = new MockLanguageModelV3({
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
  const result = await generateText({
    model,
    prompt: "go",
    tools: {
      Noop: tool({
        inputSchema: jsonSchema<{ i: number }>({ type: "object", properties: { i: { type: "number" } }, required: ["i"] }),
        execute: async ({ i }) => i
      })
    },
    stopWhen: stepCountIs(2)
  })
  if (result.steps[0]?.toolResults.length !== n) throw new Error(`Vercel AI SDK resolved ${result.steps[0]?.toolResults.length} of ${n}`)
}

// sanity: the agent really ran every call through the gate
{
  const result = await Effect.runPromise(agentTurn(10))
  const json = JSON.stringify(result)
  if (!json.includes("done")) throw new Error(`Agent.run did not finish the scripted turn: ${json.slice(0, 300)}`)
}

const sizes = quick ? [1, 100] : [1, 10, 100, 1_000]
const rows: Array<Array<string>> = []
const ratios: Record<number, number> = {}
for (const n of sizes) {
  const rounds = quick ? 3 : roundsFor(n, 20_000, 10, 200)
  const samples = await interleave({
    agent: () => Effect.runPromise(agentTurn(n)),
    effectAi: () => Effect.runPromise(effectAiTurn(n)),
    vercel: () => vercelTurn(n)
  }, { rounds, warmup: Math.max(3, Math.ceil(rounds / 5)) })
  const us = (k: keyof typeof samples) => {
    const s = stats(samples[k])
    return { median: (s.median * 1000) / n, p90: (s.p90 * 1000) / n }
  }
  const r = { agent: us("agent"), effectAi: us("effectAi"), vercel: us("vercel") }
  ratios[n] = r.agent.median / r.vercel.median
  rows.push([
    n.toLocaleString("en"),
    `${rounds}`,
    ...[r.agent, r.effectAi, r.vercel].map((x) => `${fmt(x.median)} / ${fmt(x.p90)}`),
    `${fmt(r.agent.median / r.vercel.median)}×`,
    `${fmt(r.effectAi.median / r.vercel.median)}×`
  ])
}
const last = sizes.at(-1)!
console.log(`## 2. Whole turn against the peers

One turn: a scripted model asks for N no-op tool calls, then answers with text. Per call, µs, median / p90 (variants interleaved). OpenAI Agents JS is not measured here (its reference figure, ≈ 17,800 µs per call at N = 1,000, grows quadratically).

${table(["N", "rounds", "toolgate Agent.run", "effect/ai generateText", "Vercel AI SDK generateText", "Agent ÷ Vercel", "effect/ai ÷ Vercel"], rows)}

Target: Agent.run below the Vercel AI SDK — measured **${fmt(ratios[last]!)}×** at N = ${last.toLocaleString("en")} (${ratios[last]! < 1 ? "met" : "missed"}).
`)
