/**
 * How many calls run at once, per routing class and per tool.
 *
 * Every call that passes the gate is admitted by a class pool and, when the
 * tool has a `max`, by a per-tool pool. The read and serial-mutator pools are
 * shared by the whole agent tree, so two sub-agents never write at the same
 * time through a default mutator. The concurrent-mutator and per-tool pools
 * are forked per nesting level: a recursive tool holds a permit of its own
 * level while its nested batch takes permits of the next one, so a parent
 * holding every permit can never starve the sub-agents it waits for (that
 * would deadlock).
 *
 * `Concurrency` is a `Context.Reference` holding the pools themselves. Its
 * default is one set of pools with {@link defaults} shared by the whole
 * process (the fail-safe choice: serial mutators never overlap anywhere).
 * {@link layer} builds a separate set, shared by everything it is provided to.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Semaphore } from "effect"
import type { Tool } from "effect/ai"
import * as ToolClass from "./ToolClass.ts"

// -----------------------------------------------------------------------------
// Models
// -----------------------------------------------------------------------------

/**
 * Per-tool settings: `concurrent: true` promotes a mutating tool to the
 * concurrent-mutator pool (it is safe to run alongside itself and other
 * mutators); `max` caps how many calls of this tool run at once.
 *
 * @example
 * ```ts
 * import type { Concurrency } from "toolgate"
 * const s: Concurrency.ToolSettings = { concurrent: true, max: 2 }
 * ```
 *
 * @since 0.1.0
 */
export interface ToolSettings {
  readonly concurrent?: boolean | undefined
  readonly max?: number | undefined
}

/**
 * Pool caps: `reads` for read-only tools, `concurrentMutators` for promoted
 * and recursive tools (per nesting level), `serialMutators` for the other
 * mutating tools, and settings per tool name.
 *
 * @example
 * ```ts
 * import type { Concurrency } from "toolgate"
 * const s: Concurrency.Settings = { reads: 8, concurrentMutators: 4, serialMutators: 1, tools: {} }
 * ```
 *
 * @since 0.1.0
 */
export interface Settings {
  readonly reads: number
  readonly concurrentMutators: number
  readonly serialMutators: number
  readonly tools: Readonly<Record<string, ToolSettings>>
}

/**
 * The default caps: 20 reads, 10 promoted mutators per level, 1 serial
 * mutator.
 *
 * @example
 * ```ts
 * import { Concurrency } from "toolgate"
 * Concurrency.defaults.reads // 20
 * ```
 *
 * @since 0.1.0
 */
export const defaults: Settings = { reads: 20, concurrentMutators: 10, serialMutators: 1, tools: {} }

/**
 * Which pool admits a call: `read` for read-only tools, `concurrent` for
 * promoted mutators and recursive tools, `serial` for other mutators.
 *
 * @example
 * ```ts
 * import type { Concurrency } from "toolgate"
 * const r: Concurrency.Route = "serial"
 * ```
 *
 * @since 0.1.0
 */
export type Route = "read" | "concurrent" | "serial"

/**
 * A realized set of pools. `admit` wraps an effect so that it runs holding a
 * permit of its class pool and, if the tool has a `max`, of its tool pool.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Concurrency } from "toolgate"
 * const program = Effect.gen(function*() {
 *   const pools = yield* Concurrency.Concurrency
 *   return yield* pools.admit("read", "Read", 0)(Effect.succeed("ran with a read permit"))
 * })
 * ```
 *
 * @since 0.1.0
 */
export interface Pools {
  readonly settings: Settings
  readonly route: (tool: Tool.Any) => Route
  readonly admit: (
    route: Route,
    toolName: string,
    depth: number
  ) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

// -----------------------------------------------------------------------------
// Constructors
// -----------------------------------------------------------------------------

const positive = (name: string, n: number): number => {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`Concurrency: ${name} must be a whole number of at least 1, got ${n}`)
  }
  return n
}

