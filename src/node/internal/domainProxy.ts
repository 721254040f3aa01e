/**
 * The per-domain network allowlist (`bash.allowDomains`, `--allow-domain`):
 * a filtering HTTP proxy on the host, and the bridge that makes it
 * reachable from a sandbox that has no network.
 *
 * The sandbox keeps its own empty network namespace (`--unshare-net`): a
 * command reaches nothing directly, whatever it tries. Only one door is
 * opened, as @anthropic-ai/sandbox-runtime does: a loopback TCP port inside
 * the namespace (`127.0.0.1:3128`, named by `HTTP_PROXY`/`HTTPS_PROXY`)
 * forwarded to this proxy's Unix socket on the host. The proxy reads the
 * host name of each request — `CONNECT host:port` for HTTPS and any
 * tunnelled protocol, the absolute URL of a plain HTTP request — and
 * connects only when the name is on the allowlist; anything else gets
 * `403`.
 *
 * How the bridge differs from sandbox-runtime: there, a `socat` inside the
 * sandbox connects to the proxy's socket bind-mounted in, which needs
 * `AF_UNIX` and so an exception in the seccomp filter (the filter cannot
 * tell one socket path from another). Here the bridge is started on the
 * host side, by toolgate, with `nsenter --net` into the sandbox's network
 * namespace (bubblewrap holds the command with `--block-fd` until the bridge
 * listens): it listens on the namespace's loopback and connects to the
 * proxy's socket through the host's file system. Nothing inside the sandbox
 * ever needs `AF_UNIX`, so the filter's `AF_UNIX` rule stays without any
 * exception, and the socket is not even visible inside (it lives in a
 * private 0700 directory under the host's temporary directory, which the
 * sandbox replaces with its own).
 *
 * What the allowlist does not do: it filters by the name the client asked
 * for, not by address; an allowed name that resolves to a loopback or
 * private address is reached there. An IP address is a name like any other:
 * refused unless listed.
 */
import { Effect, type Scope } from "effect"
import * as NodeFs from "node:fs"
import * as NodeHttp from "node:http"
import * as NodeNet from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"

/** The port the bridge listens on inside the sandbox's network namespace. */
export const bridgePort = 3128

/**
 * Whether `host` is allowed by `domains`: an exact name (`registry.npmjs.org`),
 * or `*.example.com` for every subdomain of example.com (not example.com
 * itself). Case and a trailing dot do not matter.
 */
export const isAllowed = (domains: ReadonlyArray<string>, host: string): boolean => {
  const name = host.toLowerCase().replace(/\.$/, "").replace(/^\[(.*)\]$/, "$1")
  return domains.some((domain) => {
    const d = domain.toLowerCase().replace(/\.$/, "")
    return d.startsWith("*.") ? name.endsWith(d.slice(1)) && name.length > d.length - 1 : name === d
  })
}

/** A domain as `--allow-domain` takes it: a host name or `*.` and one, no scheme, port or path. */
export const isDomain = (domain: string): boolean =>
  /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(domain) ||
  /^\d{1,3}(\.\d{1,3}){3}$/.test(domain)

const splitHostPort = (target: string, defaultPort: number): { host: string; port: number } | undefined => {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(target)
  if (m === null) return undefined
  const port = m[2] === undefined ? defaultPort : Number(m[2])
  return port > 0 && port < 65536 ? { host: m[1]!.replace(/^\[(.*)\]$/, "$1"), port } : undefined
}

const refuse = (socket: NodeNet.Socket | import("node:stream").Duplex, host: string) => {
  socket.end(
    `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n` +
      `toolgate: ${host} is not on the sandbox's network allowlist (--allow-domain)\n`
  )
}

export interface Proxy {
  /** The proxy's Unix socket on the host. */
  readonly socket: string
}

/**
 * Starts the filtering proxy on a fresh Unix socket, for the life of the
 * scope. `onDecision` hears every request (host, allowed) for logging and
 * tests.
 */
export const make = (
  domains: ReadonlyArray<string>,
  onDecision: (host: string, allowed: boolean) => void = () => {}
): Effect.Effect<Proxy, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ readonly server: NodeHttp.Server; readonly dir: string; readonly socket: string }>((resume) => {
      const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "toolgate-proxy-"))
      const socket = NodePath.join(dir, "proxy.sock")
      const server = NodeHttp.createServer((req, res) => {
        // A proxied plain-HTTP request carries an absolute URL.
        let url: URL
        try {
          url = new URL(req.url ?? "")
        } catch {
          res.writeHead(400).end("toolgate: not a proxy request\n")
          return
        }
        const allowed = url.protocol === "http:" && isAllowed(domains, url.hostname)
        onDecision(url.hostname, allowed)
        if (!allowed) {
          res.writeHead(403, { "content-type": "text/plain" }).end(
            `toolgate: ${url.hostname} is not on the sandbox's network allowlist (--allow-domain)\n`
          )
          return
        }
        const headers = { ...req.headers }
        delete headers["proxy-connection"]
        delete headers["proxy-authorization"]
        const upstream = NodeHttp.request({
          host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
          port: url.port === "" ? 80 : Number(url.port),
          method: req.method,
          path: `${url.pathname}${url.search}`,
          headers
        }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        })
        upstream.on("error", (error) => {
          if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" })
          res.end(`toolgate: ${url.hostname}: ${error.message}\n`)
        })
        req.pipe(upstream)
      })
      server.on("connect", (req: NodeHttp.IncomingMessage, client: import("node:stream").Duplex, head: Buffer) => {
        const target = splitHostPort(req.url ?? "", 443)
        const allowed = target !== undefined && isAllowed(domains, target.host)
        onDecision(target?.host ?? String(req.url), allowed)
        if (!allowed) return refuse(client, target?.host ?? String(req.url))
        const upstream = NodeNet.connect(target.port, target.host, () => {
          client.write("HTTP/1.1 200 Connection Established\r\n\r\n")
          if (head.length > 0) upstream.write(head)
          upstream.pipe(client)
          client.pipe(upstream)
        })
        upstream.on("error", () => client.destroy())
        client.on("error", () => upstream.destroy())
      })
      server.on("clientError", (_, socket) => socket.destroy())
      server.listen(socket, () => resume(Effect.succeed({ server, dir, socket })))
    }),
    ({ dir, server }) =>
      Effect.promise(() =>
        new Promise<void>((done) => {
          server.closeAllConnections()
          server.close(() => done())
        })
      ).pipe(Effect.andThen(Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))))
  ).pipe(Effect.map(({ socket }) => ({ socket })))

/**
 * The bridge, run by Node inside the sandbox's network namespace (entered
 * from the host with `nsenter`): listens on the namespace's loopback and
 * pipes each connection to the proxy's socket. Prints `ready` once
 * listening. Arguments: the proxy's socket, the port.
 */
export const bridgeScript = `const net = require("node:net")
const [socket, port] = process.argv.slice(-2)
net.createServer((client) => {
  const upstream = net.connect(socket)
  client.on("error", () => upstream.destroy())
  upstream.on("error", () => client.destroy())
  client.pipe(upstream).pipe(client)
}).listen(Number(port), "127.0.0.1", () => process.stdout.write("ready\\n"))`

/** Variables that point a command's HTTP clients at the bridge (both spellings: curl reads the lower-case ones). */
export const environment = (): Record<string, string> => {
  const url = `http://127.0.0.1:${bridgePort}`
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    ALL_PROXY: url,
    all_proxy: url,
    NO_PROXY: "",
    no_proxy: ""
  }
}
