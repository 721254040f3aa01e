import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as Fs from "node:fs"
import * as PolicyRules from "../../src/policy/PolicyRules.ts"

// Ordinary rules, as a user writes them: a few harmless programs allowed, a
// few dangerous ones denied. The bundled default policy is checked too.
const ordinary: PolicyRules.Input = {
  allow: ["Bash(echo:*)", "Bash(cat:*)", "Bash(ls:*)", "Bash(git status)", "Bash(git diff:*)"],
  deny: ["Bash(shred:*)", "Bash(rm:*)", "Bash(curl:*)", "Write(/etc/**)", "Edit(/etc/**)", "Read(~/.ssh/**)"]
}
const bundled = JSON.parse(Fs.readFileSync(new URL("../../policies/default.json", import.meta.url), "utf8")).permissions as PolicyRules.Input
const env: PolicyRules.Environment = { root: "/repo", home: "/home/me" }

const verdict = (input: PolicyRules.Input, command: string) =>
  Effect.map(Effect.flatMap(PolicyRules.make(input), (rules) => PolicyRules.explain(rules, { name: "Bash", params: { command } }, env)), (e) => e.verdict)

// "deny": a deny rule must hold; "ask": never allowed (opaque or unreadable).
type Expect = "deny" | "ask"
type Case = readonly [klass: string, command: string, expected: Expect]

