/**
 * pipe, pipeline, merge, split, fromIterable, onto and the consumers (toArray, reduce, forEach):
 * ordering, close propagation, slow consumers, errors, and what closing the scope leaves behind.
 */
import { Cause, Deferred, Effect, Exit, Fiber, Option, type Scope, Scope as ScopeModule, Stream } from "effect"
import { describe, expect, it } from "vitest"
import * as Chan from "../src/Chan.js"
import { ChanArgumentError, ChanPendingLimitError } from "../src/ChanError.js"
import {
  forEach,
  fromIterable,
  merge,
  onto,
  pipe,
  pipeline,
  reduce,
  split,
  toArray
} from "../src/internal/combinators.js"
import * as Mult from "../src/Mult.js"
import * as Pub from "../src/Pub.js"
import { counting, defectOf, fifoKinds, filled, pending, range, run, settle, takeN } from "./harness.js"
import {
  captureLogs,
  closeReadPort,
  closeScope,
  expectBothEnds,
  expectNothingPending,
  inScope,
  isClosedNow,
  openScope,
  pollAll,
  undelivered
} from "./lifetimes.js"

/** Yields `k` times: a deterministic way to make calls finish in a different order than they started. */
const yieldTimes = (k: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < k; i++) yield* Effect.yieldNow
  })

/** f(i) = i * 2, finishing after a number of yields that varies with i, so calls complete out of order. */
const scrambled = (i: number) => Effect.as(yieldTimes((i * 7919) % 13), i * 2)

// ── pipe ────────────────────────────────────────────────────────────────────

describe.each(fifoKinds)("pipe into $name", (kind) => {
  it("moves every value in order and closes `to` when `from` closes", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const from = filled(range(50))
          const to = kind.make<number>()
          yield* pipe(from, to)
          expect(yield* toArray(to)).toEqual(range(50))
          expect(isClosedNow(to)).toBe(true)
        })
      )
    ))

  it("with close: false leaves `to` open", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const from = filled([1, 2, 3])
          const to = kind.make<number>()
          yield* pipe(from, to, { close: false })
          expect(yield* takeN(to, 3)).toEqual([1, 2, 3])
          yield* settle
          expect(isClosedNow(to)).toBe(false)
          expect(Option.isNone(Chan.pollUnsafe(to))).toBe(true)
        })
      )
    ))
})

describe("pipe", () => {
  it("stops when `to` closes: the value in hand goes to `to`'s onUndelivered, the rest stay in `from`", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const from = filled([1, 2, 3], false)
          const lost = undelivered<number>()
          const to = Chan.makeUnsafe<number>(0, { onUndelivered: lost.onUndelivered })
          Chan.closeUnsafe(to)
          yield* pipe(from, to)
          yield* settle
          expect(lost.values).toEqual([1])
          expect(pollAll(from)).toEqual([2, 3])
          expectNothingPending(from, to)
        })
      )
    ))

  it("a slow consumer holds the pipe back: one value in hand, the rest left in `from`", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const from = filled(range(5))
          const to = Chan.makeUnsafe<number>()
          yield* pipe(from, to)
          yield* settle
          expect(yield* Chan.size(from)).toBe(4)
          expect(pending(to)).toEqual({ puts: 1, takes: 0 })
          expect(yield* toArray(to)).toEqual(range(5))
        })
      )
    ))

  it("closing the scope stops it, closes `to`, gives back the value in hand, and leaves nothing registered", () =>
    run(
      Effect.gen(function* () {
        const scope = yield* openScope
        const from = Chan.makeUnsafe<number>(4)
        const lost = undelivered<number>()
        const to = Chan.makeUnsafe<number>(0, { onUndelivered: lost.onUndelivered })
        const idleFrom = Chan.makeUnsafe<number>()
        const idleTo = Chan.makeUnsafe<number>()
        yield* inScope(scope, pipe(from, to))
        yield* inScope(scope, pipe(idleFrom, idleTo, { close: false }))
        yield* Chan.put(from, 7)
        yield* settle
        expect(pending(to).puts).toBe(1)
        expect(pending(idleFrom).takes).toBe(1)
        yield* closeScope(scope)
        expectNothingPending(from, to, idleFrom, idleTo)
        expect(lost.values).toEqual([7])
        expect(isClosedNow(to)).toBe(true)
        expect(isClosedNow(idleTo)).toBe(false)
        // nothing moves any more
        yield* Chan.put(from, 8)
        yield* settle
        expect(yield* Chan.size(from)).toBe(1)
      })
    ))
})

// ── pipeline ────────────────────────────────────────────────────────────────

