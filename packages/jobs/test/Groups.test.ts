/**
 * Option parity on the upgrade path: `forkAll` and `all` take every per-job option of `fire`
 * (pool, key, timeout, retry, annotations, name), for the whole group and per item (`Job.item`),
 * so moving a call site to tracked completion keeps the limits that protect a partner.
 */
import { Chan } from "@tributary/channel"
import { Cause, Clock, Deferred, Effect, Exit, Fiber, Option, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { Job, JobArgumentError, Supervisor } from "../src/index.js"
import { linesOf, run, settle } from "./harness.js"

describe("Job.all and Job.forkAll keep the per-job options", () => {
  it("the pool's rate holds for jobs run through Job.all (TestClock)", async () => {
    const startedAt: Array<number> = []
    const work = Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => startedAt.push(t)))
    const { value } = await run(
      Effect.gen(function* () {
        const group = yield* Effect.forkChild(
          Job.all(
            Array.from({ length: 6 }, () => work),
            { concurrency: 10, pool: "partner" }
          )
        )
        yield* settle
        const atOnce = startedAt.length
        yield* TestClock.adjust("500 millis")
        yield* settle
        const after500 = startedAt.length
        yield* TestClock.adjust("1500 millis")
        const outcomes = yield* Fiber.join(group)
        return { atOnce, after500, outcomes }
      }),
      { pools: { partner: { rate: { limit: 2, interval: "1 second" } } } }
    )
    // burst 2, then one token every 500 ms
    expect(value.atOnce).toBe(2)
    expect(value.after500).toBe(3)
    expect(startedAt).toEqual([0, 0, 500, 1000, 1500, 2000])
    expect(value.outcomes.map((o) => [o._tag, o.pool])).toEqual(Array.from({ length: 6 }, () => ["Success", "partner"]))
  })

  it("per-key limits hold per item, and each item has its own name and annotations", async () => {
    const inFlight = new Map<string, number>()
    const most = new Map<string, number>()
    const work = (key: string, gate: Deferred.Deferred<void>) =>
      Effect.gen(function* () {
        inFlight.set(key, (inFlight.get(key) ?? 0) + 1)
        most.set(key, Math.max(most.get(key) ?? 0, inFlight.get(key)!))
        yield* Deferred.await(gate)
        inFlight.set(key, inFlight.get(key)! - 1)
      })
    const { value, lines } = await run(
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        const records = [
          { id: 7, key: "acme" },
          { id: 8, key: "acme" },
          { id: 9, key: "globex" },
          { id: 10, key: "acme" }
        ]
        const group = yield* Effect.forkChild(
          Job.all(
            records.map((r) =>
              Job.item(work(r.key, gate), { name: `record-${r.id}`, key: r.key, annotations: { recordId: r.id } })
            ),
            { concurrency: 4, pool: "db", annotations: { run: "nightly" } }
          )
        )
        yield* settle
        const running = (yield* Supervisor.snapshot).running.map((j) => j.name)
        yield* Deferred.succeed(gate, undefined)
        return { running, outcomes: yield* Fiber.join(group) }
      }),
      { pools: { db: { perKey: 1 } } }
    )
    expect(value.running).toEqual(["record-7", "record-9"])
    expect(most.get("acme")).toBe(1)
    expect(value.outcomes.map((o) => [o.name, o.key, o.annotations])).toEqual([
      ["record-7", "acme", { run: "nightly", recordId: 7 }],
      ["record-8", "acme", { run: "nightly", recordId: 8 }],
      ["record-9", "globex", { run: "nightly", recordId: 9 }],
      ["record-10", "acme", { run: "nightly", recordId: 10 }]
    ])
    // the annotations are on the outcome line too
    expect(linesOf(lines, "record-8").find((l) => "job.outcome" in l.annotations)?.annotations).toMatchObject({
      run: "nightly",
      recordId: 8,
      "job.key": "acme",
      "job.pool": "db"
    })
  })

  it("timeout and retry given to forkAll apply to every job; an item's own override them", async () => {
    let calls = 0
    const flaky = Effect.suspend(() => (++calls === 1 ? Effect.fail("first call fails") : Effect.succeed("ok")))
    const { value } = await run(
      Effect.gen(function* () {
        const port = yield* Job.forkAll(
          [
            Effect.never,
            flaky,
            Job.item<unknown, string, never>(Effect.sleep("3 seconds"), { timeout: "5 seconds", name: "patient" })
          ],
          { concurrency: 3, name: "step", timeout: "1 second", retry: Schedule.recurs(1) }
        )
        yield* settle
        yield* TestClock.adjust("3 seconds")
        const got: Array<Job.Outcome> = []
        for (let o = yield* Chan.take(port); Option.isSome(o); o = yield* Chan.take(port)) got.push(o.value)
        return got
      })
    )
    const byName = Object.fromEntries(value.map((o) => [o.name, [o._tag, o.attempt]]))
    expect(byName).toEqual({ "step-0": ["TimedOut", 1], "step-1": ["Success", 2], patient: ["Success", 1] })
  })

  it("a bad option of one item is refused at the call site, naming it; nothing of the group is admitted", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const exits: Array<Exit.Exit<unknown, unknown>> = [
          yield* Effect.exit(Job.all([Effect.void, Job.item(Effect.void, { pool: "nope" })], { concurrency: 2 })),
          yield* Effect.exit(Job.forkAll([Job.item(Effect.void, { key: 5 as never })], { concurrency: 1 })),
          yield* Effect.exit(Job.all([Effect.void], { concurrency: 1, pool: "nope" })),
          yield* Effect.exit(Job.all([Job.item(42 as unknown as Effect.Effect<void>)], { concurrency: 1 }))
        ]
        return { exits, counters: (yield* Supervisor.snapshot).counters }
      })
    )
    const arguments_ = value.exits.map((exit) => {
      const defect = Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined
      expect(defect).toBeInstanceOf(JobArgumentError)
      return (defect as JobArgumentError).argument
    })
    expect(arguments_).toEqual(["works[1].options.pool", "works[0].options.key", "pool", "works[0].work"])
    expect(value.counters.started).toBe(0)
  })

  it("a policy Job.all does not know, and firstSuccess of no works, are refused at the call site", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const ran: Array<number> = []
        const work = (n: number) => Effect.sync(() => ran.push(n))
        const exits: Array<Exit.Exit<unknown, unknown>> = [
          yield* Effect.exit(Job.all([work(1), work(2)], { concurrency: 2, policy: "bogus" as "collectAll" })),
          yield* Effect.exit(Job.all([] as Array<Effect.Effect<void>>, { concurrency: 1, policy: "firstSuccess" }))
        ]
        yield* Supervisor.drain
        return { exits, ran }
      })
    )
    const defects = value.exits.map((exit) => {
      const defect = Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined
      expect(defect).toBeInstanceOf(JobArgumentError)
      return [(defect as JobArgumentError).argument, (defect as JobArgumentError).value]
    })
    expect(defects).toEqual([
      ["policy", "bogus"],
      ["works", []]
    ])
    expect(value.ran).toEqual([]) // nothing of the group was admitted
  })

  it("a group larger than the queue still decides at its first success (it does not wait for room first)", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        // work 1 succeeds at once; the others never end unless interrupted
        const works = Array.from({ length: 6 }, (_, i) => (i === 1 ? Effect.succeed(i) : Effect.never))
        const group = yield* Effect.forkChild(Job.all(works, { concurrency: 6, policy: "firstSuccess" }))
        yield* settle
        const decided = group.pollUnsafe()
        const after = yield* Supervisor.snapshot
        yield* Supervisor.shutdown({ grace: 0 }) // ends the test if the group is stuck (the defect)
        return { decided, after }
      }),
      { concurrency: 2, maxQueued: 1 }
    )
    expect(value.decided).toEqual(Exit.succeed(1))
    // the group's other jobs were interrupted (running) or cancelled (queued) before it returned
    expect(value.after.totals).toEqual({ running: 0, queued: 0, delayed: 0 })
    expect(value.after.counters).toMatchObject({ succeeded: 1, failed: 0 })
  })

  it("failFast decides while the group waits for room", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const works = Array.from({ length: 6 }, (_, i) => (i === 1 ? Effect.fail(`no ${i}`) : Effect.never))
        const group = yield* Effect.forkChild(Job.all(works, { concurrency: 6, policy: "failFast" }))
        yield* settle
        const decided = group.pollUnsafe()
        yield* Supervisor.shutdown({ grace: 0 })
        return decided
      }),
      { concurrency: 2, maxQueued: 1 }
    )
    expect(value).toEqual(Exit.fail("no 1"))
  })

  it("forkAll's port gets the outcomes of a group larger than the queue while the rest is admitted", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const gates = yield* Effect.forEach([0, 1, 2, 3], () => Deferred.make<void>())
        const port = yield* Job.forkAll(
          gates.map((gate) => Deferred.await(gate)),
          { concurrency: 4, name: "g" }
        )
        yield* settle // g-0 runs, g-1 is queued, g-2 waits for room
        yield* Deferred.succeed(gates[0], undefined)
        yield* settle // g-0 ended: g-1 runs, g-2 is queued, g-3 waits for room
        const first = Chan.pollUnsafe(port)
        for (const gate of gates) yield* Deferred.succeed(gate, undefined)
        return { first, rest: (yield* Chan.toArray(port)).map((o) => o.name).sort() }
      }),
      { concurrency: 1, maxQueued: 1 }
    )
    expect(Option.map(value.first, (o) => o.name)).toEqual(Option.some("g-0"))
    expect(value.rest).toEqual(["g-1", "g-2", "g-3"])
  })

  it("Job.all's reportTo receives every outcome of the group", async () => {
    const { value } = await run(
      Effect.gen(function* () {
        const seen = yield* Chan.make<Job.Outcome<number, string>>(8)
        const outcomes = yield* Job.all([Effect.succeed(1), Effect.fail("no"), Effect.succeed(3)], {
          concurrency: 2,
          name: "r",
          reportTo: seen
        })
        Chan.closeUnsafe(seen)
        return {
          outcomes: outcomes.map((o) => o.name),
          reported: (yield* Chan.toArray(seen)).map((o) => o.name).sort()
        }
      })
    )
    expect(value.outcomes).toEqual(["r-0", "r-1", "r-2"])
    expect(value.reported).toEqual(["r-0", "r-1", "r-2"])
  })
})

