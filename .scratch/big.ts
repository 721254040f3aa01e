import * as Shell from "../src/policy/internal/shell.ts"
const big = Array.from({ length: 5000 }, (_, i) => `echo "item ${i}" | grep -q x && ls`).join("; ").slice(0, 99_990)
for (let k = 0; k < 8; k++) { const t = performance.now(); const a = Shell.analyze(big + " ".repeat(k)); console.log(a._tag, (performance.now() - t).toFixed(1), "ms", a._tag === "Parsed" ? a.segments.length : a.reason) }
const words = "echo " + "a ".repeat(49_000)
for (let k = 0; k < 3; k++) { const t = performance.now(); const a = Shell.analyze(words + " ".repeat(k)); console.log("words", (performance.now() - t).toFixed(1), "ms") }
const q = "echo '" + "x".repeat(99_000) + "'"
for (let k = 0; k < 3; k++) { const t = performance.now(); Shell.analyze(q + " ".repeat(k)); console.log("quote", (performance.now() - t).toFixed(1), "ms") }
const dq = "echo \"" + "x".repeat(99_000) + "\""
for (let k = 0; k < 3; k++) { const t = performance.now(); Shell.analyze(dq + " ".repeat(k)); console.log("dquote", (performance.now() - t).toFixed(1), "ms") }
const hd = "cat <<EOF\n" + "line $x\n".repeat(12_000) + "EOF"
for (let k = 0; k < 3; k++) { const t = performance.now(); Shell.analyze(hd + " ".repeat(k)); console.log("heredoc", (performance.now() - t).toFixed(1), "ms") }