describe("pipeline", () => {
  describe.each([1, 10, 20])("concurrency %i", (n) => {
    it.each([0, 1, 2, 19, 20, 21, 999, 1000])("ordered: %i items come out in input order", (count) =>
      run(
        Effect.scoped(
          Effect.gen(function* () {
            const from = yield* fromIterable(range(count))
            const to = Chan.makeUnsafe<number>(4)
            yield* pipeline(from, to, scrambled, { concurrency: n })
            expect(yield* toArray(to)).toEqual(range(count).map((i) => i * 2))
          })
        )
      )
    )

    it.each([0, 1, 999, 1000])("unordered: %i items all come out", (count) =>
      run(
        Effect.scoped(
          Effect.gen(function* () {
            const from = yield* fromIterable(range(count))
            const to = Chan.makeUnsafe<number>(4)
            yield* pipeline(from, to, scrambled, { concurrency: n, ordered: false })
            const out = yield* toArray(to)
            expect(out).toHaveLength(count)
            expect([...out].sort((a, b) => a - b)).toEqual(range(count).map((i) => i * 2))
          })
        )
      )
    )
  })

  it("unordered emits in completion order", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const slow = yield* Deferred.make<void>()
          const from = filled(["slow", "fast"])
          const to = Chan.makeUnsafe<string>(4)
          const f = (s: string) => (s === "slow" ? Effect.as(Deferred.await(slow), s) : Effect.succeed(s))
          yield* pipeline(from, to, f, { concurrency: 2, ordered: false })
          expect(Option.getOrThrow(yield* Chan.take(to))).toBe("fast")
          yield* Deferred.succeed(slow, undefined)
          expect(yield* toArray(to)).toEqual(["slow"])
        })
      )
    ))

  it("ordered holds back a fast result until the slow one before it is out", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const slow = yield* Deferred.make<void>()
          const from = filled(["slow", "fast"])
          const to = Chan.makeUnsafe<string>(4)
          const f = (s: string) => (s === "slow" ? Effect.as(Deferred.await(slow), s) : Effect.succeed(s))
          yield* pipeline(from, to, f, { concurrency: 2 })
          yield* settle
          expect(yield* Chan.size(to)).toBe(0)
          yield* Deferred.succeed(slow, undefined)
          expect(yield* toArray(to)).toEqual(["slow", "fast"])
        })
      )
    ))

  describe.each([true, false])("ordered: %s", (isOrdered) => {
    it.each([1, 3, 8])("exactly %i calls of f are in flight, never more", (n) =>
      run(
        Effect.scoped(
          Effect.gen(function* () {
            const gate = yield* Deferred.make<void>()
            let inFlight = 0
            let most = 0
            const f = (i: number) =>
              Effect.gen(function* () {
                inFlight++
                most = Math.max(most, inFlight)
                yield* Deferred.await(gate)
                inFlight--
                return i
              })
            const from = yield* fromIterable(range(30))
            const to = Chan.makeUnsafe<number>(64)
            yield* pipeline(from, to, f, { concurrency: n, ordered: isOrdered })
            yield* settle
            expect(inFlight).toBe(n)
            yield* Deferred.succeed(gate, undefined)
            const out = yield* toArray(to)
            expect(most).toBe(n)
            expect(inFlight).toBe(0)
            expect(isOrdered ? out : [...out].sort((a, b) => a - b)).toEqual(range(30))
          })
        )
      )
    )

    it("a slow consumer bounds the work done ahead of it", () =>
      run(
        Effect.scoped(
          Effect.gen(function* () {
            let calls = 0
            const from = filled(range(100))
            const to = Chan.makeUnsafe<number>()
            yield* pipeline(
              from,
              to,
              (i: number) =>
                Effect.sync(() => {
                  calls++
                  return i
                }),
              {
                concurrency: 4,
                ordered: isOrdered
              }
            )
            yield* settle
            // ordered: the result being put, plus `concurrency` waiting in order; unordered: one per worker
            expect(calls).toBe(isOrdered ? 5 : 4)
            expect(yield* Chan.size(from)).toBeGreaterThan(90)
            const out = yield* toArray(to)
            expect(isOrdered ? out : [...out].sort((a, b) => a - b)).toEqual(range(100))
          })
        )
      ))

    it("a failing f is logged at Error and its input skipped", async () => {
      const logs = captureLogs()
      const out = await run(
        Effect.scoped(
          Effect.gen(function* () {
            const from = filled([1, 2, 3, 4])
            const to = Chan.makeUnsafe<number>(8)
            const f = (i: number) => (i % 2 === 0 ? Effect.fail(`even ${i}`) : Effect.succeed(i))
            yield* pipeline(from, to, f, { concurrency: 2, ordered: isOrdered })
            return yield* toArray(to)
          })
        ).pipe(Effect.provide(logs.layer))
      )
      expect([...out].sort()).toEqual([1, 3])
      const errors = logs.errors()
      expect(errors).toHaveLength(2)
      expect(errors.map((l) => Cause.squash(l.cause)).sort()).toEqual(["even 2", "even 4"])
      for (const line of errors) expect(line.message).toMatch(/pipeline/)
    })

    it("onError: Some is emitted in the input's place, None skips; neither logs", async () => {
      const logs = captureLogs()
      const out = await run(
        Effect.scoped(
          Effect.gen(function* () {
            const from = filled([1, 2, 3, 4, 5, 6])
            const to = Chan.makeUnsafe<number>(8)
            const f = (i: number) => (i % 2 === 0 ? Effect.fail(i) : Effect.succeed(i))
            yield* pipeline(from, to, f, {
              concurrency: 3,
              ordered: isOrdered,
              onError: (error, input) => {
                expect(error).toBe(input)
                return input === 4 ? Option.none() : Option.some(-input)
              }
            })
            return yield* toArray(to)
          })
        ).pipe(Effect.provide(logs.layer))
      )
      if (isOrdered) expect(out).toEqual([1, -2, 3, 5, -6])
      else expect([...out].sort((a, b) => a - b)).toEqual([-6, -2, 1, 3, 5])
      expect(logs.errors()).toEqual([])
    })

    it("a defect in f, or an onError that throws, is logged and the input skipped", async () => {
      const logs = captureLogs()
      const out = await run(
        Effect.scoped(
          Effect.gen(function* () {
            const from = filled([1, 2, 3])
            const to = Chan.makeUnsafe<number>(8)
            const f = (i: number): Effect.Effect<number, string> => {
              if (i === 1) throw new Error("thrown by f")
              return i === 2 ? Effect.fail("two") : Effect.succeed(i)
            }
            yield* pipeline(from, to, f, {
              concurrency: 1,
              ordered: isOrdered,
              onError: () => {
                throw new Error("thrown by onError")
              }
            })
            return yield* toArray(to)
          })
        ).pipe(Effect.provide(logs.layer))
      )
      expect(out).toEqual([3])
      expect(logs.errors().map((l) => (Cause.squash(l.cause) as Error).message)).toEqual([
        "thrown by f",
        "thrown by onError"
      ])
    })

    it("stops when `to` rejects its put; results computed but not delivered go to its onUndelivered", () =>
      run(
        Effect.scoped(
          Effect.gen(function* () {
            const lost = undelivered<number>()
            const from = filled([1, 2, 3], false)
            const to = Chan.makeUnsafe<number>(0, { onUndelivered: lost.onUndelivered })
            yield* pipeline(from, to, (i: number) => Effect.succeed(i * 10), { concurrency: 2, ordered: isOrdered })
            yield* settle
            // closing keeps a pending put takeable; discarding rejects it
            yield* Chan.discard(to)
            yield* settle
            // ordered: the reader had taken all three; unordered: each of the two workers held one
            expect([...lost.values].sort((a, b) => a - b)).toEqual(isOrdered ? [10, 20, 30] : [10, 20])
            expect(pollAll(from)).toEqual(isOrdered ? [] : [3])
            expectNothingPending(from, to)
            yield* Chan.put(from, 4)
            yield* settle
            expect(pollAll(from)).toEqual([4])
          })
        )
      ))

    it.each([1, 2, 3])(
      "concurrency %i: once `to` is closed, it takes nothing more from `from` than the takes already pending",
      (n) =>
        run(
          Effect.scoped(
            Effect.gen(function* () {
              const from = Chan.makeUnsafe<number>(16)
              const to = Chan.makeUnsafe<number>(4)
              yield* pipeline(from, to, (i: number) => Effect.succeed(i), { concurrency: n, ordered: isOrdered })
              yield* settle
              // waiting for input: the reader (ordered) or each worker (unordered, n within the
              // ports' maxPending; beyond, one reader: see "beyond the default maxPending") has one take pending
              const inFlight = pending(from).takes
              expect(inFlight).toBe(isOrdered ? 1 : n)
              Chan.closeUnsafe(to)
              for (const i of range(10)) expect(Chan.offerUnsafe(from, i)).toBe(true)
              yield* settle
              const left = pollAll(from)
              expect(10 - left.length, `left in from: ${left}`).toBeLessThanOrEqual(inFlight)
              expect(left).toEqual(range(10).slice(10 - left.length))
              // and it has stopped
              expectNothingPending(from)
              for (const i of range(3)) expect(Chan.offerUnsafe(from, i)).toBe(true)
              yield* settle
              expect(pollAll(from)).toEqual(range(3))
            })
          )
        )
    )

    // every input skipped (onError: None): no put on the closed `to` tells the pipeline to stop,
    // only its check of `to` before each take does
    it.each([1, 3])(
      "concurrency %i: with every result skipped, once `to` is closed it still takes no more than the takes already pending",
      (n) =>
        run(
          Effect.scoped(
            Effect.gen(function* () {
              const from = Chan.makeUnsafe<number>(16)
              const to = Chan.makeUnsafe<number>(4)
              yield* pipeline(from, to, (i: number) => Effect.fail(i), {
                concurrency: n,
                ordered: isOrdered,
                onError: () => Option.none()
              })
              yield* settle
              const inFlight = pending(from).takes
              Chan.closeUnsafe(to)
              for (const i of range(10)) expect(Chan.offerUnsafe(from, i)).toBe(true)
              yield* settle
              const left = pollAll(from)
              expect(10 - left.length, `left in from: ${left}`).toBeLessThanOrEqual(inFlight)
              expectNothingPending(from)
            })
          )
        )
    )

    it("closing the scope interrupts f, closes `to`, and leaves nothing registered", () =>
      run(
        Effect.gen(function* () {
          const scope = yield* openScope
          let interrupted = 0
          const from = Chan.makeUnsafe<number>(8)
          const to = Chan.makeUnsafe<number>()
          const f = (i: number) =>
            Effect.onInterrupt(Effect.never, () => Effect.sync(() => interrupted++)).pipe(Effect.as(i))
          yield* inScope(scope, pipeline(from, to, f, { concurrency: 3, ordered: isOrdered }))
          for (const i of [1, 2, 3, 4, 5]) yield* Chan.put(from, i)
          yield* settle
          yield* closeScope(scope)
          expect(interrupted).toBe(3)
          expect(isClosedNow(to)).toBe(true)
          expectNothingPending(from, to)
        })
      ))

    it("closing the scope gives computed results not yet delivered to `to`'s onUndelivered", () =>
      run(
        Effect.gen(function* () {
          const scope = yield* openScope
          const lost = undelivered<number>()
          const from = filled([1, 2, 3])
          const to = Chan.makeUnsafe<number>(0, { onUndelivered: lost.onUndelivered })
          yield* inScope(
            scope,
            pipeline(from, to, (i: number) => Effect.succeed(i), { concurrency: 3, ordered: isOrdered })
          )
          yield* settle
          expect(Option.getOrThrow(yield* Chan.take(to))).toBe(1)
          yield* closeScope(scope)
          expect([...lost.values].sort()).toEqual([2, 3])
          expectNothingPending(from, to)
        })
      ))
  })

  it("close: false leaves `to` open", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const from = filled([1, 2])
          const to = Chan.makeUnsafe<number>(4)
          yield* pipeline(from, to, (i: number) => Effect.succeed(i), { concurrency: 2, close: false })
          expect(yield* takeN(to, 2)).toEqual([1, 2])
          yield* settle
          expect(isClosedNow(to)).toBe(false)
        })
      )
    ))

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("concurrency %s dies with ChanArgumentError", (n) =>
    run(
      Effect.gen(function* () {
        const from = Chan.makeUnsafe<number>()
        const to = Chan.makeUnsafe<number>()
        const exit = yield* Effect.exit(
          Effect.scoped(pipeline(from, to, (i: number) => Effect.succeed(i), { concurrency: n }))
        )
        const defect = defectOf(exit)
        expect(defect).toBeInstanceOf(ChanArgumentError)
        expect((defect as ChanArgumentError).argument).toBe("Chan.pipeline concurrency")
        expect((defect as ChanArgumentError).message).toContain(String(n))
        yield* settle
        expectNothingPending(from, to)
      })
    )
  )
})

