/**
 * Durable approvals (issue 18), on SQLite and, when `TOOLGATE_TEST_PG_URL`
 * names a database, on PostgreSQL:
 *
 * 1. same-process round trip: a request recorded, answered from the same
 *    process as soon as its row exists, the handler returns;
 * 2. answer from another process → the waiting call resumes: a second
 *    process (a client engine, as `toolgate approvals` uses) answers a
 *    request that has been waiting 300 ms; p50 / p95 from the answer's
 *    commit to the handler's return (both clocks are this machine's);
 * 3. restart with 1,000 pending: a process holding 1,000 is killed with
 *    SIGKILL; a new one is spawned and asks the same 1,000 calls again —
 *    time to ready (engine up, every call re-attached and waiting); then
 *    another process answers all 1,000, and the time until every call has
 *    resumed;
 * 4. heap per pending request, 10,000 pending in one process (after GC).
 *
 * Each measurement that needs a clean heap or a kill runs in a child
 * process of this file (`--role=…`).
 *
 * Run: `npx node --expose-gc bench/durable.bench.ts` (BENCH_QUICK=1: fewer
 * rounds and 1,000 pending instead of 10,000; BENCH_PARTS=restart (or
 * roundtrip, cross, heap, comma-separated): only those). The requests it
 * leaves pending are withdrawn at the end, so a shared PostgreSQL database
 * is left with nothing waiting.
 */
import { Effect, Fiber, Layer, ManagedRuntime } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import * as Readline from "node:readline"
import { fileURLToPath } from "node:url"
import { Approval } from "../src/index.ts"
import { DurableApproval, DurableEngine } from "../src/durable/index.ts"
import { fmt, quantile, quick, table } from "./harness.ts"

const self = fileURLToPath(import.meta.url)
const now = () => performance.timeOrigin + performance.now()
const pgUrl = process.env["TOOLGATE_TEST_PG_URL"] || undefined

const request = (callId: string): Approval.ApprovalRequest => ({
  call: { id: callId, name: "Write", params: { file_path: `out/${callId}.txt`, content: "x" } },
  input: { file_path: `out/${callId}.txt`, content: "x" },
  toolClass: "Mutating",
  origin: { depth: 0, parents: [] }
})

const worker = (store: string) => DurableEngine.worker(store)
const withHandler = (store: string, runId: string) => DurableApproval.layer({ runId }).pipe(Layer.provideMerge(worker(store)))

const approve = (callId: string) => Effect.flatMap(Approval.ApprovalHandler, (h) => h.approve(request(callId)))

const untilRow = (id: string) =>
  Effect.gen(function*() {
    while ((yield* DurableApproval.get(id))._tag === "None") yield* Effect.sleep("1 millis")
  })

const heapAfterGc = async () => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error("run with node --expose-gc")
  await new Promise((resolve) => setImmediate(resolve))
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const runId = (what: string) => `bench-${what}-${process.pid}-${Date.now().toString(36)}`

// ---------------------------------------------------------------------------
// children

/** Answers each id read on stdin; prints `id committedAt` once committed. */
const answerer = async (store: string) => {
  const runtime = ManagedRuntime.make(DurableEngine.client({ store }))
  await runtime.runPromise(Effect.void)
  console.log("ready")
  const lines = Readline.createInterface({ input: process.stdin })
  for await (const line of lines) {
    const ids = line.trim().split(" ").filter((s) => s !== "")
    // many ids on one line: answered 16 at a time, as a busy console would
    await runtime.runPromise(Effect.forEach(ids, (id) =>
      Effect.flatMap(DurableApproval.answer(id, Approval.ApprovalDecision.Allow(), { by: "bench" }), (r) =>
        r._tag === "Answered" ? Effect.void : Effect.die(new Error(`${id}: ${r.reason}`))), { concurrency: 16, discard: true }))
    console.log(`answered ${ids.length} ${now()}`)
  }
  await runtime.dispose()
}

