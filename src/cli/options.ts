/**
 * What the `toolgate` subcommands share: the `--mode` flag and the policy
 * environment built from the machine (home directory, real paths).
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Option } from "effect"
import { Flag } from "effect/cli"
import * as Os from "node:os"
import type * as PolicyRules from "../policy/PolicyRules.ts"

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
 * The policy environment for a workspace `root`: the user's home for `~`,
 * the mode, and symlinks resolved through the `FileSystem`.
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
): Effect.Effect<PolicyRules.Environment, never, FileSystem.FileSystem> =>
  FileSystem.FileSystem.useSync((fs) => ({
    root,
    home: Os.homedir(),
    mode: Option.getOrUndefined(mode),
    realPath: (p: string) => fs.realPath(p)
  }))
