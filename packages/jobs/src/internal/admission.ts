/**
 * Admission: which job starts when. Global, pool, per-key and rate limits, the queue and the
 * `whenFull` policies, the round-robin across pools and keys. Synchronous and free of fibers:
 * starting a job here means taking its slots and queueing it in `toStart` for the runner, and a
 * pool short of a token asks the runner for a timer (`armRefill`).
 *
 * Invariants (true whenever no synchronous section of the supervisor is executing; numbered in
 * the supervisor's one list, which runs across its parts: see `supervisor.ts`):
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
 *    pool or its key is at its cap, its pool has no token, or the supervisor or its pool is
 *    paused). So a new job that can start at once takes no queue slot and overtakes no queued job
 *    of its own lane.
 * 8. `byId` holds exactly the live entries (waiting for room, queued or running) that have a
 *    caller-given id, under that id.
 * 9. Once `runningEntry` was first called, `runningBySeq` holds exactly the entries of `running`,
 *    under their `seq` (before that it is undefined, and costs nothing per job; after, every start
 *    and end pays one Map set and delete).
 * 15. A pool's tokens are taken only by `markStarted` (a job's start: its first attempt) and by
 *    `takeRetryToken` (each later attempt of a running job that retries), one each, and never below
 *    0; they come back only through `refillTokens`. So `limit` bounds the calls per `interval` to
 *    the partner, retries included. A retry's token may leave a pool in `ring` without a token
 *    (only while the supervisor is full or paused, as invariant 4 leaves no pool in `ring`
 *    otherwise): the next `pump` drops it there and `relinkPool` arms its refill, as for a token a
 *    start took; a refill timer that finds its token taken by a retry arms the next one. A retry
 *    that waits while a refill is armed waits for the token after the next, so a pool's queued
 *    jobs and its retries take turns at the tokens they both wait for.
 *
 * Cost: every step of `pump` starts a job or removes a lane or pool from a ring; lanes and pools
 * re-enter rings only on a job's start, end or admission or a token refill. Admission is O(1)
 * amortized per job.
 *
 * @internal
 */
import { closestName } from "@tributary/arguments"
import type * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { JobArgumentError } from "../SupervisorError.js"
import { type Counters, Entry, type FullPolicy, Lane, Pool, type ResolvedConfig, type Verdict } from "./model.js"
import { checkSpec, type EntrySpec, notAnEffect } from "./options.js"
import { EntryQueue, Fifo, RunningList } from "./queues.js"

/** The class of effect's default Clock (to tell it from a TestClock or another stand-in). */
const liveClockClass: unknown = Effect.runSync(Effect.clockWith(Effect.succeed)).constructor

/** The admission part of a supervisor's state; see the invariants at the top of this file. */
export abstract class Admission {
  closed = false
  /** no job starts while set (`Supervisor.pause()`); admission into the queue goes on */
  paused = false
  /** live entries with a caller-given id (invariant 8) */
  readonly byId = new Map<string, Entry>()
  /** running entries by their `seq` (their id as a number), once `runningEntry` was called (invariant 9) */
  private runningBySeq: Map<number, Entry> | undefined = undefined
  readonly running = new RunningList<Entry>()
  queued = 0
  /** running jobs that wait for other jobs, and whether the stall of `concurrency` was reported (`stall.ts`) */
  waitingOnJobs = 0
  stallWarned = false
  unlogged = 0
  nextId = 0
  readonly overflow = new EntryQueue<Entry>()
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
  /** started entries whose fiber `flush` has not made yet */
  readonly toStart = new EntryQueue<Entry>()
  readonly defaultPool: Pool
  /** the Clock's time when the supervisor was made; the times kept in entries and pools count from it */
  readonly epoch: number
  /** whether `clock` is effect's default (wall) Clock, which `admissionTime` may read once per run */
  private readonly liveClock: boolean

