/**
 * The supervisor's effect `Metric`s, so the exporters users already run (OpenTelemetry,
 * Prometheus) see its jobs. They are published from the supervisor's own counters every
 * `metricsMillis` of Clock time and once more at shutdown, not updated per job: a job pays one
 * array push (its duration) and nothing else.
 *
 * Every series carries the attributes `supervisor` and `pool`:
 * - `tributary_jobs_started` (counter), `tributary_jobs_ended` (counter, attribute `outcome`:
 *   `succeeded`, `failed`, `interrupted`, `timed_out`; a job cancelled before it started is
 *   `interrupted` and was never `started`), `tributary_jobs_dropped` (counter);
 * - `tributary_jobs_running`, `tributary_jobs_queued` (gauges);
 * - `tributary_job_duration_ms` (histogram, exponential buckets from 1 ms to about 9 minutes).
 *
 * Invariants:
 * - after `publish`, each counter series equals the matching count of the supervisor
 *   (`published` holds what was added so far), each gauge the current value, and every duration
 *   recorded since the previous `publish` is in the histogram (the pools' `durations` are empty);
 * - in one `MetricRegistry`, at most one publisher that is not closed has a given supervisor name
 *   (`claimed`): two would share series, and each would overwrite the other's gauges.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Metric from "effect/Metric"
import { SupervisorConfigError } from "../SupervisorError.js"
import type { Pool } from "./model.js"

/** Names of the metrics, as exporters show them. */
const MetricNames = {
  started: "tributary_jobs_started",
  ended: "tributary_jobs_ended",
  dropped: "tributary_jobs_dropped",
  running: "tributary_jobs_running",
  queued: "tributary_jobs_queued",
  duration: "tributary_job_duration_ms"
} as const

const started = Metric.counter(MetricNames.started, { description: "jobs started", incremental: true })
const ended = Metric.counter(MetricNames.ended, { description: "jobs ended, by outcome", incremental: true })
const dropped = Metric.counter(MetricNames.dropped, {
  description: 'jobs dropped by whenFull: "drop"',
  incremental: true
})
const running = Metric.gauge(MetricNames.running, { description: "jobs running now" })
const queued = Metric.gauge(MetricNames.queued, { description: "jobs queued now" })
const duration = Metric.histogram(MetricNames.duration, {
  description: "how long jobs ran (effect Clock millis)",
  boundaries: Metric.exponentialBoundaries({ start: 1, factor: 2, count: 20 })
})

/** The metrics themselves, without attributes (reading a series needs the same definition). */
export const JobMetrics = { started, ended, dropped, running, queued, duration } as const

type OutcomeKey = "succeeded" | "failed" | "interrupted" | "timedOut"
const outcomeKeys: ReadonlyArray<readonly [OutcomeKey, string]> = [
  ["succeeded", "succeeded"],
  ["failed", "failed"],
  ["interrupted", "interrupted"],
  ["timedOut", "timed_out"]
]

/** The series of one pool, and what was published to its counters so far. */
interface PoolSeries {
  readonly pool: Pool
  readonly started: Metric.Metric<number, unknown>
  readonly dropped: Metric.Metric<number, unknown>
  readonly ended: ReadonlyArray<readonly [OutcomeKey, Metric.Metric<number, unknown>]>
  readonly running: Metric.Metric<number, unknown>
  readonly queued: Metric.Metric<number, unknown>
  readonly duration: Metric.Metric<number, unknown>
  readonly published: { started: number; dropped: number } & Record<OutcomeKey, number>
}

/** The supervisor names of the publishers not closed yet, by registry (see the invariants). */
const claimed = new WeakMap<object, Set<string>>()

/**
 * Publishes a supervisor's counters as effect Metrics into the registry of `context`. Throws a
 * SupervisorConfigError naming `name` when a publisher not closed yet has this supervisor name in
 * that registry.
 */
export class MetricsPublisher {
  private readonly series: ReadonlyArray<PoolSeries>
  private readonly names: Set<string>
  constructor(
    private readonly supervisor: string,
    pools: Iterable<Pool>,
    /** the supervisor's context: its `MetricRegistry` receives the metrics */
    private readonly context: Context.Context<never>
  ) {
    const registry = Context.get(context, Metric.MetricRegistry)
    let names = claimed.get(registry)
    if (names === undefined) claimed.set(registry, (names = new Set()))
    if (names.has(supervisor))
      throw new SupervisorConfigError(
        "name",
        supervisor,
        "a name no other running supervisor with metrics has (it names their series)"
      )
    names.add(supervisor)
    this.names = names
    const series: Array<PoolSeries> = []
    for (const pool of pools) {
      pool.durations = []
      const attributes = { supervisor, pool: pool.name }
      series.push({
        pool,
        started: Metric.withAttributes(started, attributes),
        dropped: Metric.withAttributes(dropped, attributes),
        ended: outcomeKeys.map(
          ([key, outcome]) => [key, Metric.withAttributes(ended, { ...attributes, outcome })] as const
        ),
        running: Metric.withAttributes(running, attributes),
        queued: Metric.withAttributes(queued, attributes),
        duration: Metric.withAttributes(duration, attributes),
        published: { started: 0, dropped: 0, succeeded: 0, failed: 0, interrupted: 0, timedOut: 0 }
      })
    }
    this.series = series
  }

  /** Publishes the final counts and frees the supervisor's name for another publisher. */
  close(): void {
    this.publish()
    this.names.delete(this.supervisor)
  }

  /** Brings every series up to date (see the invariant on top). */
  publish(): void {
    const context = this.context
    for (const s of this.series) {
      const pool = s.pool
      s.started.updateUnsafe(pool.started - s.published.started, context)
      s.published.started = pool.started
      s.dropped.updateUnsafe(pool.dropped - s.published.dropped, context)
      s.published.dropped = pool.dropped
      for (const [key, metric] of s.ended) {
        metric.updateUnsafe(pool.counters[key] - s.published[key], context)
        s.published[key] = pool.counters[key]
      }
      s.running.updateUnsafe(pool.running, context)
      let waiting = pool.keyless.size
      for (const lane of pool.lanes.values()) waiting += lane.size
      s.queued.updateUnsafe(waiting, context)
      const durations = pool.durations!
      for (let i = 0; i < durations.length; i++) s.duration.updateUnsafe(durations[i], context)
      durations.length = 0
    }
  }
}
