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

export type Mode = "default" | "plan" | "acceptEdits" | "bypass"
export type Default = "allow" | "ask" | "deny"

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
const protectedDirs = new Set([".git", ".claude", ".toolgate", ".codex", ".gemini", ".cursor", ".vscode", ".idea", ".husky", ".config"])
const protectedFiles = new Set([".toolgate.json", ".mcp.json", ".envrc", ".gitmodules", ".bashrc", ".zshrc", ".profile", ".bash_profile", "CLAUDE.md", "AGENTS.md"])

/**
 * Is `path` (absolute, normalized) a file `acceptEdits` must not pre-approve?
 * `policyFiles` are the policy files in force (absolute).
 */
export const isProtected = (path: string, policyFiles: ReadonlyArray<string>): boolean => {
  const parts = path.split("/")
  for (let i = 0; i < parts.length - 1; i++) if (protectedDirs.has(parts[i]!)) return true
  const name = parts[parts.length - 1]!
  if (protectedDirs.has(name) || protectedFiles.has(name)) return true
  return policyFiles.some((f) => NodePath.posix.resolve(f) === path)
}

export const inside = (root: string, path: string): boolean =>
  path === root || path.startsWith(root.endsWith("/") ? root : `${root}/`)
