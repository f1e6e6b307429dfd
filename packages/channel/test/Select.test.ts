/**
 * `Chan.select` (core.async `alts!`): fairness, priority, `orElse`, handlers, atomic commit,
 * rendezvous between selects, timeouts and the withdrawal of every losing or interrupted case.
 */
import { Cause, Effect, Exit, Fiber, Option } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { Buffer, Chan, ChanArgumentError } from "../src/index.js"
import { defectOf, isSuspended, kinds, pending, run, settle } from "./harness.js"

const TRIALS = 10_000
/** Ten standard deviations of the number of wins of one of two equally likely cases in `n` trials. */
const tenSigma = (n: number) => 10 * Math.sqrt(n * 0.25)

const none = { puts: 0, takes: 0 }

class Boom {
  readonly _tag = "Boom"
  constructor(readonly detail: string) {}
}

/** The typed failure an Exit failed with, or `undefined`. */
const failureOf = <E>(exit: Exit.Exit<unknown, E>): E | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined

describe("select: fairness", () => {
  it(`two ready take cases each win about half of ${TRIALS} trials`, async () => {
    const wins = await run(
      Effect.gen(function* () {
        const a = Chan.makeUnsafe<string>(1)
        const b = Chan.makeUnsafe<string>(1)
        Chan.offerUnsafe(a, "a")
        Chan.offerUnsafe(b, "b")
        const wins = { a: 0, b: 0 }
        for (let i = 0; i < TRIALS; i++) {
          const won = yield* Chan.select([
            Chan.onTake(a, (v) => ({ port: "a" as const, v })),
            Chan.onTake(b, (v) => ({ port: "b" as const, v }))
          ])
          expect(won.v).toEqual(Option.some(won.port))
          wins[won.port]++
          // the loser kept its value; refill the winner
          expect(yield* Chan.size(won.port === "a" ? b : a)).toBe(1)
          expect(Chan.offerUnsafe(won.port === "a" ? a : b, won.port)).toBe(true)
        }
        return wins
      })
    )
    expect(wins.a + wins.b).toBe(TRIALS)
    expect(Math.abs(wins.a - TRIALS / 2)).toBeLessThan(tenSigma(TRIALS))
    expect(Math.abs(wins.b - TRIALS / 2)).toBeLessThan(tenSigma(TRIALS))
  })

  it(`a ready buffered take and a ready put each win about half of ${TRIALS} trials (through yield*, which completes buffered takes at once)`, async () => {
    const wins = await run(
      Effect.gen(function* () {
        const a = Chan.makeUnsafe<number>(TRIALS)
        const b = Chan.makeUnsafe<number>(TRIALS)
        for (let i = 0; i < TRIALS; i++) Chan.offerUnsafe(a, i)
        const wins = { take: 0, put: 0 }
        for (let i = 0; i < TRIALS; i++) {
          const won = yield* Chan.select([
            Chan.onTake(a, () => "take" as const),
            Chan.onPut(b, i, () => "put" as const)
          ])
          wins[won]++
        }
        // every case that won did its operation, and no other
        expect([yield* Chan.size(a), yield* Chan.size(b)]).toEqual([TRIALS - wins.take, wins.put])
        return wins
      })
    )
    expect(Math.abs(wins.take - TRIALS / 2)).toBeLessThan(tenSigma(TRIALS))
    expect(Math.abs(wins.put - TRIALS / 2)).toBeLessThan(tenSigma(TRIALS))
  })

  it(`two ready put cases each win about half of ${TRIALS} trials`, async () => {
    const wins = await run(
      Effect.gen(function* () {
        const a = Chan.makeUnsafe<string>(1)
        const b = Chan.makeUnsafe<string>(1)
        const wins = { a: 0, b: 0 }
        for (let i = 0; i < TRIALS; i++) {
          const won = yield* Chan.select([
            Chan.onPut(a, "a", (ok) => ({ port: "a" as const, ok })),
            Chan.onPut(b, "b", (ok) => ({ port: "b" as const, ok }))
          ])
          expect(won.ok).toBe(true)
          wins[won.port]++
          // exactly the winner received its value; empty it again
          expect(Chan.pollUnsafe(won.port === "a" ? b : a)).toEqual(Option.none())
          expect(Chan.pollUnsafe(won.port === "a" ? a : b)).toEqual(Option.some(won.port))
        }
        return wins
      })
    )
    expect(wins.a + wins.b).toBe(TRIALS)
    expect(Math.abs(wins.a - TRIALS / 2)).toBeLessThan(tenSigma(TRIALS))
    expect(Math.abs(wins.b - TRIALS / 2)).toBeLessThan(tenSigma(TRIALS))
  })

  it("a case that is not ready never wins and the ready ones share evenly", async () => {
    const wins = await run(
      Effect.gen(function* () {
        const idle = Chan.makeUnsafe<string>(1)
        const a = Chan.makeUnsafe<string>(1)
        const b = Chan.makeUnsafe<string>(1)
        Chan.offerUnsafe(a, "a")
        Chan.offerUnsafe(b, "b")
        const wins = { idle: 0, a: 0, b: 0 }
        for (let i = 0; i < TRIALS; i++) {
          const port = yield* Chan.select([
            Chan.onTake(idle, () => "idle" as const),
            Chan.onTake(a, () => "a" as const),
            Chan.onTake(b, () => "b" as const)
          ])
          wins[port]++
          if (port !== "idle") Chan.offerUnsafe(port === "a" ? a : b, port)
        }
        expect(pending(idle)).toEqual(none)
        return wins
      })
    )
    expect(wins.idle).toBe(0)
    expect(Math.abs(wins.a - TRIALS / 2)).toBeLessThan(tenSigma(TRIALS))
  })
})

