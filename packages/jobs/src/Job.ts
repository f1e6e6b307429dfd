/**
 * Jobs: work run as a detached fiber owned by the current `Supervisor`, whose outcome is always
 * put on the supervisor's outcome queue and logged. The upgrade path, one call site at a time:
 * `fire` (fire and forget) → `fork` (keep a handle) → `reportTo` / `forkAll` (outcomes on a
 * channel) → `all` (await a group).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job, Supervisor } from "@tributary/jobs"
 *
 * const program = Effect.gen(function* () {
 *   yield* Job.fire(Effect.log("cleaned"), { name: "clean" })
 *   const h = yield* Job.fork(Effect.succeed(42), { name: "answer" })
 *   const n = yield* Job.join(h) // 42
 *   const outcomes = yield* Job.all([Effect.succeed(1), Effect.fail("no")], { concurrency: 2 })
 *   return [n, outcomes.map((o) => o._tag)] // [42, ["Success", "Failure"]]
 * }).pipe(Effect.provide(Supervisor.layer()))
 * ```
 *
 * Gotchas:
 * - `timeout` bounds the whole job, retries included, from its start (time queued or delayed does
 *   not count); a timed-out job's `exit` is an interruption.
 * - `retry` retries typed failures only (not defects, not interruptions).
 * - The outcome is put on `reportTo` without suspending (core.async `put!`): a slow reader holds no
 *   job slot. Beyond the channel's `maxPending` waiting puts, or when the channel is closed, the
 *   outcome is not delivered there: the supervisor writes one warn line naming the job (the outcome
 *   itself is still logged and counted). A `dropping` or `sliding` channel takes every put and
 *   applies its policy: the outcomes it drops go to its `onUndelivered`, without a warn line.
 *
 * @since 0.2.0
 */
import { knownOption } from "@tributary/arguments"
import type { ReadPort } from "@tributary/channel"
import { Chan } from "@tributary/channel"
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as LogLevel from "effect/LogLevel"
import * as References from "effect/References"
import * as Schema from "effect/Schema"
import { ProgressListener } from "./Dispatcher.js"
import { lastStateIn, stateIfAny, stateIn } from "./internal/context.js"
import { DefinedJob } from "./internal/definition.js"
import { Group, putWithoutWaiting } from "./internal/group.js"
import { checkOptions, unknownKey } from "./internal/options.js"
import * as submit from "./internal/submit.js"
import * as internal from "./internal/supervisor.js"
import type { GroupOptions, Handle, Item, ItemOptions, Options, Status, Work } from "./Options.js"
import type { Outcome } from "./Outcome.js"
import type { Supervisor } from "./Supervisor.js"
import {
  JobAbortedError,
  JobArgumentError,
  JobPayloadError,
  SupervisorClosedError,
  type SupervisorFullError
} from "./SupervisorError.js"

// ── models ──────────────────────────────────────────────────────────────────

export type { GroupOptions, Handle, Item, ItemOptions, Options, Status, Work } from "./Options.js"

export type {
  /**
   * The one outcome of a job (see the `Outcome` module).
   *
   * @since 0.2.0
   */
  Outcome,
  /**
   * How a job ended (see the `Outcome` module).
   *
   * @since 0.2.0
   */
  OutcomeTag
} from "./Outcome.js"

/**
 * How `all` reads a group's outcomes.
 *
 * @since 0.2.0
 */
export type Policy = "collectAll" | "failFast" | "firstSuccess"

/**
 * A named job whose input is data a Schema encodes: `make(payload)` gives the job. See `define`.
 *
 * @since 0.2.0
 */
export interface Definition<P, A, E, R> {
  /** the definition's name: its jobs' default `name`, and what a `Dispatcher` sees as `Defined.name` */
  readonly name: string
  /** encodes the payload for the outcome, the log line and other processes */
  readonly payload: Schema.Codec<P, unknown>
  /** the work for one payload */
  readonly run: (payload: P) => Effect.Effect<A, E, R>
  /**
   * The job for `payload`: an Effect that `fire`, `fork`, `forkAll` and `all` accept like any other
   * (with the same options), named after the definition unless `name` is given, with the encoded
   * payload on its outcome (`payload`) and its outcome line (`job.payload`). Throws a
   * `JobPayloadError` when the payload does not encode.
   */
  readonly make: (payload: P) => Effect.Effect<A, E, R>
}

