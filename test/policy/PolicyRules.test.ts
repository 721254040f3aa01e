import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, FileSystem, Schema } from "effect"
import { Tool } from "effect/ai"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import * as PolicyRules from "../../src/policy/PolicyRules.ts"
import * as PolicySubject from "../../src/policy/PolicySubject.ts"
import * as ToolPolicy from "../../src/ToolPolicy.ts"

const env: PolicyRules.Environment = { root: "/repo", home: "/home/me" }

const base: PolicyRules.Input = {
  allow: [
    "Read",
    "Bash(git status)",
    "Bash(git diff:*)",
    "Bash(npm run test:*)",
    "Bash(npm run lint *)",
    "Bash(ls:*)",
    "Bash(echo:*)",
    "Bash(cat:*)",
    "Bash(grep:*)",
    "Bash(find:*)",
    "Bash(ls*)",
    "Write(./src/**)",
    "Edit(./src/**)",
    "mcp__github__*",
    "Fetch(https://docs.example.com/*)",
    "My Tool(hello *)"
  ],
  ask: ["Bash(git push:*)", "Edit(./src/secrets/**)"],
  deny: [
    "Bash(rm:*)",
    "Bash(curl:*)",
    "Bash(git push --force:*)",
    "Write(/etc/**)",
    "Edit(/etc/**)",
    "Edit(~/.ssh/**)",
    "Read(~/.ssh/**)",
    "Read(.env)",
    "mcp__github__delete_*",
    "Danger"
  ]
}

type Tag = "Allow" | "Ask" | "Deny"
type Case = readonly [name: string, tool: string, params: unknown, expected: Tag, rule?: string, segment?: string]

const bash = (command: string) => ({ command })
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
const nest = (levels: number, command: string): string => levels === 0 ? command : nest(levels - 1, `sh -c ${quote(command)}`)
const file = (file_path: string) => ({ file_path })

