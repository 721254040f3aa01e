/**
 * The operating-system sandbox the Bash tool runs commands in: bubblewrap on
 * Linux. It decides what a running command can reach, whatever the policy let
 * through. The threat model and every mount and limit are in docs/sandbox.md;
 * in short:
 *
 * - **Files:** the workspace read-write, the rest of the file system
 *   read-only, the homes, `/run` and the host's secret files absent (see
 *   `credentials.ts`), a private sized `/tmp`, `.git` and the other protected
 *   paths read-only.
 * - **Kernel knobs:** `/proc/sys`, `/proc/sysrq-trigger`, `/proc/irq`,
 *   `/proc/bus`, `/proc/fs` are bound read-only over the sandbox's own
 *   `/proc` (bubblewrap only covers them when its own access check says they
 *   are writable, which uid 0 defeats); `/sys` is read-only with `/`.
 * - **Who:** when toolgate runs as root, bubblewrap itself runs as a non-root
 *   host uid (`setpriv`), so uid 0 inside is not host root (a user namespace
 *   created by root maps its root to host root); the workspace is made
 *   writable to that uid with an ACL. No capabilities in any case.
 * - **Kernel interfaces:** a seccomp filter (`seccomp.ts`) refuses new
 *   namespaces, mounts, ptrace, keyrings, bpf, io_uring and Unix sockets.
 * - **Descriptors:** every descriptor above 2 is closed before bubblewrap
 *   starts (the launcher below), whatever toolgate inherited.
 * - **Limits:** processes, memory, file size, open files and CPU time per
 *   process (rlimits set by the launcher), the size of `/tmp`, and, where
 *   the host lets toolgate make cgroups, memory and processes of the whole
 *   call (`cgroup.ts`).
 * - **Network:** none (its own namespace), all, or HTTP(S) to listed names
 *   through a filtering proxy bridged into the namespace from the host
 *   (`domainProxy.ts`; bubblewrap waits on `--block-fd 5` for the bridge).
 * - **Lifetime:** its own PID namespace and its own session (`setsid`);
 *   bubblewrap reports the namespace's init on `--info-fd 3`, and the runner
 *   kills that init (so the whole namespace) when a call ends, then waits
 *   until nothing of the session's group runs (see `bash.ts`).
 *
 * `detect` runs the real sandbox once on a no-op: a machine where bubblewrap
 * is installed but user namespaces are disabled reports itself unusable here,
 * not at the first command.
 */
import { Effect } from "effect"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as Cgroup from "./cgroup.ts"
import * as Credentials from "./credentials.ts"
import * as Seccomp from "./seccomp.ts"

export type Network = "none" | "all"

/** Per-process resource limits of a sandboxed command (rlimits) and the size of its `/tmp`. */
export interface Limits {
  /** Processes of the sandbox's host uid (`RLIMIT_NPROC`): bounds a fork bomb. */
  readonly processes: number
  /** Data segment of each process, bytes (`RLIMIT_DATA`: heap and private writable mappings). */
  readonly memoryBytes: number
  /** Largest file a process may write, bytes (`RLIMIT_FSIZE`). */
  readonly fileSizeBytes: number
  /** Open descriptors per process (`RLIMIT_NOFILE`). */
  readonly openFiles: number
  /** CPU time per process, seconds (`RLIMIT_CPU`). */
  readonly cpuSeconds: number
  /** Size of the private `/tmp` (a tmpfs, which is memory). */
  readonly tmpBytes: number
  /**
   * Memory of the whole call, all its processes together (page cache and
   * `/tmp` included), when the host lets toolgate make a cgroup (`cgroup.ts`);
   * the call's processes are then bounded by `processes` as a group too.
   */
  readonly callMemoryBytes: number
}

/**
 * Defaults sized for a 2-core machine shared with other work: a fork bomb
 * stops at 256 processes beyond those the uid already runs, a memory hog at
 * 2 GiB per process and, where a cgroup can be made, 4 GiB for the call.
 */
