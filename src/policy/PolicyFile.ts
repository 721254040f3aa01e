/**
 * Policy files: permission rules in Claude Code's settings shape
 * (`{ "permissions": { "allow": [...], "ask": [...], "deny": [...], "defaultMode": "..." } }`),
 * validated with Schema, layered, and carrying their own self-tests.
 *
 * A file is applied whole or not at all: a bad file fails the load with the
 * file, the path inside it (or the line and column of a JSON syntax error)
 * and what is wrong; a file without `permissions`, or with a top-level key
 * that is neither a Claude Code setting nor `tests`, is bad (a misspelt
 * `"permision"` must not load as an empty policy). Layering can only
 * tighten: the lists are merged, so the strictest rule of any layer wins,
 * and `defaultMode` and `default` resolve to the strictest value of all
 * layers, a layer that sets neither counting as `default` and `ask` (a
 * project file cannot turn a user's ask into allow).
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Layer, Result, Schema } from "effect"
import * as JsonPosition from "./internal/jsonPosition.ts"
import * as Modes from "./internal/modes.ts"
import * as PolicyRules from "./PolicyRules.ts"
import type * as ToolPolicy from "../ToolPolicy.ts"

// -----------------------------------------------------------------------------
// Schemas
// -----------------------------------------------------------------------------

// Claude Code spells the bypass mode `bypassPermissions`; both are accepted so
// its settings files load unchanged.
const ModeName = Schema.Literals(["default", "plan", "acceptEdits", "bypass", "bypassPermissions"])
const Verdict = Schema.Literals(["allow", "ask", "deny"])

/**
 * The `permissions` object of a policy file. Unknown keys here are errors
 * (a typo like `"alow"` would otherwise drop rules silently). Claude Code's
 * `additionalDirectories` is accepted and ignored (toolgate's root comes
 * from the environment); `disableBypassPermissionsMode: "disable"` turns a
 * `bypass` `defaultMode` from any layer into `default`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { PolicyFile } from "toolgate/policy"
 * Schema.decodeUnknownSync(PolicyFile.Permissions)({ allow: ["Read"], defaultMode: "plan" })
 * ```
 *
 * @since 0.1.0
 */
export const Permissions = Schema.Struct({
  allow: Schema.optional(Schema.Array(Schema.String)),
  ask: Schema.optional(Schema.Array(Schema.String)),
  deny: Schema.optional(Schema.Array(Schema.String)),
  default: Schema.optional(Verdict),
  defaultMode: Schema.optional(ModeName),
  additionalDirectories: Schema.optional(Schema.Array(Schema.String)),
  disableBypassPermissionsMode: Schema.optional(Schema.Literal("disable"))
})

/**
 * One self-test: a call (as `toolgate check` takes it), the verdict it must
 * get, and optionally the mode to judge it in. Like Codex's `match` /
 * `not_match` examples, they keep a policy honest as it grows.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { PolicyFile } from "toolgate/policy"
 * Schema.decodeUnknownSync(PolicyFile.SelfTest)({ call: { name: "Bash", input: { command: "rm -rf /" } }, expect: "deny" })
 * ```
 *
 * @since 0.1.0
 */
export const SelfTest = Schema.Struct({
  call: Schema.Struct({ name: Schema.String, input: Schema.Unknown }),
  expect: Verdict,
  mode: Schema.optional(ModeName)
})

/**
 * A decoded self-test.
 *
 * @example
 * ```ts
 * import type { PolicyFile } from "toolgate/policy"
 * const t: PolicyFile.SelfTest = { call: { name: "Read", input: { file_path: "a" } }, expect: "allow" }
 * ```
 *
 * @since 0.1.0
 */
export type SelfTest = typeof SelfTest.Type

// The other top-level keys of a Claude Code settings file: accepted and
// ignored, so settings files load unchanged. Any other key is an error.
const settingsKeys = [
  "$schema", "apiKeyHelper", "awsAuthRefresh", "awsCredentialExport", "cleanupPeriodDays", "env", "includeCoAuthoredBy",
  "model", "hooks", "disableAllHooks", "statusLine", "outputStyle", "forceLoginMethod", "forceLoginOrgUUID",
  "enableAllProjectMcpServers", "enabledMcpjsonServers", "disabledMcpjsonServers", "enabledPlugins", "extraKnownMarketplaces",
  "sandbox", "spinnerTipsEnabled", "alwaysThinkingEnabled", "companyAnnouncements", "otelHeadersHelper", "theme", "verbose",
  "autoUpdates", "preferredNotifChannel", "allowedMcpServers", "deniedMcpServers", "subagentStatusLine", "plansDirectory"
] as const

