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
import { Config, Duration, Effect, flow, Layer, Option, type Redacted, Schedule, Schema, Stream } from "effect"
import { AiError, LanguageModel } from "effect/ai"
import { HttpClient, HttpClientError } from "effect/http"
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
  /**
   * How long one model request may take, retries included, and how long a
   * streamed answer may go without an event (default 120 s).
   */
  readonly requestTimeout?: Duration.Input | undefined
  /** Retries of a rate-limited or overloaded request (429, 500, 502, 503, 504, 529); default 3. */
  readonly retries?: number | undefined
}

/**
 * The request timeout and retry count used when {@link Settings} names none.
 *
 * @example
 * ```ts
 * import { Providers } from "toolgate/node"
 * Providers.defaults.retries // 3
 * ```
 *
 * @since 0.1.0
 */
export const defaults = { requestTimeout: Duration.seconds(120), retries: 3 } as const

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
// Retries and timeouts
// -----------------------------------------------------------------------------

// Anthropic answers 529 when it is overloaded; effect's transient statuses
// (408, 429, 500, 502, 503, 504) do not include it.
const overloaded = (error: unknown) =>
  HttpClientError.isHttpClientError(error) && error.reason._tag === "StatusCodeError" &&
  error.reason.response.status === 529

/**
 * The provider's HTTP client, retrying transient failures with exponential
 * backoff and jitter; `retryTransient` waits at least what a `retry-after`
 * header asks. Non-2xx answers become errors first, because Anthropic's
 * client applies this transform before its own status filter and OpenAI's
 * after it.
 */
const retrying = (settings: Settings, transport: TransportFailures) =>
  flow(
    HttpClient.filterStatusOk,
    HttpClient.retryTransient({
      retryOn: "errors-only",
      schedule: Schedule.exponential("250 millis").pipe(Schedule.jittered),
      times: settings.retries ?? defaults.retries,
      while: overloaded
    }),
    HttpClient.transformResponse(Effect.tapError((error) =>
      Effect.sync(() => {
        if (HttpClientError.isHttpClientError(error) && error.reason._tag === "TransportError") {
          transport.last = error.reason.description ?? "the connection failed"
        }
      })
    ))
  )

/**
 * The beta.106 provider clients die (a Schema error) when they report a
 * transport failure, because effect 4.1's `NetworkError` gained fields they
 * do not fill. The client transform remembers the last transport failure so
 * {@link bounded} can turn that defect back into the `AiError` it should
 * have been. Remove with the shim.
 */
interface TransportFailures {
  last: string | undefined
}

const timedOut = (method: string, timeout: Duration.Duration, what: string, url: string) =>
  AiError.make({
    module: "toolgate/Providers",
    method,
    reason: new AiError.NetworkError({
      reason: "TransportError",
      method: "POST",
      url,
      description: `${what} within ${Duration.format(timeout)} (the request timeout)`
    })
  })

/**
 * Bounds a provider's `LanguageModel`: a request (its retries included) that
 * has not answered within the timeout fails, and so does a stream that goes
 * that long without an event. The timeout sits outside the retries so a
 * server that never answers costs one timeout, not one per retry.
 */
const bounded = (settings: Settings, transport: TransportFailures) =>
<E, R>(
  provider: Layer.Layer<LanguageModel.LanguageModel, E, R>
): Layer.Layer<LanguageModel.LanguageModel, E, R> => {
  const timeout = Duration.fromInputUnsafe(settings.requestTimeout ?? defaults.requestTimeout)
  const unreachable = (method: string) => (defect: unknown) =>
    transport.last === undefined ? Effect.die(defect) : Effect.fail(AiError.make({
      module: "toolgate/Providers",
      method,
      reason: new AiError.NetworkError({
        reason: "TransportError",
        method: "POST",
        url: settings.apiUrl ?? "",
        description: transport.last
      })
    }))
  // The service's methods are overloaded per toolkit; the wrappers only add a
  // timeout around whatever they return, hence the loose signatures.
  const wrap = (model: LanguageModel.LanguageModel): LanguageModel.LanguageModel => ({
    ...model,
    generateText: ((options: any) =>
      model.generateText(options).pipe(
        Effect.catchDefect(unreachable("generateText")),
        Effect.timeoutOrElse({
          duration: timeout,
          orElse: () => Effect.fail(timedOut("generateText", timeout, "the model did not answer", settings.apiUrl ?? ""))
        })
      )) as LanguageModel.LanguageModel["generateText"],
    streamText: ((options: any) =>
      model.streamText(options).pipe(
        Stream.catchDefect((defect) => Stream.fromEffect(unreachable("streamText")(defect))),
        Stream.timeoutOrElse({
          duration: timeout,
          orElse: () => Stream.fail(timedOut("streamText", timeout, "the model's stream sent nothing", settings.apiUrl ?? ""))
        })
      )) as LanguageModel.LanguageModel["streamText"]
  })
  return Layer.effect(LanguageModel.LanguageModel, Effect.map(LanguageModel.LanguageModel, wrap)).pipe(
    Layer.provide(provider)
  )
}

// -----------------------------------------------------------------------------
// Layers
// -----------------------------------------------------------------------------

// Both providers are wired alike: the language model over its client, the
// client's HTTP calls retried (and their transport failures remembered), the
// whole bounded by the request timeout.
const wire = <Client, E1, E2>(
  settings: Settings,
  model: Layer.Layer<LanguageModel.LanguageModel, E1, Client>,
  client: (options: { readonly transformClient: ReturnType<typeof retrying> }) => Layer.Layer<Client, E2, HttpClient.HttpClient>
) => {
  const transport: TransportFailures = { last: undefined }
  return model.pipe(
    Layer.provide(client({ transformClient: retrying(settings, transport) })),
    bounded(settings, transport)
  )
}

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
    wire(
      settings,
      AnthropicLanguageModel.layer({ model: settings.model ?? defaultModels.anthropic }),
      (client) => AnthropicClient.layer({ apiKey: settings.apiKey, apiUrl: settings.apiUrl, ...client })
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
    wire(
      settings,
      OpenAiLanguageModel.layer({ model: settings.model ?? defaultModels.openai }),
      (client) => OpenAiClient.layer({ apiKey: settings.apiKey, apiUrl: settings.apiUrl, ...client })
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
    return layerFor(selected)
  })
)

/**
 * The `LanguageModel` of a {@link Selection}, with `overrides` (a request
 * timeout, a retry count) on top of its settings.
 *
 * @example
 * ```ts
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { Providers } from "toolgate/node"
 * const ModelLive = Layer.unwrap(Effect.map(Effect.orDie(Providers.selection), (selected) =>
 *   Providers.layerFor(selected!, { requestTimeout: "30 seconds" })
 * )).pipe(Layer.provide(NodeHttpClient.layerUndici))
 * ```
 *
 * @since 0.1.0
 */
export const layerFor = (
  selected: Selection,
  overrides: Pick<Settings, "requestTimeout" | "retries"> = {}
): Layer.Layer<LanguageModel.LanguageModel, never, HttpClient.HttpClient> =>
  selected.provider === "anthropic"
    ? anthropic({ ...selected.settings, ...overrides })
    : openAi({ ...selected.settings, ...overrides })
