/**
 * Benchmark of the policy rule engine (issue 13, section 4): the time of one
 * verdict with 10 and 10,000 rules, for typical commands (≤ 200 chars), paths,
 * searches and MCP names, against the target of < 20 µs at the median; the
 * time of a command seen for the first time (shell reading included, which
 * the analysis cache then saves); and a ~100 KB command against < 100 ms.
 * A plain script: `npx node bench/rules.bench.ts`. Each case is warmed up,
 * then timed call by call; tables show the median and p90.
 */
import { Effect } from "effect"
import * as PolicyRules from "../src/policy/PolicyRules.ts"
import * as ToolPolicy from "../src/ToolPolicy.ts"
import { quick, table } from "./harness.ts"

const env: PolicyRules.Environment = { root: "/repo", home: "/home/me" }

const baseRules: PolicyRules.Input = {
  allow: [
    "Read", "Grep", "Glob", "Bash(git status)", "Bash(git diff:*)", "Bash(npm run test:*)", "Bash(cat:*)", "Bash(grep:*)",
    "Bash(ls:*)", "Bash(tee:*)", "Bash(timeout:*)", "Write(./src/**)", "mcp__github"
  ],
  ask: ["Bash(git push:*)"],
  deny: ["Bash(rm -rf:*)", "Write(/etc/**)", "Edit(~/.ssh/**)", "Read(~/.aws/**)", "Read(.env)", "mcp__github__delete_repo"]
}

// 10,000 rules: the base plus generated command, path and MCP rules spread
// over the three lists, so every lookup meets a crowd.
const manyRules = (n: number): PolicyRules.Input => {
  const allow = [...(baseRules.allow ?? [])]
  const ask = [...(baseRules.ask ?? [])]
  const deny = [...(baseRules.deny ?? [])]
  for (let i = 0; allow.length + ask.length + deny.length < n; i++) {
    const list = i % 5 === 0 ? deny : i % 5 === 1 ? ask : allow
    switch (i % 6) {
      case 0: list.push(`Bash(tool${i} sub${i}:*)`); break
      case 1: list.push(`Write(./generated/dir${i}/**)`); break
      case 2: list.push(`mcp__server${i}__*`); break
      case 3: list.push(`Read(/data/set${i}/**)`); break
      case 4: list.push(`Bash(git sub${i} --flag:*)`); break
      default: list.push(`Bash(cmd${i} --flag ${i})`)
    }
  }
  return { allow, ask, deny }
}

const typical = "git diff --stat HEAD~3 -- src/policy/internal/judge.ts src/policy/PolicyRules.ts | grep -v test | head -n 40 && npm run test -- --reporter=dot 2>&1 | tee /tmp/test.log"

const calls: ReadonlyArray<readonly [string, string, unknown]> = [
  ["Bash simple", "Bash", { command: "git status" }],
  [`Bash typical (${typical.length} chars)`, "Bash", { command: typical }],
  ["Bash reader of a denied file", "Bash", { command: "head -n 5 ~/.aws/credentials" }],
  ["Bash rm -fr (option order)", "Bash", { command: "/bin/rm -fr build" }],
  ["Bash sh -c", "Bash", { command: "timeout 5 bash -lc 'git diff --stat && npm run test'" }],
  ["Write path", "Write", { file_path: "src/../src/a/b/c.ts" }],
  ["Read path", "Read", { file_path: "~/notes.txt" }],
  ["Grep search", "Grep", { pattern: "TODO", path: "src" }],
  ["mcp tool", "mcp__github__list_issues", {}]
]

// A long warm-up: right after the 10,000 rules are built, the collector is
// still cleaning up after them and the first thousands of verdicts pay for it.
const measure = (f: (i: number) => void, iterations: number, warmup = Math.max(2000, iterations)): { median: number; p90: number } => {
  for (let i = 0; i < warmup; i++) f(-1 - i)
  const samples: Array<number> = []
  for (let i = 0; i < iterations; i++) {
    const t = performance.now()
    f(i)
    samples.push(performance.now() - t)
  }
  samples.sort((a, b) => a - b)
  return { median: samples[Math.floor(samples.length / 2)]!, p90: samples[Math.floor(samples.length * 0.9)]! }
}

