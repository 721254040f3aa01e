import { Effect } from "effect"
import * as PolicyRules from "../src/policy/PolicyRules.ts"
const input = { allow: ["Bash(echo:*)"], deny: ["Write(/etc/**)"], mode: "bypass" as const }
const e = Effect.runSync(Effect.flatMap(PolicyRules.make(input), (r) => PolicyRules.explain(r, { name: "Bash", params: { command: process.argv[2] } }, { root: "/repo", home: "/home/me" })))
console.log(JSON.stringify(e, null, 1))
