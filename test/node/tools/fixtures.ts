/**
 * A workspace for the file-tool tests: a root, a directory beside it that
 * must never be touched, and calls through the executor as an agent makes them.
 */
import { Effect, FileSystem, Path } from "effect"
import * as NodeFs from "node:fs"
import { Concurrency, Executor, ToolPolicy } from "toolgate"
import * as BuiltinTools from "../../../src/node/BuiltinTools.ts"

export const workspace = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const base = NodeFs.realpathSync(yield* fs.makeTempDirectoryScoped({ prefix: "toolgate-files-" }))
  const root = path.join(base, "root")
  const outside = path.join(base, "outside")
  NodeFs.mkdirSync(root)
  NodeFs.mkdirSync(outside)
  const write = (rel: string, content: string | Uint8Array) => {
    NodeFs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
    NodeFs.writeFileSync(path.join(root, rel), content)
  }
  return { base, root, outside, write }
})

export type Call = { readonly name: string; readonly params: unknown }

/** Runs calls as one batch under a policy that allows everything. */
export const run = (calls: ReadonlyArray<Call>) =>
  Executor.executeBatch(BuiltinTools.toolkit, calls.map((c, i) => ({ id: `c${i}`, ...c }))).pipe(
    Effect.provide(ToolPolicy.layer(ToolPolicy.allowAll)),
    Effect.provide(Concurrency.layer())
  )

export const tools = (root: string, options: Omit<BuiltinTools.Options, "root"> = {}) =>
  BuiltinTools.layer({ root, ...options, bash: { sandbox: "none", ...options.bash } })

export const tag = (result: { readonly result: unknown }) => (result.result as { readonly _tag?: string })._tag
