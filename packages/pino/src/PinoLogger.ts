/**
 * An Effect `Logger` that writes through pino, in the shape of `@effect/opentelemetry`'s
 * `OtelLogger`: {@link make} builds the logger, {@link layer} installs it (replacing Effect's default
 * console logger, setting Effect's minimum log level from pino's, flushing pino when the layer's
 * scope closes), {@link levelToPino} is the pure level mapping.
 *
 * A line carries the message as `msg`, the fiber's annotations as top-level fields (one named
 * like a field the line has — `level`, `time`, `msg`, `pid`, `hostname`, `err` — as
 * `annotation.<name>`), its log spans as `spans` (label → elapsed milliseconds), the fiber id as
 * `fiberId` and, when the log carries a `Cause`, a serialized `err` (see {@link SerializedCause}).
 * The logger's own bindings (`logger.child({...})`, pino's `base`) are written as pino writes
 * them, except one named `time`, `msg` or `err`: plain pino would write it next to the line's own
 * field and a JSON parser keeps the last (a bound `time` replaced the timestamp, a bound `msg`
 * was replaced by the message), so it is kept as `binding.<name>`:
 *
 * ```json
 * {"level":50,"time":1795838134754,"pid":21624,"hostname":"vm","job.name":"fetch","attempt":2,
 *  "spans":{"run":1},"fiberId":"#1","err":{"type":"Fail","name":"HttpError","message":"",
 *  "stack":"HttpError: \n    at ...","status":503,"_tag":"HttpError"},"msg":"job failed"}
 * ```
 *
 * Redaction: pino's `redact` paths apply to the whole line, `err` included. An error's own fields
 * stay fields of `err` (`err.status`, `err.config.headers.authorization`), its cause's are
 * `err.cause`'s (`err.cause.password`), and every other error — another reason of a cause with
 * several, a cause of a cause at any depth — is an element of the flat list `err.causes`
 * (`err.causes[*].password`), never nested inside another: so `err.password`,
 * `err.cause.password` and `err.causes[*].password` remove a field at any depth (pino's redact has
 * no recursive wildcard). Not redacted: a secret inside a string — an error's `message`
 * or `stack`, a failure that is a plain string, or a non-error value passed as a log message part
 * (those are formatted into `msg`).
 *
 * Limits: lines still buffered in memory are lost when the process dies without running
 * finalizers (SIGKILL, out-of-memory, `process.abort`). Only what can be seen on the logger's
 * stream is checked for lossy settings: transports (worker threads) and custom streams are trusted.
 *
 * @since 0.2.0
 */
import { illFormedDuration, knownOption } from "@tributary/arguments"
import { Cause, Duration, Effect, Formatter, Layer, Logger, Option, References } from "effect"
import type * as LogLevel from "effect/LogLevel"
import pino from "pino"
import {
  abandonInFlight,
  flushHeld,
  guard,
  guardTransport,
  hasFailedToOpen,
  hasOwnMaxLength,
  isOpening,
  isSonicBoom,
  isTransport,
  markUnopenable,
  reportGivenUp,
  watchInFlight,
  watchOpen,
  isWriting as writeInFlight,
  writeStderr
} from "./internal/destinations.js"
import { serializeReasons } from "./internal/errors.js"
import { abandonUnanswered, track, whenAnswered, writeLine } from "./internal/lineWrites.js"
import { LostLines } from "./LostLines.js"
import { PinoLoggerConfigError } from "./PinoLoggerError.js"

// ── models ──────────────────────────────────────────────────────────────────

/**
 * A `Cause` as it appears in a line's `err` field.
 *
 * - `type` tells the kind of failure apart: `"Fail"` (a typed failure, `Effect.fail`), `"Die"` (a
 *   defect: a thrown exception, `Effect.die`) or `"Interrupt"` (the fiber was interrupted).
 * - `name` is the failure's or defect's own name when it has one (`"HttpError"`, `"TypeError"`).
 * - `fiberId` is the interrupting fiber, for an interruption that knows it.
 * - `message` is the error's own `message` ("" when it has none, as a `Data.TaggedError` without
 *   one); a failure that is not an object (a string) is its own message.
 * - Every other own enumerable field of the error is a field here, as it is on the error (what
 *   pino's standard `err` serializer does); so `redact` paths such as `err.password` reach them.
 *   An own field named like one of the fields here (`type`, `name`, `message`, `stack`,
 *   `fiberId`, `cause`, `causes`, `causeOf`) is not copied.
 * - The error's `cause` is `cause`: the cause's name, message, stack and own fields, and nothing
 *   deeper. Every other error is an element of the flat list `causes`, never nested inside
 *   another: the reasons (below), then every deeper cause, at any depth of any reason's chain, in
 *   order, each with `causeOf` naming the error it is the cause of (`"err.cause"`,
 *   `"err.causes[3]"`; see {@link SerializedErrorCause}). So `err.password`, `err.cause.password`
 *   and `err.causes[*].password` reach a field at any depth (pino's redact has no recursive
 *   wildcard). A cause that is not an object stays the `cause` field of its error, and so do
 *   "[Circular]" where a chain loops back and, past an error's first 64 causes, a note of how many
 *   more were left out (`"[19936 more causes left out]"`): a chain of any depth costs one line of
 *   bounded size.
 * - When the cause holds several reasons (a failure plus a finalizer's defect, parallel failures),
 *   the top-level fields describe the first failure (else the first defect, else the first
 *   interruption), `stack` joins every reason's stack, and `causes` lists every reason in order,
 *   first — the one described at the top by its `type`, `name`, `message`, `stack` and `fiberId`
 *   only (its own fields are `err`'s, so `err.password` redacts them; they are not repeated in
 *   `causes`).
 * - A field's value is copied as JSON would write it (functions left out, `toJSON` called, a
 *   Date as its ISO string), at any depth: a getter, `toJSON` or `Proxy` trap that throws reads as
 *   "[unreadable]", an object inside itself and a cycle of causes as "[Circular]" (so a secret
 *   cannot come back through a cycle past its redact path), nesting deeper than 10 as "[Object]".
 *   Serializing never costs the line, nor the rest of `err`.
 *
 * @since 0.2.0
 */
