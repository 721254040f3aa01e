import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"

// The real `toolgate run` as a child process with no terminal attached,
// as in CI: it must never wait for a human.
const bin = fileURLToPath(new URL("../../src/bin/toolgate.ts", import.meta.url))

const toolgate = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(ANTHROPIC|OPENAI|TOOLGATE)_/.test(k))
    )
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { encoding: "utf8", env: { ...clean, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr })
      }
    )
    child.stdin?.end()
  })

let dir = ""
beforeAll(() => {
  dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-run-"))
})
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))

describe.concurrent("toolgate run", () => {
  it("with no terminal and no key, runs the scripted demo non-interactively and says so", async () => {
    const audit = NodePath.join(dir, "audit.jsonl")
    const { code, stdout } = await toolgate(["run", "--audit", audit])
    expect(code).toBe(0)
    expect(stdout).toContain("model:     scripted")
    expect(stdout).toContain("no terminal attached, so every call the policy asks about is approved")
    expect(stdout).toContain("Write allowed by handler")
    expect(stdout).toContain("Bash denied by policy [deny: Bash(rm -rf:*)]")
    expect(stdout).toContain("— Completed · 5 turns")
    expect(stdout).toContain("SUMMARY.md as written in the workspace")
    const lines = Fs.readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(lines.filter((l) => l.event === "finished").map((l) => `${l.name}:${l.outcome}`)).toEqual([
      "Read:Succeeded",
      "Write:Succeeded",
      "Bash:PolicyDenied",
      "Bash:Succeeded"
    ])
  }, 60_000)

  it("plan mode denies the write and the shell command with a reason naming plan mode", async () => {
    const { code, stdout } = await toolgate(["run", "--mode", "plan"])
    expect(code).toBe(0)
    expect(stdout).toContain("(mode plan)")
    expect(stdout).toMatch(/Write denied by policy.*plan mode/)
    expect(stdout).not.toContain("SUMMARY.md as written")
  }, 60_000)

  it("a missing policy file is bad input naming the file", async () => {
    const { code, stderr } = await toolgate(["run", "--policy", NodePath.join(dir, "nope.json")])
    expect(code).toBe(64)
    expect(stderr).toContain("nope.json")
    expect(stderr).toContain("cannot read the file")
  }, 60_000)

  it("asking for a provider without its key is a clear error", async () => {
    const { code, stderr } = await toolgate(["run"], { TOOLGATE_PROVIDER: "anthropic" })
    expect(code).toBe(64)
    expect(stderr).toMatch(/ANTHROPIC_API_KEY/)
  }, 60_000)

  it("an unknown flag is bad input", async () => {
    const { code } = await toolgate(["run", "--frobnicate"])
    expect(code).toBe(64)
  }, 60_000)

  it("--help describes the command and its flags", async () => {
    const { code, stdout } = await toolgate(["run", "--help"])
    expect(code).toBe(0)
    for (const flag of ["--policy", "--mode", "--yes", "--audit", "--root", "--scenario", "--max-turns"]) {
      expect(stdout).toContain(flag)
    }
  }, 60_000)
})
