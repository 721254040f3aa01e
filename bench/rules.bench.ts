/**
 * Benchmark of the policy rule engine: verdict time per call with 10 and
 * 10,000 rules, and shell parse time per command. A plain script, not a
 * test: `npx node bench/rules.bench.ts`. Each case is warmed up, then timed
 * call by call; the table shows the median and p90.
 */
import { Effect } from "effect"
import * as Shell from "../src/policy/internal/shell.ts"
import * as PolicyRules from "../src/policy/PolicyRules.ts"

const env: PolicyRules.Environment = { root: "/repo", home: "/home/me" }

const baseRules: PolicyRules.Input = {
  allow: ["Read", "Bash(git status)", "Bash(git diff:*)", "Bash(npm run test:*)", "Write(./src/**)", "mcp__github__*"],
  ask: ["Bash(git push:*)"],
  deny: ["Bash(rm:*)", "Write(/etc/**)", "Edit(~/.ssh/**)"]
}

// 10,000 rules: the base plus generated command, path and wildcard-name rules
// spread over the three lists, so every lookup meets a crowd.
const manyRules = (n: number): PolicyRules.Input => {
  const allow = [...(baseRules.allow ?? [])]
  const ask = [...(baseRules.ask ?? [])]
  const deny = [...(baseRules.deny ?? [])]
  for (let i = 0; allow.length + ask.length + deny.length < n; i++) {
    const list = i % 5 === 0 ? deny : i % 5 === 1 ? ask : allow
    switch (i % 4) {
      case 0: list.push(`Bash(tool${i} sub${i}:*)`); break
      case 1: list.push(`Write(./generated/dir${i}/**)`); break
      case 2: list.push(`mcp__server${i}__*`); break
      default: list.push(`Bash(cmd${i} --flag ${i})`)
    }
  }
  return { allow, ask, deny }
}

const calls: ReadonlyArray<readonly [string, string, unknown]> = [
  ["Bash simple", "Bash", { command: "git status" }],
  ["Bash compound", "Bash", { command: "git status && npm run test -- --watch | tee out.log; echo $(git diff HEAD)" }],
  ["Bash sh -c", "Bash", { command: "timeout 5 bash -lc 'git diff --stat && npm run test'" }],
  ["Write path", "Write", { file_path: "src/../src/a/b/c.ts" }],
  ["Read path", "Read", { file_path: "~/notes.txt" }],
  ["mcp wildcard", "mcp__github__list_issues", {}]
]

const commands: ReadonlyArray<readonly [string, string]> = [
  ["simple", "git status"],
  ["pipeline", "cat a.txt | grep -v foo | sort | uniq -c | head -n 10"],
  ["compound", "git status && npm run test -- --watch | tee out.log; echo $(git diff HEAD)"],
  ["wrappers + sh -c", "sudo -u root timeout 5 env A=1 bash -lc 'git status; ls -la > /tmp/x'"],
  ["script 1 KB", Array.from({ length: 40 }, (_, i) => `echo line${i} >> out.txt`).join("; ")],
  ["script 10 KB", Array.from({ length: 400 }, (_, i) => `echo line${i} >> out.txt`).join("; ")]
]

const measure = (f: () => void, iterations: number): { median: number; p90: number } => {
  for (let i = 0; i < Math.max(20, iterations / 5); i++) f()
  const samples: Array<number> = []
  for (let i = 0; i < iterations; i++) {
    const t = performance.now()
    f()
    samples.push(performance.now() - t)
  }
  samples.sort((a, b) => a - b)
  return { median: samples[Math.floor(samples.length / 2)]!, p90: samples[Math.floor(samples.length * 0.9)]! }
}

const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`.padStart(12)

const rows: Array<string> = []
for (const size of [10, 10_000]) {
  const rules = Effect.runSync(PolicyRules.make(size === 10 ? baseRules : manyRules(size)))
  const count = rules.allow.length + rules.ask.length + rules.deny.length
  for (const [label, name, params] of calls) {
    let tag = ""
    const { median, p90 } = measure(() => {
      tag = Effect.runSync(PolicyRules.explain(rules, { name, params }, env)).verdict._tag
    }, 300)
    rows.push(`| verdict | ${String(count).padStart(6)} rules | ${label.padEnd(18)} | ${tag.padEnd(5)} | ${us(median)} | ${us(p90)} |`)
  }
}
for (const [label, command] of commands) {
  const { median, p90 } = measure(() => Shell.analyze(command), label.includes("10 KB") ? 30 : label.includes("1 KB") ? 100 : 300)
  rows.push(`| parse   | ${String(command.length).padStart(6)} chars | ${label.padEnd(18)} |       | ${us(median)} | ${us(p90)} |`)
}

console.log(`| what    | size         | case               |       |       median |          p90 |`)
console.log(`|---------|--------------|--------------------|-------|--------------|--------------|`)
for (const row of rows) console.log(row)
