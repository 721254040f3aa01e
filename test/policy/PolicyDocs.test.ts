import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { render } from "../../src/cli/check.ts"
import * as Programs from "../../src/policy/internal/programs/index.ts"
import * as Shell from "../../src/policy/internal/shell.ts"
import * as PolicyFile from "../../src/policy/PolicyFile.ts"
import * as PolicyRules from "../../src/policy/PolicyRules.ts"

// Keeps docs/policy.md honest: every `toolgate check` example in it is run
// in-process against docs/examples/, and its printed lines must appear in
// what `toolgate check` would print; every JSON block must load.
const repo = fileURLToPath(new URL("../..", import.meta.url))
const doc = Fs.readFileSync(NodePath.join(repo, "docs/policy.md"), "utf8")
const env: PolicyRules.Environment = { root: repo, home: "/home/me" }

const blocks = (lang: string) =>
  [...doc.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!)

interface Example {
  readonly line: string
  readonly policies: ReadonlyArray<string>
  readonly mode: PolicyRules.Mode | undefined
  readonly selfTest: boolean
  readonly call: string | undefined
  readonly expected: ReadonlyArray<string>
}

const examples: ReadonlyArray<Example> = blocks("console").map((block) => {
  const [first, ...expected] = block.trimEnd().split("\n")
  const words = Shell.words(first!.replace(/^\$ /, ""))
  if (words === undefined) throw new Error(`cannot split ${first}`)
  const args = words.slice(words.indexOf("check") + 1)
  const policies: Array<string> = []
  let mode: PolicyRules.Mode | undefined
  let selfTest = false
  let call: string | undefined
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--policy") policies.push(args[++i]!)
    else if (args[i] === "--mode") mode = args[++i] as PolicyRules.Mode
    else if (args[i] === "--self-test") selfTest = true
    else call = args[i]
  }
  return { line: first!, policies, mode, selfTest, call, expected }
})

describe("docs/policy.md", () => {
  it("has examples to check", () => expect(examples.length).toBeGreaterThanOrEqual(8))

  for (const example of examples) {
    it.effect(example.line.slice(0, 160), () =>
      Effect.gen(function*() {
        const policy = yield* PolicyFile.load(example.policies.map((p) => NodePath.join(repo, p)))
        if (example.selfTest) {
          const results = yield* PolicyFile.selfTest(policy, env)
          expect(results.length).toBeGreaterThan(0)
          expect(results.filter((r) => !r.passed)).toEqual([])
          return
        }
        const call = JSON.parse(example.call!) as { name: string; input: unknown }
        const explanation = yield* PolicyRules.explain(policy.rules, { name: call.name, params: call.input }, { ...env, mode: example.mode })
        const printed = render(explanation).split("\n")
        expect(example.expected.length).toBeGreaterThan(0)
        for (const line of example.expected) expect(printed).toContain(line)
      }).pipe(Effect.provide(NodeServices.layer)))
  }

  it("lists exactly the programs the spec table covers", () => {
    const listed = /<!-- programs -->\n([\s\S]*?)<!-- \/programs -->/.exec(doc)?.[1] ?? ""
    const names = [...listed.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)
    expect(names).toEqual(Programs.names())
  })

  for (const [i, block] of blocks("json").entries()) {
    it.effect(`JSON block ${i + 1} is a valid policy file`, () =>
      Effect.asVoid(PolicyFile.decode([{ file: `docs/policy.md json block ${i + 1}`, text: block }])))
  }

  // user.json carries no tests of its own: it is tested layered under project.json.
  const withTests = Fs.readdirSync(NodePath.join(repo, "docs/examples"))
    .filter((f) => f.endsWith(".json") && "tests" in JSON.parse(Fs.readFileSync(NodePath.join(repo, "docs/examples", f), "utf8")))
  it("has example policies with self-tests", () => expect(withTests).toEqual(["basic.json", "project.json"]))
  for (const file of withTests) {
    it.effect(`the self-tests of docs/examples/${file} pass`, () =>
      Effect.gen(function*() {
        const files = file === "project.json" ? ["user.json", "project.json"] : [file]
        const policy = yield* PolicyFile.load(files.map((f) => NodePath.join(repo, "docs/examples", f)))
        const results = yield* PolicyFile.selfTest(policy, env)
        expect(results.length).toBeGreaterThan(0)
        expect(results.filter((r) => !r.passed)).toEqual([])
      }).pipe(Effect.provide(NodeServices.layer)))
  }
})
