/**
 * The persist step's writer and the clean step, without a process or a server: the writer's
 * batches (100 rows, or what came within 50 ms of a batch's first row) on effect's `TestClock`,
 * a failing batch reported once, and the clean step on the partner's messy and dirty records.
 */
import { Chan } from "@tributary/channel"
import { Effect, Exit, Fiber, Logger, References } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { writeBatches } from "./batches.js"
import { type Database, DbError } from "./db.js"
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

/** A database whose upserts are recorded (and fail for batches holding `failing`). */
const fakeDb = (failing?: number) => {
  const batches: Array<Array<number>> = []
  const db = {
    upsert: (rows: ReadonlyArray<Row>) =>
      Effect.suspend(() => {
        if (failing !== undefined && rows.some((r) => r.id === failing))
          return Effect.fail(new DbError({ op: "UPSERT", cause: new Error("deadlock detected") }))
        batches.push(rows.map((r) => r.id))
        return Effect.void
      })
  } as unknown as Database
  return { db, batches }
}

/** Lets every fiber that can run do so. */
const settle = Effect.gen(function* () {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow
})

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.provide(effect, TestClock.layer()))

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
        const { db, batches } = fakeDb()
        const rows = yield* Chan.make<Row>(1024)
        const saved: Array<number> = []
        const writer = yield* Effect.forkChild(
          writeBatches(db, rows, { onSaved: (b) => saved.push(b.length), onFailed: () => {} })
        )
        for (let id = 1; id <= 250; id++) yield* Chan.put(rows, row(id))
        yield* settle
        expect(batches.map((b) => b.length)).toEqual([100, 100]) // no clock time passed
        yield* Chan.close(rows)
        yield* Fiber.join(writer)
        expect(batches.map((b) => b.length)).toEqual([100, 100, 50])
        expect(batches.flat()).toEqual(Array.from({ length: 250 }, (_, i) => i + 1))
        expect(saved).toEqual([100, 100, 50])
      })
    ))

  it("writes a partial batch 50 ms after its first row, not before", () =>
    run(
      Effect.gen(function* () {
        const { db, batches } = fakeDb()
        const rows = yield* Chan.make<Row>(1024)
        yield* Effect.forkChild(writeBatches(db, rows, { onSaved: () => {}, onFailed: () => {} }))
        yield* Chan.put(rows, row(1))
        yield* settle
        yield* TestClock.adjust(30)
        yield* Chan.put(rows, row(2))
        yield* TestClock.adjust(19)
        yield* settle
        expect(batches).toEqual([])
        yield* TestClock.adjust(1)
        yield* settle
        expect(batches).toEqual([[1, 2]])
        // the next batch's window starts at its own first row
        yield* Chan.put(rows, row(3))
        yield* TestClock.adjust(49)
        yield* settle
        expect(batches).toEqual([[1, 2]])
        yield* TestClock.adjust(1)
        yield* settle
        expect(batches).toEqual([[1, 2], [3]])
      })
    ))

  it("reports a batch that still fails after its retries once, logs it once with its ids, and goes on", () => {
    const lines: Array<{ level: string; message: string; annotations: Record<string, unknown> }> = []
    return run(
      Effect.gen(function* () {
        const { db, batches } = fakeDb(150)
        const rows = yield* Chan.make<Row>(1024)
        const failed: Array<[number, string]> = []
        const writer = yield* Effect.forkChild(
          writeBatches(db, rows, { onSaved: () => {}, onFailed: (b, e) => failed.push([b.length, e.message]) })
        )
        for (let id = 1; id <= 300; id++) yield* Chan.put(rows, row(id))
        yield* Chan.close(rows)
        // the retries' backoff runs on the TestClock
        for (let i = 0; i < 10 && Exit.isExit(writer.pollUnsafe()) === false; i++) {
          yield* settle
          yield* TestClock.adjust(1000)
        }
        yield* Fiber.join(writer)
        expect(failed).toEqual([[100, "UPSERT: deadlock detected"]])
        expect(batches.map((b) => b[0])).toEqual([1, 201])
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
