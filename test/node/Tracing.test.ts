/**
 * OTLP export to a loopback collector (an effect/http server recording what
 * is POSTed to /v1/traces): spans arrive, one per call with its attributes,
 * linked to their parents. Span names and attributes are asserted by prefix
 * and by link, not by the executor's exact stage list, which may change.
 */
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import { createServer } from "node:http"
import { Executor, ToolPolicy } from "toolgate"
import { Tracing } from "toolgate/node"
import { handlers, makeTracker, toolkit } from "../fixtures.ts"
import { start, workspace } from "./mcpStdio.ts"

interface Span {
  readonly name: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly attributes: Record<string, unknown>
}

/**
 * A collector on a free port; `spans` holds every span received so far, and
 * `until` waits until they satisfy a condition (checked as each POST lands).
 */
const collector = Effect.gen(function*() {
  const spans: Array<Span> = []
  const waiting = new Set<() => void>()
  const until = (condition: (spans: ReadonlyArray<Span>) => boolean) =>
    Effect.callback<void>((resume) => {
      const check = () => {
        if (!condition(spans)) return
        waiting.delete(check)
        resume(Effect.void)
      }
      waiting.add(check)
      check()
      return Effect.sync(() => waiting.delete(check))
    })
  const receive = HttpRouter.add("POST", "/v1/traces", (request) =>
    Effect.gen(function*() {
      const body = (yield* request.json) as any
      for (const resource of body.resourceSpans ?? []) {
        for (const scope of resource.scopeSpans ?? []) {
          for (const s of scope.spans ?? []) {
            spans.push({
              name: s.name,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId || undefined,
              attributes: Object.fromEntries(
                (s.attributes ?? []).map((a: any) => [a.key, Object.values(a.value)[0]])
              )
            })
          }
        }
      }
      for (const check of waiting) check()
      return HttpServerResponse.jsonUnsafe({})
    }).pipe(Effect.orDie))
  const context = yield* Layer.build(
    HttpRouter.serve(receive, { disableLogger: true, disableListenLog: true }).pipe(
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
    )
  )
  const address = Context.get(context, HttpServer.HttpServer).address
  const port = address._tag === "UnixPathAddress" ? 0 : address.port
  return { spans, until, endpoint: `http://127.0.0.1:${port}` }
})

const parentOf = (spans: ReadonlyArray<Span>, span: Span) => spans.find((s) => s.spanId === span.parentSpanId)

