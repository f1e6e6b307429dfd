/**
 * The recent past of a supervisor, for `snapshot` and `watch`: the durations of the last jobs that
 * ran (for percentiles) and the last failed or timed-out outcomes (for a failure list). Both are rings of fixed
 * size, so recording is O(1) with no allocation per job, and memory stays bounded however many
 * jobs run.
 *
 * Invariants: `durations` holds the last `min(ended, DurationWindow)` durations; `failures` holds
 * the last `min(failed, FailureWindow)` outcomes recorded by `failure` (the supervisor records its
 * "Failure" and "TimedOut" ones), oldest first from `failureStart`.
 *
 * @internal
 */
import type { Outcome } from "../Outcome.js"
import type { Durations } from "../Snapshot.js"

/** How many of the last durations the percentiles are computed over. */
export const DurationWindow = 1024

/** How many of the last failed outcomes are kept. */
export const FailureWindow = 20

/** The last durations and failures of one supervisor. */
export class History {
  private readonly durations = new Float64Array(DurationWindow)
  private ended = 0
  private readonly failures: Array<Outcome> = []
  private failureStart = 0

  /** Records the duration of a job that ran (attempt ≥ 1). */
  duration(millis: number): void {
    this.durations[this.ended & (DurationWindow - 1)] = millis // DurationWindow is a power of 2
    this.ended++
  }

  /** Records a failed (or timed-out) outcome. */
  failure(outcome: Outcome): void {
    if (this.failures.length < FailureWindow) this.failures.push(outcome)
    else {
      this.failures[this.failureStart] = outcome
      this.failureStart = (this.failureStart + 1) % FailureWindow
    }
  }

  /** The last failed outcomes, newest first. */
  recentFailures(): Array<Outcome> {
    const n = this.failures.length
    const out: Array<Outcome> = []
    for (let i = n - 1; i >= 0; i--) out.push(this.failures[(this.failureStart + i) % n])
    return out
  }

  /** Percentiles (nearest rank) of the recorded durations; all 0 when none. */
  percentiles(): Durations {
    const count = Math.min(this.ended, DurationWindow)
    if (count === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0 }
    const sorted = this.durations.slice(0, count).sort()
    const rank = (p: number) => sorted[Math.min(count - 1, Math.ceil((p / 100) * count) - 1)]
    return { count, p50: rank(50), p90: rank(90), p99: rank(99), max: sorted[count - 1] }
  }
}
