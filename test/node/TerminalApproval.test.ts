import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Semaphore, Terminal } from "effect"
import { TestClock } from "effect/testing"
import { Approval, Concurrency, Executor } from "toolgate"
import * as TerminalApproval from "../../src/node/TerminalApproval.ts"
import { approvalRequest, handlers, makeTracker, toolkit } from "../fixtures.ts"
import * as ScriptedTerminal from "./ScriptedTerminal.ts"

const request = (
  id: string,
  name = "Write",
  input: unknown = { key: "a", value: "x" },
  extra: Partial<Approval.ApprovalRequest> = {}
) => approvalRequest(id, name, input, extra)

// The tests below type their keys before or as a prompt is drawn, and the
// TestClock never moves: keys count at once (`settle` has tests of its own).
const instant = { settle: 0 } as const

/** A terminal handler on a scripted terminal, its UI fiber in the test's scope. */
const setup = Effect.gen(function*() {
  const term = yield* ScriptedTerminal.make
  const handler = yield* Effect.provideService(TerminalApproval.makeWith(instant), Terminal.Terminal, term.terminal)
  return { term, handler }
})

const write = (id: string, key: string, value: string) => ({ id, name: "Write", params: { key, value } })

// No ToolPolicy layer: the default policy asks about every call.
describe("TerminalApproval", () => {
  it.effect("shows tool, class, params and the policy's reason and rule; y allows and the prompt is replaced by one line", () =>
    Effect.gen(function*() {
      const { handler, term } = yield* setup
      const fiber = yield* handler.approve(request("1", "Bash", { command: "git push" }, {
        reason: "git push needs a human",
        match: { _tag: "Rule", list: "ask", rule: "Bash(git push:*)", segment: "git push" }
      })).pipe(Effect.forkChild)
      expect(yield* term.waitFor((s) => s.includes("wants to run"))).toBe(true)
      const shown = term.screen()
      expect(shown).toContain("? Bash (Mutating) wants to run")
      expect(shown).toContain("why:  git push needs a human")
      expect(shown).toContain("rule: ask Bash(git push:*) on \"git push\"")
      expect(shown).toContain("\"command\": \"git push\"")
      expect(shown).toContain("y allow once   a allow identical calls   t allow every Bash call (a, t: for this session)")
      expect(shown).toContain("n deny   e edit params   s deny and stop the run")
      yield* term.type("y")
      const decision = yield* Fiber.join(fiber)
      expect(decision).toEqual(Approval.ApprovalDecision.Allow())
      expect(term.screen()).toBe("✔ Bash allowed by you")
    }))

  it.effect("keys that come before a person could have read the prompt are ignored; quit keys still stop", () =>
    Effect.gen(function*() {
      const term = yield* ScriptedTerminal.make
      const handler = yield* Effect.provideService(TerminalApproval.make, Terminal.Terminal, term.terminal)
      // typed while no prompt was reading: the terminal hands them to the next one
      yield* term.type("yyy")
      const fiber = yield* handler.approve(request("1")).pipe(Effect.forkChild)
      expect(yield* term.waitFor((s) => s.includes("wants to"))).toBe(true)
      yield* term.type("a")
      yield* TestClock.adjust("249 millis")
      yield* term.type("y")
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow
      expect(term.screen()).toContain("wants to")
      yield* TestClock.adjust("1 millis")
      yield* term.type("n")
      yield* term.press("return")
      expect(yield* Fiber.join(fiber)).toMatchObject({ _tag: "Deny", reason: "denied by the user" })

      const quit = yield* handler.approve(request("2")).pipe(Effect.forkChild)
      expect(yield* term.waitFor((s) => s.includes("wants to"))).toBe(true)
      yield* term.press("c", { ctrl: true })
      expect(yield* Fiber.join(quit)).toMatchObject({ _tag: "Deny", stop: true })
    }))

  it.effect("unknown keys are ignored until a known one comes", () =>
    Effect.gen(function*() {
      const { handler, term } = yield* setup
      yield* term.type("xq?Z")
      yield* term.press("return")
      yield* term.type("s")
      const decision = yield* handler.approve(request("1"))
      expect(decision).toMatchObject({ _tag: "Deny", stop: true })
      expect(term.screen()).toBe("✘ Write denied by you; stopping the run")
    }))

  it.effect("n asks for a reason the model reads; an empty reason becomes \"denied by the user\"", () =>
    Effect.gen(function*() {
      const { handler, term } = yield* setup
      yield* term.type("nnot on main")
      yield* term.press("return")
      expect(yield* handler.approve(request("1"))).toEqual(Approval.ApprovalDecision.Deny({ reason: "not on main" }))
      yield* term.type("n")
      yield* term.press("return")
      expect(yield* handler.approve(request("2"))).toEqual(Approval.ApprovalDecision.Deny({ reason: "denied by the user" }))
      expect(term.screen()).toBe("✘ Write denied by you: not on main\n✘ Write denied by you: denied by the user")
    }))

  it.effect("through the executor: y runs the call, n denies it with the reason, s denies and asks to stop", () =>
    Effect.gen(function*() {
      const term = yield* ScriptedTerminal.make
      const t = makeTracker()
      yield* term.type("y")
      yield* term.type("nread-only today")
      yield* term.press("return")
      yield* term.type("s")
      const results = yield* Executor.executeBatch(toolkit, [write("1", "a", "1"), write("2", "b", "2"), write("3", "c", "3")])
        .pipe(
          Effect.provide(handlers(t)),
          Effect.provide(Concurrency.layer()),
          Effect.provide(TerminalApproval.layerWith(instant).pipe(Layer.provide(Layer.succeed(Terminal.Terminal, term.terminal))))
        )
      expect(results.map((r) => r.outcome)).toMatchObject([
        { _tag: "Succeeded" },
        { _tag: "ApprovalDenied", reason: "read-only today", stop: false },
        { _tag: "ApprovalDenied", stop: true }
      ])
      expect([...t.store.keys()]).toEqual(["a"])
    }))

  it.effect("a allows and remembers: the same call is not asked again in the session", () =>
    Effect.gen(function*() {
      const term = yield* ScriptedTerminal.make
      const t = makeTracker()
      yield* term.type("a")
      const results = yield* Executor.executeBatch(toolkit, [write("1", "a", "1"), write("2", "a", "1")]).pipe(
        Effect.provide(handlers(t)),
        Effect.provide(Concurrency.layer()),
        Effect.provide(TerminalApproval.layerWith(instant).pipe(Layer.provide(Layer.succeed(Terminal.Terminal, term.terminal))))
      )
      expect(results.map((r) => r.outcome._tag)).toEqual(["Succeeded", "Succeeded"])
      expect(term.transcript().match(/wants to run/g)).toHaveLength(1)
    }))

  it.effect("e edits the params as JSON: bad JSON is refused and asked again, good JSON runs in place of the model's", () =>
    Effect.gen(function*() {
      const term = yield* ScriptedTerminal.make
      const t = makeTracker()
      yield* term.type("e")
      yield* term.press("u", { ctrl: true })
      yield* term.type("{oops")
      yield* term.press("return")
      yield* term.press("u", { ctrl: true })
      yield* term.type(`{"key":"a","value":"edited"}`)
      yield* term.press("return")
      const results = yield* Executor.executeBatch(toolkit, [write("1", "a", "model")]).pipe(
        Effect.provide(handlers(t)),
        Effect.provide(Concurrency.layer()),
        Effect.provide(TerminalApproval.layerWith(instant).pipe(Layer.provide(Layer.succeed(Terminal.Terminal, term.terminal))))
      )
      expect(results[0]!.outcome._tag).toBe("Succeeded")
      expect(t.store.get("a")).toBe("edited")
      expect(term.transcript()).toContain("not valid params")
    }))

  it.effect("edited params that fail the tool's schema are an InvalidParams result (the executor re-decodes)", () =>
    Effect.gen(function*() {
      const term = yield* ScriptedTerminal.make
      const t = makeTracker()
      yield* term.type("e")
      yield* term.press("u", { ctrl: true })
      yield* term.type(`{"key":1}`)
      yield* term.press("return")
      const results = yield* Executor.executeBatch(toolkit, [write("1", "a", "model")]).pipe(
        Effect.provide(handlers(t)),
        Effect.provide(Concurrency.layer()),
        Effect.provide(TerminalApproval.layerWith(instant).pipe(Layer.provide(Layer.succeed(Terminal.Terminal, term.terminal))))
      )
      expect(results[0]!.outcome._tag).toBe("InvalidParams")
      expect(t.store.size).toBe(0)
    }))

  it.effect("one prompt at a time: a second request waits, counted on screen, and is shown once the first is answered", () =>
    Effect.gen(function*() {
      const { handler, term } = yield* setup
      const first = yield* Effect.forkChild(handler.approve(request("1", "Write", { key: "first" })))
      const second = yield* Effect.forkChild(handler.approve(request("2", "Bash", { command: "ls" })))
      expect(yield* term.waitFor((s) => s.includes("Write (Mutating) wants to run"))).toBe(true)
      yield* term.waitFor((s) => s.includes("1 more waiting"))
      expect(term.screen()).not.toContain("Bash")
      yield* term.type("y")
      expect(yield* Fiber.join(first)).toEqual(Approval.ApprovalDecision.Allow())
      expect(yield* term.waitFor((s) => s.includes("Bash (Mutating) wants to run"))).toBe(true)
      yield* term.type("y")
      expect(yield* Fiber.join(second)).toEqual(Approval.ApprovalDecision.Allow())
      expect(term.screen()).toBe("✔ Write allowed by you\n✔ Bash allowed by you")
    }))

  it.effect("interrupting a pending approval withdraws the prompt: it leaves the screen and the next request is asked", () =>
    Effect.gen(function*() {
      const { handler, term } = yield* setup
      const first = yield* Effect.forkChild(handler.approve(request("1", "Write", { key: "gone" })))
      expect(yield* term.waitFor((s) => s.includes("wants to run"))).toBe(true)
      yield* Fiber.interrupt(first)
      expect(yield* term.waitFor((s) => s.includes("withdrawn"))).toBe(true)
      expect(term.screen()).toBe("⊘ Write withdrawn: the call was cancelled")
      const second = yield* Effect.forkChild(handler.approve(request("2", "Bash", { command: "ls" })))
      expect(yield* term.waitFor((s) => s.includes("Bash (Mutating) wants to run"))).toBe(true)
      yield* term.type("y")
      expect(yield* Fiber.join(second)).toEqual(Approval.ApprovalDecision.Allow())
    }))

  it.effect("a request withdrawn while its reason is being typed is dropped, and the keys typed are not reused", () =>
    Effect.gen(function*() {
      const { handler, term } = yield* setup
      const first = yield* Effect.forkChild(handler.approve(request("1")))
      yield* term.type("nhalf a reas")
      expect(yield* term.waitFor((s) => s.includes("half a reas"))).toBe(true)
      yield* Fiber.interrupt(first)
      expect(yield* term.waitFor((s) => s.includes("withdrawn"))).toBe(true)
    }))

  it.effect("Ctrl+C at the prompt denies and stops the run", () =>
    Effect.gen(function*() {
      const { handler, term } = yield* setup
      yield* term.press("c", { ctrl: true })
      expect(yield* handler.approve(request("1"))).toMatchObject({ _tag: "Deny", stop: true })
    }))

  it.effect("long params are cut on screen", () =>
    Effect.sync(() => {
      const input = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]))
      const text = TerminalApproval.render(request("1", "Write", input), 0)
      expect(text).toContain("more lines; e shows them all")
      expect(text.split("\n").length).toBeLessThan(20)
    }))

  it.effect("invisible and control characters are shown as markers: a command with U+202E cannot pass for another", () =>
    Effect.gen(function*() {
      const { handler, term } = yield* setup
      // Displayed raw, this reads "ls txt.exe" -> the override reverses what follows.
      const command = "ls \u202Eexe.txt\u200B; rm -rf ~ \u2066x\u2069"
      const fiber = yield* handler.approve(request("1", "Bash\u001b[31m", { command })).pipe(Effect.forkChild)
      expect(yield* term.waitFor((s) => s.includes("wants to run"))).toBe(true)
      const shown = term.transcript()
      for (const c of ["\u202E", "\u200B", "\u2066", "\u2069"]) expect(shown).not.toContain(c)
      expect(shown).toContain("ls ⟨U+202E⟩exe.txt⟨U+200B⟩; rm -rf ~ ⟨U+2066⟩x⟨U+2069⟩")
      expect(shown).toContain("Bash⟨U+001B⟩[31m (Mutating) wants to run")
      expect(shown).toContain("⚠ hidden characters")
      yield* term.type("n")
      yield* term.press("return")
      expect(yield* Fiber.join(fiber)).toMatchObject({ _tag: "Deny" })
    }))

  it.effect("escape leaves ordinary text, newlines on request, and marks every bidirectional control", () =>
    Effect.sync(() => {
      expect(TerminalApproval.escape("git status -s")).toBe("git status -s")
      expect(TerminalApproval.escape("a\nb", true)).toBe("a\nb")
      expect(TerminalApproval.escape("a\nb")).toBe("a⟨U+000A⟩b")
      const bidi = [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0xfeff, 0x7f, 0x9b]
      for (const code of bidi) expect(TerminalApproval.escape(String.fromCodePoint(code))).toMatch(/^⟨U\+[0-9A-F]{4}⟩$/)
    }))

  it.effect("t allows every call of the tool for the session, whatever its params; a would not", () =>
    Effect.gen(function*() {
      const term = yield* ScriptedTerminal.make
      const t = makeTracker()
      yield* term.type("t")
      const results = yield* Executor.executeBatch(toolkit, [write("1", "a", "1"), write("2", "b", "2"), write("3", "c", "3")]).pipe(
        Effect.provide(handlers(t)),
        Effect.provide(Concurrency.layer()),
        Effect.provide(TerminalApproval.layerWith(instant).pipe(Layer.provide(Layer.succeed(Terminal.Terminal, term.terminal))))
      )
      expect(results.map((r) => r.outcome._tag)).toEqual(["Succeeded", "Succeeded", "Succeeded"])
      expect(term.transcript().match(/wants to run/g)).toHaveLength(1)
      expect(term.screen()).toContain("Write allowed by you, and every Write call for this session")
    }))

  it.effect("edited params failing the tool's schema are asked again with the schema's message, not sent on to fail", () =>
    Effect.gen(function*() {
      const term = yield* ScriptedTerminal.make
      const t = makeTracker()
      yield* term.type("e")
      yield* term.press("u", { ctrl: true })
      yield* term.type(`{"key":1,"value":"x"}`)
      yield* term.press("return")
      yield* term.press("u", { ctrl: true })
      yield* term.type(`{"key":"a","value":"fixed"}`)
      yield* term.press("return")
      const approver = TerminalApproval.layerWith({ ...instant, validate: TerminalApproval.validateWith(toolkit) })
      const results = yield* Executor.executeBatch(toolkit, [write("1", "a", "model")]).pipe(
        Effect.provide(handlers(t)),
        Effect.provide(Concurrency.layer()),
        Effect.provide(approver.pipe(Layer.provide(Layer.succeed(Terminal.Terminal, term.terminal))))
      )
      expect(results[0]!.outcome._tag).toBe("Succeeded")
      expect(t.store.get("a")).toBe("fixed")
      expect(term.transcript()).toMatch(/not valid params: .*Expected string/)
    }))

  it.effect("Ctrl-C in the reason prompt denies and stops the run, like Ctrl-C at the main prompt", () =>
    Effect.gen(function*() {
      const { handler, term } = yield* setup
      yield* term.type("nhalf a rea")
      yield* term.press("c", { ctrl: true })
      expect(yield* handler.approve(request("1"))).toMatchObject({ _tag: "Deny", stop: true })
      expect(term.screen()).toContain("Write denied by you (Ctrl-C); stopping the run")
    }))

  it.effect("s in a batch of two asked calls: the second is denied without a prompt", () =>
    Effect.gen(function*() {
      const term = yield* ScriptedTerminal.make
      const t = makeTracker()
      yield* term.type("s")
      const results = yield* Executor.executeBatch(toolkit, [write("1", "a", "1"), write("2", "b", "2")]).pipe(
        Effect.provide(handlers(t)),
        Effect.provide(Concurrency.layer()),
        Effect.provide(TerminalApproval.layerWith(instant).pipe(Layer.provide(Layer.succeed(Terminal.Terminal, term.terminal))))
      )
      expect(results[0]!.outcome).toMatchObject({ _tag: "ApprovalDenied", stop: true })
      // denied by the terminal without a prompt, or cancelled by the executor's stop
      expect(["ApprovalDenied", "Cancelled"]).toContain(results[1]!.outcome._tag)
      expect(term.transcript().match(/wants to run/g)).toHaveLength(1)
      expect(t.store.size).toBe(0)
    }))

  it.effect("output sharing the screen lock waits while a prompt is live, and prints after the answer", () =>
    Effect.gen(function*() {
      const term = yield* ScriptedTerminal.make
      const screen = yield* Semaphore.make(1)
      const handler = yield* Effect.provideService(TerminalApproval.makeWith({ ...instant, screen }), Terminal.Terminal, term.terminal)
      const fiber = yield* Effect.forkChild(handler.approve(request("1")))
      expect(yield* term.waitFor((s) => s.includes("wants to run"))).toBe(true)
      const printed = yield* Effect.forkChild(screen.withPermits(1)(term.terminal.display("an event line\n")))
      yield* term.waitFor(() => false)
      expect(term.transcript()).not.toContain("an event line")
      yield* term.type("y")
      yield* Fiber.join(fiber)
      yield* Fiber.join(printed)
      expect(term.screen()).toBe("✔ Write allowed by you\nan event line")
    }))
})
