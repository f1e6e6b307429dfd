/**
 * The admission part alone: synchronous, no fibers. A concrete `Admission` whose runner hooks only
 * record what they were asked, a hand-driven clock, and entries admitted and released by hand.
 */
import { Context, Effect } from "effect"
import type * as Clock from "effect/Clock"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Admission } from "../src/internal/admission.js"
import type { Entry, Pool, ResolvedConfig } from "../src/internal/model.js"
import { SlotRing } from "../src/internal/queues.js"
import { JobArgumentError } from "../src/SupervisorError.js"

/** A clock the test moves by hand. */
const manualClock = () => {
  let now = 0
  const clock = { currentTimeMillisUnsafe: () => now } as unknown as Clock.Clock
  return { clock, advance: (millis: number) => (now += millis) }
}

class TestAdmission extends Admission {
  refills: Array<string> = []
  flushes = 0
  armRefill(pool: Pool): void {
    this.refills.push(pool.name)
  }
  scheduleFlush(): void {
    this.flushes++
  }
  /** Takes every started entry out of `toStart`, as the runner would. */
  started(): Array<string> {
    const names: Array<string> = []
    for (let e = this.toStart.shift(); e !== undefined; e = this.toStart.shift()) names.push(e.name)
    return names
  }
}

const make = (config: Partial<ResolvedConfig>) => {
  const { clock, advance } = manualClock()
  const admission = new TestAdmission(
    {
      name: "test",
      concurrency: 64,
      maxQueued: 100,
      whenFull: "wait",
      pools: {},
      logSuccess: "Debug",
      graceMillis: 0,
      ...config
    },
    clock
  )
  const job = (name: string, pool?: string, key?: string): Entry =>
    admission.entry(Effect.void, { name, pool, key }, Context.empty() as Context.Context<never>)
  /** Ends a started entry: frees its slots and starts what can start. */
  const end = (entry: Entry) => {
    entry.state = "done"
    admission.release(entry)
    admission.pump(admission.now())
  }
  return { admission, job, end, advance }
}

