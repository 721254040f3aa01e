/**
 * The static gate: may this tool, with these arguments, run at all?
 *
 * A policy looks at a call before anything else happens to it and answers
 * `Allow` (pre-approved: the approval handler is not asked), `Ask` (the
 * approval handler decides) or `Deny` (the call does not run and the model
 * reads the reason). `ToolPolicy` is a `Context.Reference` whose default,
 * {@link permitAll}, asks for every call, which together with the default
 * auto-approving handler lets everything run. Swap it with {@link layer}.
 *
 * Policies are plain values of the {@link ToolPolicy} shape, so a rule engine,
 * a function and a combination of both slot in the same way.
 *
 * @since 0.1.0
 */
import { Context, Data, Effect, Layer, Schema } from "effect"
import type { Tool } from "effect/ai"
import type { Origin, ToolCall } from "./ToolCall.ts"
import type { ToolClass } from "./ToolClass.ts"

// -----------------------------------------------------------------------------
// Models
// -----------------------------------------------------------------------------

/**
 * The three answers a policy gives, as rule lists, defaults and verdicts
 * spell them: one vocabulary, declared here and reused by the rule engine,
 * the policy file, the CLI and the record of every call.
 *
 * @example
 * ```ts
 * import { ToolPolicy } from "toolgate"
 * const level: ToolPolicy.Level = "ask"
 * ```
 *
 * @since 0.1.0
 */
export const Level = Schema.Literals(["allow", "ask", "deny"])

/** @since 0.1.0 */
export type Level = typeof Level.Type

/**
 * The permission modes: `default`, `plan` (only read-only tools run),
 * `acceptEdits` (file edits inside the workspace are pre-approved) and
 * `bypass` (everything but deny rules and what the engine cannot judge).
 *
 * @example
 * ```ts
 * import { ToolPolicy } from "toolgate"
 * const mode: ToolPolicy.Mode = "plan"
 * ```
 *
 * @since 0.1.0
 */
export const Mode = Schema.Literals(["default", "plan", "acceptEdits", "bypass"])

/** @since 0.1.0 */
export type Mode = typeof Mode.Type

/**
 * What the engine can establish about a call by itself, not from a rule
 * anyone wrote. A closed set: a UI or an audit reader can rely on seeing
 * only these.
 *
 * - `unreadable`: the tool's params could not be read as the rule needs them.
 * - `unparseable`: the shell command could not be parsed.
 * - `opaque`: a part of the command is not understood (an interpreter's code,
 *   an unknown option).
 * - `script judged by its commands`: a script whose every command was judged.
 * - `reads are judged by the command`: a read redirection.
 * - `harmless device`: a redirection to `/dev/null` and its kin.
 * - `uncovered effect`: the program does something (runs code, writes or
 *   reads a file) that the matching allow rule does not cover.
 * - `network`: the command reaches the network, which no prefix rule covers.
 * - `ambiguous MCP name`: the name cannot be split into one (server, tool).
 * - `not sandboxed`: a Bash command a rule allows, where no sandbox stands
 *   behind the rules (`BuiltinTools.guard`): it needs a human.
 * - `protected file`: under `acceptEdits`, an edit inside the root of a file
 *   that configures what runs or grants more (`.git/`, agent settings,
 *   `.npmrc`, …), which the mode does not pre-approve.
 *
 * @example
 * ```ts
 * import { ToolPolicy } from "toolgate"
 * const fact: ToolPolicy.Fact = "unparseable"
 * ```
 *
 * @since 0.1.0
 */
export const Fact = Schema.Literals([
  "unreadable",
  "unparseable",
  "opaque",
  "script judged by its commands",
  "reads are judged by the command",
  "harmless device",
  "uncovered effect",
  "network",
  "ambiguous MCP name",
  "not sandboxed",
  "protected file"
])

/** @since 0.1.0 */
export type Fact = typeof Fact.Type

/**
 * What made a verdict, so that UIs and the audit log can show it. A tagged
 * union, defined once as a Schema so every boundary (audit log, CLI, web
 * console) encodes it the same way:
 *
 * - `Rule`: a rule from a list matched; `rule` is its text as written.
 * - `Default`: no rule matched and the policy's default applied.
 * - `Mode`: the permission mode decided (`plan`, `acceptEdits`, `bypass`).
 * - `Fact`: something the engine established about the call itself (one of
 *   {@link Fact}), not a rule anyone wrote.
 *
 * `segment` is the part of a shell command the match is about, if any.
 *
 * @example
 * ```ts
 * import { ToolPolicy } from "toolgate"
 * const m: ToolPolicy.Match = { _tag: "Rule", list: "deny", rule: "Bash(rm:*)", segment: "rm -rf /" }
 * ToolPolicy.describeMatch(m) // => "deny: Bash(rm:*)"
 * ```
 *
 * @since 0.1.0
 */
