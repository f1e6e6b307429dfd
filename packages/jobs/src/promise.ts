/**
 * The Promise API for jobs (`@tributary/jobs/promise`), for services written with `async`/`await`
 * that do not use Effect: a real `Supervisor` (the same limits, outcomes, outcome lines and
 * snapshots as the Effect API), driven by plain async functions that receive an `AbortSignal`.
 *
 * ```ts
 * import { supervisor } from "@tributary/jobs/promise"
 *
 * const sup = supervisor({ concurrency: 16, pools: { partner: { concurrency: 4, perKey: 1 } } })
 *
 * // fire and forget: returns at once; the outcome is logged (pino, stdout) whatever happens
 * sup.fire(async (signal) => {
 *   await fetch("https://partner.example/sync", { signal })
 * }, { name: "sync", pool: "partner", key: "acme", timeout: "5 seconds", retry: { times: 2, delay: "1 second" } })
 *
 * // await the result (rejects with the job's error)
 * const total = await sup.run(async () => 42, { name: "count" })
 *
 * // a group, at most 4 at once
 * const values = await sup.all([async () => 1, async () => 2], { concurrency: 4, policy: "failFast" })
 *
 * await sup.shutdown({ grace: "10 seconds" }) // e.g. on SIGTERM
 * ```
 *
 * Effect code fires into the same supervisor with `Effect.provide(sup.layer)` (or uses
 * `sup.service`): one pool limit then bounds the jobs of both APIs together.
 *
 * Gotchas:
 * - The `AbortSignal` a job receives aborts when the job times out, is interrupted, is cancelled
 *   by its group, or is still running when a shutdown's grace ends. A job that ignores its signal
 *   is not stopped: its outcome is written at once ("TimedOut", "Interrupted") while its Promise
 *   goes on in the background.
 * - A thrown or rejected value is the job's typed failure: `retry` retries it, and it is the
 *   outcome line's `err`.
 * - Nothing here installs signal handlers: call `shutdown` yourself on SIGTERM (for a whole
 *   Effect program, `Supervisor.runMain` does it).
 * - A bad argument (a job that is not a function, an unknown pool, a bad option, a `signal` that
 *   is not an `AbortSignal`, a NaN duration, no works for "firstSuccess") throws a
 *   `JobArgumentError` naming it at the call site, in `run` and `all` too (not a rejection), and
 *   no job starts. A function that returns an Effect (`() => Job.fire(…)`, a defined job's
 *   `make`) fails its job with a `JobArgumentError`: the Effect would never run.
 *
 * @since 0.2.0
 */
import { whenAborted } from "@tributary/arguments"
import { Chan } from "@tributary/channel"
import { PinoLogger } from "@tributary/pino"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { asLoggerOption, checkConfigKeys, heldLinesOf } from "./internal/config.js"
import { stateIn } from "./internal/context.js"
import { ContextCall } from "./internal/inline.js"
import { admittedNow } from "./internal/lifecycle.js"
import { checkOptions, durationExpected, nonNegativeDuration, OptionFlags } from "./internal/options.js"
import { outcomeOf, type SupervisorState } from "./internal/state.js"
import { defaultStdoutLogger, hostedStdoutStallMillis } from "./internal/stdout.js"
import * as submit from "./internal/submit.js"
import * as Job from "./Job.js"
import type { Outcome } from "./Outcome.js"
import type { Snapshot } from "./Snapshot.js"
import * as Supervisor from "./Supervisor.js"
import {
  inOperation,
  JobAbortedError,
  JobArgumentError,
  SupervisorConfigError,
  SupervisorFullError
} from "./SupervisorError.js"

