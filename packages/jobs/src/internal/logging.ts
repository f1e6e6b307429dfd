/**
 * The supervisor fiber: the only writer of outcome lines. It takes the outcomes `finish` queued
 * (`toLog`), writes each one's line (not built at all below the minimum log level) and publishes
 * it to the taps, and writes the warnings about `reportTo`.
 *
 * Invariants (numbered in the supervisor's one list, which runs across its parts: see
 * `supervisor.ts`):
 * 13. Each entry taken from `toLog` gets at most one outcome line (none for a success when
 *     successes are below the minimum log level), is published to the taps when there are any,
 *     and then `state.logged()` is called for it exactly once — also when its line is lost
 *     (`logContained` fails only when the fiber itself is interrupted).
 * 14. The loop returns only when `toLog` and `warnings` are empty and `loggerStop` is set.
 *
 * @internal
 */
import { Chan } from "@tributary/channel"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { jobAnnotations, logContained } from "./lines.js"
import type { Entry } from "./model.js"
import { outcomeOf, type SupervisorState } from "./state.js"

/**
 * Takes every outcome, logs it (the only writer of outcome lines) and publishes it to the taps. Lines below the minimum log level are not built at all.
 */
export const supervisorLoop = (state: SupervisorState): Effect.Effect<void> =>
  Effect.gen(function* () {
    while (true) {
      while (state.warnings.length > 0) yield* logContained(state, state.warnings.shift()!)
      const entry = state.toLog.shift()
      if (entry === undefined) {
        if (state.loggerStop) return
        yield* Effect.callback<void>((resume) => {
          state.loggerResume = () => resume(Effect.void)
          return Effect.sync(() => {
            state.loggerResume = undefined
          })
        })
        continue
      }
      if (entry.tag !== "Success" || state.successLogged) yield* logContained(state, logOutcome(state, entry))
      if (state.taps > 0) Chan.offerUnsafe(state.published, outcomeOf(state, entry))
      state.logged()
    }
  })

const logOutcome = (state: SupervisorState, entry: Entry): Effect.Effect<void> => {
  const outcome = outcomeOf(state, entry)
  const annotations = jobAnnotations(entry)
  annotations.attempt = outcome.attempt
  annotations.durationMillis = outcome.durationMillis
  annotations["job.outcome"] = outcome._tag
  if (outcome.payload !== undefined) annotations["job.payload"] = outcome.payload
  const log = (() => {
    switch (outcome._tag) {
      case "Success":
        return Effect.logWithLevel(state.config.logSuccess)(`job ${outcome.name} succeeded`)
      case "Failure":
        return Exit.isFailure(outcome.exit)
          ? Effect.logError(`job ${outcome.name} failed`, outcome.exit.cause)
          : Effect.logError(`job ${outcome.name} failed`)
      case "Interrupted":
        return Effect.logWarning(`job ${outcome.name} was interrupted`)
      case "TimedOut":
        return Effect.logWarning(`job ${outcome.name} timed out`)
    }
  })()
  return Effect.annotateLogs(log, annotations)
}
