/**
 * The rule index: finds the few rules that can match a call without trying
 * every rule, so a verdict stays in microseconds with 10,000 rules. Rules are
 * bucketed by tool name (folded for deny and ask), MCP rules by server, and
 * inside a tool's bucket command rules by program and path rules by the
 * literal directory their pattern lives under.
 *
 * Invariant: an index only narrows; every rule that could match is among the
 * candidates, and candidates come back in list order so the reported rule is
 * the first that matches.
 */
import type { Word } from "./shell.ts"
import * as Matchers from "./matchers.ts"
import * as RuleSyntax from "./ruleSyntax.ts"

/** A rule as the index holds it: its text and parts, compiled on first use. */
export interface RuleEntry {
  readonly order: number
  readonly list: "allow" | "ask" | "deny"
  readonly text: string
  readonly tool: string
  readonly specifier: string | undefined
  readonly guard: boolean
  /** @internal compiled lazily */
  command?: { readonly pattern: RuleSyntax.CommandPattern; readonly options: Matchers.OptionPattern | undefined } | null
  paths?: Map<string, Matchers.PathPattern>
  plain?: RegExp
}

// Command rules of one program, split again by their second word when
// there are many (`git status`, `git diff`, … under `git`).
interface ProgramRules {
  readonly rules: Array<RuleEntry>
  bySecond?: {
    readonly byWord: Map<string, Array<RuleEntry>>
    readonly byOperand: Map<string, Array<RuleEntry>>
    readonly rest: Array<RuleEntry>
  }
}

interface BaseSplit {
  readonly byDir: Map<string, Array<RuleEntry>>
  readonly specless: Array<RuleEntry>
  /** every base, sorted, to find the rules living under a searched directory */
  readonly sorted: ReadonlyArray<string>
}

interface Bucket {
  readonly rules: Array<RuleEntry>
  byProgram?: { readonly byWord: Map<string, ProgramRules>; readonly others: Array<RuleEntry> }
  byBase?: Map<string, BaseSplit>
}

export interface ListIndex {
  readonly guard: boolean
  readonly exact: Map<string, Bucket>
  readonly mcpByServer: Map<string, Array<{ readonly tool: RegExp | undefined; readonly entry: RuleEntry }>>
  readonly mcpWild: Array<{ readonly server: RegExp; readonly tool: RegExp | undefined; readonly entry: RuleEntry }>
  readonly wildcard: Array<{ readonly pattern: RegExp; readonly entry: RuleEntry }>
}

export const build = (
  rules: ReadonlyArray<{ readonly list: "allow" | "ask" | "deny"; readonly text: string; readonly tool: string; readonly specifier: string | undefined }>,
  guard: boolean
): ListIndex => {
  const index: ListIndex = { guard, exact: new Map(), mcpByServer: new Map(), mcpWild: [], wildcard: [] }
  const flags = guard ? "i" : ""
  rules.forEach((rule, order) => {
    const entry: RuleEntry = { order, list: rule.list, text: rule.text, tool: rule.tool, specifier: rule.specifier, guard }
    const mcp = RuleSyntax.mcpPattern(rule.tool)
    if (mcp !== undefined) {
      const tool = mcp.tool === undefined ? undefined : RuleSyntax.wildcardRegExp(RuleSyntax.foldName(mcp.tool, guard), flags)
      if (mcp.server.includes("*")) {
        index.mcpWild.push({ server: RuleSyntax.wildcardRegExp(RuleSyntax.foldName(mcp.server, guard), flags), tool, entry })
      } else {
        const key = RuleSyntax.foldName(mcp.server, guard)
        const list = index.mcpByServer.get(key)
        if (list === undefined) index.mcpByServer.set(key, [{ tool, entry }])
        else list.push({ tool, entry })
      }
      return
    }
    if (rule.tool.includes("*")) {
      index.wildcard.push({ pattern: RuleSyntax.wildcardRegExp(RuleSyntax.foldName(rule.tool, guard), flags), entry })
      return
    }
    const key = RuleSyntax.foldName(rule.tool, guard)
    const bucket = index.exact.get(key)
    if (bucket === undefined) index.exact.set(key, { rules: [entry] })
    else bucket.rules.push(entry)
  })
  return index
}

const byOrder = (a: RuleEntry, b: RuleEntry) => a.order - b.order

/** The subject a lookup narrows by. */
export type Narrow =
  | { readonly _tag: "Programs"; readonly argvs: ReadonlyArray<ReadonlyArray<Word>> }
  | {
    readonly _tag: "Paths"
    readonly paths: ReadonlyArray<string>
    readonly root: string
    readonly home: string
    readonly envKey: string
    readonly search: boolean
  }
  | { readonly _tag: "None" }

