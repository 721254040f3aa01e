/**
 * The standard agent tools — `Read`, `Glob`, `Grep`, `Write`, `Edit`, `Bash`
 * — as effect/ai tools, named and shaped as users know them from Claude Code
 * and annotated for the gate: the three readers are `Tool.Readonly` (so they
 * run side by side), and each carries the `PolicySubject` the policy rules match
 * on (`Bash(git status)`, `Write(/etc/**)`).
 *
 * Every file path is confined to a workspace root: a path outside it, spelled
 * with `../`, as an absolute path or through a symbolic link, is a declared
 * failure the model reads and corrects, never a crash. `Bash` runs in the root
 * but is not confined by it (a shell can `cd` anywhere): the policy is what
 * gates commands. Handlers come from {@link layer}, on the `FileSystem`,
 * `Path` and `ChildProcessSpawner` services (`NodeServices.layer`).
 *
 * @since 0.1.0
 */
import { Duration, Effect, FileSystem, Path, Schema } from "effect"
import { Tool, Toolkit } from "effect/ai"
import type { PlatformError } from "effect/PlatformError"
import { ChildProcessSpawner } from "effect/process"
import * as Bash_ from "./internal/bash.ts"
import * as Workspace from "./internal/workspace.ts"
import * as PolicySubject from "../policy/PolicySubject.ts"

// -----------------------------------------------------------------------------
// Failures
// -----------------------------------------------------------------------------

/**
 * The path names something outside the workspace root (by `../`, an absolute
 * path, or a symbolic link leading out).
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * const e = new BuiltinTools.OutsideWorkspace({ path: "/etc/passwd", message: "..." })
 * e._tag // "OutsideWorkspace"
 * ```
 *
 * @since 0.1.0
 */
export class OutsideWorkspace extends Schema.TaggedError<OutsideWorkspace>()("OutsideWorkspace", {
  path: Schema.String,
  message: Schema.String
}) {}

/**
 * Nothing exists at the path (or it is a symbolic link to nothing).
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * new BuiltinTools.FileNotFound({ path: "src/missing.ts", message: "src/missing.ts does not exist" })
 * ```
 *
 * @since 0.1.0
 */
export class FileNotFound extends Schema.TaggedError<FileNotFound>()("FileNotFound", {
  path: Schema.String,
  message: Schema.String
}) {}

/**
 * The path exists but cannot be read as text here: a directory where a file
 * was expected (or the reverse), a binary file, or a file too large to read.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * new BuiltinTools.NotReadable({ path: "src", message: "src is a directory; use Glob to list it" })
 * ```
 *
 * @since 0.1.0
 */
export class NotReadable extends Schema.TaggedError<NotReadable>()("NotReadable", {
  path: Schema.String,
  message: Schema.String
}) {}

/**
 * An `Edit` that could not be applied: `old_string` does not occur
 * (`NotFound`), occurs more than once without `replace_all` (`NotUnique`,
 * with the count), or equals `new_string` (`NoChange`). The file is left as
 * it was.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * new BuiltinTools.EditFailed({ path: "a.ts", reason: "NotUnique", occurrences: 3, message: "..." })
 * ```
 *
 * @since 0.1.0
 */
export class EditFailed extends Schema.TaggedError<EditFailed>()("EditFailed", {
  path: Schema.String,
  reason: Schema.Literals(["NotFound", "NotUnique", "NoChange"]),
  occurrences: Schema.Number,
  message: Schema.String
}) {}

/**
 * A `Grep` regular expression or a glob that cannot be used: it does not
 * parse, or the glob tries to leave its directory (`..`, absolute).
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * new BuiltinTools.InvalidPattern({ pattern: "(", message: "..." })
 * ```
 *
 * @since 0.1.0
 */
export class InvalidPattern extends Schema.TaggedError<InvalidPattern>()("InvalidPattern", {
  pattern: Schema.String,
  message: Schema.String
}) {}

/**
 * A `Bash` command that did not finish within its timeout. Its process group
 * was killed; the output it produced until then is kept (bounded).
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * new BuiltinTools.CommandTimedOut({ command: "sleep 99", timeoutMs: 1000, stdout: "", stderr: "", message: "..." })
 * ```
 *
 * @since 0.1.0
 */