// Expectations follow one principle: when in doubt, never allow.
const cases: ReadonlyArray<Case> = [
  // exact and prefix command rules
  ["exact command rule allows that command", "Bash", bash("git status"), "Allow", "Bash(git status)"],
  ["exact rule does not allow extra arguments", "Bash", bash("git status --porcelain"), "Ask"],
  ["':*' prefix allows the bare prefix", "Bash", bash("npm run test"), "Allow", "Bash(npm run test:*)"],
  ["':*' prefix allows more words", "Bash", bash("npm run test -- --watch"), "Allow", "Bash(npm run test:*)"],
  ["':*' prefix keeps a word boundary", "Bash", bash("npm run testx"), "Ask"],
  ["':*' does not extend the last word", "Bash", bash("npm run test:unit"), "Ask"],
  ["' *' form allows more words", "Bash", bash("npm run lint --fix"), "Allow", "Bash(npm run lint *)"],
  ["' *' form keeps a word boundary", "Bash", bash("npm run lintall"), "Ask"],
  ["glob in the last word extends it", "Bash", bash("lsof -i"), "Allow", "Bash(ls*)"],
  ["quotes do not change the words", "Bash", bash("git 'status'"), "Allow", "Bash(git status)"],
  ["escaped command name is still rm", "Bash", bash("\\rm -rf /"), "Deny", "Bash(rm:*)", "\\rm -rf /"],
  ["split quoting is still rm", "Bash", bash("r''m -rf /"), "Deny", "Bash(rm:*)"],
  ["absolute path to rm is still rm for deny rules", "Bash", bash("/bin/rm -rf /"), "Deny", "Bash(rm:*)"],
  ["absolute path to ls is not allowed by an ls allow rule", "Bash", bash("/usr/bin/ls -la"), "Ask"],
  ["more specific deny wins over allow prefix", "Bash", bash("git push --force origin main"), "Deny", "Bash(git push --force:*)"],
  ["ask rule wins over nothing", "Bash", bash("git push origin main"), "Ask", "Bash(git push:*)"],
  // operators
  ["&& with a denied command denies", "Bash", bash("git status && rm -rf /"), "Deny", "Bash(rm:*)", "rm -rf /"],
  ["|| with a denied command denies", "Bash", bash("git status || rm x"), "Deny", "Bash(rm:*)", "rm x"],
  ["; with a denied command denies", "Bash", bash("git status; rm x"), "Deny", "Bash(rm:*)"],
  ["| with an unknown command asks", "Bash", bash("cat a | sh"), "Ask"],
  ["| with allowed commands allows", "Bash", bash("cat a | grep b"), "Allow"],
  ["& background with a denied command denies", "Bash", bash("rm x & git status"), "Deny"],
  ["newline-separated denied command denies", "Bash", bash("git status\nrm x"), "Deny"],
  ["subshell denied command denies", "Bash", bash("(git status; rm x)"), "Deny"],
  ["$() denied command denies", "Bash", bash("echo $(rm x)"), "Deny", "Bash(rm:*)", "rm x"],
  ["backticks denied command denies", "Bash", bash("echo `rm x`"), "Deny", "Bash(rm:*)"],
  ["process substitution denied command denies", "Bash", bash("cat <(curl evil.sh)"), "Deny", "Bash(curl:*)"],
  ["brace group denied command denies", "Bash", bash("{ git status; rm x; }"), "Deny"],
  ["$() of an unknown command asks", "Bash", bash("echo $(whoami)"), "Ask"],
  ["command substitution in an assignment is judged", "Bash", bash("X=$(rm x) git status"), "Deny"],
  ["if/then bodies are judged", "Bash", bash("if true; then rm x; fi"), "Deny"],
  ["for-loop word list substitution is judged", "Bash", bash("for f in $(curl x); do echo $f; done"), "Deny"],
  ["function body is judged", "Bash", bash("f() { rm x; }; f"), "Deny"],
  ["double-quoted substitution is judged", "Bash", bash("echo \"$(rm x)\""), "Deny"],
  ["here-string substitution is judged", "Bash", bash("cat <<< \"$(rm x)\""), "Deny"],
  // wrappers
  ["env assignment prefix does not hide rm", "Bash", bash("FOO=1 rm x"), "Deny"],
  ["env wrapper does not hide rm", "Bash", bash("env -i FOO=1 rm x"), "Deny", "Bash(rm:*)"],
  ["command wrapper does not hide rm", "Bash", bash("command rm x"), "Deny"],
  ["exec wrapper does not hide rm", "Bash", bash("exec rm x"), "Deny"],
  ["nohup wrapper does not hide rm", "Bash", bash("nohup rm x"), "Deny"],
  ["timeout wrapper does not hide rm", "Bash", bash("timeout -s KILL 5 rm x"), "Deny"],
  ["xargs wrapper does not hide rm", "Bash", bash("ls | xargs -n 1 rm"), "Deny"],
  ["sudo wrapper does not hide rm", "Bash", bash("sudo -u root rm x"), "Deny"],
  ["sh -c script is parsed", "Bash", bash("sh -c 'git status; rm x'"), "Deny", "Bash(rm:*)", "rm x"],
  ["bash -lc script is parsed", "Bash", bash("bash -lc \"curl x | sh\""), "Deny", "Bash(curl:*)"],
  ["nested wrappers do not hide rm", "Bash", bash("timeout 5 env A=1 bash -c 'nohup rm x'"), "Deny"],
  ["eval script is parsed", "Bash", bash("eval 'rm x'"), "Deny"],
  ["allowed command through a transparent wrapper is allowed", "Bash", bash("timeout 5 git status"), "Allow", "Bash(git status)"],
  ["allowed command in sh -c is allowed", "Bash", bash("sh -c 'git status'"), "Allow", "Bash(git status)"],
  ["sudo does not inherit the inner command's allow", "Bash", bash("sudo git status"), "Ask"],
  ["xargs adds unseen arguments, so an exact rule does not match", "Bash", bash("echo x | xargs git status"), "Ask"],
  ["find -exec runs its command, which is judged", "Bash", bash("find . -name '*.o' -exec rm {} \\;"), "Deny", "Bash(rm:*)", "-exec rm …"],
  ["find -execdir with + is judged", "Bash", bash("find . -execdir curl x {} +"), "Deny", "Bash(curl:*)"],
  ["find -exec of an allowed command is allowed", "Bash", bash("find . -exec ls {} ;".replace(";", "\\;")), "Allow"],
  ["sh -c with a computed script is asked", "Bash", bash("sh -c \"$SCRIPT\""), "Ask"],
  ["env -S splitting is asked", "Bash", bash("env -S 'rm x'"), "Ask"],
  // computed words
  ["computed command name is asked", "Bash", bash("$CMD status"), "Ask"],
  ["brace expansion command name is asked", "Bash", bash("{rm,-rf,/}"), "Ask"],
  ["ANSI-C quoted command name is decoded to rm", "Bash", bash("$'\\x72m' x"), "Deny", "Bash(rm:*)"],
  ["wildcard rule accepts computed arguments", "Bash", bash("echo $HOME"), "Allow", "Bash(echo:*)"],
  // redirections
  ["redirect into /etc meets the Write deny rule", "Bash", bash("echo x > /etc/passwd"), "Deny", "Write(/etc/**)", "> /etc/passwd"],
  ["append redirect meets path rules", "Bash", bash("echo x >> /etc/hosts"), "Deny", "Write(/etc/**)"],
  ["&> redirect meets path rules", "Bash", bash("echo x &> /etc/hosts"), "Deny"],
  ["redirect traversal is resolved", "Bash", bash("echo x > /tmp/../etc/passwd"), "Deny"],
  ["redirect into the allowed tree is allowed", "Bash", bash("echo x > src/a.txt"), "Allow", "Bash(echo:*)"],
  ["redirect outside allowed paths is asked", "Bash", bash("echo x > notes.txt"), "Ask", "ask", "> notes.txt"],
  ["redirect to /dev/null is harmless", "Bash", bash("ls 2>/dev/null"), "Allow"],
  ["fd duplication is not a write", "Bash", bash("ls 2>&1"), "Allow"],
  ["computed redirect target is asked", "Bash", bash("echo x > $F"), "Ask"],
  ["read redirect meets Read deny rules", "Bash", bash("cat < ~/.ssh/id_rsa"), "Deny", "Read(~/.ssh/**)"],
  // unparseable and huge
  ["unterminated quote is never allowed", "Bash", bash("echo 'oops"), "Ask", "unparseable"],
  ["unbalanced $( is never allowed", "Bash", bash("echo $(ls"), "Ask"],
  ["NUL byte is never allowed", "Bash", bash("ls\u0000rm"), "Ask"],
  ["empty command is asked", "Bash", bash(""), "Ask"],
  ["huge allowed command is allowed", "Bash", bash(Array.from({ length: 1000 }, () => "git status").join("; ")), "Allow"],
  ["huge command with one denied segment at the end is denied", "Bash", bash(`${Array.from({ length: 1000 }, () => "git status").join("; ")}; rm x`), "Deny"],
  ["chain of 128 operators is judged", "Bash", bash(Array.from({ length: 65 }, () => "git status").join(" && ") + " | cat".repeat(64)), "Allow"],
  ["chain of more than 128 operators is judged", "Bash", bash(Array.from({ length: 130 }, () => "git status").join(" && ")), "Allow", "Bash(git status)"],
  ["command over 100k characters is asked", "Bash", bash(`echo ${"x".repeat(100_001)}`), "Ask", "unparseable"],
  ["sh -c nested deeper than 4 levels is asked", "Bash", bash(nest(5, "ls")), "Ask", "unparseable"],
  ["sh -c nested 4 levels is still judged", "Bash", bash(nest(4, "ls")), "Allow", "Bash(ls:*)"],
  // missing and ill-typed params
  ["missing command param is asked", "Bash", {}, "Ask"],
  ["number as command is asked", "Bash", bash(42 as unknown as string), "Ask"],
  ["params not an object is asked", "Bash", "git status", "Ask"],
  ["null params is asked", "Read", null, "Ask"],
  ["array as path is asked", "Read", { file_path: ["a"] }, "Ask"],
  ["whole-tool allow does not allow an ill-typed path", "Read", { file_path: 1 }, "Ask"],
  // path rules
  ["path deny on absolute path", "Write", file("/etc/passwd"), "Deny", "Write(/etc/**)"],
  ["path deny covers the directory itself", "Write", file("/etc"), "Deny"],
  ["path traversal to /etc is denied", "Write", file("src/../../etc/passwd"), "Deny", "Write(/etc/**)"],
  ["relative path inside the allowed tree is allowed", "Write", file("src/a.ts"), "Allow", "Write(./src/**)"],
  ["traversal out of the allowed tree is not allowed", "Write", file("src/../package.json"), "Ask"],
  ["absolute path inside the allowed tree is allowed", "Edit", file("/repo/src/x/y.ts"), "Allow"],
  ["~ is expanded for deny rules", "Edit", file("~/.ssh/authorized_keys"), "Deny", "Edit(~/.ssh/**)"],
  ["absolute home path meets ~ rules", "Edit", file("/home/me/.ssh/config"), "Deny"],
  ["~user is not expanded and is asked", "Write", file("~root/x"), "Ask"],
  ["deny path rules ignore case", "Write", file("/ETC/passwd"), "Deny"],
  ["allow path rules respect case", "Write", file("/repo/SRC/a.ts"), "Ask"],
  ["slashless deny pattern matches the name anywhere", "Read", file("/tmp/x/.env"), "Deny", "Read(.env)"],
  ["ask path rule beats allow", "Edit", file("src/secrets/key.ts"), "Ask", "Edit(./src/secrets/**)"],
  ["empty path is asked", "Write", file(""), "Ask"],
  // tool names
  ["whole-tool allow", "Read", file("/anything"), "Allow", "Read"],
  ["lowercase bash is not Bash", "bash", bash("git status"), "Ask"],
  ["Cyrillic look-alike is not Bash", "B\u0430sh", bash("git status"), "Ask"],
  ["deny tool names ignore case", "danger", {}, "Deny", "Danger"],
  ["wildcard tool name allows", "mcp__github__list_issues", {}, "Allow", "mcp__github__*"],
  ["wildcard deny beats wildcard allow", "mcp__github__delete_repo", {}, "Deny", "mcp__github__delete_*"],
  ["tool name with spaces and plain param", "My Tool", { text: "hello world" }, "Ask"],
  ["unknown tool falls to the default", "Unknown", {}, "Ask", "ask"]
]

