/**
 * The supervisor's effect Metrics (`metrics` option): published from its counters every interval
 * of Clock time and at shutdown, read back from a fresh `MetricRegistry`.
 */
import { Cause, Deferred, Effect, Exit, Metric } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { Job, Supervisor, SupervisorConfigError } from "../src/index.js"
import { JobMetrics } from "../src/internal/metrics.js"
import { run, settle } from "./harness.js"

/** Runs `program` under a supervisor built from `config`, a TestClock and a fresh metric registry. */
const runWithMetrics = <A, E>(program: Effect.Effect<A, E, Supervisor.Supervisor>, config: Supervisor.Config) =>
  run(program, config, "All", (effect) => Effect.provideService(effect, Metric.MetricRegistry, new Map())).then(
    ({ value }) => value
  )

const series = (pool: string, extra: Record<string, string> = {}) => ({ supervisor: "etl", pool, ...extra })
const counters = { tributary_jobs_started: JobMetrics.started, tributary_jobs_ended: JobMetrics.ended }
const counterValue = (name: keyof typeof counters, attributes: Record<string, string>) =>
  Effect.map(Metric.value(Metric.withAttributes(counters[name], attributes)), (s) => s.count)
const gaugeValue = (name: "tributary_jobs_running" | "tributary_jobs_queued", attributes: Record<string, string>) =>
  Effect.map(
    Metric.value(
      Metric.withAttributes(name === "tributary_jobs_running" ? JobMetrics.running : JobMetrics.queued, attributes)
    ),
    (s) => s.value
  )

