/**
 * A pub (core.async `pub`/`sub`): one source channel split into topics by `topicFn`; each topic is
 * a `Mult` to which subscribers are tapped.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Buffer, Chan, Pub } from "@tributary/channel"
 *
 * type Event = { readonly type: "order" | "refund"; readonly id: string }
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const events = yield* Chan.make<Event>(64)
 *     const p = yield* Chan.pub(events, (e) => e.type, () => Buffer.sliding(16))
 *     const orders = yield* Chan.make<Event>(8)
 *     yield* Pub.sub(p, "order", orders)
 *   })
 * )
 * ```
 *
 * Gotchas:
 * - Without `bufFn`, each topic is unbuffered: a slow subscriber holds back every topic.
 * - Values of a topic without subscribers are dropped, as are values whose `topicFn` throws (logged).
 * - Topics are compared as `Map` keys (`SameValueZero`): use strings or numbers, not fresh objects.
 * - A topic lasts while it has subscribers: when its last one leaves (`unsub`, or closed and found
 *   so) the topic is removed, so ever-new topics (an id each) cost nothing once left. A subscriber
 *   closed without `unsub` is found at the topic's next value, by a later `sub` to the topic (see
 *   `Mult.tap`), or, when every subscriber of the topic is closed, by a `sub` that makes a topic
 *   (each time the number of topics has doubled).
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import type { BufferSpec } from "./Buffer.js"
import { ChanArgumentError } from "./ChanError.js"
import { checkChan, checkFunction, closeOption, makeBuffer } from "./internal/arguments.js"
import { ChanCore } from "./internal/channel.js"
import { background, guarded, Hand, takeInto, undeliver } from "./internal/delivery.js"
import { safely } from "./internal/guard.js"
import * as Chan from "./internal/operations.js"
import { onTapDropped } from "./internal/tapDrops.js"
import * as Mult from "./Mult.js"

type ReadPort<A> = Chan.ReadPort<A>
type WritePort<A> = Chan.WritePort<A>

// ── models ──────────────────────────────────────────────────────────────────

/**
 * A source channel split into topics; made by `make` (`Chan.pub`).
 *
 * @since 0.2.0
 */
export interface Pub<in out A, in out T> {
  /** @internal phantom: the types of the values and of their topics */
  readonly "~tributary/Pub": (_: A) => T
}

/**
 * Options of `sub`.
 *
 * @since 0.2.0
 */
export interface SubOptions {
  /** Close the subscriber when the source closes (and when the pub's scope closes). Default `true`. */
  readonly close?: boolean
}

// ── guards ──────────────────────────────────────────────────────────────────

