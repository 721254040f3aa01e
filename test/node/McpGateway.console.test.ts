/**
 * `toolgate mcp --approver web` without a browser: the console's JSON API
 * stands in for the reviewer, and a raw MCP client for Claude. What the
 * client does to a call (cancel it) shows on the console (the card is
 * withdrawn), and what the reviewer does shows in the client's result.
 */
import { afterEach, describe, expect, it } from "vitest"
import { type Gateway, start, workspace } from "./mcpStdio.ts"

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f()
})

const consoleApi = async (gateway: Gateway) => {
  const url = await gateway.consoleUrl()
  const token = url.searchParams.get("token")!
  const api = (path: string, init: RequestInit = {}) =>
    fetch(new URL(path, url.origin), { ...init, headers: { "x-toolgate-token": token, ...init.headers } })
  const state = async () => (await (await api("/api/state")).json()) as { pending: Array<any>; recent: Array<any> }
  const until = async (predicate: (s: Awaited<ReturnType<typeof state>>) => boolean) => {
    for (let i = 0; i < 300; i++) {
      const s = await state()
      if (predicate(s)) return s
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`the console never reached the expected state: ${JSON.stringify(await state())}`)
  }
  return { url, api, state, until }
}

describe("toolgate mcp --approver web", { timeout: 90_000 }, () => {
  it("prints the console URL on stderr, keeps stdout for the protocol, and the reviewer's answers reach the client", async () => {
    const ws = workspace({ policy: { permissions: { ask: ["mcp__up"] } } })
    cleanups.push(ws.remove)
    const gateway = await start(["--config", ws.config, "--policy", ws.policy, "--approver", "web"])
    cleanups.push(gateway.close)
    const { api, until, url } = await consoleApi(gateway)
    expect(url.hostname).toBe("127.0.0.1")

    const write = gateway.call("up__write", { key: "k", value: "v" })
    const [card] = (await until((s) => s.pending.length === 1)).pending
    expect(card).toMatchObject({ tool: "mcp__up__write", toolClass: "Mutating", rule: "ask: mcp__up" })
    await api(`/api/decide/${card.id}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action: "allow", params: { key: "k", value: "edited" } })
    })
    expect((await write).content[0]!.text).toBe("wrote k=edited")
    expect(ws.upstreamCalls().map((c) => c.args)).toEqual([{ key: "k", value: "edited" }])
  })

  it("a client's cancellation withdraws the card, and the upstream never sees the call", async () => {
    const ws = workspace({ policy: { permissions: { allow: ["mcp__up__echo"], ask: ["mcp__up__write"] } } })
    cleanups.push(ws.remove)
    const gateway = await start(["--config", ws.config, "--policy", ws.policy, "--approver", "web"])
    cleanups.push(gateway.close)
    const { until } = await consoleApi(gateway)

    const { id } = gateway.send("tools/call", { name: "up__write", arguments: { key: "k", value: "v" } })
    await until((s) => s.pending.length === 1)
    gateway.notify("notifications/cancelled", { requestId: id, reason: "the user pressed Esc" })
    const after = await until((s) => s.pending.length === 0)
    expect(after.recent[0]).toMatchObject({ tool: "mcp__up__write", verdict: "withdrawn" })
    // the gateway goes on
    expect((await gateway.call("up__echo", { message: "still here" })).content[0]!.text).toBe("echo: still here")
    expect(ws.upstreamCalls().map((c) => c.tool)).toEqual(["echo"])
  })
})