// ── constructors ────────────────────────────────────────────────────────────

/** The fields of `define`'s spec. */
const definitionFields: ReadonlyArray<string> = ["name", "payload", "run"]

/**
 * Defines a named job whose payload an effect `Schema` encodes. The job it makes runs locally at
 * the cost of `Job.fire(effect)` (the payload is encoded once, when the job is made: the Schema's
 * encoding must be synchronous); its name and encoded payload are what lets it be run elsewhere,
 * where a closure cannot go.
 *
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Job } from "@tributary/jobs"
 *
 * const syncRecord = Job.define({
 *   name: "sync-record",
 *   payload: Schema.Struct({ id: Schema.Number }),
 *   run: ({ id }) => Effect.log(`syncing ${id}`)
 * })
 * const program = Job.fire(syncRecord.make({ id: 42 }), { pool: "partner" }) // named "sync-record"
 * ```
 *
 * Gotchas:
 * - the payload is in the outcome line as `job.payload` (a field name with a dot: a pino `redact`
 *   path reaches inside it as `["job.payload"].password`);
 * - `run` is called when the job starts, not at `make`: a `run` that returns no Effect (a Promise,
 *   a value) fails the job with a `JobArgumentError` naming `run` (a defect in its outcome);
 * - the job is the Effect `make` returns: piped further (`make(p).pipe(Effect.timeout(…))`) it is
 *   a new, plain Effect, with no definition name or payload (and a `Dispatcher` no longer sees
 *   it). Give such wrappers to `run`, or use the job options (`timeout`, `retry`).
 *
 * @since 0.2.0
 */
export const define = <P, A, E, R>(spec: {
  readonly name: string
  readonly payload: Schema.Codec<P, unknown>
  readonly run: (payload: P) => Effect.Effect<A, E, R>
}): Definition<P, A, E, R> => {
  if (typeof spec !== "object" || spec === null)
    throw new JobArgumentError("definition", spec, "{ name, payload, run }", "Job.define")
  // a key define does not read would be ignored: a `timeout` or `pool` meant for every job of it
  const unknown = unknownKey(spec, definitionFields)
  if (unknown !== undefined)
    throw new JobArgumentError(
      unknown,
      (spec as Record<string, unknown>)[unknown],
      `${knownOption(unknown, definitionFields)} (a job's options are given where it is fired: Job.fire(definition.make(payload), { timeout }))`,
      "Job.define"
    )
  const { name, payload, run } = spec
  if (typeof name !== "string" || name === "")
    throw new JobArgumentError("name", name, "a non-empty string", "Job.define")
  if (!Schema.isSchema(payload)) throw new JobArgumentError("payload", payload, "an effect Schema", "Job.define")
  if (typeof run !== "function")
    throw new JobArgumentError("run", run, "a function from the payload to an Effect", "Job.define")
  const encode = Schema.encodeExit(payload as Schema.Codec<P, unknown, never, never>)
  const notAnEffect = (job: unknown) => notAnEffectFrom(name, job)
  return {
    name,
    payload,
    run,
    make: (value) => {
      const encoded = encode(value)
      if (Exit.isFailure(encoded)) throw new JobPayloadError(name, value, encodeFailure(encoded.cause))
      return new DefinedJob(name, encoded.value, value, run, notAnEffect) as unknown as Effect.Effect<A, E, R>
    }
  }
}

