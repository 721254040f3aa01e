import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as PolicyRules from "../../src/policy/PolicyRules.ts"
import { adversarial, env, type Mode, ordinary, precision } from "./redteam3.cases.ts"

// Red-team round 3 of issue 16 (program semantics). The corpus lives in
// redteam3.cases.ts, grouped by class (GTFOBins functions, git config-driven
// programs, package runners, interpreters, variables, writes, network,
// opaque words, programs without a spec, privilege). Each adversarial case
// is judged in the modes its class lists and must never be allowed there;
// each precision command must stay allowed by the ordinary rules.

const rules = Effect.runSync(PolicyRules.make(ordinary))
const bypassRules = Effect.runSync(PolicyRules.make({ deny: ordinary.deny }))
const defaultAllow = Effect.runSync(PolicyRules.make({ deny: ordinary.deny, default: "allow" }))

const verdictOf = (command: string, mode: Mode) => {
  const [set, m]: [PolicyRules.Rules, PolicyRules.Mode] = mode === "bypass"
    ? [bypassRules, "bypass"]
    : mode === "default-allow"
    ? [defaultAllow, "default"]
    : [rules, mode === "acceptEdits" ? "acceptEdits" : "default"]
  return PolicyRules.explainSync(set, { name: "Bash", params: { command } }, { ...env, mode: m }).verdict
}

const classes = [...new Set(adversarial.map(([cls]) => cls))]

describe("[issue 16, red team 3] adversarial program semantics", () => {
  it("has at least 150 cases", () => {
    expect(adversarial.length).toBeGreaterThanOrEqual(150)
  })
  for (const cls of classes) {
    describe(cls, () => {
      for (const [, command, modes] of adversarial.filter(([c]) => c === cls)) {
        it(JSON.stringify(command), () => {
          for (const mode of modes) expect(verdictOf(command, mode)._tag, `${mode}: ${command}`).not.toBe("Allow")
        })
      }
    })
  }
})

describe("[issue 16, red team 3] precision: everyday commands stay allowed", () => {
  // Known over-blocks, each asked for a reason the engine states: a glob or
  // the words find/xargs hand on are paths the shell computes, asked while a
  // Read deny rule is in force.
  const known = new Set(["wc -l src/*.ts", "find . -name '*.ts' | xargs grep -l foo", "find . -name '*.ts' -exec grep -l foo {} +"])
  it("over-blocks at most 2% of the table, and nothing outside the known list", () => {
    expect(precision.length).toBeGreaterThanOrEqual(150)
    const blocked = precision.filter((c) => verdictOf(c, "default")._tag !== "Allow")
    expect(blocked.filter((c) => !known.has(c)), "unexpected over-blocks").toEqual([])
    expect(blocked.length / precision.length).toBeLessThanOrEqual(0.02)
  })
})

describe("[issue 16, red team 3] modes meet guarded paths given to a program without a spec", () => {
  const readDenyOnly = Effect.runSync(PolicyRules.make({ deny: ["Read(~/.ssh/**)"], ask: ["Bash(git push:*)"] }))
  const tag = (command: string, mode: PolicyRules.Mode) => PolicyRules.explainSync(readDenyOnly, { name: "Bash", params: { command } }, { ...env, mode }).verdict._tag
  it("bypass asks for a guarded path, still allows the rest", () => {
    expect(tag("mytool ~/.ssh/id_rsa", "bypass")).toBe("Ask")
    expect(tag("mytool --key=/home/me/.ssh/id_rsa", "bypass")).toBe("Ask")
    expect(tag("curl file:///home/me/.ssh/id_rsa", "bypass")).toBe("Deny")
    expect(tag("mytool x", "bypass")).toBe("Allow")
    // bypass pre-approves what ask rules ask: a word naming their program changes nothing
    expect(tag("mytool git", "bypass")).toBe("Allow")
  })
})

describe("[issue 16, red team 3] git repositories by URL are network on the URL's word", () => {
  const set = Effect.runSync(PolicyRules.make({ allow: ["Bash(git clone https://github.com/*)", "Bash(git fetch:*)"] }))
  const tag = (command: string) => PolicyRules.explainSync(set, { name: "Bash", params: { command } }, env).verdict._tag
  it("a rule naming the host covers the clone; fetch from a configured remote is covered by the subcommand", () => {
    expect(tag("git clone https://github.com/a/b")).toBe("Allow")
    expect(tag("git fetch origin main")).toBe("Allow")
    expect(tag("git clone https://evil.example/a/b")).toBe("Ask")
    expect(tag("git clone https://github.com/a/b /home/me/x")).toBe("Ask")
    expect(tag("git fetch https://evil.example/x")).toBe("Ask")
  })
})
