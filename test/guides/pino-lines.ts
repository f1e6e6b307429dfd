/**
 * A real pino logger for the guide tests, writing JSON lines to an in-memory stream that parses
 * them as they are written: what a user's platform would collect from stdout.
 *
 * Invariant: `lines` holds every line pino wrote, parsed, in the order written.
 */
import { Writable } from "node:stream"
import pino from "pino"

/** One parsed pino line. */
export type Line = Record<string, any>

/** A pino logger built from `options` and the lines it wrote so far. */
export const pinoLines = (options: pino.LoggerOptions<any, boolean> = { level: "debug" }) => {
  const lines: Array<Line> = []
  const stream = new Writable({
    decodeStrings: false,
    write(chunk, _encoding, callback) {
      for (const text of String(chunk).split("\n")) if (text !== "") lines.push(JSON.parse(text))
      callback()
    }
  })
  const logger = pino<any, boolean>(options, stream)
  return { logger, lines }
}

/** The outcome lines (one per job), in the order written. */
export const outcomeLines = (lines: ReadonlyArray<Line>): Array<Line> => lines.filter((l) => "job.outcome" in l)
