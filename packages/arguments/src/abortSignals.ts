/**
 * The abort listeners of the Promise APIs' waiting operations (the channel facade's waits, the
 * Promise supervisor's `run` and `all`): one "abort" listener per `AbortSignal`, however many
 * operations wait on it. A listener per operation made N waits on one shared signal cost O(N²) to
 * register (Node scans a signal's listeners on every add) and had Node warn of a possible leak on
 * stderr from the 11th on.
 *
 * Invariants:
 * - a signal has our listener exactly while at least one registered callback is on it;
 * - a callback runs at most once, on the signal's abort, and not after its `off`; one that throws
 *   stops no other (its error is thrown again in a microtask, as an uncaught exception);
 * - `off` is idempotent, and after the last `off` of a signal the signal holds nothing of ours.
 */

interface Waits {
  readonly callbacks: Set<() => void>
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
  let waits = bySignal.get(signal)
  if (waits === undefined) {
    const callbacks = new Set<() => void>()
    const listener = (): void => {
      bySignal.delete(signal)
      const all = [...callbacks]
      callbacks.clear()
      for (const f of all) {
        try {
          f()
        } catch (error) {
          // as a listener of its own would: the others still run, and the error is not swallowed
          queueMicrotask(() => {
            throw error
          })
        }
      }
    }
    signal.addEventListener("abort", listener, { once: true })
    waits = { callbacks, listener }
    bySignal.set(signal, waits)
  }
  const mine = waits
  mine.callbacks.add(callback)
  return () => {
    if (!mine.callbacks.delete(callback) || mine.callbacks.size > 0) return
    if (bySignal.get(signal) === mine) bySignal.delete(signal)
    try {
      signal.removeEventListener("abort", mine.listener)
    } catch {
      // a broken polyfill: its listener stays, and finds no callback when it fires
    }
  }
}