/**
 * Queues `work` to run as a detached fiber owned by the current Supervisor and returns at once
 * while the queue has room (a job that can start at once never takes a queue slot); when it is
 * full, `whenFull` decides (wait: suspend, fail: SupervisorFullError, drop: return, with one warn
 * line naming the dropped job — but a job with `reportTo` fails with SupervisorFullError instead,
 * since its reader waits for its outcome). After shutdown began: SupervisorClosedError.
 *
 * Interrupting a `fire` that waits for room withdraws its job (never run, no outcome) — unless
 * room came first: the job is then admitted, runs and gets its outcome line like any other, and
 * only the caller sees the interruption.
 *
 * `yield* Job.fire(…)` (and `yield* Job.fork(…)`) admits a job that can start or be queued at once
 * inside `yield*` itself, without a round through the fiber's run loop: it still counts toward the
 * fiber's turn before it yields to others, and still stops at a pending interrupt. In a function
 * made by `Effect.fnUntracedEager`, whose generator runs when it is called, the job is therefore
 * fired at the call (when called inside a fiber), not when the returned Effect runs.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job } from "@tributary/jobs"
 *
 * const handler = Job.fire(Effect.log("sync partner"), { name: "sync", pool: "partner", key: "acme" })
 * ```
 *
 * @since 0.2.0
 */
export const fire = <A, E, R>(
  work: Effect.Effect<A, E, R>,
  options?: Options<A, E>
): Effect.Effect<void, SupervisorClosedError | SupervisorFullError, R | Supervisor> =>
  new submit.FireCall(fireTarget, work, options) as unknown as Effect.Effect<
    void,
    SupervisorClosedError | SupervisorFullError,
    R | Supervisor
  >

/**
 * Like `fire`, returning a handle; when the queue is full, "wait" suspends, "fail" and "drop" fail
 * with SupervisorFullError.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job } from "@tributary/jobs"
 *
 * const program = Effect.gen(function* () {
 *   const report = yield* Job.fork(Effect.succeed("report.csv"), { name: "report", timeout: "1 minute" })
 *   yield* Effect.log("report started") // the job runs meanwhile
 *   return yield* Job.join(report) // "report.csv"
 * })
 * ```
 *
 * @since 0.2.0
 */
export const fork = <A, E, R>(
  work: Effect.Effect<A, E, R>,
  options?: Options<A, E>
): Effect.Effect<Handle<A, E>, SupervisorClosedError | SupervisorFullError, R | Supervisor> =>
  new submit.ForkCall(forkTarget, work, options) as unknown as Effect.Effect<
    Handle<A, E>,
    SupervisorClosedError | SupervisorFullError,
    R | Supervisor
  >

/**
 * A work of a group with its own options: `Job.all(records.map((r) => Job.item(sync(r), { name:
 * `sync-${r.id}`, key: r.partner })), { concurrency: 8, pool: "partner" })` runs every job in the
 * pool "partner", each with its own name and key. Options that are not an object, or an unknown
 * option (a misspelt `timeOut`), throw a JobArgumentError here; bad values are refused by the
 * group call.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job } from "@tributary/jobs"
 *
 * const ids = [1, 2, 3]
 * const outcomes = Job.all(
 *   ids.map((id) => Job.item(Effect.succeed(id), { name: `record-${id}`, annotations: { recordId: id } })),
 *   { concurrency: 2, pool: "partner", timeout: "5 seconds" }
 * )
 * ```
 *
 * @since 0.2.0
 */
export const item = <A, E, R>(work: Effect.Effect<A, E, R>, options?: ItemOptions<A, E>): Item<A, E, R> => {
  // options that are not an object, or an unknown key, throw here (the group checks their values)
  if (options !== undefined) checkOptions(options, "", 0, "Job.item")
  return { work, options }
}

// ── handle operations ───────────────────────────────────────────────────────

/**
 * Waits for the job's end: its `Exit` (an interruption for a timed-out or cancelled job).
 *
 * @since 0.2.0
 */
const await_ = <A, E>(h: Handle<A, E>): Effect.Effect<Exit.Exit<A, E>> => awaitHandle(h, "Job.await")

/** The end of the job behind `h` (a JobArgumentError naming `operation` when `h` is no handle). */
const awaitHandle = <A, E>(h: Handle<A, E>, operation: string): Effect.Effect<Exit.Exit<A, E>> =>
  Effect.suspend(() => {
    const entry = submit.entryOf(h, operation)
    if (entry.exit !== undefined) return Effect.succeed(entry.exit)
    // a job that waits for another keeps its slots meanwhile: counted for the stall check
    return submit.stateOf(h, operation).waitingFor(() => [entry], internal.awaitEntry(entry))
  }) as Effect.Effect<Exit.Exit<A, E>>

