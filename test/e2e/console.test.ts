/**
 * The web console in a real Chromium (the Debian `chromium` package, driven
 * by playwright-core; nothing downloads a browser). First the whole path: an
 * MCP client calls through the real `toolgate mcp --approver web`, a reviewer
 * in the browser denies one call, edits and allows another, allows a third,
 * and the test asserts what the client received and what reached the
 * upstream. Then 100 cards on one page. Screenshots go to
 * test-results/console/ (ignored by git) for a person to look at.
 */
import { Effect, Fiber, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { type Browser, chromium } from "playwright-core"
import { Approval, Concurrency, Executor, ToolPolicy } from "toolgate"
import { WebConsole } from "toolgate/node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { handlers, makeTracker, toolkit } from "../fixtures.ts"
import { required } from "../systemPackage.ts"
import { repo, start, workspace } from "../node/mcpStdio.ts"

const executablePath = process.env["CHROMIUM"] ?? "/usr/bin/chromium"
const hasChromium = required(fs.existsSync(executablePath), `the web console in a browser at ${executablePath} ($CHROMIUM)`, "chromium")

const shots = path.join(repo, "test-results", "console")

/** A page-side predicate (a string: this file is typechecked without the DOM library). */
const count = (selector: string, n: number) => `document.querySelectorAll(${JSON.stringify(selector)}).length === ${n}`

describe.skipIf(!hasChromium)("web console in Chromium", { timeout: 120_000 }, () => {
  let browser: Browser
  beforeAll(async () => {
    fs.mkdirSync(shots, { recursive: true })
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
    browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu"] })
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
  })

  it("a reviewer denies one call and approves others, and the MCP client gets exactly that", async () => {
    const ws = workspace({ policy: { permissions: { ask: ["mcp__up__*"] } } })
    const gateway = await start(["--config", ws.config, "--policy", ws.policy, "--approver", "web"])
    try {
      const url = (await gateway.consoleUrl()).href
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/login\?token=/)

      // a mutator and two reads: different pools, so all three wait at once
      const write = gateway.call("up__write", { key: "deploy", value: "production" })
      const echo = gateway.call("up__echo", { message: "<img src=x onerror=alert(1)> hello" })
      const strict = gateway.call("up__strict", { count: 3 })

      const page = await browser.newPage({ viewport: { width: 1200, height: 860 } })
      let dialogs = 0
      page.on("dialog", (d) => {
        dialogs++
        void d.dismiss()
      })
      await page.goto(url)
      await page.waitForSelector("#status.live")
      await page.waitForFunction(count("article.card", 3), undefined, { timeout: 20_000 })
      const card = (tool: string) => page.locator("article.card", { has: page.locator(".tool", { hasText: tool }) })

      // what the reviewer sees: the tool, its class, why it is asked, the params as sent
      await expect(card("mcp__up__write").locator(".badge").first().textContent()).resolves.toBe("mutating")
      await expect(card("mcp__up__echo").locator(".badge").first().textContent()).resolves.toBe("read-only")
      await expect(card("mcp__up__write").textContent()).resolves.toContain("ask: mcp__up__*")
      await expect(card("mcp__up__write").textContent()).resolves.toContain("top-level agent")
      await expect(card("mcp__up__echo").locator("textarea").inputValue()).resolves.toContain("<img src=x onerror=alert(1)>")
      await page.screenshot({ path: path.join(shots, "1-three-pending.png") })

      await card("mcp__up__write").locator("input.reason").fill("no deploys from the agent")
      await card("mcp__up__write").getByRole("button", { name: "Deny", exact: true }).click()
      await page.waitForFunction(count("article.card", 2))
      // an edit that does not fit the schema is refused in the page, the call still waits
      await card("mcp__up__strict").locator("textarea").fill(JSON.stringify({ count: 50 }))
      await card("mcp__up__strict").getByRole("button", { name: "Allow", exact: true }).click()
      await card("mcp__up__strict").locator(".error", { hasText: "do not fit" }).waitFor()
      await page.screenshot({ path: path.join(shots, "2-denied-and-bad-edit.png") })
      await card("mcp__up__strict").locator("textarea").fill(JSON.stringify({ count: 7 }))
      await card("mcp__up__strict").getByRole("button", { name: "Allow", exact: true }).click()
      await card("mcp__up__echo").getByRole("button", { name: "Allow", exact: true }).click()
      await page.waitForFunction(count("article.card", 0))
      await page.waitForFunction(count("#recent li", 3))
      // then how each answered call really ended, from the gateway's events:
      // the edit that ran shows the params it ran with
      const strictEntry = page.locator("#recent li", { has: page.locator(".tool", { hasText: "mcp__up__strict" }) })
      await strictEntry.locator(".outcome", { hasText: 'ran with {"count":7}' }).waitFor({ timeout: 20_000 })
      await page.screenshot({ path: path.join(shots, "3-all-decided.png") })

      const [w, e, s] = await Promise.all([write, echo, strict])
      expect(w.isError).toBe(true)
      expect(w.content[0]!.text).toContain("no deploys from the agent")
      expect(e).toEqual({ content: [{ type: "text", text: "echo: <img src=x onerror=alert(1)> hello" }], isError: false })
      expect(s.content[0]!.text).toBe("count 7")
      expect(ws.upstreamCalls().map((c) => [c.tool, c.args]).sort()).toEqual([
        ["echo", { message: "<img src=x onerror=alert(1)> hello" }],
        ["strict", { count: 7 }]
      ])
      expect(dialogs).toBe(0)
      await page.close()
    } finally {
      await gateway.close()
      ws.remove()
    }
  })

  it("invisible and direction-changing characters show as markers with a warning, an untouched edit is the model's params, and the page says when the process has gone", async () => {
    const tracker = makeTracker()
    // U+202E (right-to-left override) and U+200B (zero width space) in a value
    const sneaky = "notes.txt\u202e\u200bfdp.exe"
    let pageRef: Awaited<ReturnType<Browser["newPage"]>> | undefined
    const program = Effect.scoped(Effect.gen(function*() {
      const console = yield* WebConsole.make()
      const layer = Layer.mergeAll(ToolPolicy.layer(ToolPolicy.permitAll), Approval.layer(console.handler), handlers(tracker))
      const fiber = yield* Effect.forkChild(
        Executor.executeBatch(toolkit, [{ id: "s1", name: "Write", params: { key: sneaky, value: "1" } }]).pipe(Effect.provide(layer))
      )
      const page = yield* Effect.promise(() => browser.newPage({ viewport: { width: 1200, height: 860 } }))
      pageRef = page
      yield* Effect.promise(async () => {
        await page.goto(console.url)
        await page.waitForFunction(count("article.card", 1), undefined, { timeout: 20_000 })
        const card = page.locator("article.card").first()
        await expect(card.locator(".warning").textContent()).resolves.toContain("invisible or direction-changing")
        const shown = await card.locator("textarea").inputValue()
        expect(shown).toContain("notes.txt\\u202e\\u200bfdp.exe")
        expect(shown).not.toContain("\u202e")
        await page.screenshot({ path: path.join(shots, "5-bidi-markers.png") })
        await card.getByRole("button", { name: "Allow", exact: true }).click()
        await page.waitForFunction(count("article.card", 0))
      })
      return yield* Fiber.join(fiber)
    }))
    const [result] = await Effect.runPromise(program)
    // the textarea's escapes parse back to what the model sent: no edit was made
    expect(result!.outcome._tag).toBe("Succeeded")
    expect([...tracker.store]).toEqual([[sneaky, "1"]])
    // the console's scope is closed: the server is gone, and the page says so
    const page = pageRef!
    await page.waitForFunction(`document.getElementById("status").classList.contains("gone")`, undefined, { timeout: 30_000 })
    await expect(page.locator("#status").textContent()).resolves.toContain("has gone")
    await page.close()
  })

  it("100 pending cards render and stay answerable", async () => {
    const tracker = makeTracker()
    const program = Effect.scoped(Effect.gen(function*() {
      const console = yield* WebConsole.make()
      const layer = Layer.mergeAll(
        ToolPolicy.layer(ToolPolicy.permitAll),
        Approval.layer(console.handler),
        handlers(tracker),
        Concurrency.layer({ concurrentMutators: 100, tools: { Promoted: { concurrent: true } } })
      )
      const calls = Array.from({ length: 100 }, (_, i) => ({ id: `p${i}`, name: "Promoted", params: { key: `k${i}` } }))
      const fiber = yield* Effect.forkChild(Executor.executeBatch(toolkit, calls).pipe(Effect.provide(layer)))
      const page = yield* Effect.promise(() => browser.newPage({ viewport: { width: 1200, height: 860 } }))
      yield* Effect.promise(async () => {
        await page.goto(console.url)
        await page.waitForFunction(count("article.card", 100), undefined, { timeout: 20_000 })
        await expect(page.locator("#pending-count").textContent()).resolves.toBe("100")
        // the last card, far below the fold, first
        const last = page.locator("article.card[data-call-id=p99]")
        await last.getByRole("button", { name: "Allow", exact: true }).click()
        await page.waitForFunction(count("article.card", 99))
        await page.screenshot({ path: path.join(shots, "4-hundred-cards.png") })
        for (let i = 0; i < 99; i++) {
          await page.locator(`article.card[data-call-id=p${i}]`).getByRole("button", { name: "Deny", exact: true }).click()
        }
        await page.waitForFunction(count("article.card", 0), undefined, { timeout: 30_000 })
        await page.close()
      })
      return yield* Fiber.join(fiber)
    }))
    const results = await Effect.runPromise(program)
    expect(results.filter((r) => r.outcome._tag === "Succeeded").map((r) => r.id)).toEqual(["p99"])
    expect(results.filter((r) => r.outcome._tag === "ApprovalDenied")).toHaveLength(99)
  })
})
