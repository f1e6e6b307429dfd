/**
 * What the supervisor's parts share: its resolved configuration, the entry that stands for one job
 * from admission to outcome, and the lanes and pools jobs wait in.
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
 * `input` as a Duration ≥ 0 (Infinity allowed), or undefined when it is not one. Every duration a
 * user gives (a job's `timeout`, `delay`, a retry delay, `grace`, an interval) is read here.
 * Stricter than effect's `Duration.fromInput`, which reads NaN (`Number(process.env.TIMEOUT)`
 * unset) as 0, and any object as a `DurationObject`: `{ second: 5 }` or `{}` would be 0 millis, a
 * job timing out at once. An object must be a Duration, a `[seconds, nanos]` pair of numbers, or a
 * `DurationObject` with at least one of its units and no other key.
 */
export const nonNegativeDuration = (input: unknown): Duration.Duration | undefined => {
  if (typeof input === "number" ? Number.isNaN(input) : typeof input === "object" && !durationShaped(input))
    return undefined
  const d = Duration.fromInput(input as Duration.Input)
  return Option.isSome(d) && Duration.toMillis(d.value) >= 0 ? d.value : undefined
}

/** The units of effect's `Duration.DurationObject`. */
const durationUnits: ReadonlyArray<string> = [
  "weeks",
  "days",
  "hours",
  "minutes",
  "seconds",
  "milliseconds",
  "microseconds",
  "nanoseconds"
]

/** Whether the object (or null) `input` is one `nonNegativeDuration` reads (see there); NaN in it is no number. */
const durationShaped = (input: object | null): boolean => {
  if (input === null) return false
  if (Duration.isDuration(input)) return true
  const isNumber = (u: unknown) => typeof u === "number" && !Number.isNaN(u)
  if (Array.isArray(input)) return input.length === 2 && isNumber(input[0]) && isNumber(input[1])
  let units = 0
  for (const key in input) {
    const value = (input as Record<string, unknown>)[key]
    if (!durationUnits.includes(key) || !(value === undefined || isNumber(value))) return false
    if (value !== undefined) units++
  }
  return units > 0
}

/**
 * `expected` for the error of a bad duration `input`: for an object that is not a Duration (a
 * misspelt unit, `{}`), with the units a duration object takes.
 */
export const durationExpected = (expected: string, input: unknown): string =>
  typeof input === "object" && input !== null && !Array.isArray(input) && !Duration.isDuration(input)
    ? `${expected} (an object takes one or more of ${durationUnits.join(", ")})`
    : expected

/** Whether every own field of `o` can be read (no getter throws, no Proxy trap throws). */
const readable = (o: object): boolean => {
  try {
    ;({ ...o })
    return true
  } catch {
    return false
  }
}

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

// ── option names ────────────────────────────────────────────────────────────

/**
 * Which options an options object may hold, beyond a group item's (`name`, `pool`, `key`,
 * `timeout`, `priority`, `delay`, `retry`, `annotations`): the sum of these flags.
 */
export const OptionFlags = {
  /** `id` (a single job's: a group's jobs are not deduplicated) */
  id: 1,
  /** `reportTo` (the Effect API's jobs and groups) */
  reportTo: 2,
  /** `concurrency` (a group's own) */
  group: 4,
  /** `signal` (the Promise API's `run` and `all`) */
  signal: 8,
  /** `policy` (`all`'s own: `forkAll` hands every outcome over, it has no policy) */
  policy: 16
} as const

/** The options of `Job.fire` and `Job.fork` (`Job.Options`). */
export const jobOptionFlags = OptionFlags.id | OptionFlags.reportTo

/**
 * The first key of `options` (own or inherited, as `for…in` sees them) that is not an option
 * allowed by `flags` (see `OptionFlags`), or undefined. `Job.fire` runs it on every job: one
 * `for…in` and a `switch`, nothing allocated when every key is known.
 */
