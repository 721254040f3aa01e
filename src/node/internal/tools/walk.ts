/**
 * The file tree `Glob` and `Grep` search: every regular file under a
 * directory of the workspace, in name order, without `node_modules`, `.git`
 * or what the `.gitignore` files (from the root down) exclude. Directories
 * are opened one by one without following links and checked like every
 * other open (see `../workspace.ts`); a linked file is listed only when its
 * target is inside the workspace, under the target's real path.
 */
import { Effect } from "effect"
import ignore, { type Ignore } from "ignore"
import * as NodePath from "node:path"
import * as Credentials from "../credentials.ts"
import type { Refusal, Workspace } from "../workspace.ts"
import * as Text from "./text.ts"

/** Never searched: dependencies and version-control internals. */
export const skippedDirectories: ReadonlySet<string> = new Set(["node_modules", ".git"])

/** Entries looked at before a walk stops and says it was truncated. */
const maxVisited = 200_000

export interface Listing {
  /** Real absolute paths of the files. */
  readonly files: ReadonlyArray<string>
  readonly truncated: boolean
  /** The directory named was a single file: `files` is that file. */
  readonly single: boolean
  /** Root-relative paths left out because the credential list covers them. */
  readonly withheld: ReadonlyArray<string>
}

interface IgnoreLevel {
  /** The directory the .gitignore sits in, relative to the root ("" for the root). */
  readonly base: string
  readonly rules: Ignore
}

/** Whether the stacked .gitignore files exclude `rel` (root-relative); deeper files win. */
const ignored = (levels: ReadonlyArray<IgnoreLevel>, rel: string, isDirectory: boolean): boolean => {
  let result = false
  for (const level of levels) {
    const local = level.base === "" ? rel : rel.slice(level.base.length + 1)
    const verdict = level.rules.test(isDirectory ? `${local}/` : local)
    if (verdict.ignored) result = true
    else if (verdict.unignored) result = false
  }
  return result
}

/** The rules of `dir/.gitignore`, if there is a readable one inside the workspace. */
const gitignoreAt = (workspace: Workspace, dirReal: string, base: string) =>
  Effect.scoped(Effect.flatMap(workspace.openRead(NodePath.join(dirReal, ".gitignore")), Text.content)).pipe(
    Effect.map((content): ReadonlyArray<IgnoreLevel> =>
      content._tag === "Text" ? [{ base, rules: ignore().add(content.text) }] : []
    ),
    Effect.orElseSucceed((): ReadonlyArray<IgnoreLevel> => [])
  )

/**
 * The files under `requested` whose start-relative path passes `include`, at
 * most `limit` of them. `dot` walks into dot directories (a pattern naming one).
 */
export const list = (
  workspace: Workspace,
  requested: string,
  options: { readonly include: (rel: string) => boolean; readonly limit: number; readonly dot: boolean }
): Effect.Effect<Listing, Refusal> =>
  Effect.gen(function*() {
    const start = yield* Effect.scoped(workspace.openDirectory(requested)).pipe(
      Effect.map((dir) => dir.real),
      Effect.catchTag("NotDirectory", () => Effect.succeed(undefined))
    )
    if (start === undefined) {
      const file = yield* Effect.scoped(workspace.openRead(requested))
      return { files: [file.real], truncated: false, single: true, withheld: [] }
    }
    const startRel = workspace.relative(start) === "." ? "" : workspace.relative(start)

    // The .gitignore files above the start apply too, as git applies them.
    let levels: ReadonlyArray<IgnoreLevel> = []
    const segments = startRel === "" ? [] : startRel.split("/")
    for (let i = 0; i <= segments.length; i++) {
      const base = segments.slice(0, i).join("/")
      levels = [...levels, ...yield* gitignoreAt(workspace, NodePath.join(workspace.real, base), base)]
    }

    const files: Array<string> = []
    const withheld: Array<string> = []
    let visited = 0
    let truncated = false
    const walk = (dirReal: string, rel: string, inherited: ReadonlyArray<IgnoreLevel>): Effect.Effect<void> =>
      Effect.gen(function*() {
        const rootRel = workspace.relative(dirReal)
        const here = dirReal === start
          ? inherited
          : [...inherited, ...yield* gitignoreAt(workspace, dirReal, rootRel)]
        const entries = yield* Effect.scoped(
          Effect.flatMap(workspace.openDirectory(dirReal, { follow: false }), workspace.entries)
        ).pipe(Effect.orElseSucceed(() => []))
        const sorted = [...entries].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
        for (const entry of sorted) {
          if (truncated) return
          if (++visited > maxVisited || files.length >= options.limit) {
            truncated = true
            return
          }
          const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`
          const childRootRel = rootRel === "." ? entry.name : `${rootRel}/${entry.name}`
          const childReal = NodePath.join(dirReal, entry.name)
          if (Credentials.isCredentialPath(childRootRel)) {
            const searched = entry.isDirectory() ? options.dot || !entry.name.startsWith(".") : options.include(childRel)
            if (searched) withheld.push(childRootRel)
            continue
          }
          if (entry.isDirectory()) {
            if (skippedDirectories.has(entry.name)) continue
            if (!options.dot && entry.name.startsWith(".")) continue
            if (ignored(here, childRootRel, true)) continue
            yield* walk(childReal, childRel, here)
          } else if (entry.isFile() || entry.isSymbolicLink()) {
            if (!options.include(childRel) || ignored(here, childRootRel, false)) continue
            if (entry.isFile()) {
              files.push(childReal)
              continue
            }
            // A link: listed under its target, only if that is a file inside.
            const target = yield* Effect.option(Effect.scoped(workspace.openRead(childReal)))
            if (target._tag === "None") continue
            const targetRel = workspace.relative(target.value.real)
            if (Credentials.isCredentialPath(targetRel)) withheld.push(childRootRel)
            else files.push(target.value.real)
          }
        }
      })
    yield* walk(start, "", levels)
    return { files, truncated, single: false, withheld }
  })
