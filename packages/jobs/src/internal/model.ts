/**
 * What the supervisor's parts share: its resolved configuration, the entry that stands for one job
 * from admission to outcome, and the lanes and pools jobs wait in.
 *
 * Invariants:
 * - An entry's `state` goes "waiting" → "queued" → "running" → "done" (or straight to "running",
 *   or from "queued" to "done" when cancelled); it never leaves "done".
 * - An entry is linked in at most one `EntryQueue` (a lane's, `overflow`, `toStart` or `toLog`) and,
 *   while running, in the `running` list.
 * - A lane belongs to one pool and one key (or the pool's keyless jobs); a keyed lane with nothing
 *   waiting or running is forgotten (`collect`), so keys do not leak.
 *
 * @internal
 */
import { Chan, type WritePort } from "@tributary/channel"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import type * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type { Outcome, OutcomeTag } from "../Outcome.js"
import type * as Snapshot from "../Snapshot.js"
import { JobArgumentError } from "../SupervisorError.js"
import { definedOf } from "./definition.js"
import { EntryQueue, Fifo } from "./queues.js"

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

/** What `state.entry` reads from a job's options (the public `Job.Options`, read in place). */
export interface EntrySpec {
  /** the job's own id (dedupe: a live job with this id is returned instead of a second one) */
  readonly id?: string | undefined
  readonly name?: string | undefined
  readonly key?: string | undefined
  readonly timeout?: Duration.Input | undefined
  readonly retry?: Schedule.Schedule<unknown, any> | undefined
  readonly reportTo?: WritePort<Outcome<any, any>> | undefined
  readonly annotations?: Record<string, unknown> | undefined
  /** how long to wait (Clock time) before the job is admitted */
  readonly delay?: Duration.Input | undefined
  /** higher first among the waiting jobs of its lane (default 0) */
  readonly priority?: number | undefined
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
      (spec.id !== undefined ||
        spec.delay !== undefined ||
        spec.priority !== undefined ||
        spec.timeout !== undefined ||
        spec.retry !== undefined ||
        spec.reportTo !== undefined ||
        spec.annotations !== undefined)
    ) {
      const more = this.extra()
      more.timeout = spec.timeout === undefined ? undefined : nonNegativeDuration(spec.timeout) // checked by `entry`
      more.retry = spec.retry
      more.reportTo = spec.reportTo
      more.annotations = spec.annotations
      more.userId = spec.id
      more.priority = spec.priority ?? 0
      if (spec.delay !== undefined) more.delayMillis = Duration.toMillis(nonNegativeDuration(spec.delay)!) // checked by `entry`
      if (spec.id !== undefined) this.idString = spec.id
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
      awaiters: undefined,
      userId: undefined,
      priority: 0,
      delayMillis: undefined,
      delayTimer: undefined,
      progress: undefined
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
  if (spec.id !== undefined && (typeof spec.id !== "string" || spec.id === ""))
    throw new JobArgumentError(`${prefix}id`, spec.id, "a non-empty string")
  if (spec.name !== undefined && typeof spec.name !== "string")
    throw new JobArgumentError(`${prefix}name`, spec.name, "a string")
  if (spec.key !== undefined && typeof spec.key !== "string")
    throw new JobArgumentError(`${prefix}key`, spec.key, "a string")
  if (spec.timeout !== undefined && nonNegativeDuration(spec.timeout) === undefined)
    throw new JobArgumentError(`${prefix}timeout`, spec.timeout, "a duration ≥ 0")
  if (spec.priority !== undefined && !(typeof spec.priority === "number" && Number.isFinite(spec.priority)))
    throw new JobArgumentError(`${prefix}priority`, spec.priority, "a finite number")
  if (spec.delay !== undefined) {
    const d = nonNegativeDuration(spec.delay)
    if (d === undefined || !Number.isFinite(Duration.toMillis(d)))
      throw new JobArgumentError(`${prefix}delay`, spec.delay, "a finite duration ≥ 0")
  }
  if (spec.retry !== undefined && !Schedule.isSchedule(spec.retry))
    throw new JobArgumentError(`${prefix}retry`, spec.retry, "a Schedule")
  if (spec.reportTo !== undefined && !Chan.isChan(spec.reportTo))
    throw new JobArgumentError(`${prefix}reportTo`, spec.reportTo, "a channel (WritePort)")
  if (spec.annotations !== undefined && (typeof spec.annotations !== "object" || spec.annotations === null))
    throw new JobArgumentError(`${prefix}annotations`, spec.annotations, "an object")
}

/**
 * The waiting entries of one key of a pool (or the pool's keyless entries): highest `priority`
 * first, first in, first out within a priority; its head is the next to start (a cancelled entry
 * leaves at once). Add, take and drop are O(k) for k distinct priorities waiting, O(1) while every
 * waiting entry has priority 0.
 *
 * Invariant: `tails` is undefined while no entry with a priority ≠ 0 was added since the lane was
 * last empty; otherwise it maps each priority present among the waiting entries to the last
 * waiting entry of that priority.
 */
export class Lane {
  readonly waiting = new EntryQueue<Entry>()
  running = 0
  inRing = false
  private tails: Map<number, Entry> | undefined = undefined
  constructor(
    readonly pool: Pool,
    readonly key: string | undefined
  ) {}

  /** Queues `entry` behind every waiting entry of its priority or a higher one. */
  add(entry: Entry): void {
    const p = entry.priority
    let tails = this.tails
    if (tails === undefined) {
      if (p === 0) {
        this.waiting.push(entry)
        return
      }
      tails = this.tails = new Map()
      if (this.waiting.tail !== undefined) tails.set(0, this.waiting.tail) // all of priority 0 so far
    }
    let after: Entry | undefined
    let lowest = Number.POSITIVE_INFINITY
    for (const [q, tail] of tails)
      if (q >= p && q < lowest) {
        lowest = q
        after = tail
      }
    if (after === undefined) this.waiting.unshift(entry)
    else this.waiting.insertAfter(after, entry)
    tails.set(p, entry)
  }

  /** Takes the head (the next to start), if any. */
  take(): Entry | undefined {
    const head = this.waiting.head
    if (head !== undefined) this.drop(head)
    return head
  }

  /** Precondition: `entry` waits in this lane. Removes it. */
  drop(entry: Entry): void {
    const tails = this.tails
    if (tails !== undefined) {
      const p = entry.priority
      if (tails.get(p) === entry) {
        const prev = entry.prev
        if (prev !== undefined && prev.priority === p) tails.set(p, prev)
        else tails.delete(p)
      }
    }
    this.waiting.remove(entry)
    if (this.waiting.head === undefined) this.tails = undefined
  }
}

/** A pool: its limits, its lanes and its token bucket. */
export class Pool {
  running = 0
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

  /** Every queued entry of this pool, lane by lane. */
  *queuedEntries(): Iterable<Entry> {
    yield* this.keyless.waiting
    for (const lane of this.lanes.values()) yield* lane.waiting
  }
}

/** The class of effect's default Clock (to tell it from a TestClock or another stand-in). */

/** The error of a job that is not an Effect. */
export const notAnEffect = (argument: string, value: unknown): JobArgumentError =>
  new JobArgumentError(argument, value, "an Effect (wrap a Promise-returning function as Effect.tryPromise(() => f()))")
