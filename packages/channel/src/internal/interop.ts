/**
 * Conversions between channels and effect `Stream`s and `AsyncIterable`s: `toStream`,
 * `fromStream`, `toAsyncIterable`, `fromAsyncIterable`. `Chan.ts` re-exports them.
 *
 * Invariants: those that start a fiber (`from*`) fork it into the caller's `Scope` and close their
 * channel when the source ends, fails (logged at Error level) or the scope closes; a value taken
 * from the source but not delivered goes to the channel's `onUndelivered`; the `to*` conversions
 * take one value per pull, never ahead of their consumer.
 *
 * @internal
 */
import * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { BufferSpec } from "../Buffer.js"
import { ChanArgumentError } from "../ChanError.js"
import { checkChan } from "./arguments.js"
import type { ChanCore } from "./channel.js"
import { background, closing, withHand } from "./delivery.js"
import { feed, holdStep, type Iteration } from "./feed.js"
import { iteratorOf } from "./iterator.js"
import * as Chan from "./operations.js"
import type { ReadPort } from "./ports.js"

/**
 * The values of `ch` as a `Stream`, ending when `ch` is closed and drained. Each pull takes one
 * value: it never takes ahead of the consumer (operators such as `Stream.buffer` may). Throws
 * `ChanArgumentError` (at the call) when `ch` is not a channel.
 *
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make<number>(4)
 *   for (const n of [1, 2, 3]) yield* Chan.put(ch, n)
 *   yield* Chan.close(ch)
 *   return yield* Stream.runCollect(Stream.map(Chan.toStream(ch), (n) => n * 10)) // [10, 20, 30]
 * })
 * ```
 *
 * @since 0.2.0
 */
export const toStream = <A>(ch: ReadPort<A>): Stream.Stream<A> => {
  checkChan(ch, "Chan.toStream ch")
  return Stream.fromPull(
    Effect.succeed(
      Effect.flatMap(Chan.take(ch), (next) => (Option.isSome(next) ? Effect.succeed(Arr.of(next.value)) : Cause.done()))
    )
  )
}

/**
 * A channel fed by `stream` in a fiber of the caller's scope; it closes when the stream ends.
 * `buffer` is the channel's buffer (default unbuffered).
 *
 * Gotchas: a stream failure (or defect) is logged at Error level and closes the channel; closing
 * the channel stops the stream at its next element; closing the scope interrupts the stream.
 *
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const ch = yield* Chan.fromStream(Stream.make(1, 2, 3), 8)
 *     return yield* Chan.toArray(ch) // [1, 2, 3]
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const fromStream = <A, E, R>(
  stream: Stream.Stream<A, E, R>,
  buffer: BufferSpec = 0
): Effect.Effect<ReadPort<A>, never, Scope.Scope | R> =>
  Effect.suspend(() => {
    if (!Stream.isStream(stream)) throw new ChanArgumentError("Chan.fromStream stream", stream, "a Stream")
    const out = Chan.makeUnsafe<A>(buffer)
    const work = withHand<A, void, E, R>(
      (hand) =>
        Stream.runForEachWhile(stream, (a) =>
          Effect.suspend(() => {
            hand.hold(a)
            return hand.putTo(out)
          })
        ),
      out
    ).pipe(
      Effect.catchCause((cause) => Effect.logError("Chan.fromStream: the stream failed; the channel is closed", cause))
    )
    return Effect.as(background("Chan.fromStream", work, closing(out, true)), out)
  })

/**
 * The values of `ch` as an `AsyncIterable` (for `for await`), ending when `ch` is closed and
 * drained. Each `next()` takes one value: it never takes ahead; `break` (the iterator's `return`)
 * stops taking and withdraws a take still pending.
 *
 * The same iterator as the async API's `iterate`: each `next()` is a plain pending take, served
 * in turn with the channel's other takes. Throws `ChanArgumentError` (at the call) when `ch` is
 * not a channel.
 *
 * ```ts
 * import { Chan } from "@tributary/channel"
 *
 * const ch = Chan.makeUnsafe<string>(4)
 * Chan.offerUnsafe(ch, "a")
 * Chan.offerUnsafe(ch, "b")
 * Chan.closeUnsafe(ch)
 * for await (const s of Chan.toAsyncIterable(ch)) console.log(s) // "a", then "b"
 * ```
 *
 * @since 0.2.0
 */
export const toAsyncIterable = <A>(ch: ReadPort<A>): AsyncIterable<A> => {
  const core = checkChan(ch as unknown as ChanCore<unknown, A>, "Chan.toAsyncIterable ch")
  return { [Symbol.asyncIterator]: () => iteratorOf(core) }
}

/**
 * A channel fed by `it` in a fiber of the caller's scope; it closes when the iteration ends.
 * `buffer` is the channel's buffer (default unbuffered).
 *
 * Gotchas: an iterator that throws (or rejects) is logged at Error level and closes the channel.
 * Stopping early (the channel closed, or the scope) calls the iterator's `return`; if a `next()`
 * is still pending then, `return` is called without waiting for it (and its outcome is ignored).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * async function* lines() {
 *   yield "first"
 *   yield "second"
 * }
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const ch = yield* Chan.fromAsyncIterable(lines())
 *     return yield* Chan.toArray(ch) // ["first", "second"]
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const fromAsyncIterable = <A>(
  it: AsyncIterable<A>,
  buffer: BufferSpec = 0
): Effect.Effect<ReadPort<A>, never, Scope.Scope> =>
  Effect.suspend(() => {
    if (typeof (it as Partial<AsyncIterable<A>> | undefined)?.[Symbol.asyncIterator] !== "function") {
      throw new ChanArgumentError("Chan.fromAsyncIterable it", it, "an async iterable")
    }
    const out = Chan.makeUnsafe<A>(buffer)
    return Effect.as(background("Chan.fromAsyncIterable", feed(out, asyncIterationOf(it)), closing(out, true)), out)
  })

// ── private ─────────────────────────────────────────────────────────────────

/**
 * `feed`'s `Iteration` of an async iterable: one `next()` at a time, each awaited. Stopped while a
 * `next()` is pending, it calls `return` without waiting (see `fromAsyncIterable`).
 */
const asyncIterationOf = <A>(it: AsyncIterable<A>): Iteration<A, AsyncIterator<A>> => {
  let nextPending = false
  return {
    open: () => it[Symbol.asyncIterator](),
    next: (iterator, hand) => {
      nextPending = true
      return Effect.map(Effect.tryPromise({ try: () => iterator.next(), catch: identity }), (step) => {
        nextPending = false
        return holdStep(hand, step)
      })
    },
    stop: (iterator) =>
      nextPending
        ? // waiting for `return` behind a `next()` that may never settle would hold up the scope's close
          Effect.try({ try: () => void Promise.resolve(iterator.return!()).then(ignore, ignore), catch: identity })
        : Effect.tryPromise({ try: () => Promise.resolve(iterator.return!()), catch: identity }),
    threw: "Chan.fromAsyncIterable: the iterator threw; the channel is closed",
    returnThrew: "Chan.fromAsyncIterable: the iterator's return failed"
  }
}

const ignore = (): void => {}
