/**
 * `toolgate run`: the agent with the built-in tools, the policy and the
 * terminal approver, end to end. With an API key in the environment it talks
 * to that provider; without one (or with `--scenario` / `--demo`) it replays
 * a scenario on the scripted model, by default the bundled demo in a fresh
 * temporary workspace, so the demo shows real approvals of real file writes
 * and a real shell command with nothing to configure.
 *
 * Never unattended on real files: with no terminal attached, calls the
 * policy asks about are approved only in the demo's own temporary workspace;
 * on a real directory (`--root`) or with a real model they are denied
 * unless `--yes` is given. The header says which, and the exit status says
 * how the run ended (see {@link exitCodes}).
 *
 * @since 0.1.0
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Cause, Console, Effect, FileSystem, Layer, Option, Semaphore, Stdio, Stream, Terminal } from "effect"
import type { AiError, Tool } from "effect/ai"
import { Argument, Command, Flag } from "effect/cli"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import * as Agent from "../Agent.ts"
import * as Approval from "../Approval.ts"
import * as Executor from "../Executor.ts"
import * as AuditLog from "../node/AuditLog.ts"
import * as BuiltinTools from "../node/BuiltinTools.ts"
import * as DomainProxy from "../node/internal/domainProxy.ts"
import * as Providers from "../node/Providers.ts"
import * as TerminalApproval from "../node/TerminalApproval.ts"
import * as Tracing from "../node/Tracing.ts"
import * as PolicyFile from "../policy/PolicyFile.ts"
import * as PolicyRules from "../policy/PolicyRules.ts"
import * as ScriptedModel from "../testing/ScriptedModel.ts"
import * as ToolEvents from "../ToolEvents.ts"
import * as ToolPolicy from "../ToolPolicy.ts"
import type { DecidedBy } from "../ToolResult.ts"
import { Exit } from "./check.ts"
import { otlpFlag, portFlag, startConsole, traceParamsFlag } from "./console.ts"
import * as Environment from "./environment.ts"
import { environment, modeFlag } from "./options.ts"

/**
 * How `toolgate run` ends, as its exit status.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | completed: the model answered without calling a tool |
 * | 3 | stopped by the approver (`s`, or Ctrl-C at a prompt) |
 * | 4 | stopped after the same call was denied repeatedly |
 * | 5 | the model was still calling tools at `--max-turns` |
 * | 64 | bad input: flags, policy, scenario, audit path; nothing ran |
 * | 69 | the model provider failed (after retries, or timed out) |
 * | 130 | interrupted (Ctrl-C while no prompt was shown) |
 *
 * @example
 * ```ts
 * import { exitCodes } from "../src/cli/run.ts"
 * exitCodes.ProviderFailed // 69
 * ```
 *
 * @since 0.1.0
 */
export const exitCodes = {
  Completed: 0,
  StoppedByApprover: 3,
  RepeatedDenial: 4,
  MaxTurns: 5,
  BadInput: 64,
  ProviderFailed: 69,
  Interrupted: 130
} as const

// The package root, from src/cli (run from source) or dist/cli (installed).
const packageRoot = fileURLToPath(new URL("../../", import.meta.url))
const bundled = {
  scenario: NodePath.join(packageRoot, "scenarios", "demo.json"),
  policy: NodePath.join(packageRoot, "policies", "default.json")
}

const demoReadme = `# A workspace for the toolgate demo

This directory was made for one run of \`toolgate run\` and is deleted after it.
The scripted model reads this file, writes a summary next to it, and lists the
directory with the shell; every call passes the policy and your approval.
`

/**
 * The system prompt a real model gets unless `--system` replaces it: where
 * it works and how the gate treats its calls.
 *
 * @example
 * ```ts
 * import { defaultSystemPrompt } from "../src/cli/run.ts"
 * defaultSystemPrompt("/work/app").includes("/work/app") // true
 * ```
 *
 * @since 0.1.0
 */
