/**
 * Whether each line `PinoLogger` writes reaches its destination when the answer comes after
 * `write` returned. A Node `Writable` (a socket, `fs.createWriteStream`, a custom stream) reports
 * a failed write through the write's callback and an 'error' event — an event that, unheard, ends
 * the process — and, once errored or destroyed, takes every later line without a word. A custom
 * destination whose `write` returns a promise (an `async write(line)`) reports a failed write by
 * rejecting it — unheard, an unhandled rejection. sonic-boom destinations and transports are
 * looked after by `destinations.ts`.
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
 *    A custom destination (an object with a `write` that is neither a Node stream, sonic-boom nor
 *    a transport) is wrapped too: a promise its `write` returns is answered by its settling, and
 *    its rejection is always handled (counted as a lost line, from outside `writeLine` too).
 * 2. Every line given to `writeLine` settles exactly once: `pending` counts the synchronous call
 *    plus each tracked write still out. A write to a stream already errored, destroyed or ended
 *    (Node may then never call it back) counts as failed at once. A line given up on
 *    (`abandonUnanswered`) is counted lost then, and its late answers change nothing.
 * 3. Writes to a tracked stream from outside `writeLine` pass through untouched and uncounted
 *    (but for a rejected promise, see 1).
 * 4. A line's success ends a burst of losses only when it was written after every line lost in
 *    that burst: the late success of an earlier line (Node calls back the writes before a failed
 *    one after it) says nothing about writing working again.
 * 5. Memory is bounded by `writeLine`'s `maxHeld`: a tracked stream with that many writes not
 *    answered yet is not given the line (its `write` is not called); the line counts as failed
 *    there (lost), so a stalled destination holds at most `maxHeld` lines when written with that
 *    bound.
 *
 * @internal
 */
import type { LostLines } from "../LostLines.js"

/**
 * Writes one line: runs `write` (one synchronous pino call) and settles the line in `lost` once
 * every tracked stream it wrote to has answered (see the module's description). A tracked stream
 * with `maxHeld` writes or more not answered yet is not given the line: it counts as lost
 * (invariant 5). Never throws.
 */
export const writeLine = (lost: LostLines, write: () => void, maxHeld = Number.POSITIVE_INFINITY): void => {
  const line: Line = { lost, pending: 1, error: notFailed, seq: nextSeq++ }
  const outer = current
  const outerBound = heldBound
  current = line
  heldBound = maxHeld
  try {
    write()
  } catch (error) {
    fail(line, error)
  } finally {
    current = outer
    heldBound = outerBound
  }
  settle(line)
}

/**
 * Tracks `stream` when it is a Node `Writable` or a custom destination (see invariant 1); the
 * first `owner` given for a stream also counts the lines a guarded sonic-boom destination drops at
 * the end (`lostAtEnd`) and a custom destination's rejected writes from outside `writeLine`.
 */
export const track = (stream: any, owner: LostLines): void => {
  if (stream === null || typeof stream !== "object") return
  if (!owners.has(stream)) owners.set(stream, owner)
  if (tracked.has(stream)) return
  if (isNodeWritable(stream)) trackWritable(stream)
  else if (isCustomDestination(stream)) trackCustom(stream)
}

/**
 * The number of tracked writes to `stream` (made by `writeLine`) not answered yet: a Node stream
 * that has not called them back, a custom destination's promise not settled yet.
 */
export const unanswered = (stream: object): number => outstanding.get(stream)?.size ?? 0

/**
 * Calls `callback` once no tracked write to `stream` is unanswered (at once when none is);
 * returns a function that cancels the wait.
 */
export const whenAnswered = (stream: object, callback: () => void): (() => void) => {
  if (unanswered(stream) === 0) {
    callback()
    return () => {}
  }
  let waiters = answerWaiters.get(stream)
  if (waiters === undefined) {
    waiters = new Set()
    answerWaiters.set(stream, waiters)
  }
  const waiter = (): void => callback()
  waiters.add(waiter)
  return () => waiters.delete(waiter)
}

