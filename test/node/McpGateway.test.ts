/**
 * `toolgate mcp` as a client sees it: the real command as a child process, a
 * real upstream MCP server (test/fixtures/mcp-upstream.ts) behind it, and
 * JSON-RPC over stdio between them. The upstream logs every call it receives,
 * so "never reached the upstream" is checked, not assumed.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { type Gateway, runToExit, start, workspace } from "./mcpStdio.ts"

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

describe("toolgate mcp", () => {
  it("re-exposes the upstream's tools as SERVER__TOOL with their descriptions, schemas and annotations", async () => {
    const { gateway } = await open({ policy: allowAll })
    const { result } = await gateway.request("tools/list")
    const byName = Object.fromEntries(result.tools.map((t: any) => [t.name, t]))
    expect(Object.keys(byName).sort()).toEqual(["up__crash", "up__echo", "up__hang", "up__pid", "up__strict", "up__write"])
    expect(byName.up__echo.description).toBe("Echo a message back")
    expect(byName.up__strict.inputSchema.properties.count).toEqual({ type: "integer", minimum: 1, maximum: 10 })
    expect(byName.up__echo.annotations.readOnlyHint).toBe(true)
    expect(byName.up__write.annotations.readOnlyHint).toBe(false)
  })

  it("passes an allowed call to the upstream and its result back unchanged", async () => {
    const { gateway, ws } = await open({ policy: allowAll })
    const result = await gateway.call("up__echo", { message: "hello" })
    expect(result).toEqual({ content: [{ type: "text", text: "echo: hello" }], isError: false })
    expect(ws.upstreamCalls().map((c) => [c.tool, c.args])).toEqual([["echo", { message: "hello" }]])
  })

  it("answers a policy-denied call with an error result naming the rule, and the upstream never sees it", async () => {
    const { gateway, ws } = await open({ policy: { permissions: { allow: ["mcp__up__*"], deny: ["mcp__up__write"] } } })
    const result = await gateway.call("up__write", { key: "k", value: "v" })
    expect(result.isError).toBe(true)
    expect(result.content[0]!.text).toContain("denied by policy")
    expect(result.content[0]!.text).toContain("mcp__up__write")
    expect(ws.upstreamCalls()).toEqual([])
  })

  it("denies what the policy asks about when the approver is deny, saying how to allow it", async () => {
    const { gateway, ws } = await open({ policy: { permissions: { allow: ["mcp__up__echo"] } } })
    const asked = await gateway.call("up__write", { key: "k", value: "v" })
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

  it("rejects arguments that fail the upstream's input schema before the upstream sees them", async () => {
    const { gateway, ws } = await open({ policy: allowAll })
    const tooBig = await gateway.call("up__strict", { count: 11 })
    expect(tooBig.isError).toBe(true)
    expect(tooBig.content[0]!.text).toContain("less than or equal to 10")
    const wrongType = await gateway.call("up__echo", { message: 42 })
    expect(wrongType.isError).toBe(true)
    const missing = await gateway.call("up__write", { key: "k" })
    expect(missing.isError).toBe(true)
    expect(ws.upstreamCalls()).toEqual([])
    expect((await gateway.call("up__strict", { count: 3 })).content[0]!.text).toBe("count 3")
  })

  it("answers a call to a tool it does not expose without contacting the upstream", async () => {
    const { gateway, ws } = await open({ policy: allowAll })
    const answer = await gateway.request("tools/call", { name: "up__nope", arguments: {} })
    const text = JSON.stringify(answer.error ?? answer.result)
    expect(text).toContain("up__nope")
    expect(answer.error !== undefined || answer.result.isError === true).toBe(true)
    expect(ws.upstreamCalls()).toEqual([])
  })

  it("survives an upstream crash: the call gets an error result and the next call runs on a restarted server", async () => {
    const { gateway, ws } = await open({ policy: allowAll })
    const before = await gateway.call("up__pid", {})
    const crashed = await gateway.call("up__crash", {})
    expect(crashed.isError).toBe(true)
    expect(crashed.content[0]!.text).toMatch(/exited|closed/i)
    const after = await gateway.call("up__pid", {})
    expect(after.isError).toBe(false)
    expect(after.content[0]!.text).not.toBe(before.content[0]!.text)
    expect(ws.upstreamCalls().map((c) => c.tool)).toEqual(["pid", "crash", "pid"])
  })

  it("times out a hanging upstream call with an error result and keeps answering", async () => {
    const { gateway } = await open({ policy: allowAll, args: ["--call-timeout", "1"] })
    const started = Date.now()
    const hung = await gateway.call("up__hang", {})
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(hung.isError).toBe(true)
    expect(hung.content[0]!.text).toContain("did not answer in time")
    expect((await gateway.call("up__echo", { message: "after" })).content[0]!.text).toBe("echo: after")
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
    const decided = lines.filter((l) => l.event === "decided").map((l) => [l.name, l.allowed, l.decidedBy])
    expect(decided).toEqual([["mcp__up__echo", true, "policy"], ["mcp__up__write", false, "policy"]])
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
