/**
 * The async/await API (`@tributary/channel/async`) for code that does not use Effect: the same
 * channels, with Promises, `AbortSignal`s and `for await`. A channel made here is a `Chan`
 * (usable from the Effect API), and every function here also takes channels made by `Chan.make`.
 *
 * ```ts
 * import { chan, onTake, onTimeout, select } from "@tributary/channel/async"
 *
 * const jobs = chan<string>(16)
 * await jobs.put("fetch https://example.com")
 * jobs.close()
 * for await (const job of jobs) console.log(job) // ends when closed and drained
 *
 * const r = await select([onTake(jobs, (r) => (r.done ? "closed" : r.value)), onTimeout(1000, () => "late")])
 * ```
 *
 * Fairness is the Effect API's: waiting takes (of either API) are served first come, first served,
 * as are waiting puts, and `poll` sees only values no waiting taker is owed.
 *
 * Gotchas: `take` resolves `{ value: undefined, done: true }` once the channel is closed and
 * drained, so a channel may carry `undefined` as a value. An aborted signal withdraws the waiting
 * operation (nothing delivered or consumed) and rejects with the signal's reason; an operation that
 * already completed is not undone by a later abort. A bad argument (a channel that is not one, a
 * `signal` that is not an `AbortSignal` (`null` included), an option the function does not know,
 * a select handler that is not a function) is a
 * `ChanArgumentError`: `put`, `take` and `select` reject with it before queueing anything; `offer`,
 * `poll`, `close` and `iterate` throw it.
 *
 * The old subpath `@tributary/channel/promise` is this module under its former name, deprecated:
 * it was easy to confuse with promise channels (`Chan.promiseChan`).
 *
 * @since 0.2.0
 */
import { whenAborted } from "@tributary/arguments"
import type { Buffer } from "./Buffer.js"
import type { Chan, Options, ReadPort, WritePort } from "./Chan.js"
import { ChanArgumentError } from "./ChanError.js"
import { checkChan, checkChannel, notAChannel, optionsError } from "./internal/arguments.js"
import { ChanCore, isChanCore, Node, PENDING } from "./internal/channel.js"
import { iteratorOf, resultOf } from "./internal/iterator.js"
import {
  channelCase,
  checkCases,
  earliestTimeout,
  PUT,
  pickReady,
  SELECT_OPTIONS,
  type SelectCase as SelectCaseImpl,
  SelectRegistration,
  TAKE,
  timeoutCase
} from "./internal/select.js"
import { liveTimer, timeoutChannel } from "./internal/time.js"
import { reportXformUnsafe } from "./internal/xformLog.js"

// ── models ──────────────────────────────────────────────────────────────────

/**
 * What a take resolves to: a value, or `done` once the channel is closed and drained (the shape of
 * an iterator result, so a value may be `undefined`).
 *
 * @since 0.2.0
 */
export type Result<A> =
  | {
      /** a value was taken */
      readonly done: false
      /** the value taken */
      readonly value: A
    }
  | {
      /** the channel is closed and drained: no value will come */
      readonly done: true
      /** always undefined */
      readonly value: undefined
    }

/**
 * Options of an operation that can wait.
 *
 * @since 0.2.0
 */
export interface WaitOptions {
  /** Aborting withdraws the operation (nothing delivered or consumed) and rejects with the signal's reason. */
  readonly signal?: AbortSignal
}

/**
 * A channel with Promise methods. It is also a `Chan` (usable from the Effect API) and an
 * `AsyncIterable` (`for await` ends when the channel is closed and drained; `break` stops taking,
 * withdrawing a `next()` still pending, and leaves the channel open).
 *
 * @since 0.2.0
 */
