/**
 * The supervisor's state machine: admission (global, pool, per-key and rate limits; the queue and
 * the `whenFull` policies), the job wrapper that turns every ending into exactly one `Outcome`, the
 * supervisor fiber that logs outcomes, drain and shutdown. `Supervisor.ts` and `Job.ts` are thin
 * Effect APIs over this file.
 *
 * Invariants (true whenever no synchronous section of this file is executing):
 * 1. `running.size <= concurrency`; for every pool `pool.running <= pool.concurrency`; for every
 *    keyed lane `lane.running <= pool.perKey`. Counts change only in `markStarted` (+1) and
 *    `release` (-1).
 * 2. `queued` is the number of entries in state "queued" (not cancelled); `queued <= maxQueued`.
 *    Entries beyond that wait in `overflow` (their `fire` suspended, `whenFull: "wait"`) and are
 *    not admitted: they count nowhere else.
 * 3. A lane is in its pool's ring iff `lane.inRing`; a pool is in `ring` iff `pool.inRing`. A lane
 *    with a waiting entry whose key has room is in its pool's ring, and a pool with a lane in its
 *    ring and room (concurrency and a token) is in `ring` — except between a change and the
 *    `relink` that follows it in the same synchronous section.
 * 4. After every `pump`, either `running.size === concurrency` or no queued entry can start (its
 *    pool or its key is at its cap, or its pool has no token). So a new job that can start at
 *    once takes no queue slot and overtakes no queued job of its own lane.
 * 5. Every admitted entry ends in exactly one `Outcome`, put once on `outcomes` (and `reportTo`),
 *    by its own fiber (`runEntry`) or, if it never started, by `cancelQueued`; `state` becomes
 *    "done" at that moment and never changes again. `unlogged` counts admitted entries whose
 *    outcome the supervisor fiber has not logged yet.
 *
 * Cost: every step of `pump` starts a job or removes a lane or pool from a ring; lanes and pools
 * re-enter rings only on a job's start, end or admission or a token refill. Admission is O(1)
 * amortized per job. Jobs are forked (not resumed inline), so a job that ends and starts the next
 * one never nests a stack frame per job.
 *
 * @internal
 */
import { Buffer, Chan, type Mult, type WritePort } from "@tributary/channel"
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scheduler from "effect/Scheduler"
import * as Scope from "effect/Scope"
import type * as Job from "../Job.js"
import { SupervisorClosedError, SupervisorFullError } from "../SupervisorError.js"

// ── models ──────────────────────────────────────────────────────────────────

/** The supervisor configuration with every default filled in. */
export interface ResolvedConfig {
  readonly name: string
  readonly concurrency: number
  readonly maxQueued: number
  readonly whenFull: "wait" | "fail" | "drop"
  readonly pools: Record<string, PoolConfigInput>
  readonly logSuccess: LogLevel.Severity
  readonly graceMillis: number
}

/** The configuration of one pool, as given by the user. */
export interface PoolConfigInput {
  readonly concurrency?: number
  readonly perKey?: number
  readonly rate?: { readonly limit: number; readonly interval: Duration.Input }
}

/** Counters of the supervisor's lifetime. */
export interface Counters {
  started: number
  succeeded: number
  failed: number
  interrupted: number
  timedOut: number
  dropped: number
}

/** What `admit` does when the queue is full. */
export type FullPolicy = "wait" | "fail" | "drop"

/** The job's options, after the public `Job.Options` were read. */
export interface EntryOptions {
  readonly name: string
  readonly pool: string | undefined
  readonly key: string | undefined
  readonly timeout: Duration.Duration | undefined
  readonly retry: Schedule.Schedule<unknown, any> | undefined
  readonly reportTo: WritePort<Job.Outcome<any, any>> | undefined
  readonly annotations: Record<string, unknown> | undefined
}

/** One job, from `admit` to its outcome. */
export class Entry {
  state: "waiting" | "queued" | "running" | "done" = "waiting"
  fiber: Fiber.Fiber<void> | undefined = undefined
  /** Set by `interruptEntry` before the fiber exists; the fiber is interrupted as soon as it does. */
  interruptRequested = false
  attempt = 0
  admittedAt = 0
  startedAt = 0
  /** Resumes the `fire` suspended in `overflow`; cleared once resumed or withdrawn. */
  wake: ((admitted: boolean) => void) | undefined = undefined
  readonly done: Deferred.Deferred<Exit.Exit<unknown, unknown>> = Deferred.makeUnsafe()
  constructor(
    readonly id: string,
    readonly options: EntryOptions,
    readonly pool: Pool,
    readonly lane: Lane,
    /** the work, with the caller's context provided */
    readonly work: Effect.Effect<unknown, unknown>
  ) {}
}

