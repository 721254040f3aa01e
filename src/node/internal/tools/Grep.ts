/**
 * `Grep`: lines matching a JavaScript regular expression, in the files of
 * the confined walk (`walk.ts`). Files are read concurrently on the main
 * thread through checked descriptors; the matching runs in a worker thread,
 * because a backtracking pattern (`(a+)+$`) can spin for minutes inside one
 * `RegExp.test` call and only terminating its thread stops it. The deadline
 * is therefore real: when it passes the worker is terminated and the call
 * fails with `SearchTimedOut`, and the event loop never blocked meanwhile.
 */
import { Duration, Effect, Schema } from "effect"
import { Tool } from "effect/ai"
import picomatch from "picomatch"
import { Worker } from "node:worker_threads"
import * as PolicySubject from "../../../policy/PolicySubject.ts"
import type { Workspace } from "../workspace.ts"
import {
  FileNotFound,
  InvalidPattern,
  IoFailure,
  NotReadable,
  OutsideWorkspace,
  readRefusal,
  SearchTimedOut
} from "./errors.ts"
import { escapes, namesDotFiles } from "./Glob.ts"
import * as Listed from "./listed.ts"
import * as Text from "./text.ts"
import * as Walk from "./walk.ts"

const GrepMatch = Schema.Struct({ file: Schema.String, line: Schema.Number, text: Schema.String })

export const Grep = PolicySubject.path("path")(Tool.make("Grep", {
  description: "Search file contents in the workspace with a regular expression (JavaScript syntax), line by line. " +
    "Returns matching lines with workspace-relative file and 1-based line number. " +
    "node_modules, .git, git-ignored and binary files are skipped.",
  parameters: Schema.Struct({
    pattern: Schema.String.annotate({ description: "Regular expression to search for" }),
    path: Schema.optional(Schema.String.annotate({ description: "File or directory to search (default: the workspace root)" })),
    glob: Schema.optional(Schema.String.annotate({ description: "Only search files matching this glob, e.g. \"*.ts\"" }))
  }),
  success: Schema.Struct({ matches: Schema.Array(GrepMatch), truncated: Schema.Boolean, withheld: Schema.optional(Schema.String.annotate({
    description: "Paths left out because they hold credentials (toolgate's credential list), whatever the rules allow"
  })) }),
  failure: Schema.Union([OutsideWorkspace, FileNotFound, NotReadable, InvalidPattern, SearchTimedOut, IoFailure])
}).annotate(Tool.Readonly, true))

export const maxMatches = 250
const maxLineChars = 500
/** Files read at once; the worker matches one at a time. */
const readConcurrency = 8

/**
 * The matcher, run as the worker's source (`eval`): no file to resolve, so it
 * works the same from `src/` and from the built package. It answers each
 * `{ id, text }` with the matching lines, at most `limit` of them.
 */
const matcherSource = `
const { parentPort, workerData } = require("node:worker_threads")
const regex = new RegExp(workerData.pattern)
parentPort.on("message", ({ id, text }) => {
  const lines = text.split(/\\r?\\n/)
  const found = []
  for (let i = 0; i < lines.length && found.length < workerData.limit; i++) {
    if (regex.test(lines[i])) found.push([i + 1, lines[i]])
  }
  parentPort.postMessage({ id, found })
})
`

type Found = ReadonlyArray<readonly [number, string]>

/** A matcher worker living as long as the scope; `match` fails if the worker dies. */
const matcher = (pattern: string, limit: number) =>
  Effect.gen(function*() {
    const worker = yield* Effect.acquireRelease(
      Effect.sync(() => new Worker(matcherSource, { eval: true, workerData: { pattern, limit } })),
      (worker) => Effect.promise(() => worker.terminate())
    )
    const waiting = new Map<number, (found: Found | Error) => void>()
    let crashed: Error | undefined
    worker.on("message", ({ found, id }: { id: number; found: Found }) => waiting.get(id)?.(found))
    worker.on("error", (error) => {
      crashed = error
      for (const resume of waiting.values()) resume(error)
    })
    let next = 0
    return (text: string) =>
      Effect.callback<Found, Error>((resume) => {
        if (crashed !== undefined) return resume(Effect.fail(crashed))
        const id = next++
        waiting.set(id, (found) => {
          waiting.delete(id)
          resume(found instanceof Error ? Effect.fail(found) : Effect.succeed(found))
        })
        worker.postMessage({ id, text })
      })
  })

export const handler = (workspace: Workspace, timeout: Duration.Duration) =>
  Effect.fn("toolgate.Grep")(function*({ glob, path, pattern }: Tool.Parameters<typeof Grep>) {
    yield* Effect.try({
      try: () => new RegExp(pattern),
      catch: (error) => new InvalidPattern({ pattern, message: `not a valid regular expression: ${String(error)}` })
    })
    if (glob !== undefined && escapes(glob)) {
      return yield* new InvalidPattern({ pattern: glob, message: "a glob may not start with / or contain .." })
    }
    const shown = path ?? "."
    // As in ripgrep, a glob without a slash matches file names at any depth.
    const filter = glob === undefined ? "**/*" : glob.includes("/") ? glob : `**/${glob}`
    const dot = namesDotFiles(filter)

    // The deadline covers the walk too: a huge tree is bounded like a slow pattern.
    const search = Effect.scoped(Effect.gen(function*() {
      const listing = yield* Walk.list(workspace, shown, {
        include: picomatch(filter, { dot }),
        limit: Number.MAX_SAFE_INTEGER,
        dot
      }).pipe(Effect.mapError(readRefusal(shown, workspace.real)))
      if (listing.single) yield* Listed.checkRead(workspace, listing.files[0]!)
      const match = yield* matcher(pattern, maxMatches + 1)
      let total = 0
      const perFile = yield* Effect.forEach(listing.files, (file) =>
        Effect.gen(function*() {
          // Stop reading once enough matches are in; files already queued finish.
          if (total > maxMatches) return []
          const content = yield* Effect.scoped(Effect.flatMap(workspace.openRead(file), Text.content)).pipe(
            Effect.orElseSucceed((): Text.Content => ({ _tag: "Binary" }))
          )
          if (content._tag !== "Text") return []
          const found = yield* match(content.text).pipe(
            Effect.mapError((error) => new IoFailure({ path: shown, message: `the matcher failed: ${error.message}` }))
          )
          total += found.length
          return found.map(([line, text]) => ({ file: workspace.relative(file), line, text: Text.cut(text, maxLineChars) }))
        }), { concurrency: readConcurrency })
      return { found: perFile.flat(), walkCut: listing.truncated, withheld: listing.withheld }
    }))

    const all = yield* Effect.timeoutOption(search, timeout)
    if (all._tag === "None") {
      return yield* new SearchTimedOut({
        pattern,
        timeoutMs: Duration.toMillis(timeout),
        message: `the search did not finish within ${Duration.format(timeout)} and was stopped; ` +
          `a pattern with nested quantifiers such as (a+)+ can take exponential time: simplify it, or narrow path or glob`
      })
    }
    const { found, walkCut, withheld } = all.value
    return {
      matches: found.slice(0, maxMatches),
      truncated: walkCut || found.length > maxMatches,
      ...(withheld.length === 0 ? {} : { withheld: Listed.describeWithheld(withheld) })
    }
  })
