/**
 * Transducers (`Xform`), each observed through a channel: values are put, then taken.
 */
import { Cause, Effect, Exit, Fiber, Logger, type LogLevel, Option } from "effect"
import { describe, expect, it } from "vitest"
import { close as closeAsync, put as putAsync, take as takeAsync } from "../src/AsyncChan.js"
import { Buffer, Chan, ChanArgumentError, Xform } from "../src/index.js"
import { isInterrupted, isSuspended, pending, run, settle } from "./harness.js"

/** Puts every value in order; the results of the puts. */
const putAll = <A>(ch: Chan.WritePort<A>, values: Iterable<A>): Effect.Effect<Array<boolean>> =>
  Effect.forEach(values, (v) => Chan.put(ch, v))

/** Takes until the channel is closed and drained. */
const takeAll = <A>(ch: Chan.ReadPort<A>): Effect.Effect<Array<A>> =>
  Effect.gen(function* () {
    const out: Array<A> = []
    while (true) {
      const v = yield* Chan.take(ch)
      if (Option.isNone(v)) return out
      out.push(v.value)
    }
  })

/** Takes what is available now, without waiting. */
const pollAll = <A>(ch: Chan.ReadPort<A>): Array<A> => {
  const out: Array<A> = []
  for (let v = Chan.pollUnsafe(ch); Option.isSome(v); v = Chan.pollUnsafe(ch)) out.push(v.value)
  return out
}

/** Puts `inputs` into a channel with `xform` (buffer 64), closes it, and takes everything. */
const through = <I, O>(xform: Xform.Xform<I, O>, inputs: Iterable<I>): Promise<Array<O>> =>
  run(
    Effect.gen(function* () {
      const ch = Chan.makeUnsafe(64, { xform })
      const accepted = yield* putAll(ch, inputs)
      expect(accepted.every((ok) => ok)).toBe(true)
      yield* Chan.close(ch)
      return yield* takeAll(ch)
    })
  )

/** A logger that records every line. */
const captureLogs = () => {
  const lines: Array<{ level: LogLevel.LogLevel; message: ReadonlyArray<unknown>; cause: Cause.Cause<unknown> }> = []
  const logger = Logger.make<unknown, void>((o) => {
    lines.push({ level: o.logLevel, message: o.message as ReadonlyArray<unknown>, cause: o.cause })
  })
  return { lines, layer: Logger.layer([logger]) }
}

