import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, FileSystem, Layer, Path, Schema } from "effect"
import * as NodeFs from "node:fs"
import * as NodeHttp from "node:http"
import type { AddressInfo } from "node:net"
import { Approval, Concurrency, Executor, ToolPolicy } from "toolgate"
import { TestApproval } from "toolgate/testing"
import * as BuiltinTools from "../../src/node/BuiltinTools.ts"
import * as Sandbox from "../../src/node/internal/sandbox.ts"
import { diesWithin5s, hostPids, sandboxAvailable, uniqueSleep } from "./processes.ts"

/** A workspace and a directory beside it, outside, both removed after the test. */
const workspace = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const base = yield* fs.makeTempDirectoryScoped({ prefix: "toolgate-sandbox-" })
  const root = path.join(base, "root")
  const outside = path.join(base, "outside")
  yield* fs.makeDirectory(root)
  yield* fs.makeDirectory(outside)
  return { root, outside }
})

type BashOptions = NonNullable<BuiltinTools.Options["bash"]>

/** One Bash command through the executor under a policy that allows every call. */
const bash = (root: string, command: string, bash: BashOptions = {}) =>
  Executor.executeBatch(BuiltinTools.toolkit, [{ id: "b1", name: "Bash", params: { command } }]).pipe(
    Effect.map((results) => results[0]!),
    Effect.provide(BuiltinTools.layer({ root, bash })),
    Effect.provide(ToolPolicy.layer(ToolPolicy.allowAll)),
    Effect.provide(Concurrency.layer())
  )

type Output = { readonly exitCode: number; readonly stdout: string; readonly stderr: string }
const output = (result: { readonly result: unknown }) => result.result as Output

/** A real HTTP server on 127.0.0.1 counting the connections it gets. */
const loopbackServer = Effect.acquireRelease(
  Effect.callback<{ readonly port: number; readonly connections: () => number; readonly server: NodeHttp.Server }>(
    (resume) => {
      let connections = 0
      const server = NodeHttp.createServer((_, res) => res.end("reached\n"))
      server.on("connection", () => connections++)
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ port: (server.address() as AddressInfo).port, connections: () => connections, server })))
    }
  ),
  ({ server }) => Effect.promise(() => new Promise<void>((done) => server.close(() => done())))
)

/** Reaches the server with bash alone (no curl needed): exit 0 and its answer when connected. */
const fetchCommand = (port: number) =>
  `exec 3<>/dev/tcp/127.0.0.1/${port} && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3`

