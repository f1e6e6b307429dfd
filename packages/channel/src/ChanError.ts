/**
 * The errors of `@tributary/channel`. Each is an effect tagged error (`Data.TaggedError`) with a
 * `_tag` equal to its name: `yield*` fails with it, `Effect.catchTag` matches it (when it is a
 * failure), `Cause` inspection finds it (when it is a defect), and it is `instanceof` its class.
 *
 * @since 0.2.0
 */
import { describeValue } from "@tributary/arguments"
import * as Data from "effect/Data"

/**
 * A bad argument: a buffer size that is negative, fractional, NaN or infinite; a buffer argument
 * that is neither a size nor a `Buffer` (`null` included: only `undefined` means unbuffered); 0 for
 * a `Buffer` constructor; an xform without a buffer; a negative or NaN duration; `select([])` without
 * `orElse`; a channel argument that is not a channel (a tap, a subscriber or a mix input included:
 * refused when added); a mult, pub or mix argument that is not one (refused before anything
 * changes); a function argument that is not a function (a select handler, an `Xform`'s,
 * a combinator's, `putUnsafe`'s `onDone`); a function that returned the wrong kind of value (a
 * `Chan.forEach` `f` returning no Effect, an `Xform.keep` function no Option); an iterable that is
 * not one; a `signal` that is not an `AbortSignal` (`null` included); an options argument that is
 * not an object, or has a key the function does not know (a misspelt option: the message lists the
 * known ones and the one meant when one is close), or a boolean option (`close`, `ordered`,
 * `priority`, a mix state's `mute`, `pause`, `solo`) that is not a boolean. Thrown by the `*Unsafe` functions,
 * the `Xform` constructors, `Chan.toStream` and `Chan.toAsyncIterable`, died with by the Effect operations, rejected with by the async API's
 * `put`, `take` and `select`. The message names the argument and the value received.
 *
 * ```ts
 * import { Chan, ChanArgumentError } from "@tributary/channel"
 *
 * const size = Number(process.env.QUEUE_SIZE) // NaN when unset
 * try {
 *   Chan.makeUnsafe<string>(size)
 * } catch (e) {
 *   if (e instanceof ChanArgumentError) console.error(e.argument, e.value) // names the buffer size, and NaN
 * }
 * ```
 *
 * @since 0.2.0
 */
export class ChanArgumentError extends Data.TaggedError("ChanArgumentError")<{
  /** The name of the offending argument, e.g. `"buffer size"`. */
  readonly argument: string
  /** The value that was received. */
  readonly value: unknown
  /** names the argument, what it expects and the value received */
  readonly message: string
}> {
  constructor(argument: string, value: unknown, expected: string) {
    super({ argument, value, message: `Invalid ${argument}: expected ${expected}, received ${describeValue(value)}` })
  }
}

/**
 * A pending put or take beyond the channel's `maxPending`. It is a defect, not a typed failure (as
 * core.async's assertion): it signals missing backpressure. The channel keeps working.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, ChanPendingLimitError } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const events = yield* Chan.make<string>(0, { name: "events", maxPending: 2 })
 *   // nobody reads: two puts wait, the third dies (Too many pending puts on channel "events": …)
 *   yield* Effect.forEach(["a", "b", "c"], (e) => Chan.put(events, e), { concurrency: "unbounded" })
 * }).pipe(Effect.catchDefect((d) => (d instanceof ChanPendingLimitError ? Effect.logError(d.message) : Effect.die(d))))
 * ```
 *
 * @since 0.2.0
 */
export class ChanPendingLimitError extends Data.TaggedError("ChanPendingLimitError")<{
  /** Which side overflowed. */
  readonly side: "put" | "take"
  /** The channel's `name` option, if any. */
  readonly channel: string | undefined
  /** The limit in force. */
  readonly limit: number
  /** names the side, the channel and the limit, and what to use instead of waiting */
  readonly message: string
}> {
  constructor(side: "put" | "take", channel: string | undefined, limit: number) {
    super({
      side,
      channel,
      limit,
      message:
        `Too many pending ${side}s on channel ${channel === undefined ? "(unnamed)" : JSON.stringify(channel)}: ` +
        `the limit is ${limit} (maxPending). Use a buffer, a dropping/sliding buffer, or offer.`
    })
  }
}