describe("Admission (no fibers)", () => {
  it("starts up to the global bound, queues the rest FIFO, and starts the next when one ends", () => {
    const { admission, job, end } = make({ concurrency: 2 })
    const jobs = ["a", "b", "c", "d"].map((n) => job(n))
    expect(jobs.map((e) => admission.admit(e, "wait"))).toEqual(["started", "started", "queued", "queued"])
    expect(admission.started()).toEqual(["a", "b"])
    expect(admission.queued).toBe(2)
    end(jobs[0])
    expect(admission.started()).toEqual(["c"])
    expect(admission.running.size).toBe(2)
  })

  it("pools and keys take turns; a key's bound holds its jobs back without holding others", () => {
    const { admission, job, end } = make({ concurrency: 10, pools: { p: { perKey: 1 } } })
    const a1 = job("a1", "p", "a")
    const a2 = job("a2", "p", "a")
    const b1 = job("b1", "p", "b")
    expect([a1, a2, b1].map((e) => admission.admit(e, "wait"))).toEqual(["started", "queued", "started"])
    expect(admission.started()).toEqual(["a1", "b1"])
    end(a1)
    expect(admission.started()).toEqual(["a2"])
    end(a2)
    end(b1)
    // idle keyed lanes are forgotten
    expect(admission.pools.get("p")?.lanes.size).toBe(0)
  })

  it("a full queue: fail refuses, drop drops (counted), wait parks the entry in overflow", () => {
    const { admission, job, end } = make({ concurrency: 1, maxQueued: 1 })
    const first = job("first")
    expect(admission.admit(first, "wait")).toBe("started")
    expect(admission.admit(job("queued"), "wait")).toBe("queued")
    expect(admission.admit(job("refused"), "fail")).toBe("full")
    expect(admission.admit(job("dropped"), "drop")).toBe("dropped")
    expect(admission.counters.dropped).toBe(1)
    const parked = job("parked")
    let woken: boolean | undefined
    expect(admission.admit(parked, "wait")).toBe("wait")
    parked.wake = (admitted) => {
      woken = admitted
    }
    end(first)
    expect(admission.started()).toEqual(["first", "queued"])
    expect(woken).toBe(true)
    expect(parked.state).toBe("queued")
  })

  it("a rate: burst = limit, then one start per token, a refill asked for when only a token is missing", () => {
    const { admission, job, end, advance } = make({
      pools: { api: { rate: { limit: 2, interval: "1 second" } } }
    })
    const jobs = ["r1", "r2", "r3"].map((n) => job(n, "api"))
    expect(jobs.map((e) => admission.admit(e, "wait"))).toEqual(["started", "started", "queued"])
    expect(admission.refills).toEqual(["api"])
    end(jobs[0])
    expect(admission.started()).toEqual(["r1", "r2"]) // no token yet for r3
    advance(500)
    admission.relinkPool(jobs[2].pool)
    admission.pump(admission.now())
    expect(admission.started()).toEqual(["r3"])
  })

  it("a rate's burst stays at limit after an idle period: the tokens earned while idle are capped", () => {
    const { admission, job, end, advance } = make({
      pools: { api: { rate: { limit: 2, interval: "500 millis" } } }
    })
    advance(10_000) // idle: 40 tokens' worth of time
    const jobs = ["r1", "r2", "r3", "r4", "r5"].map((n) => job(n, "api"))
    expect(jobs.map((e) => admission.admit(e, "wait"))).toEqual(["started", "started", "queued", "queued", "queued"])
    expect(admission.started()).toEqual(["r1", "r2"])
    end(jobs[0])
    end(jobs[1])
    expect(admission.started()).toEqual([]) // the bucket is empty: no third start at the same instant
    // then one start per 250 ms (2 per 500 ms)
    const after = (millis: number) => {
      advance(millis)
      admission.relinkPool(jobs[0].pool) // what the armed refill does when it fires
      admission.pump(admission.now())
      return admission.started()
    }
    for (const name of ["r3", "r4", "r5"]) {
      expect(after(249)).toEqual([])
      expect(after(1)).toEqual([name])
    }
  })

  /** With concurrency 1: the jobs started so far, then the next `count` to start, the running one (`first`, then each next) ended before each. */
  const oneAtATime = (admission: TestAdmission, end: (e: Entry) => void, first: Entry, count: number) => {
    const order = admission.started()
    let current = first
    for (let i = 0; i < count; i++) {
      end(current)
      order.push(...admission.started())
      current = [...admission.running][0]
    }
    return order
  }

  it("the keys of a pool take turns: one busy key does not run all its queued jobs first", () => {
    const { admission, job, end } = make({ concurrency: 1, pools: { p: {} } })
    const jobs = ["a1", "a2", "a3", "b1", "b2", "b3"].map((n) => job(n, "p", n[0]))
    expect(jobs.map((e) => admission.admit(e, "wait"))).toEqual(["started", ...Array(5).fill("queued")])
    expect(oneAtATime(admission, end, jobs[0], 5)).toEqual(["a1", "a2", "b1", "a3", "b2", "b3"])
  })

  it("pools take turns: one busy pool does not run all its queued jobs first", () => {
    const { admission, job, end } = make({ concurrency: 1, pools: { p: {}, q: {} } })
    const jobs = ["p1", "p2", "p3", "q1", "q2", "q3"].map((n) => job(n, n[0]))
    expect(jobs.map((e) => admission.admit(e, "wait"))).toEqual(["started", ...Array(5).fill("queued")])
    expect(oneAtATime(admission, end, jobs[0], 5)).toEqual(["p1", "p2", "q1", "p3", "q2", "q3"])
  })
})

