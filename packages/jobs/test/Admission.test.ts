/**
 * The admission part alone: synchronous, no fibers. A concrete `Admission` whose runner hooks only
 * record what they were asked, a hand-driven clock, and entries admitted and released by hand.
 */
import { Context, Effect } from "effect"
import type * as Clock from "effect/Clock"
import { describe, expect, it } from "vitest"
import { Admission } from "../src/internal/admission.js"
import type { Entry, Pool, ResolvedConfig } from "../src/internal/model.js"

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
