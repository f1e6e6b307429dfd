/**
 * Mult: every value to every tap, slow taps, closed taps, untap, close propagation and teardown.
 */
import { Effect, Fiber, Option } from "effect"
import { describe, expect, it } from "vitest"
import * as Buffer from "../src/Buffer.js"
import * as Chan from "../src/Chan.js"
import { ChanArgumentError } from "../src/ChanError.js"
import { toArray } from "../src/internal/combinators.js"
import * as Mult from "../src/Mult.js"
import { defectOf, expectArgumentError, pending, range, run, settle, takeN } from "./harness.js"
import {
  type ClosedRun,
  closeScope,
  expectBothEnds,
  expectNothingPending,
  inScope,
  isClosedNow,
  openScope,
  pollAll,
  undelivered
} from "./lifetimes.js"

/**
 * Taps a mult of a source holding 0..19 with an unbuffered and a buffered tap, each with a consumer,
 * closes the scope after `turns` scheduler turns, checks that each tap got every value taken from the
 * source or had it given back, once, and returns where the values ended up, per tap.
 */
const closeAfterTurns = (turns: number) =>
  Effect.gen(function* () {
    const scope = yield* openScope
    const source = Chan.makeUnsafe<number>(20)
    for (let i = 0; i < 20; i++) Chan.offerUnsafe(source, i)
    const m = yield* inScope(scope, Mult.make(source))
    const taps = [0, 1].map((buffer) => {
      const lost = undelivered<number>()
      const received: Array<number> = []
      const ch = Chan.makeUnsafe<number>(buffer, { onUndelivered: lost.onUndelivered })
      return { ch, lost, received }
    })
    const consumers: Array<Fiber.Fiber<never>> = []
    for (const t of taps) {
      yield* Mult.tap(m, t.ch)
      consumers.push(
        yield* Effect.forkChild(
          Effect.forever(Effect.map(Chan.take(t.ch), (v) => Option.map(v, (x) => t.received.push(x))))
        )
      )
    }
    for (let i = 0; i < turns; i++) yield* Effect.yieldNow
    yield* closeScope(scope)
    for (const c of consumers) yield* Fiber.interrupt(c)
    const left = pollAll(source)
    const taken = Array.from({ length: 20 }, (_, i) => i).filter((i) => !left.includes(i))
    for (const t of taps) {
      t.received.push(...pollAll(t.ch))
      expect([...t.received, ...t.lost.values].sort((a, b) => a - b)).toEqual(taken)
      expect(t.received).toEqual([...t.received].sort((a, b) => a - b))
      expectNothingPending(t.ch)
    }
    expectNothingPending(source)
    return taps.map((t): ClosedRun => ({ received: t.received, lost: t.lost.values, left }))
  })

