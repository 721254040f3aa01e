/**
 * The credential and protected-path lists (`../credentials.ts`) applied to a
 * file tool's path: the requested one before opening, the opened file's
 * real one before reading or writing it.
 */
import { Effect } from "effect"
import * as NodePath from "node:path"
import * as Credentials from "../credentials.ts"
import type { Workspace } from "../workspace.ts"
import { NotReadable, NotWritable } from "./errors.ts"

const reason = (workspace: Workspace, path: string, access: "read" | "write") =>
  Credentials.refusal(workspace.relative(NodePath.resolve(workspace.real, path)), access)

/** Fails with `NotReadable` when the credential list covers `path`. */
export const checkRead = (workspace: Workspace, path: string): Effect.Effect<void, NotReadable> =>
  Effect.suspend(() => {
    const message = reason(workspace, path, "read")
    return message === undefined ? Effect.void : Effect.fail(new NotReadable({ path, message }))
  })

/** Fails with `NotWritable` when the credential or protected-path list covers `path`. */
export const checkWrite = (workspace: Workspace, path: string): Effect.Effect<void, NotWritable> =>
  Effect.suspend(() => {
    const message = reason(workspace, path, "write")
    return message === undefined ? Effect.void : Effect.fail(new NotWritable({ path, message }))
  })

/** One line for a search result: which paths were left out and why. */
export const describeWithheld = (paths: ReadonlyArray<string>): string =>
  `${paths.length} path(s) left out because they hold credentials: ${paths.slice(0, 20).join(", ")}` +
  (paths.length > 20 ? `, and ${paths.length - 20} more` : "")