export interface SerializedCause {
  /** the kind: a typed failure ("Fail"), a defect ("Die") or an interruption ("Interrupt") */
  readonly type: "Fail" | "Die" | "Interrupt"
  /** the failure's or defect's own `name` (`"HttpError"`), when it has one */
  readonly name?: string
  /**
   * the error's own `message` ("" when it has none); a failure that is not an object is its own
   * message; an interruption's is "interrupted" (with "by fiber #N" when it knows the fiber)
   */
  readonly message: string
  /**
   * effect's rendering of the reason (only the name for an error without a string message); for
   * a cause with several reasons, every reason's stack, one after the other
   */
  readonly stack: string
  /** the interrupting fiber (`"#3"`), for an interruption that knows it */
  readonly fiberId?: string
  /**
   * every reason of a cause with several, in order, then every cause deeper than `cause` and every
   * cause of the other reasons (absent when there is none of either)
   */
  readonly causes?: ReadonlyArray<SerializedCause | SerializedErrorCause>
  /**
   * the error's direct cause: its name, message, stack and own fields; or a cause that is not an
   * object as it is ("[Circular]" for the error itself)
   */
  readonly cause?: unknown
  /** the error's own fields */
  readonly [field: string]: unknown
}

/**
 * An error's cause as an element of a line's `err.causes` (see {@link SerializedCause}): a cause
 * deeper than `err.cause`, or a cause of a reason other than the one `err` describes. Its own
 * fields are fields here, so `err.causes[*].password` reaches them.
 *
 * @example
 * ```ts
 * import { Cause } from "effect"
 * import { PinoLogger } from "@tributary/pino"
 *
 * const error = new Error("client", { cause: new Error("http 401", { cause: new Error("socket closed") }) })
 * const err = PinoLogger.serializeCause(Cause.fail(error))
 * // err.cause is "http 401"; "socket closed" is in err.causes, as the cause of err.cause
 * const deeper = err?.causes?.filter((entry): entry is PinoLogger.SerializedErrorCause => "causeOf" in entry)
 * deeper?.[0]?.causeOf // "err.cause"
 * ```
 *
 * @since 0.2.0
 */
export interface SerializedErrorCause {
  /** where the error it is the cause of is written in the line: `"err.cause"` or `"err.causes[i]"` */
  readonly causeOf: string
  /** the cause's own `name`, when it has one */
  readonly name?: string
  /** the cause's own `message` ("" when it has none) */
  readonly message: string
  /** the cause's own `stack`, when it has one */
  readonly stack?: string
  /**
   * present when the chain ends here with something not written as an entry: a cause that is not
   * an object, "[Circular]" where the chain loops back, or how many causes were left out
   */
  readonly cause?: unknown
  /** the cause's own fields */
  readonly [field: string]: unknown
}

/**
 * What {@link layer} accepts: a pino logger, or the options to build one with `pino(options)` (it
 * then writes to stdout).
 *
 * @since 0.2.0
 */
export type LoggerOrOptions<CustomLevels extends string = never> =
  | pino.Logger<CustomLevels, boolean>
  | pino.LoggerOptions<any>

/**
 * Any pino logger (with custom levels or not, typed `pino.Logger` or as `pino(…)` returned it) or
 * pino's options: what the `logger` options of `@tributary/jobs` (`Supervisor.runMain`, the
 * Promise API's `supervisor`) take. Under `exactOptionalPropertyTypes`, a `pino.Logger<never>` is
 * not a `pino.Logger<any>`, so a field typed `LoggerOrOptions<any>` refused the logger of a plain
 * `pino()` call held in a variable; every pino logger is a `pino.BaseLogger` with a `levelVal` and
 * a `child` (what `layer` checks at run time: an object with only the log methods is refused).
 *
 * @since 0.2.0
 */
export type AnyLoggerOrOptions =
  | (pino.BaseLogger & {
      /** the logger's level as a number (every pino logger has it) */
      readonly levelVal: number
      /** makes a child logger (every pino logger has it) */
      readonly child: (...args: Array<any>) => unknown
    })
  | pino.LoggerOptions<any>

/**
 * Options of {@link layer}.
 *
 * @since 0.2.0
 */
export interface LayerOptions {
  /**
   * whether building the layer waits for a file destination still being opened, and dies with a
   * `PinoLoggerConfigError` when it cannot be (default true). With false the build never
   * suspends (for a layer built with `Effect.runSync`); such a failure is reported on stderr.
   */
  readonly awaitOpen?: boolean
  /**
   * how long the layer's final flush, when its scope closes, waits for the destination (default
   * 5 seconds; a finite duration ≥ 0): for pino's flush to call back, for an asynchronous write
   * still in flight, for a Node stream to call back its writes. Past it, what is still unwritten
   * is given up on ({@link abandon}): counted as lost and reported once on stderr.
   */
  readonly flushTimeout?: Duration.Input
  /**
   * how many lines may wait in memory for a Node stream or a custom destination to answer their
   * writes (see {@link MakeOptions}; default 100,000)
   */
  readonly maxHeldLines?: number
}

/**
 * Options of {@link make}.
 *
 * @example
 * ```ts
 * import { Logger } from "effect"
 * import { Writable } from "node:stream"
 * import pino from "pino"
 * import { PinoLogger } from "@tributary/pino"
 *
 * const sink = new Writable({ write: (_chunk, _encoding, callback) => setTimeout(callback, 10) })
 * const options: PinoLogger.MakeOptions = { maxHeldLines: 10_000 }
 * const LoggerLive = Logger.layer([PinoLogger.make(pino(sink), options)])
 * ```
 *
 * @since 0.2.0
 */
export interface MakeOptions {
  /**
   * how many lines may wait in memory for a Node stream (a socket, `fs.createWriteStream`, a
   * custom `Writable`) or a custom destination whose `write` returns a promise to answer their
   * writes (default 100,000; an integer ≥ 1, or `Infinity` for no bound). pino does not wait for a
   * slow destination: each line it cannot take yet waits in memory (about 0.4 KB of heap plus the
   * line's bytes), so a stalled one would hold lines until the process runs out of memory. Past
   * the bound a line is not given to that destination: it is lost, counted in {@link lostLines}
   * and reported once per burst on stderr, like a failed write. A `pino.destination` (sonic-boom)
   * and a transport keep what they hold themselves and are not bounded by it.
   */
  readonly maxHeldLines?: number
}