const cases: ReadonlyArray<Case> = [
  // 1. the reader agrees with bash on where commands start
  ["comment after a closing quote", "echo 'a'#b; shred x", "deny"],
  ["comment after a double quote", "echo \"a\"#b; shred x", "deny"],
  ["comment after an expansion", "echo $HOME#b; shred x", "deny"],
  ["comment after ${}", "echo ${HOME}#b; shred x", "deny"],
  ["hash inside a word", "echo a#b;shred x", "deny"],
  ["comment ending in a backslash", "echo a # note \\\nshred x", "ask"],
  ["carriage return before a command", "echo x\rshred y", "ask"],
  ["CRLF line ending", "echo x\r\nshred y", "ask"],
  ["here-doc delimiter with CR", "cat <<EOF\nEOF\r\nshred x\nEOF", "ask"],
  ["here-doc line continuation into the delimiter", "cat <<EOF\nbody\\\nEOF\nshred x\nEOF", "ask"],
  ["here-doc delimiter followed by ) inside $()", "echo \"$(cat <<EOF\nx\nEOF)\"; shred x", "ask"],
  ["here-doc body substitution runs", "cat <<EOF\n$(shred x)\nEOF", "deny"],
  ["command after a here-doc", "cat <<EOF\nbody\nEOF\nshred x", "deny"],
  ["here-doc opener followed by a command", "cat <<EOF; shred x\nbody\nEOF", "deny"],
  ["two here-docs on one line", "cat <<A <<B\na\nA\n$(shred b)\nB", "deny"],
  ["line continuation inside the command name", "sh\\\nred x", "deny"],
  ["line continuation before an operator", "ls \\\n; shred x", "deny"],
  ["backticks inside backticks", "echo `echo \\`shred x\\``", "deny"],
  ["backticks in double quotes", "echo \"`shred x`\"", "deny"],
  ["comment after a subshell", "(echo a)#b\nshred x", "deny"],
  ["comment right after ;", "echo a;#b\nshred x", "deny"],
  ["unterminated quote", "echo 'a; shred x", "ask"],
  ["case clause", "case x in x) shred x;; esac", "ask"],
  ["NUL byte", "ls\u0000shred x", "ask"],
  ["command over 100 KB", `echo ${"x".repeat(100_001)}; shred x`, "ask"],
  ["&> redirect then a command", "echo x &>/dev/null & shred y", "deny"],
  ["|& pipe", "ls |& shred x", "deny"],
  ["newline after &&", "ls &&\nshred x", "deny"],
  ["background &", "ls&shred x", "deny"],
  ["redirect close glued to text", "echo a 2>&-\\\nshred x", "ask"],
  // 2. the program however it is written
  ["absolute path", "/usr/bin/shred x", "deny"],
  ["relative path", "./shred x", "deny"],
  ["path with ..", "../../usr/bin/shred x", "deny"],
  ["quoted path", "\"/usr/bin/shred\" x", "deny"],
  ["partly quoted path", "/usr/bin/'shred' x", "deny"],
  ["empty quotes inside the name", "s''hred x", "deny"],
  ["double quotes inside the name", "s\"hr\"ed x", "deny"],
  ["backslash-escaped name", "\\shred x", "deny"],
  ["backslash inside the name", "sh\\red x", "deny"],
  ["ANSI-C hex escape", "$'\\x73hred' x", "deny"],
  ["ANSI-C octal escape", "$'\\163hred' x", "deny"],
  ["ANSI-C unicode escape", "$'\\u0073hred' x", "deny"],
  ["ANSI-C NUL truncation", "$'shred\\x00z' x", "ask"],
  ["locale quoting", "$\"shred\" x", "ask"],
  ["IFS split", "IFS=x; y=shredxfile; $y", "ask"],
  ["brace expansion", "{shred,x}", "ask"],
  ["brace expansion in a path", "/usr/bin/{shred,x} y", "ask"],
  ["glob in the command word", "/usr/bin/shre? x", "ask"],
  ["star glob in the command word", "/usr/bin/sh*d x", "ask"],
  ["bracket glob in the command word", "shre[d] x", "ask"],
  ["variable as command", "$CMD x", "ask"],
  ["braced variable as command", "${CMD} x", "ask"],
  ["default-value expansion as command", "${CMD:-shred} x", "ask"],
  ["substitution as command", "$(echo shred) x", "ask"],
  ["backticks as command", "`echo shred` x", "ask"],
  ["quoted substitution as command", "\"$(printf shred)\" x", "ask"],
  ["indirect expansion", "${!name} x", "ask"],
  // 2. wrappers with their option tables
  ["env", "env shred x", "deny"],
  ["env -i", "env -i shred x", "deny"],
  ["env -u", "env -u HOME shred x", "deny"],
  ["env --", "env -- shred x", "deny"],
  ["env inert assignment", "env LANG=C shred x", "deny"],
  ["env PATH assignment", "env PATH=/tmp ls", "ask"],
  ["env -S splits a string", "env -S 'shred x'", "ask"],
  ["env -C changes directory", "env -C /tmp ls", "ask"],
  ["env unknown option", "env --frobnicate shred x", "ask"],
  ["exec", "exec shred x", "deny"],
  ["exec -a", "exec -a name shred x", "deny"],
  ["exec -cl", "exec -cl shred x", "deny"],
  ["command", "command shred x", "deny"],
  ["command -p", "command -p shred x", "deny"],
  ["builtin", "builtin shred x", "deny"],
  ["time keyword", "time shred x", "deny"],
  ["time -p keyword", "time -p shred x", "deny"],
  ["time after a pipe is a program", "ls | time shred x", "deny"],
  ["/usr/bin/time -o", "/usr/bin/time -o out.txt shred x", "deny"],
  ["/usr/bin/time -f", "/usr/bin/time -f %e shred x", "deny"],
  ["/usr/bin/time writes /etc", "/usr/bin/time -o /etc/motd ls", "deny"],
  ["timeout", "timeout 5 shred x", "deny"],
  ["timeout -s", "timeout -s KILL 5 shred x", "deny"],
  ["timeout --signal=", "timeout --signal=KILL 5 shred x", "deny"],
  ["timeout -k glued", "timeout -k5 5 shred x", "deny"],
  ["timeout abbreviated long option", "timeout --sig=KILL 5 ls", "ask"],
  ["nice", "nice shred x", "deny"],
  ["nice -n", "nice -n 5 shred x", "deny"],
  ["nice -N", "nice -5 shred x", "deny"],
  ["nohup", "nohup shred x", "deny"],
  ["setsid", "setsid -w shred x", "deny"],
  ["stdbuf clustered", "stdbuf -oL shred x", "deny"],
  ["stdbuf separate", "stdbuf -o L shred x", "deny"],
  ["sudo", "sudo shred x", "deny"],
  ["sudo -u", "sudo -u root shred x", "deny"],
  ["sudo -E", "sudo -E shred x", "deny"],
  ["sudo env assignment", "sudo LD_PRELOAD=/tmp/x.so ls", "ask"],
  ["sudo -s", "sudo -s ls", "ask"],
  ["doas", "doas -u root shred x", "deny"],
  ["xargs", "ls | xargs shred", "deny"],
  ["xargs -0", "ls | xargs -0 shred", "deny"],
  ["xargs -I", "ls | xargs -I{} shred {}", "deny"],
  ["xargs -i", "ls | xargs -i shred {}", "deny"],
  ["xargs -l", "ls | xargs -l shred", "deny"],
  ["xargs -e", "ls | xargs -eEND shred", "deny"],
  ["xargs clustered", "ls | xargs -0rn1 shred", "deny"],
  ["xargs -n -P", "ls | xargs -n 1 -P 4 shred", "deny"],
  ["xargs replace string as command", "ls | xargs -I% % x", "ask"],
  ["busybox", "busybox shred x", "deny"],
  ["find -exec", "find . -exec shred {} \\;", "deny"],
  ["find -execdir", "find . -execdir shred {} +", "deny"],
  ["find -ok", "find . -ok shred {} \\;", "deny"],
  ["find -delete", "find . -delete", "ask"],
  ["find -fprint into /etc", "find . -fprint /etc/x", "deny"],
  ["git -c alias", "git -c alias.st='!shred x' st", "ask"],
  ["git --exec-path", "git --exec-path=/tmp status", "ask"],
  ["git -c core.fsmonitor", "git -c core.fsmonitor='shred x' status", "ask"],
  ["git submodule foreach", "git submodule foreach 'shred x'", "ask"],
  ["npm exec", "npm exec -- shred x", "deny"],
  ["npm x", "npm x shred x", "deny"],
  ["npx", "npx -y shred x", "deny"],
  ["npx -c", "npx -c 'shred x'", "deny"],
  ["sh -c", "sh -c 'shred x'", "deny"],
  ["bash -lc", "bash -lc \"shred x\"", "deny"],
  ["zsh -c", "zsh -c 'ls; shred x'", "deny"],
  ["bash -c computed", "bash -c \"$X\"", "ask"],
  ["shell reading stdin", "echo 'shred x' | sh", "ask"],
  ["shell running a file", "bash ./script.sh", "ask"],
  ["bash --rcfile", "bash --rcfile x -c ls", "ask"],
  ["python -c", "python3 -c 'import os; os.system(\"shred x\")'", "ask"],
  ["python clustered -c", "python -Ic 'print(1)'", "ask"],
  ["node -e", "node -e 'require(\"child_process\").execSync(\"shred x\")'", "ask"],
  ["node -p", "node -p 1", "ask"],
  ["perl -e", "perl -e 'system(\"shred x\")'", "ask"],
  ["eval", "eval 'shred x'", "deny"],
  ["eval joins words", "eval sh\"red\" x", "deny"],
  ["eval computed", "eval \"$X\"", "ask"],
  ["source", "source ./x.sh", "ask"],
  ["dot", ". ./x.sh", "ask"],
  ["nested wrappers", "timeout 5 env A=1 nice -n 1 sh -c 'nohup shred x'", "deny"],
  ["wrapper runner without a table", "strace -f shred x", "ask"],
  ["awk system()", "awk 'BEGIN { system(\"shred x\") }'", "ask"],
  ["awk pipe to a command", "awk '{ print | \"sh\" }' f", "ask"],
  ["awk program file", "awk -f prog.awk f", "ask"],
  ["command -v runs nothing but is judged", "command -v ls && shred x", "deny"],
  ["find with a computed argument", "find . $ARGS", "ask"],
  // 2. shell state is code
  ["assignment only", "A=1", "ask"],
  ["PATH assignment then ls", "PATH=/tmp; ls", "ask"],
  ["PATH prefix", "PATH=/tmp ls", "ask"],
  ["LD_PRELOAD prefix", "LD_PRELOAD=/tmp/x.so ls", "ask"],
  ["BASH_ENV prefix", "BASH_ENV=/tmp/x bash -c ls", "ask"],
  ["ENV prefix", "ENV=/tmp/x sh -c ls", "ask"],
  ["GIT_ prefix", "GIT_EXTERNAL_DIFF=/tmp/x git diff", "ask"],
  ["GIT_SSH_COMMAND prefix", "GIT_SSH_COMMAND='shred x' git status", "ask"],
  ["npm_config prefix", "npm_config_script_shell=/tmp/x ls", "ask"],
  ["NODE_OPTIONS prefix", "NODE_OPTIONS='--require /tmp/x' ls", "ask"],
  ["PYTHONSTARTUP prefix", "PYTHONSTARTUP=/tmp/x ls", "ask"],
  ["PERL5OPT prefix", "PERL5OPT=-Mx ls", "ask"],
  ["export PATH", "export PATH=/tmp; ls", "ask"],
  ["declare -x", "declare -x PATH=/tmp; ls", "ask"],
  ["read into PATH", "read PATH <<< /tmp; ls", "ask"],
  ["printf -v PATH", "printf -v PATH /tmp; ls", "ask"],
  ["mapfile callback", "mapfile -C 'shred x' -c 1 a < f", "ask"],
  ["trap", "trap 'shred x' EXIT; ls", "ask"],
  ["alias with expand_aliases", "shopt -s expand_aliases; alias ls=shred; ls x", "ask"],
  ["hash -p", "hash -p /usr/bin/shred ls; ls x", "ask"],
  ["enable -f", "enable -f /tmp/x.so ls; ls", "ask"],
  ["function shadowing an allowed name", "ls() { shred x; }; ls", "deny"],
  ["function shadowing echo", "echo() { :; }; echo x", "ask"],
  ["function keyword", "function f { shred x; }; f", "deny"],
  ["CDPATH assignment", "CDPATH=/etc cd x && echo y > passwd", "ask"],
  // 2. arithmetic, prompts, subscripts
  ["arithmetic expansion", "echo $((x))", "ask"],
  ["old arithmetic", "echo $[x]", "ask"],
  ["arithmetic command", "(( x )) && ls", "ask"],
  ["[[ -eq ]]", "[[ $x -eq 1 ]] && ls", "ask"],
  ["prompt expansion", "echo ${x@P}", "ask"],
  ["array subscript in an expansion", "echo ${a[$(shred x)]}", "ask"],
  ["unset with a subscript", "unset 'a[$(shred x)]'", "ask"],
  ["test -v with a subscript", "test -v 'a[$(shred x)]'", "ask"],
  ["[ -v with a subscript", "[ -v 'a[$(shred x)]' ]", "ask"],
  ["let", "let x=1", "ask"],
  ["array assignment", "a=(1 2); ls", "ask"],
  // 2. working directory
  ["cd then redirect into /etc", "cd /etc && echo x > passwd", "deny"],
  ["cd ; redirect", "cd /etc; echo x > hosts", "deny"],
  ["relative cd chain", "cd /; cd etc; echo > passwd", "deny"],
  ["pushd", "pushd /etc && echo x > motd", "deny"],
  ["cd computed", "cd \"$D\" && echo x > passwd", "ask"],
  ["cd -", "cd - && echo x > f", "ask"],
  ["popd", "popd; echo x > f", "ask"],
  ["cd ~/.ssh then read", "cd ~/.ssh && cat < id_rsa", "deny"],
  ["cd .. out of the root", "cd ../../etc && echo > passwd", "deny"],
  // substitutions anywhere
  ["process substitution", "cat <(shred x)", "deny"],
  ["output process substitution", "echo x > >(shred y)", "deny"],
  ["process substitution glued to a word", "echo a<(shred x)", "deny"],
  ["substitution in an assignment prefix", "X=$(shred x) ls", "deny"],
  ["substitution in a redirect target", "echo x > \"$(shred y)\"", "deny"],
  ["substitution in a for list", "for f in $(shred x); do echo $f; done", "deny"],
  ["substitution in a here-string", "cat <<< \"$(shred x)\"", "deny"],
  ["default value running a command", "echo ${X:-$(shred x)}", "ask"],
  ["if body", "if ls; then shred x; fi", "deny"],
  ["while condition", "while shred x; do ls; done", "deny"],
  ["negation", "! shred x", "deny"],
  ["group", "{ ls; shred x; }", "deny"],
  ["subshell", "(ls; shred x)", "deny"],
  ["coproc", "coproc shred x", "ask"],
  ["select", "select x in a; do shred x; done", "ask"]
]

