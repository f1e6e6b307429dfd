import { Chan } from "@tributary/channel"
import { Cause, Deferred, Effect, Exit, Fiber, Option, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { Job, JobArgumentError, Supervisor, SupervisorFullError } from "../src/index.js"
import { linesOf, run, settle } from "./harness.js"

class Boom {
  readonly _tag = "Boom"
}

/** Fires `work` as `name`, waits until it is logged, and returns the outcomes seen on a tap. */
const fireAndCollect = <A, E>(name: string, work: Effect.Effect<A, E>, options: Job.Options<A, E> = {}) =>
  Effect.scoped(
    Effect.gen(function* () {
      const tap = yield* Supervisor.outcomes
      yield* Job.fire(work, { ...options, name })
      yield* Supervisor.drain
      const first = yield* Chan.take(tap)
      yield* settle
      const more = yield* Chan.poll(tap)
      return { first: Option.getOrThrow(first), more }
    })
  )

describe("exactly one outcome and one outcome line per job", () => {
  const cases: ReadonlyArray<{
    readonly name: string
    readonly work: Effect.Effect<unknown, unknown>
    readonly options?: Job.Options
    readonly tag: Job.OutcomeTag
    readonly level: string
  }> = [
    { name: "ok", work: Effect.succeed(1), tag: "Success", level: "Debug" },
    { name: "typed", work: Effect.fail(new Boom()), tag: "Failure", level: "Error" },
    { name: "defect", work: Effect.die(new Error("bug")), tag: "Failure", level: "Error" },
    { name: "self-interrupt", work: Effect.interrupt, tag: "Interrupted", level: "Warn" }
  ]
  for (const c of cases) {
    it(`${c.name} → ${c.tag}`, async () => {
      const { value, lines } = await run(fireAndCollect(c.name, c.work, c.options))
      expect(value.first._tag).toBe(c.tag)
      expect(value.first.name).toBe(c.name)
      expect(value.first.pool).toBe("default")
      expect(value.first.attempt).toBe(1)
      expect(Option.isNone(value.more)).toBe(true)
      const mine = linesOf(lines, c.name)
      expect(mine).toHaveLength(1)
      expect(mine[0].level).toBe(c.level)
      expect(mine[0].annotations["job.id"]).toBe(value.first.id)
      expect(mine[0].annotations["job.pool"]).toBe("default")
      expect(mine[0].annotations.attempt).toBe(1)
      expect(mine[0].annotations.durationMillis).toBe(0)
      if (c.tag === "Failure") expect(Cause.hasFails(mine[0].cause) || Cause.hasDies(mine[0].cause)).toBe(true)
    })
  }

  it("interrupted by its handle → Interrupted, logged at Warn once", async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        const h = yield* Job.fork(Effect.never, { name: "stuck" })
        yield* settle
        expect(yield* Job.status(h)).toBe("running")
        yield* Job.interrupt(h)
        yield* Supervisor.drain
        return { exit: yield* Job.await(h), status: yield* Job.status(h) }
      })
    )
    expect(Exit.hasInterrupts(value.exit)).toBe(true)
    expect(value.status).toBe("done")
    const mine = linesOf(lines, "stuck")
    expect(mine.map((l) => l.level)).toEqual(["Warn"])
    expect(mine[0].annotations["job.outcome"]).toBe("Interrupted")
  })

  it("interrupted by a caller its first run woke (before the job's fiber was known): the interrupt is delivered", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const results = yield* Chan.make<number>()
        let handle: Job.Handle<never, never> | undefined
        const caller = yield* Effect.forkChild(
          Effect.gen(function* () {
            const h = (handle = yield* Job.fork(
              Effect.gen(function* () {
                for (let i = 0; ; i++) {
                  yield* Chan.put(results, i)
                  yield* Effect.sleep("1 hour")
                }
              }),
              { name: "producer" }
            ))
            // woken by the job's first put, while the supervisor is still making the job's fiber
            const first = yield* Chan.take(results)
            yield* Job.interrupt(h)
            return first
          })
        )
        yield* settle
        const exit = caller.pollUnsafe()
        return {
          first: exit && Exit.isSuccess(exit) ? exit.value : "still waiting",
          status: yield* Job.status(handle!)
        }
      })
    )
    expect(value).toEqual({ first: Option.some(0), status: "done" })
  })

  it("timeout → TimedOut (TestClock), logged at Warn with its duration", async () => {
    const { value, lines } = await run(
      Effect.scoped(
        Effect.gen(function* () {
          const tap = yield* Supervisor.outcomes
          yield* Job.fire(Effect.never, { name: "slow", timeout: "5 seconds" })
          yield* settle
          yield* TestClock.adjust("4 seconds")
          const early = yield* Chan.poll(tap)
          yield* TestClock.adjust("1 second")
          yield* Supervisor.drain
          return { early, outcome: Option.getOrThrow(yield* Chan.take(tap)) }
        })
      )
    )
    expect(Option.isNone(value.early)).toBe(true)
    expect(value.outcome._tag).toBe("TimedOut")
    expect(value.outcome.durationMillis).toBe(5000)
    const mine = linesOf(lines, "slow")
    expect(mine).toHaveLength(1)
    expect(mine[0].level).toBe("Warn")
    expect(mine[0].annotations.durationMillis).toBe(5000)
  })

  it("timeout counts from the job's start: time queued or delayed does not count", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        yield* Job.fire(Deferred.await(gate), { name: "blocker" })
        const queued = yield* Job.fork(Effect.as(Effect.sleep("500 millis"), "queued"), { timeout: "1 second" })
        const delayed = yield* Job.fork(Effect.succeed("delayed"), { timeout: "1 second", delay: "3 seconds" })
        yield* TestClock.adjust("2 seconds")
        const whileQueued = yield* Job.status(queued)
        yield* Deferred.succeed(gate, undefined)
        yield* settle
        yield* TestClock.adjust("2 seconds")
        return { whileQueued, queued: yield* Job.await(queued), delayed: yield* Job.await(delayed) }
      }),
      { concurrency: 1 }
    )
    expect(value.whileQueued).toBe("queued")
    expect(value.queued).toEqual(Exit.succeed("queued"))
    expect(value.delayed).toEqual(Exit.succeed("delayed"))
  })

  it("annotations reach the job's own lines and its outcome line; reportTo gets the outcome too", async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        const report = yield* Chan.make<Job.Outcome<string, never>>(4)
        yield* Job.fire(Effect.as(Effect.logInfo("inside"), "v"), {
          name: "annotated",
          annotations: { tenant: "acme" },
          reportTo: report
        })
        yield* Supervisor.drain
        return Option.getOrThrow(yield* Chan.take(report))
      })
    )
    expect(value._tag).toBe("Success")
    expect(Exit.isSuccess(value.exit) && value.exit.value).toBe("v")
    const mine = linesOf(lines, "annotated")
    expect(mine.map((l) => l.message)).toEqual(["inside", "job annotated succeeded"])
    for (const l of mine) expect(l.annotations.tenant).toBe("acme")
    expect(mine[0].fiberId).not.toBe(mine[1].fiberId) // the outcome line is the supervisor fiber's
  })

  it("a reportTo closed before the job ends: one warn line names the job; the outcome is still logged", async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        const report = yield* Chan.make<Job.Outcome>(4)
        yield* Chan.close(report)
        yield* Job.fire(Effect.succeed(1), { name: "late", reportTo: report })
        yield* Supervisor.drain
        return (yield* Supervisor.snapshot).counters
      })
    )
    expect(value.succeeded).toBe(1)
    const mine = linesOf(lines, "late")
    expect(mine.filter((l) => l.message.includes("could not be put on reportTo: the channel is closed"))).toHaveLength(
      1
    )
    expect(mine.filter((l) => l.annotations["job.outcome"] === "Success")).toHaveLength(1)
  })

  it("retry: each attempt waits the schedule's delay; each failed attempt is its own Warn line with attempt; the outcome line has the last attempt", async () => {
    let calls = 0
    const flaky = Effect.suspend(() => (++calls < 3 ? Effect.fail(new Boom()) : Effect.succeed(calls)))
    const { value, lines } = await run(
      Effect.gen(function* () {
        const h = yield* Job.fork(flaky, { name: "flaky", retry: Schedule.spaced("1 second") })
        // each retry waits the schedule's delay: not one millisecond less
        const seen: Array<number> = []
        for (let i = 0; i < 2; i++) {
          yield* settle
          yield* TestClock.adjust("999 millis")
          yield* settle
          seen.push(calls)
          yield* TestClock.adjust("1 millis")
          yield* settle
          seen.push(calls)
        }
        return { seen, joined: yield* Job.join(h) }
      })
    )
    expect(value).toEqual({ seen: [1, 2, 2, 3], joined: 3 })
    const mine = linesOf(lines, "flaky")
    expect(mine.map((l) => [l.level, l.annotations.attempt])).toEqual([
      ["Warn", 1],
      ["Warn", 2],
      ["Debug", 3]
    ])
  })

  it("a job interrupted before its fiber ever ran still yields exactly one outcome", async () => {
    const { lines } = await run(
      Effect.gen(function* () {
        const h = yield* Job.fork(Effect.succeed(1), { name: "early" })
        yield* Job.interrupt(h) // no yield in between: the fiber was forked but has not started
        yield* Supervisor.drain
      })
    )
    const mine = linesOf(lines, "early")
    expect(mine).toHaveLength(1)
    expect(mine[0].annotations["job.outcome"]).toBe("Interrupted")
    expect(mine[0].annotations.attempt).toBe(0) // it never ran
  })
})

