import * as Shell from "../src/policy/internal/shell.ts"
const p = "( ".repeat(33000) + "ls" + " )".repeat(10)
for (let k = 0; k < 3; k++) { const t = performance.now(); const a = Shell.analyze(p + " ".repeat(k)); console.log((performance.now() - t).toFixed(1), "ms", JSON.stringify(a).slice(0, 80)) }
