/**
 * What `toolgate serve` runs once its flags are read (loaded only then, so
 * the other subcommands do not pay for the HTTP modules): answers Claude
 * Code's HTTP hooks (`type: "http"`) on
 * loopback. One long-lived process loads the policy once, so a hook costs a
 * loopback round trip instead of a Node start; a `PermissionRequest` the
 * policy does not settle goes to a person in the web console (`--approver
 * web`), so Claude Code's permission prompts can be answered from the
 * browser.
 *
 * Every request answers 200 with a JSON body, failures included: Claude
 * Code treats a non-2xx answer as a non-blocking error and runs the tool,
 * so a wrong token, a foreign `Host` or a payload that cannot be read get
 * Claude Code's deny answer instead. (Claude Code also runs the tool when
 * the server is down; the command hook has no such gap — see
 * docs/claude-code.md.)
 *
 * @since 0.3.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Context, Data, Effect, FileSystem, Layer, Option, Redacted } from "effect"
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import * as Crypto from "node:crypto"
import { createServer } from "node:http"
import * as NodePath from "node:path"
import type * as Approval from "../Approval.ts"
import * as PolicyFile from "../policy/PolicyFile.ts"
import type * as PolicyRules from "../policy/PolicyRules.ts"
import { startConsole } from "./console.ts"
import { environment, policyFiles } from "./environment.ts"
import * as Claude from "./hook/claude.ts"

/**
 * The parsed flags of `toolgate serve`.
 *
 * @since 0.3.0
 */
export interface Flags {
  readonly policy: ReadonlyArray<string>
  readonly mode: Option.Option<PolicyRules.Mode>
  readonly root: Option.Option<string>
  readonly hookPort: number
  readonly tokenFile: Option.Option<string>
  readonly approver: "none" | "web"
  readonly port: Option.Option<number>
  readonly unmatched: Claude.Unmatched
  readonly audit: Option.Option<string>
}

/**
 * A running hook server: where Claude Code posts, and the token it sends.
 *
 * @since 0.3.0
 */
export interface Server {
  readonly url: string
  readonly port: number
  readonly token: Redacted.Redacted<string>
  readonly console: Option.Option<{ readonly url: string }>
}

/**
 * Why the hook server could not start (the policy and the port fail with
 * their own errors).
 *
 * @since 0.3.0
 */
export class ServeError extends Data.TaggedError("ServeError")<{ readonly message: string }> {}