/**
 * Asks `count` calls of run `run` and waits. Prints the heap per pending
 * request once all are recorded and waiting; with `--resume`, prints the
 * time the engine was up and all calls re-attached, then `resumed T` when
 * every call has returned.
 */
const holder = async (store: string, run: string, count: number) => {
  const spawnedAt = Number(process.env["BENCH_SPAWNED_AT"] ?? now())
  const heapBefore = await heapAfterGc()
  const runtime = ManagedRuntime.make(withHandler(store, run))
  await runtime.runPromise(Effect.void)
  const engineUp = now()
  const heapEngine = await heapAfterGc()
  const ids = Array.from({ length: count }, (_, i) => `c${i}`)
  const all = runtime.runFork(Effect.forEach(ids, approve, { concurrency: "unbounded", discard: true }))
  // waiting = every row recorded and every execution suspended: the
  // engine's own count of its resident workflows is not public, so wait for
  // the rows, then let the executions settle
  await runtime.runPromise(Effect.gen(function*() {
    for (;;) {
      const pending = (yield* DurableApproval.pending).filter((r) => r.runId === run).length
      if (pending >= count) return
      yield* Effect.sleep("20 millis")
    }
  }))
  const rowsAt = now()
  await new Promise((r) => setTimeout(r, quick ? 500 : 2_000))
  const heapHeld = await heapAfterGc()
  console.log(JSON.stringify({
    kind: "held",
    count,
    engineUpMs: engineUp - spawnedAt,
    readyMs: rowsAt - spawnedAt,
    heapEngineMiB: (heapEngine - heapBefore) / 2 ** 20,
    heapPerPendingKiB: (heapHeld - heapEngine) / count / 1024,
    rssMiB: process.memoryUsage().rss / 2 ** 20
  }))
  await runtime.runPromise(Fiber.join(all))
  console.log(JSON.stringify({ kind: "resumed", at: now() }))
  await runtime.dispose()
}

// ---------------------------------------------------------------------------
// the parent

const child = (args: ReadonlyArray<string>, flags: ReadonlyArray<string> = []) => {
  const proc = spawn(process.execPath, [...flags, self, ...args], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, BENCH_SPAWNED_AT: String(now()) }
  })
  const lines: Array<string> = []
  const waiters: Array<() => void> = []
  Readline.createInterface({ input: proc.stdout! }).on("line", (line) => {
    lines.push(line)
    for (const w of waiters.splice(0)) w()
  })
  const next = async (match: (line: string) => boolean): Promise<string> => {
    for (;;) {
      const i = lines.findIndex(match)
      if (i >= 0) return lines.splice(i, 1)[0]!
      if (proc.exitCode !== null) throw new Error(`child ${args.join(" ")} exited ${proc.exitCode}`)
      await new Promise<void>((resolve) => {
        waiters.push(resolve)
        setTimeout(resolve, 200)
      })
    }
  }
  return { proc, next, send: (line: string) => proc.stdin!.write(`${line}\n`) }
}

const kill = (proc: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve()
    proc.on("exit", () => resolve())
    proc.kill("SIGKILL")
  })

interface Figures {
  roundTrip: Array<number>
  answerToResume: Array<number>
  held?: { count: number; heapPerPendingKiB: number; heapEngineMiB: number; rssMiB: number }
  restart?: { readyMs: number; engineUpMs: number; answeringMs: number; answeredToResumedMs: number; answerStartToResumedMs: number }
}

const parts = new Set((process.env["BENCH_PARTS"] ?? "roundtrip,cross,heap,restart").split(","))
const runs: Array<string> = []

