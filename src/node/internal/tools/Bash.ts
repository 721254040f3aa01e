/**
 * `Bash`: one `bash -c` command in the workspace root, bounded in time and
 * output (see `../bash.ts`), inside the bubblewrap sandbox when the layer has
 * one (see `../sandbox.ts`) and always with an allowlisted environment. What
 * the command may *do* is the policy's business; what it can *reach* is the
 * sandbox's.
 */
import { Duration, Effect, Schema } from "effect"
import { Tool } from "effect/ai"
import { ChildProcessSpawner } from "effect/process"
import * as PolicySubject from "../../../policy/PolicySubject.ts"
import * as ToolPolicy from "../../../ToolPolicy.ts"
import * as BashRun from "../bash.ts"
import type { Sandbox } from "../sandbox.ts"
import { CommandTimedOut, IoFailure, SandboxUnavailable } from "./errors.ts"

const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0))

export const Bash = PolicySubject.command("command")(Tool.make("Bash", {
  description: "Run a shell command with bash in the workspace root. Returns exit code, stdout and stderr; " +
    "a non-zero exit code is reported, not raised. Long output is truncated. timeout is in milliseconds. " +
    "The command may run in a sandbox: only the workspace writable, no network, a private /tmp, " +
    "no background process outliving the call.",
  parameters: Schema.Struct({
    command: Schema.String.annotate({ description: "The command, run as `bash -c command`" }),
    timeout: Schema.optional(PositiveInt.annotate({ description: "Timeout in milliseconds (capped by the host)" }))
  }),
  success: Schema.Struct({ exitCode: Schema.Number, stdout: Schema.String, stderr: Schema.String }),
  failure: Schema.Union([CommandTimedOut, SandboxUnavailable, IoFailure])
}))

// The policies `BuiltinTools.guard` built for an unsandboxed machine: the
// proof, checked at each unsandboxed call, that the policy in force is one
// under which no rule could have pre-approved the command. A module-private
// set of the policy objects themselves, not a mark on them (a `Symbol.for`
// brand anyone could forge) nor a service of its own (which proves only
// that someone provided it, not that the ToolPolicy in force is guarded).
const guarded = new WeakSet<ToolPolicy.ToolPolicy>()

/** Registers a policy `BuiltinTools.guard` built: every Bash call it would allow is asked or denied. */
export const markGuarded = <P extends ToolPolicy.ToolPolicy>(policy: P): P => {
  guarded.add(policy)
  return policy
}

/** The shortest timeout a call may ask for (the host's own `bash.timeout` may be shorter). */
export const minimumTimeout = Duration.seconds(1)

export interface Settings {
  readonly root: string
  readonly timeout: Duration.Duration
  readonly maxOutputBytes: number
  readonly env: Record<string, string>
  readonly sandbox: Sandbox | undefined
  /** Why there is no sandbox, when the user did not opt out: calls then need a guarded policy. */
  readonly unsandboxed: string | undefined
  readonly spawner: ChildProcessSpawner.ChildProcessSpawner["Service"]
}

export const handler = (settings: Settings) =>
  Effect.fn("toolgate.Bash")(function*({ command, timeout }: Tool.Parameters<typeof Bash>) {
    if (settings.sandbox === undefined && settings.unsandboxed !== undefined) {
      if (!guarded.has(yield* ToolPolicy.ToolPolicy)) {
        return yield* new SandboxUnavailable({
          reason: settings.unsandboxed,
          message: `Bash cannot run here: there is no sandbox (${settings.unsandboxed}) and the policy in force ` +
            `could have let the command through unasked. Install bubblewrap, wrap the policy with BuiltinTools.guard ` +
            `so that every command is asked, or opt out with sandbox: "none" (toolgate run --no-sandbox)`
        })
      }
    }
    // The model's timeout is clamped to [minimumTimeout, the host's]: a tiny
    // one would only race the sandbox's set-up.
    const limit = timeout === undefined
      ? settings.timeout
      : Duration.min(Duration.max(Duration.millis(timeout), minimumTimeout), settings.timeout)
    yield* Effect.annotateCurrentSpan({
      "toolgate.bash.timeoutMs": Duration.toMillis(limit),
      "toolgate.bash.sandbox": settings.sandbox?.kind ?? "none"
    })
    return yield* BashRun.run(command, {
      cwd: settings.root,
      timeout: limit,
      maxOutputBytes: settings.maxOutputBytes,
      env: settings.env,
      sandbox: settings.sandbox
    }).pipe(
      Effect.provideService(ChildProcessSpawner.ChildProcessSpawner, settings.spawner),
      Effect.mapError((error) =>
        error._tag === "TimedOut"
          ? new CommandTimedOut({
            command,
            timeoutMs: Duration.toMillis(limit),
            stdout: error.stdout,
            stderr: error.stderr,
            message: `the command did not finish within ${Duration.format(limit)} and was killed`
          })
          : new IoFailure({ path: settings.root, message: `could not run bash: ${error.message}` })
      )
    )
  })
