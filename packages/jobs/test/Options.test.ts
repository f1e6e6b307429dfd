/**
 * Misspelt and ill-shaped options and configurations are refused at the call, with a typed error
 * naming the argument and the value: job options in both APIs (a misspelt one was ignored: a job
 * ran without its timeout), supervisor, pool and `runMain` configuration (a pool meant to be
 * bounded ran unbounded), duration objects with no known unit (read as 0 millis: every job timed
 * out at once), and the arguments of `watch`. After each refusal the supervisor works on.
 */
import { Cause, Duration, Effect, Exit, Fiber, Stream } from "effect"
import { TestClock } from "effect/testing"
import pino from "pino"
import { describe, expect, it } from "vitest"
import { Job, JobArgumentError, Supervisor, SupervisorConfigError } from "../src/index.js"
import { item, supervisor } from "../src/promise.js"
import { run, settle, thrownBy } from "./harness.js"

/** The defect `exit` died with, if it is one. */
const defectOf = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined

/** A Promise supervisor that logs nowhere. */
const quiet = (config: Omit<Parameters<typeof supervisor>[0] & object, "logger"> = {}) =>
  supervisor({ ...config, logger: pino({ level: "silent" }) })

/** Options as JavaScript or a config file would build them: no type checks it. */
const loose = (o: unknown): never => o as never

