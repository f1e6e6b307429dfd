import { PinoLoggerConfigError } from "@tributary/pino"
import { Cause, Duration, Effect, Exit, Schedule } from "effect"
import { describe, expect, it } from "vitest"
import { Job, JobArgumentError, Supervisor, SupervisorClosedError, SupervisorConfigError } from "../src/index.js"
import { run } from "./harness.js"

/** The defect `exit` died with, if it is one. */
const defectOf = (exit: Exit.Exit<unknown, unknown>): unknown => {
  if (Exit.isSuccess(exit)) return undefined
  const die = exit.cause.reasons.find(Cause.isDieReason)
  return die?.defect
}

describe("a bad Supervisor option dies with SupervisorConfigError naming it and the value", () => {
  const cases: ReadonlyArray<readonly [string, Supervisor.Config, string]> = [
    ["concurrency", { concurrency: 0 }, "0"],
    ["concurrency", { concurrency: 2.5 }, "2.5"],
    ["concurrency", { concurrency: Number.NaN }, "NaN"],
    ["maxQueued", { maxQueued: -1 }, "-1"],
    ["whenFull", { whenFull: "block" as never }, '"block"'],
    ["logSuccess", { logSuccess: "loud" as never }, '"loud"'],
    ["grace", { grace: "soon" as never }, '"soon"'],
    ["grace", { grace: -5 }, "-5"],
    ["name", { name: 7 as never }, "7"],
    ["name", { name: "" }, '""'],
    // null would read as "not given": the default, silently
    ["concurrency", { concurrency: null as never }, "null"],
    ["pools.db.perKey", { pools: { db: { perKey: null as never } } }, "null"],
    ["pools.db.concurrency", { pools: { db: { concurrency: -2 } } }, "-2"],
    ["pools.db.perKey", { pools: { db: { perKey: 0 } } }, "0"],
    ["pools.api.rate.limit", { pools: { api: { rate: { limit: 0, interval: "1 second" } } } }, "0"],
    // a bucket that holds less than one token never starts a job
    ["pools.api.rate.limit", { pools: { api: { rate: { limit: 0.5, interval: "1 second" } } } }, "0.5"],
    ["pools.api.rate.interval", { pools: { api: { rate: { limit: 5, interval: 0 } } } }, "0"],
    ["pools.x", { pools: { x: null as never } }, "null"]
  ]
  for (const [argument, config, shown] of cases) {
    it(`${argument}: ${shown}`, async () => {
      const exit = await Effect.runPromiseExit(
        Effect.scoped(Effect.asVoid(Supervisor.make(config))) as Effect.Effect<void, never, never>
      )
      const defect = defectOf(exit)
      expect(defect).toBeInstanceOf(SupervisorConfigError)
      const error = defect as SupervisorConfigError
      expect(error._tag).toBe("SupervisorConfigError")
      expect(error.argument).toBe(argument)
      expect(error.message).toContain(argument)
      expect(error.message).toContain(`received ${shown}`)
    })
  }

  for (const [argument, config, shown] of cases) {
    it(`Supervisor.checkConfig fails with the same error, typed, without starting anything: ${argument}: ${shown}`, async () => {
      const error = await Effect.runPromise(Effect.flip(Supervisor.checkConfig(config)))
      expect(error).toBeInstanceOf(SupervisorConfigError)
      expect(error).toMatchObject({ argument, operation: "Supervisor.checkConfig" })
      expect(error.message).toBe(
        `Invalid Supervisor.checkConfig ${argument}: expected ${error.expected}, received ${shown}`
      )
    })
  }

  it("Supervisor.checkConfig succeeds for a good configuration and for none", async () => {
    await Effect.runPromise(Supervisor.checkConfig({ concurrency: 4, pools: { db: { concurrency: 2, perKey: 1 } } }))
    await Effect.runPromise(Supervisor.checkConfig())
  })

  it("shutdown with a bad grace dies with it, and the supervisor keeps working", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const bad = yield* Effect.exit(Supervisor.shutdown({ grace: "later" as never }))
        yield* Job.fire(Effect.void, { name: "after" })
        yield* Supervisor.drain
        return { bad: defectOf(bad), counters: (yield* Supervisor.snapshot).counters }
      })
    )
    expect(value.bad).toBeInstanceOf(SupervisorConfigError)
    expect(value.counters.succeeded).toBe(1)
  })
})

