/**
 * The project's real example job: sync every record of a partner's HTTP API into Postgres.
 * `npx -y pnpm@12.4.2 etl [--mode fire|handles|channel|all] [--records N] [--json] [--monitor [PORT] [--keep-monitor]] …`
 * (flags.ts).
 *
 * It starts the partner in-process (unless `--partner-url`), opens the database (PGlite in
 * `--data-dir`, or `DATABASE_URL`), runs the sync under `Supervisor.runMain` — which owns signals
 * (SIGINT/SIGTERM: the running sub-jobs finish, their rows are written, the summary is printed,
 * exit 130/143) — and prints the summary, however the run ends. Exit 0 when the run ended (records
 * the partner or the clean step failed are in the log and the summary), 1 when the job itself
 * failed (the partner's listing or the database gave out, or rows were not written: one line says
 * which, and the summary's `error`), 2 on a bad flag (with `--json`, its JSON line all the same);
 * `-h`/`--help` prints the usage, exit 0. The processes that started it gone (`npx … etl` signalled:
 * npx and pnpm pass nothing on) stop it as SIGTERM does (parent-watch.ts).
 */
import { Supervisor } from "@tributary/jobs"
import { Monitor } from "@tributary/monitor"
import { NatsSupervisor } from "@tributary/nats"
import { Cause, Clock, Effect, Exit, Fiber, Stream } from "effect"
import { makeClient, type PartnerError } from "./client.js"
import { holdsDatabase } from "./data-folder.js"
import { open } from "./db.js"
import { FlagError, type Flags, parseDatabaseUrl, parseFlags, usage } from "./flags.js"
import { watchLaunchers } from "./parent-watch.js"
import { type PartnerStats, startPartner } from "./partner.js"
import { clean } from "./record.js"
import { remoteRunner, startWorkers } from "./remote.js"
import { progressLine, refusedJson, summaryJson, summaryTable } from "./report.js"
import { RunError } from "./run-error.js"
import { shownUrl } from "./shown-url.js"
import { noticeStopsWhile } from "./stop-notice.js"
import { sync } from "./sync.js"
import { makeTally, summarize, type Tally } from "./tally.js"
import { makeTerminal } from "./terminal.js"

const { flags, databaseUrl } = (() => {
  const argv = process.argv.slice(2)
  let parsed: Flags | undefined
  try {
    parsed = parseFlags(argv)
    if (parsed.help) {
      process.stdout.write(`${usage}\n`)
      process.exit(0)
    }
    return { flags: parsed, databaseUrl: parseDatabaseUrl(process.env.DATABASE_URL) }
  } catch (e) {
    if (!(e instanceof FlagError)) throw e
    process.stderr.write(`${e.message}\n${usage}\n`)
    // with --json, stdout's last line is the summary however the run ends: here, a run that never started
    if (parsed?.json ?? argv.includes("--json"))
      process.stdout.write(`${refusedJson(e.message, parsed?.mode ?? null)}\n`)
    process.exit(2)
  }
})()
const terminal = makeTerminal()
// `npx … etl` signalled: npx and pnpm do not pass it on, and exit; the job notices they are gone
watchLaunchers(terminal.logger)

/** What the summary needs beyond the tally, filled in as the run gets there (a run that fails or is stopped early leaves the rest unknown). */
interface End {
  partnerBefore: PartnerStats | undefined
  partnerAfter: PartnerStats | undefined
  dbRows: number | null
  durationMs: number
  speedup: number | null
}

const tally = makeTally()
const end: End = { partnerBefore: undefined, partnerAfter: undefined, dbRows: null, durationMs: 0, speedup: null }

