/**
 * Confinement of file paths to a workspace root, for the built-in tools.
 *
 * A path is resolved against the root, normalized, and then followed through
 * the file system: the deepest ancestor that exists is realpath'd, so a
 * symbolic link inside the root that points outside it is caught even when
 * the file the call names does not exist yet (a Write through a linked
 * directory). A dangling link is refused outright, because writing through
 * it would create its target wherever that is.
 *
 * This closes the doors a model can open with a path; it is not a sandbox
 * against a process racing the tool (a link swapped in between the check and
 * the write). Bash is not confined at all: the policy gates it.
 */
import { Effect, FileSystem, Path } from "effect"

/** Why a path was refused; the caller turns it into the tool's failure. */
export type Refusal =
  | { readonly _tag: "Outside"; readonly resolved: string }
  | { readonly _tag: "DanglingLink"; readonly resolved: string }

export interface Workspace {
  /** The root as given, resolved to an absolute path (links not followed). */
  readonly given: string
  /** The root with every link resolved: all confined paths live under it. */
  readonly real: string
  /** The real absolute path of `requested`, or why it is refused. */
  readonly confine: (requested: string) => Effect.Effect<string, Refusal>
  /** `absolute` relative to the root, `/`-separated; "." for the root itself. */
  readonly relative: (absolute: string) => string
}

const isWithin = (path: Path.Path, root: string, candidate: string): boolean => {
  const rel = path.relative(root, candidate)
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel))
}

export const make = (root: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const given = path.resolve(root)
    const real = yield* fs.realPath(given)

    const confine = (requested: string): Effect.Effect<string, Refusal> =>
      Effect.gen(function*() {
        // NUL would be cut by the OS and could smuggle a different path past
        // the lexical check.
        if (requested.includes("\u0000")) return yield* Effect.fail<Refusal>({ _tag: "Outside", resolved: requested })
        let resolved = path.resolve(real, requested)
        // An absolute path spelled through the root as given (say /tmp/x when
        // /tmp is a link) is still inside: rebase it onto the real root.
        if (!isWithin(path, real, resolved) && isWithin(path, given, resolved)) {
          resolved = path.join(real, path.relative(given, resolved))
        }
        if (!isWithin(path, real, resolved)) return yield* Effect.fail<Refusal>({ _tag: "Outside", resolved })

        // Walk up to the deepest ancestor that exists and follow its links.
        let existing = resolved
        const missing: Array<string> = []
        while (true) {
          const found = yield* Effect.option(fs.realPath(existing))
          if (found._tag === "Some") {
            const target = path.join(found.value, ...missing)
            if (!isWithin(path, real, target)) return yield* Effect.fail<Refusal>({ _tag: "Outside", resolved })
            return target
          }
          // realPath failed: either nothing is there (keep walking up) or a
          // link whose target is missing (or a loop), which we refuse.
          const entry = yield* Effect.option(fs.lstat(existing))
          if (entry._tag === "Some") return yield* Effect.fail<Refusal>({ _tag: "DanglingLink", resolved })
          const parent = path.dirname(existing)
          if (parent === existing) return yield* Effect.fail<Refusal>({ _tag: "Outside", resolved })
          missing.unshift(path.basename(existing))
          existing = parent
        }
      })

    const relative = (absolute: string): string => {
      const rel = path.relative(real, absolute)
      return rel === "" ? "." : rel.split(path.sep).join("/")
    }

    const workspace: Workspace = { given, real, confine, relative }
    return workspace
  })