// Safe calls an agent makes: over-blocking them is the cost of the rules.
const safe: ReadonlyArray<string> = [
  "ls -la",
  "ls -la | cat",
  "echo hello > /dev/null",
  "cat README.md",
  "echo \"a#b\"",
  "echo 'x' # comment",
  "ls && echo done",
  "cat <<'EOF'\n$(not run)\nEOF",
  "cat <<EOF\nhello $HOME\nEOF",
  "echo $HOME",
  "ls 2>/dev/null",
  "LANG=C ls",
  "ls; echo",
  "(ls)",
  "{ ls; }",
  "if ls; then echo ok; fi",
  "for f in *.ts; do echo $f; done",
  "echo \"$(ls)\"",
  "cat a | cat",
  "git status",
  "git diff --stat",
  "timeout 5 ls",
  "command ls",
  "nice ls",
  "ls # trailing comment",
  "echo a\\\nb",
  "echo $'\\t'",
  "ls -- -x",
  "echo ${HOME}/x",
  "echo ${1:-default}",
  "cat <<-EOF\n\tindented\n\tEOF",
  "ls src/ | cat",
  "echo 'it''s'",
  "ls 2>&1 | cat",
  "cat file.txt | cat -n",
  "time ls",
  "echo {a,b}",
  "ls *.json",
  "cd src && ls",
  "git --no-pager diff",
  "echo $((1 + 2))",
  "echo \"${files[@]}\""
]

