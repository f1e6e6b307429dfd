/**
 * The queue features p-queue and BullMQ users reach for: pause and resume (of a pool and of the
 * supervisor), a job's own id with dedupe, and progress reported from inside a job.
 */
import { Chan } from "@tributary/channel"
import { Cause, Deferred, Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { Job, JobArgumentError, Supervisor } from "../src/index.js"
import { linesOf, run, settle } from "./harness.js"

describe("pause and resume", () => {
  it("a paused pool starts nothing (its jobs queue, others run); resume starts them", async () => {
    const started: Array<string> = []
    const job = (name: string) => Effect.sync(() => started.push(name))
    const { value } = await run(
      Effect.gen(function* () {
        yield* Supervisor.pause({ pool: "db" })
        yield* Job.fire(job("db-1"), { pool: "db", name: "db-1" })
        yield* Job.fire(job("other"), { name: "other" })
        yield* Job.fire(job("db-2"), { pool: "db", name: "db-2" })
        yield* settle
        const whilePaused = { started: [...started], snap: yield* Supervisor.snapshot }
        yield* Supervisor.resume({ pool: "db" })
        yield* Supervisor.drain
        return { whilePaused, after: [...started] }
      }),
      { pools: { db: {} } }
    )
    expect(value.whilePaused.started).toEqual(["other"])
    const db = value.whilePaused.snap.pools.find((p) => p.name === "db")
    expect(db).toMatchObject({ paused: true, queued: 2, heldBy: "paused" })
    expect(value.after).toEqual(["other", "db-1", "db-2"])
  })

  it("pausing the supervisor holds every pool; running jobs go on; resume starts the queue in order", async () => {
    const started: Array<number> = []
    const { value } = await run(
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        const running = yield* Job.fork(Deferred.await(gate), { name: "running" })
        yield* settle
        yield* Supervisor.pause()
        for (let i = 1; i <= 3; i++) yield* Job.fire(Effect.sync(() => started.push(i)))
        yield* Deferred.succeed(gate, undefined)
        yield* Job.await(running) // a running job is not held by the pause
        yield* settle
        const whilePaused = { started: [...started], snap: yield* Supervisor.snapshot }
        yield* Supervisor.resume()
        yield* Supervisor.drain
        return whilePaused
      })
    )
    expect(value.started).toEqual([])
    expect(value.snap).toMatchObject({ paused: true })
    expect(value.snap.queued).toHaveLength(3)
    expect(started).toEqual([1, 2, 3])
  })

  it("a shutdown cancels the jobs a pause holds at once (one warn line each), not at the end of its grace", async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        const running = yield* Job.fork(Deferred.await(gate), { name: "running" })
        yield* Supervisor.pause({ pool: "db" })
        const held = yield* Job.fork(Effect.void, { pool: "db", name: "held" })
        yield* settle
        const closing = yield* Effect.forkChild(Supervisor.shutdown({ grace: "1 hour" }))
        yield* settle
        // no Clock time passed: the held job has its outcome, the running one still runs
        const heldExit = yield* Job.await(held)
        const runningStatus = yield* Job.status(running)
        yield* Deferred.succeed(gate, undefined)
        yield* Fiber.join(closing) // ends with the running job, long before the grace
        return { heldExit, runningStatus, outcome: yield* Job.await(running) }
      }),
      { pools: { db: {} } }
    )
    expect(Exit.hasInterrupts(value.heldExit)).toBe(true)
    expect(value.runningStatus).toBe("running")
    expect(Exit.isSuccess(value.outcome)).toBe(true)
    expect(
      linesOf(lines, "held").filter((l) => l.message.includes("queued in a paused pool at shutdown"))
    ).toHaveLength(1)
  })

  it("an unknown pool dies with JobArgumentError naming it", async () => {
    const { value } = await run(Effect.exit(Supervisor.pause({ pool: "nope" })))
    const defect = Exit.isFailure(value) ? value.cause.reasons.find(Cause.isDieReason)?.defect : undefined
    expect(defect).toBeInstanceOf(JobArgumentError)
    expect((defect as JobArgumentError).argument).toBe("pool")
  })
})

