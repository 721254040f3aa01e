/**
 * A `LanguageModel` that replays a script instead of calling a provider: the
 * demo's embedded model and the workhorse of the agent tests.
 *
 * A scenario is JSON: a list of turns, each some text and some tool calls.
 * Every `generateText` or `streamText` request takes the next turn, whatever
 * the prompt says, so a scenario tells one fixed story (nested sub-agents
 * consume turns too, in the order they ask). When the script runs out the
 * model answers with a final text instead of failing, so a run always ends.
 * A malformed scenario is a {@link ScenarioError} naming the file, the path
 * inside it and what is wrong. Scripted tool calls go through effect/ai's
 * usual checks, so ask with the toolkit, or with tool call resolution
 * disabled and `toolCallValidation: "deferred"` as `Agent` does.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Layer, Ref, Schema, SchemaIssue, Stream } from "effect"
import { LanguageModel, type Prompt, type Response } from "effect/ai"

// -----------------------------------------------------------------------------
// Models
// -----------------------------------------------------------------------------

/**
 * One tool call in a scripted turn. `id` defaults to `call_<turn>_<n>`
 * (unique across the whole script), `params` to `{}`. Params are sent as
 * written, not checked against any tool: a scenario may script a model that
 * calls a missing tool or sends bad params, to show the gate answering.
 *
 * @example
 * ```ts
 * import type { ScriptedModel } from "toolgate/testing"
 * const call: ScriptedModel.ScriptedCall = { name: "Read", params: { file_path: "README.md" } }
 * ```
 *
 * @since 0.1.0
 */
export const ScriptedCall = Schema.Struct({
  id: Schema.optional(Schema.String),
  name: Schema.String,
  params: Schema.optional(Schema.Unknown)
})

/**
 * @example
 * ```ts
 * import type { ScriptedModel } from "toolgate/testing"
 * const call: ScriptedModel.ScriptedCall = { name: "Bash", params: { command: "ls" } }
 * ```
 *
 * @since 0.1.0
 */
export type ScriptedCall = typeof ScriptedCall.Type

/**
 * An alternative for a turn, played instead of it when every call named in
 * `whenFailed` (by its `id`) failed.
 *
 * @example
 * ```ts
 * import type { ScriptedModel } from "toolgate/testing"
 * const v: ScriptedModel.Variant = { whenFailed: ["list"], text: "I could not list the directory." }
 * ```
 *
 * @since 0.3.0
 */
export const Variant = Schema.Struct({
  whenFailed: Schema.NonEmptyArray(Schema.String),
  text: Schema.optional(Schema.String),
  toolCalls: Schema.optional(Schema.Array(ScriptedCall))
})

/**
 * @since 0.3.0
 */
export type Variant = typeof Variant.Type

/**
 * One model turn: optional text, optional tool calls, optional token usage
 * to report. A turn with tool calls finishes with reason `tool-calls`, one
 * without with `stop`.
 *
 * `variants` keep a script truthful whatever the gate decided: the first
 * variant whose `whenFailed` calls (by `id`) all failed — denied, refused,
 * errored — replaces the turn's text and tool calls. A demo's model then
 * does not claim to have listed a directory the gate did not let it list.
 *
 * @example
 * ```ts
 * import type { ScriptedModel } from "toolgate/testing"
 * const turn: ScriptedModel.Turn = { text: "Let me look.", toolCalls: [{ name: "Read", params: { file_path: "a.txt" } }] }
 * ```
 *
 * @since 0.1.0
 */
export const Turn = Schema.Struct({
  text: Schema.optional(Schema.String),
  toolCalls: Schema.optional(Schema.Array(ScriptedCall)),
  variants: Schema.optional(Schema.Array(Variant)),
  usage: Schema.optional(Schema.Struct({
    inputTokens: Schema.optional(Schema.Int),
    outputTokens: Schema.optional(Schema.Int)
  }))
})

/**
 * @example
 * ```ts
 * import type { ScriptedModel } from "toolgate/testing"
 * const last: ScriptedModel.Turn = { text: "All done." }
 * ```
 *
 * @since 0.1.0
 */
export type Turn = typeof Turn.Type

