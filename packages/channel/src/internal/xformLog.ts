/**
 * Logging the xform and `onUndelivered` errors a channel recorded (the state machine has no logger: it keeps them in
 * `xformFailures`; the Effect operations on the put side log them in their own fiber, the
 * synchronous and Promise ones through `reportXformUnsafe`).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type { ChanCore } from "./channel.js"

/**
 * Logs, at Error level, the xform and `onUndelivered` errors the channel recorded, then continues with `next`. Only
 * put-side operations call it (their result is a boolean): a take never delays the value it hands
 * over.
 */
export const reportXform = <A, E, R>(
  core: ChanCore<any, any>,
  next: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => {
  const failures = core.xformFailures
  if (failures === undefined) return next
  core.xformFailures = undefined
  return Effect.andThen(
    Effect.forEach(
      failures,
      (f) =>
        Effect.logError(f.message, Cause.die(f.error)).pipe(
          Effect.annotateLogs({ channel: f.channel ?? "(unnamed)", input: f.input })
        ),
      { discard: true }
    ),
    next
  )
}

/**
 * For the synchronous and Promise operations (no fiber to log in): logs what the channel recorded
 * through effect's default runtime, so failures never pile up unlogged.
 */
export const reportXformUnsafe = (core: ChanCore<any, any>): void => {
  if (core.xformFailures !== undefined) Effect.runFork(reportXform(core, Effect.void))
}