// ── exactly once, whenever the scope closes ────────────────────────────────

/**
 * Runs a combinator from `from` to `to` with a consumer taking from `to`, closes the scope after
 * `yields` scheduler turns, and returns where every value ended up: received by the consumer (or
 * left in `to`), given to `to`'s onUndelivered, or left in `from`.
 */
const closeAfter = (
  yields: number,
  start: (from: Chan.Chan<number>, to: Chan.Chan<number>) => Effect.Effect<void, never, Scope.Scope>,
  toBuffer: number
) =>
  Effect.gen(function* () {
    const scope = yield* openScope
    const lost = undelivered<number>()
    const from = filled(range(20), false)
    const to = Chan.makeUnsafe<number>(toBuffer, { onUndelivered: lost.onUndelivered })
    const received: Array<number> = []
    yield* inScope(scope, start(from, to))
    const consumer = yield* Effect.forkChild(
      Effect.forever(Effect.flatMap(Chan.take(to), (v) => Effect.sync(() => Option.map(v, (x) => received.push(x)))))
    )
    yield* yieldTimes(yields)
    yield* closeScope(scope)
    yield* Fiber.interrupt(consumer)
    received.push(...pollAll(to))
    expectNothingPending(from, to)
    return { received, lost: lost.values, left: pollAll(from) }
  })

