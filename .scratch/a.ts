import * as Shell from "../src/policy/internal/shell.ts"
for (const c of process.argv.slice(2)) console.log(JSON.stringify(Shell.analyze(c), null, 0))
