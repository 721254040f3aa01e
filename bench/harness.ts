/**
 * What every benchmark shares: timing rounds of a whole run with
 * `performance.now()`, medians and p90s, ratios, and the Markdown the
 * results are written in. Machines are shared and noisy, so variants are
 * interleaved round by round and compared as ratios within one process.
 */
import { readFileSync } from "node:fs"
import * as os from "node:os"

export interface Stats {
  readonly median: number
  readonly p90: number
}

export const quantile = (sorted: ReadonlyArray<number>, q: number): number => {
  if (sorted.length === 0) return Number.NaN
  const at = (sorted.length - 1) * q
  const lo = Math.floor(at)
  const hi = Math.ceil(at)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo)
}

export const stats = (samples: ReadonlyArray<number>): Stats => {
  const sorted = [...samples].sort((a, b) => a - b)
  return { median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9) }
}

/**
 * A variant: a function timed whole, or a `setup` run untimed before each
 * timed `run` (to build a scripted model, say, outside the timed region).
 */
export type Variant =
  | (() => Promise<unknown>)
  | { readonly setup: () => Promise<unknown>; readonly run: (prepared: any) => Promise<unknown> }

/**
 * Times `variants` against each other: `warmup` untimed rounds, then
 * `rounds` timed ones, each round running every variant once in turn so that
 * a noisy moment hurts all of them alike. Returns milliseconds per round.
 */
export const interleave = async <K extends string>(
  variants: Readonly<Record<K, Variant>>,
  options: { readonly rounds: number; readonly warmup: number }
): Promise<Record<K, Array<number>>> => {
  const names = Object.keys(variants) as Array<K>
  const samples = Object.fromEntries(names.map((n) => [n, [] as Array<number>])) as Record<K, Array<number>>
  for (let round = 0; round < options.warmup + options.rounds; round++) {
    for (const name of names) {
      const variant = variants[name]
      const prepared = typeof variant === "function" ? undefined : await variant.setup()
      const start = performance.now()
      await (typeof variant === "function" ? variant() : variant.run(prepared))
      const elapsed = performance.now() - start
      if (round >= options.warmup) samples[name].push(elapsed)
    }
  }
  return samples
}

/** Rounds for a run of `n` calls: enough total calls to be stable, never fewer than `min`. */
export const roundsFor = (n: number, budgetCalls: number, min = 7, max = 200): number =>
  Math.max(min, Math.min(max, Math.ceil(budgetCalls / n)))

export const fmt = (x: number, digits = 2): string =>
  Number.isFinite(x) ? x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : digits) : "n/a"

export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  [
    `| ${headers.join(" | ")} |`,
    `|${headers.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`)
  ].join("\n")

/** The installed version of a package, read from its package.json (bench/'s install first). */
export const versionOf = (name: string): string => {
  for (const base of [new URL("./node_modules/", import.meta.url), new URL("../node_modules/", import.meta.url)]) {
    try {
      return (JSON.parse(readFileSync(new URL(`${name}/package.json`, base), "utf8")) as { version: string }).version
    } catch {
      // not installed here
    }
  }
  return "not installed"
}

export const machine = (): string => {
  const cpus = os.cpus()
  return `${cpus.length} cores (${cpus[0]?.model.trim() ?? "unknown cpu"}), Node ${process.version}, ${os.platform()} ${os.arch()}, ${
    Math.round(os.totalmem() / 2 ** 30)
  } GiB`
}

/** Lets a benchmark run quickly in smoke mode (`BENCH_QUICK=1`), e.g. to check it still works. */
export const quick = process.env.BENCH_QUICK === "1"

/** The sizes to run: `BENCH_SIZES=1000,10000` overrides a benchmark's defaults (to iterate on one size). */
export const sizesOr = (defaults: ReadonlyArray<number>): ReadonlyArray<number> =>
  process.env.BENCH_SIZES === undefined ? defaults : process.env.BENCH_SIZES.split(",").map(Number)
