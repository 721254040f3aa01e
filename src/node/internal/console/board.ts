/**
 * What the web console shows: the pending approvals (one card each), the
 * recent decisions, and a PubSub of changes for the SSE streams.
 *
 * It is built on `Approval.queueBridge`: one fiber takes every request off
 * the bridge as it arrives and puts it on the board, so a hundred waiting
 * calls are a hundred cards, answerable in any order. A request whose caller
 * stopped waiting (timeout, cancellation, an interrupted run) is withdrawn:
 * its card leaves the board and every open page is told.
 */
import { Duration, Effect, Exit, Option, PubSub, Schedule, Schema, type Scope } from "effect"
import * as Approval from "../../../Approval.ts"
import type * as ToolEvents from "../../../ToolEvents.ts"
import * as ToolPolicy from "../../../ToolPolicy.ts"

/** A pending approval as the page shows it. */
export interface Card {
  readonly id: string
  readonly callId: string
  readonly tool: string
  readonly toolClass: string
  readonly description: string | undefined
  readonly params: unknown
  readonly reason: string | undefined
  readonly rule: string | undefined
  readonly origin: { readonly depth: number; readonly parents: ReadonlyArray<string> }
  readonly since: number
}

/** A decision in the recent list. */
export interface Recent {
  readonly id: string
  readonly callId: string
  readonly tool: string
  readonly verdict: "allowed" | "denied" | "withdrawn"
  readonly detail: string | undefined
  readonly at: number
  /** What then happened to the call, from the executor's record (when the console sees its events). */
  readonly outcome?: Outcome | undefined
}

/**
 * What the executor recorded for a call after the reviewer's answer: how it
 * ended (`Succeeded`, `Failed`, `PolicyDenied` when the policy re-checked
 * edited params and refused them, ...), whether the model sees an error,
 * and the params the tool really ran with when they were edited.
 */
export interface Outcome {
  readonly outcome: string
  readonly isError: boolean
  readonly reason: string | undefined
  readonly executedParams: unknown
}

export type BoardEvent =
  | { readonly type: "pending"; readonly card: Card }
  | { readonly type: "withdrawn"; readonly id: string; readonly recent: Recent }
  | { readonly type: "decided"; readonly id: string; readonly recent: Recent }
  | { readonly type: "outcome"; readonly id: string; readonly recent: Recent }

/** What a reviewer sends for one card. */
export const DecisionBody = Schema.Union([
  Schema.Struct({
    action: Schema.Literal("allow"),
    remember: Schema.optional(Schema.Boolean),
    params: Schema.optional(Schema.Unknown)
  }),
  Schema.Struct({
    action: Schema.Literal("deny"),
    reason: Schema.String,
    stop: Schema.optional(Schema.Boolean)
  })
])
export type DecisionBody = typeof DecisionBody.Type

export type DecideResult =
  | { readonly _tag: "Decided" }
  | { readonly _tag: "Gone" }
  | { readonly _tag: "InvalidParams"; readonly message: string }

/** What the pages read and answer. */
export interface Board {
  readonly snapshot: Effect.Effect<{ readonly pending: ReadonlyArray<Card>; readonly recent: ReadonlyArray<Recent> }>
  readonly subscribe: Effect.Effect<PubSub.Subscription<BoardEvent>, never, Scope.Scope>
  readonly decide: (id: string, body: DecisionBody) => Effect.Effect<DecideResult>
}

/** A board of the requests of this process, and the approval handler that puts them on it. */
export interface LocalBoard extends Board {
  readonly handler: Approval.ApprovalHandler
}

const cardOf = (id: string, request: Approval.ApprovalRequest, now: number): Card => ({
  id,
  callId: request.call.id,
  tool: request.call.name,
  toolClass: request.toolClass,
  description: request.description,
  // the params as the model sent them: what an edit starts from
  params: request.input,
  reason: request.reason,
  rule: request.match === undefined ? undefined : ToolPolicy.describeMatch(request.match),
  origin: request.origin,
  since: now
})

/** Why edited params do not fit the tool's parameters Schema, if they do not. */
const validate = (schema: Schema.Top | undefined, params: unknown): string | undefined => {
  if (schema === undefined) return undefined
  const exit = Schema.decodeUnknownExit(schema as Schema.Decoder<unknown>)(params, { onExcessProperty: "error" })
  if (Exit.isSuccess(exit)) return undefined
  const failure = exit.cause.reasons.find((r) => r._tag === "Fail")
  return failure?._tag === "Fail" ? String((failure.error as Schema.SchemaError).message) : "the params do not fit the tool"
}

// A reviewer's edited params that do not fit the tool: the answer the page gets instead.
const editProblem = (
  parameters: (tool: string) => Schema.Top | undefined,
  tool: string,
  body: DecisionBody
): DecideResult | undefined => {
  if (body.action !== "allow" || body.params === undefined) return undefined
  const problem = validate(parameters(tool), body.params)
  return problem === undefined ? undefined : { _tag: "InvalidParams", message: problem }
}

