import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import type { BufferSpec } from "../Buffer.js"
import { ChanArgumentError } from "../ChanError.js"
import {
  checkChan,
  checkFunction,
  checkIterable,
  checkOption,
  checkOptionsArgument,
  closeOption,
  makeBuffer
} from "./arguments.js"
import { ChanCore, defaultMaxPending } from "./channel.js"
import { background, closing, deliver, guarded, takeInto, undeliver, withHand } from "./delivery.js"
import { feed, holdStep, type Iteration } from "./feed.js"
import { badResult, resultKind } from "./guard.js"
import * as Chan from "./operations.js"

type ReadPort<A> = Chan.ReadPort<A>
type WritePort<A> = Chan.WritePort<A>

// ── models ──────────────────────────────────────────────────────────────────

/**
 * Options of `pipe` and `onto`.
 *
 * @since 0.2.0
 */
export interface CloseOptions {
  /** Close the target when the source ends (and when the scope closes). Default `true`. */
  readonly close?: boolean
}

/**
 * Options of `pipeline`.
 *
 * @since 0.2.0
 */
export interface PipelineOptions<A, B, E> {
  /**
   * How many calls of `f` run at once: an integer >= 1 (required). Any size works (2 ** 32, say):
   * a fiber is started per input, so only the calls in flight cost memory.
   */
  readonly concurrency: number
  /** `true` (default): outputs in input order; `false`: in completion order. */
  readonly ordered?: boolean
  /** Close `to` when `from` closes and every result is out (and when the scope closes). Default `true`. */
  readonly close?: boolean
  /**
   * Called when `f` fails with a typed error: `Some(b)` is emitted in the input's place, `None`
   * skips it. Default (and for defects, a throw of `f` included: unlike core.async's `ex-handler`,
   * it never sees them): the failure is logged at Error level and the input skipped.
   */
  readonly onError?: (error: E, input: A) => Option.Option<B>
}

/**
 * Options of `split`.
 *
 * @since 0.2.0
 */
export interface SplitOptions {
  /** The buffer of the output of the values where `p` holds (as `Chan.make`'s). Default unbuffered. */
  readonly yesBuffer?: BufferSpec
  /** The buffer of the output of the other values (as `Chan.make`'s). Default unbuffered. */
  readonly noBuffer?: BufferSpec
}

// ── moving values ───────────────────────────────────────────────────────────

/**
 * Moves every value from `from` to `to` in a fiber of the caller's scope (core.async `pipe`), and
 * closes `to` when `from` closes, unless `close: false`. Use it to connect stages, or to feed
 * several sources into one channel (with `close: false`).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const requests = yield* Chan.fromIterable([1, 2, 3])
 *     const extra = yield* Chan.fromIterable([4])
 *     const worker = yield* Chan.make<number>(8)
 *     yield* Chan.pipe(extra, worker, { close: false }) // feeds worker, never closes it
 *     yield* Chan.pipe(requests, worker) // worker closes after requests
 *     return yield* Chan.toArray(worker)
 *   })
 * )
 * ```
 *
 * Gotchas:
 * - It stops when `to` refuses a value (closed): that value goes to `to`'s `onUndelivered`. A put
 *   already pending when `to` closes stays takeable (close semantics); the refusal comes after.
 * - A closed `to` is noticed at the next value; until then `pipe` keeps one take pending on `from`.
 * - With `close` (the default) closing the scope also closes `to`.
 *
 * @since 0.2.0
 */