describe("a job's own id (dedupe)", () => {
  it("while a job with the id is live, fire does nothing and fork returns its handle; once it ended, the id is free", async () => {
    let runs = 0
    const { value, lines } = await run(
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        const work = Effect.andThen(
          Deferred.await(gate),
          Effect.sync(() => ++runs)
        )
        const first = yield* Job.fork(work, { id: "sync-acme", name: "sync" })
        yield* Job.fire(work, { id: "sync-acme", name: "sync" })
        const again = yield* Job.fork(work, { id: "sync-acme", name: "sync" })
        yield* Deferred.succeed(gate, undefined)
        const results = [yield* Job.join(first), yield* Job.join(again)]
        const later = yield* Job.fork(work, { id: "sync-acme", name: "sync" })
        return { firstId: first.id, sameHandle: again.id === first.id, results, later: yield* Job.join(later) }
      })
    )
    expect(value).toEqual({ firstId: "sync-acme", sameHandle: true, results: [1, 1], later: 2 })
    expect(runs).toBe(2)
    const outcomeLines = linesOf(lines, "sync").filter((l) => "job.outcome" in l.annotations)
    expect(outcomeLines.map((l) => l.annotations["job.id"])).toEqual(["sync-acme", "sync-acme"])
  })

  it("a call deduped against a live job still has its options checked: a misspelt one is a JobArgumentError", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const live = yield* Job.fork(Effect.never, { id: "sync-acme" })
        const exits: Array<Exit.Exit<unknown, unknown>> = [
          yield* Effect.exit(Job.fire(Effect.void, { id: "sync-acme", timeOut: "1 second" } as never)),
          yield* Effect.exit(Job.fork(Effect.void, { id: "sync-acme", timeOut: "1 second" } as never))
        ]
        yield* Job.interrupt(live)
        return exits
      })
    )
    for (const exit of value) {
      const defect = Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined
      expect(defect).toMatchObject({ _tag: "JobArgumentError", argument: "timeOut" })
    }
  })

  it("an id that is not a non-empty string is a JobArgumentError", async () => {
    const { value } = await run(Effect.exit(Job.fire(Effect.void, { id: "" })))
    const defect = Exit.isFailure(value) ? value.cause.reasons.find(Cause.isDieReason)?.defect : undefined
    expect((defect as JobArgumentError).argument).toBe("id")
  })
})

describe("Job.progress", () => {
  it("shows the last value in the snapshot's running job (also from a child fiber), with a debug line", async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        const step = yield* Deferred.make<void>()
        const done = yield* Deferred.make<void>()
        const job = Effect.gen(function* () {
          yield* Job.progress({ done: 1, total: 3 })
          const child = yield* Effect.forkChild(Job.progress({ done: 2, total: 3 }))
          yield* Fiber.join(child)
          yield* Deferred.succeed(step, undefined)
          yield* Deferred.await(done)
        })
        yield* Job.fire(job, { name: "import" })
        yield* Deferred.await(step)
        const snap = yield* Supervisor.snapshot
        yield* Deferred.succeed(done, undefined)
        yield* Job.progress("outside a job: nothing happens")
        return snap.running.map((j) => [j.name, j.progress])
      })
    )
    expect(value).toEqual([["import", { done: 2, total: 3 }]])
    const progressLines = linesOf(lines, "import").filter((l) => l.message === "job progress")
    expect(progressLines.map((l) => [l.level, l.annotations.progress])).toEqual([
      ["Debug", { done: 1, total: 3 }],
      ["Debug", { done: 2, total: 3 }]
    ])
  })
})

describe("Job.progress among many running jobs", () => {
  it("each value lands on the job that reported it, before and after other jobs start and end", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const round = (names: ReadonlyArray<string>) =>
          Effect.gen(function* () {
            const reported = yield* Deferred.make<void>()
            const release = yield* Deferred.make<void>()
            let count = 0
            for (const name of names)
              yield* Job.fire(
                Effect.gen(function* () {
                  yield* Job.progress(`${name} started`)
                  yield* Job.progress(`${name} halfway`)
                  if (++count === names.length) yield* Deferred.succeed(reported, undefined)
                  yield* Deferred.await(release)
                }),
                { name }
              )
            yield* Deferred.await(reported)
            const snap = yield* Supervisor.snapshot
            yield* Deferred.succeed(release, undefined)
            yield* Supervisor.drain
            return snap.running.map((j) => [j.name, j.progress])
          })
        // the first round builds the supervisor's index of running jobs; the second finds jobs
        // started after it was built, once the first round's jobs have left it
        return [yield* round(["a", "b", "c", "d", "e"]), yield* round(["f", "g", "h"])]
      })
    )
    expect(value).toEqual([
      ["a", "b", "c", "d", "e"].map((n) => [n, `${n} halfway`]),
      ["f", "g", "h"].map((n) => [n, `${n} halfway`])
    ])
  })
})

describe("Job.progress below the minimum log level", () => {
  it("still shows in the snapshot, and writes no line", async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        const step = yield* Deferred.make<void>()
        const done = yield* Deferred.make<void>()
        yield* Job.fire(
          Effect.gen(function* () {
            for (let i = 1; i <= 3; i++) yield* Job.progress(i)
            yield* Deferred.succeed(step, undefined)
            yield* Deferred.await(done)
          }),
          { name: "quiet" }
        )
        yield* Deferred.await(step)
        const snap = yield* Supervisor.snapshot
        yield* Deferred.succeed(done, undefined)
        return snap.running.map((j) => [j.name, j.progress])
      }),
      {},
      "Info"
    )
    expect(value).toEqual([["quiet", 3]])
    expect(lines.filter((l) => l.message === "job progress")).toEqual([])
  })
})

