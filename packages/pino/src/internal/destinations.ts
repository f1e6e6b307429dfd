/**
 * pino's destinations as `PinoLogger.layer` keeps them. sonic-boom ones (`pino.destination(…)`):
 * a file still being opened is waited for, one that cannot be opened is refused, and one whose
 * writes fail (a full disk, an I/O error) costs lines, never the process. Transports (a worker
 * thread, `transport` option): a worker that fails costs lines, never the process. Kept apart
 * from `PinoLogger.ts` because it reads sonic-boom 4's own fields (`fd`, `_opening`, `_bufs`,
 * `_len`, `_writing`, `_writingBuf`; pino 10 depends on sonic-boom 4).
 *
 * What sonic-boom 4 does on its own, and what this module changes:
 * - A file that cannot be opened is an 'error' event (unheard, it ends the process), and the
 *   destination stays without a descriptor: pino's exit hook then throws "sonic boom is not ready
 *   yet". `watchOpen` listens for the open's outcome; a failed one is marked destroyed, which
 *   that hook skips (`markUnopenable`).
 * - A write that fails is an 'error' event too (pino re-emits it; unheard, it ends the process).
 *   `guard` listens: the first error of a burst is reported on stderr once; sonic-boom keeps the
 *   lines and tries them again with the next write, and a write that succeeds ends the burst.
 * - Its `flushSync` tries a failed write again every 100 ms for ever unless the error is EAGAIN or
 *   EBUSY; pino calls it from its exit hook (and `runMain` before `process.exit`), so on a full
 *   disk the process never ended. `guard` replaces it with one that gives up at the first other
 *   error, and after 10 retries of EAGAIN/EBUSY: what is left is dropped and reported on stderr.
 * - On EPIPE (the pipe's reader is gone) pino's own `pino.destination` (`filterBrokenPipe`)
 *   replaces `write`, `end` and `flushSync` with no-ops: every later line vanished, counted as
 *   written. `guard` sees it (`brokenByPino`): what the destination held is counted lost and
 *   dropped, and its `write` counts each later line lost (`breakFor`); reported once on stderr.
 * - In sync mode (`pino.destination({ sync: true })`), a write to a
 *   pipe whose reader stopped reading (EAGAIN) sleeps 100 ms and tries again for ever: the
 *   process froze in that write, its signals, timers and hard deadline with it. `guard` bounds a
 *   stall (`boundStalls`): a write waits at most `stallMillis` from the stall's first refusal;
 *   past it, and until a write succeeds again, a refused write is an error at once (the lines are
 *   held and tried again with each later write, as for any write error), and what the
 *   destination holds meanwhile is bounded by `maxHeldBytes` (sonic-boom's `maxLength`; one the caller
 *   set is refused as lossy, `hasOwnMaxLength`): a line beyond it is dropped and counted lost.
 * - An asynchronous write to a pipe whose reader stopped reading never ends: it holds a thread
 *   of Node's pool, and the process cannot end (not even with `process.exit`, which waits for
 *   that thread). `watchInFlight` gives such a write up after the layer's `flushTimeout`: its
 *   lines and what waits behind it are counted lost (`abandonInFlight`), and the pipe is read
 *   back until the write ends (`unblockInFlight`).
 *
 * Invariants:
 * 1. `guard` changes a destination at most once, and replaces `flushSync` only in sonic-boom's
 *    default (utf8) mode, whose buffers it knows (its `flushSync` is sonic-boom's `flushSync`).
 * 2. The replaced `flushSync` sleeps at most `maxBusyRetries` × 100 ms in all and never throws
 *    for a write error: it returns with the buffered lines written, or dropped, reported and
 *    counted in `PinoLogger.lostLines` of the logger writing to it (`lostAtEnd`).
 * 3. A transport's worker that fails (its destination cannot be opened, it throws) is an 'error'
 *    event on the transport's stream; `guardTransport` hears it and reports it once on stderr.
 * 4. A line a destination was given is counted lost at most once: `abandonInFlight` counts the
 *    write in flight once (`abandonedWrites`) and drops what it counts; `breakFor` runs once.
 * 5. A synchronous destination (`boundStalls`) sleeps at most `stallMillis` per stall (from the
 *    stall's first EAGAIN to the next write that takes bytes) and holds at most `maxHeldBytes`;
 *    a line it drops for that bound is counted lost once, where it was written.
 *
 * @internal
 */
