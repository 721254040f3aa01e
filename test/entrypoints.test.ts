import { describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"

// Each entry point imported in a fresh Node process, as a user's program
// would, reporting what the import did to the process.
const repo = fileURLToPath(new URL("..", import.meta.url))

const probe = (script: string) =>
  new Promise<Record<string, unknown>>((resolve, reject) => {
    execFile(process.execPath, ["--conditions=toolgate-source", "--input-type=module", "-e", script], {
      cwd: repo,
      encoding: "utf8",
      timeout: 60_000
    }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`))
      else resolve(JSON.parse(stdout.trim().split("\n").at(-1)!))
    })
  })

// Every module the import loads is recorded by a resolve hook, so "no shell
// reader" means no module of the rule engine (src/policy/) was loaded at all.
const importing = (entry: string) => `
  import { registerHooks } from "node:module"
  const loaded = []
  registerHooks({
    resolve: (specifier, context, next) => {
      const resolved = next(specifier, context)
      loaded.push(resolved.url)
      return resolved
    }
  })
  const limit = Error.stackTraceLimit
  const globals = new Set(Object.getOwnPropertyNames(globalThis))
  const mod = await import(${JSON.stringify(entry)})
  console.log(JSON.stringify({
    exports: Object.keys(mod).sort(),
    stackTraceLimit: Error.stackTraceLimit === limit,
    newGlobals: Object.getOwnPropertyNames(globalThis).filter((name) => !globals.has(name)),
    modules: loaded.length,
    parser: loaded.some((url) => url.includes("/src/policy/"))
  }))`

describe.concurrent("entry points", () => {
  it("toolgate loads no shell parser and changes no global", async () => {
    const r = await probe(importing("toolgate"))
    expect(r.exports).toEqual([
      "Agent", "Approval", "Concurrency", "Executor", "ToolCall", "ToolClass", "ToolEvents", "ToolPolicy", "ToolResult"
    ])
    expect(r).toMatchObject({ parser: false, stackTraceLimit: true, newGlobals: [] })
    expect(r.modules).toBeGreaterThan(0)
  })

  it("toolgate/policy does load the rule engine (the check above can fail)", async () => {
    const r = await probe(importing("toolgate/policy"))
    expect(r.parser).toBe(true)
  })

  it("toolgate/testing loads no shell parser and changes no global", async () => {
    const r = await probe(importing("toolgate/testing"))
    expect(r.exports).toEqual(["ScriptedModel", "TestApproval"])
    expect(r).toMatchObject({ parser: false, stackTraceLimit: true, newGlobals: [] })
  })

  it("toolgate/node changes no global on import", async () => {
    const r = await probe(importing("toolgate/node"))
    expect(r.exports).toEqual(["AuditLog", "BuiltinTools", "McpGateway", "Providers", "TerminalApproval", "Tracing", "WebConsole"])
    expect(r).toMatchObject({ stackTraceLimit: true, newGlobals: [] })
  })

  it("toolgate/policy keeps Error.stackTraceLimit, on import and after judging a shell command", async () => {
    const r = await probe(`
      import { Effect } from "effect"
      const limit = Error.stackTraceLimit
      const { PolicyRules } = await import("toolgate/policy")
      const afterImport = Error.stackTraceLimit === limit
      const rules = await Effect.runPromise(PolicyRules.make({ allow: ["Bash(ls:*)"] }))
      const verdict = await Effect.runPromise(PolicyRules.explain(rules, { name: "Bash", params: { command: "ls -la" } }, { root: "/tmp", home: "/tmp" }))
      console.log(JSON.stringify({ afterImport, afterUse: Error.stackTraceLimit === limit, verdict: verdict.verdict._tag }))`)
    expect(r).toEqual({ afterImport: true, afterUse: true, verdict: "Allow" })
  })
})
