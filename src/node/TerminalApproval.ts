/**
 * An approval handler that asks a human at the terminal, on the `Terminal`
 * service (`NodeTerminal` in a real program, a scripted one in tests).
 *
 * Requests go through `Approval.queueBridge` to one UI fiber, so however many
 * calls wait, one prompt is on screen at a time. The prompt shows the tool,
 * its class, its params and why the policy asked, and takes one key: `y`
 * allow, `n` deny (then asks for a reason the model reads), `a` allow and
 * remember for the session, `e` edit the params as JSON, `s` deny and stop
 * the run. When a call is cancelled while its prompt is shown, the prompt is
 * taken off the screen and a line says it was withdrawn.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Layer, Path, Queue, Scope, Terminal } from "effect"
import { Prompt } from "effect/cli"
import * as Approval from "../Approval.ts"
import * as ToolPolicy from "../ToolPolicy.ts"

// -----------------------------------------------------------------------------
// Rendering
// -----------------------------------------------------------------------------

const esc = "\x1b["
const style = {
  bold: (s: string) => `${esc}1m${s}${esc}22m`,
  dim: (s: string) => `${esc}2m${s}${esc}22m`,
  green: (s: string) => `${esc}32m${s}${esc}39m`,
  red: (s: string) => `${esc}31m${s}${esc}39m`,
  yellow: (s: string) => `${esc}33m${s}${esc}39m`
}
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "")

/** Erases the `text` last written (the cursor at its end), wrapping at `columns`. */
const erase = (text: string, columns: number): string => {
  const rows = stripAnsi(text).split("\n").reduce(
    (sum, line) => sum + (columns > 0 ? Math.max(1, Math.ceil(line.length / columns)) : 1),
    0
  )
  return `${esc}2K${`${esc}1A${esc}2K`.repeat(rows - 1)}${esc}G`
}

/** Params longer than this many lines are cut on screen; `e` still edits all of them. */
const maxParamLines = 12

const showParams = (input: unknown): string => {
  let json: string
  try {
    json = JSON.stringify(input, null, 2) ?? String(input)
  } catch {
    json = String(input)
  }
  const lines = json.split("\n")
  const shown = lines.length > maxParamLines
    ? [...lines.slice(0, maxParamLines), `… (${lines.length - maxParamLines} more lines; e shows them all)`]
    : lines
  return shown.map((line) => `    ${line}`).join("\n")
}

const title = (request: Approval.ApprovalRequest) =>
  `${style.bold(request.call.name)} ${style.dim(`(${request.toolClass})`)}`

/**
 * The text of a request's prompt, as shown on the terminal (with ANSI
 * styles; `waiting` is how many other requests are queued behind it).
 *
 * @example
 * ```ts
 * import type { Approval } from "toolgate"
 * import { TerminalApproval } from "toolgate/node"
 * declare const request: Approval.ApprovalRequest
 * const text = TerminalApproval.render(request, 0)
 * ```
 *
 * @since 0.1.0
 */
export const render = (request: Approval.ApprovalRequest, waiting: number): string => {
  const lines = [`${style.yellow("?")} ${title(request)} wants to run${waiting > 0 ? style.dim(` (${waiting} more waiting)`) : ""}`]
  if (request.origin.depth > 0) lines.push(`  from a sub-agent (depth ${request.origin.depth})`)
  if (request.reason !== undefined) lines.push(`  why:  ${request.reason}`)
  if (request.match !== undefined) {
    const segment = request.match.segment !== undefined ? ` on ${JSON.stringify(request.match.segment)}` : ""
    lines.push(`  rule: ${ToolPolicy.describeMatch(request.match, " ")}${segment}`)
  }
  lines.push("  params:", showParams(request.input))
  lines.push(`  ${keyHelp}`)
  return lines.join("\n")
}

const keyHelp = [
  `${style.bold("y")} allow`,
  `${style.bold("n")} deny`,
  `${style.bold("a")} allow for the session`,
  `${style.bold("e")} edit params`,
  `${style.bold("s")} deny and stop`
].join("  ") + " › "

