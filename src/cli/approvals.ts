/**
 * `toolgate approvals`: lists and answers the requests waiting in a durable
 * store, from any process (`toolgate run --store` records them there).
 *
 * - `list [--json]`: the pending requests, oldest first;
 * - `show ID [--json]`: one request in any status;
 * - `allow ID`, `deny ID [--reason TEXT] [--stop]`, `withdraw ID`: answer
 *   one; anything that is not pending is refused with exit status 1 and why;
 * - `prune --older-than DURATION`: deletes answered and withdrawn requests
 *   decided longer ago than that, with the engine's rows of their finished
 *   executions;
 * - `console [--port N]`: a web console for every pending request of the
 *   store, from every run and process, answered through the store.
 *
 * The store's engine (effect/cluster, effect/workflow) is loaded only when
 * one of these runs.
 *
 * @since 0.3.0
 */
import { Console, Duration, Effect, Layer, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Approval from "../Approval.ts"
import type * as DurableApprovalModule from "../durable/DurableApproval.ts"
import type * as DurableEngineModule from "../durable/DurableEngine.ts"
import { Exit, exitCodes } from "./check.ts"

const storeFlag = Flag.String("store").pipe(Flag.withDescription("the durable store: sqlite:FILE or postgres://…"))
const jsonFlag = Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("print JSON"))
const idArgument = Argument.String("id").pipe(Argument.withDescription("the request's id, RUN/CALL as list prints it"))

const bad = (message: string) =>
  Effect.flatMap(Console.error(`toolgate approvals: ${message}`), () => Effect.fail(new Exit({ code: exitCodes.BadInput })))

const refused = (message: string) =>
  Effect.flatMap(Console.error(`toolgate approvals: ${message}`), () => Effect.fail(new Exit({ code: 1 })))

/** Runs `use` with the durable modules and a client engine on `store`. */
const withStore = <A>(
  store: string,
  use: (modules: { readonly DurableApproval: typeof DurableApprovalModule }) => Effect.Effect<A, Exit, DurableEngineModule.Services>
) =>
  Effect.gen(function*() {
    const { DurableApproval, DurableEngine } = yield* Effect.promise(() => import("../durable/index.ts"))
    return yield* Effect.scoped(Effect.gen(function*() {
      const engine = yield* Layer.build(DurableEngine.client({ store })).pipe(Effect.catchTag("EngineError", (e) => bad(e.message)))
      return yield* use({ DurableApproval }).pipe(Effect.provideContext(engine))
    }))
  })

type Row = DurableApprovalModule.Row

/** A row as `--json` prints it. */
const json = (row: Row) => {
  const request = row.request as { call?: { params?: unknown }; reason?: unknown }
  return {
    id: row.id,
    runId: row.runId,
    callId: row.callId,
    tool: row.tool,
    params: request.call?.params,
    reason: request.reason,
    status: row.status,
    decision: row.decision,
    decidedBy: row.decidedBy,
    createdAt: new Date(row.createdAt).toISOString(),
    decidedAt: row.decidedAt === null ? null : new Date(row.decidedAt).toISOString()
  }
}

const line = (row: Row) => {
  const shown = json(row)
  return `${row.id}  ${row.tool}  ${JSON.stringify(shown.params)}  ${row.status}  since ${shown.createdAt}`
}

const list = Command.make("list", { store: storeFlag, json: jsonFlag }, (flags) =>
  withStore(flags.store, ({ DurableApproval }) =>
    Effect.gen(function*() {
      const rows = yield* DurableApproval.pending
      if (flags.json) return yield* Console.log(JSON.stringify(rows.map(json)))
      if (rows.length === 0) return yield* Console.log("no pending requests")
      for (const row of rows) yield* Console.log(line(row))
    }))).pipe(Command.withDescription("List the pending requests, oldest first"))

const show = Command.make("show", { store: storeFlag, json: jsonFlag, id: idArgument }, (flags) =>
  withStore(flags.store, ({ DurableApproval }) =>
    Effect.gen(function*() {
      const row = yield* DurableApproval.get(flags.id)
      if (Option.isNone(row)) return yield* refused(`there is no request ${flags.id}`)
      yield* Console.log(flags.json ? JSON.stringify(json(row.value)) : JSON.stringify(json(row.value), null, 2))
    }))).pipe(Command.withDescription("Show one request, in any status"))

const by = () => `toolgate approvals (${process.env["USER"] ?? "unknown user"}, pid ${process.pid})`