export const pipe = <A>(
  from: ReadPort<A>,
  to: WritePort<A>,
  options?: CloseOptions
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.suspend(() => {
    checkChan(from, "Chan.pipe from")
    checkChan(to, "Chan.pipe to")
    const close = closeOption("Chan.pipe", options)
    return background(
      "Chan.pipe",
      Effect.catch(transfer(from, to), () => Effect.void),
      closing(to, close)
    )
  })

/**
 * Runs `f` on every value of `from` with exactly `concurrency` calls in flight (as long as input
 * and room are there; never more) and puts the results on `to`: in input order by default
 * (core.async `pipeline-async`), in completion order with `ordered: false`.
 *
 * Use it for I/O-bound stages (fetch, parse, persist) where the order of the output matters or
 * where a bounded number of calls must be in flight.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const fetchUser = (id: number) => Effect.succeed({ id, name: `user ${id}` })
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const ids = yield* Chan.fromIterable([1, 2, 3])
 *     const users = yield* Chan.make<{ id: number; name: string }>(8)
 *     yield* Chan.pipeline(ids, users, (id) => fetchUser(id), { concurrency: 8 })
 *     return yield* Chan.toArray(users) // in input order
 *   })
 * )
 * ```
 *
 * Exactly one output per input (or none, when `onError` gives `None`): unlike core.async's
 * `pipeline`, whose transducer may give several, and `pipeline-async`, whose `af` may put several.
 * For zero or more outputs per input, let `f` return an array and give `to` the xform
 * `Xform.flatMap`: the outputs of each input come out together, in input order.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Xform } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const lines = yield* Chan.fromIterable(["a b", "", "c"])
 *     const words = yield* Chan.make(8, { xform: Xform.flatMap((ws: ReadonlyArray<string>) => ws) })
 *     const split = (line: string) => Effect.succeed(line === "" ? [] : line.split(" "))
 *     yield* Chan.pipeline(lines, words, split, { concurrency: 2 })
 *     return yield* Chan.toArray(words) // ["a", "b", "c"]: two outputs for "a b", none for ""
 *   })
 * )
 * ```
 *
 * Gotchas:
 * - A failing `f` does not stop the pipeline: see `onError`. `onError` sees typed failures only
 *   (core.async's `ex-handler` sees every exception): a throw or a defect in `f` (an
 *   `Effect.sync` whose function throws, say: use `Effect.try` to make it a typed failure) is
 *   logged and its input skipped, and so is an `f` that returns something other than an Effect (a
 *   plain value, a Promise: an `async` function), or an `onError` that returns something other
 *   than an Option.
 * - In order, one slow call holds back the results after it (up to `concurrency` finished
 *   results wait for it).
 * - Closing the scope interrupts the calls in flight; their inputs are dropped (they are not of
 *   `to`'s type), results not yet delivered go to `to`'s `onUndelivered`.
 * - Once `to` is closed, no new take from `from` starts: at most the inputs already in flight (the
 *   take pending when it closed and the calls running, ≤ `concurrency` + 1) are lost to it; the
 *   rest stay in `from`.
 * - One fiber reads `from` (one take at a time, whatever `concurrency` is), and the next input is
 *   taken only once a call is free to run it.
 * - Dies with `ChanArgumentError` unless `concurrency` is an integer >= 1, or for `options` that
 *   are not an object, an `ordered` or `close` that is not a boolean, an `onError` that is not a
 *   function.
 *
 * @since 0.2.0
 */
export const pipeline = <A, B, E, R>(
  from: ReadPort<A>,
  to: WritePort<B>,
  f: (a: A) => Effect.Effect<B, E, R>,
  options: PipelineOptions<A, B, E>
): Effect.Effect<void, never, Scope.Scope | R> =>
  Effect.suspend(() => {
    checkChan(from, "Chan.pipeline from")
    checkChan(to, "Chan.pipeline to")
    checkFunction("Chan.pipeline f", f)
    const close = closeOption("Chan.pipeline", options, PIPELINE_OPTIONS)
    const n = options?.concurrency
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
      return Effect.die(new ChanArgumentError("Chan.pipeline concurrency", n, "an integer >= 1"))
    }
    const inOrder = checkOption("Chan.pipeline ordered", options.ordered, "boolean") ?? true
    const onError = options.onError
    if (onError !== undefined) checkFunction("Chan.pipeline onError", onError)
    const run = (a: A) => attempt(f, a, onError)
    const work = inOrder ? ordered(from, to, run, n) : unordered(from, to, run, n)
    return background("Chan.pipeline", work, closing(to, close))
  })