/**
 * A whole scenario. `exhausted` is the text answered once every turn was
 * used (a default sentence says so otherwise).
 *
 * @example
 * ```ts
 * import type { ScriptedModel } from "toolgate/testing"
 * const scenario: ScriptedModel.Scenario = {
 *   name: "read then answer",
 *   turns: [
 *     { toolCalls: [{ name: "Read", params: { file_path: "README.md" } }] },
 *     { text: "The README says hello." }
 *   ]
 * }
 * ```
 *
 * @since 0.1.0
 */
export const Scenario = Schema.Struct({
  name: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  turns: Schema.Array(Turn),
  exhausted: Schema.optional(Schema.String)
})

/**
 * @example
 * ```ts
 * import type { ScriptedModel } from "toolgate/testing"
 * const empty: ScriptedModel.Scenario = { turns: [] }
 * ```
 *
 * @since 0.1.0
 */
export type Scenario = typeof Scenario.Type

/**
 * A scenario that could not be read or decoded: which file (when it came
 * from one), where in it (`path`, like `turns[2].toolCalls[0].name`; empty
 * for the whole document) and what is wrong.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ScriptedModel } from "toolgate/testing"
 * const bad = ScriptedModel.decode({ turns: [{ toolCalls: [{}] }] }).pipe(
 *   Effect.catchTag("ScenarioError", (e) => Effect.succeed(e.path)) // "turns[0].toolCalls[0].name"
 * )
 * ```
 *
 * @since 0.1.0
 */
export class ScenarioError extends Schema.TaggedError<ScenarioError>()("ScenarioError", {
  file: Schema.optional(Schema.String),
  path: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    const where = this.path === "" ? "" : ` at ${this.path}`
    return `Invalid scenario${this.file === undefined ? "" : ` ${this.file}`}${where}: ${this.problem}. ` +
      `A scenario is { "turns": [{ "text"?: string, "toolCalls"?: [{ "name": string, "params"?: object }] }] }.`
  }
}

/**
 * The path of the demo scenario shipped inside the package (the one
 * `toolgate run --demo` replays), so a consumer project can replay it
 * without copying it: the path resolves inside `node_modules/toolgate`.
 *
 * @example
 * ```ts
 * import { ScriptedModel } from "toolgate/testing"
 * const ModelLive = ScriptedModel.layerFile(ScriptedModel.demoScenario)
 * ```
 *
 * @since 0.1.0
 */
export const demoScenario: string = decodeURIComponent(new URL("../../scenarios/demo.json", import.meta.url).pathname)

/**
 * The text answered when the script has no turn left, unless the scenario
 * sets `exhausted`.
 *
 * @example
 * ```ts
 * import { ScriptedModel } from "toolgate/testing"
 * ScriptedModel.exhaustedText // "(the scripted model has no more turns)"
 * ```
 *
 * @since 0.1.0
 */
export const exhaustedText = "(the scripted model has no more turns)"

// -----------------------------------------------------------------------------
// Decoding
// -----------------------------------------------------------------------------

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

const formatPath = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>): string =>
  path.map((segment) => typeof segment === "object" ? segment.key : segment).reduce<string>(
    (acc, key) => typeof key === "number" ? `${acc}[${key}]` : acc === "" ? String(key) : `${acc}.${String(key)}`,
    ""
  )

const decodeScenario = Schema.decodeUnknownEffect(Scenario)

/**
 * Decodes a scenario value (parsed JSON, say). `file` only labels errors.
 *
 * @example
 * ```ts
 * import { ScriptedModel } from "toolgate/testing"
 * const scenario = ScriptedModel.decode({ turns: [{ text: "hi" }] })
 * ```
 *
 * @since 0.1.0
 */
export const decode = (input: unknown, file?: string): Effect.Effect<Scenario, ScenarioError> =>
  // Unknown keys are errors: a call written with "input" instead of
  // "params" must not replay as a call with no params.
  decodeScenario(input, { onExcessProperty: "error" }).pipe(
    Effect.mapError((error) => {
      const first = formatter(error.issue).issues[0]
      const path = first?.path ?? []
      const last = path.at(-1)
      const key = typeof last === "object" ? last.key : last
      const problem = first !== undefined && /excess/i.test(first.message) && key !== undefined
        ? `unknown key ${JSON.stringify(String(key))}${key === "input" ? " (a call's arguments go in \"params\")" : ""}`
        : first?.message ?? error.message
      return new ScenarioError({
        ...(file !== undefined ? { file } : {}),
        path: formatPath(path),
        problem
      })
    })
  )

