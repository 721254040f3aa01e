/**
 * An approval handler that asks a human at the terminal, on the `Terminal`
 * service (`NodeTerminal` in a real program, a scripted one in tests).
 *
 * Requests go through `Approval.queueBridge` to one UI fiber, so however many
 * calls wait, one prompt is on screen at a time. The prompt shows the tool,
 * its class, its params and why the policy asked, and takes one key: `y`
 * allow this call, `a` allow identical calls for the session, `t` allow every
 * call of this tool for the session, `n` deny (then asks for a reason the
 * model reads), `e` edit the params as JSON, `s` deny and stop the run (and
 * deny, without asking, every request after it). Ctrl-C, in the prompt or in
 * the reason or edit prompts, is `s`. When a call is cancelled while its
 * prompt is shown, the prompt is taken off the screen and a line says so.
 *
 * What the prompt shows is escaped: control characters, bidirectional
 * overrides and zero-width characters in a tool name, a reason or params
 * are shown as `⟨U+202E⟩` markers, so a command cannot display as another.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, FileSystem, Layer, Path, Queue, Schema, Scope, Semaphore, Terminal } from "effect"
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

// Invisible or control characters: C0/C1 controls (ESC included, so no ANSI
// sequence gets through), format characters (bidirectional embeddings,
// overrides and isolates U+202A-U+202E and U+2066-U+2069, zero-width
// characters, the BOM, soft hyphen), line and paragraph separators.
const invisible = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu

/**
 * `text` with every invisible or control character shown as a visible
 * `⟨U+XXXX⟩` marker, so what the user approves is what runs: a command
 * holding U+202E cannot display as a different command. Newlines and tabs
 * are kept when `keepNewlines` is set (prose, not a command to approve).
 *
 * @example
 * ```ts
 * import { TerminalApproval } from "toolgate/node"
 * TerminalApproval.escape("rm -rf /\u202E") // => "rm -rf /⟨U+202E⟩"
 * ```
 *
 * @since 0.1.0
 */
export const escape = (text: string, keepNewlines = false): string =>
  text.replace(invisible, (c) =>
    keepNewlines && (c === "\n" || c === "\t")
      ? c
      : `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}⟩`)

const hasInvisible = (text: string) => /[\p{Cf}\p{Zl}\p{Zp}]|[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/u.test(text)

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
  return shown.map((line) => `    ${escape(line)}`).join("\n")
}

const title = (request: Approval.ApprovalRequest) =>
  `${style.bold(escape(request.call.name))} ${style.dim(`(${request.toolClass})`)}`

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
export const render = (request: Approval.ApprovalRequest, waiting: number): string =>
  [...describeRequest(request, waiting), `  ${keyHelp(request)}`].join("\n")

/** The request without the key help: what stays on screen while a reason or an edit is typed. */
const describeRequest = (request: Approval.ApprovalRequest, waiting: number): Array<string> => {
  const lines = [`${style.yellow("?")} ${title(request)} wants to run${waiting > 0 ? style.dim(` (${waiting} more waiting)`) : ""}`]
  if (request.origin.depth > 0) lines.push(`  from a sub-agent (depth ${request.origin.depth})`)
  if (request.reason !== undefined) lines.push(`  why:  ${escape(request.reason)}`)
  if (request.match !== undefined) {
    const segment = "segment" in request.match && request.match.segment !== undefined
      ? ` on ${JSON.stringify(request.match.segment)}`
      : ""
    lines.push(`  rule: ${escape(`${ToolPolicy.describeMatch(request.match, " ")}${segment}`)}`)
  }
  let json = ""
  try {
    json = JSON.stringify(request.input) ?? ""
  } catch {
    // shown as it can be below
  }
  if (hasInvisible(json) || hasInvisible(request.call.name)) {
    lines.push(`  ${style.red("⚠ hidden characters")}: invisible or control characters are shown as ⟨U+…⟩; read carefully`)
  }
  lines.push("  params:", showParams(request.input))
  return lines
}

// Two short lines rather than one that wraps: the erase arithmetic counts
// rows, and a narrow terminal should still show every key.
const keyHelp = (request: Approval.ApprovalRequest) =>
  [
    `${style.bold("y")} allow once   ${style.bold("a")} allow identical calls   ${style.bold("t")} allow every ${
      escape(request.call.name)
    } call ${style.dim("(a, t: for this session)")}`,
    `  ${style.bold("n")} deny   ${style.bold("e")} edit params   ${style.bold("s")} deny and stop the run › `
  ].join("\n")

