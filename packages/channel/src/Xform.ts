/**
 * Transducers for channels (core.async's `xform`): composable, stateful transformations that
 * values pass through on their way into a channel's buffer.
 *
 * ```ts
 * import { Chan, Xform } from "@tributary/channel"
 *
 * // even numbers, doubled, in batches of 10; the last partial batch is flushed on close
 * const batches = Chan.make(16, {
 *   xform: Xform.compose(
 *     Xform.filter((n: number) => n % 2 === 0),
 *     Xform.map((n: number) => n * 2),
 *     Xform.partitionAll<number>(10)
 *   )
 * })
 * ```
 *
 * Gotchas: an xform that finishes early (`take`, `takeWhile`) closes its channel. An xform is a
 * recipe: each channel gets fresh state, so one `Xform` value can serve many channels. A function
 * argument that is not a function, or a count out of range, throws `ChanArgumentError` when the
 * xform is built (not at the first put).
 *
 * @since 0.2.0
 */
import * as Option from "effect/Option"
import { ChanArgumentError } from "./ChanError.js"
import { badResult, resultKind, safely } from "./internal/guard.js"

/**
 * The receiving end of one transducer stage.
 * `step` returns `false` once the stage will accept no more input (it finished early: core.async's
 * `reduced`); `complete` runs once, when the channel closes, and flushes any state downstream.
 *
 * @since 0.2.0
 */
export interface Sink<in A> {
  /** Takes one value; `false` once the stage accepts no more (it finished early), `true` otherwise. */
  step(value: A): boolean
  /** Runs once, when the channel closes: flushes the stage's state downstream (a partial batch). */
  complete(): void
}

/**
 * A transducer from `I` to `O`: given the sink for its outputs, makes a fresh sink for its inputs.
 *
 * @since 0.2.0
 */
export interface Xform<in I, out O> {
  /** @internal brand: what `isXform` looks for (only this module's constructors set it) */
  readonly "~tributary/Xform": (i: I) => O
  /** Builds the stage's state; called once per channel. */
  readonly make: (downstream: Sink<O>) => Sink<I>
}

/**
 * Whether `u` is a transducer built by this module (`map`, `filter`, `compose`, …): what
 * `Chan.make`'s `xform` option accepts.
 *
 * ```ts
 * import { Xform } from "@tributary/channel"
 *
 * const checks = [Xform.isXform(Xform.map((n: number) => n + 1)), Xform.isXform((n: number) => n + 1)]
 * // [true, false]
 * ```
 *
 * @since 0.2.0
 */
export const isXform: (u: unknown) => u is Xform<unknown, unknown> = safely(
  (u): u is Xform<unknown, unknown> => typeof u === "object" && u !== null && "~tributary/Xform" in u
)

/**
 * Applies `f` to every value.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Xform } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make(16, { xform: Xform.map((n: number) => n * 2) })
 *   for (const v of [1, 2, 3]) yield* Chan.put(ch, v)
 *   yield* Chan.close(ch)
 *   return yield* Chan.toArray(ch) // [2, 4, 6]
 * })
 * ```
 *
 * @since 0.2.0
 */
export const map = <A, B>(f: (a: A) => B): Xform<A, B> =>
  withFunction(
    "Xform.map function",
    f,
    stage((down) => ({ step: (a) => down.step(f(a)), complete: () => down.complete() }))
  )

/**
 * Keeps the values for which `p` holds.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Xform } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make(16, { xform: Xform.filter((n: number) => n > 1) })
 *   for (const v of [1, 2, 3]) yield* Chan.put(ch, v)
 *   yield* Chan.close(ch)
 *   return yield* Chan.toArray(ch) // [2, 3]
 * })
 * ```
 *
 * @since 0.2.0
 */
export function filter<A, B extends A>(p: (a: A) => a is B): Xform<A, B>
export function filter<A>(p: (a: A) => boolean): Xform<A, A>
export function filter<A>(p: (a: A) => boolean): Xform<A, A> {
  return withFunction(
    "Xform.filter predicate",
    p,
    stage((down) => ({ step: (a) => (p(a) ? down.step(a) : true), complete: () => down.complete() }))
  )
}

/**
 * core.async's `mapcat`: each value becomes the values of the iterable `f` returns. A result that
 * is not iterable is an error of the xform (`ChanArgumentError`, naming `Xform.flatMap function
 * result`): the value is dropped and the error logged at Error level, or passed to `onXformError`.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Xform } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make(16, { xform: Xform.flatMap((s: string) => s.split(",")) })
 *   for (const v of ["a,b", "c"]) yield* Chan.put(ch, v)
 *   yield* Chan.close(ch)
 *   return yield* Chan.toArray(ch) // ["a", "b", "c"]
 * })
 * ```
 *
 * @since 0.2.0
 */