// ── constructors ────────────────────────────────────────────────────────────

/**
 * Builds the Effect `Logger` that writes each log event through `logger`, at the pino level given
 * by {@link levelToPino}.
 *
 * Use it to add pino next to other loggers (`Logger.layer([PinoLogger.make(p)], { mergeWithExisting:
 * true })`); use {@link layer} for the usual case, which also sets the minimum level and flushes.
 *
 * A line that cannot be written — the destination's `write` throws, or pino itself throws (a
 * throwing hook or formatter), or a Node stream destination (a socket, `fs.createWriteStream`, a
 * custom `Writable`) fails the write after it returned — is lost, never thrown into the fiber that
 * logged: it is counted ({@link lostLines}) and the first loss of each burst is reported on stderr
 * (see `LostLines`). Such a stream's 'error' event, which unheard would end the process, is heard
 * (make wraps the stream's `write` to see each line's outcome); once it has failed, Node's stream
 * takes no more lines, and every later line counts as lost. A custom destination whose `write`
 * returns a promise (an `async write(line)`) is wrapped the same way: a rejection is handled
 * (never an unhandled rejection) and costs its line.
 *
 * Gotchas: it does not set Effect's minimum log level (Effect's default, `Info`, keeps dropping
 * `logDebug` before pino sees it), and it does not flush. It writes through a child of `logger`
 * whose `err` serializer passes the already serialized cause through untouched, so a later change
 * of `logger.level` does not reach it. Throws {@link PinoLoggerConfigError} when the logger lacks
 * pino's standard level methods (`useOnlyCustomLevels`), and for bad options (a `maxHeldLines`
 * that is not an integer ≥ 1 or `Infinity`).
 *
 * A destination that is slow or stalled holds the lines it has not answered in memory, at most
 * `maxHeldLines` of them (default 100,000, see {@link MakeOptions}); a line past that is lost and
 * counted, not held ({@link writeUnsafe}'s few crash lines are not held back by it).
 *
 * @example
 * ```ts
 * import { Effect, Logger, References } from "effect"
 * import pino from "pino"
 * import { PinoLogger } from "@tributary/pino"
 *
 * const program = Effect.logDebug("hello").pipe(
 *   Effect.provide(Logger.layer([PinoLogger.make(pino({ level: "debug" }))])),
 *   Effect.provideService(References.MinimumLogLevel, "Debug")
 * )
 * ```
 *
 * @since 0.2.0
 */
export const make = <CustomLevels extends string = never>(
  logger: pino.Logger<CustomLevels, boolean>,
  options?: MakeOptions
): Logger.Logger<unknown, void> => {
  checkLayerOptions(options, "PinoLogger.make", makeOptionKeys)
  const maxHeld = maxHeldLinesOf("PinoLogger.make", options?.maxHeldLines)
  const standard = asStandard(logger)
  for (const level of pinoLevels) {
    if (typeof standard[level] !== "function") {
      throw new PinoLoggerConfigError(
        "logger",
        "missing standard level",
        `the pino logger has no "${level}" method (useOnlyCustomLevels?); Effect's levels map to pino's standard ones`
      )
    }
  }
  const writer = writerOf(standard)
  const lost = lostLinesOf(standard)
  for (const stream of leafStreams((standard as any)[pino.symbols.streamSym])) track(stream, lost)
  return Logger.make<unknown, void>(({ cause, date, fiber, logLevel, message }) => {
    const level = levelToPino(logLevel)
    if (level === "silent" || !writer.isLevelEnabled(level)) {
      return
    }
    const line = annotationFields(fiber.getRef(References.CurrentLogAnnotations))
    const spans = fiber.getRef(References.CurrentLogSpans)
    if (spans.length > 0) {
      const now = date.getTime()
      const elapsed: Record<string, number> = {}
      for (const [label, start] of spans) {
        elapsed[label] = now - start
      }
      line.spans = elapsed
    }
    line.fiberId = `#${fiber.id}`
    const parts = Array.isArray(message) ? message : [message]
    let reasons = cause.reasons
    const text: Array<string> = []
    for (const part of parts) {
      if (Cause.isCause(part)) {
        reasons = reasons.concat(part.reasons)
      } else {
        text.push(typeof part === "string" ? part : Formatter.format(part))
      }
    }
    if (reasons.length > 0) {
      line.err = serializeCause(Cause.fromReasons(reasons))
    }
    writeLine(lost, () => writer[level](line, text.join(" ")), maxHeld)
  })
}

/**
 * Writes one line through `logger` outside Effect — from a signal handler, an exit hook, a
 * callback — the way {@link make} writes a log event: the annotations as fields (one named like a
 * field the line has as `annotation.<name>`), the cause serialized as `err`, and a line that
 * cannot be written lost and counted in {@link lostLines}, never thrown — so is a line of a
 * `level` that is not one of pino's six (reported on stderr as a `PinoLoggerConfigError`).
 *
 * @example
 * ```ts
 * import { Cause } from "effect"
 * import pino from "pino"
 * import { PinoLogger } from "@tributary/pino"
 *
 * const logger = pino()
 * process.on("uncaughtException", (error) => {
 *   PinoLogger.writeUnsafe(logger, "fatal", "uncaught exception", { service: "etl" }, Cause.die(error))
 * })
 * ```
 *
 * @since 0.2.0
 */
export const writeUnsafe = <CustomLevels extends string = never>(
  logger: pino.Logger<CustomLevels, boolean>,
  level: pino.Level,
  message: string,
  annotations: Readonly<Record<string, unknown>> = {},
  cause?: Cause.Cause<unknown>
): void => {
  const standard = asStandard(logger)
  if (!(pinoLevels as ReadonlyArray<unknown>).includes(level)) {
    // pino would write nothing (isLevelEnabled is false for an unknown level): lost, and said so
    writeLine(lostLinesOf(standard), () => {
      throw new PinoLoggerConfigError("level", "unknown level", `one of ${pinoLevels.join(", ")}`, {
        refused: { fn: "PinoLogger.writeUnsafe", value: level }
      })
    })
    return
  }
  // a line pino would not write is no success of the destination (it would end a burst of losses)
  if (typeof standard.isLevelEnabled === "function" && !standard.isLevelEnabled(level)) return
  const line = annotationFields(annotations)
  const err = cause === undefined ? undefined : serializeCause(cause)
  if (err !== undefined) line.err = err
  writeLine(lostLinesOf(standard), () => writerOf(standard)[level](line, message))
}

