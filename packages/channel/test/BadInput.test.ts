/**
 * Bad input never loses a value silently: a bad callback is refused before anything is stored, a
 * user function's result of the wrong kind is a typed error (logged, or the defect of the call), a
 * misspelt option is refused rather than ignored, and the type guards answer `false` for hostile
 * values. Every error is a `ChanArgumentError` naming the function and the argument.
 */
import { Cause, Effect, Option, type Scope } from "effect"
import { describe, expect, it } from "vitest"
import * as Facade from "../src/AsyncChan.js"
import { Buffer, Chan, ChanArgumentError, ChanPendingLimitError, Mix, Mult, Pub, Xform } from "../src/index.js"
import { expectArgumentError, pending, rejection, run, soleDefect, thrown } from "./harness.js"
import { captureLogs, undelivered } from "./lifetimes.js"

/** Asserts `error` is the ChanArgumentError of an unknown option `argument`, suggesting `meant` (if any) among `known`. */
const expectUnknownOption = (error: unknown, argument: string, meant: string | undefined, known: string) => {
  expect(error).toBeInstanceOf(ChanArgumentError)
  const e = error as ChanArgumentError
  expect(e.argument).toBe(argument)
  expect(e.message).toContain(`the known ones are ${known}`)
  if (meant === undefined) expect(e.message).not.toContain("did you mean")
  else expect(e.message).toContain(`(did you mean ${meant}?)`)
}

/** Non-functions for a callback (each in a tuple: `it.each` spreads an array case). */
const badCallbacks: ReadonlyArray<readonly [unknown]> = [[5], ["done"], [{}], [[]], [null], [true]]

describe("Chan.putUnsafe refuses an onDone that is not a function before anything is put", () => {
  it.each(badCallbacks)(
    "onDone %j on an unbuffered channel: nothing pending, the next taker gets the next value",
    (bad) =>
      run(
        Effect.gen(function* () {
          const ch = Chan.makeUnsafe<number>()
          const error = thrown(() => Chan.putUnsafe(ch, 1, bad as never))
          expect(error).toBeInstanceOf(ChanArgumentError)
          expect((error as ChanArgumentError).argument).toBe("Chan.putUnsafe onDone")
          expect((error as ChanArgumentError).value).toStrictEqual(bad)
          expect(pending(ch)).toEqual({ puts: 0, takes: 0 })
          const accepted: Array<boolean> = []
          expect(Chan.putUnsafe(ch, 2, (ok) => accepted.push(ok))).toBe(true)
          expect(yield* Chan.take(ch)).toStrictEqual(Option.some(2))
          expect(accepted).toEqual([true])
        })
      )
  )

  it.each(badCallbacks)(
    "onDone %j on a buffered channel with room: nothing is buffered (a retry adds no duplicate)",
    (bad) => {
      const ch = Chan.makeUnsafe<number>(4)
      expect(thrown(() => Chan.putUnsafe(ch, 1, bad as never))).toBeInstanceOf(ChanArgumentError)
      expect(Chan.pollUnsafe(ch)).toStrictEqual(Option.none())
      expect(Chan.putUnsafe(ch, 1)).toBe(true) // undefined: no callback
      expect(Chan.pollUnsafe(ch)).toStrictEqual(Option.some(1))
    }
  )

  it("a pipe reading the channel goes on: every value reaches its destination", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const src = Chan.makeUnsafe<number>()
          const dst = Chan.makeUnsafe<number>(10)
          expect(thrown(() => Chan.putUnsafe(src, 7, "oops" as never))).toBeInstanceOf(ChanArgumentError)
          Chan.putUnsafe(src, 8, () => {})
          Chan.closeUnsafe(src)
          yield* Chan.pipe(src, dst)
          expect(yield* Chan.toArray(dst)).toEqual([8])
        })
      )
    ))
})

