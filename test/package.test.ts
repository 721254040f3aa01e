import { describe, expect, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"

// The package as npm publishes it: built, packed, unpacked into a fresh
// consumer project (its dependencies linked from this checkout, since
// installing them again would only test the registry), then imported by its
// four entry points and run through its bin.
const repo = fileURLToPath(new URL("..", import.meta.url))

describe("npm pack", () => {
  it("the packed package's four entry points import and its bin runs; internals are closed", () => {
    const consumer = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-consumer-"))
    try {
      execFileSync("npm", ["run", "-s", "build"], { cwd: repo, stdio: "pipe" })
      const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", consumer], { cwd: repo, encoding: "utf8" })
        .trim().split("\n").at(-1)!
      const modules = NodePath.join(consumer, "node_modules")
      Fs.mkdirSync(NodePath.join(modules, "toolgate"), { recursive: true })
      execFileSync("tar", ["-xzf", NodePath.join(consumer, tarball), "-C", NodePath.join(modules, "toolgate"), "--strip-components=1"])
      for (const dep of Fs.readdirSync(NodePath.join(repo, "node_modules"))) {
        if (dep !== "toolgate" && !dep.startsWith(".")) Fs.symlinkSync(NodePath.join(repo, "node_modules", dep), NodePath.join(modules, dep))
      }
      Fs.writeFileSync(NodePath.join(consumer, "package.json"), JSON.stringify({ name: "consumer", type: "module" }))
      const script = `
        const entries = ["toolgate", "toolgate/policy", "toolgate/node", "toolgate/testing"]
        const loaded = {}
        for (const e of entries) loaded[e] = Object.keys(await import(e)).length
        let internal = "open"
        try { await import("toolgate/internal/describe") } catch (e) { internal = e.code }
        console.log(JSON.stringify({ loaded, internal }))`
      const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: consumer, encoding: "utf8" }))
      expect(out.internal).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED")
      for (const count of Object.values(out.loaded)) expect(count).toBeGreaterThan(0)
      const help = execFileSync(process.execPath, [NodePath.join(modules, "toolgate/dist/bin/toolgate.js"), "--help"], { encoding: "utf8" })
      expect(help).toContain("check")
      expect(help).toContain("run")
    } finally {
      Fs.rmSync(consumer, { recursive: true, force: true })
    }
  }, 120_000)
})
