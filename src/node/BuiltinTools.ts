/**
 * The standard agent tools — `Read`, `Glob`, `Grep`, `Write`, `Edit`, `Bash`
 * — as effect/ai tools, named and shaped as users know them from Claude Code
 * and annotated for the gate: the three readers are `Tool.Readonly` (so they
 * run side by side), and each carries the `PolicySubject` the policy rules match
 * on (`Bash(git status)`, `Write(/etc/**)`).
 *
 * Rules decide what may run; confinement decides what a running call can
 * reach. Every file path is confined to a workspace root by the descriptor
 * actually opened, so neither `../`, an absolute path, a link, nor a link
 * swapped in mid-call leads out. `Bash` runs in a bubblewrap sandbox where
 * there is one; where there is none, {@link guard} makes every command asked
 * and an unguarded policy makes `Bash` refuse to run, unless the user opts
 * out (`sandbox: "none"`). Each tool lives in its own module under
 * `internal/tools/`; this one declares the public surface.
 *
 * @since 0.1.0
 */
import { Context, Data, Duration, Effect, Layer } from "effect"
import { Toolkit } from "effect/ai"
import { ChildProcessSpawner } from "effect/process"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as ToolPolicy from "../ToolPolicy.ts"
import * as Credentials from "./internal/credentials.ts"
import * as DomainProxy from "./internal/domainProxy.ts"
import * as Sandbox from "./internal/sandbox.ts"
import * as BashTool from "./internal/tools/Bash.ts"
import * as EditTool from "./internal/tools/Edit.ts"
import { SandboxUnavailable, WorkspaceUnavailable } from "./internal/tools/errors.ts"
import * as GlobTool from "./internal/tools/Glob.ts"
import * as GrepTool from "./internal/tools/Grep.ts"
import * as ReadTool from "./internal/tools/Read.ts"
import * as WriteTool from "./internal/tools/Write.ts"
import * as Workspace from "./internal/workspace.ts"

// -----------------------------------------------------------------------------
// Failures
// -----------------------------------------------------------------------------

export {
  /** @since 0.1.0 */
  CommandTimedOut,
  /** @since 0.1.0 */
  EditFailed,
  /** @since 0.1.0 */
  FileNotFound,
  /** @since 0.1.0 */
  InvalidPattern,
  /** @since 0.1.0 */
  IoFailure,
  /** @since 0.1.0 */
  NotReadable,
  /** @since 0.2.0 */
  NotWritable,
  /** @since 0.1.0 */
  OutsideWorkspace,
  /** @since 0.2.0 */
  SandboxUnavailable,
  /** @since 0.2.0 */
  SearchTimedOut,
  /** @since 0.2.0 */
  WorkspaceUnavailable
} from "./internal/tools/errors.ts"

// -----------------------------------------------------------------------------
// Tools
// -----------------------------------------------------------------------------

/**
 * Reads a text file, as numbered lines (`cat -n` style): `offset` is the
 * first line (1-based), `limit` the number of lines (2000 by default).
 * Read-only.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * const call = { id: "1", name: "Read", params: { file_path: "src/index.ts", offset: 10, limit: 20 } }
 * BuiltinTools.Read.name // "Read"
 * ```
 *
 * @since 0.1.0
 */
export const Read = ReadTool.Read

/**
 * Lists the files matching a glob pattern (`**\/*.ts`, `src/*.{js,json}`)
 * under `path` (the root by default), as workspace-relative paths in name
 * order. Dot files match only when the pattern names them; `node_modules`,
 * `.git` and what `.gitignore` files exclude are skipped. Read-only.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * const call = { id: "1", name: "Glob", params: { pattern: "**\/*.test.ts", path: "test" } }
 * BuiltinTools.Glob.name // "Glob"
 * ```
 *
 * @since 0.1.0
 */
export const Glob = GlobTool.Glob

