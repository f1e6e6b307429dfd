/**
 * The jobs' fibers share one dispatcher made by the caller's scheduler (internal/sharedDispatch.ts):
 * jobs that suspend cost no dispatcher and no macrotask of their own, and the caller's scheduler
 * still decides how tasks run and when a fiber yields.
 */
import { Effect, Fiber, Scheduler } from "effect"
import { describe, expect, it } from "vitest"
import { Job, Supervisor } from "../src/index.js"
import { SharedDispatch } from "../src/internal/sharedDispatch.js"
import { run } from "./harness.js"

/** The dispatcher of the fiber this runs in. */
const currentDispatcher = Effect.withFiber((fiber) => Effect.succeed(fiber.currentDispatcher))

/** A scheduler that counts what is asked of it and runs tasks through a MixedScheduler. */
class CountingScheduler implements Scheduler.Scheduler {
  readonly executionMode = "async" as const
  dispatchers = 0
  tasks = 0
  yieldQuestions = 0
  private readonly inner = new Scheduler.MixedScheduler()
  shouldYield(fiber: Parameters<Scheduler.Scheduler["shouldYield"]>[0]): boolean {
    this.yieldQuestions++
    return this.inner.shouldYield(fiber)
  }
  makeDispatcher(): Scheduler.SchedulerDispatcher {
    this.dispatchers++
    const dispatcher = this.inner.makeDispatcher()
    return {
      scheduleTask: (task, priority) => {
        this.tasks++
        dispatcher.scheduleTask(task, priority)
      },
      flush: () => dispatcher.flush()
    }
  }
}

describe("the jobs' shared dispatcher", () => {
  it("every job of a supervisor, fired or forked, suspends through one dispatcher, not the caller's own", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const caller = yield* currentDispatcher
        const seen: Array<unknown> = []
        const job = Effect.gen(function* () {
          yield* Effect.yieldNow
          seen.push(yield* currentDispatcher)
        })
        for (let i = 0; i < 20; i++) yield* Job.fire(job, { name: `fired-${i}` })
        const handles = yield* Effect.forEach([0, 1, 2], (i) => Job.fork(job, { name: `forked-${i}` }))
        yield* Supervisor.drain
        yield* Effect.forEach(handles, Job.await)
        return { caller, seen }
      }),
      { concurrency: 4 }
    )
    expect(value.seen).toHaveLength(23)
    expect(new Set(value.seen).size).toBe(1)
    expect(value.seen[0]).not.toBe(value.caller)
  })

  it("the caller's own scheduler makes that one dispatcher, runs every task and decides when a job yields", async () => {
    const scheduler = new CountingScheduler()
    const ran: Array<number> = []
    await run(
      Effect.gen(function* () {
        for (let i = 0; i < 10; i++)
          yield* Job.fire(
            Effect.andThen(
              Effect.yieldNow,
              Effect.sync(() => ran.push(i))
            ),
            { name: `job-${i}` }
          )
        yield* Supervisor.drain
      }).pipe(Effect.provideService(Scheduler.Scheduler, scheduler)),
      { concurrency: 2 }
    )
    expect(ran.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    // the caller's fiber makes its own; the ten jobs make one between them
    expect(scheduler.dispatchers).toBeLessThanOrEqual(2)
    // each job's yield went through the caller's scheduler's dispatcher
    expect(scheduler.tasks).toBeGreaterThanOrEqual(10)
    expect(scheduler.yieldQuestions).toBeGreaterThan(0)
  })

  it("a job fired from inside a job keeps the same shared dispatcher (no second wrapper)", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const seen: Array<unknown> = []
        const inner = Effect.gen(function* () {
          yield* Effect.yieldNow
          seen.push(yield* currentDispatcher)
        })
        const outer = Effect.gen(function* () {
          seen.push(yield* currentDispatcher)
          yield* Job.fire(inner, { name: "inner" })
        })
        yield* Job.fire(outer, { name: "outer" })
        yield* Supervisor.drain
        return seen
      })
    )
    expect(value).toHaveLength(2)
    expect(value[0]).toBe(value[1])
  })

  it("SharedDispatch hands out the dispatcher its inner scheduler made once", () => {
    const inner = new CountingScheduler()
    const shared = new SharedDispatch(inner)
    const a = shared.makeDispatcher()
    const b = shared.makeDispatcher()
    expect(a).toBe(b)
    expect(inner.dispatchers).toBe(1)
    expect(shared.executionMode).toBe("async")
    const fiber = Effect.runFork(Effect.never)
    shared.shouldYield(fiber)
    expect(inner.yieldQuestions).toBe(1)
    Effect.runFork(Fiber.interrupt(fiber))
  })
})
