import { once } from "node:events"
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { type AddressInfo, connect, createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Writable } from "node:stream"
import { Cause, Data, Effect, Exit, Fiber, Layer, Logger, References, Scope } from "effect"
import type * as LogLevel from "effect/LogLevel"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import pino from "pino"
import { afterEach, describe, expect, it, vi } from "vitest"
import { PinoLogger, PinoLoggerConfigError } from "../src/index.js"
import { stderrLines } from "./stderr.js"

// ── harness ─────────────────────────────────────────────────────────────────

type Line = Record<string, any>

/** A pino logger writing into an in-memory `Writable`; `lines` holds the parsed JSON lines. */
const capture = (options: pino.LoggerOptions<any> = {}) => {
  const lines: Array<Line> = []
  const stream = new Writable({
    decodeStrings: false,
    write(chunk, _encoding, callback) {
      for (const text of String(chunk).split("\n")) {
        if (text !== "") lines.push(JSON.parse(text))
      }
      callback()
    }
  })
  const logger = pino({ level: "info", ...options }, stream)
  return { lines, logger, stream }
}

/** Runs `effect` with `PinoLogger.layer(logger)` provided, returning its result. */
const runWith = <C extends string, A, E>(logger: pino.Logger<C, boolean>, effect: Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromise(effect.pipe(Effect.provide(PinoLogger.layer(logger))))

/** The `err` of the only line with message `msg`. */
const errOf = (lines: ReadonlyArray<Line>, msg: string): any => {
  const found = lines.filter((line) => line.msg === msg)
  expect(found).toHaveLength(1)
  return found[0].err
}

/** The cause an effect fails with. */
const causeOf = <E>(effect: Effect.Effect<unknown, E>): Effect.Effect<Cause.Cause<E>> =>
  Effect.flatMap(Effect.exit(effect), (exit) =>
    Exit.isFailure(exit) ? Effect.succeed(exit.cause) : Effect.die(new Error("expected a failure"))
  )

class HttpError extends Data.TaggedError("HttpError")<{ readonly status: number }> {}

const severities: ReadonlyArray<LogLevel.Severity> = ["Trace", "Debug", "Info", "Warn", "Error", "Fatal"]

const logAtEveryLevel = Effect.gen(function* () {
  yield* Effect.logTrace("at Trace")
  yield* Effect.logDebug("at Debug")
  yield* Effect.logInfo("at Info")
  yield* Effect.logWarning("at Warn")
  yield* Effect.logError("at Error")
  yield* Effect.logFatal("at Fatal")
})

const scratch: Array<string> = []
const tempFile = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "tributary-pino-"))
  scratch.push(dir)
  return join(dir, "out.log")
}

afterEach(() => {
  vi.restoreAllMocks()
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true })
})

// ── levels ──────────────────────────────────────────────────────────────────

describe("levelToPino", () => {
  it("maps every Effect level to its pino level", () => {
    const table: Record<LogLevel.LogLevel, string> = {
      All: "trace",
      Trace: "trace",
      Debug: "debug",
      Info: "info",
      Warn: "warn",
      Error: "error",
      Fatal: "fatal",
      None: "silent"
    }
    for (const [level, expected] of Object.entries(table)) {
      expect(PinoLogger.levelToPino(level as LogLevel.LogLevel)).toBe(expected)
    }
  })

  it("writes each Effect level at the matching pino level", async () => {
    const { lines, logger } = capture({ level: "trace" })
    await runWith(logger, logAtEveryLevel)
    expect(lines.map((line) => [line.msg, line.level])).toEqual(
      severities.map((severity) => [`at ${severity}`, pino.levels.values[PinoLogger.levelToPino(severity)]])
    )
    expect(lines.map((line) => line.level)).toEqual([10, 20, 30, 40, 50, 60])
  })
})

describe("minimum level from pino's level", () => {
  const cases: ReadonlyArray<readonly [pino.LevelWithSilent, LogLevel.LogLevel, ReadonlyArray<string>]> = [
    ["trace", "Trace", ["Trace", "Debug", "Info", "Warn", "Error", "Fatal"]],
    ["debug", "Debug", ["Debug", "Info", "Warn", "Error", "Fatal"]],
    ["info", "Info", ["Info", "Warn", "Error", "Fatal"]],
    ["warn", "Warn", ["Warn", "Error", "Fatal"]],
    ["error", "Error", ["Error", "Fatal"]],
    ["fatal", "Fatal", ["Fatal"]],
    ["silent", "None", []]
  ]
  for (const [pinoLevel, minimum, written] of cases) {
    it(`pino "${pinoLevel}": Effect minimum ${minimum}, lines ${written.join(",") || "none"}`, async () => {
      const { lines, logger } = capture({ level: pinoLevel })
      const seen = await runWith(logger, Effect.andThen(logAtEveryLevel, Effect.service(References.MinimumLogLevel)))
      expect(seen).toBe(minimum)
      expect(lines.map((line) => line.msg)).toEqual(written.map((severity) => `at ${severity}`))
    })
  }

  it("Effect.logDebug is absent at info and present at debug", async () => {
    const atInfo = capture({ level: "info" })
    const atDebug = capture({ level: "debug" })
    await runWith(atInfo.logger, Effect.logDebug("details"))
    await runWith(atDebug.logger, Effect.logDebug("details"))
    expect(atInfo.lines).toEqual([])
    expect(atDebug.lines.map((line) => [line.level, line.msg])).toEqual([[20, "details"]])
  })

  it("rounds a custom pino level up to the next Effect level", () => {
    const logger = pino({ level: "notice", customLevels: { notice: 35 } }, capture().stream)
    expect(PinoLogger.levelFromPino(logger)).toBe("Warn")
    expect(PinoLogger.levelFromPino(pino({ level: "debug" }, capture().stream))).toBe("Debug")
  })
})

// ── line content ────────────────────────────────────────────────────────────