describe("Supervisor metrics", () => {
  it("counters, gauges and the duration histogram per pool, published every interval of Clock time", async () => {
    const value = await runWithMetrics(
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        for (let i = 0; i < 3; i++) yield* Job.fire(Effect.sleep("2 seconds"), { pool: "db" })
        yield* Job.fire(Effect.fail("broken"), { pool: "db" })
        yield* Job.fire(Deferred.await(gate), { pool: "partner" })
        yield* Job.fire(Deferred.await(gate), { pool: "partner" }) // queued behind concurrency 1
        yield* settle
        const before = yield* counterValue("tributary_jobs_started", series("db"))
        yield* TestClock.adjust("1 second")
        const atOneSecond = {
          dbStarted: yield* counterValue("tributary_jobs_started", series("db")),
          dbFailed: yield* counterValue("tributary_jobs_ended", series("db", { outcome: "failed" })),
          dbRunning: yield* gaugeValue("tributary_jobs_running", series("db")),
          partnerQueued: yield* gaugeValue("tributary_jobs_queued", series("partner"))
        }
        yield* TestClock.adjust("1 second")
        const atTwoSeconds = {
          dbSucceeded: yield* counterValue("tributary_jobs_ended", series("db", { outcome: "succeeded" })),
          dbRunning: yield* gaugeValue("tributary_jobs_running", series("db")),
          durations: yield* Metric.value(Metric.withAttributes(JobMetrics.duration, series("db")))
        }
        yield* Deferred.succeed(gate, undefined)
        return { before, atOneSecond, atTwoSeconds }
      }),
      { name: "etl", metrics: { interval: "1 second" }, pools: { db: {}, partner: { concurrency: 1 } } }
    )
    expect(value.before).toBe(0) // nothing is published between two intervals
    expect(value.atOneSecond).toEqual({ dbStarted: 4, dbFailed: 1, dbRunning: 3, partnerQueued: 1 })
    expect(value.atTwoSeconds.dbSucceeded).toBe(3)
    expect(value.atTwoSeconds.dbRunning).toBe(0)
    expect(value.atTwoSeconds.durations.count).toBe(4)
    expect(value.atTwoSeconds.durations.max).toBe(2000)
  })

  it("the queued gauge counts keyed jobs too, as the snapshot's queued does", async () => {
    const value = await runWithMetrics(
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        for (let i = 0; i < 3; i++) yield* Job.fire(Deferred.await(gate), { pool: "keyed", key: "k" }) // concurrency 1: two wait
        yield* Job.fire(Deferred.await(gate), { pool: "keyed" }) // and one without a key
        yield* settle
        yield* TestClock.adjust("1 second")
        const gauge = yield* gaugeValue("tributary_jobs_queued", series("keyed"))
        const snapshot = (yield* Supervisor.snapshot).pools.find((p) => p.name === "keyed")?.queued
        yield* Deferred.succeed(gate, undefined)
        return { gauge, snapshot }
      }),
      { name: "etl", metrics: { interval: "1 second" }, pools: { keyed: { concurrency: 1 } } }
    )
    expect(value).toEqual({ gauge: 3, snapshot: 3 })
  })

  it("every outcome kind, drops and cancelled queued jobs are counted per pool; gauges are back to 0 after drain", async () => {
    const value = await runWithMetrics(
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        yield* Job.fire(Effect.void, { pool: "db" })
        yield* Job.fire(Effect.fail("no"), { pool: "db" })
        yield* Job.fire(Effect.die("defect"), { pool: "db" })
        yield* Job.fire(Effect.never, { pool: "db", timeout: "500 millis" })
        const running = yield* Job.fork(Effect.never, { pool: "db" })
        yield* Job.fire(Deferred.await(gate), { pool: "one" })
        const queued = yield* Job.fork(Effect.void, { pool: "one" }) // behind concurrency 1: the one queue slot
        yield* Job.fire(Effect.void, { pool: "one", name: "dropped" }) // maxQueued 1, whenFull "drop"
        yield* settle
        yield* TestClock.adjust("1 second")
        const gauges = {
          running: yield* gaugeValue("tributary_jobs_running", series("db")),
          queued: yield* gaugeValue("tributary_jobs_queued", series("one"))
        }
        yield* Job.interrupt(running)
        yield* Job.interrupt(queued) // cancelled while queued: ended "interrupted", never started
        yield* Deferred.succeed(gate, undefined)
        yield* Supervisor.drain
        yield* TestClock.adjust("1 second")
        const ended = (pool: string, outcome: string) => counterValue("tributary_jobs_ended", series(pool, { outcome }))
        return {
          gauges,
          db: {
            started: yield* counterValue("tributary_jobs_started", series("db")),
            succeeded: yield* ended("db", "succeeded"),
            failed: yield* ended("db", "failed"),
            interrupted: yield* ended("db", "interrupted"),
            timedOut: yield* ended("db", "timed_out")
          },
          one: {
            started: yield* counterValue("tributary_jobs_started", series("one")),
            succeeded: yield* ended("one", "succeeded"),
            interrupted: yield* ended("one", "interrupted"),
            dropped: yield* Effect.map(
              Metric.value(Metric.withAttributes(JobMetrics.dropped, series("one"))),
              (c) => c.count
            )
          },
          after: {
            running: yield* gaugeValue("tributary_jobs_running", series("db")),
            queued: yield* gaugeValue("tributary_jobs_queued", series("one"))
          }
        }
      }),
      {
        name: "etl",
        metrics: { interval: "1 second" },
        maxQueued: 1,
        whenFull: "drop",
        pools: { db: {}, one: { concurrency: 1 } }
      }
    )
    expect(value.gauges).toEqual({ running: 1, queued: 1 }) // the timed-out job ended at 500 ms
    expect(value.db).toEqual({ started: 5, succeeded: 1, failed: 2, interrupted: 1, timedOut: 1 })
    expect(value.one).toEqual({ started: 1, succeeded: 1, interrupted: 1, dropped: 1 })
    expect(value.after).toEqual({ running: 0, queued: 0 })
  })

  it("the last counts are published at shutdown; no metrics without the option", async () => {
    const value = await runWithMetrics(
      Effect.gen(function* () {
        yield* Job.fire(Effect.void, { pool: "db" })
        yield* Supervisor.drain // ended, but the first interval has not passed: nothing published since the start
        const beforeShutdown = yield* counterValue("tributary_jobs_ended", series("db", { outcome: "succeeded" }))
        yield* Supervisor.shutdown({ grace: 0 })
        const afterShutdown = yield* counterValue("tributary_jobs_ended", series("db", { outcome: "succeeded" }))
        return { beforeShutdown, afterShutdown }
      }),
      { name: "etl", metrics: true, pools: { db: {} } }
    )
    expect(value).toEqual({ beforeShutdown: 0, afterShutdown: 1 })
    const off = await runWithMetrics(
      Effect.gen(function* () {
        yield* Job.fire(Effect.void, { pool: "db" })
        yield* Supervisor.shutdown({ grace: 0 })
        return (yield* Metric.snapshot).filter((m) => m.id.startsWith("tributary_")).length
      }),
      { name: "etl", pools: { db: {} } }
    )
    expect(off).toBe(0)
  })

  it("two supervisors keep their own series; a second running one of the same name is refused (its gauges would overwrite the first's)", async () => {
    const value = await runWithMetrics(
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        const other = yield* Supervisor.make({ name: "other", metrics: { interval: "1 second" } })
        for (let i = 0; i < 3; i++) yield* Job.fire(Deferred.await(gate), { pool: "db" })
        yield* other.fire(Deferred.await(gate))
        const twin = yield* Effect.exit(Effect.scoped(Supervisor.make({ name: "etl", metrics: true })))
        yield* settle
        yield* TestClock.adjust("1 second")
        const running = {
          etl: yield* gaugeValue("tributary_jobs_running", series("db")),
          other: yield* gaugeValue("tributary_jobs_running", { supervisor: "other", pool: "default" })
        }
        yield* Deferred.succeed(gate, undefined)
        yield* other.shutdown()
        // once shut down, its name is free again (a supervisor made anew continues its series)
        const again = yield* Effect.exit(Effect.scoped(Supervisor.make({ name: "other", metrics: true })))
        return { running, twin, again: again._tag }
      }).pipe(Effect.scoped),
      { name: "etl", metrics: { interval: "1 second" }, pools: { db: {} } }
    )
    expect(value.running).toEqual({ etl: 3, other: 1 })
    const defect = Exit.isFailure(value.twin) ? value.twin.cause.reasons.find(Cause.isDieReason)?.defect : undefined
    expect(defect).toBeInstanceOf(SupervisorConfigError)
    expect([(defect as SupervisorConfigError).argument, (defect as SupervisorConfigError).value]).toEqual([
      "name",
      "etl"
    ])
    expect((defect as SupervisorConfigError).message).toMatch(
      /^Invalid Supervisor\.make name: expected a name no other running supervisor with metrics has/
    )
    expect(value.again).toBe("Success")
  })

  it("a bad metrics interval is a SupervisorConfigError naming it", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.scoped(Effect.asVoid(Supervisor.make({ metrics: { interval: 0 } }))) as Effect.Effect<void>
    )
    const defect = Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined
    expect(defect).toBeInstanceOf(SupervisorConfigError)
    expect((defect as SupervisorConfigError).argument).toBe("metrics.interval")
  })
})