describe("Effect API: job options that are not an object, or hold an unknown key, are a JobArgumentError at the call", () => {
  it("fire, fork, forkAll, all and items: the error names the option and the value, lists the known ones and says which was meant", async () => {
    const work = Effect.void
    const { value } = await run(
      Effect.gen(function* () {
        const calls: ReadonlyArray<Effect.Effect<unknown, unknown, Supervisor.Supervisor>> = [
          Job.fork(Effect.never, loose({ timeOut: "10 millis", retries: 3 })),
          Job.fire(work, loose({ timeOut: "10 millis" })),
          Job.fire(work, loose("fast")),
          Job.fire(work, loose(42)),
          Job.fire(work, loose([])),
          Job.fire(work, loose(null)),
          Job.fork(work, loose("fast")),
          // items built by hand (Job.item itself refuses these at its call: see below)
          Job.all([work, work, loose({ work, options: { timeOut: 5 } })], { concurrency: 1 }),
          Job.all([loose({ work, options: "x" })], { concurrency: 1 }),
          Job.all([loose({ work, options: { keey: "a" } })], { concurrency: 1 }),
          Job.all([loose({ work, options: { id: "x" } })], { concurrency: 1 }),
          Job.all([{ work, option: { name: "n" } } as never], { concurrency: 1 }),
          Job.all([work], loose({ concurency: 2, concurrency: 1 })),
          Job.all([work], loose({ concurrency: 1, id: "g" })),
          Effect.scoped(Job.forkAll([work], loose({ concurrency: 1, prio: 2 }))),
          // forkAll hands every outcome over: a policy would be ignored (Job.all takes one)
          Effect.scoped(Job.forkAll([work], loose({ concurrency: 1, policy: "failFast" }))),
          // fields the supervisor writes on the job's lines: the annotation would be dropped there
          Job.fire(work, { annotations: { "job.outcome": "Success" } }),
          Job.all([Job.item(work, { annotations: { durationMillis: -1 } })], { concurrency: 1 }),
          // an empty name makes lines such as "job  failed"
          Job.fire(work, { name: "" }),
          Job.all([work], { concurrency: 1, name: "" }),
          // null is no value: an item's would read as "not given" and take the group's
          Job.all([loose({ work, options: { timeout: null } })], { concurrency: 1, timeout: "1 second" }),
          Job.all([work], loose({ concurrency: 1, policy: null }))
        ]
        const defects: Array<unknown> = []
        for (const call of calls) defects.push(defectOf(yield* Effect.exit(call)))
        // the supervisor works on: nothing was admitted by the refused calls
        yield* Job.fire(Effect.void, { name: "after", timeout: "1 second" })
        yield* Supervisor.drain
        return { defects, counters: (yield* Supervisor.snapshot).counters }
      })
    )
    for (const defect of value.defects) expect(defect).toBeInstanceOf(JobArgumentError)
    const errors = value.defects as Array<JobArgumentError>
    expect(errors.map((e) => [e.argument, e.value])).toEqual([
      ["timeOut", "10 millis"],
      ["timeOut", "10 millis"],
      ["options", "fast"],
      ["options", 42],
      ["options", []],
      ["options", null],
      ["options", "fast"],
      ["works[2].options.timeOut", 5],
      ["works[0].options", "x"],
      ["works[0].options.keey", "a"],
      ["works[0].options.id", "x"],
      ["works[0].option", { name: "n" }],
      ["concurency", 2],
      ["id", "g"],
      ["prio", 2],
      ["policy", "failFast"],
      ["annotations.job.outcome", "Success"],
      ["works[0].options.annotations.durationMillis", -1],
      ["name", ""],
      ["name", ""],
      ["works[0].options.timeout", null],
      ["policy", null]
    ])
    // each names the call it was given to, a group's items and options included
    expect(errors.map((e) => e.operation)).toEqual([
      "Job.fork",
      "Job.fire",
      "Job.fire",
      "Job.fire",
      "Job.fire",
      "Job.fire",
      "Job.fork",
      ...Array(7).fill("Job.all"),
      "Job.forkAll",
      "Job.forkAll",
      "Job.fire",
      "Job.all",
      "Job.fire",
      "Job.all",
      "Job.all",
      "Job.all"
    ])
    expect(errors[0].message).toBe(
      'Invalid Job.fork timeOut: expected a known option (did you mean timeout?); the known ones are id, name, pool, key, timeout, priority, delay, retry, annotations, reportTo, received "10 millis"'
    )
    expect(errors[2].message).toBe('Invalid Job.fire options: expected an object, received "fast"')
    expect(errors[7].message).toMatch(
      /^Invalid Job\.all works\[2\]\.options\.timeOut: expected a known option \(did you mean timeout\?\)/
    )
    expect(errors[9].message).toContain("(did you mean key?)")
    expect(errors[10].message).toContain("(a group's jobs take no id)")
    expect(errors[11].message).toContain("(did you mean options?)")
    expect(errors[12].message).toContain("(did you mean concurrency?)")
    expect(errors[14].message).toContain("(did you mean priority?)")
    expect(errors[15].message).toBe(
      'Invalid Job.forkAll policy: expected a known option; the known ones are concurrency, name, pool, key, timeout, priority, delay, retry, annotations, reportTo, received "failFast"'
    )
    expect(value.counters).toMatchObject({ started: 1, succeeded: 1 })
  })

  it("the Promise API shares the check: the same message, with the options of its own calls", async () => {
    const sup = quiet()
    const work = async () => 1
    const fired = thrownBy(() => sup.fire(work, loose({ timeOut: 1000 }))) as JobArgumentError
    expect(fired).toBeInstanceOf(JobArgumentError)
    expect(fired.message).toBe(
      "Invalid sup.fire timeOut: expected a known option (did you mean timeout?); the known ones are id, name, pool, key, timeout, priority, delay, retry, annotations, received 1000"
    )
    // a misspelt pool: the one meant, not how to declare the misspelling
    expect((thrownBy(() => sup.run(work, { pool: "defualt" })) as Error).message).toBe(
      'Invalid sup.run pool: expected one of the pools of the supervisor (did you mean default?): default, received "defualt"'
    )
    expect((thrownBy(() => sup.run(work, { pool: "nope" })) as Error).message).toMatch(
      /^Invalid sup\.run pool: expected one of the pools of the supervisor: default \(a pool is declared in its configuration: pools: \{ nope: \{ concurrency: 4 \} \}\), received "nope"$/
    )
    const ran = thrownBy(() => sup.run(work, loose({ timeOut: 1000 }))) as JobArgumentError
    expect([ran.operation, ran.argument, ran.value]).toEqual(["sup.run", "timeOut", 1000])
    expect(ran.message).toMatch(
      /^Invalid sup\.run timeOut: expected a known option \(did you mean timeout\?\);.* signal, received 1000$/
    )
    const all = thrownBy(() => sup.all([work], loose({ concurency: 2 }))) as JobArgumentError
    expect([all.operation, all.argument, all.value]).toEqual(["sup.all", "concurency", 2])
    expect(all.message).toContain("(did you mean concurrency?)")
    expect(all.message).toContain("signal")
    const named = thrownBy(() => sup.all([work], { concurrency: 1, name: Symbol("x") as never })) as JobArgumentError
    expect(named).toBeInstanceOf(JobArgumentError)
    expect(named.argument).toBe("name")
    const own = thrownBy(() => sup.all([item(work, loose({ reportTo: 1 }))], { concurrency: 1 })) as JobArgumentError
    expect(own.argument).toBe("works[0].options.reportTo")
    // a value the group itself refuses (Job.all's check, run by sup.all): named after the call made
    const pool = thrownBy(() => sup.all([item(work, { pool: "nope" })], { concurrency: 1 })) as JobArgumentError
    expect([pool.operation, pool.argument, pool.value]).toEqual(["sup.all", "works[0].options.pool", "nope"])
    expect(pool.message).toMatch(/^Invalid sup\.all works\[0\]\.options\.pool: expected one of the pools/)
    const paused = thrownBy(() => sup.pause(loose({ pol: "db" }))) as JobArgumentError
    expect([paused.operation, paused.argument]).toEqual(["sup.pause", "pol"])
    const resumed = thrownBy(() => sup.resume({ pool: "nope" })) as JobArgumentError
    expect([resumed.operation, resumed.argument]).toEqual(["sup.resume", "pool"])
    const shut = thrownBy(() => sup.shutdown(loose({ grase: 0 }))) as SupervisorConfigError
    expect([shut._tag, shut.operation, shut.argument]).toEqual(["SupervisorConfigError", "sup.shutdown", "grase"])
    expect(await sup.run(work, { name: "after" })).toBe(1)
    await sup.shutdown({ grace: 0 })
  })
})

