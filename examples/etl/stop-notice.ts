/**
 * A line, at once, for a stop (Ctrl-C, SIGTERM) that comes while the job waits on something it
 * cannot cut short: PGlite creating its data folder (seconds; stopped half-way, it would leave a
 * half-written database) or opening it, or the first connection to `DATABASE_URL` (up to its
 * timeout). `Supervisor.runMain` owns the signals and logs that it is stopping; without this line
 * the next one could come 20 s later, and the user would not know what the job waits for.
 *
 * Invariants: the listeners only add a line — they never handle the stop (runMain does, and a
 * second signal still exits at once); they are installed for `effect`'s run only and removed
 * however it ends; one line per signal.
 */
import { Effect } from "effect"
import type pino from "pino"

const signals = ["SIGINT", "SIGTERM"] as const

/** Runs `effect`; a stop meanwhile logs through `logger` that the job waits for `what` to finish. */
export const noticeStopsWhile = <A, E, R>(
  what: string,
  logger: pino.Logger<any>,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const listeners = signals.map((signal) => {
        const listener = () =>
          logger.warn(
            { signal },
            `${signal} received while ${what}: waiting for it to finish, then the summary (${signal === "SIGINT" ? "Ctrl-C" : signal} again exits at once)`
          )
        process.on(signal, listener)
        return () => process.removeListener(signal, listener)
      })
      return () => {
        for (const remove of listeners) remove()
      }
    }),
    () => effect,
    (remove) => Effect.sync(remove)
  )
