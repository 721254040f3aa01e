/**
 * Cancellation latency: a batch whose 1,000 calls all wait for approval (a
 * queue bridge nobody answers) is interrupted; we time from the interrupt
 * until the interrupting fiber resumes, which is after every finalizer has
 * run. Checked each round: all 1,000 waits were interrupted and the bridge's
 * pending list is empty (every prompt withdrawn). A second row does the same
 * with 1,000 running tools whose finalizers must run.
 *
 * Run: `npx node bench/cancel.bench.ts`. Target: < 5 ms median.
 */
import { Effect, Fiber, Layer } from "effect"
import { Approval, Concurrency, Executor, ToolPolicy } from "../src/index.ts"
import { noopCalls, noopToolkit, sleepHandlers, sleepToolkit } from "./fixtures.ts"
import { fmt, quick, stats, table } from "./harness.ts"

const N = 1_000

/** Polls until `check` holds, yielding to the batch's fibers in between. */
const until = (check: Effect.Effect<boolean>) =>
  Effect.gen(function*() {
    while (!(yield* check)) yield* Effect.sleep(1)
  })

const pendingApprovals = Effect.gen(function*() {
  const bridge = yield* Approval.queueBridge
  let withdrawn = 0
  const handler: Approval.ApprovalHandler = {
    approve: (request) =>
      bridge.handler.approve(request).pipe(Effect.onInterrupt(() => Effect.sync(() => void withdrawn++)))
  }
  const fiber = yield* Executor.executeBatch(noopToolkit, noopCalls(N)).pipe(
    Effect.provide(Layer.mergeAll(
      noopToolkit.toLayer({ Noop: ({ i }) => Effect.succeed(i) }),
      Approval.layer(handler),
      // every call admitted at once, so all 1,000 are waiting for a human. The
      // cap is above N on purpose: in effect 4.1.0 interrupting an
      // Effect.forEach whose concurrency is saturated (items >= concurrency)
      // re-enters its loop once per child, a recursion as deep as the
      // concurrency that overflows the stack near 1,000 (see RESULTS.md).
      Concurrency.layer({ reads: 2 * N })
    )),
    Effect.forkChild
  )
  yield* until(Effect.map(bridge.pending, (p) => p.length === N))
  const start = performance.now()
  yield* Fiber.interrupt(fiber)
  const elapsed = performance.now() - start
  const left = (yield* bridge.pending).length
  if (withdrawn !== N || left !== 0) return yield* Effect.die(new Error(`withdrawn ${withdrawn}, still pending ${left}`))
  return elapsed
})

const runningTools = Effect.gen(function*() {
  let started = 0
  let finalized = 0
  const handlers = sleepToolkit.toLayer({
    SleepRead: () =>
      Effect.sync(() => void started++).pipe(
        Effect.andThen(Effect.never),
        Effect.ensuring(Effect.sync(() => void finalized++))
      ),
    SleepWrite: () => Effect.succeed(0),
    SleepPromoted: () => Effect.succeed(0)
  })
  const fiber = yield* Executor.executeBatch(sleepToolkit, Array.from({ length: N }, (_, i) => ({ id: `${i}`, name: "SleepRead", params: { ms: 0 } }))).pipe(
    Effect.provide(Layer.mergeAll(handlers, Concurrency.layer({ reads: 2 * N }), ToolPolicy.layer(ToolPolicy.allowAll))),
    Effect.forkChild
  )
  yield* until(Effect.sync(() => started === N))
  const start = performance.now()
  yield* Fiber.interrupt(fiber)
  const elapsed = performance.now() - start
  if (finalized !== N) return yield* Effect.die(new Error(`only ${finalized} of ${N} finalizers ran`))
  return elapsed
})

const measure = async (program: Effect.Effect<number>, rounds: number, warmup: number) => {
  const samples: Array<number> = []
  for (let i = 0; i < warmup + rounds; i++) {
    const ms = await Effect.runPromise(program)
    if (i >= warmup) samples.push(ms)
  }
  return stats(samples)
}

const rounds = quick ? 5 : 40
const approvals = await measure(pendingApprovals, rounds, 5)
const running = await measure(runningTools, rounds, 5)

console.log(`## 4. Cancellation latency

Time from interrupting a batch of ${N.toLocaleString("en")} calls until the interrupting fiber resumes (every finalizer has run), ms, ${rounds} rounds.

${
  table(["batch", "median ms", "p90 ms"], [
    [`${N.toLocaleString("en")} calls waiting for approval (queue bridge)`, fmt(approvals.median), fmt(approvals.p90)],
    [`${N.toLocaleString("en")} running tools with finalizers`, fmt(running.median), fmt(running.p90)]
  ])
}

Target: < 5 ms median with 1,000 calls waiting for approval — measured **${fmt(approvals.median)} ms** (${approvals.median < 5 ? "met" : "missed"}).
`)
