/**
 * The core channel operations (put, take, offer, poll, close, discard, the `*Unsafe` twins, limits,
 * interruption, argument checks and timeouts), each run across every buffer kind it applies to.
 */
import { Effect, Exit, Fiber, Option } from "effect"
import { TestClock } from "effect/testing"
import { afterEach, describe, expect, it, vi } from "vitest"
import { Buffer, Chan, ChanArgumentError, ChanPendingLimitError, Xform } from "../src/index.js"
import {
  defects,
  expectArgumentError,
  fifoKinds,
  isInterrupted,
  isSuspended,
  type Kind,
  kinds,
  pending,
  run,
  takeN,
  thrown
} from "./harness.js"

// ── helpers ─────────────────────────────────────────────────────────────────

/** Kinds whose puts complete without a taker (every kind but rendezvous). */
const bufferedKinds = kinds.filter((k) => k.capacity > 0)
/** Kinds holding a queue of values (fixed, dropping, sliding): not rendezvous, not promise. */
const queueKinds = kinds.filter((k) => k.capacity > 0 && k.policy !== "promise")

/** Runs `effect` and tells whether another fiber ran meanwhile (it would have, had `effect` yielded). */
const withoutYield = <A>(effect: Effect.Effect<A>) =>
  Effect.gen(function* () {
    let otherRan = false
    const other = yield* Effect.forkChild(Effect.sync(() => (otherRan = true)))
    const value = yield* effect
    const yielded = otherRan
    yield* Fiber.join(other)
    return { value, yielded }
  })

/** Puts `kind.capacity` values (1, 2, ...) with `offer`, filling the buffer. */
const fill = (ch: Chan.Chan<number>, kind: Kind) =>
  Effect.gen(function* () {
    const values: Array<number> = []
    for (let i = 1; i <= kind.capacity; i++) {
      expect(yield* Chan.offer(ch, i)).toBe(true)
      values.push(i)
    }
    return values
  })

// ── put and take ────────────────────────────────────────────────────────────

describe.each(kinds)("put and take: $name", (kind) => {
  it("a put then a take delivers the value", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const putter = yield* Effect.forkChild(Chan.put(ch, 42))
        expect(yield* Chan.take(ch)).toStrictEqual(Option.some(42))
        expect(yield* Fiber.join(putter)).toBe(true)
      })
    ))

  it("a take on an empty channel suspends until a put", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const taker = yield* Effect.forkChild(Chan.take(ch))
        expect(yield* isSuspended(taker)).toBe(true)
        expect(pending(ch)).toEqual({ puts: 0, takes: 1 })
        expect(yield* Chan.put(ch, 7)).toBe(true)
        expect(yield* Fiber.join(taker)).toStrictEqual(Option.some(7))
        expect(pending(ch)).toEqual({ puts: 0, takes: 0 })
      })
    ))

  it("a put to a waiting taker completes without yielding", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const taker = yield* Effect.forkChild(Chan.take(ch))
        expect(yield* isSuspended(taker)).toBe(true)
        expect(yield* withoutYield(Chan.put(ch, 5))).toEqual({ value: true, yielded: false })
        expect(yield* Fiber.join(taker)).toStrictEqual(Option.some(5))
      })
    ))
})

describe.each(bufferedKinds)("put and take, buffered: $name", (kind) => {
  it("puts within capacity complete without yielding", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        for (let i = 1; i <= kind.capacity; i++) {
          expect(yield* withoutYield(Chan.put(ch, i))).toEqual({ value: true, yielded: false })
        }
        expect(yield* Chan.size(ch)).toBe(kind.capacity)
        expect(pending(ch)).toEqual({ puts: 0, takes: 0 })
      })
    ))

  it("a take of a buffered value completes without yielding", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        yield* Chan.put(ch, 9)
        expect(yield* withoutYield(Chan.take(ch))).toEqual({ value: Option.some(9), yielded: false })
      })
    ))
})

describe.each(fifoKinds)("put and take, FIFO: $name", (kind) => {
  it("values come out in the order they were put", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const producer = yield* Effect.forkChild(Effect.forEach([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], (i) => Chan.put(ch, i)))
        expect(yield* takeN(ch, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
        expect(yield* Fiber.join(producer)).toEqual(Array(10).fill(true))
      })
    ))

  it("a put on a full channel suspends until a take", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const buffered = yield* fill(ch, kind)
        const putter = yield* Effect.forkChild(Chan.put(ch, 99))
        expect(yield* isSuspended(putter)).toBe(true)
        expect(pending(ch)).toEqual({ puts: 1, takes: 0 })
        expect(yield* takeN(ch, 1)).toEqual([[...buffered, 99][0]])
        expect(yield* Fiber.join(putter)).toBe(true)
        expect(pending(ch).puts).toBe(0)
        expect(yield* takeN(ch, kind.capacity)).toEqual([...buffered, 99].slice(1))
      })
    ))
})

describe.each(kinds.filter((k) => k.policy === "dropping" || k.policy === "sliding" || k.policy === "promise"))(
  "put never suspends: $name",
  (kind) => {
    it("puts beyond capacity return true without yielding", () =>
      run(
        Effect.gen(function* () {
          const ch = kind.make<number>()
          for (let i = 0; i < kind.capacity + 3; i++) {
            expect(yield* withoutYield(Chan.put(ch, i))).toEqual({ value: true, yielded: false })
          }
          expect(yield* Chan.size(ch)).toBe(kind.capacity)
        })
      ))
  }
)

// ── offer and poll ──────────────────────────────────────────────────────────

