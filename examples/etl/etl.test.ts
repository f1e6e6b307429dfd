/**
 * The ETL job as a user runs it: `examples/etl/main.ts` in its own Node process, against a partner
 * server started here (so the test reads the partner's own counters) and a real database — PGlite
 * in a data folder, and a PostgreSQL 15 server (CI starts one, see `.ci/run`; otherwise
 * `postgres-cluster.ts` makes a throw-away cluster, or these cases are skipped with one line).
 * Small N, fixed seed: the seeded failures are known in advance.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, rmSync, watch } from "node:fs"
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { type AddressInfo, connect, createServer } from "node:net"
import { hostname, tmpdir } from "node:os"
import { join } from "node:path"
import { stripVTControlCharacters } from "node:util"
import { Effect } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { creatingFile } from "./data-folder.js"
import { faultsOf, recordOf, updatedAtOf } from "./dataset.js"
import { open } from "./db.js"
import { jobCommand, jobOptions, spawnJob } from "./job-process.js"
import { type Partner, type PartnerOptions, startPartner } from "./partner.js"
import { type TestPostgres, testPostgres } from "./postgres-cluster.js"
import { lockKeys } from "./run-lock.js"

type Line = Record<string, any>

interface Run {
  readonly code: number | null
  readonly stdout: string
  /** the `--json` object: stdout's last line */
  readonly summary: Line
  /** stderr's JSON log lines */
  readonly logs: ReadonlyArray<Line>
  readonly stderr: string
}

const root = join(import.meta.dirname, "..", "..")
const seed = 3
const seeded = (records: number) => {
  const f = faultsOf(seed, records)
  return { ...f, failed: [...f.gone, ...f.dirty].sort((a, b) => a - b) }
}

/**
 * Runs the job to its end; `whileRunning` may act on the child (send it a signal); `start` starts
 * it (default: `main.ts` as a child of this process).
 */
const runJob = (
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  whileRunning?: (child: ChildProcess) => void,
  start: (args: ReadonlyArray<string>, env: Record<string, string>) => ChildProcess = spawnJob
): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = start(["--json", ...args], env)
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (d) => (stdout += d))
    child.stderr!.on("data", (d) => (stderr += d))
    whileRunning?.(child)
    child.on("error", reject)
    child.on("close", (code) => {
      const last = stdout.trimEnd().split("\n").at(-1) ?? ""
      let summary: Line = {}
      try {
        summary = JSON.parse(last)
      } catch {
        // no summary: the assertions on it say so
      }
      const logs = stderr
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Line)
      resolve({ code, stdout, summary, logs, stderr })
    })
  })

/** A run after one that saved `savedBefore` of `records` and stopped or failed: it did the rest, and only the seeded failures failed. */
const expectResumed = (run: Run, records: number, savedBefore: number) => {
  const expected = seeded(records)
  expect(run.code, run.stderr).toBe(0)
  expect(run.summary).toMatchObject({
    records,
    unchanged: savedBefore,
    saved: records - expected.failed.length - savedBefore,
    failed: { partner: expected.gone.length, clean: expected.dirty.length, db: 0 },
    notDone: 0,
    error: null
  })
}

/** The outcome lines of failed record sub-jobs (every line of one carries its `recordId`): id → lines. */
const failureLines = (logs: ReadonlyArray<Line>): Map<number, Array<Line>> => {
  const out = new Map<number, Array<Line>>()
  for (const l of logs)
    if (l["job.outcome"] === "Failure" && typeof l.recordId === "number")
      out.set(l.recordId, [...(out.get(l.recordId) ?? []), l])
  return out
}

/** What the table holds, read with the job's own database layer. */
const tableOf = (target: Target) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const db = yield* open({ url: target.url, dataDir: target.dataDir })
        return { ids: [...(yield* db.versions).keys()].sort((a, b) => a - b), ...(yield* db.count) }
      })
    )
  )

interface Target {
  readonly name: string
  readonly url: string | undefined
  readonly dataDir: string
  readonly args: ReadonlyArray<string>
  readonly env: Record<string, string>
}

const partners: Array<Partner> = []
const partner = async (options: PartnerOptions): Promise<Partner> => {
  const p = await startPartner({ seed, ...options })
  partners.push(p)
  return p
}

/** A partner that sends `signal` to the job (given to `attach`) when its `after`th request arrives. */
const stoppingPartner = async (records: number, after: number, signal: NodeJS.Signals) => {
  let child: ChildProcess | undefined
  let sent = false
  const p = await partner({
    records,
    onRequest: (s) => {
      if (s.requests >= after && !sent && child !== undefined) {
        sent = true
        child.kill(signal)
      }
    }
  })
  return {
    p,
    attach: (c: ChildProcess) => {
      child = c
    },
    signalled: () => sent
  }
}

/** What `closedPort` holds, let go after the tests. */
const held: Array<{ readonly close: () => void }> = []

/**
 * The URL of a loopback port nobody listens on and nobody can take until the tests end: the local
 * end of a connection this process holds (bound, not listening: a connect to it is refused, and a
 * listen on it fails with EADDRINUSE). A port merely found free could be taken by another process
 * before the job connects to it.
 */
const closedPort = (): Promise<string> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    held.push({ close: () => server.close() })
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const socket = connect((server.address() as AddressInfo).port, "127.0.0.1")
      held.push({ close: () => socket.destroy() })
      socket.once("error", reject)
      socket.once("connect", () => resolve(`http://127.0.0.1:${socket.localPort}`))
    })
  })