/**
 * Whether `u` is a `Pub`.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Pub } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const source = yield* Chan.make<string>(1)
 *     const p = yield* Pub.make(source, (s) => s.length)
 *     return Pub.isPub(p) // true
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const isPub: (u: unknown) => u is Pub<unknown, unknown> = safely(
  (u): u is Pub<unknown, unknown> => u instanceof PubImpl
)

// ── constructors ────────────────────────────────────────────────────────────

/**
 * Starts routing the values of `source` by `topicFn(value)` in a fiber of the caller's scope, and
 * returns the pub at once (core.async `pub`). Re-exported as `Chan.pub`.
 *
 * Use it when consumers each want a subset of a stream of values, selected by a key.
 *
 * Gotchas:
 * - `bufFn(topic)` gives each topic's buffer (default: unbuffered, so a slow subscriber holds back
 *   every topic). It is called by `sub` when a topic gets its first subscriber, and again when a
 *   topic whose subscribers all left gets one anew.
 * - The per-topic fibers (started by `sub`) belong to the scope `make` ran in, not to the caller
 *   of `sub`. When the source closes, or that scope closes, subscribers with `close` are closed.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Buffer, Chan, Pub } from "@tributary/channel"
 *
 * type Log = { readonly level: "info" | "error"; readonly text: string }
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const logs = yield* Chan.make<Log>(64)
 *     // one sliding buffer of 16 per topic, so a slow subscriber never holds back the other topic
 *     const p = yield* Pub.make(logs, (l) => l.level, () => Buffer.sliding(16)) // or Chan.pub(...)
 *     const errors = yield* Chan.make<Log>(16)
 *     yield* Pub.sub(p, "error", errors)
 *     yield* Chan.put(logs, { level: "info", text: "started" }) // no "info" subscriber: dropped
 *     yield* Chan.put(logs, { level: "error", text: "disk full" })
 *     yield* Chan.close(logs)
 *     return yield* Chan.toArray(errors) // [{ level: "error", text: "disk full" }]
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const make = <A, T>(
  source: ReadPort<A>,
  topicFn: (a: A) => T,
  bufFn?: (topic: T) => BufferSpec
): Effect.Effect<Pub<A, T>, never, Scope.Scope> =>
  Effect.gen(function* () {
    checkChan(source, "Chan.pub source")
    checkFunction("Chan.pub topicFn", topicFn)
    if (bufFn !== undefined) checkFunction("Chan.pub bufFn", bufFn)
    const p = new PubImpl<A, T>(topicFn, bufFn, yield* Effect.scope)
    const { loop, teardown } = route(p, source)
    yield* background("Chan.pub", loop, teardown)
    return p
  })

// ── operations ──────────────────────────────────────────────────────────────

/**
 * Subscribes `ch` to `topic`: it gets every value of that topic from now on. Subscribing the same
 * channel again only updates its `close` flag.
 *
 * A subscriber added after the pub finished (its source closed, or its scope ended) gets nothing
 * and is closed at once, unless `close: false` (then it is left open). In core.async such a
 * subscriber is never closed, and its reader waits forever.
 *
 * Gotcha: dies if `bufFn` throws or returns a bad buffer (`ChanArgumentError`).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Pub } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const orders = yield* Chan.make<{ readonly region: string; readonly id: number }>(64)
 *     const p = yield* Chan.pub(orders, (o) => o.region)
 *     const eu = yield* Chan.make<{ readonly region: string; readonly id: number }>(16)
 *     yield* Pub.sub(p, "eu", eu) // closed when orders closes
 *     yield* Pub.sub(p, "us", yield* Chan.make(16), { close: false }) // kept open
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const sub = <A, T>(p: Pub<A, T>, topic: T, ch: WritePort<A>, options?: SubOptions): Effect.Effect<void> =>
  Effect.suspend(() => {
    const impl = checkPub(p)
    checkChan(ch, "Pub.sub ch")
    const close = closeOption("Pub.sub", options)
    if (impl.finished) return close ? Chan.close(ch) : Effect.void
    const existing = impl.topics.get(topic)
    if (existing !== undefined) {
      existing.subscribers.add(ch)
      return Mult.tap(existing.mult, ch, { close })
    }
    const subscribers = new Set<WritePort<A>>([ch])
    // as a channel constructor's buffer argument: `undefined` (no bufFn, or none returned) is unbuffered
    const spec = impl.bufFn?.(topic)
    const buffer = spec === undefined ? undefined : makeBuffer("Chan.pub bufFn result", spec)
    const input = new ChanCore<A>(buffer, {
      onUndelivered: (value) => {
        for (const subscriber of subscribers) undeliver(subscriber, value)
      }
    }) as unknown as Chan.Chan<A>
    return Effect.flatMap(Scope.provide(Mult.make(input), impl.scope), (mult) =>
      Effect.suspend(() => {
        if (impl.finished || impl.topics.has(topic)) {
          // the pub finished, or another `sub` made the topic, while this mult started: end it, start over
          Chan.closeUnsafe(input)
          return sub(p, topic, ch, options)
        }
        if (impl.topics.size >= impl.pruneAt) dropAbandonedTopics(impl)
        const made: Topic<A> = { input, mult, subscribers }
        impl.topics.set(topic, made)
        // a subscriber the mult found closed is forgotten; the last one takes the topic with it
        onTapDropped<WritePort<A>>(mult, (dropped) => {
          subscribers.delete(dropped)
          if (subscribers.size === 0) forgetTopic(impl, topic, made)
        })
        return Mult.tap(mult, ch, { close })
      })
    )
  })

/**
 * Unsubscribes `ch` from `topic` (without closing it). When `ch` was the topic's last subscriber,
 * the topic is removed as `unsubAll(p, topic)` removes it (its values are dropped until a later
 * `sub` makes it anew), so a pub over ever-new topics does not grow. Dies with
 * `ChanArgumentError` (and changes nothing) when `p` is not a pub or `ch` not a channel.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Pub } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const words = yield* Chan.make<string>(64)
 *     const p = yield* Chan.pub(words, (w) => w[0] ?? "")
 *     const a = yield* Chan.make<string>(16)
 *     yield* Pub.sub(p, "a", a)
 *     yield* Pub.unsub(p, "a", a) // a stays open and gets no more values
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const unsub = <A, T>(p: Pub<A, T>, topic: T, ch: WritePort<A>): Effect.Effect<void> =>
  Effect.suspend(() => {
    const impl = checkPub(p)
    checkChan(ch, "Pub.unsub ch")
    const existing = impl.topics.get(topic)
    if (existing === undefined) return Effect.void
    existing.subscribers.delete(ch)
    return existing.subscribers.size === 0 ? removeTopic(impl, topic) : Mult.untap(existing.mult, ch)
  })

/**
 * Unsubscribes every subscriber of `topic`, or of every topic when `topic` is omitted (not passed
 * at all), without closing them. The topic's values are dropped until it gets a subscriber again.
 * Dies with `ChanArgumentError` when `p` is not a pub.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Pub } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const words = yield* Chan.make<string>(64)
 *     const p = yield* Chan.pub(words, (w) => w[0] ?? "")
 *     yield* Pub.sub(p, "a", yield* Chan.make<string>(16))
 *     yield* Pub.sub(p, "b", yield* Chan.make<string>(16))
 *     yield* Pub.unsubAll(p, "a") // only topic "a"
 *     yield* Pub.unsubAll(p) // every topic
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const unsubAll = <A, T>(p: Pub<A, T>, ...topic: [topic?: T | undefined]): Effect.Effect<void> =>
  Effect.suspend(() => {
    const impl = checkPub(p)
    const removed = topic.length === 0 ? Array.from(impl.topics.keys()) : [topic[0] as T]
    return Effect.forEach(removed, (t) => removeTopic(impl, t), { discard: true })
  })

// ── private ─────────────────────────────────────────────────────────────────

/** `p` as its implementation; throws `ChanArgumentError` unless it is a pub. */
const checkPub = <A, T>(p: Pub<A, T>): PubImpl<A, T> => {
  if (!isPub(p)) throw new ChanArgumentError("pub", p, "a Pub (made by Chan.pub)")
  return p as PubImpl<A, T>
}