/** What the pipe case of the table checks, for one number of turns; returns where the values ended up. */
const pipeCase = (yields: number, toBuffer: number) =>
  Effect.gen(function* () {
    const r = yield* closeAfter(yields, (from, to) => pipe(from, to), toBuffer)
    expect([...r.received, ...r.lost, ...r.left].sort((a, b) => a - b)).toEqual(range(20))
    expect(r.received).toEqual([...r.received].sort((a, b) => a - b))
    return r
  })

/** What the merge case of the table checks, for one number of turns; returns where the values ended up. */
const mergeCase = (yields: number, toBuffer: number) =>
  Effect.gen(function* () {
    const r = yield* closeAfter(
      yields,
      (from, to) =>
        Effect.gen(function* () {
          const merged = yield* merge([from, Chan.makeUnsafe<number>()])
          yield* pipe(merged, to)
        }),
      toBuffer
    )
    // a value in the merge's own hand (its output has no onUndelivered) may be dropped; none is duplicated
    const all = [...r.received, ...r.lost, ...r.left]
    expect(new Set(all).size).toBe(all.length)
    expect(all.length).toBeGreaterThanOrEqual(18)
    // at most one is dropped: the one in the merge's hand, taken after every value that went on and before every one left
    const dropped = range(20).filter((i) => !all.includes(i))
    expect(dropped.length).toBeLessThanOrEqual(1)
    for (const i of dropped) {
      for (const j of [...r.received, ...r.lost]) expect(j).toBeLessThan(i)
      for (const j of r.left) expect(j).toBeGreaterThan(i)
    }
    return r
  })

/** What the pipeline case of the table checks, for one number of turns; returns where the values ended up. */
const pipelineCase = (yields: number, toBuffer: number, isOrdered: boolean) =>
  Effect.gen(function* () {
    const computed: Array<number> = []
    const f = (i: number) =>
      Effect.andThen(
        yieldTimes(i % 3),
        Effect.sync(() => {
          computed.push(i)
          return i
        })
      )
    const r = yield* closeAfter(
      yields,
      (from, to) => pipeline(from, to, f, { concurrency: 3, ordered: isOrdered }),
      toBuffer
    )
    const out = [...r.received, ...r.lost]
    expect(new Set(out).size).toBe(out.length)
    expect([...out].sort((a, b) => a - b)).toEqual([...computed].sort((a, b) => a - b))
    if (isOrdered) expect(r.received).toEqual([...r.received].sort((a, b) => a - b))
    for (const i of r.left) expect(computed).not.toContain(i)
    return { ...r, computed }
  })

describe.each([0, 1])("exactly once into a `to` of buffer %i, whenever the scope closes", (toBuffer) => {
  const turns = range(40)

  it.each(turns)("pipe, closing after %i turns", (yields) => run(Effect.asVoid(pipeCase(yields, toBuffer))))

  it("pipe: the table closes both before and after values moved", () =>
    run(
      Effect.gen(function* () {
        const runs = yield* Effect.forEach(turns, (yields) => pipeCase(yields, toBuffer))
        expectBothEnds(runs, range(20), true)
      })
    ))

  it.each(turns)("merge of two pipes, closing after %i turns", (yields) =>
    run(Effect.asVoid(mergeCase(yields, toBuffer)))
  )

  it("merge: the table closes both before and after values moved", () =>
    run(
      Effect.gen(function* () {
        const runs = yield* Effect.forEach(turns, (yields) => mergeCase(yields, toBuffer))
        expectBothEnds(runs, range(20), true)
      })
    ))

  describe.each([true, false])("pipeline (ordered: %s)", (isOrdered) => {
    it.each(turns)("closing after %i turns: every computed result is received or given back, once", (yields) =>
      run(Effect.asVoid(pipelineCase(yields, toBuffer, isOrdered)))
    )

    it("the table closes both before and after values were computed and moved", () =>
      run(
        Effect.gen(function* () {
          const runs = yield* Effect.forEach(turns, (yields) => pipelineCase(yields, toBuffer, isOrdered))
          expectBothEnds(runs, range(20), true)
        })
      ))
  })
})

// ── merge ───────────────────────────────────────────────────────────────────

