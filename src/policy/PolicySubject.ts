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
 * - A `Url` tool fetches the URL in one parameter: `WebFetch(domain:example.com)`
 *   is matched against the URL's host.
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
 * import { PolicySubject } from "toolgate/policy"
 * const k: PolicySubject.PolicySubject = PolicySubject.PolicySubject.Command({ param: "command" })
 * ```
 *
 * @since 0.1.0
 */
export type PolicySubject = Data.TaggedEnum<{
  Command: { readonly param: string }
  Path: { readonly param: string }
  Plain: { readonly param?: string | undefined }
  Url: { readonly param: string }
}>

/**
 * Constructors and matchers for {@link PolicySubject}.
 *
 * @example
 * ```ts
 * import { PolicySubject } from "toolgate/policy"
 * PolicySubject.PolicySubject.Path({ param: "file_path" })
 * ```
 *
 * @since 0.1.0
 */
export const PolicySubject = Data.taggedEnum<PolicySubject>()

/**
 * The annotation holding a tool's kind; tools without it are `Plain` with no
 * parameter.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { PolicySubject } from "toolgate/policy"
 * declare const tool: import("effect/ai").Tool.Any
 * Context.get(tool.annotations, PolicySubject.Annotation)._tag // "Plain" unless annotated
 * ```
 *
 * @since 0.1.0
 */
export const Annotation = Context.Reference<PolicySubject>("toolgate/PolicySubject", {
  defaultValue: () => PolicySubject.Plain({})
})

/**
 * The kind of a tool.
 *
 * @example
 * ```ts
 * import { PolicySubject } from "toolgate/policy"
 * declare const tool: import("effect/ai").Tool.Any
 * PolicySubject.of(tool)
 * ```
 *
 * @since 0.1.0
 */
export const of = (tool: Tool.Any): PolicySubject => Context.get(tool.annotations, Annotation)

/**
 * Marks a tool as a command tool whose shell command is in `param`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Tool } from "effect/ai"
 * import { PolicySubject } from "toolgate/policy"
 * const Bash = PolicySubject.command("command")(
 *   Tool.make("Bash", { parameters: Schema.Struct({ command: Schema.String }) })
 * )
 * ```
 *
 * @since 0.1.0
 */
export const command = (param: string) => <T extends Tool.Any>(tool: T): T =>
  tool.annotate(Annotation, PolicySubject.Command({ param })) as T

/**
 * Marks a tool as a path tool whose file path is in `param`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Tool } from "effect/ai"
 * import { PolicySubject } from "toolgate/policy"
 * const Write = PolicySubject.path("file_path")(
 *   Tool.make("Write", { parameters: Schema.Struct({ file_path: Schema.String, content: Schema.String }) })
 * )
 * ```
 *
 * @since 0.1.0
 */
export const path = (param: string) => <T extends Tool.Any>(tool: T): T =>
  tool.annotate(Annotation, PolicySubject.Path({ param })) as T

/**
 * Marks a tool as plain, with specifiers matched against `param`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Tool } from "effect/ai"
 * import { PolicySubject } from "toolgate/policy"
 * const Fetch = PolicySubject.plain("url")(
 *   Tool.make("Fetch", { parameters: Schema.Struct({ url: Schema.String }) })
 * )
 * ```
 *
 * @since 0.1.0
 */
export const plain = (param: string) => <T extends Tool.Any>(tool: T): T =>
  tool.annotate(Annotation, PolicySubject.Plain({ param })) as T

/**
 * Marks a tool as one that fetches the http(s) URL in `param`: rules name the
 * host, `Fetch(domain:example.com)`, `Fetch(domain:*.example.com)` or
 * `Fetch(domain:*)`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Tool } from "effect/ai"
 * import { PolicySubject } from "toolgate/policy"
 * const Fetch = PolicySubject.url("url")(
 *   Tool.make("Fetch", { parameters: Schema.Struct({ url: Schema.String }) })
 * )
 * ```
 *
 * @since 0.4.0
 */
export const url = (param: string) => <T extends Tool.Any>(tool: T): T =>
  tool.annotate(Annotation, PolicySubject.Url({ param })) as T

/**
 * The kinds of the standard agent tools, named and shaped as in Claude Code:
 * `Bash` (command in `command`), `Read`, `Write`, `Edit` (path in
 * `file_path`), `Glob` and `Grep` (path in `path`), `WebFetch` (URL in `url`). Used when a call names
 * a tool the toolkit does not describe, and by `toolgate check`.
 *
 * @example
 * ```ts
 * import { PolicySubject } from "toolgate/policy"
 * PolicySubject.standard["Bash"] // PolicySubject.Command({ param: "command" })
 * ```
 *
 * @since 0.1.0
 */
export const standard: Readonly<Record<string, PolicySubject>> = {
  Bash: PolicySubject.Command({ param: "command" }),
  Read: PolicySubject.Path({ param: "file_path" }),
  Write: PolicySubject.Path({ param: "file_path" }),
  Edit: PolicySubject.Path({ param: "file_path" }),
  MultiEdit: PolicySubject.Path({ param: "file_path" }),
  NotebookEdit: PolicySubject.Path({ param: "notebook_path" }),
  Glob: PolicySubject.Path({ param: "path" }),
  Grep: PolicySubject.Path({ param: "path" }),
  LS: PolicySubject.Path({ param: "path" }),
  WebFetch: PolicySubject.Url({ param: "url" })
}

