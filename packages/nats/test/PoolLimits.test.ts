/**
 * A worker's pool limits hold for jobs fired from another supervisor through NATS, as in-process:
 * a pool's `rate` and its `perKey` cap, on an in-process worker against a real nats-server. The
 * firing side's pools set no limit, so only the worker's bound the jobs; every outcome reaches the
 * firing side once (one outcome line each), and each job ran once on the worker.
 *
 * How the tests stay deterministic:
 * - The rate test runs the worker on a TestClock (its Clock and its Scheduler, from
 *   `TestClock.layer`): no token is earned while NATS round trips take wall time, and time moves
 *   only with `adjust`, which returns once the fibers it woke (the pool's refill timers, the jobs
 *   they started) have suspended. The jobs record the worker's Clock time they started at. The
 *   worker's ack wait is long (1 minute of wall time): its progress acks follow that clock too.
 * - The per-key test needs no time: its jobs wait on gates the test opens.
 * - Each test reads the worker's supervisor through a `probe` job fired last, in a pool without
 *   limits, which returns its snapshot of the pool under test. The messages reach the worker's
 *   supervisor in the order they were published (one stream, one consumer, one firing loop), so
 *   when the probe runs every job fired before it is admitted there: running, or queued and held by
 *   what the snapshot names.
 *
 * Note: the rate is a token bucket refilled continuously (burst = `limit`), not a fixed window:
 * after the burst a token comes every interval/limit, so on the interval grid `limit` jobs start per
 * interval, while a window of one interval starting at the burst sees up to 2 × `limit` − 1 starts.
 * The test asserts the bucket's bound: for any two starts at t1 ≤ t2, the starts from t1 to t2 are
 * at most limit + limit × (t2 − t1) / interval.
 */
import { Job, Supervisor } from "@tributary/jobs"
import { Clock, Context, Deferred, Effect, Layer, Option, Schema } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import * as d from "./fixtures/definitions.js"
import { fire, outcomeTags, startWorker } from "./harness.js"
import { available, skipReason, suiteServer } from "./server.js"

if (!available) console.log(skipReason)

/** a generous safety net on a wait that the test expects to end (on the firing side's live clock) */
const within = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.timeout(effect, "20 seconds")

/**
 * Reports the pool `pool` of the worker's supervisor (the `Supervisor` of the job's own context):
 * its running and queued jobs, why they wait, its tokens, and its keys (by name).
 */
const probe = Job.define({
  name: "probe",
  payload: Schema.Struct({ pool: Schema.String }),
  run: ({ pool }) =>
    Effect.gen(function* () {
      const supervisor = yield* Effect.serviceOption(Supervisor.Supervisor)
      if (Option.isNone(supervisor)) return yield* Effect.die(new Error("no Supervisor in the probe's context"))
      const snapshot = yield* supervisor.value.snapshot
      const p = snapshot.pools.find((p) => p.name === pool)
      if (p === undefined) return yield* Effect.die(new Error(`no pool ${pool} on the worker`))
      return {
        running: p.running,
        queued: p.queued,
        heldBy: p.heldBy ?? null,
        tokens: p.rate?.tokens ?? null,
        keys: Object.fromEntries(
          p.keys.map((k) => [k.key, { running: k.running, queued: k.queued, heldBy: k.heldBy ?? null }])
        )
      }
    })
})

/** fires the probe of `pool` (in the worker's pool "probe", without limits) and waits for its report */
const probeOf = (pool: string) =>
  Effect.flatMap(Job.fork(probe.make({ pool }), { pool: "probe" }), (h) => within(Job.join(h)))

/** the worker's Clock time each `rated` job started at, in order of start */
const ratedStarts: Array<{ readonly n: number; readonly at: number }> = []
/** records its start (`ratedStarts`), then returns n */
const rated = Job.define({
  name: "rated",
  payload: Schema.Struct({ n: Schema.Number }),
  run: ({ n }) =>
    Effect.map(Clock.currentTimeMillis, (at) => {
      ratedStarts.push({ n, at })
      return n
    })
})