// -----------------------------------------------------------------------------
// Prompts
// -----------------------------------------------------------------------------

type Choice = "allow" | "deny" | "remember" | "rememberTool" | "edit" | "stop" | "withdrawn" | "quit"

const keys: Readonly<Record<string, Choice>> = { y: "allow", n: "deny", a: "remember", t: "rememberTool", e: "edit", s: "stop" }

// What replaces the prompt once answered: one line per decision. `n` and
// `e` leave the request on screen (without the key help) while the reason
// or the edit is typed; the decision line comes after.
const chosen = (request: Approval.ApprovalRequest, waiting: number): Readonly<Record<Choice, string>> => {
  const name = escape(request.call.name)
  const kept = `${describeRequest(request, waiting).join("\n")}\n`
  return {
    allow: `${style.green("✔")} ${name} allowed by you\n`,
    remember: `${style.green("✔")} ${name} allowed by you, and identical calls for this session\n`,
    rememberTool: `${style.green("✔")} ${name} allowed by you, and every ${name} call for this session\n`,
    deny: kept,
    edit: kept,
    stop: `${style.red("✘")} ${name} denied by you; stopping the run\n`,
    withdrawn: `${style.dim(`⊘ ${name} withdrawn: the call was cancelled`)}\n`,
    quit: `${style.red("✘")} ${name} denied by you (Ctrl-C); stopping the run\n`
  }
}

/**
 * The one-key prompt for a request. A custom `Prompt` rather than a
 * `Prompt.Select`: the decision is one keystroke (`y`, `n`, ...), not a list
 * to walk with arrows, and the prompt must also end from outside when the
 * request is withdrawn, which `Prompt.Custom`'s event queue allows.
 */
const choose = (request: Approval.ApprovalRequest, waiting: number, withdrawn: Queue.Dequeue<void>, settle: Duration.Duration) => {
  const frame = render(request, waiting)
  const lines = chosen(request, waiting)
  // When the frame was first drawn. A terminal holds the keys typed while
  // no prompt reads them and hands them all over when the next prompt
  // starts reading: a `y` typed early would approve a call its user never
  // saw. A key that comes within `settle` of the frame is one nobody could
  // have typed in answer to it, and is ignored (quit keys still stop).
  let drawnAt: number | undefined
  return Prompt.Custom<undefined, Choice, void>(undefined, withdrawn, {
    render: (_, action) =>
      action._tag === "Submit"
        ? Effect.succeed(lines[action.value])
        : action._tag === "NextFrame"
        ? Effect.map(Clock.currentTimeMillis, (now) => {
          drawnAt ??= now
          return frame
        })
        : Effect.succeed(""),
    process: (input) =>
      Effect.gen(function*() {
        if (input._tag === "Event") return { _tag: "Submit", value: "withdrawn" } as const
        const { key } = input.input
        // The terminal's quit keys (Ctrl+C, Ctrl+D, Esc) end the input queue
        // after delivering the key; treat them as "stop" here rather than
        // leaving the choice to whichever prompt reads next.
        if (key.ctrl && (key.name === "c" || key.name === "d") || key.name === "escape") {
          return { _tag: "Submit", value: "quit" } as const
        }
        const now = yield* Clock.currentTimeMillis
        if (drawnAt === undefined || now - drawnAt < Duration.toMillis(settle)) return { _tag: "Beep" } as const
        const choice = key.ctrl || key.meta ? undefined : keys[key.name.toLowerCase()]
        return choice === undefined ? { _tag: "Beep" } as const : { _tag: "Submit", value: choice } as const
      }),
    clear: (_, action) =>
      action._tag === "Submit"
        ? Effect.gen(function*() {
          const terminal = yield* Terminal.Terminal
          return erase(frame, yield* terminal.columns)
        })
        : Effect.succeed("")
  })
}

const reasonMessage = "Reason the model reads (Enter for \"denied by the user\")"
const reasonPrompt = Prompt.String({ message: reasonMessage })
const editMessage = "Params as JSON"

