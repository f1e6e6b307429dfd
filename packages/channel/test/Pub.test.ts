/**
 * Pub: routing by topic, several subscribers per topic, slow subscribers with and without
 * `bufFn`, a throwing `topicFn`, unsub, close propagation and teardown.
 */
import { Cause, Effect, Fiber, Option, type Scope } from "effect"
import { describe, expect, it } from "vitest"
import * as Buffer from "../src/Buffer.js"
import * as Chan from "../src/Chan.js"
import { ChanArgumentError } from "../src/ChanError.js"
import { toArray } from "../src/internal/combinators.js"
import * as Pub from "../src/Pub.js"
import { defectOf, expectArgumentError, pending, range, run, settle, takeN } from "./harness.js"
import {
  type ClosedRun,
  captureLogs,
  closeScope,
  expectBothEnds,
  expectNothingPending,
  inScope,
  isClosedNow,
  openScope,
  pollAll,
  undelivered
} from "./lifetimes.js"

interface Event {
  readonly type: "a" | "b" | "c"
  readonly n: number
}
const ev = (type: Event["type"], n: number): Event => ({ type, n })
const byType = (e: Event) => e.type
const ns = (events: ReadonlyArray<Event>) => events.map((e) => e.n)

/**
 * Subscribes an unbuffered subscriber to topic "a" (the even values of 0..19 in the source) and a
 * buffered one to "b" (the odd ones), each with a consumer, closes the scope after `turns` scheduler
 * turns, checks that each subscriber got its topic's values taken from the source or had them given
 * back, once, and returns where its topic's values ended up, per subscriber.
 */
const closeAfterTurns = (turns: number, buffered: boolean) =>
  Effect.gen(function* () {
    const scope = yield* openScope
    const source = Chan.makeUnsafe<Event>(20)
    for (let i = 0; i < 20; i++) Chan.offerUnsafe(source, ev(i % 2 === 0 ? "a" : "b", i))
    const p = yield* inScope(scope, Pub.make(source, byType, buffered ? () => 2 : undefined))
    const subs = (["a", "b"] as const).map((topic, k) => {
      const lost = undelivered<Event>()
      const received: Array<number> = []
      const ch = Chan.makeUnsafe<Event>(k, { onUndelivered: lost.onUndelivered })
      return { topic, ch, lost, received }
    })
    const consumers: Array<Fiber.Fiber<never>> = []
    for (const s of subs) {
      yield* Pub.sub(p, s.topic, s.ch)
      consumers.push(
        yield* Effect.forkChild(
          Effect.forever(Effect.map(Chan.take(s.ch), (v) => Option.map(v, (x) => s.received.push(x.n))))
        )
      )
    }
    for (let i = 0; i < turns; i++) yield* Effect.yieldNow
    yield* closeScope(scope)
    for (const c of consumers) yield* Fiber.interrupt(c)
    const left = ns(pollAll(source))
    for (const [k, s] of subs.entries()) {
      s.received.push(...ns(pollAll(s.ch)))
      const taken = Array.from({ length: 20 }, (_, i) => i).filter((i) => i % 2 === k && !left.includes(i))
      expect([...s.received, ...ns(s.lost.values)].sort((a, b) => a - b)).toEqual(taken)
      expect(s.received).toEqual([...s.received].sort((a, b) => a - b))
      expectNothingPending(s.ch)
    }
    expectNothingPending(source)
    return subs.map(
      (s, k): ClosedRun => ({ received: s.received, lost: ns(s.lost.values), left: left.filter((i) => i % 2 === k) })
    )
  })

/** How many finalizers `scope` holds (effect's public `Scope.State`): what a pub's topics leave there. */
const finalizerCount = (scope: Scope.Scope): number => {
  const state = scope.state
  if (state._tag !== "Open") return 0
  return state.finalizer === undefined ? (state.finalizers?.size ?? 0) : 1
}