export interface AsyncChan<A> extends Chan<A>, AsyncIterable<A> {
  /** Resolves `true` once buffered or handed to a taker, `false` if the channel was closed first. */
  put(value: A, options?: WaitOptions): Promise<boolean>
  /** Resolves with the next value, or `{ done: true }` once closed and drained. */
  take(options?: WaitOptions): Promise<Result<A>>
  /** An iterator over the channel's values, async-iterable itself (as a generator's). */
  [Symbol.asyncIterator](): AsyncIterableIterator<A>
  /** Puts only if that can happen at once. */
  offer(value: A): boolean
  /** `{ value, done: false }` when a value is available now, `{ done: true }` when closed and drained, `undefined` otherwise. */
  poll(): Result<A> | undefined
  /**
   * Closes the channel (idempotent); buffered values and pending puts stay takeable; an xform's
   * completion step runs once the pending puts' values have gone through it (see `Chan.close`).
   */
  close(): void
}

/**
 * The old name of `AsyncChan` (a channel of this API, not a promise channel: that is
 * `Chan.promiseChan`).
 *
 * @deprecated Use `AsyncChan`.
 * @since 0.2.0
 */
export type PromiseChan<A> = AsyncChan<A>

export {
  /**
   * A bad argument (a negative buffer size, something that is not a channel, a misspelt option):
   * thrown by `chan`, `timeout`, `offer`, `poll` and `close`, and rejected with by `put`, `take`
   * and `select`. The message names the function, the argument and the value received. The class
   * of `@tributary/channel`, re-exported so that this API's users can match it from here.
   *
   * ```ts
   * import { ChanArgumentError, chan } from "@tributary/channel/async"
   *
   * const size = Number(process.env.QUEUE_SIZE) // NaN when unset
   * try {
   *   chan<string>(size)
   * } catch (e) {
   *   if (e instanceof ChanArgumentError) console.error(`fix ${e.argument}: ${e.message}`)
   * }
   * ```
   *
   * @since 0.2.0
   */
  ChanArgumentError,
  /**
   * More puts or takes waiting on one channel than its `maxPending` (1024 by default): a
   * producer that does not wait for its puts. `put` and `take` reject with it; the channel keeps
   * working. The class of `@tributary/channel`, re-exported so that this API's users can match it
   * from here.
   *
   * ```ts
   * import { ChanPendingLimitError, chan, put } from "@tributary/channel/async"
   *
   * const events = chan<string>(0, { name: "events", maxPending: 2 })
   * for (const e of ["a", "b", "c"]) {
   *   put(events, e).catch((error) => {
   *     if (error instanceof ChanPendingLimitError) console.error(error.message) // the third put: no taker waits
   *   })
   * }
   * ```
   *
   * @since 0.2.0
   */
  ChanPendingLimitError
} from "./ChanError.js"
/**
 * The options of `chan`: `name`, `maxPending`, `onUndelivered` (as `Chan.makeUnsafe`).
 *
 * @since 0.2.0
 */
export type { Options }

/**
 * A case of the facade's `select`, built by `onTake`, `onPut` or `onTimeout`.
 *
 * @since 0.2.0
 */
export interface SelectCase<out X> {
  /** @internal phantom: what its handler returns */
  readonly "~tributary/PromiseSelectCase": () => X
}

/**
 * What the handler of the select case `C` returns: `select` resolves to the handler's result of
 * the case that completed.
 *
 * @since 0.2.0
 */
export type CaseResult<C> = C extends SelectCase<infer X> ? X : never

// ── constructors ────────────────────────────────────────────────────────────

/**
 * Makes a channel: no argument or `0` unbuffered, `n` a fixed buffer, or a `Buffer` policy. Throws
 * `ChanArgumentError` for a bad size or option.
 *
 * ```ts
 * import { chan } from "@tributary/channel/async"
 *
 * const jobs = chan<string>(16) // chan() or chan(0): unbuffered; chan(Buffer.sliding(n)) and others
 * await jobs.put("first")
 * const r = await jobs.take() // { value: "first", done: false }
 * ```
 *
 * @since 0.2.0
 */
export const chan = <A>(bufferOrSize?: number | Buffer, options?: Options<A>): AsyncChan<A> => {
  const [buf, core] = checkChannel("chan", bufferOrSize, options)
  return new AsyncChanImpl<A>(buf, core) as unknown as AsyncChan<A>
}

