/**
 * How many generated runs each property of the reliability suite makes.
 * CI makes the defaults (together well over 1,000 runs); set
 * `TOOLGATE_PROP_RUNS` to a multiplier for a longer soak, e.g.
 * `TOOLGATE_PROP_RUNS=20 npx vitest run test/reliability`.
 */
const multiplier = Number(process.env.TOOLGATE_PROP_RUNS ?? "1")

export const runs = (base: number): number =>
  Math.max(1, Math.round(base * (Number.isFinite(multiplier) && multiplier > 0 ? multiplier : 1)))

/** A test timeout that grows with the number of runs. */
export const timeoutFor = (base: number, msPerRun: number): number => 30_000 + runs(base) * msPerRun