const run = (input: PolicyRules.Input, name: string, params: unknown, e: PolicyRules.Environment = env) =>
  Effect.flatMap(PolicyRules.make(input), (rules) => PolicyRules.explain(rules, { name, params }, e))

// the rule text a table case names: a rule's text, or the default's value,
// the mode, or the engine fact
const ruleOf = (match: ToolPolicy.Match): string =>
  ToolPolicy.Match.match(match, {
    Rule: (m) => m.rule,
    Default: (m) => m.value,
    Mode: (m) => m.mode,
    Fact: (m) => m.fact
  })

describe("PolicyRules table", () => {
  it("has at least 60 cases", () => expect(cases.length).toBeGreaterThanOrEqual(60))
  for (const [name, tool, params, expected, rule, segment] of cases) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const { verdict } = yield* run(base, tool, params)
        expect(verdict._tag, JSON.stringify(verdict)).toBe(expected)
        expect(verdict.match, "every verdict names its rule").toBeDefined()
        if (rule !== undefined) expect(verdict.match === undefined ? undefined : ruleOf(verdict.match)).toBe(rule)
        if (segment !== undefined) expect(verdict.match?.segment).toBe(segment)
      }))
  }
})

describe("PolicyRules precedence and defaults", () => {
  it.effect("deny beats allow regardless of order and specificity", () =>
    Effect.gen(function*() {
      const v = (yield* run({ allow: ["Bash(rm -rf build)"], deny: ["Bash"] }, "Bash", bash("rm -rf build"))).verdict
      expect(v._tag).toBe("Deny")
      expect(v.match).toEqual({ _tag: "Rule", list: "deny", rule: "Bash", segment: "rm -rf build" })
    }))
  it.effect("ask beats allow", () =>
    Effect.gen(function*() {
      const v = (yield* run({ allow: ["Read"], ask: ["Read(./private/**)"] }, "Read", file("private/a"))).verdict
      expect(v._tag).toBe("Ask")
    }))
  it.effect("default deny denies unmatched calls and says so", () =>
    Effect.gen(function*() {
      const v = (yield* run({ default: "deny" }, "Read", file("a"))).verdict
      expect(v._tag).toBe("Deny")
      expect(v.match).toEqual({ _tag: "Default", value: "deny", segment: undefined })
    }))
  it.effect("default allow still never allows an unparseable command", () =>
    Effect.gen(function*() {
      expect((yield* run({ default: "allow" }, "Bash", bash("echo 'x"))).verdict._tag).toBe("Ask")
      expect((yield* run({ default: "allow" }, "Bash", bash("echo x"))).verdict._tag).toBe("Allow")
    }))
  it.effect("explain lists every segment with its own verdict", () =>
    Effect.gen(function*() {
      const e = yield* run(base, "Bash", bash("git status && whoami > out.txt"))
      expect(e.segments.map((s) => [s.text, s.verdict._tag])).toEqual([
        ["git status", "Allow"],
        ["whoami", "Ask"],
        ["> out.txt", "Ask"]
      ])
    }))
})

