/**
 * Conversions between channels and effect `Stream`s and `AsyncIterable`s: round trips, never
 * taking ahead, stopping early, failures, and teardown.
 */
import { Cause, Effect, Exit, Fiber, Option, Stream } from "effect"
import { describe, expect, it } from "vitest"
import * as Chan from "../src/Chan.js"
import { fromIterable, toArray } from "../src/internal/combinators.js"
import { fromAsyncIterable, fromStream, toAsyncIterable, toStream } from "../src/internal/interop.js"
import { counting, eventLoopTurns, filled, pending, range, run, settle, takeN, thrown, until } from "./harness.js"
import {
  captureLogs,
  closeReadPort,
  closeScope,
  expectNothingPending,
  inScope,
  isClosedNow,
  openScope,
  pollAll
} from "./lifetimes.js"

// ── Stream ──────────────────────────────────────────────────────────────────

describe("toStream / fromStream", () => {
  it("round trip: Stream → channel → Stream keeps every value in order", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const ch = yield* fromStream(Stream.fromIterable(range(1000)), 16)
          expect(yield* Stream.runCollect(toStream(ch))).toEqual(range(1000))
          expect(isClosedNow(ch)).toBe(true)
        })
      )
    ))

  it("round trip: channel → Stream → channel", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const back = yield* fromStream(toStream(filled(range(100))))
          expect(yield* toArray(back)).toEqual(range(100))
        })
      )
    ))

  it("toStream never takes ahead of the consumer", () =>
    run(
      Effect.gen(function* () {
        const ch = filled([1, 2, 3, 4, 5], false)
        // while the consumer handles a value, the channel still holds every later one
        const seen: Array<[number, number]> = []
        yield* Stream.runForEach(Stream.take(toStream(ch), 3), (v) =>
          Effect.map(Chan.size(ch), (left) => void seen.push([v, left]))
        )
        expect(seen).toEqual([
          [1, 4],
          [2, 3],
          [3, 2]
        ])
        expect(pollAll(ch)).toEqual([4, 5])
        expectNothingPending(ch)
      })
    ))

  it("toStream waits for values and ends when the channel closes", () =>
    run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>()
        const collecting = yield* Effect.forkChild(Stream.runCollect(toStream(ch)))
        yield* Chan.put(ch, 1)
        yield* Chan.put(ch, 2)
        yield* settle
        expect(collecting.pollUnsafe()).toBeUndefined()
        yield* Chan.close(ch)
        expect(yield* Fiber.join(collecting)).toEqual([1, 2])
      })
    ))

  it("a stream failure is logged at Error and closes the channel after the values before it", async () => {
    const logs = captureLogs()
    const got = await run(
      Effect.scoped(
        Effect.gen(function* () {
          const ch = yield* fromStream(Stream.concat(Stream.fromIterable([1, 2]), Stream.fail("stream broke")))
          return yield* toArray(ch)
        })
      ).pipe(Effect.provide(logs.layer))
    )
    expect(got).toEqual([1, 2])
    expect(logs.errors()).toHaveLength(1)
    expect(Cause.squash(logs.errors()[0].cause)).toBe("stream broke")
    expect(logs.errors()[0].message).toMatch(/fromStream/)
  })

  it("closing the channel stops the stream at its next element", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          let pulled = 0
          let ended = false
          const stream = Stream.fromIterable(range(100)).pipe(
            Stream.rechunk(1),
            Stream.tap(() => Effect.sync(() => pulled++)),
            Stream.ensuring(Effect.sync(() => (ended = true)))
          )
          const ch = yield* fromStream(stream)
          expect(yield* takeN(ch, 2)).toEqual([0, 1])
          yield* settle
          expect(pending(ch).puts).toBe(1)
          closeReadPort(ch)
          // the value pending at the close stays takeable; the next one is refused and the stream ends
          expect(yield* toArray(ch)).toEqual([2])
          yield* settle
          expect(ended).toBe(true)
          expect(pulled).toBe(4)
        })
      )
    ))

  it("closing the scope interrupts the stream, closes the channel, and leaves nothing registered", () =>
    run(
      Effect.gen(function* () {
        const scope = yield* openScope
        let ended = false
        const stream = Stream.concat(Stream.fromIterable([1]), Stream.never).pipe(
          Stream.ensuring(Effect.sync(() => (ended = true)))
        )
        const ch = yield* inScope(scope, fromStream(stream))
        expect(yield* takeN(ch, 1)).toEqual([1])
        yield* settle
        yield* closeScope(scope)
        expect(ended).toBe(true)
        expect(isClosedNow(ch)).toBe(true)
        expectNothingPending(ch)
      })
    ))
})

// ── AsyncIterable ───────────────────────────────────────────────────────────