const editPrompt = (request: Approval.ApprovalRequest, check: Options["validate"]) =>
  Prompt.String({
    message: editMessage,
    default: JSON.stringify(request.input) ?? "",
    validate: (text: string) =>
      Effect.try({
        try: () => {
          const parsed: unknown = JSON.parse(text)
          if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("expected a JSON object")
          return parsed
        },
        catch: (error) => `not valid params: ${error instanceof Error ? error.message : String(error)}`
      }).pipe(
        // the tool's own schema, so an edit that would fail is asked again
        // with the schema's message instead of being sent on to fail
        Effect.flatMap((params) =>
          check === undefined ? Effect.void : Effect.mapError(check(request, params), (m) => `not valid params: ${escape(m)}`)
        ),
        Effect.as(text)
      )
  })

// Prompts may use files and paths (Prompt.File); ours never do, so a no-op
// FileSystem keeps the handler's requirement down to the Terminal.
const promptEnvironment = Layer.merge(FileSystem.layerNoop({}), Path.layer)

// -----------------------------------------------------------------------------
// Handler
// -----------------------------------------------------------------------------

const quit = Approval.ApprovalDecision.Deny({ reason: "the user pressed Ctrl-C and stopped the run", stop: true })

/** Asks about one request; `undefined` when it was withdrawn meanwhile. */
const ask = (pending: Approval.PendingApproval, waiting: number, options: Options) =>
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

    const choice = yield* run(choose(request, waiting, withdrawn, Duration.fromInputUnsafe(options.settle ?? defaultSettle)))
    switch (choice) {
      case "withdrawn":
        return undefined
      case "allow":
        return Approval.ApprovalDecision.Allow()
      case "remember":
        return Approval.ApprovalDecision.Allow({ remember: true })
      case "rememberTool":
        return Approval.ApprovalDecision.Allow({ remember: "tool" })
      case "stop":
        return Approval.ApprovalDecision.Deny({ reason: "denied by the user, who stopped the run", stop: true })
      case "quit":
        return quit
      case "deny":
      case "edit": {
        const name = escape(request.call.name)
        // The request stayed on screen above the follow-up prompt; once it
        // is answered, both give way to the one decision line.
        const kept = chosen(request, waiting)[choice]
        const settle = (message: string, answer: string, line: string) =>
          Effect.flatMap(terminal.columns, (columns) =>
            terminal.display(`${erase(`${kept}✔ ${message} … ${answer}\n`, columns)}${line}\n`))
        const followUp = choice === "deny"
          ? Effect.gen(function*() {
            const typed = yield* run(reasonPrompt)
            const reason = typed.trim() === "" ? "denied by the user" : typed.trim()
            yield* settle(reasonMessage, typed, `${style.red("✘")} ${name} denied by you: ${escape(reason)}`)
            return Approval.ApprovalDecision.Deny({ reason })
          })
          : Effect.gen(function*() {
            const typed = yield* run(editPrompt(request, options.validate))
            yield* settle(editMessage, typed, `${style.green("✔")} ${name} allowed by you with edited params ${escape(typed)}`)
            return Approval.ApprovalDecision.Allow({ params: JSON.parse(typed) as unknown })
          })
        // Ctrl-C in a follow-up prompt ends the run like Ctrl-C in the main one.
        const answered = followUp.pipe(
          Effect.catchTag("QuitError", () =>
            Effect.as(terminal.display(`\n${chosen(request, waiting).quit}`), quit))
        )
        // These prompts cannot take an event, so a withdrawal interrupts them.
        return yield* Effect.raceFirst(
          answered,
          Effect.as(
            Effect.andThen(pending.withdrawn, terminal.display(`\n${chosen(request, waiting).withdrawn}`)),
            undefined
          )
        )
      }
    }
  }).pipe(Effect.scoped, Effect.provide(promptEnvironment))

/**
 * Options of {@link make}.
 *
 * - `validate`: checks edited params against the tool's schema (fails with
 *   the schema's message); an edit that fails is asked again. See
 *   {@link validateWith} for a toolkit.
 * - `screen`: a lock shared with whatever else writes to the terminal. The
 *   approver holds it for a whole dialogue, so other output waits instead of
 *   printing into a live prompt.
 * - `freshLine`: run (holding `screen`) before a prompt is drawn; it should
 *   end the current line if output left the cursor mid-line.
 * - `settle`: keys that arrive within this time of a prompt being drawn are
 *   ignored (default {@link defaultSettle}): a terminal hands a new prompt
 *   every key typed while none was reading, and a `y` typed early must not
 *   approve a call nobody saw. Ctrl-C, Ctrl-D and Esc still stop the run.
 *
 * @since 0.1.0
 */
