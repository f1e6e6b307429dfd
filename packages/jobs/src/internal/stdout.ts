/**
 * `runMain`'s default destination: stdout written synchronously (each line is out before the
 * call returns, so the last lines survive `process.exit`), but never held up for long by a reader
 * that stopped reading (a full pipe). Invariants:
 * - nothing is buffered: a line is written whole by one or more `writeSync` calls, or refused by
 *   throwing (`PinoLogger` then counts it as lost and says so once on stderr);
 * - while stdout takes nothing (EAGAIN), a write waits in short sleeps, at most `stallMillis`
 *   counted from the first refused attempt of the stall; past it, and until a write succeeds
 *   again, each line is refused at once: a stalled reader costs lines, never the process — its
 *   signals, timers and hard deadline run;
 * - any other error (EPIPE: the reader is gone) refuses the line at once;
 * - a line cut short is ended by a newline written before the next line, so every later line
 *   reaches the reader on a line of its own.
 *
 * @internal
 */
import * as fs from "node:fs"
import pino from "pino"

/** What pino needs of a destination. */
export interface Destination {
  readonly write: (line: string) => void
}

/** Writes to `fd` as described above. */
export const stdoutDestination = (fd: number, stallMillis: number): Destination => {
  // a pipe or socket Node was given as stdout or stderr stays blocking until `process.stdout` or
  // `process.stderr` is first read (Node then makes it non-blocking): a full one would hold
  // `writeSync` in the kernel for good, and never answer EAGAIN
  if (fd === 1) void process.stdout
  else if (fd === 2) void process.stderr
  const sleeper = new Int32Array(new SharedArrayBuffer(4))
  let stalledSince: number | undefined
  let torn = false
  return {
    write: (line) => {
      let rest = Buffer.from(torn ? `\n${line}` : line)
      const size = rest.length
      while (rest.length > 0) {
        try {
          const written = fs.writeSync(fd, rest)
          if (written > 0) torn = false
          rest = rest.subarray(written)
          stalledSince = undefined
        } catch (error) {
          const now = Date.now()
          const full = (error as NodeJS.ErrnoException).code === "EAGAIN"
          if (full) stalledSince ??= now
          if (!full || now - (stalledSince ?? now) >= stallMillis) {
            if (rest.length < size) torn = true
            throw error
          }
          Atomics.wait(sleeper, 0, 0, 5)
        }
      }
    }
  }
}

/**
 * The logger `runMain` and the Promise API's `supervisor` use when none is given: pino at info on
 * stdout, written synchronously, so the lines written on the way out (a `process.exit` by the
 * program, a second signal, the hard deadline) are on stdout before the process ends — an
 * asynchronous destination can still hold them in a write the exit cuts short, and holds every
 * line a stalled reader does not take. A reader that stops reading costs lines after
 * `stdoutStallMillis`, never the process's memory or the process (pino's own sync destination
 * sleeps until the pipe drains: a stalled reader froze signals and the hard deadline for good).
 */
export const defaultStdoutLogger = (stallMillis: number = stdoutStallMillis): pino.Logger =>
  pino({ level: "info" }, stdoutDestination(1, stallMillis))

/** How long a line may wait for a stdout that takes nothing before lines are dropped (runMain's). */
const stdoutStallMillis = 1000

/**
 * The same for the Promise API's `supervisor`, which runs inside someone else's program (an HTTP
 * server, say): its event loop is held up for at most this long per stall of stdout.
 */
export const hostedStdoutStallMillis = 100