// -----------------------------------------------------------------------------
// Prompts
// -----------------------------------------------------------------------------

type Choice = "allow" | "deny" | "remember" | "edit" | "stop" | "withdrawn" | "quit"

const keys: Readonly<Record<string, Choice>> = { y: "allow", n: "deny", a: "remember", e: "edit", s: "stop" }

// What replaces the prompt once answered. `n` and `e` leave nothing: their
// follow-up prompt takes the place, and the outcome is printed after it.
const chosen: Readonly<Record<Choice, (name: string) => string>> = {
  allow: (name) => `${style.green("✔")} ${name} allowed\n`,
  remember: (name) => `${style.green("✔")} ${name} allowed for the session\n`,
  deny: () => "",
  edit: () => "",
  stop: (name) => `${style.red("✘")} ${name} denied, stopping the run\n`,
  withdrawn: (name) => `${style.dim(`⊘ ${name} withdrawn: the call was cancelled`)}\n`,
  quit: (name) => `${style.red("✘")} ${name} denied, stopping the run (prompt quit)\n`
}

/**
 * The one-key prompt for a request. A custom `Prompt` rather than a
 * `Prompt.Select`: the decision is one keystroke (`y`, `n`, ...), not a list
 * to walk with arrows, and the prompt must also end from outside when the
 * request is withdrawn, which `Prompt.Custom`'s event queue allows.
 */
const choose = (request: Approval.ApprovalRequest, waiting: number, withdrawn: Queue.Dequeue<void>) => {
  const frame = render(request, waiting)
  const name = request.call.name
  return Prompt.Custom<undefined, Choice, void>(undefined, withdrawn, {
    render: (_, action) =>
      Effect.succeed(
        action._tag === "Submit" ? chosen[action.value](name) : action._tag === "NextFrame" ? frame : ""
      ),
    process: (input) => {
      if (input._tag === "Event") return Effect.succeed({ _tag: "Submit", value: "withdrawn" })
      const { key } = input.input
      // The terminal's quit keys (Ctrl+C, Ctrl+D, Esc) end the input queue
      // after delivering the key; treat them as "stop" here rather than
      // leaving the choice to whichever prompt reads next.
      if (key.ctrl && (key.name === "c" || key.name === "d") || key.name === "escape") {
        return Effect.succeed({ _tag: "Submit", value: "quit" })
      }
      const choice = key.ctrl || key.meta ? undefined : keys[key.name.toLowerCase()]
      return Effect.succeed(choice === undefined ? { _tag: "Beep" } : { _tag: "Submit", value: choice })
    },
    clear: (_, action) =>
      action._tag === "Submit"
        ? Effect.gen(function*() {
          const terminal = yield* Terminal.Terminal
          return erase(frame, yield* terminal.columns)
        })
        : Effect.succeed("")
  })
}

const reasonPrompt = Prompt.String({ message: "Reason the model reads (Enter for \"denied by the user\")" })

const editPrompt = (input: unknown) =>
  Prompt.String({
    message: "Params as JSON",
    default: JSON.stringify(input) ?? "",
    validate: (text: string) =>
      Effect.try({
        try: () => {
          const parsed: unknown = JSON.parse(text)
          if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("expected a JSON object")
          return text
        },
        catch: (error) => `not valid params: ${error instanceof Error ? error.message : String(error)}`
      })
  })

// Prompts may use files and paths (Prompt.File); ours never do, so a no-op
// FileSystem keeps the handler's requirement down to the Terminal.
const promptEnvironment = Layer.merge(FileSystem.layerNoop({}), Path.layer)

// -----------------------------------------------------------------------------
// Handler
// -----------------------------------------------------------------------------