describe("delay", () => {
  it("a delayed job holds no slot and no queue place until its delay (Clock time) ends; drain waits for it", async () => {
    const order: Array<string> = []
    const { value } = await run(
      Effect.gen(function* () {
        const h = yield* Job.fork(
          Effect.sync(() => order.push("later")),
          { name: "later", delay: "5 seconds" }
        )
        yield* Job.fire(
          Effect.sync(() => order.push("now")),
          { name: "now" }
        )
        yield* settle
        const before = { status: yield* Job.status(h), snap: yield* Supervisor.snapshot, order: [...order] }
        const drained = yield* Effect.forkChild(Supervisor.drain)
        yield* settle
        const drainedEarly = drained.pollUnsafe() !== undefined
        yield* TestClock.adjust("5 seconds")
        yield* Fiber.join(drained)
        return { before, drainedEarly, exit: yield* Job.await(h) }
      }),
      { concurrency: 1, maxQueued: 0 }
    )
    expect(value.before.status).toBe("delayed")
    expect(value.before.order).toEqual(["now"]) // the delayed job took no slot from it
    expect(value.before.snap.delayed.map((j) => j.name)).toEqual(["later"])
    expect(value.before.snap.running).toEqual([])
    expect(value.drainedEarly).toBe(false)
    expect(order).toEqual(["now", "later"])
    expect(Exit.isSuccess(value.exit)).toBe(true)
  })

  it("interrupting a delayed job, or a shutdown, cancels it: Interrupted, attempt 0, never run", async () => {
    let ran = 0
    const { value, lines } = await run(
      Effect.gen(function* () {
        const outcomes = yield* Chan.make<Job.Outcome>(4)
        const a = yield* Job.fork(
          Effect.sync(() => ran++),
          { name: "a", delay: "1 minute", reportTo: outcomes }
        )
        yield* Job.fire(
          Effect.sync(() => ran++),
          { name: "b", delay: "1 minute", reportTo: outcomes }
        )
        yield* Job.interrupt(a)
        const shutdown = yield* Effect.forkChild(Supervisor.shutdown({ grace: "1 second" }))
        yield* settle
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(shutdown)
        yield* TestClock.adjust("1 minute") // the timers were stopped: nothing runs
        Chan.closeUnsafe(outcomes)
        return (yield* Chan.toArray(outcomes)).map((o) => [o.name, o._tag, o.attempt])
      })
    )
    expect(value).toEqual([
      ["a", "Interrupted", 0],
      ["b", "Interrupted", 0]
    ])
    expect(ran).toBe(0)
    expect(linesOf(lines, "b").map((l) => l.message)).toEqual([
      "job b still delayed at shutdown; cancelling it",
      "job b was interrupted"
    ])
  })

  it("a shutdown cancels delayed jobs at once: it does not wait out its grace for jobs that can no longer start", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        yield* Job.fire(Effect.void, { name: "later", delay: "10 minutes" })
        const shutdown = yield* Effect.forkChild(Supervisor.shutdown({ grace: "1 minute" }))
        yield* settle // no clock time passes
        const ended = shutdown.pollUnsafe() !== undefined
        yield* TestClock.adjust("1 minute")
        yield* Fiber.join(shutdown)
        return { ended, counters: (yield* Supervisor.snapshot).counters }
      })
    )
    expect(value.ended).toBe(true)
    expect(value.counters).toMatchObject({ started: 0, interrupted: 1 })
  })

  it("a bad delay is a JobArgumentError naming it", async () => {
    const { value } = await run(Effect.exit(Job.fire(Effect.void, { delay: -1 })))
    const defect = Exit.isFailure(value) ? value.cause.reasons.find(Cause.isDieReason)?.defect : undefined
    expect((defect as JobArgumentError).argument).toBe("delay")
  })
})

describe("priority", () => {
  it("queued jobs of a pool start highest priority first, FIFO within a priority (through Job.fire and Job.all)", async () => {
    const order: Array<string> = []
    await run(
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        yield* Job.fire(Deferred.await(gate), { name: "blocker" })
        const job = (name: string) => Effect.sync(() => order.push(name))
        yield* Job.fire(job("low"), { priority: -1 })
        yield* Job.fire(job("normal-1"))
        yield* Job.fire(job("urgent"), { priority: 10 })
        yield* Job.fire(job("normal-2"))
        const group = yield* Effect.forkChild(
          Job.all([job("group-high"), Job.item(job("group-low"), { priority: -5 })], { concurrency: 2, priority: 5 })
        )
        yield* settle
        yield* Deferred.succeed(gate, undefined)
        yield* Fiber.join(group)
        yield* Supervisor.drain
      }),
      { concurrency: 1 }
    )
    expect(order).toEqual(["urgent", "group-high", "normal-1", "normal-2", "low", "group-low"])
  })

  it("a priority that is not a finite number is a JobArgumentError", async () => {
    const { value } = await run(Effect.exit(Job.fire(Effect.void, { priority: Number.NaN })))
    const defect = Exit.isFailure(value) ? value.cause.reasons.find(Cause.isDieReason)?.defect : undefined
    expect((defect as JobArgumentError).argument).toBe("priority")
  })
})