describe("an xform function's result of the wrong kind drops the value, logged as an xform error", () => {
  const cases: ReadonlyArray<readonly [string, Xform.Xform<number, number>, string]> = [
    [
      "Xform.keep returning no Option",
      Xform.keep((n: number) => (n % 2 === 0 ? Option.some(n * 10) : (n as never))),
      "Xform.keep function result"
    ],
    [
      "Xform.keep returning undefined",
      Xform.keep((n: number) => (n % 2 === 0 ? Option.some(n * 10) : (undefined as never))),
      "Xform.keep function result"
    ],
    [
      "Xform.keep returning a Promise",
      Xform.keep((n: number) => (n % 2 === 0 ? Option.some(n * 10) : (Promise.resolve(n) as never))),
      "Xform.keep function result"
    ],
    [
      "Xform.flatMap returning no iterable",
      Xform.flatMap((n: number) => (n % 2 === 0 ? [n * 10] : (n as never))),
      "Xform.flatMap function result"
    ]
  ]

  it.each(cases)(
    "%s: each such value is logged at Error level and dropped; the others go through",
    (_, xform, argument) =>
      Effect.gen(function* () {
        const logs = captureLogs()
        const out = yield* Effect.gen(function* () {
          const ch = yield* Chan.make(8, { xform, name: "numbers" })
          for (const n of [1, 2, 3, 4]) yield* Chan.put(ch, n)
          yield* Chan.close(ch)
          return yield* Chan.toArray(ch)
        }).pipe(Effect.provide(logs.layer))
        expect(out).toEqual([20, 40])
        const errors = logs.errors()
        expect(errors.map((l) => l.message)).toEqual([
          "xform failed; the value was dropped",
          "xform failed; the value was dropped"
        ])
        for (const line of errors) {
          const error = Cause.squash(line.cause)
          expect(error).toBeInstanceOf(ChanArgumentError)
          expect((error as ChanArgumentError).argument).toBe(argument)
        }
      }).pipe(run)
  )

  it("onXformError gets the error and may replace the value", () => {
    const seen: Array<unknown> = []
    const ch = Chan.makeUnsafe<number, number>(4, {
      xform: Xform.keep((n: number) => n as never),
      onXformError: (error, input) => {
        seen.push(error)
        return Option.some(-input)
      }
    })
    Chan.offerUnsafe(ch, 1)
    expect(Chan.pollUnsafe(ch)).toStrictEqual(Option.some(-1))
    expect((seen[0] as ChanArgumentError).argument).toBe("Xform.keep function result")
  })
})

describe("Chan.forEach with an f that returns no Effect dies with ChanArgumentError", () => {
  it.each<[string, unknown]>([
    ["an empty string", ""],
    ["a string", "bogus"],
    ["an empty array", []],
    ["a number", 5],
    ["undefined", undefined],
    ["an object", {}]
  ])("%s: it names Chan.forEach f's result and the value; f ran once", (_, result) =>
    run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>(4)
        Chan.offerUnsafe(ch, 1)
        Chan.offerUnsafe(ch, 2)
        Chan.closeUnsafe(ch)
        let calls = 0
        const defect = yield* soleDefect(
          Chan.forEach(ch, () => {
            calls++
            return result as Effect.Effect<void>
          })
        )
        expectArgumentError(defect, "Chan.forEach f result", "")
        expect((defect as ChanArgumentError).value).toStrictEqual(result)
        expect(calls).toBe(1)
        expect(Chan.pollUnsafe(ch)).toStrictEqual(Option.some(2)) // the rest stays in the channel
      })
    )
  )

  it.each<[string, () => Promise<void>]>([
    ["an async function", async () => {}],
    ["a function returning a rejected Promise", () => Promise.reject(new Error("rejected"))]
  ])("%s: the error says to wrap it in Effect.promise or Effect.tryPromise (a rejection is handled)", (_, f) =>
    run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>(1)
        Chan.offerUnsafe(ch, 1)
        const defect = yield* soleDefect(Chan.forEach(ch, f as unknown as (n: number) => Effect.Effect<void>))
        expectArgumentError(defect, "Chan.forEach f result", "a Promise")
        expect((defect as ChanArgumentError).message).toContain("Effect.tryPromise")
      })
    )
  )
})

