/**
 * A control group per sandboxed call, where the host lets toolgate make one:
 * rlimits bound each process (2 GiB of data each, 256 processes), which
 * leaves a call that forks 200 hogs free to take 400 GiB; a cgroup bounds the
 * call as a whole (memory with its page cache and tmpfs pages, and its
 * process count), and the kernel's OOM killer then stops the call, not the
 * machine.
 *
 * toolgate joins no cgroup itself. The sandbox's launcher (`sandbox.ts`), a
 * shell running as toolgate's user before it drops to the sandbox's,
 * makes `toolgate-$$` under each base this module found writable, writes the
 * limits, moves itself in and then execs bubblewrap: everything the call
 * starts is inside from its first fork. When the call ends the runner kills
 * the sandbox's PID namespace and {@link sweep} removes the empty groups.
 *
 * Both layouts are read: cgroup v2 (one unified tree, `memory.max` and
 * `pids.max` in the same directory; used only when the controllers are
 * already delegated to toolgate's own group's children) and v1 (a tree per
 * controller, `memory.limit_in_bytes` and `pids.max`). Nothing found
 * writable: no cgroup, the rlimits alone (the README says how to give
 * toolgate a delegated cgroup).
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"

/** Where the launcher makes a call's groups, and in which files it writes the limits. */
export interface Cgroups {
  /** the directory holding the memory group's parent, and the file of its limit */
  readonly memory: { readonly base: string; readonly file: string } | undefined
  /** the directory holding the pids group's parent */
  readonly pids: { readonly base: string } | undefined
}

const root = "/sys/fs/cgroup"

// toolgate's own group in each hierarchy, from /proc/self/cgroup:
// `4:memory:/a/b` (v1) and `0::/a/b` (v2).
const ownGroups = (): ReadonlyMap<string, string> => {
  const out = new Map<string, string>()
  let text = ""
  try {
    text = NodeFs.readFileSync("/proc/self/cgroup", "utf8")
  } catch {
    return out
  }
  for (const line of text.split("\n")) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line)
    if (m === null) continue
    for (const controller of m[1] === "" ? ["unified"] : m[1]!.split(",")) out.set(controller, m[2]!)
  }
  return out
}

const readable = (file: string): string | undefined => {
  try {
    return NodeFs.readFileSync(file, "utf8")
  } catch {
    return undefined
  }
}

// Can a child group be made under `base`, and its limit file written?
const probe = (base: string, files: ReadonlyArray<readonly [string, string]>): boolean => {
  const dir = NodePath.join(base, `toolgate-probe-${process.pid}`)
  try {
    NodeFs.mkdirSync(dir)
  } catch {
    return false
  }
  try {
    for (const [file, value] of files) NodeFs.writeFileSync(NodePath.join(dir, file), value)
    return true
  } catch {
    return false
  } finally {
    try {
      NodeFs.rmdirSync(dir)
    } catch {
      // an empty group is removed by the next sweep
    }
  }
}

/** The cgroups toolgate may make for its calls here; both fields undefined when none. */
export const detect = (): Cgroups => {
  if (process.platform !== "linux") return { memory: undefined, pids: undefined }
  const own = ownGroups()
  // v2: the unified tree, mounted at /sys/fs/cgroup (pure v2) or /sys/fs/cgroup/unified (hybrid)
  const unified = own.get("unified")
  if (unified !== undefined) {
    for (const mount of [root, NodePath.join(root, "unified")]) {
      const base = NodePath.join(mount, unified)
      const delegated = readable(NodePath.join(base, "cgroup.subtree_control"))?.split(/\s+/) ?? []
      const memory = delegated.includes("memory") && probe(base, [["memory.max", "max"]])
      const pids = delegated.includes("pids") && probe(base, [["pids.max", "max"]])
      if (memory || pids) {
        return { memory: memory ? { base, file: "memory.max" } : undefined, pids: pids ? { base } : undefined }
      }
    }
  }
  // v1: a tree per controller
  const memoryGroup = own.get("memory")
  const pidsGroup = own.get("pids")
  const memoryBase = memoryGroup === undefined ? undefined : NodePath.join(root, "memory", memoryGroup)
  const pidsBase = pidsGroup === undefined ? undefined : NodePath.join(root, "pids", pidsGroup)
  return {
    memory: memoryBase !== undefined && probe(memoryBase, [["memory.limit_in_bytes", "-1"]])
      ? { base: memoryBase, file: "memory.limit_in_bytes" }
      : undefined,
    pids: pidsBase !== undefined && probe(pidsBase, [["pids.max", "max"]]) ? { base: pidsBase } : undefined
  }
}

/**
 * Removes the groups ended calls left under the bases (the kernel refuses to
 * remove a group that still holds a process: it is left for a later sweep),
 * and those of a launcher that is still running are not touched.
 */
export const sweep = (cgroups: Cgroups): void => {
  for (const base of new Set([cgroups.memory?.base, cgroups.pids?.base])) {
    if (base === undefined) continue
    let names: Array<string> = []
    try {
      names = NodeFs.readdirSync(base)
    } catch {
      continue
    }
    for (const name of names) {
      if (!name.startsWith("toolgate-")) continue
      // `toolgate-PID`: a launcher still alive (it became bubblewrap) may have made it and not joined it yet
      const pid = /^toolgate-(\d+)$/.exec(name)?.[1]
      if (pid !== undefined && NodeFs.existsSync(`/proc/${pid}`)) continue
      try {
        NodeFs.rmdirSync(NodePath.join(base, name))
      } catch {
        // still in use, or gone already
      }
    }
  }
}
