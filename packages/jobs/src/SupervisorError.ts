/**
 * The errors of `@tributary/jobs`: a supervisor that no longer admits jobs, one whose queue is
 * full (typed failures), and bad arguments (defects naming the argument and the value).
 *
 * Each is an effect tagged error (`Data.TaggedError`): `yield*` it in `Effect.gen` to fail, match it
 * by `_tag` with `Effect.catchTag`, and it is still `instanceof` its class and `Error`.
 *
 * @since 0.2.0
 */
import { describeValue } from "@tributary/arguments"
import * as Data from "effect/Data"
import type { Outcome } from "./Outcome.js"

/**
 * `Job.fire`/`Job.fork` after shutdown began (or after the supervisor's scope closed). Also what a
 * `fire` suspended by `whenFull: "wait"` fails with when shutdown begins.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job } from "@tributary/jobs"
 *
 * // a request that comes in while the service shuts down: answered 503, not failed
 * const enqueue = Job.fire(Effect.log("send mail"), { name: "mail" }).pipe(
 *   Effect.as(202),
 *   Effect.catchTag("SupervisorClosedError", (e) => Effect.as(Effect.logWarning(e.message), 503))
 * )
 * ```
 *
 * @since 0.2.0
 */
export class SupervisorClosedError extends Data.TaggedError("SupervisorClosedError")<{
  /** the supervisor's name */
  readonly supervisor: string
  /** names the supervisor and says it admits no more jobs */
  readonly message: string
}> {
  constructor(supervisor: string) {
    super({ supervisor, message: `supervisor "${supervisor}" is shut down: it admits no more jobs` })
  }
}

/**
 * `Job.fire`/`Job.fork` while the queue is full, with `whenFull: "fail"`; `Job.fork` with
 * `whenFull: "drop"` (a dropped job has no handle to return).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job } from "@tributary/jobs"
 *
 * // load shedding under Supervisor.layer({ maxQueued: 1000, whenFull: "fail" }): a full queue answers 429
 * const enqueue = Job.fire(Effect.log("resize image"), { name: "thumbnail" }).pipe(
 *   Effect.as(202),
 *   Effect.catchTag("SupervisorFullError", (e) => Effect.as(Effect.logWarning(`${e.job} refused: ${e.message}`), 429))
 * )
 * ```
 *
 * @since 0.2.0
 */
export class SupervisorFullError extends Data.TaggedError("SupervisorFullError")<{
  /** the supervisor's name */
  readonly supervisor: string
  /** the job's name */
  readonly job: string
  /** names the supervisor, the job that was not admitted, and the settings that decide it */
  readonly message: string
}> {
  constructor(
    supervisor: string,
    job: string,
    /** what the caller can do (the default fits `Job.fire`/`Job.fork`) */
    advice = 'raise maxQueued, or set whenFull: "wait" to wait for room'
  ) {
    super({
      supervisor,
      job,
      message: `supervisor "${supervisor}" is full: job "${job}" was not admitted (its queue holds maxQueued jobs; ${advice})`
    })
  }
}

/**
 * A job that ended without a result of its own: it timed out (`reason: "TimedOut"`) or it was
 * interrupted (`"Interrupted"`: its group cancelled it, `Job.interrupt`, or it was cancelled while
 * queued). What `Job.all` with "failFast" or "firstSuccess" fails with when such a job decides the
 * group (a job interrupted by a shutdown too; a deciding work the group could not admit because
 * the supervisor had shut down gives `SupervisorClosedError` instead), and what the Promise API's
 * `run` and `all` reject with.
 *
 * ```ts
 * import { Job } from "@tributary/jobs"
 * import { Effect } from "effect"
 *
 * const values = Job.all([Effect.succeed(1), Effect.never], { concurrency: 2, policy: "failFast", timeout: "1 second" }).pipe(
 *   Effect.catchTag("JobAbortedError", (e) => Effect.succeed([`${e.job} ${e.reason}`])) // "job-1 TimedOut"
 * )
 * ```
 *
 * @since 0.2.0
 */
