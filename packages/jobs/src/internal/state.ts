/**
 * A supervisor's whole state: admission and the runner (the classes it extends), and the outcomes
 * — `finish` hands each job's one outcome to its awaiters, to `reportTo`, to the counters and the
 * history, and to the supervisor fiber (`toLog`), which writes its line.
 *
 * Invariants (numbered in the supervisor's one list, which runs across its parts: see
 * `supervisor.ts`; the numbers missing here are the other parts'):
 * 5. (continued from `runner.ts`, whose 5 says that every admitted entry ends in exactly one
 *    `Outcome`, made by `finish`; here is what `finish` does with it.) An entry's `state` becomes
 *    "done" in `finish` and never changes again. The outcome goes to the handle's awaiters, to
 *    `reportTo`, and the entry onto `toLog`, which only the supervisor fiber reads — unless it has
 *    no line to write (a success below the minimum log level, and no tap), in which case it is
 *    done in `finish`. `unlogged` counts admitted entries not done yet in that sense. (A
 *    `reportTo` that refuses the outcome gets its own warn line, written by the supervisor fiber
 *    from `warnings`.)
 * 7. The supervisor fiber is woken through the scheduler once per batch of outcomes, not once per
 *    outcome, and not at all for a success it would not write.
 *
 * @internal
 */
import { Chan, type Mult } from "@tributary/channel"
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as LogLevel from "effect/LogLevel"
import * as References from "effect/References"
import type * as Scheduler from "effect/Scheduler"
import type * as Scope from "effect/Scope"
import type { Outcome, OutcomeTag } from "../Outcome.js"
import { definedOf } from "./definition.js"
import { History } from "./history.js"
import { jobAnnotations } from "./lines.js"
import type { MetricsPublisher } from "./metrics.js"
import type { Entry, OutcomeCounts, Pool, ResolvedConfig } from "./model.js"
import { EntryQueue } from "./queues.js"
import { Runner } from "./runner.js"
import { beginWaiting, endWaiting, type Stall, stallsAfterResume, stallsOf } from "./stall.js"

/** Durations a pool keeps for the metrics before they are published early (bounds the memory between two publications). */
const MaxPendingDurations = 4096

/** The warn line of a stall: the limit, the jobs holding it and what each waits for, the way out. */
const stallLine = (stall: Stall): Effect.Effect<void> => {
  const shown = stall.held.slice(0, 5)
  const pairs = shown.map(
    ([waiting, awaited]) => `${waiting.name} (id ${waiting.id}) waits for ${awaited.name} (id ${awaited.id})`
  )
  const more = stall.held.length - shown.length
  return Effect.logWarning(
    `${stall.limit} is stalled: every slot is held by a job waiting for jobs that need the same slots, ` +
      `so those cannot start until one of the waiting jobs ends (${pairs.join("; ")}${more > 0 ? `; and ${more} more` : ""}). ` +
      "If nothing else ends one (its timeout, an interruption), they wait forever: give the waiting jobs and " +
      'the jobs they wait for different pools (docs/jobs.md, "A job that waits for jobs of its own pool")'
  ).pipe(
    Effect.annotateLogs({
      "stall.limit": stall.limit,
      "stall.waiting": stall.held.map(([waiting]) => waiting.id),
      "stall.awaited": stall.held.map(([, awaited]) => awaited.id)
    })
  )
}

/** The state of one supervisor; see the invariants at the top of this file and of its parts. */
export class SupervisorState extends Runner {
  /** the last durations and failures, for `snapshot` */
  readonly history = new History()
  /** the effect Metrics, when the configuration asks for them */
  metrics: MetricsPublisher | undefined = undefined
  /** Resumed when `unlogged` reaches 0. */
  drainWaiters: Array<() => void> = []
  /** completed when `shutdown` has ended (it began when `closed` was set) */
  readonly shutdownDone: Deferred.Deferred<void> = Deferred.makeUnsafe<void>()
  /** made by the first `shutdown`; completed when a later call's shorter grace has ended */
  graceCut: Deferred.Deferred<void> | undefined = undefined
  /** outcomes the supervisor fiber has not taken yet, oldest first */
  readonly toLog = new EntryQueue<Entry>()
  /** warn lines the supervisor fiber writes before the next outcome lines (`reportTo` refusals, stalls) */
  readonly warnings: Array<Effect.Effect<void>> = []
  /** resumes the supervisor fiber while it waits for outcomes */
  loggerResume: (() => void) | undefined = undefined
  loggerWakeScheduled = false
  /** set by `shutdown`: the supervisor fiber ends once `toLog` is empty */
  loggerStop = false
  /** the supervisor fiber, once started */
  logger: Fiber.Fiber<void> | undefined = undefined
  /** live `Supervisor.outcomes` taps; outcomes are published only while there is one */
  taps = 0
  /**
   * whether success lines pass the minimum log level of the supervisor's context (the supervisor
   * fiber's): when not, a success nobody awaits, taps or receives is done in `finish`
   */
  readonly successLogged: boolean

