/**
 * Confinement of the file tools to a workspace root, by file descriptor.
 *
 * A path is first resolved lexically (no `..` survives, absolute paths must
 * name something under the root). Then the file is *opened* and what was
 * opened is checked, never the path alone: on Linux the descriptor's real
 * path is read back from `/proc/self/fd`, and writes walk the path one
 * directory descriptor at a time (`/proc/self/fd/<dir>/<name>` is openat(2)
 * for Node, which has no openat), creating the last component with
 * `O_NOFOLLOW`. A process swapping a directory for a symbolic link between
 * any two steps can make a call fail, never reach outside. A write never goes
 * through a file with more than one hard link.
 *
 * effect's `FileSystem` opens by path with fixed flags (no `O_NOFOLLOW`, no
 * descriptor-relative open), so this module uses `node:fs/promises`
 * directly. Elsewhere than Linux the check falls back to comparing the
 * opened file's device and inode with the realpath'd path's, which narrows
 * the race but does not close it.
 */
import { Data, Effect, Scope } from "effect"
import * as NodeFs from "node:fs"
import * as FsP from "node:fs/promises"
import * as NodePath from "node:path"

/** Why a path was refused; each tool turns it into its declared failure. */
export type Refusal = Data.TaggedEnum<{
  Outside: { readonly resolved: string }
  DanglingLink: {}
  NotFound: {}
  Directory: {}
  NotDirectory: {}
  NotRegular: {}
  HardLinked: { readonly links: number }
  Io: { readonly message: string }
}>
export const Refusal = Data.taggedEnum<Refusal>()

/** An open file, checked to live inside the root. Closed with its scope. */
export interface OpenFile {
  readonly handle: FsP.FileHandle
  /** The file's real absolute path, as the descriptor reports it. */
  readonly real: string
  readonly size: number
  readonly created: boolean
}

/** An open directory inside the root. */
export interface OpenDirectory {
  readonly handle: FsP.FileHandle
  readonly real: string
}

export interface Workspace {
  /** The root as given, resolved to an absolute path (links not followed). */
  readonly given: string
  /** The root with every link resolved: all confined paths live under it. */
  readonly real: string
  /** `absolute` relative to the root, `/`-separated; "." for the root itself. */
  readonly relative: (absolute: string) => string
  /** Opens an existing file to read. Links inside the root are followed. */
  readonly openRead: (requested: string) => Effect.Effect<OpenFile, Refusal, Scope.Scope>
  /** Opens a file to rewrite in place: it must exist (`Edit`), or is created with its parents (`Write`). */
  readonly openWrite: (
    requested: string,
    options: { readonly create: boolean }
  ) => Effect.Effect<OpenFile, Refusal, Scope.Scope>
  /**
   * Opens a directory to list. A link as the last component is followed
   * (when it stays inside) unless `follow` is false, as when walking a tree.
   */
  readonly openDirectory: (
    requested: string,
    options?: { readonly follow?: boolean }
  ) => Effect.Effect<OpenDirectory, Refusal, Scope.Scope>
  /** The entries of an open directory. */
  readonly entries: (dir: OpenDirectory) => Effect.Effect<ReadonlyArray<NodeFs.Dirent>, Refusal>
}

const { O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_RDWR } = NodeFs.constants
const onLinux = process.platform === "linux"

type Errno = NodeJS.ErrnoException

const attempt = <A>(f: () => Promise<A>): Effect.Effect<A, Errno> =>
  Effect.tryPromise({ try: f, catch: (error) => error as Errno })

const ioRefusal = (error: Errno): Refusal =>
  error.code === "ENOENT"
    ? Refusal.NotFound()
    : error.code === "EISDIR"
    ? Refusal.Directory()
    : error.code === "ENOTDIR"
    ? Refusal.NotDirectory()
    : error.code === "ENXIO"
    ? Refusal.NotRegular()
    : Refusal.Io({ message: `${error.code ?? "error"}: ${error.message}` })

