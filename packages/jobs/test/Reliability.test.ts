/**
 * The supervisor under adverse conditions an operator meets in production: a logger or a log
 * destination that throws, secrets inside job errors with pino `redact` configured, groups of
 * works caught by a shutdown, and values that are not Effects passed as jobs.
 */
import { Writable } from "node:stream"
import { Chan } from "@tributary/channel"
import { PinoLogger } from "@tributary/pino"
import { Cause, Data, Effect, Exit, Fiber, Logger, Option, References, Schedule, Schema, Scope } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import pino from "pino"
import { afterEach, describe, expect, it, vi } from "vitest"
import { Job, type JobAbortedError, JobArgumentError, Supervisor, SupervisorMissingError } from "../src/index.js"
import { type Line, recorder, run, settle, stderrLines } from "./harness.js"

afterEach(() => {
  vi.restoreAllMocks()
})

class Boom extends Data.TaggedError("Boom")<{ readonly n: number }> {}

// ── a logger that throws ────────────────────────────────────────────────────

describe("a logger that throws costs lines, never the supervisor", () => {
  /** `recorder`, except that a line for which `fails` says so throws instead of being recorded. */
  const flakyRecorder = (lines: Array<Line>, fails: (message: string) => boolean) => {
    const inner = recorder(lines)
    return Logger.make<unknown, void>((options) => {
      const message = Array.isArray(options.message) ? options.message.map(String).join(" ") : String(options.message)
      if (fails(message)) throw new Error("logger broke")
      inner.log(options)
    })
  }
  const runWithLogger = <A, E>(
    program: Effect.Effect<A, E, Supervisor.Supervisor>,
    logger: Logger.Logger<unknown, void>
  ): Promise<A> =>
    Effect.runPromise(
      program.pipe(
        Effect.provide(Supervisor.layer({ grace: "1 second" })),
        Effect.provide(Logger.layer([logger])),
        Effect.provide(TestClock.layer()),
        Effect.provideService(References.MinimumLogLevel, "All")
      )
    )

  it("throws once: that line is lost and counted, later lines are written, drain and shutdown complete", async () => {
    const reports = stderrLines()
    const lines: Array<Line> = []
    let failures = 1
    const counters = await runWithLogger(
      Effect.gen(function* () {
        for (let n = 1; n <= 3; n++) yield* Job.fire(Effect.fail(new Boom({ n })), { name: `job-${n}` })
        yield* Supervisor.drain
        const stuck = yield* Job.fork(Effect.never, { name: "stuck" })
        yield* settle
        const shutdown = yield* Effect.forkChild(Supervisor.shutdown({ grace: "1 second" }))
        yield* settle
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(shutdown)
        return { counters: (yield* Supervisor.snapshot).counters, stuck: yield* Job.status(stuck) }
      }),
      flakyRecorder(lines, (message) => message.endsWith("failed") && failures-- > 0)
    )
    const outcomeLines = lines.filter((l) => "job.outcome" in l.annotations).map((l) => l.annotations["job.name"])
    expect(outcomeLines).toEqual(["job-2", "job-3", "stuck"])
    expect(counters.counters).toMatchObject({ failed: 3, interrupted: 1, linesLost: 1 })
    expect(counters.stuck).toBe("done")
    expect(reports).toHaveLength(2)
    expect(reports[0]).toContain("logger broke")
    expect(reports[1]).toContain("1 line was lost")
  })

  it("throws forever: every line is lost and counted, one stderr report, drain and shutdown complete", async () => {
    const reports = stderrLines()
    const counters = await runWithLogger(
      Effect.gen(function* () {
        for (let n = 1; n <= 3; n++) yield* Job.fire(Effect.fail(new Boom({ n })), { name: `job-${n}` })
        yield* Job.fire(Effect.fail(new Boom({ n: 4 })), { name: "retried", retry: Schedule.recurs(1) })
        yield* Supervisor.drain
        yield* Job.fire(Effect.never, { name: "stuck" })
        yield* settle
        const shutdown = yield* Effect.forkChild(Supervisor.shutdown({ grace: "1 second" }))
        yield* settle
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(shutdown)
        return (yield* Supervisor.snapshot).counters
      }),
      flakyRecorder([], () => true)
    )
    // 4 failure lines, 1 retry warning, 1 straggler line, 1 interruption line
    expect(counters).toMatchObject({ failed: 4, interrupted: 1, linesLost: 7 })
    expect(reports).toHaveLength(1)
  })

  /** A pino logger whose destination's `write` throws while `failing()` says so. */
  const flakyPino = (failing: () => boolean) => {
    const written: Array<Record<string, any>> = []
    const stream = {
      write(chunk: string) {
        if (failing()) throw Object.assign(new Error("write EPIPE"), { code: "EPIPE" })
        for (const text of chunk.split("\n")) if (text !== "") written.push(JSON.parse(text))
        return true
      }
    }
    return { written, logger: pino({ level: "info" }, stream) }
  }
  const underPino = <A, E>(program: Effect.Effect<A, E, Supervisor.Supervisor>, logger: pino.Logger) =>
    Effect.runPromise(
      program.pipe(Effect.provide(Supervisor.layer({ grace: 0 })), Effect.provide(PinoLogger.layer(logger)))
    )

  for (const [kind, failing] of [
    ["throws once", (n: number) => n === 0],
    ["throws forever", () => true]
  ] as const) {
    it(`through @tributary/pino, a destination that ${kind}: drain and shutdown complete`, async () => {
      const reports = stderrLines()
      let writes = 0
      const { written, logger } = flakyPino(() => failing(writes++))
      const counters = await underPino(
        Effect.gen(function* () {
          for (let n = 1; n <= 3; n++) yield* Job.fire(Effect.fail(new Boom({ n })), { name: `job-${n}` })
          yield* Supervisor.drain
          yield* Job.fire(Effect.never, { name: "stuck" })
          yield* Supervisor.shutdown({ grace: 0 })
          return (yield* Supervisor.snapshot).counters
        }),
        logger
      )
      expect(counters).toMatchObject({ failed: 3, interrupted: 1 })
      const outcomeNames = written.filter((l) => "job.outcome" in l).map((l) => l["job.name"])
      if (kind === "throws once") {
        expect(outcomeNames).toEqual(["job-2", "job-3", "stuck"])
        expect(PinoLogger.lostLines(logger)).toBe(1)
        expect(reports).toHaveLength(2)
      } else {
        expect(written).toEqual([])
        expect(PinoLogger.lostLines(logger)).toBe(5) // 3 failures, the straggler, its interruption
        expect(reports).toHaveLength(1)
      }
    })
  }

  it("through @tributary/pino, a stream that fails a write after it returned (a socket, a file): drain and shutdown complete, the lines are counted", async () => {
    const reports = stderrLines()
    const written: Array<string> = []
    let writes = 0
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        // the second line fails asynchronously; Node's stream then takes no more lines
        if (++writes === 2) setImmediate(() => callback(Object.assign(new Error("write EPIPE"), { code: "EPIPE" })))
        else {
          written.push(JSON.parse(String(chunk))["job.name"])
          setImmediate(callback)
        }
      }
    })
    const logger = pino({ level: "info" }, stream)
    const counters = await underPino(
      Effect.gen(function* () {
        for (let n = 1; n <= 3; n++) yield* Job.fire(Effect.fail(new Boom({ n })), { name: `job-${n}` })
        yield* Supervisor.drain
        yield* Effect.promise(
          () => new Promise<void>((resolve) => (stream.closed ? resolve() : stream.once("close", resolve)))
        )
        yield* Job.fire(Effect.never, { name: "stuck" })
        yield* Supervisor.shutdown({ grace: 0 })
        return (yield* Supervisor.snapshot).counters
      }),
      logger
    )
    expect(counters).toMatchObject({ failed: 3, interrupted: 1 })
    expect(written).toEqual(["job-1"])
    expect(PinoLogger.lostLines(logger)).toBe(4) // 2 failures, the straggler, its interruption
    expect(reports).toHaveLength(1)
    expect(reports[0]).toContain("write EPIPE")
  })
})

