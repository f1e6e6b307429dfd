/**
 * The core.async conformance gaps closed after the core.async audit: `promiseChan` with an xform
 * (typed as at run time), the port `onto` returns (core.async `onto-chan!`'s channel), `split`'s
 * output buffers, `discard` on a promise channel, and a tap or sub made after the source closed.
 */
import { Cause, Effect, Fiber, Option, type Scope } from "effect"
import { describe, expect, it } from "vitest"
import { Buffer, Chan, Mult, Pub, Xform } from "../src/index.js"
import { counting, expectArgumentError, isSuspended, range, run, settle, soleDefect, takeN } from "./harness.js"
import {
  captureLogs,
  closeScope,
  expectNothingPending,
  inScope,
  isClosedNow,
  openScope,
  pollAll,
  undelivered
} from "./lifetimes.js"

// ── promiseChan with an xform ───────────────────────────────────────────────

describe("promiseChan with an xform", () => {
  it("promiseChanUnsafe types and runs an xform: the first value it produces is the value, for every taker", () => {
    const lost = undelivered<number | string>()
    const ch: Chan.Chan<number, string> = Chan.promiseChanUnsafe({
      xform: Xform.map((n: number) => `#${n}`),
      onUndelivered: lost.onUndelivered
    })
    const typeOnly = () => {
      // @ts-expect-error: the put side takes the xform's input type
      Chan.offerUnsafe(ch, "not a number")
    }
    expect(typeof typeOnly).toBe("function")
    expect(Chan.offerUnsafe(ch, 1)).toBe(true)
    expect(Chan.offerUnsafe(ch, 2)).toBe(true) // accepted and ignored: the first value stays
    const value: Option.Option<string> = Chan.pollUnsafe(ch)
    expect(value).toEqual(Option.some("#1"))
    expect(Chan.pollUnsafe(ch)).toEqual(Option.some("#1"))
    expect(lost.values).toEqual(["#2"])
  })

  it("promiseChan with a filtering xform waits for the first value that passes; onXformError replaces a throw", () =>
    run(
      Effect.gen(function* () {
        const firstEven = yield* Chan.promiseChan({ xform: Xform.filter((n: number) => n % 2 === 0) })
        const waiting = yield* Effect.forkChild(Chan.take(firstEven))
        yield* Chan.put(firstEven, 3)
        expect(yield* isSuspended(waiting)).toBe(true)
        yield* Chan.put(firstEven, 4)
        yield* Chan.put(firstEven, 6)
        expect(yield* Fiber.join(waiting)).toEqual(Option.some(4))
        expect(yield* Chan.take(firstEven)).toEqual(Option.some(4))

        const parsed = yield* Chan.promiseChan({
          xform: Xform.map((s: string) => {
            const n = Number(s)
            if (Number.isNaN(n)) throw new Error(`not a number: ${s}`)
            return n
          }),
          onXformError: (_error, input) => Option.some(input.length)
        })
        yield* Chan.put(parsed, "abc")
        expect(yield* Chan.take(parsed)).toEqual(Option.some(3))
      })
    ))

  it("the options of a promise channel with an xform are checked: an xform that is not one dies naming it", () =>
    run(
      Effect.gen(function* () {
        const defect = yield* soleDefect(Chan.promiseChan({ xform: 5 } as never))
        expectArgumentError(defect, "Chan.promiseChan xform", 5)
      })
    ))
})

// ── discard on a promise channel ────────────────────────────────────────────

describe("discard on a promise channel", () => {
  it("closes it and returns []: its value stays takeable and is not undelivered", () =>
    run(
      Effect.gen(function* () {
        const lost = undelivered<string>()
        const ready = yield* Chan.promiseChan<string>({ onUndelivered: lost.onUndelivered })
        yield* Chan.put(ready, "connected")
        expect(yield* Chan.discard(ready)).toEqual([])
        expect(yield* Chan.isClosed(ready)).toBe(true)
        expect(yield* Chan.take(ready)).toEqual(Option.some("connected"))
        expect(yield* Chan.take(ready)).toEqual(Option.some("connected"))
        expect(yield* Chan.put(ready, "late")).toBe(false)
        expect(lost.values).toEqual([])
      })
    ))

  it("an empty promise channel discarded is closed: takes see None", () =>
    run(
      Effect.gen(function* () {
        const ready = yield* Chan.promiseChan<string>()
        expect(yield* Chan.discard(ready)).toEqual([])
        expect(yield* Chan.take(ready)).toEqual(Option.none())
      })
    ))
})

