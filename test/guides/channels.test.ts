/**
 * docs/channels.md, claim by claim, as a user of `@tributary/channel` would check it: the buffer
 * table, `onUndelivered`, the guide's three examples and what they return, offer/poll, discard,
 * select, the pipeline's bounds and order, fan-out/fan-in, and the gotchas. Time is a `TestClock`;
 * "a put waits" is a forked fiber still suspended once every other fiber has settled.
 */
import { Buffer, Chan, Mix, Mult, Pub, Xform } from "@tributary/channel"
import { Cause, Effect, Exit, Fiber, Option, Scope, Stream } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"

const run = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>): Promise<A> =>
  Effect.runPromise(Effect.scoped(effect).pipe(Effect.provide(TestClock.layer())))

/** Lets every fiber that can make progress do so. */
const settle = Effect.gen(function* () {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow
})

/** Whether `fiber` is still waiting once everything else settled. */
const waiting = <A, E>(fiber: Fiber.Fiber<A, E>) => Effect.map(settle, () => fiber.pollUnsafe() === undefined)

describe("channels.md: Buffers", () => {
  it("Chan.make(): a put waits until a taker takes it (rendezvous)", () =>
    run(
      Effect.gen(function* () {
        const ch = yield* Chan.make<number>()
        const put = yield* Effect.forkChild(Chan.put(ch, 1))
        expect(yield* waiting(put)).toBe(true)
        expect(yield* Chan.take(ch)).toEqual(Option.some(1))
        expect(yield* Fiber.join(put)).toBe(true)
      })
    ))

  it("Chan.make(n) and Buffer.fixed(n): a put waits only when n values are buffered", () =>
    run(
      Effect.gen(function* () {
        for (const ch of [yield* Chan.make<number>(2), yield* Chan.make<number>(Buffer.fixed(2))]) {
          expect(yield* Chan.put(ch, 1)).toBe(true)
          expect(yield* Chan.put(ch, 2)).toBe(true)
          const third = yield* Effect.forkChild(Chan.put(ch, 3))
          expect(yield* waiting(third)).toBe(true)
          yield* Chan.take(ch)
          expect(yield* Fiber.join(third)).toBe(true)
        }
      })
    ))

  it("Buffer.dropping(n): a put never waits; on a full buffer the new value is dropped (to onUndelivered)", () =>
    run(
      Effect.gen(function* () {
        const lost: Array<number> = []
        const ch = yield* Chan.make<number>(Buffer.dropping(2), { onUndelivered: (v) => lost.push(v) })
        for (const v of [1, 2, 3, 4]) yield* Chan.put(ch, v)
        yield* Chan.close(ch)
        expect(yield* Chan.toArray(ch)).toEqual([1, 2])
        expect(lost).toEqual([3, 4])
      })
    ))

  it("Buffer.sliding(n): a put never waits; the oldest value makes room (to onUndelivered)", () =>
    run(
      Effect.gen(function* () {
        const lost: Array<number> = []
        const ch = yield* Chan.make<number>(Buffer.sliding(2), { onUndelivered: (v) => lost.push(v) })
        for (const v of [1, 2, 3, 4]) yield* Chan.put(ch, v)
        yield* Chan.close(ch)
        expect(yield* Chan.toArray(ch)).toEqual([3, 4])
        expect(lost).toEqual([1, 2])
      })
    ))

  it("Chan.promiseChan(): a put never waits, the first value is kept, every take sees it", () =>
    run(
      Effect.gen(function* () {
        const lost: Array<string> = []
        const ch = yield* Chan.promiseChan<string>({ onUndelivered: (v) => lost.push(v) })
        expect(yield* Chan.put(ch, "first")).toBe(true)
        expect(yield* Chan.put(ch, "second")).toBe(true)
        for (let i = 0; i < 3; i++) expect(yield* Chan.take(ch)).toEqual(Option.some("first"))
        expect(lost).toEqual(["second"])
      })
    ))

  it("onUndelivered gets discarded values and a value a combinator held when its scope closed", () =>
    run(
      Effect.gen(function* () {
        const discarded: Array<number> = []
        const ch = yield* Chan.make<number>(3, { onUndelivered: (v) => discarded.push(v) })
        yield* Chan.put(ch, 1)
        yield* Chan.put(ch, 2)
        expect(yield* Chan.discard(ch)).toEqual([1, 2])
        expect(discarded).toEqual([1, 2])

        const left: Array<string> = []
        const from = yield* Chan.make<string>(1)
        const to = yield* Chan.make<string>(0, { onUndelivered: (v) => left.push(v) })
        const scope = yield* Scope.make()
        yield* Chan.pipe(from, to).pipe(Scope.provide(scope))
        yield* Chan.put(from, "in flight") // taken by the pipe, which waits for a taker of `to`
        yield* settle
        yield* Scope.close(scope, Exit.void)
        expect(left).toEqual(["in flight"])
      })
    ))
})