describe("a misspelt supervisor, pool or runMain option is a SupervisorConfigError naming its path", () => {
  it("Effect make, Promise supervisor and runMain: the key path, the known keys; the same configuration spelt right bounds the pool", async () => {
    const built = async (config: unknown) =>
      defectOf(await Effect.runPromiseExit(Effect.scoped(Effect.asVoid(Supervisor.make(loose(config))))))
    const cases: ReadonlyArray<readonly [unknown, string, unknown]> = [
      [{ pools: { partner: { concurency: 2 } } }, "pools.partner.concurency", 2],
      [{ concurency: 4 }, "concurency", 4],
      [{ pools: { api: { rate: { limit: 1, intervl: "1 second" } } } }, "pools.api.rate.intervl", "1 second"],
      [{ pools: { api: { rate: "fast" } } }, "pools.api.rate", "fast"],
      [{ metrics: { intreval: "1 second" } }, "metrics.intreval", "1 second"],
      [{ pools: [] }, "pools", []]
    ]
    for (const [config, argument, value] of cases) {
      const defect = await built(config)
      expect(defect).toBeInstanceOf(SupervisorConfigError)
      expect([(defect as SupervisorConfigError).argument, (defect as SupervisorConfigError).value]).toEqual([
        argument,
        value
      ])
    }
    expect(((await built(cases[0][0])) as Error).message).toBe(
      "Invalid Supervisor.make pools.partner.concurency: expected a known option (did you mean concurrency?); the known ones are concurrency, perKey, rate, received 2"
    )
    const layered = defectOf(
      await Effect.runPromiseExit(Effect.asVoid(Effect.provide(Effect.void, Supervisor.layer(loose(cases[1][0])))))
    )
    expect(layered).toMatchObject({
      _tag: "SupervisorConfigError",
      operation: "Supervisor.layer",
      argument: "concurency"
    })
    expect((layered as Error).message).toMatch(
      /^Invalid Supervisor\.layer concurency: expected a known option \(did you mean concurrency\?\)/
    )
    // the Promise API: the same error, and its own `logger` among the known keys
    const promised = thrownBy(() => supervisor(loose({ pools: { partner: { concurency: 2 } } })))
    expect(promised).toMatchObject({
      _tag: "SupervisorConfigError",
      operation: "supervisor",
      argument: "pools.partner.concurency"
    })
    expect((promised as Error).message).toMatch(
      /^Invalid supervisor pools\.partner\.concurency: expected a known option/
    )
    const logger = thrownBy(() => supervisor(loose({ loger: { level: "info" } }))) as SupervisorConfigError
    expect([logger._tag, logger.operation, logger.argument]).toEqual(["SupervisorConfigError", "supervisor", "loger"])
    expect(logger.message).toContain("(did you mean logger?)")
    // runMain: refused at the call, before anything is installed
    const listeners = () => process.listenerCount("SIGINT") + process.listenerCount("exit")
    const before = listeners()
    for (const [options, argument] of [
      [{ forceAftr: "1 second" }, "forceAftr"],
      [{ supervisor: { concurency: 2 } }, "supervisor.concurency"],
      [{ supervisor: { pools: { db: { perkey: 1 } } } }, "supervisor.pools.db.perkey"]
    ] as const) {
      const thrown = thrownBy(() => Supervisor.runMain(Effect.void, loose(options)))
      expect(thrown).toBeInstanceOf(SupervisorConfigError)
      expect((thrown as SupervisorConfigError).argument).toBe(argument)
      expect((thrown as SupervisorConfigError).message).toMatch(/^Invalid Supervisor\.runMain /)
    }
    expect(listeners()).toBe(before)
    // spelt right, the pool is bounded: 2 of 10 jobs run at once
    const { value } = await run(
      Effect.gen(function* () {
        for (let i = 0; i < 10; i++) yield* Job.fire(Effect.never, { pool: "partner" })
        const running = (yield* Supervisor.snapshot).pools.find((p) => p.name === "partner")?.running
        yield* Supervisor.shutdown({ grace: 0 })
        return running
      }),
      { pools: { partner: { concurrency: 2 } } }
    )
    expect(value).toBe(2)
  })
})

