/**
 * The runner: makes the fiber of every started job and observes its end. A job's fiber is made
 * directly (`Effect.runForkWith`) with the caller's context plus the job's log annotations, and
 * observed: its exit runs `ended` synchronously — no wrapper fiber, no `Deferred`, no channel
 * operation per job. Fibers are made only by `flush`, a trampoline: a job that ends inside `flush`
 * (it finished synchronously) queues its successor in `toStart` and returns, so no stack frame
 * nests per job; each `flush` makes at most `MaxStartsPerFlush` fibers and leaves the rest to a
 * scheduler task, so a stream of synchronous jobs cannot starve timers and I/O.
 *
 * Invariants (numbered in the supervisor's one list, which runs across its parts: see
 * `supervisor.ts`):
 * 5. Every admitted entry ends in exactly one `Outcome`, made by `finish` (the outcomes part) —
 *    from its fiber's exit (`ended`), or without a fiber when it is cancelled while queued
 *    (`cancelQueued`) or delayed (`cancelDelayed`), or interrupted before its fiber was made
 *    (`flush`). A delayed entry is in `delayed` with its timer until it is admitted or cancelled.
 * 6. Fibers waiting for an outcome or for `drain` are resumed (`notify`) only after the section
 *    that produced it has freed the job's slots: they never see a done job still running.
 * 16. A job that retries keeps its slots (global, pool, key) from its start to its outcome: while
 *    it waits out a retry delay, and while a later attempt waits for its pool's token (invariant
 *    15). Every attempt after the first takes a token of a pool with a rate before it runs.
 *
 * @internal
 */
import { LostLines } from "@tributary/pino"
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as References from "effect/References"
import * as Schedule from "effect/Schedule"
import type * as Scheduler from "effect/Scheduler"
import type { OutcomeTag } from "../Outcome.js"
import { Admission } from "./admission.js"
import { jobAnnotations, logContained, throughSupervisorLoggers } from "./lines.js"
import type { Entry, Pool, ResolvedConfig } from "./model.js"
import { EntryQueue } from "./queues.js"
import { SharedBases } from "./sharedDispatch.js"

/** Fibers made by one `flush` before the rest is left to a scheduler task. */
const MaxStartsPerFlush = 1024

/** The runner part of a supervisor's state; see the invariants at the top of this file. */
export abstract class Runner extends Admission {
  /** a `flush` is on the stack */
  flushing = false
  /** a `flush` is scheduled on `dispatcher` */
  flushScheduled = false
  /** entries waiting out their `delay` (admitted when it ends), oldest first */
  readonly delayed = new EntryQueue<Entry>()
  /** the burst reports of `counters.linesLost` on stderr */
  readonly lostLines = new LostLines("@tributary/jobs supervisor")
  /** the caller context `jobContext` saw last, and what it derived from it */
  private lastCaller: Context.Context<never> | undefined = undefined
  /** the caller's context with the shared dispatcher (see sharedDispatch.ts) */
  private lastBase: Context.Context<never> = Context.empty()
  private readonly bases = new SharedBases()
  /** undefined when the caller has no annotations */
  private lastCallerAnnotations: Readonly<Record<string, unknown>> | undefined = undefined

  constructor(
    config: ResolvedConfig,
    clock: Clock.Clock,
    /** the supervisor's own services (its Clock, logger, scheduler): refill timers run with them */
    readonly context: Context.Context<never>,
    /** runs `flush` and wakes the supervisor fiber */
    readonly dispatcher: Scheduler.SchedulerDispatcher
  ) {
    super(config, clock)
  }

  /** Arms one timer that relinks `pool` when its next token is due (Effect `Clock` time). */
  armRefill(pool: Pool): void {
    if (pool.refill !== undefined || pool.rateLimit === Number.POSITIVE_INFINITY) return
    const timer = Effect.andThen(
      Effect.sleep(this.millisToTokens(pool, 1)),
      Effect.sync(() => {
        pool.refill = undefined
        this.relinkPool(pool)
        this.pump(this.now())
        this.flush()
      })
    )
    pool.refill = Effect.runForkWith(this.context)(timer)
  }