const measure = async (store: string): Promise<Figures> => {
  const figures: Figures = { roundTrip: [], answerToResume: [] }

  // 1. same-process round trip
  if (parts.has("roundtrip")) {
    const run = runId("rt")
    const runtime = ManagedRuntime.make(withHandler(store, run))
    const rounds = quick ? 10 : 60
    for (let i = 0; i < rounds + 5; i++) {
      const callId = `c${i}`
      const t0 = now()
      await runtime.runPromise(Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(approve(callId))
        const id = DurableApproval.approvalId(run, callId)
        yield* untilRow(id)
        yield* DurableApproval.answer(id, Approval.ApprovalDecision.Allow(), { by: "bench" })
        yield* Fiber.join(fiber)
      }))
      if (i >= 5) figures.roundTrip.push(now() - t0)
    }
    await runtime.dispose()
  }

  // 2. answer from another process
  if (parts.has("cross")) {
    const run = runId("x")
    const runtime = ManagedRuntime.make(withHandler(store, run))
    await runtime.runPromise(Effect.void)
    const answering = child(["--role=answer", store])
    await answering.next((l) => l === "ready")
    const rounds = quick ? 8 : 40
    for (let i = 0; i < rounds + 3; i++) {
      const callId = `c${i}`
      const id = DurableApproval.approvalId(run, callId)
      const fiber = runtime.runFork(approve(callId))
      await runtime.runPromise(untilRow(id))
      // long enough for the execution to suspend: the answer then has to
      // wake it, which is what a person answering later does
      await new Promise((r) => setTimeout(r, 300))
      answering.send(id)
      await runtime.runPromise(Fiber.join(fiber))
      const resumed = now()
      const committed = Number((await answering.next((l) => l.startsWith("answered "))).split(" ")[2])
      if (i >= 3) figures.answerToResume.push(resumed - committed)
    }
    await kill(answering.proc)
    await runtime.dispose()
  }

  // 3. restart with 1,000 pending (before the heap part: the 10,000
  // executions its holder leaves would be resumed by this restart too)
  if (parts.has("restart")) {
    const count = 1_000
    const run = runId("restart")
    runs.push(run)
    const first = child(["--role=hold", store, run, String(count)], ["--expose-gc"])
    await first.next((l) => l.includes("\"held\""))
    await kill(first.proc)
    const second = child(["--role=hold", store, run, String(count)], ["--expose-gc"])
    const held = JSON.parse(await second.next((l) => l.includes("\"held\"")))
    const answering = child(["--role=answer", store])
    await answering.next((l) => l === "ready")
    const startAnswering = now()
    answering.send(Array.from({ length: count }, (_, i) => DurableApproval.approvalId(run, `c${i}`)).join(" "))
    const answeredAt = Number((await answering.next((l) => l.startsWith("answered "))).split(" ")[2])
    const resumedAt = JSON.parse(await second.next((l) => l.includes("\"resumed\""))).at as number
    figures.restart = {
      readyMs: held.readyMs,
      engineUpMs: held.engineUpMs,
      answeringMs: answeredAt - startAnswering,
      answeredToResumedMs: resumedAt - answeredAt,
      answerStartToResumedMs: resumedAt - startAnswering
    }
    await kill(answering.proc)
    await kill(second.proc)
  }
  // 4. heap per pending request
  if (parts.has("heap")) {
    const count = quick ? 1_000 : 10_000
    const run = runId("heap")
    runs.push(run)
    const holding = child(["--role=hold", store, run, String(count)], ["--expose-gc"])
    const held = JSON.parse(await holding.next((l) => l.includes("\"held\"")))
    figures.held = held
    await kill(holding.proc)
  }

  // withdraw what the killed holders left waiting
  const cleanup = ManagedRuntime.make(DurableEngine.client({ store }))
  await cleanup.runPromise(Effect.forEach(runs.splice(0), DurableApproval.withdrawRun, { discard: true }))
  await cleanup.dispose()
  return figures
}