/** The fields of a line for `annotations`: one named like a field pino writes is kept as `annotation.<name>`. */
const annotationFields = (annotations: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const line: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(annotations)) {
    line[pinoFields.has(key) ? `annotation.${key}` : key] = value
  }
  return line
}

/**
 * A child of `logger` to write lines through, made anew each time (so it has the logger's
 * bindings as they are now): its `err` serializer passes an already serialized cause through, and
 * a binding named like a field of the line (`boundFields`) is kept as `binding.<name>` (see the
 * module's description).
 */
const writerOf = (logger: pino.Logger): pino.Logger => {
  const writer = logger.child({}, { serializers: { err: passThrough } })
  renameBoundFields(writer)
  return writer
}

/** The fields a line has that a binding could shadow (pino drops a binding named `level` itself). */
const boundFields: ReadonlySet<string> = new Set(["time", "msg", "err"])

/**
 * Rewrites the bindings pino keeps for `writer` (its "chindings": the `,"key":value` text put in
 * every line) with any key in `boundFields` renamed `binding.<key>`. Leaves them as they are when
 * there is none, or when they cannot be read back as JSON.
 */
const renameBoundFields = (writer: pino.Logger): void => {
  const chindings: unknown = (writer as any)[pino.symbols.chindingsSym]
  if (typeof chindings !== "string" || chindings.length < 2) return
  let bound: Record<string, unknown>
  try {
    bound = JSON.parse(`{${chindings.slice(1)}}`)
  } catch {
    return
  }
  if (!Object.keys(bound).some((key) => boundFields.has(key))) return
  ;(writer as any)[pino.symbols.chindingsSym] = Object.entries(bound)
    .map(([key, value]) => `,${JSON.stringify(boundFields.has(key) ? `binding.${key}` : key)}:${JSON.stringify(value)}`)
    .join("")
}

/**
 * The fields pino (or this logger, `err`) writes itself: an annotation of the same name would be
 * written next to pino's (`"level":50,…,"level":30`), and a JSON parser keeps the last, or be
 * overwritten (`err` by the cause), so it is kept as `annotation.<name>` instead (a job's
 * annotations cannot turn its failure line into an info line).
 */
const pinoFields: ReadonlySet<string> = new Set(["level", "time", "msg", "pid", "hostname", "err"])

/**
 * The number of lines written through `logger` by {@link make} (and so by {@link layer}) that
 * were lost: writing them threw or failed, or they were still unwritten when the destination was
 * given up on ({@link abandon}). 0 for a logger never given to `make`.
 *
 * @example
 * ```ts
 * import pino from "pino"
 * import { PinoLogger } from "@tributary/pino"
 *
 * const logger = pino()
 * PinoLogger.lostLines(logger) // 0
 * ```
 *
 * @since 0.2.0
 */
export const lostLines = <CustomLevels extends string = never>(logger: pino.Logger<CustomLevels, boolean>): number =>
  lostByLogger.get(asStandard(logger))?.total ?? 0

/**
 * Gives up on the lines the logger's destinations have not written yet, for a process about to
 * end: the lines of a `pino.destination`'s asynchronous write still in flight (a pipe whose
 * reader stopped reading) and of what waits behind it, and the writes a Node stream or a custom
 * destination has not answered, are counted as lost ({@link lostLines}) and reported once on
 * stderr; what waits is dropped, so that a synchronous flush at exit (pino's exit hook) does not
 * block on it. Lines a custom destination buffers itself cannot be seen. {@link layer} calls it
 * when its final flush passes its `flushTimeout`; calling it again counts nothing twice.
 *
 * Returns whether a write is still in flight: such a write can hold the process open for ever
 * (the process then has to end with `process.exit`, as `Supervisor.runMain` does).
 *
 * @example
 * ```ts
 * import pino from "pino"
 * import { PinoLogger } from "@tributary/pino"
 *
 * const logger = pino()
 * process.on("SIGTERM", () => {
 *   PinoLogger.abandon(logger)
 *   process.exit(143)
 * })
 * ```
 *
 * @since 0.2.0
 */
export const abandon = <CustomLevels extends string = never>(logger: pino.Logger<CustomLevels, boolean>): boolean => {
  const standard = asStandard(logger)
  const lines = dropUnwritten(standard)
  if (lines > 0)
    writeStderr(
      `@tributary/pino: ${lines} log line${lines === 1 ? " was" : "s were"} still unwritten when the logger was given up on; counted as lost`
    )
  return hasWriteInFlight(standard)
}

/**
 * Whether an asynchronous write to one of the logger's destinations (a `pino.destination` with
 * `sync: false`) is still in flight: normal for a moment after a burst of lines; for good when
 * the destination is a pipe whose reader stopped reading — such a write holds the process open
 * (see {@link abandon}).
 *
 * @example
 * ```ts
 * import pino from "pino"
 * import { PinoLogger } from "@tributary/pino"
 *
 * const logger = pino(pino.destination({ dest: 1, sync: false }))
 * PinoLogger.isWriting(logger) // false: nothing was written yet
 * ```
 *
 * @since 0.2.0
 */
export const isWriting = <CustomLevels extends string = never>(logger: pino.Logger<CustomLevels, boolean>): boolean =>
  hasWriteInFlight(asStandard(logger))

