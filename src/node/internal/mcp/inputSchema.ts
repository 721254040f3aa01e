/**
 * Checks a call's arguments against an upstream tool's JSON Schema before the
 * upstream sees them.
 *
 * The JSON Schema is imported with effect's own importer
 * (`SchemaRepresentation.fromJsonSchemaDocument`), which covers the Draft
 * 2020-12 and Draft-07 subset MCP servers emit (types, required, enums,
 * bounds, lengths, patterns, local `$defs` references, anyOf/oneOf/allOf).
 * What it cannot import (`if`/`then`/`else`, `contains`, `$dynamicRef`,
 * object-valued `enum`s, remote references...) is not guessed at: the tool
 * is marked unchecked, its arguments are only required to be an object, and
 * the gateway asks about every call to it even when a rule would allow it.
 *
 * The check never changes the arguments: the upstream receives exactly what
 * the client sent (no stripped keys, no defaults filled in).
 */
import { Exit, JsonSchema, Schema, SchemaRepresentation } from "effect"

/** A tool's argument check: a Schema that passes valid input through unchanged, and why it is partial, if it is. */
export interface InputCheck {
  readonly parameters: Schema.Top
  /** Set when the tool's JSON Schema could not be imported: only "an object" is checked. */
  readonly unchecked: string | undefined
}

const isObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const passThrough = (check: (input: unknown) => string | undefined): Schema.Top =>
  Schema.Unknown.check(Schema.makeFilter((input: unknown) => check(input) ?? true))

const objectOnly = (input: unknown) => isObject(input) ? undefined : "the arguments must be a JSON object"

/** Compiles the `inputSchema` of an upstream tool. */
export const compile = (inputSchema: unknown): InputCheck => {
  if (!isObject(inputSchema)) {
    return { parameters: passThrough(objectOnly), unchecked: "the tool declares no input schema" }
  }
  try {
    const dialect = typeof inputSchema["$schema"] === "string" && inputSchema["$schema"].includes("draft-07")
      ? JsonSchema.fromSchemaDraft07
      : JsonSchema.fromSchemaDraft2020_12
    // Patterns are applied: the upstream is one the user configured, and its
    // patterns are part of the contract its tools state.
    const imported = SchemaRepresentation.fromJsonSchemaDocument(dialect(inputSchema as JsonSchema.JsonSchema), {
      patterns: "apply"
    })
    const decode = Schema.decodeUnknownExit(imported as Schema.Decoder<unknown>)
    return {
      parameters: passThrough((input) => {
        const problem = objectOnly(input)
        if (problem !== undefined) return problem
        // Closed objects (additionalProperties: false) must reject extra
        // keys, not strip them: the upstream gets the input unchanged.
        const exit = decode(input, { onExcessProperty: "error", errors: "all" })
        return Exit.isSuccess(exit) ? undefined : describeFailure(exit)
      }),
      unchecked: undefined
    }
  } catch (error) {
    return {
      parameters: passThrough(objectOnly),
      unchecked: `its input schema could not be checked (${error instanceof Error ? error.message : String(error)})`
    }
  }
}

const describeFailure = (exit: Exit.Exit<unknown, Schema.SchemaError>): string => {
  if (Exit.isSuccess(exit)) return ""
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  return error !== undefined && error._tag === "Fail" ? String((error.error as Schema.SchemaError).message) : "invalid arguments"
}
