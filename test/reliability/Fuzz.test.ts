/**
 * Fuzzed params to every built-in tool's schema: random JSON (deep nesting,
 * huge strings, wrong types, prototype-pollution keys) always ends in an
 * `InvalidParams` result or a normal path through the gate, never a defect
 * of the run. The approver denies every call, so params are decoded (before
 * a human would be asked) but no built-in tool ever runs.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Approval, Executor } from "toolgate"
import { BuiltinTools } from "toolgate/node"
import { runs, timeoutFor } from "./runs.ts"

const names = Object.keys(BuiltinTools.toolkit.tools)
const never = () => Effect.die(new Error("a built-in tool ran during the fuzz"))
const stubs = BuiltinTools.toolkit.toLayer(Object.fromEntries(names.map((n) => [n, never])) as never)

const Scalar = Schema.Union([Schema.String, Schema.Number, Schema.Boolean, Schema.Null])
const Key = Schema.Union([
  Schema.Literals(["__proto__", "constructor", "prototype", "file_path", "path", "pattern", "command", "content", "old_string", "new_string", "offset", "limit", "timeout"]),
  Schema.String
])
const Field = Schema.Struct({ key: Key, value: Scalar, nested: Schema.Boolean, asArray: Schema.Boolean })
const Input = {
  tool: Schema.Literals(names as [string, ...Array<string>]),
  fields: Schema.Array(Field).check(Schema.isMaxLength(8)),
  shape: Schema.Literals(["object", "array", "scalar", "deep", "huge"]),
  depth: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 2_000 }))
}

const build = ({ fields, shape, depth }: { fields: ReadonlyArray<typeof Field.Type>; shape: string; depth: number }): unknown => {
  const object: Record<string, unknown> = {}
  for (const f of fields) {
    const value = f.nested ? { [f.key]: f.value } : f.asArray ? [f.value, f.value] : f.value
    // defineProperty: a "__proto__" key becomes an own property, as JSON.parse makes it
    Object.defineProperty(object, f.key, { value, enumerable: true, configurable: true, writable: true })
  }
  switch (shape) {
    case "array":
      return Object.values(object)
    case "scalar":
      return fields[0]?.value ?? null
    case "deep": {
      let deep: unknown = object
      for (let i = 0; i < depth; i++) deep = { file_path: deep, command: [deep] }
      return deep
    }
    case "huge":
      return { ...object, file_path: "x".repeat(1_000_000), command: "y".repeat(1_000_000), pattern: "*".repeat(100_000) }
    default:
      return JSON.parse(JSON.stringify(object))
  }
}

describe("reliability: fuzzed params", () => {
  it.effect.prop(
    "every built-in schema answers random JSON with InvalidParams or a normal denial, never a defect, and nothing runs",
    Input,
    (input) =>
      Effect.gen(function*() {
        const params = build(input)
        const exit = yield* Effect.exit(
          Executor.executeBatch(BuiltinTools.toolkit, [{ id: "1", name: input.tool, params }, { id: "2", name: input.tool, params: null }]).pipe(
            Effect.provide(stubs),
            Effect.provide(Approval.layer(Approval.denyAll("fuzzing")))
          )
        )
        expect(exit._tag).toBe("Success")
        if (exit._tag !== "Success") return
        expect(exit.value).toHaveLength(2)
        for (const r of exit.value) {
          expect(["InvalidParams", "ApprovalDenied"]).toContain(r.outcome._tag)
          expect(r.isFailure).toBe(true)
          expect(typeof JSON.stringify(r.result)).toBe("string")
        }
        expect(exit.value[1]!.outcome._tag).toBe("InvalidParams")
        // nothing was polluted
        expect(({} as Record<string, unknown>).polluted).toBeUndefined()
        expect(Object.getPrototypeOf({})).toBe(Object.prototype)
      }),
    { timeout: timeoutFor(300, 30), arbitrary: { runs: runs(300) } }
  )
})