export const defaultSystemPrompt = (root: string): string =>
  `You are a coding agent working in the directory ${root} (the workspace). ` +
  `Your tools (Read, Glob, Grep, Write, Edit, Bash) are confined to it: use paths inside it, relative or absolute.\n\n` +
  `Every tool call passes a gate before it runs. A policy allows, asks about or denies each call, and a human ` +
  `approves the calls the policy asks about. A denied call comes back as a result explaining why: do not repeat ` +
  `it, and do not try to reach the same effect another way (for example a shell command instead of a denied ` +
  `Write); take the reason into account, or ask the user. Unknown tools and invalid params also come back as ` +
  `results; fix the call. Prefer Read, Glob and Grep to Bash for reading, and small, reviewable Write and Edit ` +
  `calls. When you are done, answer without calling a tool.`

const bad = (message: string) =>
  Effect.flatMap(Console.error(`toolgate run: ${message}`), () => Effect.fail(new Exit({ code: exitCodes.BadInput })))

const oneLine = (value: unknown, max = 100): string => {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value)
  const flat = TerminalApproval.escape(text.replace(/\s*\n\s*/g, " ⏎ ").replace(/\t/g, " "))
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

const byWhom: Record<DecidedBy, string> = {
  policy: "the policy",
  handler: "the approver",
  memory: "your earlier answer (this session)",
  timeout: "the approval timeout",
  readOnlyFastPath: "the read-only fast path",
  fault: "a fault, to be safe"
}

/**
 * One line per stage worth showing. Pending and approval prompts are the
 * approver's to show, and so is the decision line of a call the terminal
 * approver asked about (`shownByApprover`): one line per decision.
 */
const describe = (event: ToolEvents.ToolEvent, shownByApprover: boolean): string | undefined => {
  const indent = "  ".repeat(event.origin.depth + 1)
  const name = TerminalApproval.escape(event.call.name)
  switch (event._tag) {
    case "Decided": {
      if (shownByApprover && event.decidedBy === "handler") return undefined
      const rule = event.match ? ` [${TerminalApproval.escape(ToolPolicy.describeMatch(event.match))}]` : ""
      return event.allowed
        ? `${indent}✓ ${name} allowed by ${byWhom[event.decidedBy]}${rule}`
        : `${indent}✗ ${name} denied by ${byWhom[event.decidedBy]}${rule}: ${TerminalApproval.escape(event.reason ?? "")}`
    }
    case "Started":
      return `${indent}→ ${name} ${oneLine(event.call.params)}`
    case "Finished":
      return `${indent}← ${name} ${event.result.outcome._tag}: ${oneLine(event.result.result)}`
    default:
      return undefined
  }
}

/** A one-line account of a provider failure, with what to do about it. */
const providerFailure = (error: AiError.AiError, provider: string): string => {
  const reason = error.reason
  const what = "description" in reason && typeof reason.description === "string" ? reason.description : reason._tag
  const first = what.split("\n")[0]
  const key = provider === "openai" ? "OPENAI" : "ANTHROPIC"
  switch (reason._tag) {
    case "AuthenticationError":
      return `the ${provider} API rejected the key (${first}); check ${key}_API_KEY`
    case "RateLimitError":
    case "QuotaExhaustedError":
      return `the ${provider} API is rate limiting this key (${first}), still after retries; wait and rerun`
    case "InternalProviderError":
      return `the ${provider} API failed (${first}), still after retries; try again later`
    case "NetworkError":
      return `could not reach the ${provider} API${reason.url !== "" ? ` at ${reason.url}` : ""}: ${first}; ` +
        `check ${key}_BASE_URL and the network, or raise --request-timeout`
    default:
      return `the ${provider} model request failed: ${first}`
  }
}