describe("Xform through a channel", () => {
  it("map", async () => {
    expect(
      await through(
        Xform.map((n: number) => `#${n * 2}`),
        [1, 2, 3]
      )
    ).toEqual(["#2", "#4", "#6"])
  })

  it("map can produce undefined and null, which are values, not 'closed'", async () => {
    expect(
      await through(
        Xform.map((n: number) => (n === 1 ? undefined : null)),
        [1, 2, 1]
      )
    ).toEqual([undefined, null, undefined])
  })

  it("filter", async () => {
    expect(
      await through(
        Xform.filter((n: number) => n % 2 === 0),
        [1, 2, 3, 4, 5, 6, 7]
      )
    ).toEqual([2, 4, 6])
  })

  it("flatMap (mapcat), from arrays and other iterables", async () => {
    expect(
      await through(
        Xform.flatMap((n: number) => (n === 2 ? [] : [n, n * 10])),
        [1, 2, 3]
      )
    ).toEqual([1, 10, 3, 30])
    function* upTo(n: number) {
      for (let i = 1; i <= n; i++) yield i
    }
    expect(await through(Xform.flatMap(upTo), [3, 0, 2])).toEqual([1, 2, 3, 1, 2])
  })

  it("flatMap's expansion may exceed the buffer; later puts wait until there is room", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe(2, { xform: Xform.flatMap((n: number) => [n, n, n, n, n]) })
        const first = yield* Chan.put(ch, 1)
        const sizeAfterFirst = yield* Chan.size(ch)
        const second = yield* Effect.forkChild(Chan.put(ch, 2))
        const secondWaited = yield* isSuspended(second)
        const taken = [...pollAll(ch)]
        const secondAccepted = yield* Fiber.join(second)
        taken.push(...pollAll(ch))
        return { first, sizeAfterFirst, secondWaited, secondAccepted, taken }
      })
    )
    expect(result).toEqual({
      first: true,
      sizeAfterFirst: 5,
      secondWaited: true,
      secondAccepted: true,
      taken: [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]
    })
  })

  it("flatMap at capacity (core.async full? is count >= n): while an expanded value is buffered, a pending put waits and offer is refused", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe(1, { xform: Xform.flatMap((xs: ReadonlyArray<number>) => xs) })
        const first = yield* Chan.put(ch, [1, 2, 3])
        const pendingPut = yield* Effect.forkChild(Chan.put(ch, [4]))
        const putWaitedAtFirst = yield* isSuspended(pendingPut)
        const taken = [...Option.toArray(yield* Chan.take(ch)), ...Option.toArray(yield* Chan.take(ch))]
        // 3 is still buffered: the buffer (size 1) is full
        const putWaited = yield* isSuspended(pendingPut)
        const offered = yield* Chan.offer(ch, [5])
        const sizeAtCapacity = yield* Chan.size(ch)
        taken.push(...Option.toArray(yield* Chan.take(ch))) // 3: now there is room
        const putAccepted = yield* Fiber.join(pendingPut)
        taken.push(...pollAll(ch))
        return { first, putWaitedAtFirst, taken, putWaited, offered, sizeAtCapacity, putAccepted }
      })
    )
    expect(result).toEqual({
      first: true,
      putWaitedAtFirst: true,
      taken: [1, 2, 3, 4],
      putWaited: true,
      offered: false,
      sizeAtCapacity: 1,
      putAccepted: true
    })
  })

  it("flatMap serves several waiting takers from one put", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe(1, { xform: Xform.flatMap((s: string) => s.split("")) })
        const takers = yield* Effect.forEach([0, 1, 2], () => Effect.forkChild(Chan.take(ch)))
        yield* settle
        const accepted = yield* Chan.put(ch, "abc")
        const got = yield* Effect.forEach(takers, Fiber.join)
        return { accepted, got, pending: pending(ch) }
      })
    )
    expect(result).toEqual({
      accepted: true,
      got: [Option.some("a"), Option.some("b"), Option.some("c")],
      pending: { puts: 0, takes: 0 }
    })
  })

  it("take(n) passes n values, then closes the channel; later puts return false", async () => {
    const result = await run(
      Effect.gen(function* () {
        const undelivered: Array<number> = []
        const ch = Chan.makeUnsafe(8, { xform: Xform.take<number>(3), onUndelivered: (v) => undelivered.push(v) })
        const firstTwo = yield* putAll(ch, [1, 2])
        const openBefore = !(yield* Chan.isClosed(ch))
        const third = yield* Chan.put(ch, 3)
        const closedAfter = yield* Chan.isClosed(ch)
        const later = yield* putAll(ch, [4, 5])
        const taken = yield* takeAll(ch)
        return { firstTwo, openBefore, third, closedAfter, later, taken, undelivered }
      })
    )
    expect(result).toEqual({
      firstTwo: [true, true],
      openBefore: true,
      third: true,
      closedAfter: true,
      later: [false, false],
      taken: [1, 2, 3],
      undelivered: []
    })
  })

  it("take(n): puts pending when it finishes complete with true and their values go to onUndelivered", async () => {
    const result = await run(
      Effect.gen(function* () {
        const undelivered: Array<number> = []
        const ch = Chan.makeUnsafe(1, { xform: Xform.take<number>(2), onUndelivered: (v) => undelivered.push(v) })
        const first = yield* Chan.put(ch, 1)
        const waiting = yield* Effect.forEach([2, 3, 4], (v) => Effect.forkChild(Chan.put(ch, v)))
        yield* settle
        const pendingBefore = pending(ch).puts
        const callback: Array<boolean> = []
        Chan.putUnsafe(ch, 5, (ok) => callback.push(ok))
        // taking 1 makes room for 2, the second and last value: take(2) finishes
        const taken = [yield* Chan.take(ch)]
        const waitingResults = yield* Effect.forEach(waiting, Fiber.join)
        const closed = yield* Chan.isClosed(ch)
        taken.push(yield* Chan.take(ch), yield* Chan.take(ch))
        const late = yield* Chan.put(ch, 6)
        return { first, pendingBefore, taken, waitingResults, callback, closed, late, undelivered }
      })
    )
    expect(result).toEqual({
      first: true,
      pendingBefore: 3,
      taken: [Option.some(1), Option.some(2), Option.none()],
      waitingResults: [true, true, true],
      callback: [true],
      closed: true,
      late: false,
      undelivered: [3, 4, 5]
    })
  })

  it("take(n) inside compose stops an expanding stage before it", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe(16, {
          xform: Xform.compose(
            Xform.flatMap((n: number) => [n, n, n]),
            Xform.take<number>(4)
          )
        })
        const accepted = yield* putAll(ch, [1, 2])
        const closed = yield* Chan.isClosed(ch)
        const late = yield* Chan.put(ch, 3)
        return { accepted, closed, late, taken: yield* takeAll(ch) }
      })
    )
    expect(result).toEqual({ accepted: [true, true], closed: true, late: false, taken: [1, 1, 1, 2] })
  })

  it("a stage after take(n) gets its completion step when take finishes (partitionAll flushes)", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe(16, { xform: Xform.compose(Xform.take<number>(4), Xform.partitionAll<number>(3)) })
        const accepted = yield* putAll(ch, [1, 2, 3, 4, 5])
        return { accepted, taken: yield* takeAll(ch) }
      })
    )
    expect(result).toEqual({ accepted: [true, true, true, true, false], taken: [[1, 2, 3], [4]] })
  })

  it("takeWhile passes values while the predicate holds and closes at the first that fails", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe(8, { xform: Xform.takeWhile((n: number) => n < 5) })
        const before = yield* putAll(ch, [1, 2, 3])
        const openBefore = !(yield* Chan.isClosed(ch))
        yield* Chan.put(ch, 10)
        const closedAfter = yield* Chan.isClosed(ch)
        const later = yield* putAll(ch, [4, 1])
        return { before, openBefore, closedAfter, later, taken: yield* takeAll(ch) }
      })
    )
    expect(result).toEqual({
      before: [true, true, true],
      openBefore: true,
      closedAfter: true,
      later: [false, false],
      taken: [1, 2, 3]
    })
  })

  it("takeWhile: puts pending when it finishes complete with true and go to onUndelivered", async () => {
    const result = await run(
      Effect.gen(function* () {
        const undelivered: Array<number> = []
        const ch = Chan.makeUnsafe(1, {
          xform: Xform.takeWhile((n: number) => n < 5),
          onUndelivered: (v) => undelivered.push(v)
        })
        yield* Chan.put(ch, 1)
        const waiting = yield* Effect.forEach([9, 2], (v) => Effect.forkChild(Chan.put(ch, v)))
        yield* settle
        const first = yield* Chan.take(ch)
        const results = yield* Effect.forEach(waiting, Fiber.join)
        return { first, results, rest: yield* takeAll(ch), undelivered }
      })
    )
    expect(result.first).toEqual(Option.some(1))
    expect(result.results).toEqual([true, true])
    expect(result.rest).toEqual([])
    expect(result.undelivered).toContain(2)
  })

  it("drop", async () => {
    expect(await through(Xform.drop<number>(2), [1, 2, 3, 4, 5])).toEqual([3, 4, 5])
    expect(await through(Xform.drop<number>(0), [1, 2])).toEqual([1, 2])
    expect(await through(Xform.drop<number>(5), [1, 2])).toEqual([])
  })

  it("dedupe drops a value equal to the one before it", async () => {
    expect(await through(Xform.dedupe<number>(), [1, 1, 2, 2, 2, 3, 1, 1])).toEqual([1, 2, 3, 1])
    expect(await through(Xform.dedupe<unknown>(), [undefined, undefined, null, null, Number.NaN, Number.NaN])).toEqual([
      undefined,
      null,
      Number.NaN
    ])
  })

  it("partitionAll groups values; the last partial group is flushed on close", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe(8, { xform: Xform.partitionAll<number>(3) })
        yield* putAll(ch, [1, 2, 3, 4, 5, 6, 7])
        const beforeClose = pollAll(ch)
        yield* Chan.close(ch)
        return { beforeClose, afterClose: yield* takeAll(ch) }
      })
    )
    expect(result).toEqual({
      beforeClose: [
        [1, 2, 3],
        [4, 5, 6]
      ],
      afterClose: [[7]]
    })
  })

  it("partitionAll's flushed group reaches a taker waiting when the channel closes", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe(4, { xform: Xform.partitionAll<number>(3) })
        const taker = yield* Effect.forkChild(Chan.take(ch))
        yield* Chan.put(ch, 1)
        const waited = yield* isSuspended(taker)
        yield* Chan.close(ch)
        return { waited, got: yield* Fiber.join(taker), next: yield* Chan.take(ch) }
      })
    )
    expect(result).toEqual({ waited: true, got: Option.some([1]), next: Option.none() })
  })

  it("partitionAll adds no empty group on close", async () => {
    expect(await through(Xform.partitionAll<number>(2), [1, 2, 3, 4])).toEqual([
      [1, 2],
      [3, 4]
    ])
    expect(await through(Xform.partitionAll<number>(2), [])).toEqual([])
  })

  it("partitionBy groups runs with the same key; the last group is flushed on close", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe(8, { xform: Xform.partitionBy((n: number) => n % 2) })
        yield* putAll(ch, [1, 3, 2, 4, 6, 5, 7])
        const beforeClose = pollAll(ch)
        yield* Chan.close(ch)
        return { beforeClose, afterClose: yield* takeAll(ch) }
      })
    )
    expect(result).toEqual({
      beforeClose: [
        [1, 3],
        [2, 4, 6]
      ],
      afterClose: [[5, 7]]
    })
  })

  it("keep maps and drops None", async () => {
    expect(
      await through(
        Xform.keep((n: number) => (n > 0 ? Option.some(`+${n}`) : Option.none())),
        [1, -1, 2, 0, 3]
      )
    ).toEqual(["+1", "+2", "+3"])
  })

  it("compose runs left to right", async () => {
    const xform = Xform.compose(
      Xform.filter((n: number) => n % 2 === 0),
      Xform.map((n: number) => n * 10),
      Xform.partitionAll<number>(2)
    )
    expect(await through(xform, [1, 2, 3, 4, 5, 6, 7])).toEqual([[20, 40], [60]])
    // the order matters: map then filter is not filter then map
    const plusOneThenEven = Xform.compose(
      Xform.map((n: number) => n + 1),
      Xform.filter((n: number) => n % 2 === 0)
    )
    const evenThenPlusOne = Xform.compose(
      Xform.filter((n: number) => n % 2 === 0),
      Xform.map((n: number) => n + 1)
    )
    expect(await through(plusOneThenEven, [1, 2, 3, 4])).toEqual([2, 4])
    expect(await through(evenThenPlusOne, [1, 2, 3, 4])).toEqual([3, 5])
  })

  it("the take side has the xform's output type", async () => {
    const result = await run(
      Effect.gen(function* () {
        const ch: Chan.Chan<number, string> = yield* Chan.make(4, { xform: Xform.map((n: number) => n.toFixed(1)) })
        yield* Chan.put(ch, 1)
        const v: Option.Option<string> = yield* Chan.take(ch)
        return v
      })
    )
    expect(result).toEqual(Option.some("1.0"))
  })
})