describe("line content", () => {
  it("puts annotations at the top level, spans in `spans`, the fiber id in `fiberId`", async () => {
    const { lines, logger } = capture()
    const fiberId = await runWith(
      logger,
      Effect.gen(function* () {
        yield* TestClock.adjust("150 millis")
        yield* Effect.logInfo("step", "two", 3)
        return yield* Effect.fiberId
      }).pipe(
        Effect.withLogSpan("inner"),
        Effect.annotateLogs({ "job.name": "fetch", attempt: 2 }),
        Effect.withLogSpan("outer"),
        Effect.provide(TestClock.layer())
      )
    )
    expect(lines).toHaveLength(1)
    const [line] = lines
    expect(line.msg).toBe("step two 3")
    expect(line["job.name"]).toBe("fetch")
    expect(line.attempt).toBe(2)
    expect(line.spans).toEqual({ inner: 150, outer: 150 })
    expect(line.fiberId).toBe(`#${fiberId}`)
    expect(line.err).toBeUndefined()
  })

  it("leaves out `spans` when there is none, and pino redaction applies to annotations", async () => {
    const { lines, logger } = capture({ redact: ["password"] })
    await runWith(logger, Effect.logInfo("login").pipe(Effect.annotateLogs({ user: "ada", password: "hunter2" })))
    expect(lines[0]).toMatchObject({ msg: "login", user: "ada", password: "[Redacted]" })
    expect(lines[0]).not.toHaveProperty("spans")
    expect(JSON.stringify(lines)).not.toContain("hunter2")
  })

  it("an annotation named like a field pino writes (level, time, msg, pid, hostname, err) cannot forge it: it is kept as annotation.<name>", async () => {
    const raw: Array<string> = []
    const logger = pino({ level: "info" }, {
      write: (chunk: string) => {
        raw.push(chunk)
      }
    } as never)
    const forged = { level: 30, time: 0, msg: "all good", pid: 1, hostname: "elsewhere" }
    await runWith(logger, Effect.logError("job failed").pipe(Effect.annotateLogs({ ...forged, user: "ada" })))
    // one of each in the text: a JSON parser keeps the last of duplicate keys (the forged one)
    for (const key of Object.keys(forged)) expect(raw[0].match(new RegExp(`"${key}":`, "g"))).toHaveLength(1)
    const line = JSON.parse(raw[0])
    expect(line).toMatchObject({ level: 50, msg: "job failed", user: "ada", pid: process.pid })
    expect(line.time).toBeGreaterThan(0)
    for (const [key, value] of Object.entries(forged)) expect(line[`annotation.${key}`]).toBe(value)
    // an `err` annotation is kept next to the cause's `err` (it was overwritten by it)
    await runWith(
      logger,
      Effect.logError("with a cause", Cause.fail(new Error("real"))).pipe(Effect.annotateLogs({ err: "my note" }))
    )
    expect(JSON.parse(raw[1])).toMatchObject({ err: { message: "real" }, "annotation.err": "my note" })
  })

  it("a child binding or base field named like a field the line has (time, msg, err) cannot overwrite it: it is kept as binding.<name>", async () => {
    const raw: Array<string> = []
    const root = pino({ level: "info", base: { msg: "from base" } }, {
      write: (chunk: string) => {
        raw.push(chunk)
      }
    } as never)
    const logger = root.child({ time: "2020-01-01", err: "bound note", service: "etl" })
    await runWith(logger, Effect.logError("job failed", Cause.fail(new Error("real"))))
    for (const key of ["time", "msg", "err"]) expect(raw[0].match(new RegExp(`"${key}":`, "g"))).toHaveLength(1)
    const line = JSON.parse(raw[0])
    expect(typeof line.time).toBe("number")
    expect(line).toMatchObject({
      msg: "job failed",
      err: { message: "real" },
      service: "etl",
      "binding.time": "2020-01-01",
      "binding.msg": "from base",
      "binding.err": "bound note"
    })
    // the user's logger is left as it was
    expect(logger.bindings()).toMatchObject({ time: "2020-01-01", err: "bound note" })
  })

  it("does not apply printf-style formatting to the message", async () => {
    const { lines, logger } = capture()
    await runWith(logger, Effect.logInfo("100%s done", { id: 1 }))
    expect(lines[0].msg).toBe('100%s done {"id":1}')
  })

  it("replaces Effect's default logger and keeps the tracer logger", async () => {
    const consoleLog = vi.spyOn(console, "log").mockImplementation(() => {})
    const { lines, logger } = capture()
    const loggers = await runWith(
      logger,
      Effect.andThen(Effect.logInfo("only pino"), Effect.service(Logger.CurrentLoggers))
    )
    expect(loggers.has(Logger.defaultLogger)).toBe(false)
    expect(loggers.has(Logger.tracerLogger)).toBe(true)
    expect(loggers.size).toBe(2)
    expect(consoleLog).not.toHaveBeenCalled()
    expect(lines.map((line) => line.msg)).toEqual(["only pino"])
  })

  it("make: joins non-Cause message parts and serializes causes from the parts and the log's cause", async () => {
    const { lines, logger } = capture()
    const effectLogger = PinoLogger.make(logger)
    await Effect.runPromise(
      Effect.withFiber((fiber) =>
        Effect.sync(() =>
          effectLogger.log({
            message: ["a", Cause.fail("typed"), { b: 1 }],
            logLevel: "Warn",
            cause: Cause.die("defect"),
            fiber,
            date: new Date(0)
          })
        )
      )
    )
    expect(lines).toHaveLength(1)
    expect(lines[0].level).toBe(40)
    expect(lines[0].msg).toBe('a {"b":1}')
    expect(lines[0].err.type).toBe("Fail")
    expect(lines[0].err.causes.map((cause: any) => [cause.type, cause.message])).toEqual([
      ["Die", "defect"],
      ["Fail", "typed"]
    ])
  })
})

// ── causes ──────────────────────────────────────────────────────────────────