describe("Tracing", () => {
  it("builds the traces URL from a collector's base URL", () => {
    expect(Tracing.tracesUrl("http://127.0.0.1:4318")).toBe("http://127.0.0.1:4318/v1/traces")
    expect(Tracing.tracesUrl("http://127.0.0.1:4318/")).toBe("http://127.0.0.1:4318/v1/traces")
    expect(Tracing.tracesUrl("http://c/v1/traces")).toBe("http://c/v1/traces")
  })

  it.live("exports the executor's spans for each call, linked to their parents in one trace", () =>
    Effect.gen(function*() {
      const { spans, endpoint } = yield* collector
      const policy = ToolPolicy.byName({ Write: ToolPolicy.Verdict.Deny({ reason: "no writes" }) }, ToolPolicy.Verdict.Allow())
      yield* Executor.executeBatch(toolkit, [
        { id: "r1", name: "Read", params: { key: "a" } },
        { id: "w1", name: "Write", params: { key: "a", value: "1" } }
      ]).pipe(
        Effect.withSpan("agent.turn"),
        Effect.provide(Layer.mergeAll(ToolPolicy.layer(policy), handlers(makeTracker()))),
        // closing the tracing layer flushes what is batched
        Effect.provide(Tracing.layer({ endpoint, exportInterval: "50 millis" }))
      )
      const root = spans.find((s) => s.name === "agent.turn")
      expect(root).toBeDefined()
      const gate = spans.filter((s) => s.name.startsWith("toolgate."))
      expect(gate.length).toBeGreaterThan(0)
      // every gate span is in the agent's trace and its parent arrived too
      for (const span of gate) {
        expect(span.traceId).toBe(root!.traceId)
        expect(parentOf(spans, span)).toBeDefined()
      }
      // the read ran: some span names its call
      expect(gate.some((s) => Object.values(s.attributes).includes("r1"))).toBe(true)
    }))

  it.live("toolgate mcp --otlp exports one span per call with the decision, who decided and the rule", () =>
    Effect.gen(function*() {
      const { spans, until, endpoint } = yield* collector
      const ws = workspace({ policy: { permissions: { allow: ["mcp__up__echo"], deny: ["mcp__up__write"] } } })
      yield* Effect.addFinalizer(() => Effect.sync(ws.remove))
      yield* Effect.promise(async () => {
        const gateway = await start(["--config", ws.config, "--policy", ws.policy, "--otlp", endpoint])
        await gateway.call("up__echo", { message: "traced" })
        await gateway.call("up__write", { key: "k", value: "v" })
        await gateway.close()
      })
      // the exporter flushes as the gateway shuts down; the last POST may land after it exits
      yield* until((spans) => spans.filter((s) => s.name === "toolgate.mcp.call").length >= 2)
      const calls = spans.filter((s) => s.name === "toolgate.mcp.call")
      const byTool = Object.fromEntries(calls.map((s) => [s.attributes["toolgate.tool"], s]))
      expect(byTool["up__echo"]?.attributes).toMatchObject({ "toolgate.outcome": "Succeeded", "toolgate.is_error": false })
      expect(byTool["up__write"]?.attributes).toMatchObject({ "toolgate.outcome": "PolicyDenied", "toolgate.is_error": true })
      // the decision is on the executor's span of the call, from its record
      // (a denied call gets one too)
      const under = (span: (typeof spans)[number], ancestor: string | undefined): boolean => {
        for (let s: (typeof spans)[number] | undefined = span; s !== undefined; s = spans.find((p) => p.spanId === s!.parentSpanId)) {
          if (s.parentSpanId === ancestor) return true
        }
        return false
      }
      const gateSpan = (tool: string) => spans.find((s) => s.name === "toolgate.call" && under(s, byTool[tool]?.spanId))
      expect(gateSpan("up__echo")?.attributes).toMatchObject({
        "toolgate.verdict": "allow",
        "toolgate.decided_by": "policy",
        "toolgate.rule": "allow: mcp__up__echo",
        "toolgate.outcome": "Succeeded",
        "toolgate.is_error": false
      })
      expect(gateSpan("up__write")?.attributes).toMatchObject({
        "toolgate.verdict": "deny",
        "toolgate.decided_by": "policy",
        "toolgate.rule": "deny: mcp__up__write",
        "toolgate.outcome": "PolicyDenied",
        "toolgate.is_error": true
      })
      // params are not on spans unless asked (--trace-params)
      for (const span of spans) expect(Object.keys(span.attributes)).not.toContain("toolgate.params")
      // the executor's spans for a call hang under its gateway span
      for (const call of calls) {
        const children = spans.filter((s) => s.parentSpanId === call.spanId)
        expect(children.length).toBeGreaterThan(0)
        expect(children.every((c) => c.traceId === call.traceId)).toBe(true)
      }
    }), 90_000)

  it.live("toolgate mcp --trace-params puts the call's params on its toolgate.call span", () =>
    Effect.gen(function*() {
      const { spans, until, endpoint } = yield* collector
      const ws = workspace({ policy: { permissions: { allow: ["mcp__up__echo"] } } })
      yield* Effect.addFinalizer(() => Effect.sync(ws.remove))
      yield* Effect.promise(async () => {
        const gateway = await start(["--config", ws.config, "--policy", ws.policy, "--otlp", endpoint, "--trace-params"])
        await gateway.call("up__echo", { message: "traced-params" })
        await gateway.close()
      })
      // the exporter flushes as the gateway shuts down; the last POST may land after it exits
      yield* until((spans) => spans.some((s) => s.name === "toolgate.call"))
      const call = spans.find((s) => s.name === "toolgate.call")
      expect(call?.attributes["toolgate.params"]).toBe(JSON.stringify({ message: "traced-params" }))
    }), 90_000)

  it.live("with no URL and no OTEL_EXPORTER_OTLP_ENDPOINT, tracing adds nothing", () =>
    Effect.gen(function*() {
      const before = process.env["OTEL_EXPORTER_OTLP_ENDPOINT"]
      delete process.env["OTEL_EXPORTER_OTLP_ENDPOINT"]
      yield* Effect.addFinalizer(() => Effect.sync(() => {
        if (before !== undefined) process.env["OTEL_EXPORTER_OTLP_ENDPOINT"] = before
      }))
      const { spans } = yield* collector
      yield* Effect.void.pipe(Effect.withSpan("nothing"), Effect.provide(Tracing.layerFromEnv(Option.none())))
      expect(spans).toEqual([])
    }))
})