  constructor(
    readonly config: ResolvedConfig,
    readonly clock: Clock.Clock
  ) {
    this.epoch = clock.currentTimeMillisUnsafe()
    this.liveClock = clock.constructor === liveClockClass
    // a pool named "default" in the configuration limits the jobs that name no pool
    this.defaultPool = new Pool("default", config.pools.default ?? {})
    this.pools.set("default", this.defaultPool)
    for (const [name, pool] of Object.entries(config.pools))
      if (name !== "default") this.pools.set(name, new Pool(name, pool))
  }

  /** Builds an entry (not admitted yet); a bad job or option throws a JobArgumentError. */
  entry(
    work: Effect.Effect<unknown, unknown, any>,
    spec: (EntrySpec & { readonly pool?: string | undefined }) | undefined,
    context: Context.Context<never>
  ): Entry {
    const entry = new Entry(++this.nextId, this.laneOf(work, spec), work, context, spec?.name)
    if (spec !== undefined) entry.applySpec(spec)
    return entry
  }

  /**
   * `fire` of a plain job (see `needsMore`): like `admit(entry(…), policy)`, but a job that must
   * wait is queued as a record in its lane (no entry until it starts). Returns false, having
   * changed nothing, when the job can neither start nor be queued now (the supervisor is closed,
   * or the queue is full or others wait for room): the caller then takes the general path.
   * Precondition: `!needsMore(spec)`.
   */
  firePlain(
    work: Effect.Effect<unknown, unknown, any>,
    spec: (EntrySpec & { readonly pool?: string | undefined }) | undefined,
    context: Context.Context<never>
  ): boolean {
    const lane = this.laneOf(work, spec)
    if (this.closed) return false
    if (this.canStartIn(lane)) {
      this.admit(new Entry(++this.nextId, lane, work, context, spec?.name), "wait") // "started"
      return true
    }
    if (!this.roomInQueue()) return false
    this.unlogged++
    this.queued++
    lane.addPlain(work, context, spec?.name, ++this.nextId, this.admissionTime())
    this.relink(lane)
    return true
  }

  /** The lane of a job of `work` with `spec` (made if missing); a bad job or option throws a JobArgumentError. */
  private laneOf(
    work: Effect.Effect<unknown, unknown, any>,
    spec: (EntrySpec & { readonly pool?: string | undefined }) | undefined
  ): Lane {
    if (!Effect.isEffect(work)) throw notAnEffect("work", work)
    const poolName = spec?.pool
    const pool = poolName === undefined ? this.defaultPool : (this.pools.get(poolName) ?? this.poolOf(poolName, "pool"))
    if (spec !== undefined) checkSpec(spec, "") // before a lane is made for the key
    const key = spec?.key
    let lane = key === undefined ? pool.keyless : pool.lanes.get(key)
    if (lane === undefined) {
      lane = new Lane(pool, key)
      pool.lanes.set(key as string, lane)
    }
    return lane
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
      throw new JobArgumentError(argument, name, poolExpected(name, [...this.pools.keys()], this.config.name))
    return pool
  }

  /** Every queued entry of every pool, oldest (first admitted) first. */
  queuedEntries(): Array<Entry> {
    const queued: Array<Entry> = []
    for (const pool of this.pools.values()) for (const e of pool.queuedEntries()) queued.push(e)
    return queued.sort((a, b) => a.seq - b.seq)
  }