// ── secrets inside errors ───────────────────────────────────────────────────

describe("secrets at a redact path never appear in a supervisor's line", () => {
  class HttpError extends Data.TaggedError("HttpError")<{
    readonly status: number
    readonly config: { readonly headers: { readonly authorization: string } }
  }> {}
  const secret = "tok-S3CR3T"
  const redact = [
    "err.password",
    "err.config.headers.authorization",
    "err.cause.password",
    "err.causes[*].password",
    "err.causes[*].config.headers.authorization",
    "token"
  ]
  type Kind = "failure" | "defect" | "retried" | "interrupted" | "straggler" | "causeChain"
  const jobOf = (kind: Kind): Effect.Effect<unknown, unknown> => {
    switch (kind) {
      case "failure":
        return Effect.fail(new HttpError({ status: 401, config: { headers: { authorization: secret } } }))
      case "defect":
        return Effect.die(Object.assign(new Error("db login failed"), { password: secret }))
      case "retried":
        return Effect.fail(Object.assign(new Error("flaky"), { password: secret }))
      case "causeChain":
        return Effect.fail(new Error("wrapped", { cause: Object.assign(new Error("inner"), { password: secret }) }))
      case "interrupted":
        return Effect.interrupt
      case "straggler":
        return Effect.never
    }
  }

  it("property: failures, defects, retried attempts, interruptions and shutdown stragglers", async () => {
    const kind = fc.constantFrom<Kind>("failure", "defect", "retried", "interrupted", "straggler", "causeChain")
    await fc.assert(
      fc.asyncProperty(fc.array(kind, { minLength: 1, maxLength: 6 }), async (kinds) => {
        const written: Array<string> = []
        const stream = new Writable({
          write(chunk, _encoding, callback) {
            written.push(String(chunk))
            callback()
          }
        })
        const logger = pino({ level: "debug", redact }, stream)
        const counters = await Effect.runPromise(
          Effect.gen(function* () {
            for (const [i, k] of kinds.entries())
              yield* Job.fire(jobOf(k), {
                name: `${k}-${i}`,
                annotations: { token: secret },
                ...(k === "retried" ? { retry: Schedule.recurs(1) } : {})
              })
            yield* Supervisor.shutdown({ grace: 0 })
            return (yield* Supervisor.snapshot).counters
          }).pipe(Effect.provide(Supervisor.layer({ grace: 0 })), Effect.provide(PinoLogger.layer(logger)))
        )
        const text = written.join("")
        expect(text).not.toContain("S3CR3T")
        // every job wrote its outcome line, so the secrets were there to leak
        expect(written.filter((l) => l.includes('"job.outcome"'))).toHaveLength(kinds.length)
        expect(counters.started).toBe(kinds.length)
      }),
      { numRuns: 40 }
    )
  })

  it("a defined job's payload: the documented path ['job.payload'].password hides it; job.payload.password matches nothing", async () => {
    const login = Job.define({
      name: "login",
      payload: Schema.Struct({ user: Schema.String, password: Schema.String }),
      run: () => Effect.fail(new Error("denied"))
    })
    const linesWith = async (paths: Array<string>) => {
      const written: Array<string> = []
      const stream = new Writable({
        write(chunk, _encoding, callback) {
          written.push(String(chunk))
          callback()
        }
      })
      await Effect.runPromise(
        Effect.gen(function* () {
          yield* Job.fire(login.make({ user: "ada", password: secret }))
          yield* Supervisor.drain
        }).pipe(
          Effect.provide(Supervisor.layer()),
          Effect.provide(PinoLogger.layer(pino({ level: "info", redact: paths }, stream)))
        )
      )
      return written.filter((l) => l.includes('"job.outcome"')).map((l) => JSON.parse(l))
    }
    const [hidden] = await linesWith(['["job.payload"].password'])
    expect(hidden["job.payload"]).toEqual({ user: "ada", password: "[Redacted]" })
    const [shown] = await linesWith(["job.payload.password"])
    expect(shown["job.payload"].password).toBe(secret) // why the docs give the bracket form
  })

  it("a cause chain at any depth (a tagged error wrapping an error wrapping the one with the secret, a chain 20,000 deep), run as defined and retried jobs: the three documented err paths hide it, every outcome line is written", async () => {
    class LoginError extends Data.TaggedError("LoginError")<{ readonly user: string; readonly cause: unknown }> {}
    const withSecret = (message: string) => Object.assign(new Error(message), { password: secret })
    const login = Job.define({
      name: "login",
      payload: Schema.Struct({ user: Schema.String }),
      run: ({ user }) =>
        Effect.fail(new LoginError({ user, cause: new Error("http 401", { cause: withSecret("request") }) }))
    })
    let deep: Error = withSecret("leaf")
    for (let i = 0; i < 20_000; i++) deep = new Error(`wrap ${i}`, { cause: deep })
    const written: Array<string> = []
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        written.push(String(chunk))
        callback()
      }
    })
    const documented = ["err.password", "err.cause.password", "err.causes[*].password"]
    const counters = await Effect.runPromise(
      Effect.gen(function* () {
        yield* Job.fire(login.make({ user: "ada" }), { retry: Schedule.recurs(1) })
        yield* Job.fire(Effect.fail(deep), { name: "deep" })
        yield* Job.fire(
          Effect.failCause(
            Cause.combine(Cause.fail(new Error("first")), Cause.die(new Error("cleanup", { cause: withSecret("db") })))
          ),
          { name: "second reason" }
        )
        yield* Supervisor.drain
        return (yield* Supervisor.snapshot).counters
      }).pipe(
        Effect.provide(Supervisor.layer()),
        Effect.provide(PinoLogger.layer(pino({ level: "info", redact: documented }, stream)))
      )
    )
    expect(written.join("")).not.toContain("S3CR3T")
    const outcomes = written.filter((l) => l.includes('"job.outcome"')).map((l) => JSON.parse(l))
    expect(outcomes.map((l) => l["job.name"]).sort()).toEqual(["deep", "login", "second reason"])
    expect(counters.linesLost).toBe(0)
    // the secret was on each line, redacted where the chain put it
    const errOf = (name: string) => outcomes.find((l) => l["job.name"] === name).err
    expect(errOf("login")).toMatchObject({ name: "LoginError", user: "ada", cause: { message: "http 401" } })
    expect(errOf("login").causes).toMatchObject([{ causeOf: "err.cause", message: "request", password: "[Redacted]" }])
    expect(errOf("second reason").causes.at(-1)).toMatchObject({ causeOf: "err.causes[1]", password: "[Redacted]" })
    expect(errOf("deep").causes.at(-1).cause).toBe("[19936 more causes left out]")
    // the retried attempt's line too
    expect(written.filter((l) => l.includes("retrying"))).toHaveLength(1)
  })
})

