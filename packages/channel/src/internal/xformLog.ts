/**
 * Logging the xform and `onUndelivered` errors a channel recorded (the state machine has no logger:
 * it keeps them in `xformFailures` and tells `onFailureRecorded`). Invariants:
 * - a failure is logged once (the list is cleared as it is taken), at Error level;
 * - the Effect operations on the put side log it as an Effect in their own fiber before they
 *   return; the synchronous and Promise ones (`reportXformUnsafe`) before they return, through the
 *   logger of the fiber they are called in, or effect's default runtime outside any fiber;
 * - one recorded inside an Effect operation's step (a take that pulled a pending put in, a select)
 *   is logged through that fiber's services (its loggers, level and annotations, as they are in
 *   that step) right after the step hands its result over, before the fiber's next effect
 *   (`setStepReporter`, which the Effect operations set): nothing is added to their paths, and no
 *   interrupt can land between the hand-off and the value;
 * - one recorded anywhere else (a take of the Promise facade) is logged in a microtask through
 *   effect's default runtime, after the operation is done.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { type ChanCore, onFailureRecorded, type XformFailure } from "./channel.js"

/**
 * Logs, at Error level, the xform and `onUndelivered` errors the channel recorded, then continues
 * with `next`. For operations whose result an interrupt may lose harmlessly (a put's boolean: the
 * value is in the channel either way); a take's are logged by the step reporter.
 */
export const reportXform = <A, E, R>(
  core: ChanCore<any, any>,
  next: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => {
  const failures = core.xformFailures
  if (failures === undefined) return next
  core.xformFailures = undefined
  return Effect.andThen(logAll(failures), next)
}

/**
 * Logs what the channel recorded now, synchronously, through the services of a fiber (`context`,
 * as they were when the failure was recorded: its loggers, log level and annotations).
 */
export const reportXformWith = (core: ChanCore<any, any>, context: Context.Context<never>): void => {
  const failures = core.xformFailures
  if (failures === undefined) return
  core.xformFailures = undefined
  Effect.runSyncExitWith(context)(logAll(failures))
}

/**
 * Sets how a failure recorded inside an Effect operation's step is logged: `report` arranges it
 * and returns true, or returns false when no step is running (then it is logged in a microtask).
 */
export const setStepReporter = (report: (core: ChanCore) => boolean): void => {
  stepReporter = report
}

/**
 * For the synchronous and Promise operations: logs what the channel recorded through the logger of
 * the fiber they are called in (`Effect.sync(() => Chan.offerUnsafe(...))`), or, called outside any
 * fiber, through effect's default runtime, so failures never pile up unlogged.
 */
export const reportXformUnsafe = (core: ChanCore<any, any>): void => {
  if (core.xformFailures === undefined) return
  const fiber = Fiber.getCurrent()
  if (fiber !== undefined) reportXformWith(core, fiber.context)
  else Effect.runFork(reportXform(core, Effect.void))
}

// ── private helpers ─────────────────────────────────────────────────────────

let stepReporter: (core: ChanCore) => boolean = () => false

onFailureRecorded((core) => {
  if (!stepReporter(core)) queueMicrotask(() => reportXformUnsafe(core))
})

/** Logs each failure at Error level, annotated with its channel's name and the input. */
const logAll = (failures: ReadonlyArray<XformFailure>): Effect.Effect<void> =>
  Effect.forEach(
    failures,
    (f) =>
      Effect.logError(f.message, Cause.die(f.error)).pipe(
        Effect.annotateLogs({ channel: f.channel ?? "(unnamed)", input: f.input })
      ),
    { discard: true }
  )