interface Level {
  readonly concurrent: Semaphore.Semaphore
  readonly tools: Map<string, Semaphore.Semaphore>
}

/**
 * Builds a set of pools from settings (missing fields take the
 * {@link defaults}). Throws a `RangeError` for a cap that is not a whole
 * number of at least 1: a misconfiguration should stop the program at start.
 *
 * @example
 * ```ts
 * import { Concurrency } from "toolgate"
 * const pools = Concurrency.makeUnsafe({ reads: 4, tools: { Deploy: { max: 1 } } })
 * ```
 *
 * @since 0.1.0
 */
export const makeUnsafe = (settings: Partial<Settings> = {}): Pools => {
  const resolved: Settings = { ...defaults, ...settings }
  const read = Semaphore.makeUnsafe(positive("reads", resolved.reads))
  const serial = Semaphore.makeUnsafe(positive("serialMutators", resolved.serialMutators))
  positive("concurrentMutators", resolved.concurrentMutators)
  for (const [name, tool] of Object.entries(resolved.tools)) {
    if (tool.max !== undefined) positive(`tools.${name}.max`, tool.max)
  }
  // Levels are created on first use: most agents never nest, and a nested
  // level lives as long as the pools do (a handful of semaphores per depth).
  const levels: Array<Level> = []
  const level = (depth: number): Level => {
    let found = levels[depth]
    if (found === undefined) {
      found = { concurrent: Semaphore.makeUnsafe(resolved.concurrentMutators), tools: new Map() }
      levels[depth] = found
    }
    return found
  }
  const toolPool = (at: Level, name: string): Semaphore.Semaphore | undefined => {
    const max = Object.hasOwn(resolved.tools, name) ? resolved.tools[name]?.max : undefined
    if (max === undefined) return undefined
    let pool = at.tools.get(name)
    if (pool === undefined) {
      pool = Semaphore.makeUnsafe(max)
      at.tools.set(name, pool)
    }
    return pool
  }
  return {
    settings: resolved,
    route: (tool) => {
      if (ToolClass.isRecursive(tool)) return "concurrent"
      if (ToolClass.of(tool) === "ReadOnly") return "read"
      return Object.hasOwn(resolved.tools, tool.name) && resolved.tools[tool.name]?.concurrent === true
        ? "concurrent"
        : "serial"
    },
    admit: (route, toolName, depth) => {
      const at = level(depth)
      const classPool = route === "read" ? read : route === "serial" ? serial : at.concurrent
      const perTool = toolPool(at, toolName)
      return perTool === undefined
        ? (effect) => classPool.withPermit(effect)
        : (effect) => classPool.withPermit(perTool.withPermit(effect))
    }
  }
}

/**
 * Builds a set of pools as an effect.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Concurrency } from "toolgate"
 * const pools = Effect.runSync(Concurrency.make({ reads: 4 }))
 * ```
 *
 * @since 0.1.0
 */
export const make = (settings: Partial<Settings> = {}): Effect.Effect<Pools> => Effect.sync(() => makeUnsafe(settings))

// -----------------------------------------------------------------------------
// Service
// -----------------------------------------------------------------------------

/**
 * The pools in force. The default is one process-wide set with
 * {@link defaults}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Concurrency } from "toolgate"
 * const caps: Effect.Effect<Concurrency.Settings> = Concurrency.Concurrency.useSync((pools) => pools.settings)
 * ```
 *
 * @since 0.1.0
 */
export const Concurrency = Context.Reference<Pools>("toolgate/Concurrency", {
  defaultValue: () => makeUnsafe()
})

/**
 * A Layer with a fresh set of pools, shared by everything it is provided to.
 *
 * @example
 * ```ts
 * import { Concurrency } from "toolgate"
 * const PoolsLive = Concurrency.layer({ reads: 8, tools: { Deploy: { concurrent: true, max: 2 } } })
 * ```
 *
 * @since 0.1.0
 */
export const layer = (settings: Partial<Settings> = {}): Layer.Layer<never> => Layer.effect(Concurrency, make(settings))
