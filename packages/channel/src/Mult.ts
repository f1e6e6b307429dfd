/**
 * A mult (core.async `mult`): one source channel copied to any number of taps. Every value taken
 * from the source is put on every tap before the next value is taken.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Buffer, Chan, Mult } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const events = yield* Chan.make<string>(16)
 *     const m = yield* Chan.mult(events)
 *     const audit = yield* Chan.make<string>(Buffer.sliding(100))
 *     yield* Mult.tap(m, audit)
 *   })
 * )
 * ```
 *
 * Gotchas:
 * - A slow tap holds back every tap: give a tap a dropping or sliding buffer if it may lag.
 * - Values taken while there is no tap are dropped.
 * - A tap found closed is removed (the value it missed goes to its `onUndelivered`). A tap closed
 *   while the mult's put to it is pending still takes that put (a closed channel's pending puts
 *   stay takeable): until someone takes it, every tap waits. To leave, `untap` first (it withdraws
 *   that put; core.async's `untap` does not, so there the mult keeps waiting), or keep taking the
 *   closed tap until it is drained.
 * - A tap closed without `untap` is forgotten even while the source is quiet: `tap` drops the
 *   closed taps (those without a pending put) each time the number of taps has doubled since it
 *   last did, so taps that come and go (a client per tap) never hold more than about twice the
 *   open ones.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { ChanArgumentError } from "./ChanError.js"
import { checkChan, closeOption } from "./internal/arguments.js"
import type { ChanCore } from "./internal/channel.js"
import { background, putOrEnqueue, reportXform, undeliver } from "./internal/delivery.js"
import { safely } from "./internal/guard.js"
import * as Chan from "./internal/operations.js"
import { tapDropped } from "./internal/tapDrops.js"

type ReadPort<A> = Chan.ReadPort<A>
type WritePort<A> = Chan.WritePort<A>

// ── models ──────────────────────────────────────────────────────────────────

/**
 * A source channel copied to a set of taps; made by `make` (`Chan.mult`).
 *
 * @since 0.2.0
 */
export interface Mult<in out A> {
  /** @internal phantom: the type of the values copied */
  readonly "~tributary/Mult": (_: A) => A
}

/**
 * Options of `tap`.
 *
 * @since 0.2.0
 */
export interface TapOptions {
  /** Close the tap when the source closes (and when the mult's scope closes). Default `true`. */
  readonly close?: boolean
}

// ── guards ──────────────────────────────────────────────────────────────────

