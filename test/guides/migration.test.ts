/**
 * docs/migration.md, row by row: each "p-limit / p-queue / Promise.all / effect X → ours Y" holds,
 * with p-limit and p-queue run side by side on the same work where it helps. Jobs end when the
 * test opens their gates; a rate is checked with an interval of an hour, so that nothing depends
 * on time passing (what holds the third job back is read from the snapshot).
 */
import { Chan } from "@tributary/channel"
import { Job, Supervisor } from "@tributary/jobs"
import { supervisor } from "@tributary/jobs/promise"
import { Cause, Effect, Option, Queue } from "effect"
import pLimit from "p-limit"
import PQueue from "p-queue"
import { afterEach, describe, expect, it } from "vitest"
import { pinoLines } from "./pino-lines.js"

type Sup = ReturnType<typeof supervisor>
const open: Array<Sup> = []
const make = (config: Parameters<typeof supervisor>[0] = {}) => {
  const sup = supervisor({ logger: pinoLines().logger, ...config })
  open.push(sup)
  return sup
}
afterEach(async () => {
  for (const sup of open.splice(0)) await sup.shutdown({ grace: 0 })
})

/** Work whose running count is recorded; each call ends when `release` is called. */
const tracked = () => {
  let active = 0
  let most = 0
  const started: Array<string> = []
  const gates: Array<() => void> = []
  const work = (name: string) => async () => {
    active++
    most = Math.max(most, active)
    started.push(name)
    await new Promise<void>((resolve) => gates.push(resolve))
    active--
    return name
  }
  const releaseAll = async () => {
    while (gates.length > 0 || active > 0) {
      for (const g of gates.splice(0)) g()
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  return { work, started, releaseAll, most: () => most }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe("migration.md: From p-limit", () => {
  it("the limit is concurrency: both run 4 of 10 at once; all settles every job like allSettled", async () => {
    const tenants = Array.from({ length: 10 }, (_, i) => `t${i}`)
    const theirs = tracked()
    const limit = pLimit(4)
    const before = Promise.all(tenants.map((t) => limit(theirs.work(t))))
    await tick()
    await theirs.releaseAll()
    expect(await before).toEqual(tenants)

    const ours = tracked()
    const sup = make({ concurrency: 4 })
    const after = sup.all(
      tenants.map((t) => ours.work(t)),
      { name: "sync-tenant", concurrency: 4 }
    )
    await tick()
    await ours.releaseAll()
    const outcomes = await after
    expect([theirs.most(), ours.most()]).toEqual([4, 4])
    expect(outcomes.filter((o) => o.status === "fulfilled").length).toBe(10)
  })

  it("all settles a rejection as one result; failFast rejects with it, as Promise.all does", async () => {
    const sup = make()
    const works = [async () => 1, async () => Promise.reject(new Error("t2 down")), async () => 3]
    const settled = await sup.all(works, { concurrency: 4 })
    expect(settled.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"])
    await expect(sup.all(works, { concurrency: 4, policy: "failFast" })).rejects.toThrow("t2 down")
    await expect(Promise.all(works.map((w) => w()))).rejects.toThrow("t2 down")
  })
})

describe("migration.md: From p-queue", () => {
  it("{ concurrency, intervalCap, interval } → a pool's concurrency and rate: the third start waits for a token", async () => {
    const queue = new PQueue({ concurrency: 4, intervalCap: 2, interval: 3_600_000 })
    const theirs = tracked()
    for (const n of ["a", "b", "c"]) void queue.add(theirs.work(n))
    await tick()
    expect(theirs.started).toEqual(["a", "b"])
    queue.clear()

    const sup = make({ pools: { partner: { concurrency: 4, rate: { limit: 2, interval: "1 hour" } } } })
    const ours = tracked()
    for (const n of ["a", "b", "c"]) sup.fire(ours.work(n), { pool: "partner", name: n })
    await tick()
    expect(ours.started).toEqual(["a", "b"])
    const pool = (await sup.snapshot()).pools.find((p) => p.name === "partner")
    expect(pool).toMatchObject({ running: 2, queued: 1, heldBy: "rate" })
    await theirs.releaseAll()
    await ours.releaseAll()
  })

  it("add(fn) → run(fn) awaited or fire(fn); add(fn, { priority }) → higher goes first; onIdle → drain", async () => {
    const queue = new PQueue({ concurrency: 1 })
    const theirs = tracked()
    void queue.add(theirs.work("blocker"))
    void queue.add(theirs.work("low"), { priority: 0 })
    void queue.add(theirs.work("high"), { priority: 5 })
    const idle = queue.onIdle()
    await theirs.releaseAll()
    await idle

    const sup = make({ concurrency: 1 })
    const ours = tracked()
    sup.fire(ours.work("blocker"))
    sup.fire(ours.work("low"), { priority: 0 })
    const high = sup.run(ours.work("high"), { priority: 5 })
    let drained = false
    const drain = sup.drain().then(() => {
      drained = true
    })
    await tick()
    expect(drained).toBe(false)
    await ours.releaseAll()
    await drain
    expect(await high).toBe("high")
    expect([theirs.started, ours.started]).toEqual([
      ["blocker", "high", "low"],
      ["blocker", "high", "low"]
    ])
  })

  it("pause() / start() → Supervisor.pause / resume through the supervisor's layer", async () => {
    const sup = make()
    const ours = tracked()
    await Effect.runPromise(Supervisor.pause().pipe(Effect.provide(sup.layer)))
    sup.fire(ours.work("held"))
    await tick()
    expect(ours.started).toEqual([])
    await Effect.runPromise(Supervisor.resume().pipe(Effect.provide(sup.layer)))
    await tick()
    expect(ours.started).toEqual(["held"])
    await ours.releaseAll()
  })

  it("size and pending → snapshot(): queued and running jobs, per pool", async () => {
    const queue = new PQueue({ concurrency: 1 })
    const theirs = tracked()
    for (const n of ["a", "b", "c"]) void queue.add(theirs.work(n))
    await tick()
    expect([queue.size, queue.pending]).toEqual([2, 1])

    const sup = make({ pools: { db: { concurrency: 1 } } })
    const ours = tracked()
    for (const n of ["a", "b", "c"]) sup.fire(ours.work(n), { pool: "db", name: n })
    await tick()
    const snapshot = await sup.snapshot()
    expect([snapshot.totals.queued, snapshot.totals.running]).toEqual([2, 1])
    expect(snapshot.pools.find((p) => p.name === "db")).toMatchObject({ queued: 2, running: 1 })
    await theirs.releaseAll()
    await ours.releaseAll()
  })

  it("the timeout option → timeout per job, which also aborts the job's signal", async () => {
    const sup = make()
    let aborted = false
    const untilAborted = (signal: AbortSignal) =>
      new Promise<never>((_, reject) =>
        signal.addEventListener("abort", () => {
          aborted = true
          reject(signal.reason)
        })
      )
    await expect(sup.run(untilAborted, { timeout: "1 millis" })).rejects.toMatchObject({
      _tag: "JobAbortedError",
      reason: "TimedOut"
    })
    expect(aborted).toBe(true)
  })

  it("events → sup.outcomes: every outcome from the moment you iterate", async () => {
    const sup = make()
    const iterator = sup.outcomes[Symbol.asyncIterator]()
    const next = iterator.next()
    sup.fire(async () => 1, { name: "seen" })
    expect((await next).value).toMatchObject({ name: "seen", _tag: "Success" })
    await iterator.return?.()
  })
})

describe("migration.md: From BullMQ", () => {
  it("job ids dedupe, delayed jobs and retries (attempts/backoff) exist in both APIs' job options", async () => {
    const sup = make()
    let runs = 0
    const gate = tracked()
    sup.fire(gate.work("first"), { id: "order-1" })
    sup.fire(async () => runs++, { id: "order-1" }) // the same id while the first is live: nothing
    await tick()
    await gate.releaseAll()
    await sup.drain()
    expect(runs).toBe(0)
    let attempts = 0
    await expect(
      sup.run(
        async () => {
          attempts++
          throw new Error("retry me")
        },
        { retry: { times: 2, delay: "1 millis" }, delay: "1 millis" }
      )
    ).rejects.toThrow("retry me")
    expect(attempts).toBe(3)
  })
})

describe("migration.md: From plain effect Queue and Effect.forEach", () => {
  it("Effect.forEach(items, f, { concurrency }) → Job.all(items.map(f), { concurrency }): the same values, one outcome each", async () => {
    const sup = make()
    const f = (n: number) => Effect.succeed(n * 2)
    const program = Effect.gen(function* () {
      const theirs = yield* Effect.forEach([1, 2, 3], f, { concurrency: 2 })
      const ours = yield* Job.all([1, 2, 3].map(f), { concurrency: 2 })
      return { theirs, ours: ours.map((o) => (o.exit._tag === "Success" ? o.exit.value : undefined)) }
    })
    expect(await Effect.runPromise(program.pipe(Effect.provide(sup.layer)))).toEqual({
      theirs: [2, 4, 6],
      ours: [2, 4, 6]
    })
  })

  it("forkDaemon → Job.fire: a shutdown waits for the fired work", async () => {
    const sup = make()
    const ours = tracked()
    await Effect.runPromise(Job.fire(Effect.promise(ours.work("background"))).pipe(Effect.provide(sup.layer)))
    await tick()
    let stopped = false
    const stop = sup.shutdown({ grace: "1 hour" }).then(() => {
      stopped = true
    })
    await tick()
    expect(stopped).toBe(false)
    await ours.releaseAll()
    await stop
    expect(stopped).toBe(true)
  })

  it("Queue → Chan: both can be ended with buffered values still taken; a channel's take then gives None, a Queue's fails with Done", async () => {
    const program = Effect.gen(function* () {
      const ch = yield* Chan.make<number>(2)
      yield* Chan.put(ch, 1)
      yield* Chan.close(ch)
      const fromChan = [yield* Chan.take(ch), yield* Chan.take(ch)]
      const queue = yield* Queue.bounded<number, Cause.Done>(2)
      yield* Queue.offer(queue, 1)
      yield* Queue.end(queue)
      const first = yield* Queue.take(queue)
      const end = yield* Effect.flip(Queue.take(queue))
      return { fromChan, fromQueue: [first, Cause.isDone(end)] }
    })
    expect(await Effect.runPromise(program)).toEqual({
      fromChan: [Option.some(1), Option.none()],
      fromQueue: [1, true]
    })
  })
})