/**
 * One channel fed by all of `ports` (core.async `merge`); it closes once every input has closed
 * (at once for none). `buffer` is the output's buffer (default unbuffered). Use it to consume
 * several producers with one loop; for inputs that come and go, see `Chan.mix`.
 *
 * Gotchas:
 * - No order between inputs; each input's own order is kept.
 * - One fiber per input: while `out` is full (or, unbuffered, has no taker), each input has up to
 *   one value taken ahead, waiting to be put (core.async's single loop takes one in all). Other
 *   readers of the inputs no longer get those values; closing the scope passes them to `out`'s
 *   `onUndelivered`.
 * - The output is closed when the scope closes. If it is closed early (it is a `ReadPort`, so
 *   through a `Chan` reference), the merge stops at the next value any input delivers.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const a = yield* Chan.fromIterable([1, 2])
 *     const b = yield* Chan.fromIterable([10, 20])
 *     const both = yield* Chan.merge([a, b])
 *     return yield* Chan.toArray(both) // 1, 2, 10, 20 in some interleaving
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const merge = <A>(
  ports: Iterable<ReadPort<A>>,
  buffer: BufferSpec = 0
): Effect.Effect<ReadPort<A>, never, Scope.Scope> =>
  Effect.suspend(() => {
    const inputs = Array.from(checkIterable("Chan.merge ports", ports))
    for (let i = 0; i < inputs.length; i++) checkChan(inputs[i], `Chan.merge port ${i}`)
    makeBuffer("Chan.merge buffer", buffer) // a bad one named as merge's argument, not as the channel it makes
    // each input's loop keeps at most one put pending on `out`: the merge's own puts never reach
    // the limit, and the consumers' takes keep at least the default one
    const out = Chan.makeUnsafe<A>(buffer, { maxPending: Math.max(defaultMaxPending, inputs.length) })
    if (inputs.length === 0) {
      Chan.closeUnsafe(out)
      return Effect.succeed<ReadPort<A>>(out)
    }
    const work = group(inputs.map((input) => transfer(input, out)))
    return Effect.as(background("Chan.merge", work, closing(out, true)), out)
  })

/**
 * Two channels: the values of `from` where `p` holds, and the rest (core.async `split`). Both close
 * when `from` closes, or when either output is closed (at its next value). `yesBuffer` and
 * `noBuffer` are the outputs' buffers (as core.async's `t-buf-or-n` and `f-buf-or-n`; default
 * unbuffered).
 *
 * Gotchas:
 * - The outputs share one reader: a consumer that does not read one output holds back the other
 *   (once that output's buffer, if any, is full). A buffer on the output read later is the remedy
 *   when the two are read at different paces.
 * - A `p` that throws is logged at Error level and that value dropped; split goes on.
 * - Dies with `ChanArgumentError` for `options` that are not an object or have an unknown key, or
 *   a bad buffer (as `Chan.make`'s).
 *
 * ```ts
 * import { Effect, Fiber } from "effect"
 * import { Buffer, Chan } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const numbers = yield* Chan.fromIterable([1, 2, 3, 4])
 *     const [even, odd] = yield* Chan.split((n: number) => n % 2 === 0, numbers)
 *     const evens = yield* Effect.forkChild(Chan.toArray(even))
 *     const odds = yield* Chan.toArray(odd) // [1, 3]
 *     // a buffered output: the small ones wait in its buffer while the big ones are read
 *     const more = yield* Chan.fromIterable([5, 6, 7, 8])
 *     const [big, small] = yield* Chan.split((n: number) => n > 6, more, { noBuffer: Buffer.fixed(2) })
 *     const bigs = yield* Chan.toArray(big) // [7, 8]
 *     const smalls = yield* Chan.toArray(small) // [5, 6]
 *     return [yield* Fiber.join(evens), odds, bigs, smalls] as const // evens: [2, 4]
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const split = <A>(
  p: (a: A) => boolean,
  from: ReadPort<A>,
  options?: SplitOptions
): Effect.Effect<[ReadPort<A>, ReadPort<A>], never, Scope.Scope> =>
  Effect.suspend(() => {
    checkFunction("Chan.split p", p)
    checkChan(from, "Chan.split from")
    checkOptionsArgument("Chan.split", options, SPLIT_OPTIONS)
    const yes = output<A>("Chan.split yesBuffer", options?.yesBuffer)
    const no = output<A>("Chan.split noBuffer", options?.noBuffer)
    const route = withHand<A, void, never, never>((hand) =>
      Effect.gen(function* () {
        while (yield* takeInto(from, hand)) {
          const value = hand.value
          const chosen = yield* guarded("Chan.split: the predicate threw; the value was dropped", () => p(value))
          if (Option.isNone(chosen)) {
            hand.drop()
            continue
          }
          const target = chosen.value ? yes : no
          if (!(yield* hand.putTo(target))) return hand.release(target)
        }
      })
    )
    return Effect.as(background("Chan.split", route, Effect.andThen(Chan.close(yes), Chan.close(no))), [yes, no] as [
      ReadPort<A>,
      ReadPort<A>
    ])
  })

/**
 * A channel that yields the values of `it` and then closes (core.async `to-chan!`). Unbuffered:
 * the iterable is read one value ahead of the consumer at most.
 *
 * Gotchas: an iterator that throws is logged at Error level and the channel closed; closing the
 * scope (or the channel) early calls the iterator's `return`.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const letters = yield* Chan.fromIterable("abc")
 *     return yield* Chan.toArray(letters) // ["a", "b", "c"]
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const fromIterable = <A>(it: Iterable<A>): Effect.Effect<ReadPort<A>, never, Scope.Scope> =>
  Effect.suspend(() => {
    checkIterable("Chan.fromIterable it", it)
    const out = Chan.makeUnsafe<A>()
    return Effect.as(
      background("Chan.fromIterable", feed(out, iterationOf("Chan.fromIterable", it)), closing(out, true)),
      out
    )
  })

/**
 * Puts every value of `it` on `ch` in a fiber of the caller's scope, then closes `ch` unless
 * `close: false` (core.async `onto-chan!`). Stops if `ch` closes: that value goes to `ch`'s
 * `onUndelivered`.
 *
 * Returns a port that closes once the copying has ended (as the channel `onto-chan!` returns): after
 * the last value was put (accepted by `ch`), and after `ch` was closed when `close` holds; or once
 * it stopped early (`ch` closed, the iterator threw, the scope closed). Take from it to wait
 * (`None`); it never yields a value. Ignoring it is fine.
 *
 * Gotchas: as `fromIterable`; with `close` (the default) closing the scope also closes `ch`.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const ch = yield* Chan.make<number>(8)
 *     yield* Chan.onto(ch, [1, 2, 3]) // then closes ch
 *     const log = yield* Chan.make<string>(8)
 *     const copied = yield* Chan.onto(log, ["a", "b"], { close: false })
 *     yield* Chan.take(copied) // Option.none(), once "a" and "b" are in log (which stays open)
 *     return yield* Chan.toArray(ch) // [1, 2, 3]
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const onto = <A>(
  ch: WritePort<A>,
  it: Iterable<A>,
  options?: CloseOptions
): Effect.Effect<ReadPort<never>, never, Scope.Scope> =>
  Effect.suspend(() => {
    checkChan(ch, "Chan.onto ch")
    checkIterable("Chan.onto it", it)
    const close = closeOption("Chan.onto", options)
    const done = Chan.makeUnsafe<never>()
    const teardown = Effect.andThen(closing(ch, close), Chan.close(done))
    return Effect.as(background("Chan.onto", feed(ch, iterationOf("Chan.onto", it)), teardown), done)
  })

// ── consuming ───────────────────────────────────────────────────────────────

/**
 * Takes every value until `ch` is closed and drained, and returns them in order (core.async
 * `into []`). Runs in the caller's fiber.
 *
 * Gotcha: never returns while `ch` stays open.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make<string>(4)
 *   yield* Chan.put(ch, "a")
 *   yield* Chan.put(ch, "b")
 *   yield* Chan.close(ch)
 *   return yield* Chan.toArray(ch) // ["a", "b"]
 * })
 * ```
 *
 * @since 0.2.0
 */