/**
 * The rules of one list that may match a call to `name` (with its MCP
 * identity, when it has one) on the given subject, in list order.
 */
export const candidates = (
  index: ListIndex,
  name: string,
  mcp: RuleSyntax.McpIdentity | undefined,
  narrow: Narrow
): ReadonlyArray<RuleEntry> => {
  const key = RuleSyntax.foldName(name, index.guard)
  const bucket = index.exact.get(key)
  let out: ReadonlyArray<RuleEntry> = bucket === undefined ? [] : narrowBucket(bucket, narrow)
  let extra: Array<RuleEntry> | undefined
  if (mcp !== undefined) {
    // Deny and ask rules also meet the identity the name spells, when an
    // annotation says otherwise: broader is safe.
    const servers = [mcp.server]
    const spelt = RuleSyntax.mcpIdentityOf(name)
    if (index.guard && spelt !== undefined && spelt.server !== mcp.server) servers.push(spelt.server)
    for (const server of servers) {
      const tool = RuleSyntax.foldName(server === mcp.server ? mcp.tool : spelt!.tool, index.guard)
      for (const r of index.mcpByServer.get(RuleSyntax.foldName(server, index.guard)) ?? []) {
        if (r.tool === undefined || r.tool.test(tool)) (extra ??= []).push(r.entry)
      }
      for (const r of index.mcpWild) {
        if (r.server.test(RuleSyntax.foldName(server, index.guard)) && (r.tool === undefined || r.tool.test(tool))) (extra ??= []).push(r.entry)
      }
    }
  }
  for (const w of index.wildcard) if (w.pattern.test(key)) (extra ??= []).push(w.entry)
  if (extra === undefined) return out
  out = [...new Set([...out, ...extra])].sort(byOrder)
  return out
}

// Small buckets are scanned; large ones are split by program (and second
// word) or path base on first use (the split is cached on the bucket).
const small = 16

const narrowBucket = (bucket: Bucket, narrow: Narrow): ReadonlyArray<RuleEntry> => {
  if (bucket.rules.length < small || narrow._tag === "None") return bucket.rules
  const lists: Array<ReadonlyArray<RuleEntry>> = []
  if (narrow._tag === "Programs") {
    const split = bucket.byProgram ??= splitByProgram(bucket.rules)
    if (split.others.length > 0) lists.push(split.others)
    for (const argv of narrow.argvs) {
      const program = argv[0]
      if (program === undefined) continue
      const base = Matchers.baseName(program)
      for (const word of base === program ? [program] : [program, base]) {
        const rules = split.byWord.get(word)
        if (rules === undefined) continue
        if (rules.rules.length < small) {
          lists.push(rules.rules)
          continue
        }
        const second = rules.bySecond ??= splitBySecond(rules.rules)
        if (second.rest.length > 0) lists.push(second.rest)
        const next = argv[1]
        const more = next === undefined ? undefined : second.byWord.get(next)
        if (more !== undefined) lists.push(more)
        const positional = firstOperand(argv)
        const byOperand = positional === undefined ? undefined : second.byOperand.get(positional)
        if (byOperand !== undefined) lists.push(byOperand)
      }
    }
  } else {
    const bases = bucket.byBase ??= new Map()
    let split = bases.get(narrow.envKey)
    if (split === undefined) {
      split = splitByBase(bucket.rules, narrow.root, narrow.home)
      bases.set(narrow.envKey, split)
    }
    if (split.specless.length > 0) lists.push(split.specless)
    for (const path of narrow.paths) {
      const lower = path.toLowerCase()
      for (const p of lower === path ? [path] : [path, lower]) {
        let dir = p
        for (;;) {
          const rules = split.byDir.get(dir)
          if (rules !== undefined) lists.push(rules)
          if (dir === "/") break
          const slash = dir.lastIndexOf("/")
          dir = slash <= 0 ? "/" : dir.slice(0, slash)
        }
        // A search also reaches every rule living below its directory.
        if (narrow.search) for (const base of basesUnder(split.sorted, p)) lists.push(split.byDir.get(base)!)
      }
    }
  }
  return mergeInOrder(lists)
}

// The sorted bases strictly below `dir`, found by binary search.
const basesUnder = (sorted: ReadonlyArray<string>, dir: string): ReadonlyArray<string> => {
  const prefix = dir === "/" ? "/" : `${dir}/`
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid]! < prefix) lo = mid + 1
    else hi = mid
  }
  const out: Array<string> = []
  for (let i = lo; i < sorted.length && sorted[i]!.startsWith(prefix); i++) if (sorted[i] !== "/") out.push(sorted[i]!)
  return out
}

