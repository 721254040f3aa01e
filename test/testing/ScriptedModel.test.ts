import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { LanguageModel, type Prompt, Toolkit } from "effect/ai"
import * as ScriptedModel from "../../src/testing/ScriptedModel.ts"
import { toolkit } from "../fixtures.ts"

describe("ScriptedModel", () => {
  it.effect("replays turns in order: text, tool calls with generated ids, finish reason and usage", () =>
    Effect.gen(function*() {
      const scripted = yield* ScriptedModel.make({
        turns: [
          { text: "Looking.", toolCalls: [{ name: "Read", params: { key: "a" } }, { id: "mine", name: "Write" }] },
          { text: "Done.", usage: { inputTokens: 7, outputTokens: 2 } }
        ]
      })
      const kit = yield* Effect.provide(toolkit, toolkit.toLayer({} as never))
      const first = yield* scripted.model.generateText({
        prompt: "hi",
        toolkit: kit,
        disableToolCallResolution: true,
        toolCallValidation: "deferred"
      })
      expect(first.text).toBe("Looking.")
      expect(first.toolCalls.map((c) => [c.id, c.name, c.params])).toEqual([
        ["call_1_1", "Read", { key: "a" }],
        ["mine", "Write", {}]
      ])
      expect(first.finishReason).toBe("tool-calls")
      const second = yield* scripted.model.generateText({ prompt: "and?" })
      expect([second.text, second.finishReason, second.usage.inputTokens.total]).toEqual(["Done.", "stop", 7])
      expect(yield* scripted.remaining).toBe(0)
      expect((yield* scripted.requests).length).toBe(2)
    }))

  it.effect("plays the first variant whose named calls all failed, so the narrative follows what happened", () =>
    Effect.gen(function*() {
      const turn: ScriptedModel.Turn = {
        text: "All went well.",
        variants: [
          { whenFailed: ["a", "b"], text: "Both failed." },
          { whenFailed: ["b"], text: "b failed." }
        ]
      }
      const results = (failed: ReadonlyArray<string>): Prompt.RawInput => [
        { role: "user", content: "go" },
        {
          role: "assistant",
          content: ["a", "b"].map((id) => ({ type: "tool-call" as const, id, name: "Read", params: {}, providerExecuted: false }))
        },
        {
          role: "tool",
          content: ["a", "b"].map((id) => ({
            type: "tool-result" as const,
            id,
            name: "Read",
            isFailure: failed.includes(id),
            result: failed.includes(id) ? "denied" : "ok",
            providerExecuted: false
          }))
        }
      ]
      const play = (failed: ReadonlyArray<string>) =>
        Effect.flatMap(ScriptedModel.make({ turns: [turn] }), (s) => s.model.generateText({ prompt: results(failed) }))
      expect((yield* play([])).text).toBe("All went well.")
      expect((yield* play(["b"])).text).toBe("b failed.")
      expect((yield* play(["a", "b"])).text).toBe("Both failed.")
      // a variant needs every call it names to have failed
      expect((yield* play(["a"])).text).toBe("All went well.")
    }))

  it.effect("answers with a final text once the script runs out, instead of failing", () =>
    Effect.gen(function*() {
      const plain = yield* ScriptedModel.make({ turns: [] })
      expect((yield* plain.model.generateText({ prompt: "hi" })).text).toBe(ScriptedModel.exhaustedText)
      const custom = yield* ScriptedModel.make({ turns: [{ text: "one" }], exhausted: "that's all" })
      yield* custom.model.generateText({ prompt: "hi" })
      const again = yield* custom.model.generateText({ prompt: "hi" })
      expect([again.text, again.toolCalls.length]).toEqual(["that's all", 0])
    }))

  it.effect("streams text as word deltas, then the tool calls", () =>
    Effect.gen(function*() {
      const scripted = yield* ScriptedModel.make({
        turns: [{ text: "one two three", toolCalls: [{ name: "Read", params: { key: "a" } }] }]
      })
      const parts = Array.from(yield* Stream.runCollect(scripted.model.streamText({ prompt: "hi", disableToolCallResolution: true, toolCallValidation: "deferred" })))
      expect(parts.filter((p) => p.type === "text-delta").map((p) => p.type === "text-delta" ? p.delta : "")).toEqual([
        "one ",
        "two ",
        "three"
      ])
      expect(parts.map((p) => p.type)).toEqual([
        "text-start",
        "text-delta",
        "text-delta",
        "text-delta",
        "text-end",
        "tool-call",
        "finish"
      ])
    }))

  describe("malformed scenarios", () => {
    it.effect("name the path inside the scenario and what is wrong", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          ScriptedModel.decode({ turns: [{ text: "ok" }, { toolCalls: [{ params: {} }] }] }, "bad.json")
        )
        expect(error._tag).toBe("ScenarioError")
        expect(error.file).toBe("bad.json")
        expect(error.path).toBe("turns[1].toolCalls[0].name")
        expect(error.problem).toContain("Missing key")
        expect(error.message).toContain("bad.json at turns[1].toolCalls[0].name")
      }))

    it.effect("wrong types are reported with the path too", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(ScriptedModel.decode({ turns: [{ text: 42 }] }))
        expect(error.path).toBe("turns[0].text")
        expect(error.problem).toContain("Expected string")
        const missing = yield* Effect.flip(ScriptedModel.decode({}))
        expect(missing.path).toBe("turns")
      }))

    it.effect("invalid JSON is a ScenarioError for the whole document", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(ScriptedModel.parse("{ turns: ", "broken.json"))
        expect([error.file, error.path]).toEqual(["broken.json", ""])
        expect(error.problem).toContain("not valid JSON")
      }))

    it.effect("a layer from a bad value fails to build with the ScenarioError", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          Layer.build(ScriptedModel.layer({ turns: "none" })).pipe(Effect.scoped)
        )
        expect(error._tag).toBe("ScenarioError")
      }))
  })

  describe("files", () => {
    it.effect("the demo scenario loads: read, write, a denied and an allowed shell command, then an answer", () =>
      Effect.gen(function*() {
        const scenario = yield* ScriptedModel.load("scenarios/demo.json")
        expect(scenario.turns.map((t) => (t.toolCalls ?? []).map((c) => c.name))).toEqual([
          ["Read"],
          ["Write"],
          ["Bash"],
          ["Bash"],
          []
        ])
        expect(scenario.turns[2]!.toolCalls![0]!.params).toEqual({ command: "ls && rm -rf build" })
        expect(scenario.turns[3]!.toolCalls![0]!.params).toEqual({ command: "ls" })
        expect(scenario.turns[0]!.toolCalls![0]!.params).toEqual({ file_path: "README.md" })
      }).pipe(Effect.provide(NodeServices.layer)))

    it.effect("layerFile provides a LanguageModel; a missing file names itself", () =>
      Effect.gen(function*() {
        const text = yield* LanguageModel.LanguageModel.pipe(
          // no toolkit: deferred validation lets the scripted tool call through
          Effect.flatMap((model) => model.generateText({ prompt: "hi", disableToolCallResolution: true, toolCallValidation: "deferred" })),
          Effect.map((r) => r.text),
          Effect.provide(ScriptedModel.layerFile("scenarios/demo.json"))
        )
        expect(text).toBe("Let me read the README first.")
        const error = yield* Effect.flip(
          Layer.build(ScriptedModel.layerFile("scenarios/nope.json")).pipe(Effect.scoped)
        )
        expect(error.message).toContain("scenarios/nope.json")
        expect(error.problem).toContain("cannot be read")
      }).pipe(Effect.provide(NodeServices.layer)))
  })

  it.effect("an empty toolkit is fine: the calls are returned for the caller to judge", () =>
    Effect.gen(function*() {
      const scripted = yield* ScriptedModel.make({ turns: [{ toolCalls: [{ name: "Anything" }] }] })
      const response = yield* scripted.model.generateText({
        prompt: "hi",
        toolkit: yield* Toolkit.empty,
        disableToolCallResolution: true,
        toolCallValidation: "deferred"
      })
      expect(response.toolCalls.map((c) => c.name)).toEqual(["Anything"])
    }))
})

describe("ScriptedModel scenario files", () => {
  it.effect("an unknown key is an error naming it: \"input\" instead of \"params\" is not an empty call", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ScriptedModel.decode({ turns: [{ toolCalls: [{ name: "Read", input: { file_path: "a" } }] }] }, "s.json"))
      expect(error.path).toBe("turns[0].toolCalls[0].input")
      expect(error.message).toContain("unknown key \"input\"")
      expect(error.message).toContain("\"params\"")
      expect(error.message).toContain("s.json")
      const top = yield* Effect.flip(ScriptedModel.decode({ turns: [], turn: [] }))
      expect(top.message).toContain("unknown key \"turn\"")
    }))
})