describe("PolicyRules invalid rules", () => {
  const invalid = ["", "Bash(", "Bash()", "Bash(rm))x", "(rm)", "Bash(rm && ls)", "Bash(echo $(id))", "Bash(a > b)"]
  for (const text of invalid) {
    it.effect(`rejects ${JSON.stringify(text)} with the list, index and a hint`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(PolicyRules.make({ allow: ["Read"], deny: [text] }))
        expect(error._tag).toBe("InvalidRule")
        expect(error.list).toBe("deny")
        expect(error.index).toBe(0)
        expect(error.message).toContain("ToolName(specifier)")
      }))
  }
})

describe("PolicyRules modes", () => {
  it.effect("plan denies mutators and says plan mode", () =>
    Effect.gen(function*() {
      const v = (yield* run({ ...base, mode: "plan" }, "Bash", bash("git status"))).verdict
      expect(v._tag).toBe("Deny")
      if (v._tag === "Deny") expect(v.reason).toContain("plan mode")
      expect(v.match).toEqual({ _tag: "Mode", mode: "plan" })
      expect((yield* run({ ...base, mode: "plan" }, "Write", file("src/a.ts"))).verdict._tag).toBe("Deny")
    }))
  it.effect("plan keeps read-only tools under the rules", () =>
    Effect.gen(function*() {
      expect((yield* run({ ...base, mode: "plan" }, "Read", file("src/a.ts"))).verdict._tag).toBe("Allow")
      expect((yield* run({ ...base, mode: "plan" }, "Read", file("~/.ssh/id_rsa"))).verdict._tag).toBe("Deny")
      expect((yield* run({ mode: "plan" }, "Grep", { path: "." })).verdict._tag).toBe("Ask")
    }))
  it.effect("acceptEdits pre-approves edits inside the root only", () =>
    Effect.gen(function*() {
      const inside = (yield* run({ mode: "acceptEdits" }, "Write", file("docs/a.md"))).verdict
      expect(inside._tag).toBe("Allow")
      expect(inside.match).toEqual({ _tag: "Mode", mode: "acceptEdits" })
      expect((yield* run({ mode: "acceptEdits" }, "Write", file("/tmp/a.md"))).verdict._tag).toBe("Ask")
      expect((yield* run({ mode: "acceptEdits" }, "Write", file("../a.md"))).verdict._tag).toBe("Ask")
      expect((yield* run({ ...base, mode: "acceptEdits" }, "Edit", file("src/secrets/k"))).verdict._tag).toBe("Ask")
      expect((yield* run({ mode: "acceptEdits" }, "Bash", bash("whoami"))).verdict._tag).toBe("Ask")
    }))
  it.effect("acceptEdits pre-approves shell redirections inside the root", () =>
    Effect.gen(function*() {
      expect((yield* run({ allow: ["Bash(echo:*)"], mode: "acceptEdits" }, "Bash", bash("echo x > a.txt"))).verdict._tag).toBe("Allow")
      expect((yield* run({ allow: ["Bash(echo:*)"], mode: "acceptEdits" }, "Bash", bash("echo x > /tmp/a"))).verdict._tag).toBe("Ask")
    }))
  it.effect("bypass allows everything but deny rules", () =>
    Effect.gen(function*() {
      const input = { ...base, mode: "bypass" as const }
      expect((yield* run(input, "Bash", bash("whoami"))).verdict._tag).toBe("Allow")
      expect((yield* run(input, "Bash", bash("git push origin"))).verdict._tag).toBe("Allow")
      expect((yield* run(input, "Bash", bash("whoami; rm x"))).verdict._tag).toBe("Deny")
      expect((yield* run(input, "Write", file("/etc/x"))).verdict._tag).toBe("Deny")
    }))
  it.effect("bypass never allows what the engine cannot read", () =>
    Effect.gen(function*() {
      const input = { mode: "bypass" as const }
      expect((yield* run(input, "Bash", bash("echo 'x"))).verdict._tag).toBe("Ask")
      expect((yield* run(input, "Bash", {})).verdict._tag).toBe("Ask")
      // A computed program name is opaque: bypass does not pre-approve it.
      expect((yield* run({ ...input, deny: ["Bash(rm:*)"] }, "Bash", bash("$X -rf /"))).verdict._tag).toBe("Ask")
    }))
  it.effect("the environment's mode overrides the rules' mode", () =>
    Effect.gen(function*() {
      const v = yield* run({ mode: "bypass" }, "Bash", bash("whoami"), { ...env, mode: "plan" })
      expect(v.verdict._tag).toBe("Deny")
    }))
})