/**
 * The standard tools that only read. Used when no tool (and so no
 * `Tool.Readonly` annotation) is at hand, e.g. in `toolgate check`.
 *
 * @example
 * ```ts
 * import { PolicySubject } from "toolgate/policy"
 * PolicySubject.standardReadOnly.has("Grep") // true
 * ```
 *
 * @since 0.1.0
 */
export const standardReadOnly: ReadonlySet<string> = new Set(["Read", "Glob", "Grep"])

/**
 * The kind of the tool a call names: the tool's own annotation when it has
 * one, else the standard kind for that exact name (so an unannotated `Bash`
 * tool is still matched as a shell), else `Plain` with no parameter. Names
 * are compared exactly: `bash` or a look-alike `Bаsh` is not `Bash`.
 *
 * @example
 * ```ts
 * import { PolicySubject } from "toolgate/policy"
 * PolicySubject.resolve("Write", undefined)._tag // "Path"
 * ```
 *
 * @since 0.1.0
 */
export const resolve = (name: string, tool: Tool.Any | undefined): PolicySubject => {
  // A Reference always has a value (its default), so ask the map whether
  // the tool set one.
  if (tool !== undefined && tool.annotations.mapUnsafe.has(Annotation.key)) return of(tool)
  return Object.hasOwn(standard, name) ? standard[name]! : PolicySubject.Plain({})
}

/**
 * The structured identity of an MCP tool: the server it comes from and its
 * name there. Policy rules name MCP tools as `mcp__SERVER` (every tool of a
 * server), `mcp__SERVER__*` or `mcp__SERVER__TOOL`, and are matched on this
 * identity, so a server called `a__b` cannot pass for server `a`.
 *
 * @example
 * ```ts
 * import type { PolicySubject } from "toolgate/policy"
 * const id: PolicySubject.McpIdentity = { server: "github", tool: "list_issues" }
 * ```
 *
 * @since 0.2.0
 */
export interface McpIdentity {
  readonly server: string
  readonly tool: string
}

/**
 * The annotation holding an MCP tool's identity, set by whoever bridges the
 * MCP server (the identity then does not depend on how the name is spelt).
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { PolicySubject } from "toolgate/policy"
 * declare const tool: import("effect/ai").Tool.Any
 * Context.get(tool.annotations, PolicySubject.McpTool) // undefined unless annotated
 * ```
 *
 * @since 0.2.0
 */
export const McpTool = Context.Reference<McpIdentity | undefined>("toolgate/PolicySubject/McpTool", {
  defaultValue: () => undefined
})

/**
 * Marks a tool as tool `tool` of MCP server `server`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Tool } from "effect/ai"
 * import { PolicySubject } from "toolgate/policy"
 * const ListIssues = PolicySubject.mcp("github", "list_issues")(
 *   Tool.make("mcp__github__list_issues", { parameters: Schema.Struct({}) })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const mcp = (server: string, tool: string) => <T extends Tool.Any>(t: T): T =>
  t.annotate(McpTool, { server, tool }) as T

/**
 * Marks a search tool (Grep, Glob, LS) that skips the files `Read` deny and
 * ask rules guard and says so in its result (toolgate's built-in Grep and
 * Glob do). A search around a denied file is then judged by the directory
 * searched alone: `Read(~/.aws/credentials)` denies searching `~/.aws`
 * itself or a file in it by name, not searching `~`. Unmarked search tools
 * (Claude Code's, whose results would include the file) meet the rule
 * wherever the search reaches it.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { PolicySubject } from "toolgate/policy"
 * declare const tool: import("effect/ai").Tool.Any
 * Context.get(tool.annotations, PolicySubject.FiltersDenied) // false unless marked
 * ```
 *
 * @since 0.3.0
 */
export const FiltersDenied = Context.Reference<boolean>("toolgate/PolicySubject/FiltersDenied", {
  defaultValue: () => false
})

/**
 * Marks a tool as one that filters what `Read` rules guard out of its results (see {@link FiltersDenied}).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Tool } from "effect/ai"
 * import { PolicySubject } from "toolgate/policy"
 * const Grep = PolicySubject.filtersDenied(Tool.make("Grep", { parameters: Schema.Struct({ pattern: Schema.String }) }))
 * ```
 *
 * @since 0.3.0
 */
export const filtersDenied = <T extends Tool.Any>(t: T): T => t.annotate(FiltersDenied, true) as T

/**
 * The MCP identity of a call: the tool's annotation when it has one, else
 * what the name spells — `mcp__SERVER__TOOL`, where the server is everything
 * up to the first `__` (server names never contain `__`; tool names may).
 * `undefined` for a tool that is not an MCP tool.
 *
 * @example
 * ```ts
 * import { PolicySubject } from "toolgate/policy"
 * PolicySubject.mcpIdentity("mcp__github__list_issues", undefined) // => { server: "github", tool: "list_issues" }
 * PolicySubject.mcpIdentity("Read", undefined) // => undefined
 * ```
 *
 * @since 0.2.0
 */
export const mcpIdentity = (name: string, tool: Tool.Any | undefined): McpIdentity | undefined => {
  if (tool !== undefined) {
    const annotated = Context.get(tool.annotations, McpTool)
    if (annotated !== undefined) return annotated
  }
  if (!name.startsWith("mcp__")) return undefined
  const rest = name.slice(5)
  const sep = rest.indexOf("__")
  if (sep <= 0 || sep + 2 >= rest.length) return undefined
  return { server: rest.slice(0, sep), tool: rest.slice(sep + 2) }
}