interface Topic<A> {
  /**
   * The topic's channel (buffered by `bufFn`), the source of its mult. A value it drops (a
   * dropping or sliding buffer, or teardown) goes to every subscriber's `onUndelivered`.
   */
  readonly input: Chan.Chan<A>
  readonly mult: Mult.Mult<A>
  /** The mult's taps: added by `sub`, removed by `unsub` and by the mult when it drops a closed one. */
  readonly subscribers: Set<WritePort<A>>
}

class PubImpl<A, T> implements Pub<A, T> {
  declare readonly "~tributary/Pub": (_: A) => T
  readonly topics = new Map<T, Topic<A>>()
  /** The source closed, or the pub's scope did: no value will come. */
  finished = false
  /** The number of topics at which `sub` next removes the abandoned ones (twice what was left last time). */
  pruneAt = pruneFloor
  constructor(
    readonly topicFn: (a: A) => T,
    readonly bufFn: ((topic: T) => BufferSpec) | undefined,
    /** The scope `make` ran in: the topics' mults run there. */
    readonly scope: Scope.Scope
  ) {}
}

/**
 * After a topic left: the next sweep comes by the time the topics have doubled from what is left,
 * so abandoned topics pile up to about twice the live ones, not twice the most the pub ever had.
 */
const topicsShrank = <A, T>(p: PubImpl<A, T>): void => {
  p.pruneAt = Math.min(p.pruneAt, Math.max(pruneFloor, 2 * p.topics.size))
}

