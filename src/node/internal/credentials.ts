/**
 * The one list of credential files and the one list of protected paths,
 * used by the sandbox (which hides or freezes them for `Bash`) and by the
 * file tools (which refuse them whatever the policy rules allow).
 *
 * - A **credential** is a file or directory whose content is a secret: a
 *   package registry token, a cloud or cluster configuration, a git
 *   credential store, a shell or database history, a `.env` file. Reading
 *   it is refused (Read, Grep and Glob skip it and say so); `Bash` finds it
 *   empty.
 * - A **protected path** is one whose content acts outside the sandbox later
 *   (git internals a host `git` executes, agent settings, toolgate's own
 *   policy files and audit log). Commands and the Write/Edit tools cannot
 *   change it; reading it stays allowed.
 */
import * as NodePath from "node:path"

/** Credentials under a home directory (paths relative to it). */
export const homeCredentials: ReadonlyArray<string> = [
  ".ssh",
  ".gnupg",
  ".aws",
  ".azure",
  ".kube",
  ".docker",
  ".config/gcloud",
  ".config/gh",
  ".config/hub",
  ".config/op",
  ".config/git/credentials",
  ".password-store",
  ".local/share/keyrings",
  ".claude",
  ".claude.json",
  ".toolgate",
  ".npmrc",
  ".yarnrc",
  ".yarnrc.yml",
  ".pypirc",
  ".netrc",
  ".git-credentials",
  ".cargo/credentials",
  ".cargo/credentials.toml",
  ".gem/credentials",
  ".m2/settings.xml",
  ".gradle/gradle.properties",
  ".terraform.d/credentials.tfrc.json",
  ".vault-token",
  ".pgpass",
  ".my.cnf",
  ".bash_history",
  ".zsh_history",
  ".history",
  ".sh_history",
  ".python_history",
  ".node_repl_history",
  ".psql_history",
  ".mysql_history",
  ".sqlite_history",
  ".rediscli_history"
]

/** File names that are credentials wherever they are (in the workspace too). */
const credentialNames = new Set([
  ".npmrc",
  ".yarnrc",
  ".pypirc",
  ".netrc",
  ".git-credentials",
  ".pgpass",
  ".my.cnf",
  ".vault-token",
  ".bash_history",
  ".zsh_history",
  ".python_history",
  ".node_repl_history",
  ".psql_history",
  ".mysql_history",
  "id_rsa",
  "id_dsa",
  "id_ecdsa",
  "id_ed25519",
  "credentials.tfrc.json"
])

/** Directory names whose whole content is credentials. */
const credentialDirectories = new Set([".ssh", ".gnupg", ".aws", ".azure", ".kube", ".docker"])

/**
 * Whether a file or directory name is a credential wherever it lies: the
 * names above, `.env` and `.env.*` (but not the committed `.env.example`,
 * `.env.sample`, `.env.template`), `*_history`.
 */
export const isCredentialName = (name: string): boolean =>
  credentialNames.has(name) ||
  credentialDirectories.has(name) ||
  (/^\.env(\..+)?$/.test(name) && !/\.(example|sample|template|dist)$/.test(name)) ||
  /_history$/.test(name)

/** Whether any component of a `/`-separated relative path is a credential name. */
export const isCredentialPath = (relative: string): boolean =>
  relative.split(/[\\/]/).some(isCredentialName)

/**
 * Workspace-relative paths commands and the write tools cannot change:
 * everything git executes or reads configuration from, the agent's settings
 * and toolgate's own directory.
 */
export const protectedInWorkspace: ReadonlyArray<string> = [".git", ".claude", ".toolgate", ".husky", ".mcp.json"]

/** Whether `relative` (to the workspace root) is, or is inside, a protected path. */
export const isProtectedPath = (relative: string, extra: ReadonlyArray<string> = []): boolean => {
  const normal = NodePath.posix.normalize(relative.split(NodePath.sep).join("/"))
  return [...protectedInWorkspace, ...extra].some((p) => normal === p || normal.startsWith(`${p}/`))
}

/**
 * Host files outside the homes that hold password hashes or machine secrets,
 * matched by name in these directories: every shadow-like file (backups
 * `shadow-`, `gshadow`, `gshadow-`, editors' `~` copies), the opasswd
 * history of old passwords, sudoers, Kerberos keytabs, and the caches of
 * network logins (sssd, samba).
 */
export const hostSecretDirectories: ReadonlyArray<string> = [
  "/etc/ssl/private",
  "/etc/sudoers.d",
  "/var/lib/sss",
  "/var/cache/sssd",
  "/var/lib/samba/private",
  "/var/lib/krb5kdc",
  "/var/lib/docker",
  "/etc/ssh"
]

/** File names in `/etc` and `/etc/security` that are secret. */
export const isHostSecretName = (name: string): boolean =>
  /^(g?shadow|opasswd|sudoers)([-~.+].*)?$/.test(name) || /\.keytab$/.test(name) ||
  /^(master\.passwd|spwd\.db|passwd\.(bak|old)|\.pwd\.lock)$/.test(name)

/**
 * Why a file tool must not touch `relative` (to the workspace root), or
 * `undefined`: reading a credential, or writing a credential or a protected
 * path. The file tools check the requested path before opening and the
 * opened file's real path before using it, so a link inside the workspace
 * is no way around the list.
 */
export const refusal = (relative: string, access: "read" | "write"): string | undefined => {
  if (isCredentialPath(relative)) {
    return `${relative} holds credentials (toolgate's credential list); the file tools never ${access} it`
  }
  if (access === "write" && isProtectedPath(relative)) {
    return `${relative} is protected (git internals, agent settings or toolgate's own files act outside the sandbox later); ` +
      `the file tools never change it`
  }
  return undefined
}