describe("handles", () => {
  it("ids are the admission order in decimal, from 1", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const ids: Array<string> = []
        for (let i = 0; i < 123; i++) ids.push((yield* Job.fork(Effect.void, { name: "n" })).id)
        yield* Supervisor.drain
        return ids
      })
    )
    expect(value).toEqual(Array.from({ length: 123 }, (_, i) => String(i + 1)))
  })

  it("a fiber woken by a job's end sees the job done and its slot free", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const h = yield* Job.fork(Effect.yieldNow, { name: "short" })
        yield* Job.await(h)
        const snap = yield* Supervisor.snapshot
        return { running: snap.running.map((j) => j.name), status: yield* Job.status(h), snap }
      }),
      { concurrency: 1 }
    )
    expect(value.running).toEqual([])
    expect(value.status).toBe("done")
    expect(value.snap.counters.succeeded).toBe(1)
  })

  it("status goes queued → running → done; join gives the value; a queued job can be cancelled", async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        const gate = yield* Chan.make<void>()
        const first = yield* Job.fork(Effect.as(Chan.take(gate), "first"), { name: "first" })
        const second = yield* Job.fork(Effect.succeed("second"), { name: "second" })
        const third = yield* Job.fork(Effect.succeed("third"), { name: "third" })
        yield* settle
        const before = [yield* Job.status(first), yield* Job.status(second), yield* Job.status(third)]
        yield* Job.interrupt(third)
        const thirdExit = yield* Job.await(third)
        yield* Chan.put(gate, undefined)
        const values = [yield* Job.join(first), yield* Job.join(second)]
        return { before, values, thirdExit, after: yield* Job.status(second) }
      }),
      { concurrency: 1 }
    )
    expect(value.before).toEqual(["running", "queued", "queued"])
    expect(value.values).toEqual(["first", "second"])
    expect(Exit.hasInterrupts(value.thirdExit)).toBe(true)
    expect(value.after).toBe("done")
    const third = linesOf(lines, "third")
    expect(third).toHaveLength(1)
    expect(third[0].annotations.attempt).toBe(0)
  })

  it("join fails with the job's typed error", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const h = yield* Job.fork(Effect.fail(new Boom()), { name: "bad" })
        return yield* Effect.flip(Job.join(h))
      })
    )
    expect(value).toBeInstanceOf(Boom)
  })

  it("what is not a handle: join, await, interrupt and status die with a JobArgumentError naming the operation (not at the call)", async () => {
    const calls = {
      join: (h: any) => Job.join(h),
      await: (h: any) => Job.await(h),
      interrupt: (h: any) => Job.interrupt(h),
      status: (h: any) => Job.status(h)
    }
    const { value } = await run(
      Effect.gen(function* () {
        const defects: Array<[string, unknown]> = []
        for (const [name, call] of Object.entries(calls))
          for (const bad of [undefined, null, { id: "1", name: "x" }]) {
            const exit = yield* Effect.exit(call(bad)) // building the Effect did not throw
            const defect = Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined
            defects.push([name, defect instanceof JobArgumentError ? defect.argument : defect])
          }
        yield* Job.fire(Effect.void, { name: "after" })
        yield* Supervisor.drain
        return { defects, counters: (yield* Supervisor.snapshot).counters }
      })
    )
    for (const [name, argument] of value.defects) expect(argument).toBe(`Job.${name} handle`)
    expect(value.counters).toMatchObject({ started: 1, succeeded: 1 })
  })
})

