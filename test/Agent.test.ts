import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Layer, Ref, Stream } from "effect"
import { LanguageModel, type Prompt, Toolkit } from "effect/ai"
import { Approval, ToolPolicy } from "toolgate"
import { TestApproval } from "toolgate/testing"
import * as Agent from "../src/Agent.ts"
import * as ScriptedModel from "../src/testing/ScriptedModel.ts"
import { handlers, makeTracker, started, toolkit, withClock } from "./fixtures.ts"

const { ApprovalDecision } = Approval
const { Verdict } = ToolPolicy

type Messages = ReadonlyArray<Prompt.Message>

/** A scripted model provided to `effect`, returned with it so tests can read what the model was sent. */
const withScript = (scenario: ScriptedModel.Scenario) =>
  Effect.map(ScriptedModel.make(scenario), (scripted) => ({
    scripted,
    provide: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.provideService(effect, LanguageModel.LanguageModel, scripted.model)
  }))

const callIds = (messages: Messages) =>
  messages.flatMap((m) => m.role === "assistant" ? m.content.flatMap((p) => p.type === "tool-call" ? [p.id] : []) : [])

const results = (messages: Messages) =>
  messages.flatMap((m) => m.role === "tool" ? m.content.flatMap((p) => p.type === "tool-result" ? [p] : []) : [])

/** Every tool call has exactly one result, and every result answers a call. */
const expectValid = (messages: Messages) => {
  const calls = callIds(messages).sort()
  expect(results(messages).map((r) => r.id).sort()).toEqual(calls)
}

const write = (key: string, value: string, ms?: number) => ({
  name: "Write",
  params: { key, value, ...(ms !== undefined ? { ms } : {}) }
})
const read = (key: string) => ({ name: "Read", params: { key } })

