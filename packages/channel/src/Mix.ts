/**
 * A mix (core.async `mix`): any number of input channels merged onto one output, each input with a
 * `mute` / `pause` / `solo` state that can change while the mix runs.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Mix } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const out = yield* Chan.make<string>(16)
 *     const m = yield* Chan.mix(out)
 *     const alerts = yield* Chan.make<string>(4)
 *     const chatter = yield* Chan.make<string>(4)
 *     yield* Mix.add(m, alerts)
 *     yield* Mix.toggle(m, new Map([[chatter, { mute: true }]]))
 *   })
 * )
 * ```
 *
 * States (as core.async): a muted input is taken and its values discarded; a paused input is not
 * taken at all (its values stay in it). When any input is soloed, only soloed inputs reach the
 * output, and every other input is treated as the solo mode says: `"mute"` (default) or `"pause"`.
 * A soloed input's own `mute` and `pause` flags are ignored (core.async's doc of `toggle`): it is
 * taken and forwarded.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Buffer from "./Buffer.js"
import { ChanArgumentError } from "./ChanError.js"
import { checkChan, checkOption, checkOptionsArgument } from "./internal/arguments.js"
import { background, type Hand, withHand } from "./internal/delivery.js"
import { safely } from "./internal/guard.js"
import * as Chan from "./internal/operations.js"

type ReadPort<A> = Chan.ReadPort<A>
type WritePort<A> = Chan.WritePort<A>

// ── models ──────────────────────────────────────────────────────────────────

/**
 * Inputs merged onto one output, each with a state; made by `make` (`Chan.mix`).
 *
 * @since 0.2.0
 */
export interface Mix<in out A> {
  /** @internal phantom: the type of the values mixed */
  readonly "~tributary/Mix": (_: A) => A
}

/**
 * The state of one input; `toggle` sets the fields given and keeps the others (all start `false`).
 *
 * @since 0.2.0
 */
export interface State {
  /** Taken, and its values discarded. */
  readonly mute?: boolean
  /** Not taken at all: its values stay in it. */
  readonly pause?: boolean
  /**
   * When any input is soloed, only soloed inputs reach the output; the others get the solo mode.
   * While soloed, this input's own `mute` and `pause` are ignored (kept for when it is un-soloed).
   */
  readonly solo?: boolean
}

/**
 * How non-soloed inputs are treated while any input is soloed: `"mute"` (default) or `"pause"`.
 *
 * @since 0.2.0
 */
export type SoloMode = "mute" | "pause"

// ── guards ──────────────────────────────────────────────────────────────────

