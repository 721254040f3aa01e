/**
 * `toolgate mcp` as a client sees it: the real command as a child process, a
 * real upstream MCP server (test/fixtures/mcp-upstream.ts) behind it, and
 * JSON-RPC over stdio between them. The upstream logs every call it receives,
 * so "never reached the upstream" is checked, not assumed.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { type Gateway, runToExit, start, upstreamScript, workspace } from "./mcpStdio.ts"

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f()
})

const open = async (options: { policy?: unknown; args?: ReadonlyArray<string> } = {}) => {
  const ws = workspace({ policy: options.policy })
  cleanups.push(ws.remove)
  const args = ["--config", ws.config, ...(options.policy !== undefined ? ["--policy", ws.policy] : []), ...(options.args ?? [])]
  const gateway: Gateway = await start(args)
  cleanups.push(gateway.close)
  return { ws, gateway }
}

const allowAll = { permissions: { allow: ["mcp__up"] } }

/**
 * One gateway shared by the tests below that allow everything: starting a
 * gateway and its upstream costs seconds. Each test looks only at the calls
 * it made (`since`), so the order of the tests does not matter.
 */
// Each gateway starts two Node processes; on a loaded machine that takes a while.
describe("toolgate mcp, allowing every tool of the server", { timeout: 90_000 }, () => {
  let shared: { ws: ReturnType<typeof workspace>; gateway: Gateway }
  beforeAll(async () => {
    const ws = workspace({ policy: allowAll })
    shared = { ws, gateway: await start(["--config", ws.config, "--policy", ws.policy, "--call-timeout", "2"]) }
  }, 60_000)
  afterAll(async () => {
    await shared.gateway.close()
    shared.ws.remove()
  })
  const since = () => {
    const before = shared.ws.upstreamCalls().length
    return () => shared.ws.upstreamCalls().slice(before)
  }

  it("re-exposes the upstream's tools as SERVER__TOOL with their descriptions, schemas and annotations", async () => {
    const { result } = await shared.gateway.request("tools/list")
    const byName = Object.fromEntries(result.tools.map((t: any) => [t.name, t]))
    expect(Object.keys(byName).sort()).toEqual(["up__crash", "up__echo", "up__hang", "up__pid", "up__strict", "up__write"])
    expect(byName.up__echo.description).toBe("Echo a message back")
    expect(byName.up__strict.inputSchema.properties.count).toEqual({ type: "integer", minimum: 1, maximum: 10 })
    expect(byName.up__echo.annotations.readOnlyHint).toBe(true)
    expect(byName.up__write.annotations.readOnlyHint).toBe(false)
  })

  it("passes an allowed call to the upstream and its result back unchanged", async () => {
    const calls = since()
    const result = await shared.gateway.call("up__echo", { message: "hello" })
    expect(result).toEqual({ content: [{ type: "text", text: "echo: hello" }], isError: false })
    expect(calls().map((c) => [c.tool, c.args])).toEqual([["echo", { message: "hello" }]])
  })

  it("rejects arguments that fail the upstream's input schema before the upstream sees them", async () => {
    const calls = since()
    const { gateway } = shared
    const tooBig = await gateway.call("up__strict", { count: 11 })
    expect(tooBig.isError).toBe(true)
    expect(tooBig.content[0]!.text).toContain("less than or equal to 10")
    const wrongType = await gateway.call("up__echo", { message: 42 })
    expect(wrongType.isError).toBe(true)
    const missing = await gateway.call("up__write", { key: "k" })
    expect(missing.isError).toBe(true)
    expect(calls()).toEqual([])
    expect((await gateway.call("up__strict", { count: 3 })).content[0]!.text).toBe("count 3")
  })

  it("answers a call to a tool it does not expose without contacting the upstream", async () => {
    const calls = since()
    const answer = await shared.gateway.request("tools/call", { name: "up__nope", arguments: {} })
    const text = JSON.stringify(answer.error ?? answer.result)
    expect(text).toContain("up__nope")
    expect(answer.error !== undefined || answer.result.isError === true).toBe(true)
    expect(calls()).toEqual([])
  })

  it("survives an upstream crash: the call gets an error result and the next call runs on a restarted server", async () => {
    const calls = since()
    const { gateway } = shared
    const before = await gateway.call("up__pid", {})
    const crashed = await gateway.call("up__crash", {})
    expect(crashed.isError).toBe(true)
    expect(crashed.content[0]!.text).toMatch(/exited|closed/i)
    const after = await gateway.call("up__pid", {})
    expect(after.isError).toBe(false)
    expect(after.content[0]!.text).not.toBe(before.content[0]!.text)
    expect(calls().map((c) => c.tool)).toEqual(["pid", "crash", "pid"])
  })

  it("times out a hanging upstream call with an error result and keeps answering", async () => {
    // (no wall-clock bound: the message says the gateway's own timeout ended the call)
    const hung = await shared.gateway.call("up__hang", {})
    expect(hung.isError).toBe(true)
    expect(hung.content[0]!.text).toContain("did not answer in time")
    expect((await shared.gateway.call("up__echo", { message: "after" })).content[0]!.text).toBe("echo: after")
  })
})