/** A partner that answers as `handler` says (a hostile one); closed after the tests. */
const hostiles: Array<Server> = []
const hostile = (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> =>
  new Promise((resolve, reject) => {
    const server = createHttpServer(handler)
    hostiles.push(server)
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
  })

const tmp = mkdtempSync(join(tmpdir(), "tributary-etl-"))
let postgres: TestPostgres | undefined
let skipPostgres: string | undefined

beforeAll(async () => {
  const pg = await testPostgres()
  if ("skip" in pg) {
    skipPostgres = pg.skip
    process.stderr.write(`examples/etl: PostgreSQL cases skipped: ${pg.skip}\n`)
  } else postgres = pg
}, 60_000)

afterAll(async () => {
  await Promise.all(partners.map((p) => p.close()))
  for (const h of held) h.close()
  for (const h of hostiles) {
    h.closeAllConnections()
    h.close()
  }
  await postgres?.stop()
  rmSync(tmp, { recursive: true, force: true })
})

const targets = (): Array<Target> => [
  {
    name: "PGlite",
    url: undefined,
    dataDir: join(tmp, "pglite"),
    args: ["--data-dir", join(tmp, "pglite")],
    env: {}
  },
  {
    name: "PostgreSQL",
    url: postgres?.url,
    dataDir: join(tmp, "unused"),
    args: [],
    env: { DATABASE_URL: postgres?.url ?? "" }
  }
]

describe.each(["PGlite", "PostgreSQL"])("etl on %s", (name) => {
  const target = () => targets().find((t) => t.name === name)!
  const skip = () => name === "PostgreSQL" && skipPostgres !== undefined

  it("saves every record once, fails exactly the seeded ones (one log line each, with its stack), stays under the partner's limits; a second run fetches nothing unchanged", async (ctx) => {
    if (skip()) return ctx.skip()
    const records = 200
    const expected = seeded(records)
    expect(expected.gone.length * expected.dirty.length * expected.transient.length).toBeGreaterThan(0)
    const p = await partner({ records, rate: 1000, maxOpen: 32 })
    const t = target()
    // credentials in the partner's URL (the partner ignores them) are never shown
    const partnerUrl = p.url.replace("://", "://reader:partner-secret@")
    const flags = ["--partner-url", partnerUrl, "--concurrency", "8", "--rate", "400", "--sample", "0", ...t.args]

    const first = await runJob([...flags, "--fresh"], t.env)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout + first.stderr).not.toContain("partner-secret")
    expect(first.stderr).toContain("syncing from http://reader:***@127.0.0.1")
    expect(first.summary).toMatchObject({
      records,
      saved: records - expected.failed.length,
      unchanged: 0,
      failed: { partner: expected.gone.length, clean: expected.dirty.length, db: 0 },
      dbRows: records - expected.failed.length
    })
    // the pool kept the partner under its limits: never more open requests than the pool allows, no 429, no 503
    const stats = p.stats()
    expect(stats.maxConcurrent).toBeLessThanOrEqual(8)
    expect(stats.maxConcurrent).toBeGreaterThan(1)
    expect(stats).toMatchObject({ rejected429: 0, rejected503: 0, sent500: expected.transient.length })
    // the transient 500s were retried (at least once each: a request that times out on a loaded
    // machine is retried too)
    expect(first.summary.retries).toBeGreaterThanOrEqual(expected.transient.length)
    for (const id of expected.transient) expect(p.detailRequestsFor(id)).toBeGreaterThanOrEqual(2)
    // each failure: one error line, for the seeded records only, with the error's stack
    const failures = failureLines(first.logs)
    expect([...failures.keys()].sort((a, b) => a - b)).toEqual(expected.failed)
    for (const [id, lines] of failures) {
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatchObject({ "job.name": "sync-record", "job.payload": { id } })
      const err = lines[0].err
      expect(err.name).toBe(expected.gone.includes(id) ? "PartnerError" : "CleanError")
      expect(err.stack).toContain(`${err.name}: `)
      expect(err.stack).toMatch(/examples\/etl\/(client|record)\.ts:\d+/)
    }
    // in the table: every record but the failed ones, each written once
    const table = await tableOf(t)
    expect(table.rows).toBe(records - expected.failed.length)
    expect(table.maxWrites).toBe(1)
    expect(table.ids.filter((id) => expected.failed.includes(id))).toEqual([])

    // the second run: nothing unchanged is fetched again; only the failed records are retried
    const before = Array.from({ length: records }, (_, i) => p.detailRequestsFor(i + 1))
    const second = await runJob(flags, t.env)
    expect(second.code, second.stderr).toBe(0)
    expect(second.summary).toMatchObject({
      records,
      saved: 0,
      unchanged: records - expected.failed.length,
      failed: { partner: expected.gone.length, clean: expected.dirty.length, db: 0 }
    })
    const fetchedAgain = before.flatMap((n, i) => (p.detailRequestsFor(i + 1) > n ? [i + 1] : []))
    expect(fetchedAgain).toEqual(expected.failed)
  }, 150_000) // two runs of the job, the first also creating the PGlite folder: slow on a loaded machine

  it("a run stopped by SIGTERM writes what it fetched, prints its summary, exits 143; the next run completes the rest, each record saved once", async (ctx) => {
    if (skip()) return ctx.skip()
    const records = 400
    const expected = seeded(records)
    // slow enough (4 at a time) that the 100th request comes long before the end
    const { p, attach, signalled } = await stoppingPartner(records, 100, "SIGTERM")
    const t = target()
    const flags = ["--partner-url", p.url, "--concurrency", "4", "--sample", "0", ...t.args]

    const stopped = await runJob([...flags, "--fresh"], t.env, attach)
    expect(signalled(), stopped.stderr).toBe(true)
    expect(stopped.code, stopped.stderr).toBe(143)
    expect(stopped.logs.some((l) => l.signal === "SIGTERM")).toBe(true)
    const s1 = stopped.summary
    expect(s1.stopped).toBe(true)
    expect(s1.saved).toBeGreaterThan(0)
    expect(s1.notDone).toBeGreaterThan(0)
    expect(s1.saved + s1.unchanged + s1.failed.partner + s1.failed.clean + s1.failed.db + s1.notDone).toBe(s1.records)
    // a page counts as listed when it arrives: the records the stop kept from running are "not done", not unlisted
    expect(s1.records % 100).toBe(0)
    // what it fetched is in the table (the job's own count after its writer finished)
    expect(s1.dbRows).toBe(s1.saved)

    expectResumed(await runJob(flags, t.env), records, s1.saved)
    const table = await tableOf(t)
    expect(table.rows).toBe(records - expected.failed.length)
    expect(table.maxWrites).toBe(1) // no record written twice
  }, 150_000)

  it("a run killed (SIGKILL) mid-way, with no chance to write or print anything more: the next run ends with every record saved once", async (ctx) => {
    if (skip()) return ctx.skip()
    const records = 400
    const expected = seeded(records)
    const { p, attach, signalled } = await stoppingPartner(records, 150, "SIGKILL")
    const t = target()
    const flags = ["--partner-url", p.url, "--concurrency", "4", "--sample", "0", ...t.args]

    const killed = await runJob([...flags, "--fresh"], t.env, attach)
    expect(signalled(), killed.stderr).toBe(true)
    expect(killed.code).toBeNull() // no exit code, and no summary
    expect(killed.summary).toEqual({})

    const next = await runJob(flags, t.env)
    expect(next.code, next.stderr).toBe(0)
    expect(next.summary).toMatchObject({
      records,
      failed: { partner: expected.gone.length, clean: expected.dirty.length, db: 0 },
      notDone: 0,
      error: null
    })
    // what the killed run committed is unchanged now; the rest saved by this one
    expect(next.summary.saved + next.summary.unchanged).toBe(records - expected.failed.length)
    const table = await tableOf(t)
    expect(table.rows).toBe(records - expected.failed.length)
    expect(table.maxWrites).toBe(1)
  }, 150_000)
})

/** A session of its own on the test's PostgreSQL (what an operator or a restart does to the job), ended after `f`. */
const asAdmin = async <A>(url: string, f: (admin: pg.Client) => Promise<A>): Promise<A> => {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    return await f(admin)
  } finally {
    await admin.end()
  }
}