export const toArray = <A>(ch: ReadPort<A>): Effect.Effect<Array<A>> =>
  reduce(ch, [] as Array<A>, (values, a) => {
    values.push(a)
    return values
  })

/**
 * Folds every value until `ch` is closed and drained (core.async `reduce`). Runs in the caller's
 * fiber.
 *
 * Gotchas:
 * - `f` is pure; if it throws, that is a defect of this effect.
 * - It cannot stop early (there is no core.async `reduced`): over a channel that never closes, it
 *   never returns. To stop after `n` values or at a condition, pipe the channel into one made with
 *   `Xform.take(n)` or `Xform.takeWhile(p)` and reduce that one, or loop on `Chan.take`.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make<number>(4)
 *   for (const n of [1, 2, 3]) yield* Chan.put(ch, n)
 *   yield* Chan.close(ch)
 *   return yield* Chan.reduce(ch, 0, (sum, n) => sum + n) // 6
 * })
 * ```
 *
 * @since 0.2.0
 */
export const reduce = <A, B>(ch: ReadPort<A>, init: B, f: (acc: B, a: A) => B): Effect.Effect<B> =>
  Effect.gen(function* () {
    checkFunction("Chan.reduce f", f)
    let acc = init
    for (let next = yield* Chan.take(ch); Option.isSome(next); next = yield* Chan.take(ch)) acc = f(acc, next.value)
    return acc
  })

