/**
 * Stalls: jobs that hold every slot of a limit while they wait for jobs needing the same limit.
 * Nothing can fail or finish there, so the supervisor writes one warn line naming the limit, the
 * waiting jobs and what they wait for — and only then; a wait that can still end writes nothing.
 */
import { Effect, Exit } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { Job, Supervisor } from "../src/index.js"
import { type Line, run, settle } from "./harness.js"

const stallLines = (lines: ReadonlyArray<Line>) => lines.filter((l) => l.message.includes("is stalled"))

/** A parent job that runs `Job.all` of `n` children in `pool` (a child only ends when `release` says so). */
const parent = (name: string, pool: string, n: number, childPool: string) =>
  Job.fork(
    Job.all(
      Array.from({ length: n }, () => Effect.void),
      { concurrency: n, pool: childPool, name: `${name}-child` }
    ),
    { name, pool }
  )

describe("a limit held by jobs waiting for jobs that need it", () => {
  it("Job.all in the parents' own pool: one warn line names the pool, the parents and their children", async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        const a = yield* parent("a", "p", 2, "p")
        const b = yield* parent("b", "p", 2, "p")
        yield* settle
        const snapshot = yield* Supervisor.snapshot
        yield* settle
        yield* Supervisor.shutdown({ grace: 0 })
        return { snapshot, a: yield* Job.await(a), b: yield* Job.await(b) }
      }),
      { pools: { p: { concurrency: 2 } } }
    )
    const [line] = stallLines(lines)
    expect(stallLines(lines)).toHaveLength(1) // once, although four children queued behind the two parents
    expect(line?.level).toBe("Warn")
    expect(line?.message).toMatch(/^pool "p" \(concurrency 2\) is stalled: /)
    expect(line?.message).toContain("a (id 1) waits for a-child-0")
    expect(line?.message).toContain("b (id 2) waits for b-child-0")
    expect(line?.message).toContain("different pools")
    expect(line?.annotations["stall.limit"]).toBe('pool "p" (concurrency 2)')
    expect(line?.annotations["stall.waiting"]).toEqual(["1", "2"])
    expect(value.snapshot.totals).toMatchObject({ running: 2, queued: 4 })
    expect([value.a, value.b].every(Exit.hasInterrupts)).toBe(true)
  })

  it("Job.join of a forked job under the supervisor's concurrency 1", async () => {
    const { lines } = await run(
      Effect.gen(function* () {
        const outer = yield* Job.fork(
          Effect.flatMap(Job.fork(Effect.succeed(1), { name: "inner" }), (h) => Job.join(h)),
          { name: "outer" }
        )
        yield* settle
        yield* Supervisor.shutdown({ grace: 0 })
        return yield* Job.await(outer)
      }),
      { concurrency: 1 }
    )
    const stalls = stallLines(lines)
    expect(stalls.map((l) => l.message.slice(0, l.message.indexOf(":")))).toEqual(["concurrency 1 is stalled"])
    expect(stalls[0]?.message).toContain("outer (id 1) waits for inner (id 2)")
  })

  it("a key's perKey: the parent and its child share the key", async () => {
    const { lines } = await run(
      Effect.gen(function* () {
        yield* Job.fork(Job.all([Effect.void], { concurrency: 1, pool: "p", key: "tenant-7", name: "child" }), {
          name: "parent",
          pool: "p",
          key: "tenant-7"
        })
        yield* settle
        yield* Supervisor.shutdown({ grace: 0 })
      }),
      { pools: { p: { perKey: 1 } } }
    )
    expect(stallLines(lines).map((l) => l.annotations["stall.limit"])).toEqual([
      'key "tenant-7" of pool "p" (perKey 1)'
    ])
  })

  it("a stall ended by a waiting job's end is reported again when it comes back", async () => {
    const { lines } = await run(
      Effect.gen(function* () {
        const first = yield* parent("first", "p", 1, "p")
        yield* settle
        yield* Job.interrupt(first) // its child is cancelled unrun; the slot is free again
        const second = yield* parent("second", "p", 1, "p")
        yield* settle
        yield* Job.interrupt(second)
      }),
      { pools: { p: { concurrency: 1 } } }
    )
    expect(stallLines(lines).map((l) => l.annotations["stall.waiting"])).toEqual([["1"], ["3"]])
  })
})

