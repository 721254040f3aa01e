/**
 * Rule syntax: how a rule string (`Bash(npm run test:*)`, `Write(/etc/**)`,
 * `mcp__github__*`) splits into a tool-name pattern and a specifier, which
 * rules can never match anything (dead-rule warnings), and how MCP tool names
 * map to their structured (server, tool) identity.
 *
 * Invariant: parsing never guesses. A rule that is not `ToolName` or
 * `ToolName(specifier)` is a problem reported to the user, and a command
 * specifier must be one simple command of literal words.
 */
import * as PolicySubject from "../PolicySubject.ts"
import * as Shell from "./shell.ts"

/** The parsed parts of a rule, or the problem that stops it from parsing. */
export type Parsed =
  | { readonly _tag: "Rule"; readonly tool: string; readonly specifier: string | undefined }
  | { readonly _tag: "Problem"; readonly problem: string }

/**
 * The standard tools, as Claude Code names them. A rule naming a tool outside
 * this list (and not an MCP tool) is legal — toolkits have their own tools —
 * but worth a warning: a misspelt name matches nothing.
 */
export const knownTools: ReadonlySet<string> = new Set([
  "Bash", "Read", "Write", "Edit", "MultiEdit", "Glob", "Grep", "LS", "WebFetch", "WebSearch", "NotebookEdit",
  "NotebookRead", "Task", "TodoWrite", "ExitPlanMode", "BashOutput", "KillShell", "KillBash", "SlashCommand", "Skill", "Agent"
])

export const parse = (text: string): Parsed => {
  const problem = (p: string): Parsed => ({ _tag: "Problem", problem: p })
  const trimmed = text.trim()
  if (trimmed.length === 0) return problem("the rule is empty")
  const open = trimmed.indexOf("(")
  const mcpProblem = "an MCP rule is mcp__SERVER, mcp__SERVER__* or mcp__SERVER__TOOL"
  if (open < 0) {
    if (trimmed.includes(")")) return problem("a ')' without '('")
    if (trimmed.startsWith("mcp__") && mcpPattern(trimmed) === undefined) return problem(mcpProblem)
    return { _tag: "Rule", tool: trimmed, specifier: undefined }
  }
  const tool = trimmed.slice(0, open).trim()
  if (tool.length === 0) return problem("the tool name before '(' is missing")
  if (!trimmed.endsWith(")")) return problem("the specifier is not closed with ')' at the end")
  const specifier = trimmed.slice(open + 1, -1)
  if (specifier.trim().length === 0) return problem("the specifier is empty; write the bare tool name to match the whole tool")
  if (tool.includes(")")) return problem("a ')' in the tool name")
  if (tool.startsWith("mcp__") && mcpPattern(tool) === undefined) return problem(mcpProblem)
  return { _tag: "Rule", tool, specifier }
}

/**
 * Why a rule that parses can still never do what its author meant. Returned
 * as sentences, one per problem; an empty list means the rule looks alive.
 */
export const lint = (text: string, tool: string, specifier: string | undefined, list: "allow" | "ask" | "deny"): ReadonlyArray<string> => {
  const out: Array<string> = []
  if (text !== text.trim()) out.push("the rule has leading or trailing spaces")
  if (!tool.includes("*") && !tool.startsWith("mcp__") && !knownTools.has(tool)) {
    const known = [...knownTools].find((k) => k.toLowerCase() === tool.toLowerCase())
    if (known !== undefined) {
      out.push(list === "allow"
        ? `"${tool}" is not "${known}": tool names are matched exactly, so this allow rule matches nothing`
        : `"${tool}" is spelt differently from "${known}" (deny and ask rules ignore case, so it still applies)`)
    } else {
      out.push(`"${tool}" is not a standard tool name: the rule only matches a tool of exactly that name`)
    }
  }
  if (specifier !== undefined && specifier !== specifier.trim()) {
    out.push(`the specifier ${JSON.stringify(specifier)} has leading or trailing spaces`)
  }
  return out
}

// -----------------------------------------------------------------------------
// Wildcards
// -----------------------------------------------------------------------------

// `RegExp.escape` would do this, but it arrived in Node 24 and toolgate
// supports Node 22.19 (engines). Escaping every character that is special in
// a pattern is enough here: the result is only ever used inside ^…$.
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** `*` matches any run of characters (slashes included); the rest is literal. */
export const wildcardRegExp = (pattern: string, flags = ""): RegExp =>
  new RegExp(`^${pattern.split("*").map(escape).join(".*")}$`, `s${flags}`)

// Deny and ask rules match tool names case-insensitively after Unicode
// compatibility folding: a toolkit that also has a `bash` tool must not slip
// past `Bash` deny rules. Allow rules match names exactly. Look-alike letters
// from other scripts (Cyrillic `а`) are not folded: such a name matches no
// allow rule, so it is asked at most.
export const foldName = (name: string, fold: boolean): string => {
  if (!fold) return name
  let folded = foldedNames.get(name)
  if (folded === undefined) {
    folded = name.normalize("NFKC").toLowerCase()
    if (foldedNames.size >= 4096) foldedNames.clear()
    foldedNames.set(name, folded)
  }
  return folded
}
// Tool names are few and looked up on every call: fold each once.
const foldedNames = new Map<string, string>()

