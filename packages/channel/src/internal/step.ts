/**
 * One-step Effect operations.
 *
 * effect 4 may act on an interrupt between any two steps of a fiber. A channel operation that
 * consumed a value in one step (`Effect.suspend(() => { take; return Exit })`) and handed it to the
 * caller in the next could lose it there. effect's own `Queue` avoids this with a private primitive
 * that evaluates the resulting `Exit` in the same step; this module does the same for channels:
 * a `Step` is an Effect whose evaluation calls `run(fiber)`, and `handOff` passes a value to the
 * fiber's next continuation within that step.
 *
 * The primitive protocol is effect's internal one (an Effect object's `…/evaluate` method returns
 * the next primitive). It is discovered from a public `Effect.sync` value at load time, and the
 * module refuses to load if it is missing, so an incompatible effect version fails loudly, never
 * silently. Tested against effect 4.1.
 *
 * Completing in `yield*` (`defineStep` of a step with `now`). Most channel operations complete at
 * once and touch nothing but the channel (a put into a buffer with room, a take of a buffered value
 * nobody waits for). For those, a round through the fiber's run loop (yield the step, evaluate it,
 * find the continuation, resume the generator) costs several times the operation. So a step's
 * iterator (what `yield*` calls) first tries `now()` when it is asked for inside the run loop of the
 * fiber it will run in: if that completes, `yield*` evaluates to its result at once, as if the
 * step had run and handed it over; otherwise the step is yielded as usual. Invariants:
 *  - `now()` runs only in a running fiber (`Fiber.getCurrent()`), in the synchronous step in which
 *    `yield*` receives its result: nothing can land between the two, so no value is lost.
 *  - It counts as one of the fiber's operations (`currentOpCount`), and is skipped once the fiber is
 *    due to yield to the scheduler, or has an interrupt pending (then the step runs through the run
 *    loop, which acts on both): a loop of operations that always complete still yields, and is
 *    still interrupted, exactly as one through the run loop.
 *  - `now()` changes only the channel and calls no callback or user code (a select's winning handler
 *    excepted, which its step would call at the same point); it returns `NOT_NOW`, and changes
 *    nothing, when it cannot complete that way. `NowThen` carries an Effect that `yield*` runs as
 *    the step would continue with it: a handler's Effect (or its throw, as a defect), or — for a
 *    select whose drawn ready case is not a buffered take — the step itself bound to that case
 *    (`ChosenCase` in runtime.ts), which has completed nothing yet.
 * Known difference: `Effect.fnUntracedEager` runs its generator when the function is called (in
 * the caller's fiber), so there the operation happens at the call, and a value taken then is lost
 * if the returned Effect is never run. The `Chan` module doc says so.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type { SchedulerDispatcher } from "effect/Scheduler"

const syncProto: Record<string, unknown> = Object.getPrototypeOf(Effect.sync(() => 0))
const evaluateKey = Object.keys(syncProto).find((key) => key.endsWith("/evaluate"))
if (evaluateKey === undefined || typeof syncProto[evaluateKey] !== "function") {
  throw new Error("@tributary/channel: this version of effect has no primitive evaluate hook; use effect 4.1")
}
const EVALUATE: string = evaluateKey

/** The fiber a step runs in: the runtime's own (only public `Fiber` members are read). */
export type StepFiber = {
  readonly currentDispatcher: Dispatcher
  readonly cache: { readonly maxOpsBeforeYield: number }
}

/** Where a fiber's wake-ups are scheduled (effect's `SchedulerDispatcher`). */
export type Dispatcher = SchedulerDispatcher

/** What `run` may return: an Effect to continue with, or the result of `handOff`. */
export type Next = unknown

/**
 * The prototype of every step: an Effect (it inherits effect's pipe, iterator and equality) whose
 * evaluation is `this.run(fiber)`.
 */
const StepProto: Record<string, unknown> = Object.create(syncProto)
StepProto[EVALUATE] = function (this: { run(fiber: StepFiber): Next }, fiber: StepFiber): Next {
  return this.run(fiber)
}

/** What a step's `now()` returns when it cannot complete at once without its fiber. */
export const NOT_NOW: unique symbol = Symbol.for("@tributary/channel/notNow")
export type NOT_NOW = typeof NOT_NOW

/**
 * What `now()` returns when its result is an Effect still to run: the handler's Effect of an
 * operation that completed, or an operation bound to what it chose and still to complete.
 */
export class NowThen {
  constructor(readonly effect: Effect.Effect<unknown, unknown, unknown>) {}
}

/** A step that may complete inside `yield*` (see the module doc). */
interface NowStep {
  now(): unknown
}

/** The fiber fields `yield*` completion reads; `_deferredInterrupt` is effect's own (absent: never pending). */
type RunningFiber = {
  currentOpCount: number
  readonly cache: { readonly maxOpsBeforeYield: number }
  readonly _deferredInterrupt?: boolean
}

/** The result `yield*` reads at once (it reads `done` and `value` before anything else runs). */
const completed: { value: unknown; done: true } = { value: undefined, done: true }
/** An iterator that is already done: `yield*` over it evaluates to `completed.value`. */
const completedIterator = { next: () => completed }

const yieldStep: (this: unknown) => Iterator<unknown> = syncProto[Symbol.iterator as unknown as string] as any
if (typeof yieldStep !== "function") {
  throw new Error("@tributary/channel: effect values are not iterable in this version of effect; use effect 4.1")
}

/** The iterator of a step with `now`: its result at once when `now()` completes, else the step yielded. */
function iterateNow(this: NowStep): Iterator<unknown> {
  const fiber = Fiber.getCurrent() as RunningFiber | undefined
  if (
    fiber !== undefined &&
    fiber.currentOpCount < fiber.cache.maxOpsBeforeYield &&
    fiber._deferredInterrupt !== true
  ) {
    const result = this.now()
    if (result !== NOT_NOW) {
      fiber.currentOpCount++
      if (result instanceof NowThen) return result.effect[Symbol.iterator]()
      completed.value = result
      return completedIterator
    }
  }
  return yieldStep.call(this)
}

/**
 * Turns `Class` into a step: its instances are Effects whose evaluation calls `run(fiber)`; if it
 * declares `now()`, `yield*` of an instance first tries that (see the module doc).
 * Precondition: `Class` declares `run(fiber: StepFiber): Next` and extends nothing else.
 */
export const defineStep = (Class: { prototype: object }): void => {
  Object.setPrototypeOf(Class.prototype, StepProto)
  if (typeof (Class.prototype as Partial<NowStep>).now === "function") {
    Object.defineProperty(Class.prototype, Symbol.iterator, { value: iterateNow, writable: true, configurable: true })
  }
}

/** Passes `value` to the fiber's next continuation in the current step (no interrupt can land between). */
export const handOff = (fiber: StepFiber, value: unknown): Next => handOffExit(fiber, Exit.succeed(value))

/**
 * `handOff` of a success `Exit` made once and shared (an `Exit` is immutable, and effect evaluates
 * its own shared exits the same way): no allocation per operation.
 */
export const handOffExit = (fiber: StepFiber, exit: Exit.Exit<unknown>): Next =>
  (exit as unknown as Record<string, (fiber: StepFiber) => Next>)[EVALUATE](fiber)