// ── groups at shutdown ──────────────────────────────────────────────────────

describe("forkAll at shutdown: every work gets exactly one outcome on the port", () => {
  const states = [
    ["running (the group's own bound holds the rest back)", { concurrency: 64 }],
    ["queued in the supervisor", { concurrency: 1 }],
    ["waiting for room in the supervisor's queue", { concurrency: 1, maxQueued: 0 }]
  ] as const
  for (const [state, config] of states) {
    for (const reading of [false, true]) {
      it(`${state}; the port ${reading ? "read during" : "read only after"} the shutdown`, async () => {
        const { value } = await run(
          Effect.gen(function* () {
            const scope = yield* Scope.make()
            const supervisor = yield* Scope.provide(Supervisor.make({ grace: "1 second", ...config }), scope)
            const works = Array.from({ length: 5 }, () => Effect.never)
            const port = yield* Job.forkAll(works, { concurrency: 2, name: "w" }).pipe(
              Effect.provideService(Supervisor.Supervisor, supervisor)
            )
            const got: Array<Job.Outcome> = []
            const readAll = Effect.gen(function* () {
              for (let o = yield* Chan.take(port); Option.isSome(o); o = yield* Chan.take(port)) got.push(o.value)
            })
            const reader = reading ? yield* Effect.forkChild(readAll) : undefined
            yield* settle
            const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
            yield* settle
            yield* TestClock.adjust("1 second")
            yield* Fiber.join(closing)
            if (reader === undefined) yield* readAll
            else yield* Fiber.join(reader)
            return got
          })
        )
        expect(value.map((o) => o.name).sort()).toEqual(["w-0", "w-1", "w-2", "w-3", "w-4"])
        expect(value.every((o) => o._tag === "Interrupted")).toBe(true)
        const started = value
          .filter((o) => o.attempt > 0)
          .map((o) => o.name)
          .sort()
        expect(started).toEqual(config.concurrency === 64 ? ["w-0", "w-1"] : ["w-0"])
        expect(new Set(value.map((o) => o.id)).size).toBe(5)
      })
    }
  }

  it("a group stuck on a reportTo nobody reads when the supervisor's scope closes: every outcome still reaches the port, once", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const supervisor = yield* Scope.provide(Supervisor.make({ grace: 0 }), scope)
        // room for one outcome: the group's put of the second waits for a reader that never comes
        const reportTo = yield* Chan.make<Job.Outcome>(1)
        const port = yield* Job.forkAll([Effect.void, Effect.void, Effect.void], {
          concurrency: 3,
          name: "w",
          reportTo
        }).pipe(Effect.provideService(Supervisor.Supervisor, supervisor))
        yield* settle
        yield* Scope.close(scope, Exit.void)
        const got: Array<Job.Outcome> = []
        for (let o = yield* Chan.take(port); Option.isSome(o); o = yield* Chan.take(port)) got.push(o.value)
        const reported: Array<Job.Outcome> = []
        for (let o = Chan.pollUnsafe(reportTo); Option.isSome(o); o = Chan.pollUnsafe(reportTo)) reported.push(o.value)
        return { got, reported }
      })
    )
    expect(value.got.map((o) => [o.name, o._tag]).sort()).toEqual([
      ["w-0", "Success"],
      ["w-1", "Success"],
      ["w-2", "Success"]
    ])
    // the held outcome and the ones behind it were put on reportTo without waiting, too
    expect(value.reported.map((o) => o.name).sort()).toEqual(["w-0", "w-1", "w-2"])
  })

  it("all, collectAll: a group cut by shutdown gives every work its outcome; finished works keep theirs", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const works = [
          Effect.succeed(1),
          Effect.sleep("10 millis").pipe(Effect.as(2)),
          Effect.never,
          Effect.never,
          Effect.never
        ]
        const group = yield* Effect.forkChild(Job.all(works, { concurrency: 2, name: "w" }))
        yield* settle
        yield* TestClock.adjust("10 millis") // w-1 ends and w-3 starts (w-0 ended at once): w-4 waits for the group's room
        yield* settle
        const closing = yield* Effect.forkChild(Supervisor.shutdown({ grace: "1 second" }))
        yield* settle
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(closing)
        return yield* Fiber.join(group)
      })
    )
    expect(value.map((o) => [o.name, o._tag, o.attempt])).toEqual([
      ["w-0", "Success", 1],
      ["w-1", "Success", 1],
      ["w-2", "Interrupted", 1],
      ["w-3", "Interrupted", 1],
      ["w-4", "Interrupted", 0]
    ])
    expect(value.slice(0, 2).map((o) => (o.exit as Exit.Success<number>).value)).toEqual([1, 2])
  })

  it("all, failFast: a job interrupted by the shutdown decides: JobAbortedError naming it, with its outcome", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const group = yield* Effect.forkChild(
          Effect.flip(Job.all([Effect.never, Effect.never, Effect.never], { concurrency: 1, policy: "failFast" }))
        )
        yield* settle
        yield* Supervisor.shutdown({ grace: 0 })
        return yield* Fiber.join(group)
      })
    )
    expect(value).toMatchObject({ _tag: "JobAbortedError", job: "job-0", reason: "Interrupted" })
    expect((value as JobAbortedError).outcome).toMatchObject({ _tag: "Interrupted", attempt: 1 })
  })

  it("all, firstSuccess: no success before the shutdown and works left unadmitted: SupervisorClosedError", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const group = yield* Effect.forkChild(
          Effect.flip(Job.all([Effect.never, Effect.never, Effect.never], { concurrency: 1, policy: "firstSuccess" }))
        )
        yield* settle
        yield* Supervisor.shutdown({ grace: 0 })
        return yield* Fiber.join(group)
      })
    )
    expect(value).toMatchObject({ _tag: "SupervisorClosedError" })
  })

  it("all, firstSuccess: a work that succeeded before the shutdown is the result", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const group = yield* Effect.forkChild(
          Job.all([Effect.fail(new Boom({ n: 1 })), Effect.succeed(7), Effect.never], {
            concurrency: 1,
            policy: "firstSuccess"
          })
        )
        yield* settle
        yield* Supervisor.shutdown({ grace: 0 })
        return yield* Fiber.join(group)
      })
    )
    expect(value).toBe(7)
  })
})