const isWithin = (root: string, candidate: string): boolean => {
  const rel = NodePath.relative(root, candidate)
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${NodePath.sep}`) && !NodePath.isAbsolute(rel))
}

/** Opens with `flags`, closing the handle when the scope closes. */
const open = (path: string, flags: number, mode?: number) =>
  Effect.acquireRelease(
    attempt(() => FsP.open(path, flags, mode)),
    (handle) => Effect.promise(() => handle.close().catch(() => undefined))
  )

/**
 * The real path of what `handle` is, read from the descriptor itself on
 * Linux; `undefined` when it cannot be told (the file moved mid-check).
 */
const realOf = (handle: FsP.FileHandle, openedAs: string): Effect.Effect<string | undefined, Errno> =>
  onLinux
    ? attempt(() => FsP.readlink(`/proc/self/fd/${handle.fd}`))
    : Effect.gen(function*() {
      // No descriptor-to-path on this platform: accept the realpath only if
      // it names the very file that was opened.
      const real = yield* attempt(() => FsP.realpath(openedAs))
      const [opened, named] = yield* Effect.all([attempt(() => handle.stat()), attempt(() => FsP.stat(real))])
      return opened.dev === named.dev && opened.ino === named.ino ? real : undefined
    })

/** `name` inside an open directory, as a path the kernel resolves from the descriptor. */
const childPath = (dir: OpenDirectory, name: string): string =>
  onLinux ? `/proc/self/fd/${dir.handle.fd}/${name}` : NodePath.join(dir.real, name)

// One closure over the root's real path; the operations inside are small
// named functions that all confine against it.
export const make = (root: string): Effect.Effect<Workspace, Errno> =>
  Effect.gen(function*() {
    const given = NodePath.resolve(root)
    const real = yield* attempt(() => FsP.realpath(given))
    const rootInfo = yield* attempt(() => FsP.stat(real))
    if (!rootInfo.isDirectory()) {
      return yield* Effect.fail(Object.assign(new Error(`${given} is not a directory`), { code: "ENOTDIR" }) as Errno)
    }

    /** The absolute path `requested` names, lexically; no link is followed yet. */
    const lexical = (requested: string): Effect.Effect<string, Refusal> => {
      // NUL would be cut by the OS and could smuggle a different path past the check.
      if (requested.includes("\u0000")) return Effect.fail(Refusal.Outside({ resolved: requested }))
      let resolved = NodePath.resolve(real, requested)
      // An absolute path spelled through the root as given (say /tmp/x when
      // /tmp is a link) is still inside: rebase it onto the real root.
      if (!isWithin(real, resolved) && isWithin(given, resolved)) {
        resolved = NodePath.join(real, NodePath.relative(given, resolved))
      }
      return isWithin(real, resolved) ? Effect.succeed(resolved) : Effect.fail(Refusal.Outside({ resolved }))
    }

    /** Fails with `Outside` unless what `handle` is lives under the root. */
    const verify = (handle: FsP.FileHandle, openedAs: string, shown: string) =>
      Effect.flatMap(
        Effect.mapError(realOf(handle, openedAs), ioRefusal),
        (where) =>
          where !== undefined && isWithin(real, where)
            ? Effect.succeed(where)
            : Effect.fail(Refusal.Outside({ resolved: shown }))
      )

    /** ENOENT on an open that follows links: a dangling link, or nothing there. */
    const missing = (path: string, error: Errno): Effect.Effect<never, Refusal> =>
      error.code === "ENOENT"
        ? Effect.flatMap(
          Effect.option(attempt(() => FsP.lstat(path))),
          (entry) => Effect.fail(entry._tag === "Some" ? Refusal.DanglingLink() : Refusal.NotFound())
        )
        : error.code === "ELOOP"
        ? Effect.fail(Refusal.DanglingLink())
        : Effect.fail(ioRefusal(error))

    const openRead = (requested: string) =>
      Effect.gen(function*() {
        const path = yield* lexical(requested)
        // O_NONBLOCK: opening a FIFO must not wait for a writer.
        const handle = yield* Effect.catch(open(path, O_RDONLY | O_NONBLOCK), (error) => missing(path, error))
        const where = yield* verify(handle, path, path)
        const info = yield* Effect.mapError(attempt(() => handle.stat()), ioRefusal)
        if (info.isDirectory()) return yield* Effect.fail(Refusal.Directory())
        if (!info.isFile()) return yield* Effect.fail(Refusal.NotRegular())
        return { handle, real: where, size: info.size, created: false } satisfies OpenFile
      })

    const openDirectory = (requested: string, options?: { readonly follow?: boolean }) =>
      Effect.gen(function*() {
        const path = yield* lexical(requested)
        const flags = O_RDONLY | O_DIRECTORY | (options?.follow === false ? O_NOFOLLOW : 0)
        const handle = yield* Effect.catch(open(path, flags), (error) => missing(path, error))
        const where = yield* verify(handle, path, path)
        return { handle, real: where } satisfies OpenDirectory
      })

    /** The next directory down from `dir`, following a link only if it stays inside; made when `create`. */
    const stepInto = (dir: OpenDirectory, name: string, create: boolean): Effect.Effect<OpenDirectory, Refusal, Scope.Scope> =>
      Effect.gen(function*() {
        const path = childPath(dir, name)
        const shown = NodePath.join(dir.real, name)
        const opened = yield* Effect.result(open(path, O_RDONLY | O_DIRECTORY))
        if (opened._tag === "Success") {
          return { handle: opened.success, real: yield* verify(opened.success, path, shown) }
        }
        const error = opened.failure
        if (error.code !== "ENOENT" || !create) return yield* missing(path, error)
        // mkdir never follows a link in the last component: a link swapped in
        // here makes it fail with EEXIST, and the open below checks again.
        yield* Effect.catch(
          Effect.mapError(attempt(() => FsP.mkdir(path)), ioRefusal),
          (refusal) => refusal._tag === "Io" && refusal.message.startsWith("EEXIST") ? Effect.void : Effect.fail(refusal)
        )
        const made = yield* Effect.catch(open(path, O_RDONLY | O_DIRECTORY), (e) => missing(path, e))
        return { handle: made, real: yield* verify(made, path, shown) }
      })

    // A link as the last component is followed by hand, at most this often,
    // each time re-walking the link's target from the root.
    const maxLinkHops = 8

    const openWrite = (requested: string, options: { readonly create: boolean }) =>
      Effect.gen(function*() {
        let path = yield* lexical(requested)
        for (let hop = 0; hop <= maxLinkHops; hop++) {
          const parts = NodePath.relative(real, path).split(NodePath.sep).filter((part) => part !== "")
          const last = parts.pop()
          if (last === undefined) return yield* Effect.fail(Refusal.Directory())
          let dir: OpenDirectory = yield* openDirectory(real)
          for (const part of parts) dir = yield* stepInto(dir, part, options.create)
          const at = childPath(dir, last)
          const flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK
          // Created only if nothing is there (O_EXCL does not follow a link
          // either): then `created` is exact, and a later link swap finds EEXIST.
          const fresh = options.create ? yield* Effect.result(open(at, flags | O_CREAT | O_EXCL, 0o666)) : undefined
          const opened = fresh?._tag === "Success" ? fresh : yield* Effect.result(open(at, flags))
          if (opened._tag === "Failure") {
            const error = opened.failure
            if (error.code !== "ELOOP") return yield* Effect.fail(ioRefusal(error))
            // The last component is a symbolic link: go where it points, if inside.
            const target = yield* Effect.catch(attempt(() => FsP.realpath(at)), (e) =>
              e.code === "ENOENT" || e.code === "ELOOP" ? Effect.fail(Refusal.DanglingLink()) : Effect.fail(ioRefusal(e)))
            if (!isWithin(real, target)) return yield* Effect.fail(Refusal.Outside({ resolved: path }))
            path = target
            continue
          }
          const handle = opened.success
          const where = yield* verify(handle, at, NodePath.join(dir.real, last))
          const info = yield* Effect.mapError(attempt(() => handle.stat()), ioRefusal)
          if (info.isDirectory()) return yield* Effect.fail(Refusal.Directory())
          if (!info.isFile()) return yield* Effect.fail(Refusal.NotRegular())
          if (info.nlink > 1) return yield* Effect.fail(Refusal.HardLinked({ links: info.nlink }))
          return { handle, real: where, size: info.size, created: fresh?._tag === "Success" } satisfies OpenFile
        }
        return yield* Effect.fail(Refusal.DanglingLink())
      })

    const entries = (dir: OpenDirectory) =>
      Effect.mapError(
        attempt(() => FsP.readdir(onLinux ? `/proc/self/fd/${dir.handle.fd}` : dir.real, { withFileTypes: true })),
        ioRefusal
      )

    const relative = (absolute: string): string => {
      const rel = NodePath.relative(real, absolute)
      return rel === "" ? "." : rel.split(NodePath.sep).join("/")
    }

    const workspace: Workspace = {
      given,
      real,
      relative,
      openRead,
      openWrite,
      openDirectory,
      entries
    }
    return workspace
  })

/** Reads all of an open file (already bounded in size by the caller). */
export const readAll = (file: OpenFile): Effect.Effect<Uint8Array, Refusal> =>
  Effect.mapError(attempt(() => file.handle.readFile()), ioRefusal)

/** Replaces the content of a file opened with {@link Workspace.openWrite}, through its descriptor. */
export const rewrite = (file: OpenFile, content: string): Effect.Effect<void, Refusal> =>
  Effect.mapError(
    attempt(async () => {
      await file.handle.truncate(0)
      const bytes = Buffer.from(content, "utf8")
      let written = 0
      while (written < bytes.length) {
        const { bytesWritten } = await file.handle.write(bytes, written, bytes.length - written, written)
        written += bytesWritten
      }
    }),
    ioRefusal
  )
