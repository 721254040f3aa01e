/**
 * Runs the `toolgate` command (`command.ts`) on the process's arguments with
 * the Node services. Started by `src/bin/toolgate.ts` once it has checked
 * the Node version.
 *
 * @since 0.1.0
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect, Stdio } from "effect"
import { cli } from "./command.ts"

Stdio.Stdio.use((stdio) => Effect.flatMap(stdio.args, cli)).pipe(
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain
)
