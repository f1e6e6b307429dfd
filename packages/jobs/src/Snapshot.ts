/**
 * What a supervisor looks like at one moment: `Supervisor.snapshot` returns one, and
 * `Supervisor.watch` is a stream of them (with rates between consecutive ones). Progress lines,
 * metrics and the monitor page all read this model.
 *
 * @since 0.2.0
 */
import type { Outcome } from "./Outcome.js"

/**
 * One job in a `Snapshot`; `ageMillis` is since it started (running) or was admitted (queued).
 *
 * @since 0.2.0
 */
export interface JobInfo {
  /** the job's id: its `id` option, or the supervisor's ("1", "2", …) */
  readonly id: string
  /** its `name` option (default: its definition's name for a `Job.define` job, else "job") */
  readonly name: string
  /** its pool ("default" when it named none) */
  readonly pool: string
  /** its `key` option; absent when it has none */
  readonly key?: string
  /** Clock millis since it started (running), was admitted (queued) or was fired (delayed) */
  readonly ageMillis: number
  /** the last value the job reported with `Job.progress` */
  readonly progress?: unknown
}

/**
 * Counts of outcomes by kind.
 *
 * @since 0.2.0
 */
export interface OutcomeCounts {
  /** outcomes "Success" */
  readonly succeeded: number
  /** outcomes "Failure", defects included */
  readonly failed: number
  /** outcomes "Interrupted", jobs cancelled before they started included */
  readonly interrupted: number
  /** outcomes "TimedOut" (the job's `timeout` passed) */
  readonly timedOut: number
}

/**
 * Counters over the supervisor's lifetime; an outcome is counted when its job ends (its line may
 * be written a moment later). A job cancelled before it started (queued or delayed, then
 * interrupted or shut down) counts in `interrupted` but never in `started`: `started` minus the
 * outcomes is not the number running (`totals.running` is).
 *
 * @since 0.2.0
 */
export interface Counters extends OutcomeCounts {
  /** jobs that started running, each once (a retry is not a new start) */
  readonly started: number
  /** jobs refused because the queue was full with `whenFull: "drop"`: they have no outcome */
  readonly dropped: number
  /**
   * the supervisor's own lines (outcome lines, warnings, shutdown lines) lost because the logger
   * threw; a pino logger through `@tributary/pino` never throws (it counts its own losses: see
   * `PinoLogger.lostLines`)
   */
  readonly linesLost: number
}

/**
 * What keeps queued jobs from starting now: the pool's `concurrency`, its `rate` (no token), the
 * `perKey` bound of their key, the supervisor's global `concurrency`, or a pause (`Supervisor.pause`)
 * of the pool or the supervisor.
 *
 * @since 0.2.0
 */
export type Limit = "concurrency" | "rate" | "perKey" | "supervisor" | "paused"

/**
 * The jobs of one key of a pool that has a key with jobs running or queued.
 *
 * @since 0.2.0
 */
export interface KeySnapshot {
  /** the `key` option the jobs share */
  readonly key: string
  /** how many jobs of this key run now (at most the pool's `perKey`) */
  readonly running: number
  /** how many jobs of this key wait in the pool's queue */
  readonly queued: number
  /** why its queued jobs wait (undefined when none is queued) */
  readonly heldBy: Limit | undefined
}

/**
 * One pool: its limits, what runs and waits in it, and its outcomes so far.
 *
 * @since 0.2.0
 */
export interface PoolSnapshot {
  /** the pool's name ("default" for the pool of jobs that name none) */
  readonly name: string
  /** `Supervisor.pause({ pool })` holds it */
  readonly paused: boolean
  /** how many of its jobs run now */
  readonly running: number
  /** how many of its jobs wait in its queue, every key included */
  readonly queued: number
  /** why its queued jobs wait (undefined when none is queued) */
  readonly heldBy: Limit | undefined
  /** Infinity when unbounded */
  readonly concurrency: number
  /** Infinity when unbounded */
  readonly perKey: number
  /** the token bucket, for a pool with a rate */
  readonly rate?: {
    /** attempts (starts and retries) per interval: the bucket's size (the pool's `rate.limit`) */
    readonly limit: number
    /** the pool's `rate.interval`, in millis; the bucket refills continuously over it */
    readonly intervalMillis: number
    /** whole tokens in the bucket now: how many attempts may run at once (0 to `limit`) */
    readonly tokens: number
  }
  /** the keys with jobs running or queued, most queued first */
  readonly keys: ReadonlyArray<KeySnapshot>
  /** the outcomes of its jobs so far */
  readonly counters: OutcomeCounts
}

/**
 * Percentiles (nearest rank, Clock millis) of how long the last jobs ran, over at most the last
 * 1024 that ended after they started (a job cancelled before it started has no duration).
 *
 * @since 0.2.0
 */
export interface Durations {
  /** how many durations the percentiles are over (0 to 1024); when 0, every percentile is 0 */
  readonly count: number
  /** the median, in millis */
  readonly p50: number
  /** the 90th percentile, in millis */
  readonly p90: number
  /** the 99th percentile, in millis */
  readonly p99: number
  /** the longest, in millis */
  readonly max: number
}

/**
 * What `snapshot` returns: running jobs oldest first, queued jobs in admission order, how many of
 * each, the counters, each pool, the duration percentiles and the last failures.
 *
 * @since 0.2.0
 */
export interface Snapshot {
  /** the supervisor's name */
  readonly supervisor: string
  /** Clock millis (epoch) when it was taken */
  readonly at: number
  /** whether shutdown began */
  readonly closed: boolean
  /** `Supervisor.pause()` holds every job */
  readonly paused: boolean
  /** running jobs, oldest first */
  readonly running: ReadonlyArray<JobInfo>
  /** jobs waiting in a pool's queue, in admission order */
  readonly queued: ReadonlyArray<JobInfo>
  /** jobs waiting out their `delay`, oldest first (age since they were fired) */
  readonly delayed: ReadonlyArray<JobInfo>
  /**
   * how many jobs are running, queued and delayed: the lengths of the three lists, or more when a
   * `Supervisor.watch` with `listLimit` listed only the oldest
   */
  readonly totals: {
    /** how many jobs run now */
    readonly running: number
    /** how many jobs wait in the pools' queues */
    readonly queued: number
    /** how many jobs wait out their `delay` */
    readonly delayed: number
  }
  /**
   * `fire`/`fork` calls suspended until the full queue has room (`whenFull: "wait"`): their jobs
   * are not admitted yet, so no pool, `queued` list or total counts them
   */
  readonly waitingForRoom: number
  /** the counts over the supervisor's lifetime */
  readonly counters: Counters
  /** every pool: "default" first (configured or not), then the others in configuration order */
  readonly pools: ReadonlyArray<PoolSnapshot>
  /** how long the last jobs ran */
  readonly durations: Durations
  /**
   * the last (at most 20) outcomes "Failure" (defects included) and "TimedOut", newest first;
   * interruptions are not failures (a shutdown's would push the failures out)
   */
  readonly recentFailures: ReadonlyArray<Outcome>
}

/**
 * One element of `Supervisor.watch`: a snapshot, and the rates since the previous one.
 *
 * @since 0.2.0
 */
export interface Progress extends Snapshot {
  /**
   * per second of Clock time since the previous element (0 for the first, and for one taken at the
   * same Clock time): jobs started, outcomes of any kind, and outcomes "Failure" or "TimedOut"
   */
  readonly rates: {
    /** jobs started per second */
    readonly started: number
    /** outcomes per second, of any kind */
    readonly ended: number
    /** outcomes "Failure" or "TimedOut" per second */
    readonly failed: number
  }
}
