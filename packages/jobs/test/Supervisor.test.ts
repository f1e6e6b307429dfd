import { Chan } from "@tributary/channel"
import { Deferred, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { Job, Supervisor, SupervisorClosedError } from "../src/index.js"
import { linesOf, run, settle } from "./harness.js"

describe("limits", () => {
  it("global, per-pool and per-key bounds hold at every moment, and are reached", async () => {
    const inFlight = { all: 0, db: 0, keys: new Map<string, number>() }
    const max = { all: 0, db: 0, key: 0 }
    const job = (pool: string | undefined, key: string | undefined) =>
      Effect.gen(function* () {
        inFlight.all++
        if (pool === "db") inFlight.db++
        if (key !== undefined) inFlight.keys.set(key, (inFlight.keys.get(key) ?? 0) + 1)
        max.all = Math.max(max.all, inFlight.all)
        max.db = Math.max(max.db, inFlight.db)
        if (key !== undefined) max.key = Math.max(max.key, inFlight.keys.get(key)!)
        for (let i = 0; i < 3; i++) yield* Effect.yieldNow
        inFlight.all--
        if (pool === "db") inFlight.db--
        if (key !== undefined) inFlight.keys.set(key, inFlight.keys.get(key)! - 1)
      })
    const { value } = await run(
      Effect.gen(function* () {
        for (let i = 0; i < 300; i++) {
          const kind = i % 3
          if (kind === 0) yield* Job.fire(job("db", undefined), { name: `db-${i}`, pool: "db" })
          else if (kind === 1)
            yield* Job.fire(job("partner", `k${i % 4}`), { name: `p-${i}`, pool: "partner", key: `k${i % 4}` })
          else yield* Job.fire(job(undefined, undefined), { name: `d-${i}` })
        }
        yield* Supervisor.drain
        return yield* Supervisor.snapshot
      }),
      { concurrency: 6, pools: { db: { concurrency: 2 }, partner: { perKey: 1 } } }
    )
    expect(value.counters.succeeded).toBe(300)
    expect(max).toEqual({ all: 6, db: 2, key: 1 })
  })

  it("the per-key cap holds when keys compete for free global slots", async () => {
    const inFlight = new Map<string, number>()
    let max = 0
    let maxAll = 0
    let all = 0
    const job = (key: string) =>
      Effect.gen(function* () {
        all++
        inFlight.set(key, (inFlight.get(key) ?? 0) + 1)
        max = Math.max(max, inFlight.get(key)!)
        maxAll = Math.max(maxAll, all)
        for (let i = 0; i < 3; i++) yield* Effect.yieldNow
        inFlight.set(key, inFlight.get(key)! - 1)
        all--
      })
    const { value } = await run(
      Effect.gen(function* () {
        for (let i = 0; i < 200; i++) yield* Job.fire(job(`k${i % 2}`), { pool: "partner", key: `k${i % 2}` })
        yield* Supervisor.drain
        return (yield* Supervisor.snapshot).counters.succeeded
      }),
      { concurrency: 10, pools: { partner: { perKey: 2 } } }
    )
    expect(value).toBe(200)
    expect(max).toBe(2)
    expect(maxAll).toBe(4)
  })

  it("rate: a token bucket timed by the Clock (burst = limit)", async () => {
    const startedAt: Array<number> = []
    const { value } = await run(
      Effect.gen(function* () {
        for (let i = 0; i < 5; i++)
          yield* Job.fire(
            Effect.flatMap(
              Effect.clockWith((c) => Effect.succeed(c.currentTimeMillisUnsafe())),
              (t) => Effect.sync(() => startedAt.push(t))
            ),
            { pool: "api" }
          )
        yield* settle
        const atZero = startedAt.length
        yield* TestClock.adjust("1 second")
        yield* settle
        const atOne = startedAt.length
        yield* TestClock.adjust("1 second")
        yield* Supervisor.drain
        return { atZero, atOne }
      }),
      { pools: { api: { rate: { limit: 2, interval: "1 second" } } } }
    )
    expect(value).toEqual({ atZero: 2, atOne: 4 })
    expect(startedAt).toEqual([0, 0, 500, 1000, 1500]) // refilled continuously: one token per 500 ms
  })

  it("rate: a token is due at its exact time, for limits that do not divide the interval (TestClock)", async () => {
    for (const [limit, interval] of [
      [3, 1000],
      [7, 1000],
      [3, 100]
    ] as const) {
      const startedAt: Array<number> = []
      await run(
        Effect.gen(function* () {
          for (let i = 0; i < 3 * limit; i++)
            yield* Job.fire(
              Effect.flatMap(
                Effect.clockWith((c) => Effect.succeed(c.currentTimeMillisUnsafe())),
                (t) => Effect.sync(() => startedAt.push(t))
              ),
              { pool: "api" }
            )
          yield* TestClock.adjust(3 * interval)
          yield* Supervisor.drain
        }),
        { pools: { api: { rate: { limit, interval } } } }
      )
      // token k after the burst is due at k × interval / limit, read to the whole millisecond above
      const due = Array.from({ length: 3 * limit }, (_, i) =>
        i < limit ? 0 : Math.ceil(((i - limit + 1) * interval) / limit)
      )
      expect(startedAt).toEqual(due)
    }
  })

  it("snapshot lists running and queued jobs with their ages", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const gate = yield* Chan.make<void>()
        yield* Job.fire(Chan.take(gate), { name: "a" })
        yield* TestClock.adjust("2 seconds")
        yield* Job.fire(Effect.void, { name: "b", key: "k" })
        yield* TestClock.adjust("1 second")
        const snap = yield* Supervisor.snapshot
        yield* Chan.put(gate, undefined)
        return snap
      }),
      { concurrency: 1 }
    )
    expect(value.running.map((j) => [j.name, j.ageMillis])).toEqual([["a", 3000]])
    expect(value.queued).toEqual([{ id: "2", name: "b", pool: "default", key: "k", ageMillis: 1000 }])
    expect(value.counters.started).toBe(1)
  })
})

