/**
 * Running one `bash -c` command for the Bash tool, bounded in output and time,
 * inside the sandbox when there is one, always with an allowlisted
 * environment (never the host's).
 *
 * The process is spawned by effect/process in its own process group (the
 * Node spawner's default on POSIX), and the handle lives in a scope: when the
 * command finishes, times out or is interrupted, the scope closes and the
 * spawner signals the whole group, so `cmd &` children die with it. Output
 * is read as it comes and only the first `maxOutputBytes` of each stream are
 * kept; the rest is counted and dropped, so a chatty command can neither
 * block on a full pipe nor fill memory. In the sandbox the group is
 * bubblewrap's: killing it takes the command's PID namespace down with it.
 */
import { Data, Duration, Effect, Fiber, Stream } from "effect"
import { ChildProcess, type ChildProcessSpawner } from "effect/process"
import type { PlatformError } from "effect/PlatformError"
import type { Sandbox } from "./sandbox.ts"

export interface Output {
  readonly stdout: string
  readonly stderr: string
}

export interface Finished extends Output {
  readonly exitCode: number
}

export class TimedOut extends Data.TaggedError("TimedOut")<Output> {}

interface Collector {
  readonly push: (chunk: Uint8Array) => void
  readonly text: () => string
}

const collector = (limit: number): Collector => {
  const kept: Array<Uint8Array> = []
  let size = 0
  let dropped = 0
  return {
    push: (chunk) => {
      const room = limit - size
      if (room >= chunk.length) {
        kept.push(chunk)
        size += chunk.length
      } else {
        if (room > 0) kept.push(chunk.subarray(0, room))
        size += Math.max(room, 0)
        dropped += chunk.length - Math.max(room, 0)
      }
    },
    text: () => {
      const text = Buffer.concat(kept).toString("utf8")
      return dropped === 0 ? text : `${text}\n[output truncated: ${dropped} more bytes]`
    }
  }
}

// After the shell exits, a background child may still hold the pipes open;
// give the readers this long to drain what is buffered, then stop reading.
const drainGrace = Duration.millis(200)

export const run = (
  command: string,
  options: {
    readonly cwd: string
    readonly timeout: Duration.Duration
    readonly maxOutputBytes: number
    /** The complete environment of the command: nothing of the host's is inherited. */
    readonly env: Record<string, string>
    readonly sandbox: Sandbox | undefined
  }
): Effect.Effect<Finished, TimedOut | PlatformError, ChildProcessSpawner.ChildProcessSpawner> =>
  Effect.gen(function*() {
    const stdout = collector(options.maxOutputBytes)
    const stderr = collector(options.maxOutputBytes)
    const output = (): Output => ({ stdout: stdout.text(), stderr: stderr.text() })

    const execute = Effect.gen(function*() {
      const [file, ...args] = [...(options.sandbox?.prefix ?? []), "bash", "-c", command]
      const handle = yield* ChildProcess.make(file!, args, {
        cwd: options.cwd,
        env: options.env,
        extendEnv: false,
        stdin: "ignore",
        // Its own process group (the default on POSIX, spelled out because
        // the tree kill depends on it): the spawner signals the group.
        detached: true,
        // SIGTERM lets the shell's children clean up; a group that ignores it
        // is killed outright shortly after.
        killSignal: "SIGTERM",
        forceKillAfter: Duration.seconds(2)
      })
      const readers = yield* Effect.all([
        Stream.runForEach(handle.stdout, (chunk) => Effect.sync(() => stdout.push(chunk))),
        Stream.runForEach(handle.stderr, (chunk) => Effect.sync(() => stderr.push(chunk)))
      ], { concurrency: 2, discard: true }).pipe(Effect.forkScoped)
      const exitCode = yield* handle.exitCode
      yield* Fiber.join(readers).pipe(Effect.timeoutOption(drainGrace), Effect.ignore)
      yield* Fiber.interrupt(readers)
      return { exitCode: exitCode as number, ...output() }
    }).pipe(Effect.scoped)

    const finished = yield* Effect.timeoutOption(execute, options.timeout)
    if (finished._tag === "None") return yield* new TimedOut(output())
    return finished.value
  })