const policyFlag = Flag.String("policy").pipe(
  Flag.between(0, 16),
  Flag.withDescription("policy file (JSON, Claude Code settings shape); repeat to layer. Default: the bundled policies/default.json")
)
const yesFlag = Flag.Boolean("yes").pipe(
  Flag.withDefault(false),
  Flag.withDescription("approve every call the policy asks about, without prompting (deny rules still apply)")
)
const noSandboxFlag = Flag.Boolean("no-sandbox").pipe(
  Flag.withDefault(false),
  Flag.withDescription("run Bash commands unconfined (no bubblewrap sandbox) and let rules allow them unasked")
)
const allowDomainFlag = Flag.String("allow-domain").pipe(
  Flag.between(0, 256),
  Flag.withDescription(
    "let sandboxed commands reach this host name over HTTP(S) through a filtering proxy (repeatable; *.example.com for its subdomains); nothing else is reachable"
  )
)
const approverFlag = Flag.Literals("approver", ["web"]).pipe(
  Flag.optional,
  Flag.withDescription("web: approve in a browser console on 127.0.0.1 instead of at the terminal")
)
const auditFlag = Flag.String("audit").pipe(
  Flag.optional,
  Flag.withDescription("append every decision and result to this file as JSON lines, synced as they happen (read it with toolgate audit FILE)")
)
const auditParamsFlag = Flag.Literals("audit-params", ["full", "hash"]).pipe(
  Flag.withDefault("full" as const),
  Flag.withDescription("write each call's params in full, or only their SHA-256 (hash)")
)
const rootFlag = Flag.String("root").pipe(
  Flag.optional,
  Flag.withDescription("workspace the tools are confined to (default: a fresh temporary directory for a scripted run, else the current directory)")
)
const scenarioFlag = Flag.String("scenario").pipe(
  Flag.optional,
  Flag.withDescription("replay this scripted-model scenario (JSON), even when an API key is set")
)
const demoFlag = Flag.Boolean("demo").pipe(
  Flag.withDefault(false),
  Flag.withDescription("replay the bundled demo scenario in a fresh temporary workspace, even when an API key is set")
)
const systemFlag = Flag.String("system").pipe(
  Flag.optional,
  Flag.withDescription("system prompt for a real model, as TEXT or @FILE (default: one naming the workspace and the gate's rules)")
)
const requestTimeoutFlag = Flag.Int("request-timeout").pipe(
  Flag.withDefault(120),
  Flag.withDescription("seconds one model request may take, and a streamed answer may go without an event")
)
const maxTurnsFlag = Flag.Int("max-turns").pipe(
  Flag.withDefault(Agent.defaults.maxTurns),
  Flag.withDescription("model requests allowed in the run")
)
const storeFlag = Flag.String("store").pipe(
  Flag.optional,
  Flag.withDescription(
    "record asked calls in a durable store (sqlite:FILE or postgres://…): they wait there for an answer from toolgate approvals, from any process, across restarts; needs --run-id"
  )
)
const runIdFlag = Flag.String("run-id").pipe(
  Flag.optional,
  Flag.withDescription("names the run in the durable store: the same command with the same id resumes it")
)
const taskArgument = Argument.String("task").pipe(
  Argument.withDefault("Read the README, write a short summary of it to SUMMARY.md, and check the directory."),
  Argument.withDescription("what the agent should do")
)

const description = `Run the agent with the built-in tools through the gate (a scripted demo without an API key).

Environment:
  ANTHROPIC_API_KEY, OPENAI_API_KEY   a key selects that provider (Anthropic first)
  TOOLGATE_PROVIDER                   anthropic or openai, when both keys are set
  ANTHROPIC_BASE_URL, OPENAI_BASE_URL another endpoint (a proxy, a compatible server)
  ANTHROPIC_MODEL, OPENAI_MODEL       the model (default ${Providers.defaultModels.anthropic}, ${Providers.defaultModels.openai})
  --scenario and --demo win over any key.

Exit status: 0 completed, 3 stopped by the approver, 4 repeated denial, 5 max turns,
64 bad input, 69 provider failure, 130 interrupted.`

/**
 * The `run` subcommand.
 *
 * @example
 * ```ts
 * import { Command } from "effect/cli"
 * import { run } from "../src/cli/run.ts"
 * const root = Command.make("toolgate").pipe(Command.withSubcommands([run]))
 * ```
 *
 * @since 0.1.0
 */