  // ── starting ──

  /** Makes the fibers of started entries (see "How jobs run" at the top); re-entrant calls return at once. */
  flush(): void {
    if (this.flushing) return
    this.flushing = true
    try {
      for (let made = 0; this.toStart.head !== undefined; made++) {
        if (made === MaxStartsPerFlush) {
          this.scheduleFlush()
          return
        }
        const entry = this.toStart.shift()!
        if (entry.interruptRequested) this.ended(entry, Exit.interrupt(), true)
        else this.start(entry)
      }
    } finally {
      this.flushing = false
    }
  }

  /** Runs `flush` from a scheduler task (once, however many entries wait). */
  scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    this.dispatcher.scheduleTask(() => {
      this.flushScheduled = false
      this.flush()
    }, 0)
  }

  /** Makes the fiber of `entry` and observes its exit. */
  start(entry: Entry): void {
    let program = entry.work
    const more = entry.more
    if (more?.retry === undefined) entry.attempt = 1
    else program = attempts(this, entry)
    if (more?.timeout !== undefined) program = withTimeout(entry, program, more.timeout)
    // the caller's context holds whatever `work` requires (`fire` asked for it in its own `R`)
    const fiber = Effect.runForkWith(this.jobContext(entry))(program as Effect.Effect<unknown, unknown>)
    entry.fiber = fiber
    // the job's first run (inside `runForkWith`) may have woken a caller that asked for an interrupt
    // before the fiber was known (`interruptUnsafe` could only mark the entry): deliver it now
    if (entry.interruptRequested) fiber.interruptUnsafe()
    const exit = fiber.pollUnsafe()
    // a job that finished within its first run needs no observer (what `addObserver` would do, without the closure)
    if (exit !== undefined) this.ended(entry, exit, false)
    else fiber.addObserver((exit) => this.ended(entry, exit, false))
  }

  /**
   * The context of `entry`'s fiber: the caller's, with the job's log annotations added to the
   * caller's, and the dispatcher all jobs share (`SharedBases`).
   */
  jobContext(entry: Entry): Context.Context<never> {
    const caller = entry.context
    if (caller !== this.lastCaller) {
      // jobs fired in a loop share their caller's context: look its annotations up once
      this.lastCaller = caller
      this.lastBase = this.bases.of(caller)
      const annotations = Context.get(caller, References.CurrentLogAnnotations)
      this.lastCallerAnnotations = Object.keys(annotations).length === 0 ? undefined : annotations
    }
    const base = this.lastCallerAnnotations
    const annotations =
      base === undefined && entry.more === undefined && entry.key === undefined
        ? { "job.id": entry.id, "job.name": entry.name, "job.pool": entry.pool.name } // the common case, one shape
        : jobAnnotations(entry, base)
    entry.logAnnotations = annotations // what tells the job's fibers from another's (`waitingFor`)
    return Context.add(this.lastBase, References.CurrentLogAnnotations, annotations)
  }

  // ── ending ──

  /** The end of a started entry: its one outcome, its slots freed, the next jobs started (at the same Clock time). */
  ended(entry: Entry, exit: Exit.Exit<unknown, unknown>, neverRan: boolean): void {
    const now = this.now()
    if (neverRan) entry.attempt = 0
    this.settling++
    this.finish(entry, entry.timedOut ? "TimedOut" : classify(exit), exit, now)
    // a group this outcome decides ends its queued works before the slot is handed on
    entry.more?.decide?.(entry)
    this.release(entry)
    this.pump(now)
    // a job of a "failFast"/"firstSuccess" group that did not decide it: its caller, if it waits,
    // may now wait only for jobs that cannot start
    if (this.waitingOnJobs > 0 && entry.more?.decide !== undefined) this.endedWhileWaiting()
    this.settling--
    this.notify()
    this.flush()
  }

  /**
   * Ends a queued entry without running it: its outcome is "Interrupted", attempt 0. `taken`: the
   * entry was already taken out of its lane (`takeQueued`).
   */
  cancelQueued(entry: Entry, taken = false): void {
    if (entry.state !== "queued") return
    this.queued--
    if (!taken) entry.lane.drop(entry)
    const now = this.now()
    entry.startedAt = now
    this.settling++
    this.finish(entry, "Interrupted", Exit.interrupt(), now)
    this.pump(now)
    this.collect(entry.lane)
    this.settling--
    this.notify()
    this.flush()
  }

  /**
   * Runs the resumptions owed to fibers waiting for an outcome or for `drain` — only outside a
   * settling section (`ended`, `cancelQueued`), so a woken fiber never sees a job that has an
   * outcome but still holds its slot.
   */
  notify(): void {
    if (this.settling > 0) return
    while (this.notices.length > 0) {
      const notices = this.notices
      this.notices = []
      for (const notice of notices) notice()
    }
  }
  /** resumptions owed to waiting fibers, run by `notify` (the outcomes part adds to it) */
  notices: Array<() => void> = []
  /** > 0 while `ended` or `cancelQueued` is changing the state */
  private settling = 0

  /** Interrupts `entry` wherever it is, and waits for its outcome. */
  interruptEntry(entry: Entry): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.interruptUnsafe(entry)
      return Effect.asVoid(awaitEntry(entry))
    })
  }

  /** Cancels a queued entry, or interrupts a running one (before its fiber exists: `flush` ends it unrun). */
  interruptUnsafe(entry: Entry): void {
    if (entry.state === "queued") this.cancelQueued(entry)
    else if (entry.state === "delayed") this.cancelDelayed(entry)
    else if (entry.state === "running") {
      if (entry.fiber === undefined) entry.interruptRequested = true
      else entry.fiber.interruptUnsafe()
    }
  }

  // ── delays ──

  /**
   * Holds `entry` for `millis` of Clock time without a slot or a queue place, then admits it
   * (`endDelay`). It counts in `unlogged` from now, so `drain` waits for it.
   */
  delay(entry: Entry, millis: number): void {
    entry.state = "delayed"
    entry.admittedAt = this.now()
    this.unlogged++
    const userId = entry.more?.userId
    if (userId !== undefined) this.byId.set(userId, entry)
    this.delayed.push(entry)
    entry.extra().delayTimer = Effect.runForkWith(this.context)(
      Effect.andThen(
        Effect.sleep(millis),
        Effect.sync(() => this.endDelay(entry))
      )
    )
  }

  /**
   * The end of `entry`'s delay: it starts if it can, else joins its lane's queue (even a full one:
   * it was accepted when fired); after shutdown began it is cancelled instead.
   */
  endDelay(entry: Entry): void {
    if (entry.state !== "delayed") return
    entry.more!.delayTimer = undefined
    if (this.closed) {
      this.cancelDelayed(entry)
      return
    }
    this.delayed.remove(entry)
    entry.state = "waiting"
    if (this.canStartIn(entry.lane)) {
      this.markStarted(entry, this.now())
      this.flush()
    } else {
      this.enqueue(entry)
      if (this.waitingOnJobs > 0) this.blocked(entry)
    }
  }

  /** Ends a delayed entry without running it: its outcome is "Interrupted", attempt 0. */
  cancelDelayed(entry: Entry): void {
    if (entry.state !== "delayed") return
    this.delayed.remove(entry)
    entry.more!.delayTimer?.interruptUnsafe()
    entry.more!.delayTimer = undefined
    const now = this.now()
    entry.startedAt = now
    this.settling++
    this.finish(entry, "Interrupted", Exit.interrupt(), now)
    this.settling--
    this.notify()
    this.flush()
  }

  /** The one outcome of `entry` (the outcomes part's; invariant 5). */
  abstract finish(entry: Entry, tag: OutcomeTag, exit: Exit.Exit<unknown, unknown>, endedAt: number): void
}