/**
 * Gives up on the tracked writes to `stream` not answered yet: each line they belong to is
 * counted lost at once in its `LostLines` (without a report: the caller reports them) and its
 * late answers change nothing. Returns the number of lines given up on.
 */
export const abandonUnanswered = (stream: object): number => {
  const writes = outstanding.get(stream)
  if (writes === undefined || writes.size === 0) return 0
  let lines = 0
  for (const line of writes) {
    if (line.pending === abandoned) continue
    line.pending = abandoned
    line.lost.total++
    lines++
  }
  writes.clear()
  wakeWaiters(stream)
  return lines
}

/** A sonic-boom destination (`pino.destination`), recognised by its fields. */
export const isSonicBoom = (stream: any): boolean =>
  typeof stream.minLength === "number" && typeof stream.sync === "boolean" && typeof stream.flushSync === "function"

/** A pino transport's stream (thread-stream: a worker thread), recognised by its fields. */
export const isTransport = (stream: any): boolean =>
  typeof stream.flushSync === "function" && typeof stream.ref === "function" && typeof stream.worker === "object"

/**
 * Counts one line lost by `stream` (a destination that broke for good and now takes lines
 * without writing them): the line being written by `writeLine` when there is one, else a line
 * of the stream's owner.
 */
export const lostByStream = (stream: object, error: unknown): void => {
  if (current !== undefined) fail(current, error)
  else owners.get(stream)?.failed(error)
}

/** Counts `lines` dropped by a guarded sonic-boom destination at the end, for the logger that writes to it. */
export const lostAtEnd = (stream: object, lines: number): void => {
  const owner = owners.get(stream)
  if (owner !== undefined) owner.total += lines
}

// ── private ─────────────────────────────────────────────────────────────────

/**
 * One line being written, kept small (a stalled destination holds one per line): `pending` is the
 * synchronous call plus the tracked writes still out, or `abandoned` once given up on
 * (`abandonUnanswered`); `error` is why it failed, `notFailed` while it has not; `seq` orders
 * lines by when they were written.
 */
interface Line {
  readonly lost: LostLines
  pending: number
  error: unknown
  readonly seq: number
}

/** `Line.pending` of a line given up on. */
const abandoned = -1

/** `Line.error` of a line that has not failed (an error may be `undefined`: a `throw undefined`). */
const notFailed: unknown = Symbol("not failed")

/** The line whose synchronous pino call is on the stack. */
let current: Line | undefined

/** The `maxHeld` of the line whose synchronous pino call is on the stack (invariant 5). */
let heldBound = Number.POSITIVE_INFINITY

/** The `seq` of the next line written. */
let nextSeq = 0

/** The `seq` of the latest line each `LostLines` lost (invariant 4). */
const lastLost = new WeakMap<LostLines, number>()

const tracked = new WeakSet<object>()

/** The lines of each tracked stream's writes not answered yet. */
const outstanding = new WeakMap<object, Set<Line>>()

/** Who waits for a tracked stream's writes to be answered (`whenAnswered`). */
const answerWaiters = new WeakMap<object, Set<() => void>>()

const wakeWaiters = (stream: object): void => {
  const waiters = answerWaiters.get(stream)
  if (waiters === undefined || unanswered(stream) > 0) return
  answerWaiters.delete(stream)
  for (const waiter of waiters) waiter()
}

/**
 * Joins one tracked write of `stream` to `line` (invariant 2); returns its answer, which takes
 * `undefined` or `null` for a success, else the error (a Node stream's own `errored` when it has
 * one, as the first failed write reports it) — and is itself a Node write callback, so a line costs
 * one closure. Answering twice, or after the line was given up on, does nothing.
 */
