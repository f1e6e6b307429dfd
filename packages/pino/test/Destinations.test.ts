/**
 * Destinations that misbehave without throwing: a flush that never calls back, a Node stream whose
 * writes are never called back, a custom `write` that returns a rejected promise, a stream that
 * fails for good. `PinoLogger.layer`'s final flush ends in bounded time (its `flushTimeout`, on
 * Effect's clock), and every line a destination did not take is counted in `PinoLogger.lostLines`
 * — once — with no report claiming writing works again when it does not.
 */
import { Writable } from "node:stream"
import { Effect, Exit, Fiber, Layer, Logger, Scope } from "effect"
import { TestClock } from "effect/testing"
import pino from "pino"
import { afterEach, describe, expect, it, vi } from "vitest"
import { PinoLogger, PinoLoggerConfigError } from "../src/index.js"
import { stderrLines } from "./stderr.js"

afterEach(() => {
  vi.restoreAllMocks()
})

/** Lets callbacks queued on Node's microtask and nextTick queues run. */
const settle = () => Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/**
 * Builds `layer`, runs `body` under it, then closes its scope on a forked fiber and returns that
 * fiber, with Effect's `TestClock` in place (the caller moves time on).
 */
const closeLater = (layer: Layer.Layer<never>, body: Effect.Effect<void>) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(layer, scope)
    yield* Effect.provideContext(body, context)
    yield* settle()
    const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
    yield* Effect.yieldNow
    return closing
  })

const logThree = Effect.gen(function* () {
  yield* Effect.logInfo("one")
  yield* Effect.logInfo("two")
  yield* Effect.logInfo("three")
})

/** What `build` throws (fails the test when it does not throw a PinoLoggerConfigError). */
const configErrorOf = (build: () => unknown): PinoLoggerConfigError => {
  let thrown: unknown
  try {
    build()
  } catch (error) {
    thrown = error
  }
  expect(thrown).toBeInstanceOf(PinoLoggerConfigError)
  return thrown as PinoLoggerConfigError
}

/** What `PinoLogger.layer` throws for `options`. */
const layerRefusal = (options: unknown): PinoLoggerConfigError =>
  configErrorOf(() => PinoLogger.layer(pino({ level: "info" }, { write() {} } as any), options as any))

