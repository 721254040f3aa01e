/**
 * Memory: 100,000 calls through one runtime in batches of 100, with a
 * subscriber following the events and session memory on (every call is
 * allowed with `remember: true`; params repeat over 100 distinct values, so
 * the memory holds 100 entries). The heap after a forced GC at 10k and at
 * 100k calls must be within 10% of each other: nothing grows per call.
 *
 * Run: `npx node --expose-gc bench/memory.bench.ts`.
 */
import { Effect, Layer, ManagedRuntime, Stream } from "effect"
import { Approval, Executor, ToolEvents } from "../src/index.ts"
import { noopHandlers, noopToolkit } from "./fixtures.ts"
import { fmt, quick, table } from "./harness.ts"

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error("run with node --expose-gc")

const runtime = ManagedRuntime.make(Layer.mergeAll(
  noopHandlers,
  ToolEvents.layer,
  Approval.layer(Approval.make(() => Approval.ApprovalDecision.Allow({ remember: true })))
))
let events = 0
runtime.runFork(ToolEvents.stream.pipe(Stream.runForEach(() => Effect.sync(() => void events++))))
await new Promise((resolve) => setTimeout(resolve, 10))

let next = 0
const batch = () =>
  Executor.executeBatch(noopToolkit, Array.from({ length: 100 }, () => {
    const n = next++
    return { id: `call_${n}`, name: "Noop", params: { i: n % 100 } }
  }))

const heapAfterGc = async () => {
  await new Promise((resolve) => setImmediate(resolve))
  gc()
  gc()
  return process.memoryUsage().heapUsed / 2 ** 20
}

const total = quick ? 20_000 : Number(process.env.BENCH_CALLS ?? 100_000)
const marks = new Map<number, number>()
for (let done = 0; done < total;) {
  await runtime.runPromise(batch())
  done += 100
  if (done === 1_000 || done === 10_000 || done % 50_000 === 0 || done === total) marks.set(done, await heapAfterGc())
}
await runtime.dispose()

const at10k = marks.get(10_000)!
const atEnd = marks.get(total)!
const growth = (atEnd - at10k) / at10k
console.log(`## 5. Memory

${total.toLocaleString("en")} calls through one runtime in batches of 100, events subscribed (${events.toLocaleString("en")} events seen), session memory on. Heap used after a forced GC:

${table(["calls", "heap MiB"], [...marks].map(([n, mb]) => [n.toLocaleString("en"), fmt(mb, 2)]))}

Target: heap at 10k and at ${total.toLocaleString("en")} within 10% — measured **${growth >= 0 ? "+" : ""}${fmt(growth * 100, 1)}%** (${Math.abs(growth) <= 0.1 ? "met" : "missed"}).
`)