/**
 * Whether `u` is a `Mix`.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Mix } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const m = yield* Mix.make(yield* Chan.make<number>(1))
 *     return Mix.isMix(m) // true
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const isMix: (u: unknown) => u is Mix<unknown> = safely((u): u is Mix<unknown> => u instanceof MixImpl)

// ── constructors ────────────────────────────────────────────────────────────

/**
 * Starts a mix onto `out` (no inputs yet) in a fiber of the caller's scope, and returns it at once
 * (core.async `mix`). Re-exported as `Chan.mix`.
 *
 * Use it for a merge whose inputs come and go, or must be silenced or held back at times.
 *
 * Gotchas:
 * - The mix never closes `out`; it stops when `out` is closed (the value it held goes to `out`'s
 *   `onUndelivered`) or when the scope closes. A stopped mix reads no input again: `add` and
 *   `toggle` then change nothing (as a tap added to a finished mult, the input gets nothing); they
 *   do not fail, since `out` may close while another fiber is adding.
 * - An input that closes is removed from the mix.
 * - Each turn waits on every readable input at once: the cost of a turn grows with the inputs.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Mix } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const out = yield* Chan.make<string>(16)
 *     const m = yield* Mix.make(out) // or Chan.mix(out)
 *     const a = yield* Chan.make<string>(4)
 *     yield* Mix.add(m, a)
 *     yield* Chan.put(a, "hello")
 *     return yield* Chan.take(out) // Option.some("hello")
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const make = <A>(out: WritePort<A>): Effect.Effect<Mix<A>, never, Scope.Scope> =>
  Effect.suspend(() => {
    checkChan(out, "Chan.mix out")
    const m = new MixImpl<A>()
    // stopped once the loop ends, or the scope closes before it ran (see `background`)
    const stop = Effect.sync(() => {
      m.stopped = true
      m.inputs.clear()
    })
    return Effect.as(background("Chan.mix", run(m, out), stop), m)
  })

// ── operations ──────────────────────────────────────────────────────────────

/**
 * Adds `port` to the mix (unmuted, unpaused, not soloed); adding it again, or to a mix that has
 * stopped (see `make`), changes nothing. Dies with `ChanArgumentError` when `m` is not a mix or
 * `port` not a channel.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Mix } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const out = yield* Chan.make<string>(16)
 *     const m = yield* Chan.mix(out)
 *     const sensor = yield* Chan.make<string>(4)
 *     yield* Mix.add(m, sensor) // removed again by the mix when sensor closes
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const add = <A>(m: Mix<A>, port: ReadPort<A>): Effect.Effect<void> =>
  Effect.sync(() => {
    const impl = checkMix(m)
    checkChan(port, "Mix.add port")
    if (impl.stopped || impl.inputs.has(port)) return
    impl.inputs.set(port, idle)
    impl.changed()
  })

/**
 * Removes `port` from the mix; its values stay in it. Dies with `ChanArgumentError` (and changes
 * nothing) when `m` is not a mix or `port` not a channel.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Mix } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const out = yield* Chan.make<string>(16)
 *     const m = yield* Chan.mix(out)
 *     const sensor = yield* Chan.make<string>(4)
 *     yield* Mix.add(m, sensor)
 *     yield* Mix.remove(m, sensor) // values put on sensor from now on stay in it
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const remove = <A>(m: Mix<A>, port: ReadPort<A>): Effect.Effect<void> =>
  Effect.sync(() => {
    const impl = checkMix(m)
    checkChan(port, "Mix.remove port")
    if (impl.inputs.delete(port)) impl.changed()
  })

/**
 * Sets the state of each port in `states`: the fields given are set, the others kept. A port not
 * in the mix yet is added in that state (unless the mix has stopped: see `make`). Dies with
 * `ChanArgumentError` (and changes nothing) for an `m` that is not a mix, a port that is not a
 * channel, or a state that is not an object or has a field that is not a boolean.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Mix } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const out = yield* Chan.make<string>(16)
 *     const alerts = yield* Chan.make<string>(16)
 *     const chatter = yield* Chan.make<string>(16)
 *     const m = yield* Chan.mix(out)
 *     yield* Mix.toggle(m, new Map([[alerts, { solo: true }], [chatter, { mute: false }]]))
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const toggle = <A>(m: Mix<A>, states: ReadonlyMap<ReadPort<A>, State>): Effect.Effect<void> =>
  Effect.sync(() => {
    const impl = checkMix(m)
    if (!(states instanceof Map)) {
      throw new ChanArgumentError("Mix.toggle states", states, "a Map from input channels to states")
    }
    // every entry is checked before any is applied
    for (const [port, state] of states) {
      checkChan(port, "Mix.toggle port")
      if (typeof state !== "object" || state === null || Array.isArray(state)) {
        throw new ChanArgumentError("Mix.toggle state", state, "an object ({ mute?, pause?, solo? })")
      }
      checkOptionsArgument("Mix.toggle", state, STATE_KEYS)
      checkOption("Mix.toggle mute", state.mute, "boolean")
      checkOption("Mix.toggle pause", state.pause, "boolean")
      checkOption("Mix.toggle solo", state.solo, "boolean")
    }
    if (impl.stopped) return
    for (const [port, state] of states) {
      const current = impl.inputs.get(port) ?? idle
      impl.inputs.set(port, {
        mute: state.mute ?? current.mute,
        pause: state.pause ?? current.pause,
        solo: state.solo ?? current.solo
      })
    }
    impl.changed()
  })

/**
 * Sets how non-soloed inputs are treated while any input is soloed: `"mute"` (taken and
 * discarded; the default) or `"pause"` (not taken). Dies with `ChanArgumentError` (and changes
 * nothing) for another mode, or an `m` that is not a mix.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Mix } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const out = yield* Chan.make<string>(16)
 *     const alerts = yield* Chan.make<string>(16)
 *     const chatter = yield* Chan.make<string>(16)
 *     const m = yield* Chan.mix(out)
 *     yield* Mix.add(m, chatter)
 *     // while alerts is soloed, chatter is not taken at all (its values wait) instead of discarded
 *     yield* Mix.soloMode(m, "pause")
 *     yield* Mix.toggle(m, new Map([[alerts, { solo: true }]]))
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const soloMode = <A>(m: Mix<A>, mode: SoloMode): Effect.Effect<void> =>
  Effect.sync(() => {
    const impl = checkMix(m)
    if (mode !== "mute" && mode !== "pause") throw new ChanArgumentError("solo mode", mode, '"mute" or "pause"')
    impl.soloMode = mode
    impl.changed()
  })

// ── private ─────────────────────────────────────────────────────────────────

/** The keys of a `State`. */
const STATE_KEYS: ReadonlyArray<string> = ["mute", "pause", "solo"]

