/**
 * The persist step's writer: rows arrive one by one on a channel (each sub-job puts its row and
 * moves on); the writer gathers them into batches of up to `size` rows or whatever came within
 * `window` of a batch's first row, whichever is first (core.async's `alts!` over the rows and a
 * `timeout` channel), and upserts each batch in one transaction. A batch that still fails after
 * its retries is logged once, with its ids and cause, and reported through `onFailed`.
 */
import { Chan, type ReadPort } from "@tributary/channel"
import { Cause, Effect, Option, Schedule } from "effect"
import { type Database, DbError } from "./db.js"
import type { Row } from "./record.js"

export interface BatchOptions {
  /** rows per transaction at most (default 100) */
  readonly size?: number
  /** how long a batch waits for more rows after its first (default 50 ms) */
  readonly windowMillis?: number
  readonly onSaved: (rows: ReadonlyArray<Row>) => void
  readonly onFailed: (rows: ReadonlyArray<Row>, error: DbError) => void
}

/** Writes every row taken from `rows` until it is closed and drained; then returns. */
export const writeBatches = (db: Database, rows: ReadPort<Row>, options: BatchOptions): Effect.Effect<void> =>
  Effect.gen(function* () {
    const size = options.size ?? 100
    const window = options.windowMillis ?? 50
    while (true) {
      const first = yield* Chan.take(rows)
      if (Option.isNone(first)) return
      const batch = [first.value]
      const deadline = yield* Chan.timeout(window)
      let open = true
      while (open && batch.length < size) {
        const next = yield* Chan.select(
          [Chan.onTake(rows, (row) => row), Chan.onTake(deadline, () => Option.none<Row>())],
          { priority: true } // rows first: a full batch goes out before its deadline
        )
        if (Option.isSome(next)) batch.push(next.value)
        else open = false
      }
      yield* write(db, batch, options)
    }
  })

const write = (db: Database, batch: ReadonlyArray<Row>, options: BatchOptions): Effect.Effect<void> =>
  db.upsert(batch).pipe(
    Effect.retry({ schedule: Schedule.exponential("20 millis"), times: 3 }),
    Effect.matchCauseEffect({
      onSuccess: () => Effect.sync(() => options.onSaved(batch)),
      onFailure: (cause) =>
        Effect.logError(`a batch of ${batch.length} rows was not saved`, cause).pipe(
          Effect.annotateLogs({ stage: "db", ids: batch.map((r) => r.id) }),
          Effect.andThen(
            Effect.sync(() => {
              const error = Cause.findErrorOption(cause)
              options.onFailed(
                batch,
                Option.isSome(error) ? error.value : new DbError({ op: "upsert", cause: Cause.squash(cause) })
              )
            })
          )
        )
    })
  )