describe("groups", () => {
  it("forkAll: one outcome per work, names by index, the port closes after the last", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const works = [3, 1, 2].map((s) => Effect.as(Effect.sleep(`${s} seconds`), s))
        const port = yield* Job.forkAll(works, { concurrency: 3, name: "part" })
        yield* settle
        yield* TestClock.adjust("3 seconds")
        const names: Array<string> = []
        for (let o = yield* Chan.take(port); Option.isSome(o); o = yield* Chan.take(port)) names.push(o.value.name)
        return names
      })
    )
    expect(value).toEqual(["part-1", "part-2", "part-0"])
  })

  it("forkAll's concurrency bounds the group on top of the supervisor", async () => {
    let inFlight = 0
    let max = 0
    const work = Effect.gen(function* () {
      inFlight++
      max = Math.max(max, inFlight)
      yield* settle
      inFlight--
    })
    const { value } = await run(
      Effect.gen(function* () {
        const port = yield* Job.forkAll(
          Array.from({ length: 20 }, () => work),
          { concurrency: 3 }
        )
        let n = 0
        for (let o = yield* Chan.take(port); Option.isSome(o); o = yield* Chan.take(port)) n++
        return n
      }),
      { concurrency: 10 }
    )
    expect(value).toBe(20)
    expect(max).toBe(3)
  })

  it("all collectAll: outcomes in input order", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const fiber = yield* Effect.forkChild(
          Job.all([Effect.as(Effect.sleep("2 seconds"), "a"), Effect.fail("b"), Effect.succeed("c")], {
            concurrency: 3
          })
        )
        yield* settle
        yield* TestClock.adjust("2 seconds")
        return yield* Fiber.join(fiber)
      })
    )
    expect(value.map((o) => [o.name, o._tag])).toEqual([
      ["job-0", "Success"],
      ["job-1", "Failure"],
      ["job-2", "Success"]
    ])
  })

  it("all failFast: the first failure's error, and the rest are interrupted", async () => {
    const { value } = await run(
      Effect.scoped(
        Effect.gen(function* () {
          const tap = yield* Supervisor.outcomes
          const error = yield* Effect.flip(
            Job.all([Effect.never, Effect.fail("boom"), Effect.never], { concurrency: 3, policy: "failFast" })
          )
          yield* Supervisor.drain
          const tags: Array<string> = []
          for (let i = 0; i < 3; i++) tags.push(Option.getOrThrow(yield* Chan.take(tap))._tag)
          return { error, tags: tags.sort() }
        })
      )
    )
    expect(value.error).toBe("boom")
    expect(value.tags).toEqual(["Failure", "Interrupted", "Interrupted"])
  })

  it("all failFast with every success: the values in input order", async () => {
    const { value } = await run(
      Job.all([Effect.succeed(1), Effect.succeed(2), Effect.succeed(3)], { concurrency: 1, policy: "failFast" })
    )
    expect(value).toEqual([1, 2, 3])
  })

  it("all firstSuccess: the first value, the rest interrupted; all failed → the last error", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const first = yield* Job.all([Effect.never, Effect.fail("x"), Effect.succeed("win")], {
          concurrency: 3,
          policy: "firstSuccess"
        })
        const snap = yield* Supervisor.snapshot
        yield* Supervisor.drain
        const last = yield* Effect.flip(
          Job.all([Effect.fail("e1"), Effect.fail("e2")], { concurrency: 1, policy: "firstSuccess" })
        )
        const counters = (yield* Supervisor.snapshot).counters
        return { first, last, counters, runningAfterWin: snap.running.length }
      })
    )
    expect(value.runningAfterWin).toBe(0) // the losers were interrupted before all returned
    expect(value.first).toBe("win")
    expect(value.last).toBe("e2")
    expect(value.counters.interrupted).toBe(1)
    expect(value.counters.succeeded).toBe(1)
    expect(value.counters.failed).toBe(3)
  })
})

