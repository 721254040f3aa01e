import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { Answer, answerLine, readCall } from "../../src/cli/check.ts"
import * as PolicyRules from "../../src/policy/PolicyRules.ts"

// `toolgate check --jsonl` and `--hook claude`: the line-by-line answer is
// tested in-process; the real bin is run once per form, fed on stdin.
const bin = fileURLToPath(new URL("../../src/bin/toolgate.ts", import.meta.url))
const recorded = fileURLToPath(new URL("./fixtures/claude/pretooluse-bash.json", import.meta.url))

const toolgate = (stdin: string, ...args: ReadonlyArray<string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [bin, ...args], { encoding: "utf8" }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr })
    })
    child.stdin!.end(stdin)
  })

const env: PolicyRules.Environment = { root: "/repo", home: "/home/me" }
const rules = Effect.runSync(PolicyRules.make({
  allow: ["Bash(git status)", "Read"],
  deny: ["Bash(rm:*)", "Read(~/.aws/**)"]
}))

describe("check --jsonl answers", () => {
  const cases: ReadonlyArray<readonly [string, string, Answer["verdict"], string | null]> = [
    ["a toolgate call", `{"name":"Bash","input":{"command":"git status"}}`, "allow", "allow Bash(git status)"],
    ["a Claude Code hook payload", `{"tool_name":"Bash","tool_input":{"command":"rm -rf x"},"hook_event_name":"PreToolUse"}`, "deny", "deny Bash(rm:*)"],
    ["a call no rule allows", `{"name":"Bash","input":{"command":"whoami"}}`, "ask", "default ask"],
    ["a line that is not JSON is denied", `{"name": "Bash"`, "deny", null],
    ["JSON that is not a call is denied", `[1, 2]`, "deny", null],
    ["a call without input is denied", `{"name":"Bash"}`, "deny", null],
    ["an unparseable command is asked", `{"name":"Bash","input":{"command":"echo 'x"}}`, "ask", "engine unparseable"],
    ["a reader of a denied file is denied", `{"tool_name":"Bash","tool_input":{"command":"head ~/.aws/credentials"}}`, "deny", "deny Read(~/.aws/**)"]
  ]
  for (const [name, line, verdict, rule] of cases) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const answer = yield* answerLine(rules, env, line)
        expect(answer.verdict).toBe(verdict)
        expect(answer.rule).toBe(rule)
        if (rule === null) expect(answer.error).toBeDefined()
        // every answer is a valid Answer
        Schema.decodeUnknownSync(Answer)(answer)
      }))
  }
  it.effect("a hook payload's cwd is the root that ./ rules resolve against", () =>
    Effect.gen(function*() {
      const strict = yield* PolicyRules.make({ allow: ["Read(./src/**)"] })
      const line = (cwd: string) => JSON.stringify({ tool_name: "Read", tool_input: { file_path: "/repo/src/a.ts" }, cwd })
      expect((yield* answerLine(strict, env, line("/repo"))).verdict).toBe("allow")
      expect((yield* answerLine(strict, { ...env, root: "/elsewhere" }, line("/repo"))).verdict).toBe("allow")
      expect((yield* answerLine(strict, env, line("/other"))).verdict).toBe("ask")
    }))
  it("reads both call shapes", () => {
    expect(readCall(`{"name":"Read","input":{}}`)).toMatchObject({ _tag: "Call", name: "Read" })
    expect(readCall(`{"tool_name":"Read","tool_input":{},"cwd":"/x"}`)).toMatchObject({ _tag: "Call", name: "Read", cwd: "/x" })
    expect(readCall(`{"tool":"Read"}`)._tag).toBe("Bad")
  })
  it("reads the caller's id, or a hook payload's tool_use_id", () => {
    expect(readCall(`{"id":"c1","name":"Read","input":{}}`)).toMatchObject({ _tag: "Call", id: "c1" })
    expect(readCall(`{"id":7,"name":"Read"}`)).toMatchObject({ _tag: "Bad", id: 7 })
    expect(readCall(`{"tool_name":"Read","tool_input":{},"tool_use_id":"toolu_1"}`)).toMatchObject({ id: "toolu_1" })
    expect(readCall(`{"id":{"x":1},"name":"Read","input":{}}`)).not.toHaveProperty("id")
    expect(readCall(`   `)).toEqual({ _tag: "Bad", error: "the line is empty" })
  })
  it.effect.prop(
    "every line gets exactly one answer that carries the line's id",
    [Schema.Union([Schema.String, Schema.Int]), Schema.String],
    ([id, noise]) =>
      Effect.gen(function*() {
        const lines = [JSON.stringify({ id, name: "Bash", input: { command: noise } }), JSON.stringify({ id, junk: noise }), noise]
        for (const line of lines) {
          const answer = yield* answerLine(rules, env, line)
          Schema.decodeUnknownSync(Answer)(answer)
          // the id as JSON carries it (-0 is written 0)
          if (line !== noise) expect(answer.id).toBe(JSON.parse(JSON.stringify(id)))
        }
      })
  )
})

let dir = ""
const policy = () => NodePath.join(dir, "policy.json")
beforeAll(() => {
  dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-jsonl-"))
  Fs.writeFileSync(policy(), JSON.stringify({
    permissions: { allow: ["Bash(git status)", "Bash(head:*)", "Read", "bash(ls)"], deny: ["Bash(rm -rf:*)", "Read(~/.aws/**)"] }
  }))
})
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))

describe.concurrent("toolgate check, streaming forms", () => {
  it("--jsonl answers one JSON line per call line, denies a bad line and goes on", async () => {
    const input = [
      `{"name":"Bash","input":{"command":"git status"}}`,
      `not json`,
      ``,
      `{"tool_name":"Bash","tool_input":{"command":"rm -fr /"}}`,
      `{"name":"Bash","input":{"command":"whoami"}}`
    ].join("\n")
    const r = await toolgate(input, "check", "--policy", policy(), "--jsonl")
    expect(r.code).toBe(0)
    const answers = r.stdout.trim().split("\n").map((l) => Schema.decodeUnknownSync(Answer)(JSON.parse(l)))
    // one answer per line, the blank line included
    expect(answers.map((a) => a.verdict)).toEqual(["allow", "deny", "deny", "deny", "ask"])
    expect(answers[1]!.error).toContain("not valid JSON")
    expect(answers[2]!.error).toBe("the line is empty")
    expect(answers[3]!.rule).toBe("deny Bash(rm -rf:*)")
    // the dead rule "bash(ls)" is reported on stderr, not in the stream
    expect(r.stderr).toContain("warning")
    expect(r.stderr).toContain("bash(ls)")
  }, 120_000)
  it("--hook claude answers a recorded PreToolUse payload in Claude Code's format", async () => {
    const r = await toolgate(Fs.readFileSync(recorded, "utf8"), "check", "--policy", policy(), "--hook", "claude")
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as { hookSpecificOutput: Record<string, string> }
    expect(out.hookSpecificOutput.hookEventName).toBe("PreToolUse")
    expect(out.hookSpecificOutput.permissionDecision).toBe("deny")
    expect(out.hookSpecificOutput.permissionDecisionReason).toContain("Read(~/.aws/**)")
  }, 120_000)
  it("--hook claude blocks a payload it cannot read: exit 2, the reason on stderr", async () => {
    const r = await toolgate("{ broken", "check", "--policy", policy(), "--hook", "claude")
    expect(r.code).toBe(2)
    expect(r.stdout).toBe("")
    expect(r.stderr).toContain("not valid JSON")
  }, 120_000)
})
