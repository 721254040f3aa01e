/**
 * Claude Code's hook protocol, as toolgate answers it: the payloads it
 * reads (`PreToolUse`, `PermissionRequest`, `PostToolUse`; any other event
 * gets no opinion) and the answers it gives. The same functions serve the
 * command hook (`toolgate check --hook claude`, one process per call) and
 * the HTTP hook (`toolgate serve`).
 *
 * The rule of this module: **every failure blocks**. Claude Code runs a
 * tool whose hook exited with a status other than 0 or 2, or printed
 * nothing it could read, so a hook that crashes or cannot read its policy
 * must still answer "deny" — never exit 64 with an empty stdout.
 *
 * Fitting Claude Code's own permission flow:
 *
 * - A call that no toolgate rule mentions (the verdict came from the
 *   policy's default `ask`) gets **no opinion** (`unmatched: "defer"`,
 *   the default): Claude Code's own rules and prompt then apply. With
 *   `unmatched: "ask"` toolgate forces the prompt instead.
 * - The payload's `permission_mode` is honoured with toolgate's mode
 *   semantics (`plan`, `acceptEdits`, `bypassPermissions` → `bypass`),
 *   but never looser than a `defaultMode` the policy files set.
 * - Relative paths resolve against the payload's `cwd`.
 *
 * @since 0.3.0
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as PolicyRules from "../../policy/PolicyRules.ts"
import * as Modes from "../../policy/internal/modes.ts"
import * as ToolPolicy from "../../ToolPolicy.ts"

const Common = {
  session_id: Schema.optional(Schema.String),
  transcript_path: Schema.optional(Schema.String),
  cwd: Schema.optional(Schema.String),
  permission_mode: Schema.optional(Schema.String),
  tool_use_id: Schema.optional(Schema.String)
}

/**
 * The hook payloads toolgate acts on. `tool_input` must be an object (Claude
 * Code always sends one); anything else is not a call toolgate can judge.
 *
 * @since 0.3.0
 */
export const ToolPayload = Schema.Struct({
  ...Common,
  hook_event_name: Schema.Literals(["PreToolUse", "PermissionRequest"]),
  tool_name: Schema.String,
  tool_input: Schema.Record(Schema.String, Schema.Unknown)
})

/** @since 0.3.0 */
export type ToolPayload = typeof ToolPayload.Type

/**
 * `PostToolUse`: the call ran; toolgate records it in the audit log.
 *
 * @since 0.3.0
 */
export const PostPayload = Schema.Struct({
  ...Common,
  hook_event_name: Schema.Literal("PostToolUse"),
  tool_name: Schema.String,
  tool_input: Schema.Unknown,
  tool_response: Schema.optional(Schema.Unknown)
})

/** @since 0.3.0 */
export type PostPayload = typeof PostPayload.Type

/**
 * A payload read from the hook's input.
 *
 * - `Tool`: a call to judge (`PreToolUse`, `PermissionRequest`).
 * - `Post`: a call that ran (`PostToolUse`).
 * - `Other`: an event toolgate does not handle: no opinion.
 * - `Bad`: not a payload toolgate can read: the call is blocked.
 *
 * @since 0.3.0
 */
export type Payload =
  | { readonly _tag: "Tool"; readonly payload: ToolPayload }
  | { readonly _tag: "Post"; readonly payload: PostPayload }
  | { readonly _tag: "Other"; readonly event: string }
  | { readonly _tag: "Bad"; readonly error: string }

const decodeTool = Schema.decodeUnknownResult(ToolPayload)
const decodePost = Schema.decodeUnknownResult(PostPayload)

/**
 * Reads one hook payload from its JSON text.
 *
 * @example
 * ```ts
 * import { readPayload } from "../src/cli/hook/claude.ts"
 * readPayload('{"hook_event_name":"Stop"}') // => { _tag: "Other", event: "Stop" }
 * readPayload("nope")._tag // => "Bad"
 * ```
 *
 * @since 0.3.0
 */