describe("whenFull", () => {
  const setup = Effect.gen(function* () {
    yield* Job.fire(Effect.never, { name: "blocker" })
    yield* Job.fire(Effect.never, { name: "queued" })
  })

  it('"fail": fire and fork fail with SupervisorFullError', async () => {
    const { value } = await run(
      Effect.gen(function* () {
        yield* setup
        const a = yield* Effect.flip(Job.fire(Effect.void, { name: "x" }))
        const b = yield* Effect.flip(Job.fork(Effect.void, { name: "y" }))
        return [a, b]
      }),
      { concurrency: 1, maxQueued: 1, whenFull: "fail", grace: 0 }
    )
    expect(value[0]).toBeInstanceOf(SupervisorFullError)
    expect(value[1]._tag).toBe("SupervisorFullError")
    // the message names the settings that decide it
    expect(value[0].message).toMatch(/job "x" was not admitted .*maxQueued.*whenFull: "wait"/)
  })

  it('"drop": fire returns, one warn line names the job, counted; fork fails', async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        yield* setup
        yield* Job.fire(Effect.void, { name: "dropme" })
        const forked = yield* Effect.flip(Job.fork(Effect.void, { name: "y" }))
        return { forked, snap: yield* Supervisor.snapshot }
      }),
      { concurrency: 1, maxQueued: 1, whenFull: "drop", grace: 0 }
    )
    expect(value.forked._tag).toBe("SupervisorFullError")
    expect(value.snap.counters.dropped).toBe(1)
    expect(value.snap.queued.map((j) => j.name)).toEqual(["queued"])
    const mine = linesOf(lines, "dropme")
    expect(mine).toHaveLength(1)
    expect(mine[0].level).toBe("Warn")
  })

  it('"drop": a fire with reportTo is not dropped: it fails with SupervisorFullError (its reader would wait for ever)', async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        yield* setup
        const results = yield* Chan.make<Job.Outcome<void, never>>(4)
        const refused = yield* Effect.flip(Job.fire(Effect.void, { name: "tracked", reportTo: results }))
        return { refused, snap: yield* Supervisor.snapshot }
      }),
      { concurrency: 1, maxQueued: 1, whenFull: "drop", grace: 0 }
    )
    expect(value.refused._tag).toBe("SupervisorFullError")
    expect(value.snap.counters.dropped).toBe(0)
    expect(linesOf(lines, "tracked")).toEqual([])
  })

  it('"wait": fire suspends until a queue slot frees', async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const gate = yield* Chan.make<void>()
        yield* Job.fire(Chan.take(gate), { name: "blocker" })
        yield* Job.fire(Effect.void, { name: "queued" })
        const waiting = yield* Effect.forkChild(Job.fire(Effect.void, { name: "third" }))
        yield* settle
        const suspended = waiting.pollUnsafe() === undefined
        yield* Chan.put(gate, undefined)
        yield* Fiber.join(waiting)
        yield* Supervisor.drain
        return { suspended, counters: (yield* Supervisor.snapshot).counters }
      }),
      { concurrency: 1, maxQueued: 1, whenFull: "wait" }
    )
    expect(value.suspended).toBe(true)
    expect(value.counters.succeeded).toBe(3)
  })
})

