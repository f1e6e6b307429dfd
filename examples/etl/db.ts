/**
 * The database: embedded PGlite (Postgres compiled to WASM) in a data folder by default, or a real
 * PostgreSQL server through a `pg` pool when a `postgres://` URL is given — the same SQL on both.
 * `open` runs the migrations the database has not seen yet; `upsert` writes a batch of rows in one
 * transaction, keyed by id (a second write of a row bumps its `writes` column, so a duplicate
 * write shows). Every call is an Effect failing with `DbError`. One run at a time per database:
 * a PGlite folder is claimed (`data-folder.ts`), a PostgreSQL database locked (`run-lock.ts`),
 * both for as long as the database is open; a second run's `open` fails, naming the holder.
 */
import { PGlite } from "@electric-sql/pglite"
import { Clock, Data, Effect, type Scope } from "effect"
import pg from "pg"
import { claim } from "./data-folder.js"
import type { Row } from "./record.js"
import { applicationName, type Lock, lockDatabase } from "./run-lock.js"
import { shownUrl } from "./shown-url.js"

export class DbError extends Data.TaggedError("DbError")<{ readonly op: string; readonly cause: unknown }> {
  override get message() {
    return `${this.op}: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

export interface Database {
  readonly kind: "pglite" | "postgres"
  /** the data folder, or the server's URL without its password */
  readonly where: string
  /** `updatedAt` (epoch ms) of every stored record, by id */
  readonly versions: Effect.Effect<Map<number, number>, DbError>
  /** empties the table (`--fresh`) */
  readonly truncate: Effect.Effect<void, DbError>
  /** inserts or updates `rows` in one transaction */
  readonly upsert: (rows: ReadonlyArray<Row>) => Effect.Effect<void, DbError>
  /** the same upsert of one row in a transaction that is rolled back: what writing one row costs, changing nothing */
  readonly trialUpsert: (row: Row) => Effect.Effect<void, DbError>
  /** rows stored, and the most writes any row had */
  readonly count: Effect.Effect<{ readonly rows: number; readonly maxWrites: number }, DbError>
  /**
   * the run's hold on the database, watched: never succeeds; on PostgreSQL, a lock the server
   * took away logs one warn line and is taken again (one info line), and fails with `DbError`
   * when another run holds it by then (PGlite: never ends)
   */
  readonly held: Effect.Effect<never, DbError>
}

/** Opens the database (PGlite in `dataDir` unless `url` is given) and migrates it; closed with the scope. */
export const open = (options: {
  readonly url?: string | undefined
  readonly dataDir: string
}): Effect.Effect<Database, DbError, Scope.Scope> =>
  Effect.gen(function* () {
    const sql = yield* Effect.acquireRelease(
      options.url === undefined ? openPglite(options.dataDir) : openPg(options.url),
      (s) => Effect.promise(() => s.close())
    )
    yield* migrate(sql)
    const run = <A>(op: string, f: () => Promise<A>) =>
      Effect.tryPromise({ try: f, catch: (cause) => new DbError({ op, cause }) })
    return {
      kind: options.url === undefined ? "pglite" : "postgres",
      where: options.url === undefined ? options.dataDir : shownUrl(options.url),
      versions: run("SELECT versions", async () => {
        const rows = await sql.query<{ id: number; updated_at: Date }>("SELECT id, updated_at FROM records")
        return new Map(rows.map((r) => [r.id, r.updated_at.getTime()]))
      }),
      truncate: Effect.asVoid(run("TRUNCATE records", () => sql.query("TRUNCATE records"))),
      upsert: (rows) =>
        Effect.asVoid(run(`UPSERT ${rows.length} rows`, () => sql.transaction((q) => q(upsertSql, columns(rows))))),
      trialUpsert: (row) =>
        Effect.asVoid(
          run("UPSERT 1 row (rolled back)", () => sql.transaction((q) => q(upsertSql, columns([row])), "rollback"))
        ),
      held: sql.lock === undefined ? Effect.never : watchLock(sql.lock, shownUrl(options.url ?? "")),
      count: run("COUNT records", async () => {
        const [r] = await sql.query<{ rows: number; max_writes: number | null }>(
          "SELECT count(*)::int AS rows, max(writes)::int AS max_writes FROM records"
        )
        return { rows: r.rows, maxWrites: r.max_writes ?? 0 }
      })
    } satisfies Database
  })

// ── SQL ─────────────────────────────────────────────────────────────────────

/** The schema, one step per migration; applied in order, each once, recorded in `schema_migrations`. */
const migrations: ReadonlyArray<string> = [
  `CREATE TABLE records (
     id          integer PRIMARY KEY,
     updated_at  timestamptz NOT NULL,
     name        text NOT NULL,
     email       text,
     price_cents integer NOT NULL,
     currency    char(3) NOT NULL,
     country     text,
     writes      integer NOT NULL DEFAULT 1,
     synced_at   timestamptz NOT NULL DEFAULT now()
   )`
]

/** One statement for any number of rows: the columns travel as arrays and `unnest` makes the rows. */
const upsertSql = `
  INSERT INTO records (id, updated_at, name, email, price_cents, currency, country)
  SELECT * FROM unnest($1::int[], $2::timestamptz[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[])
  ON CONFLICT (id) DO UPDATE SET
    updated_at = excluded.updated_at, name = excluded.name, email = excluded.email,
    price_cents = excluded.price_cents, currency = excluded.currency, country = excluded.country,
    writes = records.writes + 1, synced_at = now()`

const columns = (rows: ReadonlyArray<Row>): Array<Array<unknown>> => [
  rows.map((r) => r.id),
  rows.map((r) => r.updatedAt),
  rows.map((r) => r.name),
  rows.map((r) => r.email),
  rows.map((r) => r.priceCents),
  rows.map((r) => r.currency),
  rows.map((r) => r.country)
]

const migrate = (sql: Sql): Effect.Effect<void, DbError> =>
  Effect.tryPromise({
    try: async () => {
      await sql.query("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY)")
      const done = new Set(
        (await sql.query<{ version: number }>("SELECT version FROM schema_migrations")).map((r) => r.version)
      )
      for (const [i, statement] of migrations.entries()) {
        if (done.has(i + 1)) continue
        await sql.transaction(async (q) => {
          await q(statement)
          await q("INSERT INTO schema_migrations (version) VALUES ($1)", [i + 1])
        })
      }
    },
    catch: (cause) => new DbError({ op: "migrate", cause })
  })

// ── the two drivers ─────────────────────────────────────────────────────────

type Query = <R>(text: string, params?: ReadonlyArray<unknown>) => Promise<Array<R>>

/** What the layer above needs of a driver. */
interface Sql {
  readonly query: Query
  /** runs `f` in BEGIN … COMMIT (or ROLLBACK when `end` says so, or when `f` throws) on one connection */
  readonly transaction: <A>(f: (q: Query) => Promise<A>, end?: "commit" | "rollback") => Promise<A>
  readonly close: () => Promise<void>
  /** the run's lock on a PostgreSQL server */
  readonly lock?: Lock | undefined
}

const openPglite = (dataDir: string): Effect.Effect<Sql, DbError> =>
  Effect.gen(function* () {
    // one run at a time per folder (data-folder.ts): PGlite has no lock of its own
    const folder = yield* Effect.try({
      try: () => claim(dataDir),
      catch: (cause) => new DbError({ op: `open PGlite in ${dataDir}`, cause })
    })
    if (folder.recreated)
      yield* Effect.logWarning(
        `a run killed while PGlite was creating its data folder in ${dataDir} left it half-written (no rows in it yet): creating it again`
      )
    const started = yield* Clock.currentTimeMillis
    const db = yield* Effect.tryPromise({
      try: () => PGlite.create(dataDir),
      catch: (cause) => {
        folder.release()
        return new DbError({ op: `open PGlite in ${dataDir}`, cause })
      }
    })
    if (folder.creating) {
      folder.created()
      yield* Effect.logInfo(
        `created the PGlite data folder in ${dataDir} (${(((yield* Clock.currentTimeMillis) - started) / 1000).toFixed(1)} s)`
      )
    }
    const query: Query = async (text, params) => (await db.query<any>(text, params as Array<unknown>)).rows
    return {
      query,
      transaction: (f, end = "commit") =>
        db.transaction(async (tx) => {
          const result = await f(async (text, params) => (await tx.query<any>(text, params as Array<unknown>)).rows)
          if (end === "rollback") await tx.rollback()
          return result
        }),
      close: () => db.close().finally(folder.release)
    } satisfies Sql
  })

const openPg = (url: string): Effect.Effect<Sql, DbError> =>
  Effect.tryPromise({
    try: async () => {
      // a server that accepts the connection and never answers (a wrong port, a stalled server)
      // must not hold the job for ever: connecting gives up after 10 s
      // 4 connections for the queries, and one that holds the run's lock (run-lock.ts)
      const pool = new pg.Pool({
        connectionString: url,
        max: 5,
        connectionTimeoutMillis: 10_000,
        application_name: applicationName()
      })
      // an idle client's error (the server went away) must not crash the process: the next query fails instead
      pool.on("error", () => {})
      // the first connection: one run at a time per database, refused before anything else is done
      const lock = await lockDatabase(pool, shownUrl(url)).catch(async (e) => {
        await pool.end().catch(() => {})
        throw e
      })
      const query: Query = async (text, params) => (await pool.query(text, params as Array<unknown>)).rows
      return {
        query,
        transaction: async (f, end = "commit") => {
          const client = await pool.connect()
          // a connection the server ends while we hold it (a restart, pg_terminate_backend) fails
          // the query under way, and pg also emits 'error' on the client: the pool listens only to
          // idle clients, so without this the process ended with an uncaught exception
          let lost: Error | undefined
          const onError = (e: Error) => {
            lost = e
          }
          client.on("error", onError)
          try {
            await client.query("BEGIN")
            const result = await f(async (text, params) => (await client.query(text, params as Array<unknown>)).rows)
            await client.query(end === "commit" ? "COMMIT" : "ROLLBACK")
            return result
          } catch (e) {
            await client.query("ROLLBACK").catch(() => {})
            throw e
          } finally {
            client.off("error", onError)
            client.release(lost) // a lost connection is closed, not handed out again
          }
        },
        close: () => lock.release().finally(() => pool.end()),
        lock
      }
    },
    catch: (cause) => new DbError({ op: `connect to DATABASE_URL ${shownUrl(url)}`, cause })
  })

/** `Database.held` on PostgreSQL: each event of the run's lock, logged; `Refused` fails. */
const watchLock = (lock: Lock, where: string): Effect.Effect<never, DbError> =>
  Effect.forever(
    Effect.flatMap(
      Effect.promise(() => lock.next()),
      (event): Effect.Effect<void, DbError> =>
        event._tag === "Lost"
          ? Effect.logWarning(
              `the server ended the session holding this run's lock on ${where} (${event.reason}): another run could start now; taking the lock again`
            )
          : event._tag === "Retaken"
            ? Effect.logInfo(`took this run's lock on ${where} again: the run goes on`)
            : Effect.fail(new DbError({ op: `take this run's lock on ${where} again`, cause: event.error }))
    )
  )
