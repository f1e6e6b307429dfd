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
 *
 * Invariants:
 * 1. `guard` changes a destination at most once, and replaces `flushSync` only in sonic-boom's
 *    default (utf8) mode, whose buffers it knows (its `flushSync` is sonic-boom's `flushSync`).
 * 2. The replaced `flushSync` sleeps at most `maxBusyRetries` × 100 ms in all and never throws
 *    for a write error: it returns with the buffered lines written, or dropped, reported and
 *    counted in `PinoLogger.lostLines` of the logger writing to it (`lostAtEnd`).
 * 3. A transport's worker that fails (its destination cannot be opened, it throws) is an 'error'
 *    event on the transport's stream; `guardTransport` hears it and reports it once on stderr.
 *
 * @internal
 */
import * as fs from "node:fs"
import * as Effect from "effect/Effect"
import { PinoLoggerConfigError } from "../PinoLoggerError.js"
import { lostAtEnd } from "./lineWrites.js"

/** A sonic-boom destination (`pino.destination`), recognised by its fields. */
export const isSonicBoom = (stream: any): boolean =>
  typeof stream.minLength === "number" && typeof stream.sync === "boolean" && typeof stream.flushSync === "function"

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
}

/** A pino transport's stream (thread-stream: a worker thread), recognised by its fields. */
export const isTransport = (stream: any): boolean =>
  typeof stream.flushSync === "function" && typeof stream.ref === "function" && typeof stream.worker === "object"

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
  let count = 0
  for (let at = chunk.indexOf("\n"); at !== -1; at = chunk.indexOf("\n", at + 1)) count++
  return count
}

const writeStderr = (line: string): void => {
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
