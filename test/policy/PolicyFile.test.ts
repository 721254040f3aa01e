import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import * as PolicyFile from "../../src/policy/PolicyFile.ts"
import * as PolicyRules from "../../src/policy/PolicyRules.ts"

const env: PolicyRules.Environment = { root: "/repo", home: "/home/me" }

// Real files in a fresh temp dir per test.
const withFiles = <A, E>(files: Record<string, string>, f: (path: (name: string) => string) => Effect.Effect<A, E, any>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-policy-"))
      for (const [name, text] of Object.entries(files)) Fs.writeFileSync(NodePath.join(dir, name), text)
      return dir
    }),
    (dir) => f((name) => NodePath.join(dir, name)),
    (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
  ).pipe(Effect.provide(NodeServices.layer)) as Effect.Effect<A, E>

const verdict = (policy: PolicyFile.Policy, name: string, params: unknown, mode?: PolicyRules.Mode) =>
  Effect.map(PolicyRules.explain(policy.rules, { name, params }, { ...env, mode }), (e) => e.verdict._tag)

const json = (value: unknown) => JSON.stringify(value)

describe("PolicyFile loading", () => {
  it.effect("loads Claude Code's settings shape and ignores other top-level keys", () =>
    withFiles({
      "settings.json": json({
        env: { FOO: "1" },
        permissions: { allow: ["Bash(git status)"], deny: ["Bash(rm:*)"], defaultMode: "acceptEdits" }
      })
    }, (path) =>
      Effect.gen(function*() {
        const policy = yield* PolicyFile.load([path("settings.json")])
        expect(policy.rules.mode).toBe("acceptEdits")
        expect(yield* verdict(policy, "Bash", { command: "git status" })).toBe("Allow")
        expect(yield* verdict(policy, "Bash", { command: "rm x" })).toBe("Deny")
      })))

  it.effect("accepts Claude Code's bypassPermissions spelling", () =>
    Effect.gen(function*() {
      const policy = yield* PolicyFile.decode([{ file: "a.json", text: json({ permissions: { defaultMode: "bypassPermissions" } }) }])
      expect(policy.rules.mode).toBe("bypass")
    }))

  const bad: ReadonlyArray<readonly [string, string, string, string]> = [
    ["not JSON, with the line and column", "{\n  \"permissions\": {\n    \"allow\": [\"Read\",]\n  }\n}", "line 3 column 22", "not valid JSON"],
    ["truncated JSON, at its end", "{ \"permissions\": ", "line 1 column 18", "not valid JSON"],
    ["a JSON array", "[]", "", "expected a JSON object"],
    ["a rule that is not a string", json({ permissions: { allow: ["Read", 3] } }), "permissions.allow[1]", "Expected string"],
    ["a misspelt list", json({ permissions: { alow: ["Read"] } }), "permissions.alow", "excess property"],
    ["an unknown mode", json({ permissions: { defaultMode: "yolo" } }), "permissions.defaultMode", "Expected"],
    ["a list that is not an array", json({ permissions: { deny: "Bash" } }), "permissions.deny", "Expected"],
    ["a rule that does not parse", json({ permissions: { allow: ["Read"], deny: ["Read", "Bash(rm"] } }), "permissions.deny[1]", "not closed"],
    ["a self-test without expect", json({ permissions: {}, tests: [{ call: { name: "Read", input: {} } }] }), "tests[0].expect", "Missing key"],
    ["a misspelt permissions key", json({ permision: { deny: ["Bash(rm:*)"] } }), "", "is \"permision\" a misspelling?"],
    ["no permissions at all", json({ tests: [] }), "", "no \"permissions\" key"],
    ["an unknown top-level key", json({ permissions: {}, denny: ["Bash"] }), "denny", "excess property"]
  ]
  for (const [what, text, path, problem] of bad) {
    it.effect(`rejects ${what} with the file, the path in it and the problem`, () =>
      withFiles({ "p.json": text }, (file) =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(PolicyFile.load([file("p.json")]))
          expect(error._tag).toBe("PolicyFileError")
          expect(error.file).toBe(file("p.json"))
          expect(error.path).toBe(path)
          expect(error.problem).toContain(problem)
          expect(error.message).toContain("nothing from it was applied")
        })))
  }

  it.effect("a schema or rule error names the line and column of the key or element, as well as its path", () =>
    Effect.gen(function*() {
      const text = "{\n  \"permissions\": {\n    \"allow\": [\"Read\",\n      \"Bash(rm\"],\n    \"dney\": []\n  }\n}"
      const rule = yield* Effect.flip(PolicyFile.decode([{ file: "p.json", text }]))
      expect(rule.path).toBe("permissions.dney")
      expect(rule.position).toBe("line 5 column 5")
      expect(rule.message).toContain("p.json at line 5 column 5 (permissions.dney)")
      const parse = yield* Effect.flip(PolicyFile.decode([{ file: "p.json", text: text.replace("dney", "deny") }]))
      expect(parse.path).toBe("permissions.allow[1]")
      expect(parse.position).toBe("line 4 column 7")
      const typed = yield* Effect.flip(PolicyFile.decode([{ file: "p.json", text: "{\"permissions\": {\"deny\": [\"Read\", 3]}}" }]))
      expect(typed.position).toBe("line 1 column 35")
    }))

  it.effect("a missing file is an error naming it", () =>
    withFiles({}, (file) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(PolicyFile.load([file("nope.json")]))
        expect(error.file).toBe(file("nope.json"))
        expect(error.problem).toContain("cannot read")
      })))

  it.effect("one bad layer fails the whole load: never half-applied", () =>
    withFiles({
      "user.json": json({ permissions: { deny: ["Bash(rm:*)"] } }),
      "project.json": json({ permissions: { allow: ["Read"], deny: ["Write("] } })
    }, (file) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(PolicyFile.load([file("user.json"), file("project.json")]))
        expect(error.file).toBe(file("project.json"))
      })))
})