describe("a duration object must hold one or more of effect's units, and nothing else", () => {
  it("{ second: 5 }, {} and { seconds: NaN } are refused where a duration goes; { seconds: 5 } times a job out after 5 seconds", async () => {
    const bad = [{ second: 5 }, {}, { seconds: Number.NaN }, { seconds: "5" }, { sec: 30, seconds: 1 }]
    const { value } = await run(
      Effect.gen(function* () {
        const refused: Array<unknown> = []
        for (const d of bad) {
          refused.push(defectOf(yield* Effect.exit(Job.fire(Effect.never, { timeout: loose(d) }))))
          refused.push(defectOf(yield* Effect.exit(Job.fork(Effect.void, { delay: loose(d) }))))
          refused.push(defectOf(yield* Effect.exit(Job.all([Effect.void], { concurrency: 1, timeout: loose(d) }))))
          refused.push(defectOf(yield* Effect.exit(Supervisor.shutdown({ grace: loose(d) }))))
        }
        // the supervisor works on, and a good duration object is read in full
        const h = yield* Job.fork(Effect.never, { name: "five", timeout: { seconds: 5 } })
        const pair = yield* Job.fork(Effect.never, { name: "pair", timeout: [2, 0] })
        yield* Job.fire(Effect.void, { name: "duration", timeout: Duration.seconds(1), delay: { milliseconds: 10 } })
        yield* TestClock.adjust("4 seconds")
        const at4 = yield* Job.status(h)
        yield* TestClock.adjust("1 second")
        yield* settle
        return {
          refused,
          at4,
          at5: yield* Job.status(h),
          pair: yield* Job.status(pair),
          snap: yield* Supervisor.snapshot
        }
      })
    )
    expect(value.refused).toHaveLength(bad.length * 4)
    value.refused.forEach((defect, i) => {
      const [cls, argument] = [
        [JobArgumentError, "timeout"],
        [JobArgumentError, "delay"],
        [JobArgumentError, "timeout"],
        [SupervisorConfigError, "grace"]
      ][i % 4] as [typeof JobArgumentError, string]
      expect(defect).toBeInstanceOf(cls)
      expect((defect as JobArgumentError).argument).toBe(argument)
      expect((defect as JobArgumentError).value).toEqual(bad[Math.floor(i / 4)])
    })
    expect((value.refused[0] as Error).message).toBe(
      'Invalid Job.fire timeout: expected a duration ≥ 0 (an object takes one or more of weeks, days, hours, minutes, seconds, milliseconds, microseconds, nanoseconds), received {"second":5}'
    )
    expect(value.refused.slice(0, 4).map((e) => (e as JobArgumentError).operation)).toEqual([
      "Job.fire",
      "Job.fork",
      "Job.all",
      "Supervisor.shutdown"
    ])
    expect([value.at4, value.at5, value.pair]).toEqual(["running", "done", "done"])
    expect(value.snap.counters).toMatchObject({ started: 3, succeeded: 1, timedOut: 2 })
  })

  it("in configuration: grace, a rate's interval, metrics, runMain's forceAfter; in the Promise API: timeout and retry.delay", async () => {
    const built = async (config: Supervisor.Config) =>
      defectOf(await Effect.runPromiseExit(Effect.scoped(Effect.asVoid(Supervisor.make(config)))))
    for (const [config, argument] of [
      [{ grace: loose({ sec: 30 }) }, "grace"],
      [{ pools: { api: { rate: { limit: 1, interval: loose({}) } } } }, "pools.api.rate.interval"],
      [{ metrics: { interval: loose({ second: 1 }) } }, "metrics.interval"]
    ] as const) {
      const defect = await built(config)
      expect(defect).toBeInstanceOf(SupervisorConfigError)
      expect((defect as SupervisorConfigError).argument).toBe(argument)
    }
    expect(thrownBy(() => Supervisor.runMain(Effect.void, { forceAfter: loose({ secs: 1 }) }))).toMatchObject({
      _tag: "SupervisorConfigError",
      argument: "forceAfter"
    })
    const sup = quiet({ grace: { seconds: 30 } })
    const work = async () => 1
    expect(thrownBy(() => sup.fire(work, { timeout: loose({ second: 5 }) }))).toMatchObject({
      _tag: "JobArgumentError",
      argument: "timeout"
    })
    expect(thrownBy(() => sup.run(work, { retry: { times: 1, delay: loose({}) } }))).toMatchObject({
      _tag: "JobArgumentError",
      argument: "retry.delay"
    })
    expect(await sup.run(work, { timeout: { minutes: 1 } })).toBe(1)
    await sup.shutdown({ grace: 0 })
  })
})

