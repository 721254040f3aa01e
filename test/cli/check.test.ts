import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { toolgate as inProcess } from "./inProcess.ts"

// The CLI's exit statuses and output, run in-process (./inProcess.ts); one
// call goes through the real entry as a child process, the way `npm run
// toolgate` runs it. Modes and file errors are tested in-process too.
const bin = fileURLToPath(new URL("../../src/bin/toolgate.ts", import.meta.url))

const spawned = (...args: ReadonlyArray<string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [bin, ...args], { encoding: "utf8" }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr })
    })
  })
const toolgate = (...args: ReadonlyArray<string>) => inProcess(args)

let dir = ""
const policy = () => NodePath.join(dir, "policy.json")
const call = (name: string, input: unknown) => JSON.stringify({ name, input })

beforeAll(() => {
  dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-cli-"))
  Fs.writeFileSync(policy(), JSON.stringify({
    permissions: { allow: ["Bash(git status)", "Read"], deny: ["Bash(rm:*)"] },
    tests: [
      { call: { name: "Bash", input: { command: "git status" } }, expect: "allow" },
      { call: { name: "Bash", input: { command: "git status; rm -rf /" } }, expect: "deny" }
    ]
  }))
  Fs.writeFileSync(NodePath.join(dir, "failing.json"), JSON.stringify({
    permissions: { allow: ["Read"] },
    tests: [{ call: { name: "Bash", input: { command: "whoami" } }, expect: "allow" }]
  }))
})
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))

describe.concurrent("toolgate check", () => {
  it("exits 0 and names the rule for an allowed call", async () => {
    const r = await toolgate("check", "--policy", policy(), call("Bash", { command: "git status" }))
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("verdict: allow")
    expect(r.stdout).toContain("rule:    allow Bash(git status)")
  })
  it("exits 2 for a denied call and prints every segment (the real binary)", async () => {
    const r = await spawned("check", "--policy", policy(), call("Bash", { command: "git status && rm -rf /" }))
    expect(r.code).toBe(2)
    expect(r.stdout).toContain("verdict: deny")
    expect(r.stdout).toContain("segment: rm -rf /")
    expect(r.stdout).toMatch(/allow\s+git status\s+allow Bash\(git status\)/)
    expect(r.stdout).toMatch(/deny\s+rm -rf \/\s+deny Bash\(rm:\*\)/)
  })
  it("exits 1 for a call no rule allows", async () => {
    const r = await toolgate("check", "--policy", policy(), call("Bash", { command: "whoami" }))
    expect(r.code).toBe(1)
    expect(r.stdout).toContain("verdict: ask")
  })
  it("exits 64 for a call that is not JSON", async () => {
    const r = await toolgate("check", "--policy", policy(), "{name: Bash")
    expect(r.code).toBe(64)
    expect(r.stderr).toContain("not valid JSON")
  })
  it("exits 64 for an unknown flag", async () => {
    const r = await toolgate("check", "--polcy", policy(), call("Read", {}))
    expect(r.code).toBe(64)
  })
  it("--self-test passes a policy whose tests hold", async () => {
    const r = await toolgate("check", "--policy", policy(), "--self-test")
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("2 passed, 0 failed")
  })
  it("--self-test exits 1 and shows what failed", async () => {
    const r = await toolgate("check", "--policy", NodePath.join(dir, "failing.json"), "--self-test")
    expect(r.code).toBe(1)
    expect(r.stdout).toContain("FAIL")
    expect(r.stdout).toContain("expected allow, got ask")
  })
})