describe("channels.md: Put, take, close", () => {
  it("the guide's example returns ['a', 'b', null]; put answers true, and false once closed", () =>
    run(
      Effect.gen(function* () {
        const ch = yield* Chan.make<string>(2)
        expect(yield* Chan.put(ch, "a")).toBe(true)
        yield* Chan.put(ch, "b")
        yield* Chan.close(ch)
        expect(yield* Chan.put(ch, "c")).toBe(false)
        const a = yield* Chan.take(ch)
        const b = yield* Chan.take(ch)
        const end = yield* Chan.take(ch)
        expect([a, b, end].map(Option.getOrNull)).toEqual(["a", "b", null])
      })
    ))

  it("offer and poll never wait: false / None when they would; the Unsafe variants work outside Effect", () =>
    run(
      Effect.gen(function* () {
        const ch = yield* Chan.make<number>()
        expect(yield* Chan.offer(ch, 1)).toBe(false)
        expect(yield* Chan.poll(ch)).toEqual(Option.none())
        const cb = Chan.makeUnsafe<number>(1)
        expect(Chan.offerUnsafe(cb, 1)).toBe(true)
        expect(Chan.offerUnsafe(cb, 2)).toBe(false)
        const done: Array<boolean> = []
        expect(Chan.putUnsafe(cb, 3, (accepted) => done.push(accepted))).toBe(true) // pending, not refused
        expect(Chan.pollUnsafe(cb)).toEqual(Option.some(1))
        expect(done).toEqual([true])
        Chan.closeUnsafe(cb)
        expect(Chan.pollUnsafe(cb)).toEqual(Option.some(3))
        expect(Chan.pollUnsafe(cb)).toEqual(Option.none())
      })
    ))

  it("discard closes and empties at once", () =>
    run(
      Effect.gen(function* () {
        const ch = yield* Chan.make<number>(2)
        yield* Chan.put(ch, 1)
        yield* Chan.discard(ch)
        expect(yield* Chan.isClosed(ch)).toBe(true)
        expect(yield* Chan.take(ch)).toEqual(Option.none())
      })
    ))
})

describe("channels.md: Select", () => {
  it("the guide's example answers 'cancel order-7'; the losing case takes nothing", () =>
    run(
      Effect.gen(function* () {
        const orders = yield* Chan.make<string>(1)
        const cancels = yield* Chan.make<string>(1)
        yield* Chan.put(cancels, "order-7")
        const result = yield* Chan.select([
          Chan.onTake(orders, (o) => `order ${Option.getOrElse(o, () => "(closed)")}`),
          Chan.onTake(cancels, (c) => `cancel ${Option.getOrElse(c, () => "(closed)")}`),
          Chan.onTimeout("5 seconds", () => "idle")
        ])
        expect(result).toBe("cancel order-7")

        // two ready channels: exactly one value is taken, the other stays
        const a = yield* Chan.make<string>(1)
        const b = yield* Chan.make<string>(1)
        yield* Chan.put(a, "a")
        yield* Chan.put(b, "b")
        const won = yield* Chan.select([Chan.onTake(a, Option.getOrThrow), Chan.onTake(b, Option.getOrThrow)])
        expect((yield* Chan.size(a)) + (yield* Chan.size(b))).toBe(1)
        expect(yield* Chan.poll(won === "a" ? b : a)).toEqual(Option.some(won === "a" ? "b" : "a"))
      })
    ))

  it("onTimeout answers when nothing is ready by then (Clock time)", () =>
    run(
      Effect.gen(function* () {
        const orders = yield* Chan.make<string>(1)
        const fiber = yield* Effect.forkChild(
          Chan.select([Chan.onTake(orders, () => "order"), Chan.onTimeout("5 seconds", () => "idle")])
        )
        yield* TestClock.adjust("4999 millis")
        expect(yield* waiting(fiber)).toBe(true)
        yield* TestClock.adjust("1 millis")
        expect(yield* Fiber.join(fiber)).toBe("idle")
      })
    ))
})

