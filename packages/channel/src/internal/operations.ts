/**
 * The channel's operations (constructors, put/take/offer/poll/close, select) as the public `Chan`
 * module exports them, in a module of their own so that the combinators, `Mult`, `Pub` and `Mix`
 * can build on them without importing `Chan.ts` (which re-exports them): imports go one way.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type { BufferSpec } from "../Buffer.js"
import { checkChan, checkChannel, checkOptions, notAChannel } from "./arguments.js"
import { PromiseCell } from "./buffer.js"
import { ChanCore, CLOSED, isChanCore, Node, PENDING, WAKE } from "./channel.js"
import type { Chan, Options, ReadPort, WritePort, XformOptions } from "./ports.js"
import {
  channelCase,
  checkCases,
  earliestTimeout,
  PUT,
  pickReady,
  type SelectCase as SelectCaseImpl,
  SelectRegistration,
  TAKE,
  timeoutCase
} from "./select.js"
import {
  type Dispatcher,
  defineStep,
  handOff,
  handOffExit,
  type Next,
  NOT_NOW,
  NowThen,
  type StepFiber
} from "./step.js"
import { liveTimer, timeoutChannel } from "./time.js"
import { reportXform, reportXformUnsafe, reportXformWith, setStepReporter } from "./xformLog.js"

export type { Chan, Options, ReadPort, ValueOf, WritePort, XformOptions } from "./ports.js"

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
 * @since 0.1.0
 */
export const isChan = (u: unknown): u is Chan<unknown> => u instanceof ChanCore

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
 * @since 0.1.0
 */
export function makeUnsafe<A>(): Chan<A>
export function makeUnsafe<I, O>(buffer: BufferSpec, options: XformOptions<I, O>): Chan<I, O>
export function makeUnsafe<A>(buffer: BufferSpec, options?: Options<A>): Chan<A>
export function makeUnsafe(buffer?: BufferSpec, options?: Options<any> & Partial<XformOptions<any, any>>): Chan<any> {
  const [buf, core] = checkChannel(buffer, options)
  return new ChanCore(buf, core) as unknown as Chan<any>
}

/**
 * Makes a channel; see `makeUnsafe` for the buffer kinds. Dies with `ChanArgumentError` for a bad
 * size or option.
 *
 * ```ts
 * import { Effect, Option } from "effect"
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
 * @since 0.1.0
 */
export function make<A>(): Effect.Effect<Chan<A>>
export function make<I, O>(buffer: BufferSpec, options: XformOptions<I, O>): Effect.Effect<Chan<I, O>>
export function make<A>(buffer: BufferSpec, options?: Options<A>): Effect.Effect<Chan<A>>
export function make(buffer?: BufferSpec, options?: Options<any>): Effect.Effect<Chan<any>> {
  return Effect.sync(() => makeUnsafe(buffer ?? 0, options))
}

/**
 * A promise channel, synchronously (core.async `promise-chan`): the first value put is delivered to
 * every taker, forever; later puts return `true` and are ignored (to `onUndelivered`); closing it
 * without a value makes every take see "closed". Use it for a result computed once and read by many.
 * (Not to be confused with the async/await API, `@tributary/channel/async`.)
 *
 * ```ts
 * import { Chan } from "@tributary/channel"
 *
 * const config = Chan.promiseChanUnsafe<{ readonly url: string }>()
 * Chan.offerUnsafe(config, { url: "https://example.com" })
 * Chan.pollUnsafe(config) // Option.some({ url: ... }), and again for every later taker
 * ```
 *
 * @since 0.1.0
 */
export const promiseChanUnsafe = <A>(options?: Options<A>): Chan<A> =>
  new ChanCore(new PromiseCell<A>(), checkOptions(options)) as unknown as Chan<A>

/**
 * A promise channel (core.async `promise-chan`); see `promiseChanUnsafe`.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ready = yield* Chan.promiseChan<string>()
 *   yield* Chan.put(ready, "connected")
 *   yield* Chan.put(ready, "ignored") // true, but the first value stays
 *   const a = yield* Chan.take(ready)
 *   const b = yield* Chan.take(ready)
 *   return [a, b] // both Option.some("connected")
 * })
 * ```
 *
 * @since 0.1.0
 */
