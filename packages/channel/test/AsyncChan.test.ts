/**
 * The async/await API (`@tributary/channel/async`, formerly `@tributary/channel/promise`): put/take/offer/poll/close on every buffer kind,
 * `AbortSignal`s, `for await`, `select`, `timeout`, interleaving with Effect fibers, `maxPending`,
 * and the facade's types (usable without importing `effect`).
 */
import { getEventListeners } from "node:events"
import { Buffer, Chan, ChanArgumentError, ChanPendingLimitError, Xform } from "@tributary/channel"
import {
  type AsyncChan,
  chan,
  close,
  iterate,
  offer,
  onPut,
  onTake,
  onTimeout,
  poll,
  put,
  type Result,
  select,
  take,
  timeout
} from "@tributary/channel/async"
import * as Deprecated from "@tributary/channel/promise"
import { Cause, Effect, Exit, Fiber, Logger, Option } from "effect"
import { afterEach, describe, expect, expectTypeOf, it, vi } from "vitest"
import { pending, thrown, until } from "./harness.js"

// ── helpers ─────────────────────────────────────────────────────────────────

interface FacadeKind {
  readonly name: string
  readonly policy: "rendezvous" | "fixed" | "dropping" | "sliding"
  /** How many puts complete without a taker. */
  readonly capacity: number
  readonly make: <A>(options?: { onUndelivered?: (value: A) => void }) => AsyncChan<A>
}

const facadeKinds: ReadonlyArray<FacadeKind> = [
  { name: "chan()", policy: "rendezvous", capacity: 0, make: <A>() => chan<A>() },
  { name: "chan(0)", policy: "rendezvous", capacity: 0, make: (o) => chan(0, o) },
  { name: "chan(3)", policy: "fixed", capacity: 3, make: (o) => chan(3, o) },
  { name: "chan(Buffer.dropping(2))", policy: "dropping", capacity: 2, make: (o) => chan(Buffer.dropping(2), o) },
  { name: "chan(Buffer.sliding(2))", policy: "sliding", capacity: 2, make: (o) => chan(Buffer.sliding(2), o) }
]
const rendezvousKinds = facadeKinds.filter((k) => k.policy === "rendezvous")

const none = { puts: 0, takes: 0 }
const done = { done: true, value: undefined }
const val = <A>(value: A) => ({ done: false, value })

/** The observable state of a promise, updated as it settles. */
interface Tracked<A> {
  status: "pending" | "fulfilled" | "rejected"
  value: A | undefined
  reason: unknown
}
const track = <A>(promise: Promise<A>): Tracked<A> => {
  const t: Tracked<A> = { status: "pending", value: undefined, reason: undefined }
  promise.then(
    (value) => {
      t.status = "fulfilled"
      t.value = value
    },
    (reason) => {
      t.status = "rejected"
      t.reason = reason
    }
  )
  return t
}

/** Lets every promise reaction that can run do so (microtasks only: safe under fake timers). */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}

/** The reason `promise` rejects with (fails the test if it fulfils). */
const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
  const settled = await promise.then(
    (value) => ({ rejected: false as const, value }),
    (reason: unknown) => ({ rejected: true as const, reason })
  )
  if (settled.rejected) return settled.reason
  return expect.unreachable(`expected a rejection, got ${JSON.stringify(settled.value)}`)
}

/** Records `entry` in `log` and returns `result` (for select handlers). */
const note = <E, R>(log: Array<E>, entry: E, result: R): R => {
  log.push(entry)
  return result
}

/** Takes everything available now. */
const drainNow = <A>(ch: AsyncChan<A>): Array<A> => {
  const out: Array<A> = []
  for (let r = ch.poll(); r !== undefined && !r.done; r = ch.poll()) out.push(r.value)
  return out
}

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

// ── put / take / offer / poll / close on every kind ─────────────────────────

describe.each(facadeKinds)("$name", (kind) => {
  it("a put then a take: take resolves { done: false, value }, put resolves true", async () => {
    const ch = kind.make<number>()
    const p = track(ch.put(1))
    await flush()
    expect(p.status).toBe(kind.capacity > 0 ? "fulfilled" : "pending")
    const r = await ch.take()
    expect(r).toStrictEqual(val(1))
    await flush()
    expect(p.status).toBe("fulfilled")
    expect(p.value).toBe(true)
    expect(pending(ch)).toEqual(none)
  })

  it("a waiting take is resolved by a later put", async () => {
    const ch = kind.make<string>()
    const t = track(ch.take())
    await flush()
    expect(t.status).toBe("pending")
    expect(pending(ch)).toEqual({ puts: 0, takes: 1 })
    expect(await ch.put("a")).toBe(true)
    await flush()
    expect(t.value).toStrictEqual(val("a"))
    expect(pending(ch)).toEqual(none)
    expect(ch.poll()).toBeUndefined()
  })

  it("values come out in order", async () => {
    const ch = kind.make<number>()
    const puts = [ch.put(1), ch.put(2)]
    expect([await ch.take(), await ch.take()]).toStrictEqual([val(1), val(2)])
    expect(await Promise.all(puts)).toEqual([true, true])
  })

  it("undefined is a value, told apart from closed", async () => {
    const ch = kind.make<undefined>()
    const p = ch.put(undefined)
    const r = await ch.take()
    expect(r.done).toBe(false)
    expect(r).toStrictEqual({ done: false, value: undefined })
    expect(await p).toBe(true)
    const q = ch.put(undefined)
    const polled = ch.poll()
    expect(polled).toStrictEqual({ done: false, value: undefined })
    expect(await q).toBe(true)
    ch.close()
    const end = await ch.take()
    expect(end.done).toBe(true)
    expect(end).toStrictEqual(done)
    expect(ch.poll()).toStrictEqual(done)
  })

  it("poll: undefined when nothing is available, a value when one is, { done: true } once closed and drained", async () => {
    const ch = kind.make<number>()
    expect(ch.poll()).toBeUndefined()
    const p = track(ch.put(7))
    expect(ch.poll()).toStrictEqual(val(7))
    await flush()
    expect(p.value).toBe(true)
    expect(ch.poll()).toBeUndefined()
    ch.close()
    expect(ch.poll()).toStrictEqual(done)
    expect(ch.poll()).toStrictEqual(done)
  })

  it("offer never waits: true when accepted at once, false when it would wait or the channel is closed", async () => {
    const ch = kind.make<number>()
    if (kind.capacity === 0) {
      expect(ch.offer(1)).toBe(false)
      expect(ch.poll()).toBeUndefined()
      expect(pending(ch)).toEqual(none)
      const t = ch.take()
      expect(ch.offer(2)).toBe(true)
      expect(await t).toStrictEqual(val(2))
    } else {
      for (let i = 1; i <= kind.capacity; i++) expect(ch.offer(i)).toBe(true)
      // fixed: full, so the offer would have to wait; dropping/sliding: accepted (and a value dropped)
      expect(ch.offer(99)).toBe(kind.policy !== "fixed")
      expect(pending(ch)).toEqual(none)
      const expected = kind.policy === "fixed" ? [1, 2, 3] : kind.policy === "dropping" ? [1, 2] : [2, 99] // sliding drops the oldest
      expect(drainNow(ch)).toEqual(expected)
    }
    ch.close()
    expect(ch.offer(3)).toBe(false)
    expect(ch.poll()).toStrictEqual(done)
  })

  it("put resolves false after close, and close is idempotent", async () => {
    const ch = kind.make<number>()
    ch.close()
    ch.close()
    expect(await ch.put(1)).toBe(false)
    expect(ch.offer(1)).toBe(false)
    expect(await ch.take()).toStrictEqual(done)
    expect(pending(ch)).toEqual(none)
  })

  it("close resolves every waiting take with { done: true }", async () => {
    const ch = kind.make<number>()
    const t1 = ch.take()
    const t2 = ch.take()
    expect(pending(ch).takes).toBe(2)
    ch.close()
    expect(await t1).toStrictEqual(done)
    expect(await t2).toStrictEqual(done)
    expect(pending(ch)).toEqual(none)
  })

  it("close keeps buffered values and pending puts takeable; those puts resolve true", async () => {
    const ch = kind.make<number>()
    const n = kind.capacity + 2
    const puts = Array.from({ length: n }, (_, i) => track(ch.put(i + 1)))
    await flush()
    ch.close()
    expect(await ch.put(100)).toBe(false)
    const taken: Array<number> = []
    for (let r = await ch.take(); !r.done; r = await ch.take()) taken.push(r.value)
    const expected =
      kind.policy === "dropping"
        ? [1, 2]
        : kind.policy === "sliding"
          ? [n - 1, n]
          : Array.from({ length: n }, (_, i) => i + 1)
    expect(taken).toEqual(expected)
    await flush()
    // every put completed with true: the buffered ones, the pending ones once taken, the dropped ones at once
    expect(puts.map((p) => p.value)).toEqual(Array(n).fill(true))
    expect(ch.poll()).toStrictEqual(done)
    expect(pending(ch)).toEqual(none)
  })

  it("for await yields every value and ends when closed and drained", async () => {
    const ch = kind.make<number>()
    const producer = (async () => {
      for (let i = 1; i <= 5; i++) await ch.put(i)
      ch.close()
    })()
    const seen: Array<number> = []
    for await (const v of ch) {
      seen.push(v)
      await flush() // a slow consumer, so lossy buffers would show
    }
    await producer
    if (kind.policy === "rendezvous" || kind.policy === "fixed") expect(seen).toEqual([1, 2, 3, 4, 5])
    else {
      // a lossy buffer yields an increasing subsequence: dropping keeps the first value, sliding the last
      expect(seen).toEqual([...new Set(seen)].sort((a, b) => a - b))
      expect(seen).toContain(kind.policy === "dropping" ? 1 : 5)
      expect(seen.every((v) => v >= 1 && v <= 5)).toBe(true)
    }
    expect(pending(ch)).toEqual(none)
  })
})