export const defaultLimits: Limits = {
  processes: 256,
  memoryBytes: 2 * 1024 ** 3,
  fileSizeBytes: 1024 ** 3,
  openFiles: 1024,
  cpuSeconds: 600,
  tmpBytes: 512 * 1024 ** 2,
  callMemoryBytes: 4 * 1024 ** 3
}

/** The host uid and gid bubblewrap runs as when toolgate is root (see {@link Settings.runAs}). */
export const defaultSandboxUser = { uid: 61000, gid: 61000 } as const

export interface Settings {
  /** The workspace, bound read-write at its real path. */
  readonly root: string
  readonly network: Network
  /**
   * Paths bound read-only over the writable root (`.git`, agent settings,
   * policy files, audit log). Each directory between the root and such a
   * path is bound onto itself (still writable) so that it becomes a mount
   * point, which cannot be renamed or removed: replacing a parent directory
   * cannot swap the protected file for another.
   */
  readonly readOnly: ReadonlyArray<string>
  /**
   * Protected directories that do not exist yet (`.git` of a workspace that
   * is no repository): an empty private tmpfs is mounted there, so a command
   * cannot plant one the host runs later. bubblewrap leaves the empty mount
   * point directory behind in the workspace.
   */
  readonly absent: ReadonlyArray<string>
  /** Let commands create Unix sockets (off: the seccomp filter refuses `socket(AF_UNIX)`). */
  readonly allowUnixSockets: boolean
  /**
   * The host side of the domain allowlist (`domainProxy.ts`): with
   * `network: "none"`, each call's network namespace gets a bridge to this
   * proxy socket before its command starts.
   */
  readonly proxySocket?: string | undefined
  readonly limits: Limits
  /**
   * The non-root host user bubblewrap runs as when toolgate is root;
   * `undefined` keeps toolgate's own uid (as root: uid 0 inside is then host
   * root, kept away from the kernel's knobs only by the read-only mounts).
   */
  readonly runAs: { readonly uid: number; readonly gid: number } | undefined
}

/**
 * How to start a command in the sandbox: the program and its arguments
 * before `bash -c …`. The process started must get a pipe as descriptor 3:
 * bubblewrap writes `{"child-pid": N}` there, the host pid of the sandbox's
 * init.
 */
export interface Sandbox {
  readonly kind: "bubblewrap"
  readonly prefix: ReadonlyArray<string>
  /**
   * The prefix makes bubblewrap the leader of a new session itself
   * (util-linux `setsid`), so the runner spawns it attached: see
   * `bash.ts` for why the spawner must not own its process group.
   */
  readonly ownSession: boolean
  /** The cgroups the launcher makes for each call (`cgroup.ts`); swept when a call ends. */
  readonly cgroups?: Cgroup.Cgroups | undefined
  /**
   * When set, bubblewrap holds the command (`--block-fd 5`) until the runner
   * has started the bridge to the domain proxy in the sandbox's network
   * namespace (`nsenter -t INIT --net`) and written a byte to descriptor 5.
   */
  readonly bridge?: {
    readonly socket: string
    /** `nsenter` and its namespace options, before `-t PID`. */
    readonly nsenter: ReadonlyArray<string>
    readonly node: string
  } | undefined
}

export type Detected =
  | { readonly _tag: "Available"; readonly sandbox: Sandbox }
  | { readonly _tag: "Unavailable"; readonly reason: string }

/** Directories where user and service secrets live; shadowed by an empty tmpfs. */
const hiddenDirectories = (): ReadonlyArray<string> => {
  const home = NodeOs.homedir()
  // A service account's home may be "/": hiding it would hide everything.
  return ["/home", "/root", "/run", "/var/run", ...Credentials.hostSecretDirectories, ...(home === "/" ? [] : [home])]
}

