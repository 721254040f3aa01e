/**
 * Real model providers for the agent loop: Anthropic's Messages API and
 * OpenAI's Responses API, through `@effect/ai-anthropic` and
 * `@effect/ai-openai`.
 *
 * Each constructor is a Layer providing effect/ai's `LanguageModel` and
 * needing only an `HttpClient` (`NodeHttpClient.layerUndici` on Node), so
 * the agent loop, the gate and the tests never know which model answers.
 * {@link fromEnv} picks one from the environment: `ANTHROPIC_API_KEY` or
 * `OPENAI_API_KEY`, with a base URL and a model name for each, and fails
 * with {@link NoProviderConfigured} when neither key is set, so a program
 * can fall back to the scripted model with `Layer.catch`.
 *
 * @since 0.1.0
 */
import { Config, Effect, Layer, Option, type Redacted, Schema } from "effect"
import type { LanguageModel } from "effect/ai"
import type { HttpClient } from "effect/http"
import { registerEffectUnstableAlias } from "./internal/effectUnstable.ts"

// The provider packages are loaded on first use, after the resolve hook that
// lets their prerelease imports find effect 4.1's modules is in place (see
// internal/effectUnstable.ts); a static import would run before it, and
// would make importing toolgate fail on any program that never uses them.
const loadAnthropic = Effect.promise(() => {
  registerEffectUnstableAlias()
  return import("@effect/ai-anthropic")
})

const loadOpenAi = Effect.promise(() => {
  registerEffectUnstableAlias()
  return import("@effect/ai-openai")
})

// -----------------------------------------------------------------------------
// Models
// -----------------------------------------------------------------------------

/**
 * Settings of one provider: the model name, the API key (absent for a proxy
 * that adds its own), and the base URL (absent for the provider's own).
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import type { Providers } from "toolgate/node"
 * const settings: Providers.Settings = { model: "claude-sonnet-4-5", apiKey: Redacted.make("sk-...") }
 * ```
 *
 * @since 0.1.0
 */
export interface Settings {
  readonly model?: string | undefined
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly apiUrl?: string | undefined
}

/**
 * The model each provider uses when none is named.
 *
 * @example
 * ```ts
 * import { Providers } from "toolgate/node"
 * Providers.defaultModels.anthropic // "claude-sonnet-4-5"
 * ```
 *
 * @since 0.1.0
 */
export const defaultModels = {
  anthropic: "claude-sonnet-4-5",
  openai: "gpt-4.1"
} as const

/**
 * Neither `ANTHROPIC_API_KEY` nor `OPENAI_API_KEY` is set (or
 * `TOOLGATE_PROVIDER` names a provider whose key is missing).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { Providers } from "toolgate/node"
import { ScriptedModel } from "toolgate/testing"
 * declare const scripted: ReturnType<typeof ScriptedModel.layer>
 * const model = Providers.fromEnv.pipe(Layer.catchTag("NoProviderConfigured", () => scripted))
 * ```
 *
 * @since 0.1.0
 */
export class NoProviderConfigured extends Schema.TaggedError<NoProviderConfigured>()("NoProviderConfigured", {
  wanted: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return this.wanted === undefined
      ? "No model provider is configured: set ANTHROPIC_API_KEY or OPENAI_API_KEY."
      : `TOOLGATE_PROVIDER is ${this.wanted}, but ${this.wanted === "openai" ? "OPENAI" : "ANTHROPIC"}_API_KEY (or ${
        this.wanted === "openai" ? "OPENAI" : "ANTHROPIC"
      }_BASE_URL) is not set.`
  }
}

// -----------------------------------------------------------------------------
// Layers
// -----------------------------------------------------------------------------

/**
 * Anthropic's Messages API as the `LanguageModel`.
 *
 * @example
 * ```ts
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Layer, Redacted } from "effect"
 * import { Providers } from "toolgate/node"
 * const ModelLive = Providers.anthropic({ apiKey: Redacted.make(process.env.ANTHROPIC_API_KEY ?? "") }).pipe(
 *   Layer.provide(NodeHttpClient.layerUndici)
 * )
 * ```
 *
 * @since 0.1.0
 */
export const anthropic = (
  settings: Settings = {}
): Layer.Layer<LanguageModel.LanguageModel, never, HttpClient.HttpClient> =>
  Layer.unwrap(Effect.map(loadAnthropic, ({ AnthropicClient, AnthropicLanguageModel }) =>
    AnthropicLanguageModel.layer({ model: settings.model ?? defaultModels.anthropic }).pipe(
      Layer.provide(AnthropicClient.layer({ apiKey: settings.apiKey, apiUrl: settings.apiUrl }))
    )))

