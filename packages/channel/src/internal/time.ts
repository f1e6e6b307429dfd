/**
 * Time, shared by the Effect API and the Promise facade: durations as millis, the live timer, and
 * the one builder of timeout channels.
 *
 * Invariants:
 * - a duration is checked before anything is made: a negative or NaN one (or one effect cannot
 *   read) throws `ChanArgumentError` naming the argument and the value;
 * - a live timer waits the whole duration, however long (Node fires any `setTimeout` above
 *   2^31-1 ms after 1 ms, so longer waits are chained); `Infinity` arms none;
 * - a timeout channel is fresh per call, closed at once for 0, never for `Infinity`, and
 *   otherwise closed by the timer its caller arms (live, or effect's `Clock`).
 *
 * @internal
 */
import { durationExpected, illFormedDuration } from "@tributary/arguments"
import * as Duration from "effect/Duration"
import { ChanArgumentError } from "../ChanError.js"

/** Converts a duration to millis; throws `ChanArgumentError` for a negative, NaN or ill-formed one. */
export const checkDuration = (argument: string, d: Duration.Input): number => {
  // effect's Duration reads NaN as 0: reject it before converting
  if (typeof d === "number" && Number.isNaN(d)) throw new ChanArgumentError(argument, d, "a duration >= 0")
  if (illFormedDuration(d)) throw new ChanArgumentError(argument, d, durationExpected("a duration", d))
  let millis: number
  try {
    millis = Duration.toMillis(d)
  } catch {
    throw new ChanArgumentError(argument, d, 'a duration (millis, a Duration or a string such as "5 seconds")')
  }
  if (Number.isNaN(millis) || millis < 0) throw new ChanArgumentError(argument, d, "a duration >= 0")
  return millis
}

const MAX_TIMER_MILLIS = 2 ** 31 - 1

/**
 * `setTimeout` that waits the whole duration (Node fires any delay above 2^31-1 ms after 1 ms);
 * returns the function that cancels it.
 */
export const liveTimer = (millis: number, f: () => void): (() => void) => {
  let handle: ReturnType<typeof setTimeout>
  const arm = (left: number): void => {
    handle =
      left > MAX_TIMER_MILLIS ? setTimeout(() => arm(left - MAX_TIMER_MILLIS), MAX_TIMER_MILLIS) : setTimeout(f, left)
  }
  arm(millis)
  return () => clearTimeout(handle)
}

/**
 * A fresh timeout channel: `make(name)` (unbuffered) closed after `d` — at once for 0, never for
 * `Infinity`, otherwise by `arm(millis, close)`, which starts the caller's timer. Throws
 * `ChanArgumentError` naming `argument` for a bad `d`, before anything is made.
 */
export const timeoutChannel = <C extends { close(): void }>(
  argument: string,
  d: Duration.Input,
  make: (name: string) => C,
  arm: (millis: number, close: () => void) => void
): C => {
  const millis = checkDuration(argument, d)
  const ch = make(`timeout(${millis} ms)`)
  if (millis === 0) ch.close()
  else if (millis !== Infinity) arm(millis, () => ch.close())
  return ch
}