const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`
const verdictOf = (rules: PolicyRules.Rules, name: string, params: unknown) =>
  PolicyRules.explainSync(rules, { name, params }, env).verdict._tag
const n = quick ? 200 : 2000

// Verdicts, steady state: the commands have been seen (their analysis is cached).
const verdictRows: Array<ReadonlyArray<string>> = []
const ruleSets = [10, 10_000].map((size) => Effect.runSync(PolicyRules.make(size === 10 ? { ...baseRules } : manyRules(size))))
for (const rules of ruleSets) {
  const count = rules.allow.length + rules.ask.length + rules.deny.length
  for (const [label, name, params] of calls) {
    let tag = ""
    const { median, p90 } = measure(() => {
      tag = verdictOf(rules, name, params)
    }, n)
    verdictRows.push([String(count), label, tag, us(median), us(p90), median * 1000 < 20 ? "yes" : "NO"])
  }
  // The Effect API (what the Executor calls): the same core, wrapped.
  const policy = PolicyRules.toPolicy(rules, env)
  const request: ToolPolicy.PolicyRequest = {
    call: { id: "1", name: "Bash", params: { command: "git status" } },
    tool: undefined,
    toolClass: undefined,
    origin: { depth: 0, parents: [] }
  } as unknown as ToolPolicy.PolicyRequest
  let tag = ""
  const { median, p90 } = measure(() => {
    tag = Effect.runSync(policy.decide(request))._tag
  }, n)
  verdictRows.push([String(count), "Bash simple, via toPolicy(...).decide", tag, us(median), us(p90), median * 1000 < 20 ? "yes" : "NO"])
}

// First sight: every command is new, so the shell reader runs each time
// (the shell reader's own speed is measured in its own benchmark).
const firstRows: Array<ReadonlyArray<string>> = []
const big = ruleSets[1]!
for (const [label, command] of [["simple", "git status"], ["typical", typical]] as const) {
  let tag = ""
  const { median, p90 } = measure((i) => {
    tag = verdictOf(big, "Bash", { command: `${command} # ${i}` })
  }, quick ? 100 : 500)
  firstRows.push([String(big.allow.length + big.ask.length + big.deny.length), `${label}, never seen before`, tag, us(median), us(p90)])
}

// A ~100 KB command: answered (judged or refused as unreadable), never blocking for long.
const hugeRows: Array<ReadonlyArray<string>> = []
const hugeCommands: ReadonlyArray<readonly [string, string]> = [
  ["2,500 `git status` joined by ;", Array.from({ length: 8_300 }, () => "git status").join("; ").slice(0, 99_990)],
  ["one 100 KB argument", `echo ${"x".repeat(102_400)}`],
  ["100 KB of && chains", Array.from({ length: 20_000 }, () => "ls").join(" && ").slice(0, 102_400)],
  // Pathological shapes (issue 16): chains of wrappers, repeated options, long scripts.
  ["9,000 `timeout 1` wrappers", `${"timeout 1 ".repeat(9_000)}ls`],
  ["15,000 `xargs` wrappers", `${"xargs ".repeat(15_000)}ls`],
  ["19,000 `sudo` wrappers", `${"sudo ".repeat(19_000)}ls`],
  ["7,000 nested `find -exec`", `${"find . -exec ".repeat(7_000)}ls${" ;".repeat(7_000)}`],
  ["19,000 `sort -o x` options", `sort ${"-o x ".repeat(19_000)}`],
  ["a 14,000-command sed script", `sed '${"s/a/b/;".repeat(14_000)}' x`],
  ["19,000 `git -C x` options", `git ${"-C x ".repeat(19_000)}log`],
  ["12,000 `cd a &&`", `${"cd a && ".repeat(12_000)}ls`]
]
for (const [label, command] of hugeCommands) {
  let tag = ""
  const { median, p90 } = measure(() => {
    tag = verdictOf(big, "Bash", { command })
  }, quick ? 2 : 5, 1)
  hugeRows.push([label, String(command.length), tag, `${median.toFixed(1)} ms`, `${p90.toFixed(1)} ms`, median < 100 ? "yes" : "NO"])
}

console.log(`## Policy rules (bench/rules.bench.ts)

Target (issue 13): with 10,000 rules a verdict takes < 20 µs at the median for a typical command (≤ 200 chars) and for a path; a 100 KB command is answered in < 100 ms. Verdicts are \`PolicyRules.explainSync\` (the untraced core the Effect API wraps), commands already seen (their analysis is in the LRU cache).

${table(["rules", "call", "verdict", "median", "p90", "< 20 µs"], verdictRows)}

First sight of a command (shell reading included):

${table(["rules", "command", "verdict", "median", "p90"], firstRows)}

Huge commands, 10,000 rules:

${table(["command", "chars", "verdict", "median", "p90", "< 100 ms"], hugeRows)}`)
