import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"

// `toolgate mcp` driven by the official MCP TypeScript SDK client, as Claude
// Desktop or Claude Code would, in front of the servers people run today:
// upstreams built on SDK 1.12 and 1.17 (older protocol revisions) and
// @modelcontextprotocol/server-everything.

const repo = fileURLToPath(new URL("../..", import.meta.url))
const bin = NodePath.join(repo, "src/bin/toolgate.ts")
const sdkUpstream = NodePath.join(repo, "test/fixtures/mcp-sdk-upstream.mjs")
const everything = NodePath.join(repo, "node_modules/@modelcontextprotocol/server-everything/dist/index.js")

let dir = ""
beforeAll(() => {
  dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-mcp-sdk-"))
})
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))

const upstream = (sdk: string, env: Record<string, string> = {}) => ({
  command: process.execPath,
  args: [sdkUpstream],
  env: { MCP_SDK: sdk, ...env }
})

/** Starts `toolgate mcp` with `servers` and `policy`, connected with the official SDK client. */
const connect = async (
  name: string,
  servers: Record<string, unknown>,
  policy: unknown,
  extraEnv: Record<string, string> = {},
  extraArgs: ReadonlyArray<string> = []
) => {
  const config = NodePath.join(dir, `${name}.mcp.json`)
  const policyFile = NodePath.join(dir, `${name}.policy.json`)
  Fs.writeFileSync(config, JSON.stringify({ mcpServers: servers }))
  Fs.writeFileSync(policyFile, JSON.stringify(policy))
  let stderr = ""
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin, "mcp", "--config", config, "--policy", policyFile, ...extraArgs],
    env: { ...process.env as Record<string, string>, ...extraEnv },
    stderr: "pipe"
  })
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const client = new Client({ name: "sdk-test-client", version: "1.0.0" })
  await client.connect(transport)
  return { client, stderr: () => stderr, close: () => client.close() }
}

const textOf = (result: unknown) =>
  ((result as { content: Array<{ type: string; text?: string }> }).content).map((c) => c.text ?? "").join("")