describe("buffer policies through the facade", () => {
  it("fixed: a put waits while the buffer is full and completes when a take makes room", async () => {
    const ch = chan<number>(3)
    for (let i = 1; i <= 3; i++) expect(await ch.put(i)).toBe(true)
    const fourth = track(ch.put(4))
    await flush()
    expect(fourth.status).toBe("pending")
    expect(pending(ch)).toEqual({ puts: 1, takes: 0 })
    expect(await ch.take()).toStrictEqual(val(1))
    await flush()
    expect(fourth.value).toBe(true)
    expect(drainNow(ch)).toEqual([2, 3, 4])
  })

  it("dropping: puts never wait; when full the new value is dropped (to onUndelivered)", async () => {
    const dropped: Array<number> = []
    const ch = chan<number>(Buffer.dropping(2), { onUndelivered: (v) => dropped.push(v) })
    for (let i = 1; i <= 5; i++) expect(await ch.put(i)).toBe(true)
    expect(pending(ch)).toEqual(none)
    expect(drainNow(ch)).toEqual([1, 2])
    expect(dropped).toEqual([3, 4, 5])
  })

  it("sliding: puts never wait; when full the oldest value is dropped (to onUndelivered)", async () => {
    const dropped: Array<number> = []
    const ch = chan<number>(Buffer.sliding(2), { onUndelivered: (v) => dropped.push(v) })
    for (let i = 1; i <= 5; i++) expect(await ch.put(i)).toBe(true)
    expect(pending(ch)).toEqual(none)
    expect(drainNow(ch)).toEqual([4, 5])
    expect(dropped).toEqual([1, 2, 3])
  })

  it("rendezvous: a put waits for a taker; poll takes from a pending put", async () => {
    const ch = chan<number>()
    const p = track(ch.put(1))
    await flush()
    expect(p.status).toBe("pending")
    expect(pending(ch)).toEqual({ puts: 1, takes: 0 })
    expect(ch.poll()).toStrictEqual(val(1))
    await flush()
    expect(p.value).toBe(true)
    expect(pending(ch)).toEqual(none)
  })

  it("bad arguments throw ChanArgumentError", () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const e = thrown(() => chan(bad))
      expect(e).toBeInstanceOf(ChanArgumentError)
      expect((e as ChanArgumentError).message).toContain(String(bad))
    }
    expect(thrown(() => chan(1, { maxPending: 0 }))).toBeInstanceOf(ChanArgumentError)
  })

  it("the facade's free functions work on a promise channel made by Chan.promiseChanUnsafe", async () => {
    const ch = Chan.promiseChanUnsafe<number>()
    const t = take(ch)
    expect(await put(ch, 1)).toBe(true)
    expect(await put(ch, 2)).toBe(true)
    expect(await t).toStrictEqual(val(1))
    expect(await take(ch)).toStrictEqual(val(1))
    expect(poll(ch)).toStrictEqual(val(1))
  })
})

// ── AbortSignal ─────────────────────────────────────────────────────────────

describe("bad arguments from JavaScript", () => {
  const isArgumentError = (e: unknown, argument: string, value: string) => {
    expect(e).toBeInstanceOf(ChanArgumentError)
    expect((e as ChanArgumentError).argument).toBe(argument)
    expect((e as ChanArgumentError).message).toContain(value)
  }

  it("timeout and onTimeout take milliseconds only: a bigint (nanoseconds), a duration string or object is refused, naming ms", async () => {
    for (const [bad, shown] of [
      [1000n, "1000n"],
      ["5 seconds", '"5 seconds"'],
      [{ seconds: 1 }, '{"seconds":1}']
    ] as const) {
      isArgumentError(
        thrown(() => timeout(bad as never)),
        "timeout ms",
        shown
      )
      isArgumentError(await rejection(select([onTimeout(bad as never, () => "late")])), "onTimeout ms", shown)
    }
  })

  it("put and take reject, offer, poll, close and iterate throw, with ChanArgumentError naming the channel", async () => {
    for (const [bad, shown] of [
      [undefined, "undefined"],
      [{}, "{}"],
      ["jobs", '"jobs"']
    ] as const) {
      isArgumentError(await rejection(put(bad as never, 1)), "channel", shown)
      isArgumentError(await rejection(take(bad as never)), "channel", shown)
      isArgumentError(
        thrown(() => offer(bad as never, 1)),
        "channel",
        shown
      )
      isArgumentError(
        thrown(() => poll(bad as never)),
        "channel",
        shown
      )
      isArgumentError(
        thrown(() => close(bad as never)),
        "channel",
        shown
      )
      isArgumentError(
        thrown(() => iterate(bad as never)),
        "channel",
        shown
      )
      isArgumentError(await rejection(select([onTake(bad as never, () => 1)])), "channel", shown)
    }
    isArgumentError(await rejection(select([onTake(chan(), 3 as never)])), "onTake handler", "3")
    isArgumentError(await rejection(select(null as never)), "select cases", "null")
    isArgumentError(await rejection(select([], { orElse: "x" as never })), "select orElse", '"x"')
  })

  it("a signal that is not an AbortSignal rejects with ChanArgumentError before anything is queued", async () => {
    const ch = chan<number>()
    for (const signal of [{}, 5, "abort"]) {
      isArgumentError(await rejection(put(ch, 1, { signal: signal as never })), "signal", JSON.stringify(signal))
      isArgumentError(await rejection(ch.take({ signal: signal as never })), "signal", JSON.stringify(signal))
      isArgumentError(
        await rejection(select([onTake(ch, () => 1)], { signal: signal as never })),
        "signal",
        JSON.stringify(signal)
      )
      expect(pending(ch)).toEqual({ puts: 0, takes: 0 })
    }
    // nothing was put: a take finds the channel empty
    expect(poll(ch)).toBeUndefined()
  })
})

