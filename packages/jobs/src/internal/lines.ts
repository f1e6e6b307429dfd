/**
 * What every line the supervisor writes shares: the job's annotations, and the containment of a
 * logger that throws (the line is lost and counted, never the fiber writing it).
 *
 * Invariant: `logContained(state, log)` fails only when `log` was interrupted; any other failure
 * or defect of `log` costs its line (counted once in `counters.linesLost`, reported by
 * `lostLines` once per burst), and a success ends a burst.
 *
 * @internal
 */
import type { LostLines } from "@tributary/pino"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as References from "effect/References"
import type { Entry } from "./model.js"

/**
 * `log` written through the supervisor's own loggers and minimum level (`context`: the supervisor's),
 * as its outcome lines are, whichever fiber writes it: a job's fiber has its caller's loggers, which
 * may be another's, or effect's default.
 */
export const throughSupervisorLoggers = (
  context: Context.Context<never>,
  log: Effect.Effect<void>
): Effect.Effect<void> =>
  log.pipe(
    Effect.provideService(References.CurrentLoggers, Context.get(context, References.CurrentLoggers)),
    Effect.provideService(References.MinimumLogLevel, Context.get(context, References.MinimumLogLevel))
  )

/**
 * Runs `log`, one line of the supervisor's; a logger that throws costs the line, never the fiber
 * writing it: the line is counted in `linesLost` and the first loss of a burst is reported on stderr.
 */
export const logContained = (
  state: { readonly counters: { linesLost: number }; readonly lostLines: LostLines },
  log: Effect.Effect<void>
): Effect.Effect<void> =>
  Effect.matchCauseEffect(log, {
    onFailure: (cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.failCause(cause)
        : Effect.sync(() => {
            state.counters.linesLost++
            state.lostLines.failed(Cause.squash(cause))
          }),
    onSuccess: () => Effect.sync(() => state.lostLines.succeeded())
  })

/** The annotations of every log line of a job: `base` (the caller's), the job's own, then its identity. */
export const jobAnnotations = (entry: Entry, base?: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const a: Record<string, unknown> = { ...base, ...entry.annotations }
  a["job.id"] = entry.id
  a["job.name"] = entry.name
  a["job.pool"] = entry.pool.name
  if (entry.key !== undefined) a["job.key"] = entry.key
  return a
}