describe.each(kinds)("offer and poll: $name", (kind) => {
  const acceptsWhenFull = kind.policy === "dropping" || kind.policy === "sliding" || kind.policy === "promise"

  it("offer on an empty channel is accepted iff there is a buffer, without yielding", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        expect(yield* withoutYield(Chan.offer(ch, 1))).toEqual({ value: kind.capacity > 0, yielded: false })
        expect(yield* Chan.size(ch)).toBe(kind.capacity > 0 ? 1 : 0)
        expect(pending(ch)).toEqual({ puts: 0, takes: 0 })
      })
    ))

  it("offer on a full channel is accepted only by dropping, sliding and promise channels", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        yield* fill(ch, kind)
        expect(yield* withoutYield(Chan.offer(ch, 100))).toEqual({ value: acceptsWhenFull, yielded: false })
        expect(yield* Chan.size(ch)).toBe(kind.capacity)
        expect(pending(ch)).toEqual({ puts: 0, takes: 0 })
      })
    ))

  it("offer hands the value to a waiting taker", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const taker = yield* Effect.forkChild(Chan.take(ch))
        expect(yield* isSuspended(taker)).toBe(true)
        expect(yield* Chan.offer(ch, 3)).toBe(true)
        expect(yield* Fiber.join(taker)).toStrictEqual(Option.some(3))
      })
    ))

  it("poll on an empty channel is None without yielding or registering", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        expect(yield* withoutYield(Chan.poll(ch))).toEqual({ value: Option.none(), yielded: false })
        expect(pending(ch)).toEqual({ puts: 0, takes: 0 })
      })
    ))

  it("offer on a closed channel is false", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        yield* Chan.close(ch)
        expect(yield* Chan.offer(ch, 1)).toBe(false)
        expect(yield* Chan.size(ch)).toBe(0)
      })
    ))

  it("poll on a closed and drained channel is None", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        yield* Chan.close(ch)
        expect(yield* withoutYield(Chan.poll(ch))).toEqual({ value: Option.none(), yielded: false })
      })
    ))
})

describe.each(bufferedKinds)("offer and poll, buffered: $name", (kind) => {
  it("poll takes a buffered value", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        yield* Chan.offer(ch, 4)
        expect(yield* withoutYield(Chan.poll(ch))).toEqual({ value: Option.some(4), yielded: false })
      })
    ))

  it("poll on a closed channel still yields its buffered value", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        yield* Chan.offer(ch, 4)
        yield* Chan.close(ch)
        expect(yield* Chan.poll(ch)).toStrictEqual(Option.some(4))
      })
    ))
})

describe.each(fifoKinds)("offer and poll, FIFO: $name", (kind) => {
  it("poll takes from a full channel and lets the pending put in", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const buffered = yield* fill(ch, kind)
        const putter = yield* Effect.forkChild(Chan.put(ch, 99))
        expect(yield* isSuspended(putter)).toBe(true)
        expect(yield* Chan.poll(ch)).toStrictEqual(Option.some([...buffered, 99][0]))
        expect(yield* Fiber.join(putter)).toBe(true)
        expect(pending(ch).puts).toBe(0)
      })
    ))
})

// ── close ───────────────────────────────────────────────────────────────────

describe.each(kinds)("close: $name", (kind) => {
  it("put on a closed channel returns false", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        yield* Chan.close(ch)
        expect(yield* withoutYield(Chan.put(ch, 1))).toEqual({ value: false, yielded: false })
        expect(yield* Chan.take(ch)).toStrictEqual(Option.none())
      })
    ))

  it("pending takers get None on close", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const takers = yield* Effect.forEach([1, 2], () => Effect.forkChild(Chan.take(ch)))
        for (const t of takers) expect(yield* isSuspended(t)).toBe(true)
        yield* Chan.close(ch)
        for (const t of takers) expect(yield* Fiber.join(t)).toStrictEqual(Option.none())
        expect(pending(ch)).toEqual({ puts: 0, takes: 0 })
      })
    ))

  it("isClosed is false until close, true after", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        expect(yield* Chan.isClosed(ch)).toBe(false)
        yield* Chan.close(ch)
        expect(yield* Chan.isClosed(ch)).toBe(true)
      })
    ))

  it("close is idempotent and keeps what was buffered", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const buffered = yield* fill(ch, kind)
        yield* Chan.close(ch)
        yield* Chan.close(ch)
        expect(yield* Chan.isClosed(ch)).toBe(true)
        expect(yield* Chan.size(ch)).toBe(kind.capacity)
        expect(yield* takeN(ch, buffered.length)).toEqual(buffered)
      })
    ))
})

describe.each(queueKinds)("close, buffered: $name", (kind) => {
  it("close keeps buffered values takeable, then takes see None", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const buffered = yield* fill(ch, kind)
        yield* Chan.close(ch)
        expect(yield* takeN(ch, buffered.length)).toEqual(buffered)
        expect(yield* Chan.take(ch)).toStrictEqual(Option.none())
        expect(yield* Chan.size(ch)).toBe(0)
      })
    ))

  it("size counts buffered values and drops as they are taken", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        expect(yield* Chan.size(ch)).toBe(0)
        yield* fill(ch, kind)
        expect(yield* Chan.size(ch)).toBe(kind.capacity)
        yield* Chan.take(ch)
        expect(yield* Chan.size(ch)).toBe(kind.capacity - 1)
      })
    ))
})

