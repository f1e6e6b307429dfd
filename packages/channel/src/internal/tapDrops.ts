/**
 * Who is told when a `Mult` drops a tap it found closed: how a `Pub` forgets a subscriber that
 * closed without `unsub` (and its topic, with its last subscriber). Kept here, not on the Mult's
 * public module, so it is no part of the API.
 *
 * Invariant: a mult has at most one listener (a pub sets it once, on the topic's mult it made);
 * the mult calls it after the value the tap missed went to the tap's `onUndelivered`.
 *
 * @internal
 */

/** The listener of each mult that has one, by the mult. */
const listeners = new WeakMap<object, (ch: unknown) => void>()

/** Has `onDrop(ch)` called each time `mult` drops a tap it found closed. */
export const onTapDropped = <Ch>(mult: object, onDrop: (ch: Ch) => void): void => {
  listeners.set(mult, onDrop as (ch: unknown) => void)
}

/** Tells `mult`'s listener, if any, that it dropped the tap of `ch`. */
export const tapDropped = (mult: object, ch: unknown): void => {
  listeners.get(mult)?.(ch)
}