  constructor(
    config: ResolvedConfig,
    clock: Clock.Clock,
    context: Context.Context<never>,
    dispatcher: Scheduler.SchedulerDispatcher,
    /** owns the supervisor fiber, the mult and the groups' fibers */
    readonly scope: Scope.Closeable,
    /** the supervisor fiber forwards each logged outcome here, for the taps */
    readonly published: Chan.Chan<Outcome>,
    readonly mult: Mult.Mult<Outcome>
  ) {
    super(config, clock, context, dispatcher)
    this.successLogged = !LogLevel.isGreaterThan(Context.get(context, References.MinimumLogLevel), config.logSuccess)
  }

  /**
   * The one outcome of `entry` (invariant 5): to its awaiters, to `reportTo` (core.async `put!`:
   * never suspends; a put that finds no room waits on the channel as a pending put, so a `reportTo`
   * nobody reads holds no job slot and cannot stall shutdown; beyond the channel's `maxPending`
   * the outcome is not delivered there and a warning says so), and to the supervisor fiber. The
   * `Outcome` object itself is built only if someone reads it.
   */
  finish(entry: Entry, tag: OutcomeTag, exit: Exit.Exit<unknown, unknown>, endedAt: number): void {
    entry.state = "done"
    entry.tag = tag
    entry.exit = exit
    entry.endedAt = endedAt
    count(this.counters, tag)
    count(entry.pool.counters, tag)
    if (entry.attempt > 0) {
      this.history.duration(endedAt - entry.startedAt)
      const durations = entry.pool.durations // defined only with metrics
      if (durations !== undefined && durations.push(endedAt - entry.startedAt) >= MaxPendingDurations)
        this.metrics?.publish()
    }
    // interruptions (a shutdown cancels thousands) would push the real failures out
    if (tag === "Failure" || tag === "TimedOut") this.history.failure(outcomeOf(this, entry))
    const more = entry.more
    if (more !== undefined) {
      if (more.userId !== undefined) this.forgetId(entry)
      const awaiters = more.awaiters
      if (awaiters !== undefined) {
        more.awaiters = undefined
        for (const resume of awaiters) this.notices.push(() => resume(exit))
      }
      const reportTo = more.reportTo
      if (reportTo !== undefined) {
        try {
          Chan.putUnsafe(reportTo, outcomeOf(this, entry), (delivered) => {
            if (!delivered) this.warnReport(entry, "the channel is closed")
          })
        } catch (defect) {
          this.warnReport(entry, defect)
        }
      }
    }
    if (tag === "Success" && !this.successLogged && this.taps === 0) {
      // nothing to write and nobody to tell: done here, without waking the supervisor fiber
      this.logged()
      return
    }
    this.toLog.push(entry)
    this.wakeLogger()
  }

  /** Has the supervisor fiber write that `entry`'s outcome could not be put on its `reportTo`. */
  warnReport(entry: Entry, reason: unknown): void {
    const message = `job ${entry.name}: its outcome could not be put on reportTo`
    this.warn(
      (typeof reason === "string"
        ? Effect.logWarning(`${message}: ${reason}`)
        : Effect.logWarning(message, reason)
      ).pipe(Effect.annotateLogs(jobAnnotations(entry)))
    )
  }

  /** Has the supervisor fiber write `line` (a warning) before the next outcome lines. */
  warn(line: Effect.Effect<void>): void {
    this.warnings.push(line)
    this.wakeLogger()
  }

  // ── stalls (stall.ts) ──

  /** An entry could not start at once while some job waits for jobs: a limit it needs may be stalled. */
  override blocked(entry: Entry): void {
    for (const stall of stallsOf(this, entry.lane)) this.warn(stallLine(stall))
  }

  /** A job ended: a wait it could have decided may now be stuck (the limits of each waiting job). */
  override endedWhileWaiting(): void {
    for (const entry of this.running)
      if (entry.more?.waits !== undefined) for (const stall of stallsOf(this, entry.lane)) this.warn(stallLine(stall))
  }

