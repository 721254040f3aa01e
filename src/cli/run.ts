/**
 * `toolgate run`: the agent with the built-in tools, the policy and the
 * terminal approver, end to end. With an API key in the environment it talks
 * to that provider; without one it replays the bundled scenario on the
 * scripted model in a temporary workspace, so the demo shows real approvals
 * of real file writes and a real shell command with nothing to configure.
 *
 * With no terminal attached (CI, pipes) it never waits for a human: it says
 * which non-interactive policy it applies and goes on.
 *
 * @since 0.1.0
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Console, Effect, FileSystem, Layer, Option, Stream } from "effect"
import type { Tool } from "effect/ai"
import { Argument, Command, Flag } from "effect/cli"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import * as Agent from "../Agent.ts"
import * as Approval from "../Approval.ts"
import * as AuditLog from "../node/AuditLog.ts"
import * as BuiltinTools from "../node/BuiltinTools.ts"
import * as PolicyFile from "../policy/PolicyFile.ts"
import * as PolicyRules from "../policy/PolicyRules.ts"
import { environment, modeFlag } from "./options.ts"
import * as Providers from "../node/Providers.ts"
import * as ScriptedModel from "../testing/ScriptedModel.ts"
import * as TerminalApproval from "../node/TerminalApproval.ts"
import * as Tracing from "../node/Tracing.ts"
import * as ToolEvents from "../ToolEvents.ts"
import * as ToolPolicy from "../ToolPolicy.ts"
import { Exit, exitCodes } from "./check.ts"
import { otlpFlag, portFlag, startConsole } from "./console.ts"

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

const bad = (message: string) =>
  Effect.flatMap(Console.error(`toolgate run: ${message}`), () => Effect.fail(new Exit({ code: exitCodes.BadInput })))

const oneLine = (value: unknown, max = 100): string => {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value)
  const flat = text.replace(/\s*\n\s*/g, " ⏎ ")
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