const program = Effect.gen(function* () {
  // the partner: ours in-process, or another server's /_stats
  const local =
    flags.partnerUrl === undefined
      ? yield* Effect.acquireRelease(
          Effect.promise(() => startPartner({ seed: flags.seed, records: flags.records })),
          (p) => Effect.promise(() => p.close())
        )
      : undefined
  const partnerUrl = local?.url ?? flags.partnerUrl!
  const client = makeClient(partnerUrl, { onRetry: () => void tally.retries++ })
  const partnerStats: Effect.Effect<PartnerStats | undefined> =
    local !== undefined ? Effect.sync(local.stats) : client.stats
  end.partnerBefore = yield* partnerStats
  yield* Effect.logInfo(`syncing from ${shownUrl(partnerUrl)}${local ? ` (in-process, seed ${flags.seed})` : ""}`)
  const partnerFailed = (e: PartnerError) => new RunError(e, `the partner at ${shownUrl(partnerUrl)}`)

  /** fails once every worker process is gone (`--workers`), never without workers */
  let workersGone: Effect.Effect<never, RunError> = Effect.never
  if (flags.workers > 0) {
    // fetch and clean on worker processes (the partner's limits shared among them); rows come back here
    const { pids, allGone } = yield* startWorkers(flags.workers, {
      nats: flags.nats,
      partnerUrl,
      concurrency: Math.ceil(flags.concurrency / flags.workers),
      rate: Math.max(1, Math.floor(flags.rate / flags.workers))
    })
    yield* Effect.logInfo(
      `${flags.workers} worker processes (pids ${pids.join(", ")}) pulling from ${shownUrl(flags.nats)}`
    )
    workersGone = allGone
  }

  // what opening the database waits on (a stop meanwhile says so at once: stop-notice.ts)
  const opening =
    databaseUrl !== undefined
      ? "connecting to the server of DATABASE_URL (at most 10 s)"
      : holdsDatabase(flags.dataDir)
        ? `PGlite opens its data folder in ${flags.dataDir} (a second or two)`
        : `PGlite creates a new data folder in ${flags.dataDir} (a few seconds)`
  yield* Effect.logInfo(
    databaseUrl === undefined
      ? `opening PGlite in ${flags.dataDir}${holdsDatabase(flags.dataDir) ? "" : " (creating a new data folder takes a few seconds)"}`
      : "connecting to the server of DATABASE_URL"
  )
  const db = yield* noticeStopsWhile(opening, terminal.logger, open({ url: databaseUrl, dataDir: flags.dataDir }))
  if (flags.fresh) yield* db.truncate
  yield* Effect.logInfo(
    `mode ${flags.mode}: ${flags.concurrency} sub-jobs at once, starts paced by a token bucket (a burst of up to ${flags.rate}, then ${flags.rate}/s), into ${db.kind} ${db.where}`
  )

  const started = yield* Clock.currentTimeMillis
  // the live line reads the supervisor's own stream of snapshots
  const ticker = yield* Effect.forkScoped(
    // the line shows counts only: no job is listed (a snapshot then costs nothing per queued job)
    Supervisor.watch(terminal.progressEveryMillis, { listLimit: 0 }).pipe(
      Stream.drop(1), // the first comes at once, before anything ran
      Stream.runForEach((snapshot) =>
        Effect.sync(() => terminal.progress(progressLine(tally, snapshot, snapshot.at - started)))
      )
    )
  )

  yield* sync(client, db, tally, {
    mode: flags.mode,
    concurrency: flags.concurrency,
    runner: flags.workers > 0 ? (rows, tally) => remoteRunner(client, rows, tally) : undefined,
    onEnd: ({ completed, durationMs }) =>
      Effect.gen(function* () {
        yield* Fiber.interrupt(ticker)
        terminal.endProgress()
        end.durationMs = durationMs
        // the speed-up: the same work for a sample of records, one at a time (a run cut short has no figure to compare)
        const fetched = tally.handedOver + tally.failed.partner + tally.failed.clean
        const sample = completed ? tally.handedOverIds.slice(0, flags.sample) : []
        if (sample.length > 0 && fetched > 0 && durationMs > 0) {
          const t0 = yield* Clock.currentTimeMillis
          for (const id of sample)
            yield* Effect.exit(client.getRecord(id).pipe(Effect.flatMap(clean), Effect.flatMap(db.trialUpsert)))
          const perRecord = ((yield* Clock.currentTimeMillis) - t0) / sample.length
          end.speedup = (perRecord * fetched) / durationMs
        }
        end.partnerAfter = yield* partnerStats
        end.dbRows = yield* Effect.orElseSucceed(
          Effect.map(db.count, (c) => c.rows),
          () => null
        )
      })
  }).pipe(
    // the run's hold on its database (PostgreSQL: its lock) lost for good fails the run
    Effect.raceFirst(db.held),
    // so does the loss of every worker process: their jobs would wait in the stream for ever
    Effect.raceFirst(workersGone),
    Effect.mapError((e) => (e._tag === "PartnerError" ? partnerFailed(e) : e))
  )
}).pipe(
  Effect.scoped,
  // once every row handed over was written or given up on: rows the database would not take make
  // the run a failure (exit 1) — a database gone mid-run must not end in exit 0 with its rows unwritten
  Effect.andThen(
    Effect.suspend(() =>
      tally.failed.db === 0
        ? Effect.void
        : Effect.fail(
            new RunError(
              `${tally.failed.db} rows were not written to the database (first: ${tally.firstError.db}); the next run fetches them again`
            )
          )
    )
  )
)

