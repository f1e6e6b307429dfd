/**
 * The errors of `@tributary/pino`. Each is a class with a `_tag` equal to its name, so it can be
 * told apart with a `_tag` check (or `Effect.catchTag` where it travels as a failure).
 *
 * @since 0.1.0
 */

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
 *     return error instanceof PinoLoggerConfigError ? error.reason : "other"
 *   }
 * }
 * ```
 *
 * @since 0.1.0
 */
export class PinoLoggerConfigError extends Error {
  readonly _tag = "PinoLoggerConfigError" as const
  /** What was refused, in one short phrase, e.g. `"sync destination with minLength"`. */
  readonly reason: string

  constructor(reason: string, detail: string, options?: { readonly cause?: unknown }) {
    super(`Refused pino configuration (${reason}): ${detail}`, options)
    this.name = "PinoLoggerConfigError"
    this.reason = reason
  }
}
