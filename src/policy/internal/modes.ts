/**
 * Permission modes and how strict each one is. Layered policies resolve
 * `defaultMode` and `default` to the strictest value any layer sets, so a
 * project file can never loosen what a user file says.
 *
 * Invariant: no mode pre-approves what a deny rule denies or what the engine
 * cannot read; `acceptEdits` never pre-approves a write to a file that
 * controls the agent or the repository (`.git/`, agent settings, policy
 * files), since such a write is a way to grant oneself more.
 */
import * as NodePath from "node:path"
import type { Default, Mode } from "../PolicyRules.ts"

// Strictness: plan runs nothing that mutates; default asks what no rule
// allows; acceptEdits pre-approves edits; bypass pre-approves everything.
const modeRank: Readonly<Record<Mode, number>> = { bypass: 0, acceptEdits: 1, default: 2, plan: 3 }
const defaultRank: Readonly<Record<Default, number>> = { allow: 0, ask: 1, deny: 2 }

export const strictestMode = (modes: ReadonlyArray<Mode>): Mode | undefined =>
  modes.reduce<Mode | undefined>((a, b) => a === undefined || modeRank[b] > modeRank[a] ? b : a, undefined)

export const strictestDefault = (values: ReadonlyArray<Default>): Default | undefined =>
  values.reduce<Default | undefined>((a, b) => a === undefined || defaultRank[b] > defaultRank[a] ? b : a, undefined)

// Directories and files that configure the repository or an agent: writing
// them changes what runs next (git hooks, agent settings, MCP servers,
// direnv), so no mode pre-approves writes into them.
// Compared in lower case: a case-insensitive file system opens `.NPMRC` as `.npmrc`.
const protectedDirs = new Set([
  // repository and agent settings
  ".git", ".githooks", ".husky", ".claude", ".toolgate", ".codex", ".gemini", ".cursor", ".windsurf", ".continue", ".roo",
  ".kiro", ".amazonq", ".junie", ".aider", ".clinerules", ".augment", ".opencode",
  // editor task and launch files, dev containers, direnv, per-user config
  ".vscode", ".idea", ".zed", ".devcontainer", ".direnv", ".config", ".pip", ".ssh", ".gnupg", ".docker", ".cargo", ".bundle",
  // Mercurial's repository config (hooks), mise's config directory, yarn's releases and plugins (`yarnPath` runs them),
  // lefthook's script directory, and more agents' settings
  ".hg", ".mise", ".yarn", ".lefthook", ".qwen", ".crush", ".kilocode", ".trae", ".amp"
])
// Installed dependencies and virtual environments: what `npx tsc`, `npm test` or `.venv/bin/pytest` run
// is found there, and an allow rule naming the tool assumes it is the one installed. Removing them
// (`rm -rf node_modules`) plants nothing: only writes into them are protected.
const dependencyDirs = new Set(["node_modules", "site-packages", "dist-packages", ".venv", "venv", ".tox", ".nox"])
const protectedFiles = new Set([
  // the policy and MCP servers
  ".toolgate.json", ".mcp.json", ".claude.json",
  // instructions and settings of coding agents
  "claude.md", "claude.local.md", "agents.md", "agent.md", "gemini.md", ".cursorrules", ".windsurfrules", ".clinerules",
  ".aider.conf.yml", ".goosehints", "copilot-instructions.md",
  // shell start-up files and direnv
  ".envrc", ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc", ".zshenv", ".zprofile", ".zlogin",
  ".zlogout", ".kshrc", ".mkshrc", ".cshrc", ".tcshrc", ".inputrc",
  // git configuration
  ".gitconfig", ".gitmodules", ".gitattributes",
  // package-manager and tool configuration that can name programs or hooks
  ".npmrc", ".yarnrc", ".yarnrc.yml", ".pnpmrc", "bunfig.toml", ".bunfig.toml", ".pypirc", "pip.conf", "pip.ini", "poetry.toml",
  "uv.toml", "sitecustomize.py", "usercustomize.py", ".pre-commit-config.yaml", "lefthook.yml", ".lefthook.yml",
  // editors that read per-directory scripts
  ".exrc", ".vimrc", ".nvimrc", ".nvim.lua", ".lvimrc", ".gvimrc", ".lazy.lua", ".dir-locals.el", ".dir-locals-2.el",
  // pnpm runs .pnpmfile.cjs on install; mise runs its hooks and tasks on entering the directory
  ".pnpmfile.cjs", ".pnpmfile.mjs", "mise.toml", ".mise.toml", "mise.local.toml", ".mise.local.toml",
  // git hook managers' local and legacy configs
  "lefthook-local.yml", ".lefthook-local.yml", "lefthook.yaml", ".lefthook.yaml", "lefthook-local.yaml", ".lefthook-local.yaml",
  "lefthook.toml", ".lefthook.toml", "lefthook.json", ".lefthook.json", ".huskyrc", ".huskyrc.json", ".huskyrc.js", ".huskyrc.cjs",
  ".simple-git-hooks.json", ".simple-git-hooks.js", ".simple-git-hooks.cjs", "simple-git-hooks.json", "simple-git-hooks.js", "simple-git-hooks.cjs",
  // interpreters that run a start-up file from the working directory (pdb, irb, R)
  ".pdbrc", ".irbrc", ".rprofile",
  // more agents' instruction files (Zed's .rules, Qwen, Crush, opencode)
  ".rules", "qwen.md", "crush.md", "opencode.json", "opencode.jsonc", ".augment-guidelines",
  // version-manager pins: pyenv, rbenv, asdf and mise pick the interpreter from them (mise's `path:`
  // versions run any directory's binaries; pyenv and rbenv had path-traversal CVEs), rustup's
  // toolchain file names a toolchain path, and Yarn PnP's loader runs in every node process
  ".tool-versions", ".python-version", ".ruby-version", ".node-version", ".nvmrc", "rust-toolchain", "rust-toolchain.toml",
  ".pnp.cjs", ".pnp.loader.mjs", "pyvenv.cfg"
])

