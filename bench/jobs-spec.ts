/**
 * What bench/jobs.ts (driver) and bench/jobs-child.ts share: the peers, the bounds, the sample.
 * "ours" is the Effect API (`Job.fire`); "ours-promise" the Promise API (`@tributary/jobs/promise`:
 * `fire`), "ours-promise-run" its `run` (a Promise per job), "ours-promise-all" its `all`.
 */

/** What a child reports. */
export interface JobSample {
  readonly impl: string
  readonly workload: string
  /** jobs in the timed run */
  readonly n: number
  readonly ms: number
  readonly warmupMs: number
  /** W5: heapUsed right after all n jobs were queued (before any was awaited), MiB */
  readonly heapQueuedMiB?: number
  /** W5: the same minus heapUsed after gc() just before that (gated, untimed) heap run, MiB */
  readonly heapDeltaMiB?: number
  /** W5: jobs not done yet when the heap was sampled (ours' fire loop may yield, so some may have run) */
  readonly pendingAtSample?: number
  /** peak resident set size of the child, MiB */
  readonly maxRssMiB: number
}

export const w5Impls = [
  "ours",
  "ours-promise",
  "ours-promise-run",
  "ours-promise-all",
  "p-limit",
  "p-queue",
  "effect-forEach"
] as const
export const w6Impls = ["ours", "ours-promise", "p-limit", "hand", "sequential"] as const
export const W5_CONCURRENCY = 100
export const W6_CONCURRENCY = 50
export const W6_SERVER_DELAY_MS = 20