/**
 * Parses and decodes a scenario from JSON text. `file` only labels errors.
 *
 * @example
 * ```ts
 * import { ScriptedModel } from "toolgate/testing"
 * const scenario = ScriptedModel.parse(`{ "turns": [{ "text": "hi" }] }`)
 * ```
 *
 * @since 0.1.0
 */
export const parse = (json: string, file?: string): Effect.Effect<Scenario, ScenarioError> =>
  Effect.try({
    try: () => JSON.parse(json) as unknown,
    catch: (error) =>
      new ScenarioError({
        ...(file !== undefined ? { file } : {}),
        path: "",
        problem: `not valid JSON (${error instanceof Error ? error.message : String(error)})`
      })
  }).pipe(Effect.flatMap((value) => decode(value, file)))

/**
 * Reads, parses and decodes a scenario file.
 *
 * @example
 * ```ts
 * import { NodeServices } from "@effect/platform-node"
 * import { Effect } from "effect"
 * import { ScriptedModel } from "toolgate/testing"
 * const scenario = ScriptedModel.load("scenarios/demo.json").pipe(Effect.provide(NodeServices.layer))
 * ```
 *
 * @since 0.1.0
 */
export const load = (file: string): Effect.Effect<Scenario, ScenarioError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(file).pipe(
      Effect.mapError((error) => new ScenarioError({ file, path: "", problem: `cannot be read (${error.message})` }))
    )
    return yield* parse(text, file)
  })

// -----------------------------------------------------------------------------
// The model
// -----------------------------------------------------------------------------

/**
 * A scripted model and what it saw: `requests` lists the options of every
 * request in order (the prompt, the tools offered), `remaining` how many
 * turns are left.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ScriptedModel } from "toolgate/testing"
 * const program = Effect.gen(function*() {
 *   const scripted = yield* ScriptedModel.make({ turns: [{ text: "hi" }] })
 *   const seen = yield* scripted.requests
 *   return seen.map((r) => r.prompt.content.length)
 * })
 * ```
 *
 * @since 0.1.0
 */
export interface Scripted {
  readonly model: LanguageModel.LanguageModel
  readonly requests: Effect.Effect<ReadonlyArray<LanguageModel.ProviderOptions>>
  readonly remaining: Effect.Effect<number>
}

/** The ids of the tool calls whose results in the prompt are failures. */
const failedCalls = (prompt: Prompt.Prompt): ReadonlySet<string> => {
  const failed = new Set<string>()
  for (const message of prompt.content) {
    if (message.role !== "tool") continue
    for (const part of message.content) {
      if (part.type === "tool-result" && part.isFailure) failed.add(part.id)
    }
  }
  return failed
}

/** The turn as played: its first variant whose calls all failed, or the turn itself. */
const playedTurn = (turn: Turn, prompt: Prompt.Prompt): Turn => {
  if (turn.variants === undefined || turn.variants.length === 0) return turn
  const failed = failedCalls(prompt)
  const variant = turn.variants.find((v) => v.whenFailed.every((id) => failed.has(id)))
  return variant === undefined ? turn : { ...turn, text: variant.text, toolCalls: variant.toolCalls }
}

const usageOf = (turn: Turn | undefined): typeof Response.Usage.Encoded => ({
  inputTokens: turn?.usage?.inputTokens !== undefined ? { total: turn.usage.inputTokens } : {},
  outputTokens: turn?.usage?.outputTokens !== undefined ? { total: turn.usage.outputTokens } : {}
})

const callsOf = (turn: Turn, index: number): Array<Response.ToolCallPartEncoded> =>
  (turn.toolCalls ?? []).map((call, n) => ({
    type: "tool-call",
    id: call.id ?? `call_${index + 1}_${n + 1}`,
    name: call.name,
    params: call.params ?? {},
    providerExecuted: false
  }))

const finishOf = (turn: Turn | undefined): Response.FinishPartEncoded => ({
  type: "finish",
  reason: turn !== undefined && (turn.toolCalls?.length ?? 0) > 0 ? "tool-calls" : "stop",
  usage: usageOf(turn)
})