describe.each(fifoKinds)("close, FIFO: $name", (kind) => {
  it("close keeps the values of pending puts takeable; those puts complete with true when taken", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const buffered = yield* fill(ch, kind)
        const putters = yield* Effect.forEach([100, 101], (v) => Effect.forkChild(Chan.put(ch, v)))
        for (const p of putters) expect(yield* isSuspended(p)).toBe(true)
        yield* Chan.close(ch)
        for (const p of putters) expect(yield* isSuspended(p)).toBe(true)
        expect(pending(ch).puts).toBe(2)
        expect(yield* takeN(ch, buffered.length + 2)).toEqual([...buffered, 100, 101])
        for (const p of putters) expect(yield* Fiber.join(p)).toBe(true)
        expect(yield* Chan.take(ch)).toStrictEqual(Option.none())
      })
    ))

  it("size does not count pending puts", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        yield* fill(ch, kind)
        const putter = yield* Effect.forkChild(Chan.put(ch, 99))
        expect(yield* isSuspended(putter)).toBe(true)
        expect(yield* Chan.size(ch)).toBe(kind.capacity)
      })
    ))
})

// ── dropping and sliding ────────────────────────────────────────────────────

describe("dropping and sliding buffers", () => {
  it.each([
    { policy: "dropping", make: Buffer.dropping, kept: [1, 2], dropped: [3, 4, 5] },
    { policy: "sliding", make: Buffer.sliding, kept: [4, 5], dropped: [1, 2, 3] }
  ])("$policy(2) keeps $kept of 1..5; puts return true; the rest go to onUndelivered once", ({ make, kept, dropped }) =>
    run(
      Effect.gen(function* () {
        const undelivered: Array<number> = []
        const ch = Chan.makeUnsafe<number>(make(2), { onUndelivered: (v) => undelivered.push(v) })
        for (const v of [1, 2, 3, 4, 5]) expect(yield* Chan.put(ch, v)).toBe(true)
        expect(undelivered).toEqual(dropped)
        expect(yield* Chan.size(ch)).toBe(2)
        expect(yield* takeN(ch, 2)).toEqual(kept)
        expect(yield* Chan.poll(ch)).toStrictEqual(Option.none())
        expect(undelivered).toEqual(dropped)
      })
    )
  )

  it.each([
    ["dropping", Buffer.dropping],
    ["sliding", Buffer.sliding]
  ] as const)("%s: every accepted value reaches a taker or onUndelivered exactly once", (_, make) =>
    run(
      Effect.gen(function* () {
        const undelivered: Array<number> = []
        const ch = Chan.makeUnsafe<number>(make(2), { onUndelivered: (v) => undelivered.push(v) })
        for (const v of [1, 2, 3, 4]) yield* Chan.put(ch, v)
        const taken = yield* takeN(ch, 1)
        for (const v of [5, 6, 7]) yield* Chan.put(ch, v)
        const discarded = yield* Chan.discard(ch)
        expect(discarded.every((v) => undelivered.includes(v))).toBe(true)
        expect([...taken, ...undelivered].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7])
      })
    )
  )

  it.each([
    ["dropping", Buffer.dropping],
    ["sliding", Buffer.sliding]
  ] as const)("%s: a value put to a waiting taker is never dropped", (_, make) =>
    run(
      Effect.gen(function* () {
        const undelivered: Array<number> = []
        const ch = Chan.makeUnsafe<number>(make(1), { onUndelivered: (v) => undelivered.push(v) })
        const taker = yield* Effect.forkChild(Chan.take(ch))
        expect(yield* isSuspended(taker)).toBe(true)
        yield* Chan.put(ch, 1)
        yield* Chan.put(ch, 2)
        expect(yield* Fiber.join(taker)).toStrictEqual(Option.some(1))
        expect(yield* Chan.take(ch)).toStrictEqual(Option.some(2))
        expect(undelivered).toEqual([])
      })
    )
  )
})

// ── promise channels ────────────────────────────────────────────────────────

describe("promise channel", () => {
  it("delivers the first value to every taker, forever", () =>
    run(
      Effect.gen(function* () {
        const ch = yield* Chan.promiseChan<number>()
        const waiting = yield* Effect.forEach([1, 2, 3], () => Effect.forkChild(Chan.take(ch)))
        for (const t of waiting) expect(yield* isSuspended(t)).toBe(true)
        expect(yield* Chan.put(ch, 1)).toBe(true)
        for (const t of waiting) expect(yield* Fiber.join(t)).toStrictEqual(Option.some(1))
        for (let i = 0; i < 3; i++) expect(yield* Chan.take(ch)).toStrictEqual(Option.some(1))
        expect(yield* Chan.poll(ch)).toStrictEqual(Option.some(1))
      })
    ))

  it("later puts return true and go to onUndelivered", () =>
    run(
      Effect.gen(function* () {
        const undelivered: Array<number> = []
        const ch = yield* Chan.promiseChan<number>({ onUndelivered: (v) => undelivered.push(v) })
        expect(yield* Chan.put(ch, 1)).toBe(true)
        expect(yield* Chan.put(ch, 2)).toBe(true)
        expect(yield* Chan.offer(ch, 3)).toBe(true)
        expect(undelivered).toEqual([2, 3])
        expect(yield* Chan.take(ch)).toStrictEqual(Option.some(1))
        expect(undelivered).toEqual([2, 3])
      })
    ))

  it("keeps delivering its value after close", () =>
    run(
      Effect.gen(function* () {
        const ch = yield* Chan.promiseChan<number>()
        yield* Chan.put(ch, 1)
        yield* Chan.close(ch)
        expect(yield* Chan.take(ch)).toStrictEqual(Option.some(1))
        expect(yield* Chan.take(ch)).toStrictEqual(Option.some(1))
        expect(yield* Chan.put(ch, 2)).toBe(false)
        expect(yield* Chan.take(ch)).toStrictEqual(Option.some(1))
      })
    ))

  it("closed without a value, every take sees None", () =>
    run(
      Effect.gen(function* () {
        const ch = yield* Chan.promiseChan<number>()
        const taker = yield* Effect.forkChild(Chan.take(ch))
        expect(yield* isSuspended(taker)).toBe(true)
        yield* Chan.close(ch)
        expect(yield* Fiber.join(taker)).toStrictEqual(Option.none())
        expect(yield* Chan.take(ch)).toStrictEqual(Option.none())
        expect(yield* Chan.take(ch)).toStrictEqual(Option.none())
      })
    ))

  it("size is 0 before the first value and 1 after, however many takes", () =>
    run(
      Effect.gen(function* () {
        const ch = yield* Chan.promiseChan<number>()
        expect(yield* Chan.size(ch)).toBe(0)
        yield* Chan.put(ch, 1)
        yield* Chan.put(ch, 2)
        expect(yield* Chan.size(ch)).toBe(1)
        yield* Chan.take(ch)
        expect(yield* Chan.size(ch)).toBe(1)
      })
    ))

  it("discard returns [] and closes", () =>
    run(
      Effect.gen(function* () {
        const undelivered: Array<number> = []
        const ch = yield* Chan.promiseChan<number>({ onUndelivered: (v) => undelivered.push(v) })
        yield* Chan.put(ch, 1)
        expect(yield* Chan.discard(ch)).toEqual([])
        expect(undelivered).toEqual([])
        expect(yield* Chan.isClosed(ch)).toBe(true)
        expect(yield* Chan.put(ch, 2)).toBe(false)
      })
    ))
})

