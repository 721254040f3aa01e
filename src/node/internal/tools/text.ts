/**
 * Text limits shared by the file tools: how large a file they read, how a
 * binary file is told apart, how a long line is cut. One place, so `Read`,
 * `Edit` and `Grep` agree on what "a text file" is.
 */
import { Effect } from "effect"
import type { OpenFile, Refusal } from "../workspace.ts"
import * as Workspace from "../workspace.ts"

/** Files larger than this are refused by `Read` and `Edit`, skipped by `Grep`. */
export const maxFileBytes = 10 * 1024 * 1024

/**
 * A NUL byte anywhere makes a file binary. The whole file is scanned (it is
 * in memory anyway, at most {@link maxFileBytes}): a text header over a
 * binary body is still binary.
 */
export const isBinary = (bytes: Uint8Array): boolean => bytes.includes(0)

export const cut = (line: string, max: number): string =>
  line.length <= max ? line : `${line.slice(0, max)}… [line cut at ${max} characters]`

export type Content =
  | { readonly _tag: "Text"; readonly text: string }
  | { readonly _tag: "TooLarge"; readonly size: number }
  | { readonly _tag: "Binary" }

/** The content of an open file, unless it is too large or binary. */
export const content = (file: OpenFile): Effect.Effect<Content, Refusal> =>
  file.size > maxFileBytes
    ? Effect.succeed({ _tag: "TooLarge", size: file.size })
    : Effect.map(Workspace.readAll(file), (bytes): Content =>
      // The size was checked on the descriptor; a file grown since is cut here.
      bytes.length > maxFileBytes
        ? { _tag: "TooLarge", size: bytes.length }
        : isBinary(bytes)
        ? { _tag: "Binary" }
        : { _tag: "Text", text: Buffer.from(bytes).toString("utf8") })
