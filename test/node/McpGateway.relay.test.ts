import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  PromptListChangedNotificationSchema,
  ToolListChangedNotificationSchema
} from "@modelcontextprotocol/sdk/types.js"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import * as Relay from "../../src/node/internal/mcp/relay.ts"

// What `toolgate mcp` relays besides the client's own requests, driven by
// the official SDK client in front of an upstream on the current SDK
// (test/fixtures/mcp-sdk-relay.mjs): resource templates and completions,
// progress and log notifications, list changes, and the upstream's
// requests for the client's sampling, elicitation and roots.

const repo = fileURLToPath(new URL("../..", import.meta.url))
const bin = NodePath.join(repo, "src/bin/toolgate.ts")
const relayUpstream = NodePath.join(repo, "test/fixtures/mcp-sdk-relay.mjs")

let dir = ""
beforeAll(() => {
  dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-mcp-relay-"))
})
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))

const stdioUpstream = { command: process.execPath, args: [relayUpstream] }

/** Starts `toolgate mcp` in front of `servers`, connected with an SDK client declaring sampling, elicitation and roots. */
const connect = async (
  name: string,
  servers: Record<string, unknown>,
  policy: unknown,
  setup: (client: Client) => void = () => {},
  capabilities: Record<string, unknown> = { sampling: {}, elicitation: {}, roots: { listChanged: false } }
) => {
  const config = NodePath.join(dir, `${name}.mcp.json`)
  const policyFile = NodePath.join(dir, `${name}.policy.json`)
  Fs.writeFileSync(config, JSON.stringify({ mcpServers: servers }))
  Fs.writeFileSync(policyFile, JSON.stringify(policy))
  let stderr = ""
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin, "mcp", "--config", config, "--policy", policyFile],
    env: process.env as Record<string, string>,
    stderr: "pipe"
  })
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const client = new Client(
    { name: "sdk-relay-client", version: "1.0.0" },
    { capabilities }
  )
  setup(client)
  await client.connect(transport)
  return { client, stderr: () => stderr, close: () => client.close() }
}

const textOf = (result: unknown) =>
  ((result as { content: Array<{ type: string; text?: string }> }).content).map((c) => c.text ?? "").join("")

/**
 * Lists the client's tools until `predicate` holds, listing again after
 * each tools/list_changed (`changed` collects the waiters the test's
 * notification handler wakes; each waiter is registered before the listing,
 * so a notification between the two is not missed).
 */
const listUntil = async (
  list: () => Promise<Array<string>>,
  changed: Array<() => void>,
  predicate: (names: Array<string>) => boolean
) => {
  for (;;) {
    const next = new Promise<void>((resolve) => changed.push(resolve))
    const names = await list()
    if (predicate(names)) return names
    await next
  }
}
const toolsUntil = (client: Client, changed: Array<() => void>, predicate: (names: Array<string>) => boolean) =>
  listUntil(async () => (await client.listTools()).tools.map((t) => t.name), changed, predicate)

describe("an upstream's URI template read as effect's resource route", () => {
  it("makes each expression a path parameter and names its variables, query expressions left to the upstream", () => {
    expect(Relay.route("memo://notes/{name}")).toEqual({ routerPath: "memo:://notes/:0", variables: ["name"] })
    expect(Relay.route("repo://{owner}/{repo}/issues{?state,page}")).toEqual({
      routerPath: "repo:://:0/:1/issues",
      variables: ["owner", "repo", "state", "page"]
    })
    expect(Relay.route("file://{+path}")).toEqual({ routerPath: "file:://*", variables: ["path"] })
    expect(Relay.route("git://{+repo}/HEAD")).toEqual({ routerPath: "git:://:0/HEAD", variables: ["repo"] })
    expect(Relay.route("db://rows{/id*}")).toEqual({ routerPath: "db:://rows/:0", variables: ["id"] })
  })
})