describe("causes", () => {
  it("serializes a typed failure, a defect and an interruption, told apart by `type`", async () => {
    const { lines, logger } = capture()
    await runWith(
      logger,
      Effect.gen(function* () {
        yield* Effect.logError("typed", yield* causeOf(Effect.fail(new HttpError({ status: 503 }))))
        yield* Effect.logError("plain", yield* causeOf(Effect.fail("no such user")))
        yield* Effect.logError(
          "defect",
          yield* causeOf(
            Effect.sync(() => {
              throw new TypeError("boom")
            })
          )
        )
        const fiber = yield* Effect.forkChild(Effect.never)
        yield* Effect.yieldNow
        yield* Fiber.interrupt(fiber)
        const interrupted = yield* Fiber.await(fiber)
        const self = yield* Effect.fiberId
        yield* Effect.logWarning("interrupted", Exit.isFailure(interrupted) ? interrupted.cause : Cause.empty)
        return self
      })
    )

    const typed = errOf(lines, "typed")
    // a tagged error without a message: its fields are fields of `err`, its message stays its own ("")
    expect(typed).toMatchObject({ type: "Fail", name: "HttpError", status: 503, _tag: "HttpError", message: "" })
    expect(typed.stack).toContain("HttpError")
    expect(typed).not.toHaveProperty("causes")

    const plain = errOf(lines, "plain")
    expect(plain).toMatchObject({ type: "Fail", message: "no such user" })
    expect(plain).not.toHaveProperty("name")

    const defect = errOf(lines, "defect")
    expect(defect).toMatchObject({ type: "Die", name: "TypeError", message: "boom" })
    expect(defect.stack).toMatch(/^TypeError: boom\n\s+at /)
    expect(defect.stack).toContain("PinoLogger.test.ts")

    const interruption = errOf(lines, "interrupted")
    expect(interruption.type).toBe("Interrupt")
    expect(interruption.fiberId).toMatch(/^#\d+$/)
    expect(interruption.message).toBe(`interrupted by fiber ${interruption.fiberId}`)
    expect(interruption.stack).toContain(`at fiber (${interruption.fiberId})`)
    expect(interruption).not.toHaveProperty("causes")
  })

  it("lists nested causes: a failure plus a finalizer's defect", async () => {
    const { lines, logger } = capture()
    await runWith(
      logger,
      Effect.gen(function* () {
        const cause = yield* causeOf(
          Effect.fail(new HttpError({ status: 500 })).pipe(
            Effect.ensuring(Effect.die(new RangeError("finalizer broke")))
          )
        )
        yield* Effect.logError("with finalizer", cause)
      })
    )
    const err = errOf(lines, "with finalizer")
    // effect 4 turns the failure into a defect when a finalizer also fails (`causeElectDefects`)
    expect(err.causes.map((cause: any) => [cause.type, cause.name])).toEqual([
      ["Die", "HttpError"],
      ["Die", "RangeError"]
    ])
    expect(err).toMatchObject({ type: "Die", name: "HttpError" })
    expect(err.stack).toContain("HttpError")
    expect(err.stack).toContain("RangeError: finalizer broke")
    expect(err.causes[1].stack).toMatch(/^RangeError: finalizer broke\n\s+at /)
  })

  it("describes a mixed cause by its failure and lists every reason in order", () => {
    const cause = Cause.combine(
      Cause.combine(Cause.interrupt(7), Cause.die(new Error("crash"))),
      Cause.fail(new HttpError({ status: 429 }))
    )
    const err = PinoLogger.serializeCause(cause)!
    expect(err).toMatchObject({ type: "Fail", name: "HttpError" })
    expect(err.causes?.map((reason) => reason.type)).toEqual(["Interrupt", "Die", "Fail"])
    expect(err.causes?.[0]).toMatchObject({ fiberId: "#7", message: "interrupted by fiber #7" })
    expect(PinoLogger.serializeCause(Cause.empty)).toBeUndefined()
    expect(PinoLogger.serializeCause(Cause.combine(Cause.interrupt(1), Cause.die("x")))?.type).toBe("Die")
  })
})

// ── redaction ───────────────────────────────────────────────────────────────

describe("redaction", () => {
  class AuthError extends Data.TaggedError("AuthError")<{
    readonly config: { readonly headers: { readonly authorization: string } }
    readonly password: string
  }> {}
  const redact = [
    "err.password",
    "err.config.headers.authorization",
    "err.cause.password",
    "err.causes[*].password",
    "err.causes[*].config.headers.authorization",
    "err.causes[*].cause.password"
  ]

  it("leaves out effect's type marks (an UnknownError's ~effect/… field), keeping its _tag and cause", async () => {
    const { lines, logger } = capture({})
    await runWith(
      logger,
      Effect.gen(function* () {
        const cause = yield* causeOf(Effect.tryPromise(() => Promise.reject(new Error("boom"))))
        yield* Effect.logError("unknown", cause)
      })
    )
    const err = errOf(lines, "unknown")
    expect(err).toMatchObject({ name: "UnknownError", _tag: "UnknownError", cause: { message: "boom" } })
    expect(Object.keys(err).filter((key) => key.startsWith("~effect/"))).toEqual([])
  })

  it("keeps an error's own fields as fields of err, where pino's redact paths reach them", async () => {
    const { lines, logger } = capture({ redact })
    const plain = Object.assign(new Error("login failed"), { password: "hunter2", code: "E_AUTH" })
    const nested = new Error("outer", { cause: Object.assign(new Error("inner"), { password: "inner-secret" }) })
    await runWith(
      logger,
      Effect.gen(function* () {
        const tagged = new AuthError({ config: { headers: { authorization: "Bearer abc" } }, password: "p4ss" })
        yield* Effect.logError("tagged", yield* causeOf(Effect.fail(tagged)))
        yield* Effect.logError("plain", yield* causeOf(Effect.die(plain)))
        yield* Effect.logError("object", yield* causeOf(Effect.fail({ password: "obj-secret", user: "ann" })))
        yield* Effect.logError("nested", yield* causeOf(Effect.fail(nested)))
        yield* Effect.logError(
          "two reasons",
          Cause.combine(Cause.fail(plain), Cause.die(Object.assign(new Error("second"), { password: "second-secret" })))
        )
      })
    )
    const text = JSON.stringify(lines)
    for (const secret of ["Bearer abc", "p4ss", "hunter2", "obj-secret", "inner-secret", "second-secret"])
      expect(text).not.toContain(secret)
    expect(errOf(lines, "tagged")).toMatchObject({
      name: "AuthError",
      message: "",
      password: "[Redacted]",
      config: { headers: { authorization: "[Redacted]" } }
    })
    expect(errOf(lines, "plain")).toMatchObject({ message: "login failed", code: "E_AUTH", password: "[Redacted]" })
    expect(errOf(lines, "object")).toMatchObject({ type: "Fail", message: "", user: "ann", password: "[Redacted]" })
    expect(errOf(lines, "nested").cause).toMatchObject({ message: "inner", password: "[Redacted]" })
    // the primary reason's fields are err's (redacted above by err.password), not repeated in causes
    expect(errOf(lines, "two reasons").password).toBe("[Redacted]")
    expect(errOf(lines, "two reasons").causes.map((c: any) => c.password)).toEqual([undefined, "[Redacted]"])
  })

  it("redact paths on err alone cover the failing error when a finalizer's defect joins it (its fields are not repeated in causes)", async () => {
    const { lines, logger } = capture({ redact: ["err.password", "err.config.headers.authorization"] })
    const secret = Object.assign(new Error("login failed"), {
      password: "hunter2",
      config: { headers: { authorization: "Bearer s3cr3t" } }
    })
    await runWith(
      logger,
      Effect.logError("two reasons", Cause.combine(Cause.fail(secret), Cause.die(new Error("cleanup failed"))))
    )
    const text = JSON.stringify(lines)
    expect(text).not.toContain("hunter2")
    expect(text).not.toContain("s3cr3t")
    const err = errOf(lines, "two reasons")
    expect(err.causes.map((c: any) => [c.type, c.message])).toEqual([
      ["Fail", "login failed"],
      ["Die", "cleanup failed"]
    ])
  })

  it("property: a secret at a redact path never appears, whatever the error's shape and the kind of reason", async () => {
    const secret = "S3CR3T-VALUE"
    const shape = fc.constantFrom("tagged", "error", "object", "nested", "fieldsOnly")
    const make = (kind: string, extra: Record<string, unknown>): unknown => {
      const fields = { password: secret, config: { headers: { authorization: secret } }, ...extra }
      switch (kind) {
        case "tagged":
          return new AuthError(fields as any)
        case "error":
          return Object.assign(new Error("request failed"), fields)
        case "object":
          return { ...fields }
        case "nested":
          return Object.assign(
            new Error("wrapper", { cause: Object.assign(new Error("inner"), { password: secret }) }),
            extra
          )
        default:
          return Object.assign(Object.create(null), fields)
      }
    }
    const reason = fc.record({
      kind: shape,
      asDefect: fc.boolean(),
      extra: fc.dictionary(
        fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !/password|config|cause|stack|message|name/.test(k)),
        fc.oneof(
          fc.integer(),
          fc.string({ maxLength: 8 }).filter((v) => !v.includes("S3CR"))
        ),
        { maxKeys: 3 }
      )
    })
    await fc.assert(
      fc.asyncProperty(fc.array(reason, { minLength: 1, maxLength: 3 }), fc.boolean(), async (reasons, interrupted) => {
        const { lines, logger } = capture({ redact })
        let cause: Cause.Cause<unknown> = interrupted ? Cause.interrupt(3) : Cause.empty
        for (const [seq, r] of reasons.entries()) {
          const error = make(r.kind, { ...r.extra, seq }) // distinct: equal reasons would be merged
          cause = Cause.combine(cause, r.asDefect ? Cause.die(error) : Cause.fail(error))
        }
        await runWith(logger, Effect.logError("failed", cause))
        expect(lines).toHaveLength(1)
        expect(JSON.stringify(lines[0])).not.toContain("S3CR3T")
        // the reasons' entries (a cause of a reason is an entry too, with `causeOf` and no `type`)
        const written = lines[0].err.causes?.filter((entry: any) => entry.type !== undefined).length || 1
        expect(written).toBe(reasons.length + (interrupted ? 1 : 0))
      }),
      { numRuns: 200 }
    )
  })
})

