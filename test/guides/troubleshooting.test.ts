/**
 * docs/troubleshooting.md, row by row, for every error that can be raised in-process: the snippet or
 * situation the row describes raises that error (its tag, and whether it is a typed failure or a
 * defect), its message names what the row says, and the fix the row gives makes it go away. The
 * NATS and monitor rows are shown by packages/nats/test and packages/monitor/test (a real
 * nats-server, a real port in use).
 */
import { Writable } from "node:stream"
import { Buffer, Chan } from "@tributary/channel"
import { Job, Supervisor } from "@tributary/jobs"
import { supervisor } from "@tributary/jobs/promise"
import { PinoLogger } from "@tributary/pino"
import { Cause, Effect, Exit, Fiber, Layer, Schema } from "effect"
import pino from "pino"
import { describe, expect, it } from "vitest"
import { outcomes, run as runChild } from "../child.js"
import { outcomeLines, pinoLines } from "./pino-lines.js"

/** How `effect` ended: its value, or the error it failed with (`fail`) or died with (`die`). */
const outcomeOf = async <A, E>(effect: Effect.Effect<A, E>) => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) return { kind: "success" as const, value: exit.value as unknown, error: undefined }
  const fail = exit.cause.reasons.find(Cause.isFailReason)
  if (fail !== undefined) return { kind: "fail" as const, value: undefined, error: fail.error as any }
  const die = exit.cause.reasons.find(Cause.isDieReason)
  return { kind: "die" as const, value: undefined, error: die?.defect as any }
}

/** What `f` throws, or undefined. */
const thrownBy = (f: () => unknown): any => {
  try {
    f()
  } catch (error) {
    return error
  }
  return undefined
}

const withSupervisor = <A, E>(effect: Effect.Effect<A, E, Supervisor.Supervisor>, config: Supervisor.Config = {}) =>
  effect.pipe(Effect.provide(Supervisor.layer(config)), Effect.provide(PinoLogger.layer(pinoLines().logger)))