describe("a bad job argument dies with JobArgumentError; nothing is admitted and the supervisor keeps working", () => {
  const cases: ReadonlyArray<readonly [string, Job.Options, string]> = [
    ["pool", { pool: "nope" }, '"nope"'],
    ["name", { name: 42 as never }, "42"],
    ["key", { key: 1 as never }, "1"],
    ["timeout", { timeout: "soon" as never }, '"soon"'],
    ["timeout", { timeout: -1 }, "-1"],
    ["retry", { retry: 3 as never }, "3"],
    ["reportTo", { reportTo: {} as never }, "{}"],
    ["annotations", { annotations: "x" as never }, '"x"']
  ]
  for (const [argument, options, shown] of cases) {
    it(`${argument}: ${shown}`, async () => {
      const { value } = await run(
        Effect.gen(function* () {
          const fired = yield* Effect.exit(Job.fire(Effect.void, options))
          const forked = yield* Effect.exit(Job.fork(Effect.void, options))
          yield* Job.fire(Effect.void, { name: "good" })
          yield* Supervisor.drain
          return { fired: defectOf(fired), forked: defectOf(forked), snap: yield* Supervisor.snapshot }
        }),
        { pools: { db: { concurrency: 1 } } }
      )
      for (const defect of [value.fired, value.forked]) {
        expect(defect).toBeInstanceOf(JobArgumentError)
        const error = defect as JobArgumentError
        expect(error._tag).toBe("JobArgumentError")
        expect(error.argument).toBe(argument)
        expect(error.message).toContain(`received ${shown}`)
      }
      expect(value.snap.counters.started).toBe(1)
      expect(value.snap.counters.succeeded).toBe(1)
    })
  }

  it("an unknown pool's message lists the pools there are", async () => {
    const { value } = await run(Effect.exit(Job.fire(Effect.void, { pool: "nope" })), { pools: { db: {} } })
    expect((defectOf(value) as Error).message).toContain("default, db")
  })

  it("valid edge values are accepted: timeout 0 and Infinity, a Duration, a Schedule", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        yield* Job.fire(Effect.void, { name: "t0", timeout: 0 })
        yield* Job.fire(Effect.void, { name: "tinf", timeout: Number.POSITIVE_INFINITY })
        yield* Job.fire(Effect.void, { name: "tdur", timeout: Duration.seconds(1) })
        yield* Job.fire(Effect.void, { name: "retry", retry: Schedule.recurs(1) })
        yield* Supervisor.drain
        return (yield* Supervisor.snapshot).counters
      })
    )
    expect(value.started).toBe(4)
  })

  for (const concurrency of [0, -1, 1.5, Number.NaN]) {
    it(`forkAll and all with concurrency ${concurrency}`, async () => {
      const { value } = await run(
        Effect.gen(function* () {
          const a = yield* Effect.exit(Job.all([Effect.void], { concurrency }))
          const b = yield* Effect.exit(Effect.scoped(Job.forkAll([Effect.void], { concurrency })))
          return [defectOf(a), defectOf(b)]
        })
      )
      for (const defect of value) {
        expect(defect).toBeInstanceOf(JobArgumentError)
        expect((defect as JobArgumentError).argument).toBe("concurrency")
      }
    })
  }
})

