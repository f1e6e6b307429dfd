/**
 * How the combinators (`combinators.ts`), `Mult`, `Pub` and `Mix` move values and run their
 * fibers: a value held between its take and its put (`Hand`), the commit-time put (`deliver`,
 * `putOrEnqueue`), and the lifetime helpers (`background`, `closing`, `withHand`, `guarded`).
 *
 * Invariants every user of these keeps:
 *  1. Lifetimes: each fiber is forked into the caller's `Scope` (`background`; none is detached).
 *     Closing the scope interrupts it; `closing` closes the outputs its flag owns, and
 *     interruption withdraws pending puts and takes, so nothing stays registered.
 *  2. Nothing fails silently: user code that throws (`guarded`) and a defect that stops a fiber
 *     (`background`) are logged at Error level.
 *  3. A value taken but not delivered (the target closed, or the scope closed first) goes to the
 *     target's `onUndelivered`, exactly once: it is held from the step that took it (`takeInto`),
 *     and the hand is emptied at the put's commit itself (`deliver`), so a teardown never releases
 *     a value a taker already has.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import { type ChanCore, Node, PENDING } from "./channel.js"
import * as Chan from "./operations.js"
import type { ReadPort, WritePort } from "./ports.js"
import { reportXform as reportCoreXform } from "./xformLog.js"

/** Passes `value`, which a combinator took but could not deliver, to `to`'s `onUndelivered`. */
export const undeliver = <A>(to: WritePort<A>, value: A): void => (to as unknown as ChanCore<A>).undeliver(value)

/**
 * A value a combinator took and has not delivered yet. Precondition of `hold`: the hand is empty.
 * Whoever owns a hand releases it (to the target's `onUndelivered`) when it stops.
 */
export class Hand<A> {
  private full = false
  private held: A | undefined = undefined

  get value(): A {
    return this.held as A
  }

  get isFull(): boolean {
    return this.full
  }

  hold(value: A): void {
    this.full = true
    this.held = value
  }

  /** Forgets the held value (delivered, or deliberately discarded). */
  drop(): void {
    this.full = false
    this.held = undefined
  }

  /** Passes a held value to `to`'s `onUndelivered`. */
  release(to: WritePort<A>): void {
    if (!this.full) return
    const value = this.held as A
    this.drop()
    undeliver(to, value)
  }

  /**
   * Puts the held value on `to`: `true` once accepted, `false` if `to` is closed (still held). The
   * hand is emptied at the commit itself (see `deliver`), so a teardown never releases a value a
   * taker already has.
   */
  putTo(to: WritePort<A>): Effect.Effect<boolean> {
    return deliver(to, this.held as A, this.onCommit)
  }

  private readonly onCommit = (accepted: boolean): void => {
    if (accepted) this.drop()
  }
}

/**
 * Puts `value` on `to` (waiting for room or a taker) and runs `onCommit(accepted)` at the commit
 * itself, in the same synchronous step as the channel's state change.
 *
 * Why not `Chan.put`: a waiting put whose value a taker received resumes its fiber a little later;
 * interrupted in between, its Effect ends interrupted although the value was delivered. A
 * combinator that then released the value to `onUndelivered` would account for it twice. Here the
 * bookkeeping happens at the commit, and an interrupt before it withdraws the put (nothing
 * delivered). Xform errors of `to` are logged as `Chan.put` logs them.
 */
export const deliver = <A>(to: WritePort<A>, value: A, onCommit: (accepted: boolean) => void): Effect.Effect<boolean> =>
  Effect.flatMap(
    Effect.callback<boolean>((resume) => {
      let waiting = false
      const withdraw = putOrEnqueue(to, value, (accepted) => {
        onCommit(accepted)
        const exit = accepted ? exitTrue : exitFalse
        // a put that waited commits inside the taker's operation: resume after it, not inside it
        if (waiting) queueMicrotask(() => resume(exit))
        else resume(exit)
      })
      waiting = true
      return withdraw === undefined ? undefined : Effect.sync(withdraw)
    }),
    (accepted) => reportXform(to, accepted)
  )