/**
 * A channel that closes after `ms` milliseconds (a live timer; above 2^31-1 ms it still waits the
 * whole time). Throws `ChanArgumentError` for a negative or NaN `ms`, or one that is not a number. The timer keeps the process
 * alive until it fires, read or not: for a deadline on one `select`, `onTimeout` ends with it.
 *
 * ```ts
 * import { take, timeout } from "@tributary/channel/async"
 *
 * const late = timeout(100)
 * await take(late) // { value: undefined, done: true } after 100 ms
 * ```
 *
 * @since 0.2.0
 */
export const timeout = (ms: number): AsyncChan<never> =>
  timeoutChannel(
    "timeout ms",
    millisOnly("timeout ms", ms),
    (name) => new AsyncChanImpl<never>(undefined, { name }),
    liveTimer
  ) as unknown as AsyncChan<never>

// ── operations on any channel ───────────────────────────────────────────────

/**
 * `ch.put(value, options)` for any channel, including those made by `Chan.make`.
 *
 * ```ts
 * import { Chan } from "@tributary/channel"
 * import { put } from "@tributary/channel/async"
 *
 * const ch = Chan.makeUnsafe<number>(1) // made by the Effect API
 * const accepted = await put(ch, 1) // true
 * ```
 *
 * @since 0.2.0
 */
export const put = <A>(ch: WritePort<A>, value: A, options?: WaitOptions): Promise<boolean> =>
  isChanCore(ch) ? putOn(ch as unknown as ChanCore<A>, value, options) : Promise.reject(notAChannel(ch))

/**
 * `ch.take(options)` for any channel, including those made by `Chan.make`.
 *
 * ```ts
 * import { Chan } from "@tributary/channel"
 * import { take } from "@tributary/channel/async"
 *
 * const ch = Chan.makeUnsafe<number>(1)
 * Chan.offerUnsafe(ch, 7)
 * const r = await take(ch, { signal: AbortSignal.timeout(1000) }) // { value: 7, done: false }
 * ```
 *
 * @since 0.2.0
 */
export const take = <A>(ch: ReadPort<A>, options?: WaitOptions): Promise<Result<A>> =>
  isChanCore(ch) ? takeFrom(ch as unknown as ChanCore<unknown, A>, options) : Promise.reject(notAChannel(ch))

/**
 * `ch.offer(value)` for any channel.
 *
 * ```ts
 * import { chan, offer } from "@tributary/channel/async"
 *
 * const ch = chan<number>(1)
 * offer(ch, 1) // true
 * offer(ch, 2) // false: full, and offer never waits
 * ```
 *
 * @since 0.2.0
 */
export const offer = <A>(ch: WritePort<A>, value: A): boolean => offerOn(checkChan(ch as unknown as ChanCore<A>), value)

/**
 * `ch.poll()` for any channel.
 *
 * ```ts
 * import { chan, poll } from "@tributary/channel/async"
 *
 * const ch = chan<number>(1)
 * poll(ch) // undefined: nothing now
 * await ch.put(1)
 * poll(ch) // { value: 1, done: false }
 * ```
 *
 * @since 0.2.0
 */
export const poll = <A>(ch: ReadPort<A>): Result<A> | undefined =>
  pollFrom(checkChan(ch as unknown as ChanCore<unknown, A>))

/**
 * `ch.close()` for any channel.
 *
 * ```ts
 * import { chan, close } from "@tributary/channel/async"
 *
 * const ch = chan<number>(1)
 * await ch.put(1)
 * close(ch)
 * await ch.take() // { value: 1, done: false }: closing keeps buffered values
 * await ch.take() // { value: undefined, done: true }
 * ```
 *
 * @since 0.2.0
 */
export const close = (ch: WritePort<never>): void => closeOn(checkChan(ch as unknown as ChanCore))

/**
 * Iterates any channel with `for await`: ends when it is closed and drained; never takes ahead;
 * `break` (the iterator's `return()`) stops taking and withdraws a `next()` still pending, which
 * resolves done. The channel stays open.
 *
 * ```ts
 * import { Chan } from "@tributary/channel"
 * import { iterate } from "@tributary/channel/async"
 *
 * const ch = Chan.makeUnsafe<string>(4)
 * Chan.offerUnsafe(ch, "a")
 * Chan.closeUnsafe(ch)
 * for await (const s of iterate(ch)) console.log(s) // "a"
 * ```
 *
 * @since 0.2.0
 */
