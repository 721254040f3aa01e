import { NodeServices } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import * as Claude from "../../src/cli/hook/claude.ts"
import { parseHookArgs, respond, type HookArgs } from "../../src/cli/hook/command.ts"
import { AuditRecord } from "../../src/node/AuditLog.ts"

// The Claude Code hook, answered in-process through the same `respond` the
// hook process runs, against recorded payloads of each event; the real
// executable is started only for what needs a process (exit statuses).

const fixture = (name: string) =>
  JSON.parse(Fs.readFileSync(fileURLToPath(new URL(`./fixtures/claude/${name}.json`, import.meta.url)), "utf8")) as Record<string, unknown>
const preBash = fixture("pretooluse-bash")
const permissionWrite = fixture("permissionrequest-write")
const postRead = fixture("posttooluse-read")
const notification = fixture("notification")
const preFetch = fixture("pretooluse-webfetch")

let dir = ""
const file = (name: string) => NodePath.join(dir, name)
const write = (name: string, value: unknown) => Fs.writeFileSync(file(name), typeof value === "string" ? value : JSON.stringify(value))

beforeAll(() => {
  dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-hook-"))
  write("policy.json", {
    permissions: {
      allow: ["Bash(git status)", "Read", "Write(/work/repo/notes/**)"],
      ask: ["Bash(git push:*)"],
      deny: ["Bash(rm:*)", "Read(~/.aws/**)", "Write(/etc/**)"]
    }
  })
  write("broken.json", `{\n  "permissions": {\n    "allow": [\n  }\n}`)
})
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))

const args = (overrides: Partial<HookArgs> = {}): HookArgs => ({ policy: [file("policy.json")], unmatched: "defer", ...overrides })
const reply = (payload: unknown, overrides: Partial<HookArgs> = {}) =>
  respond(args(overrides), typeof payload === "string" ? payload : JSON.stringify(payload)).pipe(Effect.provide(NodeServices.layer))
const bash = (command: string, extra: Record<string, unknown> = {}) =>
  ({ ...preBash, tool_input: { command }, ...extra })

type Decision = { hookSpecificOutput: { hookEventName: string; permissionDecision?: string; permissionDecisionReason?: string; decision?: { behavior: string; message?: string } } }
const decision = (r: Claude.Reply) => (r.body as Decision | undefined)?.hookSpecificOutput