describe("select: priority", () => {
  it("picks the first ready case in list order, skipping cases that are not ready", async () => {
    const winners = await run(
      Effect.gen(function* () {
        const chans = [0, 1, 2, 3].map(() => Chan.makeUnsafe<number>(1))
        const winners: Array<[mask: number, winner: number]> = []
        // every non-empty subset of ready channels, several times over
        for (let round = 0; round < 20; round++) {
          for (let mask = 1; mask < 16; mask++) {
            chans.forEach((ch, i) => {
              if (mask & (1 << i)) Chan.offerUnsafe(ch, i)
            })
            const winner = yield* Chan.select(
              chans.map((ch, i) =>
                Chan.onTake(ch, (v) => {
                  expect(v).toEqual(Option.some(i))
                  return i
                })
              ),
              { priority: true }
            )
            winners.push([mask, winner])
            // the losers kept their values
            chans.forEach((ch, i) => {
              const expected = mask & (1 << i) && i !== winner ? Option.some(i) : Option.none()
              expect(Chan.pollUnsafe(ch)).toEqual(expected)
            })
          }
        }
        return winners
      })
    )
    expect(winners).toHaveLength(20 * 15)
    for (const [mask, winner] of winners) {
      // the lowest set bit: the first ready case
      expect(winner).toBe(Math.log2(mask & -mask))
    }
  })

  it("applies to put cases and mixed cases too", async () => {
    const result = await run(
      Effect.gen(function* () {
        const full = Chan.makeUnsafe<number>(1)
        Chan.offerUnsafe(full, 0)
        const room1 = Chan.makeUnsafe<number>(1)
        const room2 = Chan.makeUnsafe<number>(1)
        const results: Array<string> = []
        for (let i = 0; i < 100; i++) {
          results.push(
            yield* Chan.select(
              [
                Chan.onPut(full, 1, () => "full"),
                Chan.onPut(room1, 1, () => "room1"),
                Chan.onTake(full, () => "take"),
                Chan.onPut(room2, 1, () => "room2")
              ],
              { priority: true }
            )
          )
          Chan.pollUnsafe(room1)
        }
        return { results, full: Chan.pollUnsafe(full), room2: Chan.pollUnsafe(room2) }
      })
    )
    expect(new Set(result.results)).toEqual(new Set(["room1"]))
    expect(result.full).toEqual(Option.some(0))
    expect(result.room2).toEqual(Option.none())
  })
})

