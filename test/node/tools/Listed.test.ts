import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Credentials from "../../../src/node/internal/credentials.ts"
import { run, tag, tools, workspace } from "./fixtures.ts"

describe("the credential and protected-path lists in the file tools", () => {
  it.live("Read refuses credentials whatever the rules allow, by name and through a link inside the workspace", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      ws.write(".env", "API_KEY=secret\n")
      ws.write("config/.npmrc", "//registry.npmjs.org/:_authToken=npm_secret\n")
      ws.write(".env.example", "API_KEY=\n")
      NodeFs.symlinkSync(".env", NodePath.join(ws.root, "innocent.txt"))
      const results = yield* run([
        { name: "Read", params: { file_path: ".env" } },
        { name: "Read", params: { file_path: "config/.npmrc" } },
        { name: "Read", params: { file_path: "innocent.txt" } },
        { name: "Read", params: { file_path: ".env.example" } }
      ]).pipe(Effect.provide(tools(ws.root)))
      expect(results.map(tag)).toEqual(["NotReadable", "NotReadable", "NotReadable", undefined])
      for (const r of results.slice(0, 3)) expect(JSON.stringify(r.result)).not.toMatch(/secret/)
      expect(results[3]!.result).toContain("API_KEY=")
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("Write and Edit refuse git internals, agent settings and credentials, through a link too", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      ws.write(".git/config", "[core]\n")
      ws.write(".claude/settings.json", "{}\n")
      NodeFs.symlinkSync(".git", NodePath.join(ws.root, "meta"))
      const results = yield* run([
        { name: "Write", params: { file_path: ".git/hooks/pre-commit", content: "touch pwned\n" } },
        { name: "Edit", params: { file_path: ".git/config", old_string: "[core]", new_string: "[core]\n\tfsmonitor = touch pwned" } },
        { name: "Edit", params: { file_path: "meta/config", old_string: "[core]", new_string: "[core]\n\tfsmonitor = x" } },
        { name: "Write", params: { file_path: ".claude/settings.json", content: "{\"hooks\":{}}" } },
        { name: "Write", params: { file_path: ".env", content: "X=1\n" } },
        { name: "Write", params: { file_path: "src/ok.ts", content: "export {}\n" } }
      ]).pipe(Effect.provide(tools(ws.root)))
      expect(results.map(tag)).toEqual(["NotWritable", "NotWritable", "NotWritable", "NotWritable", "NotWritable", undefined])
      expect(NodeFs.readFileSync(NodePath.join(ws.root, ".git/config"), "utf8")).toBe("[core]\n")
      expect(NodeFs.existsSync(NodePath.join(ws.root, ".git/hooks/pre-commit"))).toBe(false)
      expect(NodeFs.readFileSync(NodePath.join(ws.root, ".claude/settings.json"), "utf8")).toBe("{}\n")
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("Grep and Glob skip credentials (by name, and links to them) and say which they left out", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      ws.write(".env", "TOKEN=needle-secret\n")
      ws.write("deploy/.npmrc", "needle-secret\n")
      ws.write("src/a.ts", "// needle\n")
      NodeFs.symlinkSync("../.env", NodePath.join(ws.root, "src", "settings.txt"))
      const [grep, glob, single] = yield* run([
        { name: "Grep", params: { pattern: "needle", glob: "{*,.*}" } },
        { name: "Glob", params: { pattern: "**/{*,.*}" } },
        { name: "Grep", params: { pattern: "needle", path: ".env" } }
      ]).pipe(Effect.provide(tools(ws.root)))
      const g = grep!.result as { matches: Array<{ file: string }>; withheld?: string }
      expect(g.matches.map((m) => m.file)).toEqual(["src/a.ts"])
      expect(g.withheld).toMatch(/credentials: .*\.env/)
      expect(g.withheld).toContain("deploy/.npmrc")
      expect(g.withheld).toContain("src/settings.txt")
      const l = glob!.result as { files: Array<string>; withheld?: string }
      expect(l.files).toEqual(["src/a.ts"])
      expect(l.withheld).toContain(".env")
      expect(tag(single!)).toBe("NotReadable")
      expect(JSON.stringify([grep, glob, single])).not.toContain("needle-secret")
    }).pipe(Effect.provide(NodeServices.layer)))

  it("the lists: credentials by name at any depth, committed examples not; protected paths and what is inside them", () => {
    expect([".env", ".env.local", "a/b/.env.production", ".npmrc", "x/.ssh/id_ed25519", ".bash_history", ".pgpass"]
      .every(Credentials.isCredentialPath)).toBe(true)
    expect([".env.example", ".env.sample", "env.ts", "src/environment.ts", "id_ed25519.pub"].some(Credentials.isCredentialPath))
      .toBe(false)
    expect([".git", ".git/hooks/pre-commit", ".claude/settings.json", ".toolgate/policy.json", "./.git/config"]
      .every((p) => Credentials.isProtectedPath(p))).toBe(true)
    expect([".github/workflows/ci.yml", "src/.gitkeep", ".gitignore"].some((p) => Credentials.isProtectedPath(p))).toBe(false)
  })
})