export const run = Command.make("run", {
  policy: policyFlag,
  mode: modeFlag,
  yes: yesFlag,
  noSandbox: noSandboxFlag,
  allowDomain: allowDomainFlag,
  audit: auditFlag,
  auditParams: auditParamsFlag,
  root: rootFlag,
  scenario: scenarioFlag,
  demo: demoFlag,
  system: systemFlag,
  requestTimeout: requestTimeoutFlag,
  maxTurns: maxTurnsFlag,
  approver: approverFlag,
  port: portFlag,
  otlp: otlpFlag,
  traceParams: traceParamsFlag,
  store: storeFlag,
  runId: runIdFlag,
  task: taskArgument
}, (config) =>
  Effect.scoped(runCommand(config)).pipe(Effect.provideService(Executor.TraceParams, config.traceParams))
).pipe(Command.withDescription(description))

interface Config {
  readonly policy: ReadonlyArray<string>
  readonly mode: Option.Option<PolicyRules.Mode>
  readonly yes: boolean
  readonly noSandbox: boolean
  readonly allowDomain: ReadonlyArray<string>
  readonly approver: Option.Option<"web">
  readonly port: Option.Option<number>
  readonly otlp: Option.Option<string>
  readonly traceParams: boolean
  readonly audit: Option.Option<string>
  readonly auditParams: AuditLog.ParamsMode
  readonly root: Option.Option<string>
  readonly scenario: Option.Option<string>
  readonly demo: boolean
  readonly system: Option.Option<string>
  readonly requestTimeout: number
  readonly maxTurns: number
  readonly store: Option.Option<string>
  readonly runId: Option.Option<string>
  readonly task: string
}

// -----------------------------------------------------------------------------
// The steps of a run. Everything up to the header is checked first: a mistake
// there is bad input (exit 64) and nothing runs.
// -----------------------------------------------------------------------------

const checkFlags = (config: Config) => {
  if (config.maxTurns < 1) return bad("--max-turns must be at least 1")
  if (config.requestTimeout < 1) return bad("--request-timeout must be at least 1 second")
  const notDomain = config.allowDomain.find((domain) => !DomainProxy.isDomain(domain))
  if (notDomain !== undefined) {
    return bad(`--allow-domain ${notDomain}: give a host name (registry.npmjs.org, *.example.com), without scheme, port or path`)
  }
  if (config.allowDomain.length > 0 && config.noSandbox) {
    return bad("--allow-domain filters the sandbox's network; with --no-sandbox commands reach every host anyway")
  }
  if (Option.isSome(config.store) !== Option.isSome(config.runId)) {
    return bad("--store and --run-id go together: the run id is how a restarted run finds its requests in the store")
  }
  if (Option.isSome(config.store) && (config.yes || Option.isSome(config.approver))) {
    return bad("--store is the approver: drop --yes and --approver")
  }
  if (config.demo && (Option.isSome(config.scenario) || Option.isSome(config.root))) {
    return bad("--demo runs the bundled scenario in a temporary workspace; drop --scenario and --root")
  }
  return Effect.void
}

/** The model: an explicit scenario or the demo, else a configured provider, else the bundled demo. */
const chooseModel = (config: Config) =>
  Effect.gen(function*() {
    const explicitScript = config.demo || Option.isSome(config.scenario)
    const provider = explicitScript ? undefined : yield* Providers.selection.pipe(
      Effect.catch((error) => bad(error._tag === "NoProviderConfigured" ? error.message : `bad provider settings: ${error.message}`))
    )
    const scenarioFile = Option.getOrElse(config.scenario, () => bundled.scenario)
    if (provider === undefined) {
      // load once here so a malformed scenario is bad input before anything runs
      yield* ScriptedModel.load(scenarioFile).pipe(Effect.catchTag("ScenarioError", (e) => bad(e.message)))
    }
    const label = provider === undefined
      ? `scripted (${NodePath.relative(process.cwd(), scenarioFile)})${
        explicitScript ? "" : "; set ANTHROPIC_API_KEY or OPENAI_API_KEY for a real one"
      }`
      : `${provider.provider} ${provider.settings.model}`
    const layer = provider === undefined
      ? ScriptedModel.layerFile(scenarioFile)
      : Providers.layerFor(provider, { requestTimeout: `${config.requestTimeout} seconds` }).pipe(
        Layer.provide(NodeHttpClient.layerUndici)
      )
    return { provider, scripted: provider === undefined, label, layer }
  })