export const Match = Schema.TaggedUnion({
  Rule: {
    list: Level,
    rule: Schema.String,
    segment: Schema.optional(Schema.String)
  },
  Default: { value: Level, segment: Schema.optional(Schema.String) },
  Mode: { mode: Mode, segment: Schema.optional(Schema.String) },
  Fact: { fact: Fact, segment: Schema.optional(Schema.String) }
})

/**
 * @since 0.1.0
 */
export type Match = typeof Match.Type

/**
 * A match as one short line: `deny: Bash(rm:*)`, `default: ask`,
 * `mode: plan`, `engine: unparseable`.
 *
 * @example
 * ```ts
 * import { ToolPolicy } from "toolgate"
 * ToolPolicy.describeMatch({ _tag: "Default", value: "ask" }) // => "default: ask"
 * ```
 *
 * @since 0.1.0
 */
export const describeMatch = (match: Match, separator = ": "): string =>
  Match.match(match, {
    Rule: ({ list, rule }) => `${list}${separator}${rule}`,
    Default: ({ value }) => `default${separator}${value}`,
    Mode: ({ mode }) => `mode${separator}${mode}`,
    Fact: ({ fact }) => `engine${separator}${fact}`
  })

/**
 * A policy's answer for one call.
 *
 * - `Allow`: pre-approved, the approval handler is not asked.
 * - `Ask`: the approval handler decides; `reason` says why it is asked.
 * - `Deny`: the call does not run; the model reads `reason`.
 *
 * @example
 * ```ts
 * import { ToolPolicy } from "toolgate"
 * const v = ToolPolicy.Verdict.Deny({ reason: "no writes under /etc" })
 * ToolPolicy.Verdict.$match(v, { Allow: () => "run", Ask: () => "ask", Deny: (d) => d.reason })
 * ```
 *
 * @since 0.1.0
 */
export type Verdict = Data.TaggedEnum<{
  Allow: { readonly match?: Match | undefined }
  Ask: { readonly reason?: string | undefined; readonly match?: Match | undefined }
  Deny: { readonly reason: string; readonly match?: Match | undefined }
}>

const VerdictEnum = Data.taggedEnum<Verdict>()

/**
 * Constructors and matchers for {@link Verdict}. `Allow()` and `Ask()` take
 * their options optionally.
 *
 * @example
 * ```ts
 * import { ToolPolicy } from "toolgate"
 * ToolPolicy.Verdict.Allow()
 * ToolPolicy.Verdict.Ask({ reason: "writes a file" })
 * ToolPolicy.Verdict.$is("Deny")(ToolPolicy.Verdict.Deny({ reason: "no" })) // true
 * ```
 *
 * @since 0.1.0
 */
export const Verdict = {
  Allow: (options: { readonly match?: Match | undefined } = {}): Verdict => VerdictEnum.Allow(options),
  Ask: (options: { readonly reason?: string | undefined; readonly match?: Match | undefined } = {}): Verdict =>
    VerdictEnum.Ask(options),
  Deny: VerdictEnum.Deny as (options: { readonly reason: string; readonly match?: Match | undefined }) => Verdict,
  $is: VerdictEnum.$is,
  $match: VerdictEnum.$match
}

/**
 * What a policy sees: the call as the model sent it (params not yet
 * decoded), the tool it names when the toolkit has one, the tool's class, and
 * where in the agent tree the call comes from.
 *
 * @example
 * ```ts
 * import type { ToolPolicy } from "toolgate"
 * const isShell = (r: ToolPolicy.PolicyRequest) => r.call.name === "Bash"
 * ```
 *
 * @since 0.1.0
 */
export interface PolicyRequest {
  readonly call: ToolCall
  readonly tool: Tool.Any | undefined
  readonly toolClass: ToolClass | undefined
  readonly origin: Origin
}

/**
 * The policy service shape. `decide` may fail or die: the executor then
 * denies the call with a reason naming the fault (fail closed).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ToolPolicy } from "toolgate"
 * const p: ToolPolicy.ToolPolicy = { decide: () => Effect.succeed(ToolPolicy.Verdict.Ask()) }
 * ```
 *
 * @since 0.1.0
 */
export interface ToolPolicy {
  readonly decide: (request: PolicyRequest) => Effect.Effect<Verdict, unknown>
}

// -----------------------------------------------------------------------------
// Constructors
// -----------------------------------------------------------------------------

const ask = Verdict.Ask()
const allow = Verdict.Allow()

/**
 * The default policy: every tool may run, and the approval handler decides
 * each call (`Ask`). With the default auto-approving handler, everything runs.
 *
 * @example
 * ```ts
 * import { ToolPolicy } from "toolgate"
 * const layer = ToolPolicy.layer(ToolPolicy.permitAll)
 * ```
 *
 * @since 0.1.0
 */
export const permitAll: ToolPolicy = { decide: () => Effect.succeed(ask) }

