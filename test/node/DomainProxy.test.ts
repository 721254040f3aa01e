import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as NodeHttp from "node:http"
import * as NodeNet from "node:net"
import type { AddressInfo } from "node:net"
import * as DomainProxy from "../../src/node/internal/domainProxy.ts"

describe("the domain allowlist", () => {
  it("matches exact names and *. subdomains, case and trailing dot aside; an address only when listed", () => {
    const domains = ["registry.npmjs.org", "*.example.com", "10.0.0.1"]
    expect(["registry.npmjs.org", "REGISTRY.npmjs.org.", "a.example.com", "a.b.example.com", "10.0.0.1"]
      .every((host) => DomainProxy.isAllowed(domains, host))).toBe(true)
    expect(["npmjs.org", "evil-registry.npmjs.org", "example.com", "badexample.com", "registry.npmjs.org.evil.com", "10.0.0.2"]
      .some((host) => DomainProxy.isAllowed(domains, host))).toBe(false)
    expect(["https://x.org", "x.org:443", "x.org/path", "*", "*.", ""].some(DomainProxy.isDomain)).toBe(false)
  })
})

/** One raw exchange with the proxy over its Unix socket: what it answers. */
const exchange = (socket: string, request: string) =>
  new Promise<string>((resolve) => {
    let answer = ""
    const client = NodeNet.connect(socket, () => client.write(request))
    client.on("data", (chunk) => {
      answer += chunk
      if (answer.includes("reached")) client.end()
    })
    client.on("close", () => resolve(answer))
    client.on("error", () => resolve(answer))
  })

describe("the domain proxy", () => {
  it.live("forwards HTTP and tunnels CONNECT to an allowed name; answers 403 to any other, never connecting", () =>
    Effect.gen(function*() {
      let hits = 0
      const server = NodeHttp.createServer((_, res) => {
        hits++
        res.end("reached\n")
      })
      yield* Effect.acquireRelease(
        Effect.promise(() => new Promise<void>((done) => server.listen(0, "127.0.0.1", () => done()))),
        () => Effect.promise(() => new Promise<void>((done) => server.close(() => done())))
      )
      const port = (server.address() as AddressInfo).port
      const decisions: Array<string> = []
      const proxy = yield* DomainProxy.make(["localhost"], (host, allowed) => decisions.push(`${host}:${allowed}`))
      const get = (host: string) => `GET http://${host}:${port}/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`
      const connect = (host: string) => `CONNECT ${host}:${port} HTTP/1.1\r\n\r\nGET / HTTP/1.0\r\n\r\n`
      expect(yield* Effect.promise(() => exchange(proxy.socket, get("localhost")))).toContain("reached")
      expect(yield* Effect.promise(() => exchange(proxy.socket, connect("localhost")))).toMatch(/200 Connection Established[\s\S]*reached/)
      expect(hits).toBe(2)
      expect(yield* Effect.promise(() => exchange(proxy.socket, get("127.0.0.1")))).toMatch(/^HTTP\/1.1 403/)
      expect(yield* Effect.promise(() => exchange(proxy.socket, connect("127.0.0.1")))).toMatch(/^HTTP\/1.1 403/)
      expect(yield* Effect.promise(() => exchange(proxy.socket, connect("localhost.evil.test")))).toMatch(/^HTTP\/1.1 403/)
      expect(hits).toBe(2)
      expect(decisions).toEqual(["localhost:true", "localhost:true", "127.0.0.1:false", "127.0.0.1:false", "localhost.evil.test:false"])
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)))
})