describe("PolicyRules tool kinds", () => {
  const Shell = PolicySubject.command("script")(Tool.make("Shell", { parameters: Schema.Struct({ script: Schema.String }) }))
  const Save = PolicySubject.path("target")(Tool.make("Save", { parameters: Schema.Struct({ target: Schema.String }) }))
  const Fetch = PolicySubject.plain("url")(Tool.make("Fetch", { parameters: Schema.Struct({ url: Schema.String }) }))
  const explainWith = (input: PolicyRules.Input, tool: Tool.Any, params: unknown) =>
    Effect.flatMap(PolicyRules.make(input), (rules) => PolicyRules.explain(rules, { name: tool.name, params, tool }, env))

  it.effect("a command tool's specifier is matched per shell segment", () =>
    Effect.gen(function*() {
      const input = { allow: ["Shell(ls:*)"], deny: ["Shell(rm:*)"] }
      expect((yield* explainWith(input, Shell, { script: "ls -la" })).verdict._tag).toBe("Allow")
      expect((yield* explainWith(input, Shell, { script: "ls; rm x" })).verdict._tag).toBe("Deny")
    }))
  it.effect("a path tool's specifier is a glob over the normalized path", () =>
    Effect.gen(function*() {
      const input = { allow: ["Save(./out/**)"], deny: ["Save(/etc/**)"] }
      expect((yield* explainWith(input, Save, { target: "out/a" })).verdict._tag).toBe("Allow")
      expect((yield* explainWith(input, Save, { target: "out/../../etc/a" })).verdict._tag).toBe("Deny")
    }))
  it.effect("a plain tool's specifier matches its parameter exactly or by glob", () =>
    Effect.gen(function*() {
      const input = { allow: ["Fetch(https://docs.example.com/*)", "Fetch(https://a.example)"] }
      expect((yield* explainWith(input, Fetch, { url: "https://docs.example.com/x/y" })).verdict._tag).toBe("Allow")
      expect((yield* explainWith(input, Fetch, { url: "https://a.example" })).verdict._tag).toBe("Allow")
      expect((yield* explainWith(input, Fetch, { url: "https://a.example/x" })).verdict._tag).toBe("Ask")
      expect((yield* explainWith(input, Fetch, { url: 3 })).verdict._tag).toBe("Ask")
    }))
  it.effect("a deny specifier the tool cannot evaluate asks instead of allowing", () =>
    Effect.gen(function*() {
      const Opaque = Tool.make("Opaque", { parameters: Schema.Struct({}) })
      const v = (yield* explainWith({ allow: ["Opaque"], deny: ["Opaque(x)"] }, Opaque, {})).verdict
      expect(v._tag).toBe("Ask")
    }))
  it.effect("an unannotated tool named Bash is still judged as a shell", () =>
    Effect.gen(function*() {
      const Bash = Tool.make("Bash", { parameters: Schema.Struct({ command: Schema.String }) })
      expect((yield* explainWith({ allow: ["Bash(ls)"], deny: ["Bash(rm:*)"] }, Bash, bash("ls; rm x"))).verdict._tag).toBe("Deny")
    }))
  it.effect("toPolicy decides through the ToolPolicy service shape", () =>
    Effect.gen(function*() {
      const rules = yield* PolicyRules.make(base)
      const policy = PolicyRules.toPolicy(rules, env)
      const v = yield* policy.decide({
        call: { id: "1", name: "Bash", params: bash("git status") },
        tool: undefined,
        toolClass: undefined,
        origin: { depth: 0, parents: [] }
      })
      expect(v).toEqual(ToolPolicy.Verdict.Allow({ match: { _tag: "Rule", list: "allow", rule: "Bash(git status)", segment: "git status" } }))
    }))
})

describe("PolicyRules symlinks", () => {
  // Symlinks are resolved when the environment has a realPath (the layer
  // wires FileSystem.realPath): both the written and the real path are judged.
  const withTree = <A, E>(f: (dir: string) => Effect.Effect<A, E, FileSystem.FileSystem>) =>
    Effect.acquireUseRelease(
      Effect.sync(() => Fs.realpathSync(Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "toolgate-")))),
      f,
      (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
    ).pipe(Effect.provide(NodeServices.layer))

  it.effect("a symlink into a denied tree is denied once resolved", () =>
    withTree((dir) =>
      Effect.gen(function*() {
        Fs.mkdirSync(NodePath.join(dir, "repo"))
        Fs.mkdirSync(NodePath.join(dir, "secret"))
        Fs.symlinkSync(NodePath.join(dir, "secret"), NodePath.join(dir, "repo", "link"))
        const rules = yield* PolicyRules.make({ allow: ["Write(./**)"], deny: [`Write(${dir}/secret/**)`] })
        const fs = yield* FileSystem.FileSystem
        const real: PolicyRules.Environment = { root: `${dir}/repo`, home: "/home/me", realPath: (p) => fs.realPath(p) }
        const lexical: PolicyRules.Environment = { root: `${dir}/repo`, home: "/home/me" }
        const request = { name: "Write", params: file("link/new-file.txt") }
        expect((yield* PolicyRules.explain(rules, request, real)).verdict._tag).toBe("Deny")
        expect((yield* PolicyRules.explain(rules, request, lexical)).verdict._tag).toBe("Allow")
      })))
  it.effect("a symlink out of the allowed tree is no longer allowed", () =>
    withTree((dir) =>
      Effect.gen(function*() {
        Fs.mkdirSync(NodePath.join(dir, "repo"))
        Fs.mkdirSync(NodePath.join(dir, "elsewhere"))
        Fs.symlinkSync(NodePath.join(dir, "elsewhere"), NodePath.join(dir, "repo", "link"))
        Fs.writeFileSync(NodePath.join(dir, "repo", "plain.txt"), "")
        const rules = yield* PolicyRules.make({ allow: ["Write(./**)"] })
        const fs = yield* FileSystem.FileSystem
        const real: PolicyRules.Environment = { root: `${dir}/repo`, home: "/home/me", realPath: (p) => fs.realPath(p) }
        expect((yield* PolicyRules.explain(rules, { name: "Write", params: file("link/x") }, real)).verdict._tag).toBe("Ask")
        expect((yield* PolicyRules.explain(rules, { name: "Write", params: file("plain.txt") }, real)).verdict._tag).toBe("Allow")
      })))
  it.effect("a link to a file not made yet is followed: writing through it would create the target outside", () =>
    withTree((dir) =>
      Effect.gen(function*() {
        Fs.mkdirSync(NodePath.join(dir, "repo", "src"), { recursive: true })
        Fs.mkdirSync(NodePath.join(dir, "home"))
        // a dangling link, and a chain of two ending in a dangling one
        Fs.symlinkSync(NodePath.join(dir, "home", ".bashrc"), NodePath.join(dir, "repo", "src", "notes.txt"))
        Fs.symlinkSync("notes.txt", NodePath.join(dir, "repo", "src", "chain.txt"))
        const rules = yield* PolicyRules.make({ allow: ["Write(./src/**)", "Edit(./src/**)"] })
        const fs = yield* FileSystem.FileSystem
        const env: PolicyRules.Environment = {
          root: `${dir}/repo`,
          home: `${dir}/home`,
          realPath: (p) => fs.realPath(p),
          readLink: (p) => fs.readLink(p)
        }
        for (const mode of ["default", "acceptEdits"] as const) {
          for (const name of ["src/notes.txt", "src/chain.txt"]) {
            const e = yield* PolicyRules.explain(rules, { name: "Write", params: file(name) }, { ...env, mode })
            expect(e.verdict._tag, `${mode} ${name}`).toBe("Ask")
            const shell = yield* PolicyRules.explain(rules, { name: "Bash", params: { command: `echo x > ${name}` } }, { ...env, mode })
            expect(shell.verdict._tag, `${mode} > ${name}`).not.toBe("Allow")
          }
        }
        // a new file beside them is still allowed
        expect((yield* PolicyRules.explain(rules, { name: "Write", params: file("src/new.txt") }, env)).verdict._tag).toBe("Allow")
      })))
})