export class CommandTimedOut extends Schema.TaggedError<CommandTimedOut>()("CommandTimedOut", {
  command: Schema.String,
  timeoutMs: Schema.Number,
  stdout: Schema.String,
  stderr: Schema.String,
  message: Schema.String
}) {}

/**
 * Any other failure of the file system or of starting a process (permission
 * denied, disk full, no `bash`), with the platform's description.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * new BuiltinTools.IoFailure({ path: "a.txt", message: "PermissionDenied: open a.txt" })
 * ```
 *
 * @since 0.1.0
 */
export class IoFailure extends Schema.TaggedError<IoFailure>()("IoFailure", {
  path: Schema.String,
  message: Schema.String
}) {}

// -----------------------------------------------------------------------------
// Tools
// -----------------------------------------------------------------------------

const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0))

/**
 * Reads a text file, as numbered lines (`cat -n` style): `offset` is the
 * first line (1-based), `limit` the number of lines (2000 by default).
 * Read-only.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * const call = { id: "1", name: "Read", params: { file_path: "src/index.ts", offset: 10, limit: 20 } }
 * BuiltinTools.Read.name // "Read"
 * ```
 *
 * @since 0.1.0
 */
export const Read = PolicySubject.path("file_path")(Tool.make("Read", {
  description: "Read a text file in the workspace. Returns numbered lines (line number, tab, text). " +
    "Use offset (1-based line) and limit to read part of a long file.",
  parameters: Schema.Struct({
    file_path: Schema.String.annotate({ description: "Path of the file, relative to the workspace root or absolute inside it" }),
    offset: Schema.optional(PositiveInt.annotate({ description: "First line to read, 1-based" })),
    limit: Schema.optional(PositiveInt.annotate({ description: "How many lines to read (default 2000)" }))
  }),
  success: Schema.String,
  failure: Schema.Union([OutsideWorkspace, FileNotFound, NotReadable, IoFailure])
}).annotate(Tool.Readonly, true))

/**
 * Lists the files matching a glob pattern (`**\/*.ts`, `src/*.{js,json}`)
 * under `path` (the root by default), as workspace-relative paths in name
 * order. Dot files match only when the pattern names them. Read-only.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * const call = { id: "1", name: "Glob", params: { pattern: "**\/*.test.ts", path: "test" } }
 * BuiltinTools.Glob.name // "Glob"
 * ```
 *
 * @since 0.1.0
 */
export const Glob = PolicySubject.path("path")(Tool.make("Glob", {
  description: "Find files by glob pattern (e.g. \"**/*.ts\", \"src/*.{js,json}\") under a directory of the workspace. " +
    "Returns workspace-relative file paths in name order.",
  parameters: Schema.Struct({
    pattern: Schema.String.annotate({ description: "Glob pattern, relative to path" }),
    path: Schema.optional(Schema.String.annotate({ description: "Directory to search in (default: the workspace root)" }))
  }),
  success: Schema.Struct({ files: Schema.Array(Schema.String), truncated: Schema.Boolean }),
  failure: Schema.Union([OutsideWorkspace, FileNotFound, NotReadable, InvalidPattern, IoFailure])
}).annotate(Tool.Readonly, true))

const GrepMatch = Schema.Struct({ file: Schema.String, line: Schema.Number, text: Schema.String })

/**
 * Searches file contents with a JavaScript regular expression, line by line,
 * under `path` (a directory or one file; the root by default), optionally
 * only in files matching `glob` (`*.ts` matches at any depth). Binary and
 * very large files are skipped; matches are capped. Read-only.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * const call = { id: "1", name: "Grep", params: { pattern: "TODO|FIXME", glob: "*.ts" } }
 * BuiltinTools.Grep.name // "Grep"
 * ```
 *
 * @since 0.1.0
 */
