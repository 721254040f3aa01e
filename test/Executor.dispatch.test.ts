/**
 * The executor calls a tool's handler directly (src/internal/toolHandler.ts)
 * instead of through effect/ai's `toolkit.handle`. These tests hold the two
 * paths to the same results over generated tools, params and ways for a
 * handler to end, and check the fallback to `handle`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Schema } from "effect"
import { AiError, Prompt, Tool, Toolkit } from "effect/ai"
import { Executor, ToolPolicy } from "toolgate"
import * as ToolHandler from "../src/internal/toolHandler.ts"

class Oops extends Schema.TaggedError<Oops>()("Oops", { n: Schema.Number }) {}

const Behaviour = Schema.Literals([
  "succeed",
  "succeedUnencodable",
  "fail",
  "failUndeclared",
  "failSchemaError",
  "failAiReason",
  "die",
  "throw",
  "interrupt",
  "preliminaryThenSucceed",
  "preliminaryUnencodable",
  "asyncSucceed",
  "asyncFail",
  "forkThenSucceed"
])

const Case = Schema.Struct({
  failureMode: Schema.Literals(["return", "error"]),
  behaviour: Behaviour,
  modelOutput: Schema.Boolean,
  params: Schema.Union([
    Schema.Struct({ n: Schema.Int }),
    // wrong type, missing field: both paths answer InvalidParams before dispatch
    Schema.Struct({ n: Schema.String }),
    Schema.Struct({})
  ])
})

const makeTool = (failureMode: "return" | "error", modelOutput: boolean) =>
  Tool.make("Probe", {
    parameters: Schema.Struct({ n: Schema.Int }),
    success: Schema.String,
    failure: Oops,
    failureMode,
    ...(modelOutput ? { toModelOutput: (s: string) => [Prompt.textPart({ text: `model sees ${s}` })] } : {})
  })

/** The handler for one behaviour; `forked` counts children interrupted when their handler ended. */
const handlerFor = (behaviour: typeof Behaviour.Type, forked: { interrupted: number }) =>
(
  { n }: { readonly n: number },
  context: Toolkit.HandlerContext<any>
): Effect.Effect<string, any> => {
  switch (behaviour) {
    case "succeed":
      return Effect.succeed(`ok ${n}`)
    case "succeedUnencodable":
      return Effect.succeed(n as unknown as string)
    case "fail":
      return Effect.fail(new Oops({ n }))
    case "failUndeclared":
      return Effect.fail({ weird: n } as never)
    case "failSchemaError":
      return Effect.flatMap(Effect.result(Schema.decodeUnknownEffect(Schema.String)(n)), (r) =>
        r._tag === "Failure" ? Effect.fail(r.failure) : Effect.succeed(r.success))
    case "failAiReason":
      return Effect.fail(new AiError.InvalidToolResultError({ toolName: "Probe", description: `bad ${n}` }) as never)
    case "die":
      return Effect.die(new Error(`kaboom ${n}`))
    case "throw":
      throw new Error(`thrown ${n}`)
    case "interrupt":
      return Effect.interrupt
    case "preliminaryThenSucceed":
      return Effect.andThen(context.preliminary(`halfway ${n}`), Effect.succeed(`ok ${n}`))
    case "preliminaryUnencodable":
      return Effect.andThen(context.preliminary(n), Effect.succeed(`ok ${n}`))
    case "asyncSucceed":
      return Effect.as(Effect.yieldNow, `later ${n}`)
    case "asyncFail":
      return Effect.andThen(Effect.yieldNow, Effect.fail(new Oops({ n })))
    case "forkThenSucceed":
      return Effect.as(
        Effect.forkChild(Effect.onInterrupt(Effect.never, () => Effect.sync(() => void forked.interrupted++))),
        `forked ${n}`
      )
  }
}

