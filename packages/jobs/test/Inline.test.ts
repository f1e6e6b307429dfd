/**
 * `yield* Job.fire(…)` and `yield* Job.fork(…)` complete inside `yield*` when the job is admitted at
 * once (internal/inline.ts). These tests pin what must not change with it: a loop of fires still
 * yields to other fibers and is still interrupted; a fire that must wait for room still waits; a
 * bad argument is still a defect of the caller at the call; the job sees the caller's context of
 * that moment; and the same values used as plain Effects (pipe, flatMap, all) behave the same.
 */
import { Cause, Context, Deferred, Effect, Exit, Fiber } from "effect"
import { describe, expect, it } from "vitest"
import { Job, JobArgumentError, Supervisor } from "../src/index.js"
import { run, settle } from "./harness.js"

class Tenant extends Context.Service<Tenant, string>()("test/Tenant") {}

describe("Job.fire and Job.fork inside yield*", () => {
  it("a long loop of fires still yields to the other fibers", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        let other = 0
        yield* Effect.forkChild(
          Effect.forever(
            Effect.andThen(
              Effect.sync(() => other++),
              Effect.yieldNow
            )
          )
        )
        yield* settle
        const before = other
        for (let i = 0; i < 10_000; i++) yield* Job.fire(Effect.void)
        const during = other - before
        yield* Supervisor.drain
        return { during }
      }),
      { concurrency: 1, maxQueued: 20_000 }
    )
    // 10,000 fires are more than a fiber's turn (2,048 operations): the other fiber ran in between
    expect(value.during).toBeGreaterThan(0)
  })

  it("a fiber that fires in an endless loop is interrupted", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        let fired = 0
        const looping = yield* Effect.forkChild(
          Effect.gen(function* () {
            while (true) {
              yield* Job.fire(Effect.void)
              fired++
            }
          })
        )
        yield* Effect.yieldNow
        const exit = yield* Fiber.await(looping).pipe(Effect.andThen(Effect.succeed("ended")), Effect.forkChild)
        yield* Fiber.interrupt(looping)
        const ended = yield* Fiber.join(exit)
        yield* Supervisor.drain
        return { ended, fired }
      }),
      { concurrency: 4, maxQueued: 1_000_000, logSuccess: "debug" },
      "Info"
    )
    expect(value.ended).toBe("ended")
    expect(value.fired).toBeGreaterThan(0)
  })

  it("a fire after the caller was interrupted in its own synchronous code is not made", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        let ran = 0
        let after = 0
        const caller = yield* Effect.forkChild(
          Effect.gen(function* () {
            const self = yield* Effect.withFiber((fiber) => Effect.succeed(fiber))
            self.interruptUnsafe() // plain code of the running fiber: the interrupt lands at its next step
            yield* Job.fire(Effect.sync(() => ran++))
            after++
          })
        )
        const exit = yield* Fiber.await(caller)
        yield* Supervisor.drain
        return { interrupted: Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause), ran, after }
      })
    )
    expect(value).toEqual({ interrupted: true, ran: 0, after: 0 })
  })

  it("a fire that finds the queue full waits for room (whenFull: wait), then goes on", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const hold = yield* Deferred.make<void>()
        const order: Array<string> = []
        yield* Job.fire(Deferred.await(hold), { name: "holder" }) // the one slot
        yield* Job.fire(
          Effect.sync(() => order.push("queued")),
          { name: "queued" }
        ) // the one queue place
        const third = yield* Effect.forkChild(
          Effect.andThen(
            Job.fire(
              Effect.sync(() => order.push("third")),
              { name: "third" }
            ),
            Effect.sync(() => order.push("third fired"))
          )
        )
        yield* settle
        const waitedBefore = [...order]
        yield* Deferred.succeed(hold, undefined)
        yield* Fiber.join(third)
        yield* Supervisor.drain
        return { waitedBefore, order }
      }),
      { concurrency: 1, maxQueued: 1, whenFull: "wait" }
    )
    expect(value.waitedBefore).toEqual([])
    expect([...value.order].sort()).toEqual(["queued", "third", "third fired"])
  })

  it("a bad argument is a defect of the caller, at the call", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        let after = false
        const exit = yield* Effect.exit(
          Effect.gen(function* () {
            yield* Job.fire(42 as unknown as Effect.Effect<void>)
            after = true
          })
        )
        const forkExit = yield* Effect.exit(
          Effect.gen(function* () {
            yield* Job.fork(Effect.void, { timeout: "soon" as never })
            after = true
          })
        )
        return { exit, forkExit, after }
      })
    )
    expect(value.after).toBe(false)
    for (const exit of [value.exit, value.forkExit]) {
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) expect(Cause.squash(exit.cause)).toBeInstanceOf(JobArgumentError)
    }
  })

  it("the job runs with the caller's context of that moment, in yield* and as a plain Effect", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const seen: Array<string> = []
        const job = Effect.gen(function* () {
          seen.push(yield* Tenant)
        })
        yield* Effect.gen(function* () {
          yield* Job.fire(job)
          const h = yield* Job.fork(job)
          yield* Job.await(h)
        }).pipe(Effect.provideService(Tenant, "a"))
        // the same calls as plain Effects, not in a generator
        yield* Job.fire(job).pipe(
          Effect.andThen(Job.fork(job)),
          Effect.flatMap(Job.await),
          Effect.provideService(Tenant, "b")
        )
        yield* Effect.all([Job.fire(job), Job.fire(job)]).pipe(Effect.provideService(Tenant, "c"))
        yield* Supervisor.drain
        return seen.sort()
      })
    )
    expect(value).toEqual(["a", "a", "b", "b", "c", "c"])
  })

  it("the Supervisor service's own fire and fork behave the same, in yield* and as plain Effects", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const sup = yield* Supervisor.Supervisor
        const seen: Array<string> = []
        const job = (name: string) => Effect.sync(() => seen.push(name))
        yield* sup.fire(job("fired"), { name: "fired" })
        const h = yield* sup.fork(job("forked"), { name: "forked" })
        yield* sup.fire(job("plain")).pipe(Effect.andThen(sup.fork(job("plain fork"))), Effect.flatMap(Job.await))
        const exit = yield* Job.await(h)
        yield* sup.drain
        return { seen: seen.sort(), exit: Exit.isSuccess(exit) }
      })
    )
    expect(value).toEqual({ seen: ["fired", "forked", "plain", "plain fork"], exit: true })
  })
})