/**
 * Runs `f` on every value until `ch` is closed and drained, one at a time, in the caller's fiber.
 * The first failure of `f` stops it and is its failure (the remaining values stay in `ch`). An `f`
 * that returns something other than an Effect (a plain value, or a Promise: an `async` function,
 * which `Effect.promise` or `Effect.tryPromise` wraps) stops it too, with a `ChanArgumentError`
 * defect naming `Chan.forEach f result` (the value it was given is consumed).
 *
 * ```ts
 * import { Effect, Fiber } from "effect"
 * import { Chan } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const jobs = yield* Chan.make<string>(16)
 *   // a pool of 4 workers reading one channel; each gets its share
 *   const workers = yield* Effect.forkChild(
 *     Effect.all(
 *       Array.from({ length: 4 }, () => Chan.forEach(jobs, (job) => Effect.log(`did ${job}`))),
 *       { concurrency: "unbounded" }
 *     )
 *   )
 *   for (let i = 0; i < 10; i++) yield* Chan.put(jobs, `job ${i}`)
 *   yield* Chan.close(jobs)
 *   yield* Fiber.join(workers)
 * })
 * ```
 *
 * @since 0.2.0
 */
export const forEach = <A, E, R>(
  ch: ReadPort<A>,
  f: (a: A) => Effect.Effect<unknown, E, R>
): Effect.Effect<void, E, R> =>
  Effect.gen(function* () {
    checkFunction("Chan.forEach f", f)
    for (let next = yield* Chan.take(ch); Option.isSome(next); next = yield* Chan.take(ch)) {
      const effect: unknown = f(next.value)
      if (!Effect.isEffect(effect)) {
        return yield* Effect.die(badResult("Chan.forEach f", "an Effect", effect, resultKind(effect)))
      }
      yield* effect as Effect.Effect<unknown, E, R>
    }
  })