describe("the layer's final flush is bounded", () => {
  it("a flush that never calls back: closing the layer ends after 5 seconds (not before), reported once on stderr", async () => {
    const reports = stderrLines()
    const logger = pino({ level: "info" }, { write() {}, flush(_callback: () => void) {} } as any)
    await Effect.runPromise(
      Effect.gen(function* () {
        const closing = yield* closeLater(PinoLogger.layer(logger), logThree)
        yield* TestClock.adjust("4999 millis")
        expect(closing.pollUnsafe()).toBeUndefined()
        yield* TestClock.adjust("1 millis")
        yield* Fiber.join(closing)
      }).pipe(Effect.provide(TestClock.layer()))
    )
    const waits = reports.filter((line) => line.includes("did not finish writing within 5000 ms"))
    expect(waits).toHaveLength(1)
    expect(waits[0]).toContain("lines it still holds itself may be lost")
  })

  it("flushTimeout sets the bound", async () => {
    const reports = stderrLines()
    const logger = pino({ level: "info" }, { write() {}, flush(_callback: () => void) {} } as any)
    await Effect.runPromise(
      Effect.gen(function* () {
        const closing = yield* closeLater(PinoLogger.layer(logger, { flushTimeout: "100 millis" }), Effect.void)
        yield* TestClock.adjust("100 millis")
        yield* Fiber.join(closing)
      }).pipe(Effect.provide(TestClock.layer()))
    )
    expect(reports.some((line) => line.includes("within 100 ms"))).toBe(true)
  })

  it("a flushTimeout that is not a finite duration ≥ 0 is refused with a PinoLoggerConfigError naming it and the value", () => {
    for (const [input, shown] of [
      [-1, "-1"],
      ["soon", '"soon"'],
      ["Infinity", '"Infinity"'],
      // JSON would write these two as null
      [Number.POSITIVE_INFINITY, "Infinity"],
      // effect reads these as 0: a flush that would not wait at all
      [Number.NaN, "NaN"],
      [{}, "{}"],
      [{ second: 5 }, '{"second":5}'],
      // effect would read [seconds, nanos] with a NaN as 0
      [[Number.NaN, 0], "[NaN,0]"]
    ] as const) {
      const error = layerRefusal({ flushTimeout: input })
      expect(error.reason).toBe("invalid flushTimeout")
      expect(error.argument).toBe("flushTimeout")
      expect(error.value).toBe(input)
      expect(error.message).toBe(
        `Invalid PinoLogger.layer flushTimeout: expected a finite duration ≥ 0 (such as "5 seconds", 5000 or a Duration), received ${shown}`
      )
    }
  })

  it("a misspelt layer option is refused naming the option meant; an awaitOpen that is no boolean or options that are no object are refused naming them and the value", () => {
    // a misspelt option would be ignored
    expect(layerRefusal({ flushTimout: 100 })).toMatchObject({
      argument: "flushTimout",
      value: 100,
      reason: "invalid layer options",
      message:
        "Invalid PinoLogger.layer flushTimout: expected a known option (did you mean flushTimeout?); the known ones are awaitOpen, flushTimeout, maxHeldLines, received 100"
    })
    expect(layerRefusal({ awaitopen: false }).message).toContain("(did you mean awaitOpen?)")
    expect(layerRefusal({ colour: true }).message).not.toContain("did you mean")
    expect(layerRefusal({ awaitOpen: Number.NaN })).toMatchObject({
      argument: "awaitOpen",
      message: "Invalid PinoLogger.layer awaitOpen: expected a boolean, received NaN"
    })
    expect(layerRefusal({ awaitOpen: "no" })).toMatchObject({ argument: "awaitOpen", value: "no" })
    expect(layerRefusal(5)).toMatchObject({
      argument: "options",
      value: 5,
      message:
        "Invalid PinoLogger.layer options: expected an object ({ awaitOpen, flushTimeout, maxHeldLines }), received 5"
    })
  })

  it("a Writable whose writes are never called back: its lines count as lost at the bound, once, even when called back later", async () => {
    const reports = stderrLines()
    const held: Array<() => void> = []
    const stream = new Writable({
      write(_chunk, _encoding, callback) {
        held.push(() => callback())
      }
    })
    const logger = pino({ level: "info" }, stream)
    await Effect.runPromise(
      Effect.gen(function* () {
        const closing = yield* closeLater(PinoLogger.layer(logger), logThree)
        expect(PinoLogger.lostLines(logger)).toBe(0)
        yield* TestClock.adjust("5 seconds")
        yield* Fiber.join(closing)
      }).pipe(Effect.provide(TestClock.layer()))
    )
    expect(PinoLogger.lostLines(logger)).toBe(3)
    expect(reports.filter((line) => line.includes("3 lines still unwritten are counted as lost"))).toHaveLength(1)
    // the stream wakes up after all: the lines given up on stay lost, and nothing claims a recovery
    for (const callback of held.splice(0)) callback()
    await new Promise<void>((resolve) => setImmediate(resolve))
    for (const callback of held.splice(0)) callback()
    await new Promise<void>((resolve) => setImmediate(resolve))
    expect(PinoLogger.lostLines(logger)).toBe(3)
    expect(reports.some((line) => line.includes("written again"))).toBe(false)
  })

  it("a Writable that calls back its writes in time: closing waits for them, nothing is lost or reported", async () => {
    const reports = stderrLines()
    const written: Array<string> = []
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        setImmediate(() => {
          written.push(String(chunk))
          callback()
        })
      }
    })
    const logger = pino({ level: "info" }, stream)
    await Effect.runPromise(Effect.provide(logThree, PinoLogger.layer(logger)))
    expect(written).toHaveLength(3)
    expect(PinoLogger.lostLines(logger)).toBe(0)
    expect(reports).toEqual([])
  })
})