/**
 * A layer that writes Effect's logs through pino: it replaces Effect's default (console) logger
 * with {@link make}'s, keeping any other installed logger (the tracer logger that turns logs into
 * span events), sets `References.MinimumLogLevel` from the pino logger's level (pino `debug` lets
 * `Effect.logDebug` through, `silent` lets nothing through), and flushes the pino logger (waiting
 * for its callback) when the layer's scope closes.
 *
 * Given options instead of a logger, it builds `pino(options)` (writing to stdout).
 *
 * Gotchas: provide it outermost, so that its flush runs after the finalizers of the layers it
 * serves (which may still log). The minimum level is read once, when the layer is built. Throws
 * {@link PinoLoggerConfigError} at once for a destination that would lose lines (see
 * {@link checkDestination}) or options pino rejects. A file destination still being opened
 * (`pino.destination(path)`, asynchronous by default) is waited for when the layer is built: a
 * file that cannot be opened (a missing folder, a directory, no permission) makes the build die
 * with a {@link PinoLoggerConfigError} naming the file system's error — not an unhandled 'error'
 * event that ends the process, nor a throw from pino's exit hook (the destination is marked
 * destroyed, which that hook skips). A file destination whose writes fail (a full disk: ENOSPC,
 * EIO) costs lines, never the process: the failure is reported on stderr once per burst (the
 * destination keeps the lines and tries them again with each later write), and what is still
 * held at the end is dropped and reported instead of being retried for ever (sonic-boom's
 * `flushSync`, which pino's exit hook calls, is replaced by a bounded one for that). With
 * `awaitOpen: false` the build does not wait (it can then run synchronously): a file that
 * cannot be opened is reported on stderr instead, and its lines are lost. A pipe whose reader is
 * gone (EPIPE) costs every line from then on, each counted. Closing is bounded by `flushTimeout`
 * (default 5 seconds; `Supervisor.runMain` passes its `forceAfter`): the close waits that long
 * at most for pino's flush and for a Node stream or a custom destination to answer its writes,
 * and an asynchronous `pino.destination` write still in flight that long after the close (a pipe
 * nobody reads) is given up on; what is unwritten then is counted as lost and reported once on
 * stderr (see {@link abandon}). A Node stream or custom destination that is slow or stalled holds
 * at most `maxHeldLines` lines it has not answered (default 100,000; see {@link MakeOptions}):
 * further lines are lost and counted, so memory stays bounded.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import pino from "pino"
 * import { PinoLogger } from "@tributary/pino"
 *
 * const main = Effect.logInfo("started").pipe(
 *   Effect.annotateLogs("service", "etl"),
 *   Effect.provide(PinoLogger.layer(pino({ level: "info" })))
 * )
 * const fromOptions = PinoLogger.layer({ level: "debug", redact: ["password"] })
 * ```
 *
 * @since 0.2.0
 */
export const layer = <CustomLevels extends string = never>(
  loggerOrOptions: LoggerOrOptions<CustomLevels>,
  options?: LayerOptions
): Layer.Layer<never> => {
  const logger = resolveFor("PinoLogger.layer", loggerOrOptions)
  checkLayerOptions(options)
  const flushTimeoutMillis = flushTimeoutOf(options?.flushTimeout)
  const maxHeldLines = maxHeldLinesOf("PinoLogger.layer", options?.maxHeldLines)
  // from now on: an open or a write that fails is an 'error' event nobody else may be listening
  // to (the process would end on it)
  const opened = keepDestinations(logger, options?.awaitOpen !== false)
  const effectLogger = make(logger, { maxHeldLines })
  const minimum = levelFromPino(logger)
  return Layer.mergeAll(
    Layer.effect(
      Logger.CurrentLoggers,
      Effect.andThen(
        opened,
        Effect.acquireRelease(
          Effect.map(Effect.service(Logger.CurrentLoggers), (current) => {
            const loggers = new Set(current)
            loggers.delete(Logger.defaultLogger)
            loggers.add(effectLogger)
            return loggers as ReadonlySet<Logger.Logger<unknown, any>>
          }),
          () =>
            Effect.flatMap(Effect.timeoutOption(finishWrites(logger), flushTimeoutMillis), (finished) =>
              Effect.sync(() => {
                const streams = leafStreams((logger as any)[pino.symbols.streamSym])
                for (const stream of streams) flushHeld(stream)
                if (finished._tag === "None") giveUp(logger, flushTimeoutMillis)
                // not waited for (pino's exit hook writes the rest), but watched: see watchInFlight
                for (const stream of streams) if (isSonicBoom(stream)) watchInFlight(stream, flushTimeoutMillis)
              })
            )
        )
      )
    ),
    Layer.succeed(References.MinimumLogLevel, minimum)
  )
}

/**
 * The pino logger {@link layer} writes through: the one given, or `pino(options)` (writing to
 * stdout). Throws {@link PinoLoggerConfigError} for options pino rejects and for a destination
 * that would lose lines ({@link checkDestination}). For code that writes through pino directly
 * next to the layer (a process's last lines, say) and must refuse the same inputs.
 *
 * @example
 * ```ts
 * import { PinoLogger } from "@tributary/pino"
 *
 * const logger = PinoLogger.resolve({ level: "info" }) // a pino logger on stdout
 * ```
 *
 * @since 0.2.0
 */
export const resolve = <CustomLevels extends string = never>(
  loggerOrOptions: LoggerOrOptions<CustomLevels>
): pino.Logger => resolveFor("PinoLogger.resolve", loggerOrOptions)

/** `resolve` for the public function `fn` (`layer` or `resolve`), which its errors name. */
const resolveFor = <CustomLevels extends string>(
  fn: string,
  loggerOrOptions: LoggerOrOptions<CustomLevels>
): pino.Logger => {
  const logger = isPinoLogger(loggerOrOptions) ? asStandard(loggerOrOptions) : fromOptions(fn, loggerOrOptions)
  checkDestination(logger)
  return logger
}

// ── level mapping ───────────────────────────────────────────────────────────

/**
 * Maps an Effect log level to the pino level it is written at: `Trace`/`Debug`/`Info`/`Warn`/
 * `Error`/`Fatal` to `trace`/`debug`/`info`/`warn`/`error`/`fatal`; the sentinels `All` to
 * `trace` and `None` to `silent`. Pure.
 *
 * @example
 * ```ts
 * import { PinoLogger } from "@tributary/pino"
 *
 * PinoLogger.levelToPino("Warn") // "warn"
 * ```
 *
 * @since 0.2.0
 */
