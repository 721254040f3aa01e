/**
 * What a policy rule's specifier matches on a tool, declared on the tool
 * itself with an annotation (like effect/ai's `Tool.Readonly`).
 *
 * - A `Command` tool holds a shell command in one parameter: `Bash(git status)`
 *   is matched against every simple command in it.
 * - A `Path` tool holds a file path in one parameter: `Write(/etc/**)` is a
 *   glob over the normalized absolute path.
 * - A `Plain` tool matches a specifier against one named parameter, exact or
 *   glob; without a parameter only the bare tool name matches.
 *
 * @since 0.1.0
 */
import { Context, Data } from "effect"
import type { Tool } from "effect/ai"

/**
 * The kind of a tool, for policy matching.
 *
 * @example
 * ```ts
 * import { ToolKind } from "toolgate"
 * const k: ToolKind.ToolKind = ToolKind.ToolKind.Command({ param: "command" })
 * ```
 *
 * @since 0.1.0
 */
export type ToolKind = Data.TaggedEnum<{
  Command: { readonly param: string }
  Path: { readonly param: string }
  Plain: { readonly param?: string | undefined }
}>

/**
 * Constructors and matchers for {@link ToolKind}.
 *
 * @example
 * ```ts
 * import { ToolKind } from "toolgate"
 * ToolKind.ToolKind.Path({ param: "file_path" })
 * ```
 *
 * @since 0.1.0
 */
export const ToolKind = Data.taggedEnum<ToolKind>()

/**
 * The annotation holding a tool's kind; tools without it are `Plain` with no
 * parameter.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { ToolKind } from "toolgate"
 * declare const tool: import("effect/ai").Tool.Any
 * Context.get(tool.annotations, ToolKind.Annotation)._tag // "Plain" unless annotated
 * ```
 *
 * @since 0.1.0
 */
export const Annotation = Context.Reference<ToolKind>("toolgate/ToolKind", {
  defaultValue: () => ToolKind.Plain({})
})

/**
 * The kind of a tool.
 *
 * @example
 * ```ts
 * import { ToolKind } from "toolgate"
 * declare const tool: import("effect/ai").Tool.Any
 * ToolKind.of(tool)
 * ```
 *
 * @since 0.1.0
 */
export const of = (tool: Tool.Any): ToolKind => Context.get(tool.annotations, Annotation)

/**
 * Marks a tool as a command tool whose shell command is in `param`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Tool } from "effect/ai"
 * import { ToolKind } from "toolgate"
 * const Bash = ToolKind.command("command")(
 *   Tool.make("Bash", { parameters: Schema.Struct({ command: Schema.String }) })
 * )
 * ```
 *
 * @since 0.1.0
 */
export const command = (param: string) => <T extends Tool.Any>(tool: T): T =>
  tool.annotate(Annotation, ToolKind.Command({ param })) as T

/**
 * Marks a tool as a path tool whose file path is in `param`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Tool } from "effect/ai"
 * import { ToolKind } from "toolgate"
 * const Write = ToolKind.path("file_path")(
 *   Tool.make("Write", { parameters: Schema.Struct({ file_path: Schema.String, content: Schema.String }) })
 * )
 * ```
 *
 * @since 0.1.0
 */
export const path = (param: string) => <T extends Tool.Any>(tool: T): T =>
  tool.annotate(Annotation, ToolKind.Path({ param })) as T

/**
 * Marks a tool as plain, with specifiers matched against `param`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Tool } from "effect/ai"
 * import { ToolKind } from "toolgate"
 * const Fetch = ToolKind.plain("url")(
 *   Tool.make("Fetch", { parameters: Schema.Struct({ url: Schema.String }) })
 * )
 * ```
 *
 * @since 0.1.0
 */
export const plain = (param: string) => <T extends Tool.Any>(tool: T): T =>
  tool.annotate(Annotation, ToolKind.Plain({ param })) as T
