/**
 * The sync spread over worker processes (`--workers N --nats URL`): each record's fetch and clean
 * run as the job definition `fetch-clean-record` on `N` worker processes (`worker.ts`) through
 * NATS JetStream; the cleaned row comes back as the job's value and is handed to the batch writer
 * here, where the database is (PGlite cannot be shared between processes). A failure is counted by
 * the stage its error names, as in-process. A worker that dies loses nothing: its jobs run again
 * on the others after the ack wait.
 */
import { spawn } from "node:child_process"
import { join } from "node:path"
import { Chan, type WritePort } from "@tributary/channel"
import { Job } from "@tributary/jobs"
import { Deferred, Effect, Exit, Schema, type Scope } from "effect"
import type { PartnerClient } from "./client.js"
import { clean, type Row } from "./record.js"
import { RunError } from "./run-error.js"
import type { Runner } from "./sync.js"
import { recordFailure, type Stage, type Tally } from "./tally.js"

/** What the remote sub-job gives back: the cleaned row, and how many times its fetch was retried. */
export interface Fetched {
  readonly row: Row
  readonly retries: number
}

/**
 * The remote sub-job: fetch one record from the partner and clean it; its value is the row and
 * the retries of its fetch, which `retriesOf(id)` tells (and forgets) on the worker that ran it —
 * the summary counts the retries made on the workers too. The retries of a record that fails in
 * the end are forgotten, not counted (its failure is).
 */
export const fetchCleanRecord = (client: PartnerClient, retriesOf: (id: number) => number = () => 0) =>
  Job.define({
    name: "fetch-clean-record",
    payload: Schema.Struct({ id: Schema.Int }),
    run: ({ id }) =>
      Effect.flatMap(client.getRecord(id), clean).pipe(
        Effect.map((row): Fetched => ({ row, retries: retriesOf(id) })),
        Effect.tapError(() => Effect.sync(() => retriesOf(id)))
      )
  })

/**
 * The retries of each record's fetch on this process's partner client, for `fetchCleanRecord`:
 * `onRetry` counts them (give it to `makeClient`), `take(id)` tells a record's count and forgets it.
 */
export const retryCounts = () => {
  const byPath = new Map<string, number>()
  return {
    onRetry: (error: { readonly path: string }): void => void byPath.set(error.path, (byPath.get(error.path) ?? 0) + 1),
    take: (id: number): number => {
      const path = `/records/${id}`
      const n = byPath.get(path) ?? 0
      byPath.delete(path)
      return n
    }
  }
}

/**
 * Fires each record's job (to the workers, under the NatsSupervisor), its outcome reported to a
 * channel; a reader hands each row to the writer and counts each failure. `finish` waits until
 * every fired job's outcome was read.
 */
export const remoteRunner = (client: PartnerClient, rows: WritePort<Row>, tally: Tally): Runner => {
  const definition = fetchCleanRecord(client)
  const results = Chan.makeUnsafe<Job.Outcome<Fetched, unknown>>(256)
  const all = Deferred.makeUnsafe<void>()
  let fired = 0
  let seen = 0
  let allFired = false
  let reading = false
  const read = (o: Job.Outcome<Fetched, unknown>) =>
    Effect.gen(function* () {
      const id = (o.payload as { id: number }).id
      if (Exit.isSuccess(o.exit)) {
        tally.retries += o.exit.value.retries
        if (yield* Chan.put(rows, o.exit.value.row)) {
          tally.handedOver++
          tally.handedOverIds.push(id)
        } else recordFailure(tally, "db", [id], "the writer has stopped")
      } else if (o._tag !== "Interrupted") {
        // (an interrupted job — the run stopped — is no failure: its record is not done, and the
        // next run does it, as in-process)
        const error = Exit.findErrorOption(o.exit)
        const tag = error._tag === "Some" ? (error.value as { _tag?: unknown })._tag : undefined
        const stage: Stage = tag === "PartnerError" ? "partner" : tag === "CleanError" ? "clean" : "db"
        const message = error._tag === "Some" ? String((error.value as { message?: unknown }).message) : o._tag
        recordFailure(tally, stage, [id], message)
      }
      if (++seen === fired && allFired) yield* Deferred.succeed(all, undefined)
    })
  return {
    add: (id) =>
      Effect.gen(function* () {
        if (!reading) yield* Effect.forkChild(Chan.forEach(results, read))
        reading = true
        fired++
        yield* Job.fire(definition.make({ id }), { annotations: { recordId: id }, reportTo: results })
      }),
    endPage: Effect.void,
    finish: Effect.suspend(() => {
      allFired = true
      return seen === fired ? Effect.void : Deferred.await(all)
    })
  }
}