describe("successes below the minimum log level", () => {
  it("write no line, are counted, and drain still waits for every job; failures are still logged", async () => {
    let ran = 0
    const { value, lines } = await run(
      Effect.gen(function* () {
        for (let i = 0; i < 50; i++)
          yield* Job.fire(
            Effect.andThen(
              Effect.yieldNow,
              Effect.sync(() => ran++)
            ),
            { name: `ok-${i}` }
          )
        yield* Job.fire(Effect.fail("boom"), { name: "bad" })
        yield* Supervisor.drain
        const afterDrain = ran
        return { afterDrain, counters: (yield* Supervisor.snapshot).counters }
      }),
      { concurrency: 4 },
      "Info"
    )
    expect(value.afterDrain).toBe(50)
    expect(value.counters.succeeded).toBe(50)
    expect(value.counters.failed).toBe(1)
    const outcomeLines = lines.filter((l) => "job.outcome" in l.annotations)
    expect(outcomeLines.map((l) => l.annotations["job.name"])).toEqual(["bad"])
  })

  it("still reach a tap", async () => {
    const { value } = await run(
      Effect.scoped(
        Effect.gen(function* () {
          const tap = yield* Supervisor.outcomes
          yield* Job.fire(Effect.succeed(1), { name: "quiet" })
          yield* Supervisor.drain
          yield* settle // the tap is fed through a Mult fiber
          return yield* Chan.poll(tap)
        })
      ),
      {},
      "Info"
    )
    expect(Option.getOrThrow(value).name).toBe("quiet")
  })
})