export const flatMap = <A, B>(f: (a: A) => Iterable<B>): Xform<A, B> =>
  withFunction(
    "Xform.flatMap function",
    f,
    stage((down) => ({
      step: (a) => {
        const bs: unknown = f(a)
        if (typeof (bs as Partial<Iterable<B>> | null | undefined)?.[Symbol.iterator] !== "function") {
          throw badResult("Xform.flatMap function", "an iterable", bs, resultKind(bs))
        }
        for (const b of bs as Iterable<B>) {
          if (!down.step(b)) return false
        }
        return true
      },
      complete: () => down.complete()
    }))
  )

/**
 * Passes the first `n` values, then finishes (which closes the channel).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Xform } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make(16, { xform: Xform.take<number>(2) })
 *   for (const v of [1, 2, 3]) yield* Chan.put(ch, v)
 *   yield* Chan.close(ch)
 *   return yield* Chan.toArray(ch) // [1, 2]: the channel closed itself after 2; the put of 3 returned false
 * })
 * ```
 *
 * @since 0.2.0
 */
export const take = <A>(n: number): Xform<A, A> => {
  const count = checkCount("Xform.take count", n, 0)
  return stage((down) => {
    let left = count
    return {
      step: (a) => {
        if (left <= 0) return false
        left--
        const more = down.step(a)
        return more && left > 0
      },
      complete: () => down.complete()
    }
  })
}

/**
 * Passes values while `p` holds; the first value for which it fails is dropped and the stage
 * finishes (which closes the channel).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Xform } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make(16, { xform: Xform.takeWhile((n: number) => n < 3) })
 *   for (const v of [1, 2, 3, 1]) yield* Chan.put(ch, v)
 *   yield* Chan.close(ch)
 *   return yield* Chan.toArray(ch) // [1, 2]: 3 ended it and closed the channel
 * })
 * ```
 *
 * @since 0.2.0
 */
export const takeWhile = <A>(p: (a: A) => boolean): Xform<A, A> =>
  withFunction(
    "Xform.takeWhile predicate",
    p,
    stage((down) => ({ step: (a) => p(a) && down.step(a), complete: () => down.complete() }))
  )

/**
 * Drops the first `n` values.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Xform } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make(16, { xform: Xform.drop<number>(2) })
 *   for (const v of [1, 2, 3, 4]) yield* Chan.put(ch, v)
 *   yield* Chan.close(ch)
 *   return yield* Chan.toArray(ch) // [3, 4]
 * })
 * ```
 *
 * @since 0.2.0
 */
export const drop = <A>(n: number): Xform<A, A> => {
  const count = checkCount("Xform.drop count", n, 0)
  return stage((down) => {
    let left = count
    return {
      step: (a) => {
        if (left > 0) {
          left--
          return true
        }
        return down.step(a)
      },
      complete: () => down.complete()
    }
  })
}

/**
 * Drops a value equal (`Object.is`) to the one before it.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Xform } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make(16, { xform: Xform.dedupe<string>() })
 *   for (const v of ["a", "a", "b", "a"]) yield* Chan.put(ch, v)
 *   yield* Chan.close(ch)
 *   return yield* Chan.toArray(ch) // ["a", "b", "a"]
 * })
 * ```
 *
 * @since 0.2.0
 */
export const dedupe = <A>(): Xform<A, A> =>
  stage((down) => {
    let seen = false
    let last: A | undefined
    return {
      step: (a) => {
        if (seen && Object.is(a, last)) return true
        seen = true
        last = a
        return down.step(a)
      },
      complete: () => down.complete()
    }
  })

/**
 * Groups values in arrays of `n`; the last, shorter group is flushed when the channel closes.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Xform } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make(16, { xform: Xform.partitionAll<number>(2) })
 *   for (const v of [1, 2, 3]) yield* Chan.put(ch, v)
 *   yield* Chan.close(ch)
 *   return yield* Chan.toArray(ch) // [[1, 2], [3]]: close flushed the last batch
 * })
 * ```
 *
 * @since 0.2.0
 */
export const partitionAll = <A>(n: number): Xform<A, Array<A>> => {
  const size = checkCount("Xform.partitionAll size", n, 1)
  return stage((down) => {
    let group: Array<A> = []
    return {
      step: (a) => {
        group.push(a)
        if (group.length < size) return true
        const full = group
        group = []
        return down.step(full)
      },
      complete: () => {
        const rest = group
        group = []
        completeWith(rest, down)
      }
    }
  })
}

/**
 * Groups consecutive values for which `f` returns the same key (`Object.is`); the last group is
 * flushed when the channel closes.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Xform } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make(16, { xform: Xform.partitionBy((n: number) => n % 2 === 0) })
 *   for (const v of [1, 3, 2, 4, 5]) yield* Chan.put(ch, v)
 *   yield* Chan.close(ch)
 *   return yield* Chan.toArray(ch) // [[1, 3], [2, 4], [5]]
 * })
 * ```
 *
 * @since 0.2.0
 */
