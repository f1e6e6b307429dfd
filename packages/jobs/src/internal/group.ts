/**
 * Groups of works run as jobs: `Group`, the driver of `Job.forkAll` and `Job.all`, and `specOf`,
 * the options of each work of a group (the group's, overridden by its item's). Every work of a
 * group ends exactly once: its job's outcome, or an "Interrupted" outcome with attempt 0 when it
 * was never admitted (the supervisor shut down, or the group was cancelled); `leftovers` gives
 * what a group cut short has not handed over yet. See `Group`'s invariants below.
 *
 * @internal
 */
import { knownOption } from "@tributary/arguments"
import { Chan, type WritePort } from "@tributary/channel"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Option from "effect/Option"
import type { GroupOptions, Item, Work } from "../Options.js"
import type { Outcome, OutcomeTag } from "../Outcome.js"
import { inOperation, JobArgumentError, SupervisorClosedError } from "../SupervisorError.js"
import { definedOf } from "./definition.js"
import { dispatched } from "./dispatch.js"
import * as internal from "./supervisor.js"

/** The fields of an `Item` (`Job.item` makes them). */
const itemFields: ReadonlyArray<string> = ["work", "options"]

/** Whether a work of a group is an `Item` (an Effect with options) rather than a bare Effect. */
const isItem = <A, E, R>(work: Work<A, E, R>): work is Item<A, E, R> =>
  !Effect.isEffect(work) && typeof work === "object" && work !== null && "work" in work

/**
 * The job options of work `i` of a group: the group's, overridden by the item's own (annotations
 * merged), named `${base}-${i}` unless the item is named (`base`: the group's name, else a defined
 * job's definition name, else "job").
 */
const specOf = <A, E, R>(
  work: Work<A, E, R>,
  i: number,
  group: GroupOptions<A, E>,
  base: string,
  reportTo?: WritePort<Outcome<any, any>>
): internal.EntrySpec & { readonly pool?: string | undefined } => {
  const own = isItem(work) ? work.options : undefined
  // a job made by a definition is named after it unless the group is named
  if (group.name === undefined) {
    const defined = definedOf(isItem(work) ? work.work : work)
    if (defined !== undefined) base = defined.name
  }
  if (own === undefined)
    return {
      name: `${base}-${i}`,
      pool: group.pool,
      key: group.key,
      delay: group.delay,
      priority: group.priority,
      timeout: group.timeout,
      retry: group.retry,
      annotations: group.annotations,
      reportTo
    }
  return {
    name: own.name ?? `${base}-${i}`,
    pool: own.pool ?? group.pool,
    key: own.key ?? group.key,
    delay: own.delay ?? group.delay,
    priority: own.priority ?? group.priority,
    timeout: own.timeout ?? group.timeout,
    retry: own.retry ?? group.retry,
    annotations:
      own.annotations === undefined || group.annotations === undefined
        ? (own.annotations ?? group.annotations)
        : { ...group.annotations, ...own.annotations },
    reportTo
  }
}

/** `Chan.putUnsafe` that never throws: beyond the port's `maxPending` the outcome is not delivered there. */
export const putWithoutWaiting = <A>(port: WritePort<A>, value: A): void => {
  try {
    Chan.putUnsafe(port, value)
  } catch {
    // the port refuses more pending puts: the outcome is still on the group's own port
  }
}

/**
 * A group of works run as jobs, at most `concurrency` admitted at once: the driver of `forkAll`
 * and `all`. `run` admits (always waiting for room), hands each outcome with its input index to
 * `onOutcome`, and returns after every work has had one: the admitted ones their job's outcome;
 * those never admitted (the supervisor shut down, or `cancel`) an "Interrupted" outcome with
 * attempt 0, as a job cancelled while queued. `leftovers` gives what `run` would still have handed
 * over, for when its fiber is stopped early.
 *
 * Invariants: every index below `next` was admitted (its job is in `live` until its outcome is
 * taken from `inbox`) or handed over as never started; indexes from `next` on are untouched, but
 * for `pending`, the entry of `next`, made but not admitted yet. Before it waits for room in a
 * full queue, a group hands over the outcomes already in `inbox` (so they flow to a `forkAll`
 * port while the rest is admitted); run `eager`, it also takes those that come while it waits,
 * so a deciding one ("failFast", "firstSuccess") is acted on at once, not once room frees up.
 */