export {
  /**
   * What `supervisor` throws for a `logger` it cannot use: neither a pino logger nor pino's
   * options, a `level` pino does not know, or a destination that would lose lines. The class of
   * `@tributary/pino`, re-exported so that a project need not depend on that package to match it.
   *
   * ```ts
   * import { PinoLoggerConfigError, supervisor } from "@tributary/jobs/promise"
   *
   * try {
   *   supervisor({ logger: { level: process.env.LOG_LEVEL ?? "info" } }) // "verbose" is no pino level
   * } catch (e) {
   *   if (e instanceof PinoLoggerConfigError) console.error(`fix the logger's ${e.argument}: ${e.message}`)
   * }
   * ```
   *
   * @since 0.2.0
   */
  PinoLoggerConfigError
} from "@tributary/pino"
export type {
  /**
   * The one outcome of a job (see the `Outcome` module): its `_tag` ("Success", "Failure",
   * "Interrupted", "TimedOut"), name, pool, key, attempt, times, annotations and `exit`.
   *
   * @since 0.2.0
   */
  Outcome,
  /** @since 0.2.0 */
  OutcomeTag
} from "./Outcome.js"
export type {
  /**
   * What `snapshot` resolves with (see the `Snapshot` module).
   *
   * @since 0.2.0
   */
  Snapshot
} from "./Snapshot.js"
export {
  /**
   * What `run` (and `all`) reject with when a job ended without a result of its own: it timed out
   * (`reason: "TimedOut"`) or it was interrupted (`"Interrupted"`: a shutdown whose grace ended, its
   * group cancelled it, `Job.interrupt` from Effect code, or it was cancelled while queued).
   * Aborting the caller's own `signal` rejects with the signal's reason instead.
   *
   * ```ts
   * import { JobAbortedError, supervisor } from "@tributary/jobs/promise"
   *
   * const sup = supervisor()
   * const slow = (signal: AbortSignal) =>
   *   new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
   * sup.run(slow, { timeout: "1 second" }).catch((e) => {
   *   if (e instanceof JobAbortedError) console.log(e.job, e.reason) // "job" "TimedOut"
   * })
   * ```
   *
   * @since 0.2.0
   */
  JobAbortedError,
  /**
   * A bad argument, thrown at the call site (by `run` and `all` too, not as a rejection): a job
   * that is not a function, an unknown pool, a bad option. Nothing is started.
   *
   * ```ts
   * import { JobArgumentError, supervisor } from "@tributary/jobs/promise"
   *
   * const sup = supervisor({ pools: { partner: { concurrency: 4 } } })
   * try {
   *   sup.fire(async () => "synced", { name: "sync", pool: "partnr" })
   * } catch (e) {
   *   if (e instanceof JobArgumentError) console.error(e.argument, e.value) // "pool" "partnr"
   * }
   * ```
   *
   * @since 0.2.0
   */
  JobArgumentError,
  /**
   * What `fire` throws, and `run` and `all` reject with, once `shutdown` began.
   *
   * ```ts
   * import { SupervisorClosedError, supervisor } from "@tributary/jobs/promise"
   *
   * const sup = supervisor()
   * process.once("SIGTERM", () => void sup.shutdown())
   * // a request handler: once the shutdown began, the mail is refused at once
   * const enqueue = (to: string): number => {
   *   try {
   *     sup.fire(async () => console.log(`mail to ${to}`), { name: "mail" })
   *     return 202
   *   } catch (e) {
   *     if (e instanceof SupervisorClosedError) return 503
   *     throw e
   *   }
   * }
   * ```
   *
   * @since 0.2.0
   */
  SupervisorClosedError,
  /**
   * A bad option of `supervisor` (the option and the value received), thrown by the call.
   *
   * ```ts
   * import { SupervisorConfigError, supervisor } from "@tributary/jobs/promise"
   *
   * try {
   *   supervisor({ concurrency: Number(process.env.WORKERS) }) // NaN when WORKERS is unset
   * } catch (e) {
   *   if (e instanceof SupervisorConfigError) console.error(`fix ${e.argument}: ${e.message}`) // fix concurrency: …
   * }
   * ```
   *
   * @since 0.2.0
   */
  SupervisorConfigError,
  /**
   * A full queue: what `fire` throws (a synchronous call cannot wait), and what `run` rejects
   * with when `whenFull` is not "wait".
   *
   * ```ts
   * import { SupervisorFullError, supervisor } from "@tributary/jobs/promise"
   *
   * const sup = supervisor({ maxQueued: 1000, whenFull: "fail" })
   * // load shedding in a request handler: a full queue answers 429
   * const enqueue = (path: string): number => {
   *   try {
   *     sup.fire(async () => console.log(`resizing ${path}`), { name: "thumbnail" })
   *     return 202
   *   } catch (e) {
   *     if (e instanceof SupervisorFullError) return 429
   *     throw e
   *   }
   * }
   * ```
   *
   * @since 0.2.0
   */
  SupervisorFullError
} from "./SupervisorError.js"

// ── models ──────────────────────────────────────────────────────────────────

/**
 * A job: a function of an `AbortSignal` returning a Promise (or a value). Its result is the job's
 * value; what it throws or rejects with is the job's failure. Pass the signal on to what the job
 * waits for (`fetch`, a database driver, a timer), so that a timeout or a shutdown stops it.
 *
 * ```ts
 * import type { Work } from "@tributary/jobs/promise"
 *
 * const fetchStatus: Work<number> = async (signal) => (await fetch("https://example.com", { signal })).status
 * ```
 *
 * Gotchas: declare the signal as an ordinary parameter or ignore it: a function that declares
 * none (its `length` is 0: `async () => …`, or a first parameter with a default value) is called
 * without a signal, and no `AbortController` is made for it (as effect's `Effect.tryPromise`);
 * such a job is still abandoned at its timeout or interruption, only not told. A signal is not
 * free in Node (an `AbortController`, and the listener what it is passed to adds: several µs per
 * job, more than the supervisor's own cost for a short job), so declare it where the job passes it
 * on or listens to it. The function is called once per attempt (a retried job gets a fresh
 * signal each time).
 *
 * @since 0.2.0
 */
export type Work<A> = (signal: AbortSignal, job: RunningJob) => PromiseLike<A> | A

/**
 * The job a work runs as, given to it as its second argument: `progress` reports how far it got
 * (any value: a count, `{ done, total }`), as `Job.progress` does in Effect code — the job's entry
 * in `snapshot` (and `Supervisor.watch`, the monitor page) shows the last value, and one debug line
 * (`job progress`, with `progress`) is written when the logger's level lets debug through. After
 * the job ended it does nothing. Cheap enough to call per item.
 *
 * ```ts
 * import { supervisor } from "@tributary/jobs/promise"
 *
 * const sup = supervisor()
 * const rows = ["a", "b", "c"]
 * await sup.run(
 *   async (_signal, job) => {
 *     for (let i = 0; i < rows.length; i++) job.progress({ done: i + 1, total: rows.length })
 *   },
 *   { name: "import" }
 * )
 * ```
 *
 * @since 0.2.0
 */
export interface RunningJob {
  /** reports the job's progress: its entry in `snapshot` shows the last value */
  progress(value: unknown): void
}

/**
 * The options of `pause` and `resume`: a pool's name, or nothing for the whole supervisor.
 *
 * @since 0.2.0
 */
export interface PauseOptions {
  /** the pool to pause or resume (default: the whole supervisor) */
  readonly pool?: string
}

/**
 * A retry policy without Effect: up to `times` retries after the first attempt, `delay` apart
 * (a number of milliseconds or a duration such as `"500 millis"`; default 0). An effect `Schedule`
 * is accepted too (for backoff: `Schedule.exponential`); another key (p-retry's `factor`) throws
 * `JobArgumentError`.
 *
 * ```ts
 * import type { Retry } from "@tributary/jobs/promise"
 *
 * const twiceASecondApart: Retry = { times: 2, delay: "1 second" } // at most 3 attempts
 * ```
 *
 * @since 0.2.0
 */
export interface Retry {
  /** how many retries after the first attempt (an integer ≥ 0; 0: no retry) */
  readonly times: number
  /** the wait before each retry: millis or a duration such as `"500 millis"` (finite, ≥ 0; default 0) */
  readonly delay?: Duration.Input
}