describe("waits the supervisor sees beyond the job's own fiber", () => {
  it.each([
    [
      "the job's timeout option",
      (wait: Effect.Effect<unknown, unknown, Supervisor.Supervisor>) => wait,
      { timeout: "1 hour" }
    ],
    [
      "Effect.timeout around the wait",
      (wait: Effect.Effect<unknown, unknown, Supervisor.Supervisor>) => Effect.timeout(wait, "1 hour"),
      {}
    ]
  ] as const)("%s", async (_, around, options) => {
    const { lines } = await run(
      Effect.gen(function* () {
        const parentJob = yield* Job.fork(
          around(Job.all([Effect.void], { concurrency: 1, pool: "p", name: "child" })),
          { name: "parent", pool: "p", ...options }
        )
        yield* settle
        yield* Job.interrupt(parentJob)
      }),
      { pools: { p: { concurrency: 1 } } }
    )
    expect(stallLines(lines).map((l) => l.annotations["stall.limit"])).toEqual(['pool "p" (concurrency 1)'])
  })

  it("a child whose delay ends into a pool its parent holds", async () => {
    const { lines } = await run(
      Effect.gen(function* () {
        const parentJob = yield* Job.fork(
          Job.all([Effect.void], { concurrency: 1, pool: "p", name: "child", delay: "1 second" }),
          { name: "parent", pool: "p" }
        )
        yield* settle
        yield* Effect.log("delay ends")
        yield* TestClock.adjust("1 second")
        yield* settle
        yield* Job.interrupt(parentJob)
      }),
      { pools: { p: { concurrency: 1 } } }
    )
    const endedAt = lines.findIndex((l) => l.message === "delay ends")
    const stalls = stallLines(lines)
    expect(stalls).toHaveLength(1)
    expect(lines.indexOf(stalls[0]!)).toBeGreaterThan(endedAt)
  })
})

describe("a group a running job may still decide", () => {
  it("failFast with a child running in another pool: no line while it runs; one once it ends without deciding", async () => {
    const { lines } = await run(
      Effect.gen(function* () {
        const parentJob = yield* Job.fork(
          Job.all(
            [
              Job.item(Effect.sleep("1 second"), { name: "elsewhere", pool: "q" }),
              Job.item(Effect.void, { name: "here", pool: "p" })
            ],
            { concurrency: 2, policy: "failFast" }
          ),
          { name: "parent", pool: "p" }
        )
        yield* settle
        yield* Effect.log("elsewhere ends")
        yield* TestClock.adjust("1 second")
        yield* settle
        yield* Job.interrupt(parentJob)
      }),
      { pools: { p: { concurrency: 1 }, q: {} } }
    )
    const endedAt = lines.findIndex((l) => l.message === "elsewhere ends")
    const stalls = stallLines(lines)
    expect(stalls.map((l) => l.annotations["stall.limit"])).toEqual(['pool "p" (concurrency 1)'])
    expect(lines.indexOf(stalls[0]!)).toBeGreaterThan(endedAt)
  })
})

describe("a group a running job may still decide, on a key", () => {
  it("firstSuccess: its job elsewhere fails, its other job needs the key the parent holds: one line for the key", async () => {
    const { lines } = await run(
      Effect.gen(function* () {
        const a = yield* Job.fork(
          Job.all(
            [
              Job.item<number, string, never>(Effect.andThen(Effect.sleep("10 millis"), Effect.fail("a1 failed")), {
                pool: "q",
                name: "a1"
              }),
              Job.item<number, string, never>(Effect.succeed(2), { pool: "p", key: "k", name: "a2" })
            ],
            { concurrency: 2, policy: "firstSuccess" }
          ),
          { name: "A", pool: "p", key: "k" }
        )
        yield* settle
        yield* TestClock.adjust("10 millis")
        yield* settle
        yield* Job.interrupt(a)
      }),
      { pools: { p: { concurrency: 5, perKey: 1 }, q: { concurrency: 1 } } }
    )
    expect(stallLines(lines).map((l) => l.annotations["stall.limit"])).toEqual(['key "k" of pool "p" (perKey 1)'])
  })
})