import * as fs from "node:fs"
import * as Effect from "effect/Effect"
import { PinoLoggerConfigError } from "../PinoLoggerError.js"
import { isSonicBoom, isTransport, lostAtEnd, lostByStream } from "./lineWrites.js"

export { isSonicBoom, isTransport }

/** A sonic-boom destination whose file is still being opened (it has no descriptor yet). */
export const isOpening = (stream: any): boolean => isSonicBoom(stream) && stream.fd < 0 && stream._opening === true

/** A sonic-boom destination whose open failed: no descriptor, and none coming. */
export const hasFailedToOpen = (stream: any): boolean =>
  isSonicBoom(stream) && stream.fd < 0 && stream._opening !== true && stream.destroyed !== true

/**
 * Marks a sonic-boom destination that will never have a file descriptor as destroyed: pino's
 * exit hook skips a destroyed destination, where it would throw "sonic boom is not ready yet".
 */
export const markUnopenable = (stream: any): void => {
  stream.destroyed = true
}

/**
 * Precondition: `isOpening(stream)`. Listens for its 'ready' or 'error' from this call on (the
 * listener also keeps the open's 'error' event from ending the process); the effect returned
 * succeeds once it is open (and `guard`s it), and dies with a `PinoLoggerConfigError` naming the
 * file system's error when it cannot be (the destination is then `markUnopenable`). With
 * `reportFailure`, for a caller that does not wait, that failure is also written on stderr.
 */
export const watchOpen = (stream: any, reportFailure: boolean): Effect.Effect<void> => {
  let settled: { readonly error: unknown } | "ready" | undefined
  let wake: (() => void) | undefined
  const settle = (outcome: { readonly error: unknown } | "ready"): void => {
    if (settled !== undefined) return
    settled = outcome
    stream.removeListener("error", onError)
    stream.removeListener("ready", onReady)
    if (outcome === "ready") guard(stream)
    else {
      markUnopenable(stream)
      if (reportFailure)
        writeStderr(
          `@tributary/pino: pino.destination could not open its file (${describe(outcome.error)}); every line is lost`
        )
    }
    wake?.()
  }
  const onError = (error: unknown): void => settle({ error })
  const onReady = (): void => settle("ready")
  stream.on("error", onError)
  stream.on("ready", onReady)
  return Effect.callback<void>((resume) => {
    const finish = (): void => {
      if (settled === "ready") {
        resume(Effect.void)
      } else if (settled !== undefined) {
        const error = settled.error
        resume(
          Effect.die(
            new PinoLoggerConfigError(
              "destination",
              "destination cannot be opened",
              `pino.destination could not open its file (${describe(error)}); every line would be lost`,
              { cause: error }
            )
          )
        )
      }
    }
    if (settled !== undefined) finish()
    else wake = finish
    return Effect.sync(() => {
      wake = undefined
    })
  })
}

/**
 * Precondition: `isSonicBoom(stream)` and it has a descriptor. Hears its write errors and bounds
 * its `flushSync` (see the module's description); a second call changes nothing.
 */
export const guard = (stream: any): void => {
  if (guarded.has(stream)) return
  guarded.add(stream)
  let failing = false
  stream.on("error", (error: unknown) => {
    if (brokenByPino(stream, error)) return breakFor(stream, error)
    if (failing) return
    failing = true
    writeStderr(
      `@tributary/pino: the log destination failed to write (${describe(error)}); ` +
        "its lines are held in memory and tried again with each later write"
    )
  })
  stream.on("write", () => {
    if (!failing) return
    failing = false
    writeStderr("@tributary/pino: the log destination writes again")
  })
  if (stream.flushSync?.name === "flushSync") stream.flushSync = boundedFlushSync
  if (stream.sync === true) boundStalls(stream)
}

/**
 * Bounds how long a synchronous sonic-boom destination waits for a pipe that takes nothing, and
 * what it holds meanwhile (see the module's description). A `retryEAGAIN` of the destination's
 * own is still asked, within the bound.
 */
