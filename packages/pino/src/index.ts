/**
 * `@tributary/pino`: an Effect 4 `Logger` backed by pino. `PinoLogger.layer(pino(...))` replaces
 * Effect's default logger, sets Effect's minimum log level from pino's and flushes pino when the
 * layer's scope closes.
 *
 * @since 0.2.0
 */

/**
 * Counts log lines that could not be written and reports each burst of them once on stderr.
 *
 * @since 0.2.0
 */
export { LostLines } from "./LostLines.js"
/**
 * The pino-backed Effect logger: `make`, `layer`, `resolve`, `writeUnsafe`, `levelToPino`,
 * `levelFromPino`, `serializeCause`, `checkDestination`, `lostLines`, `abandon`, `isWriting`.
 *
 * @since 0.2.0
 */
export * as PinoLogger from "./PinoLogger.js"
/**
 * The error thrown for a pino logger or options that would lose lines or that pino rejects, and
 * for a bad argument of `layer`, `resolve` or `writeUnsafe` (naming the argument and the value).
 *
 * @since 0.2.0
 */
export { PinoLoggerConfigError } from "./PinoLoggerError.js"
