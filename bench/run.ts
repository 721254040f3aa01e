/**
 * Runs every benchmark in its own Node process (so one cannot warm up or
 * pollute another) and writes the results to bench/RESULTS.md with the
 * command, the machine and the date. `npm run bench` calls this.
 *
 * BENCH_QUICK=1 runs each benchmark briefly, to check that it still works;
 * it then prints the results without writing RESULTS.md.
 */
import { execFileSync } from "node:child_process"
import { existsSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { machine, quick } from "./harness.ts"

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))

const benches: ReadonlyArray<{ readonly file: string; readonly flags?: ReadonlyArray<string> }> = [
  { file: "gate.bench.ts" },
  { file: "turn.bench.ts" },
  { file: "schedule.bench.ts" },
  { file: "cancel.bench.ts" },
  { file: "memory.bench.ts", flags: ["--expose-gc"] },
  { file: "rules.bench.ts" }
]

const started = Date.now()
const sections: Array<string> = []
for (const bench of benches) {
  const path = here(bench.file)
  if (!existsSync(path)) continue
  const t0 = Date.now()
  process.stderr.write(`running ${bench.file} ... `)
  const out = execFileSync(process.execPath, [...(bench.flags ?? []), path], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    env: process.env,
    maxBuffer: 16 * 2 ** 20
  })
  process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)} s\n`)
  sections.push(out.trim())
}

const report = `# Benchmark results

Command: \`npm run bench\` (each benchmark alone: \`npx node bench/<name>.bench.ts\`)
Machine: ${machine()}
Date: ${new Date().toISOString()}
Total time: ${((Date.now() - started) / 1000).toFixed(0)} s

Machines are shared and noisy: compare the ratios (measured in the same process run, variants interleaved round by round), not the absolute times across runs.

${sections.join("\n\n")}
`
if (quick) console.log(report)
else {
  writeFileSync(here("RESULTS.md"), report)
  console.log(`wrote bench/RESULTS.md in ${((Date.now() - started) / 1000).toFixed(0)} s`)
}