const role = process.argv.find((a) => a.startsWith("--role="))?.slice("--role=".length)
const rest = process.argv.slice(process.argv.findIndex((a) => a.startsWith("--role=")) + 1)
if (role === "answer") await answerer(rest[0]!)
else if (role === "hold") await holder(rest[0]!, rest[1]!, Number(rest[2]))
else {
  const dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-durable-bench-"))
  const stores: Array<[string, string]> = [["SQLite", `sqlite:${NodePath.join(dir, "bench.db")}`]]
  if (pgUrl !== undefined) stores.push(["PostgreSQL", pgUrl])
  const results: Array<[string, Figures]> = []
  for (const [name, store] of stores) {
    process.stderr.write(`durable: ${name} ... `)
    const t0 = now()
    results.push([name, await measure(store)])
    process.stderr.write(`${((now() - t0) / 1000).toFixed(0)} s\n`)
  }
  Fs.rmSync(dir, { recursive: true, force: true })

  const sorted = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)
  const p = (xs: ReadonlyArray<number>, q: number) => quantile(sorted(xs), q)
  const targets = { roundTrip: { SQLite: 5, PostgreSQL: 15 } as Record<string, number> }
  const verdict = (ok: boolean) => (ok ? "met" : "missed")
  const rows = results.filter(([, f]) => f.held !== undefined && f.restart !== undefined && f.roundTrip.length > 0 && f.answerToResume.length > 0).map(([name, f]) => [
    name,
    `${fmt(p(f.roundTrip, 0.5))} / ${fmt(p(f.roundTrip, 0.95))}`,
    `${fmt(p(f.answerToResume, 0.5))} / ${fmt(p(f.answerToResume, 0.95))}`,
    `${fmt(f.held!.heapPerPendingKiB, 1)} (${f.held!.count.toLocaleString("en")} held, RSS ${fmt(f.held!.rssMiB, 0)} MiB)`,
    `${fmt(f.restart!.engineUpMs, 0)} / ${fmt(f.restart!.readyMs, 0)}`,
    `${fmt(f.restart!.answeringMs, 0)}`,
    `${fmt(f.restart!.answeredToResumedMs, 0)} / ${fmt(f.restart!.answerStartToResumedMs, 0)}`
  ])
  if (rows.length < results.length) {
    console.log(JSON.stringify(results, null, 1))
    process.exit(0)
  }
  const checks = results.flatMap(([name, f]) => [
    `${name}: round trip median ${fmt(p(f.roundTrip, 0.5))} ms < ${targets.roundTrip[name]} ms (${verdict(p(f.roundTrip, 0.5) < targets.roundTrip[name]!)})`,
    `${name}: another process's answer → resumed p50 ${fmt(p(f.answerToResume, 0.5))} ms < 50 ms (${verdict(p(f.answerToResume, 0.5) < 50)})`,
    `${name}: heap per pending ${fmt(f.held!.heapPerPendingKiB, 1)} KiB ≤ 5 KB (${verdict(f.held!.heapPerPendingKiB * 1024 <= 5000)})`,
    `${name}: restart ready ${fmt(f.restart!.readyMs, 0)} ms < 1 s (${verdict(f.restart!.readyMs < 1000)})`,
    `${name}: all 1,000 answered → all resumed ${fmt(f.restart!.answeredToResumedMs, 0)} ms < 5 s (${verdict(f.restart!.answeredToResumedMs < 5000)})`
  ])
  console.log(`## 8. Durable approvals

ms, median / p95 unless said. Round trip: record, answer from the same process as soon as the row exists, return (${results[0]![1].roundTrip.length} rounds). Another process: a client engine answers a request waiting 300 ms; from its commit to the handler's return (${results[0]![1].answerToResume.length} rounds). Heap: after a forced GC, per request waiting, beyond the engine's own. Restart: a process holding 1,000 is killed (SIGKILL), a new one is spawned: spawn → engine up / → all 1,000 re-asked and waiting; then another process answers all 1,000 (16 at a time): answering time, last answer → all resumed / first answer → all resumed.

${table(["store", "round trip", "other process → resumed", "heap KiB per pending", "restart: up / ready", "answering 1,000", "answered → all resumed"], rows)}

${checks.map((c) => `- ${c}`).join("\n")}
`)
}
