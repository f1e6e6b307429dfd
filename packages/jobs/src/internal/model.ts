/**
 * What the supervisor's parts share: its resolved configuration, the entry that stands for one job
 * from admission to outcome, and the lanes and pools jobs wait in. (The checks of what a user
 * passes are in `options.ts`, the supervisor's configuration is read by `config.ts`.)
 *
 * Invariants:
 * - An entry's `state` goes "waiting" → "queued" → "running" → "done" (or straight to "running",
 *   or from "queued" to "done" when cancelled); it never leaves "done".
 * - An entry is linked in at most one `EntryQueue` (a lane's `ranked`, `overflow`, `toStart` or
 *   `toLog`) or waits in one lane's `fifo`, and, while running, is in the `running` list.
 * - A plain job (see `needsMore`) that waits in its lane has no entry yet: a flat record holds its
 *   work, caller context, name, number and admission time; its entry is made when it is taken.
 * - A lane belongs to one pool and one key (or the pool's keyless jobs); a keyed lane with nothing
 *   waiting or running is forgotten (`collect`), so keys do not leak.
 *
 * @internal
 */
import type { WritePort } from "@tributary/channel"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import type * as LogLevel from "effect/LogLevel"
import type * as Schedule from "effect/Schedule"
import type { Outcome, OutcomeTag } from "../Outcome.js"
import type * as Snapshot from "../Snapshot.js"
import { definedOf } from "./definition.js"
import { type EntrySpec, nonNegativeDuration } from "./options.js"
import { EntryQueue, Fifo, SlotRing } from "./queues.js"

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
  /** how often the effect Metrics are published (Clock millis); undefined: no metrics */
  readonly metricsMillis?: number | undefined
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
  /** the id the caller gave (`Job.Options.id`), registered in `byId` while the job is live */
  userId: string | undefined
  /** the job's `priority` (0 when not given) */
  priority: number
  /** the job's `delay` in millis, if it has one */
  delayMillis: number | undefined
  /** the fiber sleeping out the delay, while the entry is "delayed" */
  delayTimer: Fiber.Fiber<void> | undefined
  /** the last value the job reported with `Job.progress` */
  progress: unknown
  /**
   * Called by `ended` once the outcome is made and before the entry's slots are freed: a group this
   * outcome decides ("failFast", "firstSuccess") ends its queued works there, so none of them starts
   * in the slot the deciding job hands on.
   */
  decide: ((entry: Entry) => void) | undefined
  /** while the job's fibers wait for other jobs (`stall.ts`): per wait, the entries it waits for */
  waits: Array<() => Iterable<Entry>> | undefined
}

/**
 * One job, from `admit` to its outcome. Kept small (a queued job is one of these): times are
 * Clock millis since the supervisor's `epoch` (small integers, stored unboxed), and what a plain
 * `fire` does not use lives in `more`.
 */
export class Entry {
  state: "waiting" | "delayed" | "queued" | "running" | "done" = "waiting"
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
  /** the log annotations object the job's fiber started with (its forks share it); set by `start` */
  logAnnotations: Record<string, unknown> | undefined = undefined
  readonly name: string
  constructor(
    /** the job's number in its supervisor (1, 2, …): admission order */
    readonly seq: number,
    readonly lane: Lane,
    /** the work; it runs with `context` */
    readonly work: Effect.Effect<unknown, unknown, any>,
    /** the caller's services, which the job's fiber gets (plus the job's log annotations) */
    readonly context: Context.Context<never>,
    /** the name the caller gave, if any (else the definition's, else "job") */
    name: string | undefined
  ) {
    this.name = name ?? definedOf(work)?.name ?? "job"
  }

  /** Takes the options of `spec` that live in `more` (checked by `checkSpec`); none: no `more`. */
  applySpec(spec: EntrySpec): void {
    if (!needsMore(spec)) return
    const more = this.extra()
    more.timeout = spec.timeout === undefined ? undefined : nonNegativeDuration(spec.timeout)
    more.retry = spec.retry
    more.reportTo = spec.reportTo
    more.annotations = spec.annotations === undefined ? undefined : { ...spec.annotations } // as fired (checked readable)
    more.userId = spec.id
    more.priority = spec.priority ?? 0
    if (spec.delay !== undefined) more.delayMillis = Duration.toMillis(nonNegativeDuration(spec.delay)!)
    if (spec.id !== undefined) this.idString = spec.id
  }