describe("select: orElse", () => {
  it("runs only when no case is ready, and the select never suspends", async () => {
    const result = await run(
      Effect.gen(function* () {
        const a = Chan.makeUnsafe<number>(1)
        const b = Chan.makeUnsafe<number>()
        let orElseCalls = 0
        const fiber = yield* Effect.forkChild(
          Chan.select([Chan.onTake(a, () => "a"), Chan.onPut(b, 1, () => "b")], {
            orElse: () => {
              orElseCalls++
              return "nothing ready"
            }
          })
        )
        const suspended = yield* isSuspended(fiber)
        const first = yield* Fiber.join(fiber)
        const registered = { a: pending(a), b: pending(b) }
        Chan.offerUnsafe(a, 7)
        const second = yield* Chan.select([Chan.onTake(a, (v) => v), Chan.onPut(b, 1, () => "b")], {
          orElse: () => {
            orElseCalls++
            return "nothing ready"
          }
        })
        return { suspended, first, registered, second, orElseCalls }
      })
    )
    expect(result).toEqual({
      suspended: false,
      first: "nothing ready",
      registered: { a: none, b: none },
      second: Option.some(7),
      orElseCalls: 1
    })
  })

  it("may return an Effect, which is run", async () => {
    const result = await run(
      Effect.gen(function* () {
        const a = Chan.makeUnsafe<number>(1)
        let runs = 0
        const r: string | number = yield* Chan.select([Chan.onTake(a, () => 1)], {
          orElse: () =>
            Effect.sync(() => {
              runs++
              return "from effect"
            })
        })
        const failed = yield* Effect.exit(
          Chan.select([Chan.onTake(a, () => 1)], { orElse: () => Effect.fail(new Boom("orElse")) })
        )
        return { r, runs, failure: failureOf(failed) }
      })
    )
    expect(result).toEqual({ r: "from effect", runs: 1, failure: new Boom("orElse") })
  })

  it("select([], { orElse }) runs it", async () => {
    const result = await run(Chan.select([], { orElse: () => "default" }))
    expect(result).toBe("default")
  })

  it("an orElse that is not a function dies with ChanArgumentError, and the ready case is not taken", async () => {
    const ch = Chan.makeUnsafe<number>(1)
    Chan.offerUnsafe(ch, 1)
    const exit = await run(Effect.exit(Chan.select([Chan.onTake(ch, () => "took")], { orElse: 5 as never })))
    expect(defectOf(exit)).toBeInstanceOf(ChanArgumentError)
    expect((defectOf(exit) as ChanArgumentError).argument).toBe("select orElse")
    expect(Chan.pollUnsafe(ch)).toStrictEqual(Option.some(1))
  })

  it("select([]) dies with ChanArgumentError", async () => {
    const exit = await run(Effect.exit(Chan.select([])))
    const defect = defectOf(exit)
    expect(defect).toBeInstanceOf(ChanArgumentError)
    expect((defect as ChanArgumentError)._tag).toBe("ChanArgumentError")
  })
})

describe("select: handlers", () => {
  it("a handler may return a plain value or an Effect (run once)", async () => {
    const result = await run(
      Effect.gen(function* () {
        const a = Chan.makeUnsafe<number>(1)
        Chan.offerUnsafe(a, 1)
        const plain = yield* Chan.select([Chan.onTake(a, (v) => ({ plain: v }))])
        Chan.offerUnsafe(a, 2)
        let runs = 0
        const effect = yield* Chan.select([
          Chan.onTake(a, (v) =>
            Effect.sync(() => {
              runs++
              return { effect: v }
            })
          )
        ])
        return { plain, effect, runs }
      })
    )
    expect(result).toEqual({ plain: { plain: Option.some(1) }, effect: { effect: Option.some(2) }, runs: 1 })
  })

  it("a handler's Effect failure propagates as the select's failure (ready at once)", async () => {
    const exit = await run(
      Effect.gen(function* () {
        const a = Chan.makeUnsafe<number>(1)
        Chan.offerUnsafe(a, 1)
        const exit: Exit.Exit<string, Boom> = yield* Effect.exit(
          Chan.select([
            Chan.onTake(a, (v) => Effect.fail(new Boom(`took ${Option.getOrUndefined(v)}`))),
            Chan.onPut(Chan.makeUnsafe<number>(), 1, () => "put")
          ])
        )
        return exit
      })
    )
    expect(failureOf(exit)).toEqual(new Boom("took 1"))
  })

  it("a handler's Effect failure propagates as the select's failure (after waiting)", async () => {
    const result = await run(
      Effect.gen(function* () {
        const a = Chan.makeUnsafe<number>()
        const fiber = yield* Effect.forkChild(
          Effect.exit(
            Chan.select([
              Chan.onTake(a, (v) => Effect.fail(new Boom(`took ${Option.getOrUndefined(v)}`))),
              Chan.onTimeout("1 second", () => Effect.fail(new Boom("timeout")))
            ])
          )
        )
        expect(yield* isSuspended(fiber)).toBe(true)
        const accepted = yield* Chan.put(a, 5)
        return { accepted, exit: yield* Fiber.join(fiber) }
      })
    )
    expect(result.accepted).toBe(true)
    expect(failureOf(result.exit)).toEqual(new Boom("took 5"))
  })

  it("a put case's handler gets false when the channel is closed", async () => {
    const result = await run(
      Effect.gen(function* () {
        const a = Chan.makeUnsafe<number>()
        Chan.closeUnsafe(a)
        return yield* Chan.select([Chan.onPut(a, 1, (ok) => ok)])
      })
    )
    expect(result).toBe(false)
  })
})

