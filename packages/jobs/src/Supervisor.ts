/**
 * The `Supervisor`: the owner of every job. It bounds how many jobs run (globally, per pool, per
 * key, and by rate), queues the rest, runs each as a detached fiber it observes, puts every job's
 * outcome on its outcome queue, and logs each outcome from its own fiber — so nothing fails
 * silently. Closing its scope shuts it down with the configured grace.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job, Supervisor } from "@tributary/jobs"
 *
 * const program = Effect.gen(function* () {
 *   yield* Job.fire(Effect.log("hello"), { name: "greet" })
 *   yield* Supervisor.drain
 * }).pipe(Effect.provide(Supervisor.layer({ name: "etl", concurrency: 16 })))
 * ```
 *
 * Gotchas:
 * - Jobs run with the services of the fiber that fired them, but they belong to the supervisor:
 *   when the caller ends, its jobs go on.
 * - Among queued jobs, the next to start is chosen round-robin across pools and across the keys
 *   of a pool; within one key (or among a pool's keyless jobs) it is first in, first out.
 * - Outcome lines are logged through effect's `Logger` of the context the layer was built in;
 *   debug lines (successes, by default) are filtered by effect's minimum log level (and not built).
 * - `snapshot`'s counters count outcomes as jobs end; their lines may be written a moment later
 *   (`drain` waits for them).
 *
 * @since 0.2.0
 */
import type { ReadPort } from "@tributary/channel"
import { Buffer, Chan, Mult } from "@tributary/channel"
import type { PinoLogger } from "@tributary/pino"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import type * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { checkPauseOptions, graceOf, resolve, runMainArguments, watchArguments } from "./internal/config.js"
import { type StateCarrier, stateIn, stateKey, supervisorKey } from "./internal/context.js"
import * as internalRunMain from "./internal/runMain.js"
import { snapshotOf } from "./internal/snapshot.js"
import * as submit from "./internal/submit.js"
import * as internal from "./internal/supervisor.js"
import type { Handle, Options } from "./Options.js"
import type { Outcome } from "./Outcome.js"
import type { Progress, Snapshot } from "./Snapshot.js"
import {
  inOperation,
  type SupervisorClosedError,
  SupervisorConfigError,
  type SupervisorFullError
} from "./SupervisorError.js"

// ── models ──────────────────────────────────────────────────────────────────

/**
 * What `yield* Supervisor` gives: the operations a user may call on one supervisor (the same as
 * the module's functions, bound to it). Its state stays internal.
 *
 * @since 0.2.0
 */
export interface Service {
  /** the supervisor's `name` (its `Config.name`, "supervisor" by default) */
  readonly name: string
  /**
   * `Job.fire` on this supervisor (not on the one the caller's context may hold): the job runs with
   * the caller's services, so its requirements stay the caller's `R`.
   */
  readonly fire: <A, E, R>(
    work: Effect.Effect<A, E, R>,
    options?: Options<A, E>
  ) => Effect.Effect<void, SupervisorClosedError | SupervisorFullError, R>
  /** `Job.fork` on this supervisor; the handle works with `Job.await`, `join`, `interrupt`, `status`. */
  readonly fork: <A, E, R>(
    work: Effect.Effect<A, E, R>,
    options?: Options<A, E>
  ) => Effect.Effect<Handle<A, E>, SupervisorClosedError | SupervisorFullError, R>
  /** see `snapshot` */
  readonly snapshot: Effect.Effect<Snapshot>
  /** see `watch` */
  readonly watch: (interval: Duration.Input, options?: WatchOptions) => Stream.Stream<Progress>
  /** see `outcomes` */
  readonly outcomes: Effect.Effect<ReadPort<Outcome>, never, Scope.Scope>
  /** see `drain` */
  readonly drain: Effect.Effect<void>
  /** see `shutdown` */
  readonly shutdown: (options?: { readonly grace?: Duration.Input }) => Effect.Effect<void>
  /** see `pause` */
  readonly pause: (options?: { readonly pool?: string }) => Effect.Effect<void>
  /** see `resume` */
  readonly resume: (options?: { readonly pool?: string }) => Effect.Effect<void>
}