  /** A resume may show a stall the pause hid. */
  override setPaused(pool: Pool | undefined, paused: boolean): void {
    super.setPaused(pool, paused)
    if (!paused && this.waitingOnJobs > 0)
      for (const stall of stallsAfterResume(this, pool === undefined ? this.pools.values() : [pool]))
        this.warn(stallLine(stall))
  }

  /**
   * `effect`, run in a fiber of a job of this supervisor to wait for the entries `waits` gives,
   * counted as such while it runs (`stall.ts`), so a limit whose every slot is held by jobs waiting
   * for jobs that need it gets its warn line. In any other fiber, `effect` as it is.
   */
  waitingFor<A, E, R>(waits: () => Iterable<Entry>, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.withFiber((fiber) => {
      // a fiber of the job: its own, or one it forked (its body under a timeout, Effect.timeout),
      // which share the annotations object it started with — a job of another supervisor with the
      // same id, name and pool has another one
      const annotations = fiber.getRef(References.CurrentLogAnnotations)
      const id = annotations["job.id"]
      const waiting = typeof id === "string" ? this.runningEntry(id) : undefined
      if (waiting === undefined || (annotations !== waiting.logAnnotations && waiting.fiber !== fiber)) return effect
      beginWaiting(this, waiting, waits)
      for (const stall of stallsOf(this, waiting.lane)) this.warn(stallLine(stall))
      return Effect.ensuring(
        effect,
        Effect.sync(() => endWaiting(this, waiting, waits))
      )
    })
  }

  // ── the supervisor fiber's side ──

  /** Resumes the supervisor fiber from a scheduler task, once per batch of outcomes. */
  wakeLogger(): void {
    if (this.loggerResume === undefined || this.loggerWakeScheduled) return
    this.loggerWakeScheduled = true
    this.dispatcher.scheduleTask(() => {
      this.loggerWakeScheduled = false
      const resume = this.loggerResume
      this.loggerResume = undefined
      resume?.()
    }, 0)
  }

  /** Resolves `drain` waiters once nothing is left to log. Called by the supervisor fiber. */
  logged(): void {
    this.unlogged--
    if (this.unlogged === 0 && this.drainWaiters.length > 0) {
      for (const w of this.drainWaiters) this.notices.push(w)
      this.drainWaiters = []
      this.notify()
    }
  }

  /** Waits until no job is waiting, queued or running and every outcome is logged. */
  readonly drain: Effect.Effect<void> = Effect.callback<void>((resume) => {
    if (this.unlogged === 0) return resume(Effect.void)
    const waiter = () => resume(Effect.void)
    this.drainWaiters.push(waiter)
    return Effect.sync(() => {
      const i = this.drainWaiters.indexOf(waiter)
      if (i >= 0) this.drainWaiters.splice(i, 1)
    })
  })
}

const count = (counters: OutcomeCounts, tag: OutcomeTag): void => {
  switch (tag) {
    case "Success":
      counters.succeeded++
      break
    case "Failure":
      counters.failed++
      break
    case "Interrupted":
      counters.interrupted++
      break
    case "TimedOut":
      counters.timedOut++
  }
}

// ── the job's program ───────────────────────────────────────────────────────

/** The outcome of a finished entry (built once, on first use). */
export const outcomeOf = (state: SupervisorState, entry: Entry): Outcome => {
  if (entry.outcome !== undefined) return entry.outcome
  const o: {
    -readonly [K in keyof Outcome]: Outcome[K]
  } = {
    _tag: entry.tag,
    id: entry.id,
    name: entry.name,
    pool: entry.pool.name,
    attempt: entry.attempt,
    startedAt: state.epoch + entry.startedAt,
    endedAt: state.epoch + entry.endedAt,
    durationMillis: entry.endedAt - entry.startedAt,
    exit: entry.exit!
  }
  if (entry.key !== undefined) o.key = entry.key
  if (entry.annotations !== undefined) o.annotations = entry.annotations
  const defined = definedOf(entry.work)
  if (defined !== undefined) o.payload = defined.encoded
  entry.outcome = o
  return o
}

/**
 * The outcome of an entry that was never admitted (a group's work left when the supervisor shut
 * down or the group was cancelled): "Interrupted", attempt 0, now. The entry is not counted or
 * logged by the supervisor: it never was one of its jobs.
 */
export const unstartedOutcome = (state: SupervisorState, entry: Entry): Outcome => {
  const now = state.now()
  entry.state = "done"
  entry.tag = "Interrupted"
  entry.exit = Exit.interrupt()
  entry.admittedAt = entry.startedAt = entry.endedAt = now
  return outcomeOf(state, entry)
}
