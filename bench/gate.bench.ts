/**
 * Gate overhead: the per-call time of `Executor.executeBatch` over N no-op
 * read-only tools, against the floors it is built on.
 *
 * - bare floor: `Effect.forEach` over the handler alone.
 * - dispatch floor: `Effect.forEach` over effect/ai's `toolkit.handle` (param
 *   decoding, a handler fiber, result encoding), no gate.
 * - gate: `executeBatch` with the default layers (auto-approve, permit-all).
 * - gate + bridge: every call asked through `Approval.queueBridge`, answered
 *   by one UI fiber that allows everything (session memory on).
 * - gate + 100 rules: a 100-rule `PolicyRules` policy allowing the tool.
 *
 * Run: `npx node bench/gate.bench.ts`. Target: gate ≤ 1.5× the dispatch
 * floor at N = 1,000.
 */
import { Effect, Stream } from "effect"
import { Approval, Executor, ToolPolicy } from "../src/index.ts"
import * as PolicyRules from "../src/policy/PolicyRules.ts"
import { noopCalls, noopHandler, noopToolkit } from "./fixtures.ts"
import { fmt, interleave, quick, roundsFor, sizesOr, stats, table } from "./harness.ts"

// The handlers' context, built once: the dispatch floor calls effect/ai's
// resolved toolkit, the gate gets the Toolkit with its handlers in context,
// as Agent.run and a program providing `toolkit.toLayer(...)` do.
const handlers = await Effect.runPromise(noopToolkit.toHandlers({ Noop: noopHandler }))
const kit = await Effect.runPromise(Effect.provide(Effect.gen(function*() { return yield* noopToolkit }), handlers))

// One UI fiber answering every bridged request, for the whole process.
const bridge = await Effect.runPromise(Approval.queueBridge)
Effect.runFork(Effect.forever(Effect.flatMap(bridge.take, (p) => p.decide(Approval.ApprovalDecision.Allow()))))
const bridged = await Effect.runPromise(Approval.sessionMemory(bridge.handler))

// 99 rules that do not match the tool plus the one that allows it: the
// engine has to look at all of them.
const rules = await Effect.runPromise(PolicyRules.make({
  allow: [
    ...Array.from({ length: 40 }, (_, i) => `Bash(npm run task${i}:*)`),
    ...Array.from({ length: 19 }, (_, i) => `Read(/srv/data${i}/**)`),
    "Noop"
  ],
  ask: Array.from({ length: 20 }, (_, i) => `Write(/home/user/project${i}/**)`),
  deny: [
    ...Array.from({ length: 10 }, (_, i) => `Bash(rm -rf /mnt${i}:*)`),
    ...Array.from({ length: 10 }, (_, i) => `Write(/etc/conf${i}/**)`)
  ]
}))
const rulePolicy = PolicyRules.toPolicy(rules, { root: "/work", home: "/home/user" })

const variants = (n: number) => {
  const calls = noopCalls(n)
  const bare = Effect.forEach(calls, (c) => noopHandler(c.params), { discard: true })
  const dispatch = Effect.forEach(
    calls,
    (c) => Effect.flatMap(kit.handle("Noop", c.params, c.id), Stream.runLast),
    { discard: true }
  )
  const gate = Executor.executeBatch(noopToolkit, calls).pipe(Effect.provide(handlers))
  const viaBridge = gate.pipe(Effect.provideService(Approval.ApprovalHandler, bridged))
  const viaRules = gate.pipe(Effect.provideService(ToolPolicy.ToolPolicy, rulePolicy))
  return {
    bare: () => Effect.runPromise(bare),
    dispatch: () => Effect.runPromise(dispatch),
    gate: () => Effect.runPromise(gate),
    bridge: () => Effect.runPromise(viaBridge),
    rules: () => Effect.runPromise(viaRules)
  }
}

// sanity: every variant really ran every call
{
  const results = await Effect.runPromise(
    Executor.executeBatch(noopToolkit, noopCalls(10)).pipe(Effect.provide(handlers), Effect.provideService(ToolPolicy.ToolPolicy, rulePolicy))
  )
  if (results.some((r) => r.outcome._tag !== "Succeeded")) throw new Error(`rules bench misconfigured: ${JSON.stringify(results[0])}`)
}

const sizes = sizesOr(quick ? [1, 10, 100, 1_000] : [1, 10, 100, 1_000, 10_000])
const rows: Array<Array<string>> = []
const ratios: Record<number, { gateVsDispatch: number; bridgeVsDispatch: number; rulesVsDispatch: number }> = {}
for (const n of sizes) {
  const rounds = quick ? 5 : roundsFor(n, n >= 10_000 ? 50_000 : 40_000, 5, 100)
  const samples = await interleave(variants(n), { rounds, warmup: Math.max(3, Math.ceil(rounds / 5)) })
  const us = (k: keyof typeof samples) => {
    const s = stats(samples[k])
    return { median: (s.median * 1000) / n, p90: (s.p90 * 1000) / n }
  }
  const r = {
    bare: us("bare"),
    dispatch: us("dispatch"),
    gate: us("gate"),
    bridge: us("bridge"),
    rules: us("rules")
  }
  const ratio = {
    gateVsDispatch: r.gate.median / r.dispatch.median,
    bridgeVsDispatch: r.bridge.median / r.dispatch.median,
    rulesVsDispatch: r.rules.median / r.dispatch.median
  }
  ratios[n] = ratio
  rows.push([
    n.toLocaleString("en"),
    `${rounds}`,
    ...[r.bare, r.dispatch, r.gate, r.bridge, r.rules].map((x) => `${fmt(x.median)} / ${fmt(x.p90)}`),
    `${fmt(ratio.gateVsDispatch)}×`,
    `${fmt(ratio.bridgeVsDispatch)}×`,
    `${fmt(ratio.rulesVsDispatch)}×`
  ])
}

const at1k = ratios[1_000]!
console.log(`## 1. Gate overhead

Per call, µs, median / p90 over the rounds (each round one whole batch of N calls, variants interleaved). Ratios are medians against the dispatch floor.

${table(["N", "rounds", "bare floor", "dispatch floor", "gate", "gate + bridge", "gate + 100 rules", "gate ÷ dispatch", "bridge ÷ dispatch", "rules ÷ dispatch"], rows)}

Target: gate ≤ 1.5× the dispatch floor at N = 1,000 — measured **${fmt(at1k.gateVsDispatch)}×** (${at1k.gateVsDispatch <= 1.5 ? "met" : "missed"}).
`)