/**
 * The service `Job.fire`/`Job.fork` need in `R`; provided by `layer`, or built by `make`.
 * `yield* Supervisor.Supervisor` gives the one in context (its `Service`).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Supervisor } from "@tributary/jobs"
 *
 * const report = Effect.gen(function* () {
 *   const sup = yield* Supervisor.Supervisor
 *   const now = yield* sup.snapshot
 *   yield* Effect.log(`${sup.name}: ${now.totals.running} running, ${now.totals.queued} queued`)
 * })
 * ```
 *
 * @since 0.2.0
 */
export class Supervisor extends Context.Service<Supervisor, Service>()(supervisorKey) {}

/**
 * The limits of one named pool. Every field is optional: a pool without limits only groups jobs
 * under a name (the global `concurrency` still applies).
 *
 * @since 0.2.0
 */
export interface PoolConfig {
  /** running jobs of this pool at once (default: no bound beyond the global one) */
  readonly concurrency?: number
  /** running jobs per `key` of this pool at once (default: no bound); keyless jobs are not bound by it */
  readonly perKey?: number
  /**
   * token bucket timed by effect's `Clock`: `limit` attempts per `interval` (a finite number ≥ 1),
   * burst = `limit`. Every attempt takes a token: a job's start, and each retry (`retry`), which
   * waits for its token holding the job's slots
   */
  readonly rate?: {
    /** attempts (starts and retries) per `interval`, and the most at once (a finite number ≥ 1) */
    readonly limit: number
    /** the period over which `limit` tokens refill, continuously (a finite duration > 0) */
    readonly interval: Duration.Input
  }
}

/**
 * The configuration of `layer` and `make`.
 *
 * @since 0.2.0
 */
export interface Config {
  /** in log lines, errors and metric series (default "supervisor"); a non-empty string */
  readonly name?: string
  /** global bound on running jobs (default 64) */
  readonly concurrency?: number
  /** admitted jobs waiting to run (default 10_000) */
  readonly maxQueued?: number
  /**
   * when the queue is full (default "wait"): "wait" (fire/fork suspend), "fail" (fire/fork fail
   * with SupervisorFullError), "drop" (fire returns and one warn line names the dropped job, with
   * the payload of a `Job.define` job as `job.payload`; fork, and a fire with `reportTo`, fail
   * with SupervisorFullError: a job whose outcome someone waits for is never dropped). A job
   * that can start at once never takes a queue slot.
   */
  readonly whenFull?: "wait" | "fail" | "drop"
  /** named pools; a job without `pool` runs in the pool "default", which has no limits of its own */
  readonly pools?: Record<string, PoolConfig>
  /** level of successful outcomes' lines (default "debug"); failures: error; interrupts, timeouts, retried attempts: warn */
  readonly logSuccess?: LogLevel.Severity | Lowercase<LogLevel.Severity>
  /** default "10 seconds"; used by `shutdown()` and when the layer's scope closes */
  readonly grace?: Duration.Input
  /**
   * publish effect `Metric`s of the jobs (default false): `true` every second, or every
   * `interval` of effect Clock time, and once more at shutdown. Series (attributes `supervisor`,
   * `pool`): `tributary_jobs_started`, `tributary_jobs_ended` (attribute `outcome`; a job
   * cancelled before it started ends "interrupted" without having started),
   * `tributary_jobs_dropped` (counters), `tributary_jobs_running`, `tributary_jobs_queued`
   * (gauges), `tributary_job_duration_ms` (histogram). Off by default: its timer would keep a
   * process that never shuts its supervisor down alive. Two supervisors running at once with
   * metrics need two names (they name the series): the second of one name dies with a
   * `SupervisorConfigError` naming `name`; once the first has shut down, the name is free again.
   */
  readonly metrics?:
    | boolean
    | {
        /** how often the metrics are published, in effect Clock time (default 1 second; a finite duration > 0) */
        readonly interval?: Duration.Input
      }
}

