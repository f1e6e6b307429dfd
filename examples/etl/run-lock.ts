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
 * - a lock connection the server ends (a restart, `pg_terminate_backend`) loses the lock without
 *   ending the run or the process: the run goes on, unguarded.
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

/**
 * Takes the run's lock on a connection of `pool` kept out of it for the run (so the first
 * connection's failure is the pool's own, timeout included); resolves to its release, or rejects
 * (`DatabaseInUseError`, or why it could not connect). `database`: the URL as it may be shown.
 */
export const lockDatabase = async (pool: pg.Pool, database: string): Promise<() => Promise<void>> => {
  const client = await pool.connect()
  // the server ended the lock's session: the lock is gone, the run goes on (see the module doc)
  const onError = () => {}
  client.on("error", onError)
  const end = () => {
    client.off("error", onError)
    client.release(true) // closed, never handed out: the lock ends with its session
  }
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
    end()
    throw e
  }
  return async () => end()
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
