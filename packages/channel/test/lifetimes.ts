/**
 * Scaffolding for the combinator tests (Combinators, Mult, Pub, Mix, Interop): an explicit scope to
 * close mid-run, a log recorder, an `onUndelivered` recorder, a check that nothing stays
 * registered on a set of channels, and a check that a "close the scope after N turns" table
 * exercised both ends.
 */
import { type Cause, Effect, Exit, Logger, type LogLevel, Option, Scope } from "effect"
import { expect } from "vitest"
import * as Chan from "../src/Chan.js"
import { pending } from "./harness.js"

/** A scope the test closes itself, to check what closing it does to running combinators. */
export const openScope = Scope.make()

/** Runs `effect` in `scope` (the combinator's fibers are forked there). */
export const inScope = <A, E>(scope: Scope.Scope, effect: Effect.Effect<A, E, Scope.Scope>) =>
  Scope.provide(effect, scope)

/** Closes `scope` (interrupting every fiber forked into it). */
export const closeScope = (scope: Scope.Closeable) => Scope.close(scope, Exit.void)

/** A logger that records every line; provide `layer`. */
export const captureLogs = () => {
  const lines: Array<{ level: LogLevel.LogLevel; message: string; cause: Cause.Cause<unknown> }> = []
  const logger = Logger.make<unknown, void>((o) => {
    const message = (Array.isArray(o.message) ? o.message : [o.message]).map(String).join(" ")
    lines.push({ level: o.logLevel, message, cause: o.cause })
  })
  return { lines, errors: () => lines.filter((l) => l.level === "Error"), layer: Logger.layer([logger]) }
}

/** An `onUndelivered` that records what it gets. */
export const undelivered = <A>() => {
  const values: Array<A> = []
  return { values, onUndelivered: (a: A) => void values.push(a) }
}

/** Asserts that no put or take is registered on any of `channels`. */
export const expectNothingPending = (...channels: ReadonlyArray<Chan.ReadPort<unknown> | Chan.WritePort<never>>) => {
  for (const ch of channels) expect(pending(ch)).toEqual({ puts: 0, takes: 0 })
}

/** Takes every value available right now (without waiting), e.g. what is left in a channel. */
export const pollAll = <A>(ch: Chan.ReadPort<A>): Array<A> => {
  const values: Array<A> = []
  for (let next = Chan.pollUnsafe(ch); Option.isSome(next); next = Chan.pollUnsafe(ch)) values.push(next.value)
  return values
}

/** Closes a channel a combinator returned as a `ReadPort` (closing is a write-side operation, hence the cast). */
export const closeReadPort = (ch: Chan.ReadPort<unknown>): void =>
  Chan.closeUnsafe(ch as unknown as Chan.WritePort<never>)

/** Whether `ch` is closed, synchronously. */
export const isClosedNow = (ch: Chan.ReadPort<unknown> | Chan.WritePort<never>): boolean =>
  Effect.runSync(Chan.isClosed(ch))

/** Where the values of one run of a "close the scope after N turns" table ended up. */
export interface ClosedRun {
  /** Taken by the consumer (or left in the output). */
  readonly received: ReadonlyArray<number>
  /** Given back through the output's `onUndelivered`. */
  readonly lost: ReadonlyArray<number>
  /** Still in the input. */
  readonly left: ReadonlyArray<number>
}

/**
 * Asserts that a "close the scope after N turns" table (its runs in increasing N) exercised both ends,
 * so that it cannot pass with a combinator that never moves a value: some run received values, some
 * run was closed with values both received and still in the input, (when `givesBack`) some run had a
 * value given back, and the last run delivered every one of `expected` (in any order) with nothing
 * given back or left.
 */
export const expectBothEnds = (
  runs: ReadonlyArray<ClosedRun>,
  expected: ReadonlyArray<number>,
  givesBack: boolean
): void => {
  expect(runs.some((r) => r.received.length > 0)).toBe(true)
  if (givesBack) expect(runs.some((r) => r.lost.length > 0)).toBe(true)
  expect(runs.some((r) => r.received.length > 0 && r.left.length > 0)).toBe(true)
  const last = runs[runs.length - 1]!
  expect({ received: [...last.received].sort((a, b) => a - b), lost: last.lost, left: last.left }).toEqual({
    received: [...expected].sort((a, b) => a - b),
    lost: [],
    left: []
  })
}
