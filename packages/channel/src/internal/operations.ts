/**
 * The channel's operations (constructors, put/take/offer/poll/close, select) as the public `Chan`
 * module exports them, in a module of their own so that the combinators, `Mult`, `Pub` and `Mix`
 * can build on them without importing `Chan.ts` (which re-exports them): imports go one way. The
 * Effect operations run as the steps of the fiber runtime (`runtime.ts`).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type { BufferSpec } from "../Buffer.js"
import { checkChan, checkChannel, checkFunction, checkOptions } from "./arguments.js"
import { PromiseCell } from "./buffer.js"
import { ChanCore, CLOSED, isChanCore, Node, PENDING } from "./channel.js"
import { safely } from "./guard.js"
import type { Chan, Options, ReadPort, SelectOptions, WritePort, XformOptions } from "./ports.js"
import {
  closeCore,
  dieNotAChannel,
  ignore,
  OfferStep,
  PollStep,
  PutStep,
  SelectStep,
  takeOf,
  toOption
} from "./runtime.js"
import { channelCase, PUT, type SelectCase as SelectCaseImpl, TAKE, timeoutCase } from "./select.js"
import { liveTimer, timeoutChannel } from "./time.js"
import { reportXform, reportXformUnsafe } from "./xformLog.js"

export type { Chan, Options, ReadPort, SelectOptions, ValueOf, WritePort, XformOptions } from "./ports.js"

// ── guards ──────────────────────────────────────────────────────────────────

/**
 * Whether `u` is a channel of this library (made by any constructor, or by the Promise facade).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const ch = Chan.makeUnsafe<number>(1)
 * Chan.isChan(ch) // true
 * Chan.isChan({}) // false
 * const program = Effect.succeed(Chan.isChan(ch))
 * ```
 *
 * @since 0.2.0
 */
export const isChan: (u: unknown) => u is Chan<unknown> = safely((u): u is Chan<unknown> => u instanceof ChanCore)

// ── constructors ────────────────────────────────────────────────────────────

/**
 * Makes a channel synchronously: `makeUnsafe()` / `makeUnsafe(0)` unbuffered (rendezvous: a put
 * completes when a taker takes it), `makeUnsafe(n)` or `makeUnsafe(Buffer.fixed(n))` a fixed
 * buffer, `Buffer.dropping(n)` / `Buffer.sliding(n)` buffers that never suspend a put. Throws
 * `ChanArgumentError` for a bad size or option.
 *
 * ```ts
 * import { Buffer, Chan } from "@tributary/channel"
 *
 * const rendezvous = Chan.makeUnsafe<string>() // a put waits for a taker
 * const fixed = Chan.makeUnsafe<string>(16)
 * const latest = Chan.makeUnsafe<number>(Buffer.sliding(1)) // keeps the newest value
 * Chan.offerUnsafe(latest, 1)
 * Chan.offerUnsafe(latest, 2) // true: 1 is dropped
 * ```
 *
 * @since 0.2.0
 */
export function makeUnsafe<A>(): Chan<A>
export function makeUnsafe<I, O>(buffer: BufferSpec, options: XformOptions<I, O>): Chan<I, O>
export function makeUnsafe<A>(buffer: BufferSpec, options?: Options<A>): Chan<A>
export function makeUnsafe(buffer?: BufferSpec, options?: Options<any> & Partial<XformOptions<any, any>>): Chan<any> {
  return newChan("Chan.makeUnsafe", buffer, options)
}

/**
 * Makes a channel; see `makeUnsafe` for the buffer kinds. Dies with `ChanArgumentError` for a bad
 * size or option.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make<number>(2)
 *   yield* Chan.put(ch, 1)
 *   yield* Chan.put(ch, 2) // buffered: neither put waits
 *   return yield* Chan.take(ch) // Option.some(1)
 * })
 * ```
 *
 * @since 0.2.0
 */
export function make<A>(): Effect.Effect<Chan<A>>
export function make<I, O>(buffer: BufferSpec, options: XformOptions<I, O>): Effect.Effect<Chan<I, O>>
export function make<A>(buffer: BufferSpec, options?: Options<A>): Effect.Effect<Chan<A>>
export function make(buffer?: BufferSpec, options?: Options<any>): Effect.Effect<Chan<any>> {
  return Effect.sync(() => newChan("Chan.make", buffer, options))
}

