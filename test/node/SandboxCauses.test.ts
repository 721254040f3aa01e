/**
 * Issue 19's seven causes end to end: the real `toolgate run` binary, a
 * scripted model making every probe's calls (src/node/internal/escapeProbes.ts,
 * the same probes `toolgate sandbox --self-test` runs), a policy allowing
 * every call, descriptors planted in the toolgate process — once as whoever
 * runs the tests (root in CI), once as an unprivileged user (nobody, through
 * setpriv) — then each probe's judge looks at the host.
 *
 * One CLI run carries all seven causes: a spawn costs about 3 s here, and the
 * tests of this file run one after the other. The kill race itself (a
 * timeout shorter than bubblewrap's set-up) is repeated 100 times below the
 * CLI, in SandboxEscape.test.ts, where a call costs tens of milliseconds: the
 * model's timeout is clamped to 1 s, so through the CLI each repetition
 * would cost a second and race nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeHttp from "node:http"
import type { AddressInfo } from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import * as Probes from "../../src/node/internal/escapeProbes.ts"
import { sandboxAvailable } from "./processes.ts"

const bin = fileURLToPath(new URL("../../src/bin/toolgate.ts", import.meta.url))
const isRoot = process.getuid?.() === 0
const nobody = 65534

let base = ""
beforeAll(() => {
  base = NodeFs.realpathSync(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "toolgate-causes-")))
  // The unprivileged half must pass through it.
  NodeFs.chmodSync(base, 0o755)
})
afterAll(() => {
  // Only when a wall failed is anything of ours still running: end it (by
  // pid, found by this file's directory in its command line) so that a
  // failed run does not leave a thousand sleeps behind.
  for (const pid of Probes.hostPids(base)) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // gone
    }
  }
  NodeFs.rmSync(base, { recursive: true, force: true })
})

interface Spawned {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Starts the real binary, with descriptors planted as a parent shell would
 * (inheritable: a directory of `/`, a file, the workspace), optionally as
 * another uid.
 */
const toolgate = (args: ReadonlyArray<string>, options: { readonly uid?: number; readonly env?: Record<string, string> } = {}) =>
  new Promise<Spawned>((resolve) => {
    const planted = ["bash", "-c", `exec "$@" 200</ 201</etc/hostname 202<"${base}"`, "plant", process.execPath, bin, ...args]
    const argv = options.uid === undefined
      ? planted
      : ["setpriv", `--reuid=${options.uid}`, `--regid=${options.uid}`, "--clear-groups", "--", ...planted]
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(ANTHROPIC|OPENAI|TOOLGATE)_/.test(k)))
    const child = NodeChild.spawn(argv[0]!, argv.slice(1), {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...clean, ...options.env }
    })
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (chunk) => (stdout += chunk))
    child.stderr!.on("data", (chunk) => (stderr += chunk))
    // `toolgate run` must exit when the run ends: one still running after a
    // minute is killed and reported as such (code null), not waited for.
    const deadline = setTimeout(() => child.kill("SIGKILL"), 60_000)
    child.on("close", (code) => {
      clearTimeout(deadline)
      resolve({ code, stdout, stderr })
    })
  })

/** The `← NAME Outcome: text` lines of `toolgate run`'s output, in order. */
const outcomesOf = (stdout: string): Array<Probes.Outcome> =>
  [...stdout.matchAll(/^\s*← (\S+) (\w+): (.*)$/gm)].map((m) => ({ tag: m[2]!, text: m[3]! }))