export const Grep = PolicySubject.path("path")(Tool.make("Grep", {
  description: "Search file contents in the workspace with a regular expression (JavaScript syntax), line by line. " +
    "Returns matching lines with workspace-relative file and 1-based line number.",
  parameters: Schema.Struct({
    pattern: Schema.String.annotate({ description: "Regular expression to search for" }),
    path: Schema.optional(Schema.String.annotate({ description: "File or directory to search (default: the workspace root)" })),
    glob: Schema.optional(Schema.String.annotate({ description: "Only search files matching this glob, e.g. \"*.ts\"" }))
  }),
  success: Schema.Struct({ matches: Schema.Array(GrepMatch), truncated: Schema.Boolean }),
  failure: Schema.Union([OutsideWorkspace, FileNotFound, NotReadable, InvalidPattern, IoFailure])
}).annotate(Tool.Readonly, true))

/**
 * Writes a file, replacing it if it exists and creating missing parent
 * directories. Mutating.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * const call = { id: "1", name: "Write", params: { file_path: "notes/todo.md", content: "- ship it\n" } }
 * BuiltinTools.Write.name // "Write"
 * ```
 *
 * @since 0.1.0
 */
export const Write = PolicySubject.path("file_path")(Tool.make("Write", {
  description: "Write a file in the workspace, replacing it if it exists. Creates missing parent directories.",
  parameters: Schema.Struct({
    file_path: Schema.String.annotate({ description: "Path of the file, relative to the workspace root or absolute inside it" }),
    content: Schema.String.annotate({ description: "The full new content of the file" })
  }),
  success: Schema.Struct({ path: Schema.String, bytes: Schema.Number, created: Schema.Boolean }),
  failure: Schema.Union([OutsideWorkspace, FileNotFound, NotReadable, IoFailure])
}))

/**
 * Replaces `old_string` with `new_string` in a file. `old_string` must occur
 * exactly once unless `replace_all` is set; otherwise nothing is written and
 * the failure says how often it occurs. Mutating.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * const call = {
 *   id: "1",
 *   name: "Edit",
 *   params: { file_path: "src/a.ts", old_string: "let x = 1", new_string: "const x = 1" }
 * }
 * BuiltinTools.Edit.name // "Edit"
 * ```
 *
 * @since 0.1.0
 */
export const Edit = PolicySubject.path("file_path")(Tool.make("Edit", {
  description: "Replace an exact string in a file of the workspace. old_string must occur exactly once " +
    "(include surrounding lines to make it unique) unless replace_all is true.",
  parameters: Schema.Struct({
    file_path: Schema.String.annotate({ description: "Path of the file, relative to the workspace root or absolute inside it" }),
    old_string: Schema.NonEmptyString.annotate({ description: "The exact text to replace" }),
    new_string: Schema.String.annotate({ description: "The text to put in its place" }),
    replace_all: Schema.optional(Schema.Boolean.annotate({ description: "Replace every occurrence (default false)" }))
  }),
  success: Schema.Struct({ path: Schema.String, replacements: Schema.Number }),
  failure: Schema.Union([OutsideWorkspace, FileNotFound, NotReadable, EditFailed, IoFailure])
}))

/**
 * Runs a command with `bash -c` in the workspace root. A non-zero exit is a
 * *success* carrying `exitCode`, `stdout` and `stderr` (the model reads a
 * failing test run like any other output); only a timeout is a failure. The
 * whole process tree is killed on timeout or interruption, and each output
 * stream is cut at a byte limit with a marker. Mutating.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * const call = { id: "1", name: "Bash", params: { command: "npm test", timeout: 60000 } }
 * BuiltinTools.Bash.name // "Bash"
 * ```
 *
 * @since 0.1.0
 */
export const Bash = PolicySubject.command("command")(Tool.make("Bash", {
  description: "Run a shell command with bash in the workspace root. Returns exit code, stdout and stderr; " +
    "a non-zero exit code is reported, not raised. Long output is truncated. timeout is in milliseconds.",
  parameters: Schema.Struct({
    command: Schema.String.annotate({ description: "The command, run as `bash -c command`" }),
    timeout: Schema.optional(PositiveInt.annotate({ description: "Timeout in milliseconds (capped by the host)" }))
  }),
  success: Schema.Struct({ exitCode: Schema.Number, stdout: Schema.String, stderr: Schema.String }),
  failure: Schema.Union([CommandTimedOut, IoFailure])
}))