describe("Agent.run", () => {
  it.effect("runs turns until the model stops calling tools; returns the new messages, final text, summed usage", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const { provide, scripted } = yield* withScript({
        turns: [
          { text: "Writing.", toolCalls: [write("a", "x")], usage: { inputTokens: 10, outputTokens: 5 } },
          { toolCalls: [read("a"), read("b")], usage: { inputTokens: 20, outputTokens: 3 } },
          { text: "a is x", usage: { inputTokens: 30, outputTokens: 2 } }
        ]
      })
      const history = yield* Ref.make<Messages>([])
      const result = yield* Agent.run({ prompt: "what is a?", toolkit, history, system: "Be brief." }).pipe(
        provide,
        Effect.provide(handlers(t))
      )
      expect(result.stopReason).toEqual(Agent.StopReason.Completed())
      expect(result.text).toBe("a is x")
      expect(result.turns).toBe(3)
      expect(result.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant", "tool", "assistant"])
      expect(results(result.messages).map((r) => r.result)).toEqual(["wrote a", "x", ""])
      expect(result.usage.inputTokens.total).toBe(60)
      expect(result.usage.outputTokens.total).toBe(10)
      expect(yield* Ref.get(history)).toEqual(result.messages)
      expectValid(result.messages)
      expect(started(t)).toEqual(["a", "a", "b"])

      // The model saw the system prompt and, on its second turn, the write's result.
      const requests = yield* scripted.requests
      expect(requests.map((r) => r.prompt.content[0]!.role)).toEqual(["system", "system", "system"])
      expect(results(requests[1]!.prompt.content).map((r) => r.result)).toEqual(["wrote a"])
      expect(requests[0]!.tools.map((tool) => tool.name)).toContain("Write")
    }))

  it.effect("continues a history passed as an array, without repeating it in the result", () =>
    Effect.gen(function*() {
      const { provide, scripted } = yield* withScript({ turns: [{ text: "one" }, { text: "two" }] })
      const first = yield* Agent.run({ prompt: "hi", toolkit }).pipe(provide, Effect.provide(handlers(makeTracker())))
      const second = yield* Agent.run({ prompt: "again", toolkit, history: first.messages }).pipe(
        provide,
        Effect.provide(handlers(makeTracker()))
      )
      expect(second.messages.map((m) => m.role)).toEqual(["user", "assistant"])
      expect(second.text).toBe("two")
      expect((yield* scripted.requests)[1]!.prompt.content.map((m) => m.role)).toEqual(["user", "assistant", "user"])
    }))

  it.effect("unknown tools and bad params reach the model as results, not as a failed request", () =>
    Effect.gen(function*() {
      const { provide } = yield* withScript({
        turns: [{ toolCalls: [{ name: "Delete", params: {} }, { name: "Read", params: { key: 1 } }] }, { text: "ok" }]
      })
      const result = yield* Agent.run({ prompt: "go", toolkit }).pipe(provide, Effect.provide(handlers(makeTracker())))
      const [missing, invalid] = results(result.messages)
      expect(missing!.isFailure).toBe(true)
      expect(String(missing!.result)).toContain("There is no tool named \"Delete\"")
      expect(String(invalid!.result)).toContain("Invalid parameters for tool Read")
      expect(result.stopReason._tag).toBe("Completed")
    }))

  it.effect("maxTurns is a MaxTurnsExceeded error carrying the messages so far, every call answered", () =>
    Effect.gen(function*() {
      const { provide } = yield* withScript({
        turns: [{ toolCalls: [read("a")] }, { toolCalls: [read("b")] }, { toolCalls: [read("c")] }, { text: "never" }]
      })
      const error = yield* Agent.run({ prompt: "loop", toolkit, maxTurns: 2 }).pipe(
        provide,
        Effect.provide(handlers(makeTracker())),
        Effect.flip
      )
      expect(error._tag).toBe("MaxTurnsExceeded")
      if (error._tag !== "MaxTurnsExceeded") return
      expect(error.maxTurns).toBe(2)
      expect(error.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant", "tool"])
      expectValid(error.messages)
      expect(error.message).toContain("after 2 turns")
    }))

  describe("interruption", () => {
    it.effect("while a call waits for approval: finished calls keep their result, the others are Cancelled", () =>
      Effect.gen(function*() {
        const t = makeTracker()
        const { provide } = yield* withScript({
          turns: [{ toolCalls: [read("a"), write("b", "y"), write("c", "z")] }, { text: "never reached" }]
        })
        const asked = yield* Deferred.make<string>()
        // Reads pass, the first mutator's approval never comes.
        const approver = Approval.readOnlyFastPath(
          Approval.make((request) => Effect.andThen(Deferred.succeed(asked, request.call.name), Effect.never))
        )
        const history = yield* Ref.make<Messages>([])
        const fiber = yield* Agent.run({ prompt: "go", toolkit, history }).pipe(
          provide,
          Effect.provide(handlers(t)),
          Effect.provide(Approval.layer(approver)),
          Effect.forkChild
        )
        expect(yield* Deferred.await(asked)).toBe("Write")
        yield* Fiber.interrupt(fiber)
        expect(Exit.hasInterrupts(yield* Fiber.await(fiber))).toBe(true)

        const messages = yield* Ref.get(history)
        expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "tool"])
        expectValid(messages)
        const [r, w1, w2] = results(messages)
        expect(r!.isFailure).toBe(false)
        expect(w1!.result).toEqual({ type: "execution-interrupted", reason: "Tool call Write was cancelled before it started." })
        expect(w2!.isFailure).toBe(true)
        expect(started(t)).toEqual(["a"])
      }))

    it.effect("while a tool runs: the tool's finalizers run and its result says it may have partly completed", () =>
      Effect.gen(function*() {
        const t = makeTracker()
        const { provide } = yield* withScript({ turns: [{ toolCalls: [write("a", "x", 1_000)] }, { text: "never" }] })
        const history = yield* Ref.make<Messages>([])
        const fiber = yield* Agent.run({ prompt: "go", toolkit, history }).pipe(
          provide,
          Effect.provide(handlers(t)),
          Effect.forkChild
        )
        // Let the call start, then cut it short well before its second is up.
        yield* withClock(Effect.void)
        for (let i = 0; i < 10 && t.log.length === 0; i++) yield* Effect.yieldNow
        expect(started(t)).toEqual(["a"])
        yield* Fiber.interrupt(fiber)
        yield* Fiber.await(fiber)
        expect(t.interrupted).toEqual(["a"])
        const messages = yield* Ref.get(history)
        expectValid(messages)
        expect(results(messages)[0]!.result).toEqual({
          type: "execution-interrupted",
          reason: "Tool call Write was cancelled while it ran; it may have partly completed."
        })
      }))

    it.effect("while the model answers: the history ends valid without a half turn", () =>
      Effect.gen(function*() {
        const history = yield* Ref.make<Messages>([])
        const asked = yield* Deferred.make<void>()
        const hanging = yield* LanguageModel.make({
          generateText: () => Effect.andThen(Deferred.succeed(asked, undefined), Effect.never),
          streamText: () => Stream.never
        })
        const fiber = yield* Agent.run({ prompt: "go", toolkit, history }).pipe(
          Effect.provideService(LanguageModel.LanguageModel, hanging),
          Effect.provide(handlers(makeTracker())),
          Effect.forkChild
        )
        yield* Deferred.await(asked)
        yield* Fiber.interrupt(fiber)
        expect((yield* Ref.get(history)).map((m) => m.role)).toEqual(["user"])
      }))
  })

  it.effect("a Deny with stop ends the run now: the batch's calls not yet started are Cancelled without being asked", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const { provide, scripted } = yield* withScript({
        turns: [{ toolCalls: [write("a", "x"), write("b", "y"), read("c")] }, { text: "not reached" }]
      })
      const approver = yield* TestApproval.recording(TestApproval.byCallId({
        call_1_1: ApprovalDecision.Deny({ reason: "stop right there", stop: true })
      }))
      const result = yield* Agent.run({ prompt: "go", toolkit }).pipe(
        provide,
        Effect.provide(handlers(t)),
        Effect.provide(Approval.layer(approver.handler))
      )
      expect(result.stopReason).toMatchObject({ _tag: "StoppedByApprover", reason: "stop right there", call: { id: "call_1_1" } })
      expect(result.turns).toBe(1)
      expect(result.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool"])
      expectValid(result.messages)
      // the rest of the batch was neither asked nor run, and is recorded as cancelled
      expect((yield* approver.requests).map((r) => r.call.id)).toEqual(["call_1_1"])
      expect(started(t)).toEqual([])
      expect(results(result.messages).slice(1).map((r) => r.result)).toEqual([
        { type: "execution-interrupted", reason: "Tool call Write was cancelled before it started." },
        { type: "execution-interrupted", reason: "Tool call Read was cancelled before it started." }
      ])
      expect(yield* scripted.remaining).toBe(1)
    }))

  it.effect("the same denied call issued again and again stops the run with RepeatedDenial", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const policy = ToolPolicy.make(({ call }) =>
        (call.params as { key?: string }).key?.startsWith("etc") ? Verdict.Deny({ reason: "etc is off limits" }) : Verdict.Ask()
      )
      const { provide } = yield* withScript({
        turns: [
          { toolCalls: [write("etc", "x")] },
          // different params: a different call, not a repeat
          { toolCalls: [write("etc2", "x")] },
          { toolCalls: [write("etc", "x")] },
          { toolCalls: [{ name: "Write", params: { value: "x", key: "etc" } }] },
          { text: "never" }
        ]
      })
      const result = yield* Agent.run({ prompt: "go", toolkit }).pipe(
        provide,
        Effect.provide(handlers(t)),
        Effect.provide(ToolPolicy.layer(policy))
      )
      expect(result.stopReason).toMatchObject({
        _tag: "RepeatedDenial",
        count: 3,
        reason: "etc is off limits",
        call: { name: "Write", params: { key: "etc", value: "x" } }
      })
      expect(result.turns).toBe(4)
      expectValid(result.messages)
      expect(t.log).toEqual([])
    }))

  it.effect("maxRepeatedDenials sets how many denials of one call end the run", () =>
    Effect.gen(function*() {
      const { provide } = yield* withScript({ turns: [{ toolCalls: [write("a", "x")] }, { text: "never" }] })
      const result = yield* Agent.run({ prompt: "go", toolkit, maxRepeatedDenials: 1 }).pipe(
        provide,
        Effect.provide(handlers(makeTracker())),
        Effect.provide(Approval.layer(Approval.denyAll("no")))
      )
      expect(result.stopReason).toMatchObject({ _tag: "RepeatedDenial", count: 1 })
    }))
})