/** The waiting entries of one key of a pool (or the pool's keyless entries), FIFO. */
export class Lane {
  readonly waiting = new Fifo<Entry>()
  running = 0
  inRing = false
  constructor(
    readonly pool: Pool,
    readonly key: string | undefined
  ) {}
}

/** A pool: its limits, its lanes and its token bucket. */
export class Pool {
  running = 0
  inRing = false
  readonly lanes = new Map<string | undefined, Lane>()
  readonly ring = new Fifo<Lane>()
  tokens: number
  refilledAt = 0
  refillScheduled = false
  readonly concurrency: number
  readonly perKey: number
  readonly rateLimit: number
  readonly rateIntervalMillis: number
  constructor(
    readonly name: string,
    config: PoolConfigInput
  ) {
    this.concurrency = config.concurrency ?? Number.POSITIVE_INFINITY
    this.perKey = config.perKey ?? Number.POSITIVE_INFINITY
    this.rateLimit = config.rate?.limit ?? Number.POSITIVE_INFINITY
    this.rateIntervalMillis = config.rate ? Duration.toMillis(Duration.fromInputUnsafe(config.rate.interval)) : 0
    this.tokens = this.rateLimit
  }
}

// ── the supervisor ──────────────────────────────────────────────────────────

/** The state of one supervisor; see the invariants at the top of this file. */
export class SupervisorState {
  closed = false
  readonly running = new Set<Entry>()
  queued = 0
  /** live entries in `overflow` (withdrawn ones stay there until `pump` skips them) */
  waiting = 0
  unlogged = 0
  nextId = 0
  readonly overflow = new Fifo<Entry>()
  readonly ring = new Fifo<Pool>()
  readonly pools = new Map<string, Pool>()
  readonly counters: Counters = { started: 0, succeeded: 0, failed: 0, interrupted: 0, timedOut: 0, dropped: 0 }
  /** Resumed when `unlogged` reaches 0. */
  drainWaiters: Array<() => void> = []
  shutdownDone: Deferred.Deferred<void> | undefined = undefined
  /** the supervisor fiber, once started */
  logger: Fiber.Fiber<void> | undefined = undefined

  constructor(
    readonly config: ResolvedConfig,
    readonly clock: Clock.Clock,
    /** owns every job fiber and the supervisor fiber */
    readonly scope: Scope.Closeable,
    /** every outcome, taken only by the supervisor fiber */
    readonly outcomes: Chan.Chan<Job.Outcome>,
    /** the supervisor fiber forwards each logged outcome here, for the taps */
    readonly published: Chan.Chan<Job.Outcome>,
    readonly mult: Mult.Mult<Job.Outcome>
  ) {
    this.pools.set("default", new Pool("default", {}))
    for (const [name, pool] of Object.entries(config.pools)) this.pools.set(name, new Pool(name, pool))
  }

  /** Builds an entry (not admitted yet); unknown pools die with a defect. */
  entry(work: Effect.Effect<unknown, unknown>, options: EntryOptions): Entry {
    const poolName = options.pool ?? "default"
    const pool = this.pools.get(poolName)
    if (pool === undefined) throw new Error(`supervisor "${this.config.name}" has no pool "${poolName}"`)
    let lane = pool.lanes.get(options.key)
    if (lane === undefined) {
      lane = new Lane(pool, options.key)
      pool.lanes.set(options.key, lane)
    }
    return new Entry(String(++this.nextId), options, pool, lane, work)
  }

  // ── limits ──

  /** Refills `pool`'s token bucket up to now; burst = limit. */
  refill(pool: Pool): void {
    if (pool.rateLimit === Number.POSITIVE_INFINITY) return
    const now = this.clock.currentTimeMillisUnsafe()
    const earned = ((now - pool.refilledAt) * pool.rateLimit) / pool.rateIntervalMillis
    pool.tokens = Math.min(pool.rateLimit, pool.tokens + earned)
    pool.refilledAt = now
  }

