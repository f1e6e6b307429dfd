/**
 * Guards for documented behaviours a mutation audit found no test failing for: `Chan.select`
 * through `yield*` runs the case it drew also when that case is a take it cannot complete at once
 * (the take of a waiting put), instead of drawing again; a facade `select` with a `signal` refused
 * beyond a channel's `maxPending` leaves no listener on the signal.
 */
import { getEventListeners } from "node:events"
import { chan, onTake, select } from "@tributary/channel/async"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Chan, ChanPendingLimitError } from "../src/index.js"
import { pending, run } from "./harness.js"

const TRIALS = 10_000
/** Ten standard deviations of the number of wins of one of two equally likely cases in `n` trials. */
const tenSigma = (n: number) => 10 * Math.sqrt(n * 0.25)

describe("select: fairness among ready takes of different kinds", () => {
  it(`a take of a buffered value and a take of a waiting put each win about half of ${TRIALS} trials`, async () => {
    const wins = await run(
      Effect.gen(function* () {
        const buffered = Chan.makeUnsafe<number>(1)
        const rendezvous = Chan.makeUnsafe<number>()
        Chan.offerUnsafe(buffered, -1)
        Chan.putUnsafe(rendezvous, -1)
        const wins = { buffered: 0, waiting: 0 }
        for (let i = 0; i < TRIALS; i++) {
          const won = yield* Chan.select([
            Chan.onTake(buffered, () => "buffered" as const),
            Chan.onTake(rendezvous, () => "waiting" as const)
          ])
          wins[won]++
          // the winner's value is gone (the loser kept its own): give the winner another
          if (won === "buffered") Chan.offerUnsafe(buffered, i)
          else Chan.putUnsafe(rendezvous, i)
        }
        expect(yield* Chan.size(buffered)).toBe(1)
        expect(pending(rendezvous)).toEqual({ puts: 1, takes: 0 })
        return wins
      })
    )
    expect(wins.buffered + wins.waiting).toBe(TRIALS)
    expect(Math.abs(wins.buffered - TRIALS / 2)).toBeLessThan(tenSigma(TRIALS))
    expect(Math.abs(wins.waiting - TRIALS / 2)).toBeLessThan(tenSigma(TRIALS))
  })
})

describe("the facade's select beyond maxPending", () => {
  it("rejects with ChanPendingLimitError and leaves no listener on its signal", async () => {
    const limited = chan<number>(0, { maxPending: 1 })
    const first = limited.take()
    const controller = new AbortController()
    const refused = await select([onTake(limited, () => "limited")], { signal: controller.signal }).then(
      () => expect.unreachable("expected a rejection"),
      (error: unknown) => error
    )
    expect(refused).toBeInstanceOf(ChanPendingLimitError)
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0)
    expect(limited.offer(1)).toBe(true)
    expect(await first).toEqual({ done: false, value: 1 })
  })
})