describe("all, failFast and firstSuccess: a deciding job without a result of its own is a typed failure", () => {
  it("failFast: a job that times out fails the call with JobAbortedError naming it (TimedOut), which Effect.catchTag recovers", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const group = yield* Effect.forkChild(
          Job.all([Effect.succeed(1), Effect.never], { concurrency: 2, policy: "failFast", timeout: "20 millis" }).pipe(
            Effect.catchTag("JobAbortedError", (e) => Effect.succeed([e.job, e.reason, e.outcome?._tag]))
          )
        )
        yield* settle
        yield* TestClock.adjust("20 millis")
        return yield* Fiber.join(group)
      })
    )
    expect(value).toEqual(["job-1", "TimedOut", "TimedOut"])
  })

  it("firstSuccess: when every job timed out, the last one's JobAbortedError", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const group = yield* Effect.forkChild(
          Effect.flip(
            Job.all([Effect.never, Effect.sleep("30 millis")], {
              concurrency: 2,
              policy: "firstSuccess",
              timeout: "10 millis"
            })
          )
        )
        yield* settle
        yield* TestClock.adjust("10 millis")
        return yield* Fiber.join(group)
      })
    )
    expect(value).toMatchObject({ _tag: "JobAbortedError", reason: "TimedOut" })
  })
})