describe("hostile errors", () => {
  it("a getter that throws, a throwing Proxy and a cycle of causes cost a field, never the line", async () => {
    const { lines, logger } = capture()
    const throwingGetter = (field: string) =>
      Object.defineProperty(Object.assign(new Error("hidden"), { code: "E1" }), field, {
        get() {
          throw new Error(`${field} getter boom`)
        }
      })
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error("proxy get boom")
        },
        ownKeys() {
          throw new Error("proxy keys boom")
        }
      }
    )
    const looped: Error & { cause?: unknown } = new Error("looped")
    looped.cause = new Error("inner", { cause: looped })
    await runWith(
      logger,
      Effect.gen(function* () {
        yield* Effect.logError("message", Cause.fail(throwingGetter("message")))
        yield* Effect.logError("name", Cause.die(throwingGetter("name")))
        yield* Effect.logError("field", Cause.fail(throwingGetter("code")))
        yield* Effect.logError("cause", Cause.fail(throwingGetter("cause")))
        yield* Effect.logError("proxy", Cause.fail(hostile))
        yield* Effect.logError("proxy cause", Cause.fail(new Error("outer", { cause: hostile })))
        yield* Effect.logError("looped", Cause.die(looped))
      })
    )
    expect(lines.map((l) => l.msg)).toEqual(["message", "name", "field", "cause", "proxy", "proxy cause", "looped"])
    expect(errOf(lines, "message")).toMatchObject({ type: "Fail", name: "Error", message: "[unreadable]", code: "E1" })
    expect(errOf(lines, "name")).toMatchObject({ type: "Die", message: "hidden", code: "E1" })
    expect(errOf(lines, "name").name).toBe("[unreadable]")
    expect(errOf(lines, "field")).toMatchObject({ message: "hidden", code: "[unreadable]" })
    expect(errOf(lines, "cause")).toMatchObject({ message: "hidden", cause: "[unreadable]" })
    expect(errOf(lines, "proxy")).toMatchObject({ type: "Fail", message: "[unreadable]" })
    expect(errOf(lines, "proxy cause")).toMatchObject({ message: "outer", cause: { message: "[unreadable]" } })
    expect(errOf(lines, "looped").cause).toMatchObject({ message: "inner", cause: "[Circular]" })
    expect(PinoLogger.lostLines(logger)).toBe(0)
  })

  it("hostile values inside an error's fields (a nested getter, toJSON or Proxy that throws, an own toJSON, a cycle) cost that value, never the line or the rest of err", async () => {
    const { lines, logger } = capture({ redact: ["err.config.headers.authorization"] })
    const nested = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields)
    const config: Record<string, unknown> = { url: "/records/3", headers: { authorization: "Bearer SECRET" } }
    config.self = config
    await runWith(
      logger,
      Effect.gen(function* () {
        yield* Effect.logError(
          "getter",
          Cause.fail(
            nested("nested getter", {
              config: Object.defineProperty({ url: "/x" }, "headers", {
                enumerable: true,
                get() {
                  throw new Error("headers getter boom")
                }
              })
            })
          )
        )
        const toJSONThrows = () => {
          throw new Error("toJSON boom")
        }
        yield* Effect.logError(
          "toJSON",
          Cause.fail(nested("nested toJSON", { response: { status: 503, toJSON: toJSONThrows } }))
        )
        yield* Effect.logError("own toJSON", Cause.die(nested("own toJSON", { code: "E2", toJSON: () => ({}) })))
        const trap = () => {
          throw new Error("trap boom")
        }
        yield* Effect.logError(
          "proxy",
          Cause.fail(nested("nested proxy", { config: new Proxy({}, { get: trap, ownKeys: trap }) }))
        )
        yield* Effect.logError("cycle", Cause.fail(nested("nested cycle", { config, when: new Date(0) })))
      })
    )
    expect(lines.map((l) => l.msg)).toEqual(["getter", "toJSON", "own toJSON", "proxy", "cycle"])
    expect(errOf(lines, "getter")).toMatchObject({
      message: "nested getter",
      config: { url: "/x", headers: "[unreadable]" }
    })
    expect(errOf(lines, "toJSON")).toMatchObject({ type: "Fail", message: "nested toJSON", response: "[unreadable]" })
    expect(errOf(lines, "own toJSON")).toMatchObject({ type: "Die", message: "own toJSON", code: "E2" })
    expect(errOf(lines, "proxy")).toMatchObject({ message: "nested proxy", config: {} })
    const cycle = errOf(lines, "cycle")
    expect(cycle).toMatchObject({ message: "nested cycle", when: "1970-01-01T00:00:00.000Z" })
    expect(cycle.config).toEqual({ url: "/records/3", headers: { authorization: "[Redacted]" }, self: "[Circular]" })
    expect(JSON.stringify(lines)).not.toContain("SECRET")
    expect(PinoLogger.lostLines(logger)).toBe(0)
  })
})

// ── write failures ──────────────────────────────────────────────────────────

