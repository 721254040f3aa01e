/**
 * effect/sql's `SqlClient` over Node's built-in `node:sqlite`.
 *
 * Hand-written because no `@effect/sql-sqlite-*` release loads on effect
 * 4.1 (the newest are 4.0 betas importing paths 4.1 removed); it is built
 * only from what `effect/sql` exports (`SqlClient.make`,
 * `makeSqliteAcquirers`, the SQLite statement compiler), so it shrinks to
 * an import the day a 4.1 driver ships.
 *
 * Several processes may open one file: the journal is WAL, a busy timeout
 * makes a writer wait for the lock instead of failing, and a transaction
 * begins `IMMEDIATE`, taking the write lock up front (a deferred
 * transaction that upgrades later fails with SQLITE_BUSY instead).
 */
import { Effect, Layer, Semaphore, Stream } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient, SqlError, Statement } from "effect/sql"
import type { SqlConnection } from "effect/sql"
import { DatabaseSync, type StatementSync } from "node:sqlite"

/**
 * `file`: the database file (created when missing); `busyTimeout`: how
 * long, in milliseconds, a statement waits for another process's lock
 * (default 10 s).
 */
export interface Options {
  readonly file: string
  readonly busyTimeout?: number | undefined
}

const sqlError = (operation: string) => (cause: unknown) =>
  new SqlError.SqlError({
    // node:sqlite names the SQLite result code `errcode`; effect reads `errno`
    reason: SqlError.classifySqliteError(
      typeof cause === "object" && cause !== null && "errcode" in cause ? { ...cause, errno: cause.errcode, message: String((cause as { message?: unknown }).message) } : cause,
      { message: `SQLite: ${operation} failed`, operation }
    )
  })

/** A `SqlClient` on `file` for the life of the scope. */
export const make = (options: Options) =>
  Effect.gen(function*() {
    const db = yield* Effect.acquireRelease(
      Effect.try({ try: () => new DatabaseSync(options.file, { timeout: options.busyTimeout ?? 10_000 }), catch: sqlError("open") }),
      (db) => Effect.sync(() => db.isOpen && db.close())
    )
    yield* Effect.try({ try: () => db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL"), catch: sqlError("configure") })
    const statements = new Map<string, StatementSync>()
    const prepare = (sql: string, cache: boolean) =>
      Effect.try({
        try: () => {
          if (!cache) return db.prepare(sql)
          let statement = statements.get(sql)
          if (statement === undefined) statements.set(sql, statement = db.prepare(sql))
          return statement
        },
        catch: sqlError("prepare")
      })
    // A statement that returns columns gives its rows; one that does not
    // gives no rows (or, raw, its change count).
    const run = (statement: StatementSync, params: ReadonlyArray<unknown>, arrays: boolean, raw: boolean) =>
      Effect.try({
        try: (): ReadonlyArray<any> => {
          statement.setReturnArrays(arrays)
          if (statement.columns().length > 0) return statement.all(...(params as Array<never>))
          const changes = statement.run(...(params as Array<never>))
          return raw ? (changes as any) : []
        },
        catch: sqlError("execute")
      })
    const rows = (sql: string, params: ReadonlyArray<unknown>, cache: boolean, transform?: (rows: ReadonlyArray<any>) => ReadonlyArray<any>) =>
      Effect.map(Effect.flatMap(prepare(sql, cache), (s) => run(s, params, false, false)), (r) => transform === undefined ? r : transform(r))
    const connection: SqlConnection.Connection = {
      execute: (sql, params, transform) => rows(sql, params, true, transform),
      executeUnprepared: (sql, params, transform) => rows(sql, params, false, transform),
      executeRaw: (sql, params) => Effect.flatMap(prepare(sql, true), (s) => run(s, params, false, true)),
      executeValues: (sql, params) => Effect.flatMap(prepare(sql, true), (s) => run(s, params, true, false)),
      executeValuesUnprepared: (sql, params) => Effect.flatMap(prepare(sql, false), (s) => run(s, params, true, false)),
      executeStream: (sql, params, transform) => Stream.fromIterableEffect(rows(sql, params, true, transform))
    }
    // one connection, used by one fiber at a time (node:sqlite is synchronous)
    const acquirers = SqlClient.makeSqliteAcquirers({
      connection: Effect.succeed(connection),
      semaphore: yield* Semaphore.make(1),
      isTransaction: () => db.isTransaction
    })
    return yield* SqlClient.make({
      ...acquirers,
      driver: "node:sqlite",
      beginTransaction: "BEGIN IMMEDIATE",
      compiler: Statement.makeCompilerSqlite(),
      spanAttributes: [["db.system.name", "sqlite"]]
    })
  })

/** A Layer providing the `SqlClient` on `file`. */
export const layer = (options: Options): Layer.Layer<SqlClient.SqlClient, SqlError.SqlError> =>
  Layer.effect(SqlClient.SqlClient, make(options)).pipe(Layer.provide(Reactivity.layer))