describe("select: exactly one case commits", () => {
  it.each(kinds)("when two channels become ready in one step, the other keeps its value ($name)", async (kind) => {
    const result = await run(
      Effect.gen(function* () {
        const a = kind.make<number>()
        const b = kind.make<number>()
        const fiber = yield* Effect.forkChild(
          Chan.select([Chan.onTake(a, (v) => ({ port: "a", v })), Chan.onTake(b, (v) => ({ port: "b", v }))])
        )
        expect(yield* isSuspended(fiber)).toBe(true)
        const accepted = yield* Effect.sync(() => [Chan.putUnsafe(a, 1), Chan.putUnsafe(b, 2)])
        const won = yield* Fiber.join(fiber)
        return { accepted, won, rest: Chan.pollUnsafe(b), a: pending(a), b: pending(b) }
      })
    )
    expect(result.accepted).toEqual([true, true])
    expect(result.won).toEqual({ port: "a", v: Option.some(1) })
    expect(result.rest).toEqual(Option.some(2))
    expect(result.a.takes).toBe(0)
    expect(result.b.takes).toBe(0)
  })

  it("a put case that lost delivered nothing", async () => {
    const result = await run(
      Effect.gen(function* () {
        const out1 = Chan.makeUnsafe<string>()
        const out2 = Chan.makeUnsafe<string>()
        const fiber = yield* Effect.forkChild(
          Chan.select([Chan.onPut(out1, "x", (ok) => ["out1", ok]), Chan.onPut(out2, "y", (ok) => ["out2", ok])])
        )
        expect(yield* isSuspended(fiber)).toBe(true)
        const taken = yield* Effect.sync(() => [Chan.pollUnsafe(out1), Chan.pollUnsafe(out2)])
        return { taken, won: yield* Fiber.join(fiber), out1: pending(out1), out2: pending(out2) }
      })
    )
    expect(result.taken).toEqual([Option.some("x"), Option.none()])
    expect(result.won).toEqual(["out1", true])
    expect(result.out1).toEqual(none)
    expect(result.out2).toEqual(none)
  })

  it("a take case and a put case becoming ready together: only one commits", async () => {
    const result = await run(
      Effect.gen(function* () {
        const input = Chan.makeUnsafe<number>(1)
        const output = Chan.makeUnsafe<number>()
        const fiber = yield* Effect.forkChild(
          Chan.select([Chan.onTake(input, (v) => ["take", v]), Chan.onPut(output, 99, (ok) => ["put", ok])])
        )
        expect(yield* isSuspended(fiber)).toBe(true)
        // a put to input commits the select; the take on output must then find no putter
        const both = yield* Effect.sync(() => [Chan.offerUnsafe(input, 1), Chan.pollUnsafe(output)])
        return { both, won: yield* Fiber.join(fiber), left: Chan.pollUnsafe(input) }
      })
    )
    expect(result.both).toEqual([true, Option.none()])
    expect(result.won).toEqual(["take", Option.some(1)])
    expect(result.left).toEqual(Option.none())
  })

  it("with several ready cases at once, exactly one value moves", async () => {
    const result = await run(
      Effect.gen(function* () {
        const sizes: Array<number> = []
        for (let i = 0; i < 1000; i++) {
          const a = Chan.makeUnsafe<number>(2)
          const b = Chan.makeUnsafe<number>(2)
          const c = Chan.makeUnsafe<number>(2)
          Chan.offerUnsafe(a, 1)
          Chan.offerUnsafe(b, 2)
          yield* Chan.select([Chan.onTake(a, () => 0), Chan.onTake(b, () => 0), Chan.onPut(c, 3, () => 0)])
          sizes.push((yield* Chan.size(a)) + (yield* Chan.size(b)) + (yield* Chan.size(c)))
        }
        return sizes
      })
    )
    // two takes would leave 0 or 1 values, a take plus a put 2: exactly one case leaves 1 or 3
    for (const total of result) expect([1, 3]).toContain(total)
    expect(result.filter((s) => s === 1).length).toBeGreaterThan(0)
    expect(result.filter((s) => s === 3).length).toBeGreaterThan(0)
  })
})