/**
 * Searches file contents with a JavaScript regular expression, line by line,
 * under `path` (a directory or one file; the root by default), optionally
 * only in files matching `glob` (`*.ts` matches at any depth). Binary and
 * very large files are skipped, as are `node_modules`, `.git` and git-ignored
 * files; matches are capped. The matching runs in a worker thread with a
 * deadline (`grep.timeout`): a catastrophic pattern ends in `SearchTimedOut`,
 * never in a blocked process. Read-only.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * const call = { id: "1", name: "Grep", params: { pattern: "TODO|FIXME", glob: "*.ts" } }
 * BuiltinTools.Grep.name // "Grep"
 * ```
 *
 * @since 0.1.0
 */
export const Grep = GrepTool.Grep

/**
 * Writes a file, replacing it if it exists and creating missing parent
 * directories. A file with more than one hard link is refused
 * (`NotWritable`). Mutating.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * const call = { id: "1", name: "Write", params: { file_path: "notes/todo.md", content: "- ship it\n" } }
 * BuiltinTools.Write.name // "Write"
 * ```
 *
 * @since 0.1.0
 */
export const Write = WriteTool.Write

/**
 * Replaces `old_string` with `new_string` in a file. `old_string` must occur
 * exactly once unless `replace_all` is set; otherwise nothing is written and
 * the failure says how often it occurs. Mutating.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * const call = {
 *   id: "1",
 *   name: "Edit",
 *   params: { file_path: "src/a.ts", old_string: "let x = 1", new_string: "const x = 1" }
 * }
 * BuiltinTools.Edit.name // "Edit"
 * ```
 *
 * @since 0.1.0
 */
export const Edit = EditTool.Edit

/**
 * Runs a command with `bash -c` in the workspace root. A non-zero exit is a
 * *success* carrying `exitCode`, `stdout` and `stderr` (the model reads a
 * failing test run like any other output); only a timeout is a failure. The
 * whole process tree is killed on timeout or interruption, and each output
 * stream is cut at a byte limit with a marker. On Linux the command runs in
 * a bubblewrap sandbox (see {@link Options}); its environment is an
 * allowlist, never the host's. Mutating.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * const call = { id: "1", name: "Bash", params: { command: "npm test", timeout: 60000 } }
 * BuiltinTools.Bash.name // "Bash"
 * ```
 *
 * @since 0.1.0
 */
export const Bash = BashTool.Bash

/**
 * The six built-in tools as one effect/ai toolkit; merge it with your own
 * tools with `Toolkit.merge`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NodeServices } from "@effect/platform-node"
 * import { BuiltinTools } from "toolgate/node"
 * import { Executor } from "toolgate"
 * const results = Executor.executeBatch(BuiltinTools.toolkit, [
 *   { id: "1", name: "Read", params: { file_path: "README.md" } }
 * ]).pipe(
 *   Effect.provide(BuiltinTools.layer({ root: process.cwd() })),
 *   Effect.provide(NodeServices.layer)
 * )
 * ```
 *
 * @since 0.1.0
 */
export const toolkit = Toolkit.make(Read, Glob, Grep, Write, Edit, Bash)

// -----------------------------------------------------------------------------
// Confinement
// -----------------------------------------------------------------------------

/**
 * What confines `Bash` in a layer: the sandbox it runs in, or why there is
 * none and whether the user chose that (`optedOut`). `toolgate run` prints it
 * in its header.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * const c = BuiltinTools.BashConfinement.Sandboxed({ sandbox: "bubblewrap", network: "none" })
 * BuiltinTools.describeConfinement(c) // => "sandboxed (bubblewrap: workspace writable, rest read-only, no network)"
 * ```
 *
 * @since 0.2.0
 */
export type BashConfinement = Data.TaggedEnum<{
  Sandboxed: {
    readonly sandbox: "bubblewrap"
    readonly network: Sandbox.Network
    /** Host names reachable through the proxy when `network` is `"none"`. */
    readonly allowDomains?: ReadonlyArray<string> | undefined
  }
  Unsandboxed: { readonly reason: string; readonly optedOut: boolean }
}>

/**
 * Constructors and matchers for {@link BashConfinement}.
 *
 * @since 0.2.0
 */
export const BashConfinement = Data.taggedEnum<BashConfinement>()

