/**
 * `Supervisor.snapshot`'s model (pools and what holds them back, duration percentiles, the last
 * failures), `Supervisor.watch` (a stream of snapshots with rates, timed by `TestClock`), and the
 * public service interface.
 */
import { Cause, Context, Deferred, type Duration, Effect, Exit, Fiber, Stream } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { Job, JobArgumentError, Supervisor } from "../src/index.js"
import { run, settle } from "./harness.js"

describe("Supervisor.snapshot", () => {
  it("shows each pool with its limits and what holds its queued jobs back", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        const wait = Deferred.await(gate)
        for (let i = 0; i < 3; i++) yield* Job.fire(wait, { pool: "db" }) // concurrency 2: one waits
        for (let i = 0; i < 3; i++) yield* Job.fire(wait, { pool: "partner" }) // rate 2 per minute: one waits
        for (const key of ["a", "a", "b"]) yield* Job.fire(wait, { pool: "keyed", key }) // perKey 1: one "a" waits
        yield* settle
        const snap = yield* Supervisor.snapshot
        yield* Deferred.succeed(gate, undefined)
        yield* Supervisor.shutdown({ grace: 0 }) // the rate-limited job would wait a minute for its token
        return snap
      }),
      {
        pools: {
          db: { concurrency: 2 },
          partner: { rate: { limit: 2, interval: "1 minute" } },
          keyed: { perKey: 1 }
        }
      }
    )
    const pools = Object.fromEntries(value.pools.map((p) => [p.name, p]))
    expect(Object.keys(pools)).toEqual(["default", "db", "partner", "keyed"])
    expect(pools.db).toMatchObject({ running: 2, queued: 1, heldBy: "concurrency", concurrency: 2 })
    expect(pools.partner).toMatchObject({ running: 2, queued: 1, heldBy: "rate" })
    expect(pools.partner.rate).toEqual({ limit: 2, intervalMillis: 60_000, tokens: 0 })
    expect(pools.keyed).toMatchObject({ running: 2, queued: 1, heldBy: "perKey", perKey: 1 })
    expect(pools.keyed.keys).toEqual([
      { key: "a", running: 1, queued: 1, heldBy: "perKey" },
      { key: "b", running: 1, queued: 0, heldBy: undefined }
    ])
    expect(pools.default).toMatchObject({ running: 0, queued: 0, heldBy: undefined })
    expect(value.supervisor).toBe("supervisor")
    expect(value.closed).toBe(false)
  })

  it("lists a pool's keys most queued first", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        // "a" is seen first, but "b" has more jobs waiting
        for (const key of ["a", "a", "b", "b", "b", "b"]) yield* Job.fire(Deferred.await(gate), { pool: "keyed", key })
        yield* settle
        const snap = yield* Supervisor.snapshot
        yield* Deferred.succeed(gate, undefined)
        return snap.pools.find((p) => p.name === "keyed")?.keys
      }),
      { pools: { keyed: { concurrency: 2, perKey: 1 } } }
    )
    expect(value?.map((k) => [k.key, k.running, k.queued])).toEqual([
      ["b", 1, 3],
      ["a", 1, 1]
    ])
  })

  it("the last failures are failures and timeouts: a shutdown's interruptions do not push them out", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        yield* Job.fire(Effect.fail("broken"), { name: "failed" })
        yield* Job.fire(Effect.never, { name: "slow", timeout: "1 second" })
        yield* settle
        yield* TestClock.adjust("1 second")
        for (let i = 0; i < 30; i++) yield* Job.fire(Effect.never, { name: `stuck-${i}` }) // 2 run, 28 wait
        yield* settle
        yield* Supervisor.shutdown({ grace: 0 })
        return yield* Supervisor.snapshot
      }),
      { concurrency: 2 }
    )
    expect(value.counters.interrupted).toBe(30)
    expect(value.recentFailures.map((o) => [o.name, o._tag])).toEqual([
      ["slow", "TimedOut"],
      ["failed", "Failure"]
    ])
  })

  it("counts the fires waiting for room in a full queue (whenFull: wait), which no pool holds yet", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        yield* Job.fire(Effect.never, { name: "running" })
        yield* Job.fire(Effect.void, { name: "queued" })
        for (let i = 0; i < 3; i++) yield* Effect.forkChild(Job.fire(Effect.void, { name: `waiting-${i}` }))
        yield* settle
        const during = yield* Supervisor.snapshot
        yield* Supervisor.shutdown({ grace: 0 })
        return { during, after: yield* Supervisor.snapshot }
      }),
      { concurrency: 1, maxQueued: 1 }
    )
    expect(value.during.totals).toEqual({ running: 1, queued: 1, delayed: 0 })
    expect(value.during.waitingForRoom).toBe(3)
    expect(value.after.waitingForRoom).toBe(0) // their fires failed with SupervisorClosedError
  })

  it("duration percentiles over the last jobs, and the last failures newest first (at most 20)", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        for (let s = 1; s <= 100; s++) yield* Job.fire(Effect.sleep(`${s} seconds`), { name: `sleep-${s}` })
        for (let i = 0; i < 25; i++) yield* Job.fire(Effect.fail(`no ${i}`), { name: `fail-${i}`, pool: "p" })
        yield* settle
        yield* TestClock.adjust("100 seconds")
        yield* Supervisor.drain
        return yield* Supervisor.snapshot
      }),
      { concurrency: 200, pools: { p: {} } }
    )
    // 25 failures of 0 ms, then 1 s … 100 s: nearest rank 63 of 125 is the 38th sleep
    expect(value.durations).toEqual({ count: 125, p50: 38_000, p90: 88_000, p99: 99_000, max: 100_000 })
    expect(value.recentFailures.map((o) => o.name)).toEqual(Array.from({ length: 20 }, (_, i) => `fail-${24 - i}`))
    expect(value.pools.find((p) => p.name === "p")?.counters).toEqual({
      succeeded: 0,
      failed: 25,
      interrupted: 0,
      timedOut: 0
    })
  })
})

