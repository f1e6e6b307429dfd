/**
 * The errors of `@tributary/jobs`: a supervisor that no longer admits jobs, and one whose queue is
 * full.
 *
 * @since 0.1.0
 */

/**
 * `Job.fire`/`Job.fork` after shutdown began (or after the supervisor's scope closed). Also what a
 * `fire` suspended by `whenFull: "wait"` fails with when shutdown begins.
 *
 * @since 0.1.0
 */
export class SupervisorClosedError extends Error {
  /** @since 0.1.0 */
  readonly _tag = "SupervisorClosedError" as const
  constructor(readonly supervisor: string) {
    super(`supervisor "${supervisor}" is shut down: it admits no more jobs`)
    this.name = "SupervisorClosedError"
  }
}

/**
 * `Job.fire`/`Job.fork` while the queue is full, with `whenFull: "fail"`; `Job.fork` with
 * `whenFull: "drop"` (a dropped job has no handle to return).
 *
 * @since 0.1.0
 */
export class SupervisorFullError extends Error {
  /** @since 0.1.0 */
  readonly _tag = "SupervisorFullError" as const
  constructor(
    readonly supervisor: string,
    readonly job: string
  ) {
    super(`supervisor "${supervisor}" is full: job "${job}" was not admitted`)
    this.name = "SupervisorFullError"
  }
}