export const readPayload = (text: string): Payload => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return { _tag: "Bad", error: `the hook input is not valid JSON (${(error as Error).message.split("\n")[0]})` }
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { _tag: "Bad", error: "the hook input is not a JSON object" }
  }
  const event = (json as { hook_event_name?: unknown }).hook_event_name
  if (event === "PreToolUse" || event === "PermissionRequest") {
    const tool = decodeTool(json)
    return Result.isSuccess(tool)
      ? { _tag: "Tool", payload: tool.success }
      : { _tag: "Bad", error: `the ${event} payload is malformed (${tool.failure.message.split("\n")[0]})` }
  }
  if (event === "PostToolUse") {
    const post = decodePost(json)
    return Result.isSuccess(post)
      ? { _tag: "Post", payload: post.success }
      : { _tag: "Bad", error: `the PostToolUse payload is malformed (${post.failure.message.split("\n")[0]})` }
  }
  // A payload without an event name is the older PreToolUse shape toolgate
  // has always read ({tool_name, tool_input}): judge it as one.
  if (event === undefined && "tool_name" in json) {
    const tool = decodeTool({ ...json, hook_event_name: "PreToolUse" })
    return Result.isSuccess(tool)
      ? { _tag: "Tool", payload: tool.success }
      : { _tag: "Bad", error: `the payload is malformed (${tool.failure.message.split("\n")[0]})` }
  }
  return typeof event === "string" ? { _tag: "Other", event } : { _tag: "Bad", error: "the hook input has no hook_event_name" }
}

/**
 * What the hook answers, in the form both transports send: `body` is the
 * JSON Claude Code reads (stdout of a command hook, the response body of an
 * HTTP hook), `undefined` for no opinion; `exitCode` 2 with `stderr` blocks
 * the call where no JSON answer can be formed.
 *
 * @since 0.3.0
 */
export interface Reply {
  readonly body?: unknown
  readonly stderr?: string | undefined
  readonly exitCode: 0 | 2
}

/**
 * A blocking reply for a failure: the JSON deny answer of the event when it
 * is known, else exit status 2 with the reason on stderr (which Claude Code
 * treats as "block" for `PreToolUse` and `PermissionRequest`).
 *
 * @example
 * ```ts
 * import { failure } from "../src/cli/hook/claude.ts"
 * failure("cannot read .toolgate.json").exitCode // => 2
 * ```
 *
 * @since 0.3.0
 */
export const failure = (reason: string, event?: string): Reply => {
  const message = `toolgate: blocked: ${reason}`
  if (event === "PreToolUse") return { body: preToolUse("deny", message), stderr: message, exitCode: 0 }
  if (event === "PermissionRequest") return { body: permissionDeny(message, false), stderr: message, exitCode: 0 }
  return { stderr: message, exitCode: 2 }
}

/** No opinion: Claude Code's own flow decides. */
export const noOpinion: Reply = { exitCode: 0 }

const preToolUse = (decision: "allow" | "ask" | "deny", reason: string) => ({
  hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: decision, permissionDecisionReason: reason }
})

const permissionAllow = (updatedInput?: unknown) => ({
  hookSpecificOutput: {
    hookEventName: "PermissionRequest",
    decision: updatedInput === undefined ? { behavior: "allow" } : { behavior: "allow", updatedInput }
  }
})

const permissionDeny = (message: string, interrupt: boolean) => ({
  hookSpecificOutput: { hookEventName: "PermissionRequest", decision: { behavior: "deny", message, interrupt } }
})

/**
 * What to do with a call no rule mentions: `defer` (no opinion, Claude
 * Code's flow applies) or `ask` (force Claude Code's prompt).
 *
 * @since 0.3.0
 */
export type Unmatched = "defer" | "ask"

/**
 * The policy a hook judges with.
 *
 * - `mode`: an explicit `--mode`; it overrides the payload's
 *   `permission_mode`.
 *
 * @since 0.3.0
 */
export interface Gate {
  readonly rules: PolicyRules.Rules
  readonly env: PolicyRules.Environment
  readonly mode?: PolicyRules.Mode | undefined
  readonly unmatched: Unmatched
  /** With `--root` given, a payload's `cwd` does not move the root. */
  readonly rootGiven: boolean
}

/**
 * Claude Code's permission mode in toolgate's terms. An unknown mode
 * (a newer Claude Code) counts as `default`: the rules as written.
 *
 * @example
 * ```ts
 * import { modeOf } from "../src/cli/hook/claude.ts"
 * modeOf("bypassPermissions") // => "bypass"
 * ```
 *
 * @since 0.3.0
 */
export const modeOf = (mode: string | undefined): PolicyRules.Mode => {
  switch (mode) {
    case "plan":
      return "plan"
    case "acceptEdits":
      return "acceptEdits"
    case "bypassPermissions":
      return "bypass"
    default:
      return "default"
  }
}

/**
 * The environment one payload is judged in: its `cwd` (unless `--root` was
 * given) and its permission mode. A `defaultMode` the policy files set
 * (other than `default`, which is also what an unset one reads as) is a
 * floor the payload's mode cannot go below: a file saying `plan` keeps plan.
 */