/**
 * One line for a header or a log: how `Bash` is confined.
 *
 * @example
 * ```ts
 * import { BuiltinTools } from "toolgate/node"
 * BuiltinTools.describeConfinement(BuiltinTools.BashConfinement.Unsandboxed({ reason: "no bwrap", optedOut: true }))
 * // => "NOT sandboxed (--no-sandbox / sandbox: \"none\"): commands reach what you can reach"
 * ```
 *
 * @since 0.2.0
 */
export const describeConfinement = (confinement: BashConfinement): string =>
  BashConfinement.$match(confinement, {
    Sandboxed: ({ allowDomains, network }) =>
      `sandboxed (bubblewrap: workspace writable, rest read-only, ${
        network === "all"
          ? "network allowed"
          : allowDomains !== undefined && allowDomains.length > 0
          ? `no network but HTTP(S) to ${allowDomains.join(", ")} through a proxy`
          : "no network"
      })`,
    Unsandboxed: ({ optedOut, reason }) =>
      optedOut
        ? `NOT sandboxed (--no-sandbox / sandbox: "none"): commands reach what you can reach`
        : `NOT sandboxed (${reason}): every command is asked`
  })

/**
 * The confinement of the `Bash` tool in the current {@link layer}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { BuiltinTools } from "toolgate/node"
 * const line = Effect.map(Effect.service(BuiltinTools.Confinement), BuiltinTools.describeConfinement)
 * ```
 *
 * @since 0.2.0
 */
export class Confinement extends Context.Service<Confinement, BashConfinement>()("toolgate/node/BuiltinTools/Confinement") {}

/**
 * Makes a policy safe for an unsandboxed `Bash`: when `confinement` is
 * `Unsandboxed` and the user did not opt out, a `Bash` call the policy would
 * allow is asked instead (or denied with `unsandboxed: "deny"`, for runs with
 * no human to ask), so no rule can pre-approve a command that nothing
 * confines. Deny and ask verdicts pass unchanged; other tools too. With a
 * sandbox, or after an opt-out, the policy is returned as it is.
 *
 * **Gotchas**: the {@link layer}'s `Bash` refuses to run unconfined under a
 * policy that was not guarded this way, so an application that forgets the
 * guard fails closed, with a message naming this function.
 *
 * @example
 * ```ts
 * import { ToolPolicy } from "toolgate"
 * import { BuiltinTools } from "toolgate/node"
 * const confinement = BuiltinTools.BashConfinement.Unsandboxed({ reason: "no bwrap", optedOut: false })
 * const policy = BuiltinTools.guard(ToolPolicy.allowAll, confinement)
 * // every Bash call is now asked; Read, Write... stay allowed
 * ```
 *
 * @since 0.2.0
 */
export const guard = (
  policy: ToolPolicy.ToolPolicy,
  confinement: BashConfinement,
  options?: { readonly unsandboxed?: "ask" | "deny" }
): ToolPolicy.ToolPolicy => {
  if (confinement._tag === "Sandboxed" || confinement.optedOut) return policy
  const reason = `Bash is not sandboxed here (${confinement.reason}), so every command needs a human`
  // the verdict is the engine's, not the allow rule's: the rule allowed, the missing sandbox asks
  const notSandboxed: ToolPolicy.Match = { _tag: "Fact", fact: "not sandboxed" }
  return BashTool.markGuarded({
    decide: (request) =>
      Effect.map(policy.decide(request), (verdict) =>
        request.call.name !== Bash.name || verdict._tag !== "Allow"
          ? verdict
          : options?.unsandboxed === "deny"
          ? ToolPolicy.Verdict.Deny({
            reason: `${reason} and there is none to ask; install bubblewrap or pass --no-sandbox`,
            match: notSandboxed
          })
          : ToolPolicy.Verdict.Ask({ reason, match: notSandboxed }))
  })
}

/**
 * {@link guard} as a layer: wraps the policy `policyLayer` provides with the
 * {@link Confinement} in context.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { NodeServices } from "@effect/platform-node"
 * import { ToolPolicy } from "toolgate"
 * import { BuiltinTools } from "toolgate/node"
 * const tools = BuiltinTools.layer({ root: process.cwd() })
 * const live = BuiltinTools.guardLayer(ToolPolicy.layer(ToolPolicy.allowAll)).pipe(
 *   Layer.provideMerge(tools),
 *   Layer.provide(NodeServices.layer)
 * )
 * ```
 *
 * @since 0.2.0
 */