export class JobAbortedError extends Data.TaggedError("JobAbortedError")<{
  /** the job's name */
  readonly job: string
  /** how the job ended: it was interrupted, or its `timeout` passed */
  readonly reason: "Interrupted" | "TimedOut"
  /** the job's outcome, when known */
  readonly outcome: Outcome | undefined
  /** `job "<name>" timed out` or `job "<name>" was interrupted` */
  readonly message: string
}> {
  constructor(job: string, reason: "Interrupted" | "TimedOut", outcome?: Outcome) {
    super({
      job,
      reason,
      outcome,
      message: reason === "TimedOut" ? `job "${job}" timed out` : `job "${job}" was interrupted`
    })
  }
}

/**
 * A job operation (`Job.fire`, `Job.all`, `Supervisor.drain`, …) run in a fiber whose context has
 * no `Supervisor`: the call dies with it. Provide one with `Effect.provide(Supervisor.layer(config))`,
 * or run the whole program with `Supervisor.runMain(program)`.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job, Supervisor } from "@tributary/jobs"
 *
 * const program = Job.fire(Effect.log("hello"), { name: "greet" })
 * // `Supervisor` is in its requirements: where they were lost (an `any`), running it without one
 * // dies with SupervisorMissingError ("Job.fire needs a Supervisor, and none is provided: …")
 * Effect.runFork(program.pipe(Effect.provide(Supervisor.layer())))
 * ```
 *
 * @since 0.2.0
 */
export class SupervisorMissingError extends Data.TaggedError("SupervisorMissingError")<{
  /** the operation that needed the supervisor, e.g. `"Job.fire"` */
  readonly operation: string
  /** names the operation and says how to provide a supervisor */
  readonly message: string
}> {
  constructor(operation: string) {
    super({
      operation,
      message:
        `${operation} needs a Supervisor, and none is provided: add Effect.provide(Supervisor.layer(config)) ` +
        "around the program, or run it with Supervisor.runMain(program)"
    })
  }
}

/**
 * `definition.make(payload)` with a payload the definition's Schema cannot encode (`Job.define`):
 * thrown at the call site, with the Schema's issue as `cause` (or, for a Schema that encodes
 * asynchronously, an Error that says so: `make` encodes at once).
 *
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Job, JobPayloadError } from "@tributary/jobs"
 *
 * const charge = Job.define({
 *   name: "charge",
 *   payload: Schema.Struct({ cents: Schema.Int }),
 *   run: ({ cents }) => Effect.log(`charging ${cents}`)
 * })
 * try {
 *   charge.make({ cents: 9.5 })
 * } catch (e) {
 *   if (e instanceof JobPayloadError) console.error(e.definition, e.message) // "charge" the payload of job "charge" does not encode: …
 * }
 * ```
 *
 * @since 0.2.0
 */
export class JobPayloadError extends Data.TaggedError("JobPayloadError")<{
  /** the definition's name */
  readonly definition: string
  /** the payload that did not encode */
  readonly payload: unknown
  /** names the definition, with the cause's message */
  readonly message: string
  /** the Schema's issue (or the Error saying the Schema encodes asynchronously) */
  readonly cause: unknown
}> {
  constructor(definition: string, payload: unknown, cause: unknown) {
    super({
      definition,
      payload,
      cause,
      message: `the payload of job "${definition}" does not encode: ${cause instanceof Error ? cause.message : String(cause)}`
    })
  }
}

/**
 * A bad `Supervisor` configuration (`Supervisor.layer`, `make`, `runMain`'s options, `shutdown`'s
 * `grace`, the Promise API's `supervisor`): a concurrency that is not an integer ≥ 1, a negative
 * `maxQueued`, an unknown `whenFull` or `logSuccess`, a bad duration, a malformed pool, an unknown
 * key (`pools.partner.concurency`: the message lists the known ones). Building the supervisor dies
 * with it; the message reads `Invalid <operation> <option>: expected <what>, received <value>`,
 * the operation being the call that received it (`Supervisor.layer`, `Supervisor.make`,
 * `Supervisor.runMain`, `Supervisor.shutdown`, the Promise API's `supervisor`, …).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job, Supervisor, SupervisorConfigError } from "@tributary/jobs"
 *
 * const workers = Number(process.env.WORKERS) // NaN when unset
 * const program = Job.fire(Effect.log("hello")).pipe(
 *   Effect.provide(Supervisor.layer({ concurrency: workers })),
 *   // a defect: caught here only to say which setting is wrong
 *   // Invalid Supervisor.layer concurrency: expected an integer ≥ 1 (or Infinity), received NaN
 *   Effect.catchDefect((d) => (d instanceof SupervisorConfigError ? Effect.logError(`fix ${d.argument}: ${d.message}`) : Effect.die(d)))
 * )
 * ```
 *
 * @since 0.2.0
 */