/** `m` as its implementation; throws `ChanArgumentError` unless it is a mix. */
const checkMix = <A>(m: Mix<A>): MixImpl<A> => {
  if (!isMix(m)) throw new ChanArgumentError("mix", m, "a Mix (made by Chan.mix)")
  return m as MixImpl<A>
}

interface Flags {
  readonly mute: boolean
  readonly pause: boolean
  readonly solo: boolean
}

const idle: Flags = { mute: false, pause: false, solo: false }

class MixImpl<A> implements Mix<A> {
  declare readonly "~tributary/Mix": (_: A) => A
  /** The inputs and their states, in the order they were added. */
  readonly inputs = new Map<ReadPort<A>, Flags>()
  soloMode: SoloMode = "mute"
  /** `out` closed, or the mix's scope did: no input is read again (`add` and `toggle` change nothing). */
  stopped = false
  /**
   * Signals the loop to recompute what it reads. A sliding buffer of one: a burst of changes is one
   * signal, and never a pending put (a mix of thousands of inputs stays within `maxPending`).
   */
  readonly signal = Chan.makeUnsafe<void>(Buffer.sliding(1))

  changed(): void {
    Chan.offerUnsafe(this.signal, undefined)
  }
}

/** What one turn of the loop reads, and which of those inputs reach the output. */
interface View<A> {
  readonly cases: ReadonlyArray<Chan.SelectCase<ReadPort<A> | undefined>>
  readonly solos: ReadonlySet<ReadPort<A>>
  readonly mutes: ReadonlySet<ReadPort<A>>
}

/**
 * core.async's `calc-state`: with solos in pause mode, read only the solos; else every soloed or
 * unpaused input.
 */
const view = <A>(m: MixImpl<A>, hand: Hand<A>): View<A> => {
  const solos = new Set<ReadPort<A>>()
  const mutes = new Set<ReadPort<A>>()
  const pauses = new Set<ReadPort<A>>()
  for (const [port, flags] of m.inputs) {
    if (flags.solo) solos.add(port)
    if (flags.mute) mutes.add(port)
    if (flags.pause) pauses.add(port)
  }
  // a soloed input's own mute and pause flags are ignored (core.async's doc of `toggle`)
  const reads =
    m.soloMode === "pause" && solos.size > 0
      ? Array.from(solos)
      : Array.from(m.inputs.keys()).filter((port) => solos.has(port) || !pauses.has(port))
  const cases: Array<Chan.SelectCase<ReadPort<A> | undefined>> = reads.map((port) =>
    Chan.onTake(port, (next: Option.Option<A>) => {
      if (Option.isSome(next)) hand.hold(next.value)
      else m.inputs.delete(port)
      return port
    })
  )
  cases.push(Chan.onTake(m.signal, () => undefined))
  return { cases, solos, mutes }
}

/**
 * The mix's loop: wait on every readable input and the change signal; a value from an input that
 * is soloed, or unmuted while nothing is soloed, is put on `out`, any other is discarded. A closed
 * input is removed. Stops when `out` is closed.
 */
const run = <A>(m: MixImpl<A>, out: WritePort<A>): Effect.Effect<void> =>
  withHand<A, void, never, never>(
    (hand) =>
      Effect.gen(function* () {
        let current = view(m, hand)
        while (true) {
          const port = yield* Chan.select(current.cases)
          if (port === undefined || !hand.isFull) {
            // the change signal, or an input that closed (and was removed)
            current = view(m, hand)
            continue
          }
          const audible = current.solos.size > 0 ? current.solos.has(port) : !current.mutes.has(port)
          if (!audible) hand.drop()
          else if (!(yield* hand.putTo(out))) return
        }
      }),
    out
  )