export const levelToPino = (level: LogLevel.LogLevel): pino.LevelWithSilent => {
  switch (level) {
    case "All":
    case "Trace":
      return "trace"
    case "Debug":
      return "debug"
    case "Info":
      return "info"
    case "Warn":
      return "warn"
    case "Error":
      return "error"
    case "Fatal":
      return "fatal"
    case "None":
      return "silent"
  }
}

/**
 * The Effect minimum log level matching a pino logger's current level: the lowest Effect severity
 * that pino would still write (pino `trace` → `Trace`, `debug` → `Debug`, … `fatal` → `Fatal`,
 * `silent` → `None`; a custom level between two standard ones rounds up, so Effect never builds a
 * line pino would drop). Reads `logger.levelVal` and `logger.levels.values`, nothing else.
 *
 * @example
 * ```ts
 * import pino from "pino"
 * import { PinoLogger } from "@tributary/pino"
 *
 * PinoLogger.levelFromPino(pino({ level: "debug" })) // "Debug"
 * ```
 *
 * @since 0.2.0
 */
export const levelFromPino = (logger: Pick<pino.Logger, "levelVal" | "levels">): LogLevel.LogLevel => {
  for (const severity of severities) {
    const value = logger.levels.values[levelToPino(severity)] ?? pino.levels.values[levelToPino(severity)]
    if (value !== undefined && value >= logger.levelVal) {
      return severity
    }
  }
  return "None"
}

// ── causes ──────────────────────────────────────────────────────────────────

/**
 * Serializes a `Cause` for a log line's `err` field (see {@link SerializedCause}); `undefined` for
 * an empty cause. Failures, defects and interruptions are told apart by `type`.
 *
 * @example
 * ```ts
 * import { Cause } from "effect"
 * import { PinoLogger } from "@tributary/pino"
 *
 * PinoLogger.serializeCause(Cause.die(new TypeError("boom")))?.type // "Die"
 * ```
 *
 * @since 0.2.0
 */
export const serializeCause = (cause: Cause.Cause<unknown>): SerializedCause | undefined =>
  serializeReasons(cause.reasons) as SerializedCause | undefined

// ── destinations ────────────────────────────────────────────────────────────

/**
 * Throws {@link PinoLoggerConfigError} when the logger's destination would lose lines. Checked,
 * through `pino.multistream` too:
 *
 * - a sonic-boom destination (`pino.destination`) with `sync: true` and `minLength > 0`: the two
 *   contradict each other (sync promises each line is written at once; `minLength` holds lines
 *   back until enough bytes gather);
 * - a sonic-boom destination with `maxLength > 0`: it drops lines once that many bytes wait;
 * - a destroyed or ended stream;
 * - a sonic-boom file destination whose open already failed (`pino.destination(path)` reported an
 *   'error'); it is also marked destroyed, so that pino's exit hook does not throw "sonic boom is
 *   not ready yet" at exit. One still being opened is waited for by {@link layer}.
 *
 * Not checked (cannot be seen reliably): transports (`transport` option; destinations live in a
 * worker thread), a sonic-boom `retryEAGAIN` that gives up, custom streams that drop. Called by
 * {@link layer}; call it yourself when using {@link make}.
 *
 * @example
 * ```ts
 * import { Logger } from "effect"
 * import pino from "pino"
 * import { PinoLogger } from "@tributary/pino"
 *
 * // make checks nothing itself: check the destination at startup
 * const logger = pino(pino.destination({ dest: 1, sync: true, minLength: 4096 }))
 * PinoLogger.checkDestination(logger) // throws PinoLoggerConfigError: sync and minLength contradict each other
 * const LoggerLive = Logger.layer([PinoLogger.make(logger)])
 * ```
 *
 * @since 0.2.0
 */
export const checkDestination = <CustomLevels extends string = never>(
  logger: pino.Logger<CustomLevels, boolean>
): void => {
  const problem = destinationProblem((logger as any)[pino.symbols.streamSym])
  if (problem !== undefined) {
    throw new PinoLoggerConfigError("destination", problem[0], problem[1])
  }
}

// ── private ─────────────────────────────────────────────────────────────────

const pinoLevels = ["trace", "debug", "info", "warn", "error", "fatal"] as const

/** Emitted severities from the least to the most severe. */
const severities: ReadonlyArray<LogLevel.Severity> = ["Trace", "Debug", "Info", "Warn", "Error", "Fatal"]

const passThrough = (value: unknown): unknown => value

/** The lost-line count of each pino logger given to `make` (shared by every `make` of one logger). */
const lostByLogger = new WeakMap<pino.Logger, LostLines>()

const lostLinesOf = (logger: pino.Logger): LostLines => {
  let lost = lostByLogger.get(logger)
  if (lost === undefined) {
    lost = new LostLines("@tributary/pino")
    lostByLogger.set(logger, lost)
  }
  return lost
}

/** A pino logger has `child` and a numeric `levelVal`; options never do. */
const isPinoLogger = <CustomLevels extends string>(
  value: LoggerOrOptions<CustomLevels>
): value is pino.Logger<CustomLevels, boolean> =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as pino.Logger).child === "function" &&
  typeof (value as pino.Logger).levelVal === "number"

/**
 * A value given for a logger, for an error message: an object that is not one is named as a
 * logger that is not pino (its JSON would say nothing: `{}` for `console`); undefined otherwise
 * (the error shows the value itself).
 */
const describeLogger = (value: unknown): string | undefined => {
  if (Array.isArray(value)) return "an array"
  if (typeof value === "object" && value !== null) return "a logger that is not pino (it has info/error methods)"
  return undefined
}

/**
 * Views any pino logger as one with the standard levels only: custom levels do not matter here,
 * and `make` checks the standard methods exist at run time.
 */
const asStandard = <CustomLevels extends string>(logger: pino.Logger<CustomLevels, boolean>): pino.Logger =>
  logger as unknown as pino.Logger

/**
 * Builds `pino(options)`, turning pino's own refusal into a `PinoLoggerConfigError`. What is not
 * an options object is refused first: pino takes a string for a destination file path (`"debug"`
 * would log into a file `./debug`), and ignores a number or another logger (`console`, winston),
 * whose own methods would never be called.
 */
