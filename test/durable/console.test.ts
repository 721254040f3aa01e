import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Fiber, Layer, Option, Redacted } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { Approval, Executor } from "toolgate"
import { DurableApproval, DurableEngine } from "toolgate/durable"
import { WebConsole } from "toolgate/node"
import { handlers, makeTracker, toolkit } from "../fixtures.ts"

// The web console over a durable store (`toolgate approvals console`): it
// shows every pending request of the store, whichever run made it, answers
// through the store's own rules, and drops a card answered elsewhere.

const tempStore = () => NodePath.join(Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-durable-console-")), "approvals.db")
const uniqueRun = () => `run-${Crypto.randomUUID().slice(0, 8)}`

// One Write call, which the default policy asks about.
const write = (id: string) =>
  Executor.executeBatch(toolkit, [{ id, name: "Write", params: { key: "k", value: "v" } }]).pipe(Effect.provide(handlers(makeTracker())))

interface State {
  readonly pending: ReadonlyArray<{ readonly id: string; readonly tool: string; readonly callId: string; readonly description?: string }>
  readonly recent: ReadonlyArray<{ readonly id: string; readonly verdict: string; readonly detail?: string }>
}

const storeConsole = Effect.gen(function*() {
  const services = yield* Effect.context<DurableEngine.Services>()
  const web = yield* WebConsole.polling({
    pending: Effect.map(DurableApproval.pending, (rows) => rows.map((row) => ({ ...row, since: row.createdAt }))).pipe(Effect.provideContext(services)),
    answer: (id, decision) => Effect.map(DurableApproval.answer(id, decision, { by: "console" }), (r) => r._tag === "Answered").pipe(Effect.provideContext(services)),
    every: "20 millis"
  })
  const base = `http://127.0.0.1:${web.port}`
  const call = (path: string, init: RequestInit = {}) =>
    Effect.promise(() => fetch(base + path, { ...init, headers: { "x-toolgate-token": Redacted.value(web.token), "content-type": "application/json", ...init.headers } }))
  const state = Effect.flatMap(call("/api/state"), (r) => Effect.promise(() => r.json() as Promise<State>))
  const until = (ok: (s: State) => boolean) =>
    Effect.gen(function*() {
      for (;;) {
        const s = yield* state
        if (ok(s)) return s
        yield* Effect.sleep("10 millis")
      }
    })
  const decide = (id: string, body: unknown) => Effect.map(call(`/api/decide/${id}`, { method: "POST", body: JSON.stringify(body) }), (r) => r.status)
  return { state, until, decide }
})

describe("the web console over a durable store", () => {
  it.live("shows the pending requests of every run, and an answer from the page resumes the call", () => {
    const [one, two] = [uniqueRun(), uniqueRun()]
    const file = tempStore()
    return Effect.gen(function*() {
      const engine = yield* Layer.build(DurableEngine.sqlite({ file }))
      // each run's approval layer lives as long as the test, as it would in its own process
      const runOf = (runId: string, id: string) =>
        Effect.gen(function*() {
          const approvals = yield* Layer.build(DurableApproval.layer({ runId })).pipe(Effect.provideContext(engine))
          return yield* Effect.forkChild(write(id).pipe(Effect.provideContext(Context.merge(engine, approvals))))
        })
      const first = yield* runOf(one, "c1")
      const second = yield* runOf(two, "c2")
      const page = yield* storeConsole.pipe(Effect.provideContext(engine))
      const shown = yield* page.until((s) => s.pending.length === 2)
      expect(shown.pending.map((c) => c.description?.split(":")[0]).sort()).toEqual([`run ${one}`, `run ${two}`].sort())
      const card = shown.pending.find((c) => c.callId === "c1")!
      expect(card).toMatchObject({ tool: "Write", id: expect.stringMatching(/^s\d+$/) })
      expect(yield* page.decide(card.id, { action: "allow" })).toBe(200)
      const [result] = yield* Fiber.join(first)
      expect(result!.outcome._tag).toBe("Succeeded")
      expect(Option.getOrThrow(yield* DurableApproval.get(`${one}/c1`).pipe(Effect.provideContext(engine)))).toMatchObject({ status: "allowed", decidedBy: "console" })
      // answered elsewhere (the CLI, another console): the card leaves the page, and a late answer is refused
      const other = (yield* page.state).pending.find((c) => c.callId === "c2")!
      yield* DurableApproval.answer(`${two}/c2`, Approval.ApprovalDecision.Deny({ reason: "from the CLI" }), { by: "cli" }).pipe(Effect.provideContext(engine))
      const after = yield* page.until((s) => s.pending.length === 0)
      expect(after.recent.find((r) => r.id === other.id)).toMatchObject({ verdict: "withdrawn" })
      expect(yield* page.decide(other.id, { action: "allow" })).toBe(404)
      const [denied] = yield* Fiber.join(second)
      expect(denied!.outcome._tag).toBe("ApprovalDenied")
    }).pipe(Effect.scoped)
  })

  it.live("of the page's answer and another racing it, one wins and the page says which", () => {
    const runId = uniqueRun()
    const file = tempStore()
    return Effect.gen(function*() {
      const engine = yield* Layer.build(DurableEngine.sqlite({ file }))
      const fiber = yield* Effect.forkChild(write("c1").pipe(Effect.provide(DurableApproval.layer({ runId })), Effect.provideContext(engine)))
      const page = yield* storeConsole.pipe(Effect.provideContext(engine))
      const card = (yield* page.until((s) => s.pending.length === 1)).pending[0]!
      // the store takes the CLI's answer first; the page's, sent before it polled again, is refused
      yield* DurableApproval.answer(`${runId}/c1`, Approval.ApprovalDecision.Allow(), { by: "cli" }).pipe(Effect.provideContext(engine))
      expect(yield* page.decide(card.id, { action: "deny", reason: "too late" })).toBe(404)
      const [result] = yield* Fiber.join(fiber)
      expect(result!.outcome._tag).toBe("Succeeded")
      expect((yield* page.state).recent[0]).toMatchObject({ id: card.id, verdict: "withdrawn" })
    }).pipe(Effect.scoped)
  })
})