export {
  /**
   * Waits for the job's end: its `Exit` (an interruption for a timed-out or cancelled job).
   *
   * ```ts
   * import { Effect, Exit } from "effect"
   * import { Job } from "@tributary/jobs"
   *
   * const program = Effect.gen(function* () {
   *   const h = yield* Job.fork(Effect.sleep("1 minute"), { name: "slow", timeout: "1 second" })
   *   const exit = yield* Job.await(h) // never fails: the job's end is in the Exit
   *   return Exit.hasInterrupts(exit) ? "timed out" : "done" // "timed out"
   * })
   * ```
   *
   * @since 0.2.0
   */
  await_ as await
}

/**
 * Waits for the job's end and succeeds or fails as it did. A job that timed out or was interrupted
 * interrupts the caller (as `Fiber.join` does), which `catchTag` cannot catch: to tell a timeout
 * apart, read the job's `Exit` with `Job.await`, or run the job through `Job.all` with "failFast",
 * which fails with a typed `JobAbortedError` (`reason` "TimedOut" or "Interrupted"). Under
 * `runMain`, a program interrupted this way exits 1 with a line saying so.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job } from "@tributary/jobs"
 *
 * const total = Effect.gen(function* () {
 *   const orders = yield* Job.fork(Effect.succeed(12), { name: "count-orders" })
 *   const refunds = yield* Job.fork(Effect.succeed(3), { name: "count-refunds" })
 *   return (yield* Job.join(orders)) - (yield* Job.join(refunds)) // 9
 * })
 * ```
 *
 * @since 0.2.0
 */
export const join = <A, E>(h: Handle<A, E>): Effect.Effect<A, E> =>
  Effect.flatMap(awaitHandle(h, "Job.join"), (exit): Effect.Effect<A, E> => exit)

/**
 * Interrupts the job (a queued one is cancelled without running) and waits until it has ended.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job } from "@tributary/jobs"
 *
 * const program = Effect.gen(function* () {
 *   const poller = yield* Job.fork(Effect.forever(Effect.sleep("5 seconds")), { name: "poller" })
 *   yield* Job.interrupt(poller) // its outcome is "Interrupted"
 *   return yield* Job.status(poller) // "done"
 * })
 * ```
 *
 * @since 0.2.0
 */
export const interrupt = <A, E>(h: Handle<A, E>): Effect.Effect<void> =>
  Effect.suspend(() => submit.stateOf(h, "Job.interrupt").interruptEntry(submit.entryOf(h, "Job.interrupt")))

/**
 * Where the job is now.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job } from "@tributary/jobs"
 *
 * const program = Effect.gen(function* () {
 *   const h = yield* Job.fork(Effect.sleep("1 second"), { name: "nap", delay: "1 minute" })
 *   return yield* Job.status(h) // "delayed": it waits out its delay before it runs
 * })
 * ```
 *
 * @since 0.2.0
 */
export const status = <A, E>(h: Handle<A, E>): Effect.Effect<Status> =>
  Effect.sync(() => {
    const state = submit.entryOf(h, "Job.status").state
    return state === "waiting" ? "queued" : state
  })

// ── inside a job ────────────────────────────────────────────────────────────

/**
 * Reports the progress of the job this runs in (any value: a count, a fraction, `{ done, total }`):
 * the job's entry in `Supervisor.snapshot` and `watch` shows it as `progress`, and one debug line
 * (`job progress`, with `progress`) is written (built only when the fiber's minimum log level lets
 * Debug through); a `Dispatcher.ProgressListener` in the job's context hears it too (a worker of
 * `@tributary/nats` sends it back to the supervisor that fired the job). Outside a job (no `job.id`
 * log annotation, or the job is no longer running) it does nothing. Cheap enough to call per item:
 * the job is found in O(1) among the running ones.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job } from "@tributary/jobs"
 *
 * const importAll = (rows: ReadonlyArray<string>) =>
 *   Effect.forEach(rows, (row, i) => Effect.andThen(Effect.log(row), Job.progress({ done: i + 1, total: rows.length })))
 * ```
 *
 * @since 0.2.0
 */
