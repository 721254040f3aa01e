import { describe, expect, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { database } from "./postgres.ts"

// A durable agent run killed with SIGKILL in the middle of a tool call and
// started again: the model is not asked again for the turns it answered,
// the calls that ended do not run again, and the call that was cut off is
// asked about again — the request says it may already have run — before
// it runs a second time. Model requests and tool effects are counted in
// files (test/durable/fixtures/agent.ts).

const agent = fileURLToPath(new URL("./fixtures/agent.ts", import.meta.url))

const pgUrl = await database("test/durable/DurableAgent")

const start = (store: string, runId: string, dir: string) => {
  const child = spawn(process.execPath, [agent, store, runId, dir], { stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let stderr = ""
  child.stdout!.on("data", (chunk) => (stdout += chunk))
  child.stderr!.on("data", (chunk) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { child, exited, stdout: () => stdout, stderr: () => stderr }
}

const lines = (dir: string, file: string) => {
  const path = NodePath.join(dir, file)
  return Fs.existsSync(path) ? Fs.readFileSync(path, "utf8").trim().split("\n") : []
}

const stores = [
  { name: "SQLite", store: (dir: string) => `sqlite:${NodePath.join(dir, "run.db")}` },
  ...(pgUrl === undefined ? [] : [{ name: "PostgreSQL", store: () => pgUrl }])
]

describe("DurableAgent.run killed mid-run", () => {
  for (const { name, store } of stores) {
    it(`on ${name}: resumes without asking the model again or re-running ended calls; the cut-off call is asked again`, async () => {
      const dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-durable-agent-"))
      const runId = `agent-${NodePath.basename(dir)}`
      Fs.writeFileSync(NodePath.join(dir, "slow"), "")
      const first = start(store(dir), runId, dir)
      try {
        // kill it while c runs
        while (!lines(dir, "effects.log").some((l) => l.startsWith("begin c"))) {
          if (first.child.exitCode !== null) throw new Error(`the run ended early: ${first.stderr()}`)
          await new Promise((r) => setTimeout(r, 50))
        }
        first.child.kill("SIGKILL")
        await first.exited
      } finally {
        if (first.child.exitCode === null) first.child.kill("SIGKILL")
      }
      expect(lines(dir, "model.log")).toEqual(["turn 1", "turn 2"])
      Fs.rmSync(NodePath.join(dir, "slow"))

      const second = start(store(dir), runId, dir)
      try {
        expect(await second.exited).toBe(0)
      } finally {
        if (second.child.exitCode === null) second.child.kill("SIGKILL")
      }
      expect(JSON.parse(second.stdout().trim().split("\n").at(-1)!)).toEqual({ text: "done", stopReason: "Completed", turns: 3 })
      // turns 1 and 2 were answered before the kill: only turn 3 is new
      expect(lines(dir, "model.log")).toEqual(["turn 1", "turn 2", "turn 3"])
      // a and b ended before the kill and did not run again; c began twice,
      // the second time knowing it may have run, with the same idempotency key
      expect(lines(dir, "effects.log")).toEqual([
        `begin a false ${runId}/call_1_1`,
        "end a",
        `begin b false ${runId}/call_1_2`,
        "end b",
        `begin c false ${runId}/call_2_1`,
        `begin c true ${runId}/call_2_1`,
        "end c"
      ])
      const asked = lines(dir, "approvals.log").map((l) => JSON.parse(l) as { id: string; reason: string | null })
      const again = asked.filter((a) => a.id === "call_2_1.again")
      expect(again).toHaveLength(1)
      expect(again[0]!.reason).toContain("may already have run")
      // nothing else was asked twice
      expect(asked.filter((a) => a.id === "call_1_1" || a.id === "call_1_2")).toHaveLength(2)
      Fs.rmSync(dir, { recursive: true, force: true })
    }, 120_000)
  }
})
