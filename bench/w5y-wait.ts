/**
 * The wait of a W5y job (bench/jobs-child.ts, bench/job-cost.ts): one turn of the event loop, made
 * the same way on every side, the way an I/O completion resumes a job.
 *
 * Invariant: each job arms its own `setImmediate` and is resumed by that callback: the Effect job
 * through `Effect.callback` (the primitive a socket or timer callback resumes a fiber through), the
 * Promise peers' job through a Promise resolved by it. `Effect.yieldNow` is not used: it is a
 * scheduler task, and the fibers of ours' supervisor share one scheduler dispatcher, so their yields
 * would share one `setImmediate` per batch while each `Effect.forEach` fiber and each Promise job
 * paid one of its own — a cheaper wait for one side than for the others, and not what a job waiting
 * on I/O costs.
 */
import { Effect } from "effect"

/** The Effect side's wait: resumed by its own `setImmediate` callback. */
export const effectWait: Effect.Effect<void> = Effect.callback<void>((resume) => {
  setImmediate(() => resume(Effect.void))
})

/** The Promise side's wait: a Promise resolved by its own `setImmediate` callback. */
export const promiseWait = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