describe("toolgate mcp relays what MCP clients use", () => {
  it("passes resource templates and completions through, gated as @resource and @completion", async () => {
    const gw = await connect("templates", { relay: stdioUpstream }, {
      permissions: { allow: ["mcp__relay__@resource", "mcp__relay__@completion", "mcp__relay__@prompt"] }
    })
    try {
      const templates = (await gw.client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate)
      expect(templates).toEqual(["memo://notes/{name}", "files://{+path}"])
      const read = await gw.client.readResource({ uri: "memo://notes/alpha" })
      expect(read.contents[0]).toMatchObject({ uri: "memo://notes/alpha", text: "note alpha" })
      // a reserved expansion spans segments
      const file = await gw.client.readResource({ uri: "files://src/a/b.ts" })
      expect(file.contents[0]).toMatchObject({ uri: "files://src/a/b.ts", text: "file src/a/b.ts" })
      const colour = await gw.client.complete({ ref: { type: "ref/prompt", name: "relay__paint" }, argument: { name: "colour", value: "r" } })
      expect(colour.completion.values).toEqual(["red"])
      const note = await gw.client.complete({
        ref: { type: "ref/resource", uri: "memo://notes/{name}" },
        argument: { name: "name", value: "b" }
      })
      expect(note.completion.values).toEqual(["beta"])
    } finally {
      await gw.close()
    }
  })

  it("refuses a templated read and a completion the policy denies, naming the rule", async () => {
    const gw = await connect("templates-denied", { relay: stdioUpstream }, {
      permissions: { deny: ["mcp__relay__@resource", "mcp__relay__@completion"] }
    })
    try {
      await expect(gw.client.readResource({ uri: "memo://notes/alpha" })).rejects.toThrow(/mcp__relay__@resource/)
      await expect(
        gw.client.complete({ ref: { type: "ref/prompt", name: "relay__paint" }, argument: { name: "colour", value: "r" } })
      ).rejects.toThrow(/mcp__relay__@completion/)
    } finally {
      await gw.close()
    }
  })

  it("relays an upstream's progress under the client's own token, and its log messages", async () => {
    const logs: Array<unknown> = []
    const gw = await connect("progress", { relay: stdioUpstream }, { permissions: { allow: ["mcp__relay__work"] } }, (client) =>
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params)))
    try {
      await gw.client.setLoggingLevel("debug")
      const progress: Array<unknown> = []
      const result = await gw.client.callTool({ name: "relay__work", arguments: { steps: 2 } }, CallToolResultSchema, {
        onprogress: (p) => void progress.push(p)
      })
      expect(textOf(result)).toBe("worked 2 steps")
      // The gateway sends both steps before the result, but the SDK client
      // drops a progress notification read in the same chunk as the result
      // (it handles notifications a microtask later), so only the first
      // step is certain to be seen.
      expect(progress[0]).toEqual({ progress: 1, total: 2, message: "step 1" })
      expect(logs).toContainEqual({ level: "info", logger: "relay/worker", data: "did step 1" })
    } finally {
      await gw.close()
    }
  })

  it("forwards the client's log level to an upstream that logs, before the next call to it", async () => {
    const gw = await connect("level", { relay: stdioUpstream }, { permissions: { allow: ["mcp__relay__level"] } })
    try {
      await gw.client.setLoggingLevel("warning")
      expect(textOf(await gw.client.callTool({ name: "relay__level", arguments: {} }))).toBe("warning")
      await gw.client.setLoggingLevel("error")
      expect(textOf(await gw.client.callTool({ name: "relay__level", arguments: {} }))).toBe("error")
    } finally {
      await gw.close()
    }
  })

  it("tells the client when an upstream's tools or prompts change, and what is new is gated", async () => {
    const changed: Array<() => void> = []
    const promptsChanged: Array<() => void> = []
    const gw = await connect("changed", { relay: stdioUpstream }, {
      permissions: { allow: ["mcp__relay__grow"], deny: ["mcp__relay__grown", "mcp__relay__@prompt"] }
    }, (client) => {
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => changed.splice(0).forEach((f) => f()))
      client.setNotificationHandler(PromptListChangedNotificationSchema, () => promptsChanged.splice(0).forEach((f) => f()))
    })
    try {
      expect((await gw.client.listTools()).tools.map((t) => t.name)).not.toContain("relay__grown")
      expect(textOf(await gw.client.callTool({ name: "relay__grow", arguments: {} }))).toBe("grew")
      // the gateway lists again and offers the new tool: the client is told, and sees it
      await toolsUntil(gw.client, changed, (names) => names.includes("relay__grown"))
      const denied = await gw.client.callTool({ name: "relay__grown", arguments: {} })
      expect(denied.isError).toBe(true)
      expect(textOf(denied)).toContain("mcp__relay__grown")
      await listUntil(async () => (await gw.client.listPrompts()).prompts.map((p) => p.name), promptsChanged, (names) => names.includes("relay__sprout"))
      await expect(gw.client.getPrompt({ name: "relay__sprout" })).rejects.toThrow(/mcp__relay__@prompt/)
    } finally {
      await gw.close()
    }
  })

  it("hides a tool an upstream stopped offering, and refuses calls to it", async () => {
    const changed: Array<() => void> = []
    const gw = await connect("removed", { relay: stdioUpstream }, { permissions: { allow: ["mcp__relay__retire"] } }, (client) =>
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => changed.splice(0).forEach((f) => f())))
    try {
      expect((await gw.client.listTools()).tools.map((t) => t.name)).toContain("relay__retire")
      expect(textOf(await gw.client.callTool({ name: "relay__retire", arguments: {} }))).toBe("retired")
      const names = await toolsUntil(gw.client, changed, (names) => !names.includes("relay__retire"))
      expect(names).toContain("relay__work")
      const gone = await gw.client.callTool({ name: "relay__retire", arguments: {} }).then(textOf, (e: Error) => e.message)
      expect(gone).toMatch(/retire/)
      expect(gone).not.toBe("retired")
    } finally {
      await gw.close()
    }
  })

  it("relays an upstream's sampling, elicitation and roots requests to the client and its answers back", async () => {
    const seen: Array<string> = []
    const gw = await connect("reverse", { relay: stdioUpstream }, { permissions: { allow: ["mcp__relay__ask"] } }, (client) => {
      client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
        seen.push(`sampling: ${(request.params.messages[0]!.content as { text: string }).text}`)
        return { role: "assistant", model: "test-model", content: { type: "text", text: "hi" } }
      })
      client.setRequestHandler(ElicitRequestSchema, async (request) => {
        seen.push(`elicit: ${request.params.message}`)
        return { action: "accept", content: { name: "Ada" } }
      })
      client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: "file:///work", name: "work" }] }))
    })
    try {
      const result = await gw.client.callTool({ name: "relay__ask", arguments: {} })
      expect(textOf(result)).toBe("model said hi; user said accept Ada; roots file:///work")
      expect(seen).toEqual(["sampling: say hi", "elicit: Your name?"])
    } finally {
      await gw.close()
    }
  })

  it("answers an upstream's sampling request with an error when the client cannot sample, and the call fails", async () => {
    const gw = await connect("no-sampling", { relay: stdioUpstream }, { permissions: { allow: ["mcp__relay__ask"] } }, () => {}, {})
    try {
      const result = await gw.client.callTool({ name: "relay__ask", arguments: {} })
      expect(result.isError).toBe(true)
      expect(textOf(result)).toMatch(/did not advertise the sampling capability/)
    } finally {
      await gw.close()
    }
  })

  it("speaks the legacy SSE transport to an upstream (type \"sse\"), relaying its requests to the client", async () => {
    const upstream = await serve("MCP_SSE")
    try {
      const gw = await connect("sse", { legacy: { type: "sse", url: `http://127.0.0.1:${upstream.port}/sse` } }, {
        permissions: { allow: ["mcp__legacy__work", "mcp__legacy__ask"], deny: ["mcp__legacy__grow"] }
      }, answering)
      try {
        const tools = (await gw.client.listTools()).tools.map((t) => t.name).sort()
        expect(tools).toEqual(["legacy__ask", "legacy__grow", "legacy__level", "legacy__retire", "legacy__work"])
        const worked = await gw.client.callTool({ name: "legacy__work", arguments: { steps: 1 } })
        expect(textOf(worked)).toBe("worked 1 steps")
        expect(textOf(await gw.client.callTool({ name: "legacy__ask", arguments: {} }))).toBe("model said hello; user said decline undefined; roots ")
        const denied = await gw.client.callTool({ name: "legacy__grow", arguments: {} })
        expect(denied.isError).toBe(true)
        expect(textOf(denied)).toContain("mcp__legacy__grow")
      } finally {
        await gw.close()
      }
    } finally {
      upstream.stop()
    }
  })

  it("relays what a Streamable HTTP upstream sends in its event streams: progress and requests for the client", async () => {
    const upstream = await serve("MCP_HTTP")
    try {
      const gw = await connect("http", { web: { url: `http://127.0.0.1:${upstream.port}/mcp` } }, {
        permissions: { allow: ["mcp__web__work", "mcp__web__ask"] }
      }, answering)
      try {
        const progress: Array<unknown> = []
        const worked = await gw.client.callTool({ name: "web__work", arguments: { steps: 2 } }, CallToolResultSchema, {
          onprogress: (p) => void progress.push(p)
        })
        expect(textOf(worked)).toBe("worked 2 steps")
        expect(progress[0]).toEqual({ progress: 1, total: 2, message: "step 1" })
        expect(textOf(await gw.client.callTool({ name: "web__ask", arguments: {} }))).toBe("model said hello; user said decline undefined; roots ")
      } finally {
        await gw.close()
      }
    } finally {
      upstream.stop()
    }
  })
})

/** The fixture served over HTTP (`mode` is MCP_SSE or MCP_HTTP): its port once it listens. */
const serve = async (mode: "MCP_SSE" | "MCP_HTTP") => {
  const server = spawn(process.execPath, [relayUpstream], { env: { ...process.env, [mode]: "1" }, stdio: ["ignore", "pipe", "inherit"] })
  const port = await new Promise<string>((resolve, reject) => {
    let out = ""
    server.stdout!.on("data", (d) => {
      out += d
      const found = /listening (\d+)/.exec(out)?.[1]
      if (found !== undefined) resolve(found)
    })
    server.on("exit", (code) => reject(new Error(`the HTTP upstream exited (${code})`)))
  })
  return { port, stop: () => server.kill() }
}

/** A client that answers sampling with "hello", declines elicitation and has no roots. */
const answering = (client: Client) => {
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: "assistant", model: "m", content: { type: "text", text: "hello" } }))
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "decline" }))
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [] }))
}