describe("merge", () => {
  it("of no ports is closed at once", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const out = yield* merge<number>([])
          expect(isClosedNow(out)).toBe(true)
          expect(yield* Chan.take(out)).toEqual(Option.none())
        })
      )
    ))

  it("delivers every value, keeping each input's order, and closes after the last input", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const a = filled(["a1", "a2", "a3"])
          const b = Chan.makeUnsafe<string>(4)
          const c = filled(["c1"])
          const out = yield* merge([a, b, c], 2)
          yield* Chan.put(b, "b1")
          expect((yield* takeN(out, 5)).sort()).toEqual(["a1", "a2", "a3", "b1", "c1"])
          yield* settle
          expect(isClosedNow(out)).toBe(false)
          yield* Chan.put(b, "b2")
          Chan.closeUnsafe(b)
          expect(yield* toArray(out)).toEqual(["b2"])
          expect(isClosedNow(out)).toBe(true)
        })
      )
    ))

  it("keeps each input's order among many", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const inputs = range(10).map((k) => filled(range(50).map((i) => ({ k, i }))))
          const out = yield* merge(inputs)
          const values = yield* toArray(out)
          expect(values).toHaveLength(500)
          for (let k = 0; k < 10; k++) {
            expect(values.filter((v) => v.k === k).map((v) => v.i)).toEqual(range(50))
          }
        })
      )
    ))

  it("stops when its output is closed, withdrawing its takes", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const a = Chan.makeUnsafe<number>(4)
          const b = Chan.makeUnsafe<number>(4)
          const out = yield* merge([a, b])
          yield* settle
          expect(pending(a).takes + pending(b).takes).toBe(2)
          closeReadPort(out)
          yield* Chan.put(a, 1)
          yield* settle
          expectNothingPending(a, b, out)
          yield* Chan.put(b, 2)
          yield* settle
          expect(pollAll(b)).toEqual([2])
        })
      )
    ))

  it("closing the scope closes the output and leaves nothing registered", () =>
    run(
      Effect.gen(function* () {
        const scope = yield* openScope
        const inputs = range(5).map(() => Chan.makeUnsafe<number>())
        const out = yield* inScope(scope, merge(inputs))
        yield* Chan.put(inputs[0], 1).pipe(Effect.forkChild)
        yield* settle
        yield* closeScope(scope)
        expect(isClosedNow(out)).toBe(true)
        expectNothingPending(...inputs, out)
        expect(yield* Chan.take(out)).toEqual(Option.none())
      })
    ))
})

// ── split ───────────────────────────────────────────────────────────────────

describe("split", () => {
  it("routes by the predicate and closes both outputs when the source closes", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const from = filled(range(10))
          const [even, odd] = yield* split((i: number) => i % 2 === 0, from)
          const [evens, odds] = yield* Effect.all([toArray(even), toArray(odd)], { concurrency: 2 })
          expect(evens).toEqual([0, 2, 4, 6, 8])
          expect(odds).toEqual([1, 3, 5, 7, 9])
        })
      )
    ))

  it("a throwing predicate is logged at Error and its value dropped; split goes on", async () => {
    const logs = captureLogs()
    const out = await run(
      Effect.scoped(
        Effect.gen(function* () {
          const from = filled([1, 2, 3])
          const [yes, no] = yield* split((i: number) => {
            if (i === 2) throw new Error("no opinion on 2")
            return i > 2
          }, from)
          return yield* Effect.all([toArray(yes), toArray(no)], { concurrency: 2 })
        })
      ).pipe(Effect.provide(logs.layer))
    )
    expect(out).toEqual([[3], [1]])
    expect(logs.errors().map((l) => (Cause.squash(l.cause) as Error).message)).toEqual(["no opinion on 2"])
  })

  it("a slow reader of one output holds back the other", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const from = filled([1, 2, 3])
          const [small, big] = yield* split((i: number) => i < 2, from)
          yield* settle
          expect(Option.isNone(Chan.pollUnsafe(big))).toBe(true)
          expect(yield* takeN(small, 1)).toEqual([1])
          expect(yield* takeN(big, 2)).toEqual([2, 3])
        })
      )
    ))

  it("closing the scope closes both outputs and leaves nothing registered", () =>
    run(
      Effect.gen(function* () {
        const scope = yield* openScope
        const from = Chan.makeUnsafe<number>()
        const [a, b] = yield* inScope(
          scope,
          split(() => true, from)
        )
        yield* settle
        expect(pending(from).takes).toBe(1)
        yield* closeScope(scope)
        expect([isClosedNow(a), isClosedNow(b)]).toEqual([true, true])
        expectNothingPending(from, a, b)
      })
    ))
})

// ── fromIterable / onto ─────────────────────────────────────────────────────