describe("toAsyncIterable / fromAsyncIterable", () => {
  it("for await reads every value in order and ends when the channel closes", async () => {
    const ch = filled(range(50))
    const got: Array<number> = []
    for await (const v of toAsyncIterable(ch)) got.push(v)
    expect(got).toEqual(range(50))
  })

  it("round trip: channel → AsyncIterable → channel", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const back = yield* fromAsyncIterable(toAsyncIterable(filled(range(200))), 4)
          expect(yield* toArray(back)).toEqual(range(200))
        })
      )
    ))

  it("round trip: async generator → channel → AsyncIterable", async () => {
    const source = async function* () {
      for (let i = 0; i < 100; i++) {
        await Promise.resolve()
        yield i
      }
    }
    const got = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const ch = yield* fromAsyncIterable(source())
          return yield* Effect.promise(async () => {
            const values: Array<number> = []
            for await (const v of toAsyncIterable(ch)) values.push(v)
            return values
          })
        })
      )
    )
    expect(got).toEqual(range(100))
  })

  it("never takes ahead of the consumer", async () => {
    const ch = filled([1, 2, 3, 4], false)
    const it = toAsyncIterable(ch)[Symbol.asyncIterator]()
    expect(await it.next()).toEqual({ done: false, value: 1 })
    // give a take ahead every chance to happen
    await eventLoopTurns()
    expect(pollAll(ch)).toEqual([2, 3, 4])
  })

  it("break stops taking", async () => {
    const ch = filled([1, 2, 3, 4, 5], false)
    const got: Array<number> = []
    for await (const v of toAsyncIterable(ch)) {
      got.push(v)
      if (v === 2) break
    }
    // give a take after the break every chance to happen
    await eventLoopTurns()
    expect(got).toEqual([1, 2])
    expect(pollAll(ch)).toEqual([3, 4, 5])
    expectNothingPending(ch)
  })

  it("return() withdraws a take still pending; the pending next() resolves done and nothing is consumed", async () => {
    const ch = Chan.makeUnsafe<number>(4)
    const it = toAsyncIterable(ch)[Symbol.asyncIterator]()
    const waiting = it.next()
    await until(() => pending(ch).takes === 1)
    expect(pending(ch).takes).toBe(1)
    expect(await it.return!()).toEqual({ done: true, value: undefined })
    expect(await waiting).toEqual({ done: true, value: undefined })
    expectNothingPending(ch)
    Chan.offerUnsafe(ch, 9)
    expect(await it.next()).toEqual({ done: true, value: undefined })
    expect(pollAll(ch)).toEqual([9])
  })

  it("a value that is not a channel throws ChanArgumentError at the call, naming the argument", () => {
    expect(thrown(() => toAsyncIterable(42 as never))).toMatchObject({
      _tag: "ChanArgumentError",
      argument: "Chan.toAsyncIterable ch",
      value: 42
    })
  })

  it("a next() waits in line with the channel's other takes, first come, first served", async () => {
    const ch = Chan.makeUnsafe<number>(0)
    const first = toAsyncIterable(ch)[Symbol.asyncIterator]().next()
    const second = Effect.runPromise(Chan.take(ch))
    await until(() => pending(ch).takes === 2)
    Chan.offerUnsafe(ch, 1)
    Chan.offerUnsafe(ch, 2)
    expect(await first).toEqual({ done: false, value: 1 })
    expect(await second).toEqual(Option.some(2))
  })

  it("a take that dies rejects next()", async () => {
    const ch = Chan.makeUnsafe<number>(0, { maxPending: 1 })
    const it = toAsyncIterable(ch)[Symbol.asyncIterator]()
    const first = it.next()
    await until(() => pending(ch).takes === 1)
    await expect(it.next()).rejects.toMatchObject({ _tag: "ChanPendingLimitError" })
    await it.return!()
    expect(await first).toEqual({ done: true, value: undefined })
  })

  it("a throwing iterator is logged at Error and closes the channel after the values before it", async () => {
    const logs = captureLogs()
    const source = async function* () {
      yield 1
      yield 2
      throw new Error("iterator broke")
    }
    const got = await run(
      Effect.scoped(
        Effect.gen(function* () {
          return yield* toArray(yield* fromAsyncIterable(source()))
        })
      ).pipe(Effect.provide(logs.layer))
    )
    expect(got).toEqual([1, 2])
    expect(logs.errors().map((l) => (Cause.squash(l.cause) as Error).message)).toEqual(["iterator broke"])
    expect(logs.errors()[0].message).toMatch(/fromAsyncIterable/)
  })

  it("closing the channel stops the iteration and finishes the generator", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          let finished = false
          const source = async function* () {
            try {
              for (let i = 0; ; i++) yield i
            } finally {
              finished = true
            }
          }
          const ch = yield* fromAsyncIterable(source())
          expect(yield* takeN(ch, 2)).toEqual([0, 1])
          yield* Effect.promise(() => until(() => pending(ch).puts === 1))
          expect(pending(ch).puts).toBe(1)
          closeReadPort(ch)
          // the value pending at the close stays takeable; the next one is refused
          expect(yield* toArray(ch)).toEqual([2])
          yield* Effect.promise(() => until(() => finished))
          yield* settle
          expect(finished).toBe(true)
          expectNothingPending(ch)
        })
      )
    ))

  it("closing the scope closes the channel and finishes the generator, even with a next() pending", () =>
    run(
      Effect.gen(function* () {
        const scope = yield* openScope
        let finished = false
        // set once the generator waits mid-`next()`
        let release: (() => void) | undefined
        const source = async function* () {
          try {
            yield 1
            await new Promise<void>((resolve) => (release = resolve))
            yield 2
          } finally {
            finished = true
          }
        }
        const ch = yield* inScope(scope, fromAsyncIterable(source()))
        expect(yield* takeN(ch, 1)).toEqual([1])
        yield* Effect.promise(() => until(() => release !== undefined))
        yield* closeScope(scope)
        expect(isClosedNow(ch)).toBe(true)
        expectNothingPending(ch)
        // the generator was mid-`next()`: `return` runs once that settles
        release!()
        yield* Effect.promise(() => until(() => finished))
        expect(finished).toBe(true)
        expect(yield* Chan.take(ch)).toEqual(Option.none())
      })
    ))

  it.each([
    [
      "fromIterable",
      (source: ReturnType<typeof counting>) => fromIterable(source.iterable),
      "Chan.fromIterable: the iterable threw; the values after it are lost"
    ],
    [
      "fromAsyncIterable",
      (source: ReturnType<typeof counting>) => fromAsyncIterable(source.asyncIterable),
      "Chan.fromAsyncIterable: the iterator threw; the channel is closed"
    ]
  ] as const)(
    "%s: an iterator that runs to its end, or fails, is not returned; the failure is logged at Error",
    async (_, from, message) => {
      const whole = counting({ length: 3 })
      const broken = counting({ failAt: 2 })
      const logs = captureLogs()
      const got = await run(
        Effect.scoped(
          Effect.gen(function* () {
            const all = yield* toArray(yield* from(whole))
            const before = yield* toArray(yield* from(broken))
            return [all, before] as const
          })
        ).pipe(Effect.provide(logs.layer))
      )
      expect(got).toEqual([
        [0, 1, 2],
        [0, 1]
      ])
      expect([whole.returned(), broken.returned()]).toEqual([0, 0])
      expect(logs.errors().map((l) => [l.message, (Cause.squash(l.cause) as Error).message])).toEqual([
        [message, "iterator broke"]
      ])
    }
  )

  it("a return() that rejects, when the channel closed early, is logged at Error", async () => {
    const endless = counting({ returnFails: true })
    const logs = captureLogs()
    await run(
      Effect.scoped(
        Effect.gen(function* () {
          const ch = yield* fromAsyncIterable(endless.asyncIterable)
          expect(yield* takeN(ch, 1)).toEqual([0])
          yield* Effect.promise(() => until(() => pending(ch).puts === 1))
          closeReadPort(ch)
          expect(yield* toArray(ch)).toEqual([1])
          yield* Effect.promise(() => until(() => logs.errors().length > 0))
        })
      ).pipe(Effect.provide(logs.layer))
    )
    expect(endless.returned()).toBe(1)
    expect(logs.errors().map((l) => [l.message, (Cause.squash(l.cause) as Error).message])).toEqual([
      ["Chan.fromAsyncIterable: the iterator's return failed", "return broke"]
    ])
  })

  it("fromAsyncIterable of a non-iterable, fromStream of a non-stream: die with ChanArgumentError naming it", () =>
    run(
      Effect.gen(function* () {
        for (const [bad, argument] of [
          [fromAsyncIterable(5 as never), "Chan.fromAsyncIterable it"],
          [fromAsyncIterable([1] as never), "Chan.fromAsyncIterable it"],
          [fromStream({} as unknown as Stream.Stream<number>), "Chan.fromStream stream"]
        ] as const) {
          const exit = yield* Effect.exit(Effect.scoped(bad))
          expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toMatchObject({
            _tag: "ChanArgumentError",
            argument
          })
        }
      })
    ))

  it("fromAsyncIterable with a bad buffer dies with ChanArgumentError", () =>
    run(
      Effect.gen(function* () {
        const exit = yield* Effect.exit(Effect.scoped(fromAsyncIterable(toAsyncIterable(filled([1])), -1)))
        expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toMatchObject({ _tag: "ChanArgumentError" })
      })
    ))
})