export class Group<A, E> {
  cancelled = false
  closedError: SupervisorClosedError | undefined = undefined
  readonly live = new Map<string, internal.Entry>()
  /** the admitted jobs' outcomes, as they end (room for every live job: their puts never wait) */
  readonly inbox: Chan.Chan<Outcome<A, E>>
  /** input index of each live job (admitted, outcome not taken yet), by job id */
  readonly index = new Map<string, number>()
  /** the next work to admit */
  next = 0
  /** the entry of work `next`, made but refused by a full queue (admitted later, or never started) */
  pending: internal.Entry | undefined = undefined
  readonly works: ReadonlyArray<Work<A, E, any>>
  readonly concurrency: number
  readonly name: string
  /**
   * Checks everything at the call site (nothing is admitted when one work or option is bad): the
   * group's options, then each work and its merged options, with a JobArgumentError naming them
   * and `caller`.
   */
  constructor(
    readonly state: internal.SupervisorState,
    works: Iterable<Work<A, E, any>>,
    /** the caller's services, which every job of the group runs with */
    readonly context: Context.Context<any>,
    readonly options: GroupOptions<A, E>,
    /** the caller: `Job.all` also takes `policy`, `Job.forkAll` does not */
    caller: "Job.all" | "Job.forkAll"
  ) {
    // the checks below name no call: the group's caller is named once one throws
    try {
      if (typeof options !== "object" || options === null)
        throw new JobArgumentError("options", options, "an object with concurrency")
      const n = options.concurrency
      if (!(typeof n === "number" && n >= 1 && (Number.isInteger(n) || n === Number.POSITIVE_INFINITY)))
        throw new JobArgumentError("concurrency", n, "an integer ≥ 1 (or Infinity)")
      const name = options.name ?? "job"
      if (typeof name !== "string" || name === "") throw new JobArgumentError("name", name, "a non-empty string")
      if (works === null || typeof (works as any)?.[Symbol.iterator] !== "function")
        throw new JobArgumentError("works", works, "an iterable of Effects (or Job.item)")
      if (options.reportTo !== undefined && !Chan.isChan(options.reportTo))
        throw new JobArgumentError("reportTo", options.reportTo, "a channel (WritePort)")
      // a misspelt option would be ignored; a group's jobs take no id
      internal.checkOptions(
        options,
        "",
        internal.OptionFlags.group |
          internal.OptionFlags.reportTo |
          (caller === "Job.all" ? internal.OptionFlags.policy : 0)
      )
      this.concurrency = n
      this.name = name
      this.works = Array.from(works)
      // the group's own per-job options, named as the caller wrote them
      state.checkJob(Effect.void, specOf(Effect.void as unknown as Work<A, E, never>, 0, options, name), "work", "")
      for (let i = 0; i < this.works.length; i++) {
        const work = this.works[i]
        const item = isItem(work)
        if (item) {
          // an item's own fields and options as written: `specOf` reads only the known ones
          const field = internal.unknownKey(work, itemFields)
          if (field !== undefined)
            throw new JobArgumentError(
              `works[${i}].${field}`,
              (work as unknown as Record<string, unknown>)[field],
              knownOption(field, itemFields)
            )
          if (work.options !== undefined) internal.checkOptions(work.options, `works[${i}].options.`, 0)
        }
        state.checkJob(
          item ? work.work : work,
          specOf(work, i, options, name),
          item ? `works[${i}].work` : `works[${i}]`,
          item ? `works[${i}].options.` : ""
        )
      }
    } catch (error) {
      throw inOperation(error, caller)
    }
    this.inbox = Chan.makeUnsafe<Outcome<A, E>>(this.bound)
  }

