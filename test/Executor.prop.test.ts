import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Approval, Concurrency, Executor, ToolPolicy } from "toolgate"
import { handlers, makeTracker, started, toolkit, withClock } from "./fixtures.ts"

const Verdict = Schema.Literals(["allow", "ask-allow", "ask-deny", "deny"])

const Call = Schema.Struct({
  tool: Schema.Literals(["Read", "Write", "Promoted"]),
  ms: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 30 })),
  verdict: Verdict
})

const Batch = Schema.Array(Call).check(Schema.isBetweenLength(6, 24))

const caps = { reads: 3, concurrentMutators: 2, serialMutators: 1 } as const

describe("Executor.executeBatch properties", () => {
  it.effect.prop(
    "one result per call in order, caps never exceeded, no denied call ran",
    { batch: Batch },
    ({ batch }) =>
      Effect.gen(function*() {
        const t = makeTracker()
        // the verdict travels in the key, so policy and approver can read it
        const calls = batch.map((c, i) => ({
          id: `${i}`,
          name: c.tool,
          params: c.tool === "Write"
            ? { key: `${i}:${c.verdict}`, value: "v", ms: c.ms }
            : { key: `${i}:${c.verdict}`, ms: c.ms }
        }))
        const verdictOf = (params: unknown) => String((params as { key: string }).key).split(":")[1]
        const policy = ToolPolicy.make(({ call }) => {
          const v = verdictOf(call.params)
          return v === "deny"
            ? ToolPolicy.Verdict.Deny({ reason: "denied by policy" })
            : v === "allow"
            ? ToolPolicy.Verdict.Allow()
            : ToolPolicy.Verdict.Ask()
        })
        const approver = Approval.make((request) =>
          verdictOf(request.input) === "ask-deny"
            ? Approval.ApprovalDecision.Deny({ reason: "denied by approver" })
            : Approval.ApprovalDecision.Allow()
        )
        const results = yield* withClock(
          Executor.executeBatch(toolkit, calls).pipe(
            Effect.provide(handlers(t)),
            Effect.provide(ToolPolicy.layer(policy)),
            Effect.provide(Approval.layer(approver)),
            Effect.provide(Concurrency.layer({ ...caps, tools: { Promoted: { concurrent: true } } }))
          )
        )
        expect(results.map((r) => r.id)).toEqual(calls.map((c) => c.id))
        expect(results.map((r) => r.name)).toEqual(calls.map((c) => c.name))
        expect(t.peak.get("Read") ?? 0).toBeLessThanOrEqual(caps.reads)
        expect(t.peak.get("Promoted") ?? 0).toBeLessThanOrEqual(caps.concurrentMutators)
        expect(t.peak.get("Write") ?? 0).toBeLessThanOrEqual(caps.serialMutators)
        const ran = new Set(started(t))
        batch.forEach((c, i) => {
          const key = `${i}:${c.verdict}`
          const outcome = results[i]!.outcome._tag
          if (c.verdict === "deny" || c.verdict === "ask-deny") {
            expect(ran.has(key)).toBe(false)
            expect(outcome).toBe(c.verdict === "deny" ? "PolicyDenied" : "ApprovalDenied")
          } else {
            expect(ran.has(key)).toBe(true)
            expect(outcome).toBe("Succeeded")
          }
        })
      }),
    { arbitrary: { runs: 150 } }
  )
})
