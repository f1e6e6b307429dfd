/**
 * Shared scaffolding for the channel tests: a runner with `TestClock`, the buffer kinds every
 * behaviour is run across, a view of a channel's pending queues, and small helpers several test
 * files use (filled channels, counting iterables, taking `n` values, what an Exit died with, what a
 * call threw, waiting on a condition without a clock).
 */
import { Cause, Effect, Exit, type Fiber, Option } from "effect"
import { TestClock } from "effect/testing"
import { expect } from "vitest"
import { Buffer, Chan, ChanArgumentError } from "../src/index.js"
import type { ChanCore } from "../src/internal/channel.js"

/** Runs `effect` with a `TestClock` (time moves only through `TestClock.adjust`). */
export const run = <A, E>(effect: Effect.Effect<A, E, never>): Promise<A> =>
  Effect.runPromise(Effect.provide(effect, TestClock.layer()))

/** Runs `effect` and returns its Exit (for defects and interruption). */
export const runExit = <A, E>(effect: Effect.Effect<A, E, never>) =>
  Effect.runPromise(Effect.exit(Effect.provide(effect, TestClock.layer())))

/** Lets every fiber that can make progress do so (a few scheduler turns). */
export const settle: Effect.Effect<void> = Effect.gen(function* () {
  for (let i = 0; i < 10; i++) yield* Effect.yieldNow
})

/** Whether `fiber` is still suspended after everything else settled. */
export const isSuspended = <A, E>(fiber: Fiber.Fiber<A, E>): Effect.Effect<boolean> =>
  Effect.map(settle, () => fiber.pollUnsafe() === undefined)

/** The kinds of channel a behaviour must hold for. `capacity` is how many puts complete without a taker. */
export interface Kind {
  readonly name: string
  readonly policy: "rendezvous" | "fixed" | "dropping" | "sliding" | "promise"
  readonly capacity: number
  readonly make: <A>(options?: Chan.Options<A>) => Chan.Chan<A>
}

export const kinds: ReadonlyArray<Kind> = [
  { name: "rendezvous", policy: "rendezvous", capacity: 0, make: (o) => Chan.makeUnsafe(0, o) },
  { name: "fixed(1)", policy: "fixed", capacity: 1, make: (o) => Chan.makeUnsafe(1, o) },
  { name: "fixed(3)", policy: "fixed", capacity: 3, make: (o) => Chan.makeUnsafe(Buffer.fixed(3), o) },
  { name: "dropping(2)", policy: "dropping", capacity: 2, make: (o) => Chan.makeUnsafe(Buffer.dropping(2), o) },
  { name: "sliding(2)", policy: "sliding", capacity: 2, make: (o) => Chan.makeUnsafe(Buffer.sliding(2), o) },
  { name: "promise", policy: "promise", capacity: 1, make: (o) => Chan.promiseChanUnsafe(o) }
]

/** The channel kinds that deliver every accepted value exactly once, in order (no dropping, no promise). */
export const fifoKinds = kinds.filter((k) => k.policy === "rendezvous" || k.policy === "fixed")

/** How many puts and takes are pending on `ch` (registered handlers). */
export const pending = (ch: Chan.ReadPort<unknown> | Chan.WritePort<never>): { puts: number; takes: number } => {
  const core = ch as unknown as ChanCore
  return { puts: core.putters.size, takes: core.takers.size }
}

/** The numbers 0, 1, ..., n - 1. */
export const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/** A channel holding `values` (a buffer of `capacity`, by default exactly their number), closed when `close`. */
export const filled = <A>(
  values: ReadonlyArray<A>,
  close = true,
  capacity = Math.max(1, values.length)
): Chan.Chan<A> => {
  const ch = Chan.makeUnsafe<A>(capacity)
  for (const v of values) expect(Chan.offerUnsafe(ch, v)).toBe(true)
  if (close) Chan.closeUnsafe(ch)
  return ch
}

/**
 * The numbers 0, 1, 2, …: `length` of them (endless without), the iterator throwing at `failAt`;
 * as a sync and as an async iterable (whose `next` and `return` reject where the sync ones throw).
 * `returned()` counts the calls of the iterators' `return`, which throws with `returnFails`.
 */
export const counting = (options: {
  readonly length?: number
  readonly failAt?: number
  readonly returnFails?: boolean
}) => {
  let returned = 0
  const iterator = (): Iterator<number> & { return: () => IteratorResult<number> } => {
    let i = 0
    return {
      next: () => {
        if (i === options.failAt) throw new Error("iterator broke")
        return i < (options.length ?? Number.POSITIVE_INFINITY)
          ? { done: false, value: i++ }
          : { done: true, value: undefined }
      },
      return: () => {
        returned++
        if (options.returnFails === true) throw new Error("return broke")
        return { done: true, value: undefined }
      }
    }
  }
  const iterable: Iterable<number> = { [Symbol.iterator]: iterator }
  const asyncIterable: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => {
      const sync = iterator()
      return { next: async () => sync.next(), return: async () => sync.return() }
    }
  }
  return { iterable, asyncIterable, returned: () => returned }
}

/** Takes `n` values, failing the test on a `None`. */
export const takeN = <A>(ch: Chan.ReadPort<A>, n: number) =>
  Effect.gen(function* () {
    const values: Array<A> = []
    for (let i = 0; i < n; i++) values.push(Option.getOrThrow(yield* Chan.take(ch)))
    return values
  })

/** The defects of a failed Exit (none for a success). */
export const defects = (exit: Exit.Exit<unknown, unknown>): Array<unknown> =>
  Exit.isFailure(exit) ? exit.cause.reasons.filter(Cause.isDieReason).map((r) => r.defect) : []

/** The first defect an Exit died with, or `undefined`. */
export const defectOf = (exit: Exit.Exit<unknown, unknown>): unknown => defects(exit)[0]

/** The one defect `effect` dies with (fails the test if it does not die with exactly one). */
export const soleDefect = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.exit(effect), (exit) => {
    expect(Exit.isFailure(exit)).toBe(true)
    expect(defects(exit)).toHaveLength(1)
    return defects(exit)[0]
  })

/** What a Promise rejects with (fails the test if it resolves). */
export const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => expect.unreachable("expected a rejection"),
    (error: unknown) => error
  )

/** Whether an Exit is a failure by interruption only. */
export const isInterrupted = (exit: Exit.Exit<unknown, unknown>): boolean =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)

/** The error `f` throws (fails the test if it returns). */
export const thrown = (f: () => unknown): unknown => {
  try {
    f()
  } catch (error) {
    return error
  }
  return expect.unreachable("expected a throw")
}

/** Lets the event loop turn `n` times (by `setImmediate`, the effect scheduler's own hook; never a timer). */
export const eventLoopTurns = async (n = 20): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/** Waits (by turns of the event loop, never by time) until `condition` holds; fails after 200 turns. Real timers only. */
export const until = async (condition: () => boolean): Promise<void> => {
  for (let i = 0; i < 200; i++) {
    if (condition()) return
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
  expect.unreachable("condition never held")
}

/** Asserts `error` is a ChanArgumentError whose message names `argument` and, after it, `value`. */
export const expectArgumentError = (error: unknown, argument: string, value: unknown): void => {
  expect(error).toBeInstanceOf(ChanArgumentError)
  const e = error as ChanArgumentError
  expect(e._tag).toBe("ChanArgumentError")
  expect(e.message).toContain(argument)
  expect(e.message.slice(e.message.indexOf(argument) + argument.length)).toContain(String(value))
}
