/**
 * The tools the benchmarks run: a read-only no-op (the gate's overhead is
 * everything around it) and timed tools for the scheduling benchmark.
 */
import { Effect, Schema } from "effect"
import { Tool, Toolkit } from "effect/ai"

export const Noop = Tool.make("Noop", {
  description: "Does nothing",
  parameters: Schema.Struct({ i: Schema.Number }),
  success: Schema.Number
}).annotate(Tool.Readonly, true)

export const noopHandler = ({ i }: { readonly i: number }) => Effect.succeed(i)

export const noopToolkit = Toolkit.make(Noop)
export const noopHandlers = noopToolkit.toLayer({ Noop: noopHandler })

export const noopCalls = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `call_${i}`, name: "Noop", params: { i } }))

const Sleepy = { parameters: Schema.Struct({ ms: Schema.Number }), success: Schema.Number }

/** A read-only tool that sleeps `ms` of real time. */
export const SleepRead = Tool.make("SleepRead", Sleepy).annotate(Tool.Readonly, true)
/** A mutating tool that sleeps `ms`: serial unless promoted. */
export const SleepWrite = Tool.make("SleepWrite", Sleepy)
/** A mutating tool that the scheduling benchmark promotes to the concurrent pool. */
export const SleepPromoted = Tool.make("SleepPromoted", Sleepy)

export const sleepToolkit = Toolkit.make(SleepRead, SleepWrite, SleepPromoted)
const sleep = ({ ms }: { readonly ms: number }) => Effect.as(Effect.sleep(ms), ms)
export const sleepHandlers = sleepToolkit.toLayer({ SleepRead: sleep, SleepWrite: sleep, SleepPromoted: sleep })
