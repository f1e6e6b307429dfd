/**
 * The supervisor's state machine: admission (global, pool, per-key and rate limits; the queue and
 * the `whenFull` policies), the start and end of every job (each ending becomes exactly one
 * `Outcome`), the supervisor fiber that logs outcomes, drain and shutdown. `Supervisor.ts` and
 * `Job.ts` are thin Effect APIs over this file.
 *
 * Invariants (true whenever no synchronous section of this file is executing):
 * 1. `running.size <= concurrency`; for every pool `pool.running <= pool.concurrency`; for every
 *    keyed lane `lane.running <= pool.perKey`. Counts change only in `markStarted` (+1) and
 *    `release` (-1). An entry is "running" from `markStarted` on, also while it waits in `toStart`
 *    for its fiber.
 * 2. `queued` is the number of entries in state "queued" (not cancelled); `queued <= maxQueued`.
 *    Entries beyond that wait in `overflow` (their `fire` suspended, `whenFull: "wait"`) and are
 *    not admitted: they count nowhere else. A cancelled or withdrawn entry leaves its queue at once.
 * 3. A lane is in its pool's ring iff `lane.inRing`; a pool is in `ring` iff `pool.inRing`. A lane
 *    with a waiting entry whose key has room is in its pool's ring, and a pool with a lane in its
 *    ring and room (concurrency and a token) is in `ring` — except between a change and the
 *    `relink` that follows it in the same synchronous section.
 * 4. After every `pump`, either `running.size === concurrency` or no queued entry can start (its
 *    pool or its key is at its cap, or its pool has no token). So a new job that can start at
 *    once takes no queue slot and overtakes no queued job of its own lane.
 * 5. Every admitted entry ends in exactly one `Outcome`, made by `finish` — from its fiber's exit
 *    (`ended`), or without a fiber when it is cancelled while queued (`cancelQueued`) or interrupted
 *    before its fiber was made (`flush`). `state` becomes "done" there and never changes again. The
 *    outcome goes to the handle's awaiters, to `reportTo`, and the entry onto `toLog`, which only the
 *    supervisor fiber reads — unless it has no line to write (a success below the minimum log
 *    level, and no tap), in which case it is done in `finish`. `unlogged` counts admitted entries
 *    not done yet in that sense. (A `reportTo` that refuses the outcome gets its own warn line,
 *    written by the supervisor fiber from `reportWarnings`.)
 * 6. Fibers waiting for an outcome or for `drain` are resumed (`notify`) only after the section
 *    that produced it has freed the job's slots: they never see a done job still running.
 *
 * How jobs run, and why it is cheap: a job's fiber is made directly (`Effect.runForkWith`) with the
 * caller's context plus the job's log annotations, and observed: its exit runs `ended`
 * synchronously — no wrapper fiber, no `Deferred`, no channel operation per job. Fibers are made
 * only by `flush`, a trampoline: a job that ends inside `flush` (it finished synchronously) queues
 * its successor in `toStart` and returns, so no stack frame nests per job; each `flush` makes at
 * most `MaxStartsPerFlush` fibers and leaves the rest to a scheduler task, so a stream of
 * synchronous jobs cannot starve timers and I/O. The supervisor fiber is woken through the
 * scheduler once per batch of outcomes, not once per outcome, and not at all for a success it
 * would not write.
 *
 * Cost: every step of `pump` starts a job or removes a lane or pool from a ring; lanes and pools
 * re-enter rings only on a job's start, end or admission or a token refill. Admission is O(1)
 * amortized per job.
 *
 * @internal
 */
import { Buffer, Chan, type Mult, type WritePort } from "@tributary/channel"
import { LostLines } from "@tributary/pino"
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as References from "effect/References"
import * as Schedule from "effect/Schedule"
import type * as Scheduler from "effect/Scheduler"
import * as Scope from "effect/Scope"
import type { Outcome, OutcomeTag } from "../Outcome.js"
import type * as Snapshot from "../Snapshot.js"
import { JobArgumentError, SupervisorClosedError, SupervisorFullError } from "../SupervisorError.js"
import { definedOf } from "./definition.js"
import { History } from "./history.js"

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

/** Counts of outcomes by kind (mutable: the supervisor's and each pool's). */
export type OutcomeCounts = { -readonly [K in keyof Snapshot.OutcomeCounts]: number }

/** Counters of the supervisor's lifetime (mutable; see `Snapshot.Counters`). */
export type Counters = { -readonly [K in keyof Snapshot.Counters]: number }

/** What `admit` does when the queue is full. */
export type FullPolicy = "wait" | "fail" | "drop"

/** What `admit` did with an entry. */
export type Verdict = "started" | "queued" | "full" | "dropped" | "wait"

/** What `state.entry` reads from a job's options (the public `Job.Options`, read in place). */
export interface EntrySpec {
  readonly name?: string | undefined
  readonly key?: string | undefined
  readonly timeout?: Duration.Input | undefined
  readonly retry?: Schedule.Schedule<unknown, any> | undefined
  readonly reportTo?: WritePort<Outcome<any, any>> | undefined
  readonly annotations?: Record<string, unknown> | undefined
}