// -----------------------------------------------------------------------------
// MCP names
// -----------------------------------------------------------------------------

export type McpIdentity = PolicySubject.McpIdentity

/** The identity a tool name spells, if it is an MCP tool name. */
export const mcpIdentityOf = (name: string): McpIdentity | undefined => PolicySubject.mcpIdentity(name, undefined)

/** An MCP rule name: a server (or server glob) and optionally a tool glob. */
export interface McpPattern {
  readonly server: string
  readonly tool: string | undefined
}

export const mcpPattern = (tool: string): McpPattern | undefined => {
  if (!tool.startsWith("mcp__")) return undefined
  const rest = tool.slice(5)
  if (rest.length === 0) return undefined
  const sep = rest.indexOf("__")
  if (sep === 0) return undefined
  if (sep < 0) return { server: rest, tool: undefined }
  const toolPart = rest.slice(sep + 2)
  if (toolPart.length === 0) return undefined
  return { server: rest.slice(0, sep), tool: toolPart }
}

// -----------------------------------------------------------------------------
// Command specifiers
// -----------------------------------------------------------------------------

/**
 * A command rule, as a sequence of word patterns. `prefix` lets any further
 * words follow (`:*`, a trailing ` *`, or a last word ending in `*`).
 */
export interface CommandPattern {
  readonly words: ReadonlyArray<WordPattern>
  readonly prefix: boolean
}
export type WordPattern =
  | { readonly _tag: "Literal"; readonly value: string }
  | { readonly _tag: "Glob"; readonly pattern: RegExp; readonly text: string }
  | { readonly _tag: "Any" }

// Rule sets are validated when built and compiled on first use, and layered
// or rebuilt sets repeat the same specifiers: reading a specifier's words
// once is enough. Bounded so that a process building endless rule sets does
// not grow without limit.
const patterns = new Map<string, CommandPattern | undefined>()
const maxPatterns = 50_000

export const commandPattern = (specifier: string): CommandPattern | undefined => {
  if (patterns.has(specifier)) return patterns.get(specifier)
  const pattern = readCommandPattern(specifier)
  if (patterns.size >= maxPatterns) patterns.clear()
  patterns.set(specifier, pattern)
  return pattern
}

const readCommandPattern = (specifier: string): CommandPattern | undefined => {
  let src = specifier.trim()
  let prefix = false
  if (src.endsWith(":*")) {
    prefix = true
    src = src.slice(0, -2)
  }
  const words = Shell.words(src)
  if (words === undefined || words.length === 0) return undefined
  const patterns: Array<WordPattern> = words.map((w) =>
    w === "*" ? { _tag: "Any" } : w.includes("*") ? { _tag: "Glob", pattern: wildcardRegExp(w), text: w } : { _tag: "Literal", value: w }
  )
  const last = patterns[patterns.length - 1]!
  if (last._tag === "Any") {
    patterns.pop()
    prefix = true
  } else if (last._tag === "Glob" && words[words.length - 1]!.endsWith("*")) {
    prefix = true
  }
  return { words: patterns, prefix }
}

// -----------------------------------------------------------------------------
// Domain specifiers (`WebFetch(domain:example.com)`)
// -----------------------------------------------------------------------------

/**
 * A URL tool's rule: every host, one host, or the subdomains of one
 * (`*.example.com`). Hosts are kept as the WHATWG URL parser spells them
 * (lowercase, punycode, IPv4 in dotted form) so a rule and a URL that name
 * the same host compare equal however either was written.
 */
export type DomainPattern =
  | { readonly _tag: "Any" }
  | { readonly _tag: "Host"; readonly host: string; readonly subdomains: boolean }

export const domainProblem =
  "a URL rule names a host: domain:example.com, domain:*.example.com (its subdomains) or domain:* (every host)"

export const domainPattern = (specifier: string): DomainPattern | undefined => {
  const src = specifier.trim()
  if (!src.startsWith("domain:")) return undefined
  const text = src.slice("domain:".length).trim()
  if (text === "*") return { _tag: "Any" }
  const subdomains = text.startsWith("*.")
  const name = subdomains ? text.slice(2) : text
  if (name.length === 0 || /[*/\\:@?#\s]/.test(name)) return undefined
  const host = hostOf(`http://${name}/`)
  return host === undefined ? undefined : { _tag: "Host", host, subdomains }
}

/** The host of an http(s) URL as the URL parser reads it (no trailing dot), or undefined. */
export const hostOf = (url: string): string | undefined => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return undefined
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return undefined
  const host = parsed.hostname.replace(/\.$/, "")
  return host.length === 0 ? undefined : host
}

/**
 * Whether a host is one a domain pattern names. An allow rule names exactly
 * what it spells: `example.com` is not `api.example.com`, `*.example.com`
 * is not `example.com`. A deny or ask rule (`guard`) also meets the host's
 * subdomains and, for `*.example.com`, the domain itself: whoever controls a
 * domain controls the names under it.
 */
export const matchDomain = (pattern: DomainPattern, host: string, guard: boolean): boolean => {
  if (pattern._tag === "Any") return true
  const under = host.endsWith(`.${pattern.host}`)
  if (guard) return host === pattern.host || under
  return pattern.subdomains ? under : host === pattern.host
}