const environmentFor = (gate: Gate, payload: ToolPayload): PolicyRules.Environment => {
  const files = gate.rules.mode === "default" ? [] : [gate.rules.mode]
  const mode = gate.mode ?? Modes.strictestMode([...files, modeOf(payload.permission_mode)])
  const root = gate.rootGiven || payload.cwd === undefined ? gate.env.root : payload.cwd
  return { ...gate.env, root, mode }
}

const reasonOf = (verdict: ToolPolicy.Verdict): string => {
  const rule = verdict.match === undefined ? undefined : ToolPolicy.describeMatch(verdict.match, " ")
  const reason = verdict._tag === "Allow" ? undefined : verdict.reason
  if (reason === undefined) return `toolgate: ${rule === undefined ? verdict._tag.toLowerCase() : `allowed by ${rule}`}`
  return `toolgate: ${reason}${rule === undefined ? "" : ` (${rule})`}`
}

/**
 * Whether no rule mentioned the call: the verdict is the policy's default
 * `ask`. An ask from a rule, a mode or the engine (a line it cannot read)
 * is toolgate's own opinion and is always given.
 */
const unmatched = (verdict: ToolPolicy.Verdict): boolean =>
  verdict._tag === "Ask" && verdict.match?._tag === "Default"

/**
 * The policy's verdict on a payload's call.
 *
 * @since 0.3.0
 */
export const judge = (gate: Gate, payload: ToolPayload): Effect.Effect<ToolPolicy.Verdict> =>
  Effect.map(
    PolicyRules.explain(gate.rules, { name: payload.tool_name, params: payload.tool_input }, environmentFor(gate, payload)),
    (explanation) => explanation.verdict
  )

/**
 * The answer to a `PreToolUse` or `PermissionRequest` payload from the
 * policy alone. A `PermissionRequest` that the policy does not settle
 * (ask) gets no opinion here: {@link askApprover} routes it to a person
 * where one is attached (`toolgate serve`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PolicyRules } from "toolgate/policy"
 * import { answer } from "../src/cli/hook/claude.ts"
 * const rules = Effect.runSync(PolicyRules.make({ deny: ["Bash(rm:*)"] }))
 * const gate = { rules, env: { root: "/repo", home: "/home/me" }, unmatched: "defer" as const, rootGiven: false }
 * const payload = { hook_event_name: "PreToolUse" as const, tool_name: "Bash", tool_input: { command: "rm -rf /" } }
 * Effect.runSync(answer(gate, payload)).exitCode // => 0
 * ```
 *
 * @since 0.3.0
 */
export const answer = (gate: Gate, payload: ToolPayload): Effect.Effect<Reply> =>
  Effect.map(judge(gate, payload), (verdict) => replyFor(gate, payload, verdict))

/**
 * The reply for a verdict already reached.
 *
 * @since 0.3.0
 */
export const replyFor = (gate: Gate, payload: ToolPayload, verdict: ToolPolicy.Verdict): Reply => {
  const reason = reasonOf(verdict)
  if (payload.hook_event_name === "PermissionRequest") {
    if (verdict._tag === "Deny") return { body: permissionDeny(reason, false), exitCode: 0 }
    if (verdict._tag === "Allow") return { body: permissionAllow(), exitCode: 0 }
    return noOpinion
  }
  if (unmatched(verdict) && gate.unmatched === "defer") return noOpinion
  return { body: preToolUse(verdict._tag === "Allow" ? "allow" : verdict._tag === "Ask" ? "ask" : "deny", reason), exitCode: 0 }
}

/**
 * A person's answer to a `PermissionRequest`, as Claude Code reads it:
 * allow (with the params as edited, when they were) or deny with the
 * reason; `stop` interrupts Claude Code's turn.
 *
 * @example
 * ```ts
 * import { permissionReply } from "../src/cli/hook/claude.ts"
 * permissionReply({ allow: false, reason: "not now", stop: true }).exitCode // => 0
 * ```
 *
 * @since 0.3.0
 */
export const permissionReply = (
  decision:
    | { readonly allow: true; readonly updatedInput?: unknown }
    | { readonly allow: false; readonly reason: string; readonly stop: boolean }
): Reply =>
  decision.allow
    ? { body: permissionAllow(decision.updatedInput), exitCode: 0 }
    : { body: permissionDeny(`toolgate: ${decision.reason}`, decision.stop), exitCode: 0 }