describe("AbortSignal", () => {
  it("one signal shared by many waiting operations has one listener: no leak warning, every one rejected with the reason", async () => {
    const warnings: Array<string> = []
    const onWarning = (w: Error) => warnings.push(w.name)
    process.on("warning", onWarning)
    try {
      const controller = new AbortController()
      const chans = Array.from({ length: 300 }, () => chan<number>())
      const waits = chans.map((c, i) =>
        (i % 3 === 0
          ? c.put(1, { signal: controller.signal })
          : i % 3 === 1
            ? c.take({ signal: controller.signal })
            : select([onTake(c, (r) => r)], { signal: controller.signal })
        ).then(
          () => "settled",
          (e: unknown) => e
        )
      )
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(1)
      expect(chans[1]!.offer(5)).toBe(true) // one take is served: the others still listen through the one
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(1)
      const reason = new Error("stop")
      controller.abort(reason)
      const results = await Promise.all(waits)
      expect(results.filter((r) => r === reason)).toHaveLength(299)
      expect(results[1]).toBe("settled")
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(0)
      for (const c of chans) expect(pending(c)).toEqual(none)
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings).toEqual([])
    } finally {
      process.off("warning", onWarning)
    }
  })

  it("a signal whose addEventListener throws (a broken polyfill): the operation rejects and nothing is left queued", async () => {
    const broken = {
      aborted: false,
      addEventListener: () => {
        throw new Error("not supported")
      },
      removeEventListener: () => {}
    } as unknown as AbortSignal
    const ch = chan<number>()
    await expect(ch.take({ signal: broken })).rejects.toThrow("not supported")
    await expect(ch.put(1, { signal: broken })).rejects.toThrow("not supported")
    await expect(select([onTake(ch, (r) => r)], { signal: broken })).rejects.toThrow("not supported")
    expect(pending(ch)).toEqual(none)
    expect(ch.offer(2)).toBe(false) // no taker was left behind to take it
  })

  describe.each(facadeKinds)("take on $name", (kind) => {
    it("aborting a waiting take withdraws it, rejects with the reason, and consumes nothing", async () => {
      const ch = kind.make<number>()
      const controller = new AbortController()
      const reason = new Error("stop taking")
      const t = track(ch.take({ signal: controller.signal }))
      expect(pending(ch)).toEqual({ puts: 0, takes: 1 })
      controller.abort(reason)
      await flush()
      expect(t.status).toBe("rejected")
      expect(t.reason).toBe(reason)
      expect(pending(ch)).toEqual(none)
      // the value put afterwards goes to someone else
      const p = track(ch.put(5))
      await flush()
      expect(p.status).toBe(kind.capacity > 0 ? "fulfilled" : "pending")
      expect(await ch.take()).toStrictEqual(val(5))
      await flush()
      expect(p.value).toBe(true)
      expect(ch.poll()).toBeUndefined()
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(0)
    })

    it("an already-aborted signal rejects at once, registers nothing and consumes nothing", async () => {
      const ch = kind.make<number>()
      const reason = new Error("too late")
      expect(await rejection(ch.take({ signal: AbortSignal.abort(reason) }))).toBe(reason)
      expect(pending(ch)).toEqual(none)
      // with a value available, it is not consumed either
      const p = track(ch.put(1))
      await flush()
      expect(await rejection(ch.take({ signal: AbortSignal.abort(reason) }))).toBe(reason)
      expect(ch.poll()).toStrictEqual(val(1))
      await flush()
      expect(p.value).toBe(true)
    })

    it("aborting after the take completed changes nothing", async () => {
      const ch = kind.make<number>()
      const controller = new AbortController()
      const t = ch.take({ signal: controller.signal })
      const p = ch.put(3)
      expect(await t).toStrictEqual(val(3))
      expect(await p).toBe(true)
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(0)
      controller.abort(new Error("late"))
      await flush()
      expect(await t).toStrictEqual(val(3))
      expect(pending(ch)).toEqual(none)
      expect(ch.poll()).toBeUndefined()
    })
  })

  describe.each(rendezvousKinds)("put on $name", (kind) => {
    it("aborting a waiting put withdraws it, rejects with the reason, and delivers nothing", async () => {
      const ch = kind.make<number>()
      const controller = new AbortController()
      const reason = new Error("stop putting")
      const p = track(ch.put(1, { signal: controller.signal }))
      expect(pending(ch)).toEqual({ puts: 1, takes: 0 })
      controller.abort(reason)
      await flush()
      expect(p.status).toBe("rejected")
      expect(p.reason).toBe(reason)
      expect(pending(ch)).toEqual(none)
      expect(ch.poll()).toBeUndefined()
      // a later take pairs with someone else's put, never with the aborted value
      const t = track(ch.take())
      await flush()
      expect(t.status).toBe("pending")
      expect(await ch.put(2)).toBe(true)
      await flush()
      expect(t.value).toStrictEqual(val(2))
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(0)
    })

    it("an already-aborted signal rejects at once and delivers nothing, even to a waiting taker", async () => {
      const ch = kind.make<number>()
      const reason = new Error("too late")
      expect(await rejection(ch.put(1, { signal: AbortSignal.abort(reason) }))).toBe(reason)
      expect(pending(ch)).toEqual(none)
      const t = track(ch.take())
      expect(await rejection(ch.put(2, { signal: AbortSignal.abort(reason) }))).toBe(reason)
      await flush()
      expect(t.status).toBe("pending")
      expect(pending(ch)).toEqual({ puts: 0, takes: 1 })
      expect(ch.offer(3)).toBe(true)
      await flush()
      expect(t.value).toStrictEqual(val(3))
    })

    it("aborting after the put completed changes nothing", async () => {
      const ch = kind.make<number>()
      const controller = new AbortController()
      const p = ch.put(4, { signal: controller.signal })
      expect(await ch.take()).toStrictEqual(val(4))
      expect(await p).toBe(true)
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(0)
      controller.abort()
      await flush()
      expect(await p).toBe(true)
      expect(pending(ch)).toEqual(none)
      expect(ch.poll()).toBeUndefined()
    })
  })

  it("put on a full fixed buffer: aborting withdraws it and the value never enters the buffer", async () => {
    const ch = chan<number>(1)
    expect(await ch.put(1)).toBe(true)
    const controller = new AbortController()
    const p = track(ch.put(2, { signal: controller.signal }))
    expect(pending(ch)).toEqual({ puts: 1, takes: 0 })
    controller.abort()
    await flush()
    expect(p.status).toBe("rejected")
    expect(p.reason).toBe(controller.signal.reason)
    expect((p.reason as Error).name).toBe("AbortError")
    expect(pending(ch)).toEqual(none)
    expect(await ch.take()).toStrictEqual(val(1))
    expect(ch.poll()).toBeUndefined()
    expect(ch.offer(3)).toBe(true)
    expect(drainNow(ch)).toEqual([3])
  })

  it("an already-aborted put on a buffer with room does not buffer the value", async () => {
    const ch = chan<number>(3)
    const reason = new Error("too late")
    expect(await rejection(ch.put(1, { signal: AbortSignal.abort(reason) }))).toBe(reason)
    expect(ch.poll()).toBeUndefined()
    expect(pending(ch)).toEqual(none)
  })

  it("aborting one of several waiting takes keeps the others in order", async () => {
    const ch = chan<number>()
    const controller = new AbortController()
    const t1 = track(ch.take())
    const t2 = track(ch.take({ signal: controller.signal }))
    const t3 = track(ch.take())
    controller.abort()
    await flush()
    expect(t2.status).toBe("rejected")
    expect(pending(ch)).toEqual({ puts: 0, takes: 2 })
    expect(ch.offer(1)).toBe(true)
    expect(ch.offer(2)).toBe(true)
    expect(ch.offer(3)).toBe(false)
    await flush()
    expect(t1.value).toStrictEqual(val(1))
    expect(t3.value).toStrictEqual(val(2))
  })

  it("a waiting select is withdrawn from every channel and its timer is cancelled", async () => {
    vi.useFakeTimers()
    const a = chan<number>()
    const b = chan<number>()
    const handlers: Array<string> = []
    const controller = new AbortController()
    const reason = new Error("stop selecting")
    const s = track(
      select(
        [
          onTake(a, () => handlers.push("take")),
          onPut(b, 1, () => handlers.push("put")),
          onTimeout(1000, () => handlers.push("timeout"))
        ],
        { signal: controller.signal }
      )
    )
    expect(pending(a)).toEqual({ puts: 0, takes: 1 })
    expect(pending(b)).toEqual({ puts: 1, takes: 0 })
    expect(vi.getTimerCount()).toBe(1)
    controller.abort(reason)
    await flush()
    expect(s.status).toBe("rejected")
    expect(s.reason).toBe(reason)
    expect(pending(a)).toEqual(none)
    expect(pending(b)).toEqual(none)
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(5000)
    expect(a.offer(9)).toBe(false) // nobody takes any more
    expect(b.poll()).toBeUndefined() // the select's value was never delivered
    expect(handlers).toEqual([])
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0)
  })

  it("select with an already-aborted signal rejects at once, even with a ready case, and touches nothing", async () => {
    const a = chan<number>(1)
    a.offer(1)
    const b = chan<number>(1)
    const handlers: Array<string> = []
    const reason = new Error("too late")
    const r = await rejection(
      select([onTake(a, () => handlers.push("take")), onPut(b, 2, () => handlers.push("put"))], {
        signal: AbortSignal.abort(reason)
      })
    )
    expect(r).toBe(reason)
    expect(handlers).toEqual([])
    expect(a.poll()).toStrictEqual(val(1))
    expect(b.poll()).toBeUndefined()
    expect(pending(a)).toEqual(none)
    expect(pending(b)).toEqual(none)
  })

  it("aborting after the select completed changes nothing", async () => {
    const a = chan<number>()
    const b = chan<number>()
    const controller = new AbortController()
    const s = select([onTake(a, (r) => r), onTake(b, (r) => r)], { signal: controller.signal })
    expect(await a.put(1)).toBe(true)
    expect(await s).toStrictEqual(val(1))
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0)
    controller.abort()
    await flush()
    expect(await s).toStrictEqual(val(1))
    expect(pending(a)).toEqual(none)
    expect(pending(b)).toEqual(none)
  })

  it("one long-lived signal across many completed operations accumulates no listeners", async () => {
    const ch = chan<number>()
    const controller = new AbortController()
    for (let i = 0; i < 50; i++) {
      const t = ch.take({ signal: controller.signal })
      await ch.put(i, { signal: controller.signal })
      expect(await t).toStrictEqual(val(i))
    }
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0)
  })
})

