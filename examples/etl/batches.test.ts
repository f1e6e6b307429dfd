/**
 * The persist step's writer and the clean step: the writer's batches (100 rows, or what came
 * within 50 ms of a batch's first row) on effect's `TestClock`, written through the job's real
 * database layer to PGlite; a batch the database refuses (a value the table cannot hold) is
 * retried, then reported and logged once; and the clean step on the partner's messy and dirty
 * records.
 */

import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Chan } from "@tributary/channel"
import { Effect, Exit, Fiber, Logger, References, Scope } from "effect"
import { TestClock } from "effect/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { writeBatches } from "./batches.js"
import { type Database, open } from "./db.js"
import { clean, type Row } from "./record.js"

const row = (id: number): Row => ({
  id,
  updatedAt: "2026-01-01T00:00:00.000Z",
  name: "Ada Lovelace",
  email: null,
  priceCents: 100,
  currency: "USD",
  country: null
})

// the real database layer on PGlite, opened once for the file; each test starts from an empty table
const dataDir = mkdtempSync(join(tmpdir(), "tributary-batches-"))
const scope = Scope.makeUnsafe()
let real: Database
beforeAll(async () => {
  real = await Effect.runPromise(Scope.provide(open({ dataDir }), scope))
}, 60_000)
afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  rmSync(dataDir, { recursive: true, force: true })
})

/**
 * The real database with its upserts watched: `started` gets a batch's ids when the writer calls
 * upsert (synchronously, so `TestClock` decides when), `committed` once the transaction committed,
 * `refused` when the database refused it.
 */
const watched = () => {
  const started: Array<Array<number>> = []
  const committed: Array<Array<number>> = []
  const refused: Array<Array<number>> = []
  const db: Database = {
    ...real,
    upsert: (rows) =>
      Effect.suspend(() => {
        const ids = rows.map((r) => r.id)
        started.push(ids)
        return real.upsert(rows).pipe(
          Effect.tap(() => Effect.sync(() => committed.push(ids))),
          Effect.tapError(() => Effect.sync(() => refused.push(ids)))
        )
      })
  }
  return { db, started, committed, refused }
}

/** Waits (real time: the database's I/O) until `done()` holds. */
const until = (done: () => boolean) =>
  Effect.promise(async () => {
    while (!done()) await new Promise((next) => setImmediate(next))
  })

/** Lets every fiber that can run do so. */
const settle = Effect.gen(function* () {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow
})

const run = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.runPromise(
    Effect.gen(function* () {
      yield* real.truncate
      return yield* effect
    }).pipe(Effect.provide(TestClock.layer()))
  )

/** A logger keeping each line's level, message and annotations. */
const recorder = (lines: Array<{ level: string; message: string; annotations: Record<string, unknown> }>) =>
  Logger.make((options) => {
    lines.push({
      level: options.logLevel,
      message: String(options.message),
      annotations: { ...options.fiber.getRef(References.CurrentLogAnnotations) }
    })
  })

