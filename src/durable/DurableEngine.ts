/**
 * Where durable approvals live and who runs them: the `effect/workflow`
 * engine on `effect/cluster`, over SQL storage.
 *
 * - {@link sqlite}: the embedded default, one file. One process owns it
 *   and runs the waiting workflows (a second owner is refused: two would
 *   each think they own every shard); any number of {@link client}s may
 *   answer through the same file.
 * - {@link postgres}: several worker processes, on one or several machines,
 *   share the work: shards are split by locks in the database, and a worker
 *   that dies is replaced by another once its locks expire.
 * - {@link client}: a process that only records answers (the
 *   `toolgate approvals` command, a console): it runs no workflow.
 *
 * Polling: an owner reads storage for messages other processes wrote
 * (answers) every `pollInterval` — 25 ms by default, not the engine's 10 s,
 * which is far too slow for a person waiting on a prompt.
 *
 * @since 0.3.0
 */
import * as NodeCrypto from "@effect/platform-node/NodeCrypto"
import { Cause, Data, Duration, Effect, Layer, Option, Redacted, Schedule, type Scope } from "effect"
import { ClusterWorkflowEngine, RunnerAddress, SingleRunner } from "effect/cluster"
import type { ShardingConfig } from "effect/cluster"
import type { SqlClient } from "effect/sql"
import { WorkflowEngine } from "effect/workflow"
import * as Crypto from "node:crypto"
import { DatabaseSync } from "node:sqlite"
import * as Sqlite from "./internal/sqlite.ts"
import * as Store from "./internal/store.ts"

/**
 * What a durable process needs: the workflow engine, the SQL client and
 * toolgate's approvals table.
 *
 * @since 0.3.0
 */
export type Services = WorkflowEngine.WorkflowEngine | SqlClient.SqlClient | Store.Store

/**
 * The engine could not start: a second owner for a SQLite file, a store
 * URL toolgate does not know, a database it cannot open.
 *
 * @since 0.3.0
 */
export class EngineError extends Data.TaggedError("EngineError")<{ readonly message: string }> {}

/**
 * Tuning shared by the engines.
 *
 * - `pollInterval`: how often an owner reads storage for answers written by
 *   other processes (default 25 ms).
 *
 * @since 0.3.0
 */
export interface Tuning {
  readonly pollInterval?: Duration.Input | undefined
}

const sharding = (tuning: Tuning): Partial<ShardingConfig.ShardingConfig["Service"]> => ({
  entityMessagePollInterval: tuning.pollInterval ?? Duration.millis(25),
  entityReplyPollInterval: tuning.pollInterval ?? Duration.millis(25),
  // a waiting approval never idles out of memory while it waits
  maxResidentEntities: "unbounded",
  // a caller waiting on a workflow owned elsewhere is woken by retries:
  // keep them short, or an answer could wait up to the default 30 s
  sendRetryInterval: Duration.millis(50)
})

/**
 * For an owner of every shard (the embedded SQLite worker): every waiting
 * caller's execution is local, and the engine wakes a local caller the
 * moment its execution completes, so the callers' retry schedule is only a
 * fallback — a slow one. A workflow's own short schedule (the approval
 * workflow backs off to 2 s, for callers on other workers) had 1,000
 * waiting callers querying the single SQLite connection 500 times a second,
 * which slowed resuming them all from 3.4 s to 5.9 s (bench/durable.bench.ts).
 */
const localCallers = Layer.effect(
  WorkflowEngine.WorkflowEngine,
  Effect.map(WorkflowEngine.WorkflowEngine, (engine) =>
    WorkflowEngine.WorkflowEngine.of({
      ...engine,
      execute: (workflow, options) => engine.execute(workflow, { ...options, suspendedRetrySchedule: Schedule.spaced("30 seconds") })
    }))
)

const engine = (
  runner: ReturnType<typeof SingleRunner.layer>,
  sql: Layer.Layer<SqlClient.SqlClient, unknown>,
  ownsAll = false
): Layer.Layer<Services, EngineError> =>
  Store.layer.pipe(
    Layer.provideMerge(
      ownsAll
        ? localCallers.pipe(Layer.provideMerge(ClusterWorkflowEngine.layer.pipe(Layer.provideMerge(runner))))
        : ClusterWorkflowEngine.layer.pipe(Layer.provideMerge(runner))
    ),
    Layer.provide(NodeCrypto.layerDigest),
    Layer.provideMerge(sql),
    Layer.catchCause((cause): Layer.Layer<Services, EngineError> =>
      Layer.unwrap(
        Effect.fail(new EngineError({ message: `the durable store could not start: ${Cause.pretty(cause).split("\n")[0]}` })) as Effect.Effect<
          Layer.Layer<Services>,
          EngineError
        >
      )
    )
  )

/**
 * Holds the owner lock of a SQLite store for the life of the scope: an
 * exclusive transaction on `FILE.owner`, which the operating system
 * releases when the process ends however it ends — no stale lock file
 * after a crash.
 */
const ownerLock = (file: string): Effect.Effect<void, EngineError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.try({
      try: () => {
        const lock = new DatabaseSync(`${file}.owner`, { timeout: 0 })
        try {
          lock.exec("BEGIN EXCLUSIVE")
        } catch (error) {
          lock.close()
          throw error
        }
        return lock
      },
      catch: () =>
        new EngineError({
          message: `another process owns the durable store ${file}: one worker per SQLite file runs the approvals ` +
            `(answer from this process with a client engine, e.g. toolgate approvals --store sqlite:${file})`
        })
    }),
    (lock) => Effect.sync(() => lock.close())
  ).pipe(Effect.asVoid)

