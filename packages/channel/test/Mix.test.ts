/**
 * Mix: many inputs, mute / pause / solo (both solo modes), closed inputs, a closed output, and
 * teardown.
 */
import { Cause, Effect, Exit, Option } from "effect"
import { describe, expect, it } from "vitest"
import * as Chan from "../src/Chan.js"
import { ChanArgumentError } from "../src/ChanError.js"
import * as Mix from "../src/Mix.js"
import { expectArgumentError, filled, pending, run, settle, takeN } from "./harness.js"
import { closeScope, expectNothingPending, inScope, isClosedNow, openScope, pollAll, undelivered } from "./lifetimes.js"

/** An input holding `values` (a buffer of 8), left open. */
const input = (...values: Array<string>): Chan.Chan<string> => filled(values, false, 8)

const sorted = (values: ReadonlyArray<string>) => [...values].sort()

describe("Mix", () => {
  it("an input that is not a channel dies with ChanArgumentError; the mix keeps forwarding its inputs", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const out = Chan.makeUnsafe<number>(4)
          const m = yield* Mix.make(out)
          const input = Chan.makeUnsafe<number>(4)
          yield* Mix.add(m, input)
          for (const [bad, argument] of [
            [Mix.add(m, 5 as never), "Mix.add port"],
            [Mix.toggle(m, new Map([[{} as never, { mute: true }]])), "Mix.toggle port"],
            [Mix.toggle(m, { a: 1 } as never), "Mix.toggle states"],
            [Mix.add({} as never, input), "mix"],
            [Mix.make({} as never), "Chan.mix out"]
          ] as const) {
            const exit = yield* Effect.exit(bad)
            expect(Cause.squash(Exit.isFailure(exit) ? exit.cause : Cause.empty)).toBeInstanceOf(ChanArgumentError)
            expect((Cause.squash(Exit.isFailure(exit) ? exit.cause : Cause.empty) as ChanArgumentError).argument).toBe(
              argument
            )
          }
          for (const n of [1, 2]) yield* Chan.put(input, n)
          expect(yield* takeN(out, 2)).toEqual([1, 2])
        })
      )
    ))

  it("takes everything from 2048 inputs, each with one pending put", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const out = Chan.makeUnsafe<number>()
          const m = yield* Mix.make(out)
          const inputs = Array.from({ length: 2048 }, () => Chan.makeUnsafe<number>())
          let accepted = 0
          for (let i = 0; i < inputs.length; i++) {
            yield* Mix.add(m, inputs[i])
            Chan.putUnsafe(inputs[i], i, (ok) => {
              if (ok) accepted++
            })
          }
          const got = yield* takeN(out, 2048)
          expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 2048 }, (_, i) => i))
          expect(accepted).toBe(2048)
          yield* settle
          // the mix waits on every input again, one take each
          for (const ch of inputs) expect(pending(ch)).toEqual({ puts: 0, takes: 1 })
        })
      )
    ))

  it("merges its inputs onto the output, keeping each input's order", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const out = Chan.makeUnsafe<string>(16)
          const m = yield* Mix.make(out)
          yield* Mix.add(m, input("a1", "a2", "a3"))
          yield* Mix.add(m, input("b1", "b2"))
          yield* settle
          const got = pollAll(out)
          expect(sorted(got)).toEqual(["a1", "a2", "a3", "b1", "b2"])
          expect(got.filter((v) => v.startsWith("a"))).toEqual(["a1", "a2", "a3"])
        })
      )
    ))

  it("a muted input is taken and its values discarded", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const out = Chan.makeUnsafe<string>(16)
          const m = yield* Mix.make(out)
          const muted = input("m1", "m2")
          yield* Mix.toggle(m, new Map([[muted, { mute: true }]]))
          yield* Mix.add(m, input("x1"))
          yield* settle
          expect(pollAll(out)).toEqual(["x1"])
          expect(yield* Chan.size(muted)).toBe(0)
          // unmuting lets its next values through
          yield* Mix.toggle(m, new Map([[muted, { mute: false }]]))
          yield* Chan.put(muted, "m3")
          yield* settle
          expect(pollAll(out)).toEqual(["m3"])
        })
      )
    ))

  it("a paused input is left alone: not taken at all", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const out = Chan.makeUnsafe<string>(16)
          const m = yield* Mix.make(out)
          const paused = input("p1", "p2")
          yield* Mix.toggle(m, new Map([[paused, { pause: true }]]))
          yield* Mix.add(m, input("x1"))
          yield* settle
          expect(pollAll(out)).toEqual(["x1"])
          expect(yield* Chan.size(paused)).toBe(2)
          expect(pending(paused).takes).toBe(0)
          yield* Mix.toggle(m, new Map([[paused, { pause: false }]]))
          yield* settle
          expect(pollAll(out)).toEqual(["p1", "p2"])
        })
      )
    ))

  it("solo, in the default mute mode: only soloed inputs reach the output; the others are taken and discarded", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const out = Chan.makeUnsafe<string>(16)
          const m = yield* Mix.make(out)
          const solo = input("s1", "s2")
          const soloMuted = input("sm1")
          const other = input("o1", "o2")
          const paused = input("p1")
          yield* Mix.toggle(
            m,
            new Map([
              [solo, { solo: true }],
              [soloMuted, { solo: true, mute: true }],
              [other, {}],
              [paused, { pause: true }]
            ])
          )
          yield* settle
          // a soloed input reaches the output even when muted (core.async: solo wins)
          expect(sorted(pollAll(out))).toEqual(["s1", "s2", "sm1"])
          expect(yield* Chan.size(other)).toBe(0)
          // a paused, non-soloed input is still not taken
          expect(yield* Chan.size(paused)).toBe(1)
          // un-soloing everything lets the other inputs through again
          yield* Mix.toggle(
            m,
            new Map([
              [solo, { solo: false }],
              [soloMuted, { solo: false }]
            ])
          )
          yield* Chan.put(other, "o3")
          yield* Chan.put(soloMuted, "sm2")
          yield* settle
          expect(pollAll(out)).toEqual(["o3"])
        })
      )
    ))

  it("a soloed input's mute and pause flags are ignored (core.async toggle): { solo, mute, pause } is forwarded", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const out = Chan.makeUnsafe<string>(16)
          const m = yield* Mix.make(out)
          const all = input("a1", "a2")
          const other = input("o1")
          const paused = input("p1")
          yield* Mix.toggle(
            m,
            new Map([
              [all, { solo: true, mute: true, pause: true }],
              [other, {}],
              [paused, { pause: true }]
            ])
          )
          yield* settle
          expect(pollAll(out)).toEqual(["a1", "a2"])
          expect(pending(all).takes).toBe(1)
          // the others as before: taken and discarded (solo mode "mute"), and a paused one not taken
          expect(yield* Chan.size(other)).toBe(0)
          expect(yield* Chan.size(paused)).toBe(1)
          // in pause mode too
          yield* Mix.soloMode(m, "pause")
          yield* Chan.put(all, "a3")
          yield* settle
          expect(pollAll(out)).toEqual(["a3"])
        })
      )
    ))

  it("solo in pause mode: the non-soloed inputs are left in place", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const out = Chan.makeUnsafe<string>(16)
          const m = yield* Mix.make(out)
          const solo = input("s1")
          const other = input("o1", "o2")
          yield* Mix.soloMode(m, "pause")
          yield* Mix.toggle(
            m,
            new Map([
              [solo, { solo: true }],
              [other, {}]
            ])
          )
          yield* settle
          expect(pollAll(out)).toEqual(["s1"])
          expect(yield* Chan.size(other)).toBe(2)
          expect(pending(other).takes).toBe(0)
          yield* Mix.soloMode(m, "mute")
          yield* settle
          // back in mute mode: the other input is taken, and discarded while a solo exists
          expect(pollAll(out)).toEqual([])
          expect(yield* Chan.size(other)).toBe(0)
        })
      )
    ))

  it("a closed input is removed; the output is never closed", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const out = Chan.makeUnsafe<string>(16)
          const m = yield* Mix.make(out)
          const a = input("a1")
          const b = input("b1")
          yield* Mix.add(m, a)
          yield* Mix.add(m, b)
          Chan.closeUnsafe(a)
          Chan.closeUnsafe(b)
          yield* settle
          expect(sorted(pollAll(out))).toEqual(["a1", "b1"])
          expect(isClosedNow(out)).toBe(false)
          expectNothingPending(a, b)
          // still mixing new inputs
          yield* Mix.add(m, input("c1"))
          yield* settle
          expect(pollAll(out)).toEqual(["c1"])
        })
      )
    ))

  it("remove stops taking from an input; its values stay in it", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const out = Chan.makeUnsafe<string>(16)
          const m = yield* Mix.make(out)
          const a = Chan.makeUnsafe<string>(8)
          yield* Mix.add(m, a)
          yield* settle
          expect(pending(a).takes).toBe(1)
          yield* Mix.remove(m, a)
          yield* settle
          expect(pending(a).takes).toBe(0)
          yield* Chan.put(a, "a1")
          yield* settle
          expect(pollAll(out)).toEqual([])
          expect(pollAll(a)).toEqual(["a1"])
        })
      )
    ))

  it("stops when the output is closed: the value it held goes to the output's onUndelivered", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const lost = undelivered<string>()
          const out = Chan.makeUnsafe<string>(0, { onUndelivered: lost.onUndelivered })
          const m = yield* Mix.make(out)
          const a = input("a1", "a2", "a3")
          yield* Mix.add(m, a)
          expect(yield* takeN(out, 1)).toEqual(["a1"])
          yield* settle
          // a2 is in a pending put: discarding the output rejects it
          yield* Chan.discard(out)
          yield* settle
          expect(lost.values).toEqual(["a2"])
          expectNothingPending(a, out)
          expect(pollAll(a)).toEqual(["a3"])
        })
      )
    ))

  it("soloMode dies with ChanArgumentError for an unknown mode", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const m = yield* Mix.make(Chan.makeUnsafe<string>())
          const exit = yield* Effect.exit(Mix.soloMode(m, "loud" as Mix.SoloMode))
          const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
          expect(defect).toBeInstanceOf(ChanArgumentError)
          expect((defect as ChanArgumentError).message).toContain('"loud"')
        })
      )
    ))

  it("closing the scope stops it, gives back the value it held, leaves the output open and nothing registered", () =>
    run(
      Effect.gen(function* () {
        const scope = yield* openScope
        const lost = undelivered<string>()
        const out = Chan.makeUnsafe<string>(0, { onUndelivered: lost.onUndelivered })
        const m = yield* inScope(scope, Mix.make(out))
        const a = input("a1", "a2")
        const idle = Chan.makeUnsafe<string>()
        yield* Mix.add(m, a)
        yield* Mix.add(m, idle)
        yield* settle
        expect(pending(out).puts).toBe(1)
        yield* closeScope(scope)
        expect(lost.values).toEqual(["a1"])
        expect(isClosedNow(out)).toBe(false)
        expectNothingPending(a, idle, out)
        expect(pollAll(a)).toEqual(["a2"])
        expect(Option.isNone(Chan.pollUnsafe(out))).toBe(true)
      })
    ))

  it("isMix tells a mix apart", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          expect(Mix.isMix(yield* Mix.make(Chan.makeUnsafe<string>()))).toBe(true)
          expect(Mix.isMix({})).toBe(false)
        })
      )
    ))

  it("remove and soloMode refuse a mix that is not one, and remove a port that is not a channel (ChanArgumentError naming it and the value), writing nothing", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const out = Chan.makeUnsafe<string>(4)
          const m = yield* Mix.make(out)
          const a = input()
          yield* Mix.add(m, a)
          const foreign: Record<string, unknown> = { inputs: new Map([[a, {}]]) }
          for (const [bad, argument, value] of [
            [Mix.remove(foreign as never, a), "mix", "inputs"],
            [Mix.remove(m, 42 as never), "Mix.remove port", 42],
            [Mix.soloMode(foreign as never, "pause"), "mix", "inputs"],
            [Mix.soloMode(undefined as never, "mute"), "mix", undefined]
          ] as const) {
            const exit = yield* Effect.exit(bad)
            expectArgumentError(Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined, argument, value)
          }
          expect(Object.keys(foreign)).toEqual(["inputs"])
          expect((foreign.inputs as Map<unknown, unknown>).has(a)).toBe(true)
          // the input is still mixed
          yield* Chan.put(a, "a1")
          expect(yield* takeN(out, 1)).toEqual(["a1"])
        })
      )
    ))

  it("a mix that has stopped (its out closed) reads no input again: add and toggle change nothing and do not fail", () =>
    run(
      Effect.scoped(
        Effect.gen(function* () {
          const out = Chan.makeUnsafe<string>(4)
          const m = yield* Mix.make(out)
          yield* Mix.add(m, input())
          yield* Chan.close(out)
          // the mix sees the close at its next value: it finds `out` closed and stops
          yield* Mix.add(m, input("a1"))
          yield* settle
          const late = input("b1")
          const toggled = input("c1")
          expect(Exit.isSuccess(yield* Effect.exit(Mix.add(m, late)))).toBe(true)
          expect(Exit.isSuccess(yield* Effect.exit(Mix.toggle(m, new Map([[toggled, { solo: true }]]))))).toBe(true)
          yield* settle
          expect(pollAll(late)).toEqual(["b1"])
          expect(pollAll(toggled)).toEqual(["c1"])
          expectNothingPending(late, toggled)
        })
      )
    ))
})