export interface Options {
  readonly validate?: ((request: Approval.ApprovalRequest, params: unknown) => Effect.Effect<void, string>) | undefined
  readonly screen?: Semaphore.Semaphore | undefined
  readonly freshLine?: Effect.Effect<void> | undefined
  readonly settle?: Duration.Input | undefined
}

/**
 * How long after a prompt is drawn keys are still taken as typed before it:
 * faster than anyone reads.
 *
 * @since 0.4.0
 */
export const defaultSettle: Duration.Input = "250 millis"

/**
 * A `validate` option checking edited params against the tools' parameter
 * Schemas: the schema's message comes back when they do not decode.
 *
 * @example
 * ```ts
 * import { TerminalApproval, BuiltinTools } from "toolgate/node"
 * const options = { validate: TerminalApproval.validateWith(BuiltinTools.toolkit) }
 * ```
 *
 * @since 0.1.0
 */
export const validateWith = (
  toolkit: { readonly tools: Record<string, { readonly parametersSchema: Schema.Top }> }
): NonNullable<Options["validate"]> =>
(request, params) => {
  const tool = toolkit.tools[request.call.name]
  if (tool === undefined) return Effect.void
  return Schema.decodeUnknownEffect(tool.parametersSchema as Schema.Codec<unknown, unknown>)(params).pipe(
    Effect.asVoid,
    Effect.mapError((error) => error.message)
  )
}

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
export const makeWith = (
  options: Options = {}
): Effect.Effect<Approval.ApprovalHandler, never, Terminal.Terminal | Scope.Scope> =>
  Effect.gen(function*() {
    const bridge = yield* Approval.queueBridge
    const terminal = yield* Terminal.Terminal
    const screen = options.screen ?? (yield* Semaphore.make(1))
    // After `s` (or Ctrl-C) the run is over: requests still coming (the rest
    // of the batch, a sub-agent's) are denied without a prompt, so the user
    // is never asked about a call of a run they stopped.
    let stopped: Approval.ApprovalDecision | undefined
    const serve = Effect.gen(function*() {
      const pending = yield* bridge.take
      if (stopped !== undefined) {
        return yield* pending.decide(Approval.ApprovalDecision.Deny({
          reason: "not asked: the user had stopped the run",
          stop: true
        }))
      }
      const waiting = Math.max(0, (yield* bridge.pending).length - 1)
      const dialogue = Effect.andThen(options.freshLine ?? Effect.void, ask(pending, waiting, options))
      const decision = yield* screen.withPermits(1)(dialogue).pipe(
        Effect.catchCause(() =>
          Effect.as(
            Effect.ignore(terminal.display(`\n${style.red("✘")} the terminal failed; ${pending.request.call.name} denied\n`)),
            Approval.ApprovalDecision.Deny({ reason: "the approval prompt failed, so the call was denied to be safe" })
          )
        ),
        Effect.provideService(Terminal.Terminal, terminal)
      )
      if (decision?._tag === "Deny" && decision.stop === true) stopped = decision
      if (decision !== undefined) yield* pending.decide(decision)
    })
    yield* Effect.forkScoped(Effect.forever(serve))
    return bridge.handler
  })

/**
 * {@link makeWith} with no options.
 *
 * @example
 * ```ts
 * import { Approval } from "toolgate"
 * import { TerminalApproval } from "toolgate/node"
 * const ApprovalLive = Approval.layer(TerminalApproval.make)
 * ```
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<Approval.ApprovalHandler, never, Terminal.Terminal | Scope.Scope> = makeWith()

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

/**
 * {@link layer} with {@link Options}.
 *
 * @example
 * ```ts
 * import { BuiltinTools, TerminalApproval } from "toolgate/node"
 * const ApprovalLive = TerminalApproval.layerWith({ validate: TerminalApproval.validateWith(BuiltinTools.toolkit) })
 * ```
 *
 * @since 0.1.0
 */
export const layerWith = (options: Options): Layer.Layer<never, never, Terminal.Terminal> => Approval.layer(makeWith(options))