describe("fromIterable and onto", () => {
  it("fromIterable yields the values in order, then closes", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const ch = yield* fromIterable(new Set(["a", "b", "c"]))
          expect(yield* toArray(ch)).toEqual(["a", "b", "c"])
        })
      )
    ))

  it("fromIterable reads at most one value ahead of the consumer", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          let read = 0
          const counting = function* () {
            for (let i = 0; i < 100; i++) {
              read++
              yield i
            }
          }
          const ch = yield* fromIterable(counting())
          yield* settle
          expect(read).toBe(1)
          expect(yield* takeN(ch, 3)).toEqual([0, 1, 2])
          yield* settle
          expect(read).toBe(4)
        })
      )
    ))

  it("onto puts everything and closes, unless close: false", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const closing = Chan.makeUnsafe<number>(2)
          const staying = Chan.makeUnsafe<number>(2)
          yield* onto(closing, [1, 2, 3])
          yield* onto(staying, [4, 5, 6], { close: false })
          expect(yield* toArray(closing)).toEqual([1, 2, 3])
          expect(yield* takeN(staying, 3)).toEqual([4, 5, 6])
          yield* settle
          expect(isClosedNow(staying)).toBe(false)
        })
      )
    ))

  it("onto stops when the channel closes: the value it could not put goes to onUndelivered, the generator is finished", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          let finished = false
          const values = function* () {
            try {
              for (let i = 0; ; i++) yield i
            } finally {
              finished = true
            }
          }
          const lost = undelivered<number>()
          const ch = Chan.makeUnsafe<number>(0, { onUndelivered: lost.onUndelivered })
          yield* onto(ch, values())
          expect(yield* takeN(ch, 2)).toEqual([0, 1])
          yield* settle
          Chan.closeUnsafe(ch)
          // the put pending at the close stays takeable; the next one is refused
          expect(yield* toArray(ch)).toEqual([2])
          yield* settle
          expect(lost.values).toEqual([3])
          expect(finished).toBe(true)
          expectNothingPending(ch)
        })
      )
    ))

  it("a throwing iterator is logged at Error and the channel closed", async () => {
    const logs = captureLogs()
    const out = await run(
      Effect.scoped(
        Effect.gen(function* () {
          const values = function* () {
            yield 1
            throw new Error("iterator broke")
          }
          return yield* toArray(yield* fromIterable(values()))
        })
      ).pipe(Effect.provide(logs.layer))
    )
    expect(out).toEqual([1])
    expect(logs.errors().map((l) => (Cause.squash(l.cause) as Error).message)).toEqual(["iterator broke"])
  })

  it("closing the scope finishes the generator, closes the channel, and leaves nothing registered", () =>
    run(
      Effect.gen(function* () {
        const scope = yield* openScope
        let finished = false
        const values = function* () {
          try {
            for (let i = 0; ; i++) yield i
          } finally {
            finished = true
          }
        }
        const lost = undelivered<number>()
        const ch = Chan.makeUnsafe<number>(0, { onUndelivered: lost.onUndelivered })
        yield* inScope(scope, onto(ch, values()))
        expect(yield* takeN(ch, 1)).toEqual([0])
        yield* settle
        yield* closeScope(scope)
        expect(finished).toBe(true)
        expect(lost.values).toEqual([1])
        expect(isClosedNow(ch)).toBe(true)
        expectNothingPending(ch)
      })
    ))

  it("an iterable whose iterator cannot be made is logged at Error, naming the operation; the channel closes empty", async () => {
    const logs = captureLogs()
    const unmakeable: Iterable<number> = {
      [Symbol.iterator]: () => {
        throw new Error("no iterator")
      }
    }
    const ch = Chan.makeUnsafe<number>(2)
    const got = await run(
      Effect.scoped(
        Effect.gen(function* () {
          yield* onto(ch, unmakeable)
          return yield* toArray(ch)
        })
      ).pipe(Effect.provide(logs.layer))
    )
    expect(got).toEqual([])
    expect(logs.errors().map((l) => [l.message, (Cause.squash(l.cause) as Error).message])).toEqual([
      ["Chan.onto: the iterable threw; the values after it are lost", "no iterator"]
    ])
  })

  it("a return that throws, when the channel closed early, is logged at Error, naming the operation", async () => {
    const logs = captureLogs()
    const endless = counting({ returnFails: true })
    const lost = undelivered<number>()
    const ch = Chan.makeUnsafe<number>(0, { onUndelivered: lost.onUndelivered })
    await run(
      Effect.scoped(
        Effect.gen(function* () {
          yield* onto(ch, endless.iterable)
          expect(yield* takeN(ch, 1)).toEqual([0])
          yield* settle
          Chan.closeUnsafe(ch)
          expect(yield* toArray(ch)).toEqual([1])
          yield* settle
        })
      ).pipe(Effect.provide(logs.layer))
    )
    expect(lost.values).toEqual([2])
    expect(endless.returned()).toBe(1)
    expect(logs.errors().map((l) => [l.message, (Cause.squash(l.cause) as Error).message])).toEqual([
      ["Chan.onto: the iterator's return threw", "return broke"]
    ])
  })
})

// ── consumers ───────────────────────────────────────────────────────────────

describe("toArray, reduce, forEach", () => {
  it.each([
    ["pipe from", () => Chan.pipe({} as never, Chan.makeUnsafe<number>()), "Chan.pipe from"],
    ["pipe to", () => Chan.pipe(Chan.makeUnsafe<number>(), 3 as never), "Chan.pipe to"],
    [
      "pipeline to",
      () => Chan.pipeline(Chan.makeUnsafe<number>(), null as never, Effect.succeed, { concurrency: 1 }),
      "Chan.pipeline to"
    ],
    [
      "pipeline f",
      () => Chan.pipeline(Chan.makeUnsafe<number>(), Chan.makeUnsafe<number>(), null as never, { concurrency: 1 }),
      "Chan.pipeline f"
    ],
    ["merge ports", () => Chan.merge(undefined as never), "Chan.merge ports"],
    ["merge port", () => Chan.merge([Chan.makeUnsafe<number>(), {} as never]), "Chan.merge port 1"],
    ["split p", () => Chan.split(3 as never, Chan.makeUnsafe<number>()), "Chan.split p"],
    ["split from", () => Chan.split(() => true, {} as never), "Chan.split from"],
    ["fromIterable it", () => Chan.fromIterable(5 as never), "Chan.fromIterable it"],
    ["onto ch", () => Chan.onto({} as never, [1]), "Chan.onto ch"],
    ["onto it", () => Chan.onto(Chan.makeUnsafe<number>(), 5 as never), "Chan.onto it"],
    ["reduce f", () => Chan.reduce(Chan.makeUnsafe<number>(), 0, 3 as never), "Chan.reduce f"],
    ["forEach f", () => Chan.forEach(Chan.makeUnsafe<number>(), 3 as never), "Chan.forEach f"]
  ] as const)(
    "a bad argument of %s dies with ChanArgumentError naming it, before starting anything",
    (_, make, argument) =>
      run(
        Effect.scoped(
          Effect.gen(function* () {
            const exit = yield* Effect.exit(make() as Effect.Effect<unknown, unknown, Scope.Scope>)
            const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
            expect(defect).toBeInstanceOf(ChanArgumentError)
            expect((defect as ChanArgumentError).argument).toBe(argument)
          })
        )
      )
  )

  it("toArray waits for the close and returns everything in order", () =>
    run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>()
        const collecting = yield* Effect.forkChild(toArray(ch))
        for (const i of [1, 2, 3]) yield* Chan.put(ch, i)
        yield* settle
        expect(collecting.pollUnsafe()).toBeUndefined()
        yield* Chan.close(ch)
        expect(yield* Fiber.join(collecting)).toEqual([1, 2, 3])
      })
    ))

  it("reduce folds every value", () =>
    run(
      Effect.gen(function* () {
        expect(yield* reduce(filled(range(101)), 0, (sum, i) => sum + i)).toBe(5050)
        expect(yield* reduce(filled<number>([]), "empty", (acc) => `${acc}!`)).toBe("empty")
      })
    ))

  it("forEach runs f on each value in order; the first failure stops it and leaves the rest", () =>
    run(
      Effect.gen(function* () {
        const seen: Array<number> = []
        const ch = filled([1, 2, 3, 4])
        const exit = yield* Effect.exit(
          forEach(ch, (i) => (i === 3 ? Effect.fail("three") : Effect.sync(() => seen.push(i))))
        )
        expect(exit).toEqual(Exit.fail("three"))
        expect(seen).toEqual([1, 2])
        expect(pollAll(ch)).toEqual([4])
      })
    ))
})