/** One line per stage worth showing; pending and approval prompts are the approver's to show. */
const describe = (event: ToolEvents.ToolEvent): string | undefined => {
  const indent = "  ".repeat(event.origin.depth + 1)
  switch (event._tag) {
    case "Decided": {
      const rule = event.match ? ` [${ToolPolicy.describeMatch(event.match)}]` : ""
      return event.allowed
        ? `${indent}✓ ${event.call.name} allowed by ${event.decidedBy}${rule}`
        : `${indent}✗ ${event.call.name} denied by ${event.decidedBy}${rule}: ${event.reason ?? ""}`
    }
    case "Started":
      return `${indent}→ ${event.call.name} ${oneLine(event.call.params)}`
    case "Finished":
      return `${indent}← ${event.result.name} ${event.result.outcome._tag}: ${oneLine(event.result.result)}`
    default:
      return undefined
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
const auditFlag = Flag.String("audit").pipe(
  Flag.optional,
  Flag.withDescription("append every decision to this file as JSON lines, synced as they happen")
)
const rootFlag = Flag.String("root").pipe(
  Flag.optional,
  Flag.withDescription("workspace the tools are confined to (default: a fresh temporary directory for the scripted demo, else the current directory)")
)
const scenarioFlag = Flag.String("scenario").pipe(
  Flag.optional,
  Flag.withDescription("scripted-model scenario (JSON) to replay when no API key is set (default: the bundled demo)")
)
const maxTurnsFlag = Flag.Int("max-turns").pipe(
  Flag.withDefault(Agent.defaults.maxTurns),
  Flag.withDescription("model requests allowed in the run")
)
const approverFlag = Flag.Literals("approver", ["web"]).pipe(
  Flag.optional,
  Flag.withDescription("web: approve in a browser console on 127.0.0.1 instead of at the terminal")
)
const taskArgument = Argument.String("task").pipe(
  Argument.withDefault("Read the README, write a short summary of it to SUMMARY.md, and check the directory."),
  Argument.withDescription("what the agent should do")
)

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
  audit: auditFlag,
  root: rootFlag,
  scenario: scenarioFlag,
  maxTurns: maxTurnsFlag,
  approver: approverFlag,
  port: portFlag,
  otlp: otlpFlag,
  task: taskArgument
}, (config) =>
  Effect.scoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    if (config.maxTurns < 1) return yield* bad("--max-turns must be at least 1")

    // The model: a configured provider, or the scripted demo.
    const provider = yield* Providers.selection.pipe(
      Effect.catch((error) => bad(error._tag === "NoProviderConfigured" ? error.message : `bad provider settings: ${error.message}`))
    )
    const scripted = provider === undefined
    const modelLayer = scripted
      ? ScriptedModel.layerFile(Option.getOrElse(config.scenario, () => bundled.scenario))
      : Providers.fromEnv.pipe(Layer.provide(NodeHttpClient.layerUndici))

    // The workspace: given, a fresh demo directory, or where we stand.
    const root = Option.isSome(config.root)
      ? NodePath.resolve(config.root.value)
      : scripted
      ? yield* fs.makeTempDirectoryScoped({ prefix: "toolgate-demo-" })
      : process.cwd()
    if (!(yield* fs.exists(root))) return yield* bad(`the workspace ${root} does not exist`)
    if (scripted && Option.isNone(config.root)) yield* fs.writeFileString(NodePath.join(root, "README.md"), demoReadme)

    // The static gate.
    const policyFiles = config.policy.length > 0 ? config.policy : [bundled.policy]
    const policy = yield* PolicyFile.load(policyFiles).pipe(Effect.catchTag("PolicyFileError", (e) => bad(e.message)))
    const env = yield* environment(root, config.mode)

    // The dynamic gate: a human when there is a terminal, else a stated rule.
    const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true
    const web = Option.isSome(config.approver)
      ? yield* startConsole(config.port, (name) => (BuiltinTools.toolkit.tools as Record<string, Tool.Any>)[name]?.parametersSchema, "toolgate run")
        .pipe(Effect.catchTag("ServeError", (e) => bad(`the web console could not listen: ${e.message}`)))
      : undefined
    const [approvalLayer, approverLine] = web !== undefined
      ? [Approval.layer(web.handler), `the web console, ${web.url}`] as const
      : config.yes
      ? [Approval.layer(Approval.autoApprove), "--yes: every call the policy asks about is approved"] as const
      : interactive
      ? [TerminalApproval.layer, "you, at this terminal"] as const
      : scripted
      ? [
        Approval.layer(Approval.autoApprove),
        "no terminal attached, so every call the policy asks about is approved (the demo runs in a throwaway directory)"
      ] as const
      : [
        Approval.layer(Approval.denyAll("no terminal to ask for approval; rerun with --yes to approve")),
        "no terminal attached, so every call the policy asks about is denied (pass --yes to approve them)"
      ] as const

    // Confinement: Bash in the sandbox, or every command asked of a human
    // (denied when there is none), unless --no-sandbox says otherwise.
    const tools = { root, bash: { sandbox: config.noSandbox ? "none" : "auto", readOnly: policyFiles.map((file) => NodePath.resolve(file)) } } as const
    const confinement = yield* BuiltinTools.detect(tools)
    const human = !config.yes && interactive
    const bashLine = confinement._tag === "Unsandboxed" && !confinement.optedOut && !human
      ? `NOT sandboxed (${confinement.reason}): every command is denied, there is no one to ask; pass --no-sandbox to run them unconfined`
      : BuiltinTools.describeConfinement(confinement)

    yield* Console.log([
      `toolgate run`,
      `  model:     ${scripted ? `scripted (${NodePath.relative(process.cwd(), Option.getOrElse(config.scenario, () => bundled.scenario))}); set ANTHROPIC_API_KEY or OPENAI_API_KEY for a real one` : `${provider.provider} ${provider.settings.model}`}`,
      `  workspace: ${root}`,
      `  policy:    ${policyFiles.map((f) => NodePath.relative(process.cwd(), f)).join(", ")}${env.mode ? ` (mode ${env.mode})` : ""}`,
      `  approver:  ${approverLine}`,
      `  bash:      ${bashLine}`,
      config.audit._tag === "Some" ? `  audit:     ${NodePath.resolve(config.audit.value)}` : undefined,
      ``,
      `> ${config.task}`,
      ``
    ].filter((line) => line !== undefined).join("\n"))

    const events = Option.isSome(config.audit)
      ? AuditLog.layer(NodePath.resolve(config.audit.value)).pipe(Layer.provideMerge(ToolEvents.layer))
      : ToolEvents.layer

    // Tool lines start on a line of their own, after whatever text streamed.
    let atLineStart = true
    const print = (text: string) =>
      Effect.sync(() => {
        process.stdout.write(text)
        if (text.length > 0) atLineStart = text.endsWith("\n")
      })
    const printLine = (line: string) => print(`${atLineStart ? "" : "\n"}${line}\n`)

    const result = yield* Agent.stream({ prompt: config.task, toolkit: BuiltinTools.toolkit, maxTurns: config.maxTurns }).pipe(
      Stream.runFoldEffect(() => undefined as Agent.Result | undefined, (last, event) => {
        switch (event._tag) {
          case "TextDelta":
            return Effect.as(print(event.delta), last)
          case "TurnFinished":
            return Effect.as(printLine(""), last)
          case "Tool": {
            const line = describe(event.event)
            // the terminal approver draws its prompt from a line start too
            const output = line !== undefined ? printLine(line) : atLineStart ? Effect.void : print("\n")
            return Effect.as(output, last)
          }
          case "Done":
            return Effect.succeed(event.result)
          default:
            return Effect.succeed(last)
        }
      }),
      Effect.provide(Layer.mergeAll(
        BuiltinTools.guardLayer(PolicyRules.layer(policy.rules, env), { unsandboxed: human ? "ask" : "deny" }).pipe(
          Layer.provideMerge(BuiltinTools.layer(tools))
        ),
        approvalLayer,
        events,
        modelLayer,
        Tracing.layerFromEnv(config.otlp)
      )),
      Effect.catchTags({
        ConfigError: (e) => bad(`bad OpenTelemetry settings: ${e.message}`),
        MaxTurnsExceeded: (e) => bad(e.message),
        ScenarioError: (e) => bad(e.message)
      })
    )
    if (result !== undefined) {
      yield* Console.log(
        `— ${result.stopReason._tag}` +
          `${"reason" in result.stopReason ? `: ${String(result.stopReason.reason)}` : ""}` +
          ` · ${result.turns} turn${result.turns === 1 ? "" : "s"}` +
          ` · ${result.usage.inputTokens.total ?? 0} tokens in, ${result.usage.outputTokens.total ?? 0} out`
      )
    }
    if (scripted && Option.isNone(config.root)) {
      const summary = NodePath.join(root, "SUMMARY.md")
      if (yield* fs.exists(summary)) yield* Console.log(`\nSUMMARY.md as written in the workspace:\n${yield* fs.readFileString(summary)}`)
    }
  }))).pipe(Command.withDescription("Run the agent with the built-in tools through the gate (a scripted demo without an API key)"))