const sameToken = (given: string | undefined, token: Redacted.Redacted<string>): boolean => {
  if (given === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(Redacted.value(token))
  return a.length === b.length && Crypto.timingSafeEqual(a, b)
}

const json = (reply: Claude.Reply) =>
  // An HTTP hook has no exit status: a blocking reply without a JSON answer
  // blocks through the generic `decision: "block"` form.
  HttpServerResponse.jsonUnsafe(reply.body ?? (reply.exitCode === 2 ? { decision: "block", reason: reply.stderr } : {}))

/** The decision a person gave in the console, as Claude Code reads it. */
const fromDecision = (decision: Approval.ApprovalDecision): Claude.Reply =>
  decision._tag === "Allow"
    ? Claude.permissionReply({ allow: true, updatedInput: decision.params })
    : Claude.permissionReply({ allow: false, reason: decision.reason, stop: decision.stop === true })

let requests = 0

/**
 * The reply to one posted payload: the policy's verdict, and for a
 * `PermissionRequest` it leaves open, the approver's decision.
 */
const reply = (
  gate: Claude.Gate,
  approver: Option.Option<Approval.ApprovalHandler>,
  audit: (payload: Claude.ToolPayload | Claude.PostPayload, verdict: Parameters<typeof Claude.replyFor>[2] | undefined) => Effect.Effect<void>,
  text: string
): Effect.Effect<Claude.Reply> =>
  Effect.gen(function*() {
    const payload = Claude.readPayload(text)
    if (payload._tag === "Bad") return Claude.failure(payload.error)
    if (payload._tag === "Other") return Claude.noOpinion
    if (payload._tag === "Post") {
      yield* audit(payload.payload, undefined)
      return Claude.noOpinion
    }
    const verdict = yield* Claude.judge(gate, payload.payload)
    yield* audit(payload.payload, verdict)
    const answer = Claude.replyFor(gate, payload.payload, verdict)
    if (payload.payload.hook_event_name !== "PermissionRequest" || verdict._tag !== "Ask" || Option.isNone(approver)) return answer
    const call = { id: payload.payload.tool_use_id ?? `claude-${++requests}`, name: payload.payload.tool_name, params: payload.payload.tool_input }
    const decision = yield* approver.value.approve({
      call,
      input: payload.payload.tool_input,
      // Claude Code asks only for tools it does not treat as read-only
      toolClass: "Mutating",
      reason: verdict.reason ?? "Claude Code asks for permission",
      ...(verdict.match === undefined ? {} : { match: verdict.match }),
      origin: { depth: 0, parents: [] }
    })
    return fromDecision(decision)
  }).pipe(Effect.catchCause((cause) => Effect.succeed(Claude.failure(String(cause).split("\n")[0] ?? "an unexpected error"))))

/**
 * Starts the hook server (and the console, with `--approver web`) for the
 * rest of the scope. Fails when the policy cannot be loaded: the server
 * never starts on a policy it cannot read.
 *
 * @since 0.3.0
 */
export const start = Effect.fn("toolgate.serve.start")(function*(flags: Flags) {
  const files = yield* policyFiles(flags.policy)
  const policy = yield* PolicyFile.load(files)
  const root = NodePath.resolve(Option.getOrElse(flags.root, () => process.cwd()))
  const env = yield* environment(root, undefined)
  const gate: Claude.Gate = {
    rules: policy.rules,
    env,
    mode: Option.getOrUndefined(flags.mode),
    unmatched: flags.unmatched,
    rootGiven: Option.isSome(flags.root)
  }
  const fs = yield* FileSystem.FileSystem
  const token = Redacted.make(
    Option.isSome(flags.tokenFile)
      ? (yield* fs.readFileString(flags.tokenFile.value)).trim()
      : process.env["TOOLGATE_TOKEN"] ?? Crypto.randomBytes(24).toString("base64url")
  )
  if (Redacted.value(token).length < 16) return yield* Effect.fail(new ServeError({ message: "the token must be at least 16 characters" }))
  const console = flags.approver === "web" ? Option.some(yield* startConsole(flags.port, () => undefined, "toolgate serve")) : Option.none()
  const approver = Option.map(console, (c) => c.handler)
  const audit = Option.match(flags.audit, {
    onNone: () => () => Effect.void,
    onSome: (file) => (payload: Claude.ToolPayload | Claude.PostPayload, verdict: Parameters<typeof Claude.replyFor>[2] | undefined) =>
      verdict?._tag === "Ask" ? Effect.void : Effect.flatMap(
        Effect.promise(() => import("./hook/audit.ts")),
        ({ hookRecord }) => fs.writeFileString(file, hookRecord(payload, verdict, new Date().toISOString()) + "\n", { flag: "a" })
      ).pipe(Effect.catch((e) => Effect.logError(`toolgate serve: could not write the audit log ${file}`, e)))
  })
  const address = { port: flags.hookPort }
  const blocked = (reason: string) => json(Claude.failure(reason))
  const hook = HttpRouter.add("POST", "/hooks/claude", (request) =>
    Effect.gen(function*() {
      // DNS rebinding: only a request addressed to loopback by number or name
      const host = request.headers["host"]
      if (host !== `127.0.0.1:${address.port}` && host !== `localhost:${address.port}`) return blocked("the request's Host is not this loopback server")
      const given = request.headers["authorization"]?.replace(/^Bearer /, "") ?? request.headers["x-toolgate-token"]
      if (!sameToken(given, token)) return blocked("the request's token is wrong (set TOOLGATE_TOKEN as toolgate serve printed)")
      const text = yield* request.text
      return json(yield* reply(gate, approver, audit, text))
    }).pipe(Effect.catchCause(() => Effect.succeed(blocked("the request could not be read")))))
  const served = HttpRouter.serve(hook, { disableLogger: true, disableListenLog: true }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: address.port, host: "127.0.0.1" }))
  )
  const context = yield* Layer.build(served)
  const listening = Context.get(context, HttpServer.HttpServer).address
  if (listening._tag !== "UnixPathAddress") address.port = listening.port
  return {
    url: `http://127.0.0.1:${address.port}/hooks/claude`,
    port: address.port,
    token,
    console: Option.map(console, (c) => ({ url: c.url }))
  } satisfies Server
})

