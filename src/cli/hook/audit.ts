/**
 * The audit records the Claude Code hook writes, in the audit log's own
 * format (`AuditLog.AuditRecord`), so `toolgate audit FILE` reads a hook's
 * log like a run's: the session is the run, the tool-use id the call.
 *
 * @since 0.3.0
 */
import * as Schema from "effect/Schema"
import { AuditRecord } from "../../node/AuditLog.ts"
import * as ToolPolicy from "../../ToolPolicy.ts"
import type * as Claude from "./claude.ts"

const encode = Schema.encodeSync(Schema.fromJsonString(AuditRecord))

/**
 * One audit line: `Decided` for the verdict on a `PreToolUse` or
 * `PermissionRequest` (allow or deny by the policy), `Finished` for a
 * `PostToolUse` (the call ran and Claude Code reports it succeeded).
 *
 * @example
 * ```ts
 * import { hookRecord } from "../src/cli/hook/audit.ts"
 * hookRecord({ hook_event_name: "PostToolUse", tool_name: "Read", tool_input: {} }, undefined, "2026-12-05T00:00:00.000Z")
 * ```
 *
 * @since 0.3.0
 */
export const hookRecord = (
  payload: Claude.ToolPayload | Claude.PostPayload,
  verdict: ToolPolicy.Verdict | undefined,
  time: string
): string => {
  const call = {
    time,
    runId: payload.session_id ?? "claude-code",
    callId: payload.tool_use_id ?? "",
    tool: payload.tool_name,
    depth: 0,
    params: payload.tool_input
  }
  if (verdict === undefined || payload.hook_event_name === "PostToolUse") {
    return encode({ _tag: "Finished", ...call, verdict: "allowed", outcome: { _tag: "Succeeded" }, isFailure: false })
  }
  return encode({
    _tag: "Decided",
    ...call,
    allowed: verdict._tag === "Allow",
    decidedBy: "policy",
    ...(verdict.match === undefined ? {} : { rule: ToolPolicy.describeMatch(verdict.match, " ") }),
    ...(verdict._tag === "Deny" ? { reason: verdict.reason } : {})
  })
}