/**
 * A promise channel, synchronously (core.async `promise-chan`): the first value put is delivered to
 * every taker, forever; later puts return `true` and are ignored (to `onUndelivered`); closing it
 * without a value makes every take see "closed". Use it for a result computed once and read by many.
 * (Not to be confused with the async/await API, `@tributary/channel/async`.)
 *
 * As core.async's `(promise-chan xform ex-handler)`, it takes an `xform` (and `onXformError`): the
 * first value the xform produces is the channel's value (no buffer is needed). `discard` on a
 * promise channel closes it and returns `[]`: its value stays takeable.
 *
 * ```ts
 * import { Chan, Xform } from "@tributary/channel"
 *
 * const config = Chan.promiseChanUnsafe<{ readonly url: string }>()
 * Chan.offerUnsafe(config, { url: "https://example.com" })
 * Chan.pollUnsafe(config) // Option.some({ url: ... }), and again for every later taker
 *
 * const port = Chan.promiseChanUnsafe({ xform: Xform.map((s: string) => Number.parseInt(s, 10)) })
 * Chan.offerUnsafe(port, "8080")
 * Chan.pollUnsafe(port) // Option.some(8080): a Chan<string, number>
 * ```
 *
 * @since 0.2.0
 */
export function promiseChanUnsafe<I, O>(options: XformOptions<I, O>): Chan<I, O>
export function promiseChanUnsafe<A>(options?: Options<A>): Chan<A>
export function promiseChanUnsafe(options?: Options<any> & Partial<XformOptions<any, any>>): Chan<any> {
  return newPromiseChan("Chan.promiseChanUnsafe", options)
}

/**
 * A promise channel (core.async `promise-chan`); see `promiseChanUnsafe`. With an `xform` (and
 * `onXformError`), the first value the xform produces is the channel's value.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Xform } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ready = yield* Chan.promiseChan<string>()
 *   yield* Chan.put(ready, "connected")
 *   yield* Chan.put(ready, "ignored") // true, but the first value stays
 *   const a = yield* Chan.take(ready)
 *   const b = yield* Chan.take(ready)
 *   // with a transducer: the first even number put is the value
 *   const firstEven = yield* Chan.promiseChan({ xform: Xform.filter((n: number) => n % 2 === 0) })
 *   yield* Chan.put(firstEven, 3) // filtered out: still no value
 *   yield* Chan.put(firstEven, 4)
 *   const c = yield* Chan.take(firstEven) // Option.some(4)
 *   return [a, b, c] // a and b both Option.some("connected")
 * })
 * ```
 *
 * @since 0.2.0
 */
export function promiseChan<I, O>(options: XformOptions<I, O>): Effect.Effect<Chan<I, O>>
export function promiseChan<A>(options?: Options<A>): Effect.Effect<Chan<A>>
export function promiseChan(options?: Options<any> & Partial<XformOptions<any, any>>): Effect.Effect<Chan<any>> {
  return Effect.sync(() => newPromiseChan("Chan.promiseChan", options))
}

/**
 * The old name of `promiseChanUnsafe`.
 *
 * ```ts
 * import { Chan } from "@tributary/channel"
 *
 * const ready = Chan.promiseChanUnsafe<string>() // was: Chan.promiseUnsafe<string>()
 * ```
 *
 * @deprecated Use `Chan.promiseChanUnsafe`: the same function, named as core.async names it.
 * @since 0.2.0
 */
export const promiseUnsafe: <A>(options?: Options<A>) => Chan<A> = promiseChanUnsafe

/**
 * The old name of `promiseChan`.
 *
 * ```ts
 * import { Chan } from "@tributary/channel"
 *
 * const ready = Chan.promiseChan<string>() // was: Chan.promise<string>()
 * ```
 *
 * @deprecated Use `Chan.promiseChan`: the same function, named as core.async names it.
 * @since 0.2.0
 */
export const promise: <A>(options?: Options<A>) => Effect.Effect<Chan<A>> = promiseChan