const decisionOf = (body: DecisionBody): Approval.ApprovalDecision =>
  body.action === "allow"
    ? Approval.ApprovalDecision.Allow({
      ...(body.params !== undefined ? { params: body.params } : {}),
      ...(body.remember === true ? { remember: true } : {})
    })
    : Approval.ApprovalDecision.Deny({ reason: body.reason, ...(body.stop === true ? { stop: true } : {}) })

const recentOf = (id: string, callId: string, tool: string, body: DecisionBody): Recent => ({
  id,
  callId,
  tool,
  verdict: body.action === "allow" ? "allowed" : "denied",
  detail: body.action === "allow"
    ? [body.params !== undefined ? "with edited params" : "", body.remember === true ? "remembered for the session" : ""]
      .filter(Boolean).join(", ") || undefined
    : `${body.reason}${body.stop === true ? " (and stop)" : ""}`,
  at: Date.now()
})

const outcomeOf = (record: ToolEvents.CallRecord): Outcome => {
  const outcome = record.result.outcome
  return {
    outcome: outcome._tag,
    isError: record.isError,
    reason: "reason" in outcome ? outcome.reason : "message" in outcome ? outcome.message : undefined,
    executedParams: record.edited ? record.executedParams : undefined
  }
}

export const make = (options: {
  readonly recent: number
  readonly parameters: (tool: string) => Schema.Top | undefined
  /** The run's tool events: each decided call's entry then shows how the call really ended. */
  readonly events?: PubSub.PubSub<ToolEvents.ToolEvent> | undefined
}): Effect.Effect<LocalBoard, never, Scope.Scope> =>
  Effect.gen(function*() {
    const bridge = yield* Approval.queueBridge
    const hub = yield* PubSub.unbounded<BoardEvent>()
    // Plain collections: every read and update is one synchronous step.
    const cards = new Map<string, { readonly card: Card; readonly pending: Approval.PendingApproval }>()
    const recent: Array<Recent> = []
    let sequence = 0

    const remember = (entry: Recent) => {
      recent.unshift(entry)
      if (recent.length > options.recent) recent.length = options.recent
    }

    const watchWithdrawal = (id: string, pending: Approval.PendingApproval) =>
      Effect.andThen(pending.withdrawn, () =>
        Effect.suspend(() => {
          const held = cards.get(id)
          if (held === undefined) return Effect.void
          cards.delete(id)
          const entry: Recent = {
            id,
            callId: held.card.callId,
            tool: held.card.tool,
            verdict: "withdrawn",
            detail: "decided elsewhere (timed out or cancelled)",
            at: Date.now()
          }
          remember(entry)
          return PubSub.publish(hub, { type: "withdrawn", id, recent: entry })
        }))

    yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
      const pending = yield* bridge.take
      const id = `a${++sequence}`
      const card = cardOf(id, pending.request, Date.now())
      cards.set(id, { card, pending })
      yield* PubSub.publish(hub, { type: "pending", card })
      yield* Effect.forkScoped(watchWithdrawal(id, pending))
    })))

    const decide = (id: string, body: DecisionBody): Effect.Effect<DecideResult> =>
      Effect.gen(function*() {
        const held = cards.get(id)
        if (held === undefined) return { _tag: "Gone" } as const
        const invalid = editProblem(options.parameters, held.card.tool, body)
        if (invalid !== undefined) return invalid
        const accepted = yield* held.pending.decide(decisionOf(body))
        if (!accepted || !cards.delete(id)) return { _tag: "Gone" } as const
        const entry = recentOf(id, held.card.callId, held.card.tool, body)
        remember(entry)
        yield* PubSub.publish(hub, { type: "decided", id, recent: entry })
        return { _tag: "Decided" } as const
      })

    // The answer is not the end of the story: an edit the policy re-checks
    // can still be denied, the tool can fail. Each Finished record updates
    // the entry of the decision that let its call through.
    if (options.events !== undefined) {
      const finished = yield* PubSub.subscribe(options.events)
      yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
        const event = yield* PubSub.take(finished)
        if (event._tag !== "Finished") return
        const index = recent.findIndex((r) => r.callId === event.call.id && r.verdict === "allowed" && r.outcome === undefined)
        if (index < 0) return
        const entry: Recent = { ...recent[index]!, outcome: outcomeOf(event.record) }
        recent[index] = entry
        yield* PubSub.publish(hub, { type: "outcome", id: entry.id, recent: entry })
      })))
    }

    return {
      handler: bridge.handler,
      snapshot: Effect.sync(() => ({ pending: Array.from(cards.values(), (c) => c.card), recent: [...recent] })),
      subscribe: PubSub.subscribe(hub),
      decide
    }
  })

