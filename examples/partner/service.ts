/**
 * A local stand-in for a partner API and a database, shared by the job examples: every call takes
 * a few milliseconds (`Effect.sleep`) and some inputs fail, as real services do. Also the sub-job
 * the examples run for one record: fetch, clean, persist.
 */
import { Data, Effect } from "effect"

export class PartnerError extends Data.TaggedError("PartnerError")<{ readonly id: number; readonly status: number }> {
  override get message() {
    return `GET /records/${this.id}: ${this.status}`
  }
}

export class CleanError extends Data.TaggedError("CleanError")<{ readonly id: number; readonly reason: string }> {
  override get message() {
    return `record ${this.id}: ${this.reason}`
  }
}

export class DbError extends Data.TaggedError("DbError")<{ readonly id: number }> {
  override get message() {
    return `INSERT record ${this.id}: deadlock detected`
  }
}

export interface RawRecord {
  readonly id: number
  readonly title: string
}

export interface CleanRecord {
  readonly id: number
  readonly title: string
}

/** The record ids the examples sync: 3 fails at the partner, 4 at cleaning, 5 at the database. */
export const ids: ReadonlyArray<number> = [1, 2, 3, 4, 5, 6]

/** The partner API: record 3 answers 503. */
export const partner = {
  fetch: (id: number): Effect.Effect<RawRecord, PartnerError> =>
    Effect.andThen(
      Effect.sleep(`${10 + id * 7} millis`),
      id === 3 ? Effect.fail(new PartnerError({ id, status: 503 })) : Effect.succeed({ id, title: `  Record ${id}  ` })
    )
}

/** Cleaning: record 4's title is rejected. */
export const clean = (record: RawRecord): Effect.Effect<CleanRecord, CleanError> =>
  record.id === 4
    ? Effect.fail(new CleanError({ id: record.id, reason: "title has no letters after cleaning" }))
    : Effect.succeed({ id: record.id, title: record.title.trim().toLowerCase() })

/** The database: saving record 5 deadlocks. */
export const db = {
  save: (record: CleanRecord): Effect.Effect<number, DbError> =>
    Effect.andThen(
      Effect.sleep("15 millis"),
      record.id === 5 ? Effect.fail(new DbError({ id: record.id })) : Effect.succeed(record.id)
    )
}

/** The sub-job for one record: fetch it, clean it, persist it; succeeds with the saved id. */
export const syncRecord = (id: number): Effect.Effect<number, PartnerError | CleanError | DbError> =>
  partner.fetch(id).pipe(Effect.flatMap(clean), Effect.flatMap(db.save))
