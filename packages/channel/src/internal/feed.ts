/**
 * The loop that puts the values of an iterator on a channel, behind `Chan.fromIterable` and
 * `Chan.onto` (a sync `Iterator`) and `Chan.fromAsyncIterable` (an `AsyncIterator`): what differs
 * between the two is how a step is read and how the iterator is stopped (an `Iteration`).
 *
 * Invariants: one step is read at a time, and the next only once the value before it was put (the
 * iterator runs at most one value ahead of the channel); the value read but not put (the channel
 * closed, or the fiber interrupted) goes to the channel's `onUndelivered`; an iterator that throws
 * (or rejects) is logged at Error level and ends the feed; stopped early (the channel closed, or
 * interrupted), the feed calls the iterator's `return`, and logs at Error level what that throws.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import { type Hand, withHand } from "./delivery.js"
import type { WritePort } from "./ports.js"

/** How `feed` reads one kind of iterator `I` of `A`s. */
export interface Iteration<A, I extends { readonly return?: unknown }> {
  /** Makes the iterator (`it[Symbol.iterator]()`, say); what it throws is the iterator's error. */
  readonly open: () => I
  /**
   * Reads the next step of `iterator` into `hand`: `true` with a value held, `false` once the
   * iterator is done; fails with what the iterator threw.
   */
  readonly next: (iterator: I, hand: Hand<A>) => Effect.Effect<boolean, unknown>
  /** Calls the `return` of an iterator stopped early (only when it has one); fails with what it threw. */
  readonly stop: (iterator: I) => Effect.Effect<unknown, unknown>
  /** Logged at Error level, with the cause, when the iterator throws. */
  readonly threw: string
  /** Logged at Error level, with the cause, when `stop` fails. */
  readonly returnThrew: string
}

/** Puts the values `iteration` reads on `ch` until the iterator is done or `ch` closes (see the module doc). */
export const feed = <A, I extends { readonly return?: unknown }>(
  ch: WritePort<A>,
  iteration: Iteration<A, I>
): Effect.Effect<void> => {
  let iterator: I | undefined
  let ended = false
  const loop = withHand<A, void, unknown, never>(
    (hand) =>
      Effect.gen(function* () {
        const source = yield* Effect.try({ try: iteration.open, catch: identity })
        iterator = source
        while (yield* iteration.next(source, hand)) {
          if (!(yield* hand.putTo(ch))) return
        }
        ended = true
      }),
    ch
  )
  return loop.pipe(
    Effect.catchCause((cause) => {
      ended = true
      return Effect.logError(iteration.threw, cause)
    }),
    Effect.ensuring(
      Effect.suspend(() => {
        const source = iterator
        if (ended || source?.return === undefined) return Effect.void
        return Effect.catchCause(iteration.stop(source), (cause) => Effect.logError(iteration.returnThrew, cause))
      })
    )
  )
}

/** Holds the value of `step` in `hand` unless the iterator is done: whether it held one. */
export const holdStep = <A>(hand: Hand<A>, step: IteratorResult<A>): boolean => {
  if (step.done) return false
  hand.hold(step.value)
  return true
}
