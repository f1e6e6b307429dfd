/**
 * What a person sees. Logs and the progress line go to stderr, the summary to stdout (so `--json`
 * leaves the JSON object as stdout's last line). On a terminal: one live progress line
 * (`log-update`) with human-readable log lines (`pino-pretty`) written above it, so they never
 * garble it; elsewhere: JSON log lines and a plain progress line every few seconds.
 */
import Table from "cli-table3"
import { createLogUpdate } from "log-update"
import pino from "pino"
import { prettyFactory } from "pino-pretty"

export interface Terminal {
  readonly tty: boolean
  /** the logger `Supervisor.runMain` writes through */
  readonly logger: pino.Logger<any>
  /** how often `progress` wants a new line, in ms */
  readonly progressEveryMillis: number
  /** the live line on a terminal; a plain line elsewhere */
  readonly progress: (line: string) => void
  /** leaves the last progress line in place */
  readonly endProgress: () => void
  /** a line on stdout */
  readonly print: (text: string) => void
}

/**
 * Whether `stream` is a terminal the live line can be drawn on: a TTY with at least one row and one
 * column. A pseudo-terminal that reports 0×0 (`stty rows 0 cols 0`, some CI runners) is not: the
 * live line, fitted to 0 rows, would swallow every log line written above it.
 *
 * ```ts
 * import { isTerminal } from "./terminal.js"
 *
 * isTerminal({ isTTY: true, rows: 0, columns: 0 }) // false: plain lines
 * ```
 */
export const isTerminal = (stream: {
  readonly isTTY?: boolean | undefined
  readonly rows?: number | undefined
  readonly columns?: number | undefined
}): boolean => stream.isTTY === true && (stream.rows ?? 0) > 0 && (stream.columns ?? 0) > 0

export const makeTerminal = (options: { readonly tty?: boolean } = {}): Terminal => {
  const tty = options.tty ?? isTerminal(process.stderr)
  // a reader that went away (`etl 2>&1 | head -1`, a pager quit early): the job goes on and
  // finishes its rows, its lines going nowhere; a write to the closed pipe emitted an 'error'
  // nobody handled, and the process ended mid-run (exit 1)
  for (const stream of [process.stdout, process.stderr])
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE") throw e
    })
  const print = (text: string) => {
    process.stdout.write(`${text}\n`)
  }
  if (!tty) {
    return {
      tty,
      logger: pino({ level: "info" }, pino.destination({ dest: 2, sync: true })),
      progressEveryMillis: 2000,
      progress: (line) => {
        process.stderr.write(`progress: ${line}\n`)
      },
      endProgress: () => {},
      print
    }
  }
  const live = createLogUpdate(process.stderr)
  const pretty = prettyFactory({
    colorize: true,
    translateTime: "HH:MM:ss.l",
    ignore: "pid,hostname,fiberId",
    singleLine: true
  })
  return {
    tty,
    // each log line is written above the live line (log-update's persist), never through it
    logger: pino({ level: "info" }, { write: (line: string) => live.persist(pretty(line).trimEnd()) }),
    progressEveryMillis: 100,
    progress: (line) => live(line),
    endProgress: () => live.done(),
    print
  }
}

/**
 * A two-column table for the summary, 105 characters wide, or as wide as `columns` when that is
 * less (stdout's width on a terminal: a wider table wraps every row there into a mess); values
 * wrap inside their cell.
 */
export const table = (
  rows: ReadonlyArray<readonly [string, string]>,
  columns: number | undefined = isTerminal(process.stdout) ? process.stdout.columns : undefined
): string => {
  // the 3 border characters come on top of the two columns' widths (padding included)
  const width = Math.max(40, Math.min(105, columns ?? 105)) - 3
  const key = Math.min(46, Math.round(width * 0.45))
  const t = new Table({ style: { head: [], border: [] }, colWidths: [key, width - key], wordWrap: true })
  for (const [k, v] of rows) t.push([k, v])
  return t.toString()
}