export class SupervisorConfigError extends Data.TaggedError("SupervisorConfigError")<{
  /** the option, e.g. `"pools.db.concurrency"` */
  readonly argument: string
  /** the value received */
  readonly value: unknown
  /** the call that received it, e.g. `"Supervisor.layer"` (undefined when `argument` names it) */
  readonly operation?: string | undefined
  /** what the option expects, e.g. `"an integer ≥ 1 (or Infinity)"` */
  readonly expected: string
  /** names the call, the option, what it expects and the value received (a long value cut after 200 characters, with "…") */
  readonly message: string
}> {
  constructor(argument: string, value: unknown, expected: string, operation?: string) {
    super({ argument, value, operation, expected, message: invalid(operation, argument, expected, value) })
  }
}

/**
 * A bad argument of `Job.fire`/`fork`/`forkAll`/`all`/`item`/`define`, `Supervisor.watch`,
 * `pause`/`resume`: a job that is not an Effect (a number, a Promise, an async function:
 * `argument` is `"work"`, or `"works[i]"` in a group), options that are not an object or hold an
 * unknown key (a misspelt `timeOut`: the message lists the known ones), a `pool` the supervisor
 * does not have, a `name` or `key` that is not a string, a bad `timeout`, a `concurrency` that is
 * not an integer ≥ 1, a bad `watch` interval. The call dies with it (nothing is admitted); the
 * message reads `Invalid <operation> <argument>: expected <what>, received <value>`, the operation
 * being the call that received it (`Job.fire`, `Job.all`, `Supervisor.pause`, the Promise API's
 * `sup.run`, …).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job, JobArgumentError } from "@tributary/jobs"
 *
 * const pool = process.env.SYNC_POOL ?? "partner" // "partnr": a pool the supervisor lacks
 * const program = Job.fire(Effect.log("sync"), { name: "sync", pool }).pipe(
 *   // a defect: caught here only to say which argument is wrong
 *   // Invalid Job.fire pool: expected one of the pools of the supervisor (did you mean partner?): default, partner, received "partnr"
 *   Effect.catchDefect((d) => (d instanceof JobArgumentError ? Effect.logError(`${d.argument}: ${d.message}`) : Effect.die(d)))
 * )
 * ```
 *
 * @since 0.2.0
 */
export class JobArgumentError extends Data.TaggedError("JobArgumentError")<{
  /** the argument or option, e.g. `"pool"` or `"works[2].options.key"` */
  readonly argument: string
  /** the value received */
  readonly value: unknown
  /** the call that received it, e.g. `"Job.fire"` (undefined when `argument` names it: `"Job.join handle"`) */
  readonly operation?: string | undefined
  /** what the argument expects, e.g. `"an Effect (the job to run)"` */
  readonly expected: string
  /** names the call, the argument, what it expects and the value received (a long value cut after 200 characters, with "…") */
  readonly message: string
}> {
  constructor(argument: string, value: unknown, expected: string, operation?: string) {
    super({ argument, value, operation, expected, message: invalid(operation, argument, expected, value) })
  }
}

/**
 * `error` as the error of the call `operation`: a JobArgumentError or SupervisorConfigError thrown
 * by a check that does not know which call it checks for (a job's options, checked on every
 * `Job.fire` without a name to pass), named after `operation`; one already named after
 * `replacing` is renamed (the Promise API's `sup.all` runs `Job.all`). Any other error, or one
 * named after another call, is returned as it is. Called only when an error was thrown.
 *
 * @internal
 */
export const inOperation = (error: unknown, operation: string, replacing?: string): unknown => {
  if (!(error instanceof JobArgumentError || error instanceof SupervisorConfigError)) return error
  if (error.operation !== undefined && error.operation !== replacing) return error
  return error instanceof JobArgumentError
    ? new JobArgumentError(error.argument, error.value, error.expected, operation)
    : new SupervisorConfigError(error.argument, error.value, error.expected, operation)
}

const invalid = (operation: string | undefined, argument: string, expected: string, value: unknown): string =>
  `Invalid ${operation === undefined ? "" : `${operation} `}${argument}: expected ${expected}, received ${describeValue(value)}`