/**
 * The embedded engine on a SQLite file: this process owns every shard and
 * runs the waiting workflows. A second worker on the same file is refused.
 *
 * @example
 * ```ts
 * import { DurableEngine } from "toolgate/durable"
 * const Engine = DurableEngine.sqlite({ file: ".toolgate/approvals.db" })
 * ```
 *
 * @since 0.3.0
 */
export const sqlite = (options: { readonly file: string } & Tuning): Layer.Layer<Services, EngineError> =>
  Layer.unwrap(Effect.as(ownerLock(options.file), engine(
    SingleRunner.layer({ runnerStorage: "memory", shardingConfig: sharding(options) }),
    Sqlite.layer({ file: options.file }),
    true
  )))

const pgLayer = (url: string) =>
  Layer.unwrap(Effect.map(
    Effect.promise(() => import("@effect/sql-pg")),
    ({ PgClient }) => PgClient.layer({ url: Redacted.make(url), maxConnections: 10 })
  ))

/**
 * Workers on PostgreSQL: each process that provides this layer takes a
 * share of the shards (locks in the database) and runs their workflows; a
 * worker that dies is replaced once its locks expire (`lockExpiration`,
 * default 10 s).
 *
 * @example
 * ```ts
 * import { DurableEngine } from "toolgate/durable"
 * const Engine = DurableEngine.postgres({ url: "postgres://toolgate@127.0.0.1:5432/toolgate" })
 * ```
 *
 * @since 0.3.0
 */
export const postgres = (
  options: { readonly url: string; readonly lockExpiration?: Duration.Input | undefined } & Tuning
): Layer.Layer<Services, EngineError> =>
  engine(
    SingleRunner.layer({
      runnerStorage: "sql",
      shardingConfig: {
        ...sharding(options),
        // a unique address per worker process: nothing listens on it, it
        // names the owner of the shard locks
        runnerAddress: Option.some(RunnerAddress.make(`toolgate-${Crypto.randomUUID()}`, 1)),
        shardLockExpiration: options.lockExpiration ?? Duration.seconds(10),
        shardLockRefreshInterval: Duration.seconds(2),
        refreshAssignmentsInterval: Duration.seconds(1)
      }
    }),
    pgLayer(options.url)
  )

/**
 * A process that records answers and reads the approvals, and runs no
 * workflow: the `toolgate approvals` command, a console, an answering
 * service.
 *
 * @example
 * ```ts
 * import { DurableEngine } from "toolgate/durable"
 * const Answerer = DurableEngine.client({ store: "sqlite:.toolgate/approvals.db" })
 * ```
 *
 * @since 0.3.0
 */
export const client = (options: { readonly store: string } & Tuning): Layer.Layer<Services, EngineError> =>
  Layer.unwrap(Effect.map(parseStore(options.store), (store) =>
    engine(
      SingleRunner.layer({
        runnerStorage: store._tag === "Postgres" ? "sql" : "memory",
        shardingConfig: { ...sharding(options), runnerAddress: Option.none() }
      }),
      store._tag === "Postgres" ? pgLayer(store.url) : Sqlite.layer({ file: store.file })
    )))

/**
 * A store as the CLI names it: `sqlite:FILE` (or a plain file name) or a
 * `postgres://` / `postgresql://` URL.
 *
 * @since 0.3.0
 */
export type StoreUrl = { readonly _tag: "Sqlite"; readonly file: string } | { readonly _tag: "Postgres"; readonly url: string }

/**
 * Reads a store URL.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DurableEngine } from "toolgate/durable"
 * Effect.runSync(DurableEngine.parseStore("sqlite:approvals.db")) // => { _tag: "Sqlite", file: "approvals.db" }
 * ```
 *
 * @since 0.3.0
 */
export const parseStore = (store: string): Effect.Effect<StoreUrl, EngineError> => {
  if (/^postgres(ql)?:\/\//.test(store)) return Effect.succeed({ _tag: "Postgres", url: store })
  if (store.startsWith("sqlite:")) {
    const file = store.slice("sqlite:".length)
    return file === "" ? Effect.fail(new EngineError({ message: "sqlite: needs a file, e.g. sqlite:.toolgate/approvals.db" })) : Effect.succeed({ _tag: "Sqlite", file })
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(store)) {
    return Effect.fail(new EngineError({ message: `unknown store ${JSON.stringify(store)}: use sqlite:FILE or postgres://…` }))
  }
  return store === "" ? Effect.fail(new EngineError({ message: "the store is empty: use sqlite:FILE or postgres://…" })) : Effect.succeed({ _tag: "Sqlite", file: store })
}

/**
 * The worker engine for a store URL: {@link sqlite} or {@link postgres}.
 *
 * @since 0.3.0
 */
export const worker = (store: string, tuning: Tuning = {}): Layer.Layer<Services, EngineError> =>
  Layer.unwrap(Effect.map(parseStore(store), (parsed) =>
    parsed._tag === "Sqlite" ? sqlite({ file: parsed.file, ...tuning }) : postgres({ url: parsed.url, ...tuning })))
