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
import { Data, Deferred, Duration, Effect, Fiber, Ref, Stream } from "effect"
import * as NodeFs from "node:fs"
import { ChildProcess, type ChildProcessSpawner } from "effect/process"
import type { PlatformError } from "effect/PlatformError"
import * as DomainProxy from "./domainProxy.ts"
import * as Cgroup from "./cgroup.ts"
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

// After a SIGKILL, how long the sandbox may take to be reaped.
const sandboxReapGrace = Duration.millis(500)

const killQuietly = (pid: number) => {
  try {
    process.kill(pid, "SIGKILL")
  } catch {
    // already gone
  }
}

/**
 * Whether a process other than a zombie is in process group `group`: a
 * zombie runs nothing, and the one bubblewrap leaves (the namespace's init,
 * reparented to the host's PID 1) is not ours to reap.
 */
const groupRuns = (group: number): boolean =>
  NodeFs.readdirSync("/proc").some((name) => {
    if (!/^\d+$/.test(name)) return false
    try {
      const stat = NodeFs.readFileSync(`/proc/${name}/stat`, "utf8")
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      return Number(fields[2]) === group && fields[0] !== "Z"
    } catch {
      return false
    }
  })

/**
 * A descriptor of the user namespace `pid` is in now, if it is still the
 * one bubblewrap created first — the owner of the sandbox's network
 * namespace. A non-root user can enter that network namespace only from
 * inside its owner, and bubblewrap soon moves the init into a nested user
 * namespace (to mount `/dev/pts` it maps the user to 0 first, then maps it
 * back in a child namespace), which cannot enter it. The first map is
 * `0 UID 1`, the nested one `UID UID 1`: read after opening, the map says
 * whether the descriptor is the first namespace. `undefined` when too late
 * (the call then has no network at all).
 */
const outerUserns = (pid: number): number | undefined => {
  let fd: number
  try {
    fd = NodeFs.openSync(`/proc/${pid}/ns/user`, "r")
  } catch {
    return undefined
  }
  try {
    const map = NodeFs.readFileSync(`/proc/${pid}/uid_map`, "utf8").trim()
    if (map === "" || /^0\s/.test(map)) return fd
  } catch {
    // gone
  }
  NodeFs.closeSync(fd)
  return undefined
}

/** Host pids whose parent is `parent` (a scan of /proc: no process is signalled by name). */
const childrenOf = (parent: number): Array<number> =>
  NodeFs.readdirSync("/proc").flatMap((name) => {
    if (!/^\d+$/.test(name)) return []
    try {
      const stat = NodeFs.readFileSync(`/proc/${name}/stat`, "utf8")
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === parent ? [Number(name)] : []
    } catch {
      return []
    }
  })

/**
 * The sandbox's init from bubblewrap's `--info-fd` JSON, trusted only when
 * it is a child of the bubblewrap process we started (`parent`): nothing
 * inside the sandbox can make toolgate signal another process.
 */