/** `entry`'s attempts while its `retry` schedule allows: each after the first takes a pool token (invariant 16). */
const attempts = (state: Runner, entry: Entry): Effect.Effect<unknown, unknown, any> => {
  const retry = entry.more!.retry!
  const pool = entry.pool
  const once = Effect.suspend(() => {
    entry.attempt++
    return Effect.exit(entry.work)
  })
  // the first attempt took its token when it started (`markStarted`)
  const again = pool.rateLimit === Number.POSITIVE_INFINITY ? once : Effect.andThen(retryToken(state, pool), once)
  return Effect.gen(function* () {
    const step = yield* Schedule.toStep(retry)
    let next = once
    while (true) {
      const exit = yield* next
      next = again
      if (Exit.isSuccess(exit)) return exit.value
      const cause = exit.cause
      const error = Cause.findErrorOption(cause)
      if (Option.isNone(error) || Cause.hasDies(cause) || Cause.hasInterrupts(cause)) return yield* exit
      const decision = yield* Effect.exit(step(state.clock.currentTimeMillisUnsafe(), error.value))
      if (Exit.isFailure(decision)) return yield* exit // the schedule is done (or failed): the last failure stands
      const delay = decision.value[1]
      yield* logContained(
        state,
        throughSupervisorLoggers(
          state.context,
          Effect.logWarning(`job ${entry.name} attempt ${entry.attempt} failed; retrying`, cause).pipe(
            Effect.annotateLogs({ attempt: entry.attempt, retryInMillis: Duration.toMillis(delay) })
          )
        )
      )
      yield* Effect.sleep(delay)
    }
  })
}

