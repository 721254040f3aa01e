/**
 * Sends the gate's spans to an OpenTelemetry collector over OTLP/HTTP (JSON),
 * through effect's own exporter: no OpenTelemetry SDK in the dependency tree.
 *
 * Only traces are exported (one light span per call, with its stages and
 * the decision, who made it and the rule as attributes); logs and metrics
 * stay where they were. Spans are batched and flushed when the layer closes,
 * so a run that ends normally loses none. The collector is found from an
 * explicit URL or, failing that, the standard `OTEL_EXPORTER_OTLP_ENDPOINT`;
 * with neither, tracing costs nothing.
 *
 * @since 0.1.0
 */
import { Config, type Duration, Effect, Layer, Option } from "effect"
import { FetchHttpClient } from "effect/http"
import { type OtlpExporter, OtlpSerialization, OtlpTracer } from "effect/observability"

/**
 * Options for {@link layer}. `endpoint` is the collector's base URL (as in
 * `OTEL_EXPORTER_OTLP_ENDPOINT`, e.g. `http://127.0.0.1:4318`); spans go to
 * `/v1/traces` under it unless the URL already ends there.
 *
 * @example
 * ```ts
 * import type { Tracing } from "toolgate/node"
 * const options: Tracing.Options = { endpoint: "http://127.0.0.1:4318", serviceName: "my-agent" }
 * ```
 *
 * @since 0.1.0
 */
export interface Options {
  readonly endpoint: string
  readonly serviceName?: string | undefined
  readonly exportInterval?: Duration.Input | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * The traces URL for a collector base URL.
 *
 * @example
 * ```ts
 * import { Tracing } from "toolgate/node"
 * Tracing.tracesUrl("http://127.0.0.1:4318") // => "http://127.0.0.1:4318/v1/traces"
 * Tracing.tracesUrl("http://127.0.0.1:4318/v1/traces") // => "http://127.0.0.1:4318/v1/traces"
 * ```
 *
 * @since 0.1.0
 */
export const tracesUrl = (endpoint: string): string =>
  /\/v1\/traces\/?$/.test(endpoint) ? endpoint : `${endpoint.replace(/\/+$/, "")}/v1/traces`

/**
 * Exports every span of the program to the collector at `endpoint`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Tracing } from "toolgate/node"
 * declare const program: Effect.Effect<void>
 * const traced = program.pipe(Effect.provide(Tracing.layer({ endpoint: "http://127.0.0.1:4318" })))
 * ```
 *
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<OtlpExporter.Flusher> =>
  OtlpTracer.layer({
    url: tracesUrl(options.endpoint),
    resource: { serviceName: options.serviceName ?? "toolgate", serviceVersion: "0.1.0" },
    ...(options.exportInterval !== undefined ? { exportInterval: options.exportInterval } : {}),
    ...(options.headers !== undefined ? { headers: options.headers } : {})
  }).pipe(Layer.provide([OtlpSerialization.layerJson, FetchHttpClient.layer]))

/**
 * Tracing to `endpoint` when given, else to `OTEL_EXPORTER_OTLP_ENDPOINT`
 * when set, else nothing. What the CLI's `--otlp` flag uses.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { Tracing } from "toolgate/node"
 * const TracingLive = Tracing.layerFromEnv(Option.none())
 * ```
 *
 * @since 0.1.0
 */
export const layerFromEnv = (
  endpoint: Option.Option<string>,
  options: Omit<Options, "endpoint"> = {}
): Layer.Layer<never, Config.ConfigError> =>
  Layer.unwrap(Effect.gen(function*() {
    const fromEnv = yield* Config.option(Config.String("OTEL_EXPORTER_OTLP_ENDPOINT"))
    const chosen = Option.orElse(endpoint, () => fromEnv)
    return Option.match(chosen, {
      onNone: (): Layer.Layer<never> => Layer.empty,
      onSome: (url): Layer.Layer<never> => layer({ ...options, endpoint: url })
    })
  }))