const FileShape = Schema.Struct({
  permissions: Schema.Unknown,
  tests: Schema.optional(Schema.Array(SelfTest)),
  ...Object.fromEntries(settingsKeys.map((k) => [k, Schema.optional(Schema.Unknown)])) as {
    readonly [K in typeof settingsKeys[number]]: Schema.optional<Schema.Unknown>
  }
})

// -----------------------------------------------------------------------------
// Models
// -----------------------------------------------------------------------------

/**
 * A policy file that cannot be used: unreadable, not JSON, not the right
 * shape, or holding a rule that does not parse. Nothing from it is applied.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PolicyFile } from "toolgate/policy"
 * PolicyFile.load(["policy.json"]).pipe(
 *   Effect.catchTag("PolicyFileError", (e) => Effect.logError(e.message))
 * )
 * ```
 *
 * @since 0.1.0
 */
export class PolicyFileError extends Schema.TaggedError<PolicyFileError>()("PolicyFileError", {
  file: Schema.String,
  path: Schema.String,
  problem: Schema.String,
  /** `line L column C` of what `path` names, when the file's text holds it */
  position: Schema.optional(Schema.String)
}) {
  override get message(): string {
    const where = this.path === "" ? "" : this.position === undefined ? ` at ${this.path}` : ` at ${this.position} (${this.path})`
    return `${this.file}${where}: ${this.problem}. Fix the file and load it again; nothing from it was applied.`
  }
}

/**
 * A loaded policy: the merged rule set and every self-test, each with the
 * file it came from.
 *
 * @example
 * ```ts
 * import type { PolicyFile } from "toolgate/policy"
 * const count = (p: PolicyFile.Policy) => p.rules.deny.length
 * ```
 *
 * @since 0.1.0
 */
export interface Policy {
  readonly rules: PolicyRules.Rules
  readonly tests: ReadonlyArray<{ readonly file: string; readonly index: number; readonly test: SelfTest }>
  /** Rules that load but will not do what their author meant (see {@link PolicyRules.warnings}). */
  readonly warnings: ReadonlyArray<Warning>
}

/**
 * A dead rule in a file: the file, the rule's place in it and why it is dead.
 *
 * @example
 * ```ts
 * import type { PolicyFile } from "toolgate/policy"
 * const show = (w: PolicyFile.Warning) => `${w.file} at ${w.path}: ${w.problem}`
 * ```
 *
 * @since 0.2.0
 */
export interface Warning {
  readonly file: string
  readonly path: string
  readonly rule: string
  readonly problem: string
}

interface ParsedLayer {
  readonly file: string
  readonly permissions: typeof Permissions.Type
  readonly rules: { readonly allow: ReadonlyArray<PolicyRules.Rule>; readonly ask: ReadonlyArray<PolicyRules.Rule>; readonly deny: ReadonlyArray<PolicyRules.Rule> }
  readonly tests: ReadonlyArray<SelfTest>
}

// -----------------------------------------------------------------------------
// Decoding
// -----------------------------------------------------------------------------

// Schema reports paths as `at ["permissions"]["allow"][1]`; users read
// `permissions.allow[1]`.
const readablePath = (raw: string) =>
  raw.replace(/\["([^"]*)"\]/g, (_, key: string) => /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`)
    .replace(/^\./, "")

// `line 3 column 5`: where the text holds what a path names.
const positionOf = (text: string, segments: ReadonlyArray<string | number>): { readonly position?: string } => {
  const offset = JsonPosition.offsetOf(text, segments)
  return offset === undefined ? {} : { position: JsonPosition.lineAndColumn(text, offset) }
}

// Schema's `["permissions"]["allow"][1]` as segments.
const segmentsOf = (raw: string): Array<string | number> =>
  [...raw.matchAll(/\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]/g)].map((m) => m[2] !== undefined ? Number(m[2]) : JSON.parse(`"${m[1]}"`) as string)

const schemaProblem = (file: string, text: string, prefix: ReadonlyArray<string>, error: { readonly message: string }): PolicyFileError => {
  const lines = error.message.split("\n")
  const at = lines.find((l) => l.trim().startsWith("at "))
  const raw = at === undefined ? "" : at.trim().slice(3)
  const path = [prefix.join("."), readablePath(raw)].filter((s) => s !== "").join(".")
  const problem = lines.filter((l) => !l.trim().startsWith("at ")).join(" ").trim()
  return new PolicyFileError({ file, path, problem, ...(path === "" ? {} : positionOf(text, [...prefix, ...segmentsOf(raw)])) })
}