// Lists of rules, each in list order, merged in list order without repeats.
const mergeInOrder = (lists: ReadonlyArray<ReadonlyArray<RuleEntry>>): ReadonlyArray<RuleEntry> => {
  if (lists.length === 0) return []
  if (lists.length === 1) return lists[0]!
  const seen = new Set<RuleEntry>()
  const out: Array<RuleEntry> = []
  for (const list of lists) {
    for (const e of list) {
      if (seen.has(e)) continue
      seen.add(e)
      out.push(e)
    }
  }
  return out.sort(byOrder)
}

const splitByProgram = (rules: ReadonlyArray<RuleEntry>) => {
  const byWord = new Map<string, ProgramRules>()
  const others: Array<RuleEntry> = []
  for (const entry of rules) {
    const first = commandOf(entry)?.pattern.words[0]
    if (first?._tag === "Literal") {
      // Deny and ask rules also hold for the program named by a path.
      const word = entry.guard ? Matchers.baseName(first.value) : first.value
      const bucket = byWord.get(word)
      if (bucket === undefined) byWord.set(word, { rules: [entry] })
      else bucket.rules.push(entry)
    } else others.push(entry)
  }
  return { byWord, others }
}

// A rule goes under its literal second word; a deny or ask rule matching
// options in any order goes under its first literal operand (its options
// may come anywhere, its operands keep their order). The rest is scanned.
const splitBySecond = (rules: ReadonlyArray<RuleEntry>) => {
  const byWord = new Map<string, Array<RuleEntry>>()
  const byOperand = new Map<string, Array<RuleEntry>>()
  const rest: Array<RuleEntry> = []
  const add = (map: Map<string, Array<RuleEntry>>, key: string, entry: RuleEntry) => {
    const bucket = map.get(key)
    if (bucket === undefined) map.set(key, [entry])
    else bucket.push(entry)
  }
  for (const entry of rules) {
    const command = commandOf(entry)!
    const second = command.pattern.words[1]
    const operand = command.options?.positional[0]
    if (command.options === undefined && second?._tag === "Literal") add(byWord, second.value, entry)
    else if (command.options !== undefined && operand?._tag === "Literal") add(byOperand, operand.value, entry)
    else rest.push(entry)
  }
  return { byWord, byOperand, rest }
}

// The first word after the program that is not an option (as the options
// matcher reads operands); undefined when there is none or it is computed.
const firstOperand = (argv: ReadonlyArray<Word>): string | undefined => {
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i]
    if (w === undefined) return undefined
    if (w === "--") return argv[i + 1]
    if (w === "-" || !w.startsWith("-")) return w
  }
  return undefined
}

const splitByBase = (rules: ReadonlyArray<RuleEntry>, root: string, home: string): BaseSplit => {
  const byDir = new Map<string, Array<RuleEntry>>()
  const specless: Array<RuleEntry> = []
  for (const entry of rules) {
    if (entry.specifier === undefined) {
      specless.push(entry)
      continue
    }
    const { base } = pathOf(entry, root, home)
    const bucket = byDir.get(base)
    if (bucket === undefined) byDir.set(base, [entry])
    else bucket.push(entry)
  }
  return { byDir, specless, sorted: [...byDir.keys()].sort() }
}

/** The rule's command pattern (undefined when its specifier is not a command). */
export const commandOf = (entry: RuleEntry) => {
  if (entry.command === undefined) {
    const pattern = entry.specifier === undefined ? undefined : RuleSyntax.commandPattern(entry.specifier)
    entry.command = pattern === undefined
      ? null
      : { pattern, options: entry.guard ? Matchers.optionPattern(pattern) : undefined }
  }
  return entry.command ?? undefined
}

/** The rule's path pattern for an environment. */
export const pathOf = (entry: RuleEntry, root: string, home: string, key = `${root}\u0000${home}`): Matchers.PathPattern => {
  const paths = entry.paths ??= new Map()
  let pattern = paths.get(key)
  if (pattern === undefined) {
    pattern = Matchers.pathPattern(entry.specifier!, entry.guard, root, home)
    paths.set(key, pattern)
  }
  return pattern
}

/** The rule's plain-value pattern. */
export const plainOf = (entry: RuleEntry): RegExp => entry.plain ??= RuleSyntax.wildcardRegExp(entry.specifier!)