/**
 * The commit-time put under `deliver` and `Mult`: completes now (`done` called before it returns,
 * `undefined` returned) or queues a pending put and returns its withdrawal. `done(accepted)` is
 * called exactly once, at the commit, unless withdrawn first; when the put waited, `done` runs
 * inside the taker's operation, so it must only record the outcome and resume.
 */
export const putOrEnqueue = <A>(
  to: WritePort<A>,
  value: A,
  done: (accepted: boolean) => void
): (() => void) | undefined => {
  const core = to as unknown as ChanCore<A>
  const result = core.tryPut(value)
  if (result !== PENDING) {
    done(result)
    return undefined
  }
  const node = new Node<A>(value, done)
  core.enqueuePut(node)
  return () => core.withdraw(node)
}

/** Logs at Error level the xform errors `to` recorded (as `Chan.put` does), then succeeds with `accepted`. */
export const reportXform = (to: WritePort<never>, accepted: boolean): Effect.Effect<boolean> =>
  reportCoreXform(to as unknown as ChanCore, accepted ? exitTrue : exitFalse)

/** Takes a value from `from` into `hand` in the step that resumes the taker; `false` once `from` is closed and drained. */
export const takeInto = <A>(from: ReadPort<A>, hand: Hand<A>): Effect.Effect<boolean> =>
  Effect.map(Chan.take(from), (next) => {
    if (Option.isNone(next)) return false
    hand.hold(next.value)
    return true
  })

/** Runs `body` with a fresh hand, releasing it to `to` however `body` ends. */
export const withHand = <A, X, E, R>(
  body: (hand: Hand<A>) => Effect.Effect<X, E, R>,
  to?: WritePort<A>
): Effect.Effect<X, E, R> =>
  Effect.suspend(() => {
    const hand = new Hand<A>()
    return Effect.ensuring(
      body(hand),
      Effect.sync(() => (to === undefined ? hand.drop() : hand.release(to)))
    )
  })

/**
 * Forks `effect` into the caller's scope and returns at once. A defect that ends it is logged at
 * Error level (effect does not log a failed forked fiber), then `teardown` runs (closing the
 * outputs, handing back what is held), exactly once: when the fiber ends, however — or, when the
 * scope closes before the fiber ever ran (a fiber interrupted before its first step runs none of
 * its finalizers), as the scope closes, so the outputs never stay open with readers waiting.
 */
export const background = <R>(
  name: string,
  effect: Effect.Effect<void, never, R>,
  teardown: Effect.Effect<void> = Effect.void
): Effect.Effect<void, never, Scope.Scope | R> =>
  Effect.gen(function* () {
    // the teardown lives in a child scope, made before the fork (so closing the caller's scope
    // closes it after the fiber was interrupted and ended); the fiber closes it as it ends, which
    // also takes it out of the caller's scope: a finished combinator leaves nothing there
    const child = yield* Scope.fork(yield* Effect.scope)
    yield* Scope.addFinalizer(child, teardown)
    yield* Effect.forkScoped(
      Effect.ensuring(
        Effect.tapCause(effect, (cause) =>
          Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logError(`${name} stopped on a defect`, cause)
        ),
        Scope.close(child, Exit.void)
      )
    )
  })

/** The teardown of a `background` loop that closes `ch` when `close` holds. */
export const closing = (ch: WritePort<never>, close: boolean): Effect.Effect<void> =>
  close ? Chan.close(ch) : Effect.void

/** Calls user code `f`: `Some` of its result, or `None` after logging what it threw at Error level. */
export const guarded = <X>(message: string, f: () => X): Effect.Effect<Option.Option<X>> =>
  Effect.catchCause(
    Effect.map(Effect.sync(f), (x) => Option.some(x)),
    (cause) => Effect.as(Effect.logError(message, cause), Option.none<X>())
  )

// ── private ─────────────────────────────────────────────────────────────────

const exitTrue = Exit.succeed(true)
const exitFalse = Exit.succeed(false)