describe("a custom destination whose write returns a promise", () => {
  it("each rejection is handled and counts its line lost (no unhandled rejection); a resolved one is a written line", async () => {
    const reports = stderrLines()
    const unhandled: Array<unknown> = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on("unhandledRejection", onUnhandled)
    try {
      let calls = 0
      const logger = pino({ level: "info" }, {
        write() {
          calls++
          return calls === 2 ? Promise.resolve() : Promise.reject(new Error("async fail"))
        }
      } as any)
      await Effect.runPromise(Effect.provide(Effect.andThen(logThree, settle()), PinoLogger.layer(logger)))
      // written through pino directly, outside the Effect logger: its rejection is handled and counted too
      logger.info("direct")
      await new Promise<void>((resolve) => setImmediate(resolve))
      await new Promise<void>((resolve) => setImmediate(resolve))
      expect(calls).toBe(4)
      expect(PinoLogger.lostLines(logger)).toBe(3)
      expect(unhandled).toEqual([])
      expect(reports.filter((line) => line.includes("could not be written (Error: async fail)"))).not.toHaveLength(0)
    } finally {
      process.removeListener("unhandledRejection", onUnhandled)
    }
  })
})

describe("the stderr report of lost lines", () => {
  it("a stream that fails for good: the late success of a line written before the failure claims no recovery", async () => {
    const reports = stderrLines()
    let writes = 0
    const stream = new Writable({
      write(_chunk, _encoding, callback) {
        writes++
        callback(writes >= 3 ? new Error("peer gone") : null)
      }
    })
    const logger = pino({ level: "info" }, stream)
    await Effect.runPromise(
      Effect.provide(
        // five lines in one go: Node calls back the first two after the third failed
        Effect.andThen(Effect.all([logThree, Effect.logInfo("four"), Effect.logInfo("five")]), settle()),
        PinoLogger.layer(logger)
      )
    )
    expect(PinoLogger.lostLines(logger)).toBe(3)
    expect(reports.some((line) => line.includes("written again"))).toBe(false)
    expect(reports.filter((line) => line.includes("could not be written"))).toHaveLength(1)
  })

  it("a destination that recovers: its recovery is still reported", async () => {
    const reports = stderrLines()
    let writes = 0
    const logger = pino({ level: "info" }, {
      write() {
        writes++
        if (writes === 2) throw new Error("EAGAIN")
      }
    } as any)
    await Effect.runPromise(Effect.provide(logThree, PinoLogger.layer(logger)))
    expect(PinoLogger.lostLines(logger)).toBe(1)
    expect(reports.filter((line) => line.includes("log lines are written again; 1 line was lost"))).toHaveLength(1)
  })
})

describe("PinoLogger.abandon", () => {
  it("counts a Writable's unanswered lines once, reports them, and says no write is in flight (a Node stream holds no thread)", async () => {
    const reports = stderrLines()
    const stream = new Writable({ write() {} })
    const logger = pino({ level: "info" }, stream)
    // PinoLogger.make alone: no final flush gives up on them first
    await Effect.runPromise(Effect.provide(logThree, Logger.layer([PinoLogger.make(logger)])))
    expect(PinoLogger.abandon(logger)).toBe(false)
    expect(PinoLogger.lostLines(logger)).toBe(3)
    expect(PinoLogger.abandon(logger)).toBe(false)
    expect(PinoLogger.lostLines(logger)).toBe(3)
    expect(reports.filter((line) => line.includes("3 log lines were still unwritten"))).toHaveLength(1)
  })
})