const join = (stream: any, line: Line): ((error?: unknown) => void) => {
  line.pending++
  let writes = outstanding.get(stream)
  if (writes === undefined) {
    writes = new Set()
    outstanding.set(stream, writes)
  }
  writes.add(line)
  let answered = false
  return (error) => {
    if (answered) return
    answered = true
    writes.delete(line) // the stream's count, also for a line given up on (its other streams' answers may still come)
    if (line.pending === abandoned) {
      wakeWaiters(stream)
      return
    }
    if (error != null) fail(line, stream.errored ?? error)
    settle(line)
    wakeWaiters(stream)
  }
}

/**
 * Whether `stream` holds as many unanswered writes as the line being written allows (invariant
 * 5): then the line counts as failed and the stream is not given it.
 */
const overBound = (stream: object, line: Line): boolean => {
  if (unanswered(stream) < heldBound) return false
  let error = heldErrors.get(heldBound)
  if (error === undefined) {
    error = new Error(`the log destination has not answered its last ${heldBound} writes (maxHeldLines)`)
    heldErrors.set(heldBound, error)
  }
  fail(line, error)
  return true
}

/** What a line refused by `overBound` failed with, one per bound (not one per line: a stall refuses many). */
const heldErrors = new Map<number, Error>()

/** Wraps a Node `Writable`'s `write` (invariant 1). */
const trackWritable = (stream: any): void => {
  tracked.add(stream)
  // heard, so that it does not end the process; the writes it failed report it
  stream.on("error", () => {})
  const original: (...args: Array<unknown>) => unknown = stream.write
  stream.write = function write(this: any, ...args: Array<unknown>): unknown {
    const line = current
    if (line === undefined) return original.apply(this, args)
    if (overBound(this, line)) return false
    const [chunk, encoding, callback] = typeof args[1] === "function" ? [args[0], undefined, args[1]] : args
    const answer = join(this, line)
    const gone = goneReason(this)
    if (gone !== undefined) answer(gone)
    try {
      // pino passes no callback of its own: the answer itself is the write's callback
      if (typeof callback !== "function") return original.call(this, chunk, encoding, answer)
      return original.call(this, chunk, encoding, (error?: Error | null) => {
        answer(error)
        callback(error)
      })
    } catch (error) {
      answer(error)
      throw error
    }
  }
}

/** Wraps a custom destination's `write`: a promise it returns answers the line (invariant 1). */
const trackCustom = (stream: any): void => {
  tracked.add(stream)
  const original: (...args: Array<unknown>) => unknown = stream.write
  stream.write = function write(this: any, ...args: Array<unknown>): unknown {
    const line = current
    if (line !== undefined && overBound(stream, line)) return undefined
    const result = original.apply(this, args)
    if (!isThenable(result)) return result
    if (line === undefined) {
      result.then(undefined, (error: unknown) => owners.get(stream)?.failed(error ?? rejected))
    } else {
      const answer = join(stream, line)
      result.then(
        () => answer(undefined),
        (error: unknown) => answer(error ?? rejected)
      )
    }
    return result
  }
}

/** What a write rejected with `undefined` (or `null`) is reported as. */
const rejected = new Error("the destination's write rejected its promise")

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  (typeof value === "object" || typeof value === "function") &&
  value !== null &&
  typeof (value as { then?: unknown }).then === "function"

/**
 * A destination of the user's own that is not a Node stream: an object with a `write` function,
 * but neither sonic-boom nor a transport (whose `write` returns a boolean).
 */
const isCustomDestination = (stream: any): boolean =>
  typeof stream.write === "function" && !isSonicBoom(stream) && !isTransport(stream)

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
  if (line.error === notFailed) line.error = error
}

const settle = (line: Line): void => {
  if (line.pending === abandoned || --line.pending > 0) return
  if (line.error !== notFailed) {
    lastLost.set(line.lost, Math.max(line.seq, lastLost.get(line.lost) ?? -1))
    line.lost.failed(line.error)
  } else if (line.seq > (lastLost.get(line.lost) ?? -1)) line.lost.succeeded()
}