describe("channels.md: Pipelines, fan-out, fan-in", () => {
  it("pipeline: at most `concurrency` calls at once, outputs in input order, `to` closes when `from` does", () =>
    run(
      Effect.gen(function* () {
        let active = 0
        let most = 0
        const enrich = (id: number) =>
          Effect.gen(function* () {
            active++
            most = Math.max(most, active)
            yield* Effect.sleep(`${5 - id} seconds`) // later inputs end first
            active--
            return { id, name: `record ${id}` }
          })
        const ids = yield* Chan.fromIterable([1, 2, 3, 4])
        const records = yield* Chan.make<{ id: number; name: string }>(8)
        yield* Chan.pipeline(ids, records, enrich, { concurrency: 2 })
        const all = yield* Effect.forkChild(Chan.toArray(records))
        yield* settle
        yield* TestClock.adjust("20 seconds")
        expect((yield* Fiber.join(all)).map((r) => r.id)).toEqual([1, 2, 3, 4])
        expect(most).toBe(2)
      })
    ))

  it("closing the caller's scope stops a pipeline's fibers", () =>
    run(
      Effect.gen(function* () {
        let calls = 0
        const from = yield* Chan.make<number>(1)
        const to = yield* Chan.make<number>(8)
        const scope = yield* Scope.make()
        yield* Chan.pipeline(from, to, (n) => Effect.sync(() => ++calls && n), { concurrency: 1 }).pipe(
          Scope.provide(scope)
        )
        yield* Chan.put(from, 1)
        yield* settle
        yield* Scope.close(scope, Exit.void)
        yield* Chan.put(from, 2)
        yield* settle
        expect(calls).toBe(1)
        expect(yield* Chan.size(from)).toBe(1) // nobody takes any more
      })
    ))

  it("mult: every value to every tap; pub: each value to its topic's subscribers", () =>
    run(
      Effect.gen(function* () {
        const source = yield* Chan.fromIterable([1, 2, 3])
        const m = yield* Chan.mult(source)
        const left = yield* Chan.make<number>(3)
        const right = yield* Chan.make<number>(3)
        yield* Mult.tap(m, left)
        yield* Mult.tap(m, right)
        expect([yield* Chan.toArray(left), yield* Chan.toArray(right)]).toEqual([
          [1, 2, 3],
          [1, 2, 3]
        ])

        const words = yield* Chan.fromIterable(["apple", "bean", "avocado"])
        const p = yield* Chan.pub(words, (w) => w[0])
        const a = yield* Chan.make<string>(3)
        const b = yield* Chan.make<string>(3)
        yield* Pub.sub(p, "a", a)
        yield* Pub.sub(p, "b", b)
        expect([yield* Chan.toArray(a), yield* Chan.toArray(b)]).toEqual([["apple", "avocado"], ["bean"]])
      })
    ))

  it("merge and mix bring many channels into one; split, pipe, xforms and the conversions", () =>
    run(
      Effect.gen(function* () {
        const merged = yield* Chan.merge([yield* Chan.fromIterable([1, 2]), yield* Chan.fromIterable([3])])
        expect((yield* Chan.toArray(merged)).sort()).toEqual([1, 2, 3])
        const out = yield* Chan.make<number>(4)
        const mixer = yield* Chan.mix(out)
        yield* Mix.add(mixer, yield* Chan.fromIterable([5, 6]))
        yield* Mix.add(mixer, yield* Chan.fromIterable([9]))
        const mixed = [yield* Chan.take(out), yield* Chan.take(out), yield* Chan.take(out)].map(Option.getOrThrow)
        expect(mixed.sort()).toEqual([5, 6, 9])

        const [even, odd] = yield* Chan.split((n: number) => n % 2 === 0, yield* Chan.fromIterable([1, 2, 3, 4]))
        const evens = yield* Effect.forkChild(Chan.toArray(even))
        expect(yield* Chan.toArray(odd)).toEqual([1, 3])
        expect(yield* Fiber.join(evens)).toEqual([2, 4])

        const piped = yield* Chan.make<number>(4)
        yield* Chan.pipe(yield* Chan.fromIterable([7, 8]), piped)
        expect(yield* Chan.toArray(piped)).toEqual([7, 8])

        const xf = yield* Chan.make(8, {
          xform: Xform.compose(
            Xform.map((n: number) => n * 10),
            Xform.dedupe<number>(),
            Xform.take<number>(2)
          )
        })
        yield* Chan.onto(xf, [1, 1, 2, 3])
        expect(yield* Chan.toArray(xf)).toEqual([10, 20])

        const fromStream = yield* Chan.fromStream(Stream.make(1, 2, 3))
        expect(yield* Stream.runCollect(Chan.toStream(fromStream))).toEqual([1, 2, 3])
        const it = Chan.toAsyncIterable(yield* Chan.fromIterable(["x", "y"]))
        const back = yield* Chan.fromAsyncIterable(it)
        expect(yield* Chan.toArray(back)).toEqual(["x", "y"])
      })
    ))
})