describe("shutdown", () => {
  it("stops admitting, logs stragglers by name and age, interrupts them newest first, logs their outcomes", async () => {
    const interrupted: Array<string> = []
    const stuck = (name: string) => Effect.onInterrupt(Effect.never, () => Effect.sync(() => interrupted.push(name)))
    const { value, lines } = await run(
      Effect.gen(function* () {
        yield* Job.fire(stuck("old"), { name: "old" })
        yield* TestClock.adjust("1 second")
        yield* Job.fire(stuck("mid"), { name: "mid" })
        yield* Job.fire(stuck("new"), { name: "new" })
        yield* Job.fire(Effect.void, { name: "queued" })
        yield* settle
        const done = yield* Effect.forkChild(Supervisor.shutdown({ grace: "5 seconds" }))
        yield* settle
        const refused = yield* Effect.flip(Job.fire(Effect.void, { name: "late" }))
        yield* TestClock.adjust("5 seconds")
        yield* Fiber.join(done)
        return { refused, snap: yield* Supervisor.snapshot }
      }),
      { concurrency: 3 }
    )
    expect(value.refused).toBeInstanceOf(SupervisorClosedError)
    expect(interrupted).toEqual(["new", "mid", "old"])
    const old = linesOf(lines, "old")
    expect(old.map((l) => l.level)).toEqual(["Warn", "Warn"])
    expect(old[0].message).toContain("still running at shutdown")
    expect(old[0].annotations.ageMillis).toBe(6000)
    expect(old[1].annotations["job.outcome"]).toBe("Interrupted")
    expect(linesOf(lines, "queued").map((l) => l.annotations["job.outcome"] ?? "straggler")).toEqual([
      "straggler",
      "Interrupted"
    ])
    expect(value.snap.counters.interrupted).toBe(4)
    expect(value.snap.running).toEqual([])
  })

  it("a reportTo nobody reads does not keep the supervisor's scope from closing", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const unread = yield* Chan.make<Job.Outcome<void, never>>()
        yield* Job.fire(Effect.void, { name: "reporting", reportTo: unread })
        yield* Supervisor.drain
        return (yield* Supervisor.snapshot).counters.succeeded
      })
    )
    expect(value).toBe(1)
  })

  it("jobs that end within grace are not interrupted", async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        yield* Job.fire(Effect.sleep("2 seconds"), { name: "quick" })
        const done = yield* Effect.forkChild(Supervisor.shutdown({ grace: "5 seconds" }))
        yield* settle
        yield* TestClock.adjust("2 seconds")
        yield* Fiber.join(done)
        return yield* Supervisor.snapshot
      })
    )
    expect(value.counters.succeeded).toBe(1)
    expect(linesOf(lines, "quick").map((l) => l.level)).toEqual(["Debug"])
  })

  it("closing the layer's scope shuts down; a fire waiting for room fails with SupervisorClosedError", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const gate = yield* Chan.make<void>()
        yield* Job.fire(Chan.take(gate), { name: "a" })
        yield* Job.fire(Effect.void, { name: "b" })
        const waiting = yield* Effect.forkChild(Effect.flip(Job.fire(Effect.void, { name: "c" })))
        yield* settle
        const done = yield* Effect.forkChild(Supervisor.shutdown({ grace: 0 }))
        const error = yield* Fiber.join(waiting)
        yield* Fiber.join(done)
        return error
      }),
      { concurrency: 1, maxQueued: 1 }
    )
    expect(value._tag).toBe("SupervisorClosedError")
  })
})