/**
 * The per-job options of `fire`, `run` and `all` (the same as `Job.fire`'s, with `retry` in a
 * plain form). Checked at the call site: a bad one, or one not listed here (a misspelt
 * `timeOut`), throws `JobArgumentError` naming it.
 *
 * ```ts
 * import type { JobOptions } from "@tributary/jobs/promise"
 *
 * const options: JobOptions = {
 *   name: "sync-record",
 *   pool: "partner",
 *   key: "acme",
 *   timeout: "30 seconds",
 *   retry: { times: 3, delay: 500 },
 *   annotations: { recordId: 42 }
 * }
 * ```
 *
 * @since 0.2.0
 */
export interface JobOptions {
  /** in log lines and outcomes (default "job"; in a group `${name}-${index}`) */
  readonly name?: string
  /**
   * the job's own id (default: the supervisor's, "1", "2", …). Dedupe: while a job with this id
   * is waiting, queued or running, `fire` with the same id does nothing and `run` resolves with
   * that job's result (its own function is never called).
   */
  readonly id?: string
  /** a named pool of the supervisor (default "default"); an unknown pool throws `JobArgumentError` */
  readonly pool?: string
  /** for the pool's per-key cap */
  readonly key?: string
  /** bound on the whole job, retries included (`1000`, `"5 seconds"`): then the outcome is "TimedOut" and the signal aborts */
  readonly timeout?: Duration.Input
  /** while the job waits in its pool's queue, higher goes first (default 0); first in, first out within a priority */
  readonly priority?: number
  /**
   * admit the job only after this long (`"10 minutes"`), holding no running slot and no queue
   * place meanwhile; `drain` waits for it, a shutdown cancels it ("Interrupted", never called)
   */
  readonly delay?: Duration.Input
  /** retries of a failure (a throw or a rejection); each retried attempt is logged at warn with `attempt` */
  readonly retry?: Retry | Schedule.Schedule<unknown, unknown>
  /** top-level fields on every log line of the job, the outcome line included */
  readonly annotations?: Record<string, unknown>
}

/**
 * The options of `run`: a job's, and a `signal` of the caller's.
 *
 * ```ts
 * import { supervisor } from "@tributary/jobs/promise"
 *
 * const sup = supervisor()
 * const request = new AbortController() // e.g. aborted when the HTTP client disconnects
 * const rows = sup.run(async () => 42, { name: "report", signal: request.signal })
 * ```
 *
 * @since 0.2.0
 */
export interface RunOptions extends JobOptions {
  /**
   * aborting it interrupts the job (a queued one never starts) and rejects with the signal's
   * reason; a run that joined a live job by its `id` only stops waiting (the job is its starter's)
   */
  readonly signal?: AbortSignal
}

/**
 * A work of a group with its own options (made by `item`): its name, key, annotations… override
 * the group's (annotations are merged over the group's).
 *
 * @since 0.2.0
 */
export interface Item<A> {
  /** the job's work */
  readonly run: Work<A>
  /** its own options, over the group's (undefined: the group's alone) */
  readonly options?: GroupJobOptions | undefined
}

/**
 * The per-job options of a group's jobs (`all`, `item`): `JobOptions` but `id` (a group's jobs
 * are not deduplicated; an `id` there throws `JobArgumentError`).
 *
 * @since 0.2.0
 */
export type GroupJobOptions = Omit<JobOptions, "id">

/**
 * How `all` reads a group's outcomes (see `all`).
 *
 * @since 0.2.0
 */
export type Policy = Job.Policy

/**
 * The options of `all`: the group's own (`concurrency`, `name`, `policy`, `signal`) and every
 * per-job option, applied to each job of the group (an item's own options override them).
 *
 * ```ts
 * import type { AllOptions } from "@tributary/jobs/promise"
 *
 * const options: AllOptions = { concurrency: 8, name: "page", pool: "partner", policy: "failFast", timeout: "1 minute" }
 * ```
 *
 * @since 0.2.0
 */
export interface AllOptions extends GroupJobOptions {
  /** how many jobs of the group run at once, on top of the supervisor's and the pool's limits */
  readonly concurrency: number
  /** jobs are named `${name}-${index}` (index from 0) unless their item names them (default "job") */
  readonly name?: string
  /** default "collectAll" */
  readonly policy?: Policy
  /** aborting it interrupts the group's jobs and rejects with the signal's reason */
  readonly signal?: AbortSignal
}

/**
 * One job of a "collectAll" group, in the shape of `Promise.allSettled`'s results, with its
 * outcome. `reason` is what `run` would reject with (the job's error, or a `JobAbortedError`).
 *
 * ```ts
 * import { supervisor } from "@tributary/jobs/promise"
 *
 * const sup = supervisor()
 * const results = await sup.all([async () => 1, async () => 2], { concurrency: 2 })
 * const failed = results.flatMap((r) => (r.status === "rejected" ? [`${r.outcome.name}: ${String(r.reason)}`] : []))
 * ```
 *
 * @since 0.2.0
 */
export type Settled<A> =
  | {
      /** the job succeeded */
      readonly status: "fulfilled"
      /** its result */
      readonly value: A
      /** its outcome ("Success") */
      readonly outcome: Outcome<A>
    }
  | {
      /** the job failed, timed out or was interrupted */
      readonly status: "rejected"
      /** what `run` would reject with: what the job threw or rejected with, or a `JobAbortedError` */
      readonly reason: unknown
      /** its outcome ("Failure", "TimedOut" or "Interrupted") */
      readonly outcome: Outcome<A>
    }