describe("toolgate mcp with the servers people run today", () => {
  it("gates tools of upstreams on SDK 1.12 and 1.17 (older protocol revisions), offered to the SDK client", async () => {
    const gw = await connect("old", { old12: upstream("mcp-sdk-1-12"), old17: upstream("mcp-sdk-1-17") }, {
      permissions: { allow: ["mcp__old12__echo"], deny: ["mcp__old17__echo"] }
    })
    try {
      const tools = (await gw.client.listTools()).tools.map((t) => t.name).sort()
      expect(tools).toEqual(["old12__echo", "old17__echo"])
      const allowed = await gw.client.callTool({ name: "old12__echo", arguments: { text: "hi" } })
      expect(textOf(allowed)).toBe("echo: hi")
      const denied = await gw.client.callTool({ name: "old17__echo", arguments: { text: "hi" } })
      expect(denied.isError).toBe(true)
      expect(textOf(denied)).toContain("mcp__old17__echo")
      // the upstreams' instructions are passed on, each under its server
      expect(gw.client.getInstructions()).toContain("old12: Served by mcp-sdk-1-12.")
    } finally {
      await gw.close()
    }
  })

  it("passes resources and prompts through, gated as mcp__SERVER__@resource and mcp__SERVER__@prompt", async () => {
    const gw = await connect("pass", { docs: upstream("mcp-sdk-1-17"), other: upstream("mcp-sdk-1-12") }, {
      permissions: { allow: ["mcp__docs__@resource", "mcp__docs__@prompt"], deny: ["mcp__other"] }
    })
    try {
      const resources = (await gw.client.listResources()).resources.map((r) => r.uri)
      expect(resources).toContain("memo://readme")
      const read = await gw.client.readResource({ uri: "memo://readme" })
      expect(read.contents[0]).toMatchObject({ uri: "memo://readme", text: "the readme" })
      const prompts = (await gw.client.listPrompts()).prompts.map((p) => p.name).sort()
      expect(prompts).toEqual(["docs__greet", "other__greet"])
      const prompt = await gw.client.getPrompt({ name: "docs__greet", arguments: { name: "Ada" } })
      expect(prompt.messages[0]!.content).toMatchObject({ type: "text", text: "Hello Ada" })
      // a denied server's prompt is refused, with the rule in the error
      await expect(gw.client.getPrompt({ name: "other__greet", arguments: { name: "Ada" } })).rejects.toThrow(/mcp__other/)
    } finally {
      await gw.close()
    }
  })

  it("serves @modelcontextprotocol/server-everything's tools through the gate", async () => {
    const gw = await connect("everything", { every: { command: process.execPath, args: [everything, "stdio"] } }, {
      permissions: { allow: ["mcp__every__echo"] }
    })
    try {
      const tools = (await gw.client.listTools()).tools.map((t) => t.name)
      expect(tools).toContain("every__echo")
      const echoed = await gw.client.callTool({ name: "every__echo", arguments: { message: "from the SDK" } })
      expect(textOf(echoed)).toContain("from the SDK")
    } finally {
      await gw.close()
    }
  })

  it("one upstream that cannot start or prints stray lines costs only its own tools", async () => {
    const gw = await connect("iso", {
      gone: { command: NodePath.join(dir, "no-such-server") },
      noisy: upstream("mcp-sdk-1-17", { MCP_STRAY: "1" })
    }, { permissions: { allow: ["mcp__noisy__echo"] } })
    try {
      expect((await gw.client.listTools()).tools.map((t) => t.name)).toEqual(["noisy__echo"])
      expect(textOf(await gw.client.callTool({ name: "noisy__echo", arguments: { text: "ok" } }))).toBe("echo: ok")
      expect(gw.stderr()).toMatch(/"gone" did not start/)
      expect(gw.stderr()).toMatch(/skipped a line on stdout that is not MCP: "starting up, please wait"/)
    } finally {
      await gw.close()
    }
  })

  it("reads Claude Code's .mcp.json shape with ${VAR} and ${VAR:-default}", async () => {
    const gw = await connect("vars", {
      vars: { type: "stdio", command: "${TOOLGATE_TEST_NODE}", args: [sdkUpstream], env: { MCP_SDK: "${TOOLGATE_TEST_SDK:-mcp-sdk-1-17}" } }
    }, { permissions: { allow: ["mcp__vars__echo"] } }, { TOOLGATE_TEST_NODE: process.execPath })
    try {
      expect(gw.client.getInstructions()).toContain("Served by mcp-sdk-1-17.")
    } finally {
      await gw.close()
    }
  })

  it("deny and stop refuses the session's pending calls and every later one", async () => {
    const gw = await connect("stop", { up: upstream("mcp-sdk-1-17") }, { permissions: {} }, {}, ["--approver", "web"])
    try {
      const consoleUrl = await (async () => {
        for (;;) {
          const found = /approve calls at (\S+)/.exec(gw.stderr())?.[1]
          if (found !== undefined) return new URL(found)
          await new Promise((r) => setTimeout(r, 50))
        }
      })()
      const token = consoleUrl.searchParams.get("token")!
      const pending = async () =>
        ((await (await fetch(new URL("/api/state", consoleUrl), { headers: { "x-toolgate-token": token } })).json()) as {
          pending: Array<{ id: string }>
        }).pending
      const first = gw.client.callTool({ name: "up__echo", arguments: { text: "one" } })
      const second = gw.client.callTool({ name: "up__echo", arguments: { text: "two" } })
      let cards = await pending()
      // (the second waits for the first: mutating calls run one at a time)
      while (cards.length < 1) cards = (await new Promise((r) => setTimeout(r, 50)), await pending())
      await fetch(new URL(`/api/decide/${cards[0]!.id}`, consoleUrl), {
        method: "POST",
        headers: { "x-toolgate-token": token, "content-type": "application/json" },
        body: JSON.stringify({ action: "deny", reason: "enough", stop: true })
      })
      const answers = [textOf(await first), textOf(await second)]
      // one is the reviewer's denial, the other was pending and is refused as stopped
      expect(answers.some((a) => a.includes("enough"))).toBe(true)
      expect(answers.some((a) => a.startsWith("Stopped"))).toBe(true)
      // the withdrawn card leaves the console
      expect(await pending()).toEqual([])
      const later = await gw.client.callTool({ name: "up__echo", arguments: { text: "three" } })
      expect(later.isError).toBe(true)
      expect(textOf(later)).toMatch(/^Stopped/)
    } finally {
      await gw.close()
    }
  })
})
