/**
 * What Claude Code pays per tool call for toolgate's hook, against a bare
 * Node start measured in the same run, rounds interleaved:
 *
 * - `node -e 0`: the floor, a bare Node start;
 * - the command hook, `toolgate check --hook claude` as the published
 *   package runs it (`dist/bin/toolgate.js` with its bundled hook entry;
 *   `npm run build` first), wall time, CPU time and peak memory;
 * - the HTTP hook: one POST to a running `toolgate serve` on loopback.
 *
 * Targets: the command hook ≤ 3× a bare Node start; the HTTP hook p50 < 5 ms.
 *
 * Run: `npx node bench/hook.bench.ts` (it builds the package when `dist/` is missing).
 */
import { spawn, spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Os from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { fmt, quick, stats, table } from "./harness.ts"

const root = fileURLToPath(new URL("..", import.meta.url))
const bin = NodePath.join(root, "dist/bin/toolgate.js")
// it measures the built package: build it when it is not there
if (!Fs.existsSync(NodePath.join(root, "dist/bin/toolgate-hook.js"))) {
  const built = spawnSync("npm", ["run", "-s", "build"], { cwd: root, stdio: "inherit" })
  if (built.status !== 0) throw new Error("npm run build failed")
}

const dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-hook-bench-"))
const policy = NodePath.join(dir, "policy.json")
Fs.writeFileSync(policy, JSON.stringify({
  permissions: { allow: ["Bash(git status)", "Bash(npm run test:*)", "Read"], deny: ["Bash(rm:*)", "Read(~/.aws/**)"] }
}))
const payload = JSON.stringify({
  session_id: "bench",
  cwd: dir,
  permission_mode: "default",
  hook_event_name: "PreToolUse",
  tool_name: "Bash",
  tool_input: { command: "git status && rm -rf build" },
  tool_use_id: "toolu_bench"
})

/** Wall ms, child CPU ms and peak RSS (KB) of one process run. */
const spawnTimed = (argv: ReadonlyArray<string>, input?: string) => {
  const start = performance.now()
  const r = spawnSync("/usr/bin/time", ["-f", "%U %S %M", process.execPath, ...argv], { input: input ?? "", encoding: "utf8" })
  const wall = performance.now() - start
  const [user = "0", sys = "0", rss = "0"] = (r.stderr.trim().split("\n").at(-1) ?? "").split(" ")
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`)
  return { wall, cpu: (Number(user) + Number(sys)) * 1000, rss: Number(rss), stdout: r.stdout }
}

const rounds = quick ? 3 : 30
const bare: Array<ReturnType<typeof spawnTimed>> = []
const hook: Array<ReturnType<typeof spawnTimed>> = []
// one untimed round each: the compile cache is written on the first start
spawnTimed(["-e", "0"])
const first = spawnTimed([bin, "check", "--policy", policy, "--hook", "claude"], payload)
if (!first.stdout.includes(`"permissionDecision":"deny"`)) throw new Error(`unexpected hook answer: ${first.stdout}`)
for (let i = 0; i < rounds; i++) {
  bare.push(spawnTimed(["-e", "0"]))
  hook.push(spawnTimed([bin, "check", "--policy", policy, "--hook", "claude"], payload))
}

// The HTTP hook: a server in a child process, one POST at a time.
const token = "bench-token-0123456789abcdef"
const server = await new Promise<{ port: number; kill: () => void }>((resolve, reject) => {
  const child = spawn(process.execPath, [bin, "serve", "--policy", policy, "--hook-port", "0"], {
    env: { ...process.env, TOOLGATE_TOKEN: token },
    stdio: ["ignore", "ignore", "pipe"]
  })
  let err = ""
  child.stderr.setEncoding("utf8")
  child.stderr.on("data", (chunk: string) => {
    err += chunk
    const m = /127\.0\.0\.1:(\d+)\/hooks\/claude/.exec(err)
    if (m) resolve({ port: Number(m[1]), kill: () => child.kill("SIGTERM") })
  })
  child.on("exit", (code) => reject(new Error(`toolgate serve exited ${code}: ${err}`)))
})
const agent = new Http.Agent({ keepAlive: true, maxSockets: 1 })
const postOnce = () =>
  new Promise<number>((resolve, reject) => {
    const start = performance.now()
    const request = Http.request({
      host: "127.0.0.1",
      port: server.port,
      path: "/hooks/claude",
      method: "POST",
      agent,
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` }
    }, (response) => {
      response.resume()
      response.on("end", () => resolve(performance.now() - start))
    })
    request.on("error", reject)
    request.end(payload)
  })
for (let i = 0; i < 50; i++) await postOnce()
const http: Array<number> = []
for (let i = 0; i < (quick ? 20 : 500); i++) http.push(await postOnce())
server.kill()
agent.destroy()
Fs.rmSync(dir, { recursive: true, force: true })

const b = stats(bare.map((x) => x.wall))
const h = stats(hook.map((x) => x.wall))
const bc = stats(bare.map((x) => x.cpu))
const hc = stats(hook.map((x) => x.cpu))
const hr = stats(hook.map((x) => x.rss))
const br = stats(bare.map((x) => x.rss))
const hs = stats(http)
console.log(`## Claude Code hook cost (${rounds} starts each, interleaved; HTTP: ${http.length} posts)

${table(["what", "median wall", "p90 wall", "median CPU", "peak RSS", "÷ bare Node (wall)"], [
  ["bare \`node -e 0\`", `${fmt(b.median)} ms`, `${fmt(b.p90)} ms`, `${fmt(bc.median)} ms`, `${fmt(br.median / 1024)} MB`, "1.00×"],
  ["command hook (\`check --hook claude\`)", `${fmt(h.median)} ms`, `${fmt(h.p90)} ms`, `${fmt(hc.median)} ms`, `${fmt(hr.median / 1024)} MB`, `${fmt(h.median / b.median)}× (target ≤ 3×)`],
  ["HTTP hook (\`toolgate serve\`, one POST)", `${fmt(hs.median)} ms`, `${fmt(hs.p90)} ms`, "—", "—", `target p50 < 5 ms`]
])}`)