describe("Agent.subAgent", () => {
  it.effect("runs a nested agent under the parent's policy and approver, with the child origin", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const task = Agent.subAgent({ name: "Task", toolkit })
      const parentKit = Toolkit.merge(toolkit, task.toolkit)
      const { provide } = yield* withScript({
        turns: [
          { toolCalls: [{ name: "Task", params: { prompt: "write a and secret" } }] }, // parent
          { toolCalls: [write("a", "x"), write("secret", "s")] }, // child
          { text: "child: wrote a, secret was refused" }, // child
          { text: "parent: done" } // parent
        ]
      })
      const policy = ToolPolicy.make(({ call }) =>
        (call.params as { key?: string }).key === "secret" ? Verdict.Deny({ reason: "no secrets" }) : Verdict.Ask()
      )
      const recorder = yield* TestApproval.recording(Approval.autoApprove)
      const result = yield* Agent.run({ prompt: "delegate", toolkit: parentKit }).pipe(
        provide,
        Effect.provide(Layer.merge(handlers(t), task.layer)),
        Effect.provide(ToolPolicy.layer(policy)),
        Effect.provide(Approval.layer(recorder.handler))
      )
      expect(result.text).toBe("parent: done")
      expect(results(result.messages).map((r) => r.result)).toEqual(["child: wrote a, secret was refused"])
      expect(t.store.get("a")).toBe("x")
      expect(t.store.has("secret")).toBe(false)
      const requests = yield* recorder.requests
      expect(requests.map((r) => [r.call.name, r.origin.depth, r.origin.parents])).toEqual([
        ["Task", 0, []],
        ["Write", 1, ["call_1_1"]]
      ])
      expect(requests[0]!.toolClass).toBe("Mutating")
    }))

  it.effect("nesting deeper than maxDepth fails the sub-agent call without running it", () =>
    Effect.gen(function*() {
      // A sub-agent that may delegate to itself: the depth limit is what stops it.
      const task = Agent.subAgent({ name: "Task", toolkit, includeSelf: true, maxDepth: 1 })
      const { provide, scripted } = yield* withScript({
        turns: [
          { toolCalls: [{ name: "Task", params: { prompt: "level 1" } }] }, // parent, depth 0
          { toolCalls: [{ name: "Task", params: { prompt: "level 2" } }] }, // sub-agent at depth 1
          { text: "could not go deeper" }, // sub-agent
          { text: "done" } // parent
        ]
      })
      const result = yield* Agent.run({ prompt: "go", toolkit: Toolkit.merge(toolkit, task.toolkit) }).pipe(
        provide,
        Effect.provide(Layer.merge(handlers(makeTracker()), task.layer))
      )
      expect(result.text).toBe("done")
      const childSecondTurn = (yield* scripted.requests)[2]!.prompt.content
      const [refused] = results(childSecondTurn)
      expect(refused!.isFailure).toBe(true)
      expect(refused!.result).toMatchObject({ _tag: "SubAgentFailed" })
      expect(JSON.stringify(refused!.result)).toContain("at most 1 level deep")
    }))
})