const fromOptions = (fn: string, options: pino.LoggerOptions<any>): pino.Logger => {
  if (
    typeof options !== "object" ||
    options === null ||
    Array.isArray(options) ||
    typeof (options as { info?: unknown }).info === "function" ||
    typeof (options as { error?: unknown }).error === "function"
  ) {
    throw new PinoLoggerConfigError(
      "logger",
      "not a pino logger or options",
      `a pino logger or pino's options (an object such as { level: "debug" })`,
      { refused: { fn, value: options, shown: describeLogger(options) } }
    )
  }
  // a misspelt option (`levle`) would be ignored by pino: the logger would log at its default level.
  // A destination stream given alone (`pino.destination(1)`, `process.stdout`) is pino's too: it
  // makes a logger writing there; `prettyPrint` pino refuses itself, pointing to pino-pretty
  const stream = typeof (options as { write?: unknown }).write === "function"
  if (!stream)
    for (const key of Object.keys(options)) {
      if (pinoOptionKeys.includes(key) || key === "prettyPrint") continue
      throw new PinoLoggerConfigError(key, "invalid options", knownOption(key, pinoOptionKeys), {
        refused: { fn, value: (options as Record<string, unknown>)[key] }
      })
    }
  const levels = levelProblem(options)
  if (levels !== undefined)
    throw new PinoLoggerConfigError("level", "invalid options", levels, { refused: { fn, value: options.level } })
  try {
    return asStandard(pino(options))
  } catch (error) {
    throw new PinoLoggerConfigError(
      "options",
      "invalid options",
      error instanceof Error ? error.message : String(error),
      {
        cause: error
      }
    )
  }
}

/** The options pino 10 reads (its `LoggerOptions`); any other key is a misspelling it would ignore. */
const pinoOptionKeys: ReadonlyArray<string> = [
  "level",
  "name",
  "base",
  "redact",
  "serializers",
  "formatters",
  "hooks",
  "mixin",
  "mixinMergeStrategy",
  "timestamp",
  "messageKey",
  "errorKey",
  "nestedKey",
  "msgPrefix",
  "customLevels",
  "useOnlyCustomLevels",
  "levelComparison",
  "levelVal",
  "enabled",
  "transport",
  "browser",
  "safe",
  "depthLimit",
  "edgeLimit",
  "onChild",
  "crlf"
]

/**
 * What `options.level` expects when it is wrong (the levels there are), or undefined: pino's own
 * message ("default level:warning must be included in custom levels") names neither the option nor
 * the levels there are. pino reads a level name in any case, and a custom level is a level.
 */
const levelProblem = (options: pino.LoggerOptions<any>): string | undefined => {
  const level: unknown = options.level
  if (level === undefined) return undefined
  const custom = Object.keys(options.customLevels ?? {})
  const known = [...(options.useOnlyCustomLevels === true ? [] : [...pinoLevels, "silent"]), ...custom]
  if (typeof level === "string" && known.some((name) => name.toLowerCase() === level.toLowerCase())) return undefined
  return `one of ${known.map((name) => JSON.stringify(name)).join(", ")}`
}

/**
 * Waits for pino's flush callback, or for the destination to close (a transport's worker that
 * dies never calls back); a flush error, passed to the callback or thrown, is ignored (there is
 * nowhere left to report it).
 */
const flush = (logger: pino.Logger): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const stream = (logger as any)[pino.symbols.streamSym]
    // a destination that is gone (a transport whose worker died) never calls a flush back
    if (stream?.destroyed === true) return resume(Effect.void)
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      stream?.removeListener?.("close", finish)
      resume(Effect.void)
    }
    stream?.on?.("close", finish)
    try {
      logger.flush(finish)
    } catch {
      finish()
    }
  })

/**
 * Waits for the logger's writes to end: pino's flush ({@link flush}), then each tracked stream's
 * writes not yet answered (a sonic-boom destination's write in flight is not waited for: see
 * `watchInFlight`). Unbounded: {@link layer} bounds it with its `flushTimeout`.
 */
const finishWrites = (logger: pino.Logger): Effect.Effect<void> =>
  Effect.andThen(
    flush(logger),
    Effect.forEach(
      leafStreams((logger as any)[pino.symbols.streamSym]),
      (stream) =>
        Effect.callback<void>((resume) => {
          const cancel = whenAnswered(stream, () => resume(Effect.void))
          return Effect.sync(cancel)
        }),
      { discard: true }
    )
  )

/**
 * Gives up on every line the logger's destinations have not written yet (see {@link abandon});
 * returns how many it counted as lost.
 */
const dropUnwritten = (logger: pino.Logger): number => {
  let lines = 0
  for (const stream of leafStreams((logger as any)[pino.symbols.streamSym])) {
    lines += isSonicBoom(stream) ? abandonInFlight(stream) : abandonUnanswered(stream)
  }
  return lines
}

/**
 * The layer's final flush did not end within `millis`: gives up on the writes of its Node streams
 * and custom destinations not answered yet, reported once on stderr.
 */
const giveUp = (logger: pino.Logger, millis: number): void => {
  let lines = 0
  for (const stream of leafStreams((logger as any)[pino.symbols.streamSym])) {
    if (!isSonicBoom(stream)) lines += abandonUnanswered(stream)
  }
  reportGivenUp(millis, lines, false)
}

/** Whether one of the logger's destinations still has an asynchronous write in flight. */
const hasWriteInFlight = (logger: pino.Logger): boolean =>
  leafStreams((logger as any)[pino.symbols.streamSym]).some((stream) => isSonicBoom(stream) && writeInFlight(stream))

/** The keys of `LayerOptions`. */
const layerOptionKeys: ReadonlyArray<string> = ["awaitOpen", "flushTimeout", "maxHeldLines"]

/** The keys of `MakeOptions`. */
const makeOptionKeys: ReadonlyArray<string> = ["maxHeldLines"]

/**
 * `maxHeldLines` (default 100,000) of the public function `fn`; throws a `PinoLoggerConfigError`
 * naming it and the value for one that is not an integer ≥ 1 or `Infinity`.
 */
