/**
 * Fair hand-off: waiting takers (and putters) are served first come, first served, so that
 * consumers reading one channel each get their share, whatever way they receive (take, select,
 * poll, forEach, the async iterators, the Promise facade).
 *
 * The shares are checked loosely — each of K alike consumers receives between N/(2K) and 2N/K of
 * N values — since which consumer is first in line depends on scheduling. Everything runs on
 * fibers and `yieldNow` (or, for Promise consumers, on turns of the event loop): no sleeps.
 */
import { getEventListeners } from "node:events"
import * as Facade from "@tributary/channel/async"
import { Effect, Fiber, Option } from "effect"
import { describe, expect, it } from "vitest"
import { Buffer, Chan } from "../src/index.js"
import { run } from "./harness.js"

/** A value on the channel: its producer and its sequence number within that producer. */
interface Val {
  readonly p: number
  readonly s: number
}

/** What a consumer received, in order. */
type Received = Array<Val>

/** `producers` fibers each putting `perProducer` values, then the channel is closed. */
const produce = (ch: Chan.Chan<Val>, producers: number, perProducer: number) =>
  Effect.gen(function* () {
    const fibers: Array<Fiber.Fiber<void>> = []
    for (let p = 0; p < producers; p++) {
      fibers.push(
        yield* Effect.forkChild(
          Effect.gen(function* () {
            for (let s = 0; s < perProducer; s++) expect(yield* Chan.put(ch, { p, s })).toBe(true)
          })
        )
      )
    }
    yield* Fiber.joinAll(fibers)
    yield* Chan.close(ch)
  })

const takeLoop = (ch: Chan.Chan<Val>, got: Received) =>
  Effect.gen(function* () {
    for (let o = yield* Chan.take(ch); Option.isSome(o); o = yield* Chan.take(ch)) got.push(o.value)
  })

const selectLoop = (ch: Chan.Chan<Val>, got: Received) =>
  Effect.gen(function* () {
    while (true) {
      const o = yield* Chan.select([Chan.onTake(ch, (o) => o)])
      if (Option.isNone(o)) return
      got.push(o.value)
    }
  })

/** Polls; when nothing is there, yields (and stops once the channel is closed and drained). */
const pollLoop = (ch: Chan.Chan<Val>, got: Received) =>
  Effect.gen(function* () {
    while (true) {
      const o = yield* Chan.poll(ch)
      if (Option.isSome(o)) got.push(o.value)
      else if ((yield* Chan.isClosed(ch)) && (yield* Chan.size(ch)) === 0) return
      else yield* Effect.yieldNow
    }
  })

const forEachLoop = (ch: Chan.Chan<Val>, got: Received) => Chan.forEach(ch, (v) => Effect.sync(() => got.push(v)))

/** Each consumer's values of one producer come in the order that producer put them. */
const expectPerProducerOrder = (got: Received) => {
  const last = new Map<number, number>()
  for (const v of got) {
    const prev = last.get(v.p)
    if (prev !== undefined) expect(v.s, `producer ${v.p}: ${v.s} after ${prev}`).toBeGreaterThan(prev)
    last.set(v.p, v.s)
  }
}

/** Every value exactly once. */
const expectAllOnce = (all: ReadonlyArray<Received>, producers: number, perProducer: number) => {
  const keys = all.flat().map((v) => `${v.p}.${v.s}`)
  expect(keys.length).toBe(producers * perProducer)
  expect(new Set(keys).size).toBe(producers * perProducer)
}