/**
 * The six built-in tools as one effect/ai toolkit; merge it with your own
 * tools with `Toolkit.merge`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NodeServices } from "@effect/platform-node"
 * import { BuiltinTools } from "toolgate/node"
import { Executor } from "toolgate"
 * const results = Executor.executeBatch(BuiltinTools.toolkit, [
 *   { id: "1", name: "Read", params: { file_path: "README.md" } }
 * ]).pipe(
 *   Effect.provide(BuiltinTools.layer({ root: process.cwd() })),
 *   Effect.provide(NodeServices.layer)
 * )
 * ```
 *
 * @since 0.1.0
 */
export const toolkit = Toolkit.make(Read, Glob, Grep, Write, Edit, Bash)

// -----------------------------------------------------------------------------
// Handlers
// -----------------------------------------------------------------------------

/**
 * Options of {@link layer}. `root` is the workspace every path is confined
 * to and where `Bash` runs; it must exist. `bash.timeout` is the longest a
 * command may run (and the default when a call gives none; 2 minutes);
 * `bash.maxOutputBytes` bounds each of stdout and stderr (30,000 bytes).
 *
 * @example
 * ```ts
 * import type { BuiltinTools } from "toolgate/node"
 * const options: BuiltinTools.Options = { root: "/srv/project", bash: { timeout: "10 minutes", maxOutputBytes: 100_000 } }
 * ```
 *
 * @since 0.1.0
 */
export interface Options {
  readonly root: string
  readonly bash?: {
    readonly timeout?: Duration.Input | undefined
    readonly maxOutputBytes?: number | undefined
  } | undefined
}

/** Lines `Read` returns when the call gives no `limit`. */
const defaultReadLines = 2000
/** A longer line is cut: a minified file must not flood the context. */
const maxLineChars = 2000
/** Files larger than this are refused by `Read` and `Edit`, skipped by `Grep`. */
const maxFileBytes = 10 * 1024 * 1024
const maxGlobFiles = 500
const maxGrepMatches = 250
const maxGrepLineChars = 500

const cut = (line: string, max: number) => line.length <= max ? line : `${line.slice(0, max)}… [line cut at ${max} characters]`

const looksBinary = (bytes: Uint8Array): boolean => bytes.subarray(0, 8192).includes(0)

const countOccurrences = (text: string, needle: string): number => {
  let count = 0
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++
  return count
}

/** A glob may not leave the directory it searches. */
const globEscapes = (pattern: string): boolean =>
  pattern.startsWith("/") || pattern.split(/[\\/]/).some((segment) => segment === "..")

/**
 * The handlers of {@link toolkit}, confined to `options.root`. Fails to build
 * when the root does not exist.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { NodeServices } from "@effect/platform-node"
 * import { BuiltinTools } from "toolgate/node"
 * const ToolsLive = BuiltinTools.layer({ root: "/srv/project", bash: { timeout: "1 minute" } }).pipe(
 *   Layer.provide(NodeServices.layer)
 * )
 * ```
 *
 * @since 0.1.0
 */
