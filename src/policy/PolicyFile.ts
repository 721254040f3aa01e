/**
 * Policy files: permission rules in Claude Code's settings shape
 * (`{ "permissions": { "allow": [...], "ask": [...], "deny": [...], "defaultMode": "..." } }`),
 * validated with Schema, layered, and carrying their own self-tests.
 *
 * A file is applied whole or not at all: a bad file fails the load with the
 * file, the path inside it and what is wrong. Layered files merge their
 * lists, so the strictest rule of any layer wins (a project file cannot
 * loosen a user file's deny or ask); `defaultMode` and `default` come from
 * the highest-precedence layer that sets them.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Layer, Result, Schema } from "effect"
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
 * (a typo like `"alow"` would otherwise drop rules silently); unknown keys
 * at the top level of the file are ignored, since settings files hold more.
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
  defaultMode: Schema.optional(ModeName)
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

const FileShape = Schema.Struct({
  permissions: Schema.optional(Schema.Unknown),
  tests: Schema.optional(Schema.Array(SelfTest))
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
  problem: Schema.String
}) {
  override get message(): string {
    const where = this.path === "" ? "" : ` at ${this.path}`
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
}

interface Layer1 {
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

const schemaProblem = (file: string, prefix: string, error: { readonly message: string }): PolicyFileError => {
  const lines = error.message.split("\n")
  const at = lines.find((l) => l.trim().startsWith("at "))
  const path = at === undefined ? prefix : [prefix, readablePath(at.trim().slice(3))].filter((s) => s !== "").join(".")
  const problem = lines.filter((l) => !l.trim().startsWith("at ")).join(" ").trim()
  return new PolicyFileError({ file, path, problem })
}

const modeOf = (name: typeof ModeName.Type): PolicyRules.Mode => name === "bypassPermissions" ? "bypass" : name

const decodeLayer = (file: string, text: string): Effect.Effect<Layer1, PolicyFileError> =>
  Effect.gen(function*() {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      return yield* Effect.fail(new PolicyFileError({ file, path: "", problem: `not valid JSON (${(error as Error).message})` }))
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      return yield* Effect.fail(new PolicyFileError({ file, path: "", problem: "expected a JSON object with a \"permissions\" key" }))
    }
    const shape = Schema.decodeUnknownResult(FileShape)(json)
    if (Result.isFailure(shape)) return yield* Effect.fail(schemaProblem(file, "", shape.failure))
    const permissions = Schema.decodeUnknownResult(Permissions)(shape.success.permissions ?? {}, { onExcessProperty: "error" })
    if (Result.isFailure(permissions)) return yield* Effect.fail(schemaProblem(file, "permissions", permissions.failure))
    const lists = { allow: [] as Array<PolicyRules.Rule>, ask: [] as Array<PolicyRules.Rule>, deny: [] as Array<PolicyRules.Rule> }
    for (const list of ["deny", "ask", "allow"] as const) {
      const texts = permissions.success[list] ?? []
      for (let i = 0; i < texts.length; i++) {
        const rule = yield* PolicyRules.parse(texts[i]!, list, i).pipe(
          Effect.mapError((e) => new PolicyFileError({ file, path: `permissions.${list}[${i}]`, problem: `${JSON.stringify(e.rule)}: ${e.problem}` }))
        )
        lists[list].push(rule)
      }
    }
    return { file, permissions: permissions.success, rules: lists, tests: shape.success.tests ?? [] }
  })

const merge = (layers: ReadonlyArray<Layer1>): Policy => {
  let defaultVerdict: PolicyRules.Default = "ask"
  let mode: PolicyRules.Mode = "default"
  for (const layer of layers) {
    if (layer.permissions.default !== undefined) defaultVerdict = layer.permissions.default
    if (layer.permissions.defaultMode !== undefined) mode = modeOf(layer.permissions.defaultMode)
  }
  const lists = {
    allow: layers.flatMap((l) => l.rules.allow),
    ask: layers.flatMap((l) => l.rules.ask),
    deny: layers.flatMap((l) => l.rules.deny)
  }
  return {
    rules: PolicyRules.fromRules(lists, defaultVerdict, mode),
    tests: layers.flatMap((l) => l.tests.map((test, index) => ({ file: l.file, index, test })))
  }
}

/**
 * Decodes policy files given as text, lowest precedence first (later files
 * set `defaultMode` and `default` over earlier ones; lists are merged).
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
  Effect.map(Effect.forEach(sources, (s) => decodeLayer(s.file, s.text)), merge)

/**
 * Reads and decodes policy files, lowest precedence first — e.g.
 * `[userFile, projectFile]` so the project's `defaultMode` wins while a deny
 * from either file denies.
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
  return yield* decode(sources)
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