// ── for await / iterate ─────────────────────────────────────────────────────

describe("for await and iterate", () => {
  it("break stops taking: a buffered value after the break is still there", async () => {
    const ch = chan<number>(3)
    ch.offer(1)
    ch.offer(2)
    const seen: Array<number> = []
    for await (const v of ch) {
      seen.push(v)
      break
    }
    expect(seen).toEqual([1])
    expect(pending(ch)).toEqual(none)
    expect(ch.offer(3)).toBe(true)
    expect(drainNow(ch)).toEqual([2, 3])
  })

  it("break on a rendezvous channel: a value put after the break goes to the next taker", async () => {
    const ch = chan<number>()
    const producer = (async () => {
      const results: Array<boolean> = []
      results.push(await ch.put(1))
      results.push(await ch.put(2))
      return results
    })()
    for await (const v of ch) {
      expect(v).toBe(1)
      break
    }
    await flush()
    expect(pending(ch)).toEqual({ puts: 1, takes: 0 }) // 2 waits for someone: the loop did not take ahead
    expect(await ch.take()).toStrictEqual(val(2))
    expect(await producer).toEqual([true, true])
  })

  it("iterate works on a channel made by Chan.makeUnsafe", async () => {
    const ch = Chan.makeUnsafe<string>(2)
    const producer = (async () => {
      for (const s of ["a", "b", "c", "d"]) expect(await put(ch, s)).toBe(true)
      close(ch)
    })()
    const seen: Array<string> = []
    for await (const s of iterate(ch)) seen.push(s)
    await producer
    expect(seen).toEqual(["a", "b", "c", "d"])
  })

  it("an iterator already begun is async-iterable itself (as a generator's): for await goes on where next() left off", async () => {
    const ch = chan<number>(4)
    for (const v of [1, 2, 3]) await ch.put(v)
    ch.close()
    const it = ch[Symbol.asyncIterator]()
    expect(await it.next()).toEqual({ done: false, value: 1 })
    const rest: Array<number> = []
    for await (const v of it) rest.push(v)
    expect(rest).toEqual([2, 3])
  })

  it("iterate with break does not take ahead (Chan.makeUnsafe, unbuffered)", async () => {
    const ch = Chan.makeUnsafe<number>()
    const p1 = put(ch, 1)
    for await (const v of iterate(ch)) {
      expect(v).toBe(1)
      break
    }
    expect(await p1).toBe(true)
    expect(pending(ch)).toEqual(none)
    const t = track(take(ch))
    expect(offer(ch, 2)).toBe(true)
    await flush()
    expect(t.value).toStrictEqual(val(2))
  })

  it.each([
    [
      "chan",
      () => chan<number>(),
      (ch: Chan.Chan<number>) => (ch as ReturnType<typeof chan<number>>)[Symbol.asyncIterator]()
    ],
    ["iterate", () => Chan.makeUnsafe<number>(2), (ch: Chan.Chan<number>) => iterate(ch)[Symbol.asyncIterator]()]
  ] as const)(
    "%s: return() with a next() pending withdraws its take; the next value goes to another taker",
    async (_, make, iteratorOf) => {
      const ch = make()
      const it = iteratorOf(ch)
      const abandoned = it.next() // e.g. lost a race against a timeout
      expect(pending(ch)).toEqual({ puts: 0, takes: 1 })
      expect(await it.return?.()).toEqual({ done: true, value: undefined })
      expect(pending(ch)).toEqual(none)
      expect(await abandoned).toEqual({ done: true, value: undefined })
      expect(await it.next()).toEqual({ done: true, value: undefined }) // returned: the iterator is done
      const t = track(take(ch))
      expect(offer(ch, 5)).toBe(true)
      await flush()
      expect(t.value).toStrictEqual(val(5))
    }
  )

  it("a channel carrying undefined is iterated to its end, undefined values included", async () => {
    const ch = chan<number | undefined>(4)
    ch.offer(undefined)
    ch.offer(1)
    ch.offer(undefined)
    ch.close()
    const seen: Array<number | undefined> = []
    for await (const v of ch) seen.push(v)
    expect(seen).toEqual([undefined, 1, undefined])
  })
})