describe("adversarial shell lines never get an unsafe allow", () => {
  it("has at least 100 cases", () => expect(cases.length).toBeGreaterThanOrEqual(100))
  for (const [klass, command, expected] of cases) {
    it.effect(`${klass}: ${JSON.stringify(command.length > 80 ? `${command.slice(0, 80)}…` : command)}`, () =>
      Effect.gen(function*() {
        for (const input of [ordinary, { ...ordinary, mode: "bypass" as const }, { ...ordinary, default: "allow" as const }]) {
          const v = yield* verdict(input, command)
          expect(v._tag, `${input.mode ?? "default"} mode, default ${input.default ?? "ask"}: ${JSON.stringify(v)}`).toBe(expected === "deny" ? "Deny" : v._tag === "Deny" ? "Deny" : "Ask")
        }
        const withBundled = yield* verdict(bundled, command.replace(/shred/g, "curl"))
        expect(withBundled._tag, JSON.stringify(withBundled)).not.toBe("Allow")
      }))
  }
})

describe("safe shell lines stay allowed", () => {
  for (const command of safe) {
    it.effect(JSON.stringify(command), () =>
      Effect.gen(function*() {
        const v = yield* verdict({ ...ordinary, allow: [...ordinary.allow!, "Bash(git --no-pager diff:*)", "Bash(cd:*)"] }, command)
        expect(v._tag, JSON.stringify(v)).toBe("Allow")
      }))
  }
})