export const partitionBy = <A>(f: (a: A) => unknown): Xform<A, Array<A>> =>
  withFunction(
    "Xform.partitionBy function",
    f,
    stage((down) => {
      let group: Array<A> = []
      let key: unknown
      return {
        step: (a) => {
          const k = f(a)
          if (group.length === 0 || Object.is(k, key)) {
            key = k
            group.push(a)
            return true
          }
          const full = group
          group = [a]
          key = k
          return down.step(full)
        },
        complete: () => {
          const rest = group
          group = []
          completeWith(rest, down)
        }
      }
    })
  )

/**
 * Maps and filters in one step: `f` returns an `Option`, and `None` drops the value. A result that
 * is not an `Option` drops the value too, as an error of the xform (`ChanArgumentError`, naming
 * `Xform.keep function result`): logged at Error level, or passed to the channel's `onXformError`.
 *
 * ```ts
 * import { Effect, Option } from "effect"
 * import { Chan, Xform } from "@tributary/channel"
 *
 * const parse = (s: string): Option.Option<number> => {
 *   const n = Number(s)
 *   return Number.isNaN(n) ? Option.none() : Option.some(n)
 * }
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make(16, { xform: Xform.keep(parse) })
 *   for (const s of ["1", "x", "3"]) yield* Chan.put(ch, s)
 *   yield* Chan.close(ch)
 *   return yield* Chan.toArray(ch) // [1, 3]
 * })
 * ```
 *
 * @since 0.2.0
 */
export const keep = <A, B>(f: (a: A) => Option.Option<B>): Xform<A, B> =>
  withFunction(
    "Xform.keep function",
    f,
    stage((down) => ({
      step: (a) => {
        const o: unknown = f(a)
        if (!Option.isOption(o)) throw badResult("Xform.keep function", "an Option", o, resultKind(o))
        return Option.isSome(o) ? down.step(o.value as B) : true
      },
      complete: () => down.complete()
    }))
  )

/**
 * Composes transducers left to right: values pass through the first, then the second, and so on.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan, Xform } from "@tributary/channel"
 *
 * const program = Effect.gen(function* () {
 *   const ch = yield* Chan.make(16, { xform: Xform.compose(Xform.map((s: string) => s.trim()), Xform.filter((s: string) => s !== ""), Xform.take<string>(2)) })
 *   for (const v of [" a ", " ", "b", "c"]) yield* Chan.put(ch, v)
 *   yield* Chan.close(ch)
 *   return yield* Chan.toArray(ch) // ["a", "b"]
 * })
 * ```
 *
 * @since 0.2.0
 */
export function compose<A, B>(ab: Xform<A, B>): Xform<A, B>
export function compose<A, B, C>(ab: Xform<A, B>, bc: Xform<B, C>): Xform<A, C>
export function compose<A, B, C, D>(ab: Xform<A, B>, bc: Xform<B, C>, cd: Xform<C, D>): Xform<A, D>
export function compose<A, B, C, D, E>(ab: Xform<A, B>, bc: Xform<B, C>, cd: Xform<C, D>, de: Xform<D, E>): Xform<A, E>
export function compose<A, B, C, D, E, F>(
  ab: Xform<A, B>,
  bc: Xform<B, C>,
  cd: Xform<C, D>,
  de: Xform<D, E>,
  ef: Xform<E, F>
): Xform<A, F>
export function compose<A, B, C, D, E, F, G>(
  ab: Xform<A, B>,
  bc: Xform<B, C>,
  cd: Xform<C, D>,
  de: Xform<D, E>,
  ef: Xform<E, F>,
  fg: Xform<F, G>
): Xform<A, G>
export function compose(...xforms: ReadonlyArray<Xform<any, any>>): Xform<any, any>
export function compose(...xforms: ReadonlyArray<Xform<any, any>>): Xform<any, any> {
  if (xforms.length === 0) throw new ChanArgumentError("Xform.compose arguments", xforms, "at least one Xform")
  xforms.forEach((x, i) => {
    if (!isXform(x)) throw new ChanArgumentError(`Xform.compose argument ${i}`, x, "an Xform")
  })
  return stage((down) => {
    let sink = down
    for (let i = xforms.length - 1; i >= 0; i--) sink = xforms[i].make(sink)
    return sink
  })
}

// ── private ─────────────────────────────────────────────────────────────────

const stage = <I, O>(make: (downstream: Sink<O>) => Sink<I>): Xform<I, O> =>
  ({ "~tributary/Xform": undefined, make }) as unknown as Xform<I, O>

/** `xform`, once `f` (the user's function, named by `argument`) is checked to be a function. */
const withFunction = <X>(argument: string, f: unknown, xform: X): X => {
  if (typeof f !== "function") throw new ChanArgumentError(argument, f, "a function")
  return xform
}

/** Completes a grouping stage: passes its last, partial group downstream (if any), then completes. */
const completeWith = <A>(rest: Array<A>, down: Sink<Array<A>>): void => {
  if (rest.length > 0) down.step(rest)
  down.complete()
}

const checkCount = (argument: string, n: number, min: number): number => {
  if (typeof n !== "number" || !Number.isInteger(n) || n < min) {
    throw new ChanArgumentError(argument, n, `an integer >= ${min}`)
  }
  return n
}