describe("waits that can still end write no stall line", () => {
  it("parents in one pool, children in another: every job ends", async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        const a = yield* parent("a", "parents", 3, "children")
        const b = yield* parent("b", "parents", 3, "children")
        return [yield* Job.await(a), yield* Job.await(b)]
      }),
      { pools: { parents: { concurrency: 2 }, children: { concurrency: 1 } } }
    )
    expect(value.every(Exit.isSuccess)).toBe(true)
    expect(stallLines(lines)).toEqual([])
  })

  it("a job of another supervisor with the same id, name and pool is not taken for the waiting one", async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        // the outer supervisor's job 1 ("job", pool default) uses an inner supervisor of concurrency 1
        // whose own job 1 ("job", pool default) is slow but waits for nothing
        const inner = Effect.gen(function* () {
          yield* Job.fire(Effect.sleep("50 millis"))
          return yield* Job.all([Effect.succeed(2), Effect.succeed(3)], { concurrency: 2 })
        }).pipe(Effect.provide(Supervisor.layer({ concurrency: 1 })))
        const h = yield* Job.fork(inner)
        yield* settle
        yield* TestClock.adjust("50 millis")
        return yield* Job.join(h)
      }),
      { concurrency: 4 }
    )
    expect(value.map((o) => o._tag)).toEqual(["Success", "Success"])
    expect(stallLines(lines)).toEqual([])
  })

  it("one parent waiting while the pool has a free slot: its children run there", async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        const a = yield* parent("a", "p", 4, "p")
        return yield* Job.await(a)
      }),
      { pools: { p: { concurrency: 2 } } }
    )
    expect(Exit.isSuccess(value)).toBe(true)
    expect(stallLines(lines)).toEqual([])
  })

  it("a job waiting on a job that is already running: no line, even when the pool is full", async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        const worker = yield* Job.fork(Effect.andThen(settle, Effect.succeed("done")), { name: "worker", pool: "p" })
        const waiter = yield* Job.fork(Job.join(worker), { name: "waiter", pool: "p" })
        const queued = yield* Job.fork(Effect.void, { name: "queued", pool: "p" })
        return [yield* Job.await(waiter), yield* Job.await(queued)]
      }),
      { pools: { p: { concurrency: 2 } } }
    )
    expect(value).toEqual([Exit.succeed("done"), Exit.void])
    expect(stallLines(lines)).toEqual([])
  })

  it("a paused pool is not reported as stalled; its resume shows the stall", async () => {
    const { lines } = await run(
      Effect.gen(function* () {
        // the parent starts, then waits (after a second) for a child of its own pool
        const late = Effect.andThen(
          Effect.sleep("1 second"),
          Job.all([Effect.void], { concurrency: 1, pool: "p", name: "child" })
        )
        const a = yield* Job.fork(late, { name: "a", pool: "p" })
        yield* settle
        yield* Supervisor.pause({ pool: "p" })
        yield* TestClock.adjust("1 second")
        yield* settle
        yield* Effect.log("resuming")
        yield* Supervisor.resume({ pool: "p" })
        yield* settle
        yield* Job.interrupt(a)
      }),
      { pools: { p: { concurrency: 1 } } }
    )
    const resumedAt = lines.findIndex((l) => l.message === "resuming")
    const stalls = stallLines(lines)
    expect(stalls.map((l) => l.annotations["stall.limit"])).toEqual(['pool "p" (concurrency 1)'])
    expect(lines.indexOf(stalls[0]!)).toBeGreaterThan(resumedAt)
  })
})
