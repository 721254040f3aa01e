/**
 * The policy environment built from the machine, and the policy file list
 * with its optional layers. Kept apart from `options.ts` (which holds
 * `effect/cli` flags) so the command hook, which must start fast, loads
 * neither `effect/cli` nor the `effect` barrel.
 *
 * @since 0.3.0
 */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Os from "node:os"
import type * as PolicyRules from "../policy/PolicyRules.ts"

/**
 * The policy environment for a workspace `root`: the user's home for `~`,
 * the mode, and symlinks resolved through the `FileSystem`.
 *
 * @example
 * ```ts
 * import { environment } from "../src/cli/environment.ts"
 * const env = environment("/work", undefined)
 * ```
 *
 * @since 0.1.0
 */
export const environment = (
  root: string,
  mode: PolicyRules.Mode | undefined
): Effect.Effect<PolicyRules.Environment, never, FileSystem.FileSystem> =>
  FileSystem.FileSystem.useSync((fs) => ({
    root,
    home: Os.homedir(),
    mode,
    realPath: (p: string) => fs.realPath(p),
    readLink: (p: string) => fs.readLink(p)
  }))

/**
 * The prefix that marks a policy layer as optional: `--policy
 * optional:.toolgate.json` skips the file when it does not exist. A file
 * that exists but cannot be read or parsed is an error all the same.
 *
 * @since 0.3.0
 */
export const optionalPrefix = "optional:"

/**
 * The policy files to load, in order: each `optional:` entry whose file does
 * not exist is left out; every other entry stays (a missing required file
 * then fails the load, loudly). Only "does not exist" skips a layer: a file
 * that is there but unreadable is still loaded and so still an error.
 *
 * @example
 * ```ts
 * import { policyFiles } from "../src/cli/environment.ts"
 * const files = policyFiles(["~/.toolgate.json", "optional:.toolgate.json"])
 * ```
 *
 * @since 0.3.0
 */
export const policyFiles = (
  entries: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<string>, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const files: Array<string> = []
    for (const entry of entries) {
      if (!entry.startsWith(optionalPrefix)) {
        files.push(entry)
        continue
      }
      const file = entry.slice(optionalPrefix.length)
      const absent = yield* fs.stat(file).pipe(
        Effect.map(() => false),
        Effect.catch((e) => Effect.succeed(e._tag === "PlatformError" && e.reason._tag === "NotFound"))
      )
      if (!absent) files.push(file)
    }
    return files
  })