describe("priority (no fibers)", () => {
  it("higher priority first, FIFO within a priority, in a pool's keyless queue", () => {
    const { admission, job, end } = make({ concurrency: 1 })
    const first = job("running")
    admission.admit(first, "wait")
    const spec: Array<readonly [string, number]> = [
      ["low-1", -1],
      ["zero-1", 0],
      ["high-1", 5],
      ["zero-2", 0],
      ["high-2", 5],
      ["mid", 2],
      ["low-2", -1]
    ]
    for (const [name, priority] of spec)
      admission.admit(
        admission.entry(Effect.void, { name, priority }, Context.empty() as Context.Context<never>),
        "wait"
      )
    expect(admission.started()).toEqual(["running"])
    const order: Array<string> = []
    let current = first
    for (let i = 0; i < spec.length; i++) {
      end(current)
      const [next] = admission.started()
      order.push(next)
      current = [...admission.running][0]
    }
    expect(order).toEqual(["high-1", "high-2", "mid", "zero-1", "zero-2", "low-1", "low-2"])
  })

  it("a cancelled prioritized entry leaves the order of the rest intact", () => {
    const { admission, job, end } = make({ concurrency: 1 })
    const first = job("running")
    admission.admit(first, "wait")
    const entries = (["a", "b", "c"] as const).map((name) =>
      admission.entry(Effect.void, { name, priority: 3 }, Context.empty() as Context.Context<never>)
    )
    for (const e of entries) admission.admit(e, "wait")
    // c was the tail of priority 3: dropping it must move the tail back to b
    entries[2].lane.drop(entries[2])
    admission.queued--
    entries[2].state = "done"
    const late = admission.entry(Effect.void, { name: "d", priority: 3 }, Context.empty() as Context.Context<never>)
    admission.admit(late, "wait")
    admission.started()
    end(first)
    const order = admission.started()
    end([...admission.running][0])
    order.push(...admission.started())
    end([...admission.running][0])
    order.push(...admission.started())
    expect(order).toEqual(["a", "b", "d"])
  })
})

