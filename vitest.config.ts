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
    testTimeout: 30_000
  }
})