/** Every shadow-like file of `/etc` and `/etc/security`, found by name, not listed. */
const hostSecretFiles = (): ReadonlyArray<string> =>
  ["/etc", "/etc/security"].flatMap((dir) => {
    try {
      return NodeFs.readdirSync(dir).filter(Credentials.isHostSecretName).map((name) => NodePath.join(dir, name))
    } catch {
      return []
    }
  })

/** Kernel interfaces in `/proc` bound read-only over the sandbox's own `/proc`. */
const procReadOnly = ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs", "/proc/acpi"]
/** `/proc` files that show kernel memory or other users' state; hidden. */
const procHidden = ["/proc/kcore", "/proc/kallsyms", "/proc/timer_list", "/proc/sched_debug", "/proc/keys", "/proc/key-users"]

const exists = (path: string): boolean => {
  try {
    NodeFs.lstatSync(path)
    return true
  } catch {
    return false
  }
}

/** A mount target must not be a symbolic link (bwrap would follow it): /var/run → /run is one. */
const isRealDirectory = (path: string): boolean => {
  try {
    return NodeFs.lstatSync(path).isDirectory()
  } catch {
    return false
  }
}

const isWithin = (root: string, path: string): boolean => {
  const rel = NodePath.relative(root, path)
  return rel !== "" && !rel.startsWith("..") && !NodePath.isAbsolute(rel)
}