/** Splits text into word-sized deltas, so a streaming UI has something to stream. */
const deltas = (text: string): Array<string> => text.match(/\S+\s*|\s+/g) ?? []

/**
 * Makes a scripted model from a decoded scenario.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LanguageModel } from "effect/ai"
 * import { ScriptedModel } from "toolgate/testing"
 * const program = Effect.gen(function*() {
 *   const scripted = yield* ScriptedModel.make({ turns: [{ text: "hello" }] })
 *   const response = yield* scripted.model.generateText({ prompt: "hi" })
 *   return response.text // "hello"
 * })
 * ```
 *
 * @since 0.1.0
 */
export const make = (scenario: Scenario): Effect.Effect<Scripted> =>
  Effect.gen(function*() {
    const cursor = yield* Ref.make(0)
    const seen = yield* Ref.make<ReadonlyArray<LanguageModel.ProviderOptions>>([])
    const exhausted: Turn = { text: scenario.exhausted ?? exhaustedText }
    // Taking a turn is one atomic step: concurrent requests (sibling
    // sub-agents) each get their own turn, never the same one twice.
    const next = (options: LanguageModel.ProviderOptions) =>
      Effect.andThen(
        Ref.update(seen, (all) => [...all, options]),
        Ref.modify(cursor, (i): [{ turn: Turn; index: number; scripted: boolean }, number] => {
          const turn = scenario.turns[i]
          return turn === undefined
            ? [{ turn: exhausted, index: i, scripted: false }, i]
            : [{ turn: playedTurn(turn, options.prompt), index: i, scripted: true }, i + 1]
        })
      )
    const model = yield* LanguageModel.make({
      generateText: (options) =>
        Effect.map(next(options), ({ index, scripted, turn }): Array<Response.PartEncoded> => [
          ...(turn.text !== undefined && turn.text !== "" ? [{ type: "text" as const, text: turn.text }] : []),
          ...callsOf(turn, index),
          finishOf(scripted ? turn : undefined)
        ]),
      streamText: (options) =>
        Stream.unwrap(Effect.map(next(options), ({ index, scripted, turn }) => {
          const id = `text_${index + 1}`
          const text: Array<Response.StreamPartEncoded> = turn.text !== undefined && turn.text !== ""
            ? [
              { type: "text-start", id },
              ...deltas(turn.text).map((delta): Response.StreamPartEncoded => ({ type: "text-delta", id, delta })),
              { type: "text-end", id }
            ]
            : []
          return Stream.fromIterable<Response.StreamPartEncoded>([
            ...text,
            ...callsOf(turn, index),
            finishOf(scripted ? turn : undefined)
          ])
        }))
    })
    return {
      model,
      requests: Ref.get(seen),
      remaining: Effect.map(Ref.get(cursor), (i) => Math.max(0, scenario.turns.length - i))
    }
  })

/**
 * A Layer providing a scripted `LanguageModel` from a scenario value (it is
 * decoded first, so a hand-written object gets the same errors as a file).
 *
 * @example
 * ```ts
 * import { ScriptedModel } from "toolgate/testing"
 * const ModelLive = ScriptedModel.layer({
 *   turns: [{ toolCalls: [{ name: "Read", params: { file_path: "a.txt" } }] }, { text: "done" }]
 * })
 * ```
 *
 * @since 0.1.0
 */
export const layer = (scenario: unknown): Layer.Layer<LanguageModel.LanguageModel, ScenarioError> =>
  Layer.effect(
    LanguageModel.LanguageModel,
    decode(scenario).pipe(Effect.flatMap(make), Effect.map((scripted) => scripted.model))
  )

/**
 * A Layer providing a scripted `LanguageModel` read from a JSON scenario
 * file.
 *
 * @example
 * ```ts
 * import { NodeServices } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import { ScriptedModel } from "toolgate/testing"
 * const ModelLive = ScriptedModel.layerFile("scenarios/demo.json").pipe(Layer.provide(NodeServices.layer))
 * ```
 *
 * @since 0.1.0
 */
export const layerFile = (
  file: string
): Layer.Layer<LanguageModel.LanguageModel, ScenarioError, FileSystem.FileSystem> =>
  Layer.effect(
    LanguageModel.LanguageModel,
    load(file).pipe(Effect.flatMap(make), Effect.map((scripted) => scripted.model))
  )
