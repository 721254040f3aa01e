/**
 * `effect/ai/LanguageModel` as the prerelease provider packages see it
 * (they import it as `effect/unstable/ai/LanguageModel`; the resolve hook in
 * effectUnstable.ts sends that specifier here). Everything is effect 4.1's
 * module except `make`, which teaches the providers effect 4.1's deferred
 * tool-call validation: with `toolCallValidation: "deferred"` (the agent
 * loop always asks for it), 4.1 expects the provider to hand back every
 * call as the model sent it, unknown names and bad params included, but the
 * beta.106 providers look each call up and decode it themselves, and fail
 * the whole response with `ToolNotFoundError` / `ToolParameterValidationError`.
 *
 * The invariant: the provider still sends each tool's real JSON Schema (the
 * one its own codec transformer makes), and its decoding lets every call
 * through; the executor then judges each call (NotFound, InvalidParams) and
 * the model reads the result. Remove with the resolve hook once the
 * providers ship a 4.1 build that honours the option.
 */
import { type JsonSchema, Schema, SchemaAST } from "effect"
import { Tool } from "effect/ai"
import * as LanguageModel from "effect/ai/LanguageModel"

export * from "effect/ai/LanguageModel"

type Transformer = LanguageModel.CodecTransformer | undefined

/**
 * The schema a provider decodes a call with: any value where the
 * provider's transformer allows it (Anthropic), else, since OpenAI's
 * insists on an object with named properties, an object of the tool's own
 * keys with any values (what the model sent under other keys is dropped, as
 * the tool's own decoding would drop it).
 */
const lenient = (keys: ReadonlyArray<PropertyKey>, transformer: Transformer): Schema.Top => {
  if (transformer === undefined) return Schema.Unknown
  try {
    transformer(Schema.Unknown)
    return Schema.Unknown
  } catch {
    return Schema.Struct(Object.fromEntries(keys.map((key) => [key, Schema.optionalKey(Schema.Unknown)])))
  }
}

const keysOf = (schema: Schema.Top): ReadonlyArray<PropertyKey> => {
  const ast = SchemaAST.toEncoded(schema.ast)
  return ast._tag === "Objects" ? ast.propertySignatures.map((p) => p.name) : []
}

/**
 * A copy of `tool` that sends `jsonSchema` and decodes with `decoding`.
 * effect/ai has no constructor for "this JSON out, that Schema in", so the
 * decoding schema is swapped on a copy of a dynamic tool (tools are
 * immutable plain objects).
 */
const withDecoding = (tool: Tool.Any, jsonSchema: JsonSchema.JsonSchema, decoding: Schema.Top): Tool.Any => {
  const sent = Tool.dynamic(tool.name, {
    ...(tool.description !== undefined ? { description: tool.description } : {}),
    parameters: jsonSchema
  }).annotateMerge(tool.annotations)
  return Object.assign(Object.create(Object.getPrototypeOf(sent)), sent, { parametersSchema: decoding }) as Tool.Any
}

/**
 * The tool list a provider decodes against: found by name like the real
 * one, but a name the model invented finds a tool that decodes anything. A
 * subclass of Array because the providers iterate the list to build the
 * request and call `find` to decode a call.
 */
class DeferredTools extends Array<Tool.Any> {
  static override get [Symbol.species]() {
    return Array
  }
  unknownTool: Tool.Any | undefined
  override find(predicate: (tool: Tool.Any, index: number, all: Array<Tool.Any>) => unknown): Tool.Any | undefined {
    return super.find(predicate) ?? this.unknownTool
  }
}

const withDeferredTools = <O extends LanguageModel.ProviderOptions>(options: O, transformer: Transformer): O => {
  if (options.toolCallValidation !== "deferred") return options
  const tools = new DeferredTools()
  for (const tool of options.tools) {
    if (Tool.isProviderDefined(tool)) {
      tools.push(tool)
      continue
    }
    const jsonSchema = Tool.getJsonSchema(tool, transformer ? { transformer } : undefined)
    tools.push(withDecoding(tool, jsonSchema, lenient(keysOf(tool.parametersSchema), transformer)))
  }
  // (an object schema with no property is not one OpenAI's transformer takes)
  tools.unknownTool = withDecoding(Tool.dynamic("unknown"), { type: "object" }, lenient(["_"], transformer))
  return { ...options, tools }
}

/**
 * effect 4.1's `LanguageModel.make`, the provider's `generateText` and
 * `streamText` given tools that defer validation when the caller asked for it.
 */
export const make: typeof LanguageModel.make = (params) =>
  LanguageModel.make({
    ...params,
    generateText: (options) => params.generateText(withDeferredTools(options, params.codecTransformer)),
    streamText: (options) => params.streamText(withDeferredTools(options, params.codecTransformer))
  })
