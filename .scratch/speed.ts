import * as Shell from "../src/policy/internal/shell.ts"
const typical = [
  "git status && npm run test -- --watch=false 2>&1 | tail -n 50",
  "find . -name '*.ts' -not -path './node_modules/*' -exec grep -l \"Effect.gen\" {} \\; | head -20",
  "cd src && ls -la | grep -v '^d' > /tmp/files.txt; echo \"done: $(wc -l < /tmp/files.txt)\"",
  "timeout 30 npx vitest run test/policy --reporter=dot 2>&1 | tail -5 # quick check",
  "cat <<'EOF' > notes.md\n# Notes\nsome text here\nEOF\ngit add notes.md && git commit -m 'notes'"
]
const time = (f: () => void, n: number) => { const xs: number[] = []; for (let i = 0; i < n; i++) { const t = process.hrtime.bigint(); f(); xs.push(Number(process.hrtime.bigint() - t) / 1000) } xs.sort((a, b) => a - b); return { median: xs[n >> 1]!.toFixed(1), p90: xs[Math.floor(n * 0.9)]!.toFixed(1) } }
let k = 0
for (const c of typical) console.log(c.length, "chars uncached µs", time(() => Shell.analyze(`${c} #${k++}`), 3000), "cached µs", time(() => Shell.analyze(c), 3000))
const big = Array.from({ length: 5000 }, (_, i) => `echo "item ${i}" | grep -q x && ls`).join("; ").slice(0, 100_000)
console.log(big.length, "chars ms", time(() => Shell.analyze(big + " "), 5))
const chain = Array.from({ length: 20000 }, () => "ls").join(" && ")
console.log(chain.length, "chars chain ms", time(() => Shell.analyze(chain + " "), 5))
const nest = "echo " + "$(".repeat(40) + "x" + ")".repeat(40)
console.log("nest", JSON.stringify(Shell.analyze(nest)).slice(0, 100))
const paren = "(".repeat(50000) + "ls" + ")".repeat(50000)
console.log(paren.length, "parens ms", time(() => Shell.analyze(paren), 3), JSON.stringify(Shell.analyze(paren)).slice(0, 100))
const p2 = "(".repeat(30000) + "ls" + ")".repeat(30000)
console.log(p2.length, "parens ms", time(() => Shell.analyze(p2 + " "), 3), JSON.stringify(Shell.analyze(p2)).slice(0, 100))
const q = "echo " + "\"$(".repeat(30) + "ls" + ")\"".repeat(30)
console.log(JSON.stringify(Shell.analyze(q)).slice(0, 100))
