/**
 * `Read`: a text file as numbered lines. The file is opened first and its
 * descriptor checked to be inside the workspace (see `../workspace.ts`), so
 * a link swapped in mid-call cannot make it read elsewhere. The output is
 * bounded twice: each line, and the whole answer; a cut says where to
 * continue.
 */
import { Effect, Schema } from "effect"
import { Tool } from "effect/ai"
import * as PolicySubject from "../../../policy/PolicySubject.ts"
import type { Workspace } from "../workspace.ts"
import { FileNotFound, IoFailure, NotReadable, OutsideWorkspace, readRefusal } from "./errors.ts"
import * as Listed from "./listed.ts"
import * as Text from "./text.ts"

const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0))

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

/** Lines returned when the call gives no `limit`. */
export const defaultLines = 2000
/** A longer line is cut: a minified file must not flood the context. */
export const maxLineChars = 2000
/** The whole answer stops at the last line that fits in this many characters. */
export const maxOutputChars = 100_000

export const handler = (workspace: Workspace) =>
  Effect.fn("toolgate.Read")(function*({ file_path, limit, offset }: Tool.Parameters<typeof Read>) {
    const refused = readRefusal(file_path, workspace.real)
    yield* Listed.checkRead(workspace, file_path)
    const content = yield* Effect.scoped(Effect.gen(function*() {
      const file = yield* Effect.mapError(workspace.openRead(file_path), refused)
      yield* Listed.checkRead(workspace, file.real)
      return yield* Effect.mapError(Text.content(file), refused)
    }))
    if (content._tag === "TooLarge") {
      return yield* new NotReadable({
        path: file_path,
        message: `${file_path} is ${content.size} bytes, more than the ${Text.maxFileBytes} bytes this tool reads; ` +
          `use Grep or Bash (head, sed -n) to look into it`
      })
    }
    if (content._tag === "Binary") {
      return yield* new NotReadable({ path: file_path, message: `${file_path} is a binary file (it contains NUL bytes)` })
    }
    if (content.text.length === 0) return "(the file is empty)"
    const lines = content.text.split(/\r?\n/)
    if (lines.at(-1) === "") lines.pop()
    const first = offset ?? 1
    if (first > lines.length) return `(the file has ${lines.length} lines; offset ${first} is past the end)`
    const last = Math.min(lines.length, first - 1 + (limit ?? defaultLines))
    const out: Array<string> = []
    let size = 0
    for (let n = first; n <= last; n++) {
      const line = `${String(n).padStart(6)}\t${Text.cut(lines[n - 1]!, maxLineChars)}`
      if (size + line.length + 1 > maxOutputChars && out.length > 0) {
        out.push(`[output cut at ${maxOutputChars} characters after line ${n - 1}; continue with offset ${n}]`)
        return out.join("\n")
      }
      out.push(line)
      size += line.length + 1
    }
    if (last < lines.length) out.push(`[${lines.length - last} more lines; continue with offset ${last + 1}]`)
    return out.join("\n")
  })