describe("Supervisor.runMain refuses a bad argument at the call: SupervisorConfigError naming it, nothing installed", () => {
  const events = ["SIGINT", "SIGTERM", "uncaughtException", "unhandledRejection", "exit"] as const
  const listeners = () => events.map((e) => process.listenerCount(e))
  const cases: ReadonlyArray<readonly [string, () => void]> = [
    ["program", () => Supervisor.runMain(42 as never)],
    ["program", () => Supervisor.runMain((async () => {}) as never)],
    ["options", () => Supervisor.runMain(Effect.void, null as never)],
    ["failOnJobFailure", () => Supervisor.runMain(Effect.void, { failOnJobFailure: "yes" as never })],
    ["forceAfter", () => Supervisor.runMain(Effect.void, { forceAfter: "soon" as never })],
    ["maxHeldLines", () => Supervisor.runMain(Effect.void, { maxHeldLines: 0 })],
    ["maxHeldLines", () => Supervisor.runMain(Effect.void, { maxHeldLines: 2.5 })],
    // the supervisor's options are named as the caller wrote them, under `supervisor`
    ["supervisor.concurrency", () => Supervisor.runMain(Effect.void, { supervisor: { concurrency: -1 } })],
    ["supervisor", () => Supervisor.runMain(Effect.void, { supervisor: 5 as never })]
  ]
  for (const [argument, call] of cases) {
    it(argument, () => {
      const before = listeners()
      const exitCode = process.exitCode
      let thrown: unknown
      try {
        call()
      } catch (e) {
        thrown = e
      }
      expect(thrown).toBeInstanceOf(SupervisorConfigError)
      expect((thrown as SupervisorConfigError).argument).toBe(argument)
      expect(listeners()).toEqual(before)
      expect(process.exitCode).toBe(exitCode)
    })
  }
})

describe("Supervisor.runMain names a bad part of its logger option as its own", () => {
  it("logger.level, a misspelt pino option, something that is no logger: PinoLoggerConfigError naming Supervisor.runMain", () => {
    const refusal = (logger: unknown) => {
      try {
        Supervisor.runMain(Effect.void, { logger: logger as never })
      } catch (e) {
        return e as PinoLoggerConfigError
      }
      throw new Error("runMain accepted the logger")
    }
    expect(refusal({ level: "warning" })).toMatchObject({
      argument: "logger.level",
      value: "warning",
      message: expect.stringMatching(/^Invalid Supervisor\.runMain logger\.level: expected one of "trace", /)
    })
    expect(refusal({ levle: "debug" }).message).toMatch(
      /^Invalid Supervisor\.runMain logger\.levle: expected a known option \(did you mean level\?\)/
    )
    expect(refusal("debug")).toMatchObject({
      argument: "logger",
      message:
        'Invalid Supervisor.runMain logger: expected a pino logger or pino\'s options (an object such as { level: "debug" }), received "debug"'
    })
    expect(refusal("debug")).toBeInstanceOf(PinoLoggerConfigError)
  })
})

describe("the pool named default", () => {
  it("limits the jobs that name no pool", async () => {
    let inFlight = 0
    let max = 0
    const job = Effect.gen(function* () {
      inFlight++
      max = Math.max(max, inFlight)
      for (let i = 0; i < 3; i++) yield* Effect.yieldNow
      inFlight--
    })
    await run(
      Effect.gen(function* () {
        for (let i = 0; i < 20; i++) yield* Job.fire(job)
        yield* Supervisor.drain
      }),
      { concurrency: 10, pools: { default: { concurrency: 2 } } }
    )
    expect(max).toBe(2)
  })
})

describe("the errors are effect tagged errors", () => {
  it("yield* fails with them, catchTag matches them, and they stay instanceof their class and Error", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const caught = yield* Effect.gen(function* () {
          return yield* new SupervisorConfigError("concurrency", 0, "an integer ≥ 1", "Supervisor.layer")
        }).pipe(Effect.catchTag("SupervisorConfigError", (e) => Effect.succeed(e)))
        yield* Supervisor.shutdown({ grace: 0 })
        const closed = yield* Effect.flip(Job.fire(Effect.void))
        const recovered = yield* Job.fire(Effect.void).pipe(
          Effect.catchTag("SupervisorClosedError", (e) => Effect.succeed(`closed: ${e.supervisor}`))
        )
        return { caught, closed, recovered }
      })
    )
    expect(value.caught).toBeInstanceOf(SupervisorConfigError)
    expect(value.caught).toBeInstanceOf(Error)
    expect(value.caught.message).toBe("Invalid Supervisor.layer concurrency: expected an integer ≥ 1, received 0")
    expect(value.caught.operation).toBe("Supervisor.layer")
    // without an operation, the argument names the call itself
    expect(new JobArgumentError("Job.join handle", 42, "a job handle").message).toBe(
      "Invalid Job.join handle: expected a job handle, received 42"
    )
    expect(value.closed).toBeInstanceOf(SupervisorClosedError)
    expect(value.closed._tag).toBe("SupervisorClosedError")
    expect(value.recovered).toBe("closed: supervisor")
  })
})