  /** set by `decidesOn`: given to each entry of the group (`decide`) */
  private decide: ((entry: internal.Entry) => void) | undefined = undefined

  /**
   * Makes outcomes that `decides` (a "failFast" failure, a "firstSuccess" success) end the group's
   * queued and delayed works, and withdraw its `pending` one, the moment the deciding job ends —
   * before its slot is handed on, so none of them starts there. The caller's `cancel` still ends the
   * running ones once it reads the outcome.
   */
  decidesOn(decides: (tag: OutcomeTag) => boolean): void {
    this.decide = (entry) => {
      if (this.cancelled || !decides(entry.tag)) return
      this.cancelled = true
      const pending = this.pending
      if (pending !== undefined) {
        // let into the queue by a wake the group's fiber has not booked yet: end it with the queued ones
        if (pending.state === "queued" || pending.state === "delayed") this.state.interruptUnsafe(pending)
        else internal.withdraw(this.state, pending)
      }
      for (const live of [...this.live.values()])
        if (live.state === "queued" || live.state === "delayed") this.state.interruptUnsafe(live)
    }
  }
  /**
   * The jobs the group's caller waits for (`stall.ts`): those that have not ended — the admitted
   * ones and the one waiting for room — but none while a running job may still decide the group
   * ("failFast", "firstSuccess"): its end may end the wait.
   */
  *awaited(): Iterable<internal.Entry> {
    if (this.decide !== undefined) for (const entry of this.live.values()) if (entry.state === "running") return
    yield* this.live.values()
    if (this.pending !== undefined) yield this.pending
  }

  /** the most jobs of the group admitted at once */
  get bound(): number {
    return Math.max(1, Math.min(this.concurrency, this.works.length))
  }

  /**
   * `eager`: while waiting for room in a full queue, also take the outcomes of live jobs (each
   * such wait then costs a race of two fibers); without it, those that end during the wait are
   * taken once room came (the ones in `inbox` before it are taken first either way).
   */
  run(onOutcome: (index: number, o: Outcome<A, E>) => Effect.Effect<void>, eager: boolean): Effect.Effect<void> {
    const self = this
    return Effect.gen(function* () {
      while (true) {
        /** an outcome taken while the group waited for room in the queue */
        let taken: Option.Option<Outcome<A, E>> | undefined
        while (!self.cancelled && self.live.size < self.bound && self.next < self.works.length) {
          if (self.live.size > 0 && !self.state.roomInQueue()) {
            // the queue is full: the outcomes that are in go out before the group waits for room
            const ready = Chan.pollUnsafe(self.inbox)
            if (ready._tag === "Some") {
              taken = ready
              break
            }
          }
          const entry = (self.pending ??= self.entryOf(self.next))
          const admission = internal.admitEffect(self.state, entry, "wait")
          let admitted: Exit.Exit<unknown, unknown>
          if (admission === internal.admittedNow || self.live.size === 0 || !eager)
            admitted = yield* Effect.exit(admission)
          else {
            // the queue is full: wait for room (in turn with other waiting fires), unless an outcome of
            // a live job comes first (it may decide the group); then the wait is withdrawn, tried again after
            const first = yield* Effect.raceFirst(
              Effect.map(Effect.exit(admission), (exit) => ({ exit, taken: undefined })),
              Effect.map(Chan.take(self.inbox), (o) => ({ exit: undefined, taken: o }))
            )
            if (first.exit === undefined) {
              taken = first.taken
              // room came at the same moment: the entry left the overflow, it is admitted
              if (entry.state !== "waiting") self.admitted(entry)
              break
            }
            admitted = first.exit
          }
          if (Exit.isFailure(admitted)) {
            self.cancelled = true
            self.closedError = new SupervisorClosedError(self.state.config.name)
            break
          }
          self.admitted(entry)
        }
        if (taken === undefined) {
          if (self.live.size === 0) break
          taken = yield* Chan.take(self.inbox)
        }
        if (taken._tag === "None") break
        const o = taken.value
        self.live.delete(o.id)
        const index = self.index.get(o.id)!
        self.index.delete(o.id) // kept as small as `live`: a map of every job of a large group cost more than its jobs
        yield* onOutcome(index, o)
      }
      const never = self.neverStarted()
      if (never.length > 0) {
        yield* Effect.logWarning(
          `${never.length} job${never.length === 1 ? "" : "s"} of group ${self.name} never started: ${
            self.closedError === undefined ? "the group was cancelled" : self.closedError.message
          }`
        ).pipe(Effect.annotateLogs({ "group.name": self.name, neverStarted: never.length }))
        for (const [i, o] of never) yield* onOutcome(i, o)
      }
    })
  }

