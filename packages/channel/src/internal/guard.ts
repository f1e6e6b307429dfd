/**
 * Checks of values that need nothing of the package but its errors, so that every module can use
 * them (`Buffer` and `Xform` included, which `arguments.ts` imports): the type guards' safety net,
 * and the error for a user function that returned the wrong kind of value.
 *
 * @internal
 */
import { ChanArgumentError } from "../ChanError.js"

/** `test`, answering `false` where it would throw (a Proxy whose traps throw, a throwing getter). */
export const safely =
  <T>(test: (u: unknown) => u is T) =>
  (u: unknown): u is T => {
    try {
      return test(u)
    } catch {
      return false
    }
  }

/**
 * The kind of value a user function returned, as the errors name it: `"a Promise"`, `"null"`,
 * `"an array"`, else its `typeof`. A Promise's rejection is handled, so that a wrong result does
 * not end the process as well.
 */
export const resultKind = (value: unknown): string => {
  if (isThenable(value)) {
    Promise.resolve(value).then(ignore, ignore)
    return "a Promise"
  }
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value
}

/**
 * The error for a user function (named by `argument`, e.g. `"Chan.forEach f"`) that returned
 * `value` (of kind `kind`, from `resultKind`), which is not `expected`. A Promise is shown as such
 * (its value is "a Promise"), with the hint to wrap an async function when an Effect was expected.
 */
export const badResult = (argument: string, expected: string, value: unknown, kind: string): ChanArgumentError =>
  kind === "a Promise"
    ? new ChanArgumentError(
        `${argument} result`,
        kind,
        expected === "an Effect"
          ? `${expected} (wrap an async function as Effect.promise or Effect.tryPromise)`
          : expected
      )
    : new ChanArgumentError(`${argument} result`, value, expected)

const isThenable = (u: unknown): u is PromiseLike<unknown> =>
  (typeof u === "object" || typeof u === "function") &&
  u !== null &&
  typeof (u as { readonly then?: unknown }).then === "function"

const ignore = (): void => {}