describe("plain jobs wait as records, not entries (no fibers)", () => {
  const ctx = Context.empty() as Context.Context<never>

  it("SlotRing: FIFO across growth and wrap-around, and a shifted record keeps nothing alive", () => {
    const ring = new SlotRing()
    let next = 0
    let expected = 0
    // interleave pushes and shifts so the head wraps around while the ring grows
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 7; i++, next++) ring.push(next, `v${next}`, undefined, undefined, undefined)
      for (let i = 0; i < 5; i++, expected++) {
        expect([ring.head(0), ring.head(1)]).toEqual([expected, `v${expected}`])
        ring.shift()
      }
    }
    expect(ring.length).toBe(next - expected)
    for (let i = 0; i < ring.length; i++) expect(ring.at(i, 0)).toBe(expected + i)
    while (ring.length > 0) ring.shift()
    // every slot of the (small again) ring is empty
    expect(ring.at(0, 0)).toBeUndefined()
    expect(ring.at(0, 1)).toBeUndefined()
  })

  it("SlotRing matches an array model over long runs of pushes and shifts (across chunks, emptied and refilled)", () => {
    fc.assert(
      fc.property(
        // runs of pushes (n > 0) and shifts (n < 0), long enough to cross several 1024-record chunks
        fc.array(fc.integer({ min: -3000, max: 3000 }), { maxLength: 12 }),
        (runs) => {
          const ring = new SlotRing()
          const model: Array<number> = []
          let next = 0
          for (const n of runs) {
            for (let i = 0; i < n; i++, next++) {
              ring.push(next, next + 1, next + 2, next + 3, next + 4)
              model.push(next)
            }
            for (let i = 0; i < -n && model.length > 0; i++) {
              expect(ring.head(4)).toBe(model.shift()! + 4)
              ring.shift()
            }
            expect(ring.length).toBe(model.length)
            // every record in place, every slot of it
            for (let i = 0; i < model.length; i += 97) expect(ring.at(i, 3)).toBe(model[i] + 3)
            if (model.length > 0) expect(ring.at(model.length - 1, 0)).toBe(model[model.length - 1])
          }
        }
      ),
      { numRuns: 60 }
    )
  })

  it("firePlain queues a record; it starts as an entry with its number, name, key and admission time", () => {
    const { admission, job, end, advance } = make({ concurrency: 1, pools: { p: { perKey: 5 } } })
    const first = job("running")
    admission.admit(first, "wait")
    advance(7)
    expect(admission.firePlain(Effect.void, { name: "plain", pool: "p", key: "k" }, ctx)).toBe(true)
    expect(admission.queued).toBe(1)
    const [listed] = admission.queuedEntries()
    expect([listed.name, listed.key, listed.pool.name, listed.admittedAt, listed.state]).toEqual([
      "plain",
      "k",
      "p",
      7,
      "queued"
    ])
    admission.started()
    end(first)
    const started = [...admission.running][0]
    expect([started.name, started.id, started.key, started.admittedAt, started.state]).toEqual([
      "plain",
      listed.id,
      "k",
      7,
      "running"
    ])
    expect(admission.queued).toBe(0)
  })

  it("firePlain starts a job that can start, and leaves the general path to a full queue or a closed supervisor", () => {
    const { admission } = make({ concurrency: 1, maxQueued: 1 })
    expect(admission.firePlain(Effect.void, { name: "a" }, ctx)).toBe(true)
    expect(admission.started()).toEqual(["a"])
    expect(admission.firePlain(Effect.void, { name: "b" }, ctx)).toBe(true) // queued
    const numbered = admission.nextId
    expect(admission.firePlain(Effect.void, { name: "c" }, ctx)).toBe(false) // no room: nothing changed
    expect([admission.queued, admission.nextId]).toEqual([1, numbered])
    admission.closed = true
    expect(admission.firePlain(Effect.void, { name: "d" }, ctx)).toBe(false)
    expect(() => admission.firePlain(42 as never, undefined, ctx)).toThrow(JobArgumentError)
  })

  it("records and entries of priority 0 keep one arrival order; other priorities go around them", () => {
    const { admission, job, end } = make({ concurrency: 1 })
    const first = job("running")
    admission.admit(first, "wait")
    const fireEntry = (name: string, priority?: number) =>
      admission.admit(admission.entry(Effect.void, { name, priority }, ctx), "wait")
    admission.firePlain(Effect.void, { name: "plain-1" }, ctx)
    fireEntry("entry-1")
    fireEntry("low", -1)
    admission.firePlain(Effect.void, { name: "plain-2" }, ctx)
    fireEntry("high", 1)
    fireEntry("entry-2")
    const expected = ["high", "plain-1", "entry-1", "plain-2", "entry-2", "low"]
    expect(admission.queuedEntries().map((e) => e.name)).toEqual(
      // queuedEntries lists by admission number
      ["plain-1", "entry-1", "low", "plain-2", "high", "entry-2"]
    )
    expect([...admission.defaultPool.keyless.waiting()].map((e) => e.name)).toEqual(expected)
    admission.started()
    const order: Array<string> = []
    let current = first
    for (let i = 0; i < expected.length; i++) {
      end(current)
      order.push(...admission.started())
      current = [...admission.running][0]
    }
    expect(order).toEqual(expected)
  })

  it("a cancelled entry among records is skipped, and many cancellations compact the lane", () => {
    const { admission, job, end } = make({ concurrency: 1, maxQueued: 10_000 })
    const first = job("running")
    admission.admit(first, "wait")
    const lane = admission.defaultPool.keyless
    const cancelled: Array<Entry> = []
    for (let i = 0; i < 200; i++) {
      admission.firePlain(Effect.void, { name: `plain-${i}` }, ctx)
      for (const suffix of ["a", "b"]) {
        const e = admission.entry(Effect.void, { name: `gone-${i}${suffix}` }, ctx)
        admission.admit(e, "wait")
        cancelled.push(e)
      }
    }
    const fifoLength = () => (lane as unknown as { fifo: SlotRing }).fifo.length
    expect(fifoLength()).toBe(600)
    for (const e of cancelled) {
      // what the runner's cancelQueued does
      admission.queued--
      lane.drop(e)
      e.state = "done"
    }
    expect([lane.size, admission.queued]).toEqual([200, 200])
    // compacted once more than half of it was cancelled entries (what is left: < 2 × the live records)
    expect(fifoLength()).toBeLessThan(400)
    expect([...lane.waiting()].map((e) => e.name)).toEqual(Array.from({ length: 200 }, (_, i) => `plain-${i}`))
    admission.started()
    end(first)
    expect(admission.started()).toEqual(["plain-0"])
  })

  it("takeQueued takes every waiting job out, oldest first, still counted until cancelled", () => {
    const { admission, job } = make({ concurrency: 1, pools: { p: {} } })
    admission.admit(job("running"), "wait")
    admission.firePlain(Effect.void, { name: "a", pool: "p", key: "x" }, ctx)
    admission.admit(admission.entry(Effect.void, { name: "b" }, ctx), "wait")
    admission.firePlain(Effect.void, { name: "c" }, ctx)
    const taken = admission.takeQueued()
    expect(taken.map((e) => [e.name, e.state])).toEqual([
      ["a", "queued"],
      ["b", "queued"],
      ["c", "queued"]
    ])
    expect(admission.queued).toBe(3)
    expect(admission.queuedEntries()).toEqual([])
  })
})