describe("select: rendezvous", () => {
  it("a put case in one fiber's select meets a take case in another's (put first)", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>()
        // cases that never become ready, so each select has a loser to withdraw
        const idleIn = Chan.makeUnsafe<number>()
        const idleOut = Chan.makeUnsafe<number>()
        const putter = yield* Effect.forkChild(
          Chan.select([Chan.onTake(idleIn, () => "idle"), Chan.onPut(ch, 42, (ok) => `put ${ok}`)])
        )
        expect(yield* isSuspended(putter)).toBe(true)
        const taker = yield* Effect.forkChild(
          Chan.select([Chan.onPut(idleOut, 0, () => "idle" as const), Chan.onTake(ch, (v) => v)])
        )
        return {
          put: yield* Fiber.join(putter),
          take: yield* Fiber.join(taker),
          pending: [pending(ch), pending(idleIn), pending(idleOut)]
        }
      })
    )
    expect(result).toEqual({ put: "put true", take: Option.some(42), pending: [none, none, none] })
  })

  it("a take case in one fiber's select meets a put case in another's (take first)", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>()
        const taker = yield* Effect.forkChild(Chan.select([Chan.onTake(ch, (v) => v)]))
        expect(yield* isSuspended(taker)).toBe(true)
        const putter = yield* Effect.forkChild(Chan.select([Chan.onPut(ch, 42, (ok) => ok)]))
        return { put: yield* Fiber.join(putter), take: yield* Fiber.join(taker), ch: pending(ch) }
      })
    )
    expect(result).toEqual({ put: true, take: Option.some(42), ch: none })
  })
})

describe("select: the same channel in several cases", () => {
  it("two take cases on one channel: one receives, nothing stays registered", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>()
        const fiber = yield* Effect.forkChild(
          Chan.select([Chan.onTake(ch, (v) => ["first", v]), Chan.onTake(ch, (v) => ["second", v])])
        )
        expect(yield* isSuspended(fiber)).toBe(true)
        const registered = pending(ch)
        const accepted = yield* Chan.put(ch, 1)
        const won = yield* Fiber.join(fiber)
        // no taker left: a second value finds no one
        return { registered, accepted, won, after: pending(ch), offered: Chan.offerUnsafe(ch, 2) }
      })
    )
    expect(result.registered).toEqual({ puts: 0, takes: 2 })
    expect(result.accepted).toBe(true)
    expect(result.won[1]).toEqual(Option.some(1))
    expect(["first", "second"]).toContain(result.won[0])
    expect(result.after).toEqual(none)
    expect(result.offered).toBe(false)
  })

  it("two take cases on one buffered channel holding two values take only one", async () => {
    const left = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>(2)
        Chan.offerUnsafe(ch, 1)
        Chan.offerUnsafe(ch, 2)
        const won = yield* Chan.select([Chan.onTake(ch, (v) => v), Chan.onTake(ch, (v) => v)])
        expect(won).toEqual(Option.some(1))
        return Chan.pollUnsafe(ch)
      })
    )
    expect(left).toEqual(Option.some(2))
  })

  it("a put and a take on the same unbuffered channel do not pair with each other", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>()
        const select = Chan.select([
          Chan.onPut(ch, 1, (ok) => ["put", ok] as const),
          Chan.onTake(ch, (v) => ["take", v] as const)
        ])
        const first = yield* Effect.forkChild(select)
        const waited = yield* isSuspended(first)
        const registered = pending(ch)
        // another fiber takes: the put case wins
        const taken = yield* Chan.take(ch)
        const put = yield* Fiber.join(first)
        const afterPut = pending(ch)
        const second = yield* Effect.forkChild(select)
        const waitedAgain = yield* isSuspended(second)
        // another fiber puts: the take case wins
        const accepted = yield* Chan.put(ch, 2)
        const take = yield* Fiber.join(second)
        return { waited, registered, taken, put, afterPut, waitedAgain, accepted, take, afterTake: pending(ch) }
      })
    )
    expect(result).toEqual({
      waited: true,
      registered: { puts: 1, takes: 1 },
      taken: Option.some(1),
      put: ["put", true],
      afterPut: none,
      waitedAgain: true,
      accepted: true,
      take: ["take", Option.some(2)],
      afterTake: none
    })
  })

  it("a put and a take on the same unbuffered channel do not pair with each other, with orElse", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>()
        return yield* Chan.select([Chan.onPut(ch, 1, () => "put"), Chan.onTake(ch, () => "take")], {
          orElse: () => "nothing"
        })
      })
    )
    expect(result).toBe("nothing")
  })
})

