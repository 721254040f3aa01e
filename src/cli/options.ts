/**
 * What the `toolgate` subcommands share: the `--mode` flag and the policy
 * environment built from the machine (home directory, real paths).
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Option } from "effect"
import { Flag } from "effect/cli"
import * as Environment from "./environment.ts"
import type * as PolicyRules from "../policy/PolicyRules.ts"

/**
 * `--policy`: one or more policy files, layered lowest precedence first;
 * `optional:FILE` marks a layer that may be absent (see `environment.ts`).
 *
 * @example
 * ```ts
 * import { Command } from "effect/cli"
 * import { policyFlag } from "../src/cli/options.ts"
 * const cmd = Command.make("x", { policy: policyFlag })
 * ```
 *
 * @since 0.3.0
 */
export const policyFlag = Flag.String("policy").pipe(
  Flag.atLeast(1),
  Flag.withDescription("policy file (JSON, Claude Code settings shape); repeat to layer, lowest precedence first; optional:FILE skips a file that does not exist")
)

/**
 * `--mode`: the permission mode, overriding the policy files' `defaultMode`.
 *
 * @example
 * ```ts
 * import { Command } from "effect/cli"
 * import { modeFlag } from "../src/cli/options.ts"
 * const cmd = Command.make("x", { mode: modeFlag })
 * ```
 *
 * @since 0.1.0
 */
export const modeFlag = Flag.Literals("mode", ["default", "plan", "acceptEdits", "bypass"]).pipe(
  Flag.optional,
  Flag.withDescription("permission mode, overriding the files' defaultMode")
)

/**
 * The policy environment for a workspace `root` with the `--mode` flag's
 * value (see `environment.ts`).
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { environment } from "../src/cli/options.ts"
 * const env = environment("/work", Option.none())
 * ```
 *
 * @since 0.1.0
 */
export const environment = (
  root: string,
  mode: Option.Option<PolicyRules.Mode>
): Effect.Effect<PolicyRules.Environment, never, FileSystem.FileSystem> => Environment.environment(root, Option.getOrUndefined(mode))