  /** Books the admission of `entry`, the entry of work `next`. */
  private admitted(entry: internal.Entry): void {
    this.pending = undefined
    this.index.set(entry.id, this.next)
    this.live.set(entry.id, entry)
    this.next++
  }

  /**
   * Stops the group: nothing more is admitted, and every live job ends — the queued and delayed
   * ones first, without running (an "Interrupted" outcome, attempt 0), then the running ones are
   * interrupted. In that order because interrupting a running job frees its slot at once, and a
   * job of the group still queued behind it would start in it (running its work, spending a rate
   * token) before being interrupted in turn.
   */
  get cancel(): Effect.Effect<void> {
    return Effect.sync(() => {
      this.cancelled = true
      // room came for the pending entry while the group was being stopped (its wake-up still on its
      // way to the group's fiber): it was admitted, so it is the group's to end with the rest
      const pending = this.pending
      if (pending !== undefined && pending.state !== "waiting") this.admitted(pending)
      const running: Array<internal.Entry> = []
      for (const entry of [...this.live.values()])
        if (entry.state === "running") running.push(entry)
        else this.state.interruptUnsafe(entry)
      for (const entry of running) this.state.interruptUnsafe(entry)
    })
  }

  /**
   * What `run` has not handed over: the outcomes waiting in `inbox`, then an "Interrupted" outcome
   * for every work never admitted (the group is cancelled first). Jobs still running are not
   * included.
   */
  leftovers(): Array<Outcome<A, E>> {
    this.cancelled = true
    const rest: Array<Outcome<A, E>> = []
    for (let o = Chan.pollUnsafe(this.inbox); o._tag === "Some"; o = Chan.pollUnsafe(this.inbox)) {
      this.live.delete(o.value.id)
      rest.push(o.value)
    }
    for (const [, o] of this.neverStarted()) rest.push(o)
    return rest
  }

  /** The entry of work `i` with its options (see `specOf`), reporting to `inbox`. */
  private entryOf(i: number): internal.Entry {
    const work = this.works[i]
    // one object of one shape per job (a spread copy of it cost more than the job's admission)
    const spec = specOf(work, i, this.options, this.name, this.inbox as WritePort<Outcome<any, any>>)
    const entry = this.state.entry(dispatched(isItem(work) ? work.work : work, this.context), spec, this.context)
    if (this.decide !== undefined) entry.extra().decide = this.decide
    return entry
  }

  /** Ends every work from `next` on without running it: an "Interrupted" outcome, attempt 0, each. */
  private neverStarted(): Array<readonly [number, Outcome<A, E>]> {
    const never: Array<readonly [number, Outcome<A, E>]> = []
    for (; this.next < this.works.length; this.next++) {
      const entry = this.pending ?? this.entryOf(this.next)
      this.pending = undefined
      never.push([this.next, internal.unstartedOutcome(this.state, entry) as Outcome<A, E>])
    }
    return never
  }
}