/**
 * A fresh port that closes after `d` of Effect `Clock` time (so `TestClock` drives it). Each call
 * makes its own; a duration above 2^31-1 ms waits that long (`Infinity` never closes). The timer
 * runs in a detached fiber until it fires. Dies with `ChanArgumentError` for a negative or NaN `d`.
 *
 * Gotcha: the timer runs until it fires whoever still reads the port, and keeps a Node process
 * alive until then (a program done after 1 second with a `Chan.timeout("1 hour")` left over exits
 * an hour later). For a deadline on one `select`, use `Chan.onTimeout`: its timer ends with the
 * select.
 *
 * ```ts
 * import { Effect, Option } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const replies = yield* Chan.make<string>(1)
 *   const late = yield* Chan.timeout("2 seconds")
 *   return yield* Chan.select([
 *     Chan.onTake(replies, (r) => (Option.isSome(r) ? r.value : "closed")),
 *     Chan.onTake(late, () => "no reply in 2 seconds")
 *   ])
 * })
 * ```
 *
 * @since 0.2.0
 */
export const timeout = (d: Duration.Input): Effect.Effect<ReadPort<never>> =>
  Effect.suspend(() => {
    /** the Clock timer to start, if the channel closes later */
    let timer: Effect.Effect<unknown> | undefined
    const ch = timeoutChannel("timeout duration", d, newTimeoutCore, (millis, close) => {
      timer = Effect.forkDetach(
        Clock.clockWith((clock) => Effect.andThen(clock.sleep(Duration.millis(millis)), Effect.sync(close)))
      )
    })
    const port = ch as unknown as ReadPort<never>
    return timer === undefined ? Effect.succeed(port) : Effect.as(timer, port)
  })

/**
 * A fresh port that closes after `d` on a live timer (`setTimeout`, chained past 2^31-1 ms, none
 * for `Infinity`). Throws `ChanArgumentError` for a negative or NaN `d`. As `timeout`, it keeps a
 * Node process alive until it fires.
 *
 * ```ts
 * import { Chan } from "@tributary/channel"
 * import { take } from "@tributary/channel/async"
 *
 * const late = Chan.timeoutUnsafe(100)
 * await take(late) // { done: true } after 100 ms
 * ```
 *
 * @since 0.2.0
 */
export const timeoutUnsafe = (d: Duration.Input): ReadPort<never> =>
  timeoutChannel("timeout duration", d, newTimeoutCore, liveTimer) as unknown as ReadPort<never>

// ── operations ──────────────────────────────────────────────────────────────

/**
 * Puts `value`: suspends until it is buffered or handed to a taker. `true` if accepted, `false` if
 * the channel was closed first.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make<string>() // rendezvous: put waits for a taker
 *   yield* Effect.forkChild(Chan.put(ch, "hello"))
 *   const got = yield* Chan.take(ch) // Option.some("hello")
 *   yield* Chan.close(ch)
 *   const accepted = yield* Chan.put(ch, "late") // false: closed
 *   return [got, accepted] as const
 * })
 * ```
 *
 * @since 0.2.0
 */
export const put = <A>(ch: WritePort<A>, value: A): Effect.Effect<boolean> =>
  isChanCore(ch)
    ? (new PutStep(ch as unknown as ChanCore<A>, value) as unknown as Effect.Effect<boolean>)
    : dieNotAChannel(ch)

/**
 * Takes a value: suspends until one is available; `None` once the channel is closed and drained.
 * Waiting takes are served in arrival order. A take that finds values but also takers woken for
 * earlier values and not back yet queues behind them (it suspends briefly), so one busy consumer
 * cannot take every value ahead of the others; with no one in line it completes at once.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make<number>(4)
 *   yield* Chan.put(ch, 1)
 *   yield* Chan.close(ch)
 *   const first = yield* Chan.take(ch) // Option.some(1): closing keeps buffered values
 *   const end = yield* Chan.take(ch) // Option.none(): closed and drained
 *   return [first, end] as const
 * })
 * ```
 *
 * @since 0.2.0
 */
export const take = <A>(ch: ReadPort<A>): Effect.Effect<Option.Option<A>> => {
  // the check runs once per channel, when its take is made
  return ((ch as unknown as ChanCore | undefined)?.takeEffect ?? takeOf(ch)) as Effect.Effect<Option.Option<A>>
}

/**
 * Puts `value` only if that can happen at once; never suspends. `false` if it would have to wait or
 * the channel is closed.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make<number>(1)
 *   const a = yield* Chan.offer(ch, 1) // true: buffered
 *   const b = yield* Chan.offer(ch, 2) // false: full, and offer never waits
 *   return [a, b]
 * })
 * ```
 *
 * @since 0.2.0
 */
