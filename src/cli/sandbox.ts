/**
 * `toolgate sandbox --self-test`: runs the escape probes of
 * `src/node/internal/escapeProbes.ts` against the real sandbox of this
 * machine — bubblewrap, the seccomp filter, the launcher, the non-root uid
 * when toolgate is root — through the same built-in tools `toolgate run`
 * uses, under a policy that allows every call, in a throwaway workspace.
 * One line per cause (held / ESCAPED / skipped); exit 0 only when every
 * cause held, 1 when there is no sandbox at all, 2 when a probe escaped or
 * was skipped.
 *
 * @since 0.1.0
 */
import { Console, Effect, Layer } from "effect"
import { Command, Flag } from "effect/cli"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as Concurrency from "../Concurrency.ts"
import * as Executor from "../Executor.ts"
import * as ToolPolicy from "../ToolPolicy.ts"
import * as BuiltinTools from "../node/BuiltinTools.ts"
import * as Cgroup from "../node/internal/cgroup.ts"
import * as Probes from "../node/internal/escapeProbes.ts"
import { Exit } from "./check.ts"

/** Exit statuses of `toolgate sandbox --self-test`. */
export const selfTestExit = { Held: 0, NoSandbox: 1, NotHeld: 2 } as const

const selfTestFlag = Flag.Boolean("self-test").pipe(
  Flag.withDefault(false),
  Flag.withDescription("run the escape probes (one per cause of docs/sandbox.md) against this machine's sandbox")
)

const text = (value: unknown) => typeof value === "string" ? value : JSON.stringify(value) ?? String(value)

const selfTest = Effect.gen(function*() {
  // The workspace lives in a fresh directory of its own: the probes plant
  // files and a git repository there, and the sandbox's uid is given it.
  const base = yield* Effect.acquireRelease(
    Effect.sync(() => NodeFs.realpathSync(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "toolgate-self-test-")))),
    (dir) => Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))
  )
  const site: Probes.Site = {
    root: NodePath.join(base, "workspace"),
    outside: NodePath.join(base, "outside"),
    asRoot: process.getuid?.() === 0
  }
  NodeFs.mkdirSync(site.root)
  NodeFs.mkdirSync(site.outside)
  // Every probe prepares before the sandbox is set up: git state and
  // credential files are read when the tools' layer is built.
  const prepared: Array<{ readonly probe: Probes.Probe; readonly ready: Probes.Prepared }> = []
  for (const probe of Probes.all) {
    prepared.push({ probe, ready: yield* Effect.promise(() => probe.prepare(site)) })
  }
  yield* Effect.addFinalizer(() => Effect.promise(() => Promise.all(prepared.map(({ ready }) => ready.release()))))

  const tools = BuiltinTools.layer({ root: site.root, bash: { sandbox: "required" } })
  const context = yield* Layer.build(tools).pipe(Effect.result)
  if (context._tag === "Failure") {
    yield* Console.error(`toolgate sandbox: no sandbox on this machine: ${context.failure.message}`)
    return yield* new Exit({ code: selfTestExit.NoSandbox })
  }
  yield* Console.log(`toolgate sandbox --self-test (as uid ${process.getuid?.()}, workspace ${site.root})`)
  const cgroups = Cgroup.detect()
  yield* Console.log(
    cgroups.memory === undefined && cgroups.pids === undefined
      ? "  whole-call limits: none (no writable cgroup here): each process is bounded by rlimits alone"
      : `  whole-call limits: a cgroup per call (${[cgroups.memory && "memory", cgroups.pids && "processes"].filter(Boolean).join(", ")}) under ${cgroups.memory?.base ?? cgroups.pids?.base}`
  )
  let allHeld = true
  for (const { probe, ready } of prepared) {
    const started = Date.now()
    const outcomes: Array<Probes.Outcome> = []
    for (const [i, call] of ready.calls.entries()) {
      const [result] = yield* Executor.executeBatch(BuiltinTools.toolkit, [{ id: `c${probe.cause}-${i}`, ...call }]).pipe(
        Effect.provide(context.success)
      )
      outcomes.push({ tag: result!.outcome._tag, text: text(result!.result) })
    }
    const verdict = yield* Effect.promise(async () => ready.judge(outcomes))
    yield* Effect.logDebug(`cause ${probe.cause} took ${Date.now() - started} ms: ${JSON.stringify(outcomes).slice(0, 600)}`)
    if (verdict._tag !== "Held") allHeld = false
    yield* Console.log(Probes.describe(probe, verdict))
  }
  if (!allHeld) return yield* new Exit({ code: selfTestExit.NotHeld })
}).pipe(
  Effect.provide(ToolPolicy.layer(ToolPolicy.allowAll)),
  Effect.provide(Concurrency.layer()),
  Effect.scoped
)

/**
 * The `sandbox` subcommand.
 *
 * @since 0.1.0
 */
export const sandbox = Command.make("sandbox", { selfTest: selfTestFlag }, (config) =>
  config.selfTest
    ? selfTest
    : Console.log("toolgate sandbox --self-test runs the escape probes against this machine's sandbox (see docs/sandbox.md)")).pipe(
    Command.withDescription(
      `Check the Bash sandbox on this machine.

--self-test runs one escape probe per cause (uid 0 as host root and kernel knobs, inherited
descriptors, planted git code, Unix sockets, tiny timeouts, fork bomb and memory hog, the file
tools' credential list) and prints held, ESCAPED or skipped for each.

Exit status: 0 every cause held, 1 no sandbox (bubblewrap missing or unusable), 2 a cause escaped or was skipped.`
    )
  )