describe("PreToolUse", () => {
  it.effect("a recorded payload reading a denied file is denied, with the rule in the reason", () =>
    Effect.gen(function*() {
      const r = yield* reply(preBash)
      expect(r.exitCode).toBe(0)
      expect(decision(r)).toMatchObject({ hookEventName: "PreToolUse", permissionDecision: "deny" })
      expect(decision(r)?.permissionDecisionReason).toContain("Read(~/.aws/**)")
    }))
  it.effect("allow, ask and deny rules answer allow, ask and deny", () =>
    Effect.gen(function*() {
      expect(decision(yield* reply(bash("git status")))?.permissionDecision).toBe("allow")
      expect(decision(yield* reply(bash("git push origin main")))?.permissionDecision).toBe("ask")
      expect(decision(yield* reply(bash("git status && rm -rf /")))?.permissionDecision).toBe("deny")
    }))
  it.effect("a call no rule mentions gets no opinion by default, a forced prompt with --unmatched ask", () =>
    Effect.gen(function*() {
      const deferred = yield* reply(bash("whoami"))
      expect(deferred).toEqual({ exitCode: 0 })
      const asked = yield* reply(bash("whoami"), { unmatched: "ask" })
      expect(decision(asked)?.permissionDecision).toBe("ask")
    }))
  it.effect("what the engine cannot read is asked even with --unmatched defer: it is toolgate's own opinion", () =>
    Effect.gen(function*() {
      const r = yield* reply(bash("echo 'unterminated"))
      expect(decision(r)?.permissionDecision).toBe("ask")
    }))
  it.effect("permission_mode plan denies a write; bypassPermissions allows what no rule mentions but keeps denies", () =>
    Effect.gen(function*() {
      const writeCall = { ...preBash, tool_name: "Write", tool_input: { file_path: "/work/repo/x.txt", content: "x" } }
      expect(decision(yield* reply({ ...writeCall, permission_mode: "plan" }))?.permissionDecision).toBe("deny")
      expect(decision(yield* reply(bash("whoami", { permission_mode: "bypassPermissions" })))?.permissionDecision).toBe("allow")
      expect(decision(yield* reply(bash("rm -rf /", { permission_mode: "bypassPermissions" })))?.permissionDecision).toBe("deny")
      expect(decision(yield* reply({ ...writeCall, permission_mode: "acceptEdits" }))?.permissionDecision).toBe("allow")
    }))
  it.effect("acceptEdits: a shell command writing a protected file is asked too (Claude Code's acceptEdits runs cp, mv, touch, sed itself)", () =>
    Effect.gen(function*() {
      for (const command of ["cp x .npmrc", "mv evil .envrc", "touch node_modules/.bin/tsc", "echo x > .npmrc", "sed -i s/a/b/ .claude/settings.json"]) {
        const r = yield* reply(bash(command, { permission_mode: "acceptEdits" }))
        expect(decision(r)?.permissionDecision, command).toBe("ask")
        expect(decision(r)?.permissionDecisionReason, command).toContain("protected file")
      }
      // an ordinary edit stays Claude Code's to decide
      expect(yield* reply(bash("cp a.txt b.txt", { permission_mode: "acceptEdits" }))).toEqual({ exitCode: 0 })
    }))
  it.effect("a segment a rule asks about is asked, though another segment no rule mentions would defer", () =>
    Effect.gen(function*() {
      const r = yield* reply(bash("whoami && git push origin main"))
      expect(decision(r)?.permissionDecision).toBe("ask")
      expect(decision(r)?.permissionDecisionReason).toContain("git push")
    }))
  it.effect("acceptEdits: a write into .git, agent settings or a dotenv file is asked, not deferred to Claude Code's own acceptEdits", () =>
    Effect.gen(function*() {
      for (const path of ["/work/repo/.git/hooks/pre-commit", "/work/repo/.claude/settings.json", "/work/repo/.env", "/work/repo/node_modules/.bin/tsc"]) {
        const r = yield* reply({ ...preBash, tool_name: "Write", tool_input: { file_path: path, content: "x" }, permission_mode: "acceptEdits" })
        expect(decision(r)?.permissionDecision, path).toBe("ask")
        expect(decision(r)?.permissionDecisionReason).toContain("protected file")
      }
    }))
  it.effect("--mode overrides the payload's permission_mode", () =>
    Effect.gen(function*() {
      const r = yield* reply(bash("whoami", { permission_mode: "bypassPermissions" }), { mode: "default", unmatched: "ask" })
      expect(decision(r)?.permissionDecision).toBe("ask")
    }))
  it.effect("the payload's mode never loosens the policy files' defaultMode", () =>
    Effect.gen(function*() {
      write("plan.json", { permissions: { defaultMode: "plan", allow: ["Bash"] } })
      const r = yield* reply(bash("touch x", { permission_mode: "bypassPermissions" }), { policy: [file("plan.json")] })
      expect(decision(r)?.permissionDecision).toBe("deny")
    }))
  it.effect("relative paths resolve against the payload's cwd", () =>
    Effect.gen(function*() {
      write("rel.json", { permissions: { allow: ["Read(./src/**)"] } })
      const read = (cwd: string) => ({ ...preBash, cwd, tool_name: "Read", tool_input: { file_path: "/repo/src/a.ts" } })
      expect(decision(yield* reply(read("/repo"), { policy: [file("rel.json")], unmatched: "ask" }))?.permissionDecision).toBe("allow")
      expect(decision(yield* reply(read("/other"), { policy: [file("rel.json")], unmatched: "ask" }))?.permissionDecision).toBe("ask")
    }))
  it.effect("the older payload without hook_event_name is judged as PreToolUse", () =>
    Effect.gen(function*() {
      const r = yield* reply({ tool_name: "Bash", tool_input: { command: "rm -rf /" } })
      expect(decision(r)?.permissionDecision).toBe("deny")
    }))
})