describe("troubleshooting.md: the errors", () => {
  it("SupervisorMissingError: Job.fire with no supervisor in context dies; providing Supervisor.layer fixes it", async () => {
    const fire = Job.fire(Effect.void, { name: "orphan" })
    const missing = await outcomeOf(fire as Effect.Effect<void, unknown>)
    expect(missing).toMatchObject({ kind: "die", error: { _tag: "SupervisorMissingError" } })
    expect(missing.error.message).toContain("Supervisor.layer")
    expect(await outcomeOf(withSupervisor(fire))).toMatchObject({ kind: "success" })
  })

  it("SupervisorClosedError: fire after shutdown is a typed failure; catchTag answers it", async () => {
    const late = Effect.gen(function* () {
      yield* Supervisor.shutdown({ grace: 0 })
      return yield* Job.fire(Effect.void, { name: "late" })
    })
    expect(await outcomeOf(withSupervisor(late))).toMatchObject({
      kind: "fail",
      error: { _tag: "SupervisorClosedError" }
    })
    const caught = late.pipe(Effect.catchTag("SupervisorClosedError", () => Effect.succeed("stopped producing")))
    expect(await outcomeOf(withSupervisor(caught))).toMatchObject({ kind: "success", value: "stopped producing" })
  })

  it("SupervisorFullError: maxQueued jobs waiting and whenFull 'fail'; whenFull 'wait' makes fire wait instead", async () => {
    const three = (whenFull: "fail" | "wait") =>
      withSupervisor(
        Effect.gen(function* () {
          yield* Job.fire(Effect.never, { name: "running" })
          yield* Job.fire(Effect.never, { name: "queued" })
          const third = yield* Effect.forkChild(Job.fire(Effect.void, { name: "third" }))
          for (let i = 0; i < 20; i++) yield* Effect.yieldNow
          const waiting = third.pollUnsafe() === undefined
          yield* Supervisor.shutdown({ grace: 0 })
          return waiting ? "waiting" : yield* Fiber.join(third)
        }),
        { concurrency: 1, maxQueued: 1, whenFull }
      )
    const full = await outcomeOf(three("fail"))
    expect(full).toMatchObject({ kind: "fail", error: { _tag: "SupervisorFullError" } })
    expect(full.error.message).toContain('job "third" was not admitted')
    expect(await outcomeOf(three("wait"))).toMatchObject({ kind: "success", value: "waiting" })
  })

  it("SupervisorConfigError: concurrency 0 or an unknown logSuccess level; the message names the field, the value and what is accepted", async () => {
    for (const [config, field, value] of [
      [{ concurrency: 0 }, "concurrency", "0"],
      [{ logSuccess: "loud" as never }, "logSuccess", "loud"]
    ] as const) {
      const bad = await outcomeOf(withSupervisor(Effect.void, config))
      expect(bad).toMatchObject({ kind: "die", error: { _tag: "SupervisorConfigError" } })
      expect(bad.error.message).toContain(field)
      expect(bad.error.message).toContain(value)
    }
    const concurrency = (await outcomeOf(withSupervisor(Effect.void, { concurrency: 0 }))).error.message
    expect(concurrency).toMatch(/integer|at least|≥|>= ?1/)
    const level = (await outcomeOf(withSupervisor(Effect.void, { logSuccess: "loud" as never }))).error.message
    expect(level).toContain("Debug")
  })

  it("JobArgumentError: an unknown pool, a bad timeout, a Promise for a job; Effect.tryPromise and a declared pool fix them", async () => {
    const unknownPool = await outcomeOf(withSupervisor(Job.fire(Effect.void, { pool: "partner" })))
    expect(unknownPool).toMatchObject({ kind: "die", error: { _tag: "JobArgumentError" } })
    expect(unknownPool.error.message).toContain("partner")
    const badTimeout = await outcomeOf(withSupervisor(Job.fire(Effect.void, { timeout: "soon" as never })))
    expect(badTimeout.error).toMatchObject({ _tag: "JobArgumentError" })
    expect(badTimeout.error.message).toContain("soon")
    const promise = await outcomeOf(withSupervisor(Job.fire(Promise.resolve(1) as never)))
    expect(promise.error).toMatchObject({ _tag: "JobArgumentError" })
    const asyncFn = await outcomeOf(withSupervisor(Job.fire((async () => 1) as never)))
    expect(asyncFn.error).toMatchObject({ _tag: "JobArgumentError" })

    const fixed = withSupervisor(
      Effect.gen(function* () {
        const handle = yield* Job.fork(
          Effect.tryPromise(() => Promise.resolve(1)),
          { pool: "partner" }
        )
        return yield* Job.join(handle)
      }),
      { pools: { partner: { concurrency: 1 } } }
    )
    expect(await outcomeOf(fixed)).toMatchObject({ kind: "success", value: 1 })
  })

  it("JobPayloadError: definition.make with a payload its Schema cannot encode; a payload of its type works", () => {
    const sync = Job.define({
      name: "sync-record",
      payload: Schema.Struct({ id: Schema.Number }),
      run: ({ id }) => Effect.succeed(id)
    })
    const bad = thrownBy(() => sync.make({ id: "seven" as never }))
    expect(bad).toMatchObject({ _tag: "JobPayloadError", definition: "sync-record" })
    expect(thrownBy(() => sync.make({ id: 7 }))).toBe(undefined)
  })

  it("JobAbortedError (Promise API): sup.run of a job that timed out; a longer timeout fixes it", async () => {
    const { logger, lines } = pinoLines()
    const sup = supervisor({ logger })
    const untilAborted = (signal: AbortSignal) =>
      new Promise<string>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
    await expect(sup.run(untilAborted, { name: "slow", timeout: "1 millis" })).rejects.toMatchObject({
      _tag: "JobAbortedError",
      reason: "TimedOut"
    })
    let open!: () => void
    const opened = new Promise<void>((resolve) => {
      open = resolve
    })
    const longer = sup.run(
      async () => {
        await opened
        return "done"
      },
      { name: "slow", timeout: "1 minute" }
    )
    open()
    expect(await longer).toBe("done")
    await sup.shutdown()
    expect(outcomeLines(lines).map((l) => l["job.outcome"])).toEqual(["TimedOut", "Success"])
  })

  it("ChanArgumentError: a negative buffer size, a bad duration; the message names the argument and the value", async () => {
    const size = await outcomeOf(Chan.make(-1))
    expect(size).toMatchObject({ kind: "die", error: { _tag: "ChanArgumentError" } })
    expect(size.error.message).toContain("-1")
    const duration = await outcomeOf(Chan.timeout(-5))
    expect(duration.error).toMatchObject({ _tag: "ChanArgumentError" })
    expect(duration.error.message).toContain("-5")
    expect(thrownBy(() => Buffer.fixed(-1))).toMatchObject({ _tag: "ChanArgumentError" })
  })

  it("ChanPendingLimitError: Chan.putUnsafe in a loop; a dropping buffer fixes it", async () => {
    const flood = (ch: Chan.Chan<number>) =>
      Effect.gen(function* () {
        for (let i = 0; i < 2000; i++) Chan.putUnsafe(ch, i)
        return yield* Chan.put(ch, -1)
      })
    const limited = await outcomeOf(Effect.suspend(() => flood(Chan.makeUnsafe<number>(1))))
    const error = limited.error ?? thrownBy(() => flood(Chan.makeUnsafe<number>(1)))
    expect(error).toMatchObject({ _tag: "ChanPendingLimitError" })
    expect(error.message).toContain("maxPending")
    expect(await outcomeOf(flood(Chan.makeUnsafe<number>(Buffer.dropping(16))))).toMatchObject({
      kind: "success",
      value: true
    })
  })

  it("PinoLoggerConfigError: sync: true with minLength, a closed stream; the default destination works", async () => {
    // refused where the layer is made: PinoLogger.layer throws it
    const build = (logger: pino.Logger) => thrownBy(() => PinoLogger.layer(logger))
    const lossy = build(pino(pino.destination({ dest: 1, sync: true, minLength: 4096 })))
    expect(lossy).toMatchObject({ _tag: "PinoLoggerConfigError" })
    expect(lossy.message).toContain("minLength")
    const closed = new Writable({ write: (_c, _e, cb) => cb() })
    closed.destroy()
    expect(build(pino(closed))).toMatchObject({ _tag: "PinoLoggerConfigError" })
    const fixed = PinoLogger.layer(pino({ level: "silent" }))
    expect(await outcomeOf(Effect.log("ready").pipe(Effect.provide(fixed)))).toMatchObject({ kind: "success" })
  })
})