export const offer = <A>(ch: WritePort<A>, value: A): Effect.Effect<boolean> =>
  isChanCore(ch)
    ? (new OfferStep(ch as unknown as ChanCore<A>, value) as unknown as Effect.Effect<boolean>)
    : dieNotAChannel(ch)

/**
 * Takes a value only if one is available at once; never suspends. It sees only values no waiting
 * taker is owed: while takes wait (or woken takes are on their way), a buffered value is theirs.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make<number>(1)
 *   const empty = yield* Chan.poll(ch) // Option.none(): nothing now, and poll never waits
 *   yield* Chan.put(ch, 7)
 *   const seven = yield* Chan.poll(ch) // Option.some(7)
 *   return [empty, seven] as const
 * })
 * ```
 *
 * @since 0.2.0
 */
export const poll = <A>(ch: ReadPort<A>): Effect.Effect<Option.Option<A>> =>
  isChanCore(ch)
    ? (new PollStep(ch as unknown as ChanCore<unknown, A>) as unknown as Effect.Effect<Option.Option<A>>)
    : dieNotAChannel(ch)

/**
 * Closes the channel (idempotent). Buffered values and the values of pending puts stay takeable
 * (those puts complete with `true` when taken); pending takers get `None` once those are drained;
 * new puts return `false`; the xform's completion step runs (`partitionAll` flushes) once the
 * values of the pending puts have gone through the xform (as core.async): at once if no put is
 * pending, else when takes have let the last one in, so that `partitionAll`'s last batch holds
 * their values too.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make<number>(4)
 *   yield* Chan.put(ch, 1)
 *   yield* Chan.close(ch)
 *   yield* Chan.close(ch) // idempotent
 *   return yield* Chan.toArray(ch) // [1]
 * })
 * ```
 *
 * @since 0.2.0
 */
export const close = (ch: WritePort<never>): Effect.Effect<void> => closeCore(ch as unknown as ChanCore)

/**
 * Closes and empties the channel at once: pending puts complete with `false`; buffered values are
 * returned (and passed to `onUndelivered`). A promise channel returns `[]` and keeps its value: it
 * is closed, and every later take still gets the value (it never gave it away; core.async has no
 * such operation).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make<number>(4, { onUndelivered: (n) => console.log("dropped", n) })
 *   yield* Chan.put(ch, 1)
 *   yield* Chan.put(ch, 2)
 *   return yield* Chan.discard(ch) // [1, 2]; ch is closed and empty
 * })
 * ```
 *
 * @since 0.2.0
 */
export const discard = <A>(ch: Chan<never, A>): Effect.Effect<Array<A>> =>
  Effect.suspend(() => {
    const core = checkChan(ch as unknown as ChanCore<any, A>)
    return reportXform(core, Exit.succeed(core.discard()))
  })

/**
 * Whether the channel is closed (values may still be takeable).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make<number>(1)
 *   yield* Chan.close(ch)
 *   return yield* Chan.isClosed(ch) // true
 * })
 * ```
 *
 * @since 0.2.0
 */
export const isClosed = (ch: ReadPort<unknown> | WritePort<never>): Effect.Effect<boolean> =>
  Effect.sync(() => checkChan(ch as unknown as ChanCore).closed)

/**
 * How many values are buffered (a promise channel: 0 or 1). Pending puts are not counted.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make<number>(4)
 *   yield* Chan.put(ch, 1)
 *   yield* Chan.put(ch, 2)
 *   return yield* Chan.size(ch) // 2
 * })
 * ```
 *
 * @since 0.2.0
 */
export const size = (ch: ReadPort<unknown> | WritePort<never>): Effect.Effect<number> =>
  Effect.sync(() => checkChan(ch as unknown as ChanCore).size)

/**
 * core.async's `put!`: never suspends; completes now or queues a pending put (which counts toward
 * `maxPending`: beyond it this throws `ChanPendingLimitError`). `onDone(accepted)` is called exactly
 * once, when the put completes (at once included; with `false` on a closed channel). Returns
 * `false` only if the channel is already closed. Throws `ChanArgumentError`, before anything is
 * put, when `onDone` is given and is not a function (`null` included: only `undefined` means none).
 *
 * ```ts
 * import { Chan } from "@tributary/channel"
 *
 * const ch = Chan.makeUnsafe<string>() // rendezvous: the put waits for a taker
 * Chan.putUnsafe(ch, "hello", (accepted) => console.log("delivered:", accepted))
 * Chan.pollUnsafe(ch) // Option.some("hello"); the callback logs "delivered: true"
 * ```
 *
 * @since 0.2.0
 */