describe("Pub", () => {
  it("a subscriber that is not a channel dies with ChanArgumentError; the pub keeps serving the topic", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>(4)
          const p = yield* Pub.make(source, (n: number) => n % 2)
          const odd = Chan.makeUnsafe<number>(4)
          yield* Pub.sub(p, 1, odd)
          for (const [bad, argument] of [
            [Pub.sub(p, 1, {} as never), "Pub.sub ch"],
            [Pub.sub({} as never, 1, odd), "pub"],
            [Pub.make(source, 3 as never), "Chan.pub topicFn"],
            [Pub.make({} as never, (n: number) => n), "Chan.pub source"]
          ] as const) {
            const exit = yield* Effect.exit(bad)
            expect(defectOf(exit)).toBeInstanceOf(ChanArgumentError)
            expect((defectOf(exit) as ChanArgumentError).argument).toBe(argument)
          }
          for (const n of [1, 3]) yield* Chan.put(source, n)
          expect(yield* takeN(odd, 2)).toEqual([1, 3])
        })
      )
    ))

  it("by type, with two subscribers per topic: each gets its topic's values in order", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<Event>()
          const p = yield* Pub.make(source, byType)
          const a1 = Chan.makeUnsafe<Event>()
          const a2 = Chan.makeUnsafe<Event>()
          const b1 = Chan.makeUnsafe<Event>()
          const b2 = Chan.makeUnsafe<Event>()
          yield* Pub.sub(p, "a", a1)
          yield* Pub.sub(p, "a", a2)
          yield* Pub.sub(p, "b", b1)
          yield* Pub.sub(p, "b", b2)
          const events = [ev("a", 1), ev("b", 2), ev("c", 3), ev("a", 4), ev("b", 5), ev("a", 6)]
          yield* Effect.forkChild(
            Effect.forEach(events, (e) => Chan.put(source, e)).pipe(Effect.andThen(Chan.close(source)))
          )
          const got = yield* Effect.all([a1, a2, b1, b2].map(toArray), { concurrency: "unbounded" })
          expect(got.map(ns)).toEqual([
            [1, 4, 6],
            [1, 4, 6],
            [2, 5],
            [2, 5]
          ])
        })
      )
    ))

  it("values of a topic without subscribers are dropped", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<Event>(8)
          const p = yield* Pub.make(source, byType)
          const a = Chan.makeUnsafe<Event>(8)
          yield* Pub.sub(p, "a", a)
          for (const e of [ev("c", 1), ev("a", 2), ev("c", 3), ev("a", 4)]) yield* Chan.put(source, e)
          yield* settle
          expect(yield* Chan.size(source)).toBe(0)
          expect(ns(pollAll(a))).toEqual([2, 4])
        })
      )
    ))

  it("a throwing topicFn is logged at Error and that value dropped; the pub goes on", async () => {
    const logs = captureLogs()
    const got = await run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<Event>(8)
          const p = yield* Pub.make(source, (e: Event) => {
            if (e.n === 2) throw new Error("no topic for 2")
            return e.type
          })
          const a = Chan.makeUnsafe<Event>(8)
          yield* Pub.sub(p, "a", a)
          for (const e of [ev("a", 1), ev("a", 2), ev("a", 3)]) yield* Chan.put(source, e)
          yield* Chan.close(source)
          return ns(yield* toArray(a))
        })
      ).pipe(Effect.provide(logs.layer))
    )
    expect(got).toEqual([1, 3])
    expect(logs.errors().map((l) => (Cause.squash(l.cause) as Error).message)).toEqual(["no topic for 2"])
    expect(logs.errors()[0].message).toMatch(/topicFn/)
  })

  it("without bufFn a slow subscriber holds back every topic", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<Event>(8)
          const p = yield* Pub.make(source, byType)
          const slowA = Chan.makeUnsafe<Event>()
          const b = Chan.makeUnsafe<Event>(8)
          yield* Pub.sub(p, "a", slowA)
          yield* Pub.sub(p, "b", b)
          for (const e of [ev("a", 1), ev("a", 2), ev("a", 3), ev("b", 4)]) yield* Chan.put(source, e)
          yield* settle
          expect(pollAll(b)).toEqual([])
          expect(pending(slowA).puts).toBe(1)
          expect(ns(yield* takeN(slowA, 3))).toEqual([1, 2, 3])
          yield* settle
          expect(ns(pollAll(b))).toEqual([4])
        })
      )
    ))

  it("with bufFn each topic has its own buffer: a lagging subscriber does not hold back the others", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<Event>(8)
          const topics: Array<string> = []
          const p = yield* Pub.make(source, byType, (topic) => {
            topics.push(topic)
            return Buffer.sliding(1)
          })
          const slowA = Chan.makeUnsafe<Event>()
          const b = Chan.makeUnsafe<Event>(8)
          yield* Pub.sub(p, "a", slowA)
          yield* Pub.sub(p, "b", b)
          yield* Pub.sub(p, "b", Chan.makeUnsafe<Event>(Buffer.dropping(1)))
          expect(topics).toEqual(["a", "b"])
          yield* Chan.put(source, ev("a", 1))
          yield* settle
          for (const e of [ev("a", 2), ev("a", 3), ev("b", 4)]) yield* Chan.put(source, e)
          yield* settle
          expect(ns(pollAll(b))).toEqual([4])
          // topic "a" kept its first value (in the slow put) and the newest (in its sliding buffer)
          expect(ns(yield* takeN(slowA, 2))).toEqual([1, 3])
        })
      )
    ))

  it("unsub, unsubAll(topic) and unsubAll() stop delivery without closing subscribers", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<Event>(8)
          const p = yield* Pub.make(source, byType)
          const a1 = Chan.makeUnsafe<Event>(8)
          const a2 = Chan.makeUnsafe<Event>(8)
          const b = Chan.makeUnsafe<Event>(8)
          const c = Chan.makeUnsafe<Event>(8)
          yield* Pub.sub(p, "a", a1)
          yield* Pub.sub(p, "a", a2)
          yield* Pub.sub(p, "b", b)
          yield* Pub.sub(p, "c", c)
          const round = (n: number) =>
            Effect.gen(function* () {
              for (const t of ["a", "b", "c"] as const) yield* Chan.put(source, ev(t, n))
              yield* settle
            })
          yield* round(1)
          yield* Pub.unsub(p, "a", a1)
          yield* round(2)
          yield* Pub.unsubAll(p, "b")
          yield* round(3)
          yield* Pub.unsubAll(p)
          yield* round(4)
          expect([a1, a2, b, c].map((ch) => ns(pollAll(ch)))).toEqual([[1], [1, 2, 3], [1, 2], [1, 2, 3]])
          expect([a1, a2, b, c].map(isClosedNow)).toEqual([false, false, false, false])
          // a topic can be subscribed again
          yield* Pub.sub(p, "b", b)
          yield* round(5)
          expect(ns(pollAll(b))).toEqual([5])
        })
      )
    ))

  it("unsub of a topic's last subscriber removes the topic: 200 ever-new topics subscribed, used and left leave the pub's scope as it was", () =>
    run(
      Effect.gen(function* () {
        const scope = yield* openScope
        const source = Chan.makeUnsafe<string>(8)
        const made: Array<string> = []
        const p = yield* inScope(
          scope,
          Pub.make(
            source,
            (s: string) => s,
            (topic) => {
              made.push(topic)
              return 1
            }
          )
        )
        const before = finalizerCount(scope)
        for (let i = 0; i < 200; i++) {
          const ch = Chan.makeUnsafe<string>(1)
          yield* Pub.sub(p, `t${i}`, ch)
          yield* Chan.put(source, `t${i}`)
          expect(Option.getOrNull(yield* Chan.take(ch))).toBe(`t${i}`)
          yield* Pub.unsub(p, `t${i}`, ch)
        }
        yield* settle
        // each topic's mult ended with it: nothing of theirs is left in the scope
        expect(finalizerCount(scope)).toBe(before)
        // a later sub makes the topic anew (bufFn again), and it serves its subscriber
        const again = Chan.makeUnsafe<string>(1)
        yield* Pub.sub(p, "t0", again)
        yield* Chan.put(source, "t0")
        expect(Option.getOrNull(yield* Chan.take(again))).toBe("t0")
        expect(made.filter((t) => t === "t0")).toEqual(["t0", "t0"])
        yield* closeScope(scope)
      })
    ))

  it("a subscriber closed without unsub is forgotten once its topic finds it closed: values the topic drops later are not reported to it", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<Event>(8)
          const p = yield* Pub.make(source, byType, () => Buffer.sliding(1))
          const lostSlow = undelivered<Event>()
          const lostGone = undelivered<Event>()
          const slow = Chan.makeUnsafe<Event>(0, { onUndelivered: lostSlow.onUndelivered })
          const gone = Chan.makeUnsafe<Event>(1, { onUndelivered: lostGone.onUndelivered })
          yield* Pub.sub(p, "a", slow)
          yield* Pub.sub(p, "a", gone)
          Chan.closeUnsafe(gone)
          // 1 finds `gone` closed (it missed 1) and waits on `slow`
          yield* Chan.put(source, ev("a", 1))
          yield* settle
          expect(pending(slow).puts).toBe(1)
          // 2 and 3 slide out of the topic's buffer while the topic waits on `slow`
          for (const n of [2, 3, 4]) yield* Chan.put(source, ev("a", n))
          yield* settle
          expect(ns(lostGone.values)).toEqual([1])
          expect(ns(lostSlow.values)).toEqual([2, 3])
          expect(ns(yield* takeN(slow, 2))).toEqual([1, 4])
        })
      )
    ))

  it("a topic whose last subscriber closed without unsub is removed when its next value finds it so", () =>
    run(
      Effect.gen(function* () {
        const scope = yield* openScope
        const source = Chan.makeUnsafe<Event>(8)
        const made: Array<string> = []
        const p = yield* inScope(
          scope,
          Pub.make(source, byType, (topic) => {
            made.push(topic)
            return 1
          })
        )
        const before = finalizerCount(scope)
        const lost = undelivered<Event>()
        for (let i = 0; i < 100; i++) {
          const ch = Chan.makeUnsafe<Event>(1, { onUndelivered: lost.onUndelivered })
          yield* Pub.sub(p, "a", ch)
          yield* Chan.put(source, ev("a", i))
          expect(Option.map(yield* Chan.take(ch), (e) => e.n)).toEqual(Option.some(i))
          Chan.closeUnsafe(ch)
          // the next value finds it closed (reported to it once), and the topic has no one left
          yield* Chan.put(source, ev("a", -i))
          yield* settle
          expect(finalizerCount(scope)).toBe(before)
        }
        expect(ns(lost.values)).toEqual(range(100).map((i) => -i))
        expect(made.length).toBe(100)
        yield* closeScope(scope)
      })
    ))

  it("topics whose subscribers all closed without unsub, and that get no value again, are removed as more topics are made", () =>
    run(
      Effect.gen(function* () {
        const scope = yield* openScope
        const source = Chan.makeUnsafe<string>(8)
        const p = yield* inScope(
          scope,
          Pub.make(source, (s: string) => s)
        )
        const before = finalizerCount(scope)
        // a subscriber per id that leaves by closing its channel, after the id's one value
        for (let i = 0; i < 200; i++) {
          const ch = Chan.makeUnsafe<string>(1)
          yield* Pub.sub(p, `id${i}`, ch)
          yield* Chan.put(source, `id${i}`)
          yield* Chan.take(ch)
          Chan.closeUnsafe(ch)
        }
        // one open subscriber keeps its topic
        const kept = Chan.makeUnsafe<string>(1)
        yield* Pub.sub(p, "kept", kept)
        yield* settle
        // each topic holds 2 finalizers (its mult): a few topics wait for the next sweep, not 200
        expect(finalizerCount(scope) - before).toBeLessThanOrEqual(2 * 16)
        yield* Chan.put(source, "kept")
        expect(Option.getOrNull(yield* Chan.take(kept))).toBe("kept")
        yield* closeScope(scope)
      })
    ))

  it("when the source closes, subscribers with close (the default) close, the others stay open", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<Event>(8)
          const p = yield* Pub.make(source, byType)
          const closing = Chan.makeUnsafe<Event>(8)
          const staying = Chan.makeUnsafe<Event>(8)
          yield* Pub.sub(p, "a", closing)
          yield* Pub.sub(p, "b", staying, { close: false })
          yield* Chan.put(source, ev("a", 1))
          yield* Chan.close(source)
          expect(ns(yield* toArray(closing))).toEqual([1])
          yield* settle
          expect(isClosedNow(staying)).toBe(false)
          const late = Chan.makeUnsafe<Event>()
          yield* Pub.sub(p, "a", late)
          expect(isClosedNow(late)).toBe(true)
        })
      )
    ))

  it("closing the scope closes subscribers (per close), gives back values owed, and leaves nothing registered", () =>
    run(
      Effect.gen(function* () {
        const scope = yield* openScope
        const source = Chan.makeUnsafe<Event>(8)
        const p = yield* inScope(scope, Pub.make(source, byType))
        const lostA = undelivered<Event>()
        const lostB = undelivered<Event>()
        const a = Chan.makeUnsafe<Event>(0, { onUndelivered: lostA.onUndelivered })
        const b = Chan.makeUnsafe<Event>(0, { onUndelivered: lostB.onUndelivered })
        yield* Pub.sub(p, "a", a)
        yield* Pub.sub(p, "b", b, { close: false })
        for (const e of [ev("a", 1), ev("b", 2), ev("a", 3), ev("b", 4)]) yield* Chan.put(source, e)
        yield* settle
        // each topic's mult waits on its subscriber; the pub waits on topic "a" with the third value
        expect([pending(a).puts, pending(b).puts]).toEqual([1, 1])
        yield* closeScope(scope)
        expectNothingPending(source, a, b)
        // 1 and 2 were owed by the topics' mults, 3 was in the pub's hand on its way to topic "a"
        expect([ns(lostA.values), ns(lostB.values)]).toEqual([[1, 3], [2]])
        expect([isClosedNow(a), isClosedNow(b)]).toEqual([true, false])
        yield* Chan.put(source, ev("b", 5))
        yield* settle
        expect(ns(pollAll(source))).toEqual([4, 5])
      })
    ))

  describe.each([false, true])("with bufFn: %s", (buffered) => {
    const allTurns = Array.from({ length: 40 }, (_, i) => i)

    it.each(allTurns)(
      "closing the scope after %i turns: each subscriber gets its topic's values taken from the source, or has them given back, once",
      (turns) => run(Effect.asVoid(closeAfterTurns(turns, buffered)))
    )

    it("closing the scope after those turns: the table closes both before and after values moved, on each subscriber", () =>
      run(
        Effect.gen(function* () {
          const runs = yield* Effect.forEach(allTurns, (turns) => closeAfterTurns(turns, buffered))
          for (const k of [0, 1]) {
            const topic = Array.from({ length: 20 }, (_, i) => i).filter((i) => i % 2 === k)
            expectBothEnds(
              runs.map((subs) => subs[k]!),
              topic,
              true
            )
          }
        })
      ))
  })

  it("unsub and unsubAll refuse a pub that is not one, and unsub a subscriber that is not a channel (ChanArgumentError naming it and the value), changing nothing", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>(4)
          const p = yield* Pub.make(source, (n: number) => n % 2)
          const odd = Chan.makeUnsafe<number>(4)
          yield* Pub.sub(p, 1, odd)
          const foreign = { topics: new Map([[1, { subscribers: new Set([odd]) }]]) }
          for (const [bad, argument, value] of [
            [Pub.unsub(foreign as never, 1, odd), "pub", "topics"],
            [Pub.unsub(p, 1, 42 as never), "Pub.unsub ch", 42],
            [Pub.unsubAll({} as never, 1), "pub", "{}"],
            [Pub.unsubAll(undefined as never), "pub", undefined]
          ] as const) {
            expectArgumentError(defectOf(yield* Effect.exit(bad)), argument, value)
          }
          expect(foreign.topics.get(1)?.subscribers.has(odd)).toBe(true)
          // the subscriber is still subscribed
          for (const n of [1, 3]) yield* Chan.put(source, n)
          expect(yield* takeN(odd, 2)).toEqual([1, 3])
        })
      )
    ))
})