describe("Xform: a close while puts are pending (as core.async: their values go through the xform before its completion step)", () => {
  /** A channel of buffer 1 with `xform` whose `onUndelivered` records into `undelivered`. */
  const batching = <O>(xform: Xform.Xform<number, O>) => {
    const undelivered: Array<unknown> = []
    const ch = Chan.makeUnsafe(1, { xform, onUndelivered: (v) => undelivered.push(v) })
    return { ch, undelivered }
  }

  it("partitionAll(2): the pending puts' values are taken in the batches after the buffered one, the last one flushed", async () => {
    const result = await run(
      Effect.gen(function* () {
        const { ch, undelivered } = batching(Xform.partitionAll<number>(2))
        yield* putAll(ch, [1, 2]) // [1, 2] buffered: full
        const puts = yield* Effect.forEach([3, 4, 5], (v) => Effect.forkChild(Chan.put(ch, v)))
        yield* settle
        const waiting = pending(ch).puts
        yield* Chan.close(ch)
        const taken = yield* takeAll(ch)
        return { waiting, taken, accepted: yield* Effect.forEach(puts, Fiber.join), undelivered }
      })
    )
    expect(result).toEqual({
      waiting: 3,
      taken: [[1, 2], [3, 4], [5]],
      accepted: [true, true, true],
      undelivered: []
    })
  })

  it("partitionBy: the partial batch and the pending put's value both reach takers, in order", async () => {
    const result = await run(
      Effect.gen(function* () {
        const { ch, undelivered } = batching(Xform.partitionBy((n: number) => n < 10))
        yield* putAll(ch, [1, 2, 20]) // [1, 2] buffered (full), [20] partial
        const put = yield* Effect.forkChild(Chan.put(ch, 3))
        const waited = yield* isSuspended(put)
        yield* Chan.close(ch)
        const taken = yield* takeAll(ch)
        return { waited, taken, accepted: yield* Fiber.join(put), undelivered }
      })
    )
    expect(result).toEqual({ waited: true, taken: [[1, 2], [20], [3]], accepted: true, undelivered: [] })
  })

  it.each([
    ["partitionAll(2)", () => Xform.partitionAll<number>(2), [1, 2], [[1, 2], [3]]],
    ["partitionBy(n < 10)", () => Xform.partitionBy((n: number) => n < 10), [1, 2, 20], [[1, 2], [20], [3]]]
  ] as const)(
    "the Promise facade, %s: the pending put resolves true and its value is taken",
    async (_, xform, before, expected) => {
      const { ch, undelivered } = batching<Array<number>>(xform())
      for (const v of before) expect(await putAsync(ch, v)).toBe(true)
      const put = putAsync(ch, 3)
      expect(pending(ch).puts).toBe(1)
      closeAsync(ch)
      const taken: Array<Array<number>> = []
      for (let r = await takeAsync(ch); !r.done; r = await takeAsync(ch)) taken.push(r.value)
      expect({ taken, accepted: await put, undelivered }).toEqual({ taken: expected, accepted: true, undelivered: [] })
    }
  )

  it("the last pending put interrupted after the close: the completion step still runs (partitionBy's partial batch is taken)", async () => {
    const result = await run(
      Effect.gen(function* () {
        const { ch, undelivered } = batching(Xform.partitionBy((n: number) => n < 10))
        yield* putAll(ch, [1, 2, 20])
        const put = yield* Effect.forkChild(Chan.put(ch, 3))
        yield* settle
        yield* Chan.close(ch)
        yield* Fiber.interrupt(put)
        const exit = yield* Fiber.await(put)
        return { interrupted: isInterrupted(exit), waiting: pending(ch).puts, taken: yield* takeAll(ch), undelivered }
      })
    )
    expect(result).toEqual({ interrupted: true, waiting: 0, taken: [[1, 2], [20]], undelivered: [] })
  })

  it("the last pending put a select case that won on another channel after the close: the completion step still runs", async () => {
    const result = await run(
      Effect.gen(function* () {
        const { ch, undelivered } = batching(Xform.partitionBy((n: number) => n < 10))
        const other = Chan.makeUnsafe<string>(1)
        yield* putAll(ch, [1, 2, 20])
        const select = yield* Effect.forkChild(
          Chan.select([
            Chan.onPut(ch, 3, (accepted) => `put ${accepted}`),
            Chan.onTake(other, (v) => `took ${Option.getOrThrow(v)}`)
          ])
        )
        yield* settle
        const waiting = pending(ch).puts
        yield* Chan.close(ch)
        yield* Chan.put(other, "x")
        const won = yield* Fiber.join(select)
        return { waiting, won, left: pending(ch).puts, taken: yield* takeAll(ch), undelivered }
      })
    )
    expect(result).toEqual({ waiting: 1, won: "took x", left: 0, taken: [[1, 2], [20]], undelivered: [] })
  })

  it("discard: the pending puts complete with false, the completion step runs, and every batch goes to onUndelivered", async () => {
    const result = await run(
      Effect.gen(function* () {
        const { ch, undelivered } = batching(Xform.partitionBy((n: number) => n < 10))
        yield* putAll(ch, [1, 2, 20])
        const put = yield* Effect.forkChild(Chan.put(ch, 3))
        yield* settle
        const discarded = yield* Chan.discard(ch)
        return { discarded, accepted: yield* Fiber.join(put), undelivered, after: yield* Chan.take(ch) }
      })
    )
    expect(result).toEqual({
      discarded: [[1, 2], [20]],
      accepted: false,
      undelivered: [[1, 2], [20]],
      after: Option.none()
    })
  })

  it("take(n) finishing on a pending put pulled in after the close: later pending puts go to onUndelivered, the last batch is flushed", async () => {
    const result = await run(
      Effect.gen(function* () {
        const { ch, undelivered } = batching(Xform.compose(Xform.take<number>(3), Xform.partitionAll<number>(2)))
        yield* putAll(ch, [1, 2])
        const puts = yield* Effect.forEach([3, 4], (v) => Effect.forkChild(Chan.put(ch, v)))
        yield* settle
        yield* Chan.close(ch)
        const taken = yield* takeAll(ch)
        return { taken, accepted: yield* Effect.forEach(puts, Fiber.join), undelivered }
      })
    )
    // 4 was accepted by a put pending when take(3) finished: released to onUndelivered, as core.async
    expect(result).toEqual({ taken: [[1, 2], [3]], accepted: [true, true], undelivered: [4] })
  })
})

