import { describe, expect, it } from "@effect/vitest"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import * as Readline from "node:readline"
import { fileURLToPath } from "node:url"
import { database } from "./postgres.ts"

// Two worker processes on PostgreSQL. A call waits for approval in one; that
// worker is killed with SIGKILL; the request is answered from a third
// process while it is down; the surviving worker asks the same call again,
// takes over the dead worker's shards once their locks expire, and the tool
// runs exactly once — counted as lines in a file both workers append to.

const pgUrl = await database("test/durable/workers")

const worker = fileURLToPath(new URL("./fixtures/worker.ts", import.meta.url))
const bin = fileURLToPath(new URL("../../src/bin/toolgate.ts", import.meta.url))

const start = (args: ReadonlyArray<string>) => {
  const child = spawn(process.execPath, [worker, ...args], { stdio: ["pipe", "pipe", "pipe"] })
  const lines: Array<string> = []
  let stderr = ""
  child.stderr!.on("data", (chunk) => (stderr += chunk))
  Readline.createInterface({ input: child.stdout! }).on("line", (line) => lines.push(line))
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
  const until = async (line: (l: string) => boolean) => {
    while (!lines.some(line)) {
      if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}: ${stderr}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    return lines.find(line)!
  }
  return { child, until, exited }
}

const toolgate = (...args: ReadonlyArray<string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [bin, ...args], { encoding: "utf8" }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr })
    })
  })

const kill = (child: ChildProcess) => {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
}

describe.skipIf(pgUrl === undefined)("two workers on PostgreSQL", () => {
  it("one killed while a call waits: the other takes the call over and the tool runs once", async () => {
    const dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-workers-"))
    const effects = NodePath.join(dir, "effects.log")
    const runId = `two-${Crypto.randomUUID().slice(0, 8)}`
    const id = `${runId}/w1`
    const survivor = start([pgUrl!, runId, effects, "host"])
    const doomed = start([pgUrl!, runId, effects, "run"])
    try {
      await survivor.until((l) => l === "ready")
      // the call waits in the doomed worker
      for (;;) {
        // `show`, not `list`: the database may hold many other requests
        if ((await toolgate("approvals", "show", id, "--store", pgUrl!, "--json")).code === 0) break
        await new Promise((r) => setTimeout(r, 100))
      }
      doomed.child.kill("SIGKILL")
      await doomed.exited
      // answered while its worker is dead
      const answered = await toolgate("approvals", "allow", id, "--store", pgUrl!)
      expect(answered.code).toBe(0)
      expect(Fs.existsSync(effects)).toBe(false)
      // the survivor asks the same call: it attaches to the same execution
      // (on a shard the dead worker may have held) and gets the answer
      survivor.child.stdin!.write("run\n")
      expect(await survivor.until((l) => l.startsWith("done "))).toBe("done Succeeded")
      await survivor.exited
      const lines = Fs.readFileSync(effects, "utf8").trim().split("\n")
      expect(lines).toEqual([`w1 ${survivor.child.pid}`])
      const shown = await toolgate("approvals", "show", id, "--store", pgUrl!, "--json")
      expect(JSON.parse(shown.stdout)).toMatchObject({ status: "allowed" })
    } finally {
      kill(survivor.child)
      kill(doomed.child)
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