// ── onto's completion port ──────────────────────────────────────────────────

describe("onto returns a port that closes once the copying has ended", () => {
  it.each([true, false])(
    "after the last value was put (close: %s), and after ch was closed when close holds",
    (close) =>
      run(
        Effect.scoped(
          Effect.gen(function* () {
            const ch = Chan.makeUnsafe<number>() // rendezvous: each put waits for a take
            const done = yield* Chan.onto(ch, [1, 2, 3], { close })
            // whoever waits on the port sees ch in its final state when it wakes
            const waiter = yield* Effect.forkChild(
              Effect.map(Chan.take(done), (end) => ({ end, chClosed: isClosedNow(ch) }))
            )
            expect(yield* takeN(ch, 2)).toEqual([1, 2])
            expect(yield* isSuspended(waiter)).toBe(true)
            expect(isClosedNow(done)).toBe(false)
            expect(yield* takeN(ch, 1)).toEqual([3])
            expect(yield* Fiber.join(waiter)).toEqual({ end: Option.none(), chClosed: close })
            expect(isClosedNow(done)).toBe(true)
            expect(isClosedNow(ch)).toBe(close)
            expectNothingPending(ch, done)
          })
        )
      )
  )

  it("with a buffer that takes every value, it closes without any take from ch", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const ch = Chan.makeUnsafe<number>(8)
          const done = yield* Chan.onto(ch, range(5), { close: false })
          expect(yield* Chan.take(done)).toEqual(Option.none())
          expect(pollAll(ch)).toEqual(range(5))
          expect(isClosedNow(ch)).toBe(false)
        })
      )
    ))

  it.each([true, false])("when the scope closes early (close: %s): the port closes, ch only with close", (close) =>
    run(
      Effect.gen(function* () {
        const scope = yield* openScope
        const values = counting({}) // 0, 1, 2, … endless
        const lost = undelivered<number>()
        const ch = Chan.makeUnsafe<number>(0, { onUndelivered: lost.onUndelivered })
        const done = yield* inScope(scope, Chan.onto(ch, values.iterable, { close }))
        expect(yield* takeN(ch, 1)).toEqual([0])
        yield* settle
        expect(isClosedNow(done)).toBe(false)
        yield* closeScope(scope)
        expect(isClosedNow(done)).toBe(true)
        expect(yield* Chan.take(done)).toEqual(Option.none())
        expect(isClosedNow(ch)).toBe(close)
        expect(lost.values).toEqual([1])
        expectNothingPending(ch, done)
      })
    )
  )

  it("when ch is closed by someone else, or the iterator throws, the port closes too", async () => {
    const logs = captureLogs()
    await run(
      Effect.scoped(
        Effect.gen(function* () {
          const ch = Chan.makeUnsafe<number>()
          const done = yield* Chan.onto(ch, range(10), { close: false })
          expect(yield* takeN(ch, 1)).toEqual([0])
          yield* settle // the put of 1 is pending
          yield* Chan.close(ch)
          expect(yield* Chan.take(ch)).toEqual(Option.some(1)) // the put pending at the close
          expect(yield* Chan.take(done)).toEqual(Option.none())

          const broken = function* () {
            yield 1
            throw new Error("iterator broke")
          }
          const other = Chan.makeUnsafe<number>(4)
          const otherDone = yield* Chan.onto(other, broken())
          expect(yield* Chan.take(otherDone)).toEqual(Option.none())
          expect(yield* Chan.toArray(other)).toEqual([1])
        })
      ).pipe(Effect.provide(logs.layer))
    )
    expect(logs.errors().map((l) => (Cause.squash(l.cause) as Error).message)).toEqual(["iterator broke"])
  })

  it("callers written for the old void result still compile and run", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const ch = Chan.makeUnsafe<number>(4)
          const legacy: Effect.Effect<void, never, Scope.Scope> = Chan.onto(ch, [1, 2])
          yield* legacy
          expect(yield* Chan.toArray(ch)).toEqual([1, 2])
        })
      )
    ))
})

