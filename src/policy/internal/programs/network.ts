/**
 * Network clients: curl, wget, ssh, scp, rsync, nc. Every address they reach
 * is a `network` effect carried by the word naming it (covered only when an
 * allow rule's literal words include it: `Bash(curl -s https://api.example.com/:*)`
 * does not cover another host). Output options write files, upload and
 * config options read them; options that run programs (`ssh -o
 * ProxyCommand=`, `rsync -e`, `scp -S`, `wget --use-askpass`) are commands
 * of their own, and config files that can name programs are opaque.
 */
import type { Word } from "../shell/read.ts"
import { effect, type Effect, type Parsed, program, type ProgramSpec } from "./spec.ts"

const curlTable = "-a --append|--anyauth|--basic|--digest|--ntlm|--negotiate|--cacert=|--capath=|-E --cert=|--cert-type=|--ciphers=|--compressed|--compressed-ssh|-K --config=|--connect-timeout=|--connect-to=|-C --continue-at=|-b --cookie=|-c --cookie-jar=|--create-dirs|--crlf|--crlfile=|-d --data=|--data-ascii=|--data-binary=|--data-raw=|--data-urlencode=|-D --dump-header=|--etag-compare=|--etag-save=|--fail-early|--fail-with-body|-f --fail|-F --form=|--form-string=|-G --get|-g --globoff|-H --header=|-h --help|-I --head|-i --include|-k --insecure|-j --junk-session-cookies|-J --remote-header-name|-L --location|--location-trusted|--max-redirs=|-m --max-time=|--max-filesize=|-n --netrc|--netrc-file=|--netrc-optional|-N --no-buffer|--no-keepalive|--no-progress-meter|-o --output=|--output-dir=|-O --remote-name|--remote-name-all|-p --proxytunnel|-x --proxy=|-U --proxy-user=|--proto=|--proto-redir=|-r --range=|-e --referer=|-X --request=|--request-target=|--resolve=|--retry=|--retry-delay=|--retry-max-time=|--retry-all-errors|--retry-connrefused|-s --silent|-S --show-error|--stderr=|-T --upload-file=|--tcp-nodelay|--tlsv1.2|--tlsv1.3|--trace=|--trace-ascii=|--trace-time|-u --user=|-A --user-agent=|-v --verbose|-V --version|-w --write-out=|-Z --parallel|--parallel-max=|--http1.1|--http2|--http3|-0 --http1.0|-4 --ipv4|-6 --ipv6|--json=|--url=|-q --disable|-#  --progress-bar|-l --list-only|-R --remote-time|-z --time-cond=|-Y --speed-limit=|-y --speed-time=|--key=|--key-type=|--pass=|--pinnedpubkey=|--oauth2-bearer=|--libcurl=|--unix-socket=|--abstract-unix-socket=|--variable=|--expand-url=|--url-query=|-M --manual|--path-as-is|--raw|--ssl-reqd|--sslv3|--tr-encoding|--keepalive-time=|--interface=|--dns-servers=|--doh-url=|--fail-early|--styled-output|--no-styled-output"

