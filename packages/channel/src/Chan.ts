/**
 * CSP channels in the style of Clojure's core.async, for effect 4: rendezvous, fixed, dropping,
 * sliding and promise channels; put/take/offer/poll/close; an atomic `select` (core.async `alts!`)
 * with priority and a default; timeouts; transducers.
 *
 * ```ts
 * import { Effect, Option } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make<number>(16)
 *   yield* Effect.forkChild(Effect.gen(function* () {
 *     for (let i = 0; i < 3; i++) yield* Chan.put(ch, i)
 *     yield* Chan.close(ch)
 *   }))
 *   let sum = 0
 *   for (let v = yield* Chan.take(ch); Option.isSome(v); v = yield* Chan.take(ch)) sum += v.value
 *   return sum // 3
 * })
 * ```
 *
 * Fairness (as Go's and core.async's take and put queues): waiting takes are served first come,
 * first served, and so are waiting puts. A value that arrives while takes wait is theirs: a take,
 * poll or select that comes later never gets it first, so consumers reading one channel (a worker
 * pool) each get their share. Values are taken in the order they were put (per producer).
 *
 * Gotchas:
 * - `close` keeps buffered values and pending puts takeable; takers see `None` only once drained.
 * - A pending put or take beyond `maxPending` (default 1024) dies with `ChanPendingLimitError`:
 *   it means a producer or consumer has no backpressure.
 * - Interruption: an interrupted take consumes nothing (a value handed to it is given back); an
 *   interrupted put delivers nothing, except when the interrupt lands after a taker received the
 *   value and before the putting fiber ran again (see docs/channels.md, "Interruption").
 * - In `Effect.gen`, an operation that completes at once without waking anyone (a put into a
 *   buffer with room, a take or poll of a buffered value, a select whose chosen case takes one)
 *   completes inside `yield*`, without a round through the fiber's run loop: it happens when
 *   `yield*` asks the Effect for its iterator, still counts toward the fiber's turn before it yields
 *   to others, and still stops at a pending interrupt. Iterate these Effects only with `yield*`. In
 *   a function made by `Effect.fnUntracedEager`, whose generator runs when it is called, such an
 *   operation therefore happens at the call (when called inside a fiber), not when the returned
 *   Effect runs: use `Effect.fn`/`Effect.fnUntraced` around channel operations.
 *
 * @since 0.2.0
 */
export * from "./internal/operations.js"

// ── combinators ─────────────────────────────────────────────────────────────
// Each combinator that starts fibers needs a `Scope` and runs its fibers in it; the consumers
// (`toArray`, `reduce`, `forEach`) and the conversions (`toStream`, `toAsyncIterable`) do not.
// (They build on ./internal/operations.js, never on this module: imports go one way.)

/** @since 0.2.0 */
export type { CloseOptions, PipelineOptions, SplitOptions } from "./internal/combinators.js"
/** @since 0.2.0 */
export {
  forEach,
  fromIterable,
  merge,
  onto,
  pipe,
  pipeline,
  reduce,
  split,
  toArray
} from "./internal/combinators.js"
/** @since 0.2.0 */
export { fromAsyncIterable, fromStream, toAsyncIterable, toStream } from "./internal/interop.js"
/** @since 0.2.0 */
export { make as mix } from "./Mix.js"
/** @since 0.2.0 */
export { make as mult } from "./Mult.js"
/** @since 0.2.0 */
export { make as pub } from "./Pub.js"
