/**
 * Package managers: npm, yarn, pnpm, bun. Running a script (`npm test`,
 * `npm run build`, `yarn lint`) runs the project's code, carried by the word
 * naming the script: a rule whose literal words include it covers it, a
 * prefix rule over the manager does not. Installing reaches the network and
 * runs dependencies' lifecycle scripts. Any `--key` is npm configuration:
 * the keys that name programs or config files make the call opaque (npm
 * accepts unique prefixes: `--script-sh` is `--script-shell`).
 * `npx`/`npm exec`/`pnpm exec|dlx` are wrappers (their command is judged on
 * its own, see shell/wrappers.ts).
 */
import type { Word } from "../shell/read.ts"
import { effect, type Effect, type Parsed, type ProgramSpec } from "./spec.ts"

// npm config keys that run programs, load code or move where config comes from.
const dangerousConfig = [
  "script-shell", "shell", "editor", "browser", "git", "node-options", "userconfig", "globalconfig", "onload-script",
  "init-module", "prefix", "global", "g", "location", "registry", "node-gyp", "viewer", "sign-git-commit", "sign-git-tag",
  "call", "c", "dir", "cwd", "C"
]
const scripts = new Set(["test", "t", "tst", "start", "stop", "restart"])
const runScript = new Set(["run", "run-script", "rum", "urn"])
const installs = new Set(["install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "add", "ci", "clean-install", "ic", "install-clean", "isntall-clean", "update", "up", "upgrade", "udpate", "install-test", "it", "install-ci-test", "cit", "rebuild", "rb", "link", "ln", "dedupe", "ddp", "audit", "outdated", "fund", "publish", "unpublish", "deprecate", "dist-tag", "owner", "access", "login", "logout", "adduser", "whoami", "ping", "search", "view", "info", "show", "v", "pack", "token", "team", "org", "star", "unstar", "stars", "hook", "profile"])
const networkOnly = new Set(["audit", "outdated", "fund", "publish", "unpublish", "deprecate", "dist-tag", "owner", "access", "login", "logout", "adduser", "whoami", "ping", "search", "view", "info", "show", "v", "token", "team", "org", "star", "unstar", "stars", "hook", "profile"])
const inertSubs = new Set(["ls", "list", "la", "ll", "root", "bin", "help", "version", "-v", "--version", "prefix", "explain", "why", "query", "doctor", "config", "get", "set", "pkg", "init", "create", "uninstall", "remove", "rm", "r", "un", "unlink", "prune", "shrinkwrap", "cache", "completion", "diff", "sbom", "edit", "explore", "docs", "bugs", "repo", "home", "exec", "x"])

// The words a script is given go to the program it runs (`npm test --
// --reporter=/tmp/x.js` loads a module): each is code found where it points,
// the project's inside the workspace (`--coverage`, `src/a.test.ts`), code
// the rule does not spell when it names a path outside.
const forwarded = (argv: ReadonlyArray<Word>, from: number, who: string): ReadonlyArray<Effect> =>
  argv.slice(from).flatMap((w, n) => {
    if (w === "--") return []
    const value = w === undefined ? undefined : w.includes("=") ? w.slice(w.indexOf("=") + 1) : w
    if (value !== undefined && !/[/~]|^\.\.?$/.test(value)) return []
    return [effect("runs-code", from + n, value, `${who} hands the script a path, which its program may load`, { local: true })]
  })

const scanOptions = (argv: ReadonlyArray<Word>, from: number, who: string): string | undefined => {
  for (let k = from; k < argv.length; k++) {
    const w = argv[k]
    if (w === undefined) return `${who} has a computed word (it could be configuration)`
    if (w === "--") return undefined
    if (!w.startsWith("-")) continue
    const name = w.replace(/^-+/, "").split("=")[0]!.replace(/^no-/, "")
    if (name.length === 0) continue
    if (dangerousConfig.some((d) => d === name || (name.length >= 2 && d.startsWith(name)))) return `${who} ${w.split("=")[0]} sets configuration that can run programs the engine cannot see`
  }
  return undefined
}

const npm = (p: Parsed): ReadonlyArray<Effect> | string => {
  const argv = p.argv
  const who = argv[0] ?? "npm"
  const bad = scanOptions(argv, 1, who)
  let i = 1
  while (i < argv.length && argv[i] !== undefined && argv[i]!.startsWith("-")) i++
  const sub = argv[i]
  if (i >= argv.length) return bad ?? []
  if (sub === undefined) return `${who} has a computed subcommand`
  if (bad !== undefined) return bad
  if (sub === "edit" || sub === "explore" || sub === "docs" || sub === "bugs" || sub === "repo" || sub === "home") return `${who} ${sub} runs an editor, a shell or a browser`
  if (sub === "exec" || sub === "x") return [] // a wrapper: its command is judged on its own
  if (sub === "config" || sub === "set") {
    const action = argv[i + 1]
    if (sub === "set" || action === "set" || action === "edit" || action === "delete" || action === "fix") return `${who} ${sub} ${action ?? ""} changes configuration that can run programs`
    return []
  }
  if (sub === "init" || sub === "create") return argv.length > i + 1 ? `${who} ${sub} <initializer> runs a package` : []
  if (scripts.has(sub)) return [effect("runs-code", i, sub, `${who} ${sub} runs a package.json script`), ...forwarded(argv, i + 1, who)]
  // `npm version <bump>` runs the preversion/version/postversion scripts (and commits)
  if ((sub === "version" || sub === "verison") && argv.slice(i + 1).some((w) => w === undefined || !w.startsWith("-"))) return [effect("runs-code", i, sub, `${who} version runs the version scripts`)]
  // `npm audit fix` installs what it fixes; `npm cache add` fetches (and prepares git dependencies)
  if (sub === "audit" && argv.slice(i + 1).some((w) => w === undefined || w === "fix")) {
    const at = argv.indexOf("fix", i + 1)
    return [effect("network", i, sub, `${who} audit reaches the registry`), effect("runs-code", at < 0 ? i + 1 : at, "fix", `${who} audit fix installs packages, whose scripts run`)]
  }
  if (sub === "cache" && argv.slice(i + 1).some((w) => w === undefined || w === "add")) return [effect("network", i, sub, `${who} cache add fetches packages`), effect("runs-code", i + 2, argv[i + 2], `${who} cache add prepares packages, whose scripts may run`)]
  if (runScript.has(sub)) {
    const name = argv.slice(i + 1).findIndex((w) => w === undefined || !w.startsWith("-"))
    if (name < 0) return []
    const at = i + 1 + name
    return [effect("runs-code", at, argv[at], `${who} ${sub} runs a package.json script`), ...forwarded(argv, at + 1, who)]
  }
  if (installs.has(sub)) {
    const out: Array<Effect> = [effect("network", i, sub, `${who} ${sub} reaches the registry`)]
    if (!networkOnly.has(sub)) {
      const ignore = argv.includes("--ignore-scripts")
      if (!ignore) out.push(effect("runs-code", i, sub, `${who} ${sub} runs lifecycle scripts`))
      for (let k = i + 1; k < argv.length; k++) {
        const w = argv[k]
        if (w !== undefined && w.startsWith("-")) continue
        out.push(effect("runs-code", k, w, `${who} ${sub} installs a package, whose scripts run`))
      }
    }
    return out
  }
  if (inertSubs.has(sub)) return []
  return `${who} ${sub} is not a subcommand the engine knows`
}

// yarn and pnpm: `yarn NAME` runs a script or a binary; known commands as npm's.
const yarnish = (p: Parsed): ReadonlyArray<Effect> | string => {
  const argv = p.argv
  const who = argv[0] ?? "yarn"
  const bad = scanOptions(argv, 1, who)
  if (bad !== undefined) return bad
  let i = 1
  while (i < argv.length && argv[i] !== undefined && argv[i]!.startsWith("-")) i++
  // Bare `yarn` is `yarn install`: the effects sit past the program's name, so
  // only a rule spelling the whole command covers them (`Bash(yarn)`, not `Bash(yarn:*)`).
  if (i >= argv.length) return [effect("network", argv.length, who, `${who} installs dependencies`), effect("runs-code", argv.length, who, `${who} runs lifecycle scripts`)]
  const sub = argv[i]
  if (sub === undefined) return `${who} has a computed subcommand`
  if (sub === "exec" || sub === "dlx" || sub === "x") return [] // wrappers
  if (sub === "run" || sub === "run-script") {
    const at = i + 1
    return at < argv.length ? [effect("runs-code", at, argv[at], `${who} run runs a package.json script`), ...forwarded(argv, at + 1, who)] : []
  }
  if (["install", "i", "add", "update", "up", "upgrade", "remove", "rm", "ci", "rebuild", "link", "import", "dedupe", "fetch", "publish", "outdated", "audit", "info", "view", "why", "dlx", "create", "init", "set", "config", "patch", "patch-commit"].includes(sub)) {
    if (["info", "view", "outdated", "audit", "why"].includes(sub)) return [effect("network", i, sub, `${who} ${sub} reaches the registry`)]
    if (sub === "config" || sub === "set" || sub === "create" || sub === "init" || sub === "patch" || sub === "patch-commit") return `${who} ${sub} runs or configures programs the engine cannot see`
    return [effect("network", i, sub, `${who} ${sub} reaches the registry`), effect("runs-code", i, sub, `${who} ${sub} runs lifecycle scripts`)]
  }
  if (["list", "ls", "--version", "-v", "version", "help", "bin", "root", "store", "licenses", "cache", "workspaces"].includes(sub)) return []
  // anything else names a script or a binary of the project
  return [effect("runs-code", i, sub, `${who} ${sub} runs a script or a package binary`), ...forwarded(argv, i + 1, who)]
}

export const specs: ReadonlyArray<ProgramSpec> = [
  { names: ["npm"], options: [], operands: "inert", raw: true, refine: npm },
  { names: ["yarn", "pnpm", "bun"], options: [], operands: "inert", raw: true, refine: yarnish }
]

// Toolchains whose subcommands build, test or run the project (build
// scripts, tests, `go generate` directives are code) or fetch packages.
const toolchain = (who: string, code: ReadonlySet<string>, network: ReadonlySet<string>, inert: ReadonlySet<string>) => (p: Parsed): ReadonlyArray<Effect> | string => {
  const argv = p.argv
  let i = 1
  while (i < argv.length && argv[i] !== undefined && argv[i]!.startsWith("-")) {
    if (!["-q", "--quiet", "-v", "--verbose", "--version", "-V", "-h", "--help"].includes(argv[i]!)) return `${who} ${argv[i]} is a global option the engine does not model`
    i++
  }
  const sub = argv[i]
  if (i >= argv.length) return []
  if (sub === undefined) return `${who} has a computed subcommand`
  const out: Array<Effect> = []
  if (network.has(sub)) out.push(effect("network", i, sub, `${who} ${sub} fetches packages`))
  if (code.has(sub)) out.push(effect("runs-code", i, sub, `${who} ${sub} runs the project's code or a package's build scripts`))
  if (code.has(sub) || network.has(sub)) {
    // a package named on the command line is code from elsewhere
    if (network.has(sub)) for (let k = i + 1; k < argv.length; k++) if (argv[k] === undefined || !argv[k]!.startsWith("-")) out.push(effect("runs-code", k, argv[k], `${who} ${sub} installs a package, whose code runs`))
    return out
  }
  if (inert.has(sub)) return []
  return `${who} ${sub} is not a subcommand the engine knows`
}

const pip = toolchain("pip", new Set(["install", "download", "wheel"]), new Set(["install", "download", "wheel", "search", "index"]), new Set(["list", "show", "freeze", "check", "--version", "help", "hash", "debug", "inspect"]))
const cargo = toolchain("cargo", new Set(["build", "b", "check", "c", "test", "t", "run", "r", "bench", "install", "clippy", "doc", "d", "fix", "publish", "package"]), new Set(["fetch", "install", "update", "publish", "search", "add"]), new Set(["tree", "metadata", "version", "help", "fmt", "locate-project", "pkgid", "verify-project", "clean", "new", "init", "remove", "rm"]))
const go = toolchain("go", new Set(["build", "test", "run", "generate", "install", "vet", "tool"]), new Set(["get", "install", "mod"]), new Set(["version", "env", "list", "fmt", "doc", "help"]))

export const toolchains: ReadonlyArray<ProgramSpec> = [
  { names: ["pip", "pip3"], options: [], operands: "inert", raw: true, refine: pip },
  { names: ["cargo"], options: [], operands: "inert", raw: true, refine: cargo },
  { names: ["go"], options: [], operands: "inert", raw: true, refine: go }
]

// Container, cluster and cloud clients: every subcommand talks to a daemon
// or a service (network); those that run or change things (`docker run
// -v /:/host …`, `kubectl exec`, `gh extension`, `terraform apply`) take
// their arguments as code: a prefix rule covers only the words it spells.
const readOnly = new Set(["ps", "images", "image", "logs", "inspect", "version", "info", "get", "describe", "list", "ls", "status", "view", "top", "diff", "history", "stats", "events", "search", "show", "whoami", "plan", "validate", "fmt", "output", "api-resources", "explain", "config", "auth", "pr", "issue", "repo", "release", "run", "workflow", "cluster-info", "context", "port", "volume", "network", "system"])
const containerGroups = new Set(["image", "volume", "network", "system", "context", "config"])
const client = (who: string) => (p: Parsed): ReadonlyArray<Effect> | string => {
  const argv = p.argv
  const out: Array<Effect> = []
  let i = 1
  while (i < argv.length && argv[i] !== undefined && argv[i]!.startsWith("-")) i++
  if (i >= argv.length) return []
  const sub = argv[i]
  if (sub === undefined) return `${who} has a computed subcommand`
  if (argv.slice(1, i).some((w) => w !== undefined && !/^-(-?(v|version|help|h|q|quiet))$/.test(w))) return `${who} has global options the engine does not model (a config, a host or a context)`
  // docker and podman talk to a local daemon; the others to a remote service
  if (who !== "docker" && who !== "podman") out.push(effect("network", i, sub, `${who} ${sub} talks to its service`))
  // gh's read-only groups still run code when their second word acts (`gh pr checkout`, `gh run rerun`)
  const second = argv[i + 1]
  const acts = who === "gh" && second !== undefined && !/^(list|view|status|diff|checks|ls|download)$/.test(second) && i + 1 < argv.length
  // docker and podman's object groups act by their second word (`docker image build`, `podman system reset`)
  const container = who === "docker" || who === "podman"
  const groupActs = container && containerGroups.has(sub) && (second === undefined || !/^(ls|list|inspect|show|history|df|info|exists|tree)$/.test(second))
  const pure = readOnly.has(sub) && !((container || who === "kubectl") && sub === "run") && !acts && !groupActs
  for (let k = i + 1; k < argv.length; k++) {
    const w = argv[k]
    if (pure) {
      if (w === undefined) return `${who} ${sub} has a computed argument`
      continue
    }
    if (w === undefined || !w.startsWith("-")) out.push(effect("runs-code", k, w, `${who} ${sub} runs or changes things named by its arguments`))
    else out.push(effect("runs-code", k, w, `${who} ${sub} ${w} may change what runs`))
  }
  if (!pure && argv.length === i + 1) out.push(effect("runs-code", i, sub, `${who} ${sub} runs or changes things`))
  return out
}

export const clients: ReadonlyArray<ProgramSpec> = ["docker", "podman", "kubectl", "helm", "gh", "glab", "aws", "gcloud", "az", "terraform", "tofu", "ansible", "ansible-playbook", "vercel", "netlify", "flyctl", "heroku"].map((name) => ({
  names: [name], options: [], operands: "inert" as const, raw: true, refine: client(name)
}))