describe("every failure blocks the call", () => {
  it.effect("a policy file that does not exist: deny, naming the file", () =>
    Effect.gen(function*() {
      const r = yield* reply(bash("git status"), { policy: [file("missing.json")] })
      expect(decision(r)?.permissionDecision).toBe("deny")
      expect(decision(r)?.permissionDecisionReason).toContain("missing.json")
      // the error's own sentence, not the rendering of the cause around it
      expect(decision(r)?.permissionDecisionReason).toMatch(/nothing from it was applied\.$/)
    }))
  it.effect("a policy file that does not parse: deny, with the line", () =>
    Effect.gen(function*() {
      const r = yield* reply(bash("git status"), { policy: [file("policy.json"), file("broken.json")] })
      expect(decision(r)?.permissionDecision).toBe("deny")
      expect(decision(r)?.permissionDecisionReason).toMatch(/broken\.json.*line 4/)
    }))
  it.effect("an optional layer that is absent is skipped; one that is present and broken still blocks", () =>
    Effect.gen(function*() {
      const absent = yield* reply(bash("git status"), { policy: [file("policy.json"), `optional:${file("nope.json")}`] })
      expect(decision(absent)?.permissionDecision).toBe("allow")
      const broken = yield* reply(bash("git status"), { policy: [file("policy.json"), `optional:${file("broken.json")}`] })
      expect(decision(broken)?.permissionDecision).toBe("deny")
    }))
  it.effect("a PermissionRequest with a broken policy is denied in its own answer shape", () =>
    Effect.gen(function*() {
      const r = yield* reply(permissionWrite, { policy: [file("broken.json")] })
      expect(decision(r)).toMatchObject({ hookEventName: "PermissionRequest", decision: { behavior: "deny" } })
    }))
  const bad: ReadonlyArray<readonly [string, string]> = [
    ["not JSON", "{ nope"],
    ["a JSON array", "[]"],
    ["no event name and no tool", `{"session_id":"s"}`],
    ["a PreToolUse without tool_input", JSON.stringify({ ...preBash, tool_input: undefined })],
    ["a PreToolUse whose tool_input is a string", JSON.stringify({ ...preBash, tool_input: "rm -rf /" })],
    ["a PreToolUse whose tool_name is a number", JSON.stringify({ ...preBash, tool_name: 7 })]
  ]
  for (const [name, text] of bad) {
    it.effect(`an unreadable payload (${name}): exit 2 with the reason on stderr`, () =>
      Effect.gen(function*() {
        const r = yield* reply(text)
        expect(r.exitCode === 2 || decision(r)?.permissionDecision === "deny").toBe(true)
        expect(r.stderr).toMatch(/^toolgate: blocked: /)
      }))
  }
  it.effect.prop("whatever the input, the answer is never an allow unless a rule allows", { text: Schema.String }, ({ text }) =>
    Effect.gen(function*() {
      const r = yield* reply(text)
      expect(decision(r)?.permissionDecision).not.toBe("allow")
    }))
})

