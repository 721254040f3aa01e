/**
 * A `Terminal` for tests: keys are fed by the test, and what is displayed is
 * replayed on a tiny screen model that understands the few ANSI sequences the
 * prompts use (erase line, cursor up, column 0), so a test can assert what is
 * on screen now, not merely what was ever written.
 */
import { type Cause, Effect, Option, Queue, Terminal } from "effect"

export interface ScriptedTerminal {
  readonly terminal: Terminal.Terminal
  /** Types each character of `text` as a key press. */
  readonly type: (text: string) => Effect.Effect<void>
  readonly press: (name: string, modifiers?: { readonly ctrl?: boolean }) => Effect.Effect<void>
  /** The screen as it looks now, ANSI styles dropped, trailing blanks trimmed. */
  readonly screen: () => string
  /** Everything ever displayed, styles dropped. */
  readonly transcript: () => string
  /** Yields until `predicate(screen)` holds (or gives up after many tries and returns false). */
  readonly waitFor: (predicate: (screen: string) => boolean) => Effect.Effect<boolean>
}

const key = (name: string, input: string | undefined, ctrl = false): Terminal.UserInput => ({
  input: Option.fromUndefinedOr(input),
  key: { name, ctrl, meta: false, shift: false }
})

const render = (writes: ReadonlyArray<string>): string => {
  const lines: Array<string> = [""]
  let row = 0
  let col = 0
  const text = writes.join("")
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === "\x1b") {
      const m = /^\x1b\[([0-9;?]*)([A-Za-z])/.exec(text.slice(i))
      if (m === null) continue
      i += m[0].length - 1
      const n = Number.parseInt(m[1] || "1", 10)
      if (m[2] === "K") lines[row] = ""
      else if (m[2] === "A") row = Math.max(0, row - n)
      else if (m[2] === "G") col = 0
      continue
    }
    if (c === "\x07") continue
    if (c === "\r") {
      col = 0
      continue
    }
    if (c === "\n") {
      row++
      col = 0
      if (lines[row] === undefined) lines[row] = ""
      continue
    }
    const line = (lines[row] ?? "").padEnd(col)
    lines[row] = line.slice(0, col) + c + line.slice(col + 1)
    col++
  }
  return lines.map((l) => l.trimEnd()).join("\n").trimEnd()
}

export const make = Effect.gen(function*() {
  const input = yield* Queue.unbounded<Terminal.UserInput, Cause.Done>()
  const writes: Array<string> = []
  const terminal = Terminal.make({
    columns: Effect.succeed(100),
    rows: Effect.succeed(40),
    size: Effect.die("not scripted"),
    readInput: Effect.succeed(input),
    readLine: Effect.die("not scripted"),
    display: (text) => Effect.sync(() => void writes.push(text))
  })
  const screen = () => render(writes)
  const scripted: ScriptedTerminal = {
    terminal,
    type: (text) => Effect.asVoid(Queue.offerAll(input, Array.from(text, (c) => key(c.toLowerCase(), c)))),
    // Like NodeTerminal, Ctrl-C and Ctrl-D end the input after delivering the key.
    press: (name, modifiers) =>
      Effect.asVoid(Queue.offer(input, key(name, undefined, modifiers?.ctrl === true))).pipe(
        Effect.andThen(modifiers?.ctrl === true && (name === "c" || name === "d") ? Queue.end(input) : Effect.void)
      ),
    screen,
    transcript: () => writes.join("").replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ""),
    waitFor: (predicate) =>
      Effect.gen(function*() {
        for (let i = 0; i < 2000; i++) {
          if (predicate(screen())) return true
          yield* Effect.yieldNow
        }
        return false
      })
  }
  return scripted
})
