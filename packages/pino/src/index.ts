/**
 * `@tributary/pino`: an Effect 4 `Logger` backed by pino. `PinoLogger.layer(pino(...))` replaces
 * Effect's default logger, sets Effect's minimum log level from pino's and flushes pino when the
 * layer's scope closes.
 *
 * @since 0.1.0
 */

/**
 * The pino-backed Effect logger: `make`, `layer`, `levelToPino`, `levelFromPino`,
 * `serializeCause`, `checkDestination`.
 *
 * @since 0.1.0
 */
export * as PinoLogger from "./PinoLogger.js"

/**
 * The error thrown for a pino logger or options that would lose lines or that pino rejects.
 *
 * @since 0.1.0
 */
export { PinoLoggerConfigError } from "./PinoLoggerError.js"
