/**
 * Regressions found in review, each with the scenario that showed it.
 */
import { Chan, Xform } from "@tributary/channel"
import * as Facade from "@tributary/channel/async"
import { Effect, Fiber, Option } from "effect"
import { afterEach, describe, expect, it, vi } from "vitest"
import type { ChanCore } from "../src/internal/channel.js"

afterEach(() => {
  vi.restoreAllMocks()
})

describe("a fixed buffer never holds more than its size", () => {
  // This test asserted, before the fair hand-off (issue 8), that a poll took the value owed to a
  // woken taker; a poll now sees only values no woken taker is owed.
  it("when a taker was woken and a poll comes before it is back", async () => {
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>(1)
        const taker = yield* Effect.forkChild(Chan.take(ch))
        yield* Effect.yieldNow // the taker waits
        const first = Chan.offerUnsafe(ch, 1) // wakes it; 1 stays buffered, owed to it
        const polled = Chan.pollUnsafe(ch) // 1 is owed: nothing for the poll
        const second = Chan.offerUnsafe(ch, 2) // an owed value does not count against the size
        const third = Chan.offerUnsafe(ch, 3) // the buffer (size 1) holds 2: refused
        const taken = yield* Fiber.join(taker)
        return { first, polled, second, third, taken, left: Chan.pollUnsafe(ch), after: Chan.pollUnsafe(ch) }
      })
    )
    expect(result).toEqual({
      first: true,
      polled: Option.none(),
      second: true,
      third: false,
      taken: Option.some(1),
      left: Option.some(2),
      after: Option.none()
    })
  })
})

describe("xform failures of synchronous and Promise puts are logged, not kept", () => {
  const failing = () =>
    Effect.runSync(
      Chan.make(4, {
        xform: Xform.map((n: number) => {
          if (n % 2 === 1) throw new Error(`odd ${n}`)
          return n
        })
      })
    )
  const recorded = (ch: unknown) => (ch as ChanCore<number, number>).xformFailures

  it("Chan.offerUnsafe / putUnsafe / closeUnsafe and the facade's offer / put / close", async () => {
    const logged: Array<string> = []
    for (const method of ["log", "error", "warn", "info"] as const)
      vi.spyOn(console, method).mockImplementation((...args: Array<unknown>) => {
        logged.push(args.map(String).join(" "))
      })
    const a = failing()
    Chan.offerUnsafe(a, 1)
    Chan.putUnsafe(a, 3)
    Chan.closeUnsafe(a)
    const b = failing()
    Facade.offer(b, 5)
    await Facade.put(b, 7)
    Facade.close(b)
    expect(recorded(a)).toBeUndefined()
    expect(recorded(b)).toBeUndefined()
    expect(logged.filter((l) => l.includes("xform failed")).length).toBe(4)
  })
})