describe("write failures", () => {
  /** A destination whose `write` throws while `failing()` says so; `written` holds the lines it took. */
  const flaky = (failing: () => boolean) => {
    const written: Array<Line> = []
    const stream = {
      write(chunk: string) {
        if (failing()) throw Object.assign(new Error("write EPIPE"), { code: "EPIPE" })
        for (const text of chunk.split("\n")) if (text !== "") written.push(JSON.parse(text))
        return true
      }
    }
    return { written, logger: pino({ level: "info" }, stream) }
  }

  it("loses and counts the line a throwing write refused, reports the burst once, and goes on", async () => {
    const reports = stderrLines()
    let failures = 1
    const { written, logger } = flaky(() => failures-- > 0)
    await runWith(
      logger,
      Effect.gen(function* () {
        yield* Effect.logInfo("lost")
        yield* Effect.logInfo("kept 1")
        yield* Effect.logInfo("kept 2")
      })
    )
    expect(written.map((l) => l.msg)).toEqual(["kept 1", "kept 2"])
    expect(PinoLogger.lostLines(logger)).toBe(1)
    expect(reports).toHaveLength(2)
    expect(reports[0]).toContain("write EPIPE")
    expect(reports[1]).toContain("1 line was lost")
  })

  it("a write that throws an error whose name getter throws: the line is lost and counted, the log call returns, the report still goes out", async () => {
    const reports = stderrLines()
    const hostile = new Error("x")
    Object.defineProperty(hostile, "name", {
      get() {
        throw new Error("name getter threw")
      }
    })
    const logger = pino(
      { level: "info" },
      {
        write() {
          throw hostile
        }
      }
    )
    expect(await runWith(logger, Effect.as(Effect.logInfo("lost"), "returned"))).toBe("returned")
    expect(PinoLogger.lostLines(logger)).toBe(1)
    expect(reports).toHaveLength(1)
    expect(reports[0]).toContain("an unprintable error")
  })

  it("a destination that always throws: every log call returns, one report for the whole burst", async () => {
    const reports = stderrLines()
    const { written, logger } = flaky(() => true)
    const result = await runWith(
      logger,
      Effect.gen(function* () {
        for (let i = 0; i < 50; i++) yield* Effect.logError("nobody hears this", Cause.fail("x"))
        return "finished"
      })
    )
    expect(result).toBe("finished")
    expect(written).toEqual([])
    expect(PinoLogger.lostLines(logger)).toBe(50)
    expect(reports).toHaveLength(1)
  })

  /** Resolves once `stream` has closed (a Node stream closes after the error that destroyed it). */
  const closed = (stream: { readonly closed: boolean; once(event: "close", f: () => void): unknown }): Promise<void> =>
    new Promise((resolve) => (stream.closed ? resolve() : stream.once("close", () => resolve())))

  it("a write that fails after it returned (a Writable calling back with an error) is lost, counted and reported once per burst, like a throw", async () => {
    const reports = stderrLines()
    const written: Array<string> = []
    let writes = 0
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        // the second line fails asynchronously, as a socket or a file does
        if (++writes === 2)
          setImmediate(() => callback(Object.assign(new Error("write ECONNRESET"), { code: "ECONNRESET" })))
        else {
          written.push(JSON.parse(String(chunk)).msg)
          setImmediate(callback)
        }
      }
    })
    const logger = pino({ level: "info" }, stream)
    const result = await runWith(
      logger,
      Effect.gen(function* () {
        for (let i = 1; i <= 5; i++) yield* Effect.logInfo(`line ${i}`)
        // the failed write destroyed the stream: a line written after it cannot reach it either
        yield* Effect.promise(() => closed(stream))
        yield* Effect.logInfo("line 6")
        return "finished"
      })
    )
    expect(result).toBe("finished")
    expect(written).toEqual(["line 1"])
    expect(PinoLogger.lostLines(logger)).toBe(5)
    expect(reports).toHaveLength(1)
    expect(reports[0]).toContain("write ECONNRESET")
  })

  it("a real socket whose peer resets the connection: the lines written after it are counted as lost, one report naming the reset, no crash", async () => {
    const reports = stderrLines()
    const received: Array<string> = []
    const server = createServer((peer) => {
      peer.once("data", (chunk) => {
        received.push(JSON.parse(String(chunk)).msg)
        peer.resetAndDestroy()
      })
    })
    server.listen(0, "127.0.0.1")
    await once(server, "listening")
    const socket = connect((server.address() as AddressInfo).port, "127.0.0.1")
    await once(socket, "connect")
    const logger = pino({ level: "info" }, socket)
    try {
      await runWith(
        logger,
        Effect.gen(function* () {
          yield* Effect.logInfo("before the reset")
          yield* Effect.promise(() => closed(socket))
          yield* Effect.logInfo("after the reset 1")
          yield* Effect.logInfo("after the reset 2")
        })
      )
    } finally {
      server.close()
    }
    expect(received).toEqual(["before the reset"])
    expect(PinoLogger.lostLines(logger)).toBe(2)
    expect(reports).toHaveLength(1)
    expect(reports[0]).toContain("ECONNRESET")
  })

  it.skipIf(!existsSync("/dev/full"))(
    "a real file stream on a full disk (/dev/full: ENOSPC after the write returned): every line counted as lost, one report, no crash",
    async () => {
      const reports = stderrLines()
      const stream = createWriteStream("/dev/full")
      await once(stream, "open")
      const logger = pino({ level: "info" }, stream)
      await runWith(
        logger,
        Effect.gen(function* () {
          for (let i = 1; i <= 20; i++) yield* Effect.logInfo(`line ${i}`)
        })
      )
      await closed(stream)
      expect(PinoLogger.lostLines(logger)).toBe(20)
      expect(reports).toHaveLength(1)
      expect(reports[0]).toContain("ENOSPC")
    }
  )

  it.skipIf(!existsSync("/dev/full"))(
    "a sonic-boom file destination on a full disk: the lines it still holds when the layer closes are dropped, reported and counted",
    async () => {
      const reports = stderrLines()
      const destination = pino.destination({ dest: "/dev/full", sync: true })
      const logger = pino({ level: "info" }, destination)
      await runWith(
        logger,
        Effect.gen(function* () {
          for (let i = 1; i <= 3; i++) yield* Effect.logInfo(`line ${i}`)
        })
      )
      expect(PinoLogger.lostLines(logger)).toBe(3)
      expect(reports.filter((r) => r.includes("failed to write (ENOSPC"))).toHaveLength(1)
      expect(reports.filter((r) => r.includes("(3 lines) could not be written at the end"))).toHaveLength(1)
      destination.destroy()
    }
  )

  it("writeUnsafe writes a line outside Effect as make does: annotations as fields (time kept as annotation.time), the cause as err, a failed write counted", () => {
    const raw: Array<string> = []
    let failing = false
    const logger = pino({ level: "info" }, {
      write: (chunk: string) => {
        if (failing) throw new Error("write EPIPE")
        raw.push(chunk)
      }
    } as never)
    PinoLogger.writeUnsafe(logger, "fatal", "stuck", { "job.name": "sync", time: 5 }, Cause.die(new TypeError("boom")))
    expect(raw[0].match(/"time":/g)).toHaveLength(1)
    const line = JSON.parse(raw[0])
    expect(typeof line.time).toBe("number")
    expect(line).toMatchObject({
      level: 60,
      msg: "stuck",
      "job.name": "sync",
      "annotation.time": 5,
      err: { type: "Die", name: "TypeError", message: "boom" }
    })
    // bindings set later are on the next line, a `time` among them kept apart from the line's own
    logger.setBindings({ region: "eu", time: "later" })
    PinoLogger.writeUnsafe(logger, "info", "after setBindings")
    expect(raw[1].match(/"time":/g)).toHaveLength(1)
    expect(JSON.parse(raw[1])).toMatchObject({ region: "eu", "binding.time": "later", time: expect.any(Number) })
    const reports = stderrLines()
    failing = true
    expect(() => PinoLogger.writeUnsafe(logger, "error", "lost")).not.toThrow()
    expect(PinoLogger.lostLines(logger)).toBe(1)
    expect(reports[0]).toContain("write EPIPE")
  })

  it("writeUnsafe with a level that is not pino's: the line is counted lost and the reason reported, never thrown", () => {
    const { logger } = capture({ level: "info" })
    const reports = stderrLines()
    expect(() => PinoLogger.writeUnsafe(logger, "warning" as never, "m")).not.toThrow()
    expect(PinoLogger.lostLines(logger)).toBe(1)
    expect(reports.join("")).toContain(
      'Invalid PinoLogger.writeUnsafe level: expected one of trace, debug, info, warn, error, fatal, received "warning"'
    )
  })

  it("contains a logger that throws (a throwing formatter)", async () => {
    const reports = stderrLines()
    let calls = 0
    const { lines, logger } = capture({
      formatters: {
        log: (object: Record<string, unknown>) => {
          if (calls++ === 0) throw new TypeError("formatter bug")
          return object
        }
      }
    })
    await runWith(logger, Effect.andThen(Effect.logInfo("first"), Effect.logInfo("second")))
    expect(lines.map((l) => l.msg)).toEqual(["second"])
    expect(PinoLogger.lostLines(logger)).toBe(1)
    expect(reports[0]).toContain("TypeError: formatter bug")
  })

  it("the layer's flush survives a destination whose flush throws", async () => {
    const { logger } = capture()
    vi.spyOn(logger, "flush").mockImplementation(() => {
      throw new Error("flush EPIPE")
    })
    expect(await runWith(logger, Effect.succeed(7))).toBe(7)
  })
})

// ── flush ───────────────────────────────────────────────────────────────────