const modeOf = (name: typeof ModeName.Type): PolicyRules.Mode => name === "bypassPermissions" ? "bypass" : name

const decodeLayer = (file: string, text: string): Effect.Effect<ParsedLayer, PolicyFileError> =>
  Effect.gen(function*() {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      return yield* Effect.fail(new PolicyFileError({ file, path: JsonPosition.lineAndColumn(text, JsonPosition.errorOffset(text)), problem: `not valid JSON (${(error as Error).message.split("\n")[0]})` }))
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      return yield* Effect.fail(new PolicyFileError({ file, path: "", problem: "expected a JSON object with a \"permissions\" key" }))
    }
    if (!Object.hasOwn(json, "permissions")) {
      const near = Object.keys(json).find((k) => /^perm/i.test(k))
      return yield* Effect.fail(new PolicyFileError({
        file,
        path: "",
        problem: `the file has no "permissions" key${near === undefined ? "" : ` (is ${JSON.stringify(near)} a misspelling?)`}; a policy file without permissions would silently allow what it meant to deny`
      }))
    }
    const shape = Schema.decodeUnknownResult(FileShape)(json, { onExcessProperty: "error" })
    if (Result.isFailure(shape)) return yield* Effect.fail(schemaProblem(file, text, [], shape.failure))
    const permissions = Schema.decodeUnknownResult(Permissions)(shape.success.permissions, { onExcessProperty: "error" })
    if (Result.isFailure(permissions)) return yield* Effect.fail(schemaProblem(file, text, ["permissions"], permissions.failure))
    const lists = { allow: [] as Array<PolicyRules.Rule>, ask: [] as Array<PolicyRules.Rule>, deny: [] as Array<PolicyRules.Rule> }
    for (const list of ["deny", "ask", "allow"] as const) {
      const texts = permissions.success[list] ?? []
      for (let i = 0; i < texts.length; i++) {
        const rule = yield* PolicyRules.parse(texts[i]!, list, i).pipe(
          Effect.mapError((e) =>
            new PolicyFileError({
              file,
              path: `permissions.${list}[${i}]`,
              problem: `${JSON.stringify(e.rule)}: ${e.problem}`,
              ...positionOf(text, ["permissions", list, i])
            })
          )
        )
        lists[list].push(rule)
      }
    }
    return { file, permissions: permissions.success, rules: lists, tests: shape.success.tests ?? [] }
  })

// Layering only tightens: `default` and `defaultMode` resolve to the
// strictest of all layers, a layer that sets neither counting as `ask` and
// `default`. So adding a layer never loosens a verdict, and a project file
// cannot grant itself `acceptEdits` or `bypass` over a user file that
// says nothing.
const merge = (layers: ReadonlyArray<ParsedLayer>, files: ReadonlyArray<string>): Policy => {
  const defaultVerdict = Modes.strictestDefault(layers.map((l) => l.permissions.default ?? "ask")) ?? "ask"
  let mode = Modes.strictestMode(layers.map((l) => l.permissions.defaultMode === undefined ? "default" : modeOf(l.permissions.defaultMode))) ?? "default"
  if (mode === "bypass" && layers.some((l) => l.permissions.disableBypassPermissionsMode === "disable")) mode = "default"
  const lists = {
    allow: layers.flatMap((l) => l.rules.allow),
    ask: layers.flatMap((l) => l.rules.ask),
    deny: layers.flatMap((l) => l.rules.deny)
  }
  const warnings = layers.flatMap((l) =>
    PolicyRules.warnings(PolicyRules.fromRules(l.rules, "ask", "default")).map((w): Warning => ({
      file: l.file,
      path: `permissions.${w.list}[${w.index}]`,
      rule: w.rule,
      problem: w.problem
    }))
  )
  return {
    rules: PolicyRules.fromRules(lists, defaultVerdict, mode, files),
    tests: layers.flatMap((l) => l.tests.map((test, index) => ({ file: l.file, index, test }))),
    warnings
  }
}