describe("channels.md: Gotchas", () => {
  it("a slow tap of a Mult slows every tap", () =>
    run(
      Effect.gen(function* () {
        const source = yield* Chan.make<number>()
        const m = yield* Chan.mult(source)
        const fast = yield* Chan.make<number>(1)
        const slow = yield* Chan.make<number>(1)
        yield* Mult.tap(m, fast)
        yield* Mult.tap(m, slow)
        yield* Chan.put(source, 1) // both taps buffer it
        yield* Chan.put(source, 2) // fast takes it later; slow's buffer is full, so the mult waits on slow
        yield* settle
        expect(yield* Chan.take(fast)).toEqual(Option.some(1))
        expect(yield* Chan.take(fast)).toEqual(Option.some(2))
        const third = yield* Effect.forkChild(Chan.put(source, 3))
        expect(yield* waiting(third)).toBe(true) // the mult takes nothing more until slow has room
        expect(yield* Chan.poll(fast)).toEqual(Option.none())
        expect(yield* Chan.take(slow)).toEqual(Option.some(1))
        yield* Fiber.join(third)
        yield* settle
        expect(yield* Chan.poll(fast)).toEqual(Option.some(3))
      })
    ))

  it("close does not discard: buffered values and pending puts are still taken", () =>
    run(
      Effect.gen(function* () {
        const ch = yield* Chan.make<number>(1)
        yield* Chan.put(ch, 1)
        const pending = yield* Effect.forkChild(Chan.put(ch, 2))
        yield* settle
        yield* Chan.close(ch)
        expect(yield* Chan.toArray(ch)).toEqual([1, 2])
        expect(yield* Fiber.join(pending)).toBe(true)
      })
    ))

  it("pending operations past the limit die with ChanPendingLimitError", () =>
    run(
      Effect.gen(function* () {
        const ch = yield* Chan.make<number>(0, { maxPending: 2 })
        expect(Chan.putUnsafe(ch, 1)).toBe(true)
        expect(Chan.putUnsafe(ch, 2)).toBe(true)
        const exit = yield* Effect.exit(Chan.put(ch, 3))
        expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toMatchObject({ _tag: "ChanPendingLimitError" })
      })
    ))

  it("waiting takes are served first in, first out", () =>
    run(
      Effect.gen(function* () {
        const ch = yield* Chan.make<number>()
        const first = yield* Effect.forkChild(Chan.take(ch))
        yield* settle
        const second = yield* Effect.forkChild(Chan.take(ch))
        yield* settle
        yield* Chan.put(ch, 1)
        yield* Chan.put(ch, 2)
        expect([yield* Fiber.join(first), yield* Fiber.join(second)]).toEqual([Option.some(1), Option.some(2)])
      })
    ))
})