describe("toolgate mcp", { timeout: 90_000 }, () => {
  it("answers a policy-denied call with an error result naming the rule, denies what the policy asks about, and the upstream sees neither", async () => {
    const { gateway, ws } = await open({ policy: { permissions: { allow: ["mcp__up__echo"], deny: ["mcp__up__write"] } } })
    const denied = await gateway.call("up__write", { key: "k", value: "v" })
    expect(denied.isError).toBe(true)
    expect(denied.content[0]!.text).toContain("denied by policy")
    expect(denied.content[0]!.text).toContain("mcp__up__write")
    // no rule names strict: it is asked, and the deny approver says how to allow it
    const asked = await gateway.call("up__strict", { count: 2 })
    expect(asked.isError).toBe(true)
    expect(asked.content[0]!.text).toContain("--approver web")
    const allowed = await gateway.call("up__echo", { message: "still fine" })
    expect(allowed.isError).toBe(false)
    expect(ws.upstreamCalls().map((c) => c.tool)).toEqual(["echo"])
  })

  it("without a policy file every call is asked, so with the deny approver nothing reaches the upstream", async () => {
    const { gateway, ws } = await open()
    const result = await gateway.call("up__echo", { message: "hi" })
    expect(result.isError).toBe(true)
    expect(ws.upstreamCalls()).toEqual([])
  })

  it("writes every decision to the audit file", async () => {
    const ws = workspace({ policy: { permissions: { allow: ["mcp__up__echo"], deny: ["mcp__up__write"] } } })
    cleanups.push(ws.remove)
    const audit = path.join(ws.dir, "audit.jsonl")
    const gateway = await start(["--config", ws.config, "--policy", ws.policy, "--audit", audit])
    await gateway.call("up__echo", { message: "a" })
    await gateway.call("up__write", { key: "k", value: "v" })
    await gateway.close()
    const lines = fs.readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l))
    const decided = lines.filter((l) => l._tag === "Decided").map((l) => [l.tool, l.allowed, l.decidedBy])
    expect(decided).toEqual([["mcp__up__echo", true, "policy"], ["mcp__up__write", false, "policy"]])
  })

  it("gates a Streamable HTTP upstream (an entry with \"url\" and headers) the same way", async () => {
    const ws = workspace({ policy: { permissions: { allow: ["mcp__web__echo"], deny: ["mcp__web__write"] } } })
    cleanups.push(ws.remove)
    const port = await freePort()
    const log = path.join(ws.dir, "http-upstream.log")
    const upstream: ChildProcess = spawn(process.execPath, [upstreamScript], {
      env: { ...process.env, UPSTREAM_HTTP_PORT: String(port), UPSTREAM_TOKEN: "s3cret", UPSTREAM_LOG: log },
      stdio: "ignore"
    })
    cleanups.push(() => upstream.kill("SIGKILL"))
    for (let i = 0; i < 200; i++) {
      if (await fetch(`http://127.0.0.1:${port}/mcp`).then(() => true, () => false)) break
      await new Promise((r) => setTimeout(r, 100))
    }
    fs.writeFileSync(ws.config, JSON.stringify({
      mcpServers: { web: { url: `http://127.0.0.1:${port}/mcp`, headers: { authorization: "Bearer s3cret" } } }
    }))
    const gateway = await start(["--config", ws.config, "--policy", ws.policy])
    cleanups.push(gateway.close)
    expect(await gateway.call("web__echo", { message: "over http" })).toEqual({
      content: [{ type: "text", text: "echo: over http" }],
      isError: false
    })
    expect((await gateway.call("web__write", { key: "k", value: "v" })).isError).toBe(true)
    const reached = fs.readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l).tool)
    expect(reached).toEqual(["echo"])
  })

  it("refuses a server name containing __ at start-up, naming it, and starts nothing", async () => {
    const ws = workspace({ serverName: "a__b" })
    cleanups.push(ws.remove)
    const { code, stderr } = await runToExit(["--config", ws.config])
    expect(code).toBe(64)
    expect(stderr).toContain("\"a__b\"")
    expect(stderr).toContain("nothing was started")
    expect(ws.upstreamCalls()).toEqual([])
  })

  it("refuses a configuration that is not an mcpServers file", async () => {
    const ws = workspace()
    cleanups.push(ws.remove)
    fs.writeFileSync(ws.config, JSON.stringify({ servers: {} }))
    const { code, stderr } = await runToExit(["--config", ws.config])
    expect(code).toBe(64)
    expect(stderr).toContain("mcpServers")
  })
})

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