/** Every probe through one `toolgate run`; the verdicts, one line per cause. */
const runCauses = async (uid: number | undefined) => {
  const dir = NodeFs.mkdtempSync(NodePath.join(base, `as-${uid ?? "self"}-`))
  NodeFs.chmodSync(dir, 0o755)
  const site: Probes.Site = {
    root: NodePath.join(dir, "workspace"),
    outside: NodePath.join(dir, "outside"),
    asRoot: uid === undefined && isRoot
  }
  NodeFs.mkdirSync(site.root)
  NodeFs.mkdirSync(site.outside)
  const prepared = []
  for (const probe of Probes.all) prepared.push({ probe, ready: await probe.prepare(site) })
  try {
    if (uid !== undefined) NodeChild.execFileSync("chown", ["-R", `${uid}:${uid}`, site.root, NodePath.join(dir)])
    const calls = prepared.flatMap(({ ready }) => ready.calls)
    const scenario = NodePath.join(dir, "scenario.json")
    NodeFs.writeFileSync(scenario, JSON.stringify({
      name: "escape probes",
      description: "A model trying every cause of issue 19.",
      turns: [...calls.map((call) => ({ text: "probing", toolCalls: [call] })), { text: "done" }]
    }))
    const policy = NodePath.join(dir, "allow-all.json")
    NodeFs.writeFileSync(policy, JSON.stringify({ permissions: { allow: ["Bash", "Read", "Write", "Edit", "Glob", "Grep"] } }))
    const run = await toolgate(
      ["run", "--scenario", scenario, "--policy", policy, "--yes", "--root", site.root],
      uid === undefined ? {} : { uid, env: { HOME: dir } }
    )
    expect(run.stdout).toContain("bash:      sandboxed (bubblewrap")
    // Judged even when the run did not end well, so that a failure names
    // the causes that escaped; a call with no outcome counts as "Missing".
    const outcomes = outcomesOf(run.stdout)
    const lines: Array<string> = []
    let at = 0
    for (const { probe, ready } of prepared) {
      const mine = ready.calls.map((_, i) => outcomes[at + i] ?? { tag: "Missing", text: "" })
      at += ready.calls.length
      lines.push(Probes.describe(probe, await ready.judge(mine)))
    }
    const exited = run.code === null ? "toolgate run was still running a minute later and was killed" : run.stderr
    return { lines, run, exited, leftAfter: Probes.hostPids(site.root) }
  } finally {
    await Promise.all(prepared.map(({ ready }) => ready.release()))
  }
}

const allHeld = Probes.all.map((probe) => Probes.describe(probe, Probes.held))

describe.skipIf(!sandboxAvailable)("issue 19's causes through toolgate run (bubblewrap)", () => {
  it("as the test's own user (root in CI): every cause held, and the run exits when it ends", async () => {
    const { exited, leftAfter, lines, run } = await runCauses(undefined)
    expect(lines).toEqual(allHeld)
    expect(run.code, exited).toBe(0)
    expect(run.stdout).toContain("Completed")
    // The run exited, and nothing of it runs on: no bubblewrap (whose
    // command line names the workspace) and so no sandbox's namespace is
    // left. (Cause 5 judges a leftover command itself; no wall-clock bound
    // here, which a loaded machine could break.)
    expect(leftAfter).toEqual([])
  }, 90_000)

  it.skipIf(!isRoot)("as an unprivileged user (nobody, through setpriv): every cause held", async () => {
    const { exited, leftAfter, lines, run } = await runCauses(nobody)
    expect(lines).toEqual(allHeld)
    expect(run.code, exited).toBe(0)
    expect(run.stdout).toContain("Completed")
    expect(leftAfter).toEqual([])
  }, 90_000)

  it("toolgate sandbox --self-test prints one held line per cause and exits 0", async () => {
    const self = await toolgate(["sandbox", "--self-test"])
    expect(self.code, self.stdout + self.stderr).toBe(0)
    const [, limits, ...probes] = self.stdout.trim().split("\n")
    expect(limits).toMatch(/^  whole-call limits: (a cgroup per call|none)/)
    expect(probes).toEqual(allHeld)
  }, 90_000)
})

describe("toolgate sandbox --self-test without bubblewrap", () => {
  it("exits 1 and names the package", async () => {
    const dir = NodeFs.mkdtempSync(NodePath.join(base, "bin-"))
    NodeFs.symlinkSync("/bin/bash", NodePath.join(dir, "bash"))
    const self = await toolgate(["sandbox", "--self-test"], { env: { PATH: dir } })
    expect(self.code).toBe(1)
    expect(self.stderr).toMatch(/no sandbox on this machine: .*bubblewrap is not installed \(Debian\/Ubuntu: apt-get install bubblewrap\)/)
  }, 60_000)
})

/**
 * `--allow-domain localhost` against a loopback HTTP server on the host,
 * which stands in for an allowed domain (as `localhost`) and a refused one
 * (as `127.0.0.1`, the same server under a name not on the list). Commands
 * speak HTTP with bash alone (`/dev/tcp`), so no client needs installing.
 */
