/**
 * Regressions found in review, each with the scenario that showed it.
 */
import { Buffer, Chan, Xform } from "@tributary/channel"
import * as Facade from "@tributary/channel/async"
import { Effect, Fiber, Logger, Option, References } from "effect"
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

describe("xform failures of synchronous operations called inside a fiber reach that fiber's logger", () => {
  it("Chan.offerUnsafe, putUnsafe, pollUnsafe and closeUnsafe in Effect.sync", async () => {
    const lines: Array<string> = []
    const logger = Logger.make<unknown, void>((o) => {
      lines.push(String((o.message as ReadonlyArray<unknown>)[0]))
    })
    const logged = vi.spyOn(console, "error").mockImplementation(() => {})
    vi.spyOn(console, "log").mockImplementation(() => {})
    const ch = Chan.makeUnsafe<number, number>(1, {
      xform: Xform.map((n: number) => {
        if (n % 2 === 1) throw new Error(`odd ${n}`)
        return n
      })
    })
    const counts = await Effect.runPromise(
      Effect.sync(() => {
        Chan.offerUnsafe(ch, 1) // refused by the xform
        const afterOffer = lines.length
        Chan.offerUnsafe(ch, 2) // buffered
        Chan.putUnsafe(ch, 3) // pending: the buffer is full
        Chan.pollUnsafe(ch) // takes 2, pulls 3 through the xform
        const afterPoll = lines.length
        Chan.putUnsafe(ch, 5)
        Chan.closeUnsafe(ch)
        return [afterOffer, afterPoll]
      }).pipe(Effect.provide(Logger.layer([logger])))
    )
    await Promise.resolve() // a microtask's report, if any, comes too
    expect(counts).toEqual([1, 2]) // each logged before its operation returned
    expect(lines).toEqual(Array(3).fill("xform failed; the value was dropped"))
    expect(logged.mock.calls.length + vi.mocked(console.log).mock.calls.length).toBe(0)
  })
})