/**
 * The configuration of `supervisor`: a `Supervisor.Config` and the pino logger the outcome lines
 * (and the supervisor's own lines) are written through. Successful outcomes are logged at debug
 * unless `logSuccess` says otherwise.
 *
 * ```ts
 * import pino from "pino"
 * import type { Config } from "@tributary/jobs/promise"
 *
 * const config: Config = {
 *   name: "etl",
 *   concurrency: 32,
 *   pools: { partner: { concurrency: 4, perKey: 1, rate: { limit: 10, interval: "1 second" } } },
 *   grace: "15 seconds",
 *   logger: pino({ level: "info" })
 * }
 * ```
 *
 * @since 0.2.0
 */
export interface Config extends Supervisor.Config {
  /** a pino logger, or the options to build one writing to stdout (default `{ level: "info" }`) */
  readonly logger?: PinoLogger.AnyLoggerOrOptions
  /**
   * how many lines a destination that stops answering may hold before later lines are lost,
   * counted and reported on stderr (default 100,000; `Infinity`: no bound) — `PinoLogger.layer`'s
   * `maxHeldLines`
   */
  readonly maxHeldLines?: number
}

/**
 * A running supervisor with Promise methods; see `supervisor`. It is a real `Supervisor`: Effect
 * code given `layer` (or `service`) fires into it, under the same limits, into the same outcomes,
 * counters and log.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job } from "@tributary/jobs"
 * import { supervisor } from "@tributary/jobs/promise"
 *
 * const sup = supervisor({ pools: { db: { concurrency: 4 } } })
 * sup.fire(async () => "from async/await", { pool: "db" })
 * await Effect.runPromise(Job.fire(Effect.log("from Effect"), { pool: "db" }).pipe(Effect.provide(sup.layer)))
 * for await (const outcome of sup.outcomes) {
 *   console.log(outcome.name, outcome._tag)
 *   break
 * }
 * ```
 *
 * @since 0.2.0
 */
export interface PromiseSupervisor {
  /** the supervisor's `name` (its `Config.name`, "supervisor" by default) */
  readonly name: string
  /** the Effect service of this very supervisor (`Job.fire` in Effect code needs it) */
  readonly service: Supervisor.Service
  /** `service` as a layer: `Effect.provide(sup.layer)` makes Effect code fire into this supervisor */
  readonly layer: Layer.Layer<Supervisor.Supervisor>
  /**
   * Every outcome from the moment iteration begins (each `for await` opens its own tap), in a
   * sliding buffer of 1024 like `Supervisor.outcomes` (a reader that lags loses the oldest, never
   * holds the supervisor back); iteration ends after shutdown; `break` closes the tap.
   */
  readonly outcomes: AsyncIterable<Outcome>
  /**
   * Queues `work` and returns at once; its outcome is logged. Throws `SupervisorClosedError` after
   * shutdown began and `SupervisorFullError` when the queue is full, unless the supervisor's
   * `whenFull` is "drop" (then it returns and one warn line names the dropped job). A synchronous
   * call cannot wait, so `whenFull: "wait"` throws `SupervisorFullError` too: use `run` or `all`
   * to wait for room.
   */
  fire<A>(work: Work<A>, options?: JobOptions): void
  /**
   * Runs `work` as a job and resolves with its result; rejects with what it threw or rejected with
   * (after its retries), with `JobAbortedError` if it timed out or was interrupted, with the
   * signal's reason if `options.signal` aborted it, with `SupervisorClosedError` after shutdown
   * began. When the queue is full it waits for room ("wait") or rejects with `SupervisorFullError`.
   */
  run<A>(work: Work<A>, options?: RunOptions): Promise<A>
  /** "failFast": the values in input order, or rejects with the first failure (see `all` on `supervisor`) */
  all<A>(works: Iterable<Work<A> | Item<A>>, options: AllOptions & { readonly policy: "failFast" }): Promise<Array<A>>
  /** "firstSuccess": the first value, or rejects with the last failure (see `all` on `supervisor`) */
  all<A>(works: Iterable<Work<A> | Item<A>>, options: AllOptions & { readonly policy: "firstSuccess" }): Promise<A>
  /** "collectAll" (the default): one `Settled` per work, in input order (see `all` on `supervisor`) */
  all<A>(
    works: Iterable<Work<A> | Item<A>>,
    options: AllOptions & { readonly policy?: "collectAll" }
  ): Promise<Array<Settled<A>>>
  /**
   * Holds a pool's jobs (`{ pool }`), or every job: queued jobs wait (the snapshot says
   * `heldBy: "paused"`), running ones go on, and jobs fired meanwhile queue (`drain` waits for
   * them). Throws `JobArgumentError` for an unknown pool or options that are not an object.
   */
  pause(options?: PauseOptions): void
  /** Releases what `pause` held (the pool, or the whole supervisor) and starts the queued jobs that can start. */
  resume(options?: PauseOptions): void
  /** the supervisor now: running and queued jobs, counters, pools (see `Supervisor.snapshot`) */
  snapshot(): Promise<Snapshot>
  /**
   * resolves once no job is queued or running and every outcome is logged (jobs fired meanwhile
   * included); called from inside one of this supervisor's jobs it never resolves (it waits for
   * that job too)
   */
  drain(): Promise<void>
  /**
   * Stops admitting, lets jobs run up to `grace` (default: the configured one, 10 s), then aborts
   * and interrupts the stragglers (one line each), waits for their outcomes and flushes the
   * logger. Idempotent: a second call waits for the first, and its shorter `grace` ends the
   * first one's sooner (`shutdown({ grace: 0 })` on a second SIGTERM stops the stragglers now).
   */
  shutdown(options?: { readonly grace?: Duration.Input }): Promise<void>
}

// ── constructors ────────────────────────────────────────────────────────────