describe("arguments are named as the caller wrote them", () => {
  it("runMain's supervisor options are supervisor.<option>; watch's and pause's arguments are JobArgumentErrors naming the call", async () => {
    const conc = thrownBy(() => Supervisor.runMain(Effect.void, { supervisor: { concurrency: 0 } }))
    expect(conc).toBeInstanceOf(SupervisorConfigError)
    expect((conc as SupervisorConfigError).argument).toBe("supervisor.concurrency")
    expect(thrownBy(() => Supervisor.runMain(Effect.void, { supervisor: loose(5) }))).toMatchObject({
      argument: "supervisor"
    })
    const { value } = await run(
      Effect.gen(function* () {
        const interval = defectOf(yield* Effect.exit(Stream.runCollect(Supervisor.watch(-1))))
        const listLimit = defectOf(
          yield* Effect.exit(Stream.runCollect(Supervisor.watch("1 second", { listLimit: -1 })))
        )
        // misspelt options of a call: a limit that would list every job, a pause of every pool, the configured grace
        const misspelt = [
          defectOf(yield* Effect.exit(Stream.runCollect(Supervisor.watch("1 second", loose({ listlimit: 1 }))))),
          defectOf(yield* Effect.exit(Supervisor.pause(loose({ pol: "db" })))),
          defectOf(yield* Effect.exit(Supervisor.shutdown(loose({ grase: 0 }))))
        ]
        // the supervisor works on, and so does a watch with good arguments
        yield* Job.fire(Effect.void, { name: "after" })
        yield* Supervisor.drain
        const watching = yield* Effect.forkChild(Stream.runCollect(Stream.take(Supervisor.watch({ seconds: 1 }), 2)))
        yield* TestClock.adjust("1 second")
        const progress = Array.from(yield* Fiber.join(watching))
        return { interval, listLimit, misspelt, succeeded: progress.map((p) => p.counters.succeeded) }
      })
    )
    expect(value.interval).toBeInstanceOf(JobArgumentError)
    expect((value.interval as JobArgumentError).argument).toBe("interval")
    expect((value.interval as JobArgumentError).message).toBe(
      "Invalid Supervisor.watch interval: expected a finite duration > 0, received -1"
    )
    expect(value.listLimit).toBeInstanceOf(JobArgumentError)
    expect((value.listLimit as JobArgumentError).argument).toBe("listLimit")
    expect(value.misspelt.map((e) => [(e as Error).constructor.name, (e as JobArgumentError).argument])).toEqual([
      ["JobArgumentError", "listlimit"],
      ["JobArgumentError", "pol"],
      ["SupervisorConfigError", "grase"]
    ])
    expect((value.misspelt[0] as Error).message).toBe(
      "Invalid Supervisor.watch listlimit: expected a known option (did you mean listLimit?); the known ones are listLimit, received 1"
    )
    expect((value.misspelt[1] as Error).message).toBe(
      'Invalid Supervisor.pause pol: expected a known option (did you mean pool?); the known ones are pool, received "db"'
    )
    expect((value.misspelt[2] as Error).message).toBe(
      "Invalid Supervisor.shutdown grase: expected a known option (did you mean grace?); the known ones are grace, received 0"
    )
    // nothing was paused, nothing shut down: the job after ran
    expect(value.succeeded).toEqual([1, 1])
  })
})

