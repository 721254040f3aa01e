/**
 * The declared failures of the built-in tools: what the model reads when a
 * call cannot be done, each with a message that says what to do instead.
 * They are part of the tools' Schema (`failure`), so they cross the wire as
 * data; `BuiltinTools` re-exports them.
 */
import { Schema } from "effect"
import type { Refusal } from "../workspace.ts"

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

/**
 * A `Write` or `Edit` refused because writing could reach beyond the file the
 * path names: the file has more than one hard link (another name for it may
 * live outside the workspace), or it is not a regular file.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * new BuiltinTools.NotWritable({ path: "a.txt", message: "a.txt has 2 hard links; ..." })
 * ```
 *
 * @since 0.2.0
 */
export class NotWritable extends Schema.TaggedError<NotWritable>()("NotWritable", {
  path: Schema.String,
  message: Schema.String
}) {}

/**
 * A `Grep` that did not finish within its deadline, typically a regular
 * expression with nested quantifiers (`(a+)+$`) backtracking on a long line.
 * The matching worker was terminated; nothing it found is returned.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * new BuiltinTools.SearchTimedOut({ pattern: "(a+)+$", timeoutMs: 10000, message: "..." })
 * ```
 *
 * @since 0.2.0
 */
export class SearchTimedOut extends Schema.TaggedError<SearchTimedOut>()("SearchTimedOut", {
  pattern: Schema.String,
  timeoutMs: Schema.Number,
  message: Schema.String
}) {}

/** A refused open as the failure a reader (`Read`, `Glob`, `Grep`) declares. */
export const readRefusal = (shown: string, root: string) => (refusal: Refusal) => {
  switch (refusal._tag) {
    case "Outside":
      return new OutsideWorkspace({
        path: shown,
        message: `${shown} is outside the workspace ${root}; only paths inside it can be used`
      })
    case "DanglingLink":
      return new FileNotFound({ path: shown, message: `${shown} is a symbolic link to a file that does not exist` })
    case "NotFound":
      return new FileNotFound({ path: shown, message: `${shown} does not exist` })
    case "Directory":
      return new NotReadable({ path: shown, message: `${shown} is a directory; use Glob to list it` })
    case "NotDirectory":
      return new NotReadable({ path: shown, message: `${shown} (or one of its parents) is not a directory` })
    case "NotRegular":
      return new NotReadable({ path: shown, message: `${shown} is not a regular file` })
    case "HardLinked":
      return new IoFailure({ path: shown, message: `${shown} has ${refusal.links} hard links` })
    case "Io":
      return new IoFailure({ path: shown, message: refusal.message })
  }
}

/** A refused open as the failure a writer (`Write`, `Edit`) declares. */
export const writeRefusal = (shown: string, root: string) => (refusal: Refusal) => {
  switch (refusal._tag) {
    case "HardLinked":
      return new NotWritable({
        path: shown,
        message: `${shown} has ${refusal.links} hard links; writing it would also change the other names, ` +
          `which may be outside the workspace. Write a new file instead, or break the link (cp, then mv) with Bash`
      })
    case "Directory":
      return new NotReadable({ path: shown, message: `${shown} is a directory` })
    case "NotRegular":
      return new NotWritable({ path: shown, message: `${shown} is not a regular file; only regular files are written` })
    default:
      return readRefusal(shown, root)(refusal)
  }
}

/**
 * A `Bash` call refused because there is no sandbox on this machine and the
 * policy in force was not built to ask about every command
 * (`BuiltinTools.guard`); or, when building the
 * layer with `sandbox: "required"`, the reason no sandbox could be made.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * new BuiltinTools.SandboxUnavailable({ reason: "bubblewrap is not installed", message: "..." })
 * ```
 *
 * @since 0.2.0
 */
export class SandboxUnavailable extends Schema.TaggedError<SandboxUnavailable>()("SandboxUnavailable", {
  reason: Schema.String,
  message: Schema.String
}) {}

/**
 * The workspace root given to `BuiltinTools.layer` cannot be used: it does
 * not exist, is not a directory, or cannot be resolved.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * new BuiltinTools.WorkspaceUnavailable({ root: "/srv/missing", message: "..." })
 * ```
 *
 * @since 0.2.0
 */
export class WorkspaceUnavailable extends Schema.TaggedError<WorkspaceUnavailable>()("WorkspaceUnavailable", {
  root: Schema.String,
  message: Schema.String
}) {}