const answerCommand = (name: "allow" | "deny") =>
  Command.make(name, {
    store: storeFlag,
    id: idArgument,
    reason: Flag.String("reason").pipe(Flag.optional, Flag.withDescription("deny: the reason the model reads")),
    stop: Flag.Boolean("stop").pipe(Flag.withDefault(false), Flag.withDescription("deny: also stop the run after this batch"))
  }, (flags) =>
    withStore(flags.store, ({ DurableApproval }) =>
      Effect.gen(function*() {
        if (name === "allow" && (Option.isSome(flags.reason) || flags.stop)) return yield* bad("--reason and --stop go with deny")
        const decision = name === "allow"
          ? Approval.ApprovalDecision.Allow()
          : Approval.ApprovalDecision.Deny({ reason: Option.getOrElse(flags.reason, () => "denied by a reviewer"), stop: flags.stop })
        const result = yield* DurableApproval.answer(flags.id, decision, { by: by() })
        if (result._tag === "Refused") return yield* refused(`${flags.id} was not answered: ${result.reason}`)
        yield* Console.log(`${flags.id}: ${name === "allow" ? "allowed" : "denied"}`)
      }))).pipe(Command.withDescription(name === "allow" ? "Allow a pending request" : "Deny a pending request"))

const withdraw = Command.make("withdraw", { store: storeFlag, id: idArgument }, (flags) =>
  withStore(flags.store, ({ DurableApproval }) =>
    Effect.gen(function*() {
      if (!(yield* DurableApproval.withdraw(flags.id))) {
        const row = yield* DurableApproval.get(flags.id)
        return yield* refused(`${flags.id} was not withdrawn: ${Option.isNone(row) ? "there is no such request" : `it is ${row.value.status}`}`)
      }
      yield* Console.log(`${flags.id}: withdrawn`)
    }))).pipe(Command.withDescription("Withdraw a pending request (later answers are refused)"))

const prune = Command.make("prune", {
  store: storeFlag,
  olderThan: Flag.String("older-than").pipe(Flag.withDescription("e.g. \"30 days\", \"12 hours\""))
}, (flags) =>
  Effect.gen(function*() {
    const age = Duration.fromInput(flags.olderThan as Duration.Input)
    if (Option.isNone(age)) return yield* bad(`--older-than takes a duration such as "30 days", not ${JSON.stringify(flags.olderThan)}`)
    return yield* withStore(flags.store, ({ DurableApproval }) =>
      Effect.gen(function*() {
        const removed = yield* DurableApproval.prune(new Date(Date.now() - Duration.toMillis(age.value)))
        yield* Console.log(
          `removed ${removed.requests} answered or withdrawn request${removed.requests === 1 ? "" : "s"} ` +
            `and ${removed.engineRows} engine row${removed.engineRows === 1 ? "" : "s"} of their finished executions`
        )
      }))
  })).pipe(Command.withDescription("Delete answered and withdrawn requests decided longer ago than --older-than"))

const consoleCommand = Command.make("console", {
  store: storeFlag,
  port: Flag.Int("port").pipe(Flag.optional, Flag.withDescription("the port to listen on (default: a free one)"))
}, (flags) =>
  withStore(flags.store, ({ DurableApproval }) =>
    Effect.gen(function*() {
      const { WebConsole } = yield* Effect.promise(() => import("../node/index.ts"))
      const reviewer = `toolgate approvals console (${process.env["USER"] ?? "unknown user"}, pid ${process.pid})`
      const services = yield* Effect.context<DurableEngineModule.Services>()
      const web = yield* WebConsole.polling({
        pending: Effect.map(DurableApproval.pending, (rows) => rows.map((row) => ({ ...row, since: row.createdAt }))).pipe(Effect.provideContext(services)),
        answer: (id, decision) =>
          Effect.map(DurableApproval.answer(id, decision, { by: reviewer }), (r) => r._tag === "Answered").pipe(Effect.provideContext(services))
      }, {
        title: `toolgate approvals: ${flags.store.replace(/\/\/[^@/]*@/, "//")}`,
        ...(Option.isSome(flags.port) ? { port: flags.port.value } : {})
      }).pipe(Effect.catchTag("ServeError", (e) => bad(`cannot listen: ${e.message}`)))
      yield* Console.error(`toolgate approvals: every pending request of the store, answerable at ${web.url}`)
      return yield* Effect.never
    }).pipe(Effect.scoped))).pipe(Command.withDescription("Serve a web console for every pending request of the store, from every run (until interrupted)"))

/**
 * The `approvals` subcommand.
 *
 * @since 0.3.0
 */
export const approvals = Command.make("approvals").pipe(
  Command.withDescription("List and answer the requests waiting in a durable store (toolgate run --store)"),
  Command.withSubcommands([list, show, answerCommand("allow"), answerCommand("deny"), withdraw, prune, consoleCommand])
)
