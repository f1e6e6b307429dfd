/**
 * `Dispatcher`: what the firing supervisor runs in place of a defined job, consulted by fire, fork,
 * forkAll and all; plain Effects never reach it.
 */
import { Chan } from "@tributary/channel"
import { Cause, Deferred, Effect, Exit, Option, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { Dispatcher, Job, JobArgumentError, Supervisor } from "../src/index.js"
import { run, settle } from "./harness.js"

const ranLocally: Array<number> = []
const double = Job.define({
  name: "double",
  payload: Schema.Struct({ n: Schema.Number }),
  run: ({ n }) =>
    Effect.sync(() => {
      ranLocally.push(n)
      return n * 2
    })
})

/** A dispatcher that records what it was given and answers `-n` without running the job. */
const recording = (seen: Array<Dispatcher.Defined>) =>
  Dispatcher.layer((defined) =>
    Effect.sync(() => {
      seen.push(defined)
      return -(defined.encoded as { n: number }).n
    })
  )

describe("Dispatcher", () => {
  it("fire, fork, forkAll and all hand a defined job to the dispatcher; name and payload stay the job's", async () => {
    ranLocally.length = 0
    const seen: Array<Dispatcher.Defined> = []
    const { value } = await run(
      Effect.gen(function* () {
        const reported = yield* Chan.make<Job.Outcome<number, never>>(8)
        yield* Job.fire(double.make({ n: 1 }), { reportTo: reported })
        const joined = yield* Job.join(yield* Job.fork(double.make({ n: 2 })))
        const all = yield* Job.all([double.make({ n: 3 }), double.make({ n: 4 })], { concurrency: 2 })
        const forked = yield* Chan.toArray(yield* Job.forkAll([double.make({ n: 5 })], { concurrency: 1 }))
        yield* Supervisor.drain
        const fired = Option.getOrThrow(yield* Chan.poll(reported))
        return { fired, joined, all, forked }
      }).pipe(Effect.provide(recording(seen)))
    )
    expect(value.fired).toMatchObject({ _tag: "Success", name: "double", payload: { n: 1 } })
    expect(value.fired.exit).toMatchObject({ _tag: "Success", value: -1 })
    expect(value.joined).toBe(-2)
    expect(value.all.map((o) => [o.name, o.payload, o.exit._tag === "Success" ? o.exit.value : o.exit])).toEqual([
      ["double-0", { n: 3 }, -3],
      ["double-1", { n: 4 }, -4]
    ])
    expect(value.forked.map((o) => o.payload)).toEqual([{ n: 5 }])
    expect(seen.map((d) => [d.name, d.encoded])).toEqual([1, 2, 3, 4, 5].map((n) => ["double", { n }]))
    expect(ranLocally).toEqual([]) // the dispatcher's stand-in ran instead
  })

  it("plain Effects stay local; without a dispatcher a defined job runs locally", async () => {
    ranLocally.length = 0
    const seen: Array<Dispatcher.Defined> = []
    const { value } = await run(
      Effect.gen(function* () {
        const plain = yield* Job.join(yield* Job.fork(Effect.succeed("plain")))
        return plain
      }).pipe(Effect.provide(recording(seen)))
    )
    expect(value).toBe("plain")
    expect(seen).toEqual([])
    const local = await run(Effect.flatMap(Job.fork(double.make({ n: 7 })), Job.join))
    expect(local.value).toBe(14)
    expect(ranLocally).toEqual([7])
  })

  it("a dispatch that is no function is refused at Dispatcher.layer; one returning no Effect fails its job with a JobArgumentError", async () => {
    expect(() => Dispatcher.layer(5 as never)).toThrow(JobArgumentError)
    const { value } = await run(
      Effect.gen(function* () {
        const exit = yield* Job.await(yield* Job.fork(double.make({ n: 3 })))
        const after = yield* Job.join(yield* Job.fork(Effect.succeed("after")))
        return { exit, after }
      }).pipe(Effect.provide(Dispatcher.layer(() => 42 as never)))
    )
    const defect = Exit.isFailure(value.exit) ? value.exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined
    expect(defect).toBeInstanceOf(JobArgumentError)
    expect(defect).toMatchObject({ argument: "Dispatcher dispatch result", value: 42 })
    expect(value.after).toBe("after")
  })

  it("the stand-in runs under the job's pool limit in the firing supervisor", async () => {
    const gates = [Deferred.makeUnsafe<void>(), Deferred.makeUnsafe<void>()]
    const waiting = Dispatcher.layer((defined) => Deferred.await(gates[(defined.encoded as { n: number }).n]))
    const { value } = await run(
      Effect.gen(function* () {
        const a = yield* Job.fork(double.make({ n: 0 }), { pool: "one" })
        const b = yield* Job.fork(double.make({ n: 1 }), { pool: "one" })
        yield* settle
        const before = [yield* Job.status(a), yield* Job.status(b)]
        yield* Deferred.succeed(gates[0], undefined)
        yield* Deferred.succeed(gates[1], undefined)
        yield* Job.await(b)
        return before
      }).pipe(Effect.provide(waiting)),
      { pools: { one: { concurrency: 1 } } }
    )
    expect(value).toEqual(["running", "queued"])
  })

  it("ProgressListener hears every Job.progress of the jobs fired where it is provided, with the job's id", async () => {
    const heard: Array<readonly [string, unknown]> = []
    const { value } = await run(
      Effect.gen(function* () {
        const h = yield* Job.fork(Effect.andThen(Job.progress(1), Job.progress({ done: 2 })), { name: "reporting" })
        yield* Job.fire(Effect.void, { name: "silent" })
        yield* Job.await(h)
        yield* Supervisor.drain
        yield* Job.progress("outside a job: not heard")
        return h.id
      }).pipe(Effect.provideService(Dispatcher.ProgressListener, (id, v) => heard.push([id, v])))
    )
    expect(heard).toEqual([
      [value, 1],
      [value, { done: 2 }]
    ])
  })
})
