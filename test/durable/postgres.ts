/**
 * PostgreSQL for the durable tests: `.ci/run` starts a private instance on
 * loopback and sets TOOLGATE_TEST_PG_URL; locally the PostgreSQL cases skip
 * with a message, in CI its absence fails the run.
 *
 * Each test file gets a database of its own, made from that URL: the test
 * files run two at a time, and effect/cluster keeps its shard locks, runners
 * and messages in fixed tables, so two files sharing one database were two
 * clusters fighting over the same shards (a run resumed by the other file's
 * worker, which has no such workflow). The databases are left behind: CI's
 * instance is thrown away whole; locally, `toolgate_test_*` can be dropped.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import { DurableEngine } from "toolgate/durable"
import { SqlClient } from "effect/sql"
import * as Crypto from "node:crypto"

const base = process.env["TOOLGATE_TEST_PG_URL"] || undefined

/** Warns (locally) or throws (in CI) when PostgreSQL is not there; the URL of a fresh database otherwise. */
export const database = async (who: string): Promise<string | undefined> => {
  if (base === undefined) {
    if (process.env["CI"] === "true") throw new Error("CI must start PostgreSQL and set TOOLGATE_TEST_PG_URL (.ci/run does)")
    console.warn(`${who}: the PostgreSQL cases skip: set TOOLGATE_TEST_PG_URL (apt-get install postgresql; .ci/run shows how)`)
    return undefined
  }
  const name = `toolgate_test_${Crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`
  await Effect.runPromise(
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe(`CREATE DATABASE ${name}`)
    }).pipe(Effect.scoped, Effect.provide(PgClient.layer({ url: Redacted.make(base), maxConnections: 1 })))
  )
  const url = new URL(base)
  url.pathname = `/${name}`
  // The engine's tables, made once here: the tests start two workers at the
  // same moment, and two processes making them at once in an empty database
  // can race (a run in CI waited its whole timeout).
  await Effect.runPromise(Effect.scoped(Layer.build(DurableEngine.client({ store: url.toString() }))))
  return url.toString()
}
