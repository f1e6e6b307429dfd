/**
 * The bookkeeping of log lines that could not be written: a destination whose `write` throws (an
 * EPIPE reported synchronously, a full disk, a buggy custom stream), or a logger that throws. The
 * line is lost — there is nowhere to put it — but it is counted, and the process's stderr hears
 * about it once per burst (the first loss after a success), not once per line, with a second
 * line saying how many were lost once writing works again.
 *
 * Invariant: `burst` is the number of lines lost since the last success (0 when the last write
 * succeeded); a report goes out exactly when `burst` goes from 0 to 1 and when a success ends a
 * burst. A report that itself fails is dropped: stderr is the last resort.
 *
 * ```ts
 * import { LostLines } from "@tributary/pino"
 *
 * const lost = new LostLines("my-logger")
 * lost.failed(new Error("EPIPE")) // one line on stderr
 * lost.failed(new Error("EPIPE")) // silent
 * lost.succeeded() // one line on stderr: 2 lines were lost
 * lost.total // 2
 * ```
 *
 * @since 0.2.0
 */

/**
 * Counts lost log lines and reports each burst of them once (see the module's description).
 *
 * @example
 * ```ts
 * import { LostLines } from "@tributary/pino"
 *
 * // a log sink of your own that must never throw: a failed line is counted, a burst reported once
 * const lost = new LostLines("audit-sink")
 * const write = (line: string, send: (line: string) => void): void => {
 *   try {
 *     send(line)
 *     lost.succeeded()
 *   } catch (error) {
 *     lost.failed(error)
 *   }
 * }
 * ```
 *
 * @since 0.2.0
 */
export class LostLines {
  /** lines lost since this object was made */
  total = 0
  /** lines lost since the last success */
  private burst = 0
  constructor(
    /** names the writer in the report lines, e.g. `"@tributary/pino"` */
    readonly source: string,
    /** where the report lines go (default: the process's stderr) */
    private readonly report: (line: string) => void = writeStderr
  ) {}

  /** Counts one lost line; the first of a burst is reported with its error. */
  failed(error: unknown): void {
    this.total++
    if (this.burst++ === 0)
      this.report(
        `${this.source}: a log line could not be written (${describe(error)}); ` +
          "lines are dropped until writing works again"
      )
  }

  /** Ends a burst, if one is going on, with a report of its size. */
  succeeded(): void {
    if (this.burst === 0) return
    const lost = this.burst
    this.burst = 0
    this.report(`${this.source}: log lines are written again; ${lost} line${lost === 1 ? " was" : "s were"} lost`)
  }
}

// ── private ─────────────────────────────────────────────────────────────────

const writeStderr = (line: string): void => {
  try {
    process.stderr.write(`${line}\n`)
  } catch {
    // stderr is broken too: nothing is left to tell
  }
}

const describe = (error: unknown): string => {
  // any of these may throw (a getter, a Proxy, a hostile toString): the report must not
  try {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  } catch {
    return "an unprintable error"
  }
}