// ── select ──────────────────────────────────────────────────────────────────

describe("select", () => {
  it("refuses a case of the other API (its handler would get an Option, a returned Effect would never run), and so does Chan.select", async () => {
    const ch = chan<number>(1)
    ch.offer(1)
    const refusedHere = await select([Chan.onTake(ch, (o) => o) as never]).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(refusedHere).toBeInstanceOf(ChanArgumentError)
    expect(refusedHere).toMatchObject({ argument: "select case 0" })
    const refusedThere = await Effect.runPromiseExit(Chan.select([onTake(ch, (r) => r) as never]))
    expect(Exit.isFailure(refusedThere) && Cause.squash(refusedThere.cause)).toMatchObject({
      argument: "select case 0"
    })
    expect(ch.poll()).toEqual({ done: false, value: 1 }) // nothing was taken
  })

  it("a waiting select's handler runs after the call that committed its case, not inside it (an Effect fiber's put included)", async () => {
    const ch = chan<number>()
    const calls: Array<string> = []
    const first = select([
      onTake(ch, (r) => {
        calls.push(`handler in a fiber: ${Fiber.getCurrent() !== undefined}`)
        return r
      })
    ])
    expect(ch.offer(1)).toBe(true) // the select's take waits: the offer hands the value over
    calls.push("offer returned")
    expect(await first).toEqual({ done: false, value: 1 })
    const second = select([
      onTake(ch, (r) => {
        calls.push(`handler in a fiber: ${Fiber.getCurrent() !== undefined}`)
        return r
      })
    ])
    // the fiber goes on right after its put, before the handler's microtask
    const put = Chan.put(ch, 2).pipe(Effect.tap(() => Effect.sync(() => calls.push("put returned"))))
    expect(await Effect.runPromise(put)).toBe(true)
    expect(await second).toEqual({ done: false, value: 2 })
    expect(calls).toEqual(["offer returned", "handler in a fiber: false", "put returned", "handler in a fiber: false"])
  })

  it("onTake's handler receives { done: false, value } and { done: true, value: undefined } once closed", async () => {
    const ch = chan<number>(1)
    ch.offer(4)
    const got: Array<Result<number>> = []
    expect(await select([onTake(ch, (r) => note(got, r, "took"))])).toBe("took")
    ch.close()
    expect(await select([onTake(ch, (r) => note(got, r, "closed"))])).toBe("closed")
    expect(got).toStrictEqual([val(4), done])
  })

  it("a waiting onTake is completed by a later put", async () => {
    const ch = chan<string>()
    const s = select([onTake(ch, (r) => (r.done ? "closed" : `got ${r.value}`))])
    expect(pending(ch)).toEqual({ puts: 0, takes: 1 })
    expect(await ch.put("x")).toBe(true)
    expect(await s).toBe("got x")
    expect(pending(ch)).toEqual(none)
  })

  it("a waiting onTake sees a close", async () => {
    const ch = chan<string>()
    const s = select([onTake(ch, (r) => r)])
    ch.close()
    expect(await s).toStrictEqual(done)
  })

  it("onPut's handler receives accepted: true when delivered, false when closed", async () => {
    const ch = chan<number>()
    const s = select([onPut(ch, 5, (ok) => ({ ok }))])
    expect(pending(ch)).toEqual({ puts: 1, takes: 0 })
    expect(await ch.take()).toStrictEqual(val(5))
    expect(await s).toEqual({ ok: true })
    ch.close()
    expect(await select([onPut(ch, 6, (ok) => ({ ok }))])).toEqual({ ok: false })
    expect(ch.poll()).toStrictEqual(done)
  })

  it("onTimeout wins when nothing else is ready in time (fake timers); the losers are withdrawn", async () => {
    vi.useFakeTimers()
    const ch = chan<number>()
    const s = track(select([onTake(ch, () => "value"), onTimeout(100, () => "late")]))
    await vi.advanceTimersByTimeAsync(99)
    expect(s.status).toBe("pending")
    await vi.advanceTimersByTimeAsync(1)
    expect(s.status).toBe("fulfilled")
    expect(s.value).toBe("late")
    expect(pending(ch)).toEqual(none)
    expect(ch.offer(1)).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
  })

  it("a channel case that wins before the timeout cancels the timer", async () => {
    vi.useFakeTimers()
    const ch = chan<number>()
    const s = select([onTake(ch, (r) => r), onTimeout(100, () => "late")])
    expect(vi.getTimerCount()).toBe(1)
    expect(ch.offer(1)).toBe(true)
    expect(await s).toStrictEqual(val(1))
    expect(vi.getTimerCount()).toBe(0)
  })

  it("the earliest of several timeouts wins; onTimeout(0) is ready at once", async () => {
    vi.useFakeTimers()
    const s = track(select([onTimeout(300, () => 300), onTimeout(200, () => 200), onTimeout(250, () => 250)]))
    await vi.advanceTimersByTimeAsync(199)
    expect(s.status).toBe("pending")
    await vi.advanceTimersByTimeAsync(1)
    expect(s.value).toBe(200)
    expect(await select([onTake(chan<number>(), () => "never"), onTimeout(0, () => "now")])).toBe("now")
  })

  it("onTimeout with a negative or NaN ms makes select reject with ChanArgumentError", async () => {
    const ch = chan<number>()
    for (const bad of [-1, Number.NaN]) {
      const e = await rejection(select([onTake(ch, () => 1), onTimeout(bad, () => 2)]))
      expect(e).toBeInstanceOf(ChanArgumentError)
    }
    expect(pending(ch)).toEqual(none)
  })

  it("priority: true always picks the first ready case in list order", async () => {
    for (let i = 0; i < 50; i++) {
      const a = chan<string>(1)
      const b = chan<string>(1)
      a.offer("a")
      b.offer("b")
      const r = await select([onTake(b, (r) => r.value), onTake(a, (r) => r.value)], { priority: true })
      expect(r).toBe("b")
      expect(a.poll()).toStrictEqual(val("a")) // the loser consumed nothing
      expect(b.poll()).toBeUndefined()
    }
  })

  it("without priority the choice among ready cases is random (each wins sometimes), and exactly one commits", async () => {
    const wins = { a: 0, b: 0 }
    for (let i = 0; i < 200; i++) {
      const a = chan<string>(1)
      const b = chan<string>(1)
      a.offer("a")
      b.offer("b")
      const r = await select([onTake(a, () => "a" as const), onTake(b, () => "b" as const)])
      wins[r]++
      // the loser still holds its value
      expect((r === "a" ? b : a).poll()).toStrictEqual(val(r === "a" ? "b" : "a"))
      expect((r === "a" ? a : b).poll()).toBeUndefined()
    }
    expect(wins.a).toBeGreaterThan(0)
    expect(wins.b).toBeGreaterThan(0)
    expect(wins.a + wins.b).toBe(200)
  })

  it("orElse runs only when no case is ready, and registers nothing", async () => {
    const ch = chan<number>()
    const handler = vi.fn(() => "took")
    expect(await select([onTake(ch, handler)], { orElse: () => "nothing" })).toBe("nothing")
    expect(handler).not.toHaveBeenCalled()
    expect(pending(ch)).toEqual(none)
    expect(ch.offer(1)).toBe(false)
    const buffered = chan<number>(1)
    buffered.offer(1)
    const orElse = vi.fn(() => "nothing")
    expect(await select([onTake(buffered, (r) => r)], { orElse })).toStrictEqual(val(1))
    expect(orElse).not.toHaveBeenCalled()
  })

  it("select([]) rejects with ChanArgumentError; select([], { orElse }) runs orElse", async () => {
    expect(await rejection(select([]))).toBeInstanceOf(ChanArgumentError)
    expect(await select([], { orElse: () => 42 })).toBe(42)
  })

  it("a foreign case rejects with ChanArgumentError", async () => {
    expect(await rejection(select([{} as never]))).toBeInstanceOf(ChanArgumentError)
  })

  it("a handler returning a Promise is awaited (ready and waiting paths)", async () => {
    const a = chan<number>(1)
    a.offer(2)
    const r1 = await select([onTake(a, async (r) => (r.done ? 0 : r.value * 10))])
    expect(r1).toBe(20)
    const b = chan<number>()
    const s = select([
      onTake(b, (r) => new Promise<string>((resolve) => setImmediate(() => resolve(`late ${r.value}`))))
    ])
    b.offer(3)
    expect(await s).toBe("late 3")
    const r2 = await select([], { orElse: async () => "async orElse" })
    expect(r2).toBe("async orElse")
  })

  it("a handler that throws (or rejects) makes select reject with its error; the case still committed", async () => {
    const boom = new Error("boom")
    const a = chan<number>(1)
    a.offer(1)
    expect(
      await rejection(
        select([
          onTake(a, () => {
            throw boom
          })
        ])
      )
    ).toBe(boom)
    expect(a.poll()).toBeUndefined()
    const b = chan<number>()
    const s = select([
      onTake(b, () => {
        throw boom
      })
    ])
    expect(b.offer(2)).toBe(true)
    expect(await rejection(s)).toBe(boom)
    expect(pending(b)).toEqual(none)
    expect(await rejection(select([onTimeout(0, () => Promise.reject(boom))]))).toBe(boom)
    expect(
      await rejection(
        select([], {
          orElse: () => {
            throw boom
          }
        })
      )
    ).toBe(boom)
  })

  it("a waiting select on several channels commits exactly one; no handler is left on the losers", async () => {
    const a = chan<number>()
    const b = chan<number>()
    const called: Array<string> = []
    const s = select([
      onTake(a, (r) => note(called, "a", r)),
      onTake(b, (r) => note(called, "b", r)),
      onPut(b, 7, (ok) => note(called, "put b", ok)) // same channel twice; a select never pairs with itself
    ])
    expect(pending(a)).toEqual({ puts: 0, takes: 1 })
    expect(pending(b)).toEqual({ puts: 1, takes: 1 })
    expect(a.offer(1)).toBe(true)
    expect(await s).toStrictEqual(val(1))
    expect(called).toEqual(["a"])
    expect(pending(a)).toEqual(none)
    expect(pending(b)).toEqual(none)
    expect(b.offer(2)).toBe(false) // nobody takes from b
    expect(b.poll()).toBeUndefined() // 7 was never delivered
  })

  it("a waiting select with two puts delivers exactly one value", async () => {
    const a = chan<string>()
    const b = chan<string>()
    const s = select([onPut(a, "to a", () => "a"), onPut(b, "to b", () => "b")])
    expect(await b.take()).toStrictEqual(val("to b"))
    expect(await s).toBe("b")
    expect(pending(a)).toEqual(none)
    expect(a.poll()).toBeUndefined()
  })

  it("two selects rendezvous on an unbuffered channel", async () => {
    const ch = chan<number>()
    const putter = select([onPut(ch, 11, (ok) => `put ${ok}`)])
    const taker = select([onTake(ch, (r) => `took ${r.value}`)])
    expect(await taker).toBe("took 11")
    expect(await putter).toBe("put true")
    expect(pending(ch)).toEqual(none)
  })

  it("onTake on a timeout channel", async () => {
    vi.useFakeTimers()
    const s = track(select([onTake(timeout(50), (r) => r)]))
    await vi.advanceTimersByTimeAsync(49)
    expect(s.status).toBe("pending")
    await vi.advanceTimersByTimeAsync(1)
    expect(s.value).toStrictEqual(done)
  })

  it("a waiting select beyond maxPending rejects with ChanPendingLimitError and leaves nothing registered", async () => {
    const a = chan<number>()
    const limited = chan<number>(0, { maxPending: 1 })
    const first = limited.take()
    const e = await rejection(select([onTake(a, () => "a"), onTake(limited, () => "limited")]))
    expect(e).toBeInstanceOf(ChanPendingLimitError)
    expect(pending(a)).toEqual(none)
    expect(pending(limited)).toEqual({ puts: 0, takes: 1 })
    expect(limited.offer(1)).toBe(true)
    expect(await first).toStrictEqual(val(1))
  })
})

