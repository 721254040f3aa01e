import { describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"

// The examples the README shows, run as a reader would run them.
const repo = fileURLToPath(new URL("..", import.meta.url))

const node = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(process.execPath, args, { cwd: repo, encoding: "utf8", timeout: 60_000 }, (error, stdout) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout })
    })
  })

describe.concurrent("examples", () => {
  it("examples/agent.ts: the custom approver's denial keeps SUMMARY.md from being written", async () => {
    const root = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-example-"))
    Fs.writeFileSync(NodePath.join(root, "README.md"), "# example\n")
    const { code, stdout } = await node(["--conditions=toolgate-source", "examples/agent.ts", root])
    expect(code).toBe(0)
    expect(stdout).toContain("Completed")
    // (the sandbox leaves an empty .git and .claude where there were none:
    // the mount points that keep commands from creating them)
    const empty = (name: string) => Fs.statSync(NodePath.join(root, name)).isDirectory() && Fs.readdirSync(NodePath.join(root, name)).length === 0
    expect(Fs.readdirSync(root).filter((name) => !((name === ".git" || name === ".claude") && empty(name)))).toEqual(["README.md"])
    Fs.rmSync(root, { recursive: true, force: true })
  }, 60_000)

  it("examples/executor.ts: each call's result, in the order the model asked", async () => {
    const { code, stdout } = await node(["--conditions=toolgate-source", "examples/executor.ts"])
    expect(code).toBe(0)
    const results = stdout.split("What the model reads back")[1]!.trim().split("\n").slice(1).map((l) => l.trim().split(" ").slice(0, 3).join(" "))
    expect(results).toEqual([
      "call_1 Read ✓",
      "call_2 Write ✓",
      "call_3 Write ✗",
      "call_4 Write ✗",
      "call_5 Delete ✗",
      "call_6 Read ✗"
    ])
  }, 60_000)
})
