import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { HttpServerResponse } from "effect/http"
import * as Agent from "../../../src/Agent.ts"
import * as Providers from "../../../src/node/Providers.ts"
import { handlers, makeTracker, toolkit } from "../../fixtures.ts"
import { fakeProvider } from "./server.ts"

const withEnv = (env: Record<string, string>) => Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env }))

describe("Providers.selection", () => {
  it.effect("prefers Anthropic when its key is set, else OpenAI; TOOLGATE_PROVIDER decides when set", () =>
    Effect.gen(function*() {
      const both = { ANTHROPIC_API_KEY: "a-key", OPENAI_API_KEY: "o-key" }
      const anthropic = yield* withEnv(both)(Providers.selection)
      expect(anthropic?.provider).toBe("anthropic")
      expect(anthropic?.settings.model).toBe(Providers.defaultModels.anthropic)
      expect(Redacted.value(anthropic!.settings.apiKey!)).toBe("a-key")

      const openai = yield* withEnv({ OPENAI_API_KEY: "o-key", OPENAI_MODEL: "gpt-x", OPENAI_BASE_URL: "http://127.0.0.1:1/v1" })(
        Providers.selection
      )
      expect(openai).toMatchObject({ provider: "openai", settings: { model: "gpt-x", apiUrl: "http://127.0.0.1:1/v1" } })

      expect((yield* withEnv({ ...both, TOOLGATE_PROVIDER: "openai" })(Providers.selection))?.provider).toBe("openai")
      expect(yield* withEnv({})(Providers.selection)).toBeUndefined()
      const missing = yield* Effect.flip(withEnv({ TOOLGATE_PROVIDER: "anthropic" })(Providers.selection))
      expect(missing.message).toContain("TOOLGATE_PROVIDER is anthropic")
    }))

  it.effect("the key is redacted when printed", () =>
    Effect.gen(function*() {
      const selected = yield* withEnv({ ANTHROPIC_API_KEY: "sk-secret" })(Providers.selection)
      expect(String(selected?.settings.apiKey)).not.toContain("sk-secret")
    }))
})

describe("Providers.fromEnv", () => {
  it.effect("fails with NoProviderConfigured when no key is set, so a program can fall back", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(Providers.fromEnv.pipe(Layer.provide(NodeHttpClient.layerUndici))).pipe(Effect.scoped, withEnv({}))
      )
      expect(error._tag).toBe("NoProviderConfigured")
      expect(error.message).toContain("ANTHROPIC_API_KEY")
    }))

  it.live("builds the selected provider, pointed at its base URL", () =>
    Effect.gen(function*() {
      const server = yield* fakeProvider(() =>
        HttpServerResponse.jsonUnsafe({
          id: "msg_1",
          type: "message",
          role: "assistant",
          model: "claude-sonnet-4-5",
          content: [{ type: "text", text: "hello from the fake Messages API", citations: null }],
          stop_reason: "end_turn",
          stop_sequence: null,
          usage: {
            input_tokens: 1,
            output_tokens: 1,
            cache_creation_input_tokens: null,
            cache_read_input_tokens: null,
            cache_creation: null,
            inference_geo: null,
            service_tier: "standard"
          }
        })
      )
      const result = yield* Agent.run({ prompt: "hi", toolkit }).pipe(
        Effect.provide(handlers(makeTracker())),
        Effect.provide(Providers.fromEnv.pipe(Layer.provide(NodeHttpClient.layerUndici))),
        withEnv({ ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: server.url, ANTHROPIC_MODEL: "claude-test" })
      )
      expect(result.text).toBe("hello from the fake Messages API")
      expect(server.received[0]!.body.model).toBe("claude-test")
    }).pipe(Effect.scoped))
})
