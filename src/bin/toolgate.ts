#!/usr/bin/env node
/**
 * The `toolgate` executable. It checks the Node version first, in syntax any
 * Node can read, so an old Node prints one line instead of a SyntaxError from
 * deep inside a dependency; then it loads the command.
 *
 * `toolgate check --hook …` is a Claude Code hook, started for every tool
 * call: it goes straight to the hook's own small entry (bundled into one
 * file by `npm run build`), never through `effect/cli` and the other
 * commands, and every way it can fail — an old Node, a module that does not
 * load — blocks the call with exit status 2 (Claude Code runs the tool on
 * any other failure status).
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import * as NodeModule from "node:module"

const argv = process.argv.slice(2)
const hookMode = argv[0] === "check" && argv.some((a) => a === "--hook" || a.startsWith("--hook="))
const failStatus = hookMode ? 2 : 1

const minimum = [22, 19]
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number)
if (major < minimum[0]! || (major === minimum[0] && minor < minimum[1]!)) {
  process.stderr.write(`toolgate needs Node ${minimum.join(".")} or newer; this is Node ${process.versions.node}.\n`)
  process.exit(failStatus)
}

// Node keeps the compiled code of every module it loads on disk, so the
// next start skips compiling them (a third of a hook's start-up).
NodeModule.enableCompileCache?.()

if (hookMode) {
  try {
    // The bundle exists in the built package; from the sources, the module.
    const bundle = new URL("./toolgate-hook.js", import.meta.url)
    const hook: { main: (argv: ReadonlyArray<string>) => Promise<void> } = NodeFs.existsSync(bundle)
      ? await import(bundle.href)
      : await import("../cli/hook/command.ts")
    await hook.main(argv.slice(1))
  } catch (error) {
    process.stderr.write(`toolgate: blocked: the hook failed (${error instanceof Error ? error.message : String(error)})\n`)
    process.exitCode = 2
  }
} else {
  await import("../cli/main.ts")
}