export const promiseChan = <A>(options?: Options<A>): Effect.Effect<Chan<A>> =>
  Effect.sync(() => promiseChanUnsafe(options))

/**
 * The old name of `promiseChanUnsafe`.
 *
 * @deprecated Use `Chan.promiseChanUnsafe`: the same function, named as core.async names it.
 * @since 0.1.0
 */
export const promiseUnsafe: <A>(options?: Options<A>) => Chan<A> = promiseChanUnsafe

/**
 * The old name of `promiseChan`.
 *
 * @deprecated Use `Chan.promiseChan`: the same function, named as core.async names it.
 * @since 0.1.0
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
 * @since 0.1.0
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
 * @since 0.1.0
 */
export const timeoutUnsafe = (d: Duration.Input): ReadPort<never> =>
  timeoutChannel("timeout duration", d, newTimeoutCore, liveTimer) as unknown as ReadPort<never>

// ── operations ──────────────────────────────────────────────────────────────

/**
 * Puts `value`: suspends until it is buffered or handed to a taker. `true` if accepted, `false` if
 * the channel was closed first.
 *
 * ```ts
 * import { Effect, Option } from "effect"
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
 * @since 0.1.0
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
 * import { Effect, Option } from "effect"
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
 * @since 0.1.0
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
 * @since 0.1.0
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
 * import { Effect, Option } from "effect"
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
 * @since 0.1.0
 */
export const poll = <A>(ch: ReadPort<A>): Effect.Effect<Option.Option<A>> =>
  isChanCore(ch)
    ? (new PollStep(ch as unknown as ChanCore<unknown, A>) as unknown as Effect.Effect<Option.Option<A>>)
    : dieNotAChannel(ch)

/**
 * Closes the channel (idempotent). Buffered values and the values of pending puts stay takeable
 * (those puts complete with `true` when taken); pending takers get `None` once those are drained;
 * new puts return `false`; the xform's completion step runs (`partitionAll` flushes).
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
 * @since 0.1.0
 */
export const close = (ch: WritePort<never>): Effect.Effect<void> => closeCore(ch as unknown as ChanCore)

/**
 * Closes and empties the channel at once: pending puts complete with `false`; buffered values are
 * returned (and passed to `onUndelivered`). A promise channel returns `[]`.
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
 * @since 0.1.0
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
 * @since 0.1.0
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
 * @since 0.1.0
 */
export const size = (ch: ReadPort<unknown> | WritePort<never>): Effect.Effect<number> =>
  Effect.sync(() => checkChan(ch as unknown as ChanCore).size)

/**
 * core.async's `put!`: never suspends; completes now or queues a pending put (which counts toward
 * `maxPending`: beyond it this throws `ChanPendingLimitError`). `onDone(accepted)` is called exactly
 * once, when the put completes (at once included; with `false` on a closed channel). Returns
 * `false` only if the channel is already closed.
 *
 * ```ts
 * import { Chan } from "@tributary/channel"
 *
 * const ch = Chan.makeUnsafe<string>() // rendezvous: the put waits for a taker
 * Chan.putUnsafe(ch, "hello", (accepted) => console.log("delivered:", accepted))
 * Chan.pollUnsafe(ch) // Option.some("hello"); the callback logs "delivered: true"
 * ```
 *
 * @since 0.1.0
 */
