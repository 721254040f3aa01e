import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { toolgate as inProcess } from "../cli/inProcess.ts"

// The durable path through the real CLI: `toolgate run --store` waits for an
// answer in the store; `toolgate approvals` answers from another process; a
// run killed with SIGKILL while waiting resumes when started again, with the
// answer given while it was down, and the tool runs once.

const bin = fileURLToPath(new URL("../../src/bin/toolgate.ts", import.meta.url))
let dir = ""
const path = (name: string) => NodePath.join(dir, name)

beforeAll(() => {
  dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-durable-cli-"))
  Fs.writeFileSync(path("scenario.json"), JSON.stringify({
    turns: [
      { text: "Writing.", toolCalls: [{ id: "w1", name: "Write", params: { file_path: "out.txt", content: "written\n" } }] },
      { text: "Done." }
    ]
  }))
})
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))

// `toolgate approvals` in-process: it is the other party, not the process
// under test, and the tests poll it; the runs are real processes, killed.
const toolgate = (...args: ReadonlyArray<string>) => inProcess(args)

const startRun = (workspace: string, store: string, runId: string) => {
  Fs.mkdirSync(workspace, { recursive: true })
  const child = spawn(process.execPath, [bin, "run", "--root", workspace, "--scenario", path("scenario.json"), "--store", store, "--run-id", runId], {
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout!.on("data", (chunk) => (output += chunk))
  child.stderr!.on("data", (chunk) => (output += chunk))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { child, output: () => output, exited }
}

const pendingIds = async (store: string) => {
  const r = await toolgate("approvals", "list", "--store", store, "--json")
  expect(r.code).toBe(0)
  return (JSON.parse(r.stdout) as Array<{ id: string; runId: string; tool: string; params: unknown; status: string }>)
}

const untilPending = async (store: string, id: string) => {
  for (;;) {
    const rows = await pendingIds(store)
    const row = rows.find((r) => r.id === id)
    if (row !== undefined) return row
    await new Promise((r) => setTimeout(r, 100))
  }
}

const stop = (child: ChildProcess) => {
  if (child.exitCode === null) child.kill("SIGKILL")
}

describe("toolgate run --store with toolgate approvals", () => {
  it("waits for an answer given by another process, then runs the call", async () => {
    const store = `sqlite:${path("live.db")}`
    const run = startRun(path("live"), store, "live")
    try {
      const row = await untilPending(store, "live/w1")
      expect(row).toMatchObject({ runId: "live", tool: "Write", status: "pending", params: { file_path: "out.txt" } })
      const answered = await toolgate("approvals", "allow", "live/w1", "--store", store)
      expect(answered.code).toBe(0)
      expect(await run.exited).toBe(0)
      expect(run.output()).toContain("Completed")
      expect(Fs.readFileSync(path("live/out.txt"), "utf8")).toBe("written\n")
      // answering it again is refused, non-zero, and says why
      const again = await toolgate("approvals", "deny", "live/w1", "--store", store, "--reason", "late")
      expect(again.code).toBe(1)
      expect(again.stderr).toContain("it is allowed, not pending")
    } finally {
      stop(run.child)
    }
  }, 120_000)

  it("toolgate approvals console shows the waiting request and its answer resumes the run", async () => {
    const store = `sqlite:${path("console.db")}`
    const run = startRun(path("console"), store, "c")
    const web = spawn(process.execPath, [bin, "approvals", "console", "--store", store], { stdio: ["ignore", "ignore", "pipe"] })
    try {
      let printed = ""
      const url = await new Promise<URL>((resolve, reject) => {
        web.stderr!.on("data", (chunk) => {
          printed += chunk
          const m = /answerable at (http:\/\/\S+)/.exec(printed)
          if (m !== null) resolve(new URL(m[1]!))
        })
        web.on("exit", (code) => reject(new Error(`the console exited (${code}): ${printed}`)))
      })
      const headers = { "x-toolgate-token": url.searchParams.get("token")!, "content-type": "application/json" }
      type Card = { id: string; tool: string; callId: string; description: string }
      let card: Card | undefined
      while (card === undefined) {
        const state = await (await fetch(new URL("/api/state", url), { headers })).json() as { pending: Array<Card> }
        card = state.pending.find((c) => c.callId === "w1")
        if (card === undefined) await new Promise((r) => setTimeout(r, 100))
      }
      expect(card).toMatchObject({ tool: "Write", description: expect.stringMatching(/^run c\b/) })
      const decided = await fetch(new URL(`/api/decide/${card.id}`, url), { method: "POST", headers, body: JSON.stringify({ action: "allow" }) })
      expect(decided.status).toBe(200)
      expect(await run.exited).toBe(0)
      expect(Fs.readFileSync(path("console/out.txt"), "utf8")).toBe("written\n")
      const shown = JSON.parse((await toolgate("approvals", "show", "c/w1", "--store", store, "--json")).stdout) as { status: string; decidedBy: string }
      expect(shown.status).toBe("allowed")
      expect(shown.decidedBy).toMatch(/^toolgate approvals console/)
    } finally {
      stop(run.child)
      stop(web)
    }
  }, 120_000)

  it("a run killed while waiting resumes when started again, with the answer given while it was down; the tool runs once", async () => {
    const store = `sqlite:${path("killed.db")}`
    const first = startRun(path("killed"), store, "k")
    await untilPending(store, "k/w1")
    first.child.kill("SIGKILL")
    await first.exited
    expect(Fs.existsSync(path("killed/out.txt"))).toBe(false)
    // the request survived the kill
    expect((await pendingIds(store)).map((r) => r.id)).toEqual(["k/w1"])
    expect((await toolgate("approvals", "allow", "k/w1", "--store", store)).code).toBe(0)
    const second = startRun(path("killed"), store, "k")
    try {
      expect(await second.exited).toBe(0)
      expect(second.output()).toContain("Write allowed by the approver")
      expect(Fs.readFileSync(path("killed/out.txt"), "utf8")).toBe("written\n")
      expect(await pendingIds(store)).toEqual([])
    } finally {
      stop(second.child)
    }
  }, 120_000)

  it("answering what does not exist, or a bad store, fails with a reason", async () => {
    const store = `sqlite:${path("empty.db")}`
    const missing = await toolgate("approvals", "allow", "nope/x", "--store", store)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain("there is no request nope/x")
    const badStore = await toolgate("approvals", "list", "--store", "mysql://x")
    expect(badStore.code).toBe(64)
    expect(badStore.stderr).toContain("unknown store")
    const runWithoutId = await toolgate("run", "--scenario", path("scenario.json"), "--store", store)
    expect(runWithoutId.code).toBe(64)
    expect(runWithoutId.stderr).toContain("--store and --run-id go together")
  }, 120_000)
})