  /**
   * The `limit` oldest queued jobs (lowest admission number first), without looking at the rest of
   * a long queue: each lane's priority-0 jobs wait in arrival order, so a lane is read only while
   * its next job is older than the `limit`-th oldest found so far — O(lanes + ranked jobs + limit)
   * entries looked at, however many jobs wait. One exception to "oldest": a job that joined its
   * queue when its `delay` ended waits behind younger ones, and may be left out in their favour.
   * Precondition: `limit` is an integer ≥ 0.
   */
  oldestQueued(limit: number): Array<Entry> {
    if (limit === 0) return []
    let found: Array<Entry> = []
    // only a job admitted before `bound` can still be among the `limit` oldest
    let bound = Number.POSITIVE_INFINITY
    const keepOldest = () => {
      found.sort((a, b) => a.seq - b.seq)
      if (found.length >= limit) {
        found = found.slice(0, limit)
        bound = found[limit - 1].seq
      }
    }
    const consider = (e: Entry): boolean => {
      if (e.seq >= bound) return false
      found.push(e)
      if (found.length >= 2 * limit) keepOldest()
      return true
    }
    for (const pool of this.pools.values())
      for (const lane of pool.allLanes()) {
        for (const e of lane.waitingRanked()) consider(e)
        for (const e of lane.waitingFifo()) if (!consider(e)) break
      }
    keepOldest()
    return found
  }

