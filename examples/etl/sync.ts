/**
 * The job: list every page of the partner's records, skip those whose `updatedAt` the database
 * already has, and run one sub-job per remaining record — fetch → clean → persist — under the
 * supervisor, whose "default" pool keeps them under the partner's limits. `mode` picks the step of
 * the upgrade path that runs them (`Job.fire`, `Job.fork` + await, `reportTo` a channel, `Job.all`);
 * the sub-job is the same in all four.
 *
 * Persisting is handing the row to the batch writer (`batches.ts`) over a bounded channel: a
 * sub-job holds its pool slot only while it talks to the partner, and a slow database slows the
 * sub-jobs down (the channel fills) instead of piling rows up.
 */
import { Chan, type WritePort } from "@tributary/channel"
import { Job, Supervisor, type SupervisorClosedError, type SupervisorFullError } from "@tributary/jobs"
import { Cause, Clock, Deferred, Effect, Exit, Fiber, Schema, type Scope } from "effect"
import { writeBatches } from "./batches.js"
import { type Page, type PartnerClient, PartnerError } from "./client.js"
import { type Database, DbError } from "./db.js"
import type { Mode } from "./flags.js"
import { type CleanError, clean, type Row } from "./record.js"
import { recordFailure, type Stage, type Tally } from "./tally.js"

export interface SyncOptions {
  readonly mode: Mode
  /** the own bound of each `Job.all` group (mode "all"; every mode is bounded by the pool) */
  readonly concurrency: number
  /** runs the sub-jobs instead of `mode` (e.g. on worker processes: `remote.ts`), given the writer's channel */
  readonly runner?: ((rows: WritePort<Row>, tally: Tally) => Runner) | undefined
  /**
   * called once the rows still in the writer are written, however the run ends (also when
   * interrupted); `completed`: every listed record was run
   */
  readonly onEnd: (about: { readonly completed: boolean; readonly durationMs: number }) => Effect.Effect<void>
}

/** Runs the whole sync; see the module doc. */
export const sync = (
  client: PartnerClient,
  db: Database,
  tally: Tally,
  options: SyncOptions
): Effect.Effect<void, PartnerError | DbError | SupervisorFullError, Supervisor.Supervisor | Scope.Scope> =>
  Effect.gen(function* () {
    const known = yield* db.versions
    const started = yield* Clock.currentTimeMillis

    // persist: rows go to the writer over a channel; it batches them into transactions
    const rows = yield* Chan.make<Row>(1024)
    const writer = yield* Effect.forkScoped(
      writeBatches(db, rows, {
        onSaved: (batch) => {
          tally.saved += batch.length
        },
        onFailed: (batch, error) =>
          recordFailure(
            tally,
            "db",
            batch.map((r) => r.id),
            error.message
          )
      })
    )
    // however the run ends (a signal interrupts it), the rows handed over are written first
    yield* Effect.addFinalizer((exit) =>
      Effect.gen(function* () {
        // it failed (the listing or the database gave out): the sub-jobs under way end and hand
        // their rows over, the queued ones are cancelled (left for the next run), and only then
        // the writer is closed — else they fetched for nothing ("the writer has stopped").
        // (A signal: runMain did the same before interrupting us.)
        if (Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)) yield* Supervisor.shutdown()
        yield* Chan.close(rows)
        yield* Fiber.await(writer)
        const ended = yield* Clock.currentTimeMillis
        yield* options.onEnd({ completed: Exit.isSuccess(exit), durationMs: ended - started })
      })
    )

    // the sub-job as a definition: a name and a payload schema (what could cross a process boundary)
    const record = Job.define({
      name: "sync-record",
      payload: Schema.Struct({ id: Schema.Int }),
      run: ({ id }) => syncRecord(client, rows, tally, id)
    })
    const run = options.runner?.(rows, tally) ?? runner(options.mode, options.concurrency, (id) => record.make({ id }))
    let cursor: string | null = null
    // a partner may list a record twice (it changed while we paged) or hand back a cursor it gave
    // before (a loop): a record runs once, and a loop ends the listing instead of running for ever
    const listed = new Set<number>()
    const cursors = new Set<string>()
    let listedTwice = 0
    do {
      // listing is partner traffic too: it runs in the same pool, in a lane of its own ("list").
      // The job returns the listing's Exit: its failure is the run's, logged once as the run's
      // failure line (no stack of ours), not a second time as a failed job with its stack
      const listing: Exit.Exit<Page, PartnerError> = yield* Job.join(
        yield* Job.fork(Effect.exit(client.listPage(cursor)), { name: "list-page", key: "list" })
      )
      const page: Page = yield* listing
      tally.total ??= page.total
      // the page counts as listed as it arrives (a stop while its records are fired leaves the rest "not done")
      const fresh = page.records.filter((r) => !listed.has(r.id) && listed.add(r.id))
      listedTwice += page.records.length - fresh.length
      tally.listed += fresh.length
      for (const r of fresh) {
        if (known.get(r.id) === Date.parse(r.updatedAt)) tally.unchanged++
        else yield* run.add(r.id)
      }
      yield* run.endPage
      if (page.next !== null && cursors.has(page.next))
        return yield* new PartnerError({
          path: "/records",
          reason: "body",
          cause: new Error(
            `the listing loops: cursor ${JSON.stringify(page.next)} came back after ${tally.listed} records`
          )
        })
      if (page.next !== null) cursors.add(page.next)
      cursor = page.next
    } while (cursor !== null)
    if (listedTwice > 0)
      yield* Effect.logWarning(`the partner listed ${listedTwice} records a second time: each ran once`)
    yield* run.finish
  }).pipe(
    // a signal stopped admission: wait here until runMain has drained the running sub-jobs and
    // interrupts this fiber, so the finalizer above writes their rows
    Effect.catchTag("SupervisorClosedError", () => Effect.never)
  )

