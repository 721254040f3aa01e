/**
 * The operating-system sandbox the Bash tool runs commands in: bubblewrap on
 * Linux. It decides what a running command can reach, whatever the policy let
 * through: the workspace read-write, the rest of the file system read-only,
 * the homes, `/run` and the host's secret files absent, a private `/tmp`, no
 * network unless asked, its own PID namespace (when the command's shell
 * exits, the namespace's init exits and the kernel kills everything left in
 * it, `setsid` children included) and no capabilities, even when toolgate
 * runs as root (a root with `CAP_SYS_ADMIN` could remount `/` read-write).
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

export type Network = "none" | "all"

export interface Settings {
  /** The workspace, bound read-write at its real path. */
  readonly root: string
  readonly network: Network
  /** Paths inside the workspace bound read-only over the writable root (the agent's own settings). */
  readonly readOnly: ReadonlyArray<string>
}

/** How to start a command in the sandbox: the program and its arguments before `bash -c …`. */
export interface Sandbox {
  readonly kind: "bubblewrap"
  readonly prefix: ReadonlyArray<string>
}

export type Detected =
  | { readonly _tag: "Available"; readonly sandbox: Sandbox }
  | { readonly _tag: "Unavailable"; readonly reason: string }

/** Directories where user and service secrets live; shadowed by an empty tmpfs. */
const hiddenDirectories = (): ReadonlyArray<string> => {
  const home = NodeOs.homedir()
  // A service account's home may be "/": hiding it would hide everything.
  return ["/home", "/root", "/run", "/var/run", "/var/lib/docker", "/etc/ssh", ...(home === "/" ? [] : [home])]
}

/**
 * Single files that hold credentials; a device node is bound over each, which
 * the sandbox's `nodev` mounts make unreadable.
 */
const hiddenFiles = ["/etc/shadow", "/etc/gshadow", "/etc/sudoers"]

/**
 * Credentials under the home directory. The home is hidden as a whole; these
 * are hidden again when the workspace is the home or contains it.
 */
const homeCredentials = [
  ".ssh",
  ".gnupg",
  ".aws",
  ".azure",
  ".kube",
  ".docker",
  ".config/gcloud",
  ".config/gh",
  ".claude",
  ".toolgate",
  ".npmrc",
  ".netrc",
  ".git-credentials",
  ".pypirc"
]

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

const findBwrap = (): string | undefined => {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(NodePath.delimiter)) {
    if (dir === "") continue
    const candidate = NodePath.join(dir, "bwrap")
    try {
      NodeFs.accessSync(candidate, NodeFs.constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/** The bubblewrap arguments for `settings`; `bash -c command` follows them. */
export const bubblewrapArguments = (settings: Settings): Array<string> => {
  const args = [
    "--die-with-parent",
    "--new-session",
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
    "/proc",
    "--tmpfs",
    "/tmp",
    "--tmpfs",
    "/var/tmp",
    "--tmpfs",
    "/dev/shm"
  ]
  const hidden = [...new Set(hiddenDirectories())].filter(isRealDirectory)
  // Outer directories first, so that an inner one is hidden inside the tmpfs
  // (harmless) rather than shadowing the outer's tmpfs.
  hidden.sort((a, b) => a.length - b.length)
  for (const dir of hidden) args.push("--tmpfs", dir)
  for (const file of hiddenFiles) if (exists(file)) args.push("--ro-bind", "/dev/null", file)
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
  for (const path of settings.readOnly) if (exists(path)) args.push("--ro-bind", path, path)
  for (const rel of homeCredentials) {
    const path = NodePath.join(NodeOs.homedir(), rel)
    if (!isWithin(settings.root, path) || !exists(path)) continue
    if (isRealDirectory(path)) args.push("--tmpfs", path)
    else args.push("--ro-bind", "/dev/null", path)
  }
  args.push("--chdir", settings.root, "--")
  return args
}

/**
 * Finds a usable sandbox on this machine, trying it once. Never fails: what
 * is missing is the `reason` of `Unavailable`, worded for the user.
 */
export const detect = (settings: Settings, program?: string): Effect.Effect<Detected> =>
  Effect.suspend((): Effect.Effect<Detected> => {
    if (process.platform !== "linux") {
      return Effect.succeed({
        _tag: "Unavailable",
        reason: `no sandbox is implemented for ${process.platform} (bubblewrap is Linux only)`
      })
    }
    const bwrap = program ?? findBwrap()
    if (bwrap === undefined || (program !== undefined && !exists(program))) {
      return Effect.succeed({ _tag: "Unavailable", reason: "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)" })
    }
    const prefix = [bwrap, ...bubblewrapArguments(settings)]
    // One real run of the sandbox: catches disabled user namespaces (sysctl
    // kernel.unprivileged_userns_clone=0, AppArmor restrictions) up front.
    return Effect.callback<Detected>((resume) => {
      const child = NodeChild.execFile(prefix[0]!, [...prefix.slice(1), "/bin/sh", "-c", "exit 0"], {
        env: { PATH: "/usr/bin:/bin" },
        timeout: 10_000,
        encoding: "utf8"
      }, (error, _stdout, stderr) => {
        if (error === null) return resume(Effect.succeed({ _tag: "Available", sandbox: { kind: "bubblewrap", prefix } }))
        const detail = (stderr || error.message).trim().split("\n")[0]
        resume(Effect.succeed({ _tag: "Unavailable", reason: `bubblewrap is installed but cannot create a sandbox here: ${detail}` }))
      })
      return Effect.sync(() => child.kill("SIGKILL"))
    })
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