/** jobs of `keyed` running now and at most, in all and per key; the ns of those started, in order */
const keyedRuns = {
  running: 0,
  most: 0,
  runningByKey: new Map<string, number>(),
  mostByKey: new Map<string, number>(),
  started: [] as Array<number>
}
/** the gate the test opens to let the `keyed` job n end */
const releaseOf = (n: number) => d.gateOf(100_000 + n).started
/** counts itself running (in all and per key), opens `gateOf(n).started`, then returns n once released */
const keyed = Job.define({
  name: "keyed",
  payload: Schema.Struct({ n: Schema.Number, key: Schema.String }),
  run: ({ n, key }) =>
    Effect.suspend(() => {
      const runs = keyedRuns
      const now = (runs.runningByKey.get(key) ?? 0) + 1
      runs.runningByKey.set(key, now)
      runs.mostByKey.set(key, Math.max(runs.mostByKey.get(key) ?? 0, now))
      runs.most = Math.max(runs.most, ++runs.running)
      runs.started.push(n)
      return Effect.andThen(
        Deferred.succeed(d.gateOf(n).started, undefined),
        Effect.as(Deferred.await(releaseOf(n)), n)
      )
    }).pipe(
      Effect.ensuring(
        Effect.sync(() => {
          keyedRuns.running--
          keyedRuns.runningByKey.set(key, keyedRuns.runningByKey.get(key)! - 1)
        })
      )
    )
})

const definitions = [probe, rated, keyed]
/** the firing side's pools: the names the worker knows, without limits */
const firingPools = { concurrency: 100, pools: { partner: {}, probe: {} } }