describe("Xform errors", () => {
  const failOnTwo = Xform.map((n: number) => {
    if (n === 2) throw new Error("two")
    return n * 10
  })

  it("onXformError returning Some inserts the replacement", async () => {
    const result = await run(
      Effect.gen(function* () {
        const seen: Array<[unknown, number]> = []
        const ch = Chan.makeUnsafe(8, {
          xform: failOnTwo,
          onXformError: (error, input) => {
            seen.push([error, input])
            return Option.some(-input)
          }
        })
        const accepted = yield* putAll(ch, [1, 2, 3])
        yield* Chan.close(ch)
        return { accepted, taken: yield* takeAll(ch), seen }
      })
    )
    expect(result.accepted).toEqual([true, true, true])
    expect(result.taken).toEqual([10, -2, 30])
    expect(result.seen).toHaveLength(1)
    expect(result.seen[0][0]).toEqual(new Error("two"))
    expect(result.seen[0][1]).toBe(2)
  })

  it("onXformError returning None drops the value (and logs nothing)", async () => {
    const logs = captureLogs()
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe(8, { xform: failOnTwo, onXformError: () => Option.none() })
        const accepted = yield* putAll(ch, [1, 2, 3])
        yield* Chan.close(ch)
        return { accepted, taken: yield* takeAll(ch) }
      }).pipe(Effect.provide(logs.layer))
    )
    expect(result).toEqual({ accepted: [true, true, true], taken: [10, 30] })
    expect(logs.lines.filter((l) => l.level === "Error")).toEqual([])
  })

  it("without onXformError the value is dropped, an Error line is logged, and the channel keeps working", async () => {
    const logs = captureLogs()
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe(8, { xform: failOnTwo, name: "numbers" })
        const accepted = yield* putAll(ch, [1, 2, 3])
        const afterError = yield* putAll(ch, [4, 2, 5])
        yield* Chan.close(ch)
        return { accepted, afterError, taken: yield* takeAll(ch) }
      }).pipe(Effect.provide(logs.layer))
    )
    expect(result).toEqual({ accepted: [true, true, true], afterError: [true, true, true], taken: [10, 30, 40, 50] })
    const errors = logs.lines.filter((l) => l.level === "Error")
    expect(errors).toHaveLength(2)
    for (const line of errors) {
      expect(line.message.join(" ")).toMatch(/xform/i)
      expect(Cause.squash(line.cause)).toEqual(new Error("two"))
    }
  })

  it("an xform error from offer is logged too", async () => {
    const logs = captureLogs()
    const result = await run(
      Effect.gen(function* () {
        const ch = Chan.makeUnsafe(8, { xform: failOnTwo })
        return [yield* Chan.offer(ch, 2), yield* Chan.offer(ch, 3), Chan.pollUnsafe(ch)]
      }).pipe(Effect.provide(logs.layer))
    )
    expect(result).toEqual([true, true, Option.some(30)])
    expect(logs.lines.filter((l) => l.level === "Error")).toHaveLength(1)
  })
})