export const guardLayer = <E, R>(
  policyLayer: Layer.Layer<never, E, R>,
  options?: { readonly unsandboxed?: "ask" | "deny" }
): Layer.Layer<never, E, R | Confinement> =>
  Layer.effect(
    ToolPolicy.ToolPolicy,
    Effect.gen(function*() {
      const policy = yield* ToolPolicy.ToolPolicy
      return guard(policy, yield* Confinement, options)
    })
  ).pipe(Layer.provide(policyLayer))

// -----------------------------------------------------------------------------
// Handlers
// -----------------------------------------------------------------------------

/**
 * Options of {@link layer}.
 *
 * - `root`: the workspace every path is confined to and where `Bash` runs;
 *   it must exist.
 * - `bash.timeout`: the longest a command may run (and the default when a
 *   call gives none; 2 minutes). `bash.maxOutputBytes` bounds each of stdout
 *   and stderr (30,000 bytes).
 * - `bash.sandbox`: `"auto"` (the default) runs commands in bubblewrap when
 *   it works here, else unconfined but only under a {@link guard}ed policy;
 *   `"required"` fails the layer with `SandboxUnavailable` when there is no
 *   sandbox; `"none"` is the explicit opt-out: unconfined, unguarded.
 * - `bash.network`: `"none"` (default) or `"all"`.
 * - `bash.allowDomains`: with `network: "none"`, host names commands may
 *   reach over HTTP(S) through a filtering proxy on the host
 *   (`registry.npmjs.org`, `*.example.com` for subdomains); the command's
 *   `HTTP_PROXY`/`HTTPS_PROXY` name it, and nothing else is reachable.
 *   Needs `nsenter` (util-linux). See docs/sandbox.md.
 * - `bash.env`: names of host variables to pass in, on top of `PATH`,
 *   `LANG`, `LC_*`, `TERM`, `TZ` (nothing else of the host's environment
 *   reaches a command: no API keys, tokens or database URLs).
 * - `bash.readOnly`: paths (workspace-relative or absolute) the sandbox
 *   keeps read-only, in addition to the whole `.git` (and its `gitdir:`,
 *   `commondir` and `core.hooksPath` targets), `.claude`, `.toolgate`,
 *   `.husky` and `.mcp.json` (what would run code or change rules outside
 *   the sandbox later); only paths that exist when the layer is built. Their
 *   parent directories cannot be renamed or removed. See docs/sandbox.md.
 * - `bash.bwrap`: the bubblewrap program (default: `bwrap` on `PATH`).
 * - `bash.limits`: per-process resource limits of a sandboxed command
 *   (`processes`, `memoryBytes`, `fileSizeBytes`, `openFiles`, `cpuSeconds`),
 *   the size of its private `/tmp` (`tmpBytes`) and the memory of the whole
 *   call where a cgroup can be made (`callMemoryBytes`); each defaults to
 *   `Sandbox.defaultLimits` (256 processes, 2 GiB, 1 GiB, 1024, 600 s,
 *   512 MiB, 4 GiB).
 * - `bash.allowUnixSockets`: let commands create Unix sockets (default
 *   false: the seccomp filter refuses them, so no host service listening on
 *   a visible socket path or an abstract name can be reached).
 * - `bash.runAs`: when toolgate runs as root, the host user commands run as
 *   (`"auto"`, the default: uid and gid 61000, given the workspace with an
 *   ACL; or `{ uid, gid }`); `"self"` keeps root, which only the read-only
 *   kernel mounts and the seccomp filter then separate from host root.
 * - `grep.timeout`: the deadline of one `Grep` call (10 seconds; a search that needs longer should narrow `path` or `glob`).
 *
 * @example
 * ```ts
 * import type { BuiltinTools } from "toolgate/node"
 * const options: BuiltinTools.Options = {
 *   root: "/srv/project",
 *   bash: { timeout: "10 minutes", network: "all", env: ["NPM_TOKEN"] }
 * }
 * ```
 *
 * @since 0.1.0
 */
