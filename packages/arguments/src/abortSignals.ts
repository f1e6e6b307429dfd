/**
 * The abort listeners of the Promise APIs' waiting operations (the channel facade's waits, the
 * Promise supervisor's `run` and `all`): one "abort" listener per `AbortSignal`, however many
 * operations wait on it. A listener per operation made N waits on one shared signal cost O(N²) to
 * register (Node scans a signal's listeners on every add) and had Node warn of a possible leak on
 * stderr from the 11th on.
 *
 * Invariants:
 * - a signal has our listener exactly while at least one registered callback is on it;
 * - a callback runs at most once, on the signal's abort, and not after its `off` (one called by
 *   an earlier callback of the same abort included); each registration is its own (the same
 *   function registered twice runs twice, and each `off` stops one); one that throws
 *   stops no other (its error is thrown again in a microtask, as an uncaught exception);
 * - `off` is idempotent, and after the last `off` of a signal the signal holds nothing of ours.
 */

/** One registration: its own object, so the same function registered twice is two waits. */
interface Wait {
  readonly callback: () => void
}

interface Waits {
  readonly waits: Set<Wait>
  readonly listener: () => void
}

const bySignal = new WeakMap<AbortSignal, Waits>()

/**
 * Calls `callback` when `signal` aborts (it has not yet: the caller checked `signal.aborted`);
 * returns `off`, which stops that. Throws what the signal's `addEventListener` throws (a broken
 * polyfill), before anything is registered.
 *
 * @example
 * ```ts
 * import { whenAborted } from "@tributary/arguments"
 *
 * const controller = new AbortController()
 * const offs = [1, 2, 3].map((n) => whenAborted(controller.signal, () => console.log("stop", n)))
 * offs[1]!() // 2 no longer waits
 * controller.abort() // "stop 1", "stop 3": one listener on the signal served both
 * ```
 *
 * @since 0.1.0
 */
export const whenAborted = (signal: AbortSignal, callback: () => void): (() => void) => {
  let entry = bySignal.get(signal)
  if (entry === undefined) {
    const waits = new Set<Wait>()
    const listener = (): void => {
      bySignal.delete(signal)
      for (const wait of [...waits]) {
        // each leaves the set as it runs: an `off` an earlier callback calls stops a later one
        if (!waits.delete(wait)) continue
        try {
          wait.callback()
        } catch (error) {
          // as a listener of its own would: the others still run, and the error is not swallowed
          queueMicrotask(() => {
            throw error
          })
        }
      }
    }
    signal.addEventListener("abort", listener, { once: true })
    entry = { waits, listener }
    bySignal.set(signal, entry)
  }
  const mine = entry
  const wait: Wait = { callback }
  mine.waits.add(wait)
  return () => {
    if (!mine.waits.delete(wait) || mine.waits.size > 0) return
    if (bySignal.get(signal) === mine) bySignal.delete(signal)
    try {
      signal.removeEventListener("abort", mine.listener)
    } catch {
      // a broken polyfill: its listener stays, and finds no callback when it fires
    }
  }
}