describe("oldestQueued: the oldest queued jobs without reading a long queue", () => {
  const ctx = Context.empty() as Context.Context<never>

  it("equals the first `limit` of queuedEntries, for any mix of pools, keys, priorities, records and cancelled jobs", () => {
    const job = fc.record({
      pool: fc.constantFrom(undefined, "p", "q"),
      key: fc.constantFrom(undefined, "a", "b", "c"),
      priority: fc.constantFrom(0, 0, 0, 1, -1, 2),
      plain: fc.boolean(),
      cancel: fc.boolean()
    })
    fc.assert(
      fc.property(
        fc.array(job, { minLength: 10, maxLength: 80, size: "max" }),
        fc.oneof(fc.nat({ max: 8 }), fc.nat({ max: 90 })),
        (jobs, limit) => {
          // concurrency 1, and one job holds it: every later job waits
          const { admission } = make({ concurrency: 1, maxQueued: 1000, pools: { p: { perKey: 2 }, q: {} } })
          admission.admit(admission.entry(Effect.void, { name: "running" }, ctx), "wait")
          const cancelled: Array<Entry> = []
          jobs.forEach((j, i) => {
            const spec = { name: `j${i}`, pool: j.pool, key: j.key }
            if (j.plain && j.priority === 0 && admission.firePlain(Effect.void, spec, ctx)) return
            const entry = admission.entry(Effect.void, { ...spec, priority: j.priority }, ctx)
            admission.admit(entry, "wait")
            if (j.cancel) cancelled.push(entry)
          })
          // cancelled entries leave their lanes lazily (dropped, not removed) — never listed
          for (const entry of cancelled) {
            admission.queued--
            entry.lane.drop(entry)
            entry.state = "done"
          }
          const names = (entries: ReadonlyArray<Entry>) => entries.map((e) => e.name)
          const all = admission.queuedEntries()
          expect(all).toHaveLength(admission.queued)
          expect(names(admission.oldestQueued(limit))).toEqual(names(all.slice(0, limit)))
        }
      ),
      { numRuns: 500 }
    )
  })

  it("reads a lane only while its jobs can be among the oldest: 100,000 queued records, 10 listed, at most 21 read", () => {
    const { admission } = make({ concurrency: 1, maxQueued: 200_000 })
    admission.admit(admission.entry(Effect.void, { name: "running" }, ctx), "wait")
    for (let i = 0; i < 100_000; i++) admission.firePlain(Effect.void, { name: `r${i}` }, ctx)
    const made: Array<string> = []
    const lane = (admission as unknown as { pools: Map<string, Pool> }).pools.get("default")!.keyless
    const fifo = lane.waitingFifo.bind(lane)
    lane.waitingFifo = function* () {
      for (const e of fifo()) {
        made.push(e.name)
        yield e
      }
    }
    expect(admission.oldestQueued(10).map((e) => e.name)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`))
    // the oldest found are trimmed to the limit each time twice as many were found: 2 × 10, and the
    // one that showed the lane was done
    expect(made.length).toBeLessThanOrEqual(21)
  })
})