export const progress = (value: unknown): Effect.Effect<void> =>
  Effect.withFiber((fiber) => {
    const state = stateIfAny(fiber.context)
    const id = fiber.getRef(References.CurrentLogAnnotations)["job.id"]
    if (state === undefined || typeof id !== "string") return Effect.void
    const entry = state.runningEntry(id)
    if (entry === undefined) return Effect.void
    entry.progress = value
    fiber.getRef(ProgressListener)?.(id, value)
    // the line is built only when it can be written (a job may report progress per item)
    return LogLevel.isGreaterThan(fiber.getRef(References.MinimumLogLevel), "Debug")
      ? Effect.void
      : Effect.logDebug("job progress").pipe(Effect.annotateLogs("progress", value))
  })

// ── groups ──────────────────────────────────────────────────────────────────

/**
 * Runs `works` as jobs, at most `concurrency` at once (on top of the supervisor's limits), and
 * returns a port carrying one Outcome per work in the order they end, closed after the last. Jobs
 * are named `${name}-${index}` (default name "job", index from 0). They always wait for room in
 * the queue (never dropped or refused by `whenFull`). Unlike `fire`'s `reportTo`, the group's
 * `reportTo` and the returned port are written with a suspending put: a slow reader slows the
 * group down (backpressure) instead of losing outcomes. A group admitting more at once than the
 * supervisor's queue holds hands over the outcomes it has before each wait for room.
 *
 * Every work gets exactly one outcome on the port, shutdown included: a work the group never
 * admitted because the supervisor shut down gets an "Interrupted" outcome with attempt 0 (as a
 * job cancelled while queued; one warn line counts them), and outcomes still undelivered when the
 * supervisor's scope closes are left on the port, which stays readable after it closes.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chan } from "@tributary/channel"
 * import { Job } from "@tributary/jobs"
 *
 * const program = Effect.gen(function* () {
 *   const outcomes = yield* Job.forkAll([1, 2, 3].map((id) => Effect.succeed(id * 10)), { concurrency: 2, name: "sync" })
 *   // one outcome per work, in the order they end: "sync-0 Success", …
 *   yield* Chan.forEach(outcomes, (o) => Effect.log(`${o.name} ${o._tag}`))
 * })
 * ```
 *
 * @since 0.2.0
 */
export const forkAll = <A, E, R>(
  works: Iterable<Work<A, E, R>>,
  // the group's options do not take part in inferring E (a `retry` Schedule accepting any error
  // would make it unknown, and the works' items, of their own E, would not fit)
  options: GroupOptions<A, NoInfer<E>>
): Effect.Effect<ReadPort<Outcome<A, E>>, SupervisorClosedError | SupervisorFullError, R | Supervisor> =>
  Effect.gen(function* () {
    const context = yield* Effect.context<R>()
    const state = stateIn(context as Context.Context<never>, "Job.forkAll")
    if (state.closed) return yield* Effect.fail(new SupervisorClosedError(state.config.name))
    const group = new Group(state, works, context, options, "Job.forkAll")
    // pending puts are never refused: the outcomes handed over without suspending at the end stay takeable
    const out = yield* Chan.make<Outcome<A, E>>(Math.max(1, Math.min(group.works.length, 1024)), {
      maxPending: Number.POSITIVE_INFINITY
    })
    const reportTo = options.reportTo
    /** the outcome being delivered, and whether it is on `reportTo` already */
    let current: Outcome<A, E> | undefined
    let reported = false
    const onOutcome = (_: number, o: Outcome<A, E>) =>
      Effect.gen(function* () {
        current = o
        reported = false
        if (reportTo !== undefined) yield* Chan.put(reportTo, o)
        reported = true
        yield* Chan.put(out, o)
        current = undefined
      })
    // when the group's fiber is stopped early (the supervisor's scope closed while it waited), the
    // outcomes it still holds go out without suspending, so every work has its one outcome on the port
    const handOver = Effect.sync(() => {
      const rest: Array<readonly [Outcome<A, E>, boolean]> = current === undefined ? [] : [[current, reported]]
      current = undefined
      for (const o of group.leftovers()) rest.push([o, false])
      for (const [o, onReportTo] of rest) {
        if (reportTo !== undefined && !onReportTo) putWithoutWaiting(reportTo, o)
        Chan.putUnsafe(out, o)
      }
      Chan.closeUnsafe(out)
    })
    yield* Effect.forkIn(Effect.ensuring(group.run(onOutcome, false), handOver), state.scope)
    return out
  })