describe("a stalled destination holds at most maxHeldLines lines", () => {
  /** A Writable that answers no write until `answerAll` (Node hands it one write at a time). */
  const stalled = () => {
    const written: Array<string> = []
    const held: Array<() => void> = []
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        held.push(() => {
          written.push(JSON.parse(String(chunk)).msg)
          callback()
        })
      }
    })
    /** Answers every write, including those Node hands over once an earlier one is answered. */
    const answerAll = Effect.gen(function* () {
      while (held.length > 0) {
        for (const answer of held.splice(0)) answer()
        yield* settle()
      }
    })
    return { stream, written, answerAll }
  }

  const logMany = (count: number, prefix = "line") =>
    Effect.gen(function* () {
      for (let i = 1; i <= count; i++) yield* Effect.logInfo(`${prefix} ${i}`)
    })

  it("a Writable that never answers, maxHeldLines 10: of 25 lines 10 are held and 15 counted lost, one report; once it answers, lines are written again and the burst ends", async () => {
    const reports = stderrLines()
    const { stream, written, answerAll } = stalled()
    const logger = pino({ level: "info" }, stream)
    await Effect.runPromise(
      Effect.gen(function* () {
        yield* logMany(25)
        yield* settle()
        expect(PinoLogger.lostLines(logger)).toBe(15)
        expect(stream.writableLength).toBeGreaterThan(0)
        const lost = reports.filter((line) => line.includes("could not be written"))
        expect(lost).toHaveLength(1)
        expect(lost[0]).toContain("has not answered its last 10 writes (maxHeldLines)")
        expect(reports.some((line) => line.includes("written again"))).toBe(false)
        yield* answerAll
        // the held lines were written, the others never reached the destination
        expect(written).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i + 1}`))
        expect(reports.some((line) => line.includes("written again"))).toBe(false)
        yield* Effect.logInfo("after")
        yield* answerAll
      }).pipe(Effect.provide(PinoLogger.layer(logger, { maxHeldLines: 10 })))
    )
    expect(written.at(-1)).toBe("after")
    expect(PinoLogger.lostLines(logger)).toBe(15)
    expect(reports.filter((line) => line.includes("log lines are written again; 15 lines were lost"))).toHaveLength(1)
    expect(reports).toHaveLength(2)
  })

  it("a custom destination whose write returns a promise not settled yet is bounded the same way (PinoLogger.make's option)", async () => {
    const reports = stderrLines()
    const pending: Array<() => void> = []
    const logger = pino({ level: "info" }, {
      write() {
        return new Promise<void>((resolve) => pending.push(resolve))
      }
    } as any)
    await Effect.runPromise(Effect.provide(logMany(7), Logger.layer([PinoLogger.make(logger, { maxHeldLines: 3 })])))
    expect(pending).toHaveLength(3)
    expect(PinoLogger.lostLines(logger)).toBe(4)
    for (const resolve of pending.splice(0)) resolve()
    await Effect.runPromise(settle())
    expect(reports.filter((line) => line.includes("has not answered its last 3 writes"))).toHaveLength(1)
  })

  it("maxHeldLines: Infinity holds every line (no bound)", async () => {
    const { stream, written, answerAll } = stalled()
    const logger = pino({ level: "info" }, stream)
    await Effect.runPromise(
      Effect.gen(function* () {
        yield* logMany(25)
        expect(PinoLogger.lostLines(logger)).toBe(0)
        yield* answerAll
      }).pipe(Effect.provide(PinoLogger.layer(logger, { maxHeldLines: Number.POSITIVE_INFINITY })))
    )
    expect(written).toHaveLength(25)
    expect(PinoLogger.lostLines(logger)).toBe(0)
  })

  it("a maxHeldLines that is not an integer ≥ 1 or Infinity is refused by layer and make, naming the option and the value", () => {
    const logger = pino({ level: "info" }, { write() {} } as any)
    for (const [input, shown] of [
      [0, "0"],
      [-1, "-1"],
      [1.5, "1.5"],
      [Number.NaN, "NaN"],
      [Number.NEGATIVE_INFINITY, "-Infinity"],
      ["10", '"10"'],
      [null, "null"]
    ] as const) {
      for (const [fn, build] of [
        ["PinoLogger.layer", () => PinoLogger.layer(logger, { maxHeldLines: input as any })],
        ["PinoLogger.make", () => PinoLogger.make(logger, { maxHeldLines: input as any })]
      ] as const) {
        const error = configErrorOf(build)
        expect(error).toMatchObject({ argument: "maxHeldLines", reason: "invalid maxHeldLines" })
        expect(error.value).toBe(input)
        expect(error.message).toBe(
          `Invalid ${fn} maxHeldLines: expected an integer ≥ 1, or Infinity (no bound), received ${shown}`
        )
      }
    }
    expect(configErrorOf(() => PinoLogger.make(logger, { maxHeldLine: 5 } as any)).message).toBe(
      "Invalid PinoLogger.make maxHeldLine: expected a known option (did you mean maxHeldLines?); the known ones are maxHeldLines, received 5"
    )
  })
})