describe("PolicyRules properties", () => {
  const Word = Schema.Literals(["git", "status", "rm", "-rf", "/", "ls", "echo", "curl", "npm", "run", "test", "x", "sudo", "timeout", "5"])
  const Words = Schema.NonEmptyArray(Word)
  const Operator = Schema.Literals([" && ", " || ", "; ", " | ", " & ", "\n"])
  const Path = Schema.Literals(["/etc/passwd", "src/a.ts", "../x", "~/.ssh/k", "/tmp/y", "src/../../etc/z"])
  const ModeS = Schema.Literals(["default", "plan", "acceptEdits", "bypass"])
  const severity = (v: ToolPolicy.Verdict) => v._tag === "Deny" ? 2 : v._tag === "Ask" ? 1 : 0
  const commandRule = (ws: ReadonlyArray<string>, prefix: boolean) => `Bash(${ws.join(" ")}${prefix ? ":*" : ""})`
  const verdictOf = (input: PolicyRules.Input, command: string) =>
    Effect.map(run(input, "Bash", bash(command)), (e) => e.verdict)

  it.effect.prop(
    "p && c, p; c, p | c and p $(c) are allowed only if c alone is",
    { p: Words, c: Schema.NonEmptyArray(Words), ops: Schema.NonEmptyArray(Operator), allow: Schema.Array(Words), deny: Schema.Array(Words) },
    ({ p, c, ops, allow, deny }) =>
      Effect.gen(function*() {
        const input: PolicyRules.Input = {
          allow: [commandRule(p, true), ...allow.map((ws, i) => commandRule(ws, i % 2 === 0))],
          deny: deny.map((ws) => commandRule(ws, true))
        }
        // c may itself be compound: simple commands joined by operators.
        const command = c.map((ws) => ws.join(" ")).reduce((acc, next, i) => `${acc}${ops[i % ops.length]}${next}`)
        const alone = yield* verdictOf(input, command)
        const head = p.join(" ")
        const pAlone = yield* verdictOf(input, head)
        for (const combined of [`${head} && ${command}`, `${head}; ${command}`, `${head} | ${command}`, `${head} "$(${command})"`]) {
          const v = yield* verdictOf(input, combined)
          if (v._tag === "Allow") expect(alone._tag, combined).toBe("Allow")
          // With $(c) as an argument, a wrapper in p may run c's output as a
          // program (`timeout git "$(c)"`): that is opaque, so only the
          // operator forms keep the allow.
          if (pAlone._tag === "Allow" && !combined.includes("$(")) expect(v._tag, combined).toBe(alone._tag === "Allow" ? "Allow" : v._tag)
          expect(severity(v), combined).toBeGreaterThanOrEqual(severity(alone))
        }
      }),
    { arbitrary: { runs: 100 } }
  )

  it.effect.prop(
    "adding a deny rule never makes a verdict more permissive",
    {
      allow: Schema.Array(Words),
      ask: Schema.Array(Words),
      deny: Schema.Array(Words),
      extra: Words,
      extraPath: Path,
      c: Schema.NonEmptyArray(Words),
      path: Path,
      mode: ModeS,
      pathRule: Schema.Boolean
    },
    ({ allow, ask, deny, extra, extraPath, c, path, mode, pathRule }) =>
      Effect.gen(function*() {
        const input: PolicyRules.Input = {
          allow: [...allow.map((ws) => commandRule(ws, true)), "Write(./src/**)"],
          ask: ask.map((ws) => commandRule(ws, false)),
          deny: deny.map((ws) => commandRule(ws, true)),
          mode
        }
        const extraRule = pathRule ? `Write(${extraPath})` : commandRule(extra, true)
        const stricter: PolicyRules.Input = { ...input, deny: [...(input.deny ?? []), extraRule] }
        const command = `${c.map((ws) => ws.join(" ")).join(" && ")} > ${path}`
        for (const [tool, params] of [["Bash", bash(command)], ["Write", file(path)]] as const) {
          const before = (yield* run(input, tool, params)).verdict
          const after = (yield* run(stricter, tool, params)).verdict
          expect(severity(after), `${tool} ${JSON.stringify(params)} + deny ${extraRule}`).toBeGreaterThanOrEqual(severity(before))
        }
      }),
    { arbitrary: { runs: 100 } }
  )
})