// ── timeout ─────────────────────────────────────────────────────────────────

describe("timeout", () => {
  it("closes after ms (fake timers)", async () => {
    vi.useFakeTimers()
    const t = timeout(100)
    const took = track(t.take())
    await vi.advanceTimersByTimeAsync(99)
    expect(took.status).toBe("pending")
    expect(t.poll()).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(took.value).toStrictEqual(done)
    expect(t.poll()).toStrictEqual(done)
  })

  it("each call makes a fresh channel", async () => {
    vi.useFakeTimers()
    const t1 = timeout(10)
    await vi.advanceTimersByTimeAsync(10)
    const t2 = timeout(10)
    expect(t1.poll()).toStrictEqual(done)
    expect(t2.poll()).toBeUndefined()
    await vi.advanceTimersByTimeAsync(10)
    expect(t2.poll()).toStrictEqual(done)
  })

  it("timeout(0) is closed at once", () => {
    expect(timeout(0).poll()).toStrictEqual(done)
  })

  it("a duration above 2^31-1 ms does not fire early", async () => {
    vi.useFakeTimers()
    const long = 2 ** 31 + 1000
    const t = timeout(long)
    await vi.advanceTimersByTimeAsync(1)
    expect(t.poll()).toBeUndefined()
    await vi.advanceTimersByTimeAsync(2 ** 31 - 2)
    expect(t.poll()).toBeUndefined()
    await vi.advanceTimersByTimeAsync(long - (2 ** 31 - 1) - 1)
    expect(t.poll()).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(t.poll()).toStrictEqual(done)
  })

  it("timeout(-1) and timeout(NaN) throw ChanArgumentError naming the value", () => {
    for (const bad of [-1, Number.NaN]) {
      const e = thrown(() => timeout(bad))
      expect(e).toBeInstanceOf(ChanArgumentError)
      expect((e as ChanArgumentError)._tag).toBe("ChanArgumentError")
      expect((e as ChanArgumentError).message).toContain(String(bad))
    }
  })
})