describe("Xform state and arguments", () => {
  it("each channel gets fresh xform state", async () => {
    const result = await run(
      Effect.gen(function* () {
        const take2 = Xform.take<number>(2)
        const t1 = Chan.makeUnsafe(4, { xform: take2 })
        const t2 = Chan.makeUnsafe(4, { xform: take2 })
        yield* putAll(t1, [1, 2])
        const t2Accepted = yield* putAll(t2, [3, 4])

        const pairs = Xform.partitionAll<string>(2)
        const p1 = Chan.makeUnsafe(4, { xform: pairs })
        const p2 = Chan.makeUnsafe(4, { xform: pairs })
        yield* Chan.put(p1, "a")
        yield* Chan.put(p2, "b")
        yield* Chan.close(p1)
        yield* Chan.close(p2)

        const dedupe = Xform.dedupe<number>()
        const d1 = Chan.makeUnsafe(4, { xform: dedupe })
        const d2 = Chan.makeUnsafe(4, { xform: dedupe })
        yield* Chan.put(d1, 7)
        yield* Chan.put(d2, 7)

        return {
          t2Accepted,
          t1: yield* takeAll(t1),
          t2: yield* takeAll(t2),
          p1: yield* takeAll(p1),
          p2: yield* takeAll(p2),
          d1: pollAll(d1),
          d2: pollAll(d2)
        }
      })
    )
    expect(result).toEqual({
      t2Accepted: [true, true],
      t1: [1, 2],
      t2: [3, 4],
      p1: [["a"]],
      p2: [["b"]],
      d1: [7],
      d2: [7]
    })
  })

  it.each([
    { call: () => Xform.take(-1), argument: "Xform.take", value: -1 },
    { call: () => Xform.partitionAll(0), argument: "Xform.partitionAll", value: 0 },
    { call: () => Xform.drop(1.5), argument: "Xform.drop", value: 1.5 },
    { call: () => Xform.map(3 as never), argument: "Xform.map function", value: 3 },
    { call: () => Xform.filter(null as never), argument: "Xform.filter predicate", value: null },
    { call: () => Xform.flatMap("x" as never), argument: "Xform.flatMap function", value: "x" },
    { call: () => Xform.takeWhile(undefined as never), argument: "Xform.takeWhile predicate", value: undefined },
    { call: () => Xform.partitionBy(1 as never), argument: "Xform.partitionBy function", value: 1 },
    { call: () => Xform.keep({} as never), argument: "Xform.keep function", value: "{}" }
  ])("$argument($value) throws ChanArgumentError naming the argument and value", ({ call, argument, value }) => {
    let thrown: unknown
    try {
      call()
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(ChanArgumentError)
    const error = thrown as ChanArgumentError
    expect(error._tag).toBe("ChanArgumentError")
    expect(error.argument).toContain(argument)
    if (value !== "{}") expect(error.value).toBe(value)
    expect(error.message).toContain(argument)
    expect(error.message).toContain(String(value))
  })

  it("an xform needs a buffer: makeUnsafe throws, make dies, with ChanArgumentError", async () => {
    expect(() => Chan.makeUnsafe(0, { xform: Xform.map((n: number) => n) })).toThrow(ChanArgumentError)
    const exit = await run(Effect.exit(Chan.make(0, { xform: Xform.map((n: number) => n) })))
    expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toBeInstanceOf(ChanArgumentError)
  })
})

describe("Xform and onUndelivered", () => {
  it("values filtered out are not passed to onUndelivered; values dropped by the buffer are, as transformed", async () => {
    const result = await run(
      Effect.gen(function* () {
        const undelivered: Array<unknown> = []
        const ch = Chan.makeUnsafe(Buffer.dropping(2), {
          xform: Xform.compose(
            Xform.filter((n: number) => n % 2 === 0),
            Xform.map((n: number) => n * 10)
          ),
          onUndelivered: (v) => undelivered.push(v)
        })
        const accepted = yield* putAll(ch, [1, 2, 3, 4, 5, 6, 7])
        const taken = pollAll(ch)
        return { accepted, taken, undelivered }
      })
    )
    expect(result).toEqual({ accepted: [true, true, true, true, true, true, true], taken: [20, 40], undelivered: [60] })
  })

  it("values filtered out are not passed to onUndelivered on discard", async () => {
    const result = await run(
      Effect.gen(function* () {
        const undelivered: Array<unknown> = []
        const ch = Chan.makeUnsafe(8, {
          xform: Xform.keep((n: number) => (n > 0 ? Option.some(n) : Option.none())),
          onUndelivered: (v) => undelivered.push(v)
        })
        yield* putAll(ch, [1, -1, 2, -2])
        const discarded = yield* Chan.discard(ch)
        return { discarded, undelivered }
      })
    )
    expect(result).toEqual({ discarded: [1, 2], undelivered: [1, 2] })
  })
})