/** The table at `url` holds every record but the seeded failures, each written once. */
const expectEachOnce = async (url: string, records: number) =>
  expect(await tableOf({ name: "PostgreSQL", url, dataDir: "", args: [], env: {} })).toMatchObject({
    rows: records - seeded(records).failed.length,
    maxWrites: 1
  })

/**
 * Runs the job with `flags` on `dataDir`, made empty first and watched: `whileMade(child)` runs
 * once, when PGlite makes its first directory there ("base") — the job is then creating the folder.
 */
const runWhileFolderMade = (
  dataDir: string,
  flags: ReadonlyArray<string>,
  whileMade: (child: ChildProcess) => void
) => {
  rmSync(dataDir, { recursive: true, force: true })
  mkdirSync(dataDir)
  const watcher = watch(dataDir)
  let seen = false
  return runJob(flags, {}, (child) =>
    watcher.on("change", (_event, file) => {
      if (file !== "base" || seen) return
      seen = true
      whileMade(child)
    })
  ).finally(() => watcher.close())
}

/**
 * Runs `command` (a shell command line) on a pseudo-terminal through `script`, which copies what
 * it wrote (stdout and stderr) to its own stdout: its exit code and that text.
 */
const onTerminal = (command: string): Promise<{ code: number | null; text: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: "", FORCE_COLOR: "0", TERM: "xterm" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let text = ""
    child.stdout!.on("data", (d) => (text += d))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, text }))
  })

