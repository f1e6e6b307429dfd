/**
 * The checks of what a user passes: a job's options (`checkSpec`, and `checkOptions` for the
 * option names of every kind of options object, with a "did you mean" for a misspelt one), the
 * durations a user gives (`nonNegativeDuration`, stricter than effect's), and the error of a job
 * that is not an Effect. Pure functions: each throws a JobArgumentError naming the argument and
 * its value, or returns; the supervisor's own configuration is checked by `config.ts` with them.
 *
 * Invariants:
 * - `checkOptions` refuses every key that is not an option the object may hold, and every option
 *   set to null (no option's value): a misspelt option is refused, never ignored.
 * - Every duration a user gives is read by `nonNegativeDuration`: NaN, a negative duration and an
 *   object that is not a duration are refused, never read as 0.
 * - `unknownOption` (run by every `Job.fire` with options) allocates nothing when every key is known.
 *
 * @internal
 */
import { durationExpected, illFormedDuration, knownOption } from "@tributary/arguments"
import { Chan, type WritePort } from "@tributary/channel"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type { Outcome } from "../Outcome.js"
import { JobArgumentError } from "../SupervisorError.js"

/** What `state.entry` reads from a job's options (the public `Job.Options`, read in place). */
export interface EntrySpec {
  /** the job's own id (dedupe: a live job with this id is returned instead of a second one) */
  readonly id?: string | undefined
  readonly name?: string | undefined
  readonly key?: string | undefined
  readonly timeout?: Duration.Input | undefined
  readonly retry?: Schedule.Schedule<unknown, any> | undefined
  readonly reportTo?: WritePort<Outcome<any, any>> | undefined
  readonly annotations?: Record<string, unknown> | undefined
  /** how long to wait (Clock time) before the job is admitted */
  readonly delay?: Duration.Input | undefined
  /** higher first among the waiting jobs of its lane (default 0) */
  readonly priority?: number | undefined
}

// ── durations ───────────────────────────────────────────────────────────────

/**
 * `input` as a Duration ≥ 0 (Infinity allowed), or undefined when it is not one. Every duration a
 * user gives (a job's `timeout`, `delay`, a retry delay, `grace`, an interval) is read here.
 * Stricter than effect's `Duration.fromInput`, which reads NaN (`Number(process.env.TIMEOUT)`
 * unset) as 0, and any object as a `DurationObject`: `{ second: 5 }` or `{}` would be 0 millis, a
 * job timing out at once. An object must be a Duration, a `[seconds, nanos]` pair of numbers, or a
 * `DurationObject` with at least one of its units and no other key.
 */
export const nonNegativeDuration = (input: unknown): Duration.Duration | undefined => {
  if (typeof input === "number" ? Number.isNaN(input) : typeof input === "object" && !durationShaped(input))
    return undefined
  const d = Duration.fromInput(input as Duration.Input)
  return Option.isSome(d) && Duration.toMillis(d.value) >= 0 ? d.value : undefined
}

/** Whether the object (or null) `input` is one `nonNegativeDuration` reads (see there); NaN in it is no number. */
const durationShaped = (input: object | null): boolean => input !== null && !illFormedDuration(input)

/**
 * `expected` for the error of a bad duration `input`: for an object that is not a Duration (a
 * misspelt unit, `{}`), with the units a duration object takes (`@tributary/arguments`).
 */
export { durationExpected }

// ── option names ────────────────────────────────────────────────────────────

/**
 * Which options an options object may hold, beyond a group item's (`name`, `pool`, `key`,
 * `timeout`, `priority`, `delay`, `retry`, `annotations`): the sum of these flags.
 */
export const OptionFlags = {
  /** `id` (a single job's: a group's jobs are not deduplicated) */
  id: 1,
  /** `reportTo` (the Effect API's jobs and groups) */
  reportTo: 2,
  /** `concurrency` (a group's own) */
  group: 4,
  /** `signal` (the Promise API's `run` and `all`) */
  signal: 8,
  /** `policy` (`all`'s own: `forkAll` hands every outcome over, it has no policy) */
  policy: 16
} as const

/** The options of `Job.fire` and `Job.fork` (`Job.Options`). */
const jobOptionFlags = OptionFlags.id | OptionFlags.reportTo

/**
 * The first key of `options` (own or inherited, as `for…in` sees them) that is not an option
 * allowed by `flags` (see `OptionFlags`), or undefined. `Job.fire` runs it on every job: one
 * `for…in` and a `switch`, nothing allocated when every key is known.
 */
const unknownOption = (options: object, flags: number): string | undefined => {
  for (const key in options) {
    switch (key) {
      case "name":
      case "pool":
      case "key":
      case "timeout":
      case "priority":
      case "delay":
      case "retry":
      case "annotations":
        continue
      case "id":
        if ((flags & OptionFlags.id) !== 0) continue
        break
      case "reportTo":
        if ((flags & OptionFlags.reportTo) !== 0) continue
        break
      case "concurrency":
        if ((flags & OptionFlags.group) !== 0) continue
        break
      case "policy":
        if ((flags & OptionFlags.policy) !== 0) continue
        break
      case "signal":
        if ((flags & OptionFlags.signal) !== 0) continue
        break
    }
    return key
  }
  return undefined
}

/** The option names `flags` allows (see `OptionFlags`), in the order of the docs. */
const optionNames = (flags: number): Array<string> => {
  const names = ["name", "pool", "key", "timeout", "priority", "delay", "retry", "annotations"]
  if ((flags & OptionFlags.id) !== 0) names.unshift("id")
  if ((flags & OptionFlags.policy) !== 0) names.unshift("policy")
  if ((flags & OptionFlags.group) !== 0) names.unshift("concurrency")
  if ((flags & OptionFlags.reportTo) !== 0) names.push("reportTo")
  if ((flags & OptionFlags.signal) !== 0) names.push("signal")
  return names
}

