/**
 * One run at a time per PostgreSQL database, as `data-folder.ts` does for a PGlite folder: two
 * runs at once would fetch every record twice, write each row twice (its `writes` column shows it)
 * and one's `--fresh` would empty the table under the other. So `lockDatabase` takes a
 * session-level advisory lock (`pg_try_advisory_lock`) on a connection taken out of the run's pool
 * and kept out of it (never used for queries, never handed back), held for the whole run:
 *
 * - advisory locks are per database: runs on two databases of one server do not see each other;
 * - a second run is refused at once with `DatabaseInUseError`, naming the database (credentials
 *   hidden) and the holder's pid and host when the server shows them (`application_name`);
 * - the lock is the session's: `release` ends the session, and so does the death of the process
 *   (a SIGKILL, a crash) — the server frees the lock when the connection closes;
 * - a lock connection the server ends (a restart, `pg_terminate_backend`) loses the lock: the run
 *   notices (the connection's 'error'/'end'), says so, and takes the lock again on a new
 *   connection; if another run holds it by then, this run fails (`Lock.next`: `Refused`).
 */
import { hostname } from "node:os"
import { Data } from "effect"
import type pg from "pg"

/** The lock's two keys: "Trib" and "ETL\0" as 32-bit integers (any run of this job, on this database). */
export const lockKeys = [0x54726962, 0x45544c00] as const

/** What a run's sessions call themselves on the server (`application_name`): the holder a refused run names. */
export const applicationName = (): string => `tributary-etl (pid ${process.pid} on ${hostname()})`

/** Thrown by `lockDatabase`: another run holds `database` (shown without its password). */
export class DatabaseInUseError extends Data.TaggedError("DatabaseInUseError")<{
  readonly database: string
  /** "pid 4242 on host", when the server shows who holds the lock */
  readonly holder: string | undefined
  readonly message: string
}> {}

/** What happened to a run's lock after it was taken, in order. */
export type LockEvent =
  /** the server ended the lock's session (a restart, `pg_terminate_backend`): the lock is gone */
  | { readonly _tag: "Lost"; readonly reason: string }
  /** taken again on a new connection: the run goes on, guarded again */
  | { readonly _tag: "Retaken" }
  /** not taken again: another run holds it now (`DatabaseInUseError`), or the server could not be reached */
  | { readonly _tag: "Refused"; readonly error: Error }

/** A run's lock, held until `release`. */
export interface Lock {
  /** ends the lock's session (and any attempt to take it again) */
  readonly release: () => Promise<void>
  /** the next `LockEvent`: each once, in order; never resolves while nothing happens */
  readonly next: () => Promise<LockEvent>
}

/** Attempts, one `retryMillis` apart, to take a lost lock again before the run gives up on it. */
const retakeAttempts = 5

/**
 * Takes the run's lock on a connection of `pool` kept out of it for the run (so the first
 * connection's failure is the pool's own, timeout included); resolves to the `Lock`, or rejects
 * (`DatabaseInUseError`, or why it could not connect). `database`: the URL as it may be shown.
 *
 * A lock whose session the server ends is taken again on a new connection of `pool`: `next`
 * says `Lost`, then `Retaken`, or `Refused` (another run holds it now, or the server stayed out of
 * reach for `retakeAttempts` tries, `retryMillis` apart).
 */
export const lockDatabase = async (pool: pg.Pool, database: string, retryMillis = 1000): Promise<Lock> => {
  const events: Array<LockEvent> = []
  let wake: (() => void) | undefined
  const emit = (event: LockEvent) => {
    events.push(event)
    wake?.()
  }
  let released = false
  let current: pg.PoolClient | undefined
  let timer: ReturnType<typeof setTimeout> | undefined

  /** the lock's session ended by the server: say so, and take the lock again */
  const watch = (client: pg.PoolClient) => {
    let gone = false
    const onGone = (e?: Error) => {
      if (gone || released || current !== client) return
      gone = true
      current = undefined
      client.release(e ?? new Error("the lock's session ended")) // closed, never handed out again
      emit({ _tag: "Lost", reason: e?.message ?? "the connection ended" })
      void retake(1)
    }
    client.on("error", onGone)
    client.on("end", () => onGone())
  }
  const retake = async (attempt: number): Promise<void> => {
    if (released) return
    try {
      const client = await take(pool, database)
      if (released) return client.release(true)
      current = client
      watch(client)
      emit({ _tag: "Retaken" })
    } catch (e) {
      if (released) return
      if (e instanceof DatabaseInUseError || attempt >= retakeAttempts)
        return emit({ _tag: "Refused", error: e instanceof Error ? e : new Error(String(e)) })
      timer = setTimeout(() => void retake(attempt + 1), retryMillis)
      timer.unref()
    }
  }

  current = await take(pool, database)
  watch(current)
  return {
    release: async () => {
      released = true
      clearTimeout(timer)
      current?.release(true) // closed, never handed out: the lock ends with its session
      current = undefined
    },
    next: async () => {
      while (events.length === 0) await new Promise<void>((resolve) => (wake = resolve))
      return events.shift()!
    }
  }
}

/** One connection of `pool` holding the lock (`pg_try_advisory_lock`), or why not. */
const take = async (pool: pg.Pool, database: string): Promise<pg.PoolClient> => {
  const client = await pool.connect()
  // an error before the lock is ours: the query under way fails with it; nothing else to do
  const onError = () => {}
  client.on("error", onError)
  try {
    const [{ locked }] = (
      await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS locked", [...lockKeys])
    ).rows
    if (!locked) {
      const holder = await holderOf(client)
      throw new DatabaseInUseError({
        database,
        holder,
        message: `${database} is in use by another run of the job${holder === undefined ? "" : ` (${holder})`}; wait for it to end, or give another DATABASE_URL`
      })
    }
  } catch (e) {
    client.off("error", onError)
    client.release(true)
    throw e
  }
  client.off("error", onError)
  return client
}

/** "pid 4242 on host" of the session holding the lock, when the server lets us see it. */
const holderOf = async (client: pg.PoolClient): Promise<string | undefined> => {
  const { rows } = await client.query<{ name: string | null }>(
    `SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid
       AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [...lockKeys]
  )
  return /^tributary-etl \((.+)\)$/.exec(rows[0]?.name ?? "")?.[1]
}