/** The workspace: given, a fresh demo directory, or where we stand. */
const prepareWorkspace = (config: Config, scripted: boolean) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const demo = scripted && Option.isNone(config.root)
    const root = Option.isSome(config.root)
      ? NodePath.resolve(config.root.value)
      : demo
      ? yield* fs.makeTempDirectoryScoped({ prefix: "toolgate-demo-" })
      : process.cwd()
    const info = yield* fs.stat(root).pipe(Effect.option)
    if (Option.isNone(info)) return yield* bad(`the workspace ${root} does not exist`)
    if (info.value.type !== "Directory") return yield* bad(`the workspace ${root} is not a directory`)
    if (demo) yield* fs.writeFileString(NodePath.join(root, "README.md"), demoReadme)
    return { root, demo }
  })

/** The system prompt: real models get one naming the workspace; a scenario is its own script. */
const systemPrompt = (config: Config, root: string, scripted: boolean) =>
  Option.match(config.system, {
    onNone: () => Effect.succeed(scripted ? undefined : defaultSystemPrompt(root)),
    onSome: (text) =>
      text.startsWith("@")
        ? Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(text.slice(1))).pipe(
          Effect.catch((e) => bad(`cannot read the system prompt ${text}: ${e.message}`))
        )
        : Effect.succeed(text)
  })

/** The audit log, opened now: an unopenable path is bad input. */
const openAudit = (config: Config, events: Layer.Layer<ToolEvents.ToolEvents>) =>
  Option.match(config.audit, {
    onNone: () => Effect.succeed(undefined),
    onSome: (path) =>
      Layer.build(AuditLog.layer(NodePath.resolve(path), { params: config.auditParams }).pipe(Layer.provide(events))).pipe(
        Effect.flatMap((context) => AuditLog.AuditLog.pipe(Effect.provide(Layer.succeedContext(context)))),
        Effect.catch((e) => bad(`cannot open the audit log ${path}: ${e.message}`))
      )
  })

/**
 * Where the run's output goes. Lines wait while a prompt is live (the
 * approver holds `lock`), and the screen remembers whether the cursor is at
 * the start of a line, so a prompt or a line always starts on a fresh one.
 */
const makeScreen = Effect.gen(function*() {
  const terminal = yield* Terminal.Terminal
  const lock = yield* Semaphore.make(1)
  let atLineStart = true
  const write = (text: string) =>
    terminal.display(text).pipe(
      Effect.ignore,
      Effect.andThen(Effect.sync(() => {
        if (text.length > 0) atLineStart = text.endsWith("\n")
      }))
    )
  const freshLine = Effect.suspend(() => atLineStart ? Effect.void : write("\n"))
  return {
    lock,
    freshLine,
    atLineStart: () => atLineStart,
    print: (text: string) => lock.withPermits(1)(write(text)),
    printLine: (line: string) => lock.withPermits(1)(Effect.andThen(freshLine, write(`${line}\n`)))
  }
})

type Screen = Effect.Success<typeof makeScreen>

/**
 * The web console's handler, saying at the terminal while a call waits
 * there: which call, how many wait, and where to answer them. The user
 * watching the terminal otherwise sees a run that seems to hang.
 */