/** `name` on PATH; `system` also looks in the system directories (setpriv and setfacl may live in sbin). */
const findProgram = (name: string, system = false): string | undefined => {
  const path = (process.env.PATH ?? "/usr/bin:/bin").split(NodePath.delimiter)
  for (const dir of system ? [...path, "/usr/sbin", "/sbin", "/usr/bin", "/bin"] : path) {
    if (dir === "") continue
    const candidate = NodePath.join(dir, name)
    try {
      NodeFs.accessSync(candidate, NodeFs.constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/**
 * Credential files and directories already in the workspace (`.env`,
 * `.npmrc`…), found by a bounded walk that skips `node_modules` and `.git`:
 * the sandbox hides each. One created later by a command is the command's
 * own; the file tools check every path they touch by name.
 */
export const workspaceCredentials = (root: string, budget = 20_000): Array<string> => {
  const found: Array<string> = []
  const queue = [root]
  let seen = 0
  while (queue.length > 0 && seen < budget) {
    const dir = queue.shift()!
    let entries: Array<NodeFs.Dirent>
    try {
      entries = NodeFs.readdirSync(dir, { withFileTypes: true })
    } catch {
      continue
    }
    for (const entry of entries) {
      seen++
      const path = NodePath.join(dir, entry.name)
      if (Credentials.isCredentialName(entry.name) && (entry.isFile() || entry.isDirectory())) found.push(path)
      else if (entry.isDirectory() && entry.name !== "node_modules" && entry.name !== ".git") queue.push(path)
    }
  }
  return found
}

/**
 * What of git's a command must not change, the model being: **`.git` is
 * read-only to commands, whole** (git writes — commit, fetch, checkout of
 * new branches — are done by the host, not in the sandbox). Besides `.git`
 * itself: when `.git` is a `gitdir:` file, the directory it names and that
 * directory's `commondir`, and the directory `core.hooksPath` names, when
 * they lie in the workspace. Read from the files, never by running git in the
 * workspace (which could run its `core.fsmonitor`).
 */
export const gitProtected = (root: string): Array<string> => {
  const found = [NodePath.join(root, ".git")]
  const read = (path: string): string | undefined => {
    try {
      return NodeFs.readFileSync(path, "utf8")
    } catch {
      return undefined
    }
  }
  let gitdir = NodePath.join(root, ".git")
  const file = NodeFs.existsSync(gitdir) && !isRealDirectory(gitdir) ? read(gitdir) : undefined
  const pointer = file?.match(/^gitdir:\s*(.+?)\s*$/m)?.[1]
  if (pointer !== undefined) {
    gitdir = NodePath.resolve(root, pointer)
    found.push(gitdir)
    const common = read(NodePath.join(gitdir, "commondir"))?.trim()
    if (common) found.push(NodePath.resolve(gitdir, common))
  }
  const config = [read(NodePath.join(gitdir, "config")), ...found.slice(2).map((d) => read(NodePath.join(d, "config")))]
    .join("\n")
  // [core] hooksPath = dir, in any spelling git accepts for the key.
  for (const match of config.matchAll(/^\s*hookspath\s*=\s*"?([^"\n]+?)"?\s*$/gim)) {
    const dir = match[1]!.replace(/^~(?=\/)/, NodeOs.homedir())
    found.push(NodePath.resolve(root, dir))
  }
  return found.filter((path) => path === root || isWithin(root, path))
}

/** The bubblewrap arguments for `settings`; `bash -c command` follows them. */
export const bubblewrapArguments = (settings: Settings): Array<string> => {
  const args = [
    "--die-with-parent",
    // No --new-session: the runner spawns bubblewrap as the leader of a new
    // session without a controlling terminal (so TIOCSTI has no target) and
    // kills its process group, which must include the sandbox's init.
    "--unshare-user",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    ...(settings.network === "none" ? ["--unshare-net"] : []),
    "--cap-drop",
    "ALL",
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc"
  ]
  for (const path of procReadOnly) if (exists(path)) args.push("--ro-bind", path, path)
  for (const path of procHidden) if (exists(path)) args.push("--ro-bind", "/dev/null", path)
  args.push(
    "--size",
    String(settings.limits.tmpBytes),
    "--tmpfs",
    "/tmp",
    "--size",
    String(settings.limits.tmpBytes),
    "--tmpfs",
    "/var/tmp",
    "--size",
    String(settings.limits.tmpBytes),
    "--tmpfs",
    "/dev/shm"
  )
  const hidden = [...new Set(hiddenDirectories())].filter(isRealDirectory)
  // Outer directories first, so that an inner one is hidden inside the tmpfs
  // (harmless) rather than shadowing the outer's tmpfs.
  hidden.sort((a, b) => a.length - b.length)
  for (const dir of hidden) {
    if (hidden.some((outer) => isWithin(outer, dir))) continue
    args.push("--tmpfs", dir)
  }
  for (const file of hostSecretFiles()) args.push("--ro-bind", "/dev/null", file)
  if (settings.network === "all") {
    // /etc/resolv.conf often points into /run, hidden above: bring the resolver's file back.
    try {
      const resolv = NodeFs.realpathSync("/etc/resolv.conf")
      if (resolv !== "/etc/resolv.conf") args.push("--ro-bind", resolv, resolv)
    } catch {
      // no resolver configured
    }
  }
  // The workspace last: it is writable even when it lives under a hidden directory.
  args.push("--bind", settings.root, settings.root)
  const frozen = settings.readOnly.filter(exists)
  const ancestors = new Set<string>()
  for (const path of frozen) {
    for (let dir = NodePath.dirname(path); isWithin(settings.root, dir); dir = NodePath.dirname(dir)) ancestors.add(dir)
  }
  for (const dir of [...ancestors].sort((a, b) => a.length - b.length)) {
    if (isRealDirectory(dir)) args.push("--bind", dir, dir)
  }
  for (const path of frozen) args.push("--ro-bind", path, path)
  for (const path of settings.absent) if (!exists(path) && isWithin(settings.root, path)) args.push("--tmpfs", path)
  const credentials = [
    ...Credentials.homeCredentials.map((rel) => NodePath.join(NodeOs.homedir(), rel)).filter((path) =>
      isWithin(settings.root, path) && exists(path)
    ),
    ...workspaceCredentials(settings.root)
  ]
  for (const path of new Set(credentials)) {
    if (isRealDirectory(path)) args.push("--tmpfs", path)
    else args.push("--ro-bind", "/dev/null", path)
  }
  args.push("--chdir", settings.root, "--")
  return args
}

/**
 * The launcher: a `bash -c` script run on the host that closes every
 * descriptor above 3 (3 is bubblewrap's `--info-fd` pipe), sets the
 * rlimits, opens the seccomp program as descriptor 4 (and keeps 5, the
 * `--block-fd` pipe, when told to) and execs the rest of
 * its arguments. A shell rather than Node because Node cannot close
 * descriptors it inherited without knowing them, and bubblewrap closes
 * none. Arguments: processes, memory KiB, file size KiB, open files, CPU
 * seconds, the filter as `printf` escapes, the descriptor to keep (5) or
 * `-`, the memory cgroup's parent (or `-`), its limit file and bytes, the
 * pids cgroup's parent (or `-`) and its limit, then the program to exec.
 */
const launcher = `set -u
exec 4< <(printf "$6")
keep=$7
# reap printf now: a child left unreaped would become bubblewrap's, then the host init's.
# Its status is not checked: bash 5.2 reports -1 for about one process
# substitution in 300 (measured: 12 of 3000), which failed that many calls
# with 125. A filter printf did not write whole is refused by bubblewrap (the
# kernel rejects a program whose jumps leave it or that does not end in a
# return), so no command runs without its filter.
wait $! 2>/dev/null
for fd in /proc/self/fd/*; do
  fd=\${fd##*/}
  case $fd in 0|1|2|3|4|$keep) ;; *) eval "exec $fd>&-" ;; esac
done
limit() {
  local hard
  hard=$(ulimit -H "$1")
  if [ "$hard" = unlimited ] || [ "$2" -lt "$hard" ]; then ulimit -S -H "$1" "$2"; else ulimit -S "$1" "$hard"; fi
}
limit -u "$1" && limit -d "$2" && limit -f "$3" && limit -n "$4" && limit -t "$5" && ulimit -S -H -c 0 || {
  echo "toolgate: could not set the sandbox's resource limits" >&2
  exit 125
}
# the call's own cgroups (cgroup.ts): made, limited and joined before anything forks
group() {
  [ "$1" = - ] && return 0
  mkdir -p "$1/toolgate-$$" && echo "$3" > "$1/toolgate-$$/$2" && echo $$ > "$1/toolgate-$$/cgroup.procs"
}
group "$8" "$9" "\${10}" && group "\${11}" pids.max "\${12}" || {
  echo "toolgate: could not put the call in its cgroup" >&2
  exit 125
}
shift 12
exec "$@"`

/** Processes the host uid already runs: the process limit counts them too. */
const processesOf = (uid: number): number =>
  NodeFs.readdirSync("/proc").filter((name) => {
    if (!/^\d+$/.test(name)) return false
    try {
      return NodeFs.statSync(`/proc/${name}`).uid === uid
    } catch {
      return false
    }
  }).length

/** The full prefix: launcher, optional `setpriv`, bubblewrap and its arguments. */
const prefixFor = (
  programs: {
    readonly bash: string
    readonly bwrap: string
    readonly setpriv: string | undefined
    readonly setsid: string | undefined
  },
  settings: Settings,
  arch: Seccomp.Arch,
  blocked: boolean,
  cgroups: Cgroup.Cgroups
): Array<string> => {
  const filter = Seccomp.encode(Seccomp.program(arch, { allowUnixSockets: settings.allowUnixSockets }))
  const escapes = Array.from(filter, (byte) => `\\x${byte.toString(16).padStart(2, "0")}`).join("")
  const uid = settings.runAs?.uid ?? process.getuid!()
  const kib = (bytes: number) => String(Math.max(1, Math.floor(bytes / 1024)))
  const limits = settings.limits
  const setpriv = settings.runAs === undefined ? [] : [
    programs.setpriv!,
    `--reuid=${settings.runAs.uid}`,
    `--regid=${settings.runAs.gid}`,
    "--clear-groups",
    "--inh-caps=-all",
    "--nnp",
    "--"
  ]
  return [
    // First, before the launcher forks anything: every process of the call
    // is then in the group `setsid` makes, which the runner waits out.
    ...(programs.setsid === undefined ? [] : [programs.setsid]),
    programs.bash,
    "-c",
    launcher,
    "toolgate-sandbox",
    String(limits.processes + (uid === 0 ? 0 : processesOf(uid))),
    kib(limits.memoryBytes),
    kib(limits.fileSizeBytes),
    String(limits.openFiles),
    String(limits.cpuSeconds),
    escapes,
    blocked ? "5" : "-",
    cgroups.memory?.base ?? "-",
    cgroups.memory?.file ?? "-",
    String(limits.callMemoryBytes),
    cgroups.pids?.base ?? "-",
    String(limits.processes),
    ...setpriv,
    programs.bwrap,
    "--seccomp",
    "4",
    "--info-fd",
    "3",
    ...(blocked ? ["--block-fd", "5"] : []),
    ...bubblewrapArguments(settings)
  ]
}

/** Runs a program to its end; descriptor 3 is a pipe, as bubblewrap's `--info-fd 3` needs. */
const run = (file: string, args: ReadonlyArray<string>): Effect.Effect<{ ok: boolean; detail: string }> =>
  Effect.callback((resume) => {
    const child = NodeChild.spawn(file, [...args], {
      env: { PATH: "/usr/bin:/bin" },
      stdio: ["ignore", "ignore", "pipe", "pipe"],
      timeout: 30_000,
      killSignal: "SIGKILL"
    })
    let stderr = ""
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk
    })
    child.stdio[3]!.on("data", () => {}).on("error", () => {})
    child.on("error", (error) => resume(Effect.succeed({ ok: false, detail: error.message })))
    child.on("close", (code, signal) =>
      resume(Effect.succeed({
        ok: code === 0,
        detail: (stderr.trim().split("\n")[0] || (signal === null ? `exit ${code}` : `killed by ${signal}`))
      })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/**
 * Gives the sandbox's host user the workspace: read, write and search on
 * every entry, and the same as a default ACL on every directory so that
 * files created later (by the host's tools too) stay reachable, and search
 * permission on the directories above it that others cannot pass. Then
 * checks as that user that the root is writable.
 */
const grantWorkspace = (setfacl: string, setpriv: string, root: string, user: { uid: number; gid: number }) =>
  Effect.gen(function*() {
    const entry = `u:${user.uid}:rwX`
    const acl = yield* run(setfacl, ["-R", "-P", "-m", `${entry},d:${entry}`, root])
    if (!acl.ok) return `setfacl could not give uid ${user.uid} the workspace: ${acl.detail}`
    // Directories above the root closed to others (a workspace under /root or
    // in a 0700 temporary directory): search only, no listing. Harmless
    // outside the sandbox, where nothing runs as that uid; inside, the homes
    // are hidden anyway.
    for (let dir = NodePath.dirname(root); ; dir = NodePath.dirname(dir)) {
      if ((NodeFs.statSync(dir).mode & 0o001) === 0) {
        const search = yield* run(setfacl, ["-m", `u:${user.uid}:--x`, dir])
        if (!search.ok) return `setfacl could not let uid ${user.uid} pass through ${dir}: ${search.detail}`
      }
      if (dir === NodePath.dirname(dir)) break
    }
    const check = yield* run(setpriv, [
      `--reuid=${user.uid}`,
      `--regid=${user.gid}`,
      "--clear-groups",
      "--",
      "/bin/sh",
      "-c",
      `test -w "$1" && test -x "$1"`,
      "sh",
      root
    ])
    return check.ok ? undefined : `uid ${user.uid} cannot reach ${root} (a directory above it is closed to other users)`
  })

/**
 * Finds a usable sandbox on this machine, trying it once. Never fails: what
 * is missing is the `reason` of `Unavailable`, worded for the user.
 */
export const detect = (settings: Settings, program?: string): Effect.Effect<Detected> =>
  Effect.gen(function*() {
    const unavailable = (reason: string): Detected => ({ _tag: "Unavailable", reason })
    if (process.platform !== "linux") {
      return unavailable(`no sandbox is implemented for ${process.platform} (bubblewrap is Linux only)`)
    }
    const arch = Seccomp.hostArch()
    if (arch === undefined) return unavailable(`no seccomp filter is written for ${process.arch}`)
    const bwrap = program ?? findProgram("bwrap")
    if (bwrap === undefined || (program !== undefined && !exists(program))) {
      return unavailable("bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)")
    }
    const bash = findProgram("bash")
    if (bash === undefined) return unavailable("bash is not installed")
    const setpriv = findProgram("setpriv", true)
    if (settings.runAs !== undefined) {
      if (setpriv === undefined) {
        return unavailable("toolgate runs as root and setpriv (Debian: util-linux) is missing to run commands as another user")
      }
      const setfacl = findProgram("setfacl", true)
      if (setfacl === undefined) {
        return unavailable(
          "toolgate runs as root and setfacl (Debian/Ubuntu: apt-get install acl) is missing to give the sandbox's user the workspace"
        )
      }
      const refused = yield* grantWorkspace(setfacl, setpriv, settings.root, settings.runAs)
      if (refused !== undefined) return unavailable(refused)
    }
    const setsid = findProgram("setsid", true)
    const nsenter = settings.proxySocket === undefined ? undefined : findProgram("nsenter", true)
    if (settings.proxySocket !== undefined && nsenter === undefined) {
      return unavailable("a domain allowlist needs nsenter (Debian: util-linux) to bridge the sandbox to its proxy")
    }
    const cgroups = Cgroup.detect()
    Cgroup.sweep(cgroups)
    const prefix = prefixFor({ bash, bwrap, setpriv, setsid }, settings, arch, false, cgroups)
    // One real run of the sandbox: catches disabled user namespaces (sysctl
    // kernel.unprivileged_userns_clone=0, AppArmor restrictions) up front.
    const tried = yield* run(prefix[0]!, [...prefix.slice(1), "/bin/sh", "-c", "exit 0"])
    return tried.ok
      ? {
        _tag: "Available",
        sandbox: settings.proxySocket === undefined
          ? { kind: "bubblewrap", prefix, ownSession: setsid !== undefined, cgroups }
          : {
            kind: "bubblewrap",
            prefix: prefixFor({ bash, bwrap, setpriv, setsid }, settings, arch, true, cgroups),
            ownSession: setsid !== undefined,
            cgroups,
            bridge: {
              socket: settings.proxySocket,
              // Root may enter the namespace as it is; another user enters
              // the user namespace it owns first, keeping its own uid.
              nsenter: process.getuid!() === 0 ? [nsenter!, "--net"] : [nsenter!, "--user", "--net", "--preserve-credentials"],
              node: process.execPath
            }
          }
      } as const
      : unavailable(`bubblewrap is installed but cannot create a sandbox here: ${tried.detail}`)
  })

/** Names of variables that pass into a command unless the user says otherwise. */
export const defaultEnvironment = ["PATH", "LANG", "LANGUAGE", "TERM", "TZ", "COLORTERM", "NO_COLOR"]

/**
 * The environment a command sees: the allowlisted variables of `parent`
 * (`LC_*` included), the `extra` names the user passed explicitly, `HOME`
 * set to `home`, nothing else.
 */
export const environment = (
  parent: NodeJS.ProcessEnv,
  extra: ReadonlyArray<string>,
  home: string
): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue
    if (defaultEnvironment.includes(name) || name.startsWith("LC_") || extra.includes(name)) env[name] = value
  }
  env.HOME = home
  env.PATH ??= "/usr/local/bin:/usr/bin:/bin"
  return env
}
