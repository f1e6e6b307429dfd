/**
 * The errors of `@tributary/pino`. Each is an effect tagged error (`Data.TaggedError`): `yield*` it
 * in `Effect.gen` to fail, match it by `_tag` with `Effect.catchTag` where it travels as a failure,
 * and it is still `instanceof` its class and `Error`.
 *
 * @since 0.2.0
 */
import * as Data from "effect/Data"

/**
 * A pino logger or options that `PinoLogger.layer` refuses (so does `PinoLogger.checkDestination`;
 * `PinoLogger.make` checks only the level methods): a destination that would lose lines
 * (`pino.destination({ sync: true, minLength: > 0 })`, a `maxLength` that drops lines, a destroyed
 * or ended stream), options pino itself rejects (e.g. an unknown `level`), or a
 * logger without pino's standard level methods (`useOnlyCustomLevels`). Thrown synchronously by
 * the constructor, before any line is written. The message says what was refused and why.
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
   * methods), `"level"` (the `level` option, or `writeUnsafe`'s level), `"options"` (other options
   * pino rejects, and `layer`'s own options: `awaitOpen`, `flushTimeout`) or `"destination"`
   * (where the logger writes).
   */
  readonly argument: "logger" | "level" | "options" | "destination"
  /** What was refused, in one short phrase, e.g. `"sync destination with minLength"`. */
  readonly reason: string
  /** `Refused pino configuration (<reason>): <why>` */
  readonly message: string
  /** what pino (or the destination) threw, when the refusal comes from it */
  readonly cause?: unknown
}> {
  constructor(
    argument: "logger" | "level" | "options" | "destination",
    reason: string,
    detail: string,
    options?: { readonly cause?: unknown }
  ) {
    const message = `Refused pino configuration (${reason}): ${detail}`
    super(
      options?.cause === undefined ? { argument, reason, message } : { argument, reason, message, cause: options.cause }
    )
  }
}