// ── split's output buffers ──────────────────────────────────────────────────

describe("split with output buffers", () => {
  it("unbuffered (the default), an unread output holds back the other", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const from = yield* Chan.fromIterable([1, 10, 11])
          const [big] = yield* Chan.split((n: number) => n >= 10, from)
          const reader = yield* Effect.forkChild(takeN(big, 2))
          expect(yield* isSuspended(reader)).toBe(true)
        })
      )
    ))

  it("a noBuffer lets the values where p holds through while the others wait in it", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const from = yield* Chan.fromIterable([1, 2, 10, 11, 3])
          const [big, small] = yield* Chan.split((n: number) => n >= 10, from, { noBuffer: 3 })
          expect(yield* Chan.toArray(big)).toEqual([10, 11])
          expect(yield* Chan.size(small)).toBe(3)
          expect(yield* Chan.toArray(small)).toEqual([1, 2, 3])
        })
      )
    ))

  it("a yesBuffer keeps its policy: a sliding buffer keeps the newest, and never holds back the other output", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const from = yield* Chan.fromIterable([10, 1, 11, 2, 12, 3])
          const [big, small] = yield* Chan.split((n: number) => n >= 10, from, {
            yesBuffer: Buffer.sliding(1),
            noBuffer: Buffer.fixed(1)
          })
          expect(yield* takeN(small, 3)).toEqual([1, 2, 3])
          expect(yield* Chan.toArray(small)).toEqual([])
          expect(yield* Chan.toArray(big)).toEqual([12])
        })
      )
    ))

  it("dies with ChanArgumentError naming the option and its value, before reading from", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const from = Chan.makeUnsafe<number>(1)
          Chan.offerUnsafe(from, 1)
          const p = (n: number) => n > 0
          const refused: ReadonlyArray<readonly [Effect.Effect<unknown, never, Scope.Scope>, string, unknown]> = [
            [Chan.split(p, from, { yesBuffer: -1 }), "Chan.split yesBuffer size", -1],
            [Chan.split(p, from, { noBuffer: 1.5 }), "Chan.split noBuffer size", 1.5],
            [Chan.split(p, from, { noBuffer: "2" } as never), "Chan.split noBuffer", "2"],
            [Chan.split(p, from, { yesBuffer: null } as never), "Chan.split yesBuffer", null],
            [Chan.split(p, from, { yesbuffer: 2 } as never), "Chan.split yesbuffer", 2],
            [Chan.split(p, from, 4 as never), "Chan.split options", 4],
            [Chan.split(p, from, [1, 2] as never), "Chan.split options", [1, 2]],
            // merge's buffer is named as merge's argument too
            [Chan.merge([from], -1), "Chan.merge buffer size", -1],
            [Chan.merge([from], "2" as never), "Chan.merge buffer", "2"]
          ]
          for (const [effect, argument, value] of refused) {
            expectArgumentError(yield* soleDefect(effect), argument, value)
          }
          const unknownKey = (yield* soleDefect(Chan.split(p, from, { yesbuffer: 2 } as never))) as Error
          expect(unknownKey.message).toContain("yesBuffer")
          yield* settle
          expect(yield* Chan.size(from)).toBe(1)
        })
      )
    ))
})

// ── a tap or sub made after the source closed ───────────────────────────────

describe("a tap or sub made after the source closed", () => {
  it("is closed at once and gets nothing, unless close: false leaves it open", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>(1)
          const m = yield* Chan.mult(source)
          const p = yield* Chan.pub(source, (n: number) => n % 2)
          Chan.closeUnsafe(source)
          yield* settle
          const tap = Chan.makeUnsafe<number>(1)
          const openTap = Chan.makeUnsafe<number>(1)
          const sub = Chan.makeUnsafe<number>(1)
          const openSub = Chan.makeUnsafe<number>(1)
          yield* Mult.tap(m, tap)
          yield* Mult.tap(m, openTap, { close: false })
          yield* Pub.sub(p, 0, sub)
          yield* Pub.sub(p, 0, openSub, { close: false })
          expect([tap, openTap, sub, openSub].map(isClosedNow)).toEqual([true, false, true, false])
          expect(yield* Chan.take(tap)).toEqual(Option.none())
          expect(yield* Chan.take(sub)).toEqual(Option.none())
        })
      )
    ))
})