// ── the audit's defects (.scratch/audit/d) ──────────────────────────────────

describe("beyond the default maxPending (1024)", () => {
  describe.each([true, false])("ordered: %s", (isOrdered) => {
    it("a pipeline with concurrency 1100 runs 1100 calls at once and delivers every result", () =>
      run(
        Effect.scoped(
          Effect.gen(function* () {
            const gate = yield* Deferred.make<void>()
            let inFlight = 0
            const f = (i: number) =>
              Effect.gen(function* () {
                inFlight++
                yield* Deferred.await(gate)
                inFlight--
                return i
              })
            const from = filled(range(3000))
            const to = Chan.makeUnsafe<number>(16)
            yield* pipeline(from, to, f, { concurrency: 1100, ordered: isOrdered })
            yield* settle
            expect(inFlight).toBe(1100)
            yield* Deferred.succeed(gate, undefined)
            const out = yield* toArray(to)
            expect(isOrdered ? out : [...out].sort((a, b) => a - b)).toEqual(range(3000))
          })
        )
      ))

    it("a pipeline with concurrency 1100 waiting on an empty `from` keeps one take on it, not 1100", () =>
      run(
        Effect.scoped(
          Effect.gen(function* () {
            const from = Chan.makeUnsafe<number>()
            const to = Chan.makeUnsafe<number>(4)
            yield* pipeline(from, to, (i: number) => Effect.succeed(i), { concurrency: 1100, ordered: isOrdered })
            yield* settle
            expect(pending(from).takes).toBe(1)
            yield* onto(from, [1, 2, 3])
            expect(yield* toArray(to)).toEqual([1, 2, 3])
          })
        )
      ))

    it.each([2 ** 32, Number.MAX_SAFE_INTEGER])("a pipeline with concurrency %s works", (n) =>
      run(
        Effect.scoped(
          Effect.gen(function* () {
            const to = Chan.makeUnsafe<number>(4)
            yield* pipeline(filled(range(50)), to, scrambled, { concurrency: n, ordered: isOrdered })
            const out = yield* toArray(to)
            expect(isOrdered ? out : [...out].sort((a, b) => a - b)).toEqual(range(50).map((i) => i * 2))
          })
        )
      )
    )
  })

  it("unordered, a `from` whose maxPending is below the concurrency is read by one fiber", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const from = Chan.makeUnsafe<number>(0, { maxPending: 2 })
          const to = Chan.makeUnsafe<number>(4)
          yield* pipeline(from, to, scrambled, { concurrency: 8, ordered: false })
          yield* settle
          expect(pending(from).takes).toBe(1)
          yield* onto(from, range(40))
          const out = yield* toArray(to)
          expect([...out].sort((a, b) => a - b)).toEqual(range(40).map((i) => i * 2))
        })
      )
    ))

  it("a merge of 1100 inputs delivers every value", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const inputs = range(1100).map((i) => filled([i]))
          const out = yield* merge(inputs)
          yield* settle
          expect(pending(out).puts).toBe(1100)
          expect([...(yield* toArray(out))].sort((a, b) => a - b)).toEqual(range(1100))
        })
      )
    ))
})

/** A new unbuffered output, after `start` connected a combinator to it. */
const outOf = <E, R>(start: (to: Chan.Chan<number>) => Effect.Effect<void, E, R>) =>
  Effect.suspend(() => {
    const to = Chan.makeUnsafe<number>()
    return Effect.as(start(to), to as Chan.ReadPort<number>)
  })

describe("a combinator's defect is logged before its output closes", () => {
  // `from` allows one pending take and a fiber of the test holds it: the combinator's own take on
  // `from` dies with ChanPendingLimitError, a defect of the combinator's fiber
  it.each<[string, (from: Chan.ReadPort<number>) => Effect.Effect<Chan.ReadPort<number>, never, Scope.Scope>]>([
    ["Chan.pipe", (from) => outOf((to) => pipe(from, to))],
    ["Chan.pipeline", (from) => outOf((to) => pipeline(from, to, Effect.succeed, { concurrency: 2 }))],
    ["Chan.pipeline", (from) => outOf((to) => pipeline(from, to, Effect.succeed, { concurrency: 2, ordered: false }))],
    ["Chan.merge", (from) => merge([from])],
    [
      "Chan.split",
      (from) =>
        Effect.map(
          split(() => true, from),
          ([yes]) => yes
        )
    ],
    ["Chan.mult", (from) => outOf((to) => Effect.flatMap(Mult.make(from), (m) => Mult.tap(m, to)))],
    [
      "Chan.pub",
      (from) =>
        outOf((to) =>
          Effect.flatMap(
            Pub.make(from, () => 1),
            (p) => Pub.sub(p, 1, to)
          )
        )
    ]
  ])(
    "%s: a consumer that ends the scope as soon as the output closes still gets the Error line",
    async (name, start) => {
      const logs = captureLogs()
      await run(
        Effect.gen(function* () {
          const scope = yield* openScope
          const from = Chan.makeUnsafe<number>(0, { maxPending: 1 })
          yield* Effect.forkChild(Chan.take(from))
          yield* settle
          expect(pending(from).takes).toBe(1)
          const output = yield* inScope(scope, start(from))
          expect(yield* toArray(output)).toEqual([])
          yield* closeScope(scope)
        }).pipe(Effect.provide(logs.layer))
      )
      const errors = logs.errors()
      expect(errors.map((l) => l.message)).toEqual([`${name} stopped on a defect`])
      expect(Cause.squash(errors[0]!.cause)).toBeInstanceOf(ChanPendingLimitError)
    }
  )
})