// ── interleaving with Effect fibers ─────────────────────────────────────────

describe("interleaving with the Effect API", () => {
  it("Chan.isChan(chan()) is true", () => {
    expect(Chan.isChan(chan())).toBe(true)
    expect(Chan.isChan(chan(Buffer.sliding(1)))).toBe(true)
    expect(Chan.isChan({ take: () => undefined })).toBe(false)
  })

  describe.each([
    { name: "rendezvous", make: () => chan<number>() },
    { name: "buffered", make: () => chan<number>(2) }
  ])("$name", ({ make }) => {
    it("an Effect fiber takes what the facade puts", async () => {
      const ch = make()
      const fiber = Effect.runFork(Chan.take(ch))
      await until(() => pending(ch).takes === 1)
      expect(await ch.put(1)).toBe(true)
      expect(await Effect.runPromise(Fiber.join(fiber))).toEqual(Option.some(1))
      expect(pending(ch)).toEqual(none)
    })

    it("the facade takes what an Effect fiber puts", async () => {
      const ch = make()
      const t = ch.take()
      expect(await Effect.runPromise(Chan.put(ch, 2))).toBe(true)
      expect(await t).toStrictEqual(val(2))
    })

    it("an Effect fiber's waiting put is taken by the facade", async () => {
      const ch = make()
      const fiber = Effect.runFork(
        Effect.gen(function* () {
          const results: Array<boolean> = []
          for (let i = 1; i <= 4; i++) results.push(yield* Chan.put(ch, i))
          yield* Chan.close(ch)
          return results
        })
      )
      const seen: Array<number> = []
      for await (const v of ch) seen.push(v)
      expect(seen).toEqual([1, 2, 3, 4])
      expect(await Effect.runPromise(Fiber.join(fiber))).toEqual([true, true, true, true])
    })

    it("a facade producer feeds an Effect consumer until closed", async () => {
      const ch = make()
      const consumer = Effect.runFork(
        Effect.gen(function* () {
          const out: Array<number> = []
          for (let o = yield* Chan.take(ch); Option.isSome(o); o = yield* Chan.take(ch)) out.push(o.value)
          return out
        })
      )
      for (let i = 1; i <= 4; i++) expect(await ch.put(i)).toBe(true)
      ch.close()
      expect(await Effect.runPromise(Fiber.join(consumer))).toEqual([1, 2, 3, 4])
    })
  })

  it("undefined travels from the facade to an Effect fiber as Some(undefined)", async () => {
    const ch = chan<undefined>()
    const fiber = Effect.runFork(Chan.take(ch))
    await until(() => pending(ch).takes === 1)
    expect(await ch.put(undefined)).toBe(true)
    expect(await Effect.runPromise(Fiber.join(fiber))).toEqual(Option.some(undefined))
  })

  it("an Effect select waits on facade channels; a facade put commits exactly one case", async () => {
    const a = chan<number>()
    const b = chan<number>()
    const fiber = Effect.runFork(
      Chan.select([
        Chan.onTake(a, (o) => `a ${Option.getOrUndefined(o)}`),
        Chan.onTake(b, (o) => `b ${Option.getOrUndefined(o)}`)
      ])
    )
    await until(() => pending(a).takes === 1 && pending(b).takes === 1)
    expect(await b.put(3)).toBe(true)
    expect(await Effect.runPromise(Fiber.join(fiber))).toBe("b 3")
    expect(pending(a)).toEqual(none)
    expect(a.offer(1)).toBe(false)
  })

  it("a facade select and an Effect put rendezvous", async () => {
    const ch = chan<string>()
    const s = select([onTake(ch, (r) => r), onTimeout(Number.POSITIVE_INFINITY, () => "never")])
    expect(await Effect.runPromise(Chan.put(ch, "e"))).toBe(true)
    expect(await s).toStrictEqual(val("e"))
  })

  it("closing from the Effect side ends a facade take and for await", async () => {
    const ch = chan<number>(2)
    ch.offer(1)
    const seen: Array<number> = []
    const loop = (async () => {
      for await (const v of ch) seen.push(v)
    })()
    await until(() => pending(ch).takes === 1)
    await Effect.runPromise(Chan.close(ch))
    await loop
    expect(seen).toEqual([1])
    expect(await Effect.runPromise(Chan.isClosed(ch))).toBe(true)
  })

  it("an interrupted Effect take consumes nothing: the facade's next put goes to the next taker", async () => {
    const ch = chan<number>()
    const fiber = Effect.runFork(Chan.take(ch))
    await until(() => pending(ch).takes === 1)
    await Effect.runPromise(Fiber.interrupt(fiber))
    expect(pending(ch)).toEqual(none)
    expect(ch.offer(1)).toBe(false)
    const t = ch.take()
    expect(await ch.put(2)).toBe(true)
    expect(await t).toStrictEqual(val(2))
  })

  it("a value handed to an Effect taker that is interrupted at once is neither lost nor duplicated", async () => {
    for (let i = 0; i < 20; i++) {
      const ch = chan<number>()
      const fiber = Effect.runFork(Chan.take(ch))
      await until(() => pending(ch).takes === 1)
      expect(ch.offer(i)).toBe(true)
      fiber.interruptUnsafe()
      const exit = await Effect.runPromise(Fiber.await(fiber))
      const delivered = Exit.isSuccess(exit) ? [Option.getOrThrow(exit.value)] : []
      const left = drainNow(ch)
      expect([...delivered, ...left]).toEqual([i])
    }
  })

  it("a channel made by Chan.makeUnsafe works with put/take/offer/poll/close", async () => {
    const ch = Chan.makeUnsafe<number>()
    expect(offer(ch, 1)).toBe(false)
    expect(poll(ch)).toBeUndefined()
    const t = take(ch)
    expect(offer(ch, 1)).toBe(true)
    expect(await t).toStrictEqual(val(1))
    const p = track(put(ch, 2))
    await flush()
    expect(p.status).toBe("pending")
    expect(poll(ch)).toStrictEqual(val(2))
    await flush()
    expect(p.value).toBe(true)
    const p3 = put(ch, 3)
    close(ch)
    expect(await put(ch, 4)).toBe(false)
    expect(await take(ch)).toStrictEqual(val(3))
    expect(await p3).toBe(true)
    expect(await take(ch)).toStrictEqual(done)
    expect(poll(ch)).toStrictEqual(done)
    // and with a buffer, interleaved with the Effect API
    const buffered = Chan.makeUnsafe<number>(Buffer.fixed(2))
    expect(await put(buffered, 1)).toBe(true)
    expect(await Effect.runPromise(Chan.offer(buffered, 2))).toBe(true)
    expect(offer(buffered, 3)).toBe(false)
    expect(await Effect.runPromise(Chan.take(buffered))).toEqual(Option.some(1))
    expect(poll(buffered)).toStrictEqual(val(2))
  })

  it("abort withdraws a facade put on a Chan.makeUnsafe channel so an Effect taker never sees it", async () => {
    const ch = Chan.makeUnsafe<number>()
    const controller = new AbortController()
    const p = track(put(ch, 1, { signal: controller.signal }))
    controller.abort()
    await flush()
    expect(p.status).toBe("rejected")
    expect(pending(ch)).toEqual(none)
    const fiber = Effect.runFork(Chan.take(ch))
    await until(() => pending(ch).takes === 1)
    expect(await put(ch, 2)).toBe(true)
    expect(await Effect.runPromise(Fiber.join(fiber))).toEqual(Option.some(2))
  })
})

