import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as PolicyRules from "../../src/policy/PolicyRules.ts"
import * as Gtfobins from "../../src/policy/internal/programs/gtfobins.ts"
import * as Programs from "../../src/policy/internal/programs/index.ts"

// Programs the engine has no spec for, judged by what GTFOBins says they can
// be made to do (src/policy/internal/programs/gtfobins.ts). A prefix rule
// naming one that can run a command, load a library or reach the network
// does not cover it; a file writer is covered while its words stay in the
// workspace; only a rule that spells the whole command covers the rest.

const env: PolicyRules.Environment = { root: "/repo", home: "/home/me" }
const verdict = (rules: PolicyRules.Input, command: string, mode: PolicyRules.Mode = "default") =>
  PolicyRules.explainSync(Effect.runSync(PolicyRules.make(rules)), { name: "Bash", params: { command } }, { ...env, mode }).verdict

// Every GTFOBins program that runs, loads or reaches, that no spec and no
// wrapper table of the engine reads (a wrapper's inner command is judged on its own).
const wrappers = new Set(["env", "nice", "nohup", "stdbuf", "time", "timeout", "sudo", "doas", "xargs", "ionice", "taskset", "chrt", "setarch", "flock", "watch"])
const runners = ["gcc", "cc", "g++", "gdb", "ghci", "irb", "tmux", "screen", "fish", "csh", "tcsh", "busybox", "ssh-keygen", "ffmpeg", "whois", "ip", "m4", "fzf", "rustup", "java", "pandoc", "julia", "dotnet", "uv", "journalctl", "crontab", "at", "dpkg", "apt-get", "bsdtar"]