describe("the issue's starvation case", () => {
  it("4 producers x 2,500 into Chan.make(64); a take loop, a select loop, a poll loop and forEach each receive values", () =>
    run(
      Effect.gen(function* () {
        const ch = yield* Chan.make<Val>(64)
        const got: Array<Received> = [[], [], [], []]
        const consumers = [
          yield* Effect.forkChild(takeLoop(ch, got[0])),
          yield* Effect.forkChild(selectLoop(ch, got[1])),
          yield* Effect.forkChild(pollLoop(ch, got[2])),
          yield* Effect.forkChild(forEachLoop(ch, got[3]))
        ]
        yield* produce(ch, 4, 2500)
        yield* Fiber.joinAll(consumers)
        expectAllOnce(got, 4, 2500)
        for (const g of got) expectPerProducerOrder(g)
        expect(
          got.map((g) => g.length > 0),
          `received: ${got.map((g) => g.length).join(" / ")}`
        ).toEqual([true, true, true, true])
      })
    ))

  it("four alike take loops on Chan.make(64) split 10,000 values fairly", () =>
    run(
      Effect.gen(function* () {
        const ch = yield* Chan.make<Val>(Buffer.fixed(64))
        const got: Array<Received> = [[], [], [], []]
        const consumers: Array<Fiber.Fiber<void>> = []
        for (const g of got) consumers.push(yield* Effect.forkChild(takeLoop(ch, g)))
        yield* produce(ch, 4, 2500)
        yield* Fiber.joinAll(consumers)
        expectAllOnce(got, 4, 2500)
        const n = 10_000
        for (const g of got) {
          expectPerProducerOrder(g)
          expect(g.length, `received: ${got.map((g) => g.length).join(" / ")}`).toBeGreaterThanOrEqual(n / 8)
          expect(g.length, `received: ${got.map((g) => g.length).join(" / ")}`).toBeLessThanOrEqual(n / 2)
        }
      })
    ))
})

// ── every buffer kind × every way to receive ────────────────────────────────

/** The buffer kinds of the split tests (a promise channel gives its one value to every take: below). */
const splitKinds: ReadonlyArray<{
  readonly name: string
  readonly lossy: boolean
  readonly make: (onUndelivered: (v: Val) => void) => Chan.Chan<Val>
}> = [
  { name: "rendezvous", lossy: false, make: (o) => Chan.makeUnsafe(0, { onUndelivered: o }) },
  { name: "fixed(1)", lossy: false, make: (o) => Chan.makeUnsafe(1, { onUndelivered: o }) },
  { name: "fixed(64)", lossy: false, make: (o) => Chan.makeUnsafe(Buffer.fixed(64), { onUndelivered: o }) },
  { name: "dropping(64)", lossy: true, make: (o) => Chan.makeUnsafe(Buffer.dropping(64), { onUndelivered: o }) },
  { name: "sliding(64)", lossy: true, make: (o) => Chan.makeUnsafe(Buffer.sliding(64), { onUndelivered: o }) }
]

/** A consumer that receives until the channel is closed and drained; resolves when done. */
type Consumer = (ch: Chan.Chan<Val>, got: Received) => Promise<void>

const effectConsumer =
  (loop: (ch: Chan.Chan<Val>, got: Received) => Effect.Effect<void>): Consumer =>
  (ch, got) =>
    Effect.runPromise(loop(ch, got))

const receivers: ReadonlyArray<{ readonly name: string; readonly consume: Consumer }> = [
  { name: "Chan.take", consume: effectConsumer(takeLoop) },
  { name: "Chan.select onTake", consume: effectConsumer(selectLoop) },
  { name: "Chan.forEach", consume: effectConsumer(forEachLoop) },
  {
    name: "Chan.toAsyncIterable",
    consume: async (ch, got) => {
      for await (const v of Chan.toAsyncIterable(ch)) got.push(v)
    }
  },
  {
    name: "facade take",
    consume: async (ch, got) => {
      for (let r = await Facade.take(ch); !r.done; r = await Facade.take(ch)) got.push(r.value)
    }
  },
  {
    name: "facade iterate",
    consume: async (ch, got) => {
      for await (const v of Facade.iterate(ch)) got.push(v)
    }
  }
]

/**
 * Producers putting through the Effect API; the channel closes once all are done. On a lossy buffer
 * (which never makes a put wait) each producer yields after every put, so that most values reach a
 * consumer instead of being dropped.
 */
const producing = (ch: Chan.Chan<Val>, producers: number, perProducer: number, lossy: boolean): Promise<void> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const fibers: Array<Fiber.Fiber<void>> = []
      for (let p = 0; p < producers; p++) {
        fibers.push(
          yield* Effect.forkChild(
            Effect.gen(function* () {
              for (let s = 0; s < perProducer; s++) {
                yield* Chan.put(ch, { p, s })
                if (lossy) yield* Effect.yieldNow
              }
            })
          )
        )
      }
      yield* Fiber.joinAll(fibers)
      yield* Chan.close(ch)
    })
  )

