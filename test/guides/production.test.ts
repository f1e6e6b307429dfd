/**
 * docs/production.md, the claims no other test shows: `runMain`'s logger options as the guide
 * writes them (a child process, its stdout read as the platform would: redaction of
 * `err.password` and `err.config.headers.authorization`, a secret in a message left as is, exit 0
 * with failOnJobFailure false); what an outcome line holds and at which level each outcome is
 * written; redaction of `err.cause.password` and `err.causes[*].password` through
 * `PinoLogger.layer`. Shown elsewhere: exit codes and the graceful stop (test/runMain.test.ts),
 * a closed scope's stop and `SupervisorClosedError` (packages/jobs/test/Supervisor.test.ts), lost
 * lines (packages/jobs/test/Reliability.test.ts, packages/pino/test/PinoLogger.test.ts), `heldBy`
 * (packages/jobs/test/Watch.test.ts), redelivery after the ack wait
 * (packages/nats/test/Workers.test.ts), the monitor's loopback and token (packages/monitor/test).
 */
import { Job, Supervisor } from "@tributary/jobs"
import { PinoLogger } from "@tributary/pino"
import { Cause, Data, Effect, Fiber, Layer, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { outcomes, run as runChild } from "../child.js"
import { outcomeLines, pinoLines } from "./pino-lines.js"

const settle = Effect.gen(function* () {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow
})

/** Runs `program` with a supervisor and `PinoLogger.layer` over a real pino logger of `options`. */
const run = async <A, E>(
  program: Effect.Effect<A, E, Supervisor.Supervisor>,
  options: Parameters<typeof pinoLines>[0],
  config: Supervisor.Config = {}
) => {
  const { logger, lines } = pinoLines(options)
  const layer = Supervisor.layer(config).pipe(Layer.provideMerge(PinoLogger.layer(logger)))
  await Effect.runPromise(program.pipe(Effect.provide(layer), Effect.provide(TestClock.layer())))
  return lines
}

class DbError extends Data.TaggedError("DbError")<{ readonly table: string; readonly password: string }> {}

describe("production.md: runMain with the guide's logger options", () => {
  it("redacts err.password and err.config.headers.authorization; a secret inside a message stays; exit 0", async () => {
    const { code, lines } = await runChild("test/guides/fixtures/redact.ts")
    expect(code).toBe(0)
    const all = JSON.stringify(lines)
    expect(all).not.toContain("s3cret-token")
    const byName = Object.fromEntries(outcomes(lines).map((l) => [l["job.name"], l]))
    const err = byName["fetch-orders"].err as Record<string, any>
    expect(err.password).toBe("[Redacted]")
    expect(err.config.headers.authorization).toBe("[Redacted]")
    expect(err.config.url).toBe("https://partner.example/orders") // only the paths named are hidden
    // not redacted, as the guide warns: a secret inside a message
    expect((byName.login.err as Record<string, any>).message).toContain("password=hunter2")
  })
})

describe("production.md: Logging", () => {
  it("an outcome line holds the job's name, id, pool, key, attempt, duration, outcome and annotations", async () => {
    const lines = await run(
      Effect.gen(function* () {
        yield* Job.fire(Effect.sleep("2 seconds"), {
          name: "sync",
          pool: "partner",
          key: "acme",
          annotations: { tenant: "acme", run: 7 }
        })
        yield* TestClock.adjust("2 seconds")
        yield* Supervisor.drain
      }),
      { level: "debug" },
      { pools: { partner: {} } }
    )
    expect(outcomeLines(lines)).toMatchObject([
      {
        "job.name": "sync",
        "job.id": "1",
        "job.pool": "partner",
        "job.key": "acme",
        attempt: 1,
        durationMillis: 2000,
        "job.outcome": "Success",
        tenant: "acme",
        run: 7
      }
    ])
  })

  it("successes at debug by default, failures at error, interruptions, timeouts and retried attempts at warn", async () => {
    const lines = await run(
      Effect.gen(function* () {
        yield* Job.fire(Effect.void, { name: "ok" })
        yield* Job.fire(Effect.fail("no"), { name: "failed" })
        yield* Job.fire(Effect.die(new Error("bug")), { name: "defect" })
        yield* Job.fire(Effect.never, { name: "slow", timeout: "1 second" })
        yield* Job.fire(Effect.fail("flaky"), { name: "retried", retry: Schedule.recurs(1) })
        const stopped = yield* Job.fork(Effect.never, { name: "stopped" })
        yield* settle
        yield* Job.interrupt(stopped)
        yield* TestClock.adjust("1 second")
        yield* Supervisor.drain
      }),
      { level: "debug" }
    )
    const levels = (name: string) => lines.filter((l) => l["job.name"] === name).map((l) => l.level)
    expect({
      ok: levels("ok"),
      failed: levels("failed"),
      defect: levels("defect"),
      slow: levels("slow"),
      retried: levels("retried"),
      stopped: levels("stopped")
    }).toEqual({ ok: [20], failed: [50], defect: [50], slow: [40], retried: [40, 50], stopped: [40] })
  })

  it("with pino at info, successes write no line; logSuccess: 'info' writes them", async () => {
    const quiet = await run(
      Effect.gen(function* () {
        yield* Job.fire(Effect.void, { name: "ok" })
        yield* Supervisor.drain
      }),
      { level: "info" }
    )
    expect(outcomeLines(quiet)).toEqual([])
    const loud = await run(
      Effect.gen(function* () {
        yield* Job.fire(Effect.void, { name: "ok" })
        yield* Supervisor.drain
      }),
      { level: "info" },
      { logSuccess: "info" }
    )
    expect(outcomeLines(loud)).toMatchObject([{ level: 30, "job.outcome": "Success" }])
  })

  it("a failure's err has the error's name, message, stack and own fields", async () => {
    const lines = await run(
      Effect.gen(function* () {
        yield* Job.fire(Effect.fail(new DbError({ table: "orders", password: "pw" })), { name: "write" })
        yield* Supervisor.drain
      }),
      { level: "info" }
    )
    const err = outcomeLines(lines)[0].err
    expect(err).toMatchObject({ name: "DbError", table: "orders", password: "pw" })
    expect(typeof err.message).toBe("string")
    expect(err.stack).toContain("DbError")
  })

  it("redact reaches err.cause.password and, with several reasons, err.causes[*].password", async () => {
    const secret = "pa55-w0rd"
    const lines = await run(
      Effect.gen(function* () {
        const cause = Object.assign(new Error("connection refused"), { password: secret })
        yield* Job.fire(Effect.fail(new Error("cannot connect", { cause })), { name: "connect" })
        // two reasons: the failure and a finalizer's defect
        const twice = Effect.failCause(
          Cause.combine(
            Cause.fail(new DbError({ table: "a", password: secret })),
            Cause.die(new DbError({ table: "b", password: secret }))
          )
        )
        yield* Job.fire(twice, { name: "twice" })
        yield* Supervisor.drain
      }),
      { level: "info", redact: ["err.password", "err.cause.password", "err.causes[*].password"] }
    )
    expect(JSON.stringify(lines)).not.toContain(secret)
    const byName = Object.fromEntries(outcomeLines(lines).map((l) => [l["job.name"], l.err]))
    expect(byName.connect.cause).toMatchObject({ message: "connection refused", password: "[Redacted]" })
    expect(byName.twice.causes).toHaveLength(2)
    // the failure's fields are err's (err.password); the defect's are under causes
    expect(byName.twice.password).toBe("[Redacted]")
    expect(byName.twice.causes.map((reason: { password?: unknown }) => reason.password)).toEqual([
      undefined,
      "[Redacted]"
    ])
  })
})

describe("production.md: A whole program", () => {
  it("during a stop, fire fails with SupervisorClosedError while jobs drain within the grace", async () => {
    const lines = await run(
      Effect.gen(function* () {
        yield* Job.fire(Effect.sleep("3 seconds"), { name: "draining" })
        const stop = yield* Effect.forkChild(Supervisor.shutdown({ grace: "10 seconds" }))
        yield* settle
        const late = yield* Effect.flip(Job.fire(Effect.void, { name: "late" }))
        expect(late._tag).toBe("SupervisorClosedError")
        yield* TestClock.adjust("3 seconds")
        yield* Fiber.join(stop)
      }),
      { level: "debug" }
    )
    expect(outcomeLines(lines).map((l) => [l["job.name"], l["job.outcome"]])).toEqual([["draining", "Success"]])
  })
})