describe("[issue 16] programs GTFOBins lists and the engine has no spec for", () => {
  it("the table knows what GTFOBins says (spot checks against its pages)", () => {
    expect(Gtfobins.capabilities("gcc")).toContain("c")
    expect(Gtfobins.capabilities("cc")).toBe(Gtfobins.capabilities("gcc")) // an alias
    expect(Gtfobins.capabilities("journalctl")).toContain("c") // pages with less
    expect(Gtfobins.capabilities("ssh-keygen")).toBe("l")
    expect(Gtfobins.capabilities("xxd")).toBe("rw")
    expect(Gtfobins.capabilities("whois")).toBe("n")
    expect(Gtfobins.capabilities("7z")).toBe("rw") // extracting writes
    expect(Gtfobins.capabilities("not-a-program")).toBeUndefined()
  })

  it("a prefix rule naming a program that can run, load or reach covers none of its calls", () => {
    const unspecd = runners.filter((name) => Programs.specOf(name) === undefined && !wrappers.has(name))
    expect(unspecd.length).toBeGreaterThan(25)
    for (const name of unspecd) {
      for (const command of [`${name}`, `${name} --version`, `${name} -x a b`]) {
        const v = verdict({ allow: [`Bash(${name}:*)`] }, command)
        expect(v._tag, `${command} under Bash(${name}:*)`).toBe("Ask")
        // (a program the wrapper tables know runs a command is opaque, asked for that)
        if (v._tag === "Ask") expect(v.reason).toMatch(/GTFOBins|cannot judge/)
      }
    }
  })

  it("every program of the table that can run, load or reach is asked under a rule naming it", () => {
    let checked = 0
    for (const [name, caps] of Gtfobins.listed()) {
      if (!Gtfobins.runsOrReaches(caps) || Programs.specOf(name) !== undefined || wrappers.has(name)) continue
      checked++
      const v = verdict({ allow: [`Bash(${name}:*)`] }, `${name} x -o/tmp/y`)
      expect(v._tag, name).toBe("Ask")
    }
    expect(checked).toBeGreaterThan(250)
  })

  it("a rule that spells the whole command covers it", () => {
    expect(verdict({ allow: ["Bash(gcc -o build/x x.c)"] }, "gcc -o build/x x.c")._tag).toBe("Allow")
    expect(verdict({ allow: ["Bash(journalctl -u nginx:*)"] }, "journalctl -u nginx")._tag).toBe("Allow")
    // `X:*` spells no more than the name: a bare `irb` runs what its input says
    expect(verdict({ allow: ["Bash(irb:*)"] }, "irb")._tag).toBe("Ask")
    expect(verdict({ allow: ["Bash(irb)"] }, "irb")._tag).toBe("Allow")
  })

  it("a file writer is covered while its words stay in the workspace", () => {
    const rules = { allow: ["Bash(xxd:*)", "Bash(iconv:*)", "Bash(7z:*)", "Bash(dos2unix:*)"] }
    for (const command of ["xxd x.bin", "xxd -r dump.hex out.bin", "iconv -f latin1 -t utf8 -o out.txt in.txt", "7z x a.7z", "7z x a.7z -obuild", "dos2unix src/a.sh"]) {
      expect(verdict(rules, command)._tag, command).toBe("Allow")
    }
    for (const command of [
      "xxd -r dump.hex /etc/passwd", // an operand outside
      "iconv -f utf8 -t utf8 -o /etc/x in.txt", // an option's value outside
      "iconv -f utf8 -t utf8 --output=/etc/x in.txt", // after =
      "7z x a.7z -o/tmp", // glued to a short option
      "7z x a.7z -o~/.config", // in the home directory
      "xxd -r dump.hex ../outside", // climbing out
      "xxd -r dump.hex .git/hooks/pre-commit", // a file that configures what runs
      "xxd -r dump.hex $OUT" // a word the shell computes
    ]) {
      const v = verdict(rules, command)
      expect(v._tag, command).toBe("Ask")
    }
    // GTFOBins lists these only for privilege escalation; they change what a file grants or what a path shows
    expect(verdict({ allow: ["Bash(setcap:*)"] }, "setcap cap_setuid+ep /usr/bin/python3")._tag).toBe("Ask")
    expect(verdict({ allow: ["Bash(setfacl:*)"] }, "setfacl -m u:me:rwx /etc/sudoers")._tag).toBe("Ask")
    expect(verdict({ allow: ["Bash(mount:*)"] }, "mount --bind /tmp/x /etc")._tag).toBe("Ask")
    // a Write rule allows what it names
    expect(verdict({ allow: ["Bash(xxd:*)", "Write(/tmp/**)"] }, "xxd -r dump.hex /tmp/out.bin")._tag).toBe("Allow")
  })

  it("a read-only program meets Read rules wherever its words name a path (@FILE, -fFILE, --x=FILE, inside a quoted word, after a scheme)", () => {
    const rules = { allow: ["Bash(readelf:*)", "Bash(strings:*)", "Bash(column:*)", "Bash(apache2:*)", "Bash(yelp:*)", "Bash(lwp-request:*)", "Bash(check_cups:*)"], deny: ["Read(/etc/shadow)"] }
    for (const command of [
      "readelf -a @/etc/shadow", "strings /etc/shadow", "column -c/etc/shadow", "column --x=/etc/shadow", "apache2 -C 'Include /etc/shadow'",
      "yelp man:/etc/shadow", "lwp-request file:///etc/shadow", "check_cups --extra-opts=@/etc/shadow"
    ]) {
      expect(verdict(rules, command)._tag, command).not.toBe("Allow")
    }
    expect(verdict(rules, "strings x.bin")._tag).toBe("Allow")
  })

  it("a spec'd program is judged by its spec, not the table", () => {
    // tar is in GTFOBins (shell, writes); its spec knows extraction into the workspace is fine
    expect(verdict({ allow: ["Bash(tar:*)"] }, "tar -xzf x.tgz")._tag).toBe("Allow")
    expect(verdict({ allow: ["Bash(tar:*)"] }, "tar -xf a.tar --to-command=sh")._tag).toBe("Ask")
  })

  it("bypass and `default: allow` without Bash deny rules still allow (the user chose to allow everything)", () => {
    expect(verdict({}, "gcc -o build/x x.c", "bypass")._tag).toBe("Allow")
    expect(verdict({ default: "allow" }, "gcc -o build/x x.c")._tag).toBe("Allow")
    expect(verdict({ deny: ["Bash(rm:*)"] }, "gcc -o build/x x.c", "bypass")._tag).toBe("Ask")
  })

  it("spec'd programs against GTFOBins' own payloads: containers, bare editors, git diff outside the repository", () => {
    // podman runs as docker does; docker and podman's object groups act by their second word
    const podman = { allow: ["Bash(podman:*)", "Bash(docker:*)"] }
    for (const command of [
      "podman run --rm -it --privileged --volume /:/mnt alpine chroot /mnt /bin/sh", "podman run alpine id", "docker image build .",
      "docker system prune -af", "podman volume rm data", "docker network create x", "docker context use remote"
    ]) expect(verdict(podman, command)._tag, command).toBe("Ask")
    for (const command of ["docker ps", "podman ps -a", "docker image ls", "docker volume ls", "docker port c1", "docker system df"]) {
      expect(verdict(podman, command)._tag, command).toBe("Allow")
    }
    // an editor with no file runs the commands of its input
    for (const [rule, command] of [["ed", "ed <<< '!id'"], ["ex", "ex <<< '!id'"], ["vim", "vim"], ["ed", "printf '!id\\n' | ed"]] as const) {
      expect(verdict({ allow: [`Bash(${rule}:*)`, "Bash(printf:*)"] }, command)._tag, command).toBe("Ask")
    }
    // a path outside the repository makes git diff read files as --no-index does
    expect(verdict({ allow: ["Bash(git diff:*)"], deny: ["Read(/etc/shadow)"] }, "git diff /dev/null /etc/shadow")._tag).toBe("Deny")
    expect(verdict({ allow: ["Bash(git diff:*)"], deny: ["Read(/etc/shadow)"] }, "git diff origin/main -- src")._tag).toBe("Allow")
  })

  it("bare yarn installs: a rule naming yarn alone does not cover it, `Bash(yarn)` does", () => {
    expect(verdict({ allow: ["Bash(yarn:*)"] }, "yarn")._tag).toBe("Ask")
    expect(verdict({ allow: ["Bash(yarn:*)"] }, "yarn --frozen-lockfile")._tag).toBe("Ask")
    expect(verdict({ allow: ["Bash(yarn)"] }, "yarn")._tag).toBe("Allow")
    expect(verdict({ allow: ["Bash(yarn install:*)"] }, "yarn install")._tag).toBe("Allow")
  })
})