/**
 * Pre-approves every call: the approval handler is never asked. For trusted,
 * headless runs only.
 *
 * @example
 * ```ts
 * import { ToolPolicy } from "toolgate"
 * const layer = ToolPolicy.layer(ToolPolicy.allowAll)
 * ```
 *
 * @since 0.1.0
 */
export const allowAll: ToolPolicy = { decide: () => Effect.succeed(allow) }

/**
 * A policy from a function returning a verdict or an effect of one.
 *
 * @example
 * ```ts
 * import { ToolPolicy } from "toolgate"
 * const noNetwork = ToolPolicy.make(({ call }) =>
 *   call.name === "Fetch" ? ToolPolicy.Verdict.Deny({ reason: "no network in CI" }) : ToolPolicy.Verdict.Ask()
 * )
 * ```
 *
 * @since 0.1.0
 */
export const make = (
  decide: (request: PolicyRequest) => Verdict | Effect.Effect<Verdict, unknown>
): ToolPolicy => ({
  decide: (request) => {
    const verdict = decide(request)
    return Effect.isEffect(verdict) ? verdict : Effect.succeed(verdict)
  }
})

/**
 * A verdict per tool name, `fallback` (default `Ask`) for the others.
 *
 * @example
 * ```ts
 * import { ToolPolicy } from "toolgate"
 * const p = ToolPolicy.byName({
 *   Read: ToolPolicy.Verdict.Allow(),
 *   Bash: ToolPolicy.Verdict.Deny({ reason: "no shell here" })
 * })
 * ```
 *
 * @since 0.1.0
 */
export const byName = (
  verdicts: Readonly<Record<string, Verdict>>,
  fallback: Verdict = ask
): ToolPolicy => {
  const table = new Map(Object.entries(verdicts))
  return { decide: ({ call }) => Effect.succeed(table.get(call.name) ?? fallback) }
}

/**
 * A verdict per tool class. Unknown tools (no class) get `Ask`; the executor
 * answers them with `NotFound` anyway.
 *
 * @example
 * ```ts
 * import { ToolPolicy } from "toolgate"
 * // reads run unasked, mutations are asked
 * const p = ToolPolicy.byClass({ ReadOnly: ToolPolicy.Verdict.Allow(), Mutating: ToolPolicy.Verdict.Ask() })
 * ```
 *
 * @since 0.1.0
 */
export const byClass = (verdicts: { readonly ReadOnly: Verdict; readonly Mutating: Verdict }): ToolPolicy => ({
  decide: ({ toolClass }) => Effect.succeed(toolClass === undefined ? ask : verdicts[toolClass])
})

const severity = (verdict: Verdict): number => verdict._tag === "Deny" ? 2 : verdict._tag === "Ask" ? 1 : 0

/**
 * Combines policies: every policy is consulted and the strictest verdict
 * wins (deny over ask over allow; the first among equals). A policy that
 * fails makes the combination fail, which the executor turns into a deny.
 *
 * @example
 * ```ts
 * import { ToolPolicy } from "toolgate"
 * const p = ToolPolicy.combine(
 *   ToolPolicy.byClass({ ReadOnly: ToolPolicy.Verdict.Allow(), Mutating: ToolPolicy.Verdict.Ask() }),
 *   ToolPolicy.byName({ Bash: ToolPolicy.Verdict.Deny({ reason: "no shell" }) }, ToolPolicy.Verdict.Allow())
 * )
 * ```
 *
 * @since 0.1.0
 */
export const combine = (...policies: ReadonlyArray<ToolPolicy>): ToolPolicy => ({
  decide: (request) =>
    Effect.reduce(policies, () => allow, (strictest, policy) =>
      severity(strictest) === 2
        ? Effect.succeed(strictest)
        : Effect.map(policy.decide(request), (verdict) => severity(verdict) > severity(strictest) ? verdict : strictest))
})

// -----------------------------------------------------------------------------
// Service
// -----------------------------------------------------------------------------

/**
 * The policy in force. Defaults to {@link permitAll}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ToolPolicy } from "toolgate"
 * const program = Effect.gen(function*() {
 *   const policy = yield* ToolPolicy.ToolPolicy
 *   return policy
 * })
 * ```
 *
 * @since 0.1.0
 */
export const ToolPolicy = Context.Reference<ToolPolicy>("toolgate/ToolPolicy", {
  defaultValue: () => permitAll
})

/**
 * A Layer putting `policy` in place.
 *
 * @example
 * ```ts
 * import { ToolPolicy } from "toolgate"
 * const PolicyLive = ToolPolicy.layer(
 *   ToolPolicy.byName({ Write: ToolPolicy.Verdict.Deny({ reason: "read-only session" }) })
 * )
 * ```
 *
 * @since 0.1.0
 */
export const layer = (policy: ToolPolicy): Layer.Layer<never> => Layer.succeed(ToolPolicy, policy)
