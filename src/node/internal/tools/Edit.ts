/**
 * `Edit`: an exact string replaced in a file. The file is opened once, read
 * and rewritten through the same checked descriptor (see `Write.ts` for the
 * checks), so what is edited is what was read.
 */
import { Effect, Schema } from "effect"
import { Tool } from "effect/ai"
import * as PolicySubject from "../../../policy/PolicySubject.ts"
import type { Workspace } from "../workspace.ts"
import * as WorkspaceFiles from "../workspace.ts"
import * as Listed from "./listed.ts"
import {
  EditFailed,
  FileNotFound,
  IoFailure,
  NotReadable,
  NotWritable,
  OutsideWorkspace,
  writeRefusal
} from "./errors.ts"
import * as Text from "./text.ts"

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
  failure: Schema.Union([OutsideWorkspace, FileNotFound, NotReadable, NotWritable, EditFailed, IoFailure])
}))

const countOccurrences = (text: string, needle: string): number => {
  let count = 0
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++
  return count
}

export const handler = (workspace: Workspace) =>
  Effect.fn("toolgate.Edit")(function*({ file_path, new_string, old_string, replace_all }: Tool.Parameters<typeof Edit>) {
    const refused = writeRefusal(file_path, workspace.real)
    yield* Listed.checkWrite(workspace, file_path)
    return yield* Effect.scoped(Effect.gen(function*() {
      const file = yield* Effect.mapError(workspace.openWrite(file_path, { create: false }), refused)
      yield* Listed.checkWrite(workspace, file.real)
      const content = yield* Effect.mapError(Text.content(file), refused)
      if (content._tag === "TooLarge") {
        return yield* new NotReadable({
          path: file_path,
          message: `${file_path} is ${content.size} bytes, more than the ${Text.maxFileBytes} bytes this tool edits`
        })
      }
      if (content._tag === "Binary") {
        return yield* new NotReadable({ path: file_path, message: `${file_path} is a binary file (it contains NUL bytes)` })
      }
      const text = content.text
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
      yield* Effect.mapError(WorkspaceFiles.rewrite(file, updated), refused)
      return { path: workspace.relative(file.real), replacements: replace_all === true ? occurrences : 1 }
    }))
  })