const waitingInConsole = (handler: Approval.ApprovalHandler, url: string, screen: Screen): Approval.ApprovalHandler => {
  let waiting = 0
  return {
    approve: (request) =>
      Effect.acquireUseRelease(
        Effect.sync(() => ++waiting).pipe(
          Effect.tap((n) =>
            screen.printLine(
              `… ${TerminalApproval.escape(request.call.name)} waits for you in the web console (${n} waiting): ${url}`
            )
          )
        ),
        () => handler.approve(request),
        () => Effect.sync(() => void waiting--)
      )
  }
}

/**
 * The dynamic gate: the web console, `--yes`, a human at the terminal; with
 * no terminal, only the demo's own throwaway workspace is approved unattended.
 */
const chooseApprover = (config: Config, screen: Screen, demo: boolean, scripted: boolean) =>
  Effect.gen(function*() {
    if (Option.isSome(config.store) && Option.isSome(config.runId)) return yield* durableApprover(config.store.value, config.runId.value)
    // from Stdio, not `process`: a test runs the command in-process with its own
    const stdio = yield* Stdio.Stdio
    const interactive = (yield* stdio.stdinIsTerminal) && (yield* stdio.stdoutIsTerminal)
    const web = Option.isSome(config.approver)
      ? yield* startConsole(config.port, (name) => (BuiltinTools.toolkit.tools as Record<string, Tool.Any>)[name]?.parametersSchema, "toolgate run")
        .pipe(Effect.catchTag("ServeError", (e) => bad(`the web console could not listen: ${e.message}`)))
      : undefined
    const [layer, line] = web !== undefined
      ? [Approval.layer(waitingInConsole(web.handler, web.url, screen)), `the web console, ${web.url}`] as const
      : config.yes
      ? [Approval.layer(Approval.autoApprove), "--yes: every call the policy asks about is approved without asking"] as const
      : interactive
      ? [
        TerminalApproval.layerWith({
          validate: TerminalApproval.validateWith(BuiltinTools.toolkit),
          screen: screen.lock,
          freshLine: screen.freshLine
        }),
        "you, at this terminal"
      ] as const
      : demo
      ? [
        Approval.layer(Approval.autoApprove),
        "no terminal, so calls the policy asks about are approved: this is the demo's own temporary workspace"
      ] as const
      : [
        Approval.layer(Approval.denyAll("no terminal to ask for approval; rerun with --yes to approve")),
        `no terminal, so calls the policy asks about are denied (${
          scripted ? "--root is a real directory" : "a real model"
        }; pass --yes to approve them)`
      ] as const
    const human = !config.yes && (interactive || web !== undefined)
    // the terminal approver prints its own decision lines
    const promptsHere = interactive && !config.yes && web === undefined
    return { layer, line, human, promptsHere }
  })

/**
 * The durable approver: asked calls wait in the store for an answer from
 * any process (`toolgate approvals`), across restarts of this one; with no
 * answer the run waits, never approves. The engine (effect/cluster and
 * effect/workflow) is loaded only here.
 */
const durableApprover = (store: string, runId: string) =>
  Effect.gen(function*() {
    const { DurableApproval, DurableEngine } = yield* Effect.promise(() => import("../durable/index.ts"))
    const engine = yield* Layer.build(DurableEngine.worker(store)).pipe(Effect.catchTag("EngineError", (e) => bad(e.message)))
    const layer = DurableApproval.layer({ runId }).pipe(Layer.provide(Layer.succeedContext(engine)))
    return {
      layer,
      line: `the durable store ${store}, run ${runId} (answer with: toolgate approvals list --store ${store})`,
      human: true,
      promptsHere: false
    }
  })

/**
 * Confinement: Bash in the sandbox, or every command asked of a human
 * (denied when there is none), unless --no-sandbox says otherwise.
 */
