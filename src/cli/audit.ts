/**
 * `toolgate audit FILE`: prints an audit log back as a readable timeline,
 * one line per record, grouped by run. Each line is decoded with the same
 * Schema the writer encodes with (`AuditLog.AuditRecord`); a line that does
 * not decode is reported with its number, and the exit status is then 64.
 *
 * @since 0.1.0
 */
import { Console, Effect, FileSystem, Schema } from "effect"
import { Argument, Command } from "effect/cli"
import * as AuditLog from "../node/AuditLog.ts"
import { escape } from "../node/TerminalApproval.ts"
import type { DecidedBy } from "../ToolResult.ts"
import { Exit, exitCodes } from "./check.ts"

const decodeLine = Schema.decodeUnknownExit(Schema.fromJsonString(AuditLog.AuditRecord))

const clock = (time: string) => time.length >= 23 ? time.slice(11, 23) : time

const short = (value: unknown, max = 80) => {
  const text = escape(JSON.stringify(value) ?? String(value))
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

const paramsOf = (r: { readonly params?: unknown; readonly paramsHash?: string | undefined }) =>
  r.paramsHash !== undefined ? r.paramsHash.slice(0, 19) : short(r.params)

const who: Record<DecidedBy, string> = {
  policy: "the policy",
  handler: "the approver",
  memory: "an earlier session answer",
  timeout: "the approval timeout",
  readOnlyFastPath: "the read-only fast path",
  fault: "a fault (denied to be safe)"
}

/**
 * One line of the timeline for a record.
 *
 * @example
 * ```ts
 * import { line } from "../src/cli/audit.ts"
 * line({ _tag: "RunEnded", time: "2026-12-02T10:00:00.000Z", runId: "r", stopReason: "Completed", exitCode: 0 })
 * // => "10:00:00.000  run ended: Completed (exit 0)"
 * ```
 *
 * @since 0.1.0
 */
export const line = (r: AuditLog.AuditRecord): string =>
  AuditLog.AuditRecord.match(r, {
    RunStarted: (x) =>
      [
        `${clock(x.time)}  run ${x.runId} started`,
        x.model !== undefined ? `  model ${x.model}` : "",
        x.workspace !== undefined ? `  workspace ${x.workspace}` : "",
        x.approver !== undefined ? `  approver: ${x.approver}` : ""
      ].join(""),
    Decided: (x) => {
      const indent = "  ".repeat(x.depth)
      const verdict = x.allowed ? "allowed" : "denied"
      const rule = x.rule !== undefined ? ` [${escape(x.rule)}]` : ""
      const reason = x.reason !== undefined ? `: ${escape(x.reason)}` : ""
      const edited = x.editedParams !== undefined
        ? ` with edited params ${short(x.editedParams)}`
        : x.editedParamsHash !== undefined
        ? ` with edited params ${x.editedParamsHash.slice(0, 19)}`
        : ""
      const stop = x.stop === true ? " — and stopped the run" : ""
      return `${clock(x.time)}  ${indent}${x.callId} ${escape(x.tool)} ${paramsOf(x)}  ${verdict} by ${who[x.decidedBy]}${rule}${edited}${reason}${stop}`
    },
    Finished: (x) => {
      const indent = "  ".repeat(x.depth)
      const detail = "reason" in x.outcome ? `: ${escape(String(x.outcome.reason))}` : x.outcome._tag === "Cancelled" ? ` (${x.outcome.phase})` : ""
      return `${clock(x.time)}  ${indent}${x.callId} ${escape(x.tool)} → ${x.verdict.toUpperCase()} ${x.outcome._tag}${detail}`
    },
    RunEnded: (x) => `${clock(x.time)}  run ended: ${x.stopReason} (exit ${x.exitCode})`
  })

/**
 * The `audit` subcommand.
 *
 * @example
 * ```ts
 * import { Command } from "effect/cli"
 * import { audit } from "../src/cli/audit.ts"
 * const root = Command.make("toolgate").pipe(Command.withSubcommands([audit]))
 * ```
 *
 * @since 0.1.0
 */
export const audit = Command.make("audit", {
  file: Argument.String("file").pipe(Argument.withDescription("an audit log written by toolgate run --audit"))
}, ({ file }) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(file).pipe(
      Effect.catch((error) =>
        Effect.andThen(
          Console.error(`toolgate audit: cannot read ${file}: ${error.message}`),
          Effect.fail(new Exit({ code: exitCodes.BadInput }))
        )
      )
    )
    let bad = 0
    let run: string | undefined
    for (const [index, raw] of text.split("\n").entries()) {
      if (raw.trim() === "") continue
      const decoded = decodeLine(raw)
      if (decoded._tag === "Failure") {
        bad++
        yield* Console.error(`toolgate audit: line ${index + 1} is not an audit record`)
        continue
      }
      const record = decoded.value
      if (record.runId !== run) {
        run = record.runId
        if (record._tag !== "RunStarted") yield* Console.log(`run ${record.runId}`)
      }
      yield* Console.log(line(record))
    }
    if (bad > 0) return yield* Effect.fail(new Exit({ code: exitCodes.BadInput }))
  })).pipe(Command.withDescription("Print an audit log (toolgate run --audit FILE) back as a readable timeline"))