/**
 * OpenAI's Responses API as the `LanguageModel`.
 *
 * @example
 * ```ts
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import { Providers } from "toolgate/node"
 * const ModelLive = Providers.openAi({ model: "gpt-4.1", apiUrl: "http://127.0.0.1:8080/v1" }).pipe(
 *   Layer.provide(NodeHttpClient.layerUndici)
 * )
 * ```
 *
 * @since 0.1.0
 */
export const openAi = (
  settings: Settings = {}
): Layer.Layer<LanguageModel.LanguageModel, never, HttpClient.HttpClient> =>
  Layer.unwrap(Effect.map(loadOpenAi, ({ OpenAiClient, OpenAiLanguageModel }) =>
    OpenAiLanguageModel.layer({ model: settings.model ?? defaultModels.openai }).pipe(
      Layer.provide(OpenAiClient.layer({ apiKey: settings.apiKey, apiUrl: settings.apiUrl }))
    )))

/**
 * Which provider the environment selects, with its settings.
 *
 * @example
 * ```ts
 * import { Providers } from "toolgate/node"
 * const describe = (s: Providers.Selection) => `${s.provider} ${s.settings.model}`
 * ```
 *
 * @since 0.1.0
 */
export interface Selection {
  readonly provider: "anthropic" | "openai"
  readonly settings: Settings & { readonly model: string }
}

const optional = <A>(config: Config.Config<A>) => Config.option(config).pipe(Config.map(Option.getOrUndefined))

const providerSettings = (prefix: "ANTHROPIC" | "OPENAI", model: string) =>
  Config.all({
    apiKey: optional(Config.Redacted(`${prefix}_API_KEY`)),
    apiUrl: optional(Config.String(`${prefix}_BASE_URL`)),
    model: Config.String(`${prefix}_MODEL`).pipe(Config.withDefault(model))
  })

/**
 * Reads the provider selection from configuration (the environment by
 * default): `TOOLGATE_PROVIDER` (`anthropic` or `openai`) if set, else
 * Anthropic when `ANTHROPIC_API_KEY` is set, else OpenAI when
 * `OPENAI_API_KEY` is; `ANTHROPIC_BASE_URL` / `OPENAI_BASE_URL` and
 * `ANTHROPIC_MODEL` / `OPENAI_MODEL` adjust it. `undefined` when nothing is
 * configured.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Providers } from "toolgate/node"
 * const which = Effect.map(Providers.selection, (s) => s?.provider ?? "scripted")
 * ```
 *
 * @since 0.1.0
 */
export const selection: Effect.Effect<Selection | undefined, Config.ConfigError | NoProviderConfigured> = Effect.gen(
  function*() {
    const wanted = yield* optional(Config.Literals(["anthropic", "openai"], "TOOLGATE_PROVIDER"))
    const anthropicSettings = yield* providerSettings("ANTHROPIC", defaultModels.anthropic)
    const openAiSettings = yield* providerSettings("OPENAI", defaultModels.openai)
    const anthropicSelected: Selection = { provider: "anthropic", settings: anthropicSettings }
    const openAiSelected: Selection = { provider: "openai", settings: openAiSettings }
    if (wanted === "anthropic") {
      if (anthropicSettings.apiKey === undefined && anthropicSettings.apiUrl === undefined) {
        return yield* new NoProviderConfigured({ wanted })
      }
      return anthropicSelected
    }
    if (wanted === "openai") {
      if (openAiSettings.apiKey === undefined && openAiSettings.apiUrl === undefined) {
        return yield* new NoProviderConfigured({ wanted })
      }
      return openAiSelected
    }
    if (anthropicSettings.apiKey !== undefined) return anthropicSelected
    if (openAiSettings.apiKey !== undefined) return openAiSelected
    return undefined
  }
)

/**
 * The provider the environment selects (see {@link selection}) as the
 * `LanguageModel`; fails with {@link NoProviderConfigured} when none is.
 *
 * @example
 * ```ts
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import { Providers } from "toolgate/node"
 * const ModelLive = Providers.fromEnv.pipe(Layer.provide(NodeHttpClient.layerUndici))
 * ```
 *
 * @since 0.1.0
 */
export const fromEnv: Layer.Layer<
  LanguageModel.LanguageModel,
  Config.ConfigError | NoProviderConfigured,
  HttpClient.HttpClient
> = Layer.unwrap(
  Effect.gen(function*() {
    const selected = yield* selection
    if (selected === undefined) return yield* new NoProviderConfigured({})
    return selected.provider === "anthropic" ? anthropic(selected.settings) : openAi(selected.settings)
  })
)