/**
 * Decodes policy files given as text. Lists are merged; `defaultMode` and
 * `default` resolve to the strictest value of all files (unset counting as
 * `default` and `ask`).
 *
 * @example
 * ```ts
 * import { PolicyFile } from "toolgate/policy"
 * const policy = PolicyFile.decode([
 *   { file: "user.json", text: '{ "permissions": { "deny": ["Bash(rm:*)"] } }' },
 *   { file: "project.json", text: '{ "permissions": { "allow": ["Bash(git status)"], "defaultMode": "acceptEdits" } }' }
 * ])
 * ```
 *
 * @since 0.1.0
 */
export const decode = (
  sources: ReadonlyArray<{ readonly file: string; readonly text: string }>
): Effect.Effect<Policy, PolicyFileError> =>
  Effect.map(Effect.forEach(sources, (s) => decodeLayer(s.file, s.text)), (layers) => merge(layers, []))

/**
 * Reads and decodes policy files, e.g. `[userFile, projectFile]`: a deny
 * from either file denies, and the stricter `defaultMode` and `default` win.
 * `acceptEdits` never pre-approves writes to these files.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NodeServices } from "@effect/platform-node"
 * import { PolicyFile } from "toolgate/policy"
 * const policy = PolicyFile.load(["/home/me/.toolgate.json", ".toolgate.json"]).pipe(
 *   Effect.provide(NodeServices.layer)
 * )
 * ```
 *
 * @since 0.1.0
 */
export const load = Effect.fn("toolgate.PolicyFile.load")(function*(files: ReadonlyArray<string>) {
  const fs = yield* FileSystem.FileSystem
  const sources = yield* Effect.forEach(files, (file) =>
    fs.readFileString(file).pipe(
      Effect.map((text) => ({ file, text })),
      Effect.mapError((e) => new PolicyFileError({ file, path: "", problem: `cannot read the file (${e.message})` }))
    ))
  const layers = yield* Effect.forEach(sources, (s) => decodeLayer(s.file, s.text))
  return merge(layers, files)
})

/**
 * A Layer putting the policy from `files` in place as the `ToolPolicy`,
 * with symlinks resolved through the `FileSystem`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { NodeServices } from "@effect/platform-node"
 * import { PolicyFile } from "toolgate/policy"
 * const PolicyLive = PolicyFile.layer([".toolgate.json"], { root: process.cwd(), home: "/home/me" }).pipe(
 *   Layer.provide(NodeServices.layer)
 * )
 * ```
 *
 * @since 0.1.0
 */
export const layer = (
  files: ReadonlyArray<string>,
  env: PolicyRules.Environment
): Layer.Layer<never, PolicyFileError, FileSystem.FileSystem> =>
  Layer.unwrap(Effect.map(load(files), (policy) => PolicyRules.layer(policy.rules, env)))

// -----------------------------------------------------------------------------
// Self-tests
// -----------------------------------------------------------------------------

/**
 * The outcome of one self-test.
 *
 * @example
 * ```ts
 * import type { PolicyFile } from "toolgate/policy"
 * const failed = (rs: ReadonlyArray<PolicyFile.TestResult>) => rs.filter((r) => !r.passed)
 * ```
 *
 * @since 0.1.0
 */
export interface TestResult {
  readonly file: string
  readonly index: number
  readonly test: SelfTest
  readonly verdict: ToolPolicy.Verdict
  readonly passed: boolean
}

const tagOf = { allow: "Allow", ask: "Ask", deny: "Deny" } as const

/**
 * Runs a policy's self-tests against its own rules.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PolicyFile } from "toolgate/policy"
 * const program = Effect.gen(function*() {
 *   const policy = yield* PolicyFile.decode([{ file: "p.json", text: '{"permissions":{"deny":["Bash(rm:*)"]},"tests":[{"call":{"name":"Bash","input":{"command":"rm x"}},"expect":"deny"}]}' }])
 *   const results = yield* PolicyFile.selfTest(policy, { root: "/repo", home: "/home/me" })
 *   return results.every((r) => r.passed)
 * })
 * ```
 *
 * @since 0.1.0
 */
export const selfTest = (policy: Policy, env: PolicyRules.Environment): Effect.Effect<ReadonlyArray<TestResult>> =>
  Effect.forEach(policy.tests, ({ file, index, test }) =>
    Effect.map(
      PolicyRules.explain(policy.rules, { name: test.call.name, params: test.call.input }, {
        ...env,
        mode: test.mode === undefined ? env.mode : modeOf(test.mode)
      }),
      (e): TestResult => ({ file, index, test, verdict: e.verdict, passed: e.verdict._tag === tagOf[test.expect] })
    ))
