/**
 * Options arguments and boolean options of the public API: each one of the wrong type is refused
 * with a `ChanArgumentError` naming the argument and the value (thrown by the synchronous
 * functions, died with by the Effect ones, rejected with by the Promise facade), and refused before
 * anything changed.
 */
import { Effect, Option } from "effect"
import { describe, expect, it } from "vitest"
import * as Facade from "../src/AsyncChan.js"
import { Chan, Mix, Mult, Pub } from "../src/index.js"
import { expectArgumentError, rejection, run, settle, soleDefect, thrown } from "./harness.js"

describe("a buffer argument of null is refused (only undefined means unbuffered)", () => {
  it("Chan.makeUnsafe(null) and the facade's chan(null) throw", () => {
    expectArgumentError(
      thrown(() => Chan.makeUnsafe(null as never)),
      "buffer",
      null
    )
    expectArgumentError(
      thrown(() => Facade.chan(null as never)),
      "buffer",
      null
    )
  })

  it("Chan.make(null) dies", () =>
    run(
      Effect.gen(function* () {
        expectArgumentError(yield* soleDefect(Chan.make(null as never)), "buffer", null)
      })
    ))

  it("undefined is still an unbuffered channel", () => {
    const ch = Chan.makeUnsafe<number>(undefined as never)
    expect(Chan.offerUnsafe(ch, 1)).toBe(false)
  })
})

describe("the close option of pipe, onto, pipeline, Mult.tap and Pub.sub", () => {
  const bad = [5, "no", null] as const

  it.each(bad)(
    "Chan.pipe, Chan.onto and Chan.pipeline die for close: %s and for options that are not an object",
    (value) =>
      run(
        Effect.scoped(
          Effect.gen(function* () {
            const from = Chan.makeUnsafe<number>(1)
            const to = Chan.makeUnsafe<number>(1)
            const f = (n: number) => Effect.succeed(n)
            expectArgumentError(
              yield* soleDefect(Chan.pipe(from, to, { close: value as never })),
              "Chan.pipe close",
              value
            )
            expectArgumentError(yield* soleDefect(Chan.pipe(from, to, value as never)), "Chan.pipe options", value)
            expectArgumentError(
              yield* soleDefect(Chan.onto(to, [1], { close: value as never })),
              "Chan.onto close",
              value
            )
            expectArgumentError(yield* soleDefect(Chan.onto(to, [1], value as never)), "Chan.onto options", value)
            expectArgumentError(
              yield* soleDefect(Chan.pipeline(from, to, f, { concurrency: 1, close: value as never })),
              "Chan.pipeline close",
              value
            )
            expectArgumentError(
              yield* soleDefect(Chan.pipeline(from, to, f, value as never)),
              "Chan.pipeline options",
              value
            )
            // nothing started: `to` is open and empty, and `from` keeps its value
            Chan.offerUnsafe(from, 7)
            yield* settle
            return { toOpen: !(yield* Chan.isClosed(to)), toEmpty: yield* Chan.size(to), from: Chan.pollUnsafe(from) }
          })
        )
      ).then((r) => expect(r).toEqual({ toOpen: true, toEmpty: 0, from: Option.some(7) }))
  )

  it("Chan.pipeline dies for an ordered that is not a boolean and an onError that is not a function", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const from = Chan.makeUnsafe<number>(1)
          const to = Chan.makeUnsafe<number>(1)
          const f = (n: number) => Effect.succeed(n)
          expectArgumentError(
            yield* soleDefect(Chan.pipeline(from, to, f, { concurrency: 1, ordered: "no" as never })),
            "Chan.pipeline ordered",
            "no"
          )
          expectArgumentError(
            yield* soleDefect(Chan.pipeline(from, to, f, { concurrency: 1, onError: 5 as never })),
            "Chan.pipeline onError",
            5
          )
        })
      )
    ))

  it('Mult.tap dies for close: "no"; the tap is not added (it stays open when the source closes)', () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>(0)
          const m = yield* Chan.mult(source)
          const t = Chan.makeUnsafe<number>(8)
          expectArgumentError(yield* soleDefect(Mult.tap(m, t, { close: "no" as never })), "Mult.tap close", "no")
          expectArgumentError(yield* soleDefect(Mult.tap(m, t, 5 as never)), "Mult.tap options", 5)
          yield* Chan.close(source)
          yield* settle
          return yield* Chan.isClosed(t)
        })
      )
    ).then((closed) => expect(closed).toBe(false)))

  it('Pub.sub dies for close: "no"; the subscriber is not added', () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const source = Chan.makeUnsafe<number>(1)
          const p = yield* Chan.pub(source, (n: number) => n % 2)
          const odd = Chan.makeUnsafe<number>(8)
          expectArgumentError(yield* soleDefect(Pub.sub(p, 1, odd, { close: "no" as never })), "Pub.sub close", "no")
          expectArgumentError(yield* soleDefect(Pub.sub(p, 1, odd, 5 as never)), "Pub.sub options", 5)
          yield* Chan.put(source, 1)
          yield* settle
          return { received: Chan.pollUnsafe(odd), closed: yield* Chan.isClosed(odd) }
        })
      )
    ).then((r) => expect(r).toEqual({ received: Option.none(), closed: false })))
})

