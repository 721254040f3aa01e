/**
 * `@effect/ai-anthropic` and `@effect/ai-openai` 4.0.0-beta.106, the newest
 * builds for Effect 4, were compiled against effect's prerelease layout:
 * `ai`, `http`, `encoding` and `socket` under `effect/unstable/*`, and an
 * `effect/Encoding` module whose `encodeBase64` is `effect/encoding/Base64`'s
 * `encode` in 4.1. Nothing else they import moved, so this Node resolve hook
 * maps those specifiers and leaves every other one alone (none of them
 * resolves otherwise). One module is replaced rather than renamed:
 * `effect/unstable/ai/LanguageModel` resolves to ./deferredToolCalls.ts,
 * effect 4.1's LanguageModel with a `make` that gives the providers the
 * deferred tool-call validation 4.1 asks of them (see that file). Remove
 * both once the provider packages ship a build for effect 4.1 (checked on
 * the registry on 2026-12-02: the newest is still 4.0.0-beta.106).
 */
import { registerHooks } from "node:module"

const prefix = "effect/unstable/"
// Run from source the sibling is a .ts file, built it is a .js file.
const deferredToolCalls = new URL(
  `./deferredToolCalls${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`,
  import.meta.url
).href
let registered = false

/** Installs the hook once per process; the provider modules must be imported after it. */
export const registerEffectUnstableAlias = (): void => {
  if (registered) return
  registered = true
  registerHooks({
    resolve: (specifier, context, nextResolve) => {
      if (specifier === `${prefix}ai/LanguageModel`) return { url: deferredToolCalls, shortCircuit: true }
      if (specifier.startsWith(prefix)) return nextResolve(`effect/${specifier.slice(prefix.length)}`, context)
      if (specifier === "effect/Encoding") {
        const base64 = nextResolve("effect/encoding/Base64", context).url
        return {
          url: `data:text/javascript,export { encode as encodeBase64 } from ${JSON.stringify(base64)}`,
          shortCircuit: true
        }
      }
      return nextResolve(specifier, context)
    }
  })
}
