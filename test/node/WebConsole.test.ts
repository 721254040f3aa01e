/**
 * The web console over real HTTP on 127.0.0.1, in front of a real Executor:
 * what a reviewer's request does to the call the agent is waiting on, and
 * what a request without the token (or from another host) gets. Real time,
 * because real sockets are the point.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, PubSub, Redacted } from "effect"
import { Approval, Concurrency, Executor, ToolEvents, ToolPolicy } from "toolgate"
import { WebConsole } from "toolgate/node"
import { handlers, makeTracker, toolkit } from "../fixtures.ts"

const askAll = ToolPolicy.layer(ToolPolicy.make(() => ToolPolicy.Verdict.Ask({
  reason: "writes need a human",
  match: { _tag: "Rule", list: "ask", rule: "Write" }
})))

const parameters = (name: string) => toolkit.tools[name as keyof typeof toolkit.tools]?.parametersSchema

/** A console, a tracker, and a way to run calls through the gate with the console as approver. */
const setup = (options: WebConsole.Options = {}) =>
  Effect.gen(function*() {
    const console = yield* WebConsole.make({ parameters, ...options })
    const tracker = makeTracker()
    const layer = Layer.mergeAll(askAll, Approval.layer(console.handler), handlers(tracker))
    const base = `http://127.0.0.1:${console.port}`
    const token = Redacted.value(console.token)
    const api = (path: string, init: RequestInit = {}) =>
      Effect.promise(() => fetch(base + path, { ...init, headers: { "x-toolgate-token": token, ...init.headers } }))
    const state = Effect.flatMap(api("/api/state"), (r) => Effect.promise(() => r.json() as Promise<any>))
    const waitForPending = (n: number) =>
      Effect.gen(function*() {
        for (let i = 0; i < 400; i++) {
          const s = yield* state
          if (s.pending.length >= n) return s.pending as Array<any>
          yield* Effect.sleep("25 millis")
        }
        throw new Error(`never saw ${n} pending cards`)
      })
    const decide = (id: string, body: unknown) =>
      api(`/api/decide/${id}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
    const run = (calls: Array<{ id: string; name: string; params: unknown }>) =>
      Effect.forkChild(Executor.executeBatch(toolkit, calls).pipe(Effect.provide(layer)))
    return { console, tracker, base, token, api, state, waitForPending, decide, run, layer }
  })

describe("WebConsole", () => {
  it.live("answers 401 to every request without the token, and 403 to another host name", () =>
    Effect.gen(function*() {
      const { base, token } = yield* setup()
      for (const path of ["/", "/app.js", "/api/state", "/api/events"]) {
        const response = yield* Effect.promise(() => fetch(base + path))
        expect([path, response.status]).toEqual([path, 401])
      }
      const wrong = yield* Effect.promise(() => fetch(`${base}/api/state`, { headers: { "x-toolgate-token": "nope" } }))
      expect(wrong.status).toBe(401)
      const badLogin = yield* Effect.promise(() => fetch(`${base}/login?token=nope`, { redirect: "manual" }))
      expect(badLogin.status).toBe(401)
      // fetch will not override Host; node:http will
      const { request } = yield* Effect.promise(() => import("node:http"))
      const status = yield* Effect.promise(() =>
        new Promise<number>((resolve) => {
          const port = Number(new URL(base).port)
          request({ host: "127.0.0.1", port, path: "/api/state", headers: { host: `evil.example:${port}`, "x-toolgate-token": token } }, (r) => {
            r.resume()
            resolve(r.statusCode ?? 0)
          }).end()
        })
      )
      expect(status).toBe(403)
    }))

  it.live("the URL's token logs in with a per-port cookie, which reads the page but cannot decide", () =>
    Effect.gen(function*() {
      const { base, console, decide, run, waitForPending } = yield* setup()
      const login = yield* Effect.promise(() => fetch(console.url, { redirect: "manual" }))
      expect(login.status).toBe(302)
      const cookie = login.headers.get("set-cookie") ?? ""
      expect(cookie).toContain(`toolgate_${console.port}=`)
      expect(cookie).toMatch(/HttpOnly/i)
      expect(cookie).toMatch(/SameSite=Strict/i)
      const pair = cookie.split(";")[0]!
      const page = yield* Effect.promise(() => fetch(base + "/", { headers: { cookie: pair } }))
      expect(page.status).toBe(200)
      expect(page.headers.get("access-control-allow-origin")).toBeNull()

      const fiber = yield* run([{ id: "w1", name: "Write", params: { key: "k", value: "v" } }])
      const [card] = yield* waitForPending(1)
      const withCookieOnly = yield* Effect.promise(() =>
        fetch(`${base}/api/decide/${card.id}`, {
          method: "POST",
          headers: { cookie: pair, "content-type": "application/json" },
          body: JSON.stringify({ action: "allow" })
        })
      )
      expect(withCookieOnly.status).toBe(401)
      expect((yield* decide(card.id, { action: "allow" })).status).toBe(200)
      const [result] = yield* Fiber.join(fiber)
      expect(result!.outcome._tag).toBe("Succeeded")
    }))

  it.live("a card shows the call, its class, the rule and the origin; allow runs it, deny tells the model why", () =>
    Effect.gen(function*() {
      const { decide, run, tracker, waitForPending } = yield* setup()
      const fiber = yield* run([
        { id: "w1", name: "Write", params: { key: "a", value: "1" } },
        { id: "w2", name: "Write", params: { key: "b", value: "2" } }
      ])
      // serial mutators are asked one at a time, in model order
      const [first] = yield* waitForPending(1)
      expect(first).toMatchObject({
        callId: "w1",
        tool: "Write",
        toolClass: "Mutating",
        params: { key: "a", value: "1" },
        reason: "writes need a human",
        rule: "ask: Write",
        origin: { depth: 0, parents: [] }
      })
      expect((yield* decide(first.id, { action: "allow" })).status).toBe(200)
      const second = (yield* waitForPending(1)).find((c) => c.callId === "w2")
      expect((yield* decide(second.id, { action: "deny", reason: "b stays", stop: true })).status).toBe(200)
      const results = yield* Fiber.join(fiber)
      expect(results.map((r) => r.outcome._tag)).toEqual(["Succeeded", "ApprovalDenied"])
      expect(results[1]!.outcome).toMatchObject({ reason: "b stays", stop: true })
      expect([...tracker.store]).toEqual([["a", "1"]])
    }))

  it.live("an answered call's entry shows how it really ended: an edit the policy re-check refuses reads as denied, an edit that ran shows its params", () =>
    Effect.gen(function*() {
      const hub = yield* PubSub.unbounded<ToolEvents.ToolEvent>()
      const console = yield* WebConsole.make({ parameters, events: hub })
      const policy = ToolPolicy.layer(ToolPolicy.make((request) =>
        (request.call.params as { value?: unknown }).value === "forbidden"
          ? ToolPolicy.Verdict.Deny({ reason: "forbidden values are refused" })
          : ToolPolicy.Verdict.Ask({ reason: "writes need a human" })
      ))
      const layer = Layer.mergeAll(policy, Approval.layer(console.handler), handlers(makeTracker()), Layer.succeed(ToolEvents.ToolEvents, hub))
      const api = (path: string, init: RequestInit = {}) =>
        Effect.promise(() => fetch(`http://127.0.0.1:${console.port}${path}`, { ...init, headers: { "x-toolgate-token": Redacted.value(console.token), ...init.headers } }))
      const state = Effect.flatMap(api("/api/state"), (r) => Effect.promise(() => r.json() as Promise<any>))
      const fiber = yield* Effect.forkChild(Executor.executeBatch(toolkit, [
        { id: "w1", name: "Write", params: { key: "a", value: "1" } },
        { id: "w2", name: "Write", params: { key: "b", value: "2" } }
      ]).pipe(Effect.provide(layer)))
      const answer = (callId: string, params: unknown) =>
        Effect.gen(function*() {
          for (let i = 0; i < 400; i++) {
            const card = (yield* state).pending.find((c: any) => c.callId === callId)
            if (card !== undefined) {
              yield* api(`/api/decide/${card.id}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ action: "allow", params }) })
              return
            }
            yield* Effect.sleep("25 millis")
          }
          throw new Error(`never saw ${callId}`)
        })
      yield* answer("w1", { key: "a", value: "forbidden" })
      yield* answer("w2", { key: "b", value: "edited" })
      const results = yield* Fiber.join(fiber)
      expect(results.map((r) => r.outcome._tag)).toEqual(["PolicyDenied", "Succeeded"])
      // the board updates from the events it takes in its own fiber
      let recent: Array<any> = []
      for (let i = 0; i < 400 && recent.filter((r) => r.outcome !== undefined).length < 2; i++) {
        recent = (yield* state).recent
        yield* Effect.sleep("10 millis")
      }
      const byCall = Object.fromEntries(recent.map((r) => [r.callId, r]))
      expect(byCall["w1"]).toMatchObject({ verdict: "allowed", outcome: { outcome: "PolicyDenied", isError: true, reason: "edited params: forbidden values are refused" } })
      expect(byCall["w2"]).toMatchObject({ verdict: "allowed", outcome: { outcome: "Succeeded", isError: false, executedParams: { key: "b", value: "edited" } } })
    }))

  it.live("edited params are checked against the tool's schema before they are sent", () =>
    Effect.gen(function*() {
      const { decide, run, tracker, waitForPending } = yield* setup()
      const fiber = yield* run([{ id: "w1", name: "Write", params: { key: "a", value: "1" } }])
      const [card] = yield* waitForPending(1)
      const bad = yield* decide(card.id, { action: "allow", params: { key: "a", value: 5 } })
      expect(bad.status).toBe(400)
      expect(yield* Effect.promise(() => bad.text())).toContain("value")
      expect((yield* decide(card.id, { action: "allow", params: { key: "a", value: "edited" } })).status).toBe(200)
      const [result] = yield* Fiber.join(fiber)
      expect(result!.outcome._tag).toBe("Succeeded")
      expect(tracker.store.get("a")).toBe("edited")
    }))

  it.live("remember for the session: the same call is not asked again", () =>
    Effect.gen(function*() {
      const { console, decide, waitForPending, tracker } = yield* setup()
      const layer = Layer.mergeAll(askAll, Approval.layer(console.handler), handlers(tracker))
      const call = { id: "w1", name: "Write", params: { key: "a", value: "1" } }
      yield* Effect.gen(function*() {
        const first = yield* Effect.forkChild(Executor.execute(toolkit, call))
        const [card] = yield* waitForPending(1)
        yield* decide(card.id, { action: "allow", remember: true })
        expect((yield* Fiber.join(first)).outcome._tag).toBe("Succeeded")
        const again = yield* Executor.execute(toolkit, { ...call, id: "w2" })
        expect(again.outcome._tag).toBe("Succeeded")
      }).pipe(Effect.provide(layer))
    }))

  it.live("a call decided elsewhere (timeout) withdraws its card from every page", () =>
    Effect.gen(function*() {
      const { api, console, state, tracker, waitForPending } = yield* setup()
      const events = yield* api("/api/events")
      const reader = events.body!.getReader()
      const layer = Layer.mergeAll(askAll, Approval.layer(Approval.timeout(console.handler, "1 second")), handlers(tracker))
      const fiber = yield* Effect.forkChild(
        Executor.execute(toolkit, { id: "w1", name: "Write", params: { key: "a", value: "1" } }).pipe(Effect.provide(layer))
      )
      yield* waitForPending(1)
      const result = yield* Fiber.join(fiber)
      expect(result.outcome).toMatchObject({ _tag: "ApprovalDenied", decidedBy: "timeout" })
      let seen = ""
      while (!seen.includes("event: withdrawn")) {
        const chunk = yield* Effect.promise(() => reader.read())
        if (chunk.done) break
        seen += new TextDecoder().decode(chunk.value)
      }
      yield* Effect.promise(() => reader.cancel())
      expect(seen).toContain("event: snapshot")
      expect(seen).toContain("event: pending")
      expect(seen).toContain("event: withdrawn")
      const after = yield* state
      expect(after.pending).toEqual([])
      expect(after.recent[0]).toMatchObject({ verdict: "withdrawn" })
    }))

  it.live("100 pending calls are 100 cards, answerable in any order", () =>
    Effect.gen(function*() {
      const { console, decide, tracker, waitForPending } = yield* setup()
      // promoted mutators are asked concurrently, so all 100 wait at once
      const layer = Layer.mergeAll(
        askAll,
        Approval.layer(console.handler),
        handlers(tracker),
        Concurrency.layer({ concurrentMutators: 100, tools: { Promoted: { concurrent: true } } })
      )
      const calls = Array.from({ length: 100 }, (_, i) => ({ id: `p${i}`, name: "Promoted", params: { key: `k${i}` } }))
      const fiber = yield* Effect.forkChild(Executor.executeBatch(toolkit, calls).pipe(Effect.provide(layer)))
      const cards = yield* waitForPending(100)
      expect(new Set(cards.map((c) => c.callId)).size).toBe(100)
      // answer from the last to the first; even ones allowed, odd ones denied
      for (const card of [...cards].reverse()) {
        const i = Number(card.callId.slice(1))
        const response = yield* decide(card.id, i % 2 === 0 ? { action: "allow" } : { action: "deny", reason: `no ${i}` })
        expect(response.status).toBe(200)
      }
      const results = yield* Fiber.join(fiber)
      expect(results.map((r) => r.outcome._tag)).toEqual(calls.map((_, i) => i % 2 === 0 ? "Succeeded" : "ApprovalDenied"))
    }))

  it.live("two consoles run side by side without sharing tokens, cookies or cards", () =>
    Effect.gen(function*() {
      const one = yield* setup()
      const two = yield* setup()
      expect(one.console.port).not.toBe(two.console.port)
      expect(one.token).not.toBe(two.token)
      const crossed = yield* Effect.promise(() =>
        fetch(`${two.base}/api/state`, { headers: { "x-toolgate-token": one.token } })
      )
      expect(crossed.status).toBe(401)
      const fiber = yield* one.run([{ id: "w1", name: "Write", params: { key: "a", value: "1" } }])
      const [card] = yield* one.waitForPending(1)
      expect((yield* two.state).pending).toEqual([])
      expect((yield* two.decide(card.id, { action: "allow" })).status).toBe(404)
      yield* one.decide(card.id, { action: "allow" })
      expect((yield* Fiber.join(fiber))[0]!.outcome._tag).toBe("Succeeded")
    }))
})
