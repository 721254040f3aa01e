import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { toolgate } from "./inProcess.ts"

// `toolgate run` in-process with no terminal attached, as in CI: it must
// never wait for a human. A few runs spawn the real binary, to prove it
// starts, detects that no terminal is attached and ends with the status.
const bin = fileURLToPath(new URL("../../src/bin/toolgate.ts", import.meta.url))
const bundledScenario = fileURLToPath(new URL("../../scenarios/demo.json", import.meta.url))

const spawned = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(ANTHROPIC|OPENAI|TOOLGATE)_/.test(k))
    )
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { encoding: "utf8", env: clean },
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

describe("the toolgate binary", () => {
  it("with no terminal and no key, runs the scripted demo non-interactively and says so", async () => {
    const audit = NodePath.join(dir, "audit.jsonl")
    const { code, stdout } = await spawned(["run", "--audit", audit])
    expect(code).toBe(0)
    expect(stdout).toContain("model:     scripted")
    expect(stdout).toContain("no terminal, so calls the policy asks about are approved: this is the demo's own temporary workspace")
    expect(stdout).toContain("Write allowed by the approver")
    expect(stdout).toContain("Bash denied by the policy [deny: Bash(rm -rf:*)]")
    expect(stdout).toContain("— Completed · 5 turns")
    expect(stdout).toContain("SUMMARY.md as written in the workspace")
    const lines = Fs.readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(lines.filter((l) => l._tag === "Finished").map((l) => `${l.tool}:${l.outcome._tag}`)).toEqual([
      "Read:Succeeded",
      "Write:Succeeded",
      "Bash:PolicyDenied",
      "Bash:Succeeded"
    ])
  }, 60_000)

  it("an unknown flag is bad input, exit 64", async () => {
    const { code, stderr } = await spawned(["run", "--frobnicate"])
    expect(code).toBe(64)
    expect(stderr).toContain("--frobnicate")
  })
})