  /** Whether `pool` can start one more job now (concurrency and a token). */
  poolOpen(pool: Pool): boolean {
    if (pool.running >= pool.concurrency) return false
    this.refill(pool)
    return pool.tokens >= 1
  }

  /** Whether `lane`'s key has room for one more running job. */
  laneOpen(lane: Lane): boolean {
    return lane.key === undefined || lane.running < lane.pool.perKey
  }

  /** The oldest live waiting entry of `lane`, dropping cancelled ones from its head. */
  head(lane: Lane): Entry | undefined {
    let e = lane.waiting.peek()
    while (e !== undefined && e.state !== "queued") {
      lane.waiting.shift()
      e = lane.waiting.peek()
    }
    return e
  }

  /** Puts `lane` back in its pool's ring and the pool in the ring when invariant 3 asks for it. */
  relink(lane: Lane): void {
    if (!lane.inRing && this.head(lane) !== undefined && this.laneOpen(lane)) {
      lane.inRing = true
      lane.pool.ring.push(lane)
    }
    this.relinkPool(lane.pool)
  }

  /** Puts `pool` back in the ring when it has a ready lane and room; schedules a refill if only a token is missing. */
  relinkPool(pool: Pool): void {
    if (pool.inRing || pool.ring.size === 0) return
    if (this.poolOpen(pool)) {
      pool.inRing = true
      this.ring.push(pool)
    } else if (pool.running < pool.concurrency) this.scheduleRefill(pool)
  }

  /** Forgets a lane with nothing waiting or running (keys must not leak). */
  collect(lane: Lane): void {
    if (lane.running === 0 && !lane.inRing && this.head(lane) === undefined) lane.pool.lanes.delete(lane.key)
  }

  /** Whether `entry` may start at once (invariant 4 makes this FIFO-safe). */
  canStartNow(entry: Entry): boolean {
    return (
      this.running.size < this.config.concurrency &&
      this.head(entry.lane) === undefined &&
      this.laneOpen(entry.lane) &&
      this.poolOpen(entry.pool)
    )
  }

  // ── admission ──

  /**
   * Admits `entry`: starts it, queues it, or applies `policy` when the queue is full. Returns the
   * entries to fork (`startAll`), or a verdict for the caller: "full", "dropped", "wait" (the entry
   * is in `overflow`; set `entry.wake`).
   */
  admit(entry: Entry, policy: FullPolicy): Array<Entry> | "full" | "dropped" | "wait" {
    entry.admittedAt = this.clock.currentTimeMillisUnsafe()
    if (this.canStartNow(entry)) {
      this.unlogged++
      this.markStarted(entry)
      return [entry]
    }
    if (this.queued < this.config.maxQueued && this.waiting === 0) {
      this.unlogged++
      this.enqueue(entry)
      return []
    }
    if (policy === "fail") return "full"
    if (policy === "drop") {
      this.counters.dropped++
      return "dropped"
    }
    this.overflow.push(entry)
    this.waiting++
    return "wait"
  }

  /** Precondition: room in the queue. */
  enqueue(entry: Entry): void {
    entry.state = "queued"
    this.queued++
    entry.lane.waiting.push(entry)
    this.relink(entry.lane)
  }

  /** Precondition: `entry` may start (limits checked). */
  markStarted(entry: Entry): void {
    if (entry.state === "queued") this.queued--
    entry.state = "running"
    entry.startedAt = this.clock.currentTimeMillisUnsafe()
    this.running.add(entry)
    entry.pool.running++
    entry.lane.running++
    entry.pool.tokens -= entry.pool.rateLimit === Number.POSITIVE_INFINITY ? 0 : 1
    this.counters.started++
  }

