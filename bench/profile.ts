/**
 * One step to the next hotspot: runs a workload under `node --cpu-prof`,
 * writes the `.cpuprofile` to bench/profiles/ (open it in Chrome DevTools or
 * speedscope) and prints the functions with the most self time, and the
 * files they are in.
 *
 * Run: `npm run bench:profile -- [gate|turn|cancel] [rounds]` (default: gate,
 * 200 rounds of 1,000 calls). `gate` is `executeBatch` over 1,000 no-op
 * calls with the default layers, `turn` a whole `Agent.run` turn of 1,000
 * calls, `cancel` interrupting 1,000 calls waiting for approval.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const workload = process.argv[2] ?? "gate"
const rounds = Number(process.argv[3] ?? (workload === "cancel" ? 40 : 200))

if (process.env.TOOLGATE_PROFILE_CHILD === "1") {
  const { Effect, Fiber, Layer } = await import("effect")
  const { Agent, Approval, Concurrency, Executor } = await import("../src/index.ts")
  const ScriptedModel = await import("../src/testing/ScriptedModel.ts")
  const { noopCalls, noopHandler, noopToolkit } = await import("./fixtures.ts")
  const handlers = await Effect.runPromise(noopToolkit.toHandlers({ Noop: noopHandler }))
  const N = 1_000
  const calls = noopCalls(N)
  if (workload === "gate") {
    const batch = Executor.executeBatch(noopToolkit, calls).pipe(Effect.provide(handlers))
    for (let i = 0; i < rounds; i++) await Effect.runPromise(batch)
  } else if (workload === "turn") {
    const turns = [{ toolCalls: calls }, { text: "done" }]
    for (let i = 0; i < rounds; i++) {
      const model = await Effect.runPromise(ScriptedModel.make({ turns }))
      await Effect.runPromise(
        Agent.run({ prompt: "go", toolkit: noopToolkit }).pipe(
          Effect.provide(handlers),
          Effect.provideService((await import("effect/ai")).LanguageModel.LanguageModel, model.model)
        )
      )
    }
  } else if (workload === "cancel") {
    for (let i = 0; i < rounds; i++) {
      await Effect.runPromise(Effect.gen(function*() {
        const bridge = yield* Approval.queueBridge
        const fiber = yield* Executor.executeBatch(noopToolkit, calls).pipe(
          Effect.provide(Layer.mergeAll(Approval.layer(bridge.handler), Concurrency.layer({ reads: 2 * N }))),
          Effect.provide(handlers),
          Effect.forkChild
        )
        while ((yield* bridge.pending).length < N) yield* Effect.sleep(1)
        yield* Fiber.interrupt(fiber)
      }))
    }
  } else {
    throw new Error(`unknown workload ${workload}: gate, turn or cancel`)
  }
} else {
  const here = fileURLToPath(new URL(".", import.meta.url))
  const dir = join(here, "profiles")
  mkdirSync(dir, { recursive: true })
  const before = new Set(readdirSync(dir))
  const started = Date.now()
  execFileSync(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${dir}`, fileURLToPath(import.meta.url), workload, `${rounds}`], {
    stdio: "inherit",
    env: { ...process.env, TOOLGATE_PROFILE_CHILD: "1" }
  })
  const file = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile") && !before.has(f))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]
  if (file === undefined) throw new Error("node wrote no .cpuprofile")
  interface Node {
    readonly id: number
    readonly children?: ReadonlyArray<number>
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  }
  const profile = JSON.parse(readFileSync(file, "utf8")) as {
    readonly nodes: ReadonlyArray<Node>
    readonly samples: ReadonlyArray<number>
    readonly timeDeltas: ReadonlyArray<number>
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  // total (inclusive) time of toolgate's own functions: where a call's time goes
  const inclusive = new Map<string, number>()
  const self = new Map<string, number>()
  const perFile = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)!
    const dt = profile.timeDeltas[i] ?? 0
    total += dt
    const { functionName, lineNumber, url } = node.callFrame
    const short = url.replace(/^file:\/\//, "").replace(/.*\/node_modules\//, "").replace(/.*\/(src|bench)\//, "$1/")
    const key = `${functionName || "(anonymous)"}  ${short}:${lineNumber + 1}`
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame
      if (!/\/(src|bench)\//.test(frame.url) || frame.url.includes("node_modules")) continue
      const k = `${frame.functionName || "(anonymous)"}  ${frame.url.replace(/.*\/(src|bench)\//, "$1/")}:${frame.lineNumber + 1}`
      if (seen.has(k)) continue
      seen.add(k)
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt)
    }
    self.set(key, (self.get(key) ?? 0) + dt)
    const fileKey = short === "" ? functionName : short
    perFile.set(fileKey, (perFile.get(fileKey) ?? 0) + dt)
  })
  const top = (m: Map<string, number>, n: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) =>
      `${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`
    ).join("\n")
  console.log(`profile of "${workload}" (${rounds} rounds, ${((Date.now() - started) / 1000).toFixed(1)} s): ${file}

top functions by self time:
${top(self, 25)}

top files by self time:
${top(perFile, 12)}

toolgate functions by total time (self and callees; recursion and async hops make these lower bounds):
${top(inclusive, 20)}`)
}