/** The rarely needed part of an entry, made on first use: a job in a hot loop has none. */
interface EntryMore {
  timeout: Duration.Duration | undefined
  retry: Schedule.Schedule<unknown, any> | undefined
  reportTo: WritePort<Outcome<any, any>> | undefined
  annotations: Record<string, unknown> | undefined
  /** Set by `interruptUnsafe` before the fiber exists: `flush` then ends the entry without running it. */
  interruptRequested: boolean
  /** set when the job's `timeout` passed: its outcome is "TimedOut" */
  timedOut: boolean
  /** Resumes the `fire` suspended in `overflow`; cleared once resumed or withdrawn. */
  wake: ((admitted: boolean) => void) | undefined
  /** the outcome, built on first use (`outcomeOf`) */
  outcome: Outcome | undefined
  /** `awaitEntry` callers waiting for the exit */
  awaiters: Array<(exit: Exit.Exit<unknown, unknown>) => void> | undefined
}

/**
 * One job, from `admit` to its outcome. Kept small (a queued job is one of these): times are
 * Clock millis since the supervisor's `epoch` (small integers, stored unboxed), and what a plain
 * `fire` does not use lives in `more`.
 */
export class Entry {
  state: "waiting" | "queued" | "running" | "done" = "waiting"
  /** made by `flush`; undefined while the entry waits in `toStart` */
  fiber: Fiber.Fiber<unknown, unknown> | undefined = undefined
  attempt = 0
  admittedAt = 0
  startedAt = 0
  endedAt = 0
  /** how the job ended; set by `finish` */
  exit: Exit.Exit<unknown, unknown> | undefined = undefined
  tag: OutcomeTag = "Success"
  /** links of the one `EntryQueue` the entry is in (a lane's, `overflow`, `toStart` or `toLog`), if any */
  prev: Entry | undefined = undefined
  next: Entry | undefined = undefined
  /** links of `running` */
  runPrev: Entry | undefined = undefined
  runNext: Entry | undefined = undefined
  more: EntryMore | undefined = undefined
  readonly name: string
  readonly key: string | undefined
  constructor(
    /** the job's number in its supervisor (1, 2, …): admission order */
    readonly seq: number,
    readonly lane: Lane,
    /** the work; it runs with `context` */
    readonly work: Effect.Effect<unknown, unknown, any>,
    /** the caller's services, which the job's fiber gets (plus the job's log annotations) */
    readonly context: Context.Context<never>,
    spec: EntrySpec | undefined
  ) {
    this.name = spec?.name ?? definedOf(work)?.name ?? "job"
    this.key = spec?.key
    if (
      spec !== undefined &&
      (spec.timeout !== undefined ||
        spec.retry !== undefined ||
        spec.reportTo !== undefined ||
        spec.annotations !== undefined)
    ) {
      const more = this.extra()
      more.timeout = spec.timeout === undefined ? undefined : nonNegativeDuration(spec.timeout) // checked by `entry`
      more.retry = spec.retry
      more.reportTo = spec.reportTo
      more.annotations = spec.annotations
    }
  }

  /** the pool of the entry's lane */
  get pool(): Pool {
    return this.lane.pool
  }

  /** `seq` as a string: the job's id in outcomes, handles and log lines (made when first needed) */
  get id(): string {
    return (this.idString ??= decimal(this.seq))
  }
  private idString: string | undefined = undefined

  /** `more`, made if missing. */
  extra(): EntryMore {
    return (this.more ??= {
      timeout: undefined,
      retry: undefined,
      reportTo: undefined,
      annotations: undefined,
      interruptRequested: false,
      timedOut: false,
      wake: undefined,
      outcome: undefined,
      awaiters: undefined
    })
  }
  // `more`'s fields: reading one needs no `more`; writing one makes it
  get annotations(): Record<string, unknown> | undefined {
    return this.more?.annotations
  }
  get interruptRequested(): boolean {
    return this.more?.interruptRequested ?? false
  }
  set interruptRequested(value: boolean) {
    this.extra().interruptRequested = value
  }
  get timedOut(): boolean {
    return this.more?.timedOut ?? false
  }
  set timedOut(value: boolean) {
    this.extra().timedOut = value
  }
  get wake(): ((admitted: boolean) => void) | undefined {
    return this.more?.wake
  }
  set wake(value: ((admitted: boolean) => void) | undefined) {
    if (value !== undefined || this.more !== undefined) this.extra().wake = value
  }
  get outcome(): Outcome | undefined {
    return this.more?.outcome
  }
  set outcome(value: Outcome | undefined) {
    this.extra().outcome = value
  }
  get awaiters(): Array<(exit: Exit.Exit<unknown, unknown>) => void> | undefined {
    return this.more?.awaiters
  }
  set awaiters(value: Array<(exit: Exit.Exit<unknown, unknown>) => void> | undefined) {
    if (value !== undefined || this.more !== undefined) this.extra().awaiters = value
  }
}