export const unknownOption = (options: object, flags: number): string | undefined => {
  for (const key in options) {
    switch (key) {
      case "name":
      case "pool":
      case "key":
      case "timeout":
      case "priority":
      case "delay":
      case "retry":
      case "annotations":
        continue
      case "id":
        if ((flags & OptionFlags.id) !== 0) continue
        break
      case "reportTo":
        if ((flags & OptionFlags.reportTo) !== 0) continue
        break
      case "concurrency":
        if ((flags & OptionFlags.group) !== 0) continue
        break
      case "policy":
        if ((flags & OptionFlags.policy) !== 0) continue
        break
      case "signal":
        if ((flags & OptionFlags.signal) !== 0) continue
        break
    }
    return key
  }
  return undefined
}

/** The option names `flags` allows (see `OptionFlags`), in the order of the docs. */
const optionNames = (flags: number): Array<string> => {
  const names = ["name", "pool", "key", "timeout", "priority", "delay", "retry", "annotations"]
  if ((flags & OptionFlags.id) !== 0) names.unshift("id")
  if ((flags & OptionFlags.policy) !== 0) names.unshift("policy")
  if ((flags & OptionFlags.group) !== 0) names.unshift("concurrency")
  if ((flags & OptionFlags.reportTo) !== 0) names.push("reportTo")
  if ((flags & OptionFlags.signal) !== 0) names.push("signal")
  return names
}

/**
 * Throws a JobArgumentError unless `options` is an object whose every key is an option `flags`
 * allows (see `OptionFlags`): a misspelt option would be ignored (a job without its timeout). The
 * error names `prefix` + the key (or the object: `prefix` without its final dot, else "options"),
 * lists the known options, and says which one was meant when one is close. A key set to null is
 * refused too (null is no option's value).
 */
export const checkOptions = (options: unknown, prefix: string, flags: number): void => {
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw new JobArgumentError(prefix === "" ? "options" : prefix.slice(0, -1), options, "an object")
  const key = unknownOption(options, flags)
  if (key === undefined) {
    // null is no option's value: where options merge (an item's over its group's) it would read as
    // "not given" and silently take the group's, while fire refuses it
    for (const k in options)
      if ((options as Record<string, unknown>)[k] === null)
        throw new JobArgumentError(`${prefix}${k}`, null, "a value (leave the option out for its default)")
    return
  }
  throw new JobArgumentError(
    `${prefix}${key}`,
    (options as Record<string, unknown>)[key],
    `${knownKeys(key, optionNames(flags))}${key === "id" ? " (a group's jobs take no id)" : ""}`
  )
}

/**
 * The first key of `o` (as `for…in` sees them) not in `known`, or undefined: for configurations,
 * read once (a job's options are checked by `unknownOption`).
 */
export const unknownKey = (o: object, known: ReadonlyArray<string>): string | undefined => {
  for (const key in o) if (!known.includes(key)) return key
  return undefined
}

/**
 * What an unknown key `key` expects, for its error: a known one — the closest named when one is
 * close (a case or a few letters off, or a prefix: `timeOut`, `concurency`, `retries`, `prio`) —
 * then the `known` ones.
 */
export const knownKeys = (key: string, known: ReadonlyArray<string>): string => {
  const meant = closest(key, known)
  return `a known name${meant === undefined ? "" : ` (did you mean ${meant}?)`}; the known ones are ${known.join(", ")}`
}

/**
 * The name of `known` closest to `key`, if one is close (see `knownKeys`). (@tributary/channel
 * suggests its option names by the same rule in its internal arguments module: each package checks
 * its own inputs, and neither exports such a helper.)
 */
const closest = (key: string, known: ReadonlyArray<string>): string | undefined => {
  const k = key.toLowerCase()
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const name of known) {
    const n = name.toLowerCase()
    const d = n.length >= 3 && k.length >= 3 && (n.startsWith(k) || k.startsWith(n)) ? 1 : editDistance(k, n)
    if (d < bestDistance && d <= (k.length <= 4 ? 1 : k.length <= 6 ? 2 : 3)) {
      best = name
      bestDistance = d
    }
  }
  return best
}