describe("flush", () => {
  it("flushes the pino logger when the layer's scope closes, not before", async () => {
    const { logger } = capture()
    const flush = vi.spyOn(logger, "flush")
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          yield* Layer.build(PinoLogger.layer(logger))
          expect(flush).not.toHaveBeenCalled()
        })
      )
    )
    expect(flush).toHaveBeenCalledTimes(1)
    expect(flush.mock.calls[0][0]).toBeTypeOf("function")
  })

  it("waits for the flush callback before the scope is closed", async () => {
    const { logger } = capture()
    let done: (() => void) | undefined
    vi.spyOn(logger, "flush").mockImplementation((callback?: (error?: Error) => void) => {
      done = () => callback?.()
    })
    await Effect.runPromise(
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        yield* Layer.buildWithScope(PinoLogger.layer(logger), scope)
        const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
        yield* Effect.yieldNow
        yield* Effect.yieldNow
        expect(done).toBeTypeOf("function")
        expect(closing.pollUnsafe()).toBeUndefined()
        done!()
        yield* Fiber.join(closing)
        expect(closing.pollUnsafe()).toBeDefined()
      })
    )
  })

  it("a transport whose worker fails (its file cannot be opened): the failure is reported on stderr, nothing crashes, and closing the layer does not wait for a flush that never comes", async () => {
    const reports = stderrLines()
    const destination = join(tempFile(), "..", "no-such-folder", "out.log")
    const logger = pino({ level: "info", transport: { target: "pino/file", options: { destination } } })
    const transport = (logger as any)[pino.symbols.streamSym]
    const result = await runWith(
      logger,
      Effect.gen(function* () {
        yield* Effect.logInfo("lost")
        // the worker dies of its open error: wait for it, deterministically — for its 'close' and its
        // 'error' both, as thread-stream can emit the close (after the worker's end) before the error
        yield* Effect.promise(() =>
          Promise.all([
            new Promise((closed) => transport.once("close", closed)),
            new Promise((failed) => transport.once("error", failed))
          ])
        )
        yield* Effect.logInfo("after the worker died")
        return "closed"
      })
    )
    expect(result).toBe("closed")
    expect(reports.filter((r) => r.includes("the pino transport failed"))).toHaveLength(1)
    expect(reports.join("")).toContain("ENOENT")
  })

  it("an asynchronous sonic-boom destination keeps the lines in order when the layer closes during a write", async () => {
    const file = tempFile()
    const destination = pino.destination({ dest: file, sync: false }) // minLength 0: its flush returns at once
    await once(destination, "ready")
    const logger = pino({ level: "info" }, destination)
    // in one synchronous run: line 1 goes out in an asynchronous write, 2 and 3 wait behind it, the
    // layer closes; sonic-boom's count of bytes not written yet (`_len`) is read before and after
    // the close, before the write in flight can complete
    const pending = () => (destination as unknown as { _len: number })._len
    const [beforeClose, afterClose] = await Effect.runPromise(
      Effect.gen(function* () {
        const before = yield* Effect.gen(function* () {
          for (const msg of ["1", "2", "3"]) yield* Effect.logInfo(msg)
          return pending()
        }).pipe(Effect.provide(PinoLogger.layer(logger)))
        return [before, pending()] as const
      })
    )
    // the close wrote nothing past the write in flight (lines 2 and 3 written at once could land before 1)
    expect(afterClose).toBe(beforeClose)
    const lines = async (): Promise<Array<string>> => {
      for (let turn = 0; turn < 1000; turn++) {
        const text = readFileSync(file, "utf8")
        if (text.split("\n").length > 3) return text.trim().split("\n")
        await new Promise((resolve) => setImmediate(resolve))
      }
      return readFileSync(file, "utf8").trim().split("\n")
    }
    expect((await lines()).map((line) => JSON.parse(line).msg)).toEqual(["1", "2", "3"])
    destination.destroy()
  })

  it("writes lines a sonic-boom destination held back once the layer closes", async () => {
    const file = tempFile()
    const destination = pino.destination({ dest: file, sync: false, minLength: 4096 })
    await once(destination, "ready")
    const logger = pino({ level: "info" }, destination)
    const before = await runWith(
      logger,
      Effect.andThen(
        Effect.logInfo("buffered line"),
        Effect.sync(() => readFileSync(file, "utf8"))
      )
    )
    expect(before).toBe("")
    const after = readFileSync(file, "utf8")
    expect(JSON.parse(after.trim())).toMatchObject({ msg: "buffered line", level: 30 })
    destination.destroy()
  })
})

// ── configuration ───────────────────────────────────────────────────────────

