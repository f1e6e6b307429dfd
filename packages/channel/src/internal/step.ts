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
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
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

/**
 * Turns `Class` into a step: its instances are Effects whose evaluation calls `run(fiber)`.
 * Precondition: `Class` declares `run(fiber: StepFiber): Next` and extends nothing else.
 */
export const defineStep = (Class: { prototype: object }): void => {
  Object.setPrototypeOf(Class.prototype, StepProto)
}

/** Passes `value` to the fiber's next continuation in the current step (no interrupt can land between). */
export const handOff = (fiber: StepFiber, value: unknown): Next => handOffExit(fiber, Exit.succeed(value))

/**
 * `handOff` of a success `Exit` made once and shared (an `Exit` is immutable, and effect evaluates
 * its own shared exits the same way): no allocation per operation.
 */
export const handOffExit = (fiber: StepFiber, exit: Exit.Exit<unknown>): Next =>
  (exit as unknown as Record<string, (fiber: StepFiber) => Next>)[EVALUATE](fiber)