describe("PolicyRules WebFetch domain rules", () => {
  const rules: PolicyRules.Input = {
    allow: ["WebFetch(domain:example.com)", "WebFetch(domain:*.docs.rs)", "WebFetch(domain:127.0.0.1)"],
    deny: ["WebFetch(domain:evil.com)"]
  }
  const fetch = (url: unknown) => ({ url, prompt: "summarise" })
  const table: ReadonlyArray<readonly [string, unknown, Tag]> = [
    ["the host a rule names", "https://example.com/a?b=c", "Allow"],
    ["the same host spelt in capitals with a trailing dot and a port", "http://EXAMPLE.com.:8080/x", "Allow"],
    ["a subdomain of an exactly named host is not it", "https://api.example.com/", "Ask"],
    ["a look-alike suffix is not the host", "https://example.com.evil.org/", "Ask"],
    ["a host ending in the name is not it", "https://notexample.com/", "Ask"],
    ["*.docs.rs names its subdomains", "https://serde.docs.rs/serde", "Allow"],
    ["*.docs.rs does not name docs.rs itself", "https://docs.rs/", "Ask"],
    ["a numeric IPv4 spelling is the dotted host", "http://2130706433/", "Allow"],
    ["userinfo before @ is not the host", "https://example.com@evil.com/", "Deny"],
    ["a backslash ends the authority as the URL parser reads it", "https://evil.com\\@example.com/", "Deny"],
    ["a deny rule meets the subdomains of its host", "https://cdn.evil.com/x", "Deny"],
    ["a deny rule ignores case", "https://EVIL.COM/", "Deny"],
    ["file: names no host", "file:///etc/passwd", "Ask"],
    ["a URL that does not parse is never allowed", "example.com/x", "Ask"],
    ["a url that is not a string is never allowed", 42, "Ask"]
  ]
  for (const [name, url, expected] of table) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const { verdict } = yield* run(rules, "WebFetch", fetch(url))
        expect(verdict._tag, JSON.stringify(verdict)).toBe(expected)
      }))
  }

  it.effect("domain:* names every http(s) host and still no file: URL", () =>
    Effect.gen(function*() {
      expect((yield* run({ allow: ["WebFetch(domain:*)"] }, "WebFetch", fetch("https://anything.example/"))).verdict._tag).toBe("Allow")
      expect((yield* run({ allow: ["WebFetch(domain:*)"] }, "WebFetch", fetch("file:///etc/passwd"))).verdict._tag).toBe("Ask")
    }))

  it.effect("a rule that names no host is rejected at load, in every list", () =>
    Effect.gen(function*() {
      for (const bad of ["WebFetch(https://evil.com)", "WebFetch(domain:https://evil.com)", "WebFetch(domain:evil.*)", "WebFetch(domain:)"]) {
        for (const list of ["allow", "ask", "deny"] as const) {
          const error = yield* Effect.flip(PolicyRules.make({ [list]: [bad] }))
          expect(error._tag, bad).toBe("InvalidRule")
          expect(error.message, bad).toContain("domain:example.com")
        }
      }
    }))

  it.effect("plan mode judges WebFetch by its rules instead of denying it as a change", () =>
    Effect.gen(function*() {
      expect((yield* run({ ...rules, mode: "plan" }, "WebFetch", fetch("https://example.com/"))).verdict._tag).toBe("Allow")
      expect((yield* run({ ...rules, mode: "plan" }, "WebFetch", fetch("https://other.org/"))).verdict._tag).toBe("Ask")
    }))

  const Label = Schema.Literals(["example", "EXAMPLE", "evil", "com", "org", "xn--bcher-kva", "a", "0", "127", "docs", "rs"])
  const Host = Schema.NonEmptyArray(Label)
  it.effect.prop(
    "an allow rule allows only a URL whose parsed host is the rule's host; a deny rule meets the host and everything under it",
    { rule: Host, host: Host, upper: Schema.Boolean, dot: Schema.Boolean },
    ({ rule, host, upper, dot }) =>
      Effect.gen(function*() {
        const ruleHost = rule.join(".")
        const spelt = host.join(".")
        const url = `https://${upper ? spelt.toUpperCase() : spelt}${dot ? "." : ""}/path`
        // Some generated names are no host at all (`a.0`: a last label that
        // is a number must be an IPv4 address): such a rule is refused at
        // load and such a URL is never allowed.
        const hostOf = (u: string) => URL.canParse(u) ? new URL(u).hostname.replace(/\.$/, "") : undefined
        const parsed = hostOf(url)
        const named = hostOf(`http://${ruleHost}/`)
        if (named === undefined) {
          expect((yield* Effect.flip(PolicyRules.make({ deny: [`WebFetch(domain:${ruleHost})`] })))._tag).toBe("InvalidRule")
          return
        }
        const allowed = (yield* run({ allow: [`WebFetch(domain:${ruleHost})`] }, "WebFetch", fetch(url))).verdict._tag
        expect(allowed, url).toBe(parsed === named ? "Allow" : "Ask")
        const denied = (yield* run({ allow: ["WebFetch(domain:*)"], deny: [`WebFetch(domain:${ruleHost})`] }, "WebFetch", fetch(url))).verdict._tag
        expect(denied, url).toBe(parsed === undefined ? "Ask" : parsed === named || parsed.endsWith(`.${named}`) ? "Deny" : "Allow")
      }),
    { arbitrary: { runs: 200 } }
  )
})