/**
 * Takes a token of `pool` (which has a rate) for a retried attempt, first waiting on the
 * supervisor's Clock, the job keeping its slots, until one is due (queued jobs may take it first).
 */
const retryToken = (state: Runner, pool: Pool): Effect.Effect<void> => {
  const take: Effect.Effect<void> = Effect.suspend(() => {
    const wait = state.takeRetryToken(pool)
    return wait === 0 ? Effect.void : Effect.andThen(state.clock.sleep(Duration.millis(wait)), take)
  })
  return take
}

/** Bounds `program` by `timeout`: when it passes, the job is marked timed out and interrupts itself. */
const withTimeout = (
  entry: Entry,
  program: Effect.Effect<unknown, unknown, any>,
  timeout: Duration.Duration
): Effect.Effect<unknown, unknown, any> =>
  Effect.flatMap(Effect.timeoutOption(program, timeout), (result) => {
    if (Option.isSome(result)) return Effect.succeed(result.value)
    entry.timedOut = true
    return Effect.interrupt
  })

const classify = (exit: Exit.Exit<unknown, unknown>): OutcomeTag => {
  if (Exit.isSuccess(exit)) return "Success"
  return Cause.hasInterruptsOnly(exit.cause) ? "Interrupted" : "Failure"
}

/** Waits for the entry's end: its exit. */
export const awaitEntry = (entry: Entry): Effect.Effect<Exit.Exit<unknown, unknown>> =>
  Effect.callback<Exit.Exit<unknown, unknown>>((resume) => {
    if (entry.exit !== undefined) return resume(Effect.succeed(entry.exit))
    const awaiter = (exit: Exit.Exit<unknown, unknown>) => resume(Effect.succeed(exit))
    if (entry.awaiters === undefined) entry.awaiters = [awaiter]
    else entry.awaiters.push(awaiter)
    return Effect.sync(() => {
      const i = entry.awaiters?.indexOf(awaiter) ?? -1
      if (i >= 0) entry.awaiters!.splice(i, 1)
    })
  })