// ── private ─────────────────────────────────────────────────────────────────

const PIPELINE_OPTIONS: ReadonlyArray<string> = ["concurrency", "ordered", "close", "onError"]

const SPLIT_OPTIONS: ReadonlyArray<string> = ["yesBuffer", "noBuffer"]

/**
 * An output channel of a combinator with the buffer `spec` (`undefined`: unbuffered); throws
 * `ChanArgumentError` naming `argument` (`"Chan.split yesBuffer"`, say) for a bad one.
 */
const output = <A>(argument: string, spec: BufferSpec | undefined): Chan.Chan<A> =>
  new ChanCore<A>(spec === undefined ? undefined : makeBuffer(argument, spec), undefined) as unknown as Chan.Chan<A>

/** The failure that ends a `group` early: a target closed, so every loop of the group stops. */
class Stopped {
  readonly _tag = "Stopped"
}
const stop: Effect.Effect<never, Stopped> = Effect.fail(new Stopped())

/**
 * Runs `loops` concurrently until all end, or until one fails with `Stopped` (the others are then
 * interrupted). Either way every loop has ended when it returns.
 */
const group = <R>(loops: ReadonlyArray<Effect.Effect<void, Stopped, R>>): Effect.Effect<void, never, R> =>
  Effect.catch(Effect.all(loops, { concurrency: "unbounded", discard: true }), () => Effect.void)

/** The pipe loop: `Stopped` when `to` closed (its value released to `to`), success when `from` closed. */
const transfer = <A>(from: ReadPort<A>, to: WritePort<A>): Effect.Effect<void, Stopped> =>
  withHand(
    (hand) =>
      Effect.gen(function* () {
        while (yield* takeInto(from, hand)) {
          if (!(yield* hand.putTo(to))) return yield* stop
        }
      }),
    to
  )

/**
 * Runs `f(a)`: `Some(b)`, or what `onError` makes of a typed failure, or `None` (logged) for the
 * rest: a defect, an `f` that returns no Effect, an `onError` that throws or returns no Option.
 */
const attempt = <A, B, E, R>(
  f: (a: A) => Effect.Effect<B, E, R>,
  a: A,
  onError: ((error: E, input: A) => Option.Option<B>) | undefined
): Effect.Effect<Option.Option<B>, never, R> =>
  Effect.catchCause(
    Effect.suspend(() => {
      const effect: unknown = f(a)
      if (!Effect.isEffect(effect)) return skipNotA("f", "an Effect", effect, a)
      return Effect.map(effect as Effect.Effect<B, E, R>, (b) => Option.some(b))
    }),
    (cause) => {
      const error = Cause.findErrorOption(cause)
      if (onError === undefined || Option.isNone(error))
        return skip("Chan.pipeline: f failed; the input was skipped", cause, a)
      return Effect.catchCause(
        Effect.suspend(() => {
          const result: unknown = onError(error.value, a)
          return Option.isOption(result)
            ? Effect.succeed(result as Option.Option<B>)
            : skipNotA<A, B>("onError", "an Option", result, a)
        }),
        (thrown) => skip("Chan.pipeline: onError threw; the input was skipped", thrown, a)
      )
    }
  )

const skip = <A, B>(message: string, cause: Cause.Cause<unknown>, input: A): Effect.Effect<Option.Option<B>> =>
  Effect.as(Effect.logError(message, cause).pipe(Effect.annotateLogs({ input })), Option.none<B>())

/**
 * Skips `input` because `name` (`f` or `onError`) returned `value`, which is not `expected`: logged
 * with the kind of value (see `badResult`).
 */
