/**
 * A bounded cache of analysed shell commands, least recently used first out.
 * Agents repeat the same commands (`git status`, `npm test`) many times a
 * session; reading a line costs far more than judging it, so the analysis is
 * kept and the judging (which depends on rules, mode and root) is redone.
 *
 * Why not effect's `Cache`: it is effectful and asynchronous, and the verdict
 * path is a synchronous core (see judge.ts). A `Map` keeps insertion order,
 * which is all an LRU needs.
 */
import * as Shell from "./shell.ts"

const capacity = 2048
// Long commands are rare and would crowd the cache; they are analysed each time.
const maxKeyLength = 8192
const entries = new Map<string, Shell.Analysis>()

export const analyze = (command: string): Shell.Analysis => {
  const hit = entries.get(command)
  if (hit !== undefined) {
    entries.delete(command)
    entries.set(command, hit)
    return hit
  }
  const analysis = Shell.analyze(command)
  if (command.length <= maxKeyLength) {
    if (entries.size >= capacity) entries.delete(entries.keys().next().value!)
    entries.set(command, analysis)
  }
  return analysis
}

/** How many analyses are held (for tests of the bound). */
export const size = (): number => entries.size