describe("cancelling a group starts none of its queued works", () => {
  // pool "p" runs one job at a time and has a rate; a group of 4 admits them all: w0 runs, w1..w3
  // wait in p's queue. Cancelling the group must cancel those without running them (attempt 0),
  // not let each one start in the slot the job interrupted before it frees.
  const pools: Record<string, Supervisor.PoolConfig> = {
    p: { concurrency: 1, rate: { limit: 10, interval: "1 hour" } }
  }
  const config: Supervisor.Config = { pools }
  const names = ["w0", "w1", "w2", "w3"]
  /** works of pool "p" that record that they began, and never end unless interrupted */
  const worksOf = (entered: Array<string>) =>
    names.map((name) =>
      Job.item<unknown, string, never>(
        Effect.suspend(() => {
          entered.push(name)
          return Effect.never
        }),
        { name, pool: "p" }
      )
    )
  const tokensOfP = (s: Supervisor.Snapshot) => s.pools.find((p) => p.name === "p")?.rate?.tokens
  /** [tag, attempt] by job name, of the outcomes in `port` */
  const byName = (port: Chan.ReadPort<Job.Outcome>) =>
    Effect.gen(function* () {
      const got: Record<string, [string, number]> = {}
      for (let o = yield* Chan.poll(port); Option.isSome(o); o = yield* Chan.poll(port))
        got[o.value.name] = [o.value._tag, o.value.attempt]
      return got
    })
  const cancelledWhileQueued = { w1: ["Interrupted", 0], w2: ["Interrupted", 0], w3: ["Interrupted", 0] }
  /** w0 ran (one slot of "p") and was interrupted; w1..w3 waited in p's queue and were cancelled unrun. */
  const expectW0InterruptedRestUnrun = (
    value: {
      readonly before: Supervisor.Snapshot
      readonly after: Supervisor.Snapshot
      readonly outcomes: Record<string, [string, number]>
    },
    entered: ReadonlyArray<string>
  ) => {
    expect([value.before.totals.running, value.before.totals.queued]).toEqual([1, 3])
    expect(entered).toEqual(["w0"])
    expect(value.outcomes).toEqual({ w0: ["Interrupted", 1], ...cancelledWhileQueued })
    expect(value.after.counters).toMatchObject({ started: 1, interrupted: 4 })
  }

  it("interrupting Job.all's caller: the queued works are cancelled unrun, no token is spent", async () => {
    const entered: Array<string> = []
    const { value } = await run(
      Effect.scoped(
        Effect.gen(function* () {
          const tap = yield* Supervisor.outcomes
          const group = yield* Effect.forkChild(Job.all(worksOf(entered), { concurrency: 4 }))
          yield* settle
          const before = yield* Supervisor.snapshot
          yield* Fiber.interrupt(group)
          yield* Supervisor.drain
          yield* settle // the tap is fed through a Mult fiber
          return { before, after: yield* Supervisor.snapshot, outcomes: yield* byName(tap) }
        })
      ),
      config
    )
    expectW0InterruptedRestUnrun(value, entered)
    expect(tokensOfP(value.after)).toBe(tokensOfP(value.before))
    expect(tokensOfP(value.after)).toBe(9)
  })

  // the decider runs in the default pool (its end frees no slot of "p": w0 runs from the start and is
  // interrupted), or in "p" itself (it holds p's one slot: the slot its end frees must not start w0)
  it.each([
    ["failFast", Effect.fail("boom"), "default"],
    ["firstSuccess", Effect.succeed("first"), "default"],
    ["failFast", Effect.fail("boom"), "p"],
    ["firstSuccess", Effect.succeed("first"), "p"]
  ] as const)(
    "a %s decision by a job of pool %s: the queued works are cancelled unrun, no token is spent",
    async (policy, end, pool) => {
      const entered: Array<string> = []
      const decider = Job.item<unknown, string, never>(Effect.andThen(Effect.sleep("1 second"), end), {
        name: "decider",
        pool
      })
      const works = [decider, ...worksOf(entered)]
      const all =
        policy === "failFast" ? Job.all(works, { concurrency: 5, policy }) : Job.all(works, { concurrency: 5, policy })
      const { value } = await run(
        Effect.scoped(
          Effect.gen(function* () {
            const tap = yield* Supervisor.outcomes
            const group = yield* Effect.forkChild(Effect.exit(all))
            yield* settle
            const before = yield* Supervisor.snapshot
            yield* TestClock.adjust("1 second")
            const exit = yield* Fiber.join(group)
            yield* Supervisor.drain
            yield* settle
            return { exit, before, after: yield* Supervisor.snapshot, outcomes: yield* byName(tap) }
          })
        ),
        config
      )
      const w0Ran = pool === "default"
      expect(value.exit).toEqual(policy === "failFast" ? Exit.fail("boom") : Exit.succeed("first"))
      expect([value.before.totals.running, value.before.totals.queued]).toEqual(w0Ran ? [2, 3] : [1, 4])
      expect(entered).toEqual(w0Ran ? ["w0"] : [])
      expect(value.outcomes).toEqual({
        decider: [policy === "failFast" ? "Failure" : "Success", 1],
        w0: ["Interrupted", w0Ran ? 1 : 0],
        ...cancelledWhileQueued
      })
      expect(value.after.counters).toMatchObject({ started: w0Ran ? 2 : 1, interrupted: 4 })
      expect(tokensOfP(value.after)).toBe(9) // w0's, or the decider's: one token of "p" in either case
    }
  )

  it("a decision also withdraws the work waiting for room in a full queue: it never starts", async () => {
    const entered: Array<string> = []
    const decider = Job.item<unknown, string, never>(Effect.andThen(Effect.sleep("1 second"), Effect.fail("boom")), {
      name: "decider",
      pool: "p"
    })
    const { value } = await run(
      Effect.scoped(
        Effect.gen(function* () {
          const tap = yield* Supervisor.outcomes
          // the decider runs, w0 fills the one queue place, w1 waits for room
          const group = yield* Effect.forkChild(
            Effect.exit(Job.all([decider, ...worksOf(entered)], { concurrency: 5, policy: "failFast" }))
          )
          yield* settle
          const before = yield* Supervisor.snapshot
          yield* TestClock.adjust("1 second")
          const exit = yield* Fiber.join(group)
          yield* Supervisor.drain
          yield* settle
          return { exit, before, after: yield* Supervisor.snapshot, outcomes: yield* byName(tap) }
        })
      ),
      { ...config, maxQueued: 1 }
    )
    expect(value.exit).toEqual(Exit.fail("boom"))
    expect([value.before.totals.running, value.before.totals.queued]).toEqual([1, 1])
    expect(entered).toEqual([])
    // w1..w3 never reached the supervisor: no outcome on its tap (the group's warn line counts them)
    expect(value.outcomes).toEqual({ decider: ["Failure", 1], w0: ["Interrupted", 0] })
    expect(value.after.counters).toMatchObject({ started: 1, interrupted: 1 })
    expect(value.after.totals).toEqual({ running: 0, queued: 0, delayed: 0 })
  })

  it("a decision in the same turn as the success that let the waiting work into the queue: that work never starts", async () => {
    const entered: Array<string> = []
    const marker = (name: string) =>
      Job.item<unknown, string, never>(
        Effect.suspend(() => {
          entered.push(name)
          return Effect.never
        }),
        { name }
      )
    const { value } = await run(
      Effect.scoped(
        Effect.gen(function* () {
          const latch = yield* Deferred.make<void>()
          const tap = yield* Supervisor.outcomes
          const works = [
            Job.item<unknown, string, never>(Effect.as(Deferred.await(latch), "ok"), { name: "b" }),
            Job.item<unknown, string, never>(Effect.andThen(Deferred.await(latch), Effect.fail("boom")), { name: "a" }),
            marker("q"), // fills the one queue place; starts in b's slot (b succeeded: no decision yet)
            marker("w") // waits for room; let in by b's end, in the turn where a decides
          ]
          const group = yield* Effect.forkChild(Effect.exit(Job.all(works, { concurrency: 4, policy: "failFast" })))
          yield* settle
          yield* Deferred.succeed(latch, undefined)
          const exit = yield* Fiber.join(group)
          yield* Supervisor.drain
          yield* settle
          return { exit, outcomes: yield* byName(tap) }
        })
      ),
      { concurrency: 2, maxQueued: 1 }
    )
    expect(value.exit).toEqual(Exit.fail("boom"))
    expect(entered).not.toContain("w")
    expect(value.outcomes.w).toEqual(["Interrupted", 0])
  })

  it("a work let into the queue just as the group is cancelled is the group's: cancelled unrun with the rest", async () => {
    const entered: Array<string> = []
    const { value } = await run(
      Effect.scoped(
        Effect.gen(function* () {
          const tap = yield* Supervisor.outcomes
          const running = yield* Job.fork(Effect.never, { name: "running" })
          const queued = yield* Job.fork(Effect.never, { name: "queued" }) // the queue (1 place) is full
          const group = yield* Effect.forkChild(Job.all(worksOf(entered).slice(0, 2), { concurrency: 2 }))
          yield* settle // w0 waits for room in the queue
          const before = yield* Supervisor.snapshot
          // the queued job's place goes to w0 at once; the group is cancelled before it hears so
          yield* Job.interrupt(queued)
          yield* Fiber.interrupt(group)
          yield* Job.interrupt(running) // a free slot: a w0 the group lost track of would start now
          yield* settle
          yield* Supervisor.shutdown({ grace: 0 }) // (such a w0 would run on: drain would wait for ever)
          return { before, after: yield* Supervisor.snapshot, outcomes: yield* byName(tap) }
        })
      ),
      { concurrency: 1, maxQueued: 1, pools }
    )
    expect(value.before.waitingForRoom).toBe(1)
    expect(entered).toEqual([])
    expect(value.outcomes).toMatchObject({ w0: ["Interrupted", 0] })
    expect(value.after.totals).toEqual({ running: 0, queued: 0, delayed: 0 })
    expect(value.after.counters.started).toBe(1) // "running" only
  })

  it("forkAll's group at shutdown: the queued works are cancelled unrun, no token is spent", async () => {
    const entered: Array<string> = []
    const { value } = await run(
      Effect.gen(function* () {
        const port = yield* Job.forkAll(worksOf(entered), { concurrency: 4 })
        yield* settle
        const before = yield* Supervisor.snapshot
        yield* Supervisor.shutdown({ grace: 0 })
        return { before, after: yield* Supervisor.snapshot, outcomes: yield* byName(port) }
      }),
      config
    )
    expectW0InterruptedRestUnrun(value, entered)
    expect(tokensOfP(value.after)).toBe(9)
  })
})
