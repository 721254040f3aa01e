/**
 * Watching real processes from a test: whether one is alive, and finding a
 * command's children by a unique argument (a sandboxed command's `$!` is a
 * pid in its own namespace, meaningless on the host).
 */
import { Effect } from "effect"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  // A killed child whose parent died may linger as a zombie until init reaps it.
  try {
    return !/^\d+ \(.*\) Z/.test(NodeFs.readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return false
  }
}

/**
 * Host pids of live processes whose command line contains `marker`. A
 * sandboxed command's `$!` is a pid in its own namespace, so tests find its
 * children by a unique argument instead.
 */
export const hostPids = (marker: string): Array<number> =>
  NodeFs.readdirSync("/proc").filter((name) => /^\d+$/.test(name)).flatMap((name) => {
    try {
      const cmdline = NodeFs.readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ")
      return cmdline.includes(marker) && isAlive(Number(name)) ? [Number(name)] : []
    } catch {
      return []
    }
  })

/**
 * Host pids of the `sleep MARKER` process itself, not of the bubblewrap or
 * bash processes whose command lines also carry the marker: once it runs,
 * the sandbox around it is fully set up.
 */
export const sleepPids = (marker: string): Array<number> =>
  hostPids(marker).filter((pid) => {
    try {
      return NodeFs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim() === `sleep ${marker}`
    } catch {
      return false
    }
  })

/** A `sleep` argument no other process uses. */
export const uniqueSleep = () => `${30 + Math.floor(Math.random() * 1000)}.${Math.floor(Math.random() * 1e6)}`

/**
 * Polls (real time: a real process) until no process runs with `marker`, for
 * up to 5 seconds: a kill is prompt, but a loaded CI machine may take a while
 * to schedule the dying processes and this scan.
 */
export const diesWithin5s = (marker: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 250; i++) {
      if (hostPids(marker).length === 0) return true
      yield* Effect.sleep("20 millis")
    }
    return hostPids(marker).length === 0
  })

/**
 * Whether bubblewrap can make a sandbox on this machine (tried once, for
 * real); tests that need it skip with a message naming the package.
 */
export const sandboxAvailable: boolean = (() => {
  const probe = NodeChild.spawnSync("bwrap", [
    "--unshare-user",
    "--unshare-pid",
    "--unshare-net",
    "--die-with-parent",
    "--ro-bind",
    "/",
    "/",
    "--proc",
    "/proc",
    "--",
    "/bin/sh",
    "-c",
    "exit 0"
  ], { timeout: 10_000 })
  if (probe.status !== 0 && process.env.CI === "true") {
    // CI installs bubblewrap: there a missing sandbox is a failure, not a skip.
    throw new Error("CI=true but bubblewrap (Debian package `bubblewrap`) cannot create a sandbox here")
  }
  if (probe.status !== 0) {
    console.warn("skipping the sandbox tests: bubblewrap (Debian package `bubblewrap`) is missing or cannot create a sandbox here")
  }
  return probe.status === 0
})()