export interface Options {
  readonly root: string
  readonly bash?: {
    readonly timeout?: Duration.Input | undefined
    readonly maxOutputBytes?: number | undefined
    readonly sandbox?: "auto" | "required" | "none" | undefined
    readonly network?: "none" | "all" | undefined
    readonly allowDomains?: ReadonlyArray<string> | undefined
    readonly env?: ReadonlyArray<string> | undefined
    readonly readOnly?: ReadonlyArray<string> | undefined
    readonly bwrap?: string | undefined
    readonly limits?: Partial<Sandbox.Limits> | undefined
    readonly allowUnixSockets?: boolean | undefined
    readonly runAs?: "auto" | "self" | { readonly uid: number; readonly gid: number } | undefined
  } | undefined
  readonly grep?: {
    readonly timeout?: Duration.Input | undefined
  } | undefined
}

/** The host user the sandbox runs as, from `bash.runAs`: none unless toolgate is root. */
const sandboxUser = (options: Options) => {
  const runAs = options.bash?.runAs ?? "auto"
  if (runAs === "self" || process.getuid?.() !== 0) return undefined
  return runAs === "auto" ? Sandbox.defaultSandboxUser : runAs
}

/**
 * How `Bash` would be confined with `options`, trying the sandbox once.
 * {@link layer} does this itself; call it to show the user beforehand.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { BuiltinTools } from "toolgate/node"
 * const line = BuiltinTools.detect({ root: process.cwd() }).pipe(Effect.map(BuiltinTools.describeConfinement))
 * ```
 *
 * @since 0.2.0
 */
export const detect = (options: Options): Effect.Effect<BashConfinement> =>
  Effect.map(
    // Detection never starts the bridge: any socket name does to check nsenter.
    detectSandbox(options, NodePath.resolve(options.root), allowDomainsOf(options).length > 0 ? "/nonexistent" : undefined),
    ({ confinement }) => confinement
  )

const allowDomainsOf = (options: Options) => options.bash?.network === "all" ? [] : options.bash?.allowDomains ?? []

const detectSandbox = (options: Options, realRoot: string, proxySocket: string | undefined) =>
  Effect.gen(function*() {
    const network = options.bash?.network ?? "none"
    if (options.bash?.sandbox === "none") {
      return {
        confinement: BashConfinement.Unsandboxed({ reason: "sandbox turned off", optedOut: true }),
        sandbox: undefined
      }
    }
    const readOnly = [
      ...Sandbox.gitProtected(realRoot),
      ...Credentials.protectedInWorkspace.filter((rel) => rel !== ".git"),
      ...options.bash?.readOnly ?? []
    ].map((rel) => NodePath.resolve(realRoot, rel))
    const detected = yield* Sandbox.detect({
      root: realRoot,
      network,
      readOnly,
      absent: [".git", ".claude"].map((rel) => NodePath.join(realRoot, rel)),
      allowUnixSockets: options.bash?.allowUnixSockets ?? false,
      proxySocket,
      limits: { ...Sandbox.defaultLimits, ...options.bash?.limits },
      runAs: sandboxUser(options)
    }, options.bash?.bwrap)
    return detected._tag === "Available"
      ? {
        confinement: BashConfinement.Sandboxed({
          sandbox: "bubblewrap",
          network,
          ...(proxySocket === undefined ? {} : { allowDomains: allowDomainsOf(options) })
        }),
        sandbox: detected.sandbox
      }
      : { confinement: BashConfinement.Unsandboxed({ reason: detected.reason, optedOut: false }), sandbox: undefined }
  })

/**
 * The handlers of {@link toolkit}, confined to `options.root`, and the
 * {@link Confinement} of `Bash`. Fails to build with `WorkspaceUnavailable`
 * when the root is not an existing directory, or with `SandboxUnavailable`
 * when `bash.sandbox` is `"required"` and there is no sandbox.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { NodeServices } from "@effect/platform-node"
 * import { BuiltinTools } from "toolgate/node"
 * const ToolsLive = BuiltinTools.layer({ root: "/srv/project", bash: { timeout: "1 minute" } }).pipe(
 *   Layer.provide(NodeServices.layer)
 * )
 * ```
 *
 * @since 0.1.0
 */