/**
 * `String(n)` for a non-negative integer, cheaper for consecutive numbers: ids are asked for in
 * order, so the decimal string of `n / 10` is kept and only the last digit is appended.
 */
const decimal = (n: number): string => {
  const tens = Math.floor(n / 10)
  if (tens !== decimalTens) {
    decimalTens = tens
    decimalPrefix = tens === 0 ? "" : String(tens)
  }
  return decimalPrefix + digits[n - tens * 10]
}
let decimalTens = 0
let decimalPrefix = ""
const digits: ReadonlyArray<string> = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]

/** `input` as a Duration ≥ 0 (Infinity allowed), or undefined when it is not one. */
export const nonNegativeDuration = (input: unknown): Duration.Duration | undefined => {
  const d = Duration.fromInput(input as Duration.Input)
  return Option.isSome(d) && Duration.toMillis(d.value) >= 0 ? d.value : undefined
}

/**
 * Throws a JobArgumentError (its argument named `prefix` + the option) for an option of `spec`
 * that is not what `Job.Options` documents; returns when every option is acceptable.
 */
export const checkSpec = (spec: EntrySpec, prefix: string): void => {
  if (spec.name !== undefined && typeof spec.name !== "string")
    throw new JobArgumentError(`${prefix}name`, spec.name, "a string")
  if (spec.key !== undefined && typeof spec.key !== "string")
    throw new JobArgumentError(`${prefix}key`, spec.key, "a string")
  if (spec.timeout !== undefined && nonNegativeDuration(spec.timeout) === undefined)
    throw new JobArgumentError(`${prefix}timeout`, spec.timeout, "a duration ≥ 0")
  if (spec.retry !== undefined && !Schedule.isSchedule(spec.retry))
    throw new JobArgumentError(`${prefix}retry`, spec.retry, "a Schedule")
  if (spec.reportTo !== undefined && !Chan.isChan(spec.reportTo))
    throw new JobArgumentError(`${prefix}reportTo`, spec.reportTo, "a channel (WritePort)")
  if (spec.annotations !== undefined && (typeof spec.annotations !== "object" || spec.annotations === null))
    throw new JobArgumentError(`${prefix}annotations`, spec.annotations, "an object")
}

/**
 * The waiting entries of one key of a pool (or the pool's keyless entries), FIFO; its head is
 * the next to start (a cancelled entry leaves at once).
 */
export class Lane {
  readonly waiting = new EntryQueue()
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
  /** the lanes of keyed jobs, by key (a lane is forgotten when idle) */
  readonly lanes = new Map<string, Lane>()
  /** the lane of jobs without a key (never forgotten) */
  readonly keyless: Lane = new Lane(this, undefined)
  readonly ring = new Fifo<Lane>()
  tokens: number
  refilledAt = 0
  /** outcomes of this pool's jobs so far */
  readonly counters: OutcomeCounts = { succeeded: 0, failed: 0, interrupted: 0, timedOut: 0 }
  /** the fiber sleeping until the next token, if one is armed */
  refill: Fiber.Fiber<void> | undefined = undefined
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

  /** Every queued entry of this pool, lane by lane. */
  *queuedEntries(): Iterable<Entry> {
    yield* this.keyless.waiting
    for (const lane of this.lanes.values()) yield* lane.waiting
  }
}

/** The class of effect's default Clock (to tell it from a TestClock or another stand-in). */
const liveClockClass: unknown = Effect.runSync(Effect.clockWith(Effect.succeed)).constructor

/** Fibers made by one `flush` before the rest is left to a scheduler task. */
export const MaxStartsPerFlush = 1024

// ── the supervisor ──────────────────────────────────────────────────────────

/** The state of one supervisor; see the invariants at the top of this file. */
export class SupervisorState {
  closed = false
  readonly running = new RunningList()
  queued = 0
  unlogged = 0
  nextId = 0
  readonly overflow = new EntryQueue()
  readonly ring = new Fifo<Pool>()
  readonly pools = new Map<string, Pool>()
  readonly counters: Counters = {
    started: 0,
    succeeded: 0,
    failed: 0,
    interrupted: 0,
    timedOut: 0,
    dropped: 0,
    linesLost: 0
  }
  /** the last durations and failures, for `snapshot` */
  readonly history = new History()
  /** the burst reports of `counters.linesLost` on stderr */
  readonly lostLines = new LostLines("@tributary/jobs supervisor")
  /** Resumed when `unlogged` reaches 0. */
  drainWaiters: Array<() => void> = []
  shutdownDone: Deferred.Deferred<void> | undefined = undefined

  /** started entries whose fiber `flush` has not made yet */
  readonly toStart = new EntryQueue()
  /** a `flush` is on the stack */
  flushing = false
  /** a `flush` is scheduled on `dispatcher` */
  flushScheduled = false