describe("Mix.toggle: a state field that is not a boolean", () => {
  it.each(["mute", "pause", "solo"] as const)("%s: dies naming it, and no state of the call is applied", (field) =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const out = Chan.makeUnsafe<number>(8)
          const m = yield* Chan.mix(out)
          const a = Chan.makeUnsafe<number>(8)
          const b = Chan.makeUnsafe<number>(8)
          yield* Mix.add(m, a)
          // b's state is valid, a's is not: neither is applied (b is not added)
          const states = new Map([
            [b, { mute: true }],
            [a, { [field]: "false" }]
          ])
          expectArgumentError(yield* soleDefect(Mix.toggle(m, states as never)), `Mix.toggle ${field}`, "false")
          yield* Chan.put(a, 1)
          yield* Chan.put(b, 2)
          yield* settle
          return { out: Chan.pollUnsafe(out), next: Chan.pollUnsafe(out), leftInB: Chan.pollUnsafe(b) }
        })
      )
    ).then((r) => expect(r).toEqual({ out: Option.some(1), next: Option.none(), leftInB: Option.some(2) }))
  )
})

describe("select options", () => {
  it("Chan.select dies for options that are not an object and a priority that is not a boolean", () =>
    run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>(1)
        Chan.offerUnsafe(ch, 1)
        const cases = [Chan.onTake(ch, (v) => v)]
        expectArgumentError(yield* soleDefect(Chan.select(cases, 5 as never)), "select options", 5)
        expectArgumentError(
          yield* soleDefect(Chan.select(cases, { priority: "yes" as never })),
          "select priority",
          "yes"
        )
        // the value was not taken
        return Chan.pollUnsafe(ch)
      })
    ).then((left) => expect(left).toEqual(Option.some(1))))

  it("the facade's select rejects the same, and takes nothing", async () => {
    const ch = Facade.chan<number>(1)
    ch.offer(1)
    const cases = [Facade.onTake(ch, (r) => r)]
    expectArgumentError(await rejection(Facade.select(cases, 5 as never)), "select options", 5)
    expectArgumentError(await rejection(Facade.select(cases, { priority: 1 as never })), "select priority", 1)
    expect(ch.poll()).toEqual({ done: false, value: 1 })
  })
})

describe("the facade's put and take options", () => {
  it("put(v, 5) and ch.put(v, 5) reject naming the options; nothing is put", async () => {
    const ch = Facade.chan<number>(1)
    expectArgumentError(await rejection(ch.put(1, 5 as never)), "put options", 5)
    expectArgumentError(await rejection(Facade.put(ch, 1, "x" as never)), "put options", "x")
    expectArgumentError(await rejection(Facade.put(ch, 1, null as never)), "put options", null)
    expect(ch.poll()).toBeUndefined()
  })

  it("take(5) and ch.take(5) reject naming the options; nothing is taken", async () => {
    const ch = Facade.chan<number>(1)
    ch.offer(1)
    expectArgumentError(await rejection(ch.take(5 as never)), "take options", 5)
    expectArgumentError(await rejection(Facade.take(ch, true as never)), "take options", true)
    expect(ch.poll()).toEqual({ done: false, value: 1 })
  })

  it("options without a signal, or with one, still work", async () => {
    const ch = Facade.chan<number>(1)
    expect(await ch.put(1, {})).toBe(true)
    expect(await ch.take({ signal: new AbortController().signal })).toEqual({ done: false, value: 1 })
  })
})