export type {
  /** @since 0.2.0 */
  Counters,
  /** @since 0.2.0 */
  Durations,
  /** @since 0.2.0 */
  JobInfo,
  /** @since 0.2.0 */
  KeySnapshot,
  /** @since 0.2.0 */
  Limit,
  /** @since 0.2.0 */
  OutcomeCounts,
  /** @since 0.2.0 */
  PoolSnapshot,
  /** @since 0.2.0 */
  Progress,
  /** @since 0.2.0 */
  Snapshot
} from "./Snapshot.js"

/**
 * The options of `runMain`.
 *
 * @since 0.2.0
 */
export interface RunMainOptions {
  /** the supervisor's configuration (its `grace` bounds the shutdown on a signal) */
  readonly supervisor?: Config
  /**
   * the pino logger, or the options to build one writing to stdout (default: pino at `info`,
   * writing to stdout synchronously so the last lines survive `process.exit`; when the reader of
   * stdout stops reading for a second, or is gone (EPIPE), lines are dropped and the loss is
   * reported on stderr, and the process goes on). An asynchronous destination of your own may lose
   * the lines written on the way out of a `process.exit`.
   */
  readonly logger?: PinoLogger.AnyLoggerOrOptions
  /** exit 1 when any job failed or timed out, not only when the program failed (default false) */
  readonly failOnJobFailure?: boolean
  /**
   * the hard deadline of a stop (signal or crash), counted from the end of the grace (default
   * "5 seconds"): a job that ignores interruption cannot hold the process longer; past it,
   * `runMain` writes one fatal line per job still running (name, age), a final line, flushes and
   * exits 1. It also bounds the final flush of the log, and, after a run a signal stopped, a log
   * write still held by a reader that takes nothing (the process then ends with the signal's
   * code). `Infinity` waits for ever.
   */
  readonly forceAfter?: Duration.Input
  /**
   * how many lines a destination that stops answering (a stalled stream, a custom destination that
   * never calls back) may hold before later lines are lost, counted and reported on stderr
   * (default 100,000; `Infinity`: no bound) — `PinoLogger.layer`'s `maxHeldLines`
   */
  readonly maxHeldLines?: number
}

const serviceOf = (state: internal.SupervisorState): Service => {
  // the state rides along under `stateKey`, for `Job.ts` and `promise.ts` (internal/context.ts)
  const service: Service & StateCarrier = {
    [stateKey]: state,
    name: state.config.name,
    fire: <A, E, R>(work: Effect.Effect<A, E, R>, options?: Options<A, E>) =>
      new submit.FireCall(state, work, options) as unknown as Effect.Effect<
        void,
        SupervisorClosedError | SupervisorFullError,
        R
      >,
    fork: <A, E, R>(work: Effect.Effect<A, E, R>, options?: Options<A, E>) =>
      new submit.ForkCall(state, work, options) as unknown as Effect.Effect<
        Handle<A, E>,
        SupervisorClosedError | SupervisorFullError,
        R
      >,
    snapshot: Effect.sync(() => snapshotOf(state)),
    watch: (interval, options) => Stream.unwrap(Effect.sync(() => watchState(state, interval, options, "sup.watch"))),
    outcomes: outcomesOf(state),
    drain: state.drain,
    shutdown: (options) => internal.shutdown(state, graceOf(state, options, "sup.shutdown")),
    pause: (options) => setPaused(state, options, true, "sup.pause"),
    resume: (options) => setPaused(state, options, false, "sup.resume")
  }
  return service
}

