import * as Shell from "../src/policy/internal/shell.ts"
import { Reader } from "../src/policy/internal/shell/read.ts"
const p2 = "(".repeat(30000) + "ls" + ")".repeat(30000)
let t = Date.now(); try { new Reader(p2, []).readAll() } catch (e) { console.log((e as any).reason) } console.log("reader", Date.now() - t)
t = Date.now(); Shell.analyze(p2 + "  "); console.log("analyze", Date.now() - t)
t = Date.now(); p2.includes("\r"); p2.includes("\u0000"); console.log("includes", Date.now() - t)
const c = "cd src && ls -la | grep -v '^d' > /tmp/files.txt; echo \"done: $(wc -l < /tmp/files.txt)\""
for (let j = 0; j < 3; j++) { t = performance.now(); for (let i = 0; i < 10000; i++) Shell.analyze(c + " #" + i + j); console.log("µs", (performance.now() - t) / 10) }
for (let j = 0; j < 3; j++) { t = performance.now(); for (let i = 0; i < 10000; i++) new Reader(c + " #" + i, []).readAll(); console.log("reader µs", (performance.now() - t) / 10) }