// A `file://` URL (any case, any host) reads the local file it names; curl's
// own globbing (`{a,b}`, `[1-3]`) makes the path unknown. A URL without a
// scheme is read as http by curl, never as a file.
const fileUrl = (at: number, url: Word): ReadonlyArray<Effect> => {
  if (url === undefined) return [effect("reads-file", at, undefined, "curl may read a file:// URL the shell computes")]
  const m = /^file:\/\/[^/]*(\/[^?#]*)?/i.exec(url)
  if (m === null) return []
  let path: Word = m[1] ?? "/"
  try {
    path = /[{}[\]]/.test(path) ? undefined : decodeURIComponent(path)
  } catch {
    path = undefined
  }
  return [effect("reads-file", at, path, "curl reads a file:// URL")]
}

const curlRefine = (p: Parsed): ReadonlyArray<Effect> | string => {
  const out: Array<Effect> = []
  for (const f of p.found) {
    const v = f.value
    // `--expand-url 'https://{{host}}/'` fills the option from `--variable`s, which may come from files
    if (f.name.startsWith("--expand-")) return `curl ${f.written} fills its value from variables the engine cannot read`
    switch (f.name) {
      case "-K":
      case "--config":
        return "curl -K reads options from a file the engine cannot read"
      case "-o":
      case "--output":
      case "-c":
      case "--cookie-jar":
      case "-D":
      case "--dump-header":
      case "--trace":
      case "--trace-ascii":
      case "--stderr":
      case "--libcurl":
      case "--etag-save":
        if (v !== "-") out.push(effect("writes-file", f.at, v, `curl ${f.written} writes a file`))
        break
      case "--output-dir":
        out.push(effect("writes-file", f.at, v, "curl --output-dir writes into a directory", { recursive: true }))
        break
      case "-O":
      case "--remote-name":
      case "--remote-name-all":
      case "-J":
      case "--remote-header-name":
        out.push(effect("writes-file", f.at, f.name === "-J" || f.name === "--remote-header-name" ? undefined : ".", "curl -O writes a file named by the server into the working directory", { recursive: true }))
        break
      case "-T":
      case "--upload-file":
      case "--cacert":
      case "--capath":
      case "-E":
      case "--cert":
      case "--key":
      case "--netrc-file":
      case "--crlfile":
      case "--etag-compare":
        out.push(effect("reads-file", f.at, v, `curl ${f.written} reads a file`))
        break
      case "-b":
      case "--cookie":
        if (v === undefined || !v.includes("=")) out.push(effect("reads-file", f.at, v, "curl -b reads a cookie file"))
        break
      case "-d":
      case "--data":
      case "--data-ascii":
      case "--data-binary":
      case "--data-urlencode":
      case "-F":
      case "--form":
      case "--json":
      case "-H":
      case "--header":
      case "--variable":
      case "--url-query":
      case "-w":
      case "--write-out": {
        if (v === undefined) {
          out.push(effect("reads-file", f.at, undefined, `curl ${f.written} may read a file`))
          break
        }
        // --data-urlencode and --variable read `name@file` too (a name holds no `=`)
        const named = f.name === "--data-urlencode" || f.name === "--variable" || f.name === "--url-query" ? /^%?[^=@]*@(.+)$/.exec(v) : null
        const m = /^@(.+)$/.exec(v) ?? named ?? /[=;][@<]([^;]*)/.exec(v) ?? (f.name === "-w" || f.name === "--write-out" ? /%\{(?:stderr|stdout)\}|%output\{([^}]*)\}/.exec(v) : null)
        if (m !== null && m[1] !== undefined && m[1] !== "-") out.push(effect(f.name === "-w" || f.name === "--write-out" ? "writes-file" : "reads-file", f.at, m[1], `curl ${f.written} reads the file after @`))
        break
      }
      case "--url":
        out.push(effect("network", f.at, v, "curl reaches its URL"), ...fileUrl(f.at, v))
        break
      case "--unix-socket":
      case "--abstract-unix-socket":
        out.push(effect("network", f.at, v, "curl talks to a local socket"))
        break
      case "-x":
      case "--proxy":
      case "--connect-to":
      case "--resolve":
      case "--doh-url":
      case "--dns-servers":
      case "--preproxy":
      case "--socks4":
      case "--socks4a":
      case "--socks5":
      case "--socks5-hostname":
      case "--proxy1.0":
        out.push(effect("network", f.at, v, `curl ${f.written} redirects where it connects`))
        break
    }
  }
  for (const o of p.operands) out.push(effect("network", o.at, o.value, "curl reaches its URL"), ...fileUrl(o.at, o.value))
  return out
}

const wgetTable = "-V --version|-h --help|-b --background|-e --execute=|-o --output-file=|-a --append-output=|-d --debug|-q --quiet|-v --verbose|-nv --no-verbose|--report-speed=|-i --input-file=|-F --force-html|-B --base=|--config=|--no-config|--rejected-log=|-t --tries=|--retry-connrefused|--retry-on-http-error=|-O --output-document=|-nc --no-clobber|--no-netrc|-c --continue|--start-pos=|--progress=|--show-progress|-N --timestamping|--no-if-modified-since|--no-use-server-timestamps|-S --server-response|--spider|-T --timeout=|--dns-timeout=|--connect-timeout=|--read-timeout=|-w --wait=|--waitretry=|--random-wait|--no-proxy|-Q --quota=|--bind-address=|--limit-rate=|--no-dns-cache|--restrict-file-names=|--ignore-case|-4 --inet4-only|-6 --inet6-only|--prefer-family=|--user=|--password=|--ask-password|--use-askpass=|--no-iri|--local-encoding=|--remote-encoding=|--unlink|--xattr|-nd --no-directories|-x --force-directories|-nH --no-host-directories|--protocol-directories|-P --directory-prefix=|--cut-dirs=|--http-user=|--http-password=|--no-cache|--default-page=|-E --adjust-extension|--ignore-length|--header=|--compression=|--max-redirect=|--proxy-user=|--proxy-password=|--referer=|--save-headers|-U --user-agent=|--no-http-keep-alive|--no-cookies|--load-cookies=|--save-cookies=|--keep-session-cookies|--post-data=|--post-file=|--method=|--body-data=|--body-file=|--content-disposition|--content-on-error|--auth-no-challenge|--secure-protocol=|--https-only|--no-check-certificate|--certificate=|--certificate-type=|--private-key=|--private-key-type=|--ca-certificate=|--ca-directory=|--crl-file=|--pinnedpubkey=|--random-file=|--egd-file=|--hsts-file=|--no-hsts|--warc-file=|-r --recursive|-l --level=|--delete-after|-k --convert-links|-K --backup-converted|-m --mirror|-p --page-requisites|-A --accept=|-R --reject=|-D --domains=|--exclude-domains=|-L --relative|-I --include-directories=|-X --exclude-directories=|-np --no-parent"

const wgetRefine = (p: Parsed): ReadonlyArray<Effect> | string => {
  const out: Array<Effect> = []
  let wroteOutput = false
  for (const f of p.found) {
    const v = f.value
    if (["-e", "--execute", "--config", "--use-askpass"].includes(f.name)) return `wget ${f.written} runs commands or reads a config the engine cannot read`
    if (["-o", "--output-file", "-a", "--append-output", "--save-cookies", "--rejected-log", "--warc-file", "--hsts-file"].includes(f.name)) out.push(effect("writes-file", f.at, v, `wget ${f.written} writes a file`))
    if (f.name === "-O" || f.name === "--output-document") {
      wroteOutput = true
      if (v !== "-") out.push(effect("writes-file", f.at, v, "wget -O writes a file"))
    }
    if (f.name === "-P" || f.name === "--directory-prefix") {
      wroteOutput = true
      out.push(effect("writes-file", f.at, v, "wget -P writes into a directory", { recursive: true }))
    }
    // `-i LIST` fetches the URLs its list names: an address the rule cannot see
    if (f.name === "-i" || f.name === "--input-file") out.push(effect("network", f.at, undefined, "wget -i fetches the URLs its list names"))
    if (["-i", "--input-file", "--post-file", "--body-file", "--load-cookies", "--certificate", "--private-key", "--ca-certificate", "--crl-file", "--random-file"].includes(f.name)) out.push(effect("reads-file", f.at, v, `wget ${f.written} reads a file`))
  }
  if (!wroteOutput) out.push(effect("writes-file", -1, ".", "wget saves into the working directory", { recursive: true }))
  for (const o of p.operands) out.push(effect("network", o.at, o.value, "wget reaches its URL"))
  return out
}

// ssh -o keys that run a local program or load another config.
const sshRunning = /^(proxycommand|localcommand|permitlocalcommand|knownhostscommand|include|pkcs11provider|securitykeyprovider|remotecommand|match|sshaskpass|identityagent|controlpath|proxyusefdpass)$/i
const sshOptions = "-4|-6|-A|-a|-C|-f|-G|-g|-K|-k|-M|-N|-n|-q|-s|-T|-t|-V|-v|-X|-x|-Y|-y|-B=|-b=|-c=|-D=|-E=|-e=|-F=|-I=|-i=|-J=|-L=|-l=|-m=|-O=|-o=|-P=|-p=|-Q=|-R=|-S=|-W=|-w="

const sshO = (p: Parsed, who: string): string | undefined => {
  for (const f of p.found) {
    if (f.name === "-o") {
      if (f.value === undefined) return `${who} -o sets a computed option`
      const key = f.value.split(/[=\s]/)[0]!
      if (sshRunning.test(key)) return `${who} -o ${key} runs a local program`
    }
    if (f.name === "-F") return `${who} -F reads a config that can name programs`
    if (who !== "ssh" && f.name === "-S") return `${who} -S runs another program as ssh`
    if (f.name === "-I") return `${who} -I loads a PKCS#11 library`
  }
  return undefined
}

export const specs: ReadonlyArray<ProgramSpec> = [
  program("curl", curlTable, {}, { operands: "inert", refine: curlRefine }),
  program("wget", wgetTable, {}, { operands: "inert", singleDashLong: false, refine: wgetRefine }),
  program("ssh", sshOptions, {}, {
    operands: "inert", posix: true,
    refine: (p) => {
      const bad = sshO(p, "ssh")
      if (bad !== undefined) return bad
      const out: Array<Effect> = []
      for (const f of p.found) {
        if (f.name === "-E") out.push(effect("writes-file", f.at, f.value, "ssh -E writes a log"))
        if (f.name === "-i") out.push(effect("reads-file", f.at, f.value, "ssh -i reads a key"))
      }
      const host = p.operands[0]
      if (host !== undefined) out.push(effect("network", host.at, host.value, "ssh reaches its host"))
      return out
    }
  }),
  program("scp", "-3|-4|-6|-A|-B|-C|-O|-p|-q|-R|-r|-s|-T|-v|-c=|-D=|-F=|-i=|-J=|-l=|-o=|-P=|-S=|-X=", {}, {
    operands: "inert",
    refine: (p) => {
      const bad = sshO(p, "scp")
      if (bad !== undefined) return bad
      const out: Array<Effect> = []
      const recursive = p.found.some((f) => f.name === "-r")
      p.operands.forEach((o, n) => {
        const remote = o.value === undefined || /^[^/]*:/.test(o.value)
        if (remote) out.push(effect("network", o.at, o.value, "scp reaches a host"))
        else out.push(effect(n === p.operands.length - 1 ? "writes-file" : "reads-file", o.at, o.value, n === p.operands.length - 1 ? "scp writes its target" : "scp reads its source", { recursive }))
      })
      return out
    }
  }),
  program("rsync", "-v --verbose|--info=|--debug=|-q --quiet|--no-motd|-c --checksum|-a --archive|--no-OPTION|-r --recursive|-R --relative|--no-implied-dirs|-b --backup|--backup-dir=|--suffix=|-u --update|--inplace|--append|--append-verify|-d --dirs|--mkpath|-l --links|-L --copy-links|--copy-unsafe-links|--safe-links|--munge-links|-k --copy-dirlinks|-K --keep-dirlinks|-H --hard-links|-p --perms|-E --executability|--chmod=|-A --acls|-X --xattrs|-o --owner|-g --group|--devices|--specials|-D|-t --times|-U --atimes|-N --crtimes|-O --omit-dir-times|-J --omit-link-times|--super|--fake-super|-S --sparse|--preallocate|-n --dry-run|-W --whole-file|--checksum-choice=|-x --one-file-system|-B --block-size=|-e --rsh=|--rsync-path=|--existing|--ignore-existing|--remove-source-files|--del|--delete|--delete-before|--delete-during|--delete-delay|--delete-after|--delete-excluded|--ignore-missing-args|--delete-missing-args|--ignore-errors|--force|--max-delete=|--max-size=|--min-size=|--max-alloc=|--partial|--partial-dir=|--delay-updates|-m --prune-empty-dirs|--numeric-ids|--usermap=|--groupmap=|--chown=|--timeout=|--contimeout=|-I --ignore-times|--size-only|-@ --modify-window=|-T --temp-dir=|-y --fuzzy|--compare-dest=|--copy-dest=|--link-dest=|-z --compress|--compress-choice=|--compress-level=|--skip-compress=|-C --cvs-exclude|-f --filter=|-F|--exclude=|--exclude-from=|--include=|--include-from=|--files-from=|-0 --from0|-s --secluded-args|--trust-sender|--copy-as=|--address=|--port=|--sockopts=|--blocking-io|--outbuf=|--stats|-8 --8-bit-output|-h --human-readable|--progress|-P|-i --itemize-changes|-M --remote-option=|--out-format=|--log-file=|--log-file-format=|--password-file=|--early-input=|--list-only|--bwlimit=|--stop-after=|--stop-at=|--fsync|--write-batch=|--only-write-batch=|--read-batch=|--protocol=|--iconv=|--checksum-seed=|-4 --ipv4|-6 --ipv6|-V --version|--help", {}, {
    operands: "inert",
    refine: (p) => {
      const out: Array<Effect> = []
      for (const f of p.found) {
        if (f.name === "-e" || f.name === "--rsh") {
          if (f.value === undefined) return "rsync -e runs a computed command"
          out.push(effect("runs-command", f.at, f.value, "rsync -e runs a remote shell", { script: true }))
        }
        if (f.name === "--rsync-path" || f.name === "-M" || f.name === "--remote-option") out.push(effect("network", f.at, f.value, `rsync ${f.written} runs a program on the remote side`))
        if (["--log-file", "--write-batch", "--only-write-batch", "--backup-dir", "--partial-dir", "-T", "--temp-dir"].includes(f.name)) out.push(effect("writes-file", f.at, f.value, `rsync ${f.written} writes a file`))
        if (["--exclude-from", "--include-from", "--files-from", "--password-file", "--read-batch", "--early-input", "--compare-dest", "--copy-dest", "--link-dest"].includes(f.name)) out.push(effect("reads-file", f.at, f.value, `rsync ${f.written} reads a file`))
      }
      const recursive = p.found.some((f) => ["-r", "--recursive", "-a", "--archive"].includes(f.name))
      p.operands.forEach((o, n) => {
        const remote = o.value === undefined || /^[^/]*:/.test(o.value) || o.value.startsWith("rsync://")
        if (remote) out.push(effect("network", o.at, o.value, "rsync reaches a host"))
        else if (n === p.operands.length - 1 && p.operands.length > 1) out.push(effect("writes-file", o.at, o.value, "rsync writes its target", { recursive: true }))
        else out.push(effect("reads-file", o.at, o.value, "rsync reads its source", { recursive }))
      })
      if (p.found.some((f) => f.name === "--remove-source-files")) for (const o of p.operands.slice(0, -1)) out.push(effect("writes-file", o.at, o.value, "rsync --remove-source-files removes its source", { recursive: true }))
      return out
    }
  }),
  program("nc ncat netcat nc.openbsd nc.traditional socat telnet ftp sftp tftp", "", {}, {
    operands: "network", raw: true,
    refine: (p) => {
      if (p.argv.slice(1).some((w) => w === undefined || /^-[A-Za-z]*[ec]/.test(w) || /exec|system/i.test(w))) return `${p.argv[0]} -e/-c/EXEC runs a command`
      return [effect("network", 1, p.argv[1], `${p.argv[0]} reaches the network`)]
    }
  })
]