/** The sub-job for one record: fetch it, clean it, hand it to the writer; a failure is counted by stage. */
export const syncRecord = (
  client: PartnerClient,
  rows: WritePort<Row>,
  tally: Tally,
  id: number
): Effect.Effect<number, PartnerError | CleanError | DbError> =>
  client.getRecord(id).pipe(
    Effect.flatMap(clean),
    Effect.flatMap((row) => Chan.put(rows, row)),
    Effect.flatMap((accepted) =>
      accepted
        ? Effect.sync(() => {
            tally.handedOver++
            tally.handedOverIds.push(id)
            return id
          })
        : Effect.fail(new DbError({ op: `hand record ${id} to the writer`, cause: "the writer has stopped" }))
    ),
    Effect.tapError((e) => Effect.sync(() => recordFailure(tally, stageOf(e), [id], e.message)))
  )

const stageOf = (e: PartnerError | CleanError | DbError): Stage =>
  e._tag === "PartnerError" ? "partner" : e._tag === "CleanError" ? "clean" : "db"

// ── the four steps of the upgrade path ──────────────────────────────────────

type SubJob = (id: number) => Effect.Effect<number, PartnerError | CleanError | DbError>

/**
 * `add` starts (or collects) the sub-job of one record; `endPage` follows the records of each list
 * page; `finish` waits until every added one ended.
 */
export interface Runner {
  readonly add: (id: number) => Effect.Effect<void, Refused, Supervisor.Supervisor>
  readonly endPage: Effect.Effect<void, never, Supervisor.Supervisor>
  readonly finish: Effect.Effect<void, Refused, Supervisor.Supervisor | Scope.Scope>
}

/** `whenFull: "wait"` never refuses with SupervisorFullError, but the types keep it */
type Refused = SupervisorClosedError | SupervisorFullError

/** Every line of a sub-job (its outcome line included) carries the record's id. */
const options = (id: number) => ({ annotations: { recordId: id } })

const runner = (mode: Mode, concurrency: number, subJob: SubJob): Runner => {
  switch (mode) {
    case "fire":
      // 1. fire and forget: the supervisor logs every failure; drain waits for the last one
      return { add: (id) => Job.fire(subJob(id), options(id)), endPage: Effect.void, finish: Supervisor.drain }
    case "handles": {
      // 2. a handle per sub-job, awaited at the end
      const handles: Array<Job.Handle<number, unknown>> = []
      return {
        add: (id) => Effect.map(Job.fork(subJob(id), options(id)), (h) => void handles.push(h)),
        endPage: Effect.void,
        finish: Effect.suspend(() => Effect.forEach(handles, (h) => Job.await(h), { discard: true }))
      }
    }
    case "channel": {
      // 3. every outcome also goes to a channel, read as they come; done when the last fired one is read
      let fired = 0
      let seen = 0
      let allFired = false
      const results = Chan.makeUnsafe<Job.Outcome<number, unknown>>(256)
      const all = Deferred.makeUnsafe<void>()
      const reader = Chan.forEach(results, () =>
        Effect.suspend(() => (++seen === fired && allFired ? Deferred.succeed(all, undefined) : Effect.void))
      )
      let reading = false
      return {
        add: (id) =>
          Effect.gen(function* () {
            if (!reading) yield* Effect.forkChild(reader)
            reading = true
            fired++
            yield* Job.fire(subJob(id), { ...options(id), reportTo: results })
          }),
        endPage: Effect.void,
        finish: Effect.suspend(() => {
          allFired = true
          return seen === fired ? Effect.void : Deferred.await(all)
        })
      }
    }
    case "all": {
      // 4. a group per list page, started as soon as the page is read (so the next page's request
      // overlaps its fetches) and awaited at the end; each item keeps its options
      let page: Array<number> = []
      const groups: Array<Fiber.Fiber<unknown, Refused>> = []
      return {
        add: (id) => Effect.sync(() => void page.push(id)),
        endPage: Effect.suspend(() => {
          if (page.length === 0) return Effect.void
          const ids = page
          page = []
          const group = Job.all(
            ids.map((id) => Job.item(subJob(id), options(id))),
            { concurrency, name: "sync-record" }
          )
          return Effect.map(Effect.forkChild(group), (fiber) => void groups.push(fiber))
        }),
        finish: Effect.suspend(() => Effect.forEach(groups, Fiber.join, { discard: true }))
      }
    }
  }
}
