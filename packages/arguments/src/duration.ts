/**
 * Duration arguments: which objects effect reads as the duration a user meant. effect's
 * `Duration.fromInput` reads any object as a `DurationObject`, an unknown key (`{ second: 5 }`)
 * or `{}` as 0 millis and NaN as 0, and adds the known units (`{ seconds: 1, sec: 5 }` is
 * 1 second): a timeout that fires at once, a flush that never waits. Each package refuses such an
 * object with these checks, and says which units an object takes (`durationExpected`).
 *
 * Invariants:
 * - `durationUnits` is exactly the units of effect's `Duration.DurationObject`.
 * - `wellFormedDurationObject` holds only for an object whose every key is one of them holding a
 *   number that is not NaN (or undefined), one at least holding a number.
 * - `illFormedDuration` holds only for an object that is not null, an array (a `[seconds, nanos]`
 *   pair) or a Duration, and is not well formed; never for a number, string or other primitive.
 * - Pure: nothing is read but the object's own and inherited enumerable keys (`for…in`).
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"

/**
 * The units of effect's `Duration.DurationObject`, in the order of its docs.
 *
 * @example
 * ```ts
 * import { durationUnits } from "@tributary/arguments"
 *
 * durationUnits.includes("seconds") // true
 * durationUnits.includes("second") // false
 * ```
 *
 * @since 0.1.0
 */
export const durationUnits: ReadonlyArray<string> = [
  "weeks",
  "days",
  "hours",
  "minutes",
  "seconds",
  "milliseconds",
  "microseconds",
  "nanoseconds"
]

/**
 * Whether `d`, an object that is not a Duration, is a duration object effect reads as meant: only
 * its units (`durationUnits`), at least one of them, each a number that is not NaN (or undefined).
 *
 * @example
 * ```ts
 * import { wellFormedDurationObject } from "@tributary/arguments"
 *
 * wellFormedDurationObject({ seconds: 5 }) // true
 * wellFormedDurationObject({ second: 5 }) // false: effect reads it as 0
 * wellFormedDurationObject({}) // false
 * ```
 *
 * @since 0.1.0
 */
export const wellFormedDurationObject = (d: object): boolean => {
  let given = 0
  for (const key in d) {
    const value = (d as Record<string, unknown>)[key]
    if (!durationUnits.includes(key) || !(value === undefined || (typeof value === "number" && !Number.isNaN(value))))
      return false
    if (value !== undefined) given++
  }
  return given > 0
}

/**
 * Whether `input` is an object effect would misread as a duration: an object that is not null, not
 * an array and not a Duration, and not a well-formed duration object (`wellFormedDurationObject`).
 * Numbers, strings and Durations are left to `Duration.fromInput` (NaN is the caller's to refuse).
 *
 * @example
 * ```ts
 * import { illFormedDuration } from "@tributary/arguments"
 * import * as Duration from "effect/Duration"
 *
 * illFormedDuration({ seconds: 1, sec: 5 }) // true
 * illFormedDuration([Number.NaN, 0]) // true
 * illFormedDuration({ seconds: 1 }) // false
 * illFormedDuration([1, 500]) // false
 * illFormedDuration(Duration.seconds(1)) // false
 * illFormedDuration("1 second") // false
 * ```
 *
 * @since 0.1.0
 */
export const illFormedDuration = (input: unknown): boolean =>
  typeof input === "object" &&
  input !== null &&
  (Array.isArray(input)
    ? // effect's `[seconds, nanos]`: two numbers, neither NaN (effect would read `[NaN, 0]` as 0)
      !(input.length === 2 && isNumber(input[0]) && isNumber(input[1]))
    : !Duration.isDuration(input) && !wellFormedDurationObject(input))

const isNumber = (u: unknown): boolean => typeof u === "number" && !Number.isNaN(u)

/**
 * `expected` for the error of a bad duration `input`: for an object that is not a Duration (a
 * misspelt unit, `{}`), followed by the units a duration object takes; for a string effect cannot
 * read ("5 secs"), by the form and units a duration string takes (not for "-1 seconds": its form
 * is right, its value is not).
 *
 * @example
 * ```ts
 * import { durationExpected } from "@tributary/arguments"
 *
 * durationExpected("a duration ≥ 0", -1) // "a duration ≥ 0"
 * durationExpected("a duration ≥ 0", { second: 5 })
 * // "a duration ≥ 0 (an object takes one or more of weeks, days, hours, minutes, seconds, milliseconds, microseconds, nanoseconds)"
 * durationExpected("a duration ≥ 0", "5 secs")
 * // 'a duration ≥ 0 (a string is a number, a space and a unit: "5 seconds", "200 millis"; units nanos, …)'
 * ```
 *
 * @since 0.1.0
 */
export const durationExpected = (expected: string, input: unknown): string =>
  typeof input === "object" && input !== null && !Array.isArray(input) && !Duration.isDuration(input)
    ? `${expected} (an object takes one or more of ${durationUnits.join(", ")})`
    : typeof input === "string" && Option.isNone(Duration.fromInput(input as Duration.Input))
      ? `${expected} (a string is a number, a space and a unit: "5 seconds", "200 millis"; units ${stringUnits})`
      : expected

/** The units a duration string takes (effect's `Duration.fromInput`), each also in the singular. */
const stringUnits = "nanos, micros, millis, seconds, minutes, hours, days, weeks"