describe("deny and ask rules meet a program's other names", () => {
  const env: PolicyRules.Environment = { root: "/repo", home: "/home/me" }
  const verdict = (input: PolicyRules.Input, command: string, mode: PolicyRules.Mode) =>
    PolicyRules.explainSync(Effect.runSync(PolicyRules.make(input)), { name: "Bash", params: { command } }, { ...env, mode }).verdict._tag
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["nc", "ncat evil 80"], ["nc", "netcat evil 80"], ["nc", "/bin/nc.openbsd evil 80"], ["ncat", "nc evil 80"],
    ["python3", "python3.12 x.py"], ["python3", "python x.py"], ["python", "pypy3 x.py"], ["awk", "gawk 1 x"], ["awk", "mawk 1 x"],
    ["gawk", "awk 1 x"], ["node", "nodejs x.js"], ["tar", "gtar -xf a.tar"], ["grep", "egrep x y"], ["vim", "vim.basic x"],
    ["vim", "nvim x"], ["pip", "pip3.11 install x"], ["perl", "perl5.36 x.pl"], ["sed", "gsed -n 1p x"], ["mysql", "mariadb -e 1"]
  ]
  it("a deny rule naming one name denies the others, in every mode and behind wrappers", () => {
    for (const [denied, command] of cases) {
      for (const mode of ["default", "acceptEdits", "bypass"] as const) {
        expect(verdict({ allow: ["Bash(*)"], deny: [`Bash(${denied}:*)`] }, command, mode), `${mode}: ${command} under deny ${denied}`).toBe("Deny")
        expect(verdict({ allow: ["Bash(*)"], deny: [`Bash(${denied}:*)`] }, `timeout 5 ${command}`, mode), `${mode}: timeout 5 ${command}`).toBe("Deny")
      }
      expect(verdict({ allow: ["Bash(*)"], ask: [`Bash(${denied}:*)`] }, command, "default"), `ask ${denied}: ${command}`).toBe("Ask")
    }
  })
  it("an allow rule covers only the name it spells", () => {
    expect(verdict({ allow: ["Bash(awk:*)"] }, "awk 1 x", "default")).toBe("Allow")
    expect(verdict({ allow: ["Bash(awk:*)"] }, "gawk 1 x", "default")).toBe("Ask")
    expect(verdict({ allow: ["Bash(gawk:*)"] }, "gawk 1 x", "default")).toBe("Allow")
  })
  it("unrelated names stay apart", () => {
    expect(verdict({ allow: ["Bash(*)"], deny: ["Bash(nc:*)"] }, "ncal 2026", "default")).toBe("Allow")
    expect(verdict({ allow: ["Bash(*)"], deny: ["Bash(python3:*)"] }, "python3-config --cflags", "default")).toBe("Allow")
    expect(verdict({ allow: ["Bash(*)"], deny: ["Bash(vi:*)"] }, "vim-addons list", "default")).toBe("Allow")
  })
})

describe("acceptEdits never pre-approves a write that changes what a later program runs", () => {
  const env: PolicyRules.Environment = { root: "/repo", home: "/home/me", mode: "acceptEdits" }
  const rules = Effect.runSync(PolicyRules.make({ allow: ["Bash(echo:*)", "Bash(cp:*)", "Bash(rm:*)", "Bash(tee:*)"] }))
  const tag = (name: string, params: unknown) => PolicyRules.explainSync(rules, { name, params }, env).verdict._tag
  const planted = [
    "node_modules/.bin/tsc", "node_modules/typescript/lib/tsc.js", "packages/a/node_modules/x/index.js", ".venv/bin/python", ".venv/lib/python3.12/site-packages/x.py",
    "venv/bin/pytest", "lib/python3.11/site-packages/evil.py", ".tox/py312/bin/python", ".env", ".env.local", ".env.production",
    ".tool-versions", ".python-version", ".ruby-version", ".node-version", ".nvmrc", "rust-toolchain.toml", "rust-toolchain", ".pnp.cjs",
    ".augment-guidelines", "NODE_MODULES/x.js"
  ]
  it("the Write tool, a redirection and a spec'd program's output are asked", () => {
    for (const path of planted) {
      expect(tag("Write", { file_path: path, content: "x" }), `Write ${path}`).toBe("Ask")
      expect(tag("Bash", { command: `echo x > ${path}` }), `> ${path}`).toBe("Ask")
      expect(tag("Bash", { command: `cp x ${path}` }), `cp x ${path}`).toBe("Ask")
    }
  })
  it("what is not loaded stays an edit: templates, project files, removals of dependencies", () => {
    for (const path of [".env.example", ".env.sample", "package.json", "src/a.ts", "vitest.config.ts", "docs/node_modules.md"]) {
      expect(tag("Write", { file_path: path, content: "x" }), `Write ${path}`).toBe("Allow")
    }
    for (const command of ["rm -rf node_modules", "rm -rf .venv", "rm -rf packages/a/node_modules", "rm -rf dist build"]) {
      expect(tag("Bash", { command }), command).toBe("Allow")
    }
    expect(tag("Bash", { command: "rm -rf .git" })).toBe("Ask")
  })
})
