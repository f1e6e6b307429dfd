/**
 * A pool's `rate` bounds every call to the partner, retries included: each attempt after a job's
 * first takes a token of its pool (waiting on the Clock until one is due, the job keeping its
 * slots), from the same bucket as the queued jobs' starts. A pool without a rate retries at once.
 * Time is a TestClock (the Promise API, which runs on effect's live Clock, under fake timers).
 */
import { Clock, Effect, Logger, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { afterEach, describe, expect, it, vi } from "vitest"
import { Job, Supervisor } from "../src/index.js"
import { supervisor } from "../src/promise.js"
import { type Line, linesOf, recorder, run, settle } from "./harness.js"

/** 2 tokens, one more every 500 ms. */
const partner = { partner: { rate: { limit: 2, interval: "1 second" } } } as const

/** The Clock times of a job's attempts, as `name@millis`, in the order the attempts ran. */
type Calls = Array<string>

/** A job that records each attempt in `calls` and fails its first `failures` attempts. */
const flaky = (calls: Calls, name: string, failures: number) => {
  let tries = 0
  return Effect.flatMap(Clock.currentTimeMillis, (t) =>
    Effect.suspend(() => {
      calls.push(`${name}@${t}`)
      return ++tries <= failures ? Effect.fail("503") : Effect.succeed(tries)
    })
  )
}

/** The times of `calls`, in the order they ran. */
const timesOf = (calls: Calls): Array<number> => calls.map((c) => Number(c.slice(c.indexOf("@") + 1)))

describe("a pool's rate covers every attempt of a retried job", () => {
  it("rate 2/s, 2 jobs failing 4 times each: 2 attempts at once, then one per 500 ms (10 in all)", async () => {
    const calls: Calls = []
    const { value } = await run(
      Effect.gen(function* () {
        const handles = [
          yield* Job.fork(flaky(calls, "a", 4), { name: "a", pool: "partner", retry: Schedule.recurs(4) }),
          yield* Job.fork(flaky(calls, "b", 4), { name: "b", pool: "partner", retry: Schedule.recurs(4) })
        ]
        yield* settle
        const atOnce = calls.length
        yield* TestClock.adjust("499 millis")
        const before500 = calls.length
        yield* TestClock.adjust("3501 millis")
        const results = yield* Effect.forEach(handles, Job.join)
        const { counters } = yield* Supervisor.snapshot
        return { atOnce, before500, results, counters }
      }),
      { pools: partner }
    )
    expect(value.atOnce).toBe(2)
    expect(value.before500).toBe(2)
    expect(timesOf(calls)).toEqual([0, 0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000])
    // after the burst of 2, no second of Clock time sees more than the 2 tokens it refills
    for (let from = 500; from <= 3500; from += 500)
      expect(timesOf(calls).filter((t) => t >= from && t < from + 1000).length).toBeLessThanOrEqual(2)
    expect(value.results).toEqual([5, 5])
    // a retry is not a new start
    expect(value.counters).toMatchObject({ started: 2, succeeded: 2 })
  })

  it("a queued job and a retrying job draw from one bucket: the queued job starts when a token is due", async () => {
    const calls: Calls = []
    const { value } = await run(
      Effect.gen(function* () {
        const a = yield* Job.fork(flaky(calls, "a", 2), { name: "a", pool: "partner", retry: Schedule.recurs(2) })
        yield* Job.fire(flaky(calls, "b", 0), { name: "b", pool: "partner" })
        yield* settle // a failed; its retry waits for the token due at 500
        yield* TestClock.adjust("100 millis")
        const c = yield* Job.fork(flaky(calls, "c", 0), { name: "c", pool: "partner" })
        yield* settle
        const cAt100 = yield* Job.status(c) // no token: it must not start
        yield* TestClock.adjust("400 millis")
        const at500 = [...calls]
        const heldAt500 = (yield* Supervisor.snapshot).pools.find((p) => p.name === "partner")?.heldBy
        yield* TestClock.adjust("1 second")
        return { cAt100, at500, heldAt500, a: yield* Job.join(a), c: yield* Job.join(c) }
      }),
      { pools: partner }
    )
    expect(value.cAt100).toBe("queued")
    // a's retry asked first and takes the token due at 500; c's refill finds it taken and waits for the next
    expect(value.at500).toEqual(["a@0", "b@0", "a@500"])
    expect(value.heldAt500).toBe("rate")
    expect(calls).toEqual(["a@0", "b@0", "a@500", "c@1000", "a@1500"])
    expect([value.a, value.c]).toEqual([3, 1])
  })

  it("a job retrying in a loop and queued jobs take turns at the tokens: neither starves the other", async () => {
    const calls: Calls = []
    const { value } = await run(
      Effect.gen(function* () {
        const a = yield* Job.fork(flaky(calls, "a", 5), { name: "a", pool: "partner", retry: Schedule.recurs(5) })
        yield* Job.fire(flaky(calls, "b", 0), { name: "b", pool: "partner" })
        const queued = [
          yield* Job.fork(flaky(calls, "c1", 0), { name: "c1", pool: "partner" }),
          yield* Job.fork(flaky(calls, "c2", 0), { name: "c2", pool: "partner" }),
          yield* Job.fork(flaky(calls, "c3", 0), { name: "c3", pool: "partner" })
        ]
        yield* settle
        yield* TestClock.adjust("4 seconds")
        return { a: yield* Job.join(a), queued: yield* Effect.forEach(queued, Job.join) }
      }),
      { pools: partner }
    )
    // one token every 500 ms after the burst: the queue and a's retries alternate while both wait,
    // then a's retries have them all
    expect(calls).toEqual([
      "a@0",
      "b@0",
      "c1@500",
      "a@1000",
      "c2@1500",
      "a@2000",
      "c3@2500",
      "a@3000",
      "a@3500",
      "a@4000"
    ])
    expect(value).toEqual({ a: 6, queued: [1, 1, 1] })
  })

  it("a retry waiting for a token keeps its slot: a pool of 1 starts its queued job only after the retry", async () => {
    const calls: Calls = []
    const { value } = await run(
      Effect.gen(function* () {
        const a = yield* Job.fork(flaky(calls, "a", 1), { name: "a", pool: "one", retry: Schedule.recurs(1) })
        const b = yield* Job.fork(flaky(calls, "b", 0), { name: "b", pool: "one" })
        yield* settle
        const statuses = [yield* Job.status(a), yield* Job.status(b)]
        yield* TestClock.adjust("2 seconds")
        return { statuses, a: yield* Job.join(a), b: yield* Job.join(b) }
      }),
      { pools: { one: { concurrency: 1, rate: { limit: 1, interval: "1 second" } } } }
    )
    expect(value.statuses).toEqual(["running", "queued"])
    expect(calls).toEqual(["a@0", "a@1000", "b@2000"])
    expect([value.a, value.b]).toEqual([2, 1])
  })

  it("the wait for a token counts in the job's timeout, and a job that times out there takes none", async () => {
    const calls: Calls = []
    const { value, lines } = await run(
      Effect.gen(function* () {
        const a = yield* Job.fork(flaky(calls, "a", 1), {
          name: "a",
          pool: "slow",
          retry: Schedule.recurs(1),
          timeout: "600 millis"
        })
        yield* settle
        yield* TestClock.adjust("600 millis")
        yield* Job.await(a)
        const b = yield* Job.fork(flaky(calls, "b", 0), { name: "b", pool: "slow" })
        yield* TestClock.adjust("400 millis")
        return { b: yield* Job.join(b) }
      }),
      { pools: { slow: { rate: { limit: 1, interval: "1 second" } } } }
    )
    // timed out at 600 while its second attempt waited for the token due at 1000
    const outcome = linesOf(lines, "a").find((l) => l.annotations["job.outcome"] !== undefined)
    expect(outcome?.annotations).toMatchObject({ "job.outcome": "TimedOut", attempt: 1 })
    // the token due at 1000 is still there for b
    expect(calls).toEqual(["a@0", "b@1000"])
    expect(value.b).toBe(1)
  })

  it("a pool without a rate retries at once", async () => {
    const calls: Calls = []
    const { value } = await run(
      Effect.gen(function* () {
        const handles = [
          yield* Job.fork(flaky(calls, "a", 4), { name: "a", pool: "free", retry: Schedule.recurs(4) }),
          yield* Job.fork(flaky(calls, "b", 4), { name: "b", pool: "free", retry: Schedule.recurs(4) })
        ]
        yield* Supervisor.drain // no Clock time passes
        return yield* Effect.forEach(handles, Job.join)
      }),
      { pools: { free: { concurrency: 2 } } }
    )
    expect(value).toEqual([5, 5])
    expect(timesOf(calls)).toEqual(Array.from({ length: 10 }, () => 0))
  })

  it("the retry lines go through the supervisor's logger, as its outcome lines, not the firing fiber's", async () => {
    const callers: Array<Line> = []
    const { lines } = await run(
      Effect.gen(function* () {
        const calls: Calls = []
        yield* Effect.provide(
          Job.fire(flaky(calls, "a", 2), { name: "a", retry: Schedule.recurs(2) }),
          Logger.layer([recorder(callers)])
        )
        yield* Supervisor.drain
      })
    )
    expect(linesOf(lines, "a").map((l) => l.message)).toEqual([
      "job a attempt 1 failed; retrying",
      "job a attempt 2 failed; retrying",
      "job a succeeded"
    ])
    expect(callers).toEqual([])
  })
})

describe("the Promise API's retry (fake timers: it runs on effect's live Clock)", () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it("rate 2/s, 2 jobs retried 5 times: 2 calls at once, then one per 500 ms", async () => {
    vi.useFakeTimers()
    const sup = supervisor({ pools: partner, logger: { level: "silent" } })
    const t0 = Date.now()
    const calls: Array<number> = []
    for (let i = 0; i < 2; i++)
      sup.fire(
        async () => {
          calls.push(Date.now() - t0)
          throw new Error("503")
        },
        { pool: "partner", retry: { times: 5 } }
      )
    const drained = sup.drain()
    await vi.advanceTimersByTimeAsync(499)
    const before500 = [...calls]
    await vi.advanceTimersByTimeAsync(4501)
    await drained
    await sup.shutdown()
    expect(before500).toEqual([0, 0])
    expect(calls).toEqual([0, 0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000])
  })
})