  /** Starts queued entries while limits allow, then moves waiting `fire`s into freed queue slots. */
  pump(): Array<Entry> {
    const started: Array<Entry> = []
    while (this.running.size < this.config.concurrency) {
      const pool = this.ring.peek()
      if (pool === undefined) break
      if (!this.poolOpen(pool) || pool.ring.size === 0) {
        this.ring.shift()
        pool.inRing = false
        this.relinkPool(pool)
        continue
      }
      const lane = pool.ring.peek()!
      const entry = this.head(lane)
      pool.ring.shift()
      lane.inRing = false
      if (entry === undefined || !this.laneOpen(lane)) {
        this.collect(lane)
        continue
      }
      lane.waiting.shift()
      this.markStarted(entry)
      started.push(entry)
      this.relink(lane) // the lane to the back of its pool's ring: round-robin across keys
      this.ring.shift() // the pool to the back of the ring: round-robin across pools
      pool.inRing = false
      this.relinkPool(pool)
    }
    while (this.overflow.size > 0) {
      const entry = this.overflow.peek()!
      const wake = entry.wake
      if (wake === undefined) {
        this.overflow.shift() // withdrawn
        continue
      }
      if (this.canStartNow(entry)) {
        this.markStarted(entry)
        started.push(entry)
      } else if (this.queued < this.config.maxQueued) this.enqueue(entry)
      else break
      this.overflow.shift()
      this.unlogged++
      this.waiting--
      entry.wake = undefined
      wake(true)
    }
    return started
  }

  /** Frees `entry`'s slots after its outcome was put. */
  release(entry: Entry): void {
    this.running.delete(entry)
    entry.pool.running--
    entry.lane.running--
    this.relink(entry.lane)
    this.collect(entry.lane)
  }

  /** Arms one timer that relinks `pool` when its next token is due (Effect `Clock` time). */
  scheduleRefill(pool: Pool): void {
    if (pool.refillScheduled || pool.rateLimit === Number.POSITIVE_INFINITY) return
    pool.refillScheduled = true
    const waitMillis = Math.max(1, Math.ceil(((1 - pool.tokens) * pool.rateIntervalMillis) / pool.rateLimit))
    const timer = Effect.sleep(waitMillis).pipe(
      Effect.andThen(
        Effect.suspend(() => {
          pool.refillScheduled = false
          this.relinkPool(pool)
          return this.startAll(this.pump())
        })
      )
    )
    this.pendingTimers.push(timer)
  }

  /** Timers armed inside synchronous sections, forked by the next `startAll`. */
  pendingTimers: Array<Effect.Effect<void>> = []

  /** Forks every started entry (and pending refill timer) into the supervisor's scope. */
  startAll(started: ReadonlyArray<Entry>): Effect.Effect<void> {
    const timers = this.pendingTimers
    if (started.length === 0 && timers.length === 0) return Effect.void
    this.pendingTimers = []
    return Effect.suspend(() => {
      const forks: Array<Effect.Effect<unknown>> = []
      for (const entry of started) {
        forks.push(
          Effect.map(Effect.forkIn(runEntry(this, entry), this.scope, { uninterruptible: true }), (fiber) => {
            entry.fiber = fiber
            if (entry.interruptRequested) fiber.interruptUnsafe()
          })
        )
      }
      for (const timer of timers) forks.push(Effect.forkIn(timer, this.scope))
      return Effect.forEach(forks, (f) => f, { discard: true })
    })
  }

  // ── ending ──