describe.each([true, false])("pipeline, ordered: %s, with a JS caller's bad callback", (isOrdered) => {
  // a rejected Promise is handled by the pipeline: vitest fails the run on an unhandled rejection
  it.each<[string, () => unknown, string]>([
    ["a plain value", () => 20, "number"],
    ["undefined", () => undefined, "undefined"],
    ["a Promise", () => Promise.resolve(20), "a Promise"],
    ["a rejected Promise", () => Promise.reject(new Error("rejected")), "a Promise"]
  ])("an f returning %s for one input: that input is logged and skipped, the rest go on", async (_, bad, kind) => {
    const logs = captureLogs()
    const out = await run(
      Effect.scoped(
        Effect.gen(function* () {
          const to = Chan.makeUnsafe<number>(8)
          const f = (i: number) => (i === 2 ? (bad() as Effect.Effect<number>) : Effect.succeed(i * 10))
          yield* pipeline(filled([1, 2, 3, 4, 5]), to, f, { concurrency: 2, ordered: isOrdered })
          return yield* toArray(to)
        })
      ).pipe(Effect.provide(logs.layer))
    )
    expect(isOrdered ? out : [...out].sort((a, b) => a - b)).toEqual([10, 30, 40, 50])
    const errors = logs.errors()
    expect(errors.map((l) => l.message)).toEqual([
      `Chan.pipeline: f returned ${kind}, not an Effect; the input was skipped`
    ])
    expect(Cause.squash(errors[0]!.cause)).toMatchObject({
      _tag: "ChanArgumentError",
      argument: "Chan.pipeline f result"
    })
  })

  it("an onError returning something other than an Option: that input is logged and skipped", async () => {
    const logs = captureLogs()
    const out = await run(
      Effect.scoped(
        Effect.gen(function* () {
          const to = Chan.makeUnsafe<number>(8)
          const f = (i: number) => (i % 2 === 0 ? Effect.fail(i) : Effect.succeed(i))
          const onError = (e: number) => (e === 2 ? Option.some(-2) : e * 100)
          yield* pipeline(filled([1, 2, 3, 4]), to, f, {
            concurrency: 2,
            ordered: isOrdered,
            onError: onError as never
          })
          return yield* toArray(to)
        })
      ).pipe(Effect.provide(logs.layer))
    )
    expect(isOrdered ? out : [...out].sort((a, b) => a - b)).toEqual(isOrdered ? [1, -2, 3] : [-2, 1, 3])
    const errors = logs.errors()
    expect(errors.map((l) => l.message)).toEqual([
      "Chan.pipeline: onError returned number, not an Option; the input was skipped"
    ])
    expect(Cause.squash(errors[0]!.cause)).toMatchObject({ argument: "Chan.pipeline onError result", value: 400 })
  })
})

describe("a scope closed before the combinator's fiber ever ran", () => {
  // a fiber interrupted before its first step runs none of its finalizers: the outputs it closes
  // on its way out were left open, and a reader of them waited for ever
  it("closes the outputs it would close when it ends: pipe, pipeline, merge, split, fromIterable, onto, mult taps, fromStream, fromAsyncIterable", () =>
    run(
      Effect.gen(function* () {
        const piped = Chan.makeUnsafe<number>(1)
        yield* Effect.scoped(pipe(Chan.makeUnsafe<number>(1), piped))
        const pipelined = Chan.makeUnsafe<number>(1)
        yield* Effect.scoped(pipeline(Chan.makeUnsafe<number>(1), pipelined, Effect.succeed, { concurrency: 2 }))
        const merged = yield* Effect.scoped(merge([Chan.makeUnsafe<number>(1)]))
        const [yes, no] = yield* Effect.scoped(split((n: number) => n > 0, Chan.makeUnsafe<number>(1)))
        const fed = yield* Effect.scoped(fromIterable([1, 2, 3]))
        const onto1 = Chan.makeUnsafe<number>(1)
        yield* Effect.scoped(onto(onto1, [1, 2, 3]))
        const tapped = Chan.makeUnsafe<number>(1)
        yield* Effect.scoped(Effect.flatMap(Mult.make(Chan.makeUnsafe<number>(1)), (m) => Mult.tap(m, tapped)))
        const streamed = yield* Effect.scoped(Chan.fromStream(Stream.never))
        const iterated = yield* Effect.scoped(
          Chan.fromAsyncIterable(
            (async function* () {
              yield* [] // never yields a value
              await new Promise(() => {})
            })()
          )
        )
        const kept = Chan.makeUnsafe<number>(1)
        yield* Effect.scoped(pipe(Chan.makeUnsafe<number>(1), kept, { close: false }))
        const closed = [piped, pipelined, merged, yes, no, fed, onto1, tapped, streamed, iterated]
        return { closed: yield* Effect.forEach(closed, (ch) => Chan.isClosed(ch)), kept: yield* Chan.isClosed(kept) }
      })
    ).then(({ closed, kept }) => {
      expect(closed).toEqual(Array(10).fill(true))
      expect(kept).toBe(false) // close: false is kept
    }))
})

describe("a finished combinator leaves nothing in the caller's scope", () => {
  it("1000 pipes run to their end in one scope: its finalizers do not grow", () =>
    run(
      Effect.gen(function* () {
        const scope = yield* ScopeModule.make()
        const finalizers = () =>
          (scope as unknown as { state: { finalizers?: Map<unknown, unknown> } }).state.finalizers?.size ?? 0
        for (let i = 0; i < 1000; i++) {
          const from = Chan.makeUnsafe<number>(1)
          Chan.closeUnsafe(from)
          const to = Chan.makeUnsafe<number>(1)
          yield* pipe(from, to).pipe(ScopeModule.provide(scope))
          yield* toArray(to) // the pipe closed it: its fiber is ending
        }
        yield* settle
        const left = finalizers()
        yield* ScopeModule.close(scope, Exit.void)
        return left
      })
    ).then((left) => expect(left).toBeLessThanOrEqual(1)))
})