describe.skipIf(!available)("a worker's pool limits on jobs fired through NATS", () => {
  const server = suiteServer()

  it("a pool's rate: `limit` start at once, the rest wait for tokens of the worker's Clock; outcomes once each", async () => {
    ratedStarts.length = 0
    const limit = 3
    const interval = 1_000
    // the worker's Clock and Scheduler; the layer's scope only ends the clock's "not adjusted" warning
    const clockServices = Effect.runSync(Effect.scoped(Layer.build(TestClock.layer())))
    const clock = Context.get(clockServices, Clock.Clock) as TestClock.TestClock
    let worker: ReturnType<typeof startWorker> | undefined
    try {
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          // started once this side's layer has made the streams (on the live clock)
          worker = startWorker(
            server.url,
            "rated",
            {
              prefix: "rate",
              definitions,
              ackWait: "1 minute",
              pools: { partner: { rate: { limit, interval } }, probe: {} }
            },
            clockServices
          )
          const handles = yield* Effect.forEach(
            Array.from({ length: 10 }, (_, n) => n),
            (n) => Job.fork(rated.make({ n }), { pool: "partner" })
          )
          const first = yield* probeOf("partner")
          /** how many had started at Clock time 0, 1 s, 2 s, 3 s */
          const startedBy = [ratedStarts.length]
          for (let i = 1; i <= 3; i++) {
            yield* clock.adjust(interval)
            startedBy.push(ratedStarts.length)
          }
          const values = yield* within(Effect.forEach(handles, Job.join))
          return { ids: handles.map((h) => h.id), first, startedBy, values }
        }),
        firingPools,
        "rate"
      )
      // at Clock time 0: a burst of `limit`; the other 7 queued on the worker, held by the rate
      expect(value.first).toMatchObject({ queued: 7, heldBy: "rate", tokens: 0 })
      expect(ratedStarts.slice(0, limit).map((s) => s.at)).toEqual([0, 0, 0])
      // on the interval grid, `limit` more per interval (the last interval has only one left)
      expect(value.startedBy).toEqual([3, 6, 9, 10])
      // the token bucket's bound between any two starts
      const at = ratedStarts.map((s) => s.at)
      for (let i = 0; i < at.length; i++)
        for (let j = i; j < at.length; j++)
          expect(j - i + 1, `starts ${i}..${j} at ${at[i]}..${at[j]} ms`).toBeLessThanOrEqual(
            limit + (limit * (at[j]! - at[i]!)) / interval
          )
      // after the burst, a token (a start) every interval / limit, never sooner
      for (let i = limit; i < at.length; i++)
        expect(at[i]! - at[i - 1]!, `start ${i}`).toBeGreaterThanOrEqual(Math.floor(interval / limit))
      // each job ran once on the worker, and its outcome reached the firing side once
      expect(ratedStarts.map((s) => s.n).sort((x, y) => x - y)).toEqual(Array.from({ length: 10 }, (_, n) => n))
      expect(value.values).toEqual(Array.from({ length: 10 }, (_, n) => n))
      expect(value.ids.map((id) => outcomeTags(lines, id))).toEqual(value.ids.map(() => ["Success"]))
    } finally {
      await worker?.stop()
    }
  })

  it("a pool's perKey cap of 1: one job of a key runs at a time while other keys run; outcomes once each", async () => {
    keyedRuns.started.length = 0
    keyedRuns.mostByKey.clear()
    keyedRuns.most = 0
    const w = startWorker(server.url, "keyed", {
      prefix: "per-key",
      definitions,
      pools: { partner: { perKey: 1 }, probe: {} }
    })
    /** three jobs of key "a", one of "b", one of "c" (fired in this order) */
    const jobs = [
      { n: 4101, key: "a" },
      { n: 4102, key: "a" },
      { n: 4103, key: "a" },
      { n: 4104, key: "b" },
      { n: 4105, key: "c" }
    ]
    const started = (n: number) => within(Deferred.await(d.gateOf(n).started))
    const release = (n: number) => Deferred.succeed(releaseOf(n), undefined)
    try {
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          const handles = yield* Effect.forEach(jobs, (j) => Job.fork(keyed.make(j), { pool: "partner", key: j.key }))
          yield* Effect.forEach([4101, 4104, 4105], started)
          const first = yield* probeOf("partner")
          const startedFirst = [...keyedRuns.started]
          // a's first ends: its second starts, its third still waits behind it
          yield* release(4101)
          yield* started(4102)
          const startedSecond = [...keyedRuns.started]
          yield* release(4102)
          yield* started(4103)
          yield* Effect.forEach([4103, 4104, 4105], release)
          const values = yield* within(Effect.forEach(handles, Job.join))
          return { ids: handles.map((h) => h.id), first, startedFirst, startedSecond, values }
        }),
        firingPools,
        "per-key"
      )
      // all five admitted on the worker: a's first runs with b and c, a's others queued behind its cap
      expect(value.first).toEqual({
        running: 3,
        queued: 2,
        heldBy: "perKey",
        tokens: null,
        keys: {
          a: { running: 1, queued: 2, heldBy: "perKey" },
          b: { running: 1, queued: 0, heldBy: null },
          c: { running: 1, queued: 0, heldBy: null }
        }
      })
      expect(value.startedFirst).toEqual([4101, 4104, 4105])
      expect(value.startedSecond).toEqual([4101, 4104, 4105, 4102])
      expect(keyedRuns.started).toEqual([4101, 4104, 4105, 4102, 4103])
      // never two of a key at once; other keys ran alongside
      expect(Object.fromEntries(keyedRuns.mostByKey)).toEqual({ a: 1, b: 1, c: 1 })
      expect(keyedRuns.most).toBe(3)
      // each outcome reached the firing side once
      expect(value.values).toEqual(jobs.map((j) => j.n))
      expect(value.ids.map((id) => outcomeTags(lines, id))).toEqual(value.ids.map(() => ["Success"]))
    } finally {
      await w.stop()
    }
  })
})