/**
 * Starts a supervisor for async/await code, logging through pino (default: `pino({ level: "info" })`
 * on stdout). It runs until `shutdown`. Throws `SupervisorConfigError` for a bad option and
 * `PinoLoggerConfigError` for a logger that would lose lines or is neither a pino logger nor
 * pino's options (a level name such as `"debug"`, `console`).
 *
 * ```ts
 * import { item, supervisor } from "@tributary/jobs/promise"
 *
 * const sup = supervisor({ name: "etl", concurrency: 8, pools: { db: { concurrency: 2 } }, logger: { level: "debug" } })
 * sup.fire(async () => "cleaned", { name: "clean" })
 * const results = await sup.all(
 *   [1, 2, 3].map((id) => item(async () => id * 2, { name: `record-${id}`, annotations: { recordId: id } })),
 *   { concurrency: 2, pool: "db" }
 * )
 * for (const r of results) if (r.status === "rejected") console.error(r.outcome.name, r.reason)
 * await sup.drain()
 * ```
 *
 * `all(works, options)` runs `works` as jobs of one group (as `Job.all`), at most
 * `options.concurrency` at once, waiting for room in the queue, and resolves:
 *  - "collectAll" (default): one `Settled` per work, in input order (never rejects for a job);
 *  - "failFast": the values in input order, or rejects with the first failure (the rest are
 *    aborted);
 *  - "firstSuccess": the first value (the rest are aborted), or rejects with the last failure.
 * With "failFast"/"firstSuccess", a deciding job that timed out or was interrupted rejects with a
 * `JobAbortedError` naming it, with its `reason` and `outcome` (a shutdown included); a deciding
 * work the group could not admit because the supervisor had shut down rejects with
 * `SupervisorClosedError`. A shutdown never costs "collectAll" its results: a work never started
 * is `rejected` with a `JobAbortedError` ("Interrupted", its outcome's attempt 0).
 *
 * @since 0.2.0
 */
export const supervisor = (config: Config = {}): PromiseSupervisor => {
  if (typeof config !== "object" || config === null || Array.isArray(config))
    throw new SupervisorConfigError("config", config, "an object (or nothing)", "supervisor")
  // here, so that a misspelt key's error lists logger and maxHeldLines too
  checkConfigKeys(config, ["logger", "maxHeldLines"], "supervisor")
  const { logger, maxHeldLines, ...supervisorConfig } = config
  let held: number | undefined
  try {
    held = heldLinesOf(maxHeldLines)
  } catch (error) {
    throw inOperation(error, "supervisor")
  }
  let loggerLayer: Layer.Layer<never>
  try {
    // none given: runMain's, bounded tighter (a stalled stdout costs lines after 100 ms, never memory)
    loggerLayer = PinoLogger.layer(
      (logger ?? defaultStdoutLogger(hostedStdoutStallMillis)) as PinoLogger.LoggerOrOptions<any>,
      {
        awaitOpen: false,
        ...(held === undefined ? {} : { maxHeldLines: held })
      }
    )
  } catch (error) {
    throw asLoggerOption(error, "supervisor")
  }
  const scope = Scope.makeUnsafe()
  const layer = Layer.effect(Supervisor.Supervisor, Supervisor.make(supervisorConfig)).pipe(
    // built synchronously: a file destination still opening is not waited for (its failure goes to stderr)
    Layer.provideMerge(loggerLayer)
  )
  const built = Effect.runSyncExit(Layer.buildWithScope(layer, scope))
  if (Exit.isFailure(built)) {
    Effect.runFork(Scope.close(scope, built))
    // a bad option: named after this call, not the `Supervisor.make` it runs
    throw inOperation(Cause.squash(built.cause), "supervisor", "Supervisor.make")
  }
  return new PromiseSupervisorImpl(built.value, scope)
}

/**
 * A work of `all` with its own options (the mirror of `Job.item`): its name, key, annotations…
 * override the group's options, so each job of a group can carry its own record id or partner key.
 *
 * ```ts
 * import { item } from "@tributary/jobs/promise"
 *
 * const one = item(async (signal) => (await fetch("https://example.com", { signal })).status, { name: "probe" })
 * ```
 *
 * @since 0.2.0
 */
export const item = <A>(run: Work<A>, options?: GroupJobOptions): Item<A> => ({ run, options })

// ── private ─────────────────────────────────────────────────────────────────

type Settle<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly reason: unknown }

class PromiseSupervisorImpl implements PromiseSupervisor {
  readonly name: string
  readonly service: Supervisor.Service
  readonly layer: Layer.Layer<Supervisor.Supervisor>
  readonly outcomes: AsyncIterable<Outcome>
  /** run in the supervisor's context (its service, the pino logger), so every line goes through pino */
  private readonly runFork: <A, E>(effect: Effect.Effect<A, E, Supervisor.Supervisor>) => Fiber.Fiber<A, E>
  private readonly runPromise: <A, E>(effect: Effect.Effect<A, E, Supervisor.Supervisor>) => Promise<A>
  private closing: Promise<void> | undefined
  /** the service's state: `fire` and `run` admit their jobs on it directly */
  private readonly state: SupervisorState

  constructor(
    private readonly context: Context.Context<Supervisor.Supervisor>,
    private readonly scope: Scope.Closeable
  ) {
    this.service = Context.get(context, Supervisor.Supervisor)
    this.state = stateIn(context as Context.Context<never>, "supervisor")
    this.name = this.service.name
    this.layer = Layer.succeed(Supervisor.Supervisor, this.service)
    this.runFork = Effect.runForkWith(context)
    this.runPromise = Effect.runPromiseWith(context)
    this.outcomes = { [Symbol.asyncIterator]: () => this.tap() }
  }

  fire<A>(work: Work<A>, options?: JobOptions): void {
    let admission: Effect.Effect<unknown, unknown>
    try {
      admission = submit.fireIn(this.state, effectOf("sup.fire", "work", work), jobOptions(options), this.context)
    } catch (error) {
      throw inOperation(error, "sup.fire")
    }
    if (admission === Effect.void) return // started or queued: no fiber needed
    const fiber = this.runFork(admission)
    const exit = fiber.pollUnsafe()
    if (exit === undefined) {
      // whenFull "wait" with a full queue: a synchronous call cannot wait, so the fire is withdrawn
      fiber.interruptUnsafe()
      throw new SupervisorFullError(
        this.name,
        typeof options?.name === "string" ? options.name : "job",
        "fire returns at once and cannot wait: raise maxQueued, or use run or all, which wait for room"
      )
    }
    if (Exit.isFailure(exit)) {
      const error = Cause.squash(exit.cause)
      // whenFull "fail": the admission's advice (set whenFull: "wait") would not help a fire either
      if (error instanceof SupervisorFullError)
        throw new SupervisorFullError(
          error.supervisor,
          error.job,
          "fire returns at once and cannot wait: raise maxQueued, or use run or all, which wait for room"
        )
      throw error
    }
  }