// ── discard ─────────────────────────────────────────────────────────────────

describe.each(queueKinds)("discard, buffered: $name", (kind) => {
  it("returns the buffered values in order, passes them to onUndelivered, and closes", () =>
    run(
      Effect.gen(function* () {
        const undelivered: Array<number> = []
        const ch = kind.make<number>({ onUndelivered: (v) => undelivered.push(v) })
        const buffered = yield* fill(ch, kind)
        expect(yield* Chan.discard(ch)).toEqual(buffered)
        expect(undelivered).toEqual(buffered)
        expect(yield* Chan.isClosed(ch)).toBe(true)
        expect(yield* Chan.size(ch)).toBe(0)
        expect(yield* Chan.take(ch)).toStrictEqual(Option.none())
      })
    ))
})

describe.each(fifoKinds)("discard, FIFO: $name", (kind) => {
  it("pending puts complete with false and their values are not returned", () =>
    run(
      Effect.gen(function* () {
        const undelivered: Array<number> = []
        const ch = kind.make<number>({ onUndelivered: (v) => undelivered.push(v) })
        const buffered = yield* fill(ch, kind)
        const putters = yield* Effect.forEach([100, 101], (v) => Effect.forkChild(Chan.put(ch, v)))
        for (const p of putters) expect(yield* isSuspended(p)).toBe(true)
        expect(yield* Chan.discard(ch)).toEqual(buffered)
        for (const p of putters) expect(yield* Fiber.join(p)).toBe(false)
        expect(pending(ch)).toEqual({ puts: 0, takes: 0 })
        expect(undelivered).toEqual(buffered)
        expect(yield* Chan.take(ch)).toStrictEqual(Option.none())
      })
    ))
})

describe.each(kinds)("discard: $name", (kind) => {
  it("on an empty channel returns [], closes, and wakes pending takers with None", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const taker = yield* Effect.forkChild(Chan.take(ch))
        expect(yield* isSuspended(taker)).toBe(true)
        expect(yield* Chan.discard(ch)).toEqual([])
        expect(yield* Fiber.join(taker)).toStrictEqual(Option.none())
        expect(yield* Chan.isClosed(ch)).toBe(true)
        expect(yield* Chan.put(ch, 1)).toBe(false)
      })
    ))
})

// ── the synchronous twins ───────────────────────────────────────────────────

describe.each(kinds)("putUnsafe: $name", (kind) => {
  it("on a closed channel returns false and calls onDone(false) once", () => {
    const ch = kind.make<number>()
    Chan.closeUnsafe(ch)
    const calls: Array<boolean> = []
    expect(Chan.putUnsafe(ch, 1, (ok) => calls.push(ok))).toBe(false)
    expect(calls).toEqual([false])
  })

  it("to a waiting taker completes at once and calls onDone(true) once", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const taker = yield* Effect.forkChild(Chan.take(ch))
        expect(yield* isSuspended(taker)).toBe(true)
        const calls: Array<boolean> = []
        expect(Chan.putUnsafe(ch, 8, (ok) => calls.push(ok))).toBe(true)
        expect(calls).toEqual([true])
        expect(yield* Fiber.join(taker)).toStrictEqual(Option.some(8))
        expect(calls).toEqual([true])
      })
    ))

  it("works without onDone", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        expect(Chan.putUnsafe(ch, 1)).toBe(true)
        expect(yield* Chan.take(ch)).toStrictEqual(Option.some(1))
      })
    ))
})

describe.each(bufferedKinds)("putUnsafe, buffered: $name", (kind) => {
  it("completes at once when there is room and calls onDone(true) at once", () => {
    const ch = kind.make<number>()
    const calls: Array<boolean> = []
    expect(Chan.putUnsafe(ch, 1, (ok) => calls.push(ok))).toBe(true)
    expect(calls).toEqual([true])
    expect(pending(ch).puts).toBe(0)
    expect(Chan.pollUnsafe(ch)).toStrictEqual(Option.some(1))
    expect(calls).toEqual([true])
  })
})

