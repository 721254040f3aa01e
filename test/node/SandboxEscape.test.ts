/**
 * The red team's escape classes, each against the real sandbox (bubblewrap,
 * the seccomp filter, the launcher): uid 0 as host root, kernel knobs,
 * shadow-like files, inherited descriptors, namespaces/mounts/Unix sockets,
 * the kill race, resource exhaustion, planted git code and replaced parents
 * of protected files. Each runs as whoever runs the tests (root in CI); the
 * last block repeats the core probes as an unprivileged user when the tests
 * run as root.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, FileSystem, Path, type Scope } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeNet from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { Concurrency, Executor, ToolPolicy } from "toolgate"
import * as BuiltinTools from "../../src/node/BuiltinTools.ts"
import * as BashRun from "../../src/node/internal/bash.ts"
import * as Cgroup from "../../src/node/internal/cgroup.ts"
import * as Credentials from "../../src/node/internal/credentials.ts"
import * as Sandbox from "../../src/node/internal/sandbox.ts"
import { hostPids, sandboxAvailable, uniqueSleep } from "./processes.ts"

const isRoot = process.getuid?.() === 0

const workspace = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const base = yield* fs.makeTempDirectoryScoped({ prefix: "toolgate-escape-" })
  const root = path.join(base, "root")
  yield* fs.makeDirectory(root)
  return { base, root }
})

type BashOptions = NonNullable<BuiltinTools.Options["bash"]>
type Output = { readonly exitCode: number; readonly stdout: string; readonly stderr: string }

/** One Bash command through the executor under a policy that allows every call. */
const bash = (root: string, command: string, options: BashOptions = {}, timeout?: number) =>
  Executor.executeBatch(BuiltinTools.toolkit, [{
    id: "b1",
    name: "Bash",
    params: timeout === undefined ? { command } : { command, timeout }
  }]).pipe(
    Effect.map((results) => results[0]!.result as Output & { readonly _tag?: string }),
    Effect.provide(BuiltinTools.layer({ root, bash: options })),
    Effect.provide(ToolPolicy.layer(ToolPolicy.allowAll)),
    Effect.provide(Concurrency.layer())
  )

/** Real services and a scope for the workspace. */
const live = <A, E, R extends FileSystem.FileSystem | Path.Path | Scope.Scope | ChildProcessSpawner.ChildProcessSpawner>(
  effect: Effect.Effect<A, E, R>
) => effect.pipe(Effect.scoped, Effect.provide(NodeServices.layer))

const probe = fileURLToPath(new URL("./sandbox/probe.ts", import.meta.url))

/** Runs commands through `probe.ts` in a fresh process, with `stdio` (planted descriptors) and as `uid`. */
const runProbe = (
  root: string,
  commands: ReadonlyArray<string>,
  options: { readonly uid?: number; readonly bash?: BashOptions } = {}
) =>
  new Promise<{ confinement: { _tag: string }; results: Array<Output> }>((resolve, reject) => {
    // Planted as a parent shell would: inheritable (Node marks the low
    // descriptors it inherits close-on-exec at start-up, not these).
    const node = [
      "bash",
      "-c",
      `exec "$@" 200</ 201</etc/hostname 202<"${root}"`,
      "plant",
      process.execPath,
      probe,
      root,
      JSON.stringify(commands),
      JSON.stringify(options.bash ?? {})
    ]
    const argv = options.uid === undefined
      ? node
      : ["setpriv", `--reuid=${options.uid}`, `--regid=${options.uid}`, "--clear-groups", "--", ...node]
    const child = NodeChild.spawn(argv[0]!, argv.slice(1), {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: options.uid === undefined ? NodeOs.homedir() : root }
    })
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (chunk) => (stdout += chunk))
    child.stderr!.on("data", (chunk) => (stderr += chunk))
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`probe exited ${code}: ${stderr}`))
      resolve(JSON.parse(stdout))
    })
  })

/** Descriptors above 2 a command has open (the planted 200-202 among them), listed without opening any. */
const listDescriptors = "for n in $(seq 3 1023); do [ -e /proc/self/fd/$n ] && echo open:$n; done; echo end"