export const layer = (options: Options) =>
  toolkit.toLayer(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    const workspace = yield* Workspace.make(options.root)
    const bashTimeout = Duration.fromInputUnsafe(options.bash?.timeout ?? "2 minutes")
    const maxOutputBytes = options.bash?.maxOutputBytes ?? 30_000

    const confine = (requested: string) =>
      Effect.mapError(workspace.confine(requested), (refusal) =>
        refusal._tag === "Outside"
          ? new OutsideWorkspace({
            path: requested,
            message: `${requested} is outside the workspace ${workspace.real}; only paths inside it can be used`
          })
          : new FileNotFound({
            path: requested,
            message: `${requested} is a symbolic link to a file that does not exist`
          }))

    const io = (shown: string) => (error: PlatformError) =>
      error.reason._tag === "NotFound"
        ? new FileNotFound({ path: shown, message: `${shown} does not exist` })
        : new IoFailure({ path: shown, message: error.message })

    /** The file at `real`, as text, refusing directories, huge and binary files. */
    const readText = (shown: string, real: string) =>
      Effect.gen(function*() {
        const info = yield* Effect.mapError(fs.stat(real), io(shown))
        if (info.type === "Directory") {
          return yield* new NotReadable({ path: shown, message: `${shown} is a directory; use Glob to list it` })
        }
        if (info.type !== "File") return yield* new NotReadable({ path: shown, message: `${shown} is not a regular file` })
        if (Number(info.size) > maxFileBytes) {
          return yield* new NotReadable({
            path: shown,
            message: `${shown} is ${info.size} bytes, more than the ${maxFileBytes} bytes this tool reads; use Grep or Bash (head, sed -n) to look into it`
          })
        }
        const bytes = yield* Effect.mapError(fs.readFile(real), io(shown))
        if (looksBinary(bytes)) return yield* new NotReadable({ path: shown, message: `${shown} is a binary file` })
        return Buffer.from(bytes).toString("utf8")
      })

    /** A directory to search, confined, and the files under it matching `pattern`, confined too. */
    const listFiles = (dirParam: string | undefined, pattern: string, limit: number) =>
      Effect.gen(function*() {
        const shown = dirParam ?? "."
        const dir = yield* confine(shown)
        const info = yield* Effect.mapError(fs.stat(dir), io(shown))
        if (info.type === "File") return { files: [dir], truncated: false, single: true }
        if (info.type !== "Directory") {
          return yield* new NotReadable({ path: shown, message: `${shown} is not a directory` })
        }
        const found = yield* Effect.mapError(fs.glob(pattern, { root: dir }), io(shown))
        const files: Array<string> = []
        for (const rel of found) {
          if (files.length >= limit) return { files, truncated: true, single: false }
          // `**` does not follow links to directories, but a link named by a
          // literal segment, or a linked file, could still lead out.
          const real = yield* Effect.option(workspace.confine(path.join(dir, rel)))
          if (real._tag === "None") continue
          const entry = yield* Effect.option(fs.stat(real.value))
          if (entry._tag === "Some" && entry.value.type === "File") files.push(real.value)
        }
        return { files, truncated: false, single: false }
      })

    return toolkit.of({
      Read: Effect.fn("toolgate.Read")(function*({ file_path, limit, offset }) {
        const real = yield* confine(file_path)
        const text = yield* readText(file_path, real)
        if (text.length === 0) return "(the file is empty)"
        const lines = text.split(/\r?\n/)
        if (lines.at(-1) === "") lines.pop()
        const first = offset ?? 1
        if (first > lines.length) return `(the file has ${lines.length} lines; offset ${first} is past the end)`
        const last = Math.min(lines.length, first - 1 + (limit ?? defaultReadLines))
        const numbered = lines.slice(first - 1, last).map((line, i) =>
          `${String(first + i).padStart(6)}\t${cut(line, maxLineChars)}`
        )
        if (last < lines.length) {
          numbered.push(`[${lines.length - last} more lines; continue with offset ${last + 1}]`)
        }
        return numbered.join("\n")
      }),

      Glob: Effect.fn("toolgate.Glob")(function*({ path: dirParam, pattern }) {
        if (globEscapes(pattern)) {
          return yield* new InvalidPattern({
            pattern,
            message: "a glob may not start with / or contain ..; set path to the directory to search instead"
          })
        }
        const listed = yield* listFiles(dirParam, pattern, maxGlobFiles)
        if (listed.single) {
          return yield* new NotReadable({ path: dirParam ?? ".", message: `${dirParam} is a file, not a directory` })
        }
        return { files: listed.files.map(workspace.relative), truncated: listed.truncated }
      }),

      Grep: Effect.fn("toolgate.Grep")(function*({ glob, path: dirParam, pattern }) {
        const regex = yield* Effect.try({
          try: () => new RegExp(pattern),
          catch: (error) => new InvalidPattern({ pattern, message: `not a valid regular expression: ${String(error)}` })
        })
        if (glob !== undefined && globEscapes(glob)) {
          return yield* new InvalidPattern({ pattern: glob, message: "a glob may not start with / or contain .." })
        }
        // As in ripgrep, a glob without a slash matches file names at any depth.
        const filter = glob === undefined ? "**/*" : glob.includes("/") ? glob : `**/${glob}`
        const listed = yield* listFiles(dirParam, filter, Number.MAX_SAFE_INTEGER)
        const matches: Array<typeof GrepMatch.Type> = []
        for (const file of listed.files) {
          const info = yield* Effect.option(fs.stat(file))
          if (info._tag === "None" || Number(info.value.size) > maxFileBytes) continue
          const bytes = yield* Effect.option(fs.readFile(file))
          if (bytes._tag === "None" || looksBinary(bytes.value)) continue
          const lines = Buffer.from(bytes.value).toString("utf8").split(/\r?\n/)
          for (let i = 0; i < lines.length; i++) {
            if (!regex.test(lines[i]!)) continue
            if (matches.length >= maxGrepMatches) return { matches, truncated: true }
            matches.push({ file: workspace.relative(file), line: i + 1, text: cut(lines[i]!, maxGrepLineChars) })
          }
        }
        return { matches, truncated: false }
      }),

      Write: Effect.fn("toolgate.Write")(function*({ content, file_path }) {
        const real = yield* confine(file_path)
        const existing = yield* Effect.option(fs.stat(real))
        if (existing._tag === "Some" && existing.value.type === "Directory") {
          return yield* new NotReadable({ path: file_path, message: `${file_path} is a directory` })
        }
        yield* Effect.mapError(fs.makeDirectory(path.dirname(real), { recursive: true }), io(file_path))
        yield* Effect.mapError(fs.writeFileString(real, content), io(file_path))
        return { path: workspace.relative(real), bytes: Buffer.byteLength(content), created: existing._tag === "None" }
      }),

      Edit: Effect.fn("toolgate.Edit")(function*({ file_path, new_string, old_string, replace_all }) {
        const real = yield* confine(file_path)
        const text = yield* readText(file_path, real)
        const occurrences = countOccurrences(text, old_string)
        const fail = (reason: EditFailed["reason"], message: string) =>
          new EditFailed({ path: file_path, reason, occurrences, message })
        if (old_string === new_string) {
          return yield* fail("NoChange", "old_string and new_string are the same; nothing to change")
        }
        if (occurrences === 0) {
          return yield* fail("NotFound", `old_string does not occur in ${file_path}; Read the file and copy the text exactly`)
        }
        if (occurrences > 1 && replace_all !== true) {
          return yield* fail(
            "NotUnique",
            `old_string occurs ${occurrences} times in ${file_path}; add surrounding lines to make it unique, or set replace_all`
          )
        }
        // split/join, not String.replace: `$&` and friends in new_string stay literal.
        const updated = replace_all === true
          ? text.split(old_string).join(new_string)
          : text.replace(old_string, () => new_string)
        yield* Effect.mapError(fs.writeFileString(real, updated), io(file_path))
        return { path: workspace.relative(real), replacements: replace_all === true ? occurrences : 1 }
      }),

      Bash: Effect.fn("toolgate.Bash")(function*({ command, timeout }) {
        const limit = timeout === undefined
          ? bashTimeout
          : Duration.min(Duration.millis(timeout), bashTimeout)
        yield* Effect.annotateCurrentSpan("toolgate.bash.timeoutMs", Duration.toMillis(limit))
        return yield* Bash_.run(command, { cwd: workspace.real, timeout: limit, maxOutputBytes }).pipe(
          Effect.provideService(ChildProcessSpawner.ChildProcessSpawner, spawner),
          Effect.mapError((error) =>
            error._tag === "TimedOut"
              ? new CommandTimedOut({
                command,
                timeoutMs: Duration.toMillis(limit),
                stdout: error.stdout,
                stderr: error.stderr,
                message: `the command did not finish within ${Duration.format(limit)} and was killed`
              })
              : new IoFailure({ path: workspace.real, message: `could not run bash: ${error.message}` })
          )
        )
      })
    })
  }))