describe("configuration", () => {
  const refusal = (build: () => unknown): PinoLoggerConfigError => {
    let caught: unknown
    try {
      build()
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(PinoLoggerConfigError)
    expect((caught as PinoLoggerConfigError)._tag).toBe("PinoLoggerConfigError")
    return caught as PinoLoggerConfigError
  }

  it("refuses pino.destination({ sync: true, minLength > 0 })", () => {
    const destination = pino.destination({ dest: tempFile(), sync: true, minLength: 4096 })
    const error = refusal(() => PinoLogger.layer(pino(destination)))
    expect(error.argument).toBe("destination")
    expect(error.reason).toBe("sync destination with minLength")
    expect(error.message).toContain("minLength: 4096")
    destination.destroy()
  })

  it("the refusal is an effect tagged error: yielded in Effect.gen it fails the effect, and Effect.catchTag matches it", async () => {
    const error = refusal(() => PinoLogger.layer({ level: "loud" }))
    const caught = await Effect.runPromise(
      Effect.gen(function* () {
        return yield* error
      }).pipe(Effect.catchTag("PinoLoggerConfigError", (e) => Effect.succeed(e)))
    )
    expect(caught).toBe(error)
    expect(caught.name).toBe("PinoLoggerConfigError")
    expect(caught.message).toMatch(/^Invalid PinoLogger\.layer level: expected one of .*, received "loud"$/)
    expect(caught.argument).toBe("level")
    expect(caught.value).toBe("loud")
  })

  it("refuses a destination with maxLength, which drops lines", () => {
    const destination = pino.destination({ dest: tempFile(), sync: true, maxLength: 1024 })
    expect(refusal(() => PinoLogger.layer(pino(destination))).reason).toBe("destination with maxLength")
    destination.destroy()
  })

  it("takes a synchronous destination again after a layer bounded what it holds (the bound is not the caller's maxLength)", async () => {
    const destination = pino.destination({ dest: tempFile(), sync: true })
    const logger = pino(destination)
    for (let i = 0; i < 2; i++)
      await Effect.runPromise(
        Effect.scoped(Effect.flatMap(Layer.build(PinoLogger.layer(logger)), () => Effect.logInfo(`layer ${i}`)))
      )
    expect(PinoLogger.resolve(logger)).toBe(logger)
    destination.destroy()
  })

  it("finds a lossy destination inside a multistream", () => {
    const good = capture().stream
    const bad = pino.destination({ dest: tempFile(), sync: true, minLength: 100 })
    const logger = pino({ level: "info" }, pino.multistream([{ stream: good }, { stream: bad }]))
    expect(refusal(() => PinoLogger.layer(logger)).reason).toBe("sync destination with minLength")
    bad.destroy()
  })

  it("refuses a destroyed stream", () => {
    const { logger, stream } = capture()
    stream.destroy()
    expect(refusal(() => PinoLogger.layer(logger)).reason).toBe("closed destination")
  })

  it("a file destination that cannot be opened: building the layer dies with PinoLoggerConfigError naming the error", async () => {
    const missing = join(tempFile(), "..", "no-such-folder", "out.log")
    const destination = pino.destination(missing) // opens on a later tick
    const exit = await Effect.runPromiseExit(
      Effect.logInfo("never written").pipe(Effect.provide(PinoLogger.layer(pino(destination))))
    )
    const defect = Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined
    expect(defect).toBeInstanceOf(PinoLoggerConfigError)
    expect((defect as PinoLoggerConfigError).reason).toBe("destination cannot be opened")
    expect((defect as PinoLoggerConfigError).argument).toBe("destination")
    expect((defect as PinoLoggerConfigError).message).toContain("ENOENT")
    expect((defect as PinoLoggerConfigError).message).toContain("no-such-folder")
    // pino's exit hook skips a destroyed destination (it would throw "sonic boom is not ready yet")
    expect((destination as unknown as { destroyed: boolean }).destroyed).toBe(true)
  })

  it("a file destination whose open already failed is refused at once", async () => {
    const destination = pino.destination(join(tempFile(), "..", "no-such-folder", "out.log"))
    const [error] = await once(destination, "error")
    expect(error.code).toBe("ENOENT")
    expect(refusal(() => PinoLogger.layer(pino(destination))).reason).toBe("destination not open")
    expect((destination as unknown as { destroyed: boolean }).destroyed).toBe(true)
  })

  it("refuses a level that is not a pino level, naming the option, the value and the levels there are", () => {
    for (const level of ["warning", "verbose", 5, ""]) {
      const error = refusal(() => PinoLogger.layer({ level } as never))
      expect(error.reason).toBe("invalid options")
      expect(error.message).toContain(
        `level: expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent"`
      )
      expect(error.message).toContain(`received ${JSON.stringify(level)}`)
      expect(error).toMatchObject({ argument: "level", value: level })
    }
    // PinoLogger.resolve names itself
    expect(refusal(() => PinoLogger.resolve({ level: "verbose" })).message).toMatch(
      /^Invalid PinoLogger\.resolve level: /
    )
    const custom = refusal(() => PinoLogger.layer({ level: "chatty", customLevels: { audit: 35 } }))
    expect(custom.message).toContain('"audit"')
    // pino reads a level in any case, and a custom level is a level
    expect(Layer.isLayer(PinoLogger.layer({ level: "WARN" }))).toBe(true)
    expect(Layer.isLayer(PinoLogger.layer({ level: "audit", customLevels: { audit: 35 } }))).toBe(true)
  })

  it("refuses an option pino does not know (pino would ignore a misspelt one), naming the one meant", () => {
    const error = refusal(() => PinoLogger.layer({ levle: "debug" } as never))
    expect(error).toMatchObject({ argument: "levle", value: "debug", reason: "invalid options" })
    expect(error.message).toMatch(
      /^Invalid PinoLogger\.layer levle: expected a known option \(did you mean level\?\); the known ones are level, name, /
    )
    expect(error.expected).toContain("did you mean level?")
    expect(refusal(() => PinoLogger.resolve({ redcat: ["password"] } as never)).message).toMatch(
      /^Invalid PinoLogger\.resolve redcat: expected a known option \(did you mean redact\?\)/
    )
    // every option pino documents is taken
    const known = {
      level: "info",
      name: "n",
      base: null,
      redact: ["a"],
      serializers: {},
      formatters: {},
      hooks: {},
      mixin: () => ({}),
      mixinMergeStrategy: (a: object, b: object) => ({ ...a, ...b }),
      timestamp: false,
      messageKey: "msg",
      errorKey: "err",
      nestedKey: "payload",
      msgPrefix: "[x] ",
      customLevels: { audit: 35 },
      useOnlyCustomLevels: false,
      levelComparison: "ASC",
      enabled: true,
      safe: true,
      depthLimit: 5,
      edgeLimit: 100,
      onChild: () => {},
      crlf: false
    }
    expect(Layer.isLayer(PinoLogger.layer(known as never))).toBe(true)
    // a destination stream given alone is pino's too (it makes a logger writing there), not options
    const lines: Array<string> = []
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk))
        callback()
      }
    })
    PinoLogger.resolve(stream as never).info("through the stream")
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(["through the stream"])
    // an option pino refuses itself keeps pino's word for it
    expect(refusal(() => PinoLogger.layer({ prettyPrint: true } as never)).message).toContain("pino-pretty")
  })

  it("refuses options pino rejects, keeping pino's error as the cause", () => {
    const error = refusal(() => PinoLogger.layer({ mixin: 5 } as never))
    expect(error.reason).toBe("invalid options")
    expect(error.argument).toBe("options")
    expect(error.message).toContain('Unknown mixin type "number"')
    expect(error.cause).toBeInstanceOf(Error)
    expect("value" in error).toBe(false) // no argument of its own refused: pino refused the options
  })

  it("refuses what is neither a pino logger nor pino's options: a string (pino would take it for a file path), another logger, a number", () => {
    const cwdBefore = new Set(readdirSync(process.cwd()))
    for (const value of ["debug", console, 5, true, null, ["info"], () => {}]) {
      const error = refusal(() => PinoLogger.layer(value as never))
      expect(error.reason).toBe("not a pino logger or options")
      expect(error.argument).toBe("logger")
      expect(error.message).toContain("logger")
    }
    expect(refusal(() => PinoLogger.layer("debug" as never)).message).toBe(
      'Invalid PinoLogger.layer logger: expected a pino logger or pino\'s options (an object such as { level: "debug" }), received "debug"'
    )
    const other = refusal(() => PinoLogger.layer(console as never))
    expect(other.value).toBe(console)
    expect(other.message).toContain("received a logger that is not pino (it has info/error methods)")
    // nothing was made: pino("debug") would have opened ./debug for writing
    expect(readdirSync(process.cwd()).filter((f) => !cwdBefore.has(f))).toEqual([])
  })

  it("refuses a logger without pino's standard levels", () => {
    const logger = pino({ level: "loud", customLevels: { loud: 35 }, useOnlyCustomLevels: true }, capture().stream)
    const error = refusal(() => PinoLogger.make(logger))
    expect(error.reason).toBe("missing standard level")
    expect(error.argument).toBe("logger")
  })

  it("accepts sync and async destinations that keep every line", () => {
    const sync = pino.destination({ dest: tempFile(), sync: true })
    const async = pino.destination({ dest: tempFile(), sync: false, minLength: 4096 })
    expect(Layer.isLayer(PinoLogger.layer(pino(sync)))).toBe(true)
    expect(Layer.isLayer(PinoLogger.layer(pino(async)))).toBe(true)
    sync.destroy()
    async.destroy()
  })

  it("builds a logger from options, with its level as Effect's minimum", async () => {
    const [minimum, loggers] = await Effect.runPromise(
      Effect.all([Effect.service(References.MinimumLogLevel), Effect.service(Logger.CurrentLoggers)]).pipe(
        Effect.provide(PinoLogger.layer({ level: "debug" }))
      )
    )
    expect(minimum).toBe("Debug")
    expect(loggers.has(Logger.defaultLogger)).toBe(false)
    expect(loggers.size).toBe(2)
  })
})

// ── cause chains ────────────────────────────────────────────────────────────