// dotenv files: Bun, Vite, Next.js, docker compose and `node --env-file` load them into what runs
// (`NODE_OPTIONS=--require …`); their templates are not loaded.
const isDotenv = (name: string): boolean =>
  name === ".env" || (name.startsWith(".env.") && !/\.(example|sample|template|dist|defaults)$/.test(name))

/**
 * Is `path` (absolute, normalized) a file `acceptEdits` must not pre-approve?
 * `policyFiles` are the policy files in force (absolute); a `removal` may
 * remove installed dependencies.
 */
export const isProtected = (path: string, policyFiles: ReadonlyArray<string>, removal = false): boolean => {
  const parts = path.toLowerCase().split("/")
  for (let i = 0; i < parts.length - 1; i++) if (protectedDirs.has(parts[i]!) || (!removal && dependencyDirs.has(parts[i]!))) return true
  const name = parts[parts.length - 1]!
  if (protectedDirs.has(name) || protectedFiles.has(name) || isDotenv(name)) return true
  if (!removal && dependencyDirs.has(name)) return true
  // Python runs the code in a site directory's `.pth` files at start-up.
  if (name.endsWith(".pth")) return true
  // A VS Code workspace file carries settings and tasks, as .vscode/ does.
  if (name.endsWith(".code-workspace")) return true
  // GitHub's instruction files for Copilot and its agents.
  if (parts.includes(".github") && (parts.includes("instructions") || parts.includes("prompts") || parts.includes("chatmodes") || parts.includes("agents"))) return true
  return policyFiles.some((f) => NodePath.posix.resolve(f) === path)
}

export const inside = (root: string, path: string): boolean =>
  path === root || path.startsWith(root.endsWith("/") ? root : `${root}/`)