describe("etl on a PostgreSQL server that misbehaves", () => {
  it("the server ends the job's connections again and again mid-run: no crash, the batches under way are retried, every record saved once", async (ctx) => {
    if (postgres === undefined) return ctx.skip()
    const url = postgres.url
    const records = 400
    const expected = seeded(records)
    await asAdmin(url, async (admin) => {
      // another session ends every connection of the job (pg_terminate_backend) at every 25th
      // request the partner gets, so some land mid-transaction
      let cuts = 0
      const p = await partner({
        records,
        onRequest: (s) => {
          if (s.requests % 25 !== 0) return
          cuts++
          void admin
            .query(
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            .catch(() => {})
        }
      })
      const run = await runJob(["--partner-url", p.url, "--concurrency", "4", "--sample", "0", "--fresh"], {
        DATABASE_URL: url
      })
      expect(run.stderr).not.toContain("uncaught exception")
      expect(run.code, run.stderr).toBe(0)
      expect(cuts).toBeGreaterThan(10)
      expect(run.summary).toMatchObject({
        records,
        saved: records - expected.failed.length,
        failed: { partner: expected.gone.length, clean: expected.dirty.length, db: 0 },
        error: null
      })
      await expectEachOnce(url, records)
    })
  }, 120_000)

  it("a database that goes away mid-run: the rows it could not write make the run fail (exit 1, error says how many); once it is back, the next run writes them, each once", async (ctx) => {
    if (postgres === undefined) return ctx.skip()
    const records = 400
    const url = postgres.url.replace(/\/[^/]*$/, "/etl_gone")
    await asAdmin(postgres.url, async (admin) => {
      await admin.query("DROP DATABASE IF EXISTS etl_gone")
      await admin.query("CREATE DATABASE etl_gone")
      let gone = false
      // at the partner's 100th request the database stops taking connections and ends the job's
      const p = await partner({
        records,
        onRequest: (s) => {
          if (s.requests !== 100) return
          gone = true
          void admin
            .query("ALTER DATABASE etl_gone ALLOW_CONNECTIONS false")
            .then(() =>
              admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'etl_gone'")
            )
            .catch(() => {})
        }
      })
      try {
        const flags = ["--partner-url", p.url, "--concurrency", "4", "--sample", "0"]
        const failed = await runJob(flags, { DATABASE_URL: url })
        expect(gone).toBe(true)
        expect(failed.code, failed.stderr).toBe(1)
        const s = failed.summary
        expect(s.failed.db).toBeGreaterThan(0)
        expect(s.error).toBe(
          `${s.failed.db} rows were not written to the database (first: ${s.firstError.db}); the next run fetches them again`
        )
        expect(s.dbRows).toBeNull() // it could not count them either
        expect(s.saved + s.unchanged + s.failed.partner + s.failed.clean + s.failed.db + s.notDone).toBe(s.records)

        await admin.query("ALTER DATABASE etl_gone ALLOW_CONNECTIONS true")
        expectResumed(await runJob(flags, { DATABASE_URL: url }), records, s.saved)
        await expectEachOnce(url, records)
      } finally {
        await admin.query("DROP DATABASE IF EXISTS etl_gone WITH (FORCE)").catch(() => {})
      }
    })
  }, 150_000)
})

/** Calls `f` with the child once its stderr has said `text` (the job reached that point). */
const onceSaid =
  (text: string, f: (child: ChildProcess) => void) =>
  (child: ChildProcess): void => {
    let seen = ""
    let done = false
    child.stderr!.on("data", (d: Buffer) => {
      seen += d
      if (!done && seen.includes(text)) {
        done = true
        f(child)
      }
    })
  }

describe("two runs at once on one PostgreSQL database", () => {
  it("the second is refused at once (exit 1, naming the database, password hidden, and the first's pid) and the first goes on unaffected; a first run killed with SIGKILL frees the database", async (ctx) => {
    if (postgres === undefined) return ctx.skip()
    const records = 120
    await asAdmin(postgres.url, async (admin) => {
      await admin.query("DROP DATABASE IF EXISTS etl_twice")
      await admin.query("CREATE DATABASE etl_twice")
      // a password the trust-auth server never asks for: only its hiding is checked
      const url = postgres!.url.replace("postgres@", "postgres:db-secret@").replace(/\/[^/]*$/, "/etl_twice")
      const shown = url.replace("db-secret", "***")
      const env = { DATABASE_URL: url }
      const flags = ["--concurrency", "4", "--sample", "0"]
      try {
        // the first run holds the database: it is paused (SIGSTOP) once it opened it, and resumed
        // (SIGCONT) once the second was refused, its session and lock on the server all along
        const p = await partner({ records })
        let refused: Run | undefined
        let firstPid: number | undefined
        const first = await runJob(
          ["--partner-url", p.url, ...flags, "--fresh"],
          env,
          onceSaid("mode fire:", (child) => {
            firstPid = child.pid
            child.kill("SIGSTOP")
            void runJob(["--partner-url", p.url, ...flags], env)
              .then((r) => {
                refused = r
              })
              .finally(() => child.kill("SIGCONT"))
          })
        )
        expect(refused, first.stderr).toBeDefined()
        expect(refused!.code, refused!.stderr).toBe(1)
        expect(refused!.summary).toMatchObject({ records: 0, saved: 0, dbRows: null, stopped: false })
        expect(refused!.summary.error).toBe(
          `connect to DATABASE_URL ${shown}: ${shown} is in use by another run of the job (pid ${firstPid} on ${hostname()}); wait for it to end, or give another DATABASE_URL`
        )
        expect(refused!.stdout + refused!.stderr).not.toContain("db-secret")
        // it asked the partner nothing: every request it got was the first run's
        expect(p.stats().requests).toBe(first.summary.partner.requests)
        // the first, unaffected: every record once
        expect(first.code, first.stderr).toBe(0)
        expect(first.summary).toMatchObject({ records, saved: records - seeded(records).failed.length, error: null })
        await expectEachOnce(url, records)

        // a run killed while it holds the database: the server ends its session, and with it the lock
        const dead = await runJob(
          ["--partner-url", (await partner({ records })).url, ...flags, "--fresh"],
          env,
          onceSaid("mode fire:", (child) => child.kill("SIGKILL"))
        )
        expect(dead.code).toBeNull() // killed: no exit code, no summary
        // the lock is free once the server has ended the dead run's session: taking it here waits for that
        await admin.query("SELECT pg_advisory_lock($1, $2)", [...lockKeys])
        await admin.query("SELECT pg_advisory_unlock($1, $2)", [...lockKeys])
        const next = await runJob(["--partner-url", (await partner({ records })).url, ...flags], env)
        expect(next.code, next.stderr).toBe(0)
        expect(next.summary).toMatchObject({ records, saved: records - seeded(records).failed.length, error: null })
        await expectEachOnce(url, records)
      } finally {
        await admin.query("DROP DATABASE IF EXISTS etl_twice WITH (FORCE)").catch(() => {})
      }
    })
  }, 150_000)
})

describe("the run's lock on PostgreSQL, its session ended by the server mid-run", () => {
  /** Ends the session holding the run's lock on the database `admin` is connected to. */
  const endLockSession = (admin: pg.Client) =>
    admin.query(
      `SELECT pg_terminate_backend(l.pid) FROM pg_locks l
       WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid
         AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [...lockKeys]
    )
  const lostLine = (run: Run) =>
    run.logs.filter((l) => String(l.msg).startsWith("the server ended the session holding this run's lock on "))

  /** Runs `f` with the URL of a database of its own (its password shown as `***` by the job). */
  const onOwnDatabase = async (name: string, f: (url: string, admin: pg.Client) => Promise<void>) => {
    const url = postgres!.url.replace(/\/[^/]*$/, `/${name}`)
    await asAdmin(postgres!.url, async (root) => {
      await root.query(`DROP DATABASE IF EXISTS ${name}`)
      await root.query(`CREATE DATABASE ${name}`)
      try {
        await asAdmin(url, (admin) => f(url, admin))
      } finally {
        await root.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
      }
    })
  }

  it("nobody else took it: one warn line, the lock taken again on a new connection (one line), the run goes on to its end, every record once", async (ctx) => {
    if (postgres === undefined) return ctx.skip()
    const records = 150
    await onOwnDatabase("etl_relock", async (url, admin) => {
      // the partner holds its answers until the job has its lock again: the run cannot end before
      let release!: () => void
      const retaken = new Promise<void>((resolve) => {
        release = resolve
      })
      const p = await partner({ records, holdUntil: retaken })
      let heldAgain = false
      const run = await runJob(
        ["--partner-url", p.url, "--concurrency", "4", "--sample", "0"],
        { DATABASE_URL: url },
        (child) => {
          onceSaid("mode fire:", () => void endLockSession(admin))(child)
          onceSaid(
            "took this run's lock on",
            () =>
              // the job holds it again: another session cannot take it
              void admin
                .query("SELECT pg_try_advisory_lock($1, $2) AS taken", [...lockKeys])
                .then(({ rows }) => {
                  heldAgain = rows[0].taken === false
                  return rows[0].taken ? admin.query("SELECT pg_advisory_unlock($1, $2)", [...lockKeys]) : undefined
                })
                .finally(release)
          )(child)
        }
      )
      expect(run.code, run.stderr).toBe(0)
      const lost = lostLine(run)
      expect(lost, run.stderr).toHaveLength(1)
      expect(lost[0].level).toBe(40)
      expect(run.logs.filter((l) => String(l.msg).startsWith("took this run's lock on"))).toHaveLength(1)
      expect(run.summary).toMatchObject({ records, saved: records - seeded(records).failed.length, error: null })
      expect(heldAgain).toBe(true)
      await expectEachOnce(url, records)
    })
  }, 120_000)

  it("another session took it meanwhile: one warn line, then the run fails (exit 1) saying the database is in use", async (ctx) => {
    if (postgres === undefined) return ctx.skip()
    const records = 150
    await onOwnDatabase("etl_lostlock", async (url, admin) => {
      const shown = url.replace(/\/\/[^@]*@/, "//***@")
      // the other "run": a session queued for the lock before the job's session is ended, so it
      // is granted the lock as that session goes, before the job can ask again
      const other = new pg.Client({ connectionString: url })
      await other.connect()
      try {
        let release!: () => void
        const lostSaid = new Promise<void>((resolve) => {
          release = resolve
        })
        const p = await partner({ records, holdUntil: lostSaid })
        let otherHolds: Promise<unknown> | undefined
        const run = await runJob(
          ["--partner-url", p.url, "--concurrency", "4", "--sample", "0"],
          { DATABASE_URL: url },
          (child) => {
            onceSaid("mode fire:", () => {
              otherHolds = other.query("SELECT pg_advisory_lock($1, $2)", [...lockKeys])
              void (async () => {
                // waiting for the lock: the other session's request is in the lock's queue
                for (;;) {
                  const { rows } = await admin.query(
                    "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid = $1",
                    [(other as unknown as { processID: number }).processID]
                  )
                  if (rows[0].n > 0) break
                }
                await endLockSession(admin)
              })()
            })(child)
            onceSaid("the server ended the session holding this run's lock", release)(child)
          }
        )
        await otherHolds
        expect(run.code, run.stderr).toBe(1)
        expect(lostLine(run), run.stderr).toHaveLength(1)
        expect(run.summary.error).toBe(
          `take this run's lock on ${shown} again: ${shown} is in use by another run of the job; wait for it to end, or give another DATABASE_URL`
        )
      } finally {
        await other.end()
      }
    })
  }, 120_000)
})