describe.each(fifoKinds)("putUnsafe, FIFO: $name", (kind) => {
  it("on a full channel queues a pending put and calls onDone(true) once when taken", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const buffered = yield* fill(ch, kind)
        const calls: Array<boolean> = []
        expect(Chan.putUnsafe(ch, 99, (ok) => calls.push(ok))).toBe(true)
        expect(calls).toEqual([])
        expect(pending(ch).puts).toBe(1)
        expect(yield* takeN(ch, kind.capacity + 1)).toEqual([...buffered, 99])
        expect(calls).toEqual([true])
      })
    ))

  it("a pending putUnsafe survives close and completes with true when taken", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        yield* fill(ch, kind)
        const calls: Array<boolean> = []
        Chan.putUnsafe(ch, 99, (ok) => calls.push(ok))
        Chan.closeUnsafe(ch)
        expect(calls).toEqual([])
        expect((yield* takeN(ch, kind.capacity + 1)).at(-1)).toBe(99)
        expect(calls).toEqual([true])
        expect(yield* Chan.take(ch)).toStrictEqual(Option.none())
      })
    ))

  it("a pending putUnsafe completes with false on discard", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        yield* fill(ch, kind)
        const calls: Array<boolean> = []
        Chan.putUnsafe(ch, 99, (ok) => calls.push(ok))
        expect(yield* Chan.discard(ch)).not.toContain(99)
        expect(calls).toEqual([false])
        expect(pending(ch).puts).toBe(0)
      })
    ))
})

describe.each(kinds)("offerUnsafe, pollUnsafe, closeUnsafe: $name", (kind) => {
  it("offerUnsafe and pollUnsafe complete only what can complete now", () => {
    const ch = kind.make<number>()
    expect(Chan.pollUnsafe(ch)).toStrictEqual(Option.none())
    expect(Chan.offerUnsafe(ch, 1)).toBe(kind.capacity > 0)
    expect(Chan.pollUnsafe(ch)).toStrictEqual(kind.capacity > 0 ? Option.some(1) : Option.none())
    expect(pending(ch)).toEqual({ puts: 0, takes: 0 })
  })

  it("closeUnsafe closes, wakes takers with None, and offerUnsafe then fails", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const taker = yield* Effect.forkChild(Chan.take(ch))
        expect(yield* isSuspended(taker)).toBe(true)
        Chan.closeUnsafe(ch)
        Chan.closeUnsafe(ch)
        expect(yield* Chan.isClosed(ch)).toBe(true)
        expect(yield* Fiber.join(taker)).toStrictEqual(Option.none())
        expect(Chan.offerUnsafe(ch, 1)).toBe(false)
        expect(Chan.pollUnsafe(ch)).toStrictEqual(Option.none())
      })
    ))
})

// ── undefined and null are values ───────────────────────────────────────────

describe.each(kinds)("undefined and null are values: $name", (kind) => {
  it.each([undefined, null])("%s put is taken as Some(%s)", (value) =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<unknown>()
        const putter = yield* Effect.forkChild(Chan.put(ch, value))
        const taken = yield* Chan.take(ch)
        expect(Option.isSome(taken)).toBe(true)
        expect(taken).toStrictEqual(Option.some(value))
        expect(yield* Fiber.join(putter)).toBe(true)
      })
    )
  )

  it.each([undefined, null])("a waiting taker receives %s as Some", (value) =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<unknown>()
        const taker = yield* Effect.forkChild(Chan.take(ch))
        expect(yield* isSuspended(taker)).toBe(true)
        yield* Chan.put(ch, value)
        expect(yield* Fiber.join(taker)).toStrictEqual(Option.some(value))
      })
    )
  )

  it("only a closed and drained channel gives None", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<unknown>()
        const taker = yield* Effect.forkChild(Chan.take(ch))
        expect(yield* isSuspended(taker)).toBe(true)
        yield* Chan.close(ch)
        const taken = yield* Fiber.join(taker)
        expect(Option.isNone(taken)).toBe(true)
      })
    ))
})

describe.each(bufferedKinds)("undefined and null are values, buffered: $name", (kind) => {
  it.each([undefined, null])("a buffered %s survives close and poll sees it as Some", (value) =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<unknown>()
        expect(yield* Chan.offer(ch, value)).toBe(true)
        yield* Chan.close(ch)
        expect(yield* Chan.size(ch)).toBe(1)
        expect(yield* Chan.poll(ch)).toStrictEqual(Option.some(value))
        const next = kind.policy === "promise" ? Option.some(value) : Option.none()
        expect(yield* Chan.take(ch)).toStrictEqual(next)
      })
    )
  )
})

// ── limits ──────────────────────────────────────────────────────────────────

/** Asserts `exit` died with a `ChanPendingLimitError` for `side` on the channel named "jobs". */
const expectPendingLimit = (exit: Exit.Exit<unknown, unknown>, side: "put" | "take") => {
  const [defect] = defects(exit)
  expect(defect).toBeInstanceOf(ChanPendingLimitError)
  const error = defect as ChanPendingLimitError
  expect(error._tag).toBe("ChanPendingLimitError")
  expect(error.message).toContain(`pending ${side}s`)
  expect(error.message).toContain("jobs")
  expect(error.message).toMatch(/use a buffer, a dropping\/sliding buffer, or offer/i)
}

