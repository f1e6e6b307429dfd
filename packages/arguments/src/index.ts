/**
 * `@tributary/arguments`: the argument checks Tributary's packages share, so that a bad argument
 * reads the same in each: the "did you mean" of an unknown option (`closestName`, `knownOption`),
 * a value as a message shows it (`describeValue`), and the duration objects effect would misread
 * (`durationUnits`, `wellFormedDurationObject`, `illFormedDuration`, `durationExpected`), and the
 * one abort listener per `AbortSignal` that the Promise APIs share (`whenAborted`). It is
 * published because the other packages depend on it; it makes no API promise to anyone else.
 *
 * Invariants: every export but `whenAborted` is a pure function (or a constant) that never throws;
 * `whenAborted` keeps one listener per signal (see its module).
 *
 * @since 0.1.0
 */

export { whenAborted } from "./abortSignals.js"
export { describeValue } from "./describeValue.js"
export { durationExpected, durationUnits, illFormedDuration, wellFormedDurationObject } from "./duration.js"
export { closestName, knownOption } from "./optionNames.js"
