/**
 * Fair hand-off: waiting takers (and putters) are served first come, first served, so that
 * consumers reading one channel each get their share, whatever way they receive (take, select,
 * poll, forEach, the async iterators, the Promise facade).
 *
 * The shares are checked loosely — each of K alike consumers receives between N/(2K) and 2N/K of
 * N values — since which consumer is first in line depends on scheduling. Everything runs on
 * fibers and `yieldNow` (or, for Promise consumers, on turns of the event loop): no sleeps.
 */
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