export const putUnsafe = <A>(ch: WritePort<A>, value: A, onDone?: (accepted: boolean) => void): boolean => {
  const core = checkChan(ch as unknown as ChanCore<A>)
  // checked before the put: a bad callback kept with a pending put would kill its taker
  if (onDone !== undefined) checkFunction("Chan.putUnsafe onDone", onDone)
  const result = core.tryPut(value)
  reportXformUnsafe(core)
  if (result === PENDING) {
    core.enqueuePut(new Node(value, onDone ?? ignore))
    return true
  }
  onDone?.(result)
  return result
}

/**
 * The synchronous twin of `offer`.
 *
 * ```ts
 * import { Chan } from "@tributary/channel"
 *
 * const ch = Chan.makeUnsafe<number>(1)
 * Chan.offerUnsafe(ch, 1) // true
 * Chan.offerUnsafe(ch, 2) // false: full
 * ```
 *
 * @since 0.2.0
 */
export const offerUnsafe = <A>(ch: WritePort<A>, value: A): boolean => {
  const core = checkChan(ch as unknown as ChanCore<A>)
  const accepted = core.tryPut(value) === true
  reportXformUnsafe(core)
  return accepted
}

/**
 * The synchronous twin of `poll`.
 *
 * ```ts
 * import { Option } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const ch = Chan.makeUnsafe<number>(1)
 * Chan.offerUnsafe(ch, 1)
 * const v = Chan.pollUnsafe(ch)
 * if (Option.isSome(v)) console.log(v.value) // 1
 * ```
 *
 * @since 0.2.0
 */
export const pollUnsafe = <A>(ch: ReadPort<A>): Option.Option<A> => {
  const core = checkChan(ch as unknown as ChanCore<unknown, A>)
  const result = core.tryPoll()
  reportXformUnsafe(core) // a pending put it pulled in ran the xform
  return result === CLOSED || result === PENDING ? Option.none() : Option.some(result)
}

/**
 * The synchronous twin of `close`.
 *
 * ```ts
 * import { Chan } from "@tributary/channel"
 *
 * const ch = Chan.makeUnsafe<number>(1)
 * Chan.closeUnsafe(ch)
 * Chan.offerUnsafe(ch, 1) // false: closed
 * ```
 *
 * @since 0.2.0
 */
export const closeUnsafe = (ch: WritePort<never>): void => {
  const core = checkChan(ch as unknown as ChanCore)
  core.close()
  reportXformUnsafe(core)
}

// ── select ──────────────────────────────────────────────────────────────────

/**
 * One case of a `select`, built by `onTake`, `onPut` or `onTimeout`; `X` is what its handler
 * returns (a value or an Effect).
 *
 * @since 0.2.0
 */
export interface SelectCase<out X> {
  /** @internal phantom: what its handler returns */
  readonly "~tributary/SelectCase": () => X
}

/**
 * What the handler of the select case `C` returns (a value, or an Effect): `CaseResult<typeof
 * Chan.onTake(ch, f)>` is `ReturnType<typeof f>`. `select`'s result type is built from it.
 *
 * @since 0.2.0
 */
export type CaseResult<C> = C extends SelectCase<infer X> ? X : never
/**
 * The success type of `X` when it is an Effect, else `X` itself: what a select case's handler
 * result becomes once `select` has run it.
 *
 * @since 0.2.0
 */
export type Unwrap<X> = X extends Effect.Effect<infer A, any, any> ? A : X
/**
 * The error type of `X` when it is an Effect, else `never`: what a select case's handler adds to
 * `select`'s error channel.
 *
 * @since 0.2.0
 */
export type ErrorOf<X> = X extends Effect.Effect<any, infer E, any> ? E : never
/**
 * The services `X` requires when it is an Effect, else `never`: what a select case's handler adds
 * to `select`'s requirements.
 *
 * @since 0.2.0
 */
export type ContextOf<X> = X extends Effect.Effect<any, any, infer R> ? R : never

