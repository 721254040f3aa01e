import { NodeServices } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { merge } from "../../src/cli/init.ts"
import type { Flags } from "../../src/cli/serve.ts"
import { start } from "../../src/cli/serveHooks.ts"

// `toolgate serve` answered through a real loopback HTTP server, the way
// Claude Code's `type: "http"` hooks post; and `toolgate init claude`'s merge.

const fixture = (name: string) =>
  JSON.parse(Fs.readFileSync(fileURLToPath(new URL(`./fixtures/claude/${name}.json`, import.meta.url)), "utf8")) as Record<string, unknown>
const preBash = fixture("pretooluse-bash")
const permissionWrite = fixture("permissionrequest-write")

let dir = ""
beforeAll(() => {
  dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-serve-"))
  Fs.writeFileSync(NodePath.join(dir, "policy.json"), JSON.stringify({
    permissions: { allow: ["Bash(git status)"], deny: ["Bash(rm:*)", "Read(~/.aws/**)"] }
  }))
  Fs.writeFileSync(NodePath.join(dir, "token"), "a-token-of-thirty-two-characters\n")
})
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))

const flags = (overrides: Partial<Flags> = {}): Flags => ({
  policy: [NodePath.join(dir, "policy.json")],
  mode: Option.none(),
  root: Option.none(),
  hookPort: 0,
  tokenFile: Option.some(NodePath.join(dir, "token")),
  approver: "none",
  port: Option.none(),
  unmatched: "defer",
  audit: Option.none(),
  ...overrides
})

/** A POST as Claude Code sends it; `host` overrides the Host header. */
const post = (port: number, body: string, headers: Record<string, string>) =>
  Effect.promise(() =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = Http.request({ host: "127.0.0.1", port, path: "/hooks/claude", method: "POST", headers: { "content-type": "application/json", ...headers } }, (response) => {
        let text = ""
        response.setEncoding("utf8")
        response.on("data", (chunk) => (text += chunk))
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }))
      })
      request.on("error", reject)
      request.end(body)
    })
  )

const decisionOf = (body: string) => (JSON.parse(body) as { hookSpecificOutput?: { permissionDecision?: string; decision?: { behavior: string } } }).hookSpecificOutput

describe("toolgate serve", () => {
  it.live("answers PreToolUse payloads over loopback with the policy's verdict", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* start(flags())
      const auth = { authorization: `Bearer ${Redacted.value(server.token)}` }
      const denied = yield* post(server.port, JSON.stringify(preBash), auth)
      expect(denied.status).toBe(200)
      expect(decisionOf(denied.body)?.permissionDecision).toBe("deny")
      const allowed = yield* post(server.port, JSON.stringify({ ...preBash, tool_input: { command: "git status" } }), auth)
      expect(decisionOf(allowed.body)?.permissionDecision).toBe("allow")
      // no rule mentions it: no opinion, an empty JSON object
      const deferred = yield* post(server.port, JSON.stringify({ ...preBash, tool_input: { command: "whoami" } }), auth)
      expect(JSON.parse(deferred.body)).toEqual({})
    })).pipe(Effect.provide(NodeServices.layer)))

  it.live("a wrong or missing token, a foreign Host or an unreadable payload is blocked with a 200 answer (Claude Code runs the tool on a non-2xx)", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* start(flags())
      const auth = { authorization: `Bearer ${Redacted.value(server.token)}` }
      const allowedCall = JSON.stringify({ ...preBash, tool_input: { command: "git status" } })
      for (const [headers, body] of [
        [{}, allowedCall],
        [{ authorization: "Bearer a-token-of-thirty-two-characterX" }, allowedCall],
        [{ ...auth, host: `evil.example:${server.port}` }, allowedCall],
        [auth, "{ not json"]
      ] as const) {
        const r = yield* post(server.port, body, headers)
        expect(r.status).toBe(200)
        const answer = JSON.parse(r.body) as { decision?: string; hookSpecificOutput?: unknown }
        expect(answer.decision).toBe("block")
      }
    })).pipe(Effect.provide(NodeServices.layer)))

  it.live("a PermissionRequest the policy leaves open waits for the web console, and the person's answer goes back to Claude Code", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* start(flags({ approver: "web" }))
      const consoleUrl = new URL(Option.getOrThrow(server.console).url)
      const consoleToken = consoleUrl.searchParams.get("token")!
      const auth = { authorization: `Bearer ${Redacted.value(server.token)}` }
      const answer = yield* Effect.forkChild(post(server.port, JSON.stringify({ ...permissionWrite, tool_input: { file_path: "/work/repo/a.md", content: "x" } }), auth))
      // the card appears in the console
      const card = yield* Effect.promise(async () => {
        for (;;) {
          const state = await (await fetch(new URL("/api/state", consoleUrl), { headers: { "x-toolgate-token": consoleToken } })).json() as { pending: Array<{ id: string; tool: string }> }
          if (state.pending.length > 0) return state.pending[0]!
          await new Promise((r) => setTimeout(r, 20))
        }
      })
      expect(card.tool).toBe("Write")
      const decided = yield* Effect.promise(() =>
        fetch(new URL(`/api/decide/${card.id}`, consoleUrl), {
          method: "POST",
          headers: { "x-toolgate-token": consoleToken, "content-type": "application/json" },
          body: JSON.stringify({ action: "deny", reason: "not that file", stop: true })
        })
      )
      expect(decided.status).toBe(200)
      const r = yield* Fiber.join(answer)
      expect(decisionOf(r.body)?.decision).toEqual({ behavior: "deny", message: "toolgate: not that file", interrupt: true })
    })).pipe(Effect.provide(NodeServices.layer)))

  it.effect("does not start on a policy it cannot read", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(start(flags({ policy: [NodePath.join(dir, "missing.json")] }))))
      expect(exit._tag).toBe("Failure")
    }).pipe(Effect.provide(NodeServices.layer)))
})