/** Drops `topic`: its subscribers are untapped first, so closing its channel ends its mult without closing them. */
const removeTopic = <A, T>(p: PubImpl<A, T>, topic: T): Effect.Effect<void> =>
  Effect.suspend(() => {
    const existing = p.topics.get(topic)
    if (existing === undefined) return Effect.void
    p.topics.delete(topic)
    topicsShrank(p)
    existing.subscribers.clear()
    return Effect.andThen(Mult.untapAll(existing.mult), Chan.close(existing.input))
  })

/**
 * Takes `existing`, whose subscribers are gone (its mult dropped the last one, found closed) or all
 * closed, out of the pub and closes its channel, which ends its mult once the values it holds are
 * taken (and dropped).
 */
const forgetTopic = <A, T>(p: PubImpl<A, T>, topic: T, existing: Topic<A>): void => {
  if (p.topics.get(topic) === existing) {
    p.topics.delete(topic)
    topicsShrank(p)
  }
  Chan.closeUnsafe(existing.input)
}

/** The number of topics below which `sub` never looks for abandoned ones. */
const pruneFloor = 8

/**
 * Removes the topics every subscriber of which is closed (a topic that gets no value and no `sub`
 * any more would not find out), then lets the topics double before the next time. A sweep looks at
 * each topic's subscribers up to its first open one, so it costs O(topics) plus the closed
 * subscribers its mult has not dropped yet, once per doubling. A closed subscriber with a put
 * pending keeps its topic: the topic's mult waits on it, and `unsub` must still find it.
 */
const dropAbandonedTopics = <A, T>(p: PubImpl<A, T>): void => {
  for (const [topic, existing] of p.topics) if (abandoned(existing)) forgetTopic(p, topic, existing)
  p.pruneAt = Math.max(pruneFloor, 2 * p.topics.size)
}

/** Whether every subscriber of `t` is closed, none with a put pending; stops at the first that is not. */
const abandoned = <A>(t: Topic<A>): boolean => {
  for (const subscriber of t.subscribers) {
    const core = subscriber as unknown as ChanCore<A>
    if (!core.closed || core.putters.size > 0) return false
  }
  return true
}

/**
 * The pub's loop: take a value, find its topic, put it on the topic's channel (or drop it). On
 * teardown the value in hand and the topics' buffered values go to the subscribers'
 * `onUndelivered`; when the source closes, the topics' mults deliver what is buffered, then close.
 */
const route = <A, T>(
  p: PubImpl<A, T>,
  source: ReadPort<A>
): { readonly loop: Effect.Effect<void>; readonly teardown: Effect.Effect<void> } => {
  const hand = new Hand<A>()
  let target: Topic<A> | undefined
  /** The source closed (and was drained): the topics deliver what they hold, then close. */
  let drained = false
  const loop = Effect.gen(function* () {
    while (yield* takeInto(source, hand)) {
      const value = hand.value
      const topic = yield* guarded("Chan.pub: topicFn threw; the value was dropped", () => p.topicFn(value))
      target = Option.isSome(topic) ? p.topics.get(topic.value) : undefined
      if (target === undefined) {
        hand.drop()
        continue
      }
      // a topic whose channel was closed (by `unsubAll`) is gone: its value is dropped
      if (!(yield* hand.putTo(target.input))) hand.drop()
      target = undefined
    }
    drained = true
  })
  return {
    // a defect is logged (by `background`) before the teardown closes the topics
    loop,
    // after the loop, or at the scope's close when it never ran (see `background`)
    teardown: Effect.suspend(() => {
      if (target !== undefined) hand.release(target.input)
      hand.drop()
      p.finished = true
      const topics = Array.from(p.topics.values())
      p.topics.clear()
      return Effect.forEach(topics, (t) => (drained ? Chan.close(t.input) : Effect.asVoid(Chan.discard(t.input))), {
        discard: true
      })
    })
  }
}
