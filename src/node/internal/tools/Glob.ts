/**
 * `Glob`: the files matching a pattern under a directory of the workspace,
 * from the confined walk in `walk.ts` (no `node_modules`, `.git` or
 * git-ignored files; dot files only when the pattern names them).
 */
import { Effect, Schema } from "effect"
import { Tool } from "effect/ai"
import picomatch from "picomatch"
import * as PolicySubject from "../../../policy/PolicySubject.ts"
import type { Workspace } from "../workspace.ts"
import { FileNotFound, InvalidPattern, IoFailure, NotReadable, OutsideWorkspace, readRefusal } from "./errors.ts"
import * as Listed from "./listed.ts"
import * as Walk from "./walk.ts"

export const Glob = PolicySubject.path("path")(Tool.make("Glob", {
  description: "Find files by glob pattern (e.g. \"**/*.ts\", \"src/*.{js,json}\") under a directory of the workspace. " +
    "Returns workspace-relative file paths in name order. node_modules, .git and git-ignored files are skipped.",
  parameters: Schema.Struct({
    pattern: Schema.String.annotate({ description: "Glob pattern, relative to path" }),
    path: Schema.optional(Schema.String.annotate({ description: "Directory to search in (default: the workspace root)" }))
  }),
  success: Schema.Struct({ files: Schema.Array(Schema.String), truncated: Schema.Boolean, withheld: Schema.optional(Schema.String.annotate({
    description: "Paths left out because they hold credentials (toolgate's credential list), whatever the rules allow"
  })) }),
  failure: Schema.Union([OutsideWorkspace, FileNotFound, NotReadable, InvalidPattern, IoFailure])
}).annotate(Tool.Readonly, true))

export const maxFiles = 500

/** A glob may not leave the directory it searches. */
export const escapes = (pattern: string): boolean =>
  pattern.startsWith("/") || pattern.split(/[\\/]/).some((segment) => segment === "..")

/** Whether a pattern names dot files or directories, so the walk must enter them. */
export const namesDotFiles = (pattern: string): boolean => /(^|[/{,])\./.test(pattern)

export const handler = (workspace: Workspace) =>
  Effect.fn("toolgate.Glob")(function*({ path, pattern }: Tool.Parameters<typeof Glob>) {
    if (escapes(pattern)) {
      return yield* new InvalidPattern({
        pattern,
        message: "a glob may not start with / or contain ..; set path to the directory to search instead"
      })
    }
    const shown = path ?? "."
    const matches = picomatch(pattern, { dot: namesDotFiles(pattern) })
    const listing = yield* Walk.list(workspace, shown, { include: matches, limit: maxFiles, dot: namesDotFiles(pattern) })
      .pipe(Effect.mapError(readRefusal(shown, workspace.real)))
    if (listing.single) return yield* new NotReadable({ path: shown, message: `${shown} is a file, not a directory` })
    return {
      files: listing.files.map(workspace.relative).sort(),
      truncated: listing.truncated,
      ...(listing.withheld.length === 0 ? {} : { withheld: Listed.describeWithheld(listing.withheld) })
    }
  })