describe("an onUndelivered that throws loses no value and strands no fiber", () => {
  /** An onUndelivered that records each value, then throws; and the lines logged meanwhile. */
  const throwing = () => {
    const undelivered: Array<number> = []
    const lines: Array<{ level: string; message: string }> = []
    const logger = Logger.make<unknown, void>((o) => {
      lines.push({ level: o.logLevel, message: String((o.message as ReadonlyArray<unknown>)[0]) })
    })
    const onUndelivered = (n: number) => {
      undelivered.push(n)
      throw new Error(`undelivered ${n}`)
    }
    const runLogged = <A>(effect: Effect.Effect<A>) => Effect.runPromise(Effect.provide(effect, Logger.layer([logger])))
    return { undelivered, lines, onUndelivered, runLogged }
  }
  const onUndeliveredFailed = (lines: ReadonlyArray<{ level: string; message: string }>) =>
    lines.filter((l) => l.level === "Error" && l.message.includes("onUndelivered failed")).length

  it("discard: every buffered value is passed on, the pending puts complete with false, the error is logged", async () => {
    const t = throwing()
    const result = await t.runLogged(
      Effect.gen(function* () {
        const ch = yield* Chan.make<number>(2, { onUndelivered: t.onUndelivered })
        yield* Chan.put(ch, 1)
        yield* Chan.put(ch, 2)
        const putter = yield* Effect.forkChild(Chan.put(ch, 3))
        yield* Effect.yieldNow
        const discarded = yield* Chan.discard(ch)
        return { discarded, put: yield* Fiber.join(putter) }
      })
    )
    expect(result).toEqual({ discarded: [1, 2], put: false })
    expect(t.undelivered).toEqual([1, 2])
    expect(onUndeliveredFailed(t.lines)).toBe(2)
  })

  it("a sliding buffer: the put is accepted and its value buffered; the dropped one was passed on", async () => {
    const t = throwing()
    const result = await t.runLogged(
      Effect.gen(function* () {
        const ch = yield* Chan.make<number>(Buffer.sliding(1), { onUndelivered: t.onUndelivered })
        yield* Chan.put(ch, 1)
        const accepted = yield* Chan.put(ch, 2)
        return { accepted, next: yield* Chan.poll(ch) }
      })
    )
    expect(result).toEqual({ accepted: true, next: Option.some(2) })
    expect(t.undelivered).toEqual([1])
    expect(onUndeliveredFailed(t.lines)).toBe(1)
  })

  it("an xform that finishes early on a take: the take gets its value, every released put completes", async () => {
    const t = throwing()
    const result = await t.runLogged(
      Effect.gen(function* () {
        const ch = yield* Chan.make<number, number>(1, { xform: Xform.take<number>(2), onUndelivered: t.onUndelivered })
        yield* Chan.put(ch, 1)
        const putters = []
        for (const n of [2, 3, 4]) putters.push(yield* Effect.forkChild(Chan.put(ch, n)))
        yield* Effect.yieldNow
        const taken = [yield* Chan.take(ch), yield* Chan.take(ch), yield* Chan.take(ch)]
        const puts = []
        for (const p of putters) puts.push(yield* Fiber.join(p))
        return { taken, puts }
      })
    )
    expect(result).toEqual({ taken: [Option.some(1), Option.some(2), Option.none()], puts: [true, true, true] })
    expect(t.undelivered).toEqual([3, 4])
  })

  it("the async API: put returns a Promise (it threw at the call) and is accepted", async () => {
    const t = throwing()
    const logged = vi.spyOn(console, "error").mockImplementation(() => {})
    vi.spyOn(console, "log").mockImplementation(() => {})
    const ch = Facade.chan<number>(Buffer.dropping(1), { onUndelivered: t.onUndelivered })
    await ch.put(1)
    let put: Promise<boolean> | undefined
    expect(() => {
      put = ch.put(2)
    }).not.toThrow()
    expect(await put).toBe(true)
    expect(ch.poll()).toEqual({ done: false, value: 1 })
    expect(t.undelivered).toEqual([2])
    expect(logged.mock.calls.length + vi.mocked(console.log).mock.calls.length).toBeGreaterThan(0)
  })
})