describe("writeBatches", () => {
  it("writes full batches of 100 at once, and the rest when the rows channel closes", () =>
    run(
      Effect.gen(function* () {
        const { db, started, committed } = watched()
        const rows = yield* Chan.make<Row>(1024)
        const saved: Array<number> = []
        const writer = yield* Effect.forkChild(
          writeBatches(db, rows, { onSaved: (b) => saved.push(b.length), onFailed: () => {} })
        )
        for (let id = 1; id <= 250; id++) yield* Chan.put(rows, row(id))
        yield* until(() => committed.length === 2)
        expect(started.map((b) => b.length)).toEqual([100, 100]) // no clock time passed
        yield* Chan.close(rows)
        yield* Fiber.join(writer)
        expect(committed.map((b) => b.length)).toEqual([100, 100, 50])
        expect(committed.flat()).toEqual(Array.from({ length: 250 }, (_, i) => i + 1))
        expect(saved).toEqual([100, 100, 50])
        expect(yield* real.count).toEqual({ rows: 250, maxWrites: 1 })
      })
    ))

  it("writes a partial batch 50 ms after its first row, not before", () =>
    run(
      Effect.gen(function* () {
        const { db, started, committed } = watched()
        const rows = yield* Chan.make<Row>(1024)
        yield* Effect.forkChild(writeBatches(db, rows, { onSaved: () => {}, onFailed: () => {} }))
        yield* Chan.put(rows, row(1))
        yield* settle
        yield* TestClock.adjust(30)
        yield* Chan.put(rows, row(2))
        yield* TestClock.adjust(19)
        yield* settle
        expect(started).toEqual([])
        yield* TestClock.adjust(1)
        yield* settle
        expect(started).toEqual([[1, 2]])
        yield* until(() => committed.length === 1)
        // the next batch's window starts at its own first row
        yield* Chan.put(rows, row(3))
        yield* TestClock.adjust(49)
        yield* settle
        expect(started).toEqual([[1, 2]])
        yield* TestClock.adjust(1)
        yield* settle
        expect(started).toEqual([[1, 2], [3]])
        yield* until(() => committed.length === 2)
        expect(committed).toEqual([[1, 2], [3]])
      })
    ))

  it("reports a batch that still fails after its retries once, logs it once with its ids, and goes on", () => {
    const lines: Array<{ level: string; message: string; annotations: Record<string, unknown> }> = []
    return run(
      Effect.gen(function* () {
        const { db, started, committed, refused } = watched()
        const rows = yield* Chan.make<Row>(1024)
        const failed: Array<[number, string]> = []
        const writer = yield* Effect.forkChild(
          writeBatches(db, rows, { onSaved: () => {}, onFailed: (b, e) => failed.push([b.length, e.message]) })
        )
        // row 150's currency does not fit the table's char(3): Postgres refuses its whole batch
        for (let id = 1; id <= 300; id++) yield* Chan.put(rows, id === 150 ? { ...row(id), currency: "EURO" } : row(id))
        yield* Chan.close(rows)
        // the retries' backoff runs on the TestClock: advance it after each refusal until the writer is done
        const running = () => !Exit.isExit(writer.pollUnsafe())
        for (let i = 0; i < 10 && running(); i++) {
          yield* until(() => refused.length > i || !running())
          yield* settle
          yield* TestClock.adjust(1000)
        }
        yield* Fiber.join(writer)
        expect(started.filter((b) => b[0] === 101)).toHaveLength(4) // the first attempt and 3 retries
        expect(failed).toEqual([[100, "UPSERT 100 rows: value too long for type character(3)"]])
        expect(committed.map((b) => b[0])).toEqual([1, 201])
        expect(yield* real.count).toEqual({ rows: 200, maxWrites: 1 })
        expect(lines.filter((l) => l.level === "Error")).toEqual([
          {
            level: "Error",
            message: "a batch of 100 rows was not saved",
            annotations: { stage: "db", ids: Array.from({ length: 100 }, (_, i) => 101 + i) }
          }
        ])
      }).pipe(Effect.provide(Logger.layer([recorder(lines)])))
    )
  })
})

describe("clean", () => {
  const ok = (raw: unknown) => Effect.runSync(clean(raw))
  const error = (raw: unknown) => Effect.runSync(Effect.flip(clean(raw)))
  const base = { id: 7, updatedAt: "2026-03-09T19:31:54.188Z", name: " donald  Liskov  ", price: "$2668.47" }

  it("trims, fixes case, parses prices and fills defaults", () => {
    expect(ok({ ...base, email: " DONALD.LISKOV@EXAMPLE.COM  ", currency: " Usd ", country: " DE" })).toEqual({
      id: 7,
      updatedAt: "2026-03-09T19:31:54.188Z",
      name: "Donald Liskov",
      email: "donald.liskov@example.com",
      priceCents: 266847,
      currency: "USD",
      country: "DE"
    })
    expect(ok(base)).toMatchObject({ email: null, currency: "USD", country: null })
    expect(ok({ ...base, price: " 4,184.52 " }).priceCents).toBe(418452)
    expect(ok({ ...base, price: "3168" }).priceCents).toBe(316800)
    expect(ok({ ...base, price: "12.5" }).priceCents).toBe(1250)
  })

  it("rejects what cannot be cleaned, naming the field and the value", () => {
    expect(error({ ...base, price: "N/A" })).toMatchObject({ _tag: "CleanError", id: 7, field: "price", value: "N/A" })
    expect(error({ ...base, price: "12.3.4" }).field).toBe("price")
    expect(error({ ...base, name: "  \t " }).message).toBe('record 7: name "  \\t " is empty')
    expect(error({ ...base, email: "ada at example dot com" }).field).toBe("email")
    expect(error({ ...base, updatedAt: "yesterday" }).field).toBe("updatedAt")
  })
})