/** What a result says, in plain data: errors by tag and message. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null))
const describeError = (error: unknown) =>
  error instanceof Error
    ? { tag: (error as { _tag?: string })._tag, message: error.message }
    : plain(error)
const view = (result: import("toolgate").ToolResult.ToolResult) => ({
  id: result.id,
  name: result.name,
  isFailure: result.isFailure,
  result: plain(result.result),
  outcome: result.outcome._tag,
  error: result.outcome._tag === "Failed" ? describeError(result.outcome.error) : undefined,
  detail: result.outcome._tag === "Crashed" || result.outcome._tag === "Cancelled" || result.outcome._tag === "InvalidParams"
    ? plain(result.outcome)
    : undefined,
  modelOutput: plain(result.modelOutput)
})

describe("direct handler calls", () => {
  it.effect.prop(
    "give the result toolkit.handle gives, whatever the tool, its params and the way its handler ends",
    { c: Case },
    ({ c }) =>
      Effect.gen(function*() {
        const tool = makeTool(c.failureMode, c.modelOutput)
        const toolkit = Toolkit.make(tool)
        const forked = { interrupted: 0 }
        const handlers = yield* toolkit.toHandlers({ Probe: handlerFor(c.behaviour, forked) } as never)
        const call = { id: "c1", name: "Probe", params: c.params }
        const resolved = yield* Effect.provide(Effect.gen(function*() { return yield* toolkit }), handlers)

        // the Toolkit with its handlers in context: the direct path
        const direct = yield* Executor.executeBatch(toolkit, [call]).pipe(
          Effect.provide(handlers),
          Effect.provideService(ToolPolicy.ToolPolicy, ToolPolicy.allowAll)
        )
        const forkedDirect = forked.interrupted
        // the resolved WithHandler: effect/ai's own dispatch
        const viaHandle = yield* Executor.executeBatch(resolved, [call]).pipe(
          Effect.provideService(ToolPolicy.ToolPolicy, ToolPolicy.allowAll)
        )
        expect(view(direct[0]!)).toEqual(view(viaHandle[0]!))
        // what a handler forked ended with it on both paths
        expect(forkedDirect).toBe(forked.interrupted - forkedDirect)
      }),
    { arbitrary: { runs: 300 } }
  )

  it.effect("use the handler effect/ai stored under the tool's id, and nothing of another shape", () =>
    Effect.gen(function*() {
      const tool = makeTool("return", false)
      const toolkit = Toolkit.make(tool)
      const handlers = yield* toolkit.toHandlers({ Probe: () => Effect.succeed("x") } as never)
      expect(ToolHandler.lookup(handlers, tool)).toMatchObject({ handler: expect.any(Function) })
      expect(ToolHandler.lookup(Context.empty(), tool)).toBeUndefined()
      const unknownShape = (entry: unknown) => Context.makeUnsafe<never>(new Map([[tool.id, entry]]))
      expect(ToolHandler.lookup(unknownShape({ run: () => Effect.void }), tool)).toBeUndefined()
      expect(ToolHandler.lookup(unknownShape({ handler: () => Effect.void, context: {} }), tool)).toBeUndefined()
      expect(ToolHandler.lookup(unknownShape("handler"), tool)).toBeUndefined()
    }))

  it.effect("fall back to toolkit.handle when given a resolved toolkit, with the same results", () =>
    Effect.gen(function*() {
      const tool = makeTool("return", true)
      const toolkit = Toolkit.make(tool)
      const handlers = yield* toolkit.toHandlers({ Probe: ({ n }: { n: number }) => Effect.succeed(`ok ${n}`) } as never)
      const resolved = yield* Effect.provide(Effect.gen(function*() { return yield* toolkit }), handlers)
      const handled: Array<string> = []
      const spied: typeof resolved = {
        tools: resolved.tools,
        handle: ((name: string, params: unknown, id?: string) => {
          handled.push(id ?? "")
          return resolved.handle(name as never, params as never, id)
        }) as typeof resolved.handle
      }
      const calls = [1, 2, 3].map((n) => ({ id: `c${n}`, name: "Probe", params: { n } }))
      const viaHandle = yield* Executor.executeBatch(spied, calls)
      const direct = yield* Executor.executeBatch(toolkit, calls).pipe(Effect.provide(handlers))
      expect(handled).toEqual(["c1", "c2", "c3"])
      expect(viaHandle.map(view)).toEqual(direct.map(view))
      expect(direct.map((r) => r.result)).toEqual(["ok 1", "ok 2", "ok 3"])
    }))

  it.effect("fall back to toolkit.handle when the context holds no handler for the tool: it crashes the call as before", () =>
    Effect.gen(function*() {
      const toolkit = Toolkit.make(makeTool("return", false))
      const [result] = yield* Executor.executeBatch(toolkit, [{ id: "c1", name: "Probe", params: { n: 1 } }]).pipe(
        Effect.provideService(ToolPolicy.ToolPolicy, ToolPolicy.allowAll)
      ) as Effect.Effect<ReadonlyArray<import("toolgate").ToolResult.ToolResult>>
      expect(result!.outcome._tag).toBe("Crashed")
    }))
})