  /** the job's key (its lane's) */
  get key(): string | undefined {
    return this.lane.key
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
      awaiters: undefined,
      userId: undefined,
      priority: 0,
      delayMillis: undefined,
      delayTimer: undefined,
      progress: undefined,
      decide: undefined,
      waits: undefined
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
  /** the job's `priority` (0 unless given) */
  get priority(): number {
    return this.more?.priority ?? 0
  }
  get progress(): unknown {
    return this.more?.progress
  }
  set progress(value: unknown) {
    this.extra().progress = value
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

/**
 * Whether `spec` asks for more than a name, a key and a pool: a job that does not is "plain" — no
 * `more` — and may wait in its lane as a flat record (`Lane.addPlain`) until it starts.
 */
export const needsMore = (spec: EntrySpec | undefined): boolean =>
  spec !== undefined &&
  spec !== null && // a bad spec (null) is refused by `checkSpec`
  (spec.id !== undefined ||
    spec.delay !== undefined ||
    spec.priority !== undefined ||
    spec.timeout !== undefined ||
    spec.retry !== undefined ||
    spec.reportTo !== undefined ||
    spec.annotations !== undefined)

/**
 * The waiting jobs of one key of a pool (or the pool's keyless jobs): highest `priority` first,
 * first in, first out within a priority; `take` gives the next to start. Jobs of priority 0 wait
 * in `fifo`, in arrival order: an `Entry`, or — for a plain job (no handle, no option beyond name,
 * key and pool; see `needsMore`) — a flat record that becomes an `Entry` when it is taken, so a
 * long queue of plain jobs holds no object per job. Entries of another priority wait in `ranked`.
 * Add and take are O(1) amortized while every waiting job has priority 0, O(k) for k distinct
 * priorities otherwise.
 *
 * Invariants:
 * - `size` is the number of waiting jobs: the records and the entries in state "queued" of `fifo`,
 *   plus the entries of `ranked`. An entry dropped from `fifo` (cancelled while queued) stays there,
 *   counted in `dropped`, until `take` passes it or `compact` removes it (when more than half of
 *   `fifo` is dropped entries).
 * - `ranked` holds only entries of priority ≠ 0, highest first, FIFO within a priority; `tails` is
 *   undefined while it is empty, otherwise it maps each priority present in it to its last entry.
 */
export class Lane {
  /** the waiting jobs of priority 0: [work or Entry, context, name, seq, admittedAt] records */
  private fifo = new SlotRing()
  /** entries of `fifo` that are no longer queued (cancelled) */
  private dropped = 0
  readonly ranked = new EntryQueue<Entry>()
  private tails: Map<number, Entry> | undefined = undefined
  size = 0
  running = 0
  /** running jobs of this lane that wait for other jobs, and whether their stall was reported (`stall.ts`) */
  waitingOnJobs = 0
  stallWarned = false
  inRing = false
  constructor(
    readonly pool: Pool,
    readonly key: string | undefined
  ) {}

  /** Queues a plain job as a record (see `needsMore`); it becomes an entry in state "queued" when taken. */
  addPlain(
    work: Effect.Effect<unknown, unknown, any>,
    context: Context.Context<never>,
    name: string | undefined,
    seq: number,
    admittedAt: number
  ): void {
    this.fifo.push(work, context, name, seq, admittedAt)
    this.size++
  }

  /** Queues `entry` behind every waiting job of its priority or a higher one. */
  add(entry: Entry): void {
    this.size++
    const p = entry.priority
    if (p === 0) {
      this.fifo.push(entry, undefined, undefined, 0, 0)
      return
    }
    const tails = (this.tails ??= new Map())
    let after: Entry | undefined
    let lowest = Number.POSITIVE_INFINITY
    for (const [q, tail] of tails)
      if (q >= p && q < lowest) {
        lowest = q
        after = tail
      }
    if (after === undefined) this.ranked.unshift(entry)
    else this.ranked.insertAfter(after, entry)
    tails.set(p, entry)
  }

  /** Takes the next job to start, if any, as an entry in state "queued". */
  take(): Entry | undefined {
    const first = this.ranked.head
    if (first !== undefined && first.priority > 0) {
      this.dropRanked(first)
      return first
    }
    const fifo = this.fifo
    while (fifo.length > 0) {
      const head = fifo.head(0)
      if (head instanceof Entry) {
        fifo.shift()
        if (head.state !== "queued") {
          this.dropped--
          continue
        }
        this.size--
        return head
      }
      const entry = this.materialize(0)
      fifo.shift()
      this.size--
      return entry
    }
    if (first !== undefined) this.dropRanked(first)
    return first
  }

  /** Precondition: `entry` waits in this lane and its state is about to leave "queued". Removes it. */
  drop(entry: Entry): void {
    if (entry.priority !== 0) {
      this.dropRanked(entry)
      return
    }
    this.size--
    this.dropped++
    if (this.dropped > 64 && this.dropped * 2 > this.fifo.length) this.compact(entry)
  }

  /** The waiting jobs in the order they would start, as entries (records become new entries: for reading). */
  *waiting(): Iterable<Entry> {
    for (let e = this.ranked.head; e !== undefined && e.priority > 0; e = e.next) yield e
    yield* this.waitingFifo()
    for (let e = this.ranked.head; e !== undefined; e = e.next) if (e.priority < 0) yield e
  }

  /** The waiting jobs of priority ≠ 0 (highest first). */
  *waitingRanked(): Iterable<Entry> {
    for (let e = this.ranked.head; e !== undefined; e = e.next) yield e
  }

  /** The waiting jobs of priority 0, oldest (lowest `seq`) first, as entries (records become new entries: for reading). */
  *waitingFifo(): Iterable<Entry> {
    for (let i = 0; i < this.fifo.length; i++) {
      const x = this.fifo.at(i, 0)
      if (!(x instanceof Entry)) yield this.materialize(i)
      else if (x.state === "queued") yield x
    }
  }

  /** Takes every waiting job out (oldest first within a priority, as `take` would), as entries in state "queued". */
  takeAll(): Array<Entry> {
    const all: Array<Entry> = []
    for (let e = this.take(); e !== undefined; e = this.take()) all.push(e)
    return all
  }

  /** The record `i` places behind the head of `fifo` as a new entry in state "queued". */
  private materialize(i: number): Entry {
    const fifo = this.fifo
    const entry = new Entry(
      fifo.at(i, 3) as number,
      this,
      fifo.at(i, 0) as Effect.Effect<unknown, unknown, any>,
      fifo.at(i, 1) as Context.Context<never>,
      fifo.at(i, 2) as string | undefined
    )
    entry.state = "queued"
    entry.admittedAt = fifo.at(i, 4) as number
    return entry
  }

  private dropRanked(entry: Entry): void {
    this.size--
    const tails = this.tails!
    const p = entry.priority
    if (tails.get(p) === entry) {
      const prev = entry.prev
      if (prev !== undefined && prev.priority === p) tails.set(p, prev)
      else tails.delete(p)
    }
    this.ranked.remove(entry)
    if (this.ranked.head === undefined) this.tails = undefined
  }

  /** Rebuilds `fifo` without its dropped entries (`leaving`, being dropped now, included). */
  private compact(leaving: Entry): void {
    const old = this.fifo
    const fresh = new SlotRing()
    for (let i = 0; i < old.length; i++) {
      const x = old.at(i, 0)
      if (x instanceof Entry && (x === leaving || x.state !== "queued")) continue
      fresh.push(x, old.at(i, 1), old.at(i, 2), old.at(i, 3), old.at(i, 4))
    }
    this.fifo = fresh
    this.dropped = 0
  }
}

/** A pool: its limits, its lanes and its token bucket. */
export class Pool {
  running = 0
  /** running jobs of this pool that wait for other jobs, and whether their stall was reported (`stall.ts`) */
  waitingOnJobs = 0
  stallWarned = false
  inRing = false
  /** no job of this pool starts while set (`Supervisor.pause`) */
  paused = false
  /** jobs of this pool started, and dropped by `whenFull: "drop"`, so far */
  started = 0
  dropped = 0
  /** durations (Clock millis) of this pool's jobs since the metrics last took them; undefined without metrics */
  durations: Array<number> | undefined = undefined
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

  /** Every waiting job of this pool, lane by lane, as entries (see `Lane.waiting`: for reading). */
  *queuedEntries(): Iterable<Entry> {
    for (const lane of this.allLanes()) yield* lane.waiting()
  }

  /** The keyless lane, then the keyed ones. */
  *allLanes(): Iterable<Lane> {
    yield this.keyless
    yield* this.lanes.values()
  }

  /** Takes every waiting job of this pool out of its lanes (see `Lane.takeAll`). */
  takeQueued(): Array<Entry> {
    const all = this.keyless.takeAll()
    for (const lane of this.lanes.values()) for (const e of lane.takeAll()) all.push(e)
    return all
  }
}