/**
 * How long a worker may take to end after its SIGTERM before it is killed: its grace (10 s) and its
 * runMain's `forceAfter` twice (5 s each: stuck jobs, then a log write nobody takes), and a margin.
 */
const workerStopMillis = 25_000

/** The worker processes of a run: their pids, and what fails once every one of them is gone. */
export interface Workers {
  readonly pids: ReadonlyArray<number>
  /**
   * Fails with a RunError once every worker has exited before the run let it go (a worker that
   * cannot start: a NATS server whose shared consumer has another ack wait, say): the jobs would
   * wait in the stream for ever. Never succeeds.
   */
  readonly allGone: Effect.Effect<never, RunError>
}

/**
 * Starts `n` worker processes in the current scope (closing it stops them with SIGTERM, each
 * handing back what it holds). Their warnings and errors reach this process's stderr; a worker
 * that exits early is said at once, with its code.
 */
export const startWorkers = (
  n: number,
  options: { readonly nats: string; readonly partnerUrl: string; readonly concurrency: number; readonly rate: number }
): Effect.Effect<Workers, never, Scope.Scope> =>
  Effect.gen(function* () {
    const context = yield* Effect.context<never>()
    const gone = Deferred.makeUnsafe<never, RunError>()
    let alive = n
    /** set when the scope closes: the exits from then on are asked for */
    let releasing = false
    const pids = yield* Effect.forEach(
      Array.from({ length: n }, (_, i) => i),
      (i) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            const name = `etl-worker-${i + 1}`
            const child = spawn(
              process.execPath,
              [
                ...process.execArgv,
                join(import.meta.dirname, "worker.ts"),
                name,
                String(options.concurrency),
                String(options.rate)
              ],
              // the URLs (which may hold credentials) in the environment: a command line is visible to `ps`
              {
                stdio: ["ignore", "ignore", "inherit"],
                env: { ...process.env, ETL_WORKER_NATS: options.nats, ETL_WORKER_PARTNER_URL: options.partnerUrl }
              }
            )
            // this process may end before a worker does (its hard deadline exits while the worker
            // still stops): the worker is not left running on its own
            const orphaned = (): void => void child.kill("SIGKILL")
            process.once("exit", orphaned)
            child.once("exit", (code, signal) => {
              process.removeListener("exit", orphaned)
              if (releasing) return
              alive--
              const how = signal === null ? `with code ${code}` : `on ${signal}`
              Effect.runForkWith(context)(
                Effect.logError(
                  `worker ${name} (pid ${child.pid}) exited ${how} before the sync ended (its own lines above say why); ` +
                    (alive > 0 ? `its jobs go to the ${alive} other(s) after the ack wait` : "no worker is left")
                )
              )
              if (alive === 0)
                Deferred.doneUnsafe(
                  gone,
                  Exit.fail(new RunError(`every worker process exited before the sync ended (the last ${how})`))
                )
            })
            return child
          }),
          (child) =>
            Effect.callback<void>((resume) => {
              releasing = true
              if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
              // a worker that cannot end (frozen by something its own bounds do not reach) is killed
              const last = setTimeout(() => child.kill("SIGKILL"), workerStopMillis)
              child.once("exit", () => {
                clearTimeout(last)
                resume(Effect.void)
              })
              child.kill("SIGTERM")
            })
        ).pipe(Effect.map((child) => child.pid ?? -1))
    )
    // a Ctrl-C in a terminal signals the whole process group: the workers stop with this
    // process, and their exits are no news then
    const stopping = (): void => {
      releasing = true
    }
    process.once("SIGINT", stopping)
    process.once("SIGTERM", stopping)
    // runs before the workers' releases: their exits from then on are asked for
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        releasing = true
        process.removeListener("SIGINT", stopping)
        process.removeListener("SIGTERM", stopping)
      })
    )
    return { pids, allGone: Deferred.await(gone) }
  })