describe("cause chains", () => {
  /** The three paths docs/production.md gives for a secret field ("at all three places"). */
  const documented = ["err.password", "err.cause.password", "err.causes[*].password"]
  const secret = "S3CR3T-IN-CHAIN"
  const withSecret = (message: string): Error => Object.assign(new Error(message), { password: secret })
  /** `leaf` wrapped `depth` times: the outermost error's chain of causes is `depth` long. */
  const wrapped = (leaf: unknown, depth: number): Error => {
    let error: unknown = leaf
    for (let i = depth - 1; i >= 0; i--) error = new Error(`wrap ${i}`, { cause: error })
    return error as Error
  }
  class ClientError extends Data.TaggedError("ClientError")<{ readonly user: string; readonly cause: unknown }> {}

  /** Every place an entry of `err.causes` names in `causeOf` is written in the same `err`. */
  const expectFlat = (err: any): void => {
    const places = new Set(["err", ...(err.cause !== undefined ? ["err.cause"] : [])])
    for (const [i, entry] of (err.causes ?? []).entries()) {
      if (entry.causeOf !== undefined) expect(places.has(entry.causeOf)).toBe(true)
      places.add(`err.causes[${i}]`)
    }
    // no object is nested inside a cause: a `cause` field only ever holds a value that is not one
    for (const holder of [err, err.cause, ...(err.causes ?? [])])
      if (holder !== null && typeof holder === "object" && holder !== err)
        expect(typeof holder.cause === "object" && holder.cause !== null).toBe(false)
  }

  it("the documented paths redact a secret at any depth: a cause's cause, depth 10, the cause of a second reason, a plain object's chain, a tagged error's chain", async () => {
    const { lines, logger } = capture({ redact: documented })
    await runWith(
      logger,
      Effect.gen(function* () {
        yield* Effect.logError("grandcause", Cause.fail(wrapped(withSecret("deep"), 2)))
        yield* Effect.logError("depth 10", Cause.fail(wrapped(withSecret("deep"), 10)))
        yield* Effect.logError(
          "second reason",
          Cause.combine(Cause.fail(new Error("first")), Cause.die(wrapped(withSecret("deep"), 1)))
        )
        yield* Effect.logError(
          "second reason, deeper",
          Cause.combine(Cause.fail(new Error("first")), Cause.die(wrapped(withSecret("deep"), 3)))
        )
        yield* Effect.logError(
          "objects",
          Cause.fail({ message: "m", cause: { cause: { cause: { password: secret } } } })
        )
        yield* Effect.logError(
          "tagged",
          Cause.fail(new ClientError({ user: "ann", cause: new Error("http 401", { cause: withSecret("request") }) }))
        )
      })
    )
    expect(lines).toHaveLength(6)
    expect(JSON.stringify(lines)).not.toContain(secret)
    for (const line of lines) expectFlat(line.err)
    // where each secret was: now "[Redacted]", with the entry naming whose cause it is
    expect(errOf(lines, "grandcause").causes).toMatchObject([
      { causeOf: "err.cause", message: "deep", password: "[Redacted]" }
    ])
    expect(errOf(lines, "depth 10").causes.at(-1)).toMatchObject({
      causeOf: "err.causes[7]",
      message: "deep",
      password: "[Redacted]"
    })
    expect(errOf(lines, "second reason").causes.map((c: any) => [c.type, c.causeOf, c.message, c.password])).toEqual([
      ["Fail", undefined, "first", undefined],
      ["Die", undefined, "wrap 0", undefined],
      [undefined, "err.causes[1]", "deep", "[Redacted]"]
    ])
    expect(errOf(lines, "second reason, deeper").causes.map((c: any) => c.causeOf)).toEqual([
      undefined,
      undefined,
      "err.causes[1]",
      "err.causes[2]",
      "err.causes[3]"
    ])
    expect(errOf(lines, "objects").causes.at(-1)).toEqual({
      causeOf: "err.causes[0]",
      message: "",
      password: "[Redacted]"
    })
    const tagged = errOf(lines, "tagged")
    expect(tagged).toMatchObject({ name: "ClientError", user: "ann", cause: { message: "http 401" } })
    expect(tagged.causes).toMatchObject([{ causeOf: "err.cause", message: "request", password: "[Redacted]" }])
  })

  it("serializeCause writes every cause once, flat, in chain order; a cycle ends in [Circular] as the last cause's cause", () => {
    const a: Error & { cause?: unknown } = new Error("a")
    const b: Error & { cause?: unknown } = new Error("b")
    a.cause = b
    b.cause = new Error("c", { cause: a })
    const err = PinoLogger.serializeCause(Cause.fail(a))!
    expect(err.cause).toMatchObject({ message: "b" })
    expect(err.cause).not.toHaveProperty("cause")
    expect(err.causes).toMatchObject([{ causeOf: "err.cause", message: "c", cause: "[Circular]" }])
    // a single reason whose chain is one cause deep has no causes, as before
    expect(PinoLogger.serializeCause(Cause.fail(wrapped(new Error("leaf"), 1)))).not.toHaveProperty("causes")
    // a cause that is not an object stays the cause field of its error
    const primitive = PinoLogger.serializeCause(Cause.fail(wrapped("a string cause", 3)))!
    expect(primitive.causes).toMatchObject([{ causeOf: "err.cause", message: "wrap 2", cause: "a string cause" }])
  })

  it("property: with the three documented paths, a secret at any depth of any reason's chain never appears", async () => {
    // a reason: how deep its chain is and at which depths (0: the reason's own error) the secret is
    const reason = fc.integer({ min: 0, max: 12 }).chain((depth) =>
      fc.record({
        depth: fc.constant(depth),
        at: fc.uniqueArray(fc.integer({ min: 0, max: depth }), { minLength: 1, maxLength: depth + 1 }),
        asDefect: fc.boolean(),
        objects: fc.boolean()
      })
    )
    await fc.assert(
      fc.asyncProperty(fc.array(reason, { minLength: 1, maxLength: 3 }), async (reasons) => {
        const { lines, logger } = capture({ redact: documented })
        let cause: Cause.Cause<unknown> = Cause.empty
        for (const [seq, r] of reasons.entries()) {
          let error: object | undefined
          for (let level = r.depth; level >= 0; level--) {
            const fields = { seq, level, ...(r.at.includes(level) ? { password: secret } : {}) }
            error = r.objects
              ? { message: `level ${level}`, ...fields, ...(error === undefined ? {} : { cause: error }) }
              : Object.assign(new Error(`level ${level}`, error === undefined ? undefined : { cause: error }), fields)
          }
          cause = Cause.combine(cause, r.asDefect ? Cause.die(error) : Cause.fail(error))
        }
        await runWith(logger, Effect.logError("failed", cause))
        expect(lines).toHaveLength(1)
        expect(JSON.stringify(lines[0])).not.toContain(secret)
        expectFlat(lines[0].err)
        // every error of every chain is written: the reasons' own and each of their causes
        const written = 1 + (lines[0].err.cause === undefined ? 0 : 1) + (lines[0].err.causes?.length ?? 0)
        const several = reasons.length > 1 ? 1 : 0 // the primary's entry in causes repeats err
        expect(written).toBe(reasons.reduce((n, r) => n + r.depth + 1, 0) + several)
      }),
      { numRuns: 150 }
    )
  })

  it("a chain 20,000 deep is written in one line, its first 64 causes then how many were left out; Effect.logError succeeds", async () => {
    const { lines, logger } = capture({ redact: documented })
    const exit = await Effect.runPromiseExit(
      Effect.gen(function* () {
        yield* Effect.logError("errors", Cause.fail(wrapped(withSecret("leaf"), 20_000)))
        yield* Effect.logError(
          "objects",
          Cause.fail(new Error("top", { cause: wrapped({ password: secret }, 20_000) }))
        )
      }).pipe(Effect.provide(PinoLogger.layer(logger)))
    )
    expect(Exit.isSuccess(exit)).toBe(true)
    expect(lines.map((line) => line.msg)).toEqual(["errors", "objects"])
    const err = errOf(lines, "errors")
    expectFlat(err)
    expect(err.message).toBe("wrap 0")
    expect(err.stack).toMatch(/^Error: wrap 0\n/)
    expect(err.cause).toMatchObject({ message: "wrap 1" })
    expect(err.causes).toHaveLength(63)
    expect(err.causes.at(-1)).toMatchObject({ causeOf: "err.causes[61]", message: "wrap 64" })
    // 20,000 causes: wrap 1 … wrap 19999 and the leaf; 64 written
    expect(err.causes.at(-1).cause).toBe("[19936 more causes left out]")
    expect(errOf(lines, "objects").causes.at(-1).cause).toBe("[19937 more causes left out]")
    expect(PinoLogger.lostLines(logger)).toBe(0)
  })

  it("a cause getter that makes a new cause on each read ends the chain with a bounded count", () => {
    const endless = (n: number): object => ({
      n,
      get cause() {
        return endless(n + 1)
      }
    })
    const err = PinoLogger.serializeCause(Cause.fail(new Error("top", { cause: endless(1) })))!
    expect(err.causes).toHaveLength(63)
    const last = err.causes?.at(-1) as PinoLogger.SerializedErrorCause
    expect(last.cause).toBe("[over 100000 more causes left out]")
  })
})