describe("select: no handler is left behind", () => {
  it(`${TRIALS} selects with orElse leave nothing registered on an idle channel`, async () => {
    const result = await run(
      Effect.gen(function* () {
        const idle = Chan.makeUnsafe<number>()
        let defaults = 0
        for (let i = 0; i < TRIALS; i++) {
          const r = yield* Chan.select([Chan.onTake(idle, () => "take"), Chan.onPut(idle, i, () => "put")], {
            orElse: () => "default"
          })
          if (r === "default") defaults++
        }
        return { defaults, idle: pending(idle) }
      })
    )
    expect(result).toEqual({ defaults: TRIALS, idle: none })
  })

  it(`${TRIALS} selects suspended then interrupted leave nothing registered on an idle channel`, async () => {
    const result = await run(
      Effect.gen(function* () {
        const idle = Chan.makeUnsafe<number>()
        let whileWaiting = 0
        let interrupted = 0
        for (let i = 0; i < TRIALS; i++) {
          const fiber = yield* Effect.forkChild(
            Chan.select([
              Chan.onTake(idle, () => "take"),
              Chan.onPut(idle, i, () => "put"),
              Chan.onTimeout("1 hour", () => "timeout")
            ])
          )
          yield* settle
          const p = pending(idle)
          if (p.puts === 1 && p.takes === 1) whileWaiting++
          yield* Fiber.interrupt(fiber)
          const exit = yield* Fiber.await(fiber)
          if (Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)) interrupted++
        }
        return { whileWaiting, interrupted, idle: pending(idle) }
      })
    )
    expect(result).toEqual({ whileWaiting: TRIALS, interrupted: TRIALS, idle: none })
  })

  it(`${TRIALS} selects won by another case leave nothing registered on an idle channel`, async () => {
    const result = await run(
      Effect.gen(function* () {
        const idle = Chan.makeUnsafe<number>()
        const busy = Chan.makeUnsafe<number>(1)
        let wonByBusy = 0
        let waited = 0
        for (let i = 0; i < TRIALS; i++) {
          const fiber = yield* Effect.forkChild(
            Chan.select([
              Chan.onTake(idle, () => -1),
              Chan.onPut(idle, i, () => -2),
              Chan.onTake(busy, (v) => Option.getOrElse(v, () => -3))
            ])
          )
          yield* settle
          if (fiber.pollUnsafe() === undefined) waited++
          Chan.offerUnsafe(busy, i)
          if ((yield* Fiber.join(fiber)) === i) wonByBusy++
        }
        // and the same with the other case ready before the select starts
        for (let i = 0; i < TRIALS; i++) {
          Chan.offerUnsafe(busy, i)
          const r = yield* Chan.select([
            Chan.onTake(idle, () => -1),
            Chan.onPut(idle, i, () => -2),
            Chan.onTake(busy, (v) => Option.getOrElse(v, () => -3))
          ])
          if (r === i) wonByBusy++
        }
        return { waited, wonByBusy, idle: pending(idle), busy: pending(busy) }
      })
    )
    expect(result).toEqual({ waited: TRIALS, wonByBusy: 2 * TRIALS, idle: none, busy: none })
  })

  it("losing cases are removed in the step that commits the winner", async () => {
    const result = await run(
      Effect.gen(function* () {
        const a = Chan.makeUnsafe<number>()
        const b = Chan.makeUnsafe<number>(1)
        const c = Chan.makeUnsafe<number>()
        const fiber = yield* Effect.forkChild(
          Chan.select([
            Chan.onTake(a, (v) => ["a", v]),
            Chan.onTake(b, (v) => ["b", v]),
            Chan.onPut(c, 3, (ok) => ["c", ok])
          ])
        )
        expect(yield* isSuspended(fiber)).toBe(true)
        const before = [pending(a), pending(b), pending(c)]
        // in one synchronous step: commit through a, then look at b and c before the fiber runs
        const after = yield* Effect.sync(() => {
          const accepted = Chan.putUnsafe(a, 1)
          return { accepted, a: pending(a), b: pending(b), c: pending(c) }
        })
        return { before, after, won: yield* Fiber.join(fiber) }
      })
    )
    expect(result.before).toEqual([
      { puts: 0, takes: 1 },
      { puts: 0, takes: 1 },
      { puts: 1, takes: 0 }
    ])
    expect(result.after).toEqual({ accepted: true, a: none, b: none, c: none })
    expect(result.won).toEqual(["a", Option.some(1)])
  })

  it("a take case served while the select still registers leaves nothing on the later cases' channels", async () => {
    const result = await run(
      Effect.gen(function* () {
        const a = Chan.makeUnsafe<number>(2)
        const b = Chan.makeUnsafe<string>(2)
        const woken = yield* Effect.forkChild(Chan.take(a))
        expect(yield* isSuspended(woken)).toBe(true)
        // one synchronous step: the waiting taker is woken for 1 (owed to it), 2 is buffered and owed to nobody
        Chan.offerUnsafe(a, 1)
        Chan.offerUnsafe(a, 2)
        // the take case on a queues behind the woken taker and is served 2 while registering: b's case must not register
        const won = yield* Chan.select([
          Chan.onTake(a, (v) => ["a", v] as const),
          Chan.onTake(b, (v) => ["b", v] as const)
        ])
        const onB = pending(b)
        const first = yield* Fiber.join(woken)
        // a later value on b goes to a later take, not to the decided select
        yield* Chan.put(b, "x")
        const later = yield* Effect.forkChild(Chan.take(b))
        yield* settle
        const exit = later.pollUnsafe()
        if (exit === undefined) yield* Fiber.interrupt(later) // "x" went elsewhere: the take waits
        return { won, onB, first, fromB: exit !== undefined && Exit.isSuccess(exit) ? exit.value : "still waiting" }
      })
    )
    expect(result).toEqual({ won: ["a", Option.some(2)], onB: none, first: Option.some(1), fromB: Option.some("x") })
  })
})