export const putUnsafe = <A>(ch: WritePort<A>, value: A, onDone?: (accepted: boolean) => void): boolean => {
  const core = checkChan(ch as unknown as ChanCore<A>)
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
 * @since 0.1.0
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
 * @since 0.1.0
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
 * @since 0.1.0
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
 * @since 0.1.0
 */
export interface SelectCase<out X> {
  /** @internal phantom: what its handler returns */
  readonly "~tributary/SelectCase": () => X
}

/**
 * What the handler of the select case `C` returns (a value, or an Effect): `CaseResult<typeof
 * Chan.onTake(ch, f)>` is `ReturnType<typeof f>`. `select`'s result type is built from it.
 *
 * @since 0.1.0
 */
export type CaseResult<C> = C extends SelectCase<infer X> ? X : never
/**
 * The success type of `X` when it is an Effect, else `X` itself: what a select case's handler
 * result becomes once `select` has run it.
 *
 * @since 0.1.0
 */
export type Unwrap<X> = X extends Effect.Effect<infer A, any, any> ? A : X
/**
 * The error type of `X` when it is an Effect, else `never`: what a select case's handler adds to
 * `select`'s error channel.
 *
 * @since 0.1.0
 */
export type ErrorOf<X> = X extends Effect.Effect<any, infer E, any> ? E : never
/**
 * The services `X` requires when it is an Effect, else `never`: what a select case's handler adds
 * to `select`'s requirements.
 *
 * @since 0.1.0
 */
export type ContextOf<X> = X extends Effect.Effect<any, any, infer R> ? R : never

/**
 * Options of `select`.
 *
 * @since 0.1.0
 */
export interface SelectOptions<D> {
  /** Default `false`: a fair random choice among ready cases; `true`: the first ready case in list order. */
  readonly priority?: boolean
  /** core.async `:default`: run when no case is ready at once, so select never suspends (a value or an Effect). */
  readonly orElse?: () => D
}

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
 * @since 0.1.0
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
 * @since 0.1.0
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
 * @since 0.1.0
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
 * @since 0.1.0
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

/** The state machine of a timeout channel of the Effect API (unbuffered, named for its duration). */
const newTimeoutCore = (name: string): ChanCore<any> => new ChanCore<any>(undefined, { name })

const exitTrue = Exit.succeed(true)
const exitFalse = Exit.succeed(false)
const ignore = (): void => {}

const closeCore = (core: ChanCore<any, any>): Effect.Effect<void> =>
  Effect.suspend(() => {
    checkChan(core).close()
    return reportXform(core, Exit.void)
  })

const dieNotAChannel = (ch: unknown): Effect.Effect<never> => Effect.die(notAChannel(ch))

/** A channel's `take` Effect, made once and kept on the channel (a take holds no state of its own). */
const takeOf = (ch: unknown): Effect.Effect<unknown> => {
  if (!isChanCore(ch)) return dieNotAChannel(ch)
  return (ch.takeEffect = new TakeStep(ch)) as unknown as Effect.Effect<unknown>
}

const toOption = (result: unknown): Option.Option<any> => (result === CLOSED ? Option.none() : Option.some(result))

const exitNone = Exit.succeed(Option.none())
/** The `Exit` a take hands over: `None` (shared) once closed and drained, else `Some(value)`. */
const takeExit = (result: unknown): Exit.Exit<Option.Option<any>> =>
  result === CLOSED ? exitNone : Exit.succeed(Option.some(result))

/** Continues with the Effect a handler returned, or hands its plain value over in this step. */
const continueWith = (fiber: StepFiber, x: unknown): Next => (isEffect(x) ? x : handOff(fiber, x))

/** `Effect.isEffect` without its `dual` wrapper: a handler's result is checked once per select. */
const isEffect = (x: unknown): x is Effect.Effect<unknown, unknown, unknown> =>
  x !== null && (typeof x === "object" || typeof x === "function") && Effect.TypeId in x

// ── steps ──
// The operations themselves are steps (see internal/step.ts): each tries the synchronous path and,
// when it cannot complete now, continues with the waiting path. A result is handed over in the same
// step, so no interrupt can land between "consumed" and "handed over". A taker that the operation
// hands a value to directly is resumed synchronously, but only after the hand-off
// (`attempt`/`handOffThenResume`): nothing it does to this fiber (interrupt it, as a race does to
// its loser) can land in the middle of this fiber's operation.

/** Resumptions requested while a step is between its channel operation and its hand-off. */
const deferredResumes: Array<() => void> = []
let deferring = 0

/** How many fibers may be resumed inside one another before resumption goes through the scheduler. */
const MAX_NESTED_RESUMES = 32
let nestedResumes = 0

/**
 * Resumes a taker handed a value directly: at once, so that it observes the value before anything
 * else can happen to the channel (a later value, a close), or right after the current step's
 * hand-off; through the scheduler when resumptions already nest deeply (a chain of fibers waking
 * each other must not overflow the stack).
 */
const resumeNow = (dispatcher: Dispatcher, task: () => void): void => {
  if (deferring > 0) {
    deferredResumes.push(task)
    return
  }
  if (nestedResumes >= MAX_NESTED_RESUMES) {
    dispatcher.scheduleTask(task, 0)
    return
  }
  nestedResumes++
  try {
    task()
  } finally {
    nestedResumes--
  }
}

/**
 * Runs a step's channel operation `op(self)` with resumptions deferred (a static `op`: no closure
 * per call). If it throws (a user callback such as `onUndelivered`), the deferred resumptions still
 * run before the error propagates.
 */
const attempt = <S, R>(fiber: StepFiber, mark: number, op: (self: S) => R, self: S): R => {
  deferring++
  let completed = false
  try {
    const result = op(self)
    completed = true
    return result
  } finally {
    deferring--
    if (!completed) continueThenResume(fiber, mark, undefined)
  }
}

/**
 * A failure recorded inside a step's channel operation (a take that pulled a pending put through
 * the xform, say) is logged through that fiber's services with the resumptions deferred since the
 * step's `mark`: right after its hand-off, before the fiber's next effect (see `xformLog.ts`).
 */
setStepReporter((core) => {
  if (deferring === 0) return false
  const fiber = Fiber.getCurrent()
  if (fiber === undefined) return false
  const context = fiber.context
  deferredResumes.push(() => reportXformWith(core, context))
  return true
})

/** Hands `value` over, then runs the resumptions deferred since `mark`. */
const handOffThenResume = (fiber: StepFiber, mark: number, exit: Exit.Exit<unknown>): Next => {
  if (deferredResumes.length === mark) return handOffExit(fiber, exit)
  const tasks = deferredResumes.splice(mark)
  const next = handOffExit(fiber, exit)
  for (const task of tasks) resumeNow(fiber.currentDispatcher, task)
  return next
}

/** Continues with `next` (not a hand-off), then runs the resumptions deferred since `mark`. */
const continueThenResume = (fiber: StepFiber, mark: number, next: Next): Next => {
  if (deferredResumes.length === mark) return next
  for (const task of deferredResumes.splice(mark)) resumeNow(fiber.currentDispatcher, task)
  return next
}

const putOp = (step: PutStep<any> | OfferStep<any>) => step.core.tryPut(step.value)
const takeOp = (step: TakeStep<any>) => step.core.tryTake()
const pollOp = (step: PollStep<any>) => step.core.tryPoll()
const takeOwedOp = (core: ChanCore<unknown, any>) => core.takeOwed()
const completeOwedOp = (c: SelectCaseImpl) => c.completeOwed()
const completeOp = (c: SelectCaseImpl) => c.complete()

class PutStep<A> {
  constructor(
    readonly core: ChanCore<A>,
    readonly value: A
  ) {}
  run(fiber: StepFiber): Next {
    // the common case (room in a plain fixed buffer) resumes no one: nothing to defer
    if (this.core.putBuffered(this.value)) return handOffExit(fiber, exitTrue)
    const mark = deferredResumes.length
    const result = attempt(fiber, mark, putOp, this)
    if (result === PENDING) return waitPut(this.core, this.value, this, fiber)
    if (this.core.xformFailures !== undefined) {
      return continueThenResume(fiber, mark, reportXform(this.core, result ? exitTrue : exitFalse))
    }
    return handOffThenResume(fiber, mark, result ? exitTrue : exitFalse)
  }
  now(): boolean | NOT_NOW {
    return this.core.putBuffered(this.value) ? true : NOT_NOW
  }
}
defineStep(PutStep)

class OfferStep<A> {
  constructor(
    readonly core: ChanCore<A>,
    readonly value: A
  ) {}
  run(fiber: StepFiber): Next {
    const mark = deferredResumes.length
    const result = attempt(fiber, mark, putOp, this) === true
    if (this.core.xformFailures !== undefined) {
      return continueThenResume(fiber, mark, reportXform(this.core, result ? exitTrue : exitFalse))
    }
    return handOffThenResume(fiber, mark, result ? exitTrue : exitFalse)
  }
  now(): boolean | NOT_NOW {
    return this.core.putBuffered(this.value) ? true : NOT_NOW
  }
}
defineStep(OfferStep)

class TakeStep<A> {
  constructor(readonly core: ChanCore<unknown, A>) {}
  run(fiber: StepFiber): Next {
    // the common case (a value in a plain fixed buffer, no pending put) resumes no one
    const value = this.core.takeBuffered()
    if (value !== PENDING) return handOffExit(fiber, Exit.succeed(Option.some(value)))
    const mark = deferredResumes.length
    const result = attempt(fiber, mark, takeOp, this)
    if (result === PENDING) return waitTake(this.core, this, fiber)
    return handOffThenResume(fiber, mark, takeExit(result))
  }
  now(): Option.Option<A> | NOT_NOW {
    const value = this.core.takeBuffered()
    return value === PENDING ? NOT_NOW : Option.some(value)
  }
}
defineStep(TakeStep)

class PollStep<A> {
  constructor(readonly core: ChanCore<unknown, A>) {}
  run(fiber: StepFiber): Next {
    const mark = deferredResumes.length
    const result = attempt(fiber, mark, pollOp, this)
    return handOffThenResume(fiber, mark, result === PENDING ? exitNone : takeExit(result))
  }
  now(): Option.Option<A> | NOT_NOW {
    const value = this.core.takeBuffered()
    return value === PENDING ? NOT_NOW : Option.some(value)
  }
}
defineStep(PollStep)

/** A step running a closure: for the waiting paths, where one allocation more does not matter. */
class ThunkStep {
  constructor(readonly f: (fiber: StepFiber) => Next) {}
  run(fiber: StepFiber): Next {
    return this.f(fiber)
  }
}
defineStep(ThunkStep)
const thunkStep = <A, E = never, R = never>(f: (fiber: StepFiber) => Next): Effect.Effect<A, E, R> =>
  new ThunkStep(f) as unknown as Effect.Effect<A, E, R>

// ── waiting ──
// A waiter registered in `Effect.callback` never completes its operation inside the registration:
// if the channel became ready since the step's first try, it resumes with the step itself, which
// runs again in the fiber's own step.
//
// A committed putter, and a taker woken to take from a fixed buffer, are resumed in a microtask
// (`resumeSoon`), never inside the step of the fiber that committed them: that fiber first runs on
// until it suspends, so a producer keeps filling a buffer and the consumer drains it in a batch,
// and nothing the resumed fiber does can land in the middle of the committing fiber's operation.
// Every 1024th resumption goes through effect's scheduler instead, so fibers that keep waking each
// other cannot starve timers and I/O. Woken takers (`resumeWoken`) come back in the order they were
// woken, which is line order: when one of them is sent through the scheduler, the woken takers after
// it, until the scheduler has run it, wait with it there (in order), so that a consumer sent there
// is not overtaken by the others again and again. A taker handed a value directly is resumed at
// once (`resumeNow`), so it observes the value before anything else happens to the channel.

let resumptions = 0
/** Woken takers waiting for one run through effect's scheduler, in wake-up order (usually none). */
let wokenViaScheduler: Array<() => void> = []

/** Resumes a committed putter (or a select that won a put or timeout case) soon. */
const resumeSoon = (dispatcher: Dispatcher, task: () => void): void => {
  if ((++resumptions & 1023) === 0) dispatcher.scheduleTask(task, 0)
  else queueMicrotask(task)
}

/** Resumes a taker woken by `WAKE` soon, after the takers woken before it. */
const resumeWoken = (dispatcher: Dispatcher, task: () => void): void => {
  if (wokenViaScheduler.length > 0) wokenViaScheduler.push(task)
  else if ((++resumptions & 1023) === 0) {
    wokenViaScheduler.push(task)
    dispatcher.scheduleTask(runWokenViaScheduler, 0)
  } else queueMicrotask(task)
}

/** Runs the woken takers that waited for the scheduler; those woken meanwhile are microtasks (run after). */
const runWokenViaScheduler = (): void => {
  const tasks = wokenViaScheduler
  wokenViaScheduler = []
  let i = 0
  try {
    for (; i < tasks.length; i++) tasks[i]()
  } finally {
    // a task threw: the ones after it still run
    for (let j = i + 1; j < tasks.length; j++) queueMicrotask(tasks[j])
  }
}

/**
 * Below this `MaxOpsBeforeYield`, a waiter is withdrawn on the callback's abort signal, which fires
 * synchronously on interruption. Above it, effect runs the callback's cleanup Effect within the
 * first operations after the interrupt, before any yield, which is as synchronous and cheaper (an
 * `AbortController` per suspension costs more than the whole operation).
 */
const SIGNAL_BELOW_MAX_OPS = 16

/**
 * Registers `cancel` as the waiter's withdrawal: returns the cleanup Effect, or listens on the abort
 * signal when the fiber may yield before running a cleanup Effect.
 */
const onInterrupt = (fiber: StepFiber, signal: AbortSignal, cancel: () => void): Effect.Effect<void> | undefined => {
  if (fiber.cache.maxOpsBeforeYield >= SIGNAL_BELOW_MAX_OPS) return Effect.sync(cancel)
  signal.addEventListener("abort", cancel, { once: true })
  return undefined
}

/**
 * The slow path of `put`. The putter is resumed once a taker (or the buffer) has its value; it is
 * withdrawn on interruption before any taker can take the value.
 */
const waitPut = <A>(core: ChanCore<A>, value: A, step: PutStep<A>, fiber: StepFiber): Effect.Effect<boolean> =>
  callbackWithSignal<boolean>(fiber, (resume, signal) => {
    if (core.canPut()) return resume(step as unknown as Effect.Effect<boolean>)
    const node = new Node(value, (accepted: boolean) => {
      const exit = accepted ? exitTrue : exitFalse
      resumeSoon(fiber.currentDispatcher, () => resume(exit))
    })
    core.enqueuePut(node)
    return onInterrupt(fiber, signal, () => core.withdraw(node))
  })

/**
 * The slow path of `take`. On a fixed buffer it waits as a waking take: woken, it takes again in its
 * own step, so the value leaves the buffer in the step that hands it over. Elsewhere the value is
 * handed to the waiter; if it is interrupted before it observed it, its finalizer gives the value
 * back (`requeue`).
 */
const waitTake = <A>(
  core: ChanCore<unknown, A>,
  step: TakeStep<A>,
  fiber: StepFiber
): Effect.Effect<Option.Option<A>> =>
  callbackWithSignal<Option.Option<A>>(fiber, (resume, signal) => {
    if (core.canTake()) return resume(step as unknown as Effect.Effect<Option.Option<A>>)
    const waiter = new TakeWaiter<A>(core, step, fiber.currentDispatcher, resume)
    core.enqueueTake(waiter.node)
    return onInterrupt(fiber, signal, () => waiter.cancel())
  })

/**
 * `Effect.callback`, with the abort signal only when `onInterrupt` will use it (effect allocates an
 * `AbortController` for a registration function of two parameters).
 */
const callbackWithSignal = <A, E = never, R = never>(
  fiber: StepFiber,
  register: (resume: (effect: Effect.Effect<A, E, R>) => void, signal: AbortSignal) => Effect.Effect<void> | void
): Effect.Effect<A, E, R> =>
  fiber.cache.maxOpsBeforeYield >= SIGNAL_BELOW_MAX_OPS
    ? Effect.callback<A, E, R>((resume) => register(resume, neverAborted))
    : Effect.callback<A, E, R>((resume, signal) => register(resume, signal))

const neverAborted = new AbortController().signal

class TakeWaiter<A> {
  readonly node: Node
  private value: A | CLOSED | WAKE = CLOSED
  /** Woken, and not yet back to take. */
  private woken = false
  private observed = false

  constructor(
    private readonly core: ChanCore<unknown, A>,
    private readonly step: TakeStep<A>,
    dispatcher: Dispatcher,
    private readonly resume: (effect: Effect.Effect<Option.Option<A>>) => void
  ) {
    this.node = new Node(
      undefined,
      (value: A | CLOSED | WAKE) => {
        this.value = value
        if (value === WAKE) {
          this.woken = true
          resumeWoken(dispatcher, this.wakeRetry)
        } else resumeNow(dispatcher, this.wakeObserve)
      },
      undefined,
      core.wakesTakers
    )
  }

  private readonly wakeObserve = (): void => this.resume(this.observe)
  private readonly wakeRetry = (): void => this.resume(this.retry)

  private readonly observe = thunkStep<Option.Option<A>>((fiber) => {
    this.observed = true
    return handOff(fiber, toOption(this.value))
  })

  /** Runs in the taker's own step after `WAKE`: takes the value owed to it. */
  private readonly retry = thunkStep<Option.Option<A>>((fiber) => {
    this.woken = false
    const mark = deferredResumes.length
    const result = attempt(fiber, mark, takeOwedOp, this.core)
    // PENDING only if `discard` emptied the buffer meanwhile and the channel is open (never: it closes)
    if (result === PENDING) return continueThenResume(fiber, mark, waitTake(this.core, this.step, fiber))
    return handOffThenResume(fiber, mark, takeExit(result))
  })

  /** The finalizer: withdraw the node, pass on an unused wake-up, or give back an unobserved value. */
  cancel(): void {
    if (this.node.active) this.core.withdraw(this.node)
    else if (this.woken) {
      this.woken = false
      this.core.wokenTakerWithdrawn()
    } else if (!this.observed && this.value !== CLOSED && this.value !== WAKE) this.core.requeue(this.value)
  }
}

/** Continues with a case's handler result; put cases report xform errors first. */
const completeCase = (fiber: StepFiber, c: SelectCaseImpl, x: unknown): Next => {
  if (c.kind === PUT && c.core!.xformFailures !== undefined) return reportXform(c.core!, toEffect(x))
  return continueWith(fiber, x)
}

/** Completes a ready case now (its channel operation and handler) and continues with the result. */
const runReady = (fiber: StepFiber, c: SelectCaseImpl): Next => {
  const mark = deferredResumes.length
  const x = attempt(fiber, mark, completeOp, c)
  return continueThenResume(fiber, mark, completeCase(fiber, c, x))
}

const toEffect = (x: unknown): Effect.Effect<unknown, unknown, unknown> => (isEffect(x) ? x : Effect.succeed(x))

class SelectStep {
  constructor(
    readonly cases: ReadonlyArray<SelectCaseImpl>,
    readonly options: SelectOptions<unknown> | undefined
  ) {}
  run(fiber: StepFiber): Next {
    const cases = this.cases
    const orElse = this.options?.orElse
    const invalid = checkCases(cases, orElse)
    if (invalid !== undefined) return Effect.die(invalid)
    const priority = this.options?.priority === true
    const ready = pickReady(cases, priority)
    if (ready !== undefined) return runReady(fiber, ready)
    if (orElse !== undefined) return continueWith(fiber, orElse())
    return waitSelect(cases, priority, fiber)
  }
  /** The common case at once: the chosen ready case takes a buffered value nobody waits for. */
  now(): unknown {
    const cases = this.cases
    if (checkCases(cases, this.options?.orElse) !== undefined) return NOT_NOW
    const c = pickReady(cases, this.options?.priority === true)
    if (c === undefined || c.kind !== TAKE) return NOT_NOW
    const value = c.core!.takeBuffered()
    if (value === PENDING) return NOT_NOW
    let x: unknown
    try {
      x = c.handler(c.present(value))
    } catch (error) {
      return new NowThen(Exit.die(error))
    }
    return isEffect(x) ? new NowThen(x) : x
  }
}
defineStep(SelectStep)

/**
 * The slow path of `select`: registers every channel case; the earliest timeout case runs in a
 * child fiber (on effect's `Clock`) that is interrupted when the select ends.
 */
const waitSelect = (
  cases: ReadonlyArray<SelectCaseImpl>,
  priority: boolean,
  fiber: StepFiber
): Effect.Effect<unknown, unknown, unknown> => {
  const waiter = new SelectWaiter(cases, priority, fiber)
  const timer = earliestTimeout(cases)
  if (timer === undefined) return waiter.wait
  return Effect.flatMap(
    Effect.forkChild(
      Clock.clockWith((clock) =>
        Effect.andThen(
          clock.sleep(Duration.millis(timer.millis)),
          Effect.sync(() => waiter.fireTimeout(timer))
        )
      )
    ),
    (fiber) => Effect.onExit(waiter.wait, () => Fiber.interrupt(fiber))
  )
}

/**
 * A select waiting on its cases. A waking take case that wins with `WAKE` makes the select poll
 * again in its own step (and wait again, with the same timer, if the value was taken meanwhile).
 */
class SelectWaiter {
  private registration: SelectRegistration | undefined
  private resume: ((effect: Effect.Effect<unknown, unknown, unknown>) => void) | undefined
  private observed = false
  /** A waking take case won with `WAKE` and the select has not polled again yet. */
  private woken = false
  /** The timeout case whose timer fired while no registration was live. */
  private expired: SelectCaseImpl | undefined

  private readonly dispatcher: Dispatcher

  constructor(
    private readonly cases: ReadonlyArray<SelectCaseImpl>,
    private readonly priority: boolean,
    fiber: StepFiber
  ) {
    this.dispatcher = fiber.currentDispatcher
    this.wait = callbackWithSignal<unknown, unknown, unknown>(fiber, (resume, signal) => {
      // ready since the last poll: poll again in the fiber's own step
      if (this.expired !== undefined || pickReady(this.cases, true) !== undefined) return resume(this.poll)
      this.resume = resume
      const registration = new SelectRegistration()
      this.registration = registration
      registration.register(this.cases, () => this.onCommit(registration), true)
      return onInterrupt(fiber, signal, () => this.cancel(registration))
    })
  }

  readonly wait: Effect.Effect<unknown, unknown, unknown>

  /** Polls the cases in the select's own step: runs a ready one (or the expired timeout), or waits again. */
  private readonly poll = thunkStep<unknown, unknown, unknown>((fiber) => {
    const ready = pickReady(this.cases, this.priority) ?? this.expired
    return ready !== undefined ? runReady(fiber, ready) : this.wait
  })

  private onCommit(registration: SelectRegistration): void {
    if (registration.result === WAKE) {
      this.woken = true
      resumeWoken(this.dispatcher, this.wakeRetry)
      return
    }
    // a take case handed a value observes it at once (see `resumeNow`); a put case soon (see `waitPut`)
    if (registration.winner!.kind === TAKE) resumeNow(this.dispatcher, this.wakeObserve)
    else resumeSoon(this.dispatcher, this.wakeObserve)
  }

  private readonly wakeObserve = (): void => this.resume!(this.observe)
  private readonly wakeRetry = (): void => this.resume!(this.retry)

  /** Runs in the select's own fiber: only from here on has it seen the winning result. */
  private readonly observe = thunkStep<unknown, unknown, unknown>((fiber) => {
    this.observed = true
    const registration = this.registration!
    const winner = registration.winner!
    return completeCase(fiber, winner, winner.deliver(registration.result))
  })

  /** Runs in the select's own fiber after `WAKE`: the winning case takes the value owed to it. */
  private readonly retry = thunkStep<unknown, unknown, unknown>((fiber) => {
    this.woken = false
    const winner = this.registration!.winner!
    const mark = deferredResumes.length
    const x = attempt(fiber, mark, completeOwedOp, winner)
    return continueThenResume(fiber, mark, completeCase(fiber, winner, x))
  })

  /** The timer fired: the timeout case wins unless a channel case already did. */
  fireTimeout(c: SelectCaseImpl): void {
    const registration = this.registration
    if (registration === undefined || !registration.active) {
      // not registered yet, or this registration is spent (woken to poll again, possibly about to
      // register anew — the fiber can yield in between): the next poll finds it
      this.expired = c
      return
    }
    if (registration.expire(c)) resumeSoon(this.dispatcher, this.wakeObserve)
  }

  /** The finalizer: withdraw every node, or undo a win the fiber never saw. */
  private cancel(registration: SelectRegistration): void {
    if (registration.withdraw() || this.observed) return
    if (registration.result !== WAKE || this.woken) {
      this.woken = false
      registration.giveBack()
    }
  }
}