describe("K alike consumers each receive between N/(2K) and 2N/K of N values", () => {
  const K = 4
  const producers = 4
  const perProducer = 2500
  for (const kind of splitKinds) {
    describe(kind.name, () => {
      it.each(receivers)("$name", async ({ consume }) => {
        const undelivered: Array<Val> = []
        const ch = kind.make((v) => undelivered.push(v))
        const got: Array<Received> = Array.from({ length: K }, () => [])
        const done = got.map((g) => consume(ch, g))
        await producing(ch, producers, perProducer, kind.lossy)
        await Promise.all(done)
        const taken = got.flat()
        // every value put is taken once, or (lossy buffers) passed to onUndelivered once
        const keys = [...taken, ...undelivered].map((v) => `${v.p}.${v.s}`)
        expect(new Set(keys).size).toBe(producers * perProducer)
        expect(keys.length).toBe(producers * perProducer)
        if (!kind.lossy) expect(undelivered).toEqual([])
        const n = taken.length
        expect(n).toBeGreaterThan((producers * perProducer) / 2)
        const shares = `received: ${got.map((g) => g.length).join(" / ")}`
        for (const g of got) {
          expectPerProducerOrder(g)
          expect(g.length, shares).toBeGreaterThanOrEqual(n / (2 * K))
          expect(g.length, shares).toBeLessThanOrEqual((2 * n) / K)
        }
      })
    })
  }
})

/**
 * The poll loop never waits in line, and a poll sees only values no waiting taker is owed: it gets
 * values where the producers run ahead of the consumers (fixed buffers). On a rendezvous, dropping
 * or sliding channel every value here arrives while one of the other three waits, and is theirs.
 */
describe("a mixed set of consumers each receives values", () => {
  it.each(splitKinds)("$name: a take loop, a select loop, a poll loop that yields when empty, forEach", (kind) =>
    run(
      Effect.gen(function* () {
        const undelivered: Array<Val> = []
        const ch = kind.make((v) => undelivered.push(v))
        const got: Array<Received> = [[], [], [], []]
        const consumers = [
          yield* Effect.forkChild(takeLoop(ch, got[0])),
          yield* Effect.forkChild(selectLoop(ch, got[1])),
          yield* Effect.forkChild(pollLoop(ch, got[2])),
          yield* Effect.forkChild(forEachLoop(ch, got[3]))
        ]
        yield* produce(ch, 4, 500)
        yield* Fiber.joinAll(consumers)
        const keys = [...got.flat(), ...undelivered].map((v) => `${v.p}.${v.s}`)
        expect(new Set(keys).size).toBe(2000)
        expect(keys.length).toBe(2000)
        for (const g of got) expectPerProducerOrder(g)
        const pollGets = kind.name.startsWith("fixed")
        expect(
          got.map((g, i) => g.length > 0 || (i === 2 && !pollGets)),
          `received: ${got.map((g) => g.length).join(" / ")}`
        ).toEqual([true, true, true, true])
      })
    )
  )
})

describe("a promise channel gives its value to every waiting taker", () => {
  it("takes, selects and facade takes waiting on it all receive the value", async () => {
    const ch = Chan.promiseChanUnsafe<string>()
    const effects = [
      Effect.runPromise(Chan.take(ch)),
      Effect.runPromise(Chan.take(ch)),
      Effect.runPromise(Chan.select([Chan.onTake(ch, (o) => o)]))
    ]
    const facades = [Facade.take(ch), Facade.take(ch)]
    await Effect.runPromise(Effect.yieldNow)
    expect(Chan.offerUnsafe(ch, "v")).toBe(true)
    expect(await Promise.all(effects)).toEqual([Option.some("v"), Option.some("v"), Option.some("v")])
    expect(await Promise.all(facades)).toEqual([
      { done: false, value: "v" },
      { done: false, value: "v" }
    ])
  })
})