describe("troubleshooting.md: other symptoms", () => {
  it("nothing is logged for successful jobs at pino's info; logSuccess: 'info' logs them", async () => {
    const lines = async (config: Supervisor.Config) => {
      const { logger, lines } = pinoLines({ level: "info" })
      await Effect.runPromise(
        Effect.gen(function* () {
          yield* Job.fire(Effect.void, { name: "ok" })
          yield* Supervisor.drain
        }).pipe(Effect.provide(Supervisor.layer(config).pipe(Layer.provideMerge(PinoLogger.layer(logger)))))
      )
      return outcomeLines(lines).length
    }
    expect([await lines({}), await lines({ logSuccess: "info" })]).toEqual([0, 1])
  })

  it("metrics: true and a watch stream the program forked do not keep runMain's process alive", async () => {
    const { code, lines } = await runChild("test/guides/fixtures/exits.ts")
    expect(code).toBe(0)
    expect(outcomes(lines).map((l) => l["job.outcome"])).toEqual(["Success"])
    expect(lines[lines.length - 1]).toMatchObject({ msg: "exiting with code 0" })
  })

  it("a job that never ends keeps drain waiting; the snapshot shows it running", async () => {
    const program = Effect.gen(function* () {
      yield* Job.fire(Effect.never, { name: "forever" })
      const drained = yield* Effect.forkChild(Supervisor.drain)
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow
      const snapshot = yield* Supervisor.snapshot
      const waiting = drained.pollUnsafe() === undefined
      yield* Supervisor.shutdown({ grace: 0 })
      return { waiting, running: snapshot.running.map((j) => j.name) }
    })
    expect(await outcomeOf(withSupervisor(program))).toMatchObject({
      kind: "success",
      value: { waiting: true, running: ["forever"] }
    })
  })
})
