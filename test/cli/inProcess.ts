/**
 * The `toolgate` command run in this process, as the binary runs it but with
 * the output captured: stdout (console and terminal, in the order written),
 * stderr, and the exit status the binary would end with. No terminal is
 * attached, and the environment is what the test gives (none of the
 * caller's `ANTHROPIC_*`, `OPENAI_*` or `TOOLGATE_*` variables leak in).
 *
 * A spawned Node costs a second or two of start-up and proves only that the
 * binary starts; `run.test.ts` keeps a few spawned runs for that.
 */
import { NodeServices } from "@effect/platform-node"
import { Cause, ConfigProvider, Console, Effect, Exit, Layer, Stdio, Terminal } from "effect"
import * as NodeConsole from "node:console"
import { Writable } from "node:stream"
import { Exit as ExitStatus } from "../../src/cli/check.ts"
import { cli } from "../../src/cli/command.ts"

export interface Output {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** The output while the command runs. */
export interface Capture {
  /** Resolves with the first match of `pattern` in stdout, as soon as it is written. */
  readonly stdoutMatch: (pattern: RegExp) => Promise<RegExpExecArray>
  /** Interrupts the command (as Ctrl-C would); a no-op once it has ended. */
  readonly stop: () => void
}

const sink = (write: (text: string) => void) =>
  new Writable({
    write(chunk, _encoding, done) {
      write(String(chunk))
      done()
    }
  })

/**
 * Runs `toolgate ARGS` in-process. `env` is the whole environment the
 * command's configuration reads (provider keys and base URLs, OTLP).
 * `onStart` receives the live output, for a test that must act while the
 * command runs (answer a call in the web console).
 */
export const toolgate = (
  args: ReadonlyArray<string>,
  env: Record<string, string> = {},
  onStart?: (capture: Capture) => void
): Promise<Output> => {
  let stdout = ""
  let stderr = ""
  const waiting = new Set<() => void>()
  const out = (text: string) => {
    stdout += text
    for (const check of waiting) check()
  }
  const stdoutMatch = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve) => {
      const check = () => {
        const match = pattern.exec(stdout)
        if (match === null) return
        waiting.delete(check)
        resolve(match)
      }
      waiting.add(check)
      check()
    })
  const console = new NodeConsole.Console({
    stdout: sink(out),
    stderr: sink((text) => stderr += text)
  })
  const terminal = Terminal.make({
    columns: Effect.succeed(80),
    rows: Effect.succeed(24),
    size: Effect.die("no terminal in an in-process run"),
    readInput: Effect.die("no terminal in an in-process run"),
    readLine: Effect.die("no terminal in an in-process run"),
    display: (text) => Effect.sync(() => out(text))
  })
  const services = Layer.mergeAll(
    Layer.succeed(Terminal.Terminal, terminal),
    Stdio.layerTest({
      args: Effect.succeed(args),
      stdinIsTerminal: Effect.succeed(false),
      stdoutIsTerminal: Effect.succeed(false),
      stderrIsTerminal: Effect.succeed(false)
    }),
    ConfigProvider.layer(ConfigProvider.fromEnv({ env }))
  )
  const abort = new AbortController()
  onStart?.({ stdoutMatch, stop: () => abort.abort() })
  return Effect.runPromiseExit(
    cli(args).pipe(
      Effect.provideService(Console.Console, console),
      Effect.provide(services),
      Effect.provide(NodeServices.layer)
    ),
    { signal: abort.signal }
  ).then((exit) => {
    if (Exit.isSuccess(exit)) return { code: 0, stdout, stderr }
    const failure = exit.cause.reasons.find(Cause.isFailReason)?.error
    if (failure instanceof ExitStatus) return { code: failure.code, stdout, stderr }
    return { code: 1, stdout, stderr: `${stderr}${Cause.pretty(exit.cause)}\n` }
  })
}
