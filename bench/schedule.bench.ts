/**
 * Scheduling: the wall time of ten 20 ms calls, as multiples of one call.
 * Ten read-only tools run side by side (≈ 1×), ten serial mutators one after
 * another (≈ 10×), ten promoted mutators capped at 5 in two waves (≈ 2×).
 *
 * Run: `npx node bench/schedule.bench.ts`.
 */
import { Effect, Layer } from "effect"
import { Concurrency, Executor } from "../src/index.ts"
import { sleepHandlers, sleepToolkit } from "./fixtures.ts"
import { fmt, interleave, quick, stats, table } from "./harness.ts"

const MS = 20
const batch = (name: string, n: number) =>
  Executor.executeBatch(sleepToolkit, Array.from({ length: n }, (_, i) => ({ id: `${i}`, name, params: { ms: MS } }))).pipe(
    Effect.tap((results) =>
      results.every((r) => r.outcome._tag === "Succeeded") ? Effect.void : Effect.die(new Error(`a call did not succeed: ${JSON.stringify(results)}`))
    ),
    Effect.provide(Layer.mergeAll(sleepHandlers, Concurrency.layer({ tools: { SleepPromoted: { concurrent: true, max: 5 } } })))
  )

const variants = {
  one: () => Effect.runPromise(batch("SleepRead", 1)),
  reads: () => Effect.runPromise(batch("SleepRead", 10)),
  serial: () => Effect.runPromise(batch("SleepWrite", 10)),
  promoted: () => Effect.runPromise(batch("SleepPromoted", 10))
}
const samples = await interleave(variants, { rounds: quick ? 3 : 15, warmup: 2 })
const one = stats(samples.one).median
const row = (label: string, key: keyof typeof samples, expected: string) => {
  const s = stats(samples[key])
  return [label, `${fmt(s.median, 1)} / ${fmt(s.p90, 1)}`, `${fmt(s.median / one)}×`, expected]
}

console.log(`## 3. Scheduling

Wall time of a batch of ten ${MS} ms calls, ms median / p90, and as a multiple of one call (${fmt(one, 1)} ms median).

${
  table(["batch", "wall ms", "× one call", "expected"], [
    row("1 read-only call", "one", "1×"),
    row("10 read-only calls", "reads", "≈ 1×"),
    row("10 serial mutators", "serial", "≈ 10×"),
    row("10 promoted mutators, cap 5", "promoted", "≈ 2×")
  ])
}
`)
