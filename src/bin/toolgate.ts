#!/usr/bin/env node
/**
 * The `toolgate` executable. It checks the Node version first, in syntax any
 * Node can read, so an old Node prints one line instead of a SyntaxError from
 * deep inside a dependency; then it loads the command.
 *
 * @since 0.1.0
 */
const minimum = [22, 19]
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number)
if (major < minimum[0]! || (major === minimum[0] && minor < minimum[1]!)) {
  process.stderr.write(`toolgate needs Node ${minimum.join(".")} or newer; this is Node ${process.versions.node}.\n`)
  process.exit(1)
}
await import("../cli/main.ts")