/**
 * Whether `u` is a `Mult`.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Mult } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const source = yield* Chan.make<number>(1)
 *     const m = yield* Mult.make(source)
 *     return Mult.isMult(m) // true
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const isMult: (u: unknown) => u is Mult<unknown> = safely((u): u is Mult<unknown> => u instanceof MultImpl)

// ── constructors ────────────────────────────────────────────────────────────

/**
 * Starts copying `source` to the taps (none yet) in a fiber of the caller's scope, and returns the
 * mult at once (core.async `mult`). Re-exported as `Chan.mult`.
 *
 * Use it to fan one stream of values out to several consumers that each need every value.
 *
 * Gotchas: when the source closes, or the scope closes, every tap tapped with `close` (the
 * default) is closed; a tap added after that is closed at once (with `close`) and gets nothing.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Mult } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const prices = yield* Chan.make<number>(16)
 *     const m = yield* Mult.make(prices) // or Chan.mult(prices)
 *     const chart = yield* Chan.make<number>(16)
 *     const log = yield* Chan.make<number>(16)
 *     yield* Mult.tap(m, chart)
 *     yield* Mult.tap(m, log)
 *     yield* Chan.put(prices, 101)
 *     yield* Chan.close(prices) // closes both taps once they have every value
 *     return [yield* Chan.toArray(chart), yield* Chan.toArray(log)] // [[101], [101]]
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const make = <A>(source: ReadPort<A>): Effect.Effect<Mult<A>, never, Scope.Scope> =>
  Effect.suspend(() => {
    checkChan(source, "Chan.mult source")
    const m = new MultImpl<A>(source)
    const { loop, teardown } = distribute(m)
    return Effect.as(background("Chan.mult", loop, teardown), m)
  })

// ── operations ──────────────────────────────────────────────────────────────

/**
 * Adds `ch` as a tap: it gets every value taken from the source from now on. Tapping a channel
 * again only updates its `close` flag. Taps closed without `untap` are dropped here once the
 * number of taps has doubled since the last time (amortized O(1) per `tap`).
 *
 * A tap made after the mult finished (its source closed, or its scope ended) gets nothing and is
 * closed at once, unless `close: false` (then it is left open). In core.async such a tap is never
 * closed, and its reader waits forever.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Buffer, Chan, Mult } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const events = yield* Chan.make<string>(16)
 *     const m = yield* Chan.mult(events)
 *     // a tap that may lag keeps only the newest 100 values, so it never holds the others back;
 *     // close: false keeps it open when the source closes
 *     const audit = yield* Chan.make<string>(Buffer.sliding(100))
 *     yield* Mult.tap(m, audit, { close: false })
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const tap = <A>(m: Mult<A>, ch: WritePort<A>, options?: TapOptions): Effect.Effect<void> =>
  Effect.suspend(() => {
    const impl = checkMult(m)
    checkChan(ch, "Mult.tap ch")
    const close = closeOption("Mult.tap", options)
    if (impl.finished) return close ? Chan.close(ch) : Effect.void
    const existing = impl.taps.get(ch)
    if (existing !== undefined) existing.close = close
    else {
      if (impl.taps.size >= impl.pruneAt) dropClosedTaps(impl)
      impl.taps.set(ch, new Tap(ch, close))
    }
    return Effect.void
  })

/**
 * Removes the tap `ch` (without closing it). A value still waiting to be put on it is withdrawn
 * (and goes to its `onUndelivered`), so an untapped slow tap stops holding the others back. Dies
 * with `ChanArgumentError` (and changes nothing) when `m` is not a mult or `ch` not a channel.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Mult } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const events = yield* Chan.make<string>(16)
 *     const m = yield* Chan.mult(events)
 *     const screen = yield* Chan.make<string>(16)
 *     yield* Mult.tap(m, screen)
 *     yield* Mult.untap(m, screen) // screen stays open and gets no more values
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const untap = <A>(m: Mult<A>, ch: WritePort<A>): Effect.Effect<void> =>
  Effect.sync(() => {
    const impl = checkMult(m)
    checkChan(ch, "Mult.untap ch")
    const existing = impl.taps.get(ch)
    if (existing === undefined) return
    impl.taps.delete(ch)
    tapsShrank(impl)
    existing.cancel?.()
  })

/**
 * Removes every tap (without closing them). Dies with `ChanArgumentError` when `m` is not a mult.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Mult } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const events = yield* Chan.make<string>(16)
 *     const m = yield* Chan.mult(events)
 *     yield* Mult.tap(m, yield* Chan.make<string>(16))
 *     yield* Mult.tap(m, yield* Chan.make<string>(16))
 *     yield* Mult.untapAll(m) // values taken from now on are dropped until a new tap
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const untapAll = <A>(m: Mult<A>): Effect.Effect<void> =>
  Effect.sync(() => {
    const impl = checkMult(m)
    const removed = Array.from(impl.taps.values())
    impl.taps.clear()
    for (const existing of removed) existing.cancel?.()
  })

// ── private ─────────────────────────────────────────────────────────────────

/** The number of taps below which `tap` never looks for closed ones. */
const pruneFloor = 8

/**
 * Drops the taps whose channel is closed, except those with a put of the current value pending
 * (that put stays takeable; `untap` withdraws it), then lets the taps double before the next time.
 */
const dropClosedTaps = <A>(m: MultImpl<A>): void => {
  for (const [ch, tap] of m.taps) {
    if (tap.withdraw !== undefined || !(ch as unknown as ChanCore).closed) continue
    m.taps.delete(ch)
    tapDropped(m, ch)
  }
  m.pruneAt = Math.max(pruneFloor, 2 * m.taps.size)
}

/**
 * After a tap left: the next prune comes by the time the taps have doubled from what is left, so
 * closed taps pile up to about twice the open ones, not twice the most the mult ever had.
 */
const tapsShrank = <A>(m: MultImpl<A>): void => {
  m.pruneAt = Math.min(m.pruneAt, Math.max(pruneFloor, 2 * m.taps.size))
}