export const iterate = <A>(ch: ReadPort<A>): AsyncIterable<A> => {
  const core = checkChan(ch as unknown as ChanCore<unknown, A>)
  return { [Symbol.asyncIterator]: () => iteratorOf(core) }
}

// ── select ──────────────────────────────────────────────────────────────────

/**
 * A select case taking from `ch`; the handler gets the same `{ done, value }` as `take`.
 *
 * ```ts
 * import { chan, onTake, select } from "@tributary/channel/async"
 *
 * const orders = chan<string>(8)
 * const refunds = chan<string>(8)
 * await refunds.put("r-1")
 * const what = await select([
 *   onTake(orders, (r) => (r.done ? "orders closed" : `order ${r.value}`)),
 *   onTake(refunds, (r) => (r.done ? "refunds closed" : `refund ${r.value}`))
 * ]) // "refund r-1"
 * ```
 *
 * @since 0.2.0
 */
export const onTake = <A, X>(ch: ReadPort<A>, handler: (result: Result<A>) => X): SelectCase<X> =>
  channelCase(TAKE, ch, undefined, handler, toResult) as any

/**
 * A select case putting `value` on `ch`; the handler gets `true` if accepted, `false` if closed.
 *
 * ```ts
 * import { chan, onPut, select } from "@tributary/channel/async"
 *
 * const fast = chan<number>(1)
 * const slow = chan<number>(1)
 * await fast.put(0) // fast is full
 * const where = await select([onPut(fast, 1, () => "fast"), onPut(slow, 1, () => "slow")]) // "slow"
 * ```
 *
 * @since 0.2.0
 */
export const onPut = <A, X>(ch: WritePort<A>, value: A, handler: (accepted: boolean) => X): SelectCase<X> =>
  channelCase(PUT, ch, value, handler, toResult) as any

/**
 * A select case ready `ms` milliseconds after the select began (at once for 0). A negative or NaN
 * `ms` makes the select reject with `ChanArgumentError`.
 *
 * ```ts
 * import { chan, onTake, onTimeout, select } from "@tributary/channel/async"
 *
 * const replies = chan<string>(1)
 * const r = await select([onTake(replies, () => "reply"), onTimeout(1000, () => "no reply")])
 * ```
 *
 * @since 0.2.0
 */
export const onTimeout = <X>(ms: number, handler: () => X): SelectCase<X> => {
  return timeoutCase("onTimeout ms", ms, handler, toResult, true) as any
}

/**
 * Waits until one case can complete and commits exactly that one (core.async `alts!`). Among ready
 * cases the choice is fair and random, or the first in list order with `priority`. `orElse` runs
 * when no case is ready at once. Resolves with the winning handler's result (awaited if it is a
 * Promise). Aborting `signal` withdraws every case and rejects with the signal's reason.
 *
 * ```ts
 * import { chan, onTake, select } from "@tributary/channel/async"
 *
 * const jobs = chan<string>(4)
 * // orElse: never waits; a handler may return a Promise (it is awaited)
 * const next = await select([onTake(jobs, async (r) => (r.done ? "closed" : r.value))], { orElse: () => "idle" })
 * ```
 *
 * @since 0.2.0
 */
