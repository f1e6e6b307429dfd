/**
 * Buffer policies for `Chan.make`. A plain number also works as a buffer argument: `0` means
 * unbuffered (rendezvous) and `n >= 1` a fixed buffer of `n`.
 *
 * ```ts
 * import { Buffer, Chan } from "@tributary/channel"
 *
 * const latest = Chan.makeUnsafe<number>(Buffer.sliding(1)) // always the newest reading
 * ```
 *
 * @since 0.2.0
 */
import { ChanArgumentError } from "./ChanError.js"
import type { Policy } from "./internal/buffer.js"
import { safely } from "./internal/guard.js"

/**
 * A buffer policy and its capacity (opaque: build it with `fixed`, `dropping` or `sliding`).
 *
 * @since 0.2.0
 */
export interface Buffer {
  /** @internal brand: what `isBuffer` looks for (only `fixed`, `dropping` and `sliding` set it) */
  readonly "~tributary/Buffer": unknown
  /** what a put into a full buffer does: "fixed" waits, "dropping" drops the new value, "sliding" the oldest */
  readonly policy: Policy
  /** how many values it holds (an integer ≥ 1) */
  readonly capacity: number
}

/**
 * A buffer argument: a size (0 = unbuffered, n >= 1 = a fixed buffer of n) or a `Buffer`.
 *
 * @since 0.2.0
 */
export type BufferSpec = number | Buffer

/**
 * A fixed buffer of `n` values: puts suspend while it is full. Use this when the producer must slow
 * down to the consumer's pace (backpressure). Throws `ChanArgumentError` unless `n` is an integer
 * >= 1 (use `Chan.make(0)` for a rendezvous channel).
 *
 * ```ts
 * import { Buffer, Chan } from "@tributary/channel"
 *
 * const ch = Chan.makeUnsafe<number>(Buffer.fixed(2)) // the same as Chan.makeUnsafe(2)
 * Chan.offerUnsafe(ch, 1) // true
 * Chan.offerUnsafe(ch, 2) // true
 * Chan.offerUnsafe(ch, 3) // false: full (a put would wait)
 * ```
 *
 * @since 0.2.0
 */
export const fixed = (n: number): Buffer => make("fixed", "Buffer.fixed size", n)

/**
 * A buffer of `n` that never suspends a put: when full, the NEW value is dropped (the put still
 * returns `true`; the value goes to `onUndelivered`). Use this when the first values matter and
 * later ones may be shed under load.
 *
 * ```ts
 * import { Buffer, Chan } from "@tributary/channel"
 *
 * const ch = Chan.makeUnsafe<number>(Buffer.dropping(1))
 * Chan.offerUnsafe(ch, 1) // true
 * Chan.offerUnsafe(ch, 2) // true, and 2 is dropped: the buffer keeps the oldest
 * Chan.pollUnsafe(ch) // Option.some(1)
 * ```
 *
 * @since 0.2.0
 */
export const dropping = (n: number): Buffer => make("dropping", "Buffer.dropping size", n)

/**
 * A buffer of `n` that never suspends a put: when full, the OLDEST value is dropped (to
 * `onUndelivered`). Use this when only the latest values matter (readings, progress, status).
 *
 * ```ts
 * import { Buffer, Chan } from "@tributary/channel"
 *
 * const ch = Chan.makeUnsafe<number>(Buffer.sliding(1))
 * Chan.offerUnsafe(ch, 1) // true
 * Chan.offerUnsafe(ch, 2) // true, and 1 is dropped: the buffer keeps the newest
 * Chan.pollUnsafe(ch) // Option.some(2)
 * ```
 *
 * @since 0.2.0
 */
export const sliding = (n: number): Buffer => make("sliding", "Buffer.sliding size", n)

/**
 * Whether `u` is a `Buffer` made by this module.
 *
 * ```ts
 * import { Buffer } from "@tributary/channel"
 *
 * Buffer.isBuffer(Buffer.sliding(8)) // true
 * Buffer.isBuffer(8) // false: a number is a BufferSpec, not a Buffer
 * ```
 *
 * @since 0.2.0
 */
export const isBuffer: (u: unknown) => u is Buffer = safely(
  (u): u is Buffer => typeof u === "object" && u !== null && "~tributary/Buffer" in u
)

// ── private ─────────────────────────────────────────────────────────────────

const make = (policy: Policy, argument: string, n: number): Buffer => {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
    throw new ChanArgumentError(argument, n, "an integer >= 1")
  }
  return { "~tributary/Buffer": undefined, policy, capacity: n }
}