describe("Agent.stream", () => {
  it.effect("emits text deltas, tool stages with pending and approval before started, turn boundaries, then Done", () =>
    Effect.gen(function*() {
      const t = makeTracker()
      const { provide } = yield* withScript({
        turns: [{ text: "I will write.", toolCalls: [write("a", "x")] }, { text: "Wrote it." }]
      })
      const bridge = yield* Approval.queueBridge
      const seen: Array<Agent.AgentEvent> = []
      const fiber = yield* Agent.stream({ prompt: "go", toolkit }).pipe(
        Stream.runForEach((event) => Effect.sync(() => seen.push(event))),
        provide,
        Effect.provide(handlers(t)),
        Effect.provide(Approval.layer(bridge.handler)),
        Effect.forkChild
      )
      // The UI fiber: a request is waiting. The stream already said so, and nothing ran.
      const pending = yield* bridge.take
      for (let i = 0; i < 20 && !seen.some((e) => e._tag === "Tool" && e.event._tag === "ApprovalRequested"); i++) {
        yield* Effect.yieldNow
      }
      const toolTags = () => seen.flatMap((e) => e._tag === "Tool" ? [e.event._tag] : [])
      expect(toolTags()).toEqual(["Pending", "ApprovalRequested"])
      expect(t.log).toEqual([])
      yield* pending.decide(ApprovalDecision.Allow())
      yield* Fiber.join(fiber)

      expect(toolTags()).toEqual(["Pending", "ApprovalRequested", "Decided", "Started", "Finished"])
      const text = seen.flatMap((e) => e._tag === "TextDelta" ? [e.delta] : [])
      expect(text.join("")).toBe("I will write.Wrote it.")
      expect(text.length).toBeGreaterThan(2)
      const shape = seen.map((e) => e._tag).filter((tag, i, all) => tag !== all[i - 1])
      expect(shape).toEqual(["TurnStarted", "TextDelta", "Tool", "TurnFinished", "TurnStarted", "TextDelta", "TurnFinished", "Done"])
      const done = seen.at(-1)!
      expect(done._tag).toBe("Done")
      if (done._tag !== "Done") return
      expect(done.result.text).toBe("Wrote it.")
      expect(done.result.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"])
      expectValid(done.result.messages)
    }))

  it.effect("stopping the stream early interrupts the run and leaves the history valid", () =>
    Effect.gen(function*() {
      const { provide } = yield* withScript({ turns: [{ toolCalls: [write("a", "x")] }, { text: "never" }] })
      const history = yield* Ref.make<Messages>([])
      const events = yield* Agent.stream({ prompt: "go", toolkit, history }).pipe(
        Stream.takeUntil((e) => e._tag === "Tool" && e.event._tag === "ApprovalRequested"),
        Stream.runCollect,
        provide,
        Effect.provide(handlers(makeTracker())),
        Effect.provide(Approval.layer(TestApproval.never))
      )
      expect(Array.from(events).at(-1)).toMatchObject({ _tag: "Tool", event: { _tag: "ApprovalRequested" } })
      const messages = yield* Ref.get(history)
      expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "tool"])
      expectValid(messages)
      expect(results(messages)[0]!.result).toMatchObject({ type: "execution-interrupted" })
    }))

  it.effect("a failing run fails the stream with the run's error", () =>
    Effect.gen(function*() {
      const { provide } = yield* withScript({ turns: [{ toolCalls: [read("a")] }, { toolCalls: [read("a")] }] })
      const error = yield* Agent.stream({ prompt: "go", toolkit, maxTurns: 1 }).pipe(
        Stream.runDrain,
        provide,
        Effect.provide(handlers(makeTracker())),
        Effect.flip
      )
      expect(error._tag).toBe("MaxTurnsExceeded")
    }))
})