export const select = <const Cases extends ReadonlyArray<SelectCase<any>>, D = never>(
  cases: Cases,
  options?: { readonly priority?: boolean; readonly orElse?: () => D; readonly signal?: AbortSignal }
): Promise<Awaited<CaseResult<Cases[number]> | D>> => {
  const all = cases as unknown as ReadonlyArray<SelectCaseImpl>
  const invalid = checkCases(all, options, ASYNC_SELECT_OPTIONS, toResult)
  if (invalid !== undefined) return Promise.reject(invalid)
  const orElse = options?.orElse
  const signal = options?.signal
  if (signal !== undefined && refuses(signal)) return refusal(signal)
  const priority = options?.priority === true
  const ready = pickReady(all, priority)
  if (ready !== undefined) return settle(() => ready.complete())
  if (orElse !== undefined) return settle(orElse)
  return new Promise((resolve, reject) => {
    const registration = new SelectRegistration()
    let cancelTimer: (() => void) | undefined
    /** runs the winning handler (the case has committed: its value is the select's) */
    const deliver = (): void => {
      try {
        resolve(registration.winner!.deliver(registration.result) as any)
      } catch (error) {
        reject(error)
      }
    }
    const finish = (): void => {
      cancelTimer?.()
      off?.()
      // in a microtask of its own: the call that committed the case (another party's put, take or
      // close, an Effect fiber's among them) must not run the handler inside its own operation
      queueMicrotask(deliver)
    }
    const onAbort = (): void => {
      if (!registration.withdraw()) return
      cancelTimer?.()
      reject(signal!.reason)
    }
    // listened to before anything is registered: a signal that refuses a listener leaves nothing behind
    const off = signal === undefined ? undefined : whenAborted(signal, onAbort)
    try {
      registration.register(all, finish, false)
    } catch (error) {
      off?.() // refused (beyond a channel's maxPending): nothing waits
      throw error
    }
    // a take case queued behind woken takers may have been served at once
    if (!registration.active) return
    const timer = earliestTimeout(all)
    if (timer !== undefined) {
      cancelTimer = liveTimer(timer.millis, () => {
        if (registration.expire(timer)) finish()
      })
    }
  })
}

// ── private ─────────────────────────────────────────────────────────────────

/**
 * `ms` if it is a number (the duration checks follow); anything else throws a `ChanArgumentError`
 * naming `argument`: the Effect API's duration inputs ("5 seconds", a Duration) are not this API's,
 * and a bigint would be read as nanoseconds (`onTimeout`'s case keeps the same error, as
 * `timeoutCase` does).
 */
const millisOnly = (argument: string, ms: unknown): number => {
  if (typeof ms !== "number") throw new ChanArgumentError(argument, ms, "a number of milliseconds (>= 0, or Infinity)")
  return ms
}

const resolvedTrue = Promise.resolve(true)
const resolvedFalse = Promise.resolve(false)

/** A take's result (a value, or `CLOSED`) as this API's `Result` (see `resultOf`). */
const toResult = (raw: unknown): Result<unknown> => resultOf(raw) as Result<unknown>

/** The options of the facade's `select`: the Effect API's, and `signal`. */
const ASYNC_SELECT_OPTIONS: ReadonlyArray<string> = [...SELECT_OPTIONS, "signal"]
/** The options of `put` and `take`. */
const WAIT_OPTIONS: ReadonlyArray<string> = ["signal"]

/**
 * Whether an operation must reject before it starts: its signal is not a signal (`null` included),
 * or is aborted.
 */
const refuses = (signal: AbortSignal): boolean => !isSignal(signal) || signal.aborted

/** The rejection of an operation that `refuses` to start. */
const refusal = (signal: AbortSignal): Promise<never> =>
  Promise.reject(
    isSignal(signal) ? signal.reason : new ChanArgumentError("signal", signal, "an AbortSignal (or undefined)")
  )

/** An `AbortSignal`, or anything with its methods (a signal of another realm or a polyfill). */
const isSignal = (u: unknown): u is AbortSignal =>
  typeof u === "object" &&
  u !== null &&
  typeof (u as AbortSignal).addEventListener === "function" &&
  typeof (u as AbortSignal).removeEventListener === "function"

const settle = <X>(f: () => X): Promise<any> => {
  try {
    return Promise.resolve(f())
  } catch (error) {
    return Promise.reject(error)
  }
}

/**
 * The rejection of a wait that must not start: the options of `caller` are not an object or have
 * an unknown key (`ChanArgumentError`), or its signal is aborted or not a signal; `undefined` if it
 * may.
 */
const refusedWait = (caller: string, options: WaitOptions): Promise<never> | undefined => {
  const invalid = optionsError(caller, options, WAIT_OPTIONS)
  if (invalid !== undefined) return Promise.reject(invalid)
  const signal = options.signal
  return signal !== undefined && refuses(signal) ? refusal(signal) : undefined
}

