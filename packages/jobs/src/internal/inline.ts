/**
 * Calls on the caller's context that complete inside `yield*`.
 *
 * `Job.fire` and `Job.fork` need the calling fiber's services (the Supervisor, the log
 * annotations), so they were `Effect.withFiber(…)`: every `yield* Job.fire(work)` in a loop paid a
 * round through the fiber's run loop (yield the primitive, evaluate it, evaluate the `Effect.void`
 * it returns, find the continuation, resume the generator) — more than the firing itself costs.
 * A `ContextCall` is an Effect that does the same when it is run as an Effect, but whose iterator
 * (what `yield*` calls) first runs the call at once when it is asked for inside the run loop of the
 * fiber it will run in (`Fiber.getCurrent()`), reading that fiber's context: when the call returns
 * a success `Exit` (admitted, nothing to wait for), `yield*` evaluates to its value; otherwise
 * `yield*` continues with the Effect it returned, as the run loop would have.
 *
 * Invariants (as `@tributary/channel`'s steps, whose technique this is):
 * - The call runs in the fiber that `yield*` resumes, in the synchronous step in which it receives
 *   the result, with that fiber's current context: exactly what `Effect.withFiber` would pass.
 * - It counts as one of the fiber's operations (`currentOpCount`), and is not run early once the
 *   fiber is due to yield to the scheduler or has an interrupt pending: then the Effect is yielded
 *   and runs through the run loop, which acts on both. A loop of fires still yields and is still
 *   interrupted exactly as before.
 * - A call that throws (a bad argument to `fire`, a definition's `run` that throws) ends the same
 *   way early as in the run loop: its throw becomes a defect of the calling fiber at that point
 *   (`Effect.die`), as a throw inside `withFiber` does.
 * - The call runs once either way: early, or when the run loop evaluates the Effect — never both.
 *
 * The primitive protocol is effect's internal one (an Effect object's `…/evaluate` method returns
 * the next Effect); it is looked up on a public `Effect.sync` value at load time, and the module
 * refuses to load without it, so an incompatible effect fails loudly. Tested against effect 4.1.
 * Known difference: under `Effect.fnUntracedEager` the generator runs when the function is called,
 * so the job is fired at the call, as any eager code is.
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"

const syncProto: Record<string | symbol, unknown> = Object.getPrototypeOf(Effect.sync(() => 0))
const evaluateKey = Object.keys(syncProto).find((key) => key.endsWith("/evaluate"))
const yieldEffect = syncProto[Symbol.iterator] as ((this: unknown) => Iterator<unknown>) | undefined
if (evaluateKey === undefined || typeof syncProto[evaluateKey] !== "function" || typeof yieldEffect !== "function") {
  throw new Error("@tributary/jobs: this version of effect has no primitive evaluate hook; use effect 4.1")
}

/** The fiber fields read here (`_deferredInterrupt` is effect's own; absent: never pending). */
type RunningFiber = {
  readonly context: Context.Context<never>
  currentOpCount: number
  readonly cache: { readonly maxOpsBeforeYield: number }
  readonly _deferredInterrupt?: boolean
}

/** What `yield*` reads of an iterator that is done at once: `done` and `value`, before anything else runs. */
const completed: { value: unknown; done: true } = { value: undefined, done: true }
const completedIterator = { next: () => completed }

/**
 * A call on the running fiber's context, as an Effect (see the module doc). Subclasses hold their
 * arguments in fields (no closure per call) and implement `call`.
 */
export abstract class ContextCall<A, E> {
  /** Does the work with the caller's services; returns the Effect to continue with (a success `Exit` when done). */
  abstract call(context: Context.Context<never>): Effect.Effect<A, E>

  /** `yield*`: the call at once when it may run here, else the Effect through the run loop. */
  [Symbol.iterator](): Iterator<unknown> {
    const fiber = Fiber.getCurrent() as RunningFiber | undefined
    if (
      fiber === undefined ||
      fiber.currentOpCount >= fiber.cache.maxOpsBeforeYield ||
      fiber._deferredInterrupt === true
    )
      return yieldEffect!.call(this)
    fiber.currentOpCount++
    let next: Effect.Effect<A, E>
    try {
      next = this.call(fiber.context)
    } catch (defect) {
      return Effect.die(defect)[Symbol.iterator]()
    }
    if (Exit.isExit(next) && Exit.isSuccess(next)) {
      completed.value = next.value
      return completedIterator
    }
    return next[Symbol.iterator]()
  }
}

// A ContextCall is an Effect: effect's own prototype below it, evaluated by running the call.
const proto: Record<string, unknown> = Object.create(syncProto)
proto[evaluateKey] = function (this: ContextCall<unknown, unknown>, fiber: RunningFiber) {
  return this.call(fiber.context)
}
Object.setPrototypeOf(ContextCall.prototype, proto)