describe.skipIf(!sandboxAvailable)("Bash in the bubblewrap sandbox", () => {
  it.live("the layer reports the sandbox it runs commands in", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const confinement = yield* Effect.service(BuiltinTools.Confinement).pipe(
        Effect.provide(BuiltinTools.layer({ root: ws.root }))
      )
      expect(confinement).toMatchObject({ _tag: "Sandboxed", sandbox: "bubblewrap", network: "none" })
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("the workspace is writable; outside it, writes fail or land in a private tmpfs the host never sees", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const inside = yield* bash(ws.root, "echo kept > inside.txt && cat inside.txt")
      expect(output(inside)).toMatchObject({ exitCode: 0, stdout: "kept\n" })
      expect(NodeFs.readFileSync(`${ws.root}/inside.txt`, "utf8")).toBe("kept\n")

      // /usr is read-only; the sibling directory is under /tmp, private to the command.
      const usr = yield* bash(ws.root, "touch /usr/toolgate-escape")
      expect(output(usr).exitCode).not.toBe(0)
      expect(output(usr).stderr).toMatch(/Read-only file system/)
      expect(NodeFs.existsSync("/usr/toolgate-escape")).toBe(false)
      const sibling = yield* bash(ws.root, `mkdir -p ${ws.outside} && echo escaped > ${ws.outside}/escaped.txt`)
      expect(output(sibling).exitCode).toBe(0)
      expect(NodeFs.readdirSync(ws.outside)).toEqual([])
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("there is no network by default: a loopback server on the host is never reached", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const server = yield* loopbackServer
      const r = yield* bash(ws.root, fetchCommand(server.port))
      expect(output(r).exitCode).not.toBe(0)
      expect(output(r).stdout).not.toContain("reached")
      expect(server.connections()).toBe(0)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("network: \"all\" shares the host's network (the same command then reaches the server)", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const server = yield* loopbackServer
      const r = yield* bash(ws.root, fetchCommand(server.port), { network: "all" })
      expect(output(r).stdout).toContain("reached")
      expect(server.connections()).toBe(1)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("a setsid child does not survive the call", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const marker = uniqueSleep()
      const r = yield* bash(ws.root, `setsid sleep ${marker} > /dev/null 2>&1 < /dev/null & disown; sleep 0.3; echo left`)
      expect(output(r)).toMatchObject({ exitCode: 0, stdout: "left\n" })
      expect(yield* diesWithin5s(marker)).toBe(true)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("homes, /run and the host's secret files are absent; /tmp is private to each call", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const r = yield* bash(
        ws.root,
        "echo home=$(ls -A \"$HOME\" | wc -l) ssh=$(ls -A /etc/ssh | wc -l) shadow=$(cat /etc/shadow 2>/dev/null | wc -c) run=$(ls -A /run | wc -l); " +
          "echo hello > /tmp/private"
      )
      expect(output(r).stdout).toBe("home=0 ssh=0 shadow=0 run=0\n")
      const next = yield* bash(ws.root, "cat /tmp/private")
      expect(output(next).exitCode).not.toBe(0)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("run in the home directory itself, the workspace still hides ~/.ssh and ~/.npmrc", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      NodeFs.mkdirSync(`${ws.root}/.ssh`)
      NodeFs.writeFileSync(`${ws.root}/.ssh/id_ed25519`, "PRIVATE KEY\n")
      NodeFs.writeFileSync(`${ws.root}/.npmrc`, "//registry.npmjs.org/:_authToken=npm_secret\n")
      const home = process.env.HOME
      const r = yield* Effect.acquireUseRelease(
        Effect.sync(() => (process.env.HOME = ws.root)),
        () => bash(ws.root, "cat .ssh/id_ed25519 .npmrc; ls -A .ssh | wc -l; echo ok > notes.txt"),
        () => Effect.sync(() => (process.env.HOME = home))
      )
      expect(output(r).stdout).toBe("0\n")
      expect(output(r).stdout + output(r).stderr).not.toMatch(/PRIVATE KEY|npm_secret/)
      expect(NodeFs.readFileSync(`${ws.root}/notes.txt`, "utf8")).toBe("ok\n")
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("the command has no capabilities, even when toolgate runs as root: / cannot be remounted writable", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const r = yield* bash(ws.root, "grep CapEff /proc/self/status; mount -o remount,rw / && echo REMOUNTED")
      expect(output(r).stdout).toContain("CapEff:\t0000000000000000")
      expect(output(r).stdout).not.toContain("REMOUNTED")
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("git hooks and the agent's settings in the workspace stay read-only", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      NodeFs.mkdirSync(`${ws.root}/.git/hooks`, { recursive: true })
      NodeFs.mkdirSync(`${ws.root}/.claude`)
      const r = yield* bash(ws.root, "echo evil > .git/hooks/pre-commit; echo '{}' > .claude/settings.json; echo ok > free.txt")
      expect(NodeFs.existsSync(`${ws.root}/.git/hooks/pre-commit`)).toBe(false)
      expect(NodeFs.existsSync(`${ws.root}/.claude/settings.json`)).toBe(false)
      expect(NodeFs.readFileSync(`${ws.root}/free.txt`, "utf8")).toBe("ok\n")
      expect(output(r).stderr).toMatch(/Read-only file system/)
    }).pipe(Effect.provide(NodeServices.layer)))
})

describe("Bash's environment is an allowlist", () => {
  // Names that look like secrets next to the allowlisted ones, in any mix.
  const Name = Schema.Literals([
    "PATH", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "TZ", "HOME",
    "ANTHROPIC_API_KEY", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "DATABASE_URL", "SSH_AUTH_SOCK", "NPM_TOKEN"
  ])
  it.effect.prop(
    "a command's environment holds only allowlisted names, the names passed explicitly, and HOME set by toolgate",
    { pairs: Schema.Array(Schema.Tuple([Name, Schema.String])), names: Schema.Array(Name) },
    ({ names, pairs }) =>
      Effect.sync(() => {
        const parent: Record<string, string> = Object.fromEntries(pairs)
        const extra: ReadonlyArray<string> = names
        const env = Sandbox.environment(parent, extra, "/private/home")
        for (const name of Object.keys(env)) {
          const allowed = Sandbox.defaultEnvironment.includes(name) || name.startsWith("LC_") || extra.includes(name) ||
            name === "HOME"
          expect(allowed).toBe(true)
          if (name !== "HOME" && !(name === "PATH" && parent.PATH === undefined)) expect(env[name]).toBe(parent[name])
        }
        expect(env.HOME).toBe("/private/home")
        for (const name of extra) if (name !== "HOME" && parent[name] !== undefined) expect(env[name]).toBe(parent[name])
      }),
    { arbitrary: { runs: 300 } }
  )

  const secrets = {
    TOOLGATE_TEST_API_KEY: "sk-live-secret",
    TOOLGATE_TEST_TOKEN: "tok-secret",
    DATABASE_URL: "postgres://user:secret@db/prod"
  }
  const withSecrets = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.acquireUseRelease(
      Effect.sync(() => Object.assign(process.env, secrets)),
      () => effect,
      () => Effect.sync(() => Object.keys(secrets).forEach((name) => delete process.env[name]))
    )
  const modes: ReadonlyArray<BashOptions> = sandboxAvailable ? [{ sandbox: "auto" }, { sandbox: "none" }] : [{ sandbox: "none" }]

  for (const mode of modes) {
    it.live(`no API key, token or database URL reaches a command (sandbox: ${mode.sandbox})`, () =>
      Effect.gen(function*() {
        const ws = yield* workspace
        const r = yield* withSecrets(bash(ws.root, "env", mode))
        const names = output(r).stdout.split("\n").map((line) => line.split("=")[0] ?? "").filter((n) => n !== "")
        // PWD, SHLVL and _ are bash's own.
        const allowed = ["PATH", "HOME", "LANG", "LANGUAGE", "TERM", "TZ", "COLORTERM", "NO_COLOR", "PWD", "SHLVL", "_"]
        expect(names).toContain("PATH")
        expect(names.filter((name) => !allowed.includes(name) && !name.startsWith("LC_"))).toEqual([])
        expect(output(r).stdout).not.toContain("secret")
      }).pipe(Effect.provide(NodeServices.layer)))
  }

  it.live("a variable the user names explicitly is passed in", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const r = yield* withSecrets(bash(ws.root, "echo $TOOLGATE_TEST_TOKEN", { ...modes[0], env: ["TOOLGATE_TEST_TOKEN"] }))
      expect(output(r).stdout).toBe("tok-secret\n")
    }).pipe(Effect.provide(NodeServices.layer)))
})

describe("Bash without a sandbox", () => {
  const noBwrap: BashOptions = { bwrap: "/nonexistent/bwrap" }

  it.live("the layer says why there is none", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const confinement = yield* Effect.service(BuiltinTools.Confinement).pipe(
        Effect.provide(BuiltinTools.layer({ root: ws.root, bash: noBwrap }))
      )
      expect(confinement).toMatchObject({ _tag: "Unsandboxed", optedOut: false })
      expect(BuiltinTools.describeConfinement(confinement)).toMatch(/NOT sandboxed \(bubblewrap is not installed.*every command is asked/)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("a bubblewrap that cannot make a sandbox (user namespaces off) counts as none, with its reason", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      // /bin/false fails as bwrap does when user namespaces are disabled.
      const confinement = yield* BuiltinTools.detect({ root: ws.root, bash: { bwrap: "/bin/false" } })
      expect(confinement).toMatchObject({ _tag: "Unsandboxed", optedOut: false })
      expect((confinement as { reason: string }).reason).toMatch(/bubblewrap is installed but cannot create a sandbox here/)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("under a policy that was not guarded, Bash refuses to run and says how to fix it", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const r = yield* bash(ws.root, "echo ran > ran.txt", noBwrap)
      expect(r.result).toMatchObject({ _tag: "SandboxUnavailable" })
      expect((r.result as { message: string }).message).toMatch(/BuiltinTools\.guard/)
      expect(NodeFs.existsSync(`${ws.root}/ran.txt`)).toBe(false)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("a policy that only looks guarded (the old global brand, a copy of a guarded one) does not let Bash run", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const confinement = BuiltinTools.BashConfinement.Unsandboxed({ reason: "no bwrap", optedOut: false })
      const real = BuiltinTools.guard(ToolPolicy.allowAll, confinement)
      const forged: ToolPolicy.ToolPolicy = {
        [Symbol.for("toolgate/BuiltinTools/asksEveryCommand")]: true,
        decide: ToolPolicy.allowAll.decide
      } as ToolPolicy.ToolPolicy
      for (const policy of [forged, { ...real, decide: ToolPolicy.allowAll.decide }]) {
        const [r] = yield* Executor.executeBatch(BuiltinTools.toolkit, [{ id: "b", name: "Bash", params: { command: "echo ran > ran.txt" } }]).pipe(
          Effect.provide(BuiltinTools.layer({ root: ws.root, bash: noBwrap })),
          Effect.provide(ToolPolicy.layer(policy)),
          Effect.provide(Concurrency.layer())
        )
        expect(r!.result).toMatchObject({ _tag: "SandboxUnavailable" })
      }
      expect(NodeFs.existsSync(`${ws.root}/ran.txt`)).toBe(false)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("a guarded policy asks every Bash call, even one a rule allows; other tools keep their verdict", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const recorder = yield* TestApproval.recording(Approval.autoApprove)
      const results = yield* Executor.executeBatch(BuiltinTools.toolkit, [
        { id: "w", name: "Write", params: { file_path: "a.txt", content: "a" } },
        { id: "b", name: "Bash", params: { command: "echo ran" } }
      ]).pipe(
        Effect.provide(BuiltinTools.guardLayer(ToolPolicy.layer(ToolPolicy.allowAll)).pipe(
          Layer.provideMerge(BuiltinTools.layer({ root: ws.root, bash: noBwrap }))
        )),
        Effect.provide(Approval.layer(recorder.handler)),
        Effect.provide(Concurrency.layer())
      )
      expect((yield* recorder.requests).map((request) => request.call.id)).toEqual(["b"])
      expect(results[1]!.result).toMatchObject({ exitCode: 0, stdout: "ran\n" })
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("guard with unsandboxed: \"deny\" denies what it would ask; a sandbox or an opt-out leaves the policy as it is", () =>
    Effect.gen(function*() {
      const request = {
        call: { id: "1", name: "Bash", params: { command: "ls" } },
        tool: BuiltinTools.Bash,
        toolClass: "Mutating" as const,
        origin: { depth: 0, path: [] }
      } as unknown as ToolPolicy.PolicyRequest
      const unsandboxed = BuiltinTools.BashConfinement.Unsandboxed({ reason: "none here", optedOut: false })
      const denied = yield* BuiltinTools.guard(ToolPolicy.allowAll, unsandboxed, { unsandboxed: "deny" }).decide(request)
      expect(denied._tag).toBe("Deny")
      // the engine's verdict, not the allow rule's: "denied by the policy [allow: …]" read as a contradiction
      expect(denied.match).toEqual({ _tag: "Fact", fact: "not sandboxed" })
      const sandboxed = BuiltinTools.BashConfinement.Sandboxed({ sandbox: "bubblewrap", network: "none" })
      expect(BuiltinTools.guard(ToolPolicy.allowAll, sandboxed)).toBe(ToolPolicy.allowAll)
      const optedOut = BuiltinTools.BashConfinement.Unsandboxed({ reason: "off", optedOut: true })
      expect(BuiltinTools.guard(ToolPolicy.allowAll, optedOut)).toBe(ToolPolicy.allowAll)
    }))

  it.live("sandbox: \"required\" fails the layer, naming what is missing", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const error = yield* Effect.flip(
        Effect.service(BuiltinTools.Confinement).pipe(
          Effect.provide(BuiltinTools.layer({ root: ws.root, bash: { ...noBwrap, sandbox: "required" } }))
        )
      )
      expect(error).toMatchObject({ _tag: "SandboxUnavailable" })
      expect(error.message).toMatch(/bubblewrap/)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("bash.allowDomains that cannot take effect (no sandbox, the whole network) or is not a host name fails the layer", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const fails = (bash: NonNullable<BuiltinTools.Options["bash"]>) =>
        Effect.flip(Effect.service(BuiltinTools.Confinement).pipe(Effect.provide(BuiltinTools.layer({ root: ws.root, bash }))))
      for (
        const bash of [
          { sandbox: "none", allowDomains: ["registry.npmjs.org"] },
          { network: "all", allowDomains: ["registry.npmjs.org"] },
          { allowDomains: ["https://registry.npmjs.org/"] }
        ] as const
      ) {
        const error = yield* fails(bash)
        expect(error).toMatchObject({ _tag: "SandboxUnavailable", reason: "bash.allowDomains" })
      }
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("without the sandbox a setsid child outlives the call: what the sandbox is for", () =>
    Effect.gen(function*() {
      const ws = yield* workspace
      const marker = uniqueSleep()
      const r = yield* bash(ws.root, `setsid sleep ${marker} > /dev/null 2>&1 < /dev/null & disown; sleep 0.3; echo left`, { sandbox: "none" })
      expect(output(r).stdout).toBe("left\n")
      let survivors = hostPids(marker)
      for (let i = 0; i < 50 && survivors.length === 0; i++) {
        yield* Effect.sleep("20 millis")
        survivors = hostPids(marker)
      }
      survivors.forEach((pid) => process.kill(pid, "SIGKILL"))
      expect(survivors.length).toBeGreaterThan(0)
    }).pipe(Effect.provide(NodeServices.layer)))
})
