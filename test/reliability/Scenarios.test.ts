/**
 * Generated scenarios against the executor's invariants: tool classes,
 * durations, policy verdicts, approval answers (including handlers that
 * fail, die or are slow), per-call cancels at random times and a random
 * interruption of the whole batch. Time is the TestClock's.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Approval, Concurrency, Executor, ToolPolicy } from "toolgate"
import { handlers, makeTracker, started, toolkit } from "../fixtures.ts"
import { runs, timeoutFor } from "./runs.ts"

const Call = Schema.Struct({
  tool: Schema.Literals(["Read", "Write", "Promoted", "Fail", "Die", "Missing"]),
  ms: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 12 })),
  policy: Schema.Literals(["allow", "ask", "ask", "ask", "deny"]),
  answer: Schema.Literals(["allow", "allow", "slow", "deny", "fail", "die"]),
  badParams: Schema.Boolean,
  cancelAt: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 40 })))
})

const Scenario = {
  calls: Schema.Array(Call).check(Schema.isMaxLength(14)),
  interruptAt: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 60 })))
}

const caps = { reads: 3, concurrentMutators: 2, serialMutators: 1 } as const

const RUNS = runs(700)

describe("reliability: generated scenarios", () => {
  it.effect.prop(
    "one result per call in model order, no overlap of serial mutators, caps kept, nothing denied or late runs, every wait withdrawn",
    Scenario,
    ({ calls, interruptAt }) =>
      Effect.gen(function*() {
        const t = makeTracker()
        const key = (i: number) => `k${i}`
        const specOf = (params: unknown) => {
          const k = (params as { key?: unknown } | undefined)?.key
          return typeof k === "string" ? calls[Number(k.slice(1))] : undefined
        }
        const toolCalls = calls.map((c, i) => ({
          id: `${i}`,
          name: c.tool === "Missing" ? "Nope" : c.tool,
          params: c.badParams
            ? `not the params of ${c.tool}`
            : c.tool === "Write"
            ? { key: key(i), value: "v", ms: c.ms }
            : c.tool === "Fail" || c.tool === "Die"
            ? {}
            : { key: key(i), ms: c.ms }
        }))
        // Fail and Die take no key: their spec is found by call id instead
        const specOfCall = (id: string, params: unknown) => specOf(params) ?? calls[Number(id)]
        const policy = ToolPolicy.make(({ call }) => {
          const spec = specOfCall(call.id, call.params)
          return spec?.policy === "deny"
            ? ToolPolicy.Verdict.Deny({ reason: "generated deny" })
            : spec?.policy === "allow"
            ? ToolPolicy.Verdict.Allow()
            : ToolPolicy.Verdict.Ask()
        })
        const asked: Array<string> = []
        const answered: Array<string> = []
        const withdrawn: Array<string> = []
        let waiting = 0
        const approver = Approval.make((request) => {
          const spec = specOfCall(request.call.id, request.input)
          const answer = Effect.suspend(() => {
            switch (spec?.answer) {
              case "deny":
                return Effect.succeed(Approval.ApprovalDecision.Deny({ reason: "generated deny" }))
              case "fail":
                return Effect.fail(new Error("approver failed"))
              case "die":
                return Effect.die(new Error("approver died"))
              case "slow":
                return Effect.as(Effect.sleep(7), Approval.ApprovalDecision.Allow())
              default:
                return Effect.succeed(Approval.ApprovalDecision.Allow())
            }
          })
          return Effect.sync(() => {
            asked.push(request.call.id)
            waiting++
          }).pipe(
            Effect.andThen(answer),
            // an answer, a failure or a defect ends the wait; only an
            // interruption withdraws it
            Effect.onExit((exit) =>
              Effect.sync(() => {
                waiting--
                ;(Exit.hasInterrupts(exit) ? withdrawn : answered).push(request.call.id)
              })
            )
          )
        })

        let startedAtInterrupt: Array<string> | undefined
        const program = Effect.gen(function*() {
          const cancellation = yield* Executor.Cancellation
          const batch = yield* Effect.forkChild(Executor.executeBatch(toolkit, toolCalls))
          for (const [i, c] of calls.entries()) {
            if (c.cancelAt !== undefined) {
              yield* Effect.forkChild(Effect.andThen(Effect.sleep(c.cancelAt), cancellation.cancel(`${i}`)))
            }
          }
          yield* Effect.yieldNow
          let elapsed = 0
          while (batch.pollUnsafe() === undefined && elapsed < 2_000) {
            if (interruptAt !== undefined && elapsed === interruptAt) {
              startedAtInterrupt = started(t)
              yield* Fiber.interrupt(batch)
              break
            }
            yield* TestClock.adjust(1)
            elapsed++
          }
          const exit = yield* Fiber.await(batch)
          // time passes after the end: nothing may start late
          yield* TestClock.adjust(1_000)
          return exit
        })
        const exit = yield* program.pipe(
          Effect.provide(handlers(t)),
          Effect.provide(Layer.mergeAll(
            Executor.Cancellation.layer,
            ToolPolicy.layer(policy),
            Approval.layer(approver),
            Concurrency.layer({ ...caps, tools: { Promoted: { concurrent: true } } })
          ))
        )

        // pools: no cap exceeded, serial mutators never overlapped
        expect(t.peak.get("Read") ?? 0).toBeLessThanOrEqual(caps.reads)
        expect(t.peak.get("Promoted") ?? 0).toBeLessThanOrEqual(caps.concurrentMutators)
        expect(t.peak.get("Write") ?? 0).toBeLessThanOrEqual(1)
        // no handler is still running, no approval still waiting; every
        // request was either answered or withdrawn, never both
        expect([...t.inFlight.values()].every((n) => n === 0)).toBe(true)
        expect(waiting).toBe(0)
        expect([...answered, ...withdrawn].sort()).toEqual([...asked].sort())
        // no call that policy or approver denied ever ran
        const ran = new Set(started(t))
        calls.forEach((c, i) => {
          if (c.policy === "deny" || (c.policy !== "allow" && (c.answer === "deny" || c.answer === "fail" || c.answer === "die"))) {
            expect(ran.has(key(i))).toBe(false)
          }
        })

        if (exit._tag === "Success") {
          const results = exit.value
          // exactly one result per call, in model order
          expect(results.map((r) => r.id)).toEqual(toolCalls.map((c) => c.id))
          results.forEach((r, i) => {
            const c = calls[i]!
            const tag = r.outcome._tag
            if (tag === "Succeeded") expect(ran.has(key(i))).toBe(true)
            // the gate's order: policy, lookup, decoding, then the rest
            if (c.policy === "deny") expect(tag).toBe("PolicyDenied")
            else if (c.tool === "Missing") expect(tag).toBe("NotFound")
            // Fail and Die take Struct({}), which accepts any value
            else if (c.badParams && c.tool !== "Fail" && c.tool !== "Die") expect(tag).toBe("InvalidParams")
            else if (c.cancelAt === undefined) {
              const deniedByApprover = c.policy !== "allow" && c.answer !== "allow" && c.answer !== "slow"
              expect(tag).toBe(
                deniedByApprover
                  ? "ApprovalDenied"
                  : c.tool === "Fail"
                  ? "Failed"
                  : c.tool === "Die"
                  ? "Crashed"
                  : "Succeeded"
              )
            } else {
              expect(["Cancelled", "Succeeded", "Failed", "Crashed", "ApprovalDenied"]).toContain(tag)
            }
            if (tag === "Cancelled") expect(c.cancelAt).toBeDefined()
          })
        } else {
          // only an interruption ends a batch without results, and nothing
          // started after it
          expect(interruptAt).toBeDefined()
          expect(startedAtInterrupt).toBeDefined()
          expect(started(t)).toEqual(startedAtInterrupt)
        }
      }),
    { timeout: timeoutFor(700, 40), arbitrary: { runs: RUNS } }
  )
})
