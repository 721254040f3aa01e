import * as Shell from "../src/policy/internal/shell.ts"
const c = "cd src && ls -la | grep -v '^d' > /tmp/files.txt; echo \"done: $(wc -l < /tmp/files.txt)\""
let t = performance.now(); for (let i = 0; i < 30000; i++) Shell.analyze(c + " #" + i); console.log("µs", (performance.now() - t) / 30)
