/**
 * The one async iterator over a channel, behind both `Chan.toAsyncIterable` and the async API's
 * `iterate` (and `for await` over its channels).
 *
 * Invariants: a `next()` takes exactly one value, never ahead of its caller, as a plain pending
 * take (served in arrival order with every other take); once `return()` ran, every take still
 * pending is withdrawn (its `next()` resolves done, nothing consumed) and every later `next()` is
 * done at once.
 *
 * @internal
 */
import { type ChanCore, CLOSED, Node, PENDING } from "./channel.js"

/**
 * An iterator over `core`: each `next()` takes one value (never ahead). `return()` (a `break`)
 * withdraws the takes of `next()`s still pending, which resolve done, so a value put later goes to
 * another taker instead of a promise nobody awaits; the iterator is done from then on.
 */
export const iteratorOf = <A>(core: ChanCore<any, A>): AsyncIterator<A> => {
  let returned = false
  const waiting = new Set<Node>()
  return {
    next: () => {
      if (returned) return Promise.resolve(DONE)
      const result = core.tryTake()
      if (result !== PENDING) return Promise.resolve(resultOf(result))
      return new Promise<IteratorResult<A>>((resolve) => {
        const node: Node = new Node(undefined, (raw: unknown) => {
          waiting.delete(node)
          resolve(resultOf(raw))
        })
        waiting.add(node)
        core.enqueueTake(node)
      })
    },
    return: () => {
      returned = true
      for (const node of Array.from(waiting)) {
        if (!node.active) continue
        core.withdraw(node)
        node.done(CLOSED)
      }
      return Promise.resolve(DONE)
    }
  }
}

// ── private ─────────────────────────────────────────────────────────────────

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

/** A take's result (a value, or `CLOSED`) as an iterator result. */
const resultOf = <A>(raw: unknown): IteratorResult<A> => (raw === CLOSED ? DONE : { done: false, value: raw as A })