describe("an unknown option is refused, naming the function and the key", () => {
  const channelKnown = "name, maxPending, onUndelivered, xform, onXformError"

  it.each<[string, () => unknown, string, string | undefined]>([
    [
      "Chan.makeUnsafe",
      () => Chan.makeUnsafe(Buffer.dropping(1), { onUndelivred: () => {} } as never),
      "Chan.makeUnsafe onUndelivred",
      "onUndelivered"
    ],
    [
      "Chan.makeUnsafe, nothing close",
      () => Chan.makeUnsafe(1, { timout: 5 } as never),
      "Chan.makeUnsafe timout",
      undefined
    ],
    [
      "Chan.promiseChanUnsafe",
      () => Chan.promiseChanUnsafe({ Name: "x" } as never),
      "Chan.promiseChanUnsafe Name",
      "name"
    ],
    [
      "Chan.promiseUnsafe",
      () => Chan.promiseUnsafe({ maxPend: 2 } as never),
      "Chan.promiseChanUnsafe maxPend",
      "maxPending"
    ],
    ["chan", () => Facade.chan(1, { maxpending: 3 } as never), "chan maxpending", "maxPending"]
  ])("%s throws", (_, make, argument, meant) => {
    expectUnknownOption(thrown(make), argument, meant, channelKnown)
  })

  it("the constructors' Effect versions die with it", () =>
    run(
      Effect.gen(function* () {
        expectUnknownOption(
          yield* soleDefect(Chan.make(1, { onXformErr: () => Option.none() } as never)),
          "Chan.make onXformErr",
          "onXformError",
          channelKnown
        )
        expectUnknownOption(
          yield* soleDefect(Chan.promiseChan({ nam: "x" } as never)),
          "Chan.promiseChan nam",
          "name",
          channelKnown
        )
      })
    ))

  it("the combinators, Mult.tap, Pub.sub and Mix.toggle die with it before starting anything", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const from = Chan.makeUnsafe<number>(1)
          const to = Chan.makeUnsafe<number>(1)
          const f = (n: number) => Effect.succeed(n)
          const refused: ReadonlyArray<
            readonly [Effect.Effect<unknown, unknown, Scope.Scope>, string, string | undefined, string]
          > = [
            [Chan.pipe(from, to, { clsoe: false } as never), "Chan.pipe clsoe", "close", "close"],
            [Chan.onto(to, [1], { closed: false } as never), "Chan.onto closed", "close", "close"],
            [
              Chan.pipeline(from, to, f, { concurrency: 1, order: false } as never),
              "Chan.pipeline order",
              "ordered",
              "concurrency, ordered, close, onError"
            ],
            [
              Chan.pipeline(from, to, f, { concurrency: 1, onErr: () => Option.none() } as never),
              "Chan.pipeline onErr",
              "onError",
              "concurrency, ordered, close, onError"
            ],
            [
              Chan.select([Chan.onTake(from, () => 1)], { priorty: true } as never),
              "select priorty",
              "priority",
              "priority, orElse"
            ],
            [
              Chan.select([Chan.onTake(from, () => 1)], { signal: new AbortController().signal } as never),
              "select signal",
              undefined,
              "priority, orElse"
            ]
          ]
          for (const [effect, argument, meant, known] of refused) {
            expectUnknownOption(yield* soleDefect(effect), argument, meant, known)
          }
          // nothing started: `to` is open, nothing was put or taken
          expect(yield* Chan.isClosed(to)).toBe(false)
          expect(pending(from)).toEqual({ puts: 0, takes: 0 })
          expect(Chan.offerUnsafe(to, 1)).toBe(true)

          const source = Chan.makeUnsafe<number>(1)
          const m = yield* Chan.mult(source)
          const tap = Chan.makeUnsafe<number>(1)
          expectUnknownOption(
            yield* soleDefect(Mult.tap(m, tap, { Close: false } as never)),
            "Mult.tap Close",
            "close",
            "close"
          )
          const p = yield* Chan.pub(Chan.makeUnsafe<number>(1), (n: number) => n % 2)
          expectUnknownOption(
            yield* soleDefect(Pub.sub(p, 0, tap, { clse: true } as never)),
            "Pub.sub clse",
            "close",
            "close"
          )
          const mix = yield* Chan.mix(Chan.makeUnsafe<number>(1))
          const input = Chan.makeUnsafe<number>(1)
          yield* Mix.add(mix, input)
          expectUnknownOption(
            yield* soleDefect(Mix.toggle(mix, new Map([[input, { muted: true } as never]]))),
            "Mix.toggle muted",
            "mute",
            "mute, pause, solo"
          )
          // the tap was not added: a value put on the source reaches no one
          yield* Chan.put(source, 1)
          expect(Chan.pollUnsafe(tap)).toStrictEqual(Option.none())
        })
      )
    ))

  it("the facade's put, take and select reject with it, queueing nothing", async () => {
    const ch = Facade.chan<number>()
    expectUnknownOption(await rejection(ch.put(1, { signl: undefined } as never)), "put signl", "signal", "signal")
    expectUnknownOption(await rejection(Facade.take(ch, { timeout: 5 } as never)), "take timeout", undefined, "signal")
    expectUnknownOption(
      await rejection(Facade.select([Facade.onTake(ch, () => 1)], { prority: true } as never)),
      "select prority",
      "priority",
      "priority, orElse, signal"
    )
    expect(pending(ch)).toEqual({ puts: 0, takes: 0 })
  })

  it("@tributary/channel/async exports the errors it throws and rejects with (the classes of @tributary/channel)", async () => {
    expect(Facade.ChanArgumentError).toBe(ChanArgumentError)
    expect(Facade.ChanPendingLimitError).toBe(ChanPendingLimitError)
    expect(thrown(() => Facade.chan(-1))).toBeInstanceOf(Facade.ChanArgumentError)
    const ch = Facade.chan<number>(0, { maxPending: 1 })
    const first = Facade.put(ch, 1)
    expect(await rejection(Facade.put(ch, 2))).toBeInstanceOf(Facade.ChanPendingLimitError)
    expect(await Facade.take(ch)).toEqual({ done: false, value: 1 })
    expect(await first).toBe(true)
  })

  it("the known options are still taken: a dropping channel reports the value it drops", () => {
    const lost = undelivered<number>()
    const ch = Chan.makeUnsafe(Buffer.dropping(1), { name: "n", maxPending: 2, onUndelivered: lost.onUndelivered })
    Chan.offerUnsafe(ch, 1)
    Chan.offerUnsafe(ch, 2)
    expect(lost.values).toEqual([2])
  })
})

