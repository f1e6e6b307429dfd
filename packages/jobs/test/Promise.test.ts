/**
 * The Promise API for jobs (`@tributary/jobs/promise`): fire/run/all on a real supervisor whose
 * outcome lines go through pino, the `AbortSignal` a job receives, the outcomes iterator, limits
 * shared with Effect callers, and bad arguments thrown at the call site. Job ends are controlled by
 * gates (promises the test resolves); nothing waits on the wall clock.
 */
import { getEventListeners, once } from "node:events"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Writable } from "node:stream"
import { PinoLogger } from "@tributary/pino"
import { Cause, Deferred, Effect, Option, Stream } from "effect"
import pino from "pino"
import { afterEach, describe, expect, it, vi } from "vitest"
import {
  Job,
  JobArgumentError,
  Supervisor,
  SupervisorClosedError,
  SupervisorConfigError,
  SupervisorFullError
} from "../src/index.js"
import {
  item,
  JobAbortedError,
  type Config as PromiseConfig,
  type PromiseSupervisor,
  type RunOptions,
  supervisor
} from "../src/promise.js"
import { stderrLines, thrownBy } from "./harness.js"

// ── harness ─────────────────────────────────────────────────────────────────

type Line = Record<string, any>

/** A promise with its resolve/reject, for gates the test opens itself. */
const deferred = <A = void>() => {
  let resolve!: (a: A) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<A>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** A job that never ends on its own: it rejects with the signal's reason when aborted, and says so. */
const untilAborted = () => {
  const aborted = deferred<unknown>()
  const work = (signal: AbortSignal) =>
    new Promise<never>((_, reject) =>
      signal.addEventListener("abort", () => {
        aborted.resolve(signal.reason)
        reject(signal.reason)
      })
    )
  return { work, aborted: aborted.promise }
}

/** `run` of an `untilAborted` job, once the job has started. */
const runUntilAborted = async (sup: PromiseSupervisor, options?: RunOptions) => {
  const { work, aborted } = untilAborted()
  const started = deferred()
  const running = sup.run((signal) => {
    started.resolve()
    return work(signal)
  }, options)
  await started.promise
  return { running, aborted }
}

const open: Array<PromiseSupervisor> = []

/** A supervisor whose pino lines are parsed into `lines` (an in-memory stream, level debug). */
const make = (config: PromiseConfig = {}) => {
  const lines: Array<Line> = []
  const stream = new Writable({
    decodeStrings: false,
    write(chunk, _encoding, callback) {
      for (const text of String(chunk).split("\n")) if (text !== "") lines.push(JSON.parse(text))
      callback()
    }
  })
  const sup = supervisor({ logger: pino({ level: "debug" }, stream), ...config })
  open.push(sup)
  return { sup, lines }
}

afterEach(async () => {
  for (const sup of open.splice(0)) await sup.shutdown({ grace: 0 })
})

/** The rejection of `p` (fails the test if it resolves). */
const rejectionOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`)
    },
    (error) => error
  )

// ── fire ────────────────────────────────────────────────────────────────────

describe("fire", () => {
  it("returns at once; each outcome is logged through pino with the job's fields", async () => {
    const { sup, lines } = make()
    const gate = deferred()
    let ran = false
    const returned = sup.fire(
      async () => {
        await gate.promise
        ran = true
      },
      { name: "clean", annotations: { recordId: 7 } }
    )
    sup.fire(
      async () => {
        throw new TypeError("bad row")
      },
      { name: "persist", pool: "default", key: "acme" }
    )
    expect(returned).toBeUndefined()
    expect(ran).toBe(false)
    gate.resolve()
    await sup.drain()
    expect(ran).toBe(true)
    const clean = lines.find((l) => l["job.name"] === "clean" && "job.outcome" in l)
    expect(clean).toMatchObject({ level: 20, msg: "job clean succeeded", "job.outcome": "Success", recordId: 7 })
    const persist = lines.find((l) => l["job.name"] === "persist" && "job.outcome" in l)
    expect(persist).toMatchObject({ level: 50, msg: "job persist failed", "job.outcome": "Failure", "job.key": "acme" })
    expect(persist?.err).toMatchObject({ type: "Fail", name: "TypeError", message: "bad row" })
  })

  it("a job that returns a plain value, or throws synchronously, is a job like any other", async () => {
    const { sup } = make()
    sup.fire(() => 1, { name: "sync-value" })
    sup.fire(
      () => {
        throw new Error("sync throw")
      },
      { name: "sync-throw" }
    )
    await sup.drain()
    expect((await sup.snapshot()).counters).toMatchObject({ succeeded: 1, failed: 1 })
  })

  it("a function that returns an Effect (Job.fire, a defined job's make) fails its job with a JobArgumentError: the Effect is not run", async () => {
    const { sup, lines } = make()
    let ran = false
    const effect = Effect.sync(() => {
      ran = true
    })
    const error = await rejectionOf(sup.run(() => effect, { name: "mixed-up" }))
    expect(error).toBeInstanceOf(JobArgumentError)
    expect(error).toMatchObject({ argument: "work" })
    expect((error as JobArgumentError).message).toContain("not an Effect")
    const [settled] = await sup.all([async () => effect], { concurrency: 1 })
    expect(settled).toMatchObject({ status: "rejected", reason: { _tag: "JobArgumentError", argument: "works[0]" } })
    await sup.drain()
    expect(ran).toBe(false)
    expect(lines.find((l) => l["job.name"] === "mixed-up" && "job.outcome" in l)).toMatchObject({
      "job.outcome": "Failure",
      err: { name: "JobArgumentError" }
    })
  })

  it("retry { times, delay } retries a rejection, each retried attempt logged with its attempt", async () => {
    const { sup, lines } = make()
    let calls = 0
    const value = await sup.run(
      async () => {
        if (++calls < 3) throw new Error(`attempt ${calls}`)
        return "third time"
      },
      { name: "flaky", retry: { times: 2, delay: 1 } }
    )
    expect(value).toBe("third time")
    expect(calls).toBe(3)
    await sup.drain()
    const flaky = lines.filter((l) => l["job.name"] === "flaky")
    expect(flaky.filter((l) => l.level === 40).map((l) => l.attempt)).toEqual([1, 2])
    expect(flaky.find((l) => "job.outcome" in l)).toMatchObject({ "job.outcome": "Success", attempt: 3 })
  })

  it("after shutdown: SupervisorClosedError, thrown by fire and rejected by run", async () => {
    const { sup } = make({ name: "etl" })
    await sup.shutdown()
    const thrown = thrownBy(() => sup.fire(async () => 1))
    expect(thrown).toBeInstanceOf(SupervisorClosedError)
    expect((thrown as SupervisorClosedError).supervisor).toBe("etl")
    expect(await rejectionOf(sup.run(async () => 1))).toBeInstanceOf(SupervisorClosedError)
  })

  /** A supervisor with room for one running and one queued job, both taken: the running one waits for `gate`. */
  const fullQueue = async (whenFull: "fail" | "wait") => {
    const { sup } = make({ concurrency: 1, maxQueued: 1, whenFull })
    const gate = deferred()
    const started = deferred()
    sup.fire(async () => {
      started.resolve()
      await gate.promise
    })
    await started.promise
    sup.fire(async () => {}, { name: "queued" })
    return { sup, gate }
  }

  it("a full queue: fire throws SupervisorFullError under 'fail', and under 'wait' (it cannot wait); run waits", async () => {
    for (const whenFull of ["fail", "wait"] as const) {
      const { sup, gate } = await fullQueue(whenFull)
      const thrown = thrownBy(() => sup.fire(async () => {}, { name: "one-too-many" }))
      expect(thrown).toBeInstanceOf(SupervisorFullError)
      expect((thrown as SupervisorFullError).job).toBe("one-too-many")
      // the advice fits the call: a synchronous fire cannot wait, whatever whenFull says
      expect((thrown as Error).message).toContain("use run or all, which wait for room")
      expect((thrown as Error).message).not.toContain('set whenFull: "wait"')
      const snap = await sup.snapshot()
      expect([snap.running.length, snap.queued.map((j) => j.name)]).toEqual([1, ["queued"]])
      if (whenFull === "wait") {
        const waited = sup.run(async () => "room at last", { name: "patient" })
        gate.resolve()
        expect(await waited).toBe("room at last")
      } else gate.resolve()
      await sup.drain()
      expect((await sup.snapshot()).counters.started).toBe(whenFull === "wait" ? 3 : 2)
    }
  })

  it("run on a full queue: rejects with SupervisorFullError under 'fail'; under 'wait' an abort while it waits for room rejects with the reason, and the job never runs", async () => {
    for (const whenFull of ["fail", "wait"] as const) {
      const { sup, gate } = await fullQueue(whenFull)
      let ran = false
      const controller = new AbortController()
      const refused = sup.run(
        async () => {
          ran = true
        },
        { name: "refused", signal: controller.signal }
      )
      if (whenFull === "fail") expect(await rejectionOf(refused)).toBeInstanceOf(SupervisorFullError)
      else {
        const reason = new Error("gave up waiting")
        controller.abort(reason)
        expect(await rejectionOf(refused)).toBe(reason)
      }
      gate.resolve()
      await sup.drain()
      expect(ran).toBe(false)
      const { counters, queued } = await sup.snapshot()
      expect([counters.started, queued.length]).toEqual([2, 0])
    }
  })
})

// ── run ─────────────────────────────────────────────────────────────────────

describe("a job dropped by a full queue", () => {
  it("its warn line goes through the supervisor's pino logger, from Effect code (sup.layer) as from fire", async () => {
    const { sup, lines } = make({ concurrency: 1, maxQueued: 0, whenFull: "drop" })
    const gate = deferred()
    sup.fire(() => gate.promise, { name: "running" })
    sup.fire(async () => 1, { name: "dropped-from-promise-api" })
    await Effect.runPromise(Job.fire(Effect.void, { name: "dropped-from-effect" }).pipe(Effect.provide(sup.layer)))
    gate.resolve()
    await sup.drain()
    const drops = lines.filter((l) => String(l.msg).endsWith("dropped: the queue is full"))
    expect(drops.map((l) => [l["job.name"], l.level])).toEqual([
      ["dropped-from-promise-api", 40],
      ["dropped-from-effect", 40]
    ])
  })
})

describe("run", () => {
  it("resolves with the job's value and rejects with what it threw", async () => {
    const { sup } = make()
    expect(await sup.run(async () => ({ rows: 3 }), { name: "count" })).toEqual({ rows: 3 })
    const boom = new RangeError("boom")
    expect(
      await rejectionOf(
        sup.run(async () => {
          throw boom
        })
      )
    ).toBe(boom)
  })

  it("the signal aborts on timeout; run rejects with JobAbortedError (TimedOut) and the outcome", async () => {
    const { sup, lines } = make()
    const { work, aborted } = untilAborted()
    const error = await rejectionOf(sup.run(work, { name: "slow", timeout: 1 }))
    expect(error).toBeInstanceOf(JobAbortedError)
    expect(error).toMatchObject({ job: "slow", reason: "TimedOut" })
    expect((error as JobAbortedError).outcome?._tag).toBe("TimedOut")
    await aborted
    await sup.drain()
    expect(lines.find((l) => l["job.name"] === "slow" && "job.outcome" in l)?.["job.outcome"]).toBe("TimedOut")
  })

  it("a function that declares no parameter is called without a signal (none is made); one that declares one gets it", async () => {
    const { sup } = make()
    const seen: Array<Array<unknown>> = []
    await sup.run(function (this: unknown, ...args: Array<unknown>) {
      seen.push(args)
      return 1
    })
    await sup.run((signal: AbortSignal) => {
      seen.push([signal])
      return 2
    })
    expect(seen[0]).toEqual([])
    expect(seen[1][0]).toBeInstanceOf(AbortSignal)
    // a job without a signal is abandoned at its timeout all the same (it is only not told)
    const error = await rejectionOf(sup.run(() => new Promise<never>(() => {}), { name: "deaf", timeout: 1 }))
    expect(error).toMatchObject({ job: "deaf", reason: "TimedOut" })
  })

  it("a run that joined a live job by its id: aborting its signal detaches it, the job goes on for the run that started it", async () => {
    const { sup } = make()
    const { work, aborted } = untilAborted()
    const gate = deferred()
    let jobAborted = false
    void aborted.then(() => {
      jobAborted = true
    })
    const starter = sup.run((signal) => Promise.race([work(signal), gate.promise.then(() => "the report")]), {
      id: "report-7",
      name: "report"
    })
    const joiner = new AbortController()
    const joined = sup.run(async () => "never called", { id: "report-7", signal: joiner.signal })
    const reason = new Error("the second caller went away")
    joiner.abort(reason)
    expect(await rejectionOf(joined)).toBe(reason)
    gate.resolve()
    expect(await starter).toBe("the report")
    expect(jobAborted).toBe(false)
    await sup.drain()
    expect((await sup.snapshot()).counters).toMatchObject({ started: 1, succeeded: 1, interrupted: 0 })
  })

  it("the signal aborts on shutdown (past the grace); run rejects with JobAbortedError (Interrupted)", async () => {
    const { sup, lines } = make()
    const { running, aborted } = await runUntilAborted(sup, { name: "straggler" })
    await sup.shutdown({ grace: 0 })
    expect(await aborted).toBeDefined()
    const error = await rejectionOf(running)
    expect(error).toMatchObject({ _tag: "JobAbortedError", job: "straggler", reason: "Interrupted" })
    expect(lines.find((l) => l["job.name"] === "straggler" && "job.outcome" in l)?.["job.outcome"]).toBe("Interrupted")
    // the supervisor's own shutdown lines go through the same pino logger
    expect(lines.find((l) => l.msg === "job straggler still running at shutdown; interrupting it")?.level).toBe(40)
  })

  it("aborting the caller's signal interrupts the job (its signal aborts) and rejects with the reason", async () => {
    const { sup } = make()
    const { work, aborted } = untilAborted()
    const started = deferred()
    const controller = new AbortController()
    const running = sup.run(
      (signal) => {
        started.resolve()
        return work(signal)
      },
      { name: "cancelled", signal: controller.signal }
    )
    await started.promise
    const reason = new Error("user went away")
    controller.abort(reason)
    expect(await rejectionOf(running)).toBe(reason)
    await aborted
    await sup.drain()
    expect((await sup.snapshot()).counters.interrupted).toBe(1)
  })
})

// ── limits ──────────────────────────────────────────────────────────────────

describe("limits", () => {
  it("a pool's concurrency holds for Promise jobs", async () => {
    const { sup } = make({ pools: { db: { concurrency: 2 } } })
    let inFlight = 0
    let most = 0
    const gates = Array.from({ length: 5 }, () => deferred())
    const started = Array.from({ length: 5 }, () => deferred())
    for (let i = 0; i < 5; i++)
      sup.fire(
        async () => {
          inFlight++
          most = Math.max(most, inFlight)
          started[i].resolve()
          await gates[i].promise
          inFlight--
        },
        { pool: "db", name: `write-${i}` }
      )
    await Promise.all([started[0].promise, started[1].promise])
    const snap = await sup.snapshot()
    expect(snap.running.map((j) => j.name)).toEqual(["write-0", "write-1"])
    expect(snap.queued.map((j) => j.name)).toEqual(["write-2", "write-3", "write-4"])
    for (let i = 0; i < 5; i++) {
      gates[i].resolve()
      if (i + 2 < 5) await started[i + 2].promise
    }
    await sup.drain()
    expect(most).toBe(2)
    expect((await sup.snapshot()).counters.succeeded).toBe(5)
  })

  it("priority, delay and id (dedupe) work as in the Effect API", async () => {
    const { sup } = make({ concurrency: 1 })
    const gate = deferred()
    const started = deferred()
    const order: Array<string> = []
    sup.fire(
      async () => {
        started.resolve()
        await gate.promise
      },
      { name: "blocker" }
    )
    await started.promise
    for (const [name, priority] of [
      ["low", -1],
      ["plain", 0],
      ["urgent", 5]
    ] as const)
      sup.fire(() => void order.push(name), { name, priority })
    // a delayed job holds no slot and no queue place; a shutdown cancels it before it runs
    let delayedRan = false
    const delayed = sup.run(
      () => {
        delayedRan = true
      },
      { name: "later", delay: "1 hour" }
    )
    // a second run with a live job's id stands for that job: one job, one result
    const first = sup.run(async () => "first", { id: "report-7" })
    const second = sup.run(async () => "second", { id: "report-7" })
    const snap = await sup.snapshot()
    expect(snap.queued.map((j) => j.name).sort()).toEqual(["job", "low", "plain", "urgent"])
    expect(snap.delayed.map((j) => j.name)).toEqual(["later"])
    gate.resolve()
    expect([await first, await second]).toEqual(["first", "first"])
    expect(order).toEqual(["urgent", "plain", "low"])
    await sup.shutdown({ grace: 0 })
    expect(await rejectionOf(delayed)).toMatchObject({ _tag: "JobAbortedError", job: "later", reason: "Interrupted" })
    expect(delayedRan).toBe(false)
  })

  it("an Effect caller (through sup.layer) and a Promise caller share one pool limit", async () => {
    const { sup, lines } = make({ pools: { partner: { concurrency: 1 } } })
    const effectStarted = deferred()
    const { promiseStarted, gate } = { promiseStarted: deferred(), gate: Effect.runSync(Deferred.make<void>()) }
    await Effect.runPromise(
      Job.fire(
        Effect.andThen(
          Effect.sync(() => effectStarted.resolve()),
          Deferred.await(gate)
        ),
        { name: "from-effect", pool: "partner" }
      ).pipe(Effect.provide(sup.layer))
    )
    await effectStarted.promise
    let promiseRan = false
    sup.fire(
      async () => {
        promiseRan = true
        promiseStarted.resolve()
      },
      { name: "from-promise", pool: "partner" }
    )
    const snap = await sup.snapshot()
    expect(snap.running.map((j) => j.name)).toEqual(["from-effect"])
    expect(snap.queued.map((j) => j.name)).toEqual(["from-promise"])
    expect(promiseRan).toBe(false)
    Effect.runSync(Deferred.succeed(gate, undefined))
    await promiseStarted.promise
    await sup.drain()
    // both outcomes are the one supervisor's, in its counters and its pino lines
    expect((await Effect.runPromise(sup.service.snapshot)).counters.succeeded).toBe(2)
    expect(lines.filter((l) => "job.outcome" in l).map((l) => l["job.name"])).toEqual(["from-effect", "from-promise"])
  })
})

// ── all ─────────────────────────────────────────────────────────────────────

describe("all", () => {
  it("collectAll: one settled result per work, in input order, with its outcome and per-item options", async () => {
    const { sup } = make({ pools: { db: {} } })
    const failure = new Error("row 2 is bad")
    const results = await sup.all(
      [
        async () => 1,
        item(
          async () => {
            throw failure
          },
          { name: "row-2", annotations: { row: 2 } }
        ),
        item(async () => 3, { key: "k" })
      ],
      { concurrency: 2, pool: "db", name: "rows", annotations: { run: "nightly" } }
    )
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"])
    expect(results[0]).toMatchObject({ value: 1 })
    expect(results[1]).toMatchObject({ reason: failure })
    expect(results.map((r) => [r.outcome.name, r.outcome.pool, r.outcome.annotations])).toEqual([
      ["rows-0", "db", { run: "nightly" }],
      ["row-2", "db", { run: "nightly", row: 2 }],
      ["rows-2", "db", { run: "nightly" }]
    ])
    expect(results[2].outcome.key).toBe("k")
  })

  it("failFast: the values in input order, or the first failure (the others' signals abort)", async () => {
    const { sup } = make()
    expect(await sup.all([async () => "a", () => "b"], { concurrency: 2, policy: "failFast" })).toEqual(["a", "b"])
    const { work, aborted } = untilAborted()
    const failure = new Error("fast")
    const started = deferred()
    const error = await rejectionOf(
      sup.all(
        [
          (signal: AbortSignal) => {
            started.resolve()
            return work(signal)
          },
          async () => {
            await started.promise
            throw failure
          }
        ],
        { concurrency: 2, policy: "failFast" }
      )
    )
    expect(error).toBe(failure)
    expect(await aborted).toBeDefined()
    await sup.drain()
    expect((await sup.snapshot()).counters).toMatchObject({ succeeded: 2, failed: 1, interrupted: 1 })
  })

  it("firstSuccess: the first value, the others aborted", async () => {
    const { sup } = make()
    const { work, aborted } = untilAborted()
    const value = await sup.all([work, async () => "winner"], { concurrency: 2, policy: "firstSuccess" })
    expect(value).toBe("winner")
    await aborted
  })

  it("collectAll cut by a shutdown resolves: finished works keep their values, the rest are rejected with JobAbortedError", async () => {
    const { sup } = make()
    const started = deferred()
    const { work } = untilAborted()
    const group = sup.all(
      [
        async () => "saved",
        (signal: AbortSignal) => {
          started.resolve()
          return work(signal)
        },
        async () => "never started"
      ],
      { concurrency: 1, name: "g" }
    )
    await started.promise
    await sup.shutdown({ grace: 0 })
    const settled = await group
    expect(settled.map((r) => [r.outcome.name, r.status, r.outcome.attempt])).toEqual([
      ["g-0", "fulfilled", 1],
      ["g-1", "rejected", 1],
      ["g-2", "rejected", 0]
    ])
    expect(settled[0]).toMatchObject({ value: "saved" })
    expect(settled[2]).toMatchObject({ reason: { _tag: "JobAbortedError", job: "g-2", reason: "Interrupted" } })
  })

  it("a deciding job that is interrupted rejects with JobAbortedError naming it", async () => {
    const { sup } = make()
    const started = deferred()
    const { work } = untilAborted()
    const group = sup.all(
      [
        async () => "fine",
        item(
          (signal) => {
            started.resolve()
            return work(signal)
          },
          { name: "victim" }
        )
      ],
      { concurrency: 2, policy: "failFast" }
    )
    await started.promise
    await sup.shutdown({ grace: 0 })
    expect(await rejectionOf(group)).toMatchObject({ _tag: "JobAbortedError", job: "victim", reason: "Interrupted" })
  })

  it("a group whose jobs were cancelled while queued (shutdown) rejects with JobAbortedError naming the deciding job", async () => {
    const { sup } = make({ concurrency: 1 })
    const { work: blocker } = untilAborted()
    sup.fire(blocker, { name: "blocker" }) // holds the one slot until the shutdown
    let ran = false
    const group = sup.all(
      [
        () => {
          ran = true
        }
      ],
      { concurrency: 1, name: "nightly", policy: "failFast" }
    )
    expect((await sup.snapshot()).queued.map((j) => j.name)).toContain("nightly-0")
    await sup.shutdown({ grace: 0 })
    const rejection = await rejectionOf(group)
    expect(rejection).toMatchObject({ _tag: "JobAbortedError", job: "nightly-0", reason: "Interrupted" })
    expect((rejection as JobAbortedError).outcome).toMatchObject({ _tag: "Interrupted", attempt: 0 })
    expect(ran).toBe(false)
  })

  it("aborting the group's signal aborts its jobs and rejects with the reason", async () => {
    const { sup } = make()
    const { work, aborted } = untilAborted()
    const started = deferred()
    const controller = new AbortController()
    const group = sup.all(
      [
        (signal: AbortSignal) => {
          started.resolve()
          return work(signal)
        }
      ],
      { concurrency: 1, signal: controller.signal }
    )
    await started.promise
    controller.abort("stop")
    expect(await rejectionOf(group)).toBe("stop")
    await aborted
  })

  it("aborting the group's signal never calls the works still queued in their pool (no token spent)", async () => {
    const { sup } = make({ pools: { p: { concurrency: 1, rate: { limit: 10, interval: "1 hour" } } } })
    const called: Array<string> = []
    const started = deferred()
    const controller = new AbortController()
    const works = ["w0", "w1", "w2", "w3"].map((name) =>
      item(
        (signal: AbortSignal) => {
          called.push(name)
          started.resolve()
          return untilAborted().work(signal)
        },
        { name }
      )
    )
    const group = sup.all(works, { concurrency: 4, pool: "p", signal: controller.signal })
    await started.promise // w0 runs; w1..w3 wait in the queue of "p"
    expect((await sup.snapshot()).queued.map((j) => j.name)).toEqual(["w1", "w2", "w3"])
    controller.abort("stop")
    expect(await rejectionOf(group)).toBe("stop")
    await sup.drain()
    const after = await sup.snapshot()
    expect(called).toEqual(["w0"])
    expect(after.counters).toMatchObject({ started: 1, interrupted: 4 })
    expect(after.pools.find((p) => p.name === "p")?.rate?.tokens).toBe(9)
  })
})

// ── hostile errors ──────────────────────────────────────────────────────────

describe("errors that fight serialization", () => {
  it("a rejection whose message or name getter throws, or a revoked Proxy, still gets its outcome line; nothing is lost", async () => {
    const { sup, lines } = make()
    class MessageThrows extends Error {
      override get message(): string {
        throw new Error("message getter boom")
      }
    }
    class NameThrows extends Error {
      override get name(): string {
        throw new Error("name getter boom")
      }
    }
    const { proxy: revoked, revoke } = Proxy.revocable({}, {})
    revoke() // every operation on it throws a TypeError
    const circular: Error & { cause?: unknown } = new Error("circular")
    circular.cause = circular
    const cases: Array<[string, unknown]> = [
      ["message-getter", new MessageThrows()],
      ["name-getter", new NameThrows("hidden")],
      ["revoked-proxy", revoked],
      ["circular", circular],
      ["undefined", undefined]
    ]
    for (const [name, error] of cases) {
      // run rejects with the very value thrown (not passed through a resolution: the proxy's `then` throws)
      let seen: unknown = "not rejected"
      await sup
        .run(
          async () => {
            throw error
          },
          { name }
        )
        .catch((e) => {
          seen = e
        })
      expect(seen === error).toBe(true)
    }
    await sup.drain()
    const outcomes = lines.filter((l) => "job.outcome" in l)
    expect(outcomes.map((l) => [l["job.name"], l["job.outcome"]])).toEqual(cases.map(([name]) => [name, "Failure"]))
    expect(outcomes[0].err).toMatchObject({ type: "Fail", name: "Error", message: "[unreadable]" })
    expect(outcomes[1].err).toMatchObject({ type: "Fail", message: "hidden" })
    expect(outcomes[3].err.cause).toBe("[Circular]")
    expect((await sup.snapshot()).counters).toMatchObject({ failed: cases.length, linesLost: 0 })
  })
})

// ── outcomes, snapshot, drain, shutdown ─────────────────────────────────────

describe("outcomes", () => {
  it("an async iterator sees the outcomes from the moment it begins, and ends after shutdown", async () => {
    const { sup } = make()
    sup.fire(async () => "before", { name: "before" })
    await sup.drain()
    const seen: Array<string> = []
    const iterator = sup.outcomes[Symbol.asyncIterator]()
    sup.fire(async () => 1, { name: "one" })
    sup.fire(
      async () => {
        throw new Error("two")
      },
      { name: "two" }
    )
    for (let i = 0; i < 2; i++) {
      const next = await iterator.next()
      if (!next.done) seen.push(`${next.value.name}:${next.value._tag}`)
    }
    expect(seen).toEqual(["one:Success", "two:Failure"])
    const ending = iterator.next()
    await sup.shutdown()
    expect(await ending).toEqual({ done: true, value: undefined })
  })

  it("for await … break closes the tap", async () => {
    const { sup } = make()
    const names: Array<string> = []
    const reading = (async () => {
      for await (const o of sup.outcomes) {
        names.push(o.name)
        if (names.length === 2) break
      }
    })()
    // the iterator opened its tap synchronously, when the loop began
    sup.fire(async () => 1, { name: "a" })
    sup.fire(async () => 2, { name: "b" })
    await reading
    expect(names).toEqual(["a", "b"])
  })
})

describe("pause and resume", () => {
  it("a paused pool starts nothing (its jobs wait, others run); resume starts them in order", async () => {
    const { sup } = make({ pools: { db: {} } })
    const started: Array<string> = []
    sup.pause({ pool: "db" })
    sup.fire(() => void started.push("db-1"), { pool: "db", name: "db-1" })
    const second = sup.run(() => void started.push("db-2"), { pool: "db", name: "db-2" })
    await sup.run(() => void started.push("other"), { name: "other" })
    const snap = await sup.snapshot()
    expect(started).toEqual(["other"])
    expect(snap.pools.find((p) => p.name === "db")).toMatchObject({ paused: true, queued: 2, heldBy: "paused" })
    sup.resume({ pool: "db" })
    await second
    await sup.drain()
    expect(started).toEqual(["other", "db-1", "db-2"])
  })

  it("pausing the supervisor holds every pool; a running job goes on; resume starts the queue", async () => {
    const { sup } = make({ pools: { db: {} } })
    const gate = deferred()
    const started: Array<string> = []
    const running = sup.run(() => gate.promise, { name: "running" })
    sup.pause()
    sup.fire(() => void started.push("plain"), { name: "plain" })
    sup.fire(() => void started.push("db"), { pool: "db", name: "db" })
    gate.resolve()
    await running // a running job is not held by the pause
    const snap = await sup.snapshot()
    expect(started).toEqual([])
    expect(snap).toMatchObject({ paused: true })
    expect(snap.queued.map((j) => j.name).sort()).toEqual(["db", "plain"])
    sup.resume()
    await sup.drain()
    expect(started.sort()).toEqual(["db", "plain"])
  })

  it("an unknown pool, or options that are not an object, throw JobArgumentError naming them; nothing is paused", async () => {
    const { sup } = make({ pools: { db: {} } })
    for (const call of [() => sup.pause({ pool: "nope" }), () => sup.resume({ pool: "nope" })])
      expect(thrownBy(call)).toMatchObject({ _tag: "JobArgumentError", argument: "pool", value: "nope" })
    // a pool name passed without its object would otherwise read as "no pool": the whole supervisor
    for (const call of [() => sup.pause("db" as never), () => sup.resume(5 as never)])
      expect(thrownBy(call)).toMatchObject({ _tag: "JobArgumentError", argument: "options" })
    expect(thrownBy(() => sup.pause({ pool: 5 as never }))).toMatchObject({
      _tag: "JobArgumentError",
      argument: "pool"
    })
    expect(await sup.run(async () => "still runs")).toBe("still runs")
    expect(await sup.run(async () => "db too", { pool: "db" })).toBe("db too")
  })
})

describe("progress", () => {
  it("a job's second argument reports its progress: on its running entry in the snapshot, with a debug line", async () => {
    const { sup, lines } = make()
    const reported = deferred()
    const gate = deferred()
    const running = sup.run(
      async (_signal, job) => {
        job.progress({ done: 1, total: 2 })
        reported.resolve()
        await gate.promise
        job.progress({ done: 2, total: 2 })
        return "imported"
      },
      { name: "import" }
    )
    sup.fire(async () => gate.promise, { name: "silent" })
    await reported.promise
    const snap = await sup.snapshot()
    expect(snap.running.map((j) => [j.name, j.progress])).toEqual([
      ["import", { done: 1, total: 2 }],
      ["silent", undefined]
    ])
    gate.resolve()
    expect(await running).toBe("imported")
    await sup.drain()
    const progressLines = lines.filter((l) => l.msg === "job progress")
    expect(progressLines.map((l) => [l["job.name"], l.progress])).toEqual([
      ["import", { done: 1, total: 2 }],
      ["import", { done: 2, total: 2 }]
    ])
  })

  it("in a group's jobs and an Effect caller's snapshot alike; after the job ended it does nothing", async () => {
    const { sup } = make()
    const gate = deferred()
    const reported = [deferred(), deferred()]
    let late: ((value: unknown) => void) | undefined
    const group = sup.all(
      [0, 1].map((i) =>
        item(
          async (_signal, job) => {
            job.progress(i * 10)
            late = (v) => job.progress(v)
            reported[i].resolve()
            await gate.promise
            return i
          },
          { name: `part-${i}` }
        )
      ),
      { concurrency: 2, policy: "failFast" }
    )
    await Promise.all(reported.map((r) => r.promise))
    const snap = await Effect.runPromise(Supervisor.snapshot.pipe(Effect.provide(sup.layer)))
    expect(snap.running.map((j) => [j.name, j.progress])).toEqual([
      ["part-0", 0],
      ["part-1", 10]
    ])
    // Supervisor.watch's first element, taken at once, shows it too
    const watched = await Effect.runPromise(Stream.runHead(Supervisor.watch("1 hour")).pipe(Effect.provide(sup.layer)))
    expect(Option.getOrThrow(watched).running.map((j) => j.progress)).toEqual([0, 10])
    gate.resolve()
    expect(await group).toEqual([0, 1])
    late!("after the end")
    expect((await sup.snapshot()).running).toEqual([])
  })
})

describe("drain and shutdown", () => {
  it("drain resolves once every job ended; shutdown resolves and stops admitting", async () => {
    const { sup } = make()
    const gate = deferred()
    let done = 0
    for (let i = 0; i < 3; i++)
      sup.fire(async () => {
        await gate.promise
        done++
      })
    const drained = sup.drain().then(() => done)
    gate.resolve()
    expect(await drained).toBe(3)
    const snap = await sup.snapshot()
    expect([snap.running.length, snap.queued.length, snap.counters.succeeded]).toEqual([0, 0, 3])
    await sup.shutdown()
    await sup.shutdown() // idempotent
    expect((await sup.snapshot()).closed).toBe(true)
    // a tap opened after shutdown ends at once
    const late: Array<string> = []
    for await (const o of sup.outcomes) late.push(o.name)
    expect(late).toEqual([])
    await sup.drain()
  })
})

describe("a caller's signal shared by many jobs", () => {
  it("leaves no listener behind, whatever the ends of the runs and groups it was passed to", async () => {
    const { sup } = make()
    const { signal } = new AbortController()
    const never = () => new Promise<never>(() => {})
    for (let i = 0; i < 20; i++) {
      await sup.run(async () => i, { signal })
      await sup.run(async () => Promise.reject(new Error("no")), { signal }).catch(() => {})
      await sup.run(never, { signal, timeout: 0 }).catch(() => {})
      await sup.all([async () => i], { concurrency: 1, signal })
      await sup
        .all([async () => Promise.reject(new Error("no")), never], { concurrency: 2, signal, policy: "failFast" })
        .catch(() => {})
    }
    expect(getEventListeners(signal, "abort")).toHaveLength(0)
    await sup.shutdown({ grace: 0 })
    await sup.run(async () => 1, { signal }).catch(() => {}) // refused: closed
    expect(getEventListeners(signal, "abort")).toHaveLength(0)
  })

  it("holds one listener for any number of waiting runs and groups, and its abort ends every one of them", async () => {
    const warnings: Array<Error> = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on("warning", onWarning)
    try {
      const { sup } = make({ concurrency: 10 })
      const controller = new AbortController()
      const { signal } = controller
      const never = (s: AbortSignal) =>
        new Promise<never>((_, reject) => s.addEventListener("abort", () => reject(s.reason)))
      const runs = Array.from({ length: 200 }, () => rejectionOf(sup.run(never, { signal })))
      const groups = Array.from({ length: 20 }, () => rejectionOf(sup.all([never, never], { concurrency: 2, signal })))
      await new Promise((resolve) => setImmediate(resolve))
      expect(getEventListeners(signal, "abort")).toHaveLength(1)
      const reason = new Error("stop")
      controller.abort(reason)
      const ends = await Promise.all([...runs, ...groups])
      expect(ends.filter((e) => e === reason)).toHaveLength(220)
      expect(getEventListeners(signal, "abort")).toHaveLength(0)
      await sup.drain()
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([])
    } finally {
      process.off("warning", onWarning)
    }
  })
})

describe("shutdown with everything pending", () => {
  it("settles every Promise (running, queued, waiting for room, groups), one outcome line per admitted job, nothing starts after", async () => {
    const { sup, lines } = make({ concurrency: 2, maxQueued: 3, whenFull: "wait" })
    const starts: Array<string> = []
    let shutDown = false
    const job = (name: string) => (signal: AbortSignal) => {
      starts.push(shutDown ? `${name} AFTER SHUTDOWN` : name)
      return untilAborted().work(signal)
    }
    const { running } = await runUntilAborted(sup, { name: "run-running" })
    sup.fire(job("fire-running"), { name: "fire-running" })
    const pending = [
      sup.run(job("run-queued"), { name: "run-queued" }),
      sup.all([job("g-0"), job("g-1")], { concurrency: 2, name: "g" }), // fills the queue
      sup.all([job("ff-0")], { concurrency: 1, name: "ff", policy: "failFast" }), // waits for room
      sup.run(job("run-waiting"), { name: "run-waiting" }) // waits for room
    ]
    const settling = Promise.allSettled([running, ...pending, sup.drain()]) // handled before they settle
    const snap = await sup.snapshot()
    expect([snap.running.length, snap.queued.length]).toEqual([2, 3])
    await sup.shutdown({ grace: 0 })
    shutDown = true
    const settled = await settling
    expect(settled.map((r) => r.status)).toEqual([
      "rejected",
      "rejected",
      "fulfilled", // collectAll: one rejected Settled per job
      "rejected",
      "rejected",
      "fulfilled"
    ])
    expect(settled.map((r) => (r.status === "rejected" ? (r.reason as { _tag?: string })._tag : undefined))).toEqual([
      "JobAbortedError",
      "JobAbortedError",
      undefined,
      "SupervisorClosedError",
      "SupervisorClosedError",
      undefined
    ])
    const outcomes = lines.filter((l) => "job.outcome" in l).map((l) => l["job.name"])
    expect(outcomes.sort()).toEqual(["fire-running", "g-0", "g-1", "run-queued", "run-running"])
    expect(starts).toEqual(["fire-running"])
  })
})

describe("a second shutdown", () => {
  it("with a shorter grace ends the first one's grace (the second SIGTERM's grace: 0); both resolve", async () => {
    const { sup, lines } = make()
    const { running, aborted } = await runUntilAborted(sup, { name: "slow" })
    const first = sup.shutdown({ grace: "1 hour" })
    // without the cut, this waited for the hour: the test fails on its own timeout
    await sup.shutdown({ grace: 0 })
    await first
    expect(await aborted).toBeDefined()
    expect(await rejectionOf(running)).toMatchObject({ _tag: "JobAbortedError", job: "slow", reason: "Interrupted" })
    expect(lines.filter((l) => "job.outcome" in l).map((l) => l["job.outcome"])).toEqual(["Interrupted"])
  })

  it("with a longer grace changes nothing: the first one's grace still ends the wait", async () => {
    const { sup } = make()
    const { running } = await runUntilAborted(sup)
    const first = sup.shutdown({ grace: 0 })
    await sup.shutdown({ grace: "1 hour" })
    await first
    expect(await rejectionOf(running)).toMatchObject({ reason: "Interrupted" })
  })
})

// ── bad arguments ───────────────────────────────────────────────────────────

describe("a pino file destination", () => {
  it("still being opened is not waited for (supervisor() is synchronous); one that cannot be opened is reported on stderr and costs only its lines", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tributary-promise-"))
    const reports = stderrLines()
    try {
      const file = join(dir, "out.log")
      const destination = pino.destination(file) // asynchronous: opens on a later tick
      const written = once(destination, "write") // the first line reaching the file
      const good = supervisor({ logSuccess: "info", logger: pino({ level: "info" }, destination) })
      const bad = supervisor({ logger: pino({ level: "info" }, pino.destination(join(dir, "missing", "out.log"))) })
      expect(await good.run(async () => 1, { name: "on-file" })).toBe(1)
      expect(await bad.run(async () => 2, { name: "nowhere" })).toBe(2)
      await good.shutdown()
      await bad.shutdown()
      await written
      expect(readFileSync(file, "utf8")).toContain('"job.name":"on-file"')
      expect(reports.filter((r) => r.includes("could not open its file"))).toHaveLength(1)
      expect(reports.join("")).toContain("ENOENT")
    } finally {
      vi.restoreAllMocks()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe("bad arguments", () => {
  it("a job that is not a function is a JobArgumentError naming the argument, thrown at the call site", async () => {
    const { sup } = make()
    const promise = Promise.resolve(1)
    const cases: Array<[() => unknown, string]> = [
      [() => sup.fire(42 as never), "work"],
      [() => sup.fire(promise as never), "work"],
      [() => sup.run(Effect.succeed(1) as never), "work"],
      [() => sup.all([async () => 1, "x" as never], { concurrency: 1 }), "works[1]"],
      [() => sup.all([item(5 as never)], { concurrency: 1 }), "works[0].run"],
      [() => sup.fire(async () => 1, { pool: "nope" }), "pool"],
      [() => sup.run(async () => 1, { retry: { times: -1 } }), "retry.times"],
      [() => sup.all([item(async () => 1, { key: 5 as never })], { concurrency: 1 }), "works[0].options.key"],
      [() => sup.all([async () => 1], { concurrency: 0 }), "concurrency"]
    ]
    for (const [call, argument] of cases) {
      const thrown = thrownBy(call)
      expect(thrown).toBeInstanceOf(JobArgumentError)
      expect((thrown as JobArgumentError).argument).toBe(argument)
    }
    expect((thrownBy(cases[1][0]) as JobArgumentError).message).toContain("received a Promise")
    await sup.drain()
    expect((await sup.snapshot()).counters.started).toBe(0)
  })

  it("bad options from JavaScript are JobArgumentErrors naming the option and the value, thrown before anything runs", async () => {
    const { sup } = make()
    let ran = 0
    const work = async () => {
      ran++
      return 1
    }
    const cases: Array<[() => unknown, string, unknown]> = [
      // a signal that is not an AbortSignal (was: the job ran and run rejected with a TypeError)
      [() => sup.run(work, { signal: {} as never }), "signal", {}],
      [() => sup.run(work, { signal: "stop" as never }), "signal", "stop"],
      [() => sup.all([work], { concurrency: 1, signal: 5 as never }), "signal", 5],
      // run's options that are not an object (fire threw; run ran the job)
      [() => sup.run(work, 5 as never), "options", 5],
      [() => sup.run(work, null as never), "options", null],
      // a retry delay that is not a duration (was an untyped "Invalid Input", or taken as is)
      [() => sup.run(work, { retry: { times: 1, delay: "soon" as never } }), "retry.delay", "soon"],
      [() => sup.fire(work, { retry: { times: 1, delay: -5 } }), "retry.delay", -5],
      [
        () => sup.all([item(work, { retry: { times: 1, delay: Number.NaN } })], { concurrency: 1 }),
        "works[0].options.retry.delay",
        Number.NaN
      ],
      // NaN is no duration (was read as 0: the job timed out at once)
      [() => sup.run(work, { timeout: Number.NaN }), "timeout", Number.NaN],
      [() => sup.fire(work, { timeout: Number.NaN }), "timeout", Number.NaN],
      // firstSuccess has no first success among no works (was a RangeError rejection)
      [() => sup.all([], { concurrency: 1, policy: "firstSuccess" }), "works", []],
      // a misspelt option (was ignored: the job ran without its timeout, its retries…)
      [() => sup.fire(work, { timeOut: 1000 } as never), "timeOut", 1000],
      [() => sup.run(work, { retries: 3 } as never), "retries", 3],
      [() => sup.all([item(work, { prio: 1 } as never)], { concurrency: 1 }), "works[0].options.prio", 1],
      [() => sup.all([work], { concurrency: 1, concurency: 2 } as never), "concurency", 2],
      // a retry shape of another library (p-retry's factor) was ignored: fixed delays, silently
      [() => sup.run(work, { retry: { times: 3, delay: 100, factor: 2 } as never }), "retry.factor", 2],
      // a group's jobs are not deduplicated (an id was ignored)
      [() => sup.all([item(work, { id: "x" } as never)], { concurrency: 1 }), "works[0].options.id", "x"],
      [() => sup.all([work], { concurrency: 1, id: "g" } as never), "id", "g"]
    ]
    for (const [call, argument, value] of cases) {
      const thrown = thrownBy(call)
      expect(thrown).toBeInstanceOf(JobArgumentError)
      expect(thrown).toMatchObject({ argument, value })
    }
    // the supervisor works on
    expect(await sup.run(work, { name: "after" })).toBe(1)
    await sup.drain()
    expect([ran, (await sup.snapshot()).counters.started]).toEqual([1, 1])
  })

  it("annotations whose getter throws are a JobArgumentError at the call site, in both APIs (they crashed the process when the job started)", async () => {
    const { sup } = make()
    const evil = Object.defineProperty({ run: "nightly" }, "recordId", {
      enumerable: true,
      get() {
        throw new Error("annotation getter boom")
      }
    })
    const work = async () => 1
    for (const call of [
      () => sup.fire(work, { annotations: evil }),
      () => sup.run(work, { annotations: evil }),
      () => sup.all([work], { concurrency: 1, annotations: evil }),
      () => sup.all([item(work, { annotations: evil })], { concurrency: 1 })
    ]) {
      const thrown = thrownBy(call) as JobArgumentError
      expect([thrown._tag, thrown.argument.endsWith("annotations"), thrown.value === evil]).toEqual([
        "JobArgumentError",
        true,
        true
      ])
    }
    const exit = await Effect.runPromiseExit(
      Job.fire(Effect.void, { annotations: evil }).pipe(Effect.provide(sup.layer))
    )
    expect(exit._tag === "Failure" && Cause.squash(exit.cause)).toMatchObject({
      _tag: "JobArgumentError",
      argument: "annotations"
    })
    // the annotations are copied when the job is fired: a later change does not reach its lines
    const { sup: other, lines } = make()
    const annotations: Record<string, unknown> = { recordId: 1 }
    const gate = deferred()
    const ran = other.run(() => gate.promise, { name: "copied", annotations })
    annotations.recordId = 2
    gate.resolve()
    await ran
    await other.drain()
    expect(lines.find((l) => l["job.name"] === "copied" && "job.outcome" in l)?.recordId).toBe(1)
    expect(await sup.run(work)).toBe(1) // the supervisor works on
  })

  it("the message describes the value received readably and briefly: functions inside it, a bigint, a large object", () => {
    const { sup } = make()
    const job = async () => 1
    const messageOf = (call: () => unknown) => (thrownBy(call) as JobArgumentError).message
    // an array of jobs passed where one job goes (was "received [null]")
    expect(messageOf(() => sup.fire([job] as never))).toContain("received [a function]")
    expect(messageOf(() => sup.fire({ run: job, id: 7n } as never))).toContain('received {"run":a function,"id":7n}')
    const large = messageOf(() => sup.fire({ rows: Array.from({ length: 10_000 }, (_, i) => i) } as never))
    // the value is cut after 200 characters: what is left is the message's own words
    expect(large.length).toBeLessThan(320)
    expect(large).toMatch(/^Invalid sup\.fire work: /)
    expect(large).toMatch(/received \{"rows":\[0,1,2,.*…$/)
  })

  it("a bad supervisor option throws SupervisorConfigError naming it, before anything runs", () => {
    const thrown = thrownBy(() => supervisor({ pools: { db: { concurrency: 0 } } }))
    expect(thrown).toBeInstanceOf(SupervisorConfigError)
    expect((thrown as SupervisorConfigError).argument).toBe("pools.db.concurrency")
    expect(thrownBy(() => supervisor([] as never))).toMatchObject({ _tag: "SupervisorConfigError", argument: "config" })
    // a level name where the logger goes: pino would have logged into a file ./debug
    expect(thrownBy(() => supervisor({ logger: "debug" as never }))).toMatchObject({
      _tag: "PinoLoggerConfigError",
      reason: "not a pino logger or options"
    })
    expect(thrownBy(() => supervisor({ logger: console as never }))).toMatchObject({ _tag: "PinoLoggerConfigError" })
    // a bad part of the logger option is named as this call's, not as the pino function it is passed to
    expect(thrownBy(() => supervisor({ logger: { level: "warning" } as never }))).toMatchObject({
      _tag: "PinoLoggerConfigError",
      argument: "logger.level",
      value: "warning",
      message: expect.stringMatching(/^Invalid supervisor logger\.level: expected one of "trace", /)
    })
    expect((thrownBy(() => supervisor({ logger: { levle: "debug" } as never })) as Error).message).toMatch(
      /^Invalid supervisor logger\.levle: expected a known option \(did you mean level\?\)/
    )
    for (const maxHeldLines of [0, 1.5, Number.NaN, "10" as never])
      expect(thrownBy(() => supervisor({ maxHeldLines }))).toMatchObject({
        _tag: "SupervisorConfigError",
        argument: "maxHeldLines",
        operation: "supervisor"
      })
  })

  it("maxHeldLines bounds the lines a destination that stopped answering holds: the rest are lost and counted at once", async () => {
    const reports = stderrLines()
    const answers: Array<() => void> = []
    const stream = new Writable({
      write(_chunk, _encoding, callback) {
        answers.push(() => callback())
      }
    })
    const logger = pino({ level: "info" }, stream)
    const sup = supervisor({ logger, maxHeldLines: 2, logSuccess: "info" })
    open.push(sup)
    for (let i = 0; i < 5; i++) sup.fire(async () => i, { name: `j${i}` })
    await sup.drain()
    // five outcome lines: two held by the stream (one handed to it, one in its buffer), three lost
    expect(PinoLogger.lostLines(logger)).toBe(3)
    expect(reports.filter((line) => line.includes("has not answered its last 2 writes (maxHeldLines)"))).toHaveLength(1)
    expect((await sup.snapshot()).counters.succeeded).toBe(5)
    // the stream answers again (the writes Node hands over one at a time): the shutdown's flush has nothing left to wait for
    for (let round = 0; round < 5; round++) {
      for (const answer of answers.splice(0)) answer()
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    await sup.shutdown()
    expect(PinoLogger.lostLines(logger)).toBe(3)
  })
})

describe("options and results a JavaScript caller may pass", () => {
  it("an option inherited from a prototype counts, as in the Effect API (its timeout applies)", async () => {
    const { sup } = make()
    const options = Object.create({ timeout: 0 }) as RunOptions
    const ran = sup.run(
      (signal) => new Promise<string>((resolve) => signal.addEventListener("abort", () => resolve("aborted"))),
      options
    )
    await expect(ran).rejects.toMatchObject({ _tag: "JobAbortedError", outcome: { _tag: "TimedOut" } })
  })

  it("a thenable whose then returns nothing is awaited as `await` would (its value is the job's)", async () => {
    const { sup } = make()
    // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test hands over
    const thenable = { then: (resolve: (n: number) => void) => void resolve(9) }
    expect(await sup.run(() => thenable as unknown as Promise<number>)).toBe(9)
  })
})