describe("PolicyFile layering", () => {
  const user = json({ permissions: { deny: ["Bash(rm:*)"], ask: ["Bash(git push:*)"], defaultMode: "plan", default: "deny" } })
  const project = json({ permissions: { allow: ["Bash(rm -rf build)", "Bash(git push:*)"], defaultMode: "acceptEdits" } })

  it.effect("a deny from any layer wins over another layer's allow", () =>
    Effect.gen(function*() {
      const policy = yield* PolicyFile.decode([{ file: "user.json", text: user }, { file: "project.json", text: project }])
      expect(yield* verdict(policy, "Bash", { command: "rm -rf build" }, "default")).toBe("Deny")
      expect(yield* verdict(policy, "Bash", { command: "git push origin" }, "default")).toBe("Ask")
    }))

  it.effect("mode and default resolve to the strictest any layer sets, in either order", () =>
    Effect.gen(function*() {
      const policy = yield* PolicyFile.decode([{ file: "user.json", text: user }, { file: "project.json", text: project }])
      expect(policy.rules.mode).toBe("plan")
      expect(policy.rules.default).toBe("deny")
      const reversed = yield* PolicyFile.decode([{ file: "project.json", text: project }, { file: "user.json", text: user }])
      expect(reversed.rules.mode).toBe("plan")
      expect(reversed.rules.default).toBe("deny")
    }))
})

describe("PolicyFile self-tests", () => {
  it.effect("runs every self-test and reports which pass", () =>
    Effect.gen(function*() {
      const policy = yield* PolicyFile.decode([{
        file: "p.json",
        text: json({
          permissions: { allow: ["Bash(git status)"], deny: ["Bash(rm:*)"] },
          tests: [
            { call: { name: "Bash", input: { command: "git status" } }, expect: "allow" },
            { call: { name: "Bash", input: { command: "git status; rm -rf /" } }, expect: "deny" },
            { call: { name: "Bash", input: { command: "git status" } }, expect: "deny", mode: "plan" },
            { call: { name: "Bash", input: { command: "whoami" } }, expect: "allow" }
          ]
        })
      }])
      const results = yield* PolicyFile.selfTest(policy, env)
      expect(results.map((r) => r.passed)).toEqual([true, true, true, false])
      expect(results[3]!.verdict._tag).toBe("Ask")
    }))
})

describe("policies/default.json", () => {
  it.effect("loads without warnings and passes its self-tests (rm -r -f in every spelling is denied)", () =>
    Effect.gen(function*() {
      const file = NodePath.join(import.meta.dirname, "../../policies/default.json")
      const policy = yield* PolicyFile.load([file])
      expect(policy.warnings).toEqual([])
      const results = yield* PolicyFile.selfTest(policy, env)
      expect(results.filter((r) => r.test.expect === "deny").length).toBeGreaterThanOrEqual(15)
      expect(results.filter((r) => !r.passed)).toEqual([])
    }).pipe(Effect.provide(NodeServices.layer)))
})