/**
 * The options of `all`: a group's (`GroupOptions`) and how to read its outcomes.
 *
 * @since 0.2.0
 */
export interface AllOptions<A = unknown, E = unknown> extends GroupOptions<A, E> {
  /** default "collectAll" */
  readonly policy?: Policy
}

/**
 * Runs `works` as jobs (as `forkAll`) and waits for them:
 *  - "collectAll" (default): every Outcome, in input order
 *  - "failFast": the values in input order, or the first failure's error (the rest are interrupted)
 *  - "firstSuccess": the first value (the rest are interrupted), or the last error if all failed
 * "failFast" and "firstSuccess" decide as the deciding outcome comes, also while the group waits
 * for room in a full queue. A deciding job that timed out or was interrupted (a shutdown
 * included) fails the call with `JobAbortedError` naming it, with its outcome; a deciding work the
 * group could not admit because the supervisor had shut down, with `SupervisorClosedError`. A
 * shutdown never costs "collectAll" its outcomes: a work never started gets an "Interrupted"
 * outcome with attempt 0, as with `forkAll`. Interrupting the caller interrupts the group's jobs. Another
 * `policy`, or "firstSuccess" of no works (no value and no error to return), dies with a
 * JobArgumentError at the call site, before anything is admitted.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job } from "@tributary/jobs"
 *
 * const program = Effect.gen(function* () {
 *   const outcomes = yield* Job.all([Effect.succeed(1), Effect.fail("boom")], { concurrency: 2 })
 *   const tags = outcomes.map((o) => o._tag) // ["Success", "Failure"]
 *   const sizes = yield* Job.all([Effect.succeed(3), Effect.succeed(4)], { concurrency: 2, policy: "failFast" }) // [3, 4]
 *   const mirror = yield* Job.all([Effect.fail("down"), Effect.succeed("eu")], { concurrency: 2, policy: "firstSuccess" }) // "eu"
 *   return { tags, sizes, mirror }
 * })
 * ```
 *
 * @since 0.2.0
 */