  run<A>(work: Work<A>, options?: RunOptions): Promise<A> {
    try {
      return this.runJob(work, options)
    } catch (error) {
      throw inOperation(error, "sup.run")
    }
  }

  /** `run`, its bad arguments thrown naming no call (but for its `work`'s: `run` names them). */
  private runJob<A>(work: Work<A>, options: RunOptions | undefined): Promise<A> {
    const effect = effectOf("sup.run", "work", work)
    if (options !== undefined && (typeof options !== "object" || options === null))
      throw new JobArgumentError("options", options, "an object")
    const { signal, ...rest } = options === undefined ? {} : flattened(options)
    checkSignal(signal)
    const jobOpts = jobOptions(options === undefined ? undefined : rest, "", runOptions)
    if (signal?.aborted) return Promise.reject(signal.reason)
    // admitted here, and its end heard on its entry (as `Job.await` does): no fiber, channel or
    // generator per call unless the queue is full (a channel, a generator and a waiting fiber per
    // `run` cost ten times p-limit per job)
    /** a live job with the same id stands for this one (dedupe): this run only joins it */
    const joined = rest.id !== undefined && this.state.liveById(rest.id) !== undefined
    const { handle, admission } = submit.forkUnsafe(this.state, effect, jobOpts, this.context)
    const entry = submit.entryOf(handle, "run")
    return new Promise<A>((resolve, reject) => {
      /** waits for room in a full queue ("wait"), or fails (closed, full) */
      const admitting = admission === admittedNow ? undefined : this.runFork(admission)
      // one listener per signal, however many runs share it (whenAborted); no closure without one
      const off =
        signal === undefined
          ? undefined
          : whenAborted(signal, () => {
              if (joined) {
                // the job is another caller's: this one stops waiting, the job goes on
                const index = entry.awaiters?.indexOf(ended) ?? -1
                if (index >= 0) entry.awaiters!.splice(index, 1)
                reject(signal.reason)
              } else if (admitting !== undefined && admitting.pollUnsafe() === undefined) admitting.interruptUnsafe()
              else this.state.interruptUnsafe(entry)
            })
      const ended = (exit: Exit.Exit<unknown, unknown>) => {
        off?.()
        if (Exit.isSuccess(exit)) return resolve(exit.value as A)
        reject(signal?.aborted ? signal.reason : reasonOf(outcomeOf(this.state, entry)))
      }
      const admitted = () => {
        if (entry.exit !== undefined) ended(entry.exit)
        else if (entry.awaiters === undefined) entry.awaiters = [ended]
        else entry.awaiters.push(ended)
      }
      if (admitting === undefined) return admitted()
      admitting.addObserver((exit) => {
        if (Exit.isSuccess(exit)) return admitted()
        off?.()
        reject(signal?.aborted ? signal.reason : Cause.squash(exit.cause))
      })
    })
  }

  all<A>(works: Iterable<Work<A> | Item<A>>, options: AllOptions): Promise<any> {
    try {
      return this.runAll(works, options)
    } catch (error) {
      // the group's own checks are `Job.all`'s: this call is named instead
      throw inOperation(error, "sup.all", "Job.all")
    }
  }

  /** `all`, its bad arguments thrown naming no call (or `Job.all`: `all` names them). */
  private runAll<A>(works: Iterable<Work<A> | Item<A>>, options: AllOptions): Promise<any> {
    if (works === null || typeof (works as any)?.[Symbol.iterator] !== "function")
      throw new JobArgumentError("works", works, "an iterable of functions (signal) => Promise (or item(...))")
    if (typeof options !== "object" || options === null)
      throw new JobArgumentError("options", options, "an object with concurrency")
    const { signal, policy = "collectAll", concurrency, name = "job", ...group } = flattened(options)
    checkSignal(signal)
    // read here to name the works (Job.all would refuse it too, after a Symbol broke the names)
    if (typeof name !== "string" || name === "") throw new JobArgumentError("name", name, "a non-empty string")
    const groupOptions = { ...jobOptions(group, "", allOptions), concurrency, name }
    const list = Array.from(works)
    if (list.length === 0 && policy === "firstSuccess")
      throw new JobArgumentError("works", works, 'at least one work for policy "firstSuccess"')
    /** the first job whose work was aborted (the decider of an interrupted "failFast"/"firstSuccess") */
    let firstAborted: number | undefined
    const names: Array<string> = []
    const items = list.map((w, i) => {
      const onAbort = () => {
        firstAborted ??= i
      }
      if (typeof w === "function") {
        names.push(`${name}-${i}`)
        return Job.item(effectOf("sup.all", `works[${i}]`, w, onAbort))
      }
      if (typeof w !== "object" || w === null || !("run" in w))
        throw new JobArgumentError(`works[${i}]`, w, "a function (signal) => Promise, or item(run, options)")
      const own = jobOptions(w.options, `works[${i}].options.`, groupJobOptions)
      names.push(typeof own?.name === "string" ? own.name : `${name}-${i}`)
      return Job.item(effectOf("sup.all", `works[${i}].run`, w.run, onAbort), own)
    })
    if (signal?.aborted) return Promise.reject(signal.reason)
    const aborted = (): unknown =>
      signal?.aborted
        ? signal.reason
        : new JobAbortedError(firstAborted === undefined ? name : names[firstAborted], "Interrupted")
    const onFailure = (cause: Cause.Cause<unknown>): unknown =>
      Cause.hasInterruptsOnly(cause) ? aborted() : Cause.squash(cause)
    switch (policy) {
      case "collectAll":
        return this.settle(
          Job.all(items, { ...groupOptions, policy: "collectAll" }),
          (outcomes): Settle<Array<Settled<A>>> => ({ ok: true, value: outcomes.map(settledOf) }),
          signal,
          onFailure
        )
      case "failFast":
      case "firstSuccess":
        return this.settle(
          Job.all(items, { ...groupOptions, policy } as Job.AllOptions<A, unknown> & { policy: "failFast" }),
          (value): Settle<unknown> => ({ ok: true, value }),
          signal,
          onFailure
        )
      default:
        throw new JobArgumentError("policy", policy, '"collectAll", "failFast" or "firstSuccess"')
    }
  }