describe("select: onTimeout", () => {
  it("fires when the clock reaches d, not before", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>()
        let fired = 0
        const fiber = yield* Effect.forkChild(
          Chan.select([
            Chan.onTake(ch, (v) => ["take", v]),
            Chan.onTimeout("1 second", () => {
              fired++
              return ["timeout"]
            })
          ])
        )
        const atStart = yield* isSuspended(fiber)
        yield* TestClock.adjust("999 millis")
        const justBefore = yield* isSuspended(fiber)
        const firedBefore = fired
        yield* TestClock.adjust("1 millis")
        const won = yield* Fiber.join(fiber)
        return { atStart, justBefore, firedBefore, won, fired, ch: pending(ch) }
      })
    )
    expect(result).toEqual({ atStart: true, justBefore: true, firedBefore: 0, won: ["timeout"], fired: 1, ch: none })
  })

  it("a channel case ready before d wins, and the timer has no effect later", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>()
        let fired = 0
        const fiber = yield* Effect.forkChild(
          Chan.select([
            Chan.onTake(ch, (v) => ["take", v]),
            Chan.onTimeout("1 second", () => {
              fired++
              return ["timeout"]
            })
          ])
        )
        expect(yield* isSuspended(fiber)).toBe(true)
        yield* TestClock.adjust("500 millis")
        const accepted = yield* Chan.put(ch, 1)
        const won = yield* Fiber.join(fiber)
        yield* TestClock.adjust("10 seconds")
        yield* settle
        // the channel is unaffected too: a later put finds no taker
        return { accepted, won, fired, offered: Chan.offerUnsafe(ch, 2), ch: pending(ch) }
      })
    )
    expect(result).toEqual({ accepted: true, won: ["take", Option.some(1)], fired: 0, offered: false, ch: none })
  })

  it("onTimeout(0) is ready at once (before orElse, without suspending)", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>()
        const fiber = yield* Effect.forkChild(
          Chan.select([Chan.onTake(ch, () => "take"), Chan.onTimeout(0, () => "timeout")], {
            orElse: () => "default"
          })
        )
        const suspended = yield* isSuspended(fiber)
        const plain = yield* Chan.select([Chan.onTake(ch, () => "take"), Chan.onTimeout("0 millis", () => "timeout")])
        return { suspended, plain, withOrElse: yield* Fiber.join(fiber), ch: pending(ch) }
      })
    )
    expect(result).toEqual({ suspended: false, plain: "timeout", withOrElse: "timeout", ch: none })
  })

  it("with several timeouts the earliest wins", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>()
        const fired: Array<number> = []
        const fiber = yield* Effect.forkChild(
          Chan.select([
            Chan.onTimeout("300 millis", () => fired.push(300)),
            Chan.onTake(ch, () => -1),
            Chan.onTimeout("100 millis", () => fired.push(100)),
            Chan.onTimeout("200 millis", () => fired.push(200))
          ])
        )
        expect(yield* isSuspended(fiber)).toBe(true)
        yield* TestClock.adjust("99 millis")
        const before = yield* isSuspended(fiber)
        yield* TestClock.adjust("1 millis")
        yield* Fiber.join(fiber)
        yield* TestClock.adjust("1 second")
        yield* settle
        return { before, fired }
      })
    )
    expect(result).toEqual({ before: true, fired: [100] })
  })

  it("a negative duration dies with ChanArgumentError and consumes nothing", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>(1)
        Chan.offerUnsafe(ch, 1)
        const millis = yield* Effect.exit(
          Chan.select([Chan.onTake(ch, () => "take"), Chan.onTimeout(-1, () => "timeout")])
        )
        const text = yield* Effect.exit(
          Chan.select([Chan.onTake(ch, () => "take"), Chan.onTimeout("-5 seconds", () => "timeout")])
        )
        return { millis: defectOf(millis), text: defectOf(text), left: Chan.pollUnsafe(ch) }
      })
    )
    expect(result.millis).toBeInstanceOf(ChanArgumentError)
    expect((result.millis as ChanArgumentError).message).toContain("-1")
    expect(result.text).toBeInstanceOf(ChanArgumentError)
    expect(result.left).toEqual(Option.some(1))
  })

  it("a NaN duration dies with ChanArgumentError", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>(1)
        Chan.offerUnsafe(ch, 1)
        const exit = yield* Effect.exit(
          Chan.select([Chan.onTake(ch, () => "take"), Chan.onTimeout(Number.NaN, () => "timeout")])
        )
        return { exit, defect: defectOf(exit), left: Chan.pollUnsafe(ch) }
      })
    )
    expect(result.defect).toBeInstanceOf(ChanArgumentError)
    expect((result.defect as ChanArgumentError).message).toContain("NaN")
    expect(result.left).toEqual(Option.some(1))
  })
})

