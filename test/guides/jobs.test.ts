/**
 * docs/jobs.md, claim by claim: the four steps' examples and what they return, what `forkAll` and
 * `Job.item` give, the per-job options (timeout over retries, annotations on every line), the
 * supervisor's configuration (default concurrency, `whenFull`, `grace`) and what "Observing"
 * lists. Lines go through a real pino logger; time is a `TestClock`.
 */
import { Chan } from "@tributary/channel"
import { Job, type Outcome, Supervisor } from "@tributary/jobs"
import { PinoLogger } from "@tributary/pino"
import { Data, Effect, Exit, Fiber, Layer, Option, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { type Line, outcomeLines, pinoLines } from "./pino-lines.js"

const settle = Effect.gen(function* () {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow
})

/** Runs `program` with a supervisor of `config`, a real pino logger (level debug) and a TestClock. */
const run = async <A, E>(program: Effect.Effect<A, E, Supervisor.Supervisor>, config: Supervisor.Config = {}) => {
  const { logger, lines } = pinoLines()
  const layer = Supervisor.layer(config).pipe(Layer.provideMerge(PinoLogger.layer(logger)))
  const value = await Effect.runPromise(program.pipe(Effect.provide(layer), Effect.provide(TestClock.layer())))
  return { value, lines }
}

class PartnerError extends Data.TaggedError("PartnerError")<{ readonly tenant: string; readonly status: number }> {}

const named = (lines: ReadonlyArray<Line>, name: string) => lines.filter((l) => l["job.name"] === name)

describe("jobs.md: the four steps", () => {
  it("1. fire returns once admitted; drain waits until every job ended and was logged", async () => {
    let cleaned = false
    const { value, lines } = await run(
      Effect.gen(function* () {
        const cleanUp = Effect.sleep("1 second").pipe(
          Effect.andThen(Effect.sync(() => (cleaned = true))),
          Effect.andThen(Effect.log("cleaned acme"))
        )
        yield* Job.fire(cleanUp, { name: "clean", key: "acme" })
        const before = cleaned
        const drained = yield* Effect.forkChild(Supervisor.drain)
        yield* settle
        const waited = drained.pollUnsafe() === undefined
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(drained)
        return { before, waited }
      })
    )
    expect(value).toEqual({ before: false, waited: true })
    expect(named(lines, "clean").map((l) => l.msg)).toEqual(["cleaned acme", "job clean succeeded"])
    expect(outcomeLines(lines)).toMatchObject([{ "job.name": "clean", "job.key": "acme", "job.outcome": "Success" }])
  })

  it("1. a failure is logged at error with the error and its fields, never thrown away", async () => {
    const { lines } = await run(
      Effect.gen(function* () {
        yield* Job.fire(Effect.fail(new PartnerError({ tenant: "acme", status: 503 })), { name: "sync" })
        yield* Supervisor.drain
      })
    )
    expect(outcomeLines(lines)).toMatchObject([
      { level: 50, "job.outcome": "Failure", err: { name: "PartnerError", tenant: "acme", status: 503 } }
    ])
  })

  it("2. fork keeps a handle: join gives 42, await the Exit, interrupt stops the job", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const handle = yield* Job.fork(Effect.succeed(42), { name: "answer" })
        const status = yield* Job.status(handle)
        const joined = yield* Job.join(handle)
        const exit = yield* Job.await(handle)
        const forever = yield* Job.fork(Effect.never, { name: "forever" })
        yield* Job.interrupt(forever)
        return { status, joined, exit, stopped: Exit.hasInterrupts(yield* Job.await(forever)) }
      })
    )
    expect(["queued", "running", "done"]).toContain(value.status)
    expect(value.joined).toBe(42)
    expect(value.exit).toEqual(Exit.succeed(42))
    expect(value.stopped).toBe(true)
  })

  it("3. reportTo: the example sees every job's outcome on its channel", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const results = yield* Chan.make<Outcome.Outcome<number, string>>(16)
        for (const n of [1, 2, 3]) {
          const work: Effect.Effect<number, string> = n === 2 ? Effect.fail("two") : Effect.succeed(n * 10)
          yield* Job.fire(work, { name: `job-${n}`, reportTo: results })
        }
        const seen: Array<string> = []
        for (let i = 0; i < 3; i++) {
          const outcome = yield* Chan.take(results)
          if (outcome._tag === "Some") seen.push(`${outcome.value.name}: ${outcome.value._tag}`)
        }
        return seen
      })
    )
    expect(value.sort()).toEqual(["job-1: Success", "job-2: Failure", "job-3: Success"])
  })

  it("4. all: the example gives ['Success', 'Success']; failFast the values or the first error; firstSuccess the first value", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const fetchTenant = (tenant: string) => Effect.succeed(`${tenant}: 12 orders`)
        const outcomes = yield* Job.all(["acme", "globex"].map(fetchTenant), { concurrency: 2, pool: "partner" })
        const values = yield* Job.all(["acme", "globex"].map(fetchTenant), { concurrency: 2, policy: "failFast" })
        const firstError = yield* Effect.flip(
          Job.all([Effect.succeed(1), Effect.fail("bad")], { concurrency: 2, policy: "failFast" })
        )
        const first = yield* Job.all([Effect.never, Effect.succeed("fast")], { concurrency: 2, policy: "firstSuccess" })
        return { tags: outcomes.map((o) => o._tag), values, firstError, first }
      }),
      { pools: { partner: { concurrency: 4 } } }
    )
    expect(value).toEqual({
      tags: ["Success", "Success"],
      values: ["acme: 12 orders", "globex: 12 orders"],
      firstError: "bad",
      first: "fast"
    })
  })

  it("forkAll starts a group and returns a channel of its outcomes, closed after the last", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const port = yield* Job.forkAll([Effect.succeed(1), Effect.succeed(2)], { concurrency: 2, name: "group" })
        const outcomes = yield* Chan.toArray(port)
        return outcomes.map((o) => o.name).sort()
      })
    )
    expect(value).toEqual(["group-0", "group-1"])
  })

  it("Job.item gives one work of a group its own name, key and annotations", async () => {
    const { lines } = await run(
      Effect.gen(function* () {
        yield* Job.all([Job.item(Effect.void, { name: "one", key: "k1", annotations: { recordId: 7 } })], {
          concurrency: 1
        })
      })
    )
    expect(outcomeLines(lines)).toMatchObject([{ "job.name": "one", "job.key": "k1", recordId: 7 }])
  })
})