/** The Levenshtein distance of `a` and `b` (insertions, deletions, substitutions). */
const editDistance = (a: string, b: string): number => {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    row = next
  }
  return row[b.length]
}

/**
 * Throws a JobArgumentError (its argument named `prefix` + the option) for an option of `spec`
 * that is not what `Job.Options` documents: `spec` not an object, an unknown key (see
 * `checkOptions`), a bad value; returns when every option is acceptable.
 */
export const checkSpec = (spec: EntrySpec, prefix: string): void => {
  checkOptions(spec, prefix, jobOptionFlags)
  if (spec.id !== undefined && (typeof spec.id !== "string" || spec.id === ""))
    throw new JobArgumentError(`${prefix}id`, spec.id, "a non-empty string")
  if (spec.name !== undefined && (typeof spec.name !== "string" || spec.name === ""))
    throw new JobArgumentError(`${prefix}name`, spec.name, "a non-empty string")
  if (spec.key !== undefined && typeof spec.key !== "string")
    throw new JobArgumentError(`${prefix}key`, spec.key, "a string")
  if (spec.timeout !== undefined && nonNegativeDuration(spec.timeout) === undefined)
    throw new JobArgumentError(`${prefix}timeout`, spec.timeout, durationExpected("a duration ≥ 0", spec.timeout))
  if (spec.priority !== undefined && !(typeof spec.priority === "number" && Number.isFinite(spec.priority)))
    throw new JobArgumentError(`${prefix}priority`, spec.priority, "a finite number")
  if (spec.delay !== undefined) {
    const d = nonNegativeDuration(spec.delay)
    if (d === undefined || !Number.isFinite(Duration.toMillis(d)))
      throw new JobArgumentError(`${prefix}delay`, spec.delay, durationExpected("a finite duration ≥ 0", spec.delay))
  }
  if (spec.retry !== undefined && !Schedule.isSchedule(spec.retry))
    throw new JobArgumentError(`${prefix}retry`, spec.retry, "a Schedule")
  if (spec.reportTo !== undefined && !Chan.isChan(spec.reportTo))
    throw new JobArgumentError(`${prefix}reportTo`, spec.reportTo, "a channel (WritePort)")
  if (spec.annotations !== undefined && (typeof spec.annotations !== "object" || spec.annotations === null))
    throw new JobArgumentError(`${prefix}annotations`, spec.annotations, "an object")
  if (spec.annotations !== undefined && !readable(spec.annotations))
    // a getter that throws would throw where the job starts, out of any caller's reach
    throw new JobArgumentError(`${prefix}annotations`, spec.annotations, "an object whose fields can be read")
  if (spec.annotations !== undefined) {
    // the supervisor writes these on the job's lines: the annotation would be dropped there
    for (const key in spec.annotations)
      if (supervisorFields.includes(key) || key.startsWith("job."))
        throw new JobArgumentError(
          `${prefix}annotations.${key}`,
          (spec.annotations as Record<string, unknown>)[key],
          `a field the supervisor does not write itself (it writes ${supervisorFields.join(", ")} and every job.* field)`
        )
  }
}

/** The fields of a job's lines that the supervisor writes (besides `job.*`): no annotation may take them. */
const supervisorFields: ReadonlyArray<string> = ["attempt", "durationMillis", "retryInMillis", "ageMillis"]

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

/** The class of effect's default Clock (to tell it from a TestClock or another stand-in). */

/** The error of a job that is not an Effect. */
export const notAnEffect = (argument: string, value: unknown): JobArgumentError =>
  new JobArgumentError(argument, value, "an Effect (wrap a Promise-returning function as Effect.tryPromise(() => f()))")