/** The summary table on stdout, and with --json the JSON line after it. */
const printSummary = (tally: Tally, end: End, exit: Exit.Exit<unknown, unknown>): void => {
  const stopped = Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
  const summary = summarize(tally, {
    mode: flags.mode,
    database: databaseUrl === undefined ? "pglite" : "postgres",
    partner: end.partnerAfter === undefined ? undefined : since(end.partnerBefore, end.partnerAfter),
    dbRows: end.dbRows,
    durationMs: end.durationMs,
    speedup: end.speedup,
    stopped,
    error: Exit.isFailure(exit) && !stopped ? failureOf(exit.cause) : null
  })
  terminal.print(summaryTable(summary))
  if (flags.json) terminal.print(summaryJson(summary))
}

/** The failure's message (a defect's too). */
const failureOf = (cause: Cause.Cause<unknown>): string => {
  const e = Cause.squash(cause)
  return e instanceof Error ? e.message : String(e)
}

/** `after`'s counters minus `before`'s (another partner's counters span its whole life); `maxConcurrent` as it is. */
const since = (before: PartnerStats | undefined, after: PartnerStats): PartnerStats =>
  before === undefined
    ? after
    : {
        ...after,
        requests: after.requests - before.requests,
        detailRequests: after.detailRequests - before.detailRequests,
        listRequests: after.listRequests - before.listRequests,
        rejected429: after.rejected429 - before.rejected429,
        rejected503: after.rejected503 - before.rejected503,
        sent500: after.sent500 - before.sent500
      }

const supervisor: Supervisor.Config = {
  name: "etl",
  concurrency: flags.concurrency,
  // fire/fork wait while this many sub-jobs are queued: memory stays flat, and a signal cancels few
  maxQueued: 4 * flags.concurrency,
  whenFull: "wait",
  // the pool of jobs that name none — every step of the upgrade path, Job.all included
  pools: { default: { concurrency: flags.concurrency, rate: { limit: flags.rate, interval: "1 second" } } },
  grace: "10 seconds"
}

/**
 * `run` with the live monitor page of `--monitor` (the same supervisor), up from before the run
 * starts until it has ended — and with `--keep-monitor`, once its summary is printed, until Ctrl-C
 * (a run that failed fails then, with its own error).
 */
const withMonitor = <A, E>(
  run: Effect.Effect<A, E, Supervisor.Supervisor>,
  port = flags.monitor
): Effect.Effect<A, E | RunError, Supervisor.Supervisor> =>
  port === undefined
    ? run
    : Effect.scoped(
        Effect.gen(function* () {
          // a port in use or refused: one clear line, and the summary (with --json its line) as for any end
          const monitor = yield* Monitor.serve({ port }).pipe(
            Effect.mapError(
              (e) =>
                new RunError(
                  e._tag === "MonitorListenError" && e.reason.includes("EADDRINUSE")
                    ? `${e.message} (another program holds that port: --monitor 0 takes a free one)`
                    : e
                )
            ),
            Effect.onExit((exit) =>
              Exit.isFailure(exit) ? Effect.sync(() => printSummary(tally, end, exit)) : Effect.void
            )
          )
          yield* Effect.logInfo(`monitor: ${monitor.url}`)
          const exit = yield* Effect.exit(run)
          if (flags.keepMonitor && !(Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause))) {
            yield* Effect.logInfo(`the run is over; the monitor page stays at ${monitor.url} until Ctrl-C`)
            yield* Effect.never
          }
          return yield* exit
        })
      )

Supervisor.runMain(
  withMonitor(
    // with --workers, runMain's supervisor sends the sub-jobs to NATS JetStream (the same limits apply
    // to them here, and its exit line counts them)
    (flags.workers > 0
      ? program.pipe(Effect.provide(NatsSupervisor.dispatcher({ servers: flags.nats })))
      : program
    ).pipe(
      // what the user gets wrong or cannot help (the partner, the database or NATS unreachable, the
      // data folder in use): one clear line, no stack; a defect (a bug of ours) keeps its stack
      Effect.mapError((e) => (e instanceof RunError ? e : new RunError(e))),
      // the summary (and the --json line), however the run ends: completed, failed (NATS
      // unreachable included), or stopped by a signal at any moment (while PGlite opens too); after
      // everything else closed
      Effect.onExit((exit) => Effect.sync(() => printSummary(tally, end, exit)))
    )
  ),
  { supervisor, logger: terminal.logger }
)