/** A request kept elsewhere (a durable store), as {@link polling} lists it. */
export interface Kept {
  /** the request's id where it is kept (`RUN/CALL`) */
  readonly id: string
  readonly runId: string
  readonly callId: string
  readonly tool: string
  /** the encoded `ApprovalRequest` */
  readonly request: unknown
  readonly since: number
}

const decodeRequest = Schema.decodeUnknownOption(Approval.ApprovalRequest)

const keptCard = (id: string, kept: Kept): Card => {
  const request = decodeRequest(kept.request)
  const card: Card = Option.isSome(request)
    ? cardOf(id, request.value, kept.since)
    : {
      id,
      callId: kept.callId,
      tool: kept.tool,
      toolClass: "Mutating",
      description: undefined,
      params: (kept.request as { readonly input?: unknown } | null)?.input,
      reason: "the request as stored could not be read in full",
      rule: undefined,
      origin: { depth: 0, parents: [] },
      since: kept.since
    }
  return { ...card, description: [`run ${kept.runId}`, card.description].filter(Boolean).join(": ") }
}

/**
 * A board of requests kept elsewhere, read every `every` and answered
 * where they are kept: `toolgate approvals console` shows every pending
 * request of a durable store, from every run and every process, and its
 * answers go through the store's own rules (the first answer wins; an
 * answer to a request withdrawn or answered elsewhere is refused). A card
 * whose request left the list was answered, withdrawn or timed out
 * elsewhere. Pages see card ids of their own (`s1`, `s2`…): a store's
 * `RUN/CALL` ids hold a slash.
 */
export const polling = (options: {
  readonly recent: number
  readonly parameters: (tool: string) => Schema.Top | undefined
  readonly every: Duration.Input
  readonly pending: Effect.Effect<ReadonlyArray<Kept>>
  readonly answer: (id: string, decision: Approval.ApprovalDecision) => Effect.Effect<boolean>
}): Effect.Effect<Board, never, Scope.Scope> =>
  Effect.gen(function*() {
    const hub = yield* PubSub.unbounded<BoardEvent>()
    const cards = new Map<string, { readonly card: Card; readonly kept: Kept }>()
    const byKept = new Map<string, string>()
    const recent: Array<Recent> = []
    let sequence = 0
    const remember = (entry: Recent) => {
      recent.unshift(entry)
      if (recent.length > options.recent) recent.length = options.recent
    }
    const drop = (id: string) => {
      const held = cards.get(id)
      if (held === undefined) return undefined
      cards.delete(id)
      byKept.delete(held.kept.id)
      return held
    }

    const refresh = Effect.gen(function*() {
      const listed = yield* options.pending
      const seen = new Set(listed.map((k) => k.id))
      for (const [keptId, id] of [...byKept]) {
        if (seen.has(keptId)) continue
        const held = drop(id)
        if (held === undefined) continue
        const entry: Recent = { id, callId: held.card.callId, tool: held.card.tool, verdict: "withdrawn", detail: "answered, withdrawn or timed out elsewhere", at: Date.now() }
        remember(entry)
        yield* PubSub.publish(hub, { type: "withdrawn", id, recent: entry })
      }
      for (const kept of listed) {
        if (byKept.has(kept.id)) continue
        const id = `s${++sequence}`
        const card = keptCard(id, kept)
        cards.set(id, { card, kept })
        byKept.set(kept.id, id)
        yield* PubSub.publish(hub, { type: "pending", card })
      }
    })
    yield* refresh
    yield* Effect.forkScoped(Effect.repeat(Effect.delay(refresh, options.every), Schedule.forever))

    const decide = (id: string, body: DecisionBody): Effect.Effect<DecideResult> =>
      Effect.gen(function*() {
        const held = cards.get(id)
        if (held === undefined) return { _tag: "Gone" } as const
        const invalid = editProblem(options.parameters, held.card.tool, body)
        if (invalid !== undefined) return invalid
        const answered = yield* options.answer(held.kept.id, decisionOf(body))
        if (drop(id) === undefined) return { _tag: "Gone" } as const
        if (!answered) {
          const entry: Recent = { id, callId: held.card.callId, tool: held.card.tool, verdict: "withdrawn", detail: "answered or withdrawn elsewhere first", at: Date.now() }
          remember(entry)
          yield* PubSub.publish(hub, { type: "withdrawn", id, recent: entry })
          return { _tag: "Gone" } as const
        }
        const entry = recentOf(id, held.card.callId, held.card.tool, body)
        remember(entry)
        yield* PubSub.publish(hub, { type: "decided", id, recent: entry })
        return { _tag: "Decided" } as const
      })

    return {
      snapshot: Effect.sync(() => ({ pending: Array.from(cards.values(), (c) => c.card), recent: [...recent] })),
      subscribe: PubSub.subscribe(hub),
      decide
    }
  })
