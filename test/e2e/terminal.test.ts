/**
 * The terminal approver on a real terminal: `approve-demo.ts` runs in a
 * detached tmux session, and the test reads the screen (`capture-pane`) and
 * types (`send-keys`) as a user would. Skipped where tmux is not installed,
 * except in CI, where that fails.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { required } from "../systemPackage.ts"

const hasTmux = required(
  (() => {
    try {
      execFileSync("tmux", ["-V"], { stdio: "ignore" })
      return true
    } catch {
      return false
    }
  })(),
  "the terminal approver end to end (test/e2e/terminal.test.ts)",
  "tmux"
)

const repo = fileURLToPath(new URL("../..", import.meta.url))
const tmux = (...args: Array<string>) => execFileSync("tmux", args, { encoding: "utf8" })
const sessions: Array<string> = []

afterEach(() => {
  for (const s of sessions.splice(0)) {
    try {
      tmux("kill-session", "-t", s)
    } catch {
      // already gone
    }
  }
})

const waitForScreen = async (session: string, predicate: (screen: string) => boolean, ms = 40_000) => {
  const until = Date.now() + ms
  let screen = ""
  while (Date.now() < until) {
    screen = tmux("capture-pane", "-p", "-t", session)
    if (predicate(screen)) return screen
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for the screen; it shows:\n${screen}`)
}

// A person reads a prompt before answering it; keys that come within the
// approver's settle time (250 ms) of the prompt being drawn are ignored as
// typed before it. So a one-key answer waits as a reader would.
const readThenPress = async (session: string, key: string) => {
  await new Promise((resolve) => setTimeout(resolve, 400))
  tmux("send-keys", "-t", session, key)
}

describe("terminal approver end to end", () => {
  it.skipIf(!hasTmux)("y allows the first Write, n with a typed reason denies the second; files and screen agree", async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "toolgate-e2e-"))
    const session = `toolgate-e2e-${process.pid}-${Date.now()}`
    sessions.push(session)
    const command = `cd ${JSON.stringify(repo)} && npx node test/e2e/approve-demo.ts ${JSON.stringify(workspace)}; echo DEMO-EXITED $?; sleep 60`
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", command)

    await waitForScreen(session, (s) => s.includes("Write (Mutating) wants to run") && s.includes("a.txt"))
    await readThenPress(session, "y")
    await waitForScreen(session, (s) => s.includes("✔ Write allowed by you") && s.includes("b.txt"))
    expect(fs.readFileSync(path.join(workspace, "a.txt"), "utf8")).toBe("from the first call\n")

    // The reason is typed straight after `n`, without waiting for its prompt:
    // keys of one dialogue are not lost between its prompts.
    await readThenPress(session, "n")
    tmux("send-keys", "-t", session, "not this one", "Enter")
    const screen = await waitForScreen(session, (s) => s.includes("DEMO-EXITED"))

    expect(screen).toContain("✘ Write denied by you: not this one")
    expect(screen).toContain("demo: w1 Succeeded")
    expect(screen).toContain("demo: w2 ApprovalDenied: not this one")
    expect(screen).toContain("DEMO-EXITED 0")
    // answered prompts leave the screen
    expect(screen).not.toContain("wants to run")
    expect(fs.existsSync(path.join(workspace, "b.txt"))).toBe(false)
    fs.rmSync(workspace, { recursive: true, force: true })
  }, 90_000)

  it.skipIf(!hasTmux)("toolgate run: the user denies the Write at the prompt; nothing is written and the audit log records who decided", async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "toolgate-e2e-run-"))
    fs.writeFileSync(path.join(workspace, "README.md"), "# e2e\n")
    const audit = path.join(workspace, "..", `${path.basename(workspace)}.audit.jsonl`)
    const session = `toolgate-e2e-run-${process.pid}-${Date.now()}`
    sessions.push(session)
    const command = `cd ${JSON.stringify(repo)} && npx node src/bin/toolgate.ts run --root ${JSON.stringify(workspace)} --audit ${
      JSON.stringify(audit)
    }; echo RUN-EXITED $?; sleep 60`
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "50", command)

    await waitForScreen(session, (s) => s.includes("Write (Mutating) wants to run") && s.includes("SUMMARY.md"))
    await readThenPress(session, "n")
    tmux("send-keys", "-t", session, "keep the workspace clean", "Enter")
    const screen = await waitForScreen(session, (s) => s.includes("RUN-EXITED"))

    expect(screen).toContain("approver:  you, at this terminal")
    // one line for the decision: the prompt's, not the prompt's and the CLI's
    expect(screen).toContain("✘ Write denied by you: keep the workspace clean")
    expect(screen).not.toContain("Write denied by the approver")
    expect(screen).toContain("Bash denied by the policy [deny: Bash(rm -rf:*)]")
    expect(screen).toContain("— Completed")
    expect(screen).toContain("RUN-EXITED 0")
    expect(fs.existsSync(path.join(workspace, "SUMMARY.md"))).toBe(false)
    const decisions = fs.readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l))
      .filter((e) => e._tag === "Decided")
      .map((e) => `${e.tool}:${e.allowed}:${e.decidedBy}`)
    expect(decisions.slice(0, 3)).toEqual(["Read:true:policy", "Write:false:handler", "Bash:false:policy"])
    fs.rmSync(workspace, { recursive: true, force: true })
    fs.rmSync(audit, { force: true })
  }, 90_000)

  it.skipIf(!hasTmux)("a y typed before the prompt is drawn does not approve the call it then shows", async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "toolgate-e2e-early-"))
    const session = `toolgate-e2e-early-${process.pid}-${Date.now()}`
    sessions.push(session)
    const command = `cd ${JSON.stringify(repo)} && npx node test/e2e/approve-demo.ts ${JSON.stringify(workspace)}; echo DEMO-EXITED $?; sleep 60`
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", command)
    // typed while the program starts: the terminal keeps the keys for whoever reads next
    tmux("send-keys", "-t", session, "yy")
    await waitForScreen(session, (s) => s.includes("Write (Mutating) wants to run") && s.includes("a.txt"))
    await readThenPress(session, "s")
    const screen = await waitForScreen(session, (s) => s.includes("DEMO-EXITED"))
    expect(screen).toContain("demo: w1 ApprovalDenied: denied by the user, who stopped the run")
    expect(fs.existsSync(path.join(workspace, "a.txt"))).toBe(false)
    fs.rmSync(workspace, { recursive: true, force: true })
  }, 90_000)

  it.skipIf(!hasTmux)("s in a batch of two asked calls: the second is never prompted for, nothing is written", async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "toolgate-e2e-stop-"))
    const session = `toolgate-e2e-stop-${process.pid}-${Date.now()}`
    sessions.push(session)
    const command = `cd ${JSON.stringify(repo)} && npx node test/e2e/approve-demo.ts ${JSON.stringify(workspace)}; echo DEMO-EXITED $?; sleep 60`
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", command)

    await waitForScreen(session, (s) => s.includes("Write (Mutating) wants to run") && s.includes("a.txt"))
    await readThenPress(session, "s")
    const screen = await waitForScreen(session, (s) => s.includes("DEMO-EXITED"))
    expect(screen).toContain("✘ Write denied by you; stopping the run")
    expect(screen).not.toContain("wants to run")
    expect(screen).not.toContain("b.txt")
    expect(screen).toContain("demo: w1 ApprovalDenied: denied by the user, who stopped the run")
    expect(screen).toMatch(/demo: w2 (Cancelled|ApprovalDenied)/)
    expect(fs.existsSync(path.join(workspace, "a.txt"))).toBe(false)
    expect(fs.existsSync(path.join(workspace, "b.txt"))).toBe(false)
    fs.rmSync(workspace, { recursive: true, force: true })
  }, 90_000)

  it.skipIf(!hasTmux)("toolgate run: Ctrl-C in the reason prompt ends the whole run, exit 3, every call recorded", async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "toolgate-e2e-quit-"))
    fs.writeFileSync(path.join(workspace, "README.md"), "# e2e\n")
    const audit = path.join(workspace, "..", `${path.basename(workspace)}.audit.jsonl`)
    const session = `toolgate-e2e-quit-${process.pid}-${Date.now()}`
    sessions.push(session)
    const command = `cd ${JSON.stringify(repo)} && npx node src/bin/toolgate.ts run --root ${JSON.stringify(workspace)} --audit ${
      JSON.stringify(audit)
    }; echo RUN-EXITED $?; sleep 60`
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "50", command)

    await waitForScreen(session, (s) => s.includes("Write (Mutating) wants to run") && s.includes("SUMMARY.md"))
    await readThenPress(session, "n")
    // the request stays on screen while the reason is typed
    const asking = await waitForScreen(session, (s) => s.includes("Reason the model reads") && s.includes("SUMMARY.md"))
    // the prompt started on a fresh line, not on the model's text line
    expect(asking).toMatch(/I'll write a short summary next to it\.\n\? Write \(Mutating\) wants to run/)
    tmux("send-keys", "-t", session, "half a rea")
    tmux("send-keys", "-t", session, "C-c")
    const screen = await waitForScreen(session, (s) => s.includes("RUN-EXITED"))

    expect(screen).toContain("Write denied by you (Ctrl-C); stopping the run")
    expect(screen).toContain("— StoppedByApprover")
    expect(screen).toContain("RUN-EXITED 3")
    // the run ended there: the model's later Bash calls never came
    expect(screen).not.toContain("rm -rf")
    expect(fs.existsSync(path.join(workspace, "SUMMARY.md"))).toBe(false)
    const records = fs.readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l))
    const finals = records.filter((r) => r._tag === "Finished").map((r) => `${r.tool}:${r.outcome._tag}`)
    expect(finals).toEqual(["Read:Succeeded", "Write:ApprovalDenied"])
    expect(records.at(-1)).toMatchObject({ _tag: "RunEnded", stopReason: "StoppedByApprover", exitCode: 3 })
    fs.rmSync(workspace, { recursive: true, force: true })
    fs.rmSync(audit, { force: true })
  }, 90_000)
})
