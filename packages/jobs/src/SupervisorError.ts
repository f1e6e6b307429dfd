/**
 * The errors of `@tributary/jobs`: a supervisor that no longer admits jobs, one whose queue is
 * full (typed failures), and bad arguments (defects naming the argument and the value).
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

/**
 * A job operation (`Job.fire`, `Job.all`, `Supervisor.drain`, …) run in a fiber whose context has
 * no `Supervisor`: the call dies with it. Provide one with `Effect.provide(Supervisor.layer(config))`,
 * or run the whole program with `Supervisor.runMain(program)`.
 *
 * @since 0.2.0
 */
export class SupervisorMissingError extends Error {
  /** @since 0.2.0 */
  readonly _tag = "SupervisorMissingError" as const
  constructor(
    /** the operation that needed the supervisor, e.g. `"Job.fire"` */
    readonly operation: string
  ) {
    super(
      `${operation} needs a Supervisor, and none is provided: add Effect.provide(Supervisor.layer(config)) ` +
        "around the program, or run it with Supervisor.runMain(program)"
    )
    this.name = "SupervisorMissingError"
  }
}

/**
 * `definition.make(payload)` with a payload the definition's Schema cannot encode (`Job.define`):
 * thrown at the call site, with the Schema's issue as `cause`.
 *
 * @since 0.2.0
 */
export class JobPayloadError extends Error {
  /** @since 0.2.0 */
  readonly _tag = "JobPayloadError" as const
  constructor(
    /** the definition's name */
    readonly definition: string,
    /** the payload that did not encode */
    readonly payload: unknown,
    cause: unknown
  ) {
    super(
      `the payload of job "${definition}" does not encode: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause }
    )
    this.name = "JobPayloadError"
  }
}

/** What the argument errors share: the argument, the value, and a message naming both. */
abstract class ArgumentError extends Error {
  constructor(
    /** the argument or option, e.g. `"pool"` or `"pools.db.concurrency"` */
    readonly argument: string,
    /** the value received */
    readonly value: unknown,
    what: string,
    expected: string
  ) {
    super(`Invalid ${what} ${argument}: expected ${expected}, received ${describe(value)}`)
  }
}

/**
 * A bad `Supervisor` configuration (`Supervisor.layer`, `make`, `runMain`, `shutdown`): a
 * concurrency that is not an integer ≥ 1, a negative `maxQueued`, an unknown `whenFull` or
 * `logSuccess`, a bad duration, a malformed pool. Building the supervisor dies with it; the
 * message names the option and the value received.
 *
 * @since 0.1.0
 */
export class SupervisorConfigError extends ArgumentError {
  /** @since 0.1.0 */
  readonly _tag = "SupervisorConfigError" as const
  constructor(argument: string, value: unknown, expected: string) {
    super(argument, value, "Supervisor option", expected)
    this.name = "SupervisorConfigError"
  }
}

/**
 * A bad argument of `Job.fire`/`fork`/`forkAll`/`all`: a job that is not an Effect (a number, a
 * Promise, an async function: `argument` is `"work"`, or `"works[i]"` in a group), a `pool` the supervisor does not have, a
 * `name` or `key` that is not a string, a bad `timeout`, a `concurrency` that is not an integer
 * ≥ 1. The call dies with it (nothing is admitted); the message names the argument and the value.
 *
 * @since 0.1.0
 */
export class JobArgumentError extends ArgumentError {
  /** @since 0.1.0 */
  readonly _tag = "JobArgumentError" as const
  constructor(argument: string, value: unknown, expected: string) {
    super(argument, value, "job", expected)
    this.name = "JobArgumentError"
  }
}

const describe = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "bigint") return `${value}n`
  if (typeof value === "function") return "a function"
  if (typeof value === "object" && value !== null) {
    if (typeof (value as { then?: unknown }).then === "function") return "a Promise"
    try {
      return JSON.stringify(value) ?? String(value)
    } catch {
      return Object.prototype.toString.call(value)
    }
  }
  return String(value)
}