const skipNotA = <A, B>(name: string, expected: string, value: unknown, input: A): Effect.Effect<Option.Option<B>> => {
  const kind = resultKind(value)
  return skip(
    `Chan.pipeline: ${name} returned ${kind}, not ${expected}; the input was skipped`,
    Cause.die(badResult(`Chan.pipeline ${name}`, expected, value, kind)),
    input
  )
}

/**
 * The calls of `pipeline`: one fiber (the feed) waits for one of the `n` calls to be free, then
 * takes the next job (`next`: `None` once there is none), and starts a fiber doing `work` on it.
 * So `from` has one take pending at most, whatever `n` is, and only the jobs in flight have a
 * fiber (`n` may be huge). Fails with `Stopped` as soon as a job does (the others
 * are then interrupted); either way every fiber it started has ended when it returns.
 */
const calls = <J, R>(
  n: number,
  next: Effect.Effect<Option.Option<J>, never, R>,
  work: (job: J) => Effect.Effect<void, Stopped, R>
): Effect.Effect<void, Stopped, R> =>
  Effect.scoped(
    Effect.gen(function* () {
      const free = Semaphore.makeUnsafe(n)
      const fibers = yield* FiberSet.make<void, Stopped>()
      const feed = Effect.gen(function* () {
        while (true) {
          yield* Semaphore.take(free, 1)
          const job = yield* next
          if (Option.isNone(job)) return
          yield* FiberSet.run(fibers, Effect.ensuring(work(job.value), Semaphore.release(free, 1)))
        }
      })
      yield* FiberSet.run(fibers, feed)
      // the feed is in the set until it ends, and only it adds jobs: empty means all ended
      yield* Effect.raceFirst(FiberSet.join(fibers), FiberSet.awaitEmpty(fibers))
    })
  )

/** `pipeline`, ordered: the feed queues each job's result slot for the writer, which delivers them in order. */
const ordered = <A, B, R>(
  from: ReadPort<A>,
  to: WritePort<B>,
  run: (a: A) => Effect.Effect<Option.Option<B>, never, R>,
  n: number
): Effect.Effect<void, never, R> =>
  Effect.suspend(() => {
    /** A result slot is a promise channel: a value, or closed when the input was skipped. */
    const slots = Chan.makeUnsafe<Chan.Chan<B>>(n)
    /** The slot the writer took and has not delivered yet (its value stays in it). */
    let current: Chan.Chan<B> | undefined

    const next = Effect.gen(function* () {
      // once `to` is closed, no new take from `from` (a take pending when it closed may complete)
      if (yield* Chan.isClosed(to)) return Option.none()
      const input = yield* Chan.take(from)
      if (Option.isNone(input)) return Option.none()
      const slot = Chan.promiseUnsafe<B>()
      if (!(yield* Chan.put(slots, slot))) return Option.none()
      return Option.some({ input: input.value, slot })
    })

    const work = (job: { readonly input: A; readonly slot: Chan.Chan<B> }) =>
      Effect.flatMap(run(job.input), (result) =>
        Option.isSome(result) ? Effect.asVoid(Chan.put(job.slot, result.value)) : Chan.close(job.slot)
      )

    const writer = Effect.gen(function* () {
      while (true) {
        const taken = yield* Effect.map(Chan.take(slots), (slot) => {
          if (Option.isSome(slot)) current = slot.value
          return Option.isSome(slot)
        })
        if (!taken) return
        const result = yield* Chan.take(current!)
        if (Option.isSome(result)) {
          const accepted = yield* deliver(to, result.value, (ok) => {
            if (ok) current = undefined
          })
          if (!accepted) return yield* stop
        }
        current = undefined
      }
    })

    /** Results computed but not delivered (`to` closed, or teardown) go to `to`'s onUndelivered. */
    const releaseSlots = Effect.sync(() => {
      if (current !== undefined) releaseSlot(to, current)
      current = undefined
      for (let slot = Chan.pollUnsafe(slots); Option.isSome(slot); slot = Chan.pollUnsafe(slots)) {
        releaseSlot(to, slot.value)
      }
    })

    const reader = Effect.ensuring(calls(n, next, work), Chan.close(slots))
    return Effect.ensuring(group([reader, writer]), releaseSlots)
  })

