/**
 * A stand-in for the toolgate process in tests that must control what the
 * process itself inherited (planted descriptors) or who it runs as (an
 * unprivileged user): runs each Bash command of `argv[3]` (a JSON array)
 * through the built-in tools, under a policy that allows every call, in the
 * workspace `argv[2]`, and prints one JSON line: the confinement and each
 * call's result.
 */
import { NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import * as Concurrency from "../../../src/Concurrency.ts"
import * as Executor from "../../../src/Executor.ts"
import * as ToolPolicy from "../../../src/ToolPolicy.ts"
import * as BuiltinTools from "../../../src/node/BuiltinTools.ts"

const root = process.argv[2]!
const commands = JSON.parse(process.argv[3]!) as ReadonlyArray<string>
const bash = JSON.parse(process.argv[4] ?? "{}") as NonNullable<BuiltinTools.Options["bash"]>

const program = Effect.gen(function*() {
  const confinement = yield* BuiltinTools.Confinement
  const results = []
  for (const [i, command] of commands.entries()) {
    const [result] = yield* Executor.executeBatch(BuiltinTools.toolkit, [{ id: `b${i}`, name: "Bash", params: { command } }])
    results.push(result!.result)
  }
  return { confinement, results }
})

program.pipe(
  Effect.provide(BuiltinTools.layer({ root, bash })),
  Effect.provide(ToolPolicy.layer(ToolPolicy.allowAll)),
  Effect.provide(Concurrency.layer()),
  Effect.provide(NodeServices.layer),
  Effect.runPromise
).then((out) => process.stdout.write(JSON.stringify(out) + "\n"), (error) => {
  process.stderr.write(String(error) + "\n")
  process.exit(1)
})