describe("jobs.md: Options and limits", () => {
  it("timeout bounds the whole job, retries included", async () => {
    let attempts = 0
    const { lines } = await run(
      Effect.gen(function* () {
        const fiber = yield* Effect.forkChild(
          Job.all(
            [
              Effect.gen(function* () {
                attempts++
                yield* Effect.sleep("2 seconds")
                return yield* Effect.fail("flaky")
              })
            ],
            { concurrency: 1, timeout: "5 seconds", retry: Schedule.spaced("1 second") }
          )
        )
        for (let i = 0; i < 10; i++) {
          yield* settle
          yield* TestClock.adjust("1 second")
        }
        return yield* Fiber.join(fiber)
      })
    )
    expect(attempts).toBe(2) // 0-2 s, then 3-5 s: the timeout cuts the second
    expect(outcomeLines(lines)).toMatchObject([{ "job.outcome": "TimedOut", durationMillis: 5000 }])
  })

  it("annotations are fields on every log line of the job, the outcome line included", async () => {
    const { lines } = await run(
      Effect.gen(function* () {
        yield* Job.fire(Effect.log("working"), { name: "annotated", annotations: { tenant: "acme" } })
        yield* Supervisor.drain
      })
    )
    const own = named(lines, "annotated")
    expect(own.length).toBeGreaterThanOrEqual(2)
    for (const line of own) expect(line.tenant).toBe("acme")
  })

  it("concurrency defaults to 64 running jobs at once", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        for (let i = 0; i < 65; i++) yield* Job.fire(Effect.never, { name: `j${i}` })
        const s = yield* Supervisor.snapshot
        yield* Supervisor.shutdown({ grace: 0 })
        return [s.totals.running, s.totals.queued]
      })
    )
    expect(value).toEqual([64, 1])
  })

  it("whenFull: 'fail' is a SupervisorFullError, 'drop' one warn line, 'wait' suspends fire", async () => {
    const full = (whenFull: "fail" | "drop" | "wait") =>
      run(
        Effect.gen(function* () {
          yield* Job.fire(Effect.never, { name: "running" })
          yield* Job.fire(Effect.never, { name: "queued" })
          const third = yield* Effect.forkChild(Effect.exit(Job.fire(Effect.void, { name: "third" })))
          yield* settle
          const waiting = third.pollUnsafe() === undefined
          yield* Supervisor.shutdown({ grace: 0 })
          return { waiting, exit: yield* Fiber.join(third) }
        }),
        { concurrency: 1, maxQueued: 1, whenFull }
      )
    const fail = await full("fail")
    expect(fail.value.waiting).toBe(false)
    expect(Exit.isFailure(fail.value.exit) && JSON.stringify(fail.value.exit.cause)).toContain("SupervisorFullError")
    const drop = await full("drop")
    expect(drop.value.exit).toEqual(Exit.void)
    expect(drop.lines.filter((l) => l.level === 40 && JSON.stringify(l).includes("third"))).toHaveLength(1)
    const wait = await full("wait")
    expect(wait.value.waiting).toBe(true)
  })

  it("grace: a shutdown drains this long, then interrupts what is left", async () => {
    const { lines } = await run(
      Effect.gen(function* () {
        yield* Job.fire(Effect.sleep("5 seconds"), { name: "short" })
        yield* Job.fire(Effect.sleep("20 seconds"), { name: "long" })
        const stop = yield* Effect.forkChild(Supervisor.shutdown())
        yield* settle
        yield* TestClock.adjust("10 seconds")
        yield* Fiber.join(stop)
      }),
      { grace: "10 seconds", logSuccess: "info" }
    )
    const byName = Object.fromEntries(outcomeLines(lines).map((l) => [l["job.name"], l["job.outcome"]]))
    expect(byName).toEqual({ short: "Success", long: "Interrupted" })
  })
})

