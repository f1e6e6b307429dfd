/**
 * Operations that complete inside `yield*` (internal/step.ts): a put into a buffer with room, a take
 * or poll of a buffered value, a select whose chosen case takes one. They skip the fiber's run loop,
 * so these tests check what the run loop would otherwise guarantee: the fiber still yields to the
 * others, a pending interrupt still stops it before its next operation, a select's handler Effect
 * still runs and its throw is still a defect, and outside a running fiber nothing happens early.
 */
import { Effect, Exit, Fiber, Option } from "effect"
import { describe, expect, it } from "vitest"
import { Chan } from "../src/index.js"

describe("operations that complete inside yield*", () => {
  it("give the same results as through the run loop", async () => {
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const ch = yield* Chan.make<number>(4)
        const puts = [yield* Chan.put(ch, 1), yield* Chan.offer(ch, 2), yield* Chan.put(ch, 3)]
        const taken = yield* Chan.take(ch)
        const polled = yield* Chan.poll(ch)
        const selected = yield* Chan.select([Chan.onTake(ch, (v) => v)])
        const empty = yield* Chan.poll(ch)
        return { puts, taken, polled, selected, empty }
      })
    )
    expect(result).toEqual({
      puts: [true, true, true],
      taken: Option.some(1),
      polled: Option.some(2),
      selected: Option.some(3),
      empty: Option.none()
    })
  })

  it("still let other fibers run: a loop whose every operation completes at once yields", async () => {
    const turns = await Effect.runPromise(
      Effect.gen(function* () {
        const ch = yield* Chan.make<number>(1)
        let stop = false
        // put then take on the same buffer: every operation completes at once, forever unless it yields
        const looper = yield* Effect.forkChild(
          Effect.gen(function* () {
            let n = 0
            while (!stop) {
              yield* Chan.put(ch, n)
              yield* Chan.take(ch)
              n++
            }
            return n
          })
        )
        yield* Effect.forkChild(
          Effect.sync(() => {
            stop = true
          })
        )
        return yield* Fiber.join(looper)
      })
    )
    expect(turns).toBeGreaterThan(0)
  })

  it("stop at a pending interrupt before the next operation: the values stay in the channel", async () => {
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const ch = yield* Chan.make<number>(8)
        for (let i = 0; i < 8; i++) yield* Chan.put(ch, i)
        let taken = 0
        const taker = yield* Effect.forkChild(
          Effect.gen(function* () {
            // interrupted while running: effect acts on it at the fiber's next operation
            Fiber.getCurrent()!.interruptUnsafe()
            for (;;) {
              yield* Chan.take(ch)
              taken++
            }
          })
        )
        const exit = yield* Fiber.await(taker)
        return { interrupted: Exit.hasInterrupts(exit), taken, left: yield* Chan.size(ch) }
      })
    )
    expect(result).toEqual({ interrupted: true, taken: 0, left: 8 })
  })

  it("run a select handler's Effect, and make its throw a defect, with the value consumed once", async () => {
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const ch = yield* Chan.make<number>(4)
        yield* Chan.put(ch, 1)
        yield* Chan.put(ch, 2)
        const doubled = yield* Chan.select([Chan.onTake(ch, (v) => Effect.succeed(Option.getOrElse(v, () => 0) * 2))])
        const boom = new Error("handler failed")
        const exit = yield* Effect.exit(
          Effect.gen(function* () {
            return yield* Chan.select([
              Chan.onTake(ch, (): number => {
                throw boom
              })
            ])
          })
        )
        return { doubled, defect: Exit.isFailure(exit) ? exit.cause : undefined, left: yield* Chan.size(ch) }
      })
    )
    expect(result.doubled).toBe(2)
    expect(String(result.defect)).toContain("handler failed")
    expect(result.left).toBe(0)
  })

  it("do nothing early outside a running fiber: iterating an operation yields it unperformed", () => {
    const ch = Chan.makeUnsafe<number>(1)
    Chan.offerUnsafe(ch, 7)
    const first = Chan.take(ch)[Symbol.iterator]().next()
    expect(first.done).toBe(false)
    expect(Chan.pollUnsafe(ch)).toEqual(Option.some(7))
  })
})
