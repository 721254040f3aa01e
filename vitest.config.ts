import * as Os from "node:os"
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url))

export default defineConfig({
  resolve: {
    // tests import the package by its entry points, as users do, but from source
    alias: [
      { find: /^toolgate$/, replacement: src("index.ts") },
      { find: /^toolgate\/(policy|node|testing|durable)$/, replacement: src("$1/index.ts") }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    // Two files at a time, also on 2 cores: vitest's default there is one
    // (cores - 1), and most files wait on a child process, a socket or a
    // browser, not on the CPU. No more than that: two spawning files already
    // share two cores, and more Node start-ups at once only make each slower.
    maxWorkers: Math.max(2, Os.availableParallelism() - 1),
    // A worker runs its files one after another in one module graph: effect
    // and the sources are evaluated once per worker, not once per file
    // (a third of the suite's time, isolated). So a test file must leave no
    // global state behind (environment variables, listeners, servers).
    isolate: false
  }
})