describe("wrapping and spelling properties", () => {
  const Spelling = Schema.Literals(["shred", "'shred'", "s''hred", "\\shred", "/usr/bin/shred", "./shred", "$'\\x73hred'", "sh\"red\"", "../bin/shred"])
  const Wrapper = Schema.Literals([
    "", "env ", "env -i ", "command ", "exec ", "time ", "timeout 5 ", "timeout -s KILL 5 ", "nice -n 1 ", "nohup ", "setsid ", "stdbuf -oL ",
    "sudo ", "sudo -u root ", "doas ", "busybox ", "npx -y ", "npm exec -- ", "LANG=C ", "A=1 ", "! ", "builtin "
  ])
  const Around = Schema.Literals(["%", "sh -c '%'", "bash -c \"%\"", "eval '%'", "echo $(%)", "echo `%`", "ls | %", "ls && %", "(%)", "{ %; }", "if %; then ls; fi", "ls | xargs %", "find . -exec % {} \\;", "cat <(%)", "ls #x\n%", "echo 'a'#b; %"])
  const Mode = Schema.Literals(["default", "bypass", "acceptEdits"])

  it.effect.prop(
    "a denied program under any wrappers, spellings and surroundings is never allowed",
    { spelling: Spelling, wrappers: Schema.Array(Wrapper), around: Around, mode: Mode, allowDefault: Schema.Boolean },
    ({ spelling, wrappers, around, mode, allowDefault }) =>
      Effect.gen(function*() {
        // Assignments and `!` are shell syntax only where the shell reads a
        // command: after another wrapper, or under xargs/find, they are a
        // program name and the denied program never runs.
        const direct = around.includes("xargs") || around.includes("find")
        const shellOnly = ["A=1 ", "LANG=C ", "! "]
        const usable = wrappers.slice(0, 3).filter((w, i) => !(shellOnly.includes(w) && (direct || i > 0)))
        const inner = `${usable.join("")}${spelling} -u x`
        const command = around.replace("%", () => inner)
        const v = yield* verdict({ ...ordinary, mode, default: allowDefault ? "allow" : "ask" }, command)
        expect(v._tag, `${command}: ${JSON.stringify(v)}`).not.toBe("Allow")
      }),
    { arbitrary: { runs: 300 } }
  )

  const Computed = Schema.Literals(["$X", "${X}", "\"$X\"", "$(echo x)", "`echo x`", "{a,b}", "x*", "$'\\x00'", "${X:-ls}"])
  it.effect.prop(
    "a computed command name is never pre-approved while a Bash deny rule exists",
    { name: Computed, wrapper: Wrapper, mode: Mode, allowDefault: Schema.Boolean },
    ({ name, wrapper, mode, allowDefault }) =>
      Effect.gen(function*() {
        const command = `${wrapper}${name} -rf /`
        const v = yield* verdict({ deny: ["Bash(rm:*)"], allow: ["Bash(*)"], mode, default: allowDefault ? "allow" : "ask" }, command)
        expect(v._tag, `${command}: ${JSON.stringify(v)}`).not.toBe("Allow")
      }),
    { arbitrary: { runs: 200 } }
  )
})