  /** outcomes the supervisor fiber has not taken yet, oldest first */
  readonly toLog = new EntryQueue()
  /** warnings about `reportTo` the supervisor fiber writes (with the entry they concern) */
  readonly reportWarnings: Array<{ readonly entry: Entry; readonly reason: unknown }> = []
  /** resumes the supervisor fiber while it waits for outcomes */
  loggerResume: (() => void) | undefined = undefined
  loggerWakeScheduled = false
  /** set by `shutdown`: the supervisor fiber ends once `toLog` is empty */
  loggerStop = false
  /** the supervisor fiber, once started */
  logger: Fiber.Fiber<void> | undefined = undefined
  /** live `Supervisor.outcomes` taps; outcomes are published only while there is one */
  taps = 0
  readonly defaultPool: Pool
  /** the Clock's time when the supervisor was made; the times kept in entries and pools count from it */
  readonly epoch: number
  /**
   * whether success lines pass the minimum log level of the supervisor's context (the supervisor
   * fiber's): when not, a success nobody awaits, taps or receives is done in `finish`
   */
  readonly successLogged: boolean
  /** whether `clock` is effect's default (wall) Clock, which `admissionTime` may read once per run */
  private readonly liveClock: boolean
  /** the caller context `jobContext` saw last, and what it derived from it */
  private lastCaller: Context.Context<never> | undefined = undefined
  /** undefined when the caller has no annotations */
  private lastCallerAnnotations: Readonly<Record<string, unknown>> | undefined = undefined

  constructor(
    readonly config: ResolvedConfig,
    readonly clock: Clock.Clock,
    /** the supervisor's own services (its Clock, logger, scheduler): refill timers run with them */
    readonly context: Context.Context<never>,
    /** runs `flush` and wakes the supervisor fiber */
    readonly dispatcher: Scheduler.SchedulerDispatcher,
    /** owns the supervisor fiber, the mult and the groups' fibers */
    readonly scope: Scope.Closeable,
    /** the supervisor fiber forwards each logged outcome here, for the taps */
    readonly published: Chan.Chan<Outcome>,
    readonly mult: Mult.Mult<Outcome>
  ) {
    this.epoch = clock.currentTimeMillisUnsafe()
    this.successLogged = !LogLevel.isGreaterThan(Context.get(context, References.MinimumLogLevel), config.logSuccess)
    this.liveClock = clock.constructor === liveClockClass
    // a pool named "default" in the configuration limits the jobs that name no pool
    this.defaultPool = new Pool("default", config.pools.default ?? {})
    this.pools.set("default", this.defaultPool)
    for (const [name, pool] of Object.entries(config.pools))
      if (name !== "default") this.pools.set(name, new Pool(name, pool))
  }

  /** Builds an entry (not admitted yet; the only maker of entries); a bad job or option throws a JobArgumentError. */
  entry(
    work: Effect.Effect<unknown, unknown, any>,
    spec: (EntrySpec & { readonly pool?: string | undefined }) | undefined,
    context: Context.Context<never>
  ): Entry {
    if (!Effect.isEffect(work)) throw notAnEffect("work", work)
    const pool = this.poolOf(spec?.pool, "pool")
    if (spec !== undefined) checkSpec(spec, "") // before a lane is made for the key
    const key = spec?.key
    let lane = key === undefined ? pool.keyless : pool.lanes.get(key)
    if (lane === undefined) {
      lane = new Lane(pool, key)
      pool.lanes.set(key as string, lane)
    }
    return new Entry(++this.nextId, lane, work, context, spec)
  }

  /**
   * What `entry` would throw for `work` and `spec`, without building anything: a group checks
   * each of its works this way at the call site. `prefix` names where the options came from.
   */
  checkJob(
    work: unknown,
    spec: EntrySpec & { readonly pool?: string | undefined },
    workArgument: string,
    prefix: string
  ): void {
    if (!Effect.isEffect(work)) throw notAnEffect(workArgument, work)
    this.poolOf(spec.pool, `${prefix}pool`)
    checkSpec(spec, prefix)
  }

  /** The pool named `name` (the default pool for undefined), or a JobArgumentError naming `argument`. */
  poolOf(name: string | undefined, argument: string): Pool {
    const pool = name === undefined ? this.defaultPool : this.pools.get(name)
    if (pool === undefined)
      throw new JobArgumentError(
        argument,
        name,
        `one of the pools of supervisor "${this.config.name}": ${[...this.pools.keys()].join(", ")}`
      )
    return pool
  }

  /** Every queued entry of every pool, oldest (first admitted) first. */
  queuedEntries(): Array<Entry> {
    const queued: Array<Entry> = []
    for (const pool of this.pools.values()) for (const e of pool.queuedEntries()) queued.push(e)
    return queued.sort((a, b) => a.seq - b.seq)
  }