const confine = (config: Config, root: string, policyFiles: ReadonlyArray<string>, human: boolean) =>
  Effect.gen(function*() {
    const tools = {
      root,
      bash: {
        sandbox: config.noSandbox ? "none" : "auto",
        allowDomains: config.allowDomain,
        // the rules and the audit trail stay out of the commands' reach
        // (only those inside the workspace need binding: the rest of the
        // filesystem is read-only to commands already, and a file in a
        // directory the sandbox's uid cannot enter could not be bound)
        readOnly: [...policyFiles, ...Option.toArray(config.audit)].map((file) => NodePath.resolve(file)).filter((file) =>
          !NodePath.relative(root, file).startsWith("..") && !NodePath.isAbsolute(NodePath.relative(root, file))
        )
      }
    } as const
    const confinement = yield* BuiltinTools.detect(tools)
    const line = confinement._tag === "Unsandboxed" && !confinement.optedOut && !human
      ? `NOT sandboxed (${confinement.reason}): every command is denied, as there is no one to ask. ` +
        `With bubblewrap working, commands would run in a sandbox; --no-sandbox runs them unconfined`
      : BuiltinTools.describeConfinement(confinement)
    return { tools, line }
  })

/** What the agent runs with: the gate, the tools, the model, the events and the tracer. */
const services = (options: {
  readonly policy: Layer.Layer<never, never, FileSystem.FileSystem>
  readonly human: boolean
  readonly tools: BuiltinTools.Options
  readonly approver: Layer.Layer<never, never, Terminal.Terminal>
  readonly events: Layer.Layer<ToolEvents.ToolEvents>
  readonly model: Effect.Success<ReturnType<typeof chooseModel>>["layer"]
  readonly otlp: Option.Option<string>
}) =>
  Layer.mergeAll(
    BuiltinTools.guardLayer(options.policy, { unsandboxed: options.human ? "ask" : "deny" }).pipe(
      Layer.provideMerge(BuiltinTools.layer(options.tools))
    ),
    options.approver,
    options.events,
    options.model,
    Tracing.layerFromEnv(options.otlp)
  )

/**
 * Runs the agent with its `services`, printing as it goes; answers the result
 * and the exit code. A run that fails as a whole prints one line saying what
 * failed (the trace with `--log-level debug`).
 */
const runAgent = (
  config: Config,
  screen: Screen,
  options: {
    readonly system: string | undefined
    readonly promptsHere: boolean
    readonly provider: string
    readonly services: ReturnType<typeof services>
  }
) =>
  Agent.stream({ prompt: config.task, toolkit: BuiltinTools.toolkit, maxTurns: config.maxTurns, system: options.system }).pipe(
    Stream.runFoldEffect(() => undefined as Agent.Result | undefined, (last, event) => {
      switch (event._tag) {
        case "TextDelta":
          return Effect.as(screen.print(TerminalApproval.escape(event.delta, true)), last)
        case "TurnFinished":
          return Effect.as(screen.printLine(""), last)
        case "Tool": {
          const line = describe(event.event, options.promptsHere)
          return Effect.as(line === undefined ? Effect.void : screen.printLine(line), last)
        }
        case "Done":
          return Effect.succeed(event.result)
        default:
          return Effect.succeed(last)
      }
    }),
    Effect.map((result) => ({ result, code: result === undefined ? exitCodes.Completed : codeOf(result.stopReason) })),
    Effect.provide(options.services),
    Effect.catchTags({
      ConfigError: (e) =>
        Effect.as(Console.error(`toolgate run: bad OpenTelemetry settings: ${e.message}`), { result: undefined, code: exitCodes.BadInput }),
      MaxTurnsExceeded: (e) => Effect.as(Console.error(`toolgate run: ${e.message}`), { result: undefined, code: exitCodes.MaxTurns }),
      ScenarioError: (e) => Effect.as(Console.error(`toolgate run: ${e.message}`), { result: undefined, code: exitCodes.BadInput }),
      AiError: (e) =>
        Effect.logDebug("provider failure", Cause.fail(e)).pipe(
          Effect.andThen(Console.error(`toolgate run: ${providerFailure(e, options.provider)}`)),
          Effect.as({ result: undefined, code: exitCodes.ProviderFailed })
        )
    })
  )

