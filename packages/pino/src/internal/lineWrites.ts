/**
 * Whether each line `PinoLogger` writes reaches its destination when the answer comes after
 * `write` returned. A Node `Writable` (a socket, `fs.createWriteStream`, a custom stream) reports
 * a failed write through the write's callback and an 'error' event — an event that, unheard, ends
 * the process — and, once errored or destroyed, takes every later line without a word. sonic-boom
 * destinations and transports are looked after by `destinations.ts`.
 *
 * How: `writeLine` runs one synchronous pino call with its line as `current`; the `write` of a
 * tracked stream (wrapped by `track`) joins `current` with a callback of its own. A line settles
 * once its synchronous call has returned and each of its tracked writes has called back: lost
 * (counted and reported once per burst by its `LostLines`) when the call threw or a write failed,
 * else written.
 *
 * Invariants:
 * 1. A stream is tracked at most once; its wrapped `write` returns what the original returns,
 *    throws what it throws and calls the caller's callback as the original would; its 'error'
 *    events are heard (the failed writes report them, the first with the stream's own error).
 * 2. Every line given to `writeLine` settles exactly once: `pending` counts the synchronous call
 *    plus each tracked write still out. A write to a stream already errored, destroyed or ended
 *    (Node may then never call it back) counts as failed at once.
 * 3. Writes to a tracked stream from outside `writeLine` pass through untouched and uncounted.
 *
 * @internal
 */
import type { LostLines } from "../LostLines.js"

/**
 * Writes one line: runs `write` (one synchronous pino call) and settles the line in `lost` once
 * every tracked stream it wrote to has answered (see the module's description). Never throws.
 */
export const writeLine = (lost: LostLines, write: () => void): void => {
  const line: Line = { lost, pending: 1, failed: false, error: undefined }
  const outer = current
  current = line
  try {
    write()
  } catch (error) {
    fail(line, error)
  } finally {
    current = outer
  }
  settle(line)
}

/**
 * Tracks `stream` when it is a Node `Writable` (see invariant 1); the first `owner` given for a
 * stream also counts the lines a guarded sonic-boom destination drops at the end (`lostAtEnd`).
 */
export const track = (stream: any, owner: LostLines): void => {
  if (stream === null || typeof stream !== "object") return
  if (!owners.has(stream)) owners.set(stream, owner)
  if (!isNodeWritable(stream) || tracked.has(stream)) return
  tracked.add(stream)
  // heard, so that it does not end the process; the writes it failed report it
  stream.on("error", () => {})
  const original: (...args: Array<unknown>) => unknown = stream.write
  stream.write = function write(this: any, ...args: Array<unknown>): unknown {
    const line = current
    if (line === undefined) return original.apply(this, args)
    const [chunk, encoding, callback] = typeof args[1] === "function" ? [args[0], undefined, args[1]] : args
    line.pending++
    let answered = false
    const answer = (error: unknown): void => {
      if (answered) return
      answered = true
      if (error !== undefined) fail(line, error)
      settle(line)
    }
    const gone = goneReason(this)
    if (gone !== undefined) answer(gone)
    try {
      return original.call(this, chunk, encoding, (error?: Error | null) => {
        answer(error == null ? undefined : (this.errored ?? error))
        if (typeof callback === "function") callback(error)
      })
    } catch (error) {
      answer(error)
      throw error
    }
  }
}

/** Counts `lines` dropped by a guarded sonic-boom destination at the end, for the logger that writes to it. */
export const lostAtEnd = (stream: object, lines: number): void => {
  const owner = owners.get(stream)
  if (owner !== undefined) owner.total += lines
}

// ── private ─────────────────────────────────────────────────────────────────

/** One line being written; `pending` is the synchronous call plus the tracked writes still out. */
interface Line {
  readonly lost: LostLines
  pending: number
  failed: boolean
  error: unknown
}

/** The line whose synchronous pino call is on the stack. */
let current: Line | undefined

const tracked = new WeakSet<object>()

/** The `LostLines` that counts what a destination loses outside any line (the first logger made on it). */
const owners = new WeakMap<object, LostLines>()

/** A Node `Writable` (or `Duplex`), recognised by its writable state. */
const isNodeWritable = (stream: any): boolean =>
  typeof stream._writableState === "object" &&
  stream._writableState !== null &&
  typeof stream.write === "function" &&
  typeof stream.on === "function"

/** Why a write to `stream` cannot succeed (it errored, was destroyed or ended), if it cannot. */
const goneReason = (stream: any): unknown => {
  if (stream.errored != null) return stream.errored
  if (stream.destroyed === true) return new Error("the destination stream is destroyed")
  if (stream.writableEnded === true) return new Error("the destination stream has ended")
  return undefined
}

const fail = (line: Line, error: unknown): void => {
  if (line.failed) return
  line.failed = true
  line.error = error
}

const settle = (line: Line): void => {
  if (--line.pending > 0) return
  if (line.failed) line.lost.failed(line.error)
  else line.lost.succeeded()
}