describe.each(fifoKinds)("maxPending, puts: $name", (kind) => {
  it("the put beyond maxPending dies with ChanPendingLimitError; the channel keeps working", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>({ name: "jobs", maxPending: 2 })
        const buffered = yield* fill(ch, kind)
        const putters = yield* Effect.forEach([100, 101], (v) => Effect.forkChild(Chan.put(ch, v)))
        for (const p of putters) expect(yield* isSuspended(p)).toBe(true)
        expectPendingLimit(yield* Effect.exit(Chan.put(ch, 102)), "put")
        expect(pending(ch).puts).toBe(2)
        expect(yield* takeN(ch, buffered.length + 2)).toEqual([...buffered, 100, 101])
        for (const p of putters) expect(yield* Fiber.join(p)).toBe(true)
        expect(yield* Chan.poll(ch)).toStrictEqual(Option.none())
        const again = yield* Effect.forkChild(Chan.put(ch, 103))
        expect(yield* isSuspended(again)).toBe(kind.capacity === 0)
        expect(yield* Chan.take(ch)).toStrictEqual(Option.some(103))
        expect(yield* Fiber.join(again)).toBe(true)
      })
    ))

  it("putUnsafe counts toward maxPending and throws beyond it", () => {
    const ch = kind.make<number>({ name: "jobs", maxPending: 1 })
    for (let i = 0; i < kind.capacity; i++) Chan.offerUnsafe(ch, i)
    expect(Chan.putUnsafe(ch, 100)).toBe(true)
    const error = thrown(() => Chan.putUnsafe(ch, 101))
    expect(error).toBeInstanceOf(ChanPendingLimitError)
    expect((error as ChanPendingLimitError)._tag).toBe("ChanPendingLimitError")
    expect(pending(ch).puts).toBe(1)
  })
})

describe.each(kinds)("maxPending, takes: $name", (kind) => {
  it("the take beyond maxPending dies with ChanPendingLimitError; the channel keeps working", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>({ name: "jobs", maxPending: 2 })
        const takers = yield* Effect.forEach([1, 2], () => Effect.forkChild(Chan.take(ch)))
        for (const t of takers) expect(yield* isSuspended(t)).toBe(true)
        expectPendingLimit(yield* Effect.exit(Chan.take(ch)), "take")
        expect(pending(ch).takes).toBe(2)
        expect(yield* Chan.offer(ch, 1)).toBe(true)
        expect(yield* Chan.offer(ch, 2)).toBe(true)
        const expected = kind.policy === "promise" ? [1, 1] : [1, 2]
        expect(yield* Effect.forEach(takers, (t) => Effect.map(Fiber.join(t), Option.getOrThrow))).toEqual(expected)
        expect(pending(ch).takes).toBe(0)
      })
    ))
})

describe("maxPending default", () => {
  it("is 1024: the 1025th pending put throws", () => {
    const ch = Chan.makeUnsafe<number>()
    for (let i = 0; i < 1024; i++) Chan.putUnsafe(ch, i)
    expect(pending(ch).puts).toBe(1024)
    expect(thrown(() => Chan.putUnsafe(ch, 1024))).toBeInstanceOf(ChanPendingLimitError)
  })
})

// ── interruption ────────────────────────────────────────────────────────────

describe.each(kinds)("interruption, takes: $name", (kind) => {
  it("interrupting a pending take withdraws it and consumes nothing", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const taker = yield* Effect.forkChild(Chan.take(ch))
        expect(yield* isSuspended(taker)).toBe(true)
        expect(pending(ch).takes).toBe(1)
        yield* Fiber.interrupt(taker)
        expect(isInterrupted(yield* Fiber.await(taker))).toBe(true)
        expect(pending(ch).takes).toBe(0)
        // nobody waits any more: a rendezvous offer finds no taker; a buffer keeps the value
        expect(yield* Chan.offer(ch, 1)).toBe(kind.capacity > 0)
        expect(yield* Chan.size(ch)).toBe(kind.capacity > 0 ? 1 : 0)
        const putter = yield* Effect.forkChild(Chan.put(ch, 2))
        expect(yield* Chan.take(ch)).toStrictEqual(Option.some(kind.capacity > 0 ? 1 : 2))
        yield* Fiber.join(putter)
      })
    ))
})

describe.each(fifoKinds)("interruption, puts: $name", (kind) => {
  it("interrupting a pending put withdraws it and delivers nothing", () =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<number>()
        const buffered = yield* fill(ch, kind)
        const putter = yield* Effect.forkChild(Chan.put(ch, 99))
        expect(yield* isSuspended(putter)).toBe(true)
        expect(pending(ch).puts).toBe(1)
        yield* Fiber.interrupt(putter)
        expect(isInterrupted(yield* Fiber.await(putter))).toBe(true)
        expect(pending(ch).puts).toBe(0)
        expect(yield* takeN(ch, buffered.length)).toEqual(buffered)
        expect(yield* Chan.poll(ch)).toStrictEqual(Option.none())
        yield* Chan.close(ch)
        expect(yield* Chan.take(ch)).toStrictEqual(Option.none())
      })
    ))
})

// ── argument checks ─────────────────────────────────────────────────────────