const boundStalls = (stream: any): void => {
  // a pipe or socket Node was given as stdout or stderr stays blocking until `process.stdout` or
  // `process.stderr` is first read (Node then makes it non-blocking): a full one would hold the
  // write in the kernel, where no bound reaches, and never answer EAGAIN
  if (stream.fd === 1) void process.stdout
  else if (stream.fd === 2) void process.stderr
  const ownRetry: (error: unknown, writing: number, remaining: number) => boolean = stream.retryEAGAIN
  // the bound on what is held applies only while writes are refused: a single line longer than
  // it is written as ever when the reader takes it
  const bounds = !(stream.maxLength > 0)
  if (bounds) heldBoundByGuard.add(stream)
  let stalledSince: number | undefined
  stream.retryEAGAIN = (error: unknown, writing: number, remaining: number): boolean => {
    const now = Date.now()
    stalledSince ??= now
    const retry = now - stalledSince < stallMillis && ownRetry.call(stream, error, writing, remaining)
    if (!retry && bounds) stream.maxLength = maxHeldBytes
    return retry
  }
  stream.on("write", (written: number) => {
    // sonic-boom's retry after a sleep reports a write of 0 bytes: not the end of the stall
    if (written <= 0) return
    stalledSince = undefined
    if (bounds) stream.maxLength = 0
  })
  stream.on("drop", () => lostByStream(stream, heldTooMuch))
}

/** The destinations whose `maxLength` `boundStalls` sets while they stall (not the caller's: see `hasOwnMaxLength`). */
const heldBoundByGuard = new WeakSet<object>()

/**
 * Whether a sonic-boom destination drops lines by a `maxLength` its creator set (a lossy
 * destination) — not by the bound `guard` gave a synchronous one (see the module's description).
 */
export const hasOwnMaxLength = (stream: any): boolean =>
  typeof stream.maxLength === "number" && stream.maxLength > 0 && !heldBoundByGuard.has(stream)

/** How long a synchronous write may wait for a pipe that takes nothing before it gives up (`boundStalls`). */
const stallMillis = 1000

/** What a stalled synchronous destination holds at most, in bytes (a `maxLength` of its own is refused as lossy). */
const maxHeldBytes = 16 * 1024 * 1024

const heldTooMuch = new Error(`the destination holds ${maxHeldBytes} bytes its reader has not taken`)

/** Precondition: `isTransport(stream)`. Hears its worker's failure (see invariant 3); a second call changes nothing. */
export const guardTransport = (stream: any): void => {
  if (guarded.has(stream)) return
  guarded.add(stream)
  let reported = false
  stream.on("error", (error: unknown) => {
    if (reported) return
    reported = true
    writeStderr(`@tributary/pino: the pino transport failed (${describe(error)}); its lines are lost`)
  })
}

/**
 * Precondition: `isSonicBoom(stream)`. Calls `callback` once no asynchronous write of `stream`
 * is in flight (at once when none is; when one ends in an error, or the destination closes, too);
 * returns a function that cancels the wait.
 */
export const whenWritten = (stream: any, callback: () => void): (() => void) => {
  const check = (): void => {
    if (stream._writing === true && stream.destroyed !== true) return
    cancel()
    callback()
  }
  const cancel = (): void => {
    for (const event of settleEvents) stream.removeListener(event, check)
  }
  for (const event of settleEvents) stream.on(event, check)
  check()
  return cancel
}

/**
 * Precondition: `isSonicBoom(stream)`. Gives up on what `stream` holds behind an asynchronous
 * write still in flight (a pipe whose reader stopped reading): the lines of that write and of
 * everything waiting behind it are counted lost (`lostAtEnd`, once each) and what waits behind it
 * is dropped, so that a synchronous flush at exit (pino's exit hook) does not block on it.
 * Returns the number of lines given up on (0 when no write is in flight).
 */
export const abandonInFlight = (stream: any): number => {
  if (stream._writing !== true || stream.destroyed === true) return 0
  const counted = abandonedWrites.get(stream)
  const inFlight = counted === stream._writingBuf ? 0 : newlines(stream._writingBuf ?? "")
  abandonedWrites.set(stream, stream._writingBuf)
  const lines = inFlight + heldLines(stream._bufs)
  stream._bufs = []
  if (Array.isArray(stream._lens)) stream._lens = []
  stream._len = byteLength(stream._writingBuf ?? "")
  lostAtEnd(stream, lines)
  return lines
}

/**
 * Precondition: `isSonicBoom(stream)`, given up on (`abandonInFlight`). A write blocked on a pipe
 * whose reader stopped reading holds a thread of Node's pool, and Node cannot end (not even with
 * `process.exit`) before it returns. When `stream` writes to a pipe, reads back from it (Linux:
 * through `/proc/self/fd`) until its write in flight has ended, at most `unblockMillis`: the bytes
 * read are the oldest the reader had not read yet, and are lost. Returns whether it started.
 */
