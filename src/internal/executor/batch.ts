/**
 * A batch through the gate: every call read once and judged in model order
 * (stages 1–2, lookup.ts), then the calls that go on cut into contiguous
 * runs of one routing class (read, concurrent mutator, serial mutator);
 * runs execute one after another and the calls of a run side by side,
 * each through approval (stage 3), admission (4), execution (5) and finish
 * (6). Calls that end before approval have no effects, so they are
 * answered at once and do not split runs.
 *
 * Exactly one `Finished` per call: a call's result is written by
 * `finish` only, and the batch ends with an uninterruptible sweep that
 * answers every call still without one `Cancelled` in the phase it reached
 * — also when the batch is interrupted.
 */
import { Cause, Deferred, Effect, Fiber } from "effect"
import type { Toolkit } from "effect/ai"
import { WorkflowEngine } from "effect/workflow"
import type * as Concurrency from "../../Concurrency.ts"
import type { ToolCall } from "../../ToolCall.ts"
import { notRun, Outcome, type ToolResult } from "../../ToolResult.ts"
import { admit, width } from "./admission.ts"
import { approve } from "./approval.ts"
import { type Env, makeEnv } from "./env.ts"
import { andThen } from "./fast.ts"
import { finish, sweep, sweepBatch } from "./finish.ts"
import { prepare } from "./lookup.ts"
import { snapshot } from "./snapshot.ts"
import { type Batch, type CallState, enter } from "./state.ts"

/** Stages 3–6 for one call that passed the policy, lookup and decoding. */
const gate = (env: Env, batch: Batch, state: CallState): Effect.Effect<ToolResult> =>
  andThen(approve(env, batch, state), (denied) => denied !== undefined ? Effect.succeed(denied) : admit(env, batch, state))

/** One call with per-call cancellation, when `Executor.Cancellation` is provided. */
const runCall = (env: Env, batch: Batch, state: CallState): Effect.Effect<void> => {
  const { cancellation } = env
  if (cancellation === undefined) return andThen(gate(env, batch, state), (result) => finish(env, state, result))
  return Effect.suspend(() => {
    const signal = cancellation.signal(state.call.id)
    const cancelled = Effect.sync(() => notRun(state.call, Outcome.Cancelled({ phase: state.phase })))
    // Checked first so that a call cancelled before its turn never starts.
    return Effect.flatMap(
      Deferred.isDone(signal),
      (done) => done ? cancelled : Effect.raceFirst(gate(env, batch, state), Effect.andThen(Deferred.await(signal), cancelled))
    ).pipe(
      Effect.flatMap((result) => finish(env, state, result)),
      Effect.ensuring(Effect.sync(() => cancellation.release(state.call.id)))
    )
  })
}

/**
 * Runs the calls of one run, at most `width` at a time, in model order of
 * start: `width` workers each take the next call in turn. Hand-written
 * rather than `Effect.forEach({ concurrency })`: in effect 4.1 interrupting
 * a saturated `forEach` re-enters its loop once per child, a recursion as
 * deep as the cap that overflows the stack for caps in the thousands; and a
 * worker per slot is one fiber per slot instead of one per call
 * (interrupting 1,000 waiting calls is then 1,000 fibers, not 2,000). A
 * worker interrupted by another call's `stop` leaves its call without
 * result: the sweep after the run answers it.
 */
const runWorkers = (env: Env, batch: Batch, run: ReadonlyArray<CallState>, slots: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    let next = 0
    const work = Effect.whileLoop({
      while: () => next < run.length && !batch.stopped,
      body: () => runCall(env, batch, run[next++]!),
      step: () => {}
    })
    if (slots <= 1) return Effect.andThen(work, sweep(env, run))
    return Effect.flatMap(
      // started at once: calls that never wait finish without being scheduled
      Effect.forEach(Array.from({ length: slots }), () => Effect.forkChild(work, { startImmediately: true })),
      (workers) =>
        Effect.flatMap(Fiber.awaitAll(workers), (exits) => {
          for (const exit of exits) {
            // a defect of the executor itself is the batch's, as with forEach
            if (exit._tag === "Failure" && !Cause.hasInterruptsOnly(exit.cause)) return Effect.failCause(exit.cause)
          }
          // A worker interrupted because its workflow suspended (an
          // approver awaiting a DurableDeferred): the batch is interrupted
          // too, so that the workflow suspends and replays it when the answer
          // comes, instead of the call being recorded as Cancelled and the
          // workflow completing without it.
          return Effect.flatMap(workflowSuspended, (suspended) => suspended ? Effect.interrupt : sweep(env, run))
        })
    )
  })

const workflowSuspended = Effect.map(
  Effect.serviceOption(WorkflowEngine.WorkflowInstance),
  (instance) => instance._tag === "Some" && instance.value.suspended
)

interface Run {
  readonly route: Concurrency.Route
  readonly calls: Array<CallState>
}

/**
 * Runs `batch` (made by `state.makeBatch` for the calls) through the gate
 * and returns one result per call, in model order. The Agent passes its
 * own `batch` to read what happened after an interruption.
 */
export const runBatch = (
  toolkit: Toolkit.Toolkit<any> | Toolkit.WithHandler<any>,
  batch: Batch
): Effect.Effect<ReadonlyArray<ToolResult>, never, unknown> =>
  Effect.flatMap(makeEnv(toolkit), (env) => {
    // every call entered at once, so that the sweep answers each of them
    const unreadable: Array<string | undefined> = []
    for (let index = 0; index < batch.calls.length; index++) {
      const read = snapshot(batch.calls[index]!)
      batch.states.push(enter(index, read.call))
      unreadable.push(read.unreadable)
    }
    const body = Effect.gen(function*() {
      const runs: Array<Run> = []
      for (const state of batch.states) {
        const ended = yield* prepare(env, state, unreadable[state.index])
        if (ended !== undefined) {
          yield* finish(env, state, ended)
          continue
        }
        const last = runs.at(-1)
        if (last !== undefined && last.route === state.route) last.calls.push(state)
        else runs.push({ route: state.route!, calls: [state] })
      }
      for (const run of runs) yield* runWorkers(env, batch, run.calls, width(env.pools, run.route, run.calls.length))
      return batch.states.map((state) => state.result!)
    })
    return Effect.onExit(body, () => sweepBatch(env, batch))
  })