export const layer = (options: Options) =>
  Layer.unwrap(Effect.gen(function*() {
    const workspace = yield* Workspace.make(options.root).pipe(
      Effect.mapError((error) =>
        new WorkspaceUnavailable({
          root: options.root,
          message: `the workspace ${options.root} cannot be used (${error.message}); give an existing directory as root`
        })
      )
    )
    // A mistyped limit must not turn into no limit.
    for (const [name, value] of Object.entries(options.bash?.limits ?? {})) {
      if (!(name in Sandbox.defaultLimits) || !Number.isSafeInteger(value) || (value as number) <= 0) {
        return yield* new SandboxUnavailable({
          reason: `bash.limits.${name}`,
          message: `bash.limits.${name} must be one of ${Object.keys(Sandbox.defaultLimits).join(", ")} ` +
            `and a positive integer; got ${JSON.stringify(value)}`
        })
      }
    }
    const allowDomains = allowDomainsOf(options)
    // A list that cannot take effect is a configuration mistake, said
    // loudly: with no sandbox, or with the whole network, every host is
    // reachable and the list would only look like a limit.
    if ((options.bash?.allowDomains ?? []).length > 0 && (options.bash?.sandbox === "none" || options.bash?.network === "all")) {
      return yield* new SandboxUnavailable({
        reason: "bash.allowDomains",
        message: `bash.allowDomains limits the sandbox's network; with ${
          options.bash?.sandbox === "none" ? "sandbox: \"none\"" : "network: \"all\""
        } commands reach every host anyway`
      })
    }
    const invalid = allowDomains.find((domain) => !DomainProxy.isDomain(domain))
    if (invalid !== undefined) {
      return yield* new SandboxUnavailable({
        reason: "bash.allowDomains",
        message: `bash.allowDomains: ${JSON.stringify(invalid)} is not a host name; give names like registry.npmjs.org ` +
          `or *.example.com, without scheme, port or path`
      })
    }
    // The proxy lives as long as the layer; each call bridges to it.
    const proxy = allowDomains.length > 0 && options.bash?.sandbox !== "none"
      ? yield* DomainProxy.make(allowDomains)
      : undefined
    const { confinement, sandbox } = yield* detectSandbox(options, workspace.real, proxy?.socket)
    if (options.bash?.sandbox === "required" && sandbox === undefined) {
      const reason = confinement._tag === "Unsandboxed" ? confinement.reason : ""
      return yield* new SandboxUnavailable({
        reason,
        message: `Bash must run sandboxed (sandbox: "required") but cannot: ${reason}`
      })
    }
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    const handlers = toolkit.of({
      Read: ReadTool.handler(workspace),
      Glob: GlobTool.handler(workspace),
      Grep: GrepTool.handler(workspace, Duration.fromInputUnsafe(options.grep?.timeout ?? "10 seconds")),
      Write: WriteTool.handler(workspace),
      Edit: EditTool.handler(workspace),
      Bash: BashTool.handler({
        root: workspace.real,
        timeout: Duration.fromInputUnsafe(options.bash?.timeout ?? "2 minutes"),
        maxOutputBytes: options.bash?.maxOutputBytes ?? 30_000,
        // In the sandbox the real home is an empty private tmpfs; outside it
        // there is nothing private to offer, so the home stays the user's.
        env: {
          ...Sandbox.environment(process.env, options.bash?.env ?? [], NodeOs.homedir()),
          ...(sandbox?.bridge === undefined ? {} : DomainProxy.environment())
        },
        sandbox,
        unsandboxed: confinement._tag === "Unsandboxed" && !confinement.optedOut ? confinement.reason : undefined,
        spawner
      })
    })
    return Layer.merge(toolkit.toLayer(handlers), Layer.succeed(Confinement, confinement))
  }))