describe("Mult", () => {
  it("a tap that is not a channel (or a mult that is not one) dies with ChanArgumentError; the mult keeps serving its taps", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>(4)
          const m = yield* Mult.make(source)
          const tap = Chan.makeUnsafe<number>(4)
          yield* Mult.tap(m, tap)
          for (const [bad, argument] of [
            [Mult.tap(m, {} as never), "Mult.tap ch"],
            [Mult.tap(m, null as never), "Mult.tap ch"],
            [Mult.tap({} as never, tap), "mult"]
          ] as const) {
            const exit = yield* Effect.exit(bad)
            expect(defectOf(exit)).toBeInstanceOf(ChanArgumentError)
            expect((defectOf(exit) as ChanArgumentError).argument).toBe(argument)
          }
          yield* Effect.exit(Mult.make({} as never)).pipe(
            Effect.map((exit) => expect((defectOf(exit) as ChanArgumentError).argument).toBe("Chan.mult source"))
          )
          for (const n of [1, 2]) yield* Chan.put(source, n)
          expect(yield* takeN(tap, 2)).toEqual([1, 2])
        })
      )
    ))

  it("copies every value to every unbuffered tap, in order", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>()
          const m = yield* Mult.make(source)
          const taps = [Chan.makeUnsafe<number>(), Chan.makeUnsafe<number>(), Chan.makeUnsafe<number>()]
          for (const t of taps) yield* Mult.tap(m, t)
          yield* Effect.forkChild(
            Effect.forEach([1, 2, 3, 4], (i) => Chan.put(source, i)).pipe(Effect.andThen(Chan.close(source)))
          )
          const got = yield* Effect.all(taps.map(toArray), { concurrency: "unbounded" })
          expect(got).toEqual([
            [1, 2, 3, 4],
            [1, 2, 3, 4],
            [1, 2, 3, 4]
          ])
        })
      )
    ))

  it("with unbuffered taps and a closed one: the closed tap is removed, the others get everything", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>()
          const m = yield* Mult.make(source)
          const lost = undelivered<number>()
          const a = Chan.makeUnsafe<number>()
          const b = Chan.makeUnsafe<number>()
          const closed = Chan.makeUnsafe<number>(0, { onUndelivered: lost.onUndelivered })
          yield* Mult.tap(m, a)
          yield* Mult.tap(m, closed)
          yield* Mult.tap(m, b)
          Chan.closeUnsafe(closed)
          yield* Effect.forkChild(
            Effect.forEach([1, 2, 3], (i) => Chan.put(source, i)).pipe(Effect.andThen(Chan.close(source)))
          )
          const got = yield* Effect.all([toArray(a), toArray(b)], { concurrency: "unbounded" })
          expect(got).toEqual([
            [1, 2, 3],
            [1, 2, 3]
          ])
          // the closed tap missed the first value, then was removed
          expect(lost.values).toEqual([1])
        })
      )
    ))

  it("a slow tap holds back every tap, until it takes", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>(8)
          const m = yield* Mult.make(source)
          const slow = Chan.makeUnsafe<number>()
          const fast = Chan.makeUnsafe<number>(8)
          yield* Mult.tap(m, slow)
          yield* Mult.tap(m, fast)
          for (const i of [1, 2, 3]) yield* Chan.put(source, i)
          yield* settle
          expect(pollAll(fast)).toEqual([1])
          expect(yield* Chan.size(source)).toBe(2)
          expect(pending(slow).puts).toBe(1)
          expect(yield* takeN(slow, 1)).toEqual([1])
          yield* settle
          expect(pollAll(fast)).toEqual([2])
        })
      )
    ))

  it("a tap with a sliding buffer does not hold the others back", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>(8)
          const m = yield* Mult.make(source)
          const lagging = Chan.makeUnsafe<number>(Buffer.sliding(1))
          const fast = Chan.makeUnsafe<number>(8)
          yield* Mult.tap(m, lagging)
          yield* Mult.tap(m, fast)
          for (const i of [1, 2, 3]) yield* Chan.put(source, i)
          yield* settle
          expect(pollAll(fast)).toEqual([1, 2, 3])
          expect(pollAll(lagging)).toEqual([3])
        })
      )
    ))

  it("values taken while there is no tap are dropped", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>(8)
          const m = yield* Mult.make(source)
          for (const i of [1, 2]) yield* Chan.put(source, i)
          yield* settle
          expect(yield* Chan.size(source)).toBe(0)
          const t = Chan.makeUnsafe<number>(8)
          yield* Mult.tap(m, t)
          yield* Chan.put(source, 3)
          yield* settle
          expect(pollAll(t)).toEqual([3])
        })
      )
    ))

  it("untap withdraws a put waiting on that tap (to its onUndelivered) and the others go on", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>(8)
          const m = yield* Mult.make(source)
          const lost = undelivered<number>()
          const slow = Chan.makeUnsafe<number>(0, { onUndelivered: lost.onUndelivered })
          const fast = Chan.makeUnsafe<number>(8)
          yield* Mult.tap(m, slow)
          yield* Mult.tap(m, fast)
          for (const i of [1, 2, 3]) yield* Chan.put(source, i)
          yield* settle
          expect(pending(slow).puts).toBe(1)
          yield* Mult.untap(m, slow)
          yield* settle
          expect(lost.values).toEqual([1])
          expectNothingPending(slow)
          expect(isClosedNow(slow)).toBe(false)
          expect(pollAll(fast)).toEqual([1, 2, 3])
        })
      )
    ))

  // the second case first had a peak of 1000 taps, all untapped: the threshold follows what is left, not the peak
  it.each([
    ["", 0],
    [", after a peak of 1000 untapped taps", 1000]
  ])(
    "taps closed without untap are dropped by later taps while the source is quiet%s: 1000 of them leave at most as many as the open taps",
    (_, peak) =>
      run(
        Effect.scoped(
          Effect.gen(function* () {
            const source = Chan.makeUnsafe<number>(8)
            const m = yield* Mult.make(source)
            const before = range(peak).map(() => Chan.makeUnsafe<number>(8))
            for (const ch of before) yield* Mult.tap(m, ch)
            for (const ch of before) yield* Mult.untap(m, ch)
            const open = range(10).map(() => Chan.makeUnsafe<number>(8))
            for (const ch of open) yield* Mult.tap(m, ch)
            // a client per tap that leaves by closing its channel, nothing flowing meanwhile
            const lost = undelivered<number>()
            for (let i = 0; i < 1000; i++) {
              const gone = Chan.makeUnsafe<number>(8, { onUndelivered: lost.onUndelivered })
              yield* Mult.tap(m, gone)
              Chan.closeUnsafe(gone)
            }
            // the next value reaches every tap the mult still holds: a closed one misses it (reported)
            yield* Chan.put(source, 1)
            yield* settle
            expect(open.map(pollAll)).toEqual(open.map(() => [1]))
            const held = open.length + lost.values.length
            expect(held).toBeLessThanOrEqual(2 * open.length)
            // found closed, they are gone: the next value reports nothing
            yield* Chan.put(source, 2)
            yield* settle
            expect(lost.values.length).toBe(held - open.length)
          })
        )
      )
  )

  it("a closed tap with the current value's put pending is kept by those drops: untap still withdraws it", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>(8)
          const m = yield* Mult.make(source)
          const lost = undelivered<number>()
          const stuck = Chan.makeUnsafe<number>(0, { onUndelivered: lost.onUndelivered })
          const fast = Chan.makeUnsafe<number>(8)
          yield* Mult.tap(m, stuck)
          yield* Mult.tap(m, fast)
          yield* Chan.put(source, 1)
          yield* settle
          expect(pending(stuck).puts).toBe(1)
          Chan.closeUnsafe(stuck)
          for (let i = 0; i < 100; i++) {
            const gone = Chan.makeUnsafe<number>(1)
            yield* Mult.tap(m, gone)
            Chan.closeUnsafe(gone)
          }
          yield* Mult.untap(m, stuck)
          yield* Chan.put(source, 2)
          yield* settle
          expect(lost.values).toEqual([1])
          expectNothingPending(stuck)
          expect(pollAll(fast)).toEqual([1, 2])
        })
      )
    ))

  it("untapAll removes every tap without closing them", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>(8)
          const m = yield* Mult.make(source)
          const a = Chan.makeUnsafe<number>(8)
          const b = Chan.makeUnsafe<number>(8)
          yield* Mult.tap(m, a)
          yield* Mult.tap(m, b)
          yield* Chan.put(source, 1)
          yield* settle
          yield* Mult.untapAll(m)
          yield* Chan.put(source, 2)
          Chan.closeUnsafe(source)
          yield* settle
          expect([pollAll(a), pollAll(b)]).toEqual([[1], [1]])
          expect([isClosedNow(a), isClosedNow(b)]).toEqual([false, false])
        })
      )
    ))

  it("when the source closes, taps with close (the default) close, the others stay open", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>(8)
          const m = yield* Mult.make(source)
          const closing = Chan.makeUnsafe<number>(8)
          const staying = Chan.makeUnsafe<number>(8)
          yield* Mult.tap(m, closing)
          yield* Mult.tap(m, staying, { close: false })
          yield* Chan.put(source, 1)
          yield* Chan.close(source)
          expect(yield* toArray(closing)).toEqual([1])
          yield* settle
          expect(isClosedNow(staying)).toBe(false)
          expect(pollAll(staying)).toEqual([1])
          // a tap added after the end is closed at once (or left alone with close: false)
          const late = Chan.makeUnsafe<number>()
          const lateOpen = Chan.makeUnsafe<number>()
          yield* Mult.tap(m, late)
          yield* Mult.tap(m, lateOpen, { close: false })
          expect([isClosedNow(late), isClosedNow(lateOpen)]).toEqual([true, false])
        })
      )
    ))

  it("tapping a channel again updates its close flag without duplicating it", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>(8)
          const m = yield* Mult.make(source)
          const t = Chan.makeUnsafe<number>(8)
          yield* Mult.tap(m, t)
          yield* Mult.tap(m, t, { close: false })
          yield* Chan.put(source, 1)
          yield* Chan.close(source)
          yield* settle
          expect(pollAll(t)).toEqual([1])
          expect(isClosedNow(t)).toBe(false)
        })
      )
    ))

  it("closing the scope closes the taps (per close), gives back values owed, and leaves nothing registered", () =>
    run(
      Effect.gen(function* () {
        const scope = yield* openScope
        const source = Chan.makeUnsafe<number>(8)
        const m = yield* inScope(scope, Mult.make(source))
        const lostA = undelivered<number>()
        const lostB = undelivered<number>()
        const a = Chan.makeUnsafe<number>(0, { onUndelivered: lostA.onUndelivered })
        const b = Chan.makeUnsafe<number>(0, { onUndelivered: lostB.onUndelivered })
        const fed = Chan.makeUnsafe<number>(8)
        yield* Mult.tap(m, a)
        yield* Mult.tap(m, b, { close: false })
        yield* Mult.tap(m, fed)
        yield* Chan.put(source, 1)
        yield* settle
        expect([pending(a).puts, pending(b).puts]).toEqual([1, 1])
        yield* closeScope(scope)
        expectNothingPending(source, a, b, fed)
        expect([lostA.values, lostB.values]).toEqual([[1], [1]])
        expect([isClosedNow(a), isClosedNow(b), isClosedNow(fed)]).toEqual([true, false, true])
        expect(yield* toArray(fed)).toEqual([1])
        // nothing takes from the source any more
        yield* Chan.put(source, 2)
        yield* settle
        expect(pollAll(source)).toEqual([2])
        expect(Option.isNone(Chan.pollUnsafe(b))).toBe(true)
      })
    ))

  const allTurns = Array.from({ length: 40 }, (_, i) => i)

  it.each(allTurns)(
    "closing the scope after %i turns: each tap gets every value taken from the source, or has it given back, once",
    (turns) => run(Effect.asVoid(closeAfterTurns(turns)))
  )

  it("closing the scope after those turns: the table closes both before and after values moved, on each tap", () =>
    run(
      Effect.gen(function* () {
        const runs = yield* Effect.forEach(allTurns, closeAfterTurns)
        // the unbuffered tap has a value given back by some close; the buffered one need not
        expectBothEnds(
          runs.map((taps) => taps[0]!),
          range(20),
          true
        )
        expectBothEnds(
          runs.map((taps) => taps[1]!),
          range(20),
          false
        )
      })
    ))

  it("isMult tells a mult apart", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const m = yield* Mult.make(Chan.makeUnsafe<number>())
          expect(Mult.isMult(m)).toBe(true)
          expect(Mult.isMult(Chan.makeUnsafe<number>())).toBe(false)
        })
      )
    ))

  it("untap and untapAll refuse a mult that is not one, and untap a tap that is not a channel (ChanArgumentError naming it and the value), changing nothing", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>(4)
          const m = yield* Mult.make(source)
          const tap = Chan.makeUnsafe<number>(4)
          yield* Mult.tap(m, tap)
          const foreign = { taps: new Map([[tap, { cancel: () => expect.unreachable("touched") }]]) }
          for (const [bad, argument, value] of [
            [Mult.untap(foreign as never, tap), "mult", "taps"],
            [Mult.untap(m, 42 as never), "Mult.untap ch", 42],
            [Mult.untap(m, {} as never), "Mult.untap ch", "{}"],
            [Mult.untapAll("m" as never), "mult", '"m"'],
            [Mult.untapAll(undefined as never), "mult", undefined]
          ] as const) {
            expectArgumentError(defectOf(yield* Effect.exit(bad)), argument, value)
          }
          // the tap is still tapped
          for (const n of [1, 2]) yield* Chan.put(source, n)
          expect(yield* takeN(tap, 2)).toEqual([1, 2])
        })
      )
    ))
})