describe("Supervisor.watch", () => {
  it("a snapshot at once, then one per interval of Clock time, with rates since the previous", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const watching = yield* Effect.forkChild(Stream.runCollect(Stream.take(Supervisor.watch("1 second"), 3)))
        yield* settle
        for (let i = 0; i < 4; i++) yield* Job.fire(Effect.sleep("500 millis"))
        yield* settle
        yield* TestClock.adjust("1 second")
        yield* settle
        for (let i = 0; i < 2; i++) yield* Job.fire(Effect.fail("x"))
        yield* settle
        yield* TestClock.adjust("1 second")
        return yield* Fiber.join(watching)
      })
    )
    const progress = Array.from(value)
    expect(progress.map((p) => p.at)).toEqual([0, 1000, 2000])
    expect(progress.map((p) => p.counters.succeeded)).toEqual([0, 4, 4])
    expect(progress.map((p) => p.rates)).toEqual([
      { started: 0, ended: 0, failed: 0 },
      { started: 4, ended: 4, failed: 0 },
      { started: 2, ended: 2, failed: 2 }
    ])
  })

  it("a slow consumer does not stretch the interval: snapshots stay one interval apart", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        // the consumer takes 400 ms of Clock time per snapshot (say, rendering)
        const slow = Supervisor.watch("1 second").pipe(
          Stream.tap(() => Effect.sleep("400 millis")),
          Stream.take(3)
        )
        const watching = yield* Effect.forkChild(Stream.runCollect(slow))
        for (let i = 0; i < 20; i++) {
          yield* settle
          yield* TestClock.adjust("200 millis")
        }
        return Array.from(yield* Fiber.join(watching)).map((p) => p.at)
      })
    )
    expect(value).toEqual([0, 1000, 2000])
  })

  it("ends with a last snapshot once the supervisor has shut down", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const watching = yield* Effect.forkChild(Stream.runCollect(Supervisor.watch("1 second")))
        yield* settle
        yield* Supervisor.shutdown({ grace: 0 })
        yield* TestClock.adjust("1 second")
        return Array.from(yield* Fiber.join(watching)).map((p) => p.closed)
      })
    )
    expect(value).toEqual([false, true])
  })

  it("ends as soon as the supervisor has shut down, not at its next interval", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const watching = yield* Effect.forkChild(Stream.runCollect(Supervisor.watch("1 hour")))
        yield* settle
        yield* Job.fire(Effect.void)
        yield* Supervisor.drain
        yield* Supervisor.shutdown({ grace: 0 })
        yield* settle
        const endedAtShutdown = watching.pollUnsafe() !== undefined // no Clock time has passed
        yield* TestClock.adjust("1 hour") // lets the test end when the stream waits (the defect)
        const progress = Array.from(yield* Fiber.join(watching))
        return { endedAtShutdown, last: progress.map((p) => [p.at, p.closed, p.counters.succeeded]) }
      })
    )
    expect(value.endedAtShutdown).toBe(true)
    expect(value.last).toEqual([
      [0, false, 0],
      [0, true, 1]
    ])
  })

  it("a bad interval dies with JobArgumentError naming watch's argument, with one message for every bad value", async () => {
    for (const interval of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, "abc", "-5 seconds", {}]) {
      const { value } = await run(Effect.exit(Stream.runCollect(Supervisor.watch(interval as Duration.Input))))
      const defect = Exit.isFailure(value) ? value.cause.reasons.find(Cause.isDieReason)?.defect : undefined
      expect(defect).toBeInstanceOf(JobArgumentError)
      expect((defect as JobArgumentError).argument).toBe("interval")
      expect((defect as JobArgumentError).operation).toBe("Supervisor.watch")
      expect((defect as JobArgumentError).message).toMatch(
        /^Invalid Supervisor\.watch interval: expected a finite duration > 0\b/
      )
    }
  })

  it("listLimit: each snapshot lists the oldest running, queued and delayed jobs, and counts them all", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        for (let i = 0; i < 5; i++) yield* Job.fire(Effect.never, { name: `r${i}` }) // concurrency 3: two wait
        yield* Supervisor.pause({ pool: "held" })
        for (let i = 0; i < 4; i++) yield* Job.fire(Effect.void, { name: `q${i}`, pool: "held" })
        for (let i = 0; i < 3; i++) yield* Job.fire(Effect.void, { name: `d${i}`, delay: "1 minute" })
        yield* settle
        const [first] = yield* Stream.runCollect(Stream.take(Supervisor.watch("1 second", { listLimit: 2 }), 1))
        const whole = yield* Supervisor.snapshot
        yield* Supervisor.shutdown({ grace: 0 })
        return { first, whole }
      }),
      { concurrency: 3, pools: { held: {} } }
    )
    const names = (jobs: ReadonlyArray<{ readonly name: string }>) => jobs.map((j) => j.name)
    expect(names(value.first.running)).toEqual(["r0", "r1"])
    expect(names(value.first.queued)).toEqual(["r3", "r4"])
    expect(names(value.first.delayed)).toEqual(["d0", "d1"])
    expect(value.first.totals).toEqual({ running: 3, queued: 6, delayed: 3 })
    // a plain snapshot lists them all, with the same totals
    expect(names(value.whole.queued)).toEqual(["r3", "r4", "q0", "q1", "q2", "q3"])
    expect(value.whole.totals).toEqual(value.first.totals)
  })

  it("a bad listLimit dies with JobArgumentError naming it", async () => {
    for (const listLimit of [-1, 1.5, Number.NaN]) {
      const { value } = await run(Effect.exit(Stream.runCollect(Supervisor.watch("1 second", { listLimit }))))
      const defect = Exit.isFailure(value) ? value.cause.reasons.find(Cause.isDieReason)?.defect : undefined
      expect(defect).toBeInstanceOf(JobArgumentError)
      expect([(defect as JobArgumentError).argument, (defect as JobArgumentError).value]).toEqual([
        "listLimit",
        listLimit
      ])
    }
  })
})