describe("toolgate run", () => {
  it("plan mode denies the write and the shell command with a reason naming plan mode", async () => {
    const { code, stdout } = await toolgate(["run", "--mode", "plan"])
    expect(code).toBe(0)
    expect(stdout).toContain("(mode plan)")
    expect(stdout).toMatch(/Write denied by the policy.*plan mode/)
    expect(stdout).not.toContain("SUMMARY.md as written")
  })

  it("a missing policy file is bad input naming the file", async () => {
    const { code, stderr } = await toolgate(["run", "--policy", NodePath.join(dir, "nope.json")])
    expect(code).toBe(64)
    expect(stderr).toContain("nope.json")
    expect(stderr).toContain("cannot read the file")
  })

  it("asking for a provider without its key is a clear error", async () => {
    const { code, stderr } = await toolgate(["run"], { TOOLGATE_PROVIDER: "anthropic" })
    expect(code).toBe(64)
    expect(stderr).toMatch(/ANTHROPIC_API_KEY/)
  })

  it("--help describes the command, its flags, the environment variables and the exit codes", async () => {
    const { code, stdout } = await toolgate(["run", "--help"])
    expect(code).toBe(0)
    for (
      const flag of ["--policy", "--mode", "--yes", "--audit", "--audit-params", "--root", "--scenario", "--demo", "--system", "--request-timeout", "--max-turns"]
    ) {
      expect(stdout).toContain(flag)
    }
    for (const v of ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "TOOLGATE_PROVIDER", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "ANTHROPIC_MODEL", "OPENAI_MODEL"]) {
      expect(stdout).toContain(v)
    }
    expect(stdout).toMatch(/0 completed, 3 stopped by the approver, 4 repeated denial, 5 max turns,\s+64 bad input, 69 provider failure, 130 interrupted/)
  })

  // The bug as found: with no terminal, a scripted run on a real directory
  // (--root) approved everything and deleted a file, saying it was a
  // throwaway directory.
  it("with no terminal, a scripted run on a real directory denies what the policy asks about, and says so", async () => {
    const root = Fs.mkdtempSync(NodePath.join(dir, "real-"))
    Fs.writeFileSync(NodePath.join(root, "keep.txt"), "precious\n")
    const scenario = NodePath.join(dir, "delete.json")
    Fs.writeFileSync(scenario, JSON.stringify({
      turns: [
        { toolCalls: [{ name: "Bash", params: { command: "rm keep.txt" } }] },
        { toolCalls: [{ name: "Write", params: { file_path: "keep.txt", content: "overwritten" } }] },
        { text: "done" }
      ]
    }))
    const { code, stdout } = await toolgate(["run", "--root", root, "--scenario", scenario])
    expect(code).toBe(0)
    expect(stdout).toContain("no terminal, so calls the policy asks about are denied (--root is a real directory; pass --yes to approve them)")
    expect(stdout).not.toContain("throwaway")
    expect(stdout).toMatch(/Write denied by the approver.*rerun with --yes/)
    expect(Fs.readFileSync(NodePath.join(root, "keep.txt"), "utf8")).toBe("precious\n")
  })

  it("an explicit --scenario wins over an API key in the environment, and --demo too", async () => {
    const env = { ANTHROPIC_API_KEY: "sk-should-not-be-used", ANTHROPIC_BASE_URL: "http://127.0.0.1:9" }
    const scenario = await toolgate(["run", "--scenario", bundledScenario], env)
    expect(scenario.code).toBe(0)
    expect(scenario.stdout).toContain("model:     scripted")
    const demo = await toolgate(["run", "--demo"], env)
    expect(demo.code).toBe(0)
    expect(demo.stdout).toContain("model:     scripted")
    expect(demo.stdout).toContain("(temporary, deleted after the run)")
    expect(demo.stdout).toContain("— Completed")
  })

  it("an audit path that cannot be opened is one line of bad input, before anything runs", async () => {
    const { code, stdout, stderr } = await toolgate(["run", "--audit", NodePath.join(dir, "no", "such", "dir", "audit.jsonl")])
    expect(code).toBe(64)
    expect(stdout).toBe("")
    expect(stderr.trim().split("\n")).toHaveLength(1)
    expect(stderr).toContain("cannot open the audit log")
  })

  it("a scenario with \"input\" instead of \"params\" is bad input naming the key", async () => {
    const scenario = NodePath.join(dir, "typo.json")
    Fs.writeFileSync(scenario, JSON.stringify({ turns: [{ toolCalls: [{ name: "Read", input: { file_path: "README.md" } }] }] }))
    const { code, stdout, stderr } = await toolgate(["run", "--scenario", scenario])
    expect(code).toBe(64)
    expect(stdout).toBe("")
    expect(stderr).toContain("turns[0].toolCalls[0].input")
    expect(stderr).toContain("unknown key \"input\"")
  })

  it("exit codes: max turns is 5, a repeated denial 4", async () => {
    const maxTurns = await toolgate(["run", "--demo", "--max-turns", "1"])
    expect(maxTurns.code).toBe(5)
    expect(maxTurns.stderr).toContain("still calling tools after 1 turns")
    const scenario = NodePath.join(dir, "repeat.json")
    const denied = { toolCalls: [{ name: "Bash", params: { command: "rm -rf /" } }] }
    Fs.writeFileSync(scenario, JSON.stringify({ turns: [denied, denied, denied, { text: "never" }] }))
    const repeated = await toolgate(["run", "--scenario", scenario])
    expect(repeated.code).toBe(4)
    expect(repeated.stdout).toContain("— RepeatedDenial")
  })

  it("a provider that cannot be reached is one line naming what to check, exit 69", async () => {
    const { code, stdout, stderr } = await toolgate(["run", "--request-timeout", "10"], {
      ANTHROPIC_API_KEY: "sk-test",
      ANTHROPIC_BASE_URL: "http://127.0.0.1:9"
    })
    expect(code).toBe(69)
    expect(stdout).toContain("model:     anthropic")
    expect(stdout).toContain("a real model; pass --yes")
    const lines = stderr.trim().split("\n")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^toolgate run: could not reach the anthropic API at http:\/\/127.0.0.1:9: .*check ANTHROPIC_BASE_URL/)
  })

  it("toolgate audit prints a run's log back as a timeline", async () => {
    const audit = NodePath.join(dir, "timeline.jsonl")
    await toolgate(["run", "--demo", "--audit", audit, "--audit-params", "hash"])
    // the Write's content (its params) is not in the log, only their hash
    expect(Fs.readFileSync(audit, "utf8")).not.toContain("gates an agent")
    const { code, stdout } = await toolgate(["audit", audit])
    expect(code).toBe(0)
    const lines = stdout.trim().split("\n")
    expect(lines[0]).toMatch(/run .* started {2}model scripted/)
    expect(stdout).toMatch(/Write sha256:[0-9a-f]{12} {2}allowed by the approver/)
    expect(stdout).toMatch(/Bash sha256:[0-9a-f]{12} {2}denied by the policy \[deny: Bash\(rm -rf:\*\)\]/)
    expect(stdout).toMatch(/Bash → DENIED PolicyDenied/)
    expect(lines.at(-1)).toMatch(/run ended: Completed \(exit 0\)/)
  })

  it("a real model gets a system prompt naming the workspace; --system @FILE replaces it; the header says calls are denied without a terminal", async () => {
    const bodies: Array<any> = []
    const server = Http.createServer((req, res) => {
      let data = ""
      req.on("data", (c) => data += c)
      req.on("end", () => {
        bodies.push(JSON.parse(data))
        res.setHeader("content-type", "application/json")
        res.end(JSON.stringify({
          id: "msg_1", type: "message", role: "assistant", model: "claude-sonnet-4-5",
          content: [{ type: "text", text: "nothing to do", citations: null }],
          stop_reason: "end_turn", stop_sequence: null,
          usage: { input_tokens: 1, output_tokens: 1, cache_creation_input_tokens: null, cache_read_input_tokens: null, cache_creation: null, inference_geo: null, service_tier: "standard" }
        }))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const port = (server.address() as { port: number }).port
    const root = Fs.mkdtempSync(NodePath.join(dir, "sys-"))
    const env = { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}` }
    try {
      const first = await toolgate(["run", "--root", root, "hello"], env)
      expect(first.code).toBe(0)
      expect(first.stdout).toContain("model:     anthropic")
      expect(first.stdout).toContain("no terminal, so calls the policy asks about are denied")
      expect(JSON.stringify(bodies[0].system)).toContain(root)
      const file = NodePath.join(dir, "system.txt")
      Fs.writeFileSync(file, "You only answer in haiku.")
      const second = await toolgate(["run", "--root", root, "--system", `@${file}`, "hello"], env)
      expect(second.code).toBe(0)
      expect(JSON.stringify(bodies[1].system)).toContain("You only answer in haiku.")
      expect(JSON.stringify(bodies[1].system)).not.toContain(root)
    } finally {
      server.close()
    }
  })
})

describe("toolgate run --approver web", () => {
  it("the terminal says while a call waits in the console (the call, how many, where), and an answer there lets the run go on", async () => {
    const root = Fs.mkdtempSync(NodePath.join(dir, "web-"))
    Fs.writeFileSync(NodePath.join(root, "README.md"), "# web\n")
    let waitingLine: Promise<RegExpExecArray> | undefined
    let stop = () => {}
    const exited = toolgate(["run", "--approver", "web", "--root", root], {}, (capture) => {
      waitingLine = capture.stdoutMatch(/… Write waits for you in the web console \(1 waiting\): (\S+)/)
      stop = capture.stop
    })
    try {
      const url = new URL(
        (await Promise.race([
          waitingLine!,
          exited.then((r) => Promise.reject(new Error(`the run ended first:\n${r.stdout}${r.stderr}`)))
        ]))[1]!
      )
      const token = url.searchParams.get("token")!
      const api = (path: string, init: RequestInit = {}) =>
        fetch(`${url.origin}${path}`, { ...init, headers: { "x-toolgate-token": token, ...init.headers } })
      const state = await (await api("/api/state")).json() as { pending: Array<{ id: string; tool: string }> }
      expect(state.pending.map((c) => c.tool)).toEqual(["Write"])
      const answer = await api(`/api/decide/${state.pending[0]!.id}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ action: "allow" })
      })
      expect(answer.status).toBe(200)
      expect((await exited).code).toBe(0)
      expect(Fs.existsSync(NodePath.join(root, "SUMMARY.md"))).toBe(true)
    } finally {
      stop()
    }
  })
})