/** Asks about one request; `undefined` when it was withdrawn meanwhile. */
const ask = (pending: Approval.PendingApproval, waiting: number) =>
  Effect.gen(function*() {
    const { request } = pending
    const terminal = yield* Terminal.Terminal
    // One key queue for the whole dialogue: keys typed between the choice and
    // the reason prompt are not lost, and keys typed before the prompt was
    // shown never answer it.
    const input = yield* terminal.readInput
    const local = Terminal.make({ ...terminal, readInput: Effect.succeed(input) })
    const withdrawn = yield* Queue.unbounded<void>()
    yield* Effect.forkScoped(Effect.andThen(pending.withdrawn, Queue.offer(withdrawn, undefined)))
    const run = <A>(prompt: Prompt.Prompt<A>) => Effect.provideService(Prompt.run(prompt), Terminal.Terminal, local)

    const choice = yield* run(choose(request, waiting, withdrawn))
    switch (choice) {
      case "withdrawn":
        return undefined
      case "allow":
        return Approval.ApprovalDecision.Allow()
      case "remember":
        return Approval.ApprovalDecision.Allow({ remember: true })
      case "stop":
        return Approval.ApprovalDecision.Deny({ reason: "denied by the user, who stopped the run", stop: true })
      case "quit":
        return Approval.ApprovalDecision.Deny({ reason: "the user quit the prompt and stopped the run", stop: true })
      case "deny":
      case "edit": {
        const name = request.call.name
        const followUp = choice === "deny"
          ? Effect.gen(function*() {
            const given = (yield* run(reasonPrompt)).trim()
            const reason = given === "" ? "denied by the user" : given
            yield* terminal.display(`${style.red("✘")} ${name} denied: ${reason}\n`)
            return Approval.ApprovalDecision.Deny({ reason })
          })
          : Effect.gen(function*() {
            const params: unknown = JSON.parse(yield* run(editPrompt(request.input)))
            yield* terminal.display(`${style.green("✔")} ${name} allowed with edited params\n`)
            return Approval.ApprovalDecision.Allow({ params })
          })
        // These prompts cannot take an event, so a withdrawal interrupts them.
        return yield* Effect.raceFirst(
          followUp,
          Effect.as(
            Effect.andThen(pending.withdrawn, terminal.display(`\n${chosen.withdrawn(request.call.name)}`)),
            undefined
          )
        )
      }
    }
  }).pipe(Effect.scoped, Effect.provide(promptEnvironment))

/**
 * Makes the terminal handler and starts its UI fiber in the current scope
 * (closing the scope stops it, and pending requests then wait for nobody:
 * build it in the scope of the program that runs the batches). A failing
 * terminal (input closed, display error) denies the request on screen, so the
 * gate fails closed.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NodeTerminal } from "@effect/platform-node"
 * import { Approval } from "toolgate"
import { TerminalApproval } from "toolgate/node"
 * const ApprovalLive = Approval.layer(TerminalApproval.make)
 * ```
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<Approval.ApprovalHandler, never, Terminal.Terminal | Scope.Scope> = Effect.gen(
  function*() {
    const bridge = yield* Approval.queueBridge
    const terminal = yield* Terminal.Terminal
    const serve = Effect.gen(function*() {
      const pending = yield* bridge.take
      const waiting = Math.max(0, (yield* bridge.pending).length - 1)
      const decision = yield* ask(pending, waiting).pipe(
        Effect.catchCause(() =>
          Effect.as(
            Effect.ignore(terminal.display(`\n${style.red("✘")} the terminal failed; ${pending.request.call.name} denied\n`)),
            Approval.ApprovalDecision.Deny({ reason: "the approval prompt failed, so the call was denied to be safe" })
          )
        ),
        Effect.provideService(Terminal.Terminal, terminal)
      )
      if (decision !== undefined) yield* pending.decide(decision)
    })
    yield* Effect.forkScoped(Effect.forever(serve))
    return bridge.handler
  }
)

/**
 * A Layer providing the terminal handler as the `ApprovalHandler`, with
 * session memory (so `a` is remembered for the Layer's lifetime).
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { NodeServices } from "@effect/platform-node"
 * import { TerminalApproval } from "toolgate/node"
 * const ApprovalLive = TerminalApproval.layer.pipe(Layer.provide(NodeServices.layer))
 * ```
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<never, never, Terminal.Terminal> = Approval.layer(make)
