/**
 * What kind of tool a call targets, which decides how it is scheduled.
 *
 * A tool is `ReadOnly` when it carries effect/ai's `Tool.Readonly` annotation
 * and `Mutating` otherwise: a tool nobody vouched for is assumed to change the
 * world (fail safe). Tools that run a nested agent are marked `Recursive`; the
 * executor runs them in the per-level concurrent pool so that a parent holding
 * permits can never starve its own sub-agents.
 *
 * @since 0.1.0
 */
import { Context, Schema } from "effect"
import { Tool } from "effect/ai"

/**
 * `"ReadOnly"` tools only observe; `"Mutating"` tools may change the world.
 *
 * @example
 * ```ts
 * import { ToolClass } from "toolgate"
 * const c: ToolClass.ToolClass = "ReadOnly"
 * ```
 *
 * @since 0.1.0
 */
export const ToolClass = Schema.Literals(["ReadOnly", "Mutating"])

/** @since 0.1.0 */
export type ToolClass = typeof ToolClass.Type

/**
 * Reads the class of a tool from its `Tool.Readonly` annotation. A tool
 * without the annotation is `"Mutating"`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Tool } from "effect/ai"
 * import { ToolClass } from "toolgate"
 *
 * const Read = Tool.make("Read", { parameters: Schema.Struct({ path: Schema.String }) })
 *   .annotate(Tool.Readonly, true)
 * ToolClass.of(Read) // "ReadOnly"
 * ```
 *
 * @since 0.1.0
 */
export const of = (tool: Tool.Any): ToolClass =>
  Context.get(tool.annotations, Tool.Readonly) ? "ReadOnly" : "Mutating"

/**
 * Annotation marking a tool that runs a nested agent (or a nested
 * `Executor.executeBatch`). Read it with {@link isRecursive}, set it with
 * {@link recursive}.
 *
 * @example
 * ```ts
 * import { Context, Schema } from "effect"
 * import { ToolClass } from "toolgate"
 * declare const tool: import("effect/ai").Tool.Any
 * Context.get(tool.annotations, ToolClass.Recursive) // false unless marked
 * ```
 *
 * @since 0.1.0
 */
export const Recursive = Context.Reference<boolean>("toolgate/ToolClass/Recursive", {
  defaultValue: () => false
})

/**
 * Marks a tool as recursive: its handler runs a nested batch or agent. The
 * executor then routes it to the concurrent pool of its nesting level and
 * gives its handler freshly forked per-level pools.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Tool } from "effect/ai"
 * import { ToolClass } from "toolgate"
 *
 * const Task = ToolClass.recursive(
 *   Tool.make("Task", { parameters: Schema.Struct({ prompt: Schema.String }) })
 * )
 * ToolClass.isRecursive(Task) // true
 * ```
 *
 * @since 0.1.0
 */
export const recursive = <T extends Tool.Any>(tool: T): T => tool.annotate(Recursive, true) as T

/**
 * Whether a tool was marked with {@link recursive}.
 *
 * @example
 * ```ts
 * import { ToolClass } from "toolgate"
 * declare const tool: import("effect/ai").Tool.Any
 * if (ToolClass.isRecursive(tool)) console.log("runs a sub-agent")
 * ```
 *
 * @since 0.1.0
 */
export const isRecursive = (tool: Tool.Any): boolean => Context.get(tool.annotations, Recursive)
