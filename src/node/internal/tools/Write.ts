/**
 * `Write`: a file's full new content. Missing parent directories are made
 * one at a time from verified directory descriptors, the file is created
 * with `O_EXCL | O_NOFOLLOW` or opened with `O_NOFOLLOW`, and a file with
 * more than one hard link is refused: the bytes land in the file the path
 * names inside the workspace, or nowhere.
 */
import { Effect, Schema } from "effect"
import { Tool } from "effect/ai"
import * as PolicySubject from "../../../policy/PolicySubject.ts"
import type { Workspace } from "../workspace.ts"
import * as WorkspaceFiles from "../workspace.ts"
import * as Listed from "./listed.ts"
import { FileNotFound, IoFailure, NotReadable, NotWritable, OutsideWorkspace, writeRefusal } from "./errors.ts"

export const Write = PolicySubject.path("file_path")(Tool.make("Write", {
  description: "Write a file in the workspace, replacing it if it exists. Creates missing parent directories.",
  parameters: Schema.Struct({
    file_path: Schema.String.annotate({ description: "Path of the file, relative to the workspace root or absolute inside it" }),
    content: Schema.String.annotate({ description: "The full new content of the file" })
  }),
  success: Schema.Struct({ path: Schema.String, bytes: Schema.Number, created: Schema.Boolean }),
  failure: Schema.Union([OutsideWorkspace, FileNotFound, NotReadable, NotWritable, IoFailure])
}))

export const handler = (workspace: Workspace) =>
  Effect.fn("toolgate.Write")(function*({ content, file_path }: Tool.Parameters<typeof Write>) {
    yield* Listed.checkWrite(workspace, file_path)
    const refused = writeRefusal(file_path, workspace.real)
    return yield* Effect.scoped(Effect.gen(function*() {
      const file = yield* Effect.mapError(workspace.openWrite(file_path, { create: true }), refused)
      yield* Listed.checkWrite(workspace, file.real)
      yield* Effect.mapError(WorkspaceFiles.rewrite(file, content), refused)
      return { path: workspace.relative(file.real), bytes: Buffer.byteLength(content), created: file.created }
    }))
  })