// ── maxPending ──────────────────────────────────────────────────────────────

describe("maxPending", () => {
  it("a pending take beyond the limit rejects with ChanPendingLimitError; the channel keeps working", async () => {
    const ch = chan<number>(0, { maxPending: 2, name: "jobs" })
    const t1 = ch.take()
    const t2 = ch.take()
    const e = await rejection(ch.take())
    expect(e).toBeInstanceOf(ChanPendingLimitError)
    expect((e as ChanPendingLimitError)._tag).toBe("ChanPendingLimitError")
    expect((e as ChanPendingLimitError).side).toBe("take")
    expect((e as ChanPendingLimitError).message).toContain("jobs")
    expect(pending(ch)).toEqual({ puts: 0, takes: 2 })
    expect(await ch.put(1)).toBe(true)
    expect(await ch.put(2)).toBe(true)
    expect(await t1).toStrictEqual(val(1))
    expect(await t2).toStrictEqual(val(2))
    // room again
    const t3 = ch.take()
    expect(ch.offer(3)).toBe(true)
    expect(await t3).toStrictEqual(val(3))
  })

  it("a pending put beyond the limit rejects with ChanPendingLimitError; the channel keeps working", async () => {
    const ch = chan<number>(0, { maxPending: 2 })
    const p1 = ch.put(1)
    const p2 = ch.put(2)
    const e = await rejection(ch.put(3))
    expect(e).toBeInstanceOf(ChanPendingLimitError)
    expect((e as ChanPendingLimitError).side).toBe("put")
    expect(pending(ch)).toEqual({ puts: 2, takes: 0 })
    expect(await ch.take()).toStrictEqual(val(1))
    expect(await ch.take()).toStrictEqual(val(2))
    expect(ch.poll()).toBeUndefined() // 3 was never accepted
    expect(await Promise.all([p1, p2])).toEqual([true, true])
  })

  it("a pending take with a signal beyond the limit rejects and leaves no listener", async () => {
    const ch = chan<number>(0, { maxPending: 1 })
    const t1 = ch.take()
    const controller = new AbortController()
    expect(await rejection(ch.take({ signal: controller.signal }))).toBeInstanceOf(ChanPendingLimitError)
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0)
    ch.offer(1)
    expect(await t1).toStrictEqual(val(1))
  })
})

// ── types: no effect import needed ──────────────────────────────────────────

describe("types (usable without importing effect)", () => {
  // Nothing in this block refers to effect: the facade's results are plain TypeScript types.
  it("chan<number>() and its results are plain types", async () => {
    const ch = chan<number>(1)
    // (method types, not calls: expectTypeOf evaluates its argument)
    expectTypeOf(ch.take).returns.toEqualTypeOf<Promise<Result<number>>>()
    expectTypeOf(ch.put).parameter(0).toEqualTypeOf<number>()
    expectTypeOf(ch.put).returns.toEqualTypeOf<Promise<boolean>>()
    expectTypeOf(ch.offer).returns.toEqualTypeOf<boolean>()
    expectTypeOf(ch.poll).returns.toEqualTypeOf<Result<number> | undefined>()
    expectTypeOf<Result<number>>().toEqualTypeOf<
      { readonly done: false; readonly value: number } | { readonly done: true; readonly value: undefined }
    >()
    expectTypeOf(ch).toMatchTypeOf<AsyncIterable<number>>()
    expectTypeOf(take<number>).returns.toEqualTypeOf<Promise<Result<number>>>()
    expectTypeOf(poll<number>).returns.toEqualTypeOf<Result<number> | undefined>()

    ch.offer(5)
    const r = await ch.take()
    // narrowing on `done` gives the value its type, with no Option in sight
    const n: number = r.done ? -1 : r.value
    expect(n).toBe(5)
    ch.close()
    for await (const v of ch) expectTypeOf(v).toEqualTypeOf<number>()
  })

  it("select's result is the union of the handlers' (awaited) results and orElse's", async () => {
    const a = chan<number>(1)
    a.offer(1)
    const s = select([onTake(a, (r) => (r.done ? null : r.value)), onTimeout(10, async () => "late" as const)], {
      orElse: () => false as const
    })
    expectTypeOf(s).toEqualTypeOf<Promise<number | null | "late" | false>>()
    expect(await s).toBe(1)
  })
})

describe("deprecated names", () => {
  it("@tributary/channel/promise is the same module as @tributary/channel/async", async () => {
    expect(Deprecated.chan).toBe(chan)
    expect(Deprecated.select).toBe(select)
    const ch: Deprecated.PromiseChan<number> = Deprecated.chan<number>(1)
    expect(await ch.put(1)).toBe(true)
    expect(await take(ch)).toEqual({ done: false, value: 1 })
  })

  it("Chan.promise and Chan.promiseUnsafe are Chan.promiseChan and Chan.promiseChanUnsafe", async () => {
    expect(Chan.promise).toBe(Chan.promiseChan)
    expect(Chan.promiseUnsafe).toBe(Chan.promiseChanUnsafe)
    const ch = await Effect.runPromise(Chan.promise<string>())
    expect(offer(ch, "once")).toBe(true)
    expect(poll(ch)).toEqual({ done: false, value: "once" })
    expect(poll(ch)).toEqual({ done: false, value: "once" })
  })
})

describe("an xform that finishes early on a facade channel", () => {
  // The state machine closes the channel in the middle of the change that finished the xform
  // (before the puts it released complete). The facade's own `close` logs what the channel
  // recorded; the state machine must not reach it from there, or a logger would run mid-change.
  it("logs the failures of that change after it is done: after the released puts' values reached onUndelivered", async () => {
    const events: Array<string> = []
    const logger = Logger.make<unknown, void>((o) => {
      events.push(`logged: ${(o.message as ReadonlyArray<unknown>).join(" ")}`)
    })
    // `chan`'s type has no `xform`; from JavaScript it takes one (the state machine's option)
    const withXform = {
      xform: Xform.compose(
        Xform.map((v: string) => {
          if (v === "bad") throw new Error("bad value")
          return v
        }),
        Xform.take(2)
      ),
      onUndelivered: (v: string) => events.push(`undelivered: ${v}`)
    }
    const ch = chan<string>(1, withXform as never)
    expect(offer(ch, "a")).toBe(true)
    // pending: the buffer (1) is full
    const puts = [put(ch, "bad"), put(ch, "b"), put(ch, "c")]
    // the take frees room: "bad" comes in (and fails), "b" finishes the xform, "c" is released
    const taken = await Effect.runPromise(Chan.take(ch).pipe(Effect.provide(Logger.layer([logger]))))
    expect(Option.getOrThrow(taken)).toBe("a")
    expect(await Promise.all(puts)).toEqual([true, true, true])
    expect(events).toEqual(["undelivered: c", "logged: xform failed; the value was dropped"])
    // closed by the xform: "b" is still takeable, then the channel is done
    expect([poll(ch), poll(ch)]).toEqual([
      { done: false, value: "b" },
      { done: true, value: undefined }
    ])
  })
})