/**
 * Throws a JobArgumentError unless `options` is an object whose every key is an option `flags`
 * allows (see `OptionFlags`): a misspelt option would be ignored (a job without its timeout). The
 * error names `prefix` + the key (or the object: `prefix` without its final dot, else "options"),
 * lists the known options, and says which one was meant when one is close (`knownOption`). A key
 * set to null is refused too (null is no option's value). `operation` names the call in the
 * message (`Job.item`); a check on `Job.fire`'s path leaves it out, and the call names it
 * (`inOperation`).
 */
export const checkOptions = (options: unknown, prefix: string, flags: number, operation?: string): void => {
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw new JobArgumentError(prefix === "" ? "options" : prefix.slice(0, -1), options, "an object", operation)
  const key = unknownOption(options, flags)
  if (key === undefined) {
    // null is no option's value: where options merge (an item's over its group's) it would read as
    // "not given" and silently take the group's, while fire refuses it
    for (const k in options)
      if ((options as Record<string, unknown>)[k] === null)
        throw new JobArgumentError(`${prefix}${k}`, null, "a value (leave the option out for its default)", operation)
    return
  }
  throw new JobArgumentError(
    `${prefix}${key}`,
    (options as Record<string, unknown>)[key],
    `${knownOption(key, optionNames(flags))}${key === "id" ? " (a group's jobs take no id)" : ""}`,
    operation
  )
}

/**
 * The first key of `o` (as `for…in` sees them) not in `known`, or undefined: for configurations,
 * read once (a job's options are checked by `unknownOption`). Its error says what it expects with
 * `knownOption` (`@tributary/arguments`, whose rule every package shares).
 */
export const unknownKey = (o: object, known: ReadonlyArray<string>): string | undefined => {
  for (const key in o) if (!known.includes(key)) return key
  return undefined
}

// ── a job's options ────────────────────────────────────────────────────────

/**
 * Throws a JobArgumentError (its argument named `prefix` + the option) for an option of `spec`
 * that is not what `Job.Options` documents: `spec` not an object, an unknown key (see
 * `checkOptions`), a bad value; returns when every option is acceptable.
 */
export const checkSpec = (spec: EntrySpec, prefix: string): void => {
  checkOptions(spec, prefix, jobOptionFlags)
  if (spec.id !== undefined && (typeof spec.id !== "string" || spec.id === ""))
    throw new JobArgumentError(`${prefix}id`, spec.id, "a non-empty string")
  if (spec.name !== undefined && (typeof spec.name !== "string" || spec.name === ""))
    throw new JobArgumentError(`${prefix}name`, spec.name, "a non-empty string")
  if (spec.key !== undefined && typeof spec.key !== "string")
    throw new JobArgumentError(`${prefix}key`, spec.key, "a string")
  if (spec.timeout !== undefined && nonNegativeDuration(spec.timeout) === undefined)
    throw new JobArgumentError(`${prefix}timeout`, spec.timeout, durationExpected("a duration ≥ 0", spec.timeout))
  if (spec.priority !== undefined && !(typeof spec.priority === "number" && Number.isFinite(spec.priority)))
    throw new JobArgumentError(`${prefix}priority`, spec.priority, "a finite number")
  if (spec.delay !== undefined) {
    const d = nonNegativeDuration(spec.delay)
    if (d === undefined || !Number.isFinite(Duration.toMillis(d)))
      throw new JobArgumentError(`${prefix}delay`, spec.delay, durationExpected("a finite duration ≥ 0", spec.delay))
  }
  if (spec.retry !== undefined && !Schedule.isSchedule(spec.retry))
    throw new JobArgumentError(
      `${prefix}retry`,
      spec.retry,
      'a Schedule (e.g. Schedule.recurs(2), or Schedule.spaced("1 second")); ' +
        "{ times, delay } is the Promise API's form"
    )
  if (spec.reportTo !== undefined && !Chan.isChan(spec.reportTo))
    throw new JobArgumentError(`${prefix}reportTo`, spec.reportTo, "a channel (WritePort)")
  if (spec.annotations !== undefined && (typeof spec.annotations !== "object" || spec.annotations === null))
    throw new JobArgumentError(`${prefix}annotations`, spec.annotations, "an object")
  if (spec.annotations !== undefined && !readable(spec.annotations))
    // a getter that throws would throw where the job starts, out of any caller's reach
    throw new JobArgumentError(`${prefix}annotations`, spec.annotations, "an object whose fields can be read")
  if (spec.annotations !== undefined) {
    // the supervisor writes these on the job's lines: the annotation would be dropped there
    for (const key in spec.annotations)
      if (supervisorFields.includes(key) || key.startsWith("job."))
        throw new JobArgumentError(
          `${prefix}annotations.${key}`,
          (spec.annotations as Record<string, unknown>)[key],
          `a field the supervisor does not write itself (it writes ${supervisorFields.join(", ")} and every job.* field)`
        )
  }
}

/** The fields of a job's lines that the supervisor writes (besides `job.*`): no annotation may take them. */
const supervisorFields: ReadonlyArray<string> = ["attempt", "durationMillis", "retryInMillis", "ageMillis"]

/** Whether every own field of `o` can be read (no getter throws, no Proxy trap throws). */
const readable = (o: object): boolean => {
  try {
    ;({ ...o })
    return true
  } catch {
    return false
  }
}

/** The error of a job that is not an Effect. */
export const notAnEffect = (argument: string, value: unknown): JobArgumentError =>
  new JobArgumentError(argument, value, "an Effect (wrap a Promise-returning function as Effect.tryPromise(() => f()))")