// ── values that are not Effects ─────────────────────────────────────────────

describe("a job that is not an Effect is refused at the call site with JobArgumentError", () => {
  const defectOf = (exit: Exit.Exit<unknown, unknown>): unknown =>
    Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined
  const notEffects: ReadonlyArray<readonly [string, unknown, string]> = [
    ["a number", 42, "42"],
    ["an async function", async () => 1, "a function"],
    ["a Promise", Promise.resolve(1), "a Promise"],
    ["undefined", undefined, "undefined"]
  ]
  for (const [what, work, shown] of notEffects) {
    it(what, async () => {
      const { value } = await run(
        Effect.gen(function* () {
          const exits = [
            yield* Effect.exit(Job.fire(work as Effect.Effect<void>)),
            yield* Effect.exit(Job.fork(work as Effect.Effect<void>))
          ]
          const groups = [
            yield* Effect.exit(Job.all([Effect.void, work as Effect.Effect<void>], { concurrency: 1 })),
            yield* Effect.exit(Job.forkAll([Effect.void, work as Effect.Effect<void>], { concurrency: 1 }))
          ]
          yield* Job.fire(Effect.void, { name: "still works" })
          yield* Supervisor.drain
          return { exits, groups, counters: (yield* Supervisor.snapshot).counters }
        })
      )
      for (const [exits, argument] of [
        [value.exits, "work"],
        [value.groups, "works[1]"]
      ] as const) {
        for (const exit of exits) {
          const error = defectOf(exit) as JobArgumentError
          expect(error).toBeInstanceOf(JobArgumentError)
          expect(error.argument).toBe(argument)
          expect(error.message).toContain(`received ${shown}`)
        }
      }
      // nothing of the refused calls was admitted (a group's valid first work included)
      expect(value.counters.started).toBe(1)
    })
  }
})

// ── no Supervisor provided ──────────────────────────────────────────────────

describe("a job operation without a Supervisor dies with SupervisorMissingError saying what to provide", () => {
  const operations: ReadonlyArray<readonly [string, Effect.Effect<unknown, unknown, Supervisor.Supervisor>]> = [
    ["Job.fire", Job.fire(Effect.void)],
    ["Job.fork", Job.fork(Effect.void)],
    ["Job.all", Job.all([Effect.void], { concurrency: 1 })],
    ["Job.forkAll", Job.forkAll([Effect.void], { concurrency: 1 })],
    ["Supervisor.drain", Supervisor.drain],
    ["Supervisor.snapshot", Supervisor.snapshot]
  ]
  for (const [operation, effect] of operations) {
    it(operation, async () => {
      const exit = await Effect.runPromiseExit(effect as Effect.Effect<unknown, unknown>)
      const defect = Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined
      expect(defect).toBeInstanceOf(SupervisorMissingError)
      expect((defect as SupervisorMissingError).operation).toBe(operation)
      expect((defect as Error).message).toContain("Supervisor.layer")
      expect((defect as Error).message).toContain("Supervisor.runMain")
    })
  }
})
