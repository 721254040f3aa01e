/**
 * The table of program specs, one module a family, and the lookup the shell
 * reader uses: the spec for a program by the name it is run by (its base
 * name; versioned interpreter names such as `python3.12` fold onto theirs).
 * A program without a spec is unknown to the engine (see the judge for what
 * an allow rule covers then).
 */
import type { Word } from "../shell/read.ts"
import * as Archives from "./archives.ts"
import * as Awk from "./awk.ts"
import * as Coreutils from "./coreutils.ts"
import * as Git from "./git.ts"
import * as Interpreters from "./interpreters.ts"
import * as Network from "./network.ts"
import * as Packages from "./packages.ts"
import * as Search from "./search.ts"
import * as Sed from "./sed.ts"
import { type ProgramSpec, type Reading, read as readWith } from "./spec.ts"
import * as Tools from "./tools.ts"

export type { Effect, EffectKind, ProgramSpec, Reading } from "./spec.ts"

/** Every spec, in family order. */
export const all: ReadonlyArray<ProgramSpec> = [
  ...Coreutils.specs,
  ...Search.specs,
  ...Sed.specs,
  ...Awk.specs,
  ...Git.specs,
  ...Packages.specs,
  ...Packages.toolchains,
  ...Packages.clients,
  ...Interpreters.specs,
  ...Archives.specs,
  ...Network.specs,
  ...Tools.specs
]

const byName = new Map<string, ProgramSpec>()
for (const spec of all) for (const name of spec.names) if (!byName.has(name)) byName.set(name, spec)

const baseName = (program: string) => program.slice(program.lastIndexOf("/") + 1)

/** The spec of the program `name` runs, or undefined. */
export const specOf = (name: string): ProgramSpec | undefined => {
  const base = baseName(name)
  return byName.get(base) ?? byName.get(base.replace(/[0-9.]+$/, "")) ?? byName.get(base.replace(/(\d)\.\d+$/, "$1"))
}

/** Every name a spec covers, sorted (docs/policy.md lists them). */
export const names = (): ReadonlyArray<string> => [...byName.keys()].sort()

/** What `argv` does by its program's spec, or undefined when the program has none. */
export const read = (argv: ReadonlyArray<Word>): Reading | undefined => {
  const program = argv[0]
  if (program === undefined) return undefined
  const spec = specOf(program)
  return spec === undefined ? undefined : readWith(spec, argv)
}