describe("jobs.md: Observing", () => {
  it("snapshot: running and queued jobs, counters, pools and what holds them, durations, recent failures", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        yield* Job.fire(Effect.fail("boom"), { name: "fails", pool: "db" })
        yield* Supervisor.drain
        yield* Job.fire(Effect.never, { name: "a", pool: "db" })
        yield* Job.fire(Effect.never, { name: "b", pool: "db" })
        const s = yield* Supervisor.snapshot
        yield* Supervisor.shutdown({ grace: 0 })
        return s
      }),
      { pools: { db: { concurrency: 1 } } }
    )
    expect(value.running.map((j) => j.name)).toEqual(["a"])
    expect(value.queued.map((j) => j.name)).toEqual(["b"])
    expect(value.counters).toMatchObject({ failed: 1 })
    expect(value.pools.find((p) => p.name === "db")).toMatchObject({ running: 1, queued: 1, heldBy: "concurrency" })
    expect(value.durations.count).toBe(1)
    expect(value.recentFailures.map((o) => o.name)).toEqual(["fails"])
  })

  it("outcomes is a channel of every outcome while it is open; pause({ pool }) holds a pool until resume", async () => {
    const { value } = await run(
      Effect.scoped(
        Effect.gen(function* () {
          const outcomes = yield* Supervisor.outcomes
          yield* Supervisor.pause({ pool: "db" })
          yield* Job.fire(Effect.succeed(1), { name: "held", pool: "db" })
          yield* Job.fire(Effect.succeed(2), { name: "free" })
          yield* settle
          const first = yield* Chan.take(outcomes)
          const heldStatus = (yield* Supervisor.snapshot).pools.find((p) => p.name === "db")?.heldBy
          yield* Supervisor.resume({ pool: "db" })
          const second = yield* Chan.take(outcomes)
          return [Option.getOrThrow(first).name, heldStatus, Option.getOrThrow(second).name]
        })
      ),
      { pools: { db: { concurrency: 1 } } }
    )
    expect(value).toEqual(["free", "paused", "held"])
  })
})