describe("etl", () => {
  it("with a rate above the partner's, the 429s are waited out (Retry-After) and nothing is lost", async () => {
    const records = 40
    const expected = seeded(records)
    // 10 requests a second for a job that asks for far more (4 at once, no rate of its own to speak
    // of: on a loaded machine too); at least its concurrency, so a request refused and waiting out
    // Retry-After (1 s) finds a token on its next try and no record runs out of attempts
    const p = await partner({ records, rate: 10 })
    const dataDir = join(tmp, "pglite")
    const run = await runJob(
      [
        "--partner-url",
        p.url,
        "--concurrency",
        "4",
        "--rate",
        "1000",
        "--sample",
        "0",
        "--data-dir",
        dataDir,
        "--fresh"
      ],
      {}
    )
    expect(run.code, run.stderr).toBe(0)
    expect(p.stats().rejected429).toBeGreaterThan(0)
    expect(run.summary.retries).toBeGreaterThanOrEqual(p.stats().rejected429)
    expect(run.summary).toMatchObject({
      saved: records - expected.failed.length,
      failed: { partner: expected.gone.length, clean: expected.dirty.length, db: 0 }
    })
  })

  it.each(["handles", "channel", "all"])("--mode %s runs the same sub-jobs with the same result", async (mode) => {
    const records = 250 // three pages: sub-jobs end while later pages are still listed
    const expected = seeded(records)
    const p = await partner({ records })
    const dataDir = join(tmp, "pglite")
    const run = await runJob(
      ["--mode", mode, "--partner-url", p.url, "--concurrency", "8", "--sample", "0", "--data-dir", dataDir, "--fresh"],
      {}
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.summary).toMatchObject({
      mode,
      records,
      saved: records - expected.failed.length,
      failed: { partner: expected.gone.length, clean: expected.dirty.length, db: 0 },
      dbRows: records - expected.failed.length
    })
    expect(p.stats().maxConcurrent).toBeLessThanOrEqual(8)
    expect([...failureLines(run.logs).keys()].sort((a, b) => a - b)).toEqual(expected.failed)
  })

  it("with no --partner-url it starts its own partner (--records, --seed); the summary table has the measured speed-up, the --json line every key", async () => {
    const records = 120
    const expected = seeded(records)
    const dataDir = join(tmp, "pglite")
    const run = await runJob(
      [
        "--records",
        String(records),
        "--seed",
        String(seed),
        "--concurrency",
        "8",
        "--sample",
        "5",
        "--data-dir",
        dataDir,
        "--fresh"
      ],
      {}
    )
    expect(run.code, run.stderr).toBe(0)
    const s = run.summary
    for (const key of ["records", "saved", "unchanged", "failed", "retries", "partner", "dbRows", "durationMs"])
      expect(s).toHaveProperty(key)
    expect(Object.keys(s.failed)).toEqual(["partner", "clean", "db"])
    expect(Object.keys(s.partner)).toEqual(["requests", "maxConcurrent", "rejected429", "rejected503"])
    expect(s).toMatchObject({
      records,
      saved: records - expected.failed.length,
      failed: { partner: expected.gone.length, clean: expected.dirty.length, db: 0 },
      dbRows: records - expected.failed.length
    })
    // the in-process partner's counters: every record asked for (the 500s twice), two pages, the
    // speed-up sample's five more; never more open than the pool's 8
    expect(s.partner.requests).toBeGreaterThanOrEqual(records + expected.transient.length + 2 + 5)
    expect(s.partner.maxConcurrent).toBeLessThanOrEqual(8)
    expect(s.partner).toMatchObject({ rejected429: 0, rejected503: 0 })
    // measured on the sample after the run (a wall-clock ratio: how large it is depends on the
    // machine's load, so only its presence is asserted here; bench/etl.ts measures it)
    expect(Number.isFinite(s.speedup) && s.speedup > 0).toBe(true)
    const table = run.stdout.split("\n")
    expect(table.find((l) => l.includes("speed-up over one at a time"))).toContain(`${s.speedup.toFixed(1)}×`)
    expect(table.find((l) => l.includes("records listed"))).toContain(String(records))
    const firstGone = /\(first: GET \/records\/(\d+): 404\)/.exec(
      table.find((l) => l.includes("failed at partner")) ?? ""
    )
    expect(expected.gone).toContain(Number(firstGone?.[1]))
  }, 120_000)

  it("a run stopped by Ctrl-C (SIGINT) writes what it fetched, prints its summary and exits 130", async () => {
    const records = 300
    const { p, attach, signalled } = await stoppingPartner(records, 60, "SIGINT")
    const dataDir = join(tmp, "pglite")
    const run = await runJob(
      ["--partner-url", p.url, "--concurrency", "4", "--sample", "0", "--data-dir", dataDir, "--fresh"],
      {},
      attach
    )
    expect(signalled(), run.stderr).toBe(true)
    expect(run.code, run.stderr).toBe(130)
    expect(run.logs.some((l) => l.signal === "SIGINT")).toBe(true)
    expect(run.summary).toMatchObject({ stopped: true, records: expect.any(Number) })
    expect(run.summary.saved).toBeGreaterThan(0)
    expect(run.summary.dbRows).toBe(run.summary.saved)
    expect(run.stdout).toContain("not done (stopped; the next run does them)")
  }, 120_000)

  it("without a terminal: JSON log lines and a plain progress line every 2 s on stderr, the summary on stdout", async () => {
    const records = 100
    // the partner holds every request until the job has printed a progress line: the run lasts until then
    let release!: () => void
    const progressed = new Promise<void>((resolve) => {
      release = resolve
    })
    const p = await partner({ records, holdUntil: progressed })
    const run = await runJob(
      ["--partner-url", p.url, "--concurrency", "4", "--sample", "0", "--data-dir", join(tmp, "pglite"), "--fresh"],
      {},
      onceSaid("progress: ", release)
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.summary).toMatchObject({ records, error: null })
    const lines = run.stderr.trimEnd().split("\n")
    expect(lines.filter((l) => !l.startsWith("{") && !l.startsWith("progress: "))).toEqual([])
    expect(run.stderr).toMatch(
      /^progress: \d+\/\d+ done · saved \d+ · unchanged \d+ · failed \d+ · \d+ in flight · \d+ queued.* · \d+ rec\/s · ETA (\d+s|\?)$/m
    )
    expect(run.stdout).toContain("records listed")
    expect(run.stdout).not.toContain("progress: ")
  }, 120_000)

  it("on a terminal: human-readable log lines and one live progress line redrawn in place, then the table", async (ctx) => {
    const script = spawnSync("script", ["--version"])
    if (script.error !== undefined) return ctx.skip("no `script` command (util-linux) to run the job on a terminal")
    const records = 150
    const p = await partner({ records })
    const dataDir = join(tmp, "pglite")
    const command = [
      "stty cols 200 rows 40;",
      JSON.stringify(process.execPath),
      "--conditions=tributary:source --import tsx",
      JSON.stringify(join(root, "examples/etl/main.ts")),
      `--partner-url ${p.url} --concurrency 4 --sample 0 --fresh --data-dir ${JSON.stringify(dataDir)}`
    ].join(" ")
    const out = await onTerminal(command)
    expect(out.code, out.text).toBe(0)
    const plain = stripVTControlCharacters(out.text)
    // pino-pretty lines, never JSON
    expect(plain).toMatch(/\] INFO: mode fire: 4 sub-jobs at once/)
    expect(plain).toMatch(/\] ERROR: job sync-record failed/)
    expect(plain).not.toMatch(/^\{"level"/m)
    // log-update redraws the live line: it erases the lines it wrote before writing the next one
    expect(out.text).toContain("\u001b[2K")
    expect(plain).toMatch(
      /\d+\/150 done · saved \d+ · unchanged \d+ · failed \d+ · \d+ in flight · \d+ queued.* · \d+ rec\/s · ETA (\d+s|\?)/
    )
    expect(plain).not.toContain("progress: ")
    expect(plain).toContain("records listed")
  }, 120_000)

  it("a partner nobody answers at: exit 1, one clear line naming it (no stack); the summary and --json line all the same", async () => {
    const url = await closedPort()
    const dataDir = join(tmp, "never-made")
    const run = await runJob(["--partner-url", url, "--data-dir", dataDir], {})
    expect(run.code, run.stderr).toBe(1)
    const why = `the partner at ${url}: GET /records?limit=100: network (connect ECONNREFUSED`
    expect(run.summary).toMatchObject({ records: 0, stopped: false, notDone: 0 })
    expect(run.summary.error).toContain(why)
    expect(run.stdout).toContain("the run failed")
    // the program's failure line: the message, and no stack of our code (a user error, not a bug)
    const failed = run.logs.find((l) => l.msg === "program failed")
    expect(failed?.err.message).toContain(why)
    expect(failed?.err.stack).not.toContain("\n    at ")
    // and the only error line: no failed list-page job line, no stack anywhere
    expect(run.logs.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual(["program failed"])
    expect(run.stderr).not.toMatch(/\\n\s+at /)
  }, 60_000)

  it("two runs on one PGlite folder: the second is refused while the first holds it (exit 1, naming its pid), with its summary", async () => {
    const dataDir = join(tmp, "held")
    const p = await partner({ records: 20 })
    // the first run: this process, holding the folder open through the job's own database layer
    const refused = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          yield* open({ dataDir })
          return yield* Effect.promise(() => runJob(["--partner-url", p.url, "--data-dir", dataDir], {}))
        })
      )
    )
    expect(refused.code, refused.stderr).toBe(1)
    expect(refused.summary).toMatchObject({ records: 0, saved: 0, dbRows: null, stopped: false })
    expect(refused.summary.error).toBe(
      `open PGlite in ${dataDir}: ${dataDir} is in use by another run of the job (pid ${process.pid}); wait for it to end, or give another --data-dir`
    )
    expect(p.stats().requests).toBe(0) // it fetched nothing it could not store
    // once the first is done, the folder is free
    const next = await runJob(["--partner-url", p.url, "--data-dir", dataDir, "--sample", "0"], {})
    expect(next.code, next.stderr).toBe(0)
    expect(next.summary).toMatchObject({ records: 20, error: null, dbRows: next.summary.saved })
  }, 120_000)

  it("Ctrl-C while PGlite creates its folder: one line at once says what it waits for; then the summary, exit 130, and the next run uses the folder", async () => {
    const records = 50
    const dataDir = join(tmp, "new-folder")
    rmSync(dataDir, { recursive: true, force: true })
    const p = await partner({ records })
    const flags = ["--partner-url", p.url, "--data-dir", dataDir, "--sample", "0"]
    let requestsAtStop = -1
    const run = await runJob(
      flags,
      {},
      onceSaid("opening PGlite", (child) => {
        requestsAtStop = p.stats().requests
        child.kill("SIGINT")
      })
    )
    expect(run.code, run.stderr).toBe(130)
    // the partner was asked nothing before the folder was made, nor after the stop
    expect(requestsAtStop).toBe(0)
    expect(p.stats().requests).toBe(requestsAtStop)
    expect(run.summary).toMatchObject({ stopped: true, error: null, records: 0, notDone: 0 })
    // the line came while PGlite was still at work: before the one saying it was done
    const msgs = run.logs.map((l) => String(l.msg))
    const notice = msgs.findIndex((m) =>
      m.startsWith(
        `SIGINT received while PGlite creates a new data folder in ${dataDir} (a few seconds): waiting for it to finish`
      )
    )
    const created = msgs.findIndex((m) => m.startsWith(`created the PGlite data folder in ${dataDir}`))
    expect(notice, run.stderr).toBeGreaterThanOrEqual(0)
    expect(created, run.stderr).toBeGreaterThan(notice)
    expect(existsSync(join(dataDir, creatingFile))).toBe(false)

    const next = await runJob(flags, {})
    expect(next.code, next.stderr).toBe(0)
    expect(next.summary).toMatchObject({ records, saved: records - seeded(records).failed.length, error: null })
    expect(next.stderr).not.toContain("half-written")
  }, 180_000)

  it("Ctrl-C while the first connection to DATABASE_URL waits: one line at once says what it waits for; then the summary, exit 130", async () => {
    // a server that takes the connection and never answers (a host behind a firewall that drops
    // replies, a server stuck in recovery): the job waits out its connection timeout
    const sockets: Array<import("node:net").Socket> = []
    const silent = createServer((socket) => void sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve))
    const port = (silent.address() as AddressInfo).port
    const p = await partner({ records: 20 })
    const run = await runJob(
      ["--partner-url", p.url, "--sample", "0"],
      { DATABASE_URL: `postgres://etl:secret@127.0.0.1:${port}/etl` },
      onceSaid("connecting to the server of DATABASE_URL", (child) => child.kill("SIGINT"))
    ).finally(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy()
          silent.close(() => resolve())
        })
    )
    expect(run.code, run.stderr).toBe(130)
    expect(run.summary).toMatchObject({ stopped: true, error: null, records: 0 })
    const msgs = run.logs.map((l) => String(l.msg))
    expect(msgs, run.stderr).toContain(
      "SIGINT received while connecting to the server of DATABASE_URL (at most 10 s): waiting for it to finish, then the summary (Ctrl-C again exits at once)"
    )
    expect(run.stderr).not.toContain("secret") // the password never shown
    expect(p.stats().requests).toBe(0) // nothing fetched that could not be stored
  }, 120_000)

  it("a run killed (SIGKILL) while PGlite writes a new folder's files: the next run creates the folder again, says so, and saves every record", async () => {
    const records = 50
    const dataDir = join(tmp, "killed-folder")
    const p = await partner({ records })
    const flags = ["--partner-url", p.url, "--data-dir", dataDir, "--sample", "0"]
    const killed = await runWhileFolderMade(dataDir, flags, (child) => child.kill("SIGKILL"))
    expect(killed.code).toBeNull()
    // what it left: PGlite's files, half-written, and the job's mark
    expect(existsSync(join(dataDir, "base"))).toBe(true)
    expect(existsSync(join(dataDir, creatingFile))).toBe(true)

    const next = await runJob(flags, {})
    expect(next.code, next.stderr).toBe(0)
    expect(
      next.logs.some(
        (l) =>
          l.msg ===
          `a run killed while PGlite was creating its data folder in ${dataDir} left it half-written (no rows in it yet): creating it again`
      ),
      next.stderr
    ).toBe(true)
    expect(next.summary).toMatchObject({ records, saved: records - seeded(records).failed.length, error: null })
    expect(await tableOf({ name: "PGlite", url: undefined, dataDir, args: [], env: {} })).toMatchObject({
      rows: records - seeded(records).failed.length,
      maxWrites: 1
    })
  }, 180_000)

  it("SIGTERM while PGlite writes a new folder's files (the event loop blocked): answered once the folder is made, with the line saying what it waited for; nothing fetched after the stop, exit 143", async () => {
    const records = 50
    const dataDir = join(tmp, "blocked-folder")
    const p = await partner({ records })
    const flags = ["--partner-url", p.url, "--data-dir", dataDir, "--sample", "0"]
    let requestsAtStop = -1
    const run = await runWhileFolderMade(dataDir, flags, (child) => {
      requestsAtStop = p.stats().requests
      child.kill("SIGTERM")
    })
    expect(requestsAtStop, run.stderr).toBe(0) // nothing asked before the folder is made
    expect(run.code, run.stderr).toBe(143)
    expect(run.summary).toMatchObject({ stopped: true, error: null, records: 0, notDone: 0 })
    const msgs = run.logs.map((l) => String(l.msg))
    expect(
      msgs.some((m) =>
        m.startsWith(
          `SIGTERM received while PGlite creates a new data folder in ${dataDir} (a few seconds): waiting for it to finish`
        )
      ),
      run.stderr
    ).toBe(true)
    expect(msgs.some((m) => m.startsWith("mode fire:"))).toBe(false) // the sync never started
    expect(p.stats().requests).toBe(requestsAtStop) // nothing asked of the partner after the stop
    expect(existsSync(join(dataDir, creatingFile))).toBe(false) // the folder was finished, whole
  }, 180_000)

  it("started through launchers that go away (`npx … etl` signalled: npx and pnpm pass nothing on and exit): the job notices, says why in one line, and stops as for SIGTERM, with its summary and exit 143", async () => {
    // what npx and pnpm do with a SIGTERM, in a few lines: run the command with our stdio, and exit with it
    const launcher =
      'const [c, ...a] = JSON.parse(process.argv[1]); require("node:child_process").spawn(c, a, { stdio: "inherit" }).on("exit", (code) => process.exit(code ?? 1))'
    // a launcher (the group's leader, as npx is in a shell) starting one that starts the job; the
    // job's parent stays, the top one is killed
    const throughLaunchers = (args: ReadonlyArray<string>, env: Record<string, string>): ChildProcess =>
      spawn(
        process.execPath,
        ["-e", launcher, JSON.stringify([process.execPath, "-e", launcher, JSON.stringify(jobCommand(args))])],
        { ...jobOptions(env), detached: true }
      )
    // the partner holds its answers until the job has said it noticed: the run cannot end before
    let release!: () => void
    const noticed = new Promise<void>((resolve) => {
      release = resolve
    })
    const p = await partner({ records: 100, holdUntil: noticed })
    const run = await runJob(
      ["--partner-url", p.url, "--data-dir", join(tmp, "launched"), "--sample", "0"],
      {},
      (top) => {
        onceSaid("syncing from", () => process.kill(top.pid!, "SIGKILL"))(top)
        onceSaid("the process that started the job is gone", release)(top)
      },
      throughLaunchers
    )
    expect(run.code).toBeNull() // the top launcher, killed
    const gone = run.logs.filter((l) => String(l.msg).startsWith("the process that started the job is gone"))
    expect(gone, run.stderr).toHaveLength(1)
    expect(gone[0].level).toBe(40)
    expect(gone[0].msg).toContain("stopping as for SIGTERM")
    expect(run.logs.some((l) => l.signal === "SIGTERM" && String(l.msg).startsWith("SIGTERM received: stopping"))).toBe(
      true
    )
    expect(run.logs.find((l) => l.msg === "exiting with code 143")?.exitCode, run.stderr).toBe(143)
    expect(run.summary).toMatchObject({ stopped: true, error: null })
  }, 120_000)

  it("on a terminal that reports 0 rows and 0 columns: plain lines (JSON logs), nothing swallowed", async (ctx) => {
    const script = spawnSync("script", ["--version"])
    if (script.error !== undefined) return ctx.skip("no `script` command (util-linux) to run the job on a terminal")
    const url = await closedPort()
    const command = [
      "stty rows 0 cols 0;",
      JSON.stringify(process.execPath),
      "--conditions=tributary:source --import tsx",
      JSON.stringify(join(root, "examples/etl/main.ts")),
      `--partner-url ${url} --data-dir ${JSON.stringify(join(tmp, "zero-terminal"))}`
    ].join(" ")
    const out = await onTerminal(command)
    expect(out.code, out.text).toBe(1)
    const lines = stripVTControlCharacters(out.text).split(/\r?\n/)
    // every log line there, as JSON: the first, the one error, the last
    const logs = lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Line)
    expect(logs[0]?.msg).toBe(`syncing from ${url}`)
    expect(logs.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual(["program failed"])
    expect(logs.at(-1)?.msg).toBe("exiting with code 1")
    // the table at its full width: the reason whole
    expect(out.text).toContain("the run failed")
    expect(lines.find((l) => l.includes("the run failed"))?.length).toBe(105)
  }, 60_000)

  it.each([
    ["an HTML error page", "<html>Service Unavailable</html>", "Unexpected token '<'"],
    ["JSON that is not a page", JSON.stringify({ data: [] }), "not a page of records: it has no records array"],
    [
      "an entry without a usable id",
      JSON.stringify({ records: [{ id: "abc", updatedAt: "2026-01-01T00:00:00Z" }], next: null }),
      'not a page of records: the entry {"id":"abc","updatedAt":"2026-01-01T00:00:00Z"} is not { id: a positive integer, updatedAt: a date }'
    ]
  ])(
    "a partner whose listing is %s: exit 1, the error says what is wrong with it (no defect)",
    async (_, body, why) => {
      const url = await hostile((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(body)
      })
      const run = await runJob(["--partner-url", url, "--data-dir", join(tmp, "pglite")], {})
      expect(run.code, run.stderr).toBe(1)
      expect(run.summary).toMatchObject({ records: 0, stopped: false })
      expect(run.summary.error).toContain(`the partner at ${url}: GET /records?limit=100: body (`)
      expect(run.summary.error).toContain(why)
      expect(run.logs.find((l) => l.msg === "program failed")?.err.type).toBe("Fail") // not a Die (a TypeError)
    },
    60_000
  )

  it("a partner that lists a record twice: it runs once and is counted once; one whose cursor comes back: the listing ends with an error", async () => {
    const page = (ids: ReadonlyArray<number>, next: string | null) =>
      JSON.stringify({ records: ids.map((id) => ({ id, updatedAt: updatedAtOf(seed, id) })), next })
    const serve = (loop: boolean) => (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? "/", "http://partner")
      const id = /^\/records\/(\d+)$/.exec(url.pathname)?.[1]
      res.writeHead(200, { "content-type": "application/json" })
      if (id !== undefined) return res.end(JSON.stringify(recordOf(seed, Number(id))))
      if (url.pathname !== "/records") return res.end("{}")
      const cursor = url.searchParams.get("cursor")
      res.end(cursor === null ? page([1, 2, 3], "p2") : page([3, 5], loop ? "p2" : null))
    }
    const dataDir = join(tmp, "pglite")
    const twice = await runJob(["--partner-url", await hostile(serve(false)), "--data-dir", dataDir, "--fresh"], {})
    expect(twice.code, twice.stderr).toBe(0)
    expect(twice.summary).toMatchObject({ records: 4, saved: 4, unchanged: 0, dbRows: 4, error: null })
    expect(twice.logs.some((l) => l.msg === "the partner listed 1 records a second time: each ran once")).toBe(true)
    expect((await tableOf({ name: "PGlite", url: undefined, dataDir, args: [], env: {} })).maxWrites).toBe(1)

    const loops = await runJob(["--partner-url", await hostile(serve(true)), "--data-dir", dataDir, "--fresh"], {})
    expect(loops.code, loops.stderr).toBe(1)
    expect(loops.summary.error).toContain('the listing loops: cursor "p2" came back after 4 records')
    // what it listed before the loop showed ran to its end: saved, not lost
    expect(loops.summary).toMatchObject({ records: 4, saved: 4, notDone: 0 })
  }, 120_000)

  it("a partner that never answers: SIGTERM ends the run at once (143, with its summary); left alone, each request times out and the run fails (1)", async () => {
    let arrived = 0
    let child: ChildProcess | undefined
    const url = await hostile((req) => {
      if (req.url?.startsWith("/records") && arrived++ === 0) child?.kill("SIGTERM")
      // no answer, ever
    })
    const dataDir = join(tmp, "pglite")
    const stopped = await runJob(["--partner-url", url, "--data-dir", dataDir], {}, (c) => {
      child = c
    })
    expect(stopped.code, stopped.stderr).toBe(143)
    expect(stopped.summary).toMatchObject({ stopped: true, error: null, records: 0 })

    const timedOut = await runJob(["--partner-url", url, "--data-dir", dataDir], {})
    expect(timedOut.code, timedOut.stderr).toBe(1)
    expect(timedOut.summary.error).toBe(`the partner at ${url}: GET /records?limit=100: timeout`)
    expect(timedOut.summary.retries).toBe(4) // 5 attempts, each given up after its timeout
  }, 120_000)

  it("a DATABASE_URL that is not a postgres URL is refused at once (exit 2, password hidden); a server that never answers fails the run after the connect timeout (exit 1, naming it)", async () => {
    const bad = await runJob([], { DATABASE_URL: "mysql://app:secret@127.0.0.1/db" })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("Invalid DATABASE_URL: expected a postgres:// URL")
    expect(bad.stderr).toContain('received "mysql://app:***@127.0.0.1/db"')
    expect(bad.stderr).not.toContain("secret")
    expect(bad.summary).toMatchObject({ records: 0, dbRows: null, stopped: false, mode: "fire" })
    expect(bad.summary.error).toContain("Invalid DATABASE_URL: expected a postgres:// URL")
    expect(bad.stdout).not.toContain("secret")

    // a TCP server that takes the connection and says nothing
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve))
    try {
      const port = (silent.address() as AddressInfo).port
      const p = await partner({ records: 10 })
      const run = await runJob(["--partner-url", p.url], { DATABASE_URL: `postgres://app:secret@127.0.0.1:${port}/db` })
      expect(run.code, run.stderr).toBe(1)
      expect(run.summary).toMatchObject({ records: 0, dbRows: null, stopped: false })
      expect(run.summary.error).toBe(
        `connect to DATABASE_URL postgres://app:***@127.0.0.1:${port}/db: Connection terminated due to connection timeout`
      )
      expect(run.stderr).not.toContain("secret")
      expect(p.stats().requests).toBe(0)
    } finally {
      silent.close()
    }
  }, 60_000)

  it("--workers with a NATS server nobody answers at: exit 1 naming it, and the summary all the same", async () => {
    const nats = (await closedPort()).replace("http://", "nats://")
    const run = await runJob(["--workers", "2", "--nats", nats, "--data-dir", join(tmp, "pglite")], {})
    expect(run.code, run.stderr).toBe(1)
    expect(run.summary).toMatchObject({
      records: 0,
      stopped: false,
      error: `cannot reach NATS at ${nats}: connection refused`
    })
  }, 60_000)

  it("its reader gone (`etl 2>&1 | head -1`): the run goes on to its end and writes every row, exit 0", async () => {
    const records = 150
    const expected = seeded(records)
    const p = await partner({ records })
    const dataDir = join(tmp, "pglite")
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawnJob(["--partner-url", p.url, "--data-dir", dataDir, "--fresh", "--sample", "0"])
      // like `head -1`: read the first line, then close both pipes; every later write gets EPIPE
      child.stderr!.once("data", () => {
        child.stdout!.destroy()
        child.stderr!.destroy()
      })
      child.on("error", reject)
      child.on("exit", resolve)
    })
    expect(code).toBe(0)
    const table = await tableOf({ name: "PGlite", url: undefined, dataDir, args: [], env: {} })
    expect(table).toMatchObject({ rows: records - expected.failed.length, maxWrites: 1 })
  }, 120_000)

  it("a bad flag is refused with its name and value, exit 2, and with --json the summary line all the same; -h prints the usage, exit 0", async () => {
    const run = await runJob(["--concurrency", "0"], {})
    expect(run.code).toBe(2)
    const why = 'Invalid --concurrency: expected an integer >= 1, received "0"'
    expect(run.stderr).toContain(why)
    // stdout's last line: the --json object of a run that never started
    expect(run.summary).toEqual({
      records: 0,
      saved: 0,
      unchanged: 0,
      failed: { partner: 0, clean: 0, db: 0 },
      retries: 0,
      partner: { requests: 0, maxConcurrent: 0, rejected429: 0, rejected503: 0 },
      dbRows: null,
      durationMs: 0,
      recordsPerSecond: 0,
      speedup: null,
      notDone: 0,
      stopped: false,
      error: why,
      mode: null,
      firstError: {}
    })

    const help = await runJob(["-h"], {})
    expect(help.code, help.stderr).toBe(0)
    expect(help.stdout).toMatch(/^Usage: npx -y pnpm@12\.4\.2 etl \[flags\]/)
    expect(help.stdout).toContain("--rate N           sub-job starts: a burst of up to N at once, then N per second")
    expect(help.stderr).toBe("")
  })
})