/**
 * A select case that takes from `ch`; the handler gets the value, or `None` if the channel closed.
 *
 * ```ts
 * import { Effect, Option } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const orders = yield* Chan.make<string>(8)
 *   const refunds = yield* Chan.make<string>(8)
 *   yield* Chan.put(refunds, "r-1")
 *   return yield* Chan.select([
 *     Chan.onTake(orders, (o) => (Option.isSome(o) ? `order ${o.value}` : "orders closed")),
 *     Chan.onTake(refunds, (r) => (Option.isSome(r) ? `refund ${r.value}` : "refunds closed"))
 *   ]) // "refund r-1"
 * })
 * ```
 *
 * @since 0.2.0
 */
export const onTake = <A, X>(ch: ReadPort<A>, handler: (value: Option.Option<A>) => X): SelectCase<X> =>
  channelCase(TAKE, ch, undefined, handler, toOption) as any

/**
 * A select case that puts `value` on `ch`; the handler gets `true` if accepted, `false` if the
 * channel was closed.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const fast = yield* Chan.make<number>(1)
 *   const slow = yield* Chan.make<number>(1)
 *   yield* Chan.put(fast, 0) // fast is full
 *   return yield* Chan.select([
 *     Chan.onPut(fast, 1, (ok) => (ok ? "fast" : "fast closed")),
 *     Chan.onPut(slow, 1, (ok) => (ok ? "slow" : "slow closed"))
 *   ]) // "slow": the only put that can complete
 * })
 * ```
 *
 * @since 0.2.0
 */
export const onPut = <A, X>(ch: WritePort<A>, value: A, handler: (accepted: boolean) => X): SelectCase<X> =>
  channelCase(PUT, ch, value, handler, toOption) as any

/**
 * A select case that is ready once `d` of Effect `Clock` time has passed since the select began
 * (at once for 0). A negative or NaN `d` makes the select die with `ChanArgumentError`.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const replies = yield* Chan.make<string>(1)
 *   return yield* Chan.select([
 *     Chan.onTake(replies, () => "reply"),
 *     // a handler may return an Effect: it is run when its case wins
 *     Chan.onTimeout("1 second", () => Effect.succeed("no reply"))
 *   ])
 * })
 * ```
 *
 * @since 0.2.0
 */
export const onTimeout = <X>(d: Duration.Input, handler: () => X): SelectCase<X> => {
  return timeoutCase("onTimeout duration", d, handler, toOption) as any
}

/**
 * core.async's `alts!`: waits until one case can complete and commits exactly that one; the others
 * consume and deliver nothing and are unregistered at once. Among ready cases the choice is fair
 * and random, or the first in list order with `priority: true`. With `orElse`, never suspends.
 * The result is the winning handler's (an Effect returned by a handler is run).
 *
 * ```ts
 * import { Effect, Option } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const jobs = yield* Chan.make<string>(1)
 *   return yield* Chan.select([
 *     Chan.onTake(jobs, (job) => (Option.isSome(job) ? "job" : "closed")),
 *     Chan.onTimeout("5 seconds", () => "timed out")
 *   ])
 * })
 * ```
 *
 * Dies with `ChanArgumentError` for `select([])` without `orElse`.
 *
 * @since 0.2.0
 */
export const select = <const Cases extends ReadonlyArray<SelectCase<any>>, D = never>(
  cases: Cases,
  options?: SelectOptions<D>
): Effect.Effect<
  Unwrap<CaseResult<Cases[number]> | D>,
  ErrorOf<CaseResult<Cases[number]> | D>,
  ContextOf<CaseResult<Cases[number]> | D>
> => new SelectStep(cases as unknown as ReadonlyArray<SelectCaseImpl>, options) as any

// ── private ─────────────────────────────────────────────────────────────────

/** A channel made by the constructor `caller` (named in its argument errors). */
const newChan = (
  caller: string,
  buffer: BufferSpec | undefined,
  options: (Options<any> & Partial<XformOptions<any, any>>) | undefined
): Chan<any> => {
  const [buf, core] = checkChannel(caller, buffer, options)
  return new ChanCore(buf, core) as unknown as Chan<any>
}

/** A promise channel made by the constructor `caller` (named in its argument errors). */
const newPromiseChan = (
  caller: string,
  options: (Options<any> & Partial<XformOptions<any, any>>) | undefined
): Chan<any> => new ChanCore(new PromiseCell<any>(), checkOptions(caller, options)) as unknown as Chan<any>

/** The state machine of a timeout channel of the Effect API (unbuffered, named for its duration). */
const newTimeoutCore = (name: string): ChanCore<any> => new ChanCore<any>(undefined, { name })
