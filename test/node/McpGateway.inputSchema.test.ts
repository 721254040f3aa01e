/**
 * The gateway's argument check against an upstream tool's JSON Schema: what
 * it accepts passes through unchanged, what it cannot check is reported, and
 * a value generated from a Schema always passes the check compiled from that
 * Schema's own JSON Schema.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import { compile } from "../../src/node/internal/mcp/inputSchema.ts"

const check = (inputSchema: unknown, value: unknown) =>
  Schema.decodeUnknownExit(compile(inputSchema).parameters as Schema.Decoder<unknown>)(value)

const Params = Schema.Struct({
  path: Schema.String,
  count: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 10 })),
  mode: Schema.Literals(["read", "write"]),
  tags: Schema.optional(Schema.Array(Schema.String))
})
const jsonSchema = Schema.toJsonSchemaDocument(Params).schema

describe("McpGateway argument check", () => {
  it("passes valid arguments through unchanged, extra keys included when the schema allows them", () => {
    const value = { path: "a", count: 3, mode: "read", extra: { nested: true } }
    const exit = check(jsonSchema, value)
    expect(exit).toEqual(Exit.succeed(value))
  })

  it("rejects wrong types, bounds, enums and missing keys with the path in the message", () => {
    for (
      const [value, fragment] of [
        [{ path: 1, count: 3, mode: "read" }, "path"],
        [{ path: "a", count: 11, mode: "read" }, "count"],
        [{ path: "a", count: 3, mode: "delete" }, "mode"],
        [{ path: "a", mode: "read" }, "count"]
      ] as const
    ) {
      const exit = check(jsonSchema, value)
      expect(Exit.isFailure(exit)).toBe(true)
      expect(String(exit)).toContain(fragment)
    }
  })

  it("rejects extra keys when the schema closes the object, instead of stripping them", () => {
    const closed = { type: "object", properties: { a: { type: "string" } }, additionalProperties: false }
    expect(Exit.isFailure(check(closed, { a: "x", b: 1 }))).toBe(true)
    expect(check(closed, { a: "x" })).toEqual(Exit.succeed({ a: "x" }))
  })

  it("reads Draft-07 schemas", () => {
    const draft07 = {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      properties: { n: { type: "integer", exclusiveMinimum: 0 } },
      required: ["n"]
    }
    expect(Exit.isSuccess(check(draft07, { n: 1 }))).toBe(true)
    expect(Exit.isFailure(check(draft07, { n: 0 }))).toBe(true)
  })

  it("marks a schema it cannot import as unchecked and then requires only an object", () => {
    const conditional = { type: "object", if: { properties: { a: { const: 1 } } }, then: { required: ["b"] } }
    const compiled = compile(conditional)
    expect(compiled.unchecked).toContain("if")
    expect(Exit.isSuccess(check(conditional, { anything: 1 }))).toBe(true)
    expect(Exit.isFailure(check(conditional, "not an object"))).toBe(true)
    expect(compile(undefined).unchecked).toBeDefined()
  })

  it.effect.prop(
    "every value of a Schema passes the check compiled from that Schema's JSON Schema",
    [Params],
    ([value]) =>
      Effect.sync(() => {
        // as it arrives over MCP: JSON (an optional key left undefined is absent)
        const encoded = JSON.parse(JSON.stringify(Schema.encodeSync(Params)(value)))
        const exit = check(jsonSchema, encoded)
        expect(Exit.isFailure(exit) ? `${JSON.stringify(encoded)}: ${String(exit)}` : "ok").toBe("ok")
      })
  )
})