/** `m` as its implementation; throws `ChanArgumentError` unless it is a mult. */
const checkMult = <A>(m: Mult<A>): MultImpl<A> => {
  if (!isMult(m)) throw new ChanArgumentError("mult", m, "a Mult (made by Chan.mult)")
  return m as MultImpl<A>
}

class Tap<A> {
  /** While a put of the current value waits on this tap: withdraws it (teardown). */
  withdraw: (() => void) | undefined = undefined
  /** While a put of the current value waits on this tap: withdraws it and counts it missed (`untap`). */
  cancel: (() => void) | undefined = undefined
  constructor(
    readonly ch: WritePort<A>,
    public close: boolean
  ) {}
}

class MultImpl<A> implements Mult<A> {
  declare readonly "~tributary/Mult": (_: A) => A
  /** The taps, by channel, in the order they were added. */
  readonly taps = new Map<WritePort<A>, Tap<A>>()
  /** The source closed, or the mult's scope did: no value will come. */
  finished = false
  /** The number of taps at which `tap` next drops the closed ones (twice what is left since the last prune or removal). */
  pruneAt = pruneFloor
  constructor(readonly source: ReadPort<A>) {}
}

/**
 * The mult's loop (core.async's `put!` with a countdown): take a value, put it on every tap at
 * once, and wait until every put has completed. `owed` holds the taps the value has not reached;
 * a put's outcome is recorded at its commit, so on teardown exactly the taps still owed get it
 * through their `onUndelivered`.
 */
const distribute = <A>(
  m: MultImpl<A>
): { readonly loop: Effect.Effect<void>; readonly teardown: Effect.Effect<void> } => {
  let value: A | undefined
  let owed: Set<Tap<A>> | undefined
  /** Puts `v` on every tap of `round`, removing each as its put completes; done when `round` is empty. */
  const deliverAll = (round: Set<Tap<A>>, v: A): Effect.Effect<void> =>
    Effect.callback<void>((resume) => {
      let waiting = false
      const settle = (tap: Tap<A>, accepted: boolean): void => {
        tap.withdraw = tap.cancel = undefined
        round.delete(tap)
        if (!accepted) {
          // closed (it leaves the mult) or untapped: it missed this value
          const found = m.taps.get(tap.ch) === tap
          if (found) {
            m.taps.delete(tap.ch)
            tapsShrank(m)
          }
          undeliver(tap.ch, v)
          if (found) tapDropped(m, tap.ch)
        }
        if (round.size === 0 && waiting) queueMicrotask(() => resume(Effect.void))
      }
      for (const tap of Array.from(round)) {
        // untapped meanwhile (by a fiber this loop resumed): it misses the value
        if (m.taps.get(tap.ch) !== tap) {
          settle(tap, false)
          continue
        }
        const withdraw = putOrEnqueue(tap.ch, v, (accepted) => settle(tap, accepted))
        if (withdraw !== undefined) {
          tap.withdraw = withdraw
          tap.cancel = () => {
            withdraw()
            settle(tap, false)
          }
        }
      }
      if (round.size === 0) return resume(Effect.void)
      waiting = true
      return Effect.sync(() => {
        for (const tap of round) {
          tap.withdraw?.()
          tap.withdraw = tap.cancel = undefined
        }
      })
    })
  const loop = Effect.gen(function* () {
    while (true) {
      const taken = yield* Effect.map(Chan.take(m.source), (next) => {
        if (Option.isNone(next)) return false
        value = next.value
        owed = m.taps.size === 0 ? undefined : new Set(m.taps.values())
        return true
      })
      if (!taken) return
      if (owed === undefined) continue
      const round = Array.from(owed)
      yield* deliverAll(owed, value as A)
      for (const tap of round) yield* reportXform(tap.ch, true)
      owed = undefined
      value = undefined
    }
  })
  return {
    // a defect is logged (by `background`) before the teardown closes the taps
    loop,
    // after the loop, or at the scope's close when it never ran (see `background`)
    teardown: Effect.suspend(() => {
      if (owed !== undefined) for (const tap of owed) undeliver(tap.ch, value as A)
      owed = undefined
      m.finished = true
      const closing = Array.from(m.taps.values()).filter((tap) => tap.close)
      m.taps.clear()
      return Effect.forEach(closing, (tap) => Chan.close(tap.ch), { discard: true })
    })
  }
}