/** Fires `n` jobs named "tiny" that wait for the returned gate, then call `onRun`. */
const fireGated = (n: number, onRun: () => void) =>
  Effect.gen(function* () {
    const gate = yield* Deferred.make<void>()
    const job = Effect.andThen(Deferred.await(gate), Effect.sync(onRun))
    for (let i = 0; i < n; i++) yield* Job.fire(job, { name: "tiny" })
    return gate
  })

describe("scale", () => {
  it("1e5 queued jobs complete without overflowing the stack", async () => {
    const n = 100_000
    let ran = 0
    const { value } = await run(
      Effect.gen(function* () {
        // every job waits for the gate: all but the first 64 are queued when it opens, and then
        // each one that ends starts the next (synchronously finishing jobs, back to back)
        const gate = yield* fireGated(n, () => ran++)
        const queuedAtPeak = (yield* Supervisor.snapshot).queued.length
        yield* Deferred.succeed(gate, undefined)
        yield* Supervisor.drain
        return { queuedAtPeak, counters: (yield* Supervisor.snapshot).counters }
      }),
      { concurrency: 64, maxQueued: n }
    )
    expect(value.queuedAtPeak).toBe(n - 64)
    expect(ran).toBe(n)
    expect(value.counters.succeeded).toBe(n)
  })

  it("1e5 jobs through a small queue with whenFull wait (backpressure) complete", async () => {
    const n = 100_000
    const { value } = await run(
      Effect.gen(function* () {
        const producer = yield* Effect.forkChild(
          Effect.gen(function* () {
            for (let i = 0; i < n; i++) yield* Job.fire(Effect.void, { name: "tiny", key: `k${i % 7}`, pool: "p" })
          })
        )
        yield* Fiber.join(producer)
        yield* Supervisor.drain
        return (yield* Supervisor.snapshot).counters
      }),
      { concurrency: 16, maxQueued: 100, pools: { p: { perKey: 2 } } }
    )
    expect(value.succeeded).toBe(n)
  })

  it("a chain of 1e4 jobs, each firing the next from its own fiber, runs without stack growth", async () => {
    const n = 10_000
    let ran = 0
    const link = (i: number): Effect.Effect<void, unknown, Supervisor.Supervisor> =>
      Effect.suspend(() => {
        ran++
        return i + 1 < n ? Job.fire(link(i + 1), { name: "link" }) : Effect.void
      })
    const { value } = await run(
      Effect.gen(function* () {
        yield* Job.fire(link(0), { name: "link" })
        yield* Supervisor.drain
        return (yield* Supervisor.snapshot).counters
      }),
      { concurrency: 1 }
    )
    expect(ran).toBe(n)
    expect(value.succeeded).toBe(n)
  })

  it("jobs that finish at once do not starve other fibers: the scheduler gets turns while they drain", async () => {
    const n = 20_000
    let ran = 0
    const seen: Array<number> = []
    const { value } = await run(
      Effect.gen(function* () {
        const gate = yield* fireGated(n, () => ran++)
        // a fiber that records how far the jobs got each time it runs
        const watcher = yield* Effect.forkChild(
          Effect.gen(function* () {
            while (ran < n) {
              seen.push(ran)
              yield* Effect.yieldNow
            }
          })
        )
        yield* Effect.yieldNow
        // every job is queued or waiting: from here on each one that ends starts the next at once
        yield* Deferred.succeed(gate, undefined)
        yield* Supervisor.drain
        yield* Fiber.join(watcher)
        return (yield* Supervisor.snapshot).counters
      }),
      { concurrency: 8, maxQueued: n }
    )
    expect(value.succeeded).toBe(n)
    // the watcher ran while the jobs drained: it saw several counts strictly between 0 and n
    expect(seen.filter((k) => k > 0 && k < n).length).toBeGreaterThan(3)
  })
})