describe("a reservation is never lost: a woken taker interrupted before it takes", () => {
  it("passes its value to the next waiting taker, not to a later poll", () =>
    run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<string>(4)
        const first = yield* Effect.forkChild(Chan.take(ch))
        const second = yield* Effect.forkChild(Chan.take(ch))
        yield* Effect.yieldNow
        expect(Chan.offerUnsafe(ch, "v1")).toBe(true) // wakes the first taker: v1 is owed to it
        expect(Chan.pollUnsafe(ch)).toEqual(Option.none())
        first.interruptUnsafe() // before it ran: the second taker is owed v1 now
        expect(Chan.pollUnsafe(ch)).toEqual(Option.none())
        expect(yield* Fiber.join(second)).toEqual(Option.some("v1"))
        expect((yield* Fiber.await(first))._tag).toBe("Failure")
        expect(Chan.pollUnsafe(ch)).toEqual(Option.none())
      })
    ))

  it("with no taker waiting, leaves its value at the front of the buffer", () =>
    run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<string>(4)
        const first = yield* Effect.forkChild(Chan.take(ch))
        yield* Effect.yieldNow
        expect(Chan.offerUnsafe(ch, "v1")).toBe(true) // owed to the taker
        expect(Chan.offerUnsafe(ch, "v2")).toBe(true) // owed to no one
        first.interruptUnsafe()
        yield* Fiber.await(first)
        expect([Chan.pollUnsafe(ch), Chan.pollUnsafe(ch), Chan.pollUnsafe(ch)]).toEqual([
          Option.some("v1"),
          Option.some("v2"),
          Option.none()
        ])
      })
    ))

  it("a take arriving while a woken taker is on its way queues behind it (does not complete at once)", () =>
    run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<string>(4)
        const first = yield* Effect.forkChild(Chan.take(ch))
        yield* Effect.yieldNow
        expect(Chan.offerUnsafe(ch, "v1")).toBe(true) // wakes the first taker: one value owed to it
        expect(Chan.offerUnsafe(ch, "v2")).toBe(true)
        // started and run synchronously up to its first suspension, in this same step
        const later = Effect.runFork(Chan.take(ch))
        const laterDoneAtOnce = later.pollUnsafe() !== undefined
        const got = [yield* Fiber.join(first), yield* Fiber.join(later)]
        expect({ laterDoneAtOnce, got }).toEqual({
          laterDoneAtOnce: false,
          got: [Option.some("v1"), Option.some("v2")]
        })
      })
    ))

  it("a facade take served at once behind a woken taker leaves no abort listener behind", () =>
    run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<string>(4)
        const first = yield* Effect.forkChild(Chan.take(ch))
        yield* Effect.yieldNow
        expect(Chan.offerUnsafe(ch, "v1")).toBe(true) // wakes the first taker
        expect(Chan.offerUnsafe(ch, "v2")).toBe(true)
        const controller = new AbortController()
        const later = Facade.take(ch, { signal: controller.signal }) // queues behind it, served at once
        expect(getEventListeners(controller.signal, "abort")).toHaveLength(0)
        const got = [Option.getOrThrow(yield* Fiber.join(first)), (yield* Effect.promise(() => later)).value]
        expect(got.sort()).toEqual(["v1", "v2"])
      })
    ))

  it("a poll takes what no woken taker is owed; the woken taker still gets a value", () =>
    run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<string>(4)
        const taker = yield* Effect.forkChild(Chan.take(ch))
        yield* Effect.yieldNow
        expect(Chan.offerUnsafe(ch, "v1")).toBe(true) // owed to the taker
        expect(Chan.offerUnsafe(ch, "v2")).toBe(true)
        // one value is owed: the poll gets one, and a take (which would queue behind the taker) waits
        expect(Option.isSome(Chan.pollUnsafe(ch))).toBe(true)
        expect(Chan.pollUnsafe(ch)).toEqual(Option.none())
        expect(Option.isSome(yield* Fiber.join(taker))).toBe(true)
        expect(yield* Chan.size(ch)).toBe(0)
      })
    ))
})