describe.skipIf(!sandboxAvailable)("the sandbox against the escape classes", () => {
  it.live("uid 0 is not host root: bubblewrap runs as a non-root host uid and every kernel knob is read-only", () =>
    live(Effect.gen(function*() {
      const ws = yield* workspace
      const before = NodeFs.readFileSync("/proc/sys/kernel/core_pattern", "utf8")
      const knobs = "echo '|/bin/sh' > /proc/sys/kernel/core_pattern; echo h > /proc/sysrq-trigger; " +
        "echo 1 > /sys/kernel/mm/ksm/run; echo 1 > /proc/sys/vm/drop_caches; id -u"
      const r = yield* bash(ws.root, knobs)
      expect(r.stdout.trim()).toBe(isRoot ? String(Sandbox.defaultSandboxUser.uid) : String(process.getuid!()))
      expect(r.stderr.match(/Read-only file system|Permission denied|No such file/g)?.length).toBe(4)
      // The read-only mounts hold on their own, with the command as root (runAs: "self").
      const self = yield* bash(ws.root, knobs, { runAs: "self" })
      expect(self.stderr.match(/Read-only file system|Permission denied|No such file/g)?.length).toBe(4)
      expect(NodeFs.readFileSync("/proc/sys/kernel/core_pattern", "utf8")).toBe(before)
    })))

  it.live("every shadow-like file of the host is empty inside, found by name (backups, gshadow, opasswd, sudoers)", () =>
    live(Effect.gen(function*() {
      const ws = yield* workspace
      const secrets = ["/etc", "/etc/security"].flatMap((dir) =>
        NodeFs.existsSync(dir) ? NodeFs.readdirSync(dir).filter(Credentials.isHostSecretName).map((n) => `${dir}/${n}`) : []
      )
      expect(secrets).toContain("/etc/shadow")
      const r = yield* bash(ws.root, `for f in ${secrets.join(" ")}; do printf '%s=%s\\n' "$f" "$(cat "$f" 2>/dev/null | wc -c)"; done`, {
        runAs: "self"
      })
      expect(r.stdout.trim().split("\n")).toEqual(secrets.map((f) => `${f}=0`))
      expect(["shadow-", "gshadow", "gshadow-", "opasswd", "shadow.bak", "sudoers", "krb5.keytab", "shadow~"]
        .every(Credentials.isHostSecretName)).toBe(true)
      expect(["passwd", "group", "hosts", "shadows.conf"].some(Credentials.isHostSecretName)).toBe(false)
    })))

  it("descriptors planted in the toolgate process (a directory of / among them) never reach the command", async () => {
    const root = NodeFs.realpathSync(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "toolgate-fds-")))
    try {
      const sandboxed = await runProbe(root, [listDescriptors, "ls /proc/self/fd/200/ 2>&1; cat <&201 2>&1 | head -c 40"])
      expect(sandboxed.confinement._tag).toBe("Sandboxed")
      expect(sandboxed.results[0]!.stdout).toBe("end\n")
      expect(sandboxed.results[1]!.stdout).not.toMatch(/\b(etc|usr|bin)\b/)
      expect(sandboxed.results[1]!.stdout).not.toContain(NodeOs.hostname())
      // Control: unconfined (the user's opt-out), the same descriptors are there.
      const open = await runProbe(root, [listDescriptors], { bash: { sandbox: "none" } })
      expect(open.results[0]!.stdout).toContain("open:200\nopen:201\nopen:202\n")
    } finally {
      NodeFs.rmSync(root, { recursive: true, force: true })
    }
  })

  it.live("the seccomp filter refuses namespaces, mounts, ptrace and Unix sockets; ordinary work runs", () =>
    live(Effect.gen(function*() {
      const ws = yield* workspace
      const r = yield* bash(
        ws.root,
        "unshare -U true 2>/dev/null; echo userns=$?; unshare -r -m true 2>/dev/null; echo mountns=$?; " +
          "perl -MSocket -e 'socket(my $s, AF_UNIX, SOCK_STREAM, 0) or exit 9; exit 0'; echo unix=$?; " +
          "perl -e 'syscall(101, 16, getppid(), 0, 0) == -1 or exit 0; exit 9'; echo ptrace=$?; " +
          "perl -MSocket -e 'socketpair(my $a, my $b, AF_UNIX, SOCK_STREAM, 0) or exit 9; exit 0'; echo pair=$?; " +
          "python3 -c 'import threading; t = threading.Thread(target=print, args=(\"thread\",)); t.start(); t.join()'; " +
          "(sleep 0.01 &) ; wait; echo fork=$?"
      )
      expect(r.stdout).toBe("userns=1\nmountns=1\nunix=9\nptrace=9\npair=0\nthread\nfork=0\n")
    })))

  it.live("a host service on a Unix socket in the workspace is never reached; allowUnixSockets opens it", () =>
    live(Effect.gen(function*() {
      const ws = yield* workspace
      let connections = 0
      const socket = NodePath.join(ws.root, "service.sock")
      const server = NodeNet.createServer((c) => {
        connections++
        c.end("reached\n")
      })
      yield* Effect.acquireRelease(
        Effect.promise(() => new Promise<void>((done) => server.listen(socket, () => done()))),
        () => Effect.promise(() => new Promise<void>((done) => server.close(() => done())))
      )
      NodeFs.chmodSync(socket, 0o777)
      const connect = `perl -MIO::Socket::UNIX -e 'my $s = IO::Socket::UNIX->new(Peer => "service.sock") or die "refused: $!\\n"; print <$s>'`
      const refused = yield* bash(ws.root, connect, { network: "all" })
      expect(refused.stderr).toMatch(/refused: Operation not permitted/)
      expect(connections).toBe(0)
      const allowed = yield* bash(ws.root, connect, { network: "all", allowUnixSockets: true })
      expect(allowed.stdout).toBe("reached\n")
      expect(connections).toBe(1)
    })))

  it.live("kill race: 100 calls cut at 0-30 ms, during bubblewrap's set-up included, leave nothing running", () =>
    live(Effect.gen(function*() {
      const ws = yield* workspace
      const detected = yield* Sandbox.detect({
        root: ws.root,
        network: "none",
        readOnly: [],
        absent: [],
        allowUnixSockets: false,
        limits: Sandbox.defaultLimits,
        runAs: isRoot ? Sandbox.defaultSandboxUser : undefined
      })
      if (detected._tag !== "Available") throw new Error(detected.reason)
      const marker = uniqueSleep()
      const survivors: Array<number> = []
      const early: Array<string> = []
      for (let i = 0; i < 100; i++) {
        const outcome = yield* BashRun.run(`setsid sleep ${marker} & sleep ${marker}`, {
          cwd: ws.root,
          timeout: Duration.millis(i % 31),
          maxOutputBytes: 1000,
          env: { PATH: "/usr/bin:/bin" },
          sandbox: detected.sandbox
        }).pipe(Effect.exit)
        // A sandbox that failed its own set-up under load ends early with an exit code: no survivor either.
        if (outcome._tag === "Success") early.push(outcome.value.stderr.slice(0, 200))
        survivors.push(...hostPids(marker))
      }
      expect(survivors).toEqual([])
      expect(early.length, early.join("\n")).toBeLessThan(10)
    })), 120_000)

  it.live("the model's timeout is clamped to a minimum: timeout 1 ms still lets a short command finish", () =>
    live(Effect.gen(function*() {
      const ws = yield* workspace
      const r = yield* bash(ws.root, "sleep 0.2; echo finished", {}, 1)
      expect(r.stdout).toBe("finished\n")
    })))

  it.live("a fork bomb stops at the process limit and dies with the call", () =>
    live(Effect.gen(function*() {
      const ws = yield* workspace
      const marker = uniqueSleep()
      // Forks until the kernel refuses, prints how many it got, leaves them sleeping.
      const r = yield* bash(
        ws.root,
        `perl -e 'my $n = 0; while ($n < 2000) { my $p = fork; last unless defined $p; if (!$p) { exec "sleep", "${marker}" } $n++ } print "$n\\n"'`,
        { limits: { processes: 40 } }
      )
      const forked = Number(r.stdout.trim())
      expect(forked).toBeGreaterThan(0)
      expect(forked).toBeLessThan(40)
      expect(hostPids(marker)).toEqual([])
    })))

  it.live("a memory hog, a huge file and a full /tmp each stop at their limit", () =>
    live(Effect.gen(function*() {
      const ws = yield* workspace
      const limits = { memoryBytes: 256 * 1024 ** 2, fileSizeBytes: 1024 ** 2, tmpBytes: 4 * 1024 ** 2 }
      const memory = yield* bash(ws.root, `perl -e '$x = "a" x (1024**3); print "allocated\\n"'`, { limits })
      expect(memory.stdout).not.toContain("allocated")
      const file = yield* bash(ws.root, "head -c 8M /dev/zero > big; echo $?", { limits })
      expect(NodeFs.statSync(NodePath.join(ws.root, "big")).size).toBeLessThanOrEqual(1024 ** 2)
      expect(file.stdout.trim()).not.toBe("0")
      const tmp = yield* bash(ws.root, "head -c 8M /dev/zero > /tmp/fill 2>&1; echo $?; wc -c < /tmp/fill", {
        limits: { tmpBytes: 4 * 1024 ** 2 }
      })
      expect(tmp.stdout.split("\n")[0]).not.toBe("0")
      expect(Number(tmp.stdout.split("\n")[1])).toBeLessThanOrEqual(4 * 1024 ** 2)
    })))

  // Each hog stays under the per-process limit; together they pass the call's.
  // Where no cgroup can be made here the test says so and checks only that nothing is left.
  const cgroups = Cgroup.detect()
  it.live(`many hogs, each under its own limit, stop at the call's memory (${cgroups.memory === undefined ? "no cgroup here: rlimits only" : "cgroup"})`, () =>
    live(Effect.gen(function*() {
      const ws = yield* workspace
      // 6 children of 48 MiB each, all alive at once: each says it holds its memory on a
      // pipe of its own and waits until the parent, having heard from all (or seen one
      // killed: end of file), exits. The call may hold 128 MiB.
      const hogs = `perl -e 'my @r; my @k;
for my $i (1..6) {
  pipe(my $r, my $w); pipe(my $r2, my $w2);
  my $p = fork; die "fork" unless defined $p;
  if (!$p) { close $r; close $w2; my $x = "a" x (48 * 1024**2); syswrite $w, "h"; my $b; sysread $r2, $b, 1; exit 0 }
  close $w; close $r2; push @r, $r; push @k, $w2;
}
my $n = 0; for my $r (@r) { my $b; $n++ if sysread($r, $b, 1) == 1 }
print "$n\\n";'`
      const limits = { memoryBytes: 256 * 1024 ** 2, callMemoryBytes: 128 * 1024 ** 2 }
      const r = yield* bash(ws.root, hogs, { limits })
      const held = Number(r.stdout.trim())
      if (cgroups.memory !== undefined) expect(held, `${r.stdout}${r.stderr}`).toBeLessThan(6)
      // the same call with room for all of them holds them all: the limit, not the machine, stopped it
      const roomy = yield* bash(ws.root, hogs, { limits: { ...limits, callMemoryBytes: 1024 ** 3 } })
      expect(Number(roomy.stdout.trim()), `${roomy.stdout}${roomy.stderr}`).toBe(6)
      // the groups of ended calls are gone (another test file's call may be running beside this one: its group stays)
      for (const base of [cgroups.memory?.base, cgroups.pids?.base]) {
        if (base === undefined) continue
        const left = NodeFs.readdirSync(base).filter((n) => n.startsWith("toolgate-") && !NodeFs.existsSync(`/proc/${n.slice("toolgate-".length)}`))
        expect(left).toEqual([])
      }
    })))

  it.live("git: .git is read-only whole (config, hooks, rename-and-replace), and so are hooksPath and gitdir targets", () =>
    live(Effect.gen(function*() {
      const ws = yield* workspace
      const git = (...args: Array<string>) => NodeChild.execFileSync("git", ["-C", ws.root, ...args], { encoding: "utf8" })
      git("init", "-q")
      NodeFs.mkdirSync(NodePath.join(ws.root, "hooks"))
      git("config", "core.hooksPath", "hooks")
      const r = yield* bash(
        ws.root,
        "git config core.fsmonitor 'touch /tmp/pwned' 2>&1; echo fsmonitor=$?; " +
          "echo 'touch pwned' > .git/hooks/pre-commit 2>/dev/null; echo hook=$?; " +
          "echo 'touch pwned' > hooks/pre-commit 2>/dev/null; echo hookspath=$?; " +
          "mv .git .git-old 2>/dev/null; echo rename=$?; " +
          "cd .. && mv root root-old 2>/dev/null; echo parent=$?"
      )
      expect(r.stdout).toMatch(/fsmonitor=[1-9]/)
      expect(r.stdout).toContain("hook=1\nhookspath=1\nrename=1\nparent=1\n")
      expect(NodeFs.readFileSync(NodePath.join(ws.root, ".git", "config"), "utf8")).not.toContain("fsmonitor")
      expect(NodeFs.readdirSync(NodePath.join(ws.root, "hooks"))).toEqual([])
      expect(NodeFs.existsSync(NodePath.join(ws.root, ".git", "hooks", "pre-commit"))).toBe(false)
    })))

  it.live("a workspace without .git cannot get one planted; a gitdir: file's target in the workspace is frozen", () =>
    live(Effect.gen(function*() {
      const ws = yield* workspace
      const r = yield* bash(ws.root, "git init -q . 2>&1; echo 'gitdir: /tmp' > .git 2>/dev/null; echo file=$?")
      expect(r.stdout).toContain("file=1")
      // Whatever git init did inside went to a private tmpfs: no repository on the host.
      expect(NodeFs.readdirSync(NodePath.join(ws.root, ".git"))).toEqual([])
      const linked = NodePath.join(ws.base, "linked")
      NodeFs.mkdirSync(linked)
      NodeChild.execFileSync("git", ["init", "-q", "--separate-git-dir", NodePath.join(linked, "meta"), linked])
      NodeFs.renameSync(NodePath.join(linked, "meta"), NodePath.join(linked, "inner-meta"))
      NodeFs.writeFileSync(NodePath.join(linked, ".git"), "gitdir: inner-meta\n")
      const frozen = yield* bash(linked, "echo x > inner-meta/hooks/post-checkout 2>/dev/null; echo hook=$?; mv inner-meta m2 2>/dev/null; echo mv=$?")
      expect(frozen.stdout).toBe("hook=1\nmv=1\n")
    })))

  it.live("a protected file's parent directory cannot be replaced (policy and audit files in the workspace)", () =>
    live(Effect.gen(function*() {
      const ws = yield* workspace
      const policy = NodePath.join(ws.root, "config", "rules", "policy.json")
      NodeFs.mkdirSync(NodePath.dirname(policy), { recursive: true })
      NodeFs.writeFileSync(policy, "{\"permissions\":{}}\n")
      const r = yield* bash(
        ws.root,
        "echo forged > config/rules/policy.json 2>/dev/null; echo write=$?; " +
          "mv config/rules config/old 2>/dev/null; echo rules=$?; mv config config-old 2>/dev/null; echo config=$?; " +
          "rm -rf config 2>/dev/null; echo rm=$?; echo new > config/rules/other.json; echo sibling=$?",
        { readOnly: [policy] }
      )
      expect(r.stdout).toBe("write=1\nrules=1\nconfig=1\nrm=1\nsibling=0\n")
      expect(NodeFs.readFileSync(policy, "utf8")).toBe("{\"permissions\":{}}\n")
    })))
})

describe.skipIf(!sandboxAvailable || !isRoot)("the same probes as an unprivileged user (setpriv to uid 1000)", () => {
  it("no host root, no kernel knob, no namespace, no Unix socket, no planted descriptor", async () => {
    const root = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "toolgate-unpriv-"))
    NodeFs.chownSync(root, 1000, 1000)
    try {
      const out = await runProbe(root, [
        "id -u",
        "echo 1 > /proc/sys/vm/drop_caches; echo h > /proc/sysrq-trigger; true",
        "unshare -U true 2>/dev/null; echo userns=$?; perl -MSocket -e 'socket(my $s, AF_UNIX, SOCK_STREAM, 0) or exit 9'; echo unix=$?",
        listDescriptors
      ], { uid: 1000 })
      expect(out.confinement._tag).toBe("Sandboxed")
      expect(out.results.map((r) => r.stdout), JSON.stringify(out.results.map((r) => r.stderr))).toEqual(["1000\n", "", "userns=1\nunix=9\n", "end\n"])
      expect(out.results[1]!.stderr.match(/Read-only file system|Permission denied|No such file/g)?.length).toBe(2)
    } finally {
      NodeFs.rmSync(root, { recursive: true, force: true })
    }
  })
})
