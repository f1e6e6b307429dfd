/**
 * Guards for documented behaviours a mutation audit found no test failing for: `maxHeldLines:
 * Infinity` (no bound) accepted by `runMain` and the Promise `supervisor`; options inherited from a
 * prototype applied by the Promise API's `fire` and `all` (as `run` already is); a shutdown
 * cancelling delayed jobs newest first.
 */
import { Chan } from "@tributary/channel"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import pino from "pino"
import { afterEach, describe, expect, it } from "vitest"
import { Job, Supervisor } from "../src/index.js"
import { runMainArguments } from "../src/internal/config.js"
import { type GroupJobOptions, item, type JobOptions, type PromiseSupervisor, supervisor } from "../src/promise.js"
import { run, settle } from "./harness.js"

const open: Array<PromiseSupervisor> = []

/** A Promise supervisor that logs nothing (these tests read its snapshot and results). */
const quiet = (config: Parameters<typeof supervisor>[0] = {}): PromiseSupervisor => {
  const sup = supervisor({ logger: pino({ level: "silent" }), ...config })
  open.push(sup)
  return sup
}

afterEach(async () => {
  for (const sup of open.splice(0)) await sup.shutdown({ grace: 0 })
})

/** A job that ends only when its signal aborts (rejecting with the reason). */
const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))

describe("maxHeldLines: Infinity is no bound, not a bad value", () => {
  it("runMain's arguments take it as it is", () => {
    expect(runMainArguments(Effect.void, { maxHeldLines: Number.POSITIVE_INFINITY }).maxHeldLines).toBe(
      Number.POSITIVE_INFINITY
    )
  })

  it("the Promise supervisor takes it", async () => {
    const sup = quiet({ maxHeldLines: Number.POSITIVE_INFINITY })
    expect(await sup.run(async () => 7)).toBe(7)
  })
})

describe("the Promise API applies options inherited from a prototype (as the Effect API does)", () => {
  it("fire: an inherited timeout times the job out", async () => {
    const sup = quiet()
    sup.fire(untilAborted, Object.create({ timeout: 0 }) as JobOptions)
    await sup.drain()
    expect((await sup.snapshot()).counters).toMatchObject({ timedOut: 1, succeeded: 0 })
  })

  it("all: an inherited timeout of the group times its jobs out", async () => {
    const sup = quiet()
    // its own concurrency, a timeout from its prototype
    const group: { readonly concurrency: number } = Object.assign(Object.create({ timeout: 0 }), { concurrency: 2 })
    const settled = await sup.all([untilAborted], group)
    expect(settled.map((r) => [r.status, r.outcome._tag])).toEqual([["rejected", "TimedOut"]])
  })

  it("all: an inherited timeout of an item times its job out", async () => {
    const sup = quiet()
    const settled = await sup.all([item(untilAborted, Object.create({ timeout: 0 }) as GroupJobOptions)], {
      concurrency: 2
    })
    expect(settled.map((r) => [r.status, r.outcome._tag])).toEqual([["rejected", "TimedOut"]])
  })
})

describe("a shutdown cancels the delayed jobs newest first", () => {
  it("their warn lines and outcomes come newest first", async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        const outcomes = yield* Chan.make<Job.Outcome>(4)
        for (const name of ["older", "middle", "newer"])
          yield* Job.fire(Effect.void, { name, delay: "1 minute", reportTo: outcomes })
        const shutdown = yield* Effect.forkChild(Supervisor.shutdown({ grace: "1 second" }))
        yield* settle
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(shutdown)
        Chan.closeUnsafe(outcomes)
        return (yield* Chan.toArray(outcomes)).map((o) => [o.name, o._tag])
      })
    )
    expect(value).toEqual([
      ["newer", "Interrupted"],
      ["middle", "Interrupted"],
      ["older", "Interrupted"]
    ])
    const warned = lines
      .filter((l) => l.message.endsWith("still delayed at shutdown; cancelling it"))
      .map((l) => l.annotations["job.name"])
    expect(warned).toEqual(["newer", "middle", "older"])
  })
})