const releaseSlot = <B>(to: WritePort<B>, slot: Chan.Chan<B>): void => {
  const value = Chan.pollUnsafe(slot)
  if (Option.isSome(value)) undeliver(to, value.value)
}

/**
 * `pipeline`, unordered. When `from` and `to` each allow `n` pending operations (`maxPending`,
 * 1024 by default): `n` workers, each taking an input, running it and putting its result (one
 * take and one put each at most: the fast path, ~4× the throughput of the fed one at n = 1).
 * Beyond: `fedUnordered`.
 */
const unordered = <A, B, R>(
  from: ReadPort<A>,
  to: WritePort<B>,
  run: (a: A) => Effect.Effect<Option.Option<B>, never, R>,
  n: number
): Effect.Effect<void, never, R> => {
  if (n > pendingRoom(from) || n > pendingRoom(to)) return fedUnordered(from, to, run, n)
  const worker = withHand<B, void, Stopped, R>(
    (hand) =>
      Effect.gen(function* () {
        // once `to` is closed, no new take from `from` (a take pending when it closed may complete)
        while (!(yield* Chan.isClosed(to))) {
          const next = yield* Chan.take(from)
          if (Option.isNone(next)) return
          const held = yield* Effect.map(run(next.value), (result) => {
            if (Option.isSome(result)) hand.hold(result.value)
            return Option.isSome(result)
          })
          if (held && !(yield* hand.putTo(to))) return yield* stop
        }
      }),
    to
  )
  return group(Array.from({ length: n }, () => worker))
}

/** How many operations may wait on `port` (its `maxPending`; a port of another kind: the default). */
const pendingRoom = (port: object): number => {
  const max = (port as { readonly maxPending?: unknown }).maxPending
  return typeof max === "number" ? max : defaultMaxPending
}

/**
 * `pipeline`, unordered, for an `n` beyond the ports' `maxPending`: each job runs its input and
 * puts its result on `to`, one job at a time (in completion order), so `to` has one put of the
 * pipeline pending at most, and `from` one take (`calls`), whatever `n` is.
 */
const fedUnordered = <A, B, R>(
  from: ReadPort<A>,
  to: WritePort<B>,
  run: (a: A) => Effect.Effect<Option.Option<B>, never, R>,
  n: number
): Effect.Effect<void, never, R> => {
  const next = Effect.suspend(() =>
    // once `to` is closed, no new take from `from` (a take pending when it closed may complete)
    Effect.flatMap(Chan.isClosed(to), (closed) => (closed ? Effect.succeedNone : Chan.take(from)))
  )
  const putting = Semaphore.makeUnsafe(1)
  const work = (input: A) =>
    withHand<B, void, Stopped, R>(
      (hand) =>
        Effect.gen(function* () {
          const held = yield* Effect.map(run(input), (result) => {
            if (Option.isSome(result)) hand.hold(result.value)
            return Option.isSome(result)
          })
          if (held && !(yield* Semaphore.withPermit(putting)(hand.putTo(to)))) return yield* stop
        }),
      to
    )
  return Effect.catch(calls(n, next, work), () => Effect.void)
}

/** `feed`'s `Iteration` of a sync iterable: `name` is the operation its logs name. */
const iterationOf = <A>(name: string, it: Iterable<A>): Iteration<A, Iterator<A>> => ({
  open: () => it[Symbol.iterator](),
  next: (iterator, hand) => Effect.try({ try: () => holdStep(hand, iterator.next()), catch: identity }),
  stop: (iterator) => Effect.try({ try: () => iterator.return!(), catch: identity }),
  threw: `${name}: the iterable threw; the values after it are lost`,
  returnThrew: `${name}: the iterator's return threw`
})