  pause(options?: PauseOptions): void {
    this.setPaused(true, options)
  }

  resume(options?: PauseOptions): void {
    this.setPaused(false, options)
  }

  snapshot(): Promise<Snapshot> {
    return this.runPromise(this.service.snapshot)
  }

  drain(): Promise<void> {
    return this.runPromise(this.service.drain)
  }

  shutdown(options?: { readonly grace?: Duration.Input }): Promise<void> {
    const shut = this.runPromise(this.service.shutdown(options))
    this.closing ??= shut.then(() => this.runPromise(Scope.close(this.scope, Exit.void)))
    return shut.then(() => this.closing)
  }

  /**
   * Runs `program` (its argument checks run now, so a bad argument throws here) and settles the
   * Promise with `onSuccess` of its value, or with `onFailure` of its cause (default: the squashed
   * cause). Aborting `signal` interrupts the program.
   */
  private settle<X, E, A>(
    program: Effect.Effect<X, E, Supervisor.Supervisor>,
    onSuccess: (x: X) => Settle<A>,
    signal?: AbortSignal,
    onFailure: (cause: Cause.Cause<E>) => unknown = Cause.squash
  ): Promise<A> {
    const fiber = this.runFork(program)
    const early = fiber.pollUnsafe()
    if (early !== undefined && Exit.isFailure(early)) {
      const defect = early.cause.reasons.find(Cause.isDieReason)?.defect
      if (defect instanceof JobArgumentError) throw defect
    }
    return new Promise<A>((resolve, reject) => {
      const off = signal === undefined ? undefined : whenAborted(signal, () => fiber.interruptUnsafe())
      fiber.addObserver((exit) => {
        off?.()
        if (Exit.isFailure(exit)) return reject(onFailure(exit.cause))
        const settled = onSuccess(exit.value)
        if (settled.ok) resolve(settled.value)
        else reject(settled.reason)
      })
    })
  }

  /** The service's `pause` or `resume`, now; a bad argument throws its JobArgumentError (naming `sup.pause`, `sup.resume`). */
  private setPaused(paused: boolean, options: PauseOptions | undefined): void {
    if (options !== undefined && (typeof options !== "object" || options === null))
      throw new JobArgumentError(
        "options",
        options,
        "an object ({ pool }) or nothing",
        paused ? "sup.pause" : "sup.resume"
      )
    const exit = Effect.runSyncExitWith(this.context)(
      paused ? this.service.pause(options) : this.service.resume(options)
    )
    if (Exit.isFailure(exit)) throw Cause.squash(exit.cause)
  }

  /** A fresh tap on the outcomes, as an async iterator; `return` (or the end) closes it. */
  private tap(): AsyncIterator<Outcome> {
    const scope = Scope.makeUnsafe()
    const port = Effect.runSyncWith(this.context)(Scope.provide(this.service.outcomes, scope))
    let closed = false
    const close = (): Promise<IteratorResult<Outcome>> => {
      if (!closed) {
        closed = true
        this.runFork(Scope.close(scope, Exit.void))
      }
      return Promise.resolve({ done: true, value: undefined })
    }
    return {
      next: () =>
        closed
          ? close()
          : this.runPromise(Chan.take(port)).then((o) =>
              Option.isSome(o) ? { done: false as const, value: o.value } : close()
            ),
      return: close
    }
  }
}

/**
 * `work` as an Effect: its signal aborts when the job is interrupted; a thrown or rejected value
 * is a typed failure. Throws a JobArgumentError naming `operation` (the call given `work`: a
 * constant) and `argument` when `work` is not a function. `onAbort` runs when an attempt is
 * interrupted.
 */
const effectOf = <A>(
  operation: string,
  argument: string,
  work: Work<A>,
  onAbort?: () => void
): Effect.Effect<A, unknown> => {
  if (typeof work !== "function")
    throw new JobArgumentError(argument, work, "a function (signal: AbortSignal) => Promise (or a value)", operation)
  return new PromiseWork(operation, argument, work, onAbort) as unknown as Effect.Effect<A, unknown>
}

/**
 * A work of the Promise API as an Effect: one small object of fixed shape per job, holding the
 * work; the Effect that calls it (effect's `tryPromise`) is made when an attempt starts, not when
 * the job is submitted — a queued job holds no Effect, options object or closures of its own.
 */
class PromiseWork<A> extends ContextCall<A, unknown> {
  constructor(
    readonly operation: string,
    readonly argument: string,
    readonly work: Work<A>,
    readonly onAbort: (() => void) | undefined
  ) {
    super()
  }

  call(context: Context.Context<never>): Effect.Effect<A, unknown> {
    const { operation, argument, work, onAbort } = this
    // as effect's own `tryPromise`: a function that declares no parameter gets no AbortSignal (an
    // AbortController per job was most of the cost of a short job here, half of it in the collector)
    const effect =
      work.length === 0
        ? Effect.tryPromise({
            try: (): PromiseLike<A> => promiseOf(operation, argument, (work as () => A | PromiseLike<A>)()),
            catch: (error) => error
          })
        : Effect.tryPromise({
            try: (signal: AbortSignal): PromiseLike<A> =>
              // only a function that declares the job gets one
              promiseOf(
                operation,
                argument,
                work.length === 1
                  ? (work as (signal: AbortSignal) => A | PromiseLike<A>)(signal)
                  : work(signal, runningJobIn(context))
              ),
            catch: (error) => error
          })
    return onAbort === undefined ? effect : Effect.onInterrupt(effect, () => Effect.sync(onAbort))
  }
}