describe("bad arguments throw ChanArgumentError", () => {
  it.each([
    ["makeUnsafe(-1)", () => Chan.makeUnsafe(-1), "buffer size", -1],
    ["makeUnsafe(1.5)", () => Chan.makeUnsafe(1.5), "buffer size", 1.5],
    ["makeUnsafe(NaN)", () => Chan.makeUnsafe(Number.NaN), "buffer size", Number.NaN],
    ["makeUnsafe(Infinity)", () => Chan.makeUnsafe(Number.POSITIVE_INFINITY), "buffer size", Infinity],
    ["Buffer.fixed(0)", () => Buffer.fixed(0), "Buffer.fixed", 0],
    ["Buffer.fixed(-2)", () => Buffer.fixed(-2), "Buffer.fixed", -2],
    ["Buffer.dropping(0)", () => Buffer.dropping(0), "Buffer.dropping", 0],
    ["Buffer.sliding(0)", () => Buffer.sliding(0), "Buffer.sliding", 0],
    ["maxPending 0", () => Chan.makeUnsafe(1, { maxPending: 0 }), "maxPending", 0],
    ["maxPending 1.5", () => Chan.makeUnsafe(1, { maxPending: 1.5 }), "maxPending", 1.5],
    ["promiseChanUnsafe maxPending 0", () => Chan.promiseChanUnsafe({ maxPending: 0 }), "maxPending", 0],
    ["timeoutUnsafe(-1)", () => Chan.timeoutUnsafe(-1), "duration", -1],
    ["timeoutUnsafe(NaN)", () => Chan.timeoutUnsafe(Number.NaN), "duration", Number.NaN]
  ] as const)("%s", (_, f, argument, value) => {
    expectArgumentError(thrown(f), argument, value)
  })

  // effect reads these as 0 millis: a timeout that would fire at once
  it.each([[{ second: 5 }], [{}], [{ seconds: 1, sec: 5 }], [{ seconds: Number.NaN }]])(
    "a duration object effect would misread, %j, names its units",
    (bad) => {
      const error = thrown(() => Chan.timeoutUnsafe(bad as never))
      expect(error).toBeInstanceOf(ChanArgumentError)
      expect((error as ChanArgumentError).message).toContain("duration")
      expect((error as ChanArgumentError).message).toContain("seconds, milliseconds")
      expect(Chan.timeoutUnsafe({ seconds: 0 })).toBeDefined() // a well-formed one is taken (0: no timer left behind)
    }
  )

  it("an xform without a buffer", () => {
    const error = thrown(() => Chan.makeUnsafe<number, number>(0, { xform: Xform.map((n: number) => n + 1) }))
    expect(error).toBeInstanceOf(ChanArgumentError)
    expect((error as ChanArgumentError)._tag).toBe("ChanArgumentError")
    expect((error as ChanArgumentError).message).toContain("xform")
    expect((error as ChanArgumentError).message).toContain("buffer")
  })

  it.each([
    ["Chan.make(-1)", Chan.make(-1), "buffer size", -1],
    ["Chan.make(2.5)", Chan.make(2.5), "buffer size", 2.5],
    ["Chan.promiseChan({ maxPending: 0 })", Chan.promiseChan({ maxPending: 0 }), "maxPending", 0],
    ["Chan.timeout(-5)", Chan.timeout(-5), "duration", -5],
    ["Chan.timeout(NaN)", Chan.timeout(Number.NaN), "duration", Number.NaN]
  ] as const)("the Effect constructor %s dies with it", (_, effect, argument, value) =>
    run(
      Effect.gen(function* () {
        const exit = yield* Effect.exit(effect as Effect.Effect<unknown>)
        expect(Exit.isFailure(exit)).toBe(true)
        expect(defects(exit)).toHaveLength(1)
        expectArgumentError(defects(exit)[0], argument, value)
      })
    )
  )
})

describe("an operation on something that is not a channel", () => {
  const notChannels: ReadonlyArray<unknown> = [undefined, null, {}, 5, "jobs"]
  /** How the error message shows a value. */
  const shown = (v: unknown) => (typeof v === "string" || (typeof v === "object" && v !== null) ? JSON.stringify(v) : v)
  const ops: ReadonlyArray<readonly [string, (ch: never) => Effect.Effect<unknown>]> = [
    ["put", (ch) => Chan.put(ch, 1)],
    ["take", (ch) => Chan.take(ch)],
    ["offer", (ch) => Chan.offer(ch, 1)],
    ["poll", (ch) => Chan.poll(ch)],
    ["close", (ch) => Chan.close(ch)],
    ["discard", (ch) => Chan.discard(ch)],
    ["isClosed", (ch) => Chan.isClosed(ch)],
    ["size", (ch) => Chan.size(ch)]
  ]
  it.each(ops)("Chan.%s dies with ChanArgumentError naming the channel argument and the value", (_, op) =>
    run(
      Effect.gen(function* () {
        for (const bad of notChannels) {
          const exit = yield* Effect.exit(Effect.suspend(() => op(bad as never)))
          expect(defects(exit)).toHaveLength(1)
          expectArgumentError(defects(exit)[0], "channel", shown(bad))
        }
      })
    )
  )

  it.each([
    ["putUnsafe", (ch: never) => Chan.putUnsafe(ch, 1)],
    ["offerUnsafe", (ch: never) => Chan.offerUnsafe(ch, 1)],
    ["pollUnsafe", (ch: never) => Chan.pollUnsafe(ch)],
    ["closeUnsafe", (ch: never) => Chan.closeUnsafe(ch)]
  ] as const)("Chan.%s throws ChanArgumentError", (_, op) => {
    for (const bad of notChannels) {
      expectArgumentError(
        thrown(() => op(bad as never)),
        "channel",
        shown(bad)
      )
    }
  })

  it("a bad select case (not a channel, a handler that is not a function, cases not an array) dies with ChanArgumentError and registers nothing", () =>
    run(
      Effect.gen(function* () {
        const ch = yield* Chan.make<number>()
        const bad: ReadonlyArray<readonly [string, Effect.Effect<unknown, unknown>, string, unknown]> = [
          ["onTake({})", Chan.select([Chan.onTake(ch, () => 1), Chan.onTake({} as never, () => 2)]), "channel", "{}"],
          [
            "onPut(null)",
            Chan.select([Chan.onTake(ch, () => 1), Chan.onPut(null as never, 1, () => 2)]),
            "channel",
            null
          ],
          ["onTake handler 3", Chan.select([Chan.onTake(ch, 3 as unknown as () => number)]), "handler", 3],
          ["onPut handler", Chan.select([Chan.onPut(ch, 1, "x" as unknown as () => number)]), "handler", '"x"'],
          ["onTimeout handler", Chan.select([Chan.onTimeout(10, null as unknown as () => number)]), "handler", null],
          ["select(undefined)", Chan.select(undefined as never), "select cases", undefined],
          ["select(ch)", Chan.select(ch as never), "select cases", "ChanCore"]
        ]
        for (const [label, select, argument, value] of bad) {
          const exit = yield* Effect.exit(select)
          expect(defects(exit), label).toHaveLength(1)
          expect(defects(exit)[0], label).toBeInstanceOf(ChanArgumentError)
          expect((defects(exit)[0] as ChanArgumentError).message, label).toContain(argument)
          if (value !== "ChanCore") expectArgumentError(defects(exit)[0], argument, value)
          expect(pending(ch), label).toEqual({ puts: 0, takes: 0 })
        }
        // the channel still works
        yield* Effect.forkChild(Chan.put(ch, 7))
        expect(yield* Chan.take(ch)).toStrictEqual(Option.some(7))
      })
    ))
})