const maxHeldLinesOf = (fn: string, input: unknown): number => {
  if (input === undefined) return defaultMaxHeldLines
  if (input === Number.POSITIVE_INFINITY || (Number.isInteger(input) && (input as number) >= 1)) return input as number
  throw new PinoLoggerConfigError("maxHeldLines", "invalid maxHeldLines", "an integer ≥ 1, or Infinity (no bound)", {
    refused: { fn, value: input }
  })
}

/** How many lines a destination may hold unanswered by default (about 45 MB: 0.4 KB of heap and the line's bytes each). */
const defaultMaxHeldLines = 100_000

/**
 * Throws a `PinoLoggerConfigError` naming the option and its value for options of `fn` (`layer`'s
 * by default; `make`'s have the keys `makeOptionKeys`) that are not an object of its `keys` (a
 * misspelt one would be ignored: the error names the one meant) with a boolean `awaitOpen`.
 */
const checkLayerOptions = (options: unknown, fn = "PinoLogger.layer", keys = layerOptionKeys): void => {
  if (options === undefined) return
  const refuse: (argument: string, value: unknown, expected: string) => never = (argument, value, expected) => {
    throw new PinoLoggerConfigError(argument, "invalid layer options", expected, {
      refused: { fn, value }
    })
  }
  if (typeof options !== "object" || options === null || Array.isArray(options))
    refuse("options", options, `an object ({ ${keys.join(", ")} })`)
  const unknown = Object.keys(options).find((key) => !keys.includes(key))
  if (unknown !== undefined) refuse(unknown, (options as Record<string, unknown>)[unknown], knownOption(unknown, keys))
  const awaitOpen = (options as LayerOptions).awaitOpen
  if (awaitOpen !== undefined && typeof awaitOpen !== "boolean") refuse("awaitOpen", awaitOpen, "a boolean")
}

/**
 * `layer`'s `flushTimeout` in millis (default 5 s); throws a `PinoLoggerConfigError` for a bad one.
 * Millis, a string ("5 seconds"), a Duration or a duration object of units only: effect reads NaN
 * and a duration object with a misspelt unit (`{ second: 5 }`) as 0, a flush that would not wait
 * at all, so neither is taken (`@tributary/arguments`' `illFormedDuration`).
 */
const flushTimeoutOf = (input: Duration.Input | undefined): number => {
  if (input === undefined) return defaultFlushTimeoutMillis
  const readable = !(typeof input === "number" && Number.isNaN(input)) && !illFormedDuration(input)
  const duration = readable ? Duration.fromInput(input) : Option.none()
  if (duration._tag === "Some" && Duration.isFinite(duration.value) && Duration.toMillis(duration.value) >= 0)
    return Duration.toMillis(duration.value)
  throw new PinoLoggerConfigError(
    "flushTimeout",
    "invalid flushTimeout",
    'a finite duration ≥ 0 (such as "5 seconds", 5000 or a Duration)',
    { refused: { fn: "PinoLogger.layer", value: input } }
  )
}

/** How long {@link layer}'s final flush waits by default. */
const defaultFlushTimeoutMillis = 5000

/**
 * The streams pino writes to in the end: `stream` itself, or the leaves of a `pino.multistream`
 * (nested at most 8 deep). Precondition: `stream` is whatever pino writes to.
 */
const leafStreams = (stream: any, depth = 0): Array<any> => {
  if (stream === null || typeof stream !== "object" || depth > 8) {
    return []
  }
  if (Array.isArray(stream.streams)) {
    return stream.streams.flatMap((entry: any) => leafStreams(entry?.stream, depth + 1))
  }
  return [stream]
}

/** Precondition: `root` is whatever pino writes to; returns `[reason, detail]` or `undefined`. */
const destinationProblem = (root: any): readonly [string, string] | undefined => {
  for (const stream of leafStreams(root)) {
    const problem = leafProblem(stream)
    if (problem !== undefined) {
      return problem
    }
  }
  return undefined
}

/** Precondition: `stream` is one stream pino writes to (not a multistream). */
const leafProblem = (stream: any): readonly [string, string] | undefined => {
  if (stream.destroyed === true || stream.writableEnded === true) {
    return ["closed destination", "the destination stream is already destroyed or ended; every line would be lost"]
  }
  const sonicBoom = isSonicBoom(stream)
  if (hasFailedToOpen(stream)) {
    markUnopenable(stream)
    return [
      "destination not open",
      "the destination's file could not be opened (pino.destination reported an 'error'); every line would be lost"
    ]
  }
  if (sonicBoom && stream.sync && stream.minLength > 0) {
    return [
      "sync destination with minLength",
      `pino.destination({ sync: true, minLength: ${stream.minLength} }) holds lines back until ` +
        `${stream.minLength} bytes gather, so the last lines are lost on a crash; use minLength: 0 with sync: true, ` +
        "or sync: false (flushed when the layer closes)"
    ]
  }
  if (sonicBoom && hasOwnMaxLength(stream)) {
    return [
      "destination with maxLength",
      `pino.destination({ maxLength: ${stream.maxLength} }) drops lines once that many bytes wait to be written`
    ]
  }
  return undefined
}

/**
 * Looks after every sonic-boom destination of `logger` from this call on (see
 * `internal/destinations.ts`): one already open is guarded at once (its write errors heard, its
 * `flushSync` bounded); one still being opened is watched, and with `awaitOpen` the effect
 * returned waits for it, dying with a `PinoLoggerConfigError` when its file cannot be opened
 * (without, that failure is reported on stderr).
 */
const keepDestinations = (logger: pino.Logger, awaitOpen: boolean): Effect.Effect<void> => {
  const waits: Array<Effect.Effect<void>> = []
  for (const stream of leafStreams((logger as any)[pino.symbols.streamSym])) {
    if (isOpening(stream)) waits.push(watchOpen(stream, !awaitOpen))
    else if (isSonicBoom(stream) && stream.fd >= 0) guard(stream)
    else if (isTransport(stream)) guardTransport(stream)
  }
  return waits.length === 0 || !awaitOpen ? Effect.void : Effect.asVoid(Effect.all(waits))
}