/** `Supervisor.use`, dying with a SupervisorMissingError that says what to provide. */
const use = <A, E, R>(
  operation: string,
  f: (state: internal.SupervisorState) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R | Supervisor> => Effect.withFiber((fiber) => f(stateIn(fiber.context, operation)))

// ── constructors ────────────────────────────────────────────────────────────

/**
 * Starts a supervisor in the current scope; closing the scope shuts it down with `config.grace`.
 * Dies with `SupervisorConfigError` on any bad option (the error names it and the value).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Supervisor } from "@tributary/jobs"
 *
 * // a supervisor of its own for one import, shut down when the scope closes
 * const importFile = Effect.scoped(
 *   Effect.gen(function* () {
 *     const sup = yield* Supervisor.make({ name: "import", concurrency: 4 })
 *     for (const row of ["a", "b", "c"]) yield* sup.fire(Effect.log(`row ${row}`), { name: `row-${row}` })
 *     yield* sup.drain
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const make = (config: Config = {}): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.map(makeState(config, "Supervisor.make"), serviceOf)

/** `make`'s state; a bad option dies with a SupervisorConfigError naming `operation` (the call given `config`). */
const makeState = (config: Config, operation: string): Effect.Effect<internal.SupervisorState, never, Scope.Scope> =>
  Effect.gen(function* () {
    const resolved = resolve(config, operation)
    const state = yield* internal.makeState(resolved).pipe(
      // a name taken by another supervisor's metrics: named after the call too
      Effect.catchDefect((defect) => Effect.die(inOperation(defect, operation)))
    )
    yield* Effect.addFinalizer(() =>
      Effect.andThen(internal.shutdown(state, resolved.graceMillis), Scope.close(state.scope, Exit.void))
    )
    return state
  })

/**
 * The `Supervisor` service as a layer; see `make`.
 *
 * ```ts
 * import { Supervisor } from "@tributary/jobs"
 *
 * const SupervisorLive = Supervisor.layer({ name: "etl", concurrency: 16, pools: { db: { concurrency: 8 } } })
 * ```
 *
 * @since 0.2.0
 */
export const layer = (config: Config = {}): Layer.Layer<Supervisor> =>
  Layer.effect(Supervisor, Effect.map(makeState(config, "Supervisor.layer"), serviceOf))

/**
 * Checks `config` as `make` and `layer` do, without starting anything: a bad option fails with
 * the SupervisorConfigError they would die with (named after `Supervisor.checkConfig`). For code
 * that passes a configuration on from its own caller and refuses a bad one up front, as a typed
 * failure (`NatsSupervisor.layer` checks its `supervisor` option this way before it connects).
 * What it cannot see: a `metrics` name a running supervisor holds, refused only when the
 * supervisor is built.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Supervisor } from "@tributary/jobs"
 *
 * const program = Supervisor.checkConfig({ concurrency: 0 }).pipe(
 *   Effect.catchTag("SupervisorConfigError", (e) => Effect.logError(`${e.argument}: expected ${e.expected}`))
 * ) // logs "concurrency: expected an integer ≥ 1 (or Infinity)"
 * ```
 *
 * @since 0.2.0
 */
export const checkConfig = (config: Config = {}): Effect.Effect<void, SupervisorConfigError> =>
  Effect.suspend(() => {
    try {
      resolve(config, "Supervisor.checkConfig")
      return Effect.void
    } catch (error) {
      if (error instanceof SupervisorConfigError) return Effect.fail(error)
      throw error
    }
  })

// ── operations ──────────────────────────────────────────────────────────────

/**
 * Waits until no job is waiting, queued or running and every outcome is logged. Jobs fired while
 * it waits are waited for too. Gotcha: inside one of the supervisor's own jobs it never returns
 * (it waits for that job too): drain from the code that fires the jobs.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job, Supervisor } from "@tributary/jobs"
 *
 * const program = Effect.gen(function* () {
 *   for (const id of [1, 2, 3]) yield* Job.fire(Effect.log(`sync ${id}`), { name: `sync-${id}` })
 *   yield* Supervisor.drain // the three jobs ended and their outcome lines are written
 * })
 * ```
 *
 * @since 0.2.0
 */
export const drain: Effect.Effect<void, never, Supervisor> = use("Supervisor.drain", (s) => s.drain)

/**
 * Stops admitting (`fire`/`fork` then fail with `SupervisorClosedError`, and so do the `fire`s
 * waiting for room), lets the jobs run up to `grace` (default: the configured one), then logs each
 * straggler by name and age, interrupts them newest first (queued ones are cancelled: their
 * outcome is "Interrupted", attempt 0), and waits until their outcomes are logged. Idempotent:
 * a second call waits for the first, and its shorter `grace` ends the first one's sooner.
 *
 * Gotcha: a job that ignores interruption (an `Effect.uninterruptible` region that never ends, a
 * finalizer that hangs) holds `shutdown`, and so the close of `Supervisor.layer`'s scope, until it
 * ends: its outcome is waited for, never invented. `runMain`'s `forceAfter` bounds a whole
 * process; elsewhere, bound the stop yourself (e.g. `Effect.timeout` around the scope's close).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job, Supervisor } from "@tributary/jobs"
 *
 * const program = Effect.gen(function* () {
 *   yield* Job.fire(Effect.sleep("1 minute"), { name: "export" })
 *   yield* Supervisor.shutdown({ grace: "5 seconds" }) // "export" is interrupted 5 seconds later
 *   yield* Job.fire(Effect.log("too late")).pipe(
 *     Effect.catchTag("SupervisorClosedError", (e) => Effect.log(e.message)) // supervisor "supervisor" is shut down: …
 *   )
 * })
 * ```
 *
 * @since 0.2.0
 */
export const shutdown = (options?: { readonly grace?: Duration.Input }): Effect.Effect<void, never, Supervisor> =>
  use("Supervisor.shutdown", (s) => internal.shutdown(s, graceOf(s, options, "Supervisor.shutdown")))

/**
 * The supervisor now: running jobs (oldest first) and queued ones (in admission order) with their
 * ages (effect `Clock`), the counters, each pool with what holds its queued jobs back, the
 * duration percentiles of the last jobs and the last failures. See the `Snapshot` module.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Supervisor } from "@tributary/jobs"
 *
 * const health = Effect.gen(function* () {
 *   const s = yield* Supervisor.snapshot
 *   const busiest = [...s.pools].sort((a, b) => b.queued - a.queued)[0]
 *   return { failed: s.counters.failed, oldest: s.running[0]?.ageMillis ?? 0, busiest: busiest?.name }
 * })
 * ```
 *
 * @since 0.2.0
 */
export const snapshot: Effect.Effect<Snapshot, never, Supervisor> = use("Supervisor.snapshot", (s) =>
  Effect.sync(() => snapshotOf(s))
)

/**
 * A fresh port (scoped) on which every outcome logged from now on arrives, in a sliding buffer of
 * 1024: a reader that lags loses the oldest outcomes, never holds the supervisor back. It closes when its scope closes or the supervisor shuts down.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 * import { Supervisor } from "@tributary/jobs"
 *
 * // an alert per failed job, until the supervisor shuts down
 * const alerts = Effect.scoped(
 *   Effect.gen(function* () {
 *     const outcomes = yield* Supervisor.outcomes
 *     yield* Chan.forEach(outcomes, (o) => (o._tag === "Failure" ? Effect.logError(`job ${o.name} failed`) : Effect.void))
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const outcomes: Effect.Effect<ReadPort<Outcome>, never, Supervisor | Scope.Scope> = use(
  "Supervisor.outcomes",
  (s) => outcomesOf(s)
)

/**
 * Pauses the supervisor, or one pool with `{ pool }`: no job of it starts until `resume`; queued
 * jobs wait (and new ones are queued, within `maxQueued`), running ones go on. A snapshot shows
 * `paused`, and `heldBy: "paused"` for what waits because of it. A shutdown cancels the jobs a
 * pause holds at once (one warn line each), without waiting its grace for them. An unknown pool
 * dies with `JobArgumentError`.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Supervisor } from "@tributary/jobs"
 *
 * // the partner asked for a break: hold its jobs for a minute
 * const breather = Effect.andThen(Supervisor.pause({ pool: "partner" }), Effect.delay(Supervisor.resume({ pool: "partner" }), "1 minute"))
 * ```
 *
 * @since 0.2.0
 */
export const pause = (options?: { readonly pool?: string }): Effect.Effect<void, never, Supervisor> =>
  use("Supervisor.pause", (s) => setPaused(s, options, true, "Supervisor.pause"))

/**
 * Resumes what `pause` paused (the supervisor, or one pool with `{ pool }`) and starts the queued
 * jobs that can start.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Supervisor } from "@tributary/jobs"
 *
 * // the partner is back: its queued jobs start
 * const reopen = Effect.gen(function* () {
 *   yield* Supervisor.resume({ pool: "partner" })
 *   const s = yield* Supervisor.snapshot
 *   return s.pools.find((p) => p.name === "partner")?.paused // false
 * })
 * ```
 *
 * @since 0.2.0
 */
export const resume = (options?: { readonly pool?: string }): Effect.Effect<void, never, Supervisor> =>
  use("Supervisor.resume", (s) => setPaused(s, options, false, "Supervisor.resume"))

/**
 * A stream of snapshots for progress displays and dashboards: one at once, then one every
 * `interval` of effect `Clock` time (`TestClock` drives it), each with the rates since the
 * previous (`Progress`). The interval counts from the previous snapshot, not from when its
 * consumer was done with it (a consumer slower than the interval gets the next one at once). It ends with a last snapshot as soon as the supervisor has shut down
 * (without waiting for the interval to pass).
 *
 * A display that shows a few jobs passes `listLimit`: each snapshot then lists at most that many
 * running, queued and delayed jobs (the oldest), and costs the same with a million jobs queued as
 * with a hundred; the counts (`counters`, each pool's `running` and `queued`) stay whole.
 *
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Supervisor } from "@tributary/jobs"
 *
 * const progress = Supervisor.watch("2 seconds", { listLimit: 10 }).pipe(
 *   Stream.runForEach((p) => {
 *     const queued = p.pools.reduce((n, pool) => n + pool.queued, 0)
 *     const oldest = p.queued[0]?.name ?? "none"
 *     return Effect.log(`${p.counters.succeeded} done, ${queued} queued (oldest: ${oldest}), ${p.rates.ended}/s`)
 *   })
 * )
 * ```
 *
 * @since 0.2.0
 */
export const watch = (interval: Duration.Input, options?: WatchOptions): Stream.Stream<Progress, never, Supervisor> =>
  Stream.unwrap(use("Supervisor.watch", (s) => Effect.sync(() => watchState(s, interval, options, "Supervisor.watch"))))

/**
 * Options of `watch`.
 *
 * @since 0.2.0
 */
export interface WatchOptions {
  /**
   * the most jobs listed in each of a snapshot's `running`, `queued` and `delayed` (the oldest);
   * an integer ≥ 0 (default: all of them)
   */
  readonly listLimit?: number | undefined
}

// ── running a process ───────────────────────────────────────────────────────

/**
 * Runs a whole program as the process's main: provides a supervisor (`options.supervisor`) and the
 * pino logger (`options.logger`), and keeps the process alive until the program and every job
 * ended; then exits 0, or 1 if the program failed (its failure or defect is logged once, with its
 * stack), was interrupted by itself (`Job.join` of a job that timed out: one error line says so)
 * or, with `failOnJobFailure`, if any job failed or timed out.
 *
 * On SIGINT/SIGTERM it stops admitting (`fire`/`fork` fail with `SupervisorClosedError`), lets the
 * jobs run up to the supervisor's `grace`, logs each straggler by name and age, interrupts them
 * newest first, interrupts the program if it still runs, flushes the logs and exits 130 (SIGINT) or
 * 143 (SIGTERM). A second signal exits at once, with the same code, after one final line. An
 * uncaught exception (fatal) or unhandled rejection (error) anywhere in the process is logged once
 * and stops the process the same graceful way, with exit code 1. A job that ignores interruption
 * holds a stop at most `forceAfter` (default 5 seconds) past the grace: then each stuck job gets
 * one fatal line (name, age), and the process flushes its log and exits 1.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job, Supervisor } from "@tributary/jobs"
 *
 * Supervisor.runMain(Job.fire(Effect.log("hello"), { name: "greet" }), { supervisor: { grace: "5 seconds" } })
 * ```
 *
 * Gotchas:
 * - A bad argument (a `program` that is not an Effect, `options` that are not an object, a
 *   `failOnJobFailure` that is not a boolean, a bad `forceAfter` or `supervisor` option) throws a
 *   `SupervisorConfigError` naming it at the call, before anything is installed or run; a logger
 *   that can lose lines throws `PinoLoggerConfigError` the same way.
 * - It sets `process.exitCode` and lets the event loop end; a handle the program leaves open (a
 *   server, a timer) keeps the process alive after the last line. Only a second signal calls
 *   `process.exit`.
 * - `process.exit` called by the program ends the process at once: running jobs get no outcome;
 *   `runMain` writes one error line (with the counts of running and queued jobs) on the way out.
 * - It installs process listeners for SIGINT, SIGTERM, `uncaughtException`, `unhandledRejection`
 *   and `exit` while it runs, and removes them when it is done.
 *
 * @since 0.2.0
 */
export const runMain = <A, E>(program: Effect.Effect<A, E, Supervisor>, options: RunMainOptions = {}): void => {
  // every argument is checked here, at the call, before any listener or timer is installed
  const { failOnJobFailure, forceAfterMillis, maxHeldLines } = runMainArguments(program, options)
  const config = options.supervisor ?? {}
  internalRunMain.runMain(
    {
      make: makeState(config, "Supervisor.runMain"),
      program: (state) => Effect.provideService(program, Supervisor, serviceOf(state))
    },
    { logger: options.logger, failOnJobFailure, forceAfterMillis, maxHeldLines }
  )
}

// ── private helpers ─────────────────────────────────────────────────────────

/** Pauses or resumes the supervisor or `options.pool`; a bad argument dies with a JobArgumentError naming `operation`. */
const setPaused = (
  s: internal.SupervisorState,
  options: { readonly pool?: string } | undefined,
  paused: boolean,
  operation: string
): Effect.Effect<void> =>
  Effect.sync(() => {
    checkPauseOptions(options, operation)
    let pool: internal.Pool | undefined
    try {
      pool = options?.pool === undefined ? undefined : s.poolOf(options.pool, "pool")
    } catch (error) {
      throw inOperation(error, operation)
    }
    s.setPaused(pool, paused)
  })

/** A fresh tap on the supervisor's outcomes (scoped). */
const outcomesOf = (s: internal.SupervisorState): Effect.Effect<ReadPort<Outcome>, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const tap = yield* Chan.make<Outcome>(Buffer.sliding(1024))
      yield* Mult.tap(s.mult, tap)
      s.taps++
      return tap
    }),
    (tap) =>
      Effect.suspend(() => {
        s.taps--
        return Effect.andThen(Mult.untap(s.mult, tap), Chan.close(tap))
      })
  )