const runCommand = (config: Config) =>
  Effect.gen(function*() {
    yield* checkFlags(config)
    const model = yield* chooseModel(config)
    const { root, demo } = yield* prepareWorkspace(config, model.scripted)
    const policyFiles = yield* Environment.policyFiles(config.policy.length > 0 ? config.policy : [bundled.policy])
    const policy = yield* PolicyFile.load(policyFiles).pipe(Effect.catchTag("PolicyFileError", (e) => bad(e.message)))
    const env = yield* environment(root, config.mode)
    const system = yield* systemPrompt(config, root, model.scripted)
    const events = Layer.succeed(ToolEvents.ToolEvents, yield* ToolEvents.ToolEvents.pipe(Effect.provide(ToolEvents.layer)))
    const auditLog = yield* openAudit(config, events)
    const screen = yield* makeScreen
    // the web console shows, from the run's events, how each answered call ended
    const approver = yield* chooseApprover(config, screen, demo, model.scripted).pipe(Effect.provide(events))
    const bash = yield* confine(config, root, policyFiles, approver.human)

    yield* Console.log([
      `toolgate run`,
      `  model:     ${model.label}`,
      `  workspace: ${root}${demo ? " (temporary, deleted after the run)" : ""}`,
      `  policy:    ${policyFiles.map((f) => NodePath.relative(process.cwd(), f)).join(", ")}${env.mode ? ` (mode ${env.mode})` : ""}`,
      `  approver:  ${approver.line}`,
      `  bash:      ${bash.line}`,
      Option.isSome(config.audit) ? `  audit:     ${NodePath.resolve(config.audit.value)}` : undefined,
      ``,
      `> ${config.task}`,
      ``
    ].filter((line) => line !== undefined).join("\n"))

    const now = () => new Date().toISOString()
    const runEnded = (stopReason: string, exitCode: number) =>
      auditLog === undefined
        ? Effect.void
        : auditLog.write({ _tag: "RunEnded", time: now(), runId: auditLog.runId, stopReason, exitCode })
    if (auditLog !== undefined) {
      yield* auditLog.write({
        _tag: "RunStarted",
        time: now(),
        runId: auditLog.runId,
        model: model.label,
        workspace: root,
        approver: approver.line,
        task: config.task
      })
    }

    const { result, code } = yield* runAgent(config, screen, {
      system,
      promptsHere: approver.promptsHere,
      provider: model.provider?.provider ?? "scripted",
      services: services({
        policy: PolicyRules.layer(policy.rules, env),
        human: approver.human,
        tools: bash.tools,
        approver: approver.layer,
        events,
        model: model.layer,
        otlp: config.otlp
      })
    }).pipe(Effect.onInterrupt(() => runEnded("Interrupted", exitCodes.Interrupted)))

    if (result !== undefined) {
      yield* Console.log(
        `${screen.atLineStart() ? "" : "\n"}— ${result.stopReason._tag}` +
          `${"reason" in result.stopReason ? `: ${TerminalApproval.escape(String(result.stopReason.reason))}` : ""}` +
          ` · ${result.turns} turn${result.turns === 1 ? "" : "s"}` +
          ` · ${result.usage.inputTokens.total ?? 0} tokens in, ${result.usage.outputTokens.total ?? 0} out`
      )
    }
    yield* runEnded(result?.stopReason._tag ?? (code === exitCodes.MaxTurns ? "MaxTurnsExceeded" : "Failed"), code)
    if (demo) yield* showSummary(root)
    if (code !== exitCodes.Completed) return yield* Effect.fail(new Exit({ code }))
  })

/** The demo ends by showing the file it wrote. */
const showSummary = (root: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const summary = NodePath.join(root, "SUMMARY.md")
    if (yield* fs.exists(summary)) yield* Console.log(`\nSUMMARY.md as written in the workspace:\n${yield* fs.readFileString(summary)}`)
  })

const codeOf = (reason: Agent.StopReason): number =>
  Agent.StopReason.$match(reason, {
    Completed: () => exitCodes.Completed,
    StoppedByApprover: () => exitCodes.StoppedByApprover,
    RepeatedDenial: () => exitCodes.RepeatedDenial
  })