// ── timeouts ────────────────────────────────────────────────────────────────

describe("Chan.timeout", () => {
  it("is open before d and closes exactly at d", () =>
    run(
      Effect.gen(function* () {
        const port = yield* Chan.timeout(1000)
        const taker = yield* Effect.forkChild(Chan.take(port))
        expect(yield* isSuspended(taker)).toBe(true)
        yield* TestClock.adjust(999)
        expect(yield* isSuspended(taker)).toBe(true)
        expect(yield* Chan.isClosed(port)).toBe(false)
        yield* TestClock.adjust(1)
        expect(yield* Fiber.join(taker)).toStrictEqual(Option.none())
        expect(yield* Chan.isClosed(port)).toBe(true)
      })
    ))

  it("accepts a Duration string", () =>
    run(
      Effect.gen(function* () {
        const port = yield* Chan.timeout("2 seconds")
        const taker = yield* Effect.forkChild(Chan.take(port))
        expect(yield* isSuspended(taker)).toBe(true)
        yield* TestClock.adjust("1999 millis")
        expect(yield* isSuspended(taker)).toBe(true)
        yield* TestClock.adjust("1 milli")
        expect(yield* Fiber.join(taker)).toStrictEqual(Option.none())
      })
    ))

  it("timeout(0) is closed at once", () =>
    run(
      Effect.gen(function* () {
        const port = yield* Chan.timeout(0)
        expect(yield* Chan.isClosed(port)).toBe(true)
        expect(yield* Chan.take(port)).toStrictEqual(Option.none())
      })
    ))

  it("a duration above 2^31-1 ms does not fire early", () =>
    run(
      Effect.gen(function* () {
        const port = yield* Chan.timeout(2 ** 31 + 1000)
        const taker = yield* Effect.forkChild(Chan.take(port))
        expect(yield* isSuspended(taker)).toBe(true)
        yield* TestClock.adjust(10)
        expect(yield* isSuspended(taker)).toBe(true)
        yield* TestClock.adjust(2 ** 31 - 1 - 10)
        expect(yield* isSuspended(taker)).toBe(true)
        expect(yield* Chan.isClosed(port)).toBe(false)
        yield* TestClock.adjust(1001)
        expect(yield* Fiber.join(taker)).toStrictEqual(Option.none())
      })
    ))

  it("timeout(Infinity) never closes", () =>
    run(
      Effect.gen(function* () {
        const port = yield* Chan.timeout(Number.POSITIVE_INFINITY)
        const taker = yield* Effect.forkChild(Chan.take(port))
        expect(yield* isSuspended(taker)).toBe(true)
        yield* TestClock.adjust("3650 days")
        expect(yield* isSuspended(taker)).toBe(true)
        expect(yield* Chan.isClosed(port)).toBe(false)
      })
    ))

  it("each call gives its own port", () =>
    run(
      Effect.gen(function* () {
        const a = yield* Chan.timeout(100)
        const b = yield* Chan.timeout(200)
        const c = yield* Chan.timeout(100)
        expect(a).not.toBe(c)
        const takers = yield* Effect.forEach([a, b, c], (p) => Effect.forkChild(Chan.take(p)))
        for (const t of takers) expect(yield* isSuspended(t)).toBe(true)
        yield* TestClock.adjust(100)
        expect(yield* Effect.forEach([a, b, c], Chan.isClosed)).toEqual([true, false, true])
        yield* TestClock.adjust(100)
        expect(yield* Chan.isClosed(b)).toBe(true)
      })
    ))
})

describe("Chan.timeoutUnsafe", () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  const isClosed = (port: Chan.ReadPort<never>) => Effect.runSync(Chan.isClosed(port))

  it("returns an open port", () => {
    const port = Chan.timeoutUnsafe(Number.POSITIVE_INFINITY)
    expect(isClosed(port)).toBe(false)
    expect(Chan.pollUnsafe(port)).toStrictEqual(Option.none())
  })

  it("timeoutUnsafe(0) is closed at once", () => {
    const port = Chan.timeoutUnsafe(0)
    expect(isClosed(port)).toBe(true)
  })

  it("closes when its live timer fires (fake timers)", () => {
    vi.useFakeTimers()
    const port = Chan.timeoutUnsafe(1000)
    vi.advanceTimersByTime(999)
    expect(isClosed(port)).toBe(false)
    vi.advanceTimersByTime(1)
    expect(isClosed(port)).toBe(true)
  })

  it("a duration above 2^31-1 ms does not fire early (fake timers clamp like Node)", () => {
    vi.useFakeTimers()
    const port = Chan.timeoutUnsafe(2 ** 31 + 1000)
    vi.advanceTimersByTime(10)
    expect(isClosed(port)).toBe(false)
    vi.advanceTimersByTime(2 ** 31 - 1 - 10)
    expect(isClosed(port)).toBe(false)
    vi.advanceTimersByTime(1001)
    expect(isClosed(port)).toBe(true)
  })
})
