/**
 * A raw MCP client for the gateway tests: it starts the real `toolgate mcp`
 * as a child process and speaks newline-delimited JSON-RPC to it, as Claude
 * Desktop would. Raw on purpose: the tests see exactly what a client gets,
 * including answers for tools the gateway never advertised.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const repo = fileURLToPath(new URL("../..", import.meta.url))
export const upstreamScript = path.join(repo, "test/fixtures/mcp-upstream.ts")
const bin = path.join(repo, "src/bin/toolgate.ts")

export interface Gateway {
  readonly child: ChildProcess
  readonly stderr: () => string
  readonly request: (method: string, params?: unknown) => Promise<any>
  /** Sends a request without waiting: its id (to cancel it) and its answer. */
  readonly send: (method: string, params?: unknown) => { readonly id: number; readonly answer: Promise<any> }
  readonly notify: (method: string, params?: unknown) => void
  /** The web console's URL once the gateway printed it (with `--approver web`). */
  readonly consoleUrl: () => Promise<URL>
  readonly call: (name: string, args: unknown) => Promise<{ content: Array<{ type: string; text: string }>; isError: boolean }>
  readonly close: () => Promise<number | null>
}

/** A temporary directory with an `mcp.json` for one upstream called `up` logging to `upstream.log`. */
export const workspace = (options: { readonly serverName?: string; readonly policy?: unknown } = {}) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "toolgate-mcp-"))
  const log = path.join(dir, "upstream.log")
  const config = path.join(dir, "mcp.json")
  fs.writeFileSync(config, JSON.stringify({
    mcpServers: {
      [options.serverName ?? "up"]: { command: process.execPath, args: [upstreamScript], env: { UPSTREAM_LOG: log } }
    }
  }))
  const policy = path.join(dir, "policy.json")
  if (options.policy !== undefined) fs.writeFileSync(policy, JSON.stringify(options.policy))
  return {
    dir,
    config,
    policy,
    /** The calls that reached the upstream, in order. */
    upstreamCalls: (): Array<{ pid: number; tool: string; args: unknown }> =>
      fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [],
    remove: () => fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** Starts `toolgate mcp ARGS` and initializes an MCP session with it. */
export const start = async (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Gateway> => {
  const child = spawn(process.execPath, [bin, "mcp", ...args], {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"]
  })
  let stderr = ""
  child.stderr!.on("data", (d) => (stderr += d))
  // the console URL, as soon as the gateway prints it (it prints it once, at start)
  const consoleUrl = new Promise<URL>((resolve, reject) => {
    const look = () => {
      const found = /approve calls at (\S+)/.exec(stderr)?.[1]
      if (found === undefined) return
      child.stderr!.off("data", look)
      resolve(new URL(found))
    }
    child.stderr!.on("data", look)
    child.once("exit", () => reject(new Error(`no console URL on stderr:\n${stderr}`)))
  })
  consoleUrl.catch(() => undefined)
  const waiting = new Map<number, (message: any) => void>()
  let buffer = ""
  child.stdout!.on("data", (d) => {
    buffer += d
    let nl: number
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      if (line.trim() === "") continue
      const message = JSON.parse(line)
      if (message.id !== undefined) waiting.get(message.id)?.(message)
    }
  })
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  let id = 0
  const send = (message: unknown) => child.stdin!.write(JSON.stringify(message) + "\n")
  const sendRequest = (method: string, params?: unknown) => {
    const own = ++id
    const answer = new Promise<any>((resolve, reject) => {
      waiting.set(own, resolve)
      exited.then((code) => reject(new Error(`toolgate mcp exited (${code}) before answering ${method}:\n${stderr}`)))
      send({ jsonrpc: "2.0", id: own, method, ...(params !== undefined ? { params } : {}) })
    })
    // A request the test sent and then cancelled is never awaited: when the
    // gateway exits at clean-up its rejection must not surface as unhandled.
    // Whoever awaits `answer` still gets it.
    answer.catch(() => undefined)
    return { id: own, answer }
  }
  const request = (method: string, params?: unknown) => sendRequest(method, params).answer
  const init = await request("initialize", {
    protocolVersion: "2025-11-25",
    capabilities: {},
    clientInfo: { name: "test-client", version: "1" }
  })
  if (init.error) throw new Error(`initialize failed: ${JSON.stringify(init.error)}`)
  send({ jsonrpc: "2.0", method: "notifications/initialized" })
  return {
    child,
    stderr: () => stderr,
    request,
    send: sendRequest,
    notify: (method, params) => send({ jsonrpc: "2.0", method, ...(params !== undefined ? { params } : {}) }),
    consoleUrl: () => consoleUrl,
    call: async (name, args) => {
      const answer = await request("tools/call", { name, arguments: args })
      if (answer.error) throw new Error(`JSON-RPC error: ${JSON.stringify(answer.error)}`)
      return answer.result
    },
    close: () => {
      child.stdin!.end()
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000)
      return exited.finally(() => clearTimeout(timer))
    }
  }
}

/** Runs `toolgate mcp ARGS` expecting it to exit on its own (a bad configuration); returns its status and stderr. */
export const runToExit = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, "mcp", ...args], { cwd: repo, stdio: ["pipe", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (d) => (stderr += d))
    child.on("exit", (code) => resolve({ code, stderr }))
  })
