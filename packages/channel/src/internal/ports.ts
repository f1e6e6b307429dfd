/**
 * The channel's models: the two ports, the channel, its options. Types only; every module of the
 * package may import them (nothing here imports the package's code).
 *
 * @internal
 */
import type * as Option from "effect/Option"
import type { Xform } from "../Xform.js"

// ── models ──────────────────────────────────────────────────────────────────

/**
 * The put side of a channel (as Go's `chan<-`): functions that only produce take this.
 *
 * @since 0.2.0
 */
export interface WritePort<in A> {
  /** @internal phantom: the type of the values put */
  readonly "~tributary/WritePort": (_: A) => void
}

/**
 * The take side of a channel (as Go's `<-chan`): functions that only consume take this.
 *
 * @since 0.2.0
 */
export interface ReadPort<out A> {
  /** @internal phantom: the type of the values taken */
  readonly "~tributary/ReadPort": () => A
}

/**
 * A CSP channel: both a `WritePort<In>` and a `ReadPort<Out>`; `Out` differs from `In` only when
 * the channel has an `xform`.
 *
 * @since 0.2.0
 */
export interface Chan<in In, out Out = In> extends WritePort<In>, ReadPort<Out> {}

/**
 * Options of `make`, `makeUnsafe`, `promiseChan`, `promiseChanUnsafe` and the facade's `chan`. A key
 * that is none of these (nor `xform`, `onXformError`: `XformOptions`) is refused with
 * `ChanArgumentError`, as every options argument of the package refuses one it does not know.
 *
 * @since 0.2.0
 */
export interface Options<in I> {
  /** Shows in errors and logs. */
  readonly name?: string
  /** Pending puts (and, separately, pending takes) allowed at once; an integer >= 1 or Infinity, default 1024. */
  readonly maxPending?: number
  /**
   * Called exactly once for every accepted value that no taker will ever receive: dropped by a
   * dropping or sliding buffer, returned by `discard`, dropped by an xform that finished early,
   * ignored by a promise channel that already holds its value. With an xform, values that reached
   * the buffer are passed as transformed. Values an xform filters out are not undelivered. If it
   * throws, the error is logged at Error level and the operation completes as if it had returned.
   * Errors of this and of the xform are logged through the logger of the fiber whose operation ran
   * them (a take that pulled a pending put in included), before its next effect; those of the
   * synchronous and Promise operations through effect's default logger.
   */
  readonly onUndelivered?: (value: I) => void
}

/**
 * Options of a channel with a transducer (a buffer >= 1 is required).
 *
 * Capacity (core.async's `full?`: count >= n): an expanding xform (`Xform.flatMap`) may add more
 * values than the buffer's size in one step; the buffer is then full until takes bring it below
 * its size, so puts wait (pending puts stay pending) and `offer` returns `false` until then.
 *
 * @since 0.2.0
 */
export interface XformOptions<in out I, in out O> extends Omit<Options<I>, "onUndelivered"> {
  /** the transducer every put value passes through on its way into the buffer (fresh state for each channel) */
  readonly xform: Xform<I, O>
  /** As in `Options`; a value that reached the buffer comes transformed (an `O`), one that did not as put (an `I`). */
  readonly onUndelivered?: (value: I | O) => void
  /** `Some` inserts its value in the input's place, `None` drops it; default: logged at Error, dropped. */
  readonly onXformError?: (error: unknown, input: I) => Option.Option<O>
}

/**
 * The type of the values a take on `C` yields.
 *
 * @since 0.2.0
 */
export type ValueOf<C> = C extends ReadPort<infer A> ? A : never

/**
 * Options of `select`.
 *
 * @since 0.2.0
 */
export interface SelectOptions<D> {
  /** Default `false`: a fair random choice among ready cases; `true`: the first ready case in list order. */
  readonly priority?: boolean
  /** core.async `:default`: run when no case is ready at once, so select never suspends (a value or an Effect). */
  readonly orElse?: () => D
}