describe("PermissionRequest, PostToolUse and other events", () => {
  it.effect("a PermissionRequest the policy allows is allowed, one it denies is denied, else no opinion", () =>
    Effect.gen(function*() {
      expect(decision(yield* reply(permissionWrite))).toEqual({ hookEventName: "PermissionRequest", decision: { behavior: "allow" } })
      const denied = yield* reply({ ...permissionWrite, tool_input: { file_path: "/etc/passwd", content: "x" } })
      expect(decision(denied)?.decision).toMatchObject({ behavior: "deny" })
      expect(yield* reply({ ...permissionWrite, tool_input: { file_path: "/work/repo/src/a.ts", content: "x" } })).toEqual({ exitCode: 0 })
    }))
  it.effect("PostToolUse is recorded in the audit log as a Finished record, and gets no opinion", () =>
    Effect.gen(function*() {
      const audit = file("audit.jsonl")
      const r = yield* reply(postRead, { audit })
      expect(r).toEqual({ exitCode: 0 })
      yield* reply(preBash, { audit })
      const records = Fs.readFileSync(audit, "utf8").trim().split("\n").map((l) => Schema.decodeUnknownSync(Schema.fromJsonString(AuditRecord))(l))
      expect(records[0]).toMatchObject({ _tag: "Finished", tool: "Read", callId: "toolu_01Q3m7CkVbq2YxWn5JdR8sTe", verdict: "allowed" })
      expect(records[1]).toMatchObject({ _tag: "Decided", tool: "Bash", allowed: false, decidedBy: "policy" })
    }))
  it.effect("an event toolgate does not handle gets no opinion, even with a broken policy", () =>
    Effect.gen(function*() {
      expect(yield* reply(notification, { policy: [file("broken.json")] })).toEqual({ exitCode: 0 })
      expect(yield* reply({ hook_event_name: "Stop", stop_hook_active: false })).toEqual({ exitCode: 0 })
    }))
  it("a person's answer to a PermissionRequest carries edits, or the reason and the stop", () => {
    expect(Claude.permissionReply({ allow: true, updatedInput: { command: "ls" } }).body).toEqual({
      hookSpecificOutput: { hookEventName: "PermissionRequest", decision: { behavior: "allow", updatedInput: { command: "ls" } } }
    })
    expect(Claude.permissionReply({ allow: false, reason: "no", stop: true }).body).toEqual({
      hookSpecificOutput: { hookEventName: "PermissionRequest", decision: { behavior: "deny", message: "toolgate: no", interrupt: true } }
    })
  })
  it.effect("WebFetch with a recorded payload is judged (acceptEdits does not pre-approve the network)", () =>
    Effect.gen(function*() {
      const r = yield* reply(preFetch, { unmatched: "ask" })
      expect(decision(r)?.permissionDecision).toBe("ask")
    }))
})

describe("the hook's flags", () => {
  it("reads what toolgate check takes in hook mode", () => {
    expect(parseHookArgs(["--policy", "a.json", "--policy=optional:b.json", "--hook", "claude", "--mode", "plan", "--unmatched", "ask"])).toEqual({
      policy: ["a.json", "optional:b.json"],
      mode: "plan",
      root: undefined,
      unmatched: "ask",
      audit: undefined
    })
  })
  for (const argv of [["--hook", "claude"], ["--policy", "p", "--hook", "codex"], ["--policy", "p", "--hook", "claude", "--nope"], ["--policy", "p", "--hook", "claude", "--mode", "yolo"], ["--policy", "p", "--hook", "claude", "{}"]]) {
    it(`refuses ${argv.join(" ")}`, () => expect(() => parseHookArgs(argv)).toThrow())
  }
})

// The executable: hook mode must block on every way it can fail, because
// Claude Code runs the tool when a hook exits with any status but 0 or 2.
const bin = fileURLToPath(new URL("../../src/bin/toolgate.ts", import.meta.url))
const toolgate = (stdin: string, ...argv: ReadonlyArray<string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [bin, ...argv], { encoding: "utf8" }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr })
    })
    child.stdin!.end(stdin)
  })

describe("toolgate check --hook claude, the process", () => {
  it("a missing policy file answers deny on stdout with exit 0 (not 64 with nothing on stdout)", async () => {
    const r = await toolgate(JSON.stringify(preBash), "check", "--policy", file("missing.json"), "--hook", "claude")
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).hookSpecificOutput.permissionDecision).toBe("deny")
  })
  it("a flag it does not know blocks with exit 2", async () => {
    const r = await toolgate(JSON.stringify(preBash), "check", "--policy", file("policy.json"), "--hook", "claude", "--polcy", "x")
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("toolgate: blocked")
  })
})