describe("the Supervisor service", () => {
  it("exposes the operations users may call, not the supervisor's state", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const service = yield* Supervisor.Supervisor
        yield* Job.fire(Effect.void, { name: "one" })
        yield* service.drain
        return { keys: Object.keys(service).sort(), name: service.name, snap: yield* service.snapshot }
      })
    )
    expect(value.keys).toEqual([
      "drain",
      "fire",
      "fork",
      "name",
      "outcomes",
      "pause",
      "resume",
      "shutdown",
      "snapshot",
      "watch"
    ])
    expect(value.name).toBe("supervisor")
    expect(value.snap.counters.succeeded).toBe(1)
  })

  it("fire and fork run on that supervisor, with the caller's services and every option", async () => {
    class Greeting extends Context.Service<Greeting, string>()("test/Greeting") {}
    const { value } = await run(
      Effect.gen(function* () {
        // a second supervisor, held as a value: its jobs are not the context's supervisor's
        const other = yield* Supervisor.make({ name: "other", pools: { db: { concurrency: 1 } } })
        const gate = yield* Deferred.make<void>()
        const seen: Array<string> = []
        const work = (n: number) =>
          Effect.gen(function* () {
            yield* Deferred.await(gate)
            seen.push(`${yield* Greeting} ${n}`)
            return n
          })
        yield* other.fire(work(1), { name: "fired", pool: "db" })
        const handle = yield* other.fork(work(2), { name: "forked", pool: "db" })
        yield* settle
        const during = yield* other.snapshot // pool db has concurrency 1: one runs, one waits
        yield* Deferred.succeed(gate, undefined)
        const joined = yield* Job.join(handle)
        yield* other.drain
        return {
          during,
          joined,
          seen,
          after: yield* other.snapshot,
          here: yield* Supervisor.snapshot
        }
      }).pipe(Effect.provideService(Greeting, "hello"), Effect.scoped)
    )
    expect(value.during.running.map((j) => j.name)).toEqual(["fired"])
    expect(value.during.queued.map((j) => j.name)).toEqual(["forked"])
    expect(value.joined).toBe(2)
    expect(value.seen).toEqual(["hello 1", "hello 2"])
    expect(value.after.counters).toMatchObject({ started: 2, succeeded: 2 })
    expect(value.here.counters.started).toBe(0) // nothing ran on the context's supervisor
  })
})