/**
 * The `RunningJob` of the job whose fiber has `context` (its supervisor, its `job.id` annotation,
 * its logger): `progress` runs `Job.progress` there, synchronously.
 */
const runningJobIn = (context: Context.Context<never>): RunningJob => {
  const runSync = Effect.runSyncWith(context)
  return { progress: (value) => runSync(Job.progress(value)) }
}

const isPromiseLike = (u: unknown): u is PromiseLike<any> =>
  typeof u === "object" && u !== null && typeof (u as { then?: unknown }).then === "function"

/**
 * The result of a call of a work as a Promise; an Effect (returned, or resolved by its Promise) is
 * a JobArgumentError naming `operation` and `argument`, the job's failure: it would never run
 * (`() => Job.fire(…)`, a defined job's `make`), and its job would succeed with the Effect as its
 * value.
 */
const promiseOf = <A>(operation: string, argument: string, result: A | PromiseLike<A>): PromiseLike<A> =>
  isPromiseLike(result)
    ? // through a real Promise: a thenable's own `then` may return nothing (as `await` allows)
      Promise.resolve(result).then((value) => notEffect(operation, argument, value))
    : Promise.resolve(notEffect(operation, argument, result))

const notEffect = <A>(operation: string, argument: string, value: A): A => {
  if (Effect.isEffect(value))
    throw new JobArgumentError(
      argument,
      value,
      "a function whose result is a value or a Promise, not an Effect (an Effect is fired with Job.fire, into this supervisor through sup.layer)",
      operation
    )
  return value
}

/** The options of `JobOptions` (`fire`) and of `RunOptions` (`run`), as `OptionFlags`. */
const singleJobOptions = OptionFlags.id
const runOptions = OptionFlags.id | OptionFlags.signal

/** The options of `GroupJobOptions` (an item's), and of `AllOptions` (a group's): no `id` (no dedupe in a group). */
const groupJobOptions = 0
const allOptions = OptionFlags.group | OptionFlags.policy | OptionFlags.signal

/**
 * The Job options of `options` (its plain `retry` as a Schedule), or a JobArgumentError naming the
 * bad one; `known` are the options allowed (`OptionFlags`: a misspelt option would be ignored).
 */
const jobOptions = (
  options: JobOptions | undefined,
  prefix = "",
  known: number = singleJobOptions
): Job.ItemOptions<any, unknown> | undefined => {
  if (options === undefined) return undefined
  checkOptions(options, prefix, known)
  const { retry, ...rest } = flattened(options)
  return retry === undefined ? rest : { ...rest, retry: scheduleOf(retry, `${prefix}retry`) }
}

/**
 * `options` as a plain object of its enumerable keys, inherited ones included: the options are
 * checked with `for…in` (as the Effect API reads them, an option on the prototype counts), and an
 * object rest would keep only the own ones (an inherited `timeout` checked, then lost).
 */
const flattened = <O extends object>(options: O): O => {
  const out: Record<string, unknown> = {}
  for (const key in options) out[key] = (options as Record<string, unknown>)[key]
  return out as O
}

const scheduleOf = (retry: Retry | Schedule.Schedule<unknown, unknown>, argument: string) => {
  if (Schedule.isSchedule(retry)) return retry as Schedule.Schedule<unknown, unknown>
  if (typeof retry !== "object" || retry === null)
    throw new JobArgumentError(argument, retry, "{ times, delay? } or an effect Schedule")
  for (const key in retry)
    if (key !== "times" && key !== "delay")
      throw new JobArgumentError(
        `${argument}.${key}`,
        (retry as unknown as Record<string, unknown>)[key],
        "times or delay (for another schedule, pass an effect Schedule)"
      )
  const times = retry.times
  if (!(typeof times === "number" && Number.isInteger(times) && times >= 0))
    throw new JobArgumentError(`${argument}.times`, times, "an integer ≥ 0")
  if (retry.delay === undefined) return Schedule.recurs(times)
  const delay = nonNegativeDuration(retry.delay)
  if (delay === undefined || !Number.isFinite(Duration.toMillis(delay)))
    throw new JobArgumentError(`${argument}.delay`, retry.delay, durationExpected("a finite duration ≥ 0", retry.delay))
  return Schedule.max([Schedule.recurs(times), Schedule.spaced(delay)])
}

/** Throws a JobArgumentError unless `signal` is undefined or an AbortSignal (checked by its shape, so a polyfill's passes). */
const checkSignal = (signal: unknown): void => {
  if (
    signal !== undefined &&
    !(
      typeof signal === "object" &&
      signal !== null &&
      typeof (signal as AbortSignal).aborted === "boolean" &&
      typeof (signal as AbortSignal).addEventListener === "function" &&
      typeof (signal as AbortSignal).removeEventListener === "function"
    )
  )
    throw new JobArgumentError("signal", signal, "an AbortSignal")
}

/** What `run` rejects with for a job that ended without its value. */
const reasonOf = (outcome: Outcome): unknown => {
  if (outcome._tag === "TimedOut" || outcome._tag === "Interrupted")
    return new JobAbortedError(outcome.name, outcome._tag, outcome)
  return Exit.isFailure(outcome.exit) ? Cause.squash(outcome.exit.cause) : undefined
}

const settledOf = <A>(outcome: Outcome<A, unknown>): Settled<A> =>
  outcome._tag === "Success"
    ? { status: "fulfilled", value: (outcome.exit as Exit.Success<A>).value, outcome }
    : { status: "rejected", reason: reasonOf(outcome as Outcome), outcome }