describe("toolgate init claude: merge", () => {
  const options = { http: false, hookPort: 7878, command: "toolgate", policy: ["optional:.toolgate.json"], audit: Option.none<string>() }
  it("keeps every other setting and hook, and adds PreToolUse and PermissionRequest", () => {
    const before = { model: "opus", hooks: { PreToolUse: [{ matcher: "Bash", hooks: [{ type: "command", command: "my-linter" }] }], Stop: [{ hooks: [{ type: "command", command: "notify" }] }] } }
    const { settings } = merge(before, options)
    const hooks = settings["hooks"] as Record<string, Array<{ matcher?: string; hooks: Array<Record<string, unknown>> }>>
    expect(settings["model"]).toBe("opus")
    expect(hooks["Stop"]).toEqual(before.hooks.Stop)
    expect(hooks["PreToolUse"]![0]).toEqual(before.hooks.PreToolUse[0])
    expect(hooks["PreToolUse"]![1]!.hooks[0]!["command"]).toBe("toolgate check --hook claude --policy optional:.toolgate.json")
    expect(hooks["PermissionRequest"]).toHaveLength(1)
    expect(hooks["PostToolUse"]).toBeUndefined()
  })
  it("run twice, it replaces its own hook instead of adding a second", () => {
    const once = merge({}, options).settings
    const twice = merge(once, { ...options, audit: Option.some("audit.jsonl") })
    const hooks = twice.settings["hooks"] as Record<string, Array<unknown>>
    expect(hooks["PreToolUse"]).toHaveLength(1)
    expect(hooks["PostToolUse"]).toHaveLength(1)
    expect(twice.changes[0]).toMatch(/^replaced the PreToolUse hook/)
  })
  it("--http installs the loopback HTTP hook with the token from the environment", () => {
    const { settings } = merge({}, { ...options, http: true })
    const hooks = settings["hooks"] as Record<string, Array<{ hooks: Array<Record<string, unknown>> }>>
    expect(hooks["PreToolUse"]![0]!.hooks[0]).toEqual({
      type: "http",
      url: "http://127.0.0.1:7878/hooks/claude",
      headers: { Authorization: "Bearer $TOOLGATE_TOKEN" },
      allowedEnvVars: ["TOOLGATE_TOKEN"]
    })
    expect(hooks["PermissionRequest"]![0]!.hooks[0]!["timeout"]).toBe(600)
  })
  it("quotes policy paths with spaces for the shell", () => {
    const { settings } = merge({}, { ...options, policy: ["/home/me/my policies/p.json"] })
    const command = ((settings["hooks"] as Record<string, Array<{ hooks: Array<{ command: string }> }>>)["PreToolUse"]![0]!.hooks[0]!.command)
    expect(command).toContain(`'/home/me/my policies/p.json'`)
  })
})