  /** Ends a queued entry without running it: its outcome is "Interrupted", attempt 0. */
  cancelQueued(entry: Entry): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (entry.state !== "queued") return Effect.void
      this.queued--
      entry.state = "done"
      const now = this.clock.currentTimeMillisUnsafe()
      const outcome = makeOutcome(entry, "Interrupted", Exit.interrupt(), now, now)
      const started = this.pump()
      this.collect(entry.lane)
      return Effect.andThen(this.startAll(started), this.emit(entry, outcome))
    })
  }

  /** Interrupts `entry` wherever it is, and waits for its outcome. */
  interruptEntry(entry: Entry): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (entry.state === "queued") return this.cancelQueued(entry)
      if (entry.state === "running") {
        if (entry.fiber === undefined) entry.interruptRequested = true
        else entry.fiber.interruptUnsafe()
      }
      return Effect.asVoid(Deferred.await(entry.done))
    })
  }

  /**
   * Puts `outcome` on the supervisor's channel, then on `reportTo` (core.async `put!`: never
   * suspends, a put that finds no room waits on the channel as a pending put, so a `reportTo`
   * nobody reads holds no job slot and cannot stall shutdown); completes the entry's handle.
   * Beyond the channel's `maxPending` the outcome is not delivered there, and a warning says so.
   */
  emit(entry: Entry, outcome: Job.Outcome): Effect.Effect<void> {
    entry.state = "done"
    Deferred.doneUnsafe(entry.done, Effect.succeed(outcome.exit))
    const reportTo = entry.options.reportTo
    const toSupervisor = Chan.put(this.outcomes, outcome)
    return reportTo === undefined
      ? Effect.asVoid(toSupervisor)
      : Effect.andThen(
          toSupervisor,
          Effect.sync(() => Chan.putUnsafe(reportTo, outcome)).pipe(
            Effect.asVoid,
            Effect.catchDefect((defect) =>
              Effect.logWarning(`job ${outcome.name}: its outcome could not be put on reportTo`, defect).pipe(
                Effect.annotateLogs(jobAnnotations(entry))
              )
            )
          )
        )
  }

  /** Resolves `drain` waiters once nothing is left to log. Called by the supervisor fiber. */
  logged(): void {
    this.unlogged--
    if (this.unlogged === 0 && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters
      this.drainWaiters = []
      for (const w of waiters) w()
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

// ── the supervisor fiber ────────────────────────────────────────────────────

/** Takes every outcome, logs it (the only writer of outcome lines), counts it, publishes it to the taps. */
export const supervisorLoop = (state: SupervisorState): Effect.Effect<void> =>
  Effect.gen(function* () {
    while (true) {
      const next = yield* Chan.take(state.outcomes)
      if (Option.isNone(next)) return
      const outcome = next.value
      yield* logOutcome(state, outcome)
      count(state.counters, outcome)
      Chan.offerUnsafe(state.published, outcome)
      state.logged()
    }
  })

const count = (counters: Counters, outcome: Job.Outcome): void => {
  switch (outcome._tag) {
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

/** The annotations of every log line of a job. */
export const jobAnnotations = (entry: Entry): Record<string, unknown> => {
  const a: Record<string, unknown> = { ...entry.options.annotations }
  a["job.id"] = entry.id
  a["job.name"] = entry.options.name
  a["job.pool"] = entry.pool.name
  if (entry.options.key !== undefined) a["job.key"] = entry.options.key
  return a
}

const logOutcome = (state: SupervisorState, outcome: Job.Outcome): Effect.Effect<void> => {
  const annotations = { ...outcome.annotations }
  annotations["job.id"] = outcome.id
  annotations["job.name"] = outcome.name
  annotations["job.pool"] = outcome.pool
  if (outcome.key !== undefined) annotations["job.key"] = outcome.key
  annotations.attempt = outcome.attempt
  annotations.durationMillis = outcome.durationMillis
  annotations["job.outcome"] = outcome._tag
  const log = (() => {
    switch (outcome._tag) {
      case "Success":
        return Effect.logWithLevel(state.config.logSuccess)(`job ${outcome.name} succeeded`)
      case "Failure":
        return Exit.isFailure(outcome.exit)
          ? Effect.logError(`job ${outcome.name} failed`, outcome.exit.cause)
          : Effect.logError(`job ${outcome.name} failed`)
      case "Interrupted":
        return Effect.logWarning(`job ${outcome.name} was interrupted`)
      case "TimedOut":
        return Effect.logWarning(`job ${outcome.name} timed out`)
    }
  })()
  return Effect.annotateLogs(log, annotations)
}

// ── the job wrapper ─────────────────────────────────────────────────────────

const makeOutcome = (
  entry: Entry,
  tag: Job.OutcomeTag,
  exit: Exit.Exit<unknown, unknown>,
  startedAt: number,
  endedAt: number
): Job.Outcome => {
  const o: {
    -readonly [K in keyof Job.Outcome]: Job.Outcome[K]
  } = {
    _tag: tag,
    id: entry.id,
    name: entry.options.name,
    pool: entry.pool.name,
    attempt: entry.attempt,
    startedAt,
    endedAt,
    durationMillis: endedAt - startedAt,
    exit
  }
  if (entry.options.key !== undefined) o.key = entry.options.key
  if (entry.options.annotations !== undefined) o.annotations = entry.options.annotations
  return o
}

/** Runs the attempts of `entry` (retrying typed failures per `retry`, each failed attempt logged at Warn). */
const attempts = (state: SupervisorState, entry: Entry): Effect.Effect<Exit.Exit<unknown, unknown>> => {
  const once = Effect.suspend(() => {
    entry.attempt++
    return Effect.exit(entry.work)
  })
  const retry = entry.options.retry
  if (retry === undefined) return once
  return Effect.gen(function* () {
    const step = yield* Schedule.toStep(retry)
    while (true) {
      const exit = yield* once
      if (Exit.isSuccess(exit)) return exit
      const cause = exit.cause
      const error = Cause.findErrorOption(cause)
      if (Option.isNone(error) || Cause.hasDies(cause) || Cause.hasInterrupts(cause)) return exit
      const decision = yield* Effect.exit(step(state.clock.currentTimeMillisUnsafe(), error.value))
      if (Exit.isFailure(decision)) return exit // the schedule is done (or failed): the last failure stands
      const delay = decision.value[1]
      yield* Effect.logWarning(`job ${entry.options.name} attempt ${entry.attempt} failed; retrying`, cause).pipe(
        Effect.annotateLogs({ attempt: entry.attempt, retryInMillis: Duration.toMillis(delay) })
      )
      yield* Effect.sleep(delay)
    }
  })
}

/**
 * The fiber of one job (forked uninterruptible: an interrupt before its first step still lands in
 * the `interruptible` region below, so the outcome is always produced). Runs the attempts under the timeout, builds
 * the one outcome, emits it, frees the slot and starts whatever may start next.
 */
const runEntry = (state: SupervisorState, entry: Entry): Effect.Effect<void> =>
  Effect.uninterruptible(
    Effect.gen(function* () {
      const timeout = entry.options.timeout
      const body: Effect.Effect<Exit.Exit<unknown, unknown> | undefined> =
        timeout === undefined
          ? attempts(state, entry)
          : Effect.map(Effect.timeoutOption(attempts(state, entry), timeout), Option.getOrUndefined)
      const result = yield* Effect.exit(Effect.interruptible(Effect.annotateLogs(body, jobAnnotations(entry))))
      const endedAt = state.clock.currentTimeMillisUnsafe()
      let outcome: Job.Outcome
      if (Exit.isFailure(result)) outcome = makeOutcome(entry, classify(result), result, entry.startedAt, endedAt)
      else if (result.value === undefined)
        outcome = makeOutcome(entry, "TimedOut", Exit.interrupt(), entry.startedAt, endedAt)
      else outcome = makeOutcome(entry, classify(result.value), result.value, entry.startedAt, endedAt)
      yield* state.emit(entry, outcome)
      state.release(entry)
      yield* state.startAll(state.pump())
    })
  )

const classify = (exit: Exit.Exit<unknown, unknown>): Job.OutcomeTag => {
  if (Exit.isSuccess(exit)) return "Success"
  return Cause.hasInterruptsOnly(exit.cause) ? "Interrupted" : "Failure"
}

/** Waits for the entry's end: its exit. */
export const awaitEntry = (entry: Entry): Effect.Effect<Exit.Exit<unknown, unknown>> => Deferred.await(entry.done)

// ── shutdown ────────────────────────────────────────────────────────────────

/**
 * Stops admitting, waits up to `graceMillis` for every job, logs each straggler (running or
 * queued) by name and age, interrupts them newest first, waits for their outcomes to be logged,
 * then stops the supervisor fiber. Idempotent: a second call waits for the first.
 */
export const shutdown = (state: SupervisorState, graceMillis: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (state.shutdownDone !== undefined) return Deferred.await(state.shutdownDone)
    const done = Deferred.makeUnsafe<void>()
    state.shutdownDone = done
    state.closed = true
    while (state.overflow.size > 0) {
      const entry = state.overflow.shift()!
      const wake = entry.wake
      entry.wake = undefined
      if (wake !== undefined) state.waiting--
      wake?.(false)
    }
    return Effect.gen(function* () {
      const drained = yield* Effect.timeoutOption(state.drain, graceMillis)
      if (Option.isNone(drained)) {
        const now = state.clock.currentTimeMillisUnsafe()
        const running = [...state.running].reverse()
        const queued: Array<Entry> = []
        for (const pool of state.pools.values())
          for (const lane of pool.lanes.values()) for (const e of lane.waiting) if (e.state === "queued") queued.push(e)
        queued.sort((a, b) => Number(b.id) - Number(a.id))
        for (const entry of running)
          yield* Effect.logWarning(`job ${entry.options.name} still running at shutdown; interrupting it`).pipe(
            Effect.annotateLogs({ ...jobAnnotations(entry), ageMillis: now - entry.startedAt })
          )
        for (const entry of queued)
          yield* Effect.logWarning(`job ${entry.options.name} still queued at shutdown; cancelling it`).pipe(
            Effect.annotateLogs({ ...jobAnnotations(entry), ageMillis: now - entry.admittedAt })
          )
        for (const entry of queued) yield* state.cancelQueued(entry)
        for (const entry of running) {
          if (entry.fiber === undefined) entry.interruptRequested = true
          else entry.fiber.interruptUnsafe()
        }
        yield* state.drain
      }
      yield* Chan.close(state.outcomes)
      if (state.logger !== undefined) yield* Fiber.await(state.logger) // waits for the last line
      yield* Chan.close(state.published)
      Deferred.doneUnsafe(done, Effect.void)
    })
  })

/** Starts a supervisor: its scope, channels, mult and fiber. The caller arranges `shutdown` on release. */
export const makeState = (config: ResolvedConfig): Effect.Effect<SupervisorState, never, Scope.Scope> =>
  Effect.gen(function* () {
    const clock = yield* Effect.clockWith(Effect.succeed)
    const scope = yield* Scope.make()
    const outcomes = yield* Chan.make<Job.Outcome>(1024, { name: `${config.name}.outcomes` })
    const published = yield* Chan.make<Job.Outcome>(Buffer.sliding(1024), { name: `${config.name}.published` })
    const mult = yield* Scope.provide(Chan.mult(published), scope)
    const state = new SupervisorState(config, clock, scope, outcomes, published, mult)
    state.logger = yield* Effect.forkIn(supervisorLoop(state), scope)
    return state
  })

/** `fire` that refuses when the supervisor is closed, applies `policy`, and forks what started. */
export const admitEffect = (
  state: SupervisorState,
  entry: Entry,
  policy: FullPolicy
): Effect.Effect<"admitted" | "dropped", SupervisorClosedError | SupervisorFullError> =>
  Effect.suspend((): Effect.Effect<"admitted" | "dropped", SupervisorClosedError | SupervisorFullError> => {
    if (state.closed) return Effect.fail(new SupervisorClosedError(state.config.name))
    const verdict = state.admit(entry, policy)
    if (verdict === "full") return Effect.fail(new SupervisorFullError(state.config.name, entry.options.name))
    if (verdict === "dropped")
      return Effect.as(
        Effect.logWarning(`job ${entry.options.name} dropped: the queue is full`).pipe(
          Effect.annotateLogs(jobAnnotations(entry))
        ),
        "dropped" as const
      )
    if (verdict === "wait") return Effect.withFiber((fiber) => waitForRoom(state, entry, fiber.currentDispatcher))
    return Effect.as(state.startAll(verdict), "admitted" as const)
  })

/** A `fire` waiting for room in the queue; woken (through the caller's dispatcher) by `pump`. */
const waitForRoom = (
  state: SupervisorState,
  entry: Entry,
  dispatcher: Scheduler.SchedulerDispatcher
): Effect.Effect<"admitted", SupervisorClosedError> =>
  Effect.callback<"admitted", SupervisorClosedError>((resume) => {
    entry.wake = (admitted) =>
      // through the scheduler: a job that ends must not run the woken `fire` on its own stack
      dispatcher.scheduleTask(
        () => resume(admitted ? admittedNow : Effect.fail(new SupervisorClosedError(state.config.name))),
        0
      )
    return Effect.sync(() => {
      if (entry.wake === undefined) return
      entry.wake = undefined // withdrawn: `pump` skips it
      state.waiting--
    })
  })

// ── private helpers ─────────────────────────────────────────────────────────

const admittedNow = Effect.succeed("admitted" as const)

/** A FIFO with O(1) push and shift (an array with a moving head, compacted now and then). */
export class Fifo<A> implements Iterable<A> {
  private items: Array<A> = []
  private first = 0
  get size(): number {
    return this.items.length - this.first
  }
  push(a: A): void {
    this.items.push(a)
  }
  peek(): A | undefined {
    return this.first < this.items.length ? this.items[this.first] : undefined
  }
  shift(): A | undefined {
    if (this.first >= this.items.length) return undefined
    const a = this.items[this.first]
    this.items[this.first] = undefined as A
    this.first++
    if (this.first > 1024 && this.first * 2 > this.items.length) {
      this.items = this.items.slice(this.first)
      this.first = 0
    }
    return a
  }
  *[Symbol.iterator](): Iterator<A> {
    for (let i = this.first; i < this.items.length; i++) yield this.items[i]
  }
}
