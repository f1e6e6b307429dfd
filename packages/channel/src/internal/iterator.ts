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
 * An iterator over `core` (itself async-iterable): each `next()` takes one value (never ahead). `return()` (a `break`)
 * withdraws the takes of `next()`s still pending, which resolve done, so a value put later goes to
 * another taker instead of a promise nobody awaits; the iterator is done from then on.
 */
export const iteratorOf = <A>(core: ChanCore<any, A>): AsyncIterableIterator<A> => {
  let returned = false
  const waiting = new Set<Node>()
  return {
    // iterable itself, as a generator's iterator: `for await` over an iterator already begun
    [Symbol.asyncIterator]() {
      return this
    },
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

/**
 * A take's result (a value, or `CLOSED`) as an iterator result: `{ value, done: false }`, or `DONE`.
 *
 * The value's result is made by the engine's own array iterator, not written as a literal: V8 gives
 * the iterator results it makes a map of their own, and resolving a promise with an object of that
 * map skips looking up a `then` method (its `ResolvePromise` fast path), a lookup that for any other
 * object searches the prototype chain. It is paid by every take that waits, and by every promise
 * resolved with a result (the Promise facade's W1, CPU time per value: ~210 ns before, ~190 after).
 * Otherwise it is the same object: a plain one whose own properties are `value` and `done`, in that
 * order, as in every built-in iterator's results. The two functions are read once, as the module
 * loads, so a program that replaces them later changes nothing here (test/AsyncResult.test.ts).
 */
export const resultOf = <A>(raw: unknown): IteratorResult<A, undefined> =>
  raw === CLOSED ? DONE : (arrayIteratorNext.call(arrayValues.call([raw])) as IteratorYieldResult<A>)

// ── private ─────────────────────────────────────────────────────────────────

/** What a take resolves once the channel is closed and drained (one frozen object, shared). */
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true })

const arrayValues: (this: ReadonlyArray<unknown>) => Iterator<unknown> = Array.prototype.values
const arrayIteratorNext: (this: Iterator<unknown>) => IteratorYieldResult<unknown> = Object.getPrototypeOf(
  [].values()
).next
