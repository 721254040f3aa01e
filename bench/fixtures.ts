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