const allowDomainRun = async (uid: number | undefined) => {
  const dir = NodeFs.mkdtempSync(NodePath.join(base, `domains-${uid ?? "self"}-`))
  NodeFs.chmodSync(dir, 0o755)
  const root = NodePath.join(dir, "workspace")
  NodeFs.mkdirSync(root)
  if (uid !== undefined) NodeChild.execFileSync("chown", ["-R", `${uid}:${uid}`, dir])
  let hits = 0
  const server = NodeHttp.createServer((_, res) => {
    hits++
    res.end("reached\n")
  })
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", () => done()))
  const port = (server.address() as AddressInfo).port
  try {
    const proxy = (file: string, request: string) =>
      `(exec 3<>/dev/tcp/127.0.0.1/3128 && printf '${request}' >&3 && cat <&3) > ${file} 2>&1; true`
    const commands = [
      proxy("allowed", `GET http://localhost:${port}/ HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n`),
      proxy("tunnel", `CONNECT localhost:${port} HTTP/1.1\\r\\n\\r\\nGET / HTTP/1.0\\r\\n\\r\\n`),
      proxy("refused", `GET http://127.0.0.1:${port}/ HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n`),
      proxy("refused-tunnel", `CONNECT 127.0.0.1:${port} HTTP/1.1\\r\\n\\r\\n`),
      `(exec 3<>/dev/tcp/127.0.0.1/${port} && echo connected) > direct 2>&1; env | grep '^HTTPS_PROXY=' > env; ` +
      `perl -MSocket -e 'socket(my $s, AF_UNIX, SOCK_STREAM, 0) or exit 9'; echo unix=$? > unix; ` +
      `(exec > fds; for n in $(seq 3 1023); do [ -e /proc/self/fd/$n ] && echo $n; done; echo end)`
    ]
    const scenario = NodePath.join(dir, "scenario.json")
    NodeFs.writeFileSync(scenario, JSON.stringify({
      name: "domains",
      description: "A model reaching an allowed and a refused domain.",
      // A tunnel the proxy wrongly opened stays open: the call's own
      // deadline ends it, so that a broken allowlist fails fast.
      turns: [
        ...commands.map((command) => ({ text: "fetching", toolCalls: [{ name: "Bash", params: { command, timeout: 5000 } }] })),
        { text: "done" }
      ]
    }))
    const policy = NodePath.join(dir, "allow-all.json")
    NodeFs.writeFileSync(policy, JSON.stringify({ permissions: { allow: ["Bash"] } }))
    const run = await toolgate(
      ["run", "--scenario", scenario, "--policy", policy, "--yes", "--root", root, "--allow-domain", "localhost"],
      uid === undefined ? {} : { uid, env: { HOME: dir } }
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain("no network but HTTP(S) to localhost through a proxy")
    const seen = (file: string) => NodeFs.readFileSync(NodePath.join(root, file), "utf8")
    expect(seen("allowed")).toContain("reached")
    expect(seen("tunnel")).toMatch(/200 Connection Established[\s\S]*reached/)
    expect(seen("refused")).toMatch(/^HTTP\/1.1 403[\s\S]*127.0.0.1 is not on the sandbox's network allowlist/)
    expect(seen("refused-tunnel")).toMatch(/^HTTP\/1.1 403/)
    expect(seen("direct")).not.toContain("connected")
    expect(seen("env")).toBe("HTTPS_PROXY=http://127.0.0.1:3128\n")
    // The bridge needs no Unix socket inside, so the filter keeps refusing them,
    // and neither the bridge's nor bubblewrap's descriptors reach the command.
    expect(seen("unix")).toBe("unix=9\n")
    expect(seen("fds")).toBe("end\n")
    expect(hits).toBe(2)
  } finally {
    await new Promise<void>((done) => server.close(() => done()))
  }
}

describe.skipIf(!sandboxAvailable)("toolgate run --allow-domain (bubblewrap)", () => {
  it("as the test's own user: the allowed name is reached through the proxy, any other gets 403, nothing directly", async () => {
    await allowDomainRun(undefined)
  }, 90_000)

  it.skipIf(!isRoot)("as an unprivileged user (nobody, through setpriv): the same", async () => {
    await allowDomainRun(nobody)
  }, 90_000)
})