export function all<A, E, R>(
  works: Iterable<Work<A, E, R>>,
  options: AllOptions<A, NoInfer<E>> & { readonly policy: "failFast" }
): Effect.Effect<Array<A>, E | SupervisorClosedError | SupervisorFullError | JobAbortedError, R | Supervisor>
export function all<A, E, R>(
  works: Iterable<Work<A, E, R>>,
  options: AllOptions<A, NoInfer<E>> & { readonly policy: "firstSuccess" }
): Effect.Effect<A, E | SupervisorClosedError | SupervisorFullError | JobAbortedError, R | Supervisor>
export function all<A, E, R>(
  works: Iterable<Work<A, E, R>>,
  options: AllOptions<A, NoInfer<E>> & { readonly policy?: "collectAll" }
): Effect.Effect<Array<Outcome<A, E>>, SupervisorClosedError | SupervisorFullError, R | Supervisor>
export function all<A, E, R>(
  works: Iterable<Work<A, E, R>>,
  options: AllOptions<A, NoInfer<E>>
): Effect.Effect<unknown, unknown, R | Supervisor> {
  return Effect.gen(function* () {
    const context = yield* Effect.context<R>()
    const state = stateIn(context as Context.Context<never>, "Job.all")
    if (state.closed) return yield* Effect.fail(new SupervisorClosedError(state.config.name))
    const group = new Group(state, works, context, options, "Job.all")
    const policy = options.policy ?? "collectAll"
    if (policy !== "collectAll" && policy !== "failFast" && policy !== "firstSuccess")
      throw new JobArgumentError("policy", policy, '"collectAll", "failFast" or "firstSuccess"', "Job.all")
    // "firstSuccess" of nothing has no value to return, nor an error
    if (policy === "firstSuccess" && group.works.length === 0)
      throw new JobArgumentError("works", group.works, 'at least one work with policy "firstSuccess"', "Job.all")
    if (policy !== "collectAll")
      group.decidesOn(policy === "failFast" ? (tag) => tag !== "Success" : (tag) => tag === "Success")
    const outcomes: Array<Outcome<A, E>> = new Array(group.works.length)
    let decided: Outcome<A, E> | undefined
    let last: Outcome<A, E> | undefined
    const reportTo = options.reportTo
    const record = (i: number, o: Outcome<A, E>): Effect.Effect<void> => {
      outcomes[i] = o
      last = o
      if (decided !== undefined) return Effect.void
      if ((policy === "failFast" && o._tag !== "Success") || (policy === "firstSuccess" && o._tag === "Success")) {
        decided = o
        return group.cancel
      }
      return Effect.void
    }
    // the group's reportTo gets every outcome too, with a suspending put (as forkAll's)
    const onOutcome =
      reportTo === undefined
        ? record
        : (i: number, o: Outcome<A, E>) => Effect.andThen(Chan.put(reportTo, o), record(i, o))
    // eager when an outcome may decide the group ("collectAll" waits for every job anyway)
    yield* Effect.onInterrupt(
      state.waitingFor(() => group.awaited(), group.run(onOutcome, policy !== "collectAll")),
      () => group.cancel
    )
    switch (policy) {
      case "collectAll":
        // a shutdown included: the works never started have their "Interrupted" outcome (attempt 0)
        return outcomes
      case "failFast":
        if (decided !== undefined) return yield* resultOf(group, decided)
        return outcomes.map((o) => (o.exit as Exit.Success<A, E>).value)
      case "firstSuccess":
        // some work had an outcome: there is at least one (checked above)
        return yield* resultOf(group, decided ?? last!)
    }
  })
}

/**
 * What `all` with "failFast" or "firstSuccess" returns for the outcome `o` that decided it: its
 * value or its error; for a job that ended without either, a typed failure — JobAbortedError
 * naming it (it timed out, or was interrupted: by a shutdown too, as the Promise API's `run`
 * rejects), or SupervisorClosedError for a work the group could not admit because the supervisor
 * had shut down (it has no job to name).
 */
const resultOf = <A, E>(
  group: Group<A, E>,
  o: Outcome<A, E>
): Effect.Effect<A, E | SupervisorClosedError | JobAbortedError> => {
  if (o._tag === "Success" || o._tag === "Failure") return o.exit as Effect.Effect<A, E>
  if (group.closedError !== undefined && o.attempt === 0) return Effect.fail(group.closedError)
  return Effect.fail(new JobAbortedError(o.name, o._tag, o as Outcome))
}

// ── private helpers ─────────────────────────────────────────────────────────

/** Why a payload did not encode: the Schema's issue, or that the Schema encodes asynchronously. */
const encodeFailure = (cause: Cause.Cause<unknown>): unknown => {
  const error = Cause.squash(cause)
  return Cause.isAsyncFiberError(error)
    ? new Error(
        "its Schema encodes asynchronously, and make encodes at once (use a Schema whose encoding is synchronous)",
        { cause: error }
      )
    : error
}

/** The defect of a job whose definition's `run` (given to `Job.define`) returned `value`, not an Effect. */
const notAnEffectFrom = (definition: string, value: unknown): JobArgumentError =>
  new JobArgumentError(
    "run",
    value,
    `an Effect from the run of job "${definition}" (wrap a Promise-returning function as Effect.tryPromise(() => f()))`,
    "Job.define"
  )

/** The Supervisor of a fiber's context (the last one is remembered until it shuts down: jobs are fired in loops). */
const fireTarget = (context: Context.Context<never>) => lastStateIn(context, "Job.fire")
const forkTarget = (context: Context.Context<never>) => lastStateIn(context, "Job.fork")