export const unblockInFlight = (stream: any): boolean => {
  if (!isWriting(stream)) return false
  let reader: number
  try {
    if (!fs.fstatSync(stream.fd).isFIFO()) return false
    reader = fs.openSync(`/proc/self/fd/${stream.fd}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)
  } catch {
    return false
  }
  const buffer = Buffer.alloc(64 * 1024)
  const started = Date.now()
  const drain = (): void => {
    try {
      while (fs.readSync(reader, buffer) > 0) {
        // the bytes are dropped: reading them lets the blocked write go on
      }
    } catch {
      // EAGAIN: nothing to read right now
    }
    if (isWriting(stream) && Date.now() - started < unblockMillis) {
      setTimeout(drain, 10)
      return
    }
    try {
      fs.closeSync(reader)
    } catch {
      // already closed
    }
  }
  drain()
  return true
}

/**
 * Precondition: `isSonicBoom(stream)`, whose logger's layer has just closed. When an asynchronous
 * write of `stream` is still in flight `millis` later, gives up on it (`abandonInFlight`, then
 * `unblockInFlight`, reported once on stderr). The wait holds nothing open (an unref'd timer):
 * a process that can end ends; one held open by a write blocked on a pipe ends once it is given
 * up on.
 */
export const watchInFlight = (stream: any, millis: number): void => {
  if (!isWriting(stream)) return
  const timer = setTimeout(() => {
    stopWatching()
    if (!isWriting(stream)) return
    const lines = abandonInFlight(stream)
    reportGivenUp(millis, lines, unblockInFlight(stream))
  }, millis)
  timer.unref()
  const stopWatching = whenWritten(stream, () => clearTimeout(timer))
}

/**
 * Reports on stderr that a logger's final flush did not end within `millis`: `lines` counted as
 * lost; `unblocked` when a write blocked on a pipe was ended by `unblockInFlight`.
 */
export const reportGivenUp = (millis: number, lines: number, unblocked: boolean): void =>
  writeStderr(
    `@tributary/pino: the log destination did not finish writing within ${millis} ms of the logger closing; ` +
      (lines > 0
        ? `${lines} line${lines === 1 ? " still unwritten is" : "s still unwritten are"} counted as lost`
        : "lines it still holds itself may be lost") +
      (unblocked
        ? " (the write blocked on its pipe is ended by reading the pipe's unread bytes back; they are lost)"
        : "")
  )

/** How long `unblockInFlight` reads a pipe back at most. */
const unblockMillis = 10_000

/** Precondition: `isSonicBoom(stream)`. Whether an asynchronous write of `stream` is in flight. */
export const isWriting = (stream: any): boolean => stream._writing === true && stream.destroyed !== true

/**
 * Writes, or drops and reports, what a guarded destination still holds after a failed write:
 * in sync mode nothing else would (pino's exit hook flushes only asynchronous destinations).
 * Nothing is written while an asynchronous write is in flight: what waits behind it would reach
 * the file before it (the lines out of order); sonic-boom writes the rest when it completes.
 */
export const flushHeld = (stream: any): void => {
  if (guarded.has(stream) && stream.fd >= 0 && stream.destroyed !== true && stream._len > 0 && !stream._writing) {
    try {
      boundedFlushSync.call(stream)
    } catch {
      // destroyed or not open after all: nothing to write
    }
  }
}

// ── private ─────────────────────────────────────────────────────────────────

const guarded = new WeakSet<object>()

/** The events after which a sonic-boom destination may have no write in flight any more. */
const settleEvents = ["drain", "write", "error", "close"] as const

/** The in-flight chunk of each destination whose lines `abandonInFlight` already counted. */
const abandonedWrites = new WeakMap<object, unknown>()

/**
 * Whether `error` broke `stream` for good: pino's own `pino.destination` (its `filterBrokenPipe`)
 * answers an EPIPE (the reader of the pipe is gone) by replacing the destination's `write`,
 * `end` and `flushSync` with no-ops on the instance, so every later line is taken and dropped.
 */
const brokenByPino = (stream: any, error: unknown): boolean =>
  (error as { code?: unknown } | null)?.code === "EPIPE" &&
  Object.hasOwn(stream, "write") &&
  stream.write === stream.end &&
  !broken.has(stream)

/** The destinations `breakFor` took over. */
const broken = new WeakSet<object>()

/**
 * Precondition: `brokenByPino(stream, error)`. Counts what `stream` still holds as lost and drops
 * it (nothing will write it), reports that once on stderr, and makes every later line written to
 * it count as lost (`lostByStream`) instead of vanishing in pino's no-op.
 */
const breakFor = (stream: any, error: unknown): void => {
  broken.add(stream)
  const held = newlines(stream._writingBuf ?? "") + heldLines(stream._bufs)
  stream._bufs = []
  if (Array.isArray(stream._lens)) stream._lens = []
  stream._writingBuf = typeof stream._writingBuf === "string" ? "" : Buffer.alloc(0)
  stream._len = 0
  stream._writing = false
  lostAtEnd(stream, held)
  const noop = stream.write
  stream.write = function write(): boolean {
    lostByStream(stream, error)
    return true
  }
  stream.end = noop
  writeStderr(
    `@tributary/pino: the log destination's reader is gone (${describe(error)}): ${held} line${held === 1 ? " it held is" : "s it held are"} lost, ` +
      "and so is every later line (nothing writes to it any more)"
  )
}

/** The line ends in the chunks a sonic-boom destination holds (strings, buffers, or arrays of buffers). */
const heldLines = (bufs: unknown): number =>
  Array.isArray(bufs) ? bufs.reduce((sum: number, chunk: unknown) => sum + heldLines(chunk), 0) : newlines(bufs as any)

const byteLength = (chunk: string | Buffer): number =>
  typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length

/** How many times the bounded `flushSync` tries a write refused with EAGAIN/EBUSY again (100 ms apart). */
const maxBusyRetries = 10

/**
 * sonic-boom's `flushSync` (utf8 mode), except that a write error other than EAGAIN/EBUSY, or one
 * of those past `maxBusyRetries`, drops what is left and reports it on stderr instead of trying
 * again for ever. Called as a method of the destination.
 */
function boundedFlushSync(this: any): void {
  if (this.destroyed) throw new Error("SonicBoom destroyed")
  if (this.fd < 0) throw new Error("sonic boom is not ready yet")
  // its write in flight was given up on (a pipe nobody reads): what waits behind it is dropped
  // and counted, not written behind a write that may never end (blocking this thread with it)
  if (this._writing && abandonedWrites.has(this)) {
    abandonInFlight(this)
    return
  }
  if (!this._writing && this._writingBuf.length > 0) {
    this._bufs.unshift(this._writingBuf)
    this._writingBuf = ""
  }
  let busy = 0
  while (this._bufs.length > 0) {
    const chunk: string | Buffer = this._bufs[0]
    try {
      const n = typeof chunk === "string" ? fs.writeSync(this.fd, chunk, null, "utf8") : fs.writeSync(this.fd, chunk)
      busy = 0
      const rest = (typeof chunk === "string" ? Buffer.from(chunk) : chunk).subarray(n)
      this._len = Math.max(this._len - n, 0)
      if (rest.length === 0) this._bufs.shift()
      else this._bufs[0] = rest
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code
      if ((code === "EAGAIN" || code === "EBUSY") && busy++ < maxBusyRetries) {
        Atomics.wait(sleeper, 0, 0, 100)
        continue
      }
      const bytes = this._bufs.reduce((sum: number, b: string | Buffer) => sum + Buffer.byteLength(b), 0)
      // every pino line ends with a newline: a line cut short by an earlier write counts too
      const lines = this._bufs.reduce((sum: number, b: string | Buffer) => sum + newlines(b), 0)
      this._bufs = []
      this._len = 0
      lostAtEnd(this, lines)
      writeStderr(
        `@tributary/pino: ${bytes} bytes of log lines (${lines} line${lines === 1 ? "" : "s"}) could not be written at the end (${describe(error)}); they are lost`
      )
      return
    }
  }
  try {
    fs.fsyncSync(this.fd)
  } catch {
    // the descriptor may not support fsync (a pipe, a tty)
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/** The number of line ends in a chunk a sonic-boom destination holds. */
const newlines = (chunk: string | Buffer): number => {
  if (typeof chunk !== "string" && !Buffer.isBuffer(chunk)) return 0
  let count = 0
  for (let at = chunk.indexOf("\n"); at !== -1; at = chunk.indexOf("\n", at + 1)) count++
  return count
}

/** Writes `line` on stderr, the last resort: a stderr that fails too costs it silently. */
export const writeStderr = (line: string): void => {
  try {
    process.stderr.write(`${line}\n`)
  } catch {
    // stderr is broken too: nothing is left to tell
  }
}

const describe = (error: unknown): string => {
  if (error instanceof Error) return error.message
  try {
    return String(error)
  } catch {
    return "an unprintable error"
  }
}