/**
 * `watch` on a state: snapshots every `interval`, with rates, until a snapshot taken after
 * shutdown; a bad interval or list limit throws a JobArgumentError naming `operation`.
 */
const watchState = (
  s: internal.SupervisorState,
  interval: Duration.Input,
  options: WatchOptions | undefined,
  operation: string
): Stream.Stream<Progress> => {
  const { millis, listLimit } = watchArguments(interval, options, operation)
  return Stream.paginate<Snapshot | undefined, Progress>(undefined, (previous) =>
    Effect.gen(function* () {
      if (previous !== undefined) {
        // one interval after the previous snapshot, however long its consumer took (no drift); the
        // wait ends early when the supervisor has shut down: its last snapshot comes at once
        const wait = previous.at + millis - (s.epoch + s.now())
        if (wait > 0) yield* Effect.timeoutOption(Deferred.await(s.shutdownDone), wait)
      }
      const now = snapshotOf(s, listLimit)
      const ended = Deferred.isDoneUnsafe(s.shutdownDone)
      return [[{ ...now, rates: ratesBetween(previous, now) }], ended ? Option.none() : Option.some(now)] as const
    })
  )
}

/** Per second of Clock time from `a` to `b` (0 for the first element). */
const ratesBetween = (a: Snapshot | undefined, b: Snapshot): Progress["rates"] => {
  const seconds = a === undefined ? 0 : (b.at - a.at) / 1000
  if (a === undefined || seconds <= 0) return { started: 0, ended: 0, failed: 0 }
  const endedOf = (c: Snapshot["counters"]) => c.succeeded + c.failed + c.interrupted + c.timedOut
  return {
    started: (b.counters.started - a.counters.started) / seconds,
    ended: (endedOf(b.counters) - endedOf(a.counters)) / seconds,
    failed: (b.counters.failed + b.counters.timedOut - a.counters.failed - a.counters.timedOut) / seconds
  }
}