  /**
   * Clock millis since `epoch`. An integer that fits 32 bits is returned as one (`| 0`), so V8
   * keeps the entries' time fields as small integers: stored as doubles they would be boxed, one
   * heap number per field per entry (and the first double would migrate every existing entry).
   */
  now(): number {
    const t = this.clock.currentTimeMillisUnsafe() - this.epoch
    const small = t | 0
    return small === t ? small : t
  }

  /**
   * `now()` for the admission time of a job that has to wait (it only feeds ages in `snapshot` and
   * shutdown lines). With effect's live Clock one reading serves the rest of the current synchronous
   * run (dropped at the next microtask), so queueing a burst of jobs costs one clock reading, not
   * one per job (a reading costs ~80 ns here); such a time lags by at most that run's length. Any
   * other Clock (a TestClock) is read every time. Start and end times are always read exactly.
   */
  admissionTime(): number {
    if (!this.liveClock) return this.now()
    if (this.runTime === undefined) {
      this.runTime = this.now()
      queueMicrotask(this.endRun)
    }
    return this.runTime
  }
  private runTime: number | undefined = undefined
  private readonly endRun = (): void => {
    this.runTime = undefined
  }

  // ── limits ──

  /** Refills `pool`'s token bucket up to now; burst = limit. */
  refillTokens(pool: Pool): void {
    if (pool.rateLimit === Number.POSITIVE_INFINITY) return
    const now = this.now()
    const earned = ((now - pool.refilledAt) * pool.rateLimit) / pool.rateIntervalMillis
    pool.tokens = Math.min(pool.rateLimit, pool.tokens + earned)
    pool.refilledAt = now
  }

  /** Whether `pool` can start one more job now (concurrency and a token). */
  poolOpen(pool: Pool): boolean {
    if (pool.running >= pool.concurrency) return false
    this.refillTokens(pool)
    return pool.tokens >= 1 // Infinity without a rate
  }

  /** Whether `lane`'s key has room for one more running job. */
  laneOpen(lane: Lane): boolean {
    return lane.key === undefined || lane.running < lane.pool.perKey
  }

  /** Puts `lane` back in its pool's ring and the pool in the ring when invariant 3 asks for it. */
  relink(lane: Lane): void {
    if (!lane.inRing && lane.waiting.head !== undefined && this.laneOpen(lane)) {
      lane.inRing = true
      lane.pool.ring.push(lane)
    }
    this.relinkPool(lane.pool)
  }

  /** Puts `pool` back in the ring when it has a ready lane and room; arms a refill if only a token is missing. */
  relinkPool(pool: Pool): void {
    if (pool.inRing || pool.ring.size === 0) return
    if (this.poolOpen(pool)) {
      pool.inRing = true
      this.ring.push(pool)
    } else if (pool.running < pool.concurrency) this.armRefill(pool)
  }

  /** Forgets a lane with nothing waiting or running (keys must not leak). */
  collect(lane: Lane): void {
    if (lane.key !== undefined && lane.running === 0 && !lane.inRing && lane.waiting.head === undefined)
      lane.pool.lanes.delete(lane.key)
  }

  /** Whether `entry` may start at once (invariant 4 makes this FIFO-safe). */
  canStartNow(entry: Entry): boolean {
    return (
      this.running.size < this.config.concurrency &&
      entry.lane.waiting.head === undefined &&
      this.laneOpen(entry.lane) &&
      this.poolOpen(entry.pool)
    )
  }

  // ── admission ──

  /**
   * Admits `entry`: starts it (its fiber is made by the next `flush`), queues it, or applies
   * `policy` when the queue is full: "full" and "dropped" are the caller's to report; "wait" means
   * the entry is in `overflow` and the caller must set `entry.wake`.
   */
  admit(entry: Entry, policy: FullPolicy): Verdict {
    if (this.canStartNow(entry)) {
      const now = this.now()
      entry.admittedAt = now
      this.unlogged++
      this.markStarted(entry, now)
      this.scheduleFlush()
      return "started"
    }
    entry.admittedAt = this.admissionTime()
    if (this.queued < this.config.maxQueued && this.overflow.size === 0) {
      this.unlogged++
      this.enqueue(entry)
      return "queued"
    }
    if (policy === "fail") return "full"
    if (policy === "drop") {
      this.counters.dropped++
      return "dropped"
    }
    this.overflow.push(entry)
    return "wait"
  }

  /** Precondition: room in the queue. */
  enqueue(entry: Entry): void {
    entry.state = "queued"
    this.queued++
    entry.lane.waiting.push(entry)
    this.relink(entry.lane)
  }

  /** Precondition: `entry` may start (limits checked). Takes the slots and queues the entry in `toStart`. */
  markStarted(entry: Entry, now: number): void {
    if (entry.state === "queued") this.queued--
    entry.state = "running"
    entry.startedAt = now
    this.running.add(entry)
    entry.pool.running++
    entry.lane.running++
    entry.pool.tokens-- // Infinity stays Infinity without a rate
    this.counters.started++
    this.toStart.push(entry)
  }

