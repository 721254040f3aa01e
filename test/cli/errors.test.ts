import { describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { toolgate as inProcess } from "./inProcess.ts"

// How the CLI answers a mistake: one clear line (or the error and the
// suggestion first), the bad-input status, no stack trace; and how
// `toolgate mcp` ends when its client goes away (a real process: its stdin
// closes). The rest runs in-process (./inProcess.ts).
const bin = fileURLToPath(new URL("../../src/bin/toolgate.ts", import.meta.url))
const upstream = fileURLToPath(new URL("../fixtures/mcp-upstream.ts", import.meta.url))
const toolgate = (args: ReadonlyArray<string>, stdin = "") =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [bin, ...args], { encoding: "utf8" }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr })
    })
    child.stdin!.end(stdin)
  })

describe.concurrent("CLI errors", () => {
  it("--root naming a file is one line and exit 64", async () => {
    const file = NodePath.join(Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-root-")), "file.txt")
    Fs.writeFileSync(file, "x")
    const r = await inProcess(["run", "--root", file, "--scenario", "scenarios/demo.json"])
    expect(r.code).toBe(64)
    expect(r.stderr.trim()).toBe(`toolgate run: the workspace ${file} is not a directory`)
    expect(r.stdout).toBe("")
  })
  it("a misspelled flag prints the error and the suggestion first, then where the help is", async () => {
    const r = await inProcess(["check", "--polcy", "p.json", "{}"])
    expect(r.code).toBe(64)
    const lines = r.stderr.trim().split("\n")
    expect(lines.slice(0, 5).join("\n")).toContain("Unrecognized flag: --polcy")
    expect(lines.slice(0, 5).join("\n")).toContain("--policy")
    expect(lines.length).toBeLessThan(12)
    expect(r.stderr).toContain("toolgate check --help")
  })
  it("toolgate mcp exits 0 when its client closes stdin", async () => {
    const dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-mcp-eof-"))
    const config = NodePath.join(dir, "mcp.json")
    Fs.writeFileSync(config, JSON.stringify({ mcpServers: { up: { command: process.execPath, args: [upstream] } } }))
    const r = await toolgate(["mcp", "--config", config])
    expect(r.stderr).toContain("toolgate mcp: gating up")
    expect(r.code).toBe(0)
  })
})