  /**
   * Takes every queued job out of its lane (shutdown cancels them): entries in state "queued",
   * still counted in `queued` until the runner's `cancelQueued(entry, true)` ends each; oldest first.
   * `onlyPaused`: only those nothing can start (the supervisor or their pool is paused).
   */
  takeQueued(onlyPaused = false): Array<Entry> {
    const queued: Array<Entry> = []
    for (const pool of this.pools.values())
      if (!onlyPaused || this.paused || pool.paused) for (const e of pool.takeQueued()) queued.push(e)
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

  /**
   * Refills `pool`'s token bucket up to now; burst = limit. A count within 1e-9 of a whole number
   * is that number: the fractions a limit that does not divide the interval leaves (1/3 of a token
   * per 333 ms) must not add up to 0.9999999999 at the time a token is due, which started its job
   * a millisecond late.
   */
  refillTokens(pool: Pool): void {
    if (pool.rateLimit === Number.POSITIVE_INFINITY) return
    const now = this.now()
    const earned = ((now - pool.refilledAt) * pool.rateLimit) / pool.rateIntervalMillis
    const tokens = Math.min(pool.rateLimit, pool.tokens + earned)
    const whole = Math.round(tokens)
    pool.tokens = Math.abs(tokens - whole) < 1e-9 ? whole : tokens
    pool.refilledAt = now
  }

  /**
   * Clock millis from `pool`'s last refill until it holds `count` tokens (at least 1).
   * Precondition: `pool` has a rate and less than `count` tokens, refilled up to now.
   */
  millisToTokens(pool: Pool, count: number): number {
    // less 1e-9: a wait of 333.00000000000006 ms (float noise) is 333, not 334 (see `refillTokens`)
    return Math.max(1, Math.ceil(((count - pool.tokens) * pool.rateIntervalMillis) / pool.rateLimit - 1e-9))
  }

  /**
   * A token of `pool` for a retried attempt of a running job (it holds its slots already: only the
   * token is asked for; invariant 15): 0 when one was taken, else the Clock millis to wait before
   * asking again. Queued jobs draw from the same bucket: when they wait for a token too (their
   * refill is armed), they get the next one and the retry the one after, so that retries failing
   * in a loop cannot keep a queued job from starting, nor a stream of queued jobs starve a retry.
   * Precondition: `pool` has a rate.
   */
  takeRetryToken(pool: Pool): number {
    this.refillTokens(pool)
    if (pool.tokens < 1) return this.millisToTokens(pool, pool.refill === undefined ? 1 : 2)
    pool.tokens--
    return 0
  }

  /** Whether `pool` can start one more job now (concurrency and a token). */
  poolOpen(pool: Pool): boolean {
    if (pool.paused || pool.running >= pool.concurrency) return false
    this.refillTokens(pool)
    return pool.tokens >= 1 // Infinity without a rate
  }

  /** Whether `lane`'s key has room for one more running job. */
  laneOpen(lane: Lane): boolean {
    return lane.key === undefined || lane.running < lane.pool.perKey
  }

  /** Puts `lane` back in its pool's ring and the pool in the ring when invariant 3 asks for it. */
  relink(lane: Lane): void {
    if (!lane.inRing && lane.size > 0 && this.laneOpen(lane)) {
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
    } else if (!pool.paused && pool.running < pool.concurrency) this.armRefill(pool)
  }

  /** Forgets a lane with nothing waiting or running (keys must not leak). */
  collect(lane: Lane): void {
    if (lane.key !== undefined && lane.running === 0 && !lane.inRing && lane.size === 0)
      lane.pool.lanes.delete(lane.key)
  }

  /** Whether a new job may take a queue place now (room, and no earlier `fire` waiting for one). */
  roomInQueue(): boolean {
    return this.queued < this.config.maxQueued && this.overflow.size === 0
  }

  /** Whether a new job of `lane` may start at once (invariant 4 makes this FIFO-safe). */
  canStartIn(lane: Lane): boolean {
    return (
      !this.paused &&
      this.running.size < this.config.concurrency &&
      lane.size === 0 &&
      this.laneOpen(lane) &&
      this.poolOpen(lane.pool)
    )
  }

  // ── admission ──

  /**
   * Admits `entry`: starts it (its fiber is made by the next `flush`), queues it, or applies
   * `policy` when the queue is full: "full" and "dropped" are the caller's to report; "wait" means
   * the entry is in `overflow` and the caller must set `entry.wake`.
   */
  admit(entry: Entry, policy: FullPolicy): Verdict {
    if (this.canStartIn(entry.lane)) {
      const now = this.now()
      entry.admittedAt = now
      this.unlogged++
      this.markStarted(entry, now)
      this.scheduleFlush()
      return "started"
    }
    entry.admittedAt = this.admissionTime()
    if (this.roomInQueue()) {
      this.unlogged++
      this.enqueue(entry)
      if (this.waitingOnJobs > 0) this.blocked(entry)
      return "queued"
    }
    if (policy === "fail") return "full"
    if (policy === "drop") {
      this.counters.dropped++
      entry.pool.dropped++
      return "dropped"
    }
    this.overflow.push(entry)
    if (this.waitingOnJobs > 0) this.blocked(entry)
    return "wait"
  }

  /**
   * Called when `entry` could not start at once while some running job waits for other jobs
   * (`waitingOnJobs` > 0): the state checks whether a limit is stalled (`stall.ts`). Nothing here.
   */
  blocked(_entry: Entry): void {}

  /**
   * Called when a job ended while some running job waits for other jobs: a wait that the ended job
   * could have decided (a "failFast" or "firstSuccess" group) may now be only for jobs that cannot
   * start (`stall.ts`). Nothing here.
   */
  endedWhileWaiting(): void {}

  /** Precondition: room in the queue. */
  enqueue(entry: Entry): void {
    entry.state = "queued"
    this.queued++
    entry.lane.add(entry)
    this.relink(entry.lane)
  }

  /** Precondition: `entry` may start (limits checked). Takes the slots and queues the entry in `toStart`. */
  markStarted(entry: Entry, now: number): void {
    if (entry.state === "queued") this.queued--
    entry.state = "running"
    entry.startedAt = now
    this.running.add(entry)
    this.runningBySeq?.set(entry.seq, entry)
    entry.pool.running++
    entry.lane.running++
    entry.pool.tokens-- // Infinity stays Infinity without a rate
    this.counters.started++
    entry.pool.started++
    this.toStart.push(entry)
  }

  /** Starts queued entries while limits allow, then moves waiting `fire`s into freed queue slots; `now` is the Clock's time. */
  pump(now: number): void {
    while (!this.paused && this.running.size < this.config.concurrency) {
      const pool = this.ring.peek()
      if (pool === undefined) break
      if (!this.poolOpen(pool) || pool.ring.size === 0) {
        this.ring.shift()
        pool.inRing = false
        this.relinkPool(pool)
        continue
      }
      const lane = pool.ring.peek()!
      if (lane.size === 0 || !this.laneOpen(lane)) {
        pool.ring.shift()
        lane.inRing = false
        this.collect(lane)
        continue
      }
      this.markStarted(lane.take()!, now)
      // round-robin: the lane to the back of its pool's ring and the pool to the back of the ring
      // (a lone lane or pool that can go on stays where it is)
      if (pool.ring.size > 1 || lane.size === 0 || !this.laneOpen(lane)) {
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
      const startNow = this.canStartIn(entry.lane)
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
    this.runningBySeq?.delete(entry.seq)
    lane.pool.running--
    lane.running--
    this.relink(lane)
    if (lane.key !== undefined) this.collect(lane)
  }

  /**
   * The running entry whose supervisor id is `id`, if any, in O(1): the index (invariant 9) is
   * built on the first call — only a supervisor whose jobs ask (`Job.progress`, a job waiting for
   * jobs: `Job.all`, `Job.await`, `Job.join` inside a job) keeps one.
   */
  runningEntry(id: string): Entry | undefined {
    if (this.runningBySeq === undefined) {
      this.runningBySeq = new Map()
      for (const e of this.running) this.runningBySeq.set(e.seq, e)
    }
    const entry = this.runningBySeq.get(Number(id))
    return entry?.id === id ? entry : undefined // "7.0" or " 7" name no job
  }

  /** `admit` for an entry with a caller-given id: registered while it is live (invariant 8). */
  admitWithId(entry: Entry, userId: string, policy: FullPolicy): Verdict {
    this.byId.set(userId, entry) // taken back out below if not admitted
    const verdict = this.admit(entry, policy)
    if (verdict === "full" || verdict === "dropped") this.byId.delete(userId)
    return verdict
  }

  /** The live entry with the caller-given id `id`, if any (invariant 8). */
  liveById(id: string): Entry | undefined {
    return this.byId.get(id)
  }

  /** Forgets a caller-given id once its entry is no longer live (invariant 8). */
  forgetId(entry: Entry): void {
    const userId = entry.more?.userId
    if (userId !== undefined && this.byId.get(userId) === entry) this.byId.delete(userId)
  }

  /**
   * Pauses or resumes `pool` (or, without one, the whole supervisor): while paused no job of it
   * starts; queued jobs wait and running ones go on. Resuming starts what can start.
   */
  setPaused(pool: Pool | undefined, paused: boolean): void {
    if (pool === undefined) this.paused = paused
    else pool.paused = paused
    if (paused) return
    if (pool === undefined) for (const p of this.pools.values()) this.relinkPool(p)
    else this.relinkPool(pool)
    this.pump(this.now())
    this.scheduleFlush()
  }

  /** Arms one timer that relinks `pool` when its next token is due (the runner's: it needs a fiber). */
  abstract armRefill(pool: Pool): void

  /** Has the fibers of `toStart`'s entries made from a scheduler task (the runner's). */
  abstract scheduleFlush(): void
}

/**
 * What a job's `pool` expects when the supervisor named `supervisor` has no pool `name`: one of
 * `pools`, the one a misspelt name means (`closestName`), else how a pool is declared.
 */
const poolExpected = (name: unknown, pools: ReadonlyArray<string>, supervisor: string): string => {
  const whose = supervisor === "supervisor" ? "the supervisor" : `supervisor "${supervisor}"`
  const meant = typeof name === "string" ? closestName(name, pools) : undefined
  if (meant !== undefined) return `one of the pools of ${whose} (did you mean ${meant}?): ${pools.join(", ")}`
  const declared = /^[A-Za-z_$][\w$]*$/.test(String(name)) ? name : JSON.stringify(name)
  return `one of the pools of ${whose}: ${pools.join(", ")} (a pool is declared in its configuration: pools: { ${declared}: { concurrency: 4 } })`
}