  /** Starts queued entries while limits allow, then moves waiting `fire`s into freed queue slots; `now` is the Clock's time. */
  pump(now: number): void {
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
      const entry = lane.waiting.head
      if (entry === undefined || !this.laneOpen(lane)) {
        pool.ring.shift()
        lane.inRing = false
        this.collect(lane)
        continue
      }
      lane.waiting.shift()
      this.markStarted(entry, now)
      // round-robin: the lane to the back of its pool's ring and the pool to the back of the ring
      // (a lone lane or pool that can go on stays where it is)
      if (pool.ring.size > 1 || lane.waiting.head === undefined || !this.laneOpen(lane)) {
        pool.ring.shift()
        lane.inRing = false
        this.relink(lane)
      }
      if (this.ring.size > 1 || pool.ring.size === 0 || !this.poolOpen(pool)) {
        this.ring.shift()
        pool.inRing = false
        this.relinkPool(pool)
      }
    }
    while (this.overflow.head !== undefined) {
      const entry = this.overflow.head
      const wake = entry.wake!
      const startNow = this.canStartNow(entry)
      if (!startNow && this.queued >= this.config.maxQueued) break
      this.overflow.shift()
      if (startNow) this.markStarted(entry, now)
      else this.enqueue(entry)
      this.unlogged++
      entry.wake = undefined
      wake(true)
    }
  }

  /** Frees `entry`'s slots after its outcome is out. */
  release(entry: Entry): void {
    const lane = entry.lane
    this.running.delete(entry)
    lane.pool.running--
    lane.running--
    this.relink(lane)
    if (lane.key !== undefined) this.collect(lane)
  }

  /** Arms one timer that relinks `pool` when its next token is due (Effect `Clock` time). */
  armRefill(pool: Pool): void {
    if (pool.refill !== undefined || pool.rateLimit === Number.POSITIVE_INFINITY) return
    const waitMillis = Math.max(1, Math.ceil(((1 - pool.tokens) * pool.rateIntervalMillis) / pool.rateLimit))
    const timer = Effect.andThen(
      Effect.sleep(waitMillis),
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
    const exit = fiber.pollUnsafe()
    // a job that finished within its first run needs no observer (what `addObserver` would do, without the closure)
    if (exit !== undefined) this.ended(entry, exit, false)
    else fiber.addObserver((exit) => this.ended(entry, exit, false))
  }

  /** The context of `entry`'s fiber: the caller's, with the job's log annotations added to the caller's. */
  jobContext(entry: Entry): Context.Context<never> {
    const caller = entry.context
    if (caller !== this.lastCaller) {
      // jobs fired in a loop share their caller's context: look its annotations up once
      this.lastCaller = caller
      const annotations = Context.get(caller, References.CurrentLogAnnotations)
      this.lastCallerAnnotations = Object.keys(annotations).length === 0 ? undefined : annotations
    }
    const base = this.lastCallerAnnotations
    const annotations =
      base === undefined && entry.more === undefined && entry.key === undefined
        ? { "job.id": entry.id, "job.name": entry.name, "job.pool": entry.pool.name } // the common case, one shape
        : jobAnnotations(entry, base)
    return Context.add(caller, References.CurrentLogAnnotations, annotations)
  }

  // ── ending ──

  /** The end of a started entry: its one outcome, its slots freed, the next jobs started (at the same Clock time). */
  ended(entry: Entry, exit: Exit.Exit<unknown, unknown>, neverRan: boolean): void {
    const now = this.now()
    if (neverRan) entry.attempt = 0
    this.settling++
    this.finish(entry, entry.timedOut ? "TimedOut" : classify(exit), exit, now)
    this.release(entry)
    this.pump(now)
    this.settling--
    this.notify()
    this.flush()
  }

  /** Ends a queued entry without running it: its outcome is "Interrupted", attempt 0. */
  cancelQueued(entry: Entry): void {
    if (entry.state !== "queued") return
    this.queued--
    entry.lane.waiting.remove(entry)
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
  /** see `notify` */
  private notices: Array<() => void> = []
  /** > 0 while `ended` or `cancelQueued` is changing the state */
  private settling = 0

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
    if (entry.attempt > 0) this.history.duration(endedAt - entry.startedAt)
    if (tag !== "Success") this.history.failure(outcomeOf(this, entry))
    const more = entry.more
    if (more !== undefined) {
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
    this.reportWarnings.push({ entry, reason })
    this.wakeLogger()
  }

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
    else if (entry.state === "running") {
      if (entry.fiber === undefined) entry.interruptRequested = true
      else entry.fiber.interruptUnsafe()
    }
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

// ── the supervisor fiber ────────────────────────────────────────────────────

/**
 * Runs `log`, one line of the supervisor's; a logger that throws costs the line, never the fiber
 * writing it: the line is counted in `linesLost` and the first loss of a burst is reported on stderr.
 */
export const logContained = (state: SupervisorState, log: Effect.Effect<void>): Effect.Effect<void> =>
  Effect.matchCauseEffect(log, {
    onFailure: (cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.failCause(cause)
        : Effect.sync(() => {
            state.counters.linesLost++
            state.lostLines.failed(Cause.squash(cause))
          }),
    onSuccess: () => Effect.sync(() => state.lostLines.succeeded())
  })

/**
 * Takes every outcome, logs it (the only writer of outcome lines) and publishes it to the taps. Lines below the minimum log level are not built at all.
 */
export const supervisorLoop = (state: SupervisorState): Effect.Effect<void> =>
  Effect.gen(function* () {
    while (true) {
      while (state.reportWarnings.length > 0) {
        const { entry, reason } = state.reportWarnings.shift()!
        const message = `job ${entry.name}: its outcome could not be put on reportTo`
        yield* logContained(
          state,
          (typeof reason === "string"
            ? Effect.logWarning(`${message}: ${reason}`)
            : Effect.logWarning(message, reason)
          ).pipe(Effect.annotateLogs(jobAnnotations(entry)))
        )
      }
      const entry = state.toLog.shift()
      if (entry === undefined) {
        if (state.loggerStop) return
        yield* Effect.callback<void>((resume) => {
          state.loggerResume = () => resume(Effect.void)
          return Effect.sync(() => {
            state.loggerResume = undefined
          })
        })
        continue
      }
      if (entry.tag !== "Success" || state.successLogged) yield* logContained(state, logOutcome(state, entry))
      if (state.taps > 0) Chan.offerUnsafe(state.published, outcomeOf(state, entry))
      state.logged()
    }
  })

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

/** The annotations of every log line of a job: `base` (the caller's), the job's own, then its identity. */
export const jobAnnotations = (entry: Entry, base?: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const a: Record<string, unknown> = { ...base, ...entry.annotations }
  a["job.id"] = entry.id
  a["job.name"] = entry.name
  a["job.pool"] = entry.pool.name
  if (entry.key !== undefined) a["job.key"] = entry.key
  return a
}

const logOutcome = (state: SupervisorState, entry: Entry): Effect.Effect<void> => {
  const outcome = outcomeOf(state, entry)
  const annotations = jobAnnotations(entry)
  annotations.attempt = outcome.attempt
  annotations.durationMillis = outcome.durationMillis
  annotations["job.outcome"] = outcome._tag
  if (outcome.payload !== undefined) annotations["job.payload"] = outcome.payload
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

/** Runs the attempts of `entry` (retrying typed failures per `retry`, each failed attempt logged at Warn). */
const attempts = (state: SupervisorState, entry: Entry): Effect.Effect<unknown, unknown, any> => {
  const retry = entry.more!.retry!
  const once = Effect.suspend(() => {
    entry.attempt++
    return Effect.exit(entry.work)
  })
  return Effect.gen(function* () {
    const step = yield* Schedule.toStep(retry)
    while (true) {
      const exit = yield* once
      if (Exit.isSuccess(exit)) return exit.value
      const cause = exit.cause
      const error = Cause.findErrorOption(cause)
      if (Option.isNone(error) || Cause.hasDies(cause) || Cause.hasInterrupts(cause)) return yield* exit
      const decision = yield* Effect.exit(step(state.clock.currentTimeMillisUnsafe(), error.value))
      if (Exit.isFailure(decision)) return yield* exit // the schedule is done (or failed): the last failure stands
      const delay = decision.value[1]
      yield* logContained(
        state,
        Effect.logWarning(`job ${entry.name} attempt ${entry.attempt} failed; retrying`, cause).pipe(
          Effect.annotateLogs({ attempt: entry.attempt, retryInMillis: Duration.toMillis(delay) })
        )
      )
      yield* Effect.sleep(delay)
    }
  })
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
    for (let entry = state.overflow.shift(); entry !== undefined; entry = state.overflow.shift()) {
      const wake = entry.wake!
      entry.wake = undefined
      wake(false)
    }
    return Effect.gen(function* () {
      const drained = yield* Effect.timeoutOption(state.drain, graceMillis)
      if (Option.isNone(drained)) {
        const now = state.now()
        const running = [...state.running].reverse() // newest first
        const queued = state.queuedEntries().reverse() // newest first
        for (const entry of running)
          yield* logContained(
            state,
            Effect.logWarning(`job ${entry.name} still running at shutdown; interrupting it`).pipe(
              Effect.annotateLogs({ ...jobAnnotations(entry), ageMillis: now - entry.startedAt })
            )
          )
        for (const entry of queued)
          yield* logContained(
            state,
            Effect.logWarning(`job ${entry.name} still queued at shutdown; cancelling it`).pipe(
              Effect.annotateLogs({ ...jobAnnotations(entry), ageMillis: now - entry.admittedAt })
            )
          )
        for (const entry of queued) state.cancelQueued(entry)
        for (const entry of running) state.interruptUnsafe(entry)
        state.flush()
        yield* state.drain
      }
      for (const pool of state.pools.values()) if (pool.refill !== undefined) yield* Fiber.interrupt(pool.refill)
      state.loggerStop = true
      if (state.loggerResume !== undefined) {
        const resume = state.loggerResume
        state.loggerResume = undefined
        resume()
      }
      if (state.logger !== undefined) yield* Fiber.await(state.logger) // waits for the last line
      yield* Chan.close(state.published)
      Deferred.doneUnsafe(done, Effect.void)
    })
  })

/** Starts a supervisor: its scope, channel, mult and fiber. The caller arranges `shutdown` on release. */
export const makeState = (config: ResolvedConfig): Effect.Effect<SupervisorState, never, Scope.Scope> =>
  Effect.gen(function* () {
    const clock = yield* Effect.clockWith(Effect.succeed)
    const context = yield* Effect.context<never>()
    const dispatcher = yield* Effect.withFiber((fiber) => Effect.succeed(fiber.currentDispatcher))
    const scope = yield* Scope.make()
    const published = yield* Chan.make<Outcome>(Buffer.sliding(1024), { name: `${config.name}.published` })
    const mult = yield* Scope.provide(Chan.mult(published), scope)
    const state = new SupervisorState(config, clock, context, dispatcher, scope, published, mult)
    state.logger = yield* Effect.forkIn(supervisorLoop(state), scope)
    return state
  })

/**
 * `fire`/`fork`'s admission: refuses when the supervisor is closed, applies `policy`; a job that
 * starts or is queued returns at once. `dropped` is logged here, in the caller's fiber.
 */
export const admitEffect = (
  state: SupervisorState,
  entry: Entry,
  policy: FullPolicy
): Effect.Effect<"admitted" | "dropped", SupervisorClosedError | SupervisorFullError> => {
  if (state.closed) return Effect.fail(new SupervisorClosedError(state.config.name))
  const verdict = state.admit(entry, policy)
  switch (verdict) {
    case "started":
    case "queued":
      return admittedNow
    case "full":
      return Effect.fail(new SupervisorFullError(state.config.name, entry.name))
    case "dropped":
      return Effect.as(
        logContained(
          state,
          Effect.logWarning(`job ${entry.name} dropped: the queue is full`).pipe(
            Effect.annotateLogs(jobAnnotations(entry))
          )
        ),
        "dropped" as const
      )
    case "wait":
      return Effect.withFiber((fiber) => waitForRoom(state, entry, fiber.currentDispatcher))
  }
}

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
      entry.wake = undefined // withdrawn
      state.overflow.remove(entry)
    })
  })