describe("the facade's signal: null is refused like any other non-signal", () => {
  it("put, take and select reject with ChanArgumentError (never throw at the call), queueing nothing", async () => {
    const ch = Facade.chan<number>()
    const calls: ReadonlyArray<() => Promise<unknown>> = [
      () => ch.put(1, { signal: null as never }),
      () => Facade.put(ch, 1, { signal: null as never }),
      () => ch.take({ signal: null as never }),
      () => Facade.take(ch, { signal: null as never }),
      () => Facade.select([Facade.onTake(ch, () => 1)], { signal: null as never })
    ]
    for (const call of calls) {
      let promise: Promise<unknown> | undefined
      expect(() => {
        promise = call()
      }).not.toThrow()
      const error = await rejection(promise!)
      expect(error).toBeInstanceOf(ChanArgumentError)
      expect((error as ChanArgumentError).argument).toBe("signal")
      expect((error as ChanArgumentError).value).toBeNull()
    }
    expect(pending(ch)).toEqual({ puts: 0, takes: 0 })
  })
})

describe("the type guards answer false for a hostile value", () => {
  const throwing = () => {
    throw new Error("trap")
  }
  const hostile = [
    new Proxy({}, { getPrototypeOf: throwing, has: throwing, get: throwing }),
    new Proxy(Chan.makeUnsafe<number>(), { getPrototypeOf: throwing, has: throwing, get: throwing })
  ]
  const guards: ReadonlyArray<readonly [string, (u: unknown) => boolean]> = [
    ["Chan.isChan", Chan.isChan],
    ["Buffer.isBuffer", Buffer.isBuffer],
    ["Mult.isMult", Mult.isMult],
    ["Pub.isPub", Pub.isPub],
    ["Mix.isMix", Mix.isMix],
    ["Xform.isXform", Xform.isXform]
  ]

  it.each(guards)("%s", (_, guard) => {
    for (const value of hostile) expect(guard(value)).toBe(false)
  })

  it("and still true for their own values", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const ch = Chan.makeUnsafe<number>(1)
          expect(Chan.isChan(ch)).toBe(true)
          expect(Buffer.isBuffer(Buffer.sliding(1))).toBe(true)
          expect(Xform.isXform(Xform.map((n: number) => n))).toBe(true)
          expect(Mult.isMult(yield* Chan.mult(ch))).toBe(true)
          expect(Pub.isPub(yield* Chan.pub(Chan.makeUnsafe<number>(), (n: number) => n))).toBe(true)
          expect(Mix.isMix(yield* Chan.mix(Chan.makeUnsafe<number>()))).toBe(true)
        })
      )
    ))
})

