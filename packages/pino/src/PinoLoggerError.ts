/**
 * The errors of `@tributary/pino`. Each is an effect tagged error (`Data.TaggedError`): `yield*` it
 * in `Effect.gen` to fail, match it by `_tag` with `Effect.catchTag` where it travels as a failure,
 * and it is still `instanceof` its class and `Error`.
 *
 * @since 0.2.0
 */

import { describeValue as shown } from "@tributary/arguments"
import * as Data from "effect/Data"

/**
 * A pino logger or options that `PinoLogger.layer` refuses (so does `PinoLogger.checkDestination`;
 * `PinoLogger.make` checks only the level methods): a destination that would lose lines
 * (`pino.destination({ sync: true, minLength: > 0 })`, a `maxLength` that drops lines, a destroyed
 * or ended stream), something that is neither a pino logger nor pino's options, an unknown
 * `level`, options pino itself rejects, a bad option of `layer` or `make` (`flushTimeout`, `awaitOpen`,
 * `maxHeldLines`, a misspelt one), or a logger without pino's standard level methods (`useOnlyCustomLevels`).
 * Thrown synchronously by the constructor, before any line is written (a file that cannot be
 * opened: the layer's build dies with it). The message says what was refused and why; for a
 * refused argument it names the function, the argument and the value (also in `value`).
 *
 * @example
 * ```ts
 * import pino from "pino"
 * import { PinoLogger, PinoLoggerConfigError } from "@tributary/pino"
 *
 * const attempt = (): string => {
 *   try {
 *     PinoLogger.layer(pino(pino.destination({ dest: 1, sync: true, minLength: 4096 })))
 *     return "accepted"
 *   } catch (error) {
 *     return error instanceof PinoLoggerConfigError ? `${error.argument}: ${error.reason}` : "other"
 *   }
 * }
 * ```
 *
 * @since 0.2.0
 */
export class PinoLoggerConfigError extends Data.TaggedError("PinoLoggerConfigError")<{
  /**
   * What was refused: `"logger"` (not a pino logger or options, or one without the standard level
   * methods), `"level"` (the `level` option, or `writeUnsafe`'s level), one of `layer`'s or `make`'s
   * options (`"flushTimeout"`, `"awaitOpen"`, `"maxHeldLines"`, or the name of one it does not know), `"options"` (`layer`'s
   * options argument that is not an object, or other options pino rejects) or `"destination"`
   * (where the logger writes).
   */
  readonly argument: string
  /**
   * The value refused, when an argument was (`logger`, `level`, `layer`'s options); absent for a
   * destination and for options pino itself rejects.
   */
  readonly value?: unknown
  /** What was refused, in one short phrase, e.g. `"sync destination with minLength"`. */
  readonly reason: string
  /**
   * For a refused argument (one with `value`), what it expects, e.g. `"one of \"trace\", \"debug\", …"`:
   * what lets a caller that passed the argument on re-word the error under its own name.
   */
  readonly expected?: string
  /**
   * For a refused argument `Invalid <function> <argument>: expected <what>, received <value>` (as
   * every Tributary package words a bad argument; a long value cut after 200 characters), for a
   * misspelt option naming the one meant when one is close; otherwise `Refused pino configuration
   * (<reason>): <why>`.
   */
  readonly message: string
  /** what pino (or the destination) threw, when the refusal comes from it */
  readonly cause?: unknown
}> {
  /**
   * `detail` says why; with `refused` (the function that refused an argument, and its value) it
   * is what the argument expects, and the message and `value` name the function and the value.
   */
  constructor(
    argument: string,
    reason: string,
    detail: string,
    options?: {
      readonly cause?: unknown
      readonly refused?: { readonly fn: string; readonly value: unknown; readonly shown?: string | undefined }
    }
  ) {
    const refused = options?.refused
    const message =
      refused === undefined
        ? `Refused pino configuration (${reason}): ${detail}`
        : `Invalid ${refused.fn} ${argument}: expected ${detail}, received ${refused.shown ?? shown(refused.value)}`
    super({
      argument,
      reason,
      message,
      ...(refused === undefined ? {} : { value: refused.value, expected: detail }),
      ...(options?.cause === undefined ? {} : { cause: options.cause })
    })
  }
}