const putOn = <A>(core: ChanCore<A>, value: A, options: WaitOptions | undefined): Promise<boolean> => {
  const signal = options?.signal
  if (options !== undefined) {
    const refused = refusedWait("put", options)
    if (refused !== undefined) return refused
  }
  const result = core.tryPut(value)
  reportXformUnsafe(core)
  if (result !== PENDING) return result ? resolvedTrue : resolvedFalse
  if (signal === undefined) {
    // nothing to withdraw it on: no abort listener, and no closure (the node's `done` is `resolve`)
    return new Promise<boolean>((resolve) => core.enqueuePut(new Node(value, resolve)))
  }
  return abortableWait(
    core,
    signal,
    value,
    (accepted: boolean) => accepted,
    (node) => core.enqueuePut(node)
  )
}

const offerOn = <A>(core: ChanCore<A>, value: A): boolean => {
  const accepted = core.tryPut(value) === true
  reportXformUnsafe(core)
  return accepted
}

/** Closes through the state machine, then logs what an xform's completion step may have failed on. */
const closeOn = (core: ChanCore<any, any>): void => {
  ChanCore.prototype.close.call(core)
  reportXformUnsafe(core)
}

const takeFrom = <A>(core: ChanCore<any, A>, options: WaitOptions | undefined): Promise<Result<A>> => {
  const signal = options?.signal
  if (options !== undefined) {
    const refused = refusedWait("take", options)
    if (refused !== undefined) return refused
  }
  const result = core.tryTake()
  if (result !== PENDING) return Promise.resolve(toResult(result) as Result<A>)
  if (signal === undefined) {
    // nothing to withdraw it on: no abort listener, and no closure (the node holds `resolve`)
    return new Promise<Result<A>>((resolve) => core.enqueueTake(new Node(resolve, settleTake)))
  }
  return abortableWait(
    core,
    signal,
    undefined,
    (raw: unknown) => toResult(raw) as Result<A>,
    (node) => core.enqueueTake(node)
  )
}

/**
 * A put or take that waits with a signal: its node (holding `value`) settles the Promise with
 * `settle` of what the channel gives it; the signal's abort withdraws it and rejects with the
 * signal's reason. Listened to before the node is queued with `enqueue` (a take may be served at
 * once, behind woken takers: its `done` then stops listening again), so a signal that refuses a
 * listener leaves nothing queued, and an `enqueue` refused (beyond maxPending) leaves nothing
 * listening.
 */
const abortableWait = <R>(
  core: ChanCore<any, any>,
  signal: AbortSignal,
  value: unknown,
  settle: (raw: any) => R,
  enqueue: (node: Node) => void
): Promise<R> =>
  new Promise<R>((resolve, reject) => {
    const node = new Node(value, (raw: unknown) => {
      off()
      resolve(settle(raw))
    })
    const off = whenAborted(signal, () => {
      if (!node.active) return
      core.withdraw(node)
      reject(signal.reason)
    })
    try {
      enqueue(node)
    } catch (error) {
      off()
      throw error
    }
  })

/**
 * The `done` of a take node made by `takeFrom` without a signal: called as the node's method, it
 * resolves the promise whose `resolve` the node holds in its (for a take, unused) `value` slot.
 */
function settleTake(this: Node<(result: Result<unknown>) => void>, raw: unknown): void {
  this.value(toResult(raw))
}

const pollFrom = <A>(core: ChanCore<any, A>): Result<A> | undefined => {
  const result = core.tryPoll()
  return result === PENDING ? undefined : (toResult(result) as Result<A>)
}

/** The facade's channel: the state machine plus Promise methods. */
class AsyncChanImpl<A> extends ChanCore<A, A> {
  put(value: A, options?: WaitOptions): Promise<boolean> {
    return putOn(this, value, options)
  }
  take(options?: WaitOptions): Promise<Result<A>> {
    return takeFrom(this, options)
  }
  offer(value: A): boolean {
    return offerOn(this, value)
  }
  override close(): void {
    closeOn(this)
  }
  poll(): Result<A> | undefined {
    return pollFrom(this)
  }
  [Symbol.asyncIterator](): AsyncIterableIterator<A> {
    return iteratorOf(this)
  }
}