describe("an xform or onUndelivered error raised by a take reaches the taker's logger before its next effect", () => {
  /** A channel of size 1 holding 1, a pending put of 2 (which its xform refuses), and a logger for the taker. */
  const setup = Effect.gen(function* () {
    const lines: Array<string> = []
    const logger = Logger.make<unknown, void>((o) => {
      const taker = o.fiber.getRef(References.CurrentLogAnnotations).taker
      lines.push(`${o.logLevel}: ${String((o.message as ReadonlyArray<unknown>)[0])} (taker ${String(taker)})`)
    })
    const ch = yield* Chan.make<number, number>(1, {
      xform: Xform.map((n: number) => {
        if (n === 2) throw new Error("no 2")
        return n
      })
    })
    yield* Chan.put(ch, 1)
    const putter = yield* Effect.forkChild(Chan.put(ch, 2))
    yield* Effect.yieldNow // the put of 2 waits: the take of 1 pulls it through the xform
    /** Runs `op` with the taker's logger and annotation; returns its result and the lines logged by then. */
    const asTaker = <A>(op: Effect.Effect<A>) =>
      Effect.map(Effect.provide(Effect.annotateLogs(op, { taker: "t1" }), Logger.layer([logger])), (result) => ({
        result,
        lines: [...lines]
      }))
    return { ch, putter, asTaker }
  })
  const failed = ["Error: xform failed; the value was dropped (taker t1)"]

  it("take, poll and a ready select", async () => {
    const seen = await Effect.runPromise(
      Effect.gen(function* () {
        const out = []
        for (const op of [
          (ch: Chan.Chan<number>) => Chan.take(ch),
          (ch: Chan.Chan<number>) => Chan.poll(ch),
          (ch: Chan.Chan<number>) => Chan.select([Chan.onTake(ch, (v) => v)])
        ]) {
          const { ch, putter, asTaker } = yield* setup
          out.push({ ...(yield* asTaker(op(ch))), put: yield* Fiber.join(putter), failures: recorded(ch) })
        }
        return out
      }).pipe(Effect.provide(Logger.layer([])))
    )
    for (const s of seen) expect(s).toEqual({ result: Option.some(1), lines: failed, put: true, failures: undefined })
  })

  it("an onUndelivered that throws while a take completes an xform", async () => {
    const lines: Array<string> = []
    const logger = Logger.make<unknown, void>((o) => {
      lines.push(String((o.message as ReadonlyArray<unknown>)[0]))
    })
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const ch = yield* Chan.make<number, number>(1, {
          xform: Xform.take<number>(2),
          onUndelivered: () => {
            throw new Error("cannot")
          }
        })
        yield* Chan.put(ch, 1)
        for (const n of [2, 3]) yield* Effect.forkChild(Chan.put(ch, n))
        yield* Effect.yieldNow
        const taken = yield* Effect.provide(Chan.take(ch), Logger.layer([logger]))
        return { taken, lines: [...lines] }
      }).pipe(Effect.provide(Logger.layer([])))
    )
    expect(result).toEqual({ taken: Option.some(1), lines: ["onUndelivered failed"] })
  })

  it("the synchronous poll and the Promise facade's take, poll, iterator and select log it too (nothing kept)", async () => {
    const logged: Array<string> = []
    for (const method of ["log", "error", "warn", "info"] as const)
      vi.spyOn(console, method).mockImplementation((...args: Array<unknown>) => {
        logged.push(args.map(String).join(" "))
      })
    const ways: Array<(ch: Chan.Chan<number>) => unknown> = [
      (ch) => Chan.pollUnsafe(ch),
      (ch) => Facade.take(ch),
      (ch) => Facade.poll(ch),
      (ch) => Facade.iterate(ch)[Symbol.asyncIterator]().next(),
      (ch) => Facade.select([Facade.onTake(ch, (r) => r)])
    ]
    for (const way of ways) {
      const ch = Chan.makeUnsafe<number, number>(1, {
        xform: Xform.map((n: number) => {
          if (n === 2) throw new Error("no 2")
          return n
        })
      })
      Chan.offerUnsafe(ch, 1)
      const put = Facade.put(ch, 2)
      await way(ch)
      expect(await put).toBe(true)
      expect(recorded(ch)).toBeUndefined()
    }
    expect(logged.filter((l) => l.includes("xform failed")).length).toBe(ways.length)
  })
})

const recorded = (ch: unknown) => (ch as ChanCore<number, number>).xformFailures

describe("discard while a woken taker is on its way", () => {
  // Found with the batching kinds of the model test: discard emptied the buffer, but a taker that
  // waited behind the woken one (every buffered value was owed) was never told the channel closed.
  it("a taker waiting behind it gets None; the woken one gets None too (its value was discarded)", async () => {
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const undelivered: Array<number> = []
        const ch = Chan.makeUnsafe<number>(1, { onUndelivered: (v) => undelivered.push(v) })
        const woken = yield* Effect.forkChild(Chan.take(ch))
        const behind = yield* Effect.forkChild(Chan.take(ch))
        for (let i = 0; i < 5; i++) yield* Effect.yieldNow // both wait
        Chan.offerUnsafe(ch, 1) // wakes the first; 1 is owed to it, the second waits behind it
        const discarded = yield* Chan.discard(ch)
        return { discarded, undelivered, woken: yield* Fiber.join(woken), behind: yield* Fiber.join(behind) }
      })
    )
    expect(result).toEqual({ discarded: [1], undelivered: [1], woken: Option.none(), behind: Option.none() })
  })
})