describe("select: closed channels", () => {
  it("a waiting take case receives None when the channel closes", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>()
        const other = Chan.makeUnsafe<number>()
        const fiber = yield* Effect.forkChild(
          Chan.select([Chan.onTake(other, (v) => ["other", v]), Chan.onTake(ch, (v) => ["ch", v])])
        )
        expect(yield* isSuspended(fiber)).toBe(true)
        yield* Chan.close(ch)
        return { won: yield* Fiber.join(fiber), other: pending(other) }
      })
    )
    expect(result).toEqual({ won: ["ch", Option.none()], other: none })
  })

  it("a take case on a closed channel receives its remaining values, then None", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe<number>(2)
        Chan.offerUnsafe(ch, 1)
        Chan.closeUnsafe(ch)
        const first = yield* Chan.select([Chan.onTake(ch, (v) => v)])
        const second = yield* Chan.select([Chan.onTake(ch, (v) => v)])
        return [first, second]
      })
    )
    expect(result).toEqual([Option.some(1), Option.none()])
  })
})

describe("select: interruption", () => {
  it.each(kinds)("interrupting a waiting select withdraws every case and consumes nothing ($name)", async (kind) => {
    const result = await run(
      Effect.gen(function* () {
        const a = kind.make<number>()
        const b = Chan.makeUnsafe<number>()
        const c = Chan.makeUnsafe<number>()
        let handlers = 0
        const fiber = yield* Effect.forkChild(
          Chan.select([
            Chan.onTake(a, () => handlers++),
            Chan.onTake(b, () => handlers++),
            Chan.onPut(c, 3, () => handlers++),
            Chan.onTimeout("1 second", () => handlers++)
          ])
        )
        expect(yield* isSuspended(fiber)).toBe(true)
        const during = [pending(a), pending(b), pending(c)]
        yield* Fiber.interrupt(fiber)
        const exit = yield* Fiber.await(fiber)
        const after = [pending(a), pending(b), pending(c)]
        yield* TestClock.adjust("2 seconds")
        yield* settle
        // nothing is waiting any more: a put to a stays in a, b has no taker, c no putter
        const acceptedByA = Chan.putUnsafe(a, 1)
        return {
          during,
          interrupted: Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause),
          after,
          handlers,
          acceptedByA,
          fromA: Chan.pollUnsafe(a),
          offeredToB: Chan.offerUnsafe(b, 2),
          fromC: Chan.pollUnsafe(c)
        }
      })
    )
    expect(result).toEqual({
      during: [
        { puts: 0, takes: 1 },
        { puts: 0, takes: 1 },
        { puts: 1, takes: 0 }
      ],
      interrupted: true,
      after: [none, none, none],
      handlers: 0,
      acceptedByA: true,
      fromA: Option.some(1),
      offeredToB: false,
      fromC: Option.none()
    })
  })
})

describe("select: buffer policies", () => {
  it("a dropping or sliding buffer's put case is always ready", async () => {
    const result = await run(
      Effect.gen(function* () {
        const dropping = Chan.makeUnsafe<number>(Buffer.dropping(1))
        const sliding = Chan.makeUnsafe<number>(Buffer.sliding(1))
        const results: Array<boolean> = []
        for (let i = 0; i < 3; i++) {
          results.push(yield* Chan.select([Chan.onPut(dropping, i, (ok) => ok)]))
          results.push(yield* Chan.select([Chan.onPut(sliding, i, (ok) => ok)]))
        }
        return { results, dropping: Chan.pollUnsafe(dropping), sliding: Chan.pollUnsafe(sliding) }
      })
    )
    expect(result).toEqual({
      results: [true, true, true, true, true, true],
      dropping: Option.some(0),
      sliding: Option.some(2)
    })
  })
})
