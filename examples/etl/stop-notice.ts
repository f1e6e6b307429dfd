/**
 * A line, at once, for a stop (Ctrl-C, SIGTERM) that comes while the job waits on something it
 * cannot cut short: PGlite creating its data folder (seconds; stopped half-way, it would leave a
 * half-written database) or opening it, or the first connection to `DATABASE_URL` (up to its
 * timeout). `Supervisor.runMain` owns the signals and logs that it is stopping; without this line
 * the next one could come 20 s later, and the user would not know what the job waits for.
 *
 * The event loop is blocked while PGlite creates a folder (its initdb runs in this thread): a signal
 * then is answered once the folder is created — this line, runMain's stop — and the sync, which
 * starts after, fetches nothing.
 *
 * Invariants: the listeners only add a line and hold the job where it is once `effect` is done
 * — they never handle the stop (runMain does: it interrupts the job, and a second signal still
 * exits at once); they are installed for `effect`'s run only and removed
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
  Effect.suspend(() => {
    let signalled = false
    return Effect.acquireUseRelease(
      Effect.sync(() => {
        const listeners = signals.map((signal) => {
          const listener = () => {
            signalled = true
            logger.warn(
              { signal },
              `${signal} received while ${what}: waiting for it to finish, then the summary (${signal === "SIGINT" ? "Ctrl-C" : signal} again exits at once)`
            )
          }
          process.on(signal, listener)
          return () => process.removeListener(signal, listener)
        })
        return () => {
          for (const remove of listeners) remove()
        }
      }),
      // PGlite creating a folder blocks the event loop: a signal that came meanwhile is read only
      // at the loop's next I/O poll. The first setImmediate runs in this turn's check phase (its
      // poll may have come before the block), the second in the next turn's, after its poll: the
      // signal is in by then. After a stop the job goes no further (runMain interrupts it): it
      // fetches nothing
      () =>
        Effect.tap(effect, () =>
          Effect.flatMap(
            Effect.promise(() => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)))),
            () => (signalled ? Effect.never : Effect.void)
          )
        ),
      (remove) => Effect.sync(remove)
    )
  })