describe("argument errors name the function", () => {
  it.each<[string, () => unknown, string, unknown]>([
    ["Chan.makeUnsafe maxPending", () => Chan.makeUnsafe(1, { maxPending: 0 }), "Chan.makeUnsafe maxPending", 0],
    ["Chan.makeUnsafe buffer size", () => Chan.makeUnsafe(-1), "Chan.makeUnsafe buffer size", -1],
    [
      "Chan.promiseChanUnsafe name",
      () => Chan.promiseChanUnsafe({ name: 5 as never }),
      "Chan.promiseChanUnsafe name",
      5
    ],
    ["chan onUndelivered", () => Facade.chan(1, { onUndelivered: 5 as never }), "chan onUndelivered", 5]
  ])("%s", (_, f, argument, value) => {
    const error = thrown(f)
    expectArgumentError(error, argument, value)
    expect((error as ChanArgumentError).argument).toBe(argument)
  })

  it("Chan.make maxPending, and a Pub bufFn returning a bad buffer", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const made = yield* soleDefect(Chan.make(1, { maxPending: -1 }))
          expect((made as ChanArgumentError).argument).toBe("Chan.make maxPending")
          const p = yield* Chan.pub(
            Chan.makeUnsafe<number>(),
            (n: number) => n,
            () => -1
          )
          const bad = yield* soleDefect(Pub.sub(p, 1, Chan.makeUnsafe<number>(1)))
          expect((bad as ChanArgumentError).argument).toBe("Chan.pub bufFn result size")
        })
      )
    ))
})

describe("an array is not an options object", () => {
  it("the constructors throw, the facade's put rejects, Mix.toggle dies naming the state", async () => {
    expectArgumentError(
      thrown(() => Chan.makeUnsafe(1, [] as never)),
      "Chan.makeUnsafe options",
      "[]"
    )
    expectArgumentError(await rejection(Facade.chan<number>(1).put(1, [] as never)), "put options", "[]")
    await run(
      Effect.scoped(
        Effect.gen(function* () {
          const mix = yield* Chan.mix(Chan.makeUnsafe<number>(1))
          const input = Chan.makeUnsafe<number>(1)
          const error = yield* soleDefect(Mix.toggle(mix, new Map([[input, [] as never]])))
          expect((error as ChanArgumentError).argument).toBe("Mix.toggle state")
        })
      )
    )
  })
})