// ── private helpers ─────────────────────────────────────────────────────────

/** The error of a job that is not an Effect. */
const notAnEffect = (argument: string, value: unknown): JobArgumentError =>
  new JobArgumentError(argument, value, "an Effect (wrap a Promise-returning function as Effect.tryPromise(() => f()))")

/** what `admitEffect` returns for a job admitted at once (callers may compare against it) */
export const admittedNow = Effect.succeed("admitted" as const)

/**
 * A FIFO of entries linked through their own `prev`/`next` fields: O(1) push, shift and remove,
 * no allocation. An entry is in at most one `EntryQueue` at a time.
 */
export class EntryQueue implements Iterable<Entry> {
  head: Entry | undefined = undefined
  tail: Entry | undefined = undefined
  size = 0
  push(e: Entry): void {
    e.prev = this.tail
    e.next = undefined
    if (this.tail === undefined) this.head = e
    else this.tail.next = e
    this.tail = e
    this.size++
  }
  shift(): Entry | undefined {
    const e = this.head
    if (e !== undefined) this.remove(e)
    return e
  }
  /** Precondition: `e` is in this queue. */
  remove(e: Entry): void {
    if (e.prev === undefined) this.head = e.next
    else e.prev.next = e.next
    if (e.next === undefined) this.tail = e.prev
    else e.next.prev = e.prev
    e.prev = e.next = undefined
    this.size--
  }
  *[Symbol.iterator](): Iterator<Entry> {
    for (let e = this.head; e !== undefined; e = e.next) yield e
  }
}

/** The running entries in start order, linked through `runPrev`/`runNext`. */
export class RunningList implements Iterable<Entry> {
  private first: Entry | undefined = undefined
  private last: Entry | undefined = undefined
  size = 0
  add(e: Entry): void {
    e.runPrev = this.last
    e.runNext = undefined
    if (this.last === undefined) this.first = e
    else this.last.runNext = e
    this.last = e
    this.size++
  }
  /** Precondition: `e` is in the list. */
  delete(e: Entry): void {
    if (e.runPrev === undefined) this.first = e.runNext
    else e.runPrev.runNext = e.runNext
    if (e.runNext === undefined) this.last = e.runPrev
    else e.runNext.runPrev = e.runPrev
    e.runPrev = e.runNext = undefined
    this.size--
  }
  *[Symbol.iterator](): Iterator<Entry> {
    for (let e = this.first; e !== undefined; e = e.runNext) yield e
  }
}

/** A FIFO with O(1) push and shift (an array with a moving head, compacted now and then). */
export class Fifo<A> {
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
}