describe("the Supervisor service's own calls are named sup.<call>", () => {
  it("fire, fork, pause, resume, watch and shutdown of the service name it, not the module's functions", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const sup = yield* Supervisor.Supervisor
        const defects = [
          defectOf(yield* Effect.exit(sup.fire(Effect.void, loose({ timeOut: 1 })))),
          defectOf(yield* Effect.exit(sup.fork(Effect.void, { pool: "nope" }))),
          defectOf(yield* Effect.exit(sup.pause(loose({ pol: "db" })))),
          defectOf(yield* Effect.exit(sup.resume({ pool: "nope" }))),
          defectOf(yield* Effect.exit(Stream.runCollect(sup.watch(-1)))),
          defectOf(yield* Effect.exit(Effect.suspend(() => sup.shutdown(loose({ grase: 0 })))))
        ]
        // nothing was admitted, paused or shut down: a job after them runs
        yield* sup.fire(Effect.void, { name: "after" })
        yield* sup.drain
        return { defects, succeeded: (yield* sup.snapshot).counters.succeeded }
      })
    )
    expect(value.defects.map((e) => [(e as JobArgumentError)._tag, (e as JobArgumentError).operation])).toEqual([
      ["JobArgumentError", "sup.fire"],
      ["JobArgumentError", "sup.fork"],
      ["JobArgumentError", "sup.pause"],
      ["JobArgumentError", "sup.resume"],
      ["JobArgumentError", "sup.watch"],
      ["SupervisorConfigError", "sup.shutdown"]
    ])
    expect((value.defects[1] as Error).message).toMatch(
      /^Invalid sup\.fork pool: expected one of the pools of (the supervisor|supervisor ")/
    )
    expect(value.succeeded).toBe(1)
  })
})

describe("Job.item refuses ill-shaped options at its own call", () => {
  it("options that are not an object, and an unknown key, throw JobArgumentError naming them", () => {
    const thrown = (f: () => unknown): unknown => {
      try {
        f()
      } catch (error) {
        return error
      }
      return undefined
    }
    expect(thrown(() => Job.item(Effect.void, "x" as never))).toMatchObject({
      _tag: "JobArgumentError",
      argument: "options"
    })
    expect(thrown(() => Job.item(Effect.void, { timeOut: "1 second" } as never))).toMatchObject({
      _tag: "JobArgumentError",
      operation: "Job.item",
      argument: "timeOut",
      message:
        'Invalid Job.item timeOut: expected a known option (did you mean timeout?); the known ones are name, pool, key, timeout, priority, delay, retry, annotations, received "1 second"'
    })
    expect(Job.item(Effect.void, { name: "fine", timeout: "1 second" }).options).toEqual({
      name: "fine",
      timeout: "1 second"
    })
  })
})