export const initPid = (info: string, parent: number): number | undefined => {
  const pid = Number(/"child-pid"\s*:\s*(\d+)/.exec(info)?.[1])
  if (!Number.isSafeInteger(pid) || pid <= 1) return undefined
  try {
    const stat = NodeFs.readFileSync(`/proc/${pid}/stat`, "utf8")
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
    return ppid === parent ? pid : undefined
  } catch {
    return undefined
  }
}

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

    const sandboxed = options.sandbox !== undefined
    const bridge = options.sandbox?.bridge
    const released = yield* Deferred.make<void>()
    const execute = Effect.gen(function*() {
      const [file, ...args] = [...(options.sandbox?.prefix ?? []), "bash", "-c", command]
      const handle = yield* ChildProcess.make(file!, args, {
        cwd: options.cwd,
        env: options.env,
        extendEnv: false,
        stdin: "ignore",
        // Its own process group and session, so that the command has no
        // controlling terminal (TIOCSTI) and the group can be signalled.
        // Unconfined, the spawner makes them (detached) and kills the group.
        // In the sandbox the prefix's `setsid` makes them instead and the
        // spawner is left only the leader: bubblewrap exits as soon as the
        // command has, without reaping the namespace's init, which lingers
        // in its group as a zombie until the host's PID 1 reaps it. The
        // spawner counts zombies as live members of a group it owns, so
        // every call waited its whole SIGKILL grace (500 ms) plus a 1 s
        // poll: 1.3-1.6 s per call here, forever under a PID 1 that never
        // reaps (a container without --init). The finalizer below kills
        // the init, which is what takes the sandbox down.
        detached: options.sandbox === undefined || !options.sandbox.ownSession,
        // A sandboxed command is hostile: no grace. Unconfined (the user
        // opted out), SIGTERM lets the shell's children clean up first.
        killSignal: sandboxed ? "SIGKILL" : "SIGTERM",
        forceKillAfter: sandboxed ? sandboxReapGrace : Duration.seconds(2),
        // bubblewrap's --info-fd: the host pid of the sandbox's init; with
        // a domain allowlist, its --block-fd: one byte starts the command.
        ...(sandboxed
          ? {
            additionalFds: {
              fd3: { type: "output" as const },
              ...(bridge === undefined ? {} : {
                fd5: {
                  type: "input" as const,
                  stream: Stream.fromEffect(Deferred.await(released)).pipe(Stream.map(() => new Uint8Array([10])))
                }
              })
            }
          }
          : {})
      })
      if (sandboxed) {
        const init = yield* Ref.make<number | undefined>(undefined)
        const initKnown = yield* Deferred.make<number | undefined>()
        // The user namespace that owns the sandbox's network namespace,
        // held open from the moment its init is known (see `outerUserns`).
        let userns: number | undefined
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            if (userns !== undefined) NodeFs.closeSync(userns)
          })
        )
        let info = ""
        yield* handle.getOutputFd(3).pipe(
          Stream.decodeText(),
          Stream.runForEach((chunk) =>
            Effect.gen(function*() {
              if (info.length < 4096) info += chunk
              const pid = initPid(info, handle.pid)
              if (pid !== undefined && (yield* Ref.get(init)) === undefined) {
                if (bridge?.nsenter.includes("--user")) userns = outerUserns(pid)
                yield* Ref.set(init, pid)
                yield* Deferred.succeed(initKnown, pid)
              }
            })
          ),
          Effect.ensuring(Deferred.succeed(initKnown, undefined)),
          Effect.forkScoped
        )
        if (bridge !== undefined) {
          // The bridge to the domain proxy, in the sandbox's network
          // namespace, before the command may start. It dies with this
          // scope. Whatever goes wrong, the command is let go: without
          // the bridge it only has no network at all.
          yield* Effect.gen(function*() {
            const pid = yield* Deferred.await(initKnown)
            if (pid === undefined) return
            const [nsenter, ...namespaces] = bridge.nsenter
            const asOwner = namespaces.includes("--user")
            if (asOwner && userns === undefined) {
              yield* Effect.logWarning("toolgate: the sandbox's user namespace was not caught in time; this call has no network")
              return
            }
            const relay = yield* ChildProcess.make(nsenter!, [
              ...(asOwner
                ? [`--user=/proc/${process.pid}/fd/${userns}`, `--net=/proc/${pid}/ns/net`, "--preserve-credentials"]
                : [...namespaces, "-t", String(pid)]),
              "--",
              bridge.node,
              "-e",
              DomainProxy.bridgeScript,
              bridge.socket,
              String(DomainProxy.bridgePort)
            ], { env: { PATH: "/usr/bin:/bin" }, extendEnv: false, stdin: "ignore", killSignal: "SIGKILL" })
            yield* relay.stdout.pipe(
              Stream.decodeText(),
              Stream.takeUntil((text) => text.includes("ready")),
              Stream.runDrain,
              Effect.timeoutOption(Duration.seconds(10))
            )
          }).pipe(Effect.ignore, Effect.ensuring(Deferred.succeed(released, undefined)), Effect.forkScoped)
        }
        // Runs before the spawner's own clean-up (finalizers run in reverse).
        // SIGKILL the namespace's init, which takes every process in it down,
        // and let bubblewrap reap it and exit: killing the whole group at once
        // would leave the init a zombie for the host's init to reap, and the
        // spawner waits for the group to be empty. Before bubblewrap has
        // reported its init (still setting up), its children are killed, or
        // bubblewrap itself when it has none yet.
        // Last of all (finalizers run in reverse): remove the call's cgroups, empty by then.
        const cgroups = options.sandbox!.cgroups
        if (cgroups !== undefined) yield* Effect.addFinalizer(() => Effect.sync(() => Cgroup.sweep(cgroups)))
        yield* Effect.addFinalizer(() =>
          Effect.gen(function*() {
            for (let round = 0; round < 20 && (yield* handle.isRunning); round++) {
              const pid = yield* Ref.get(init)
              yield* Effect.sync(() => {
                const targets = pid !== undefined ? [pid] : childrenOf(handle.pid)
                for (const target of targets.length > 0 ? targets : [handle.pid]) killQuietly(target)
              })
              yield* handle.exitCode.pipe(Effect.timeoutOption(Duration.millis(25)), Effect.ignore)
            }
            if (!options.sandbox!.ownSession) return
            // The spawner waits only for bubblewrap (see `detached`): wait
            // here until nothing of the call's group runs, so that nothing
            // of a call outlives it. Killing the init empties the PID
            // namespace before the init itself is a zombie.
            yield* Effect.sync(() => {
              try {
                process.kill(-handle.pid, "SIGKILL")
              } catch {
                // the group is empty already
              }
            })
            for (let round = 0; round < 200 && groupRuns(handle.pid); round++) yield* Effect.sleep(Duration.millis(10))
          }).pipe(Effect.ignore)
        )
      }
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
