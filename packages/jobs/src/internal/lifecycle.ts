/**
 * A supervisor's life: `makeState` starts it (its scope, outcome channel, mult and fiber),
 * `admitEffect` is the admission every `fire`/`fork` goes through (one path), and `shutdown` ends
 * it (stop admitting, grace, stragglers, last lines).
 *
 * Invariants (numbered in the supervisor's one list, which runs across its parts: see
 * `supervisor.ts`):
 * 10. Once `closed` is set (only by `shutdown`), `admitEffect` refuses every job with
 *     `SupervisorClosedError`, and every `fire` waiting for room is woken refused: no job is
 *     admitted after the shutdown began.
 * 11. `shutdown` completes `shutdownDone` only after every admitted job has its outcome and its
 *     line (the stragglers interrupted, the queued and delayed cancelled, then `drain`), the
 *     supervisor fiber has ended and the outcome channel is closed; a second call waits for it.
 * 12. A job refused by a full queue (`whenFull: "drop"`) has no outcome: its warn line, written
 *     here in the caller's fiber through the supervisor's loggers, is its only record (with its
 *     payload for a defined job).
 *
 * @internal
 */
import { Buffer, Chan } from "@tributary/channel"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as Scheduler from "effect/Scheduler"
import * as Scope from "effect/Scope"
import type { Outcome } from "../Outcome.js"
import { SupervisorClosedError, SupervisorFullError } from "../SupervisorError.js"
import { forgetState } from "./context.js"
import { definedOf } from "./definition.js"
import { jobAnnotations, logContained, throughSupervisorLoggers } from "./lines.js"
import { supervisorLoop } from "./logging.js"
import { MetricsPublisher } from "./metrics.js"
import type { Entry, FullPolicy, ResolvedConfig } from "./model.js"
import { SupervisorState } from "./state.js"

// ── shutdown ────────────────────────────────────────────────────────────────

/**
 * Stops admitting, waits up to `graceMillis` for every job, logs each straggler (running or
 * queued) by name and age, interrupts them newest first, waits for their outcomes to be logged,
 * then stops the supervisor fiber. Idempotent: a second call waits for the first, and a second
 * call's shorter grace ends the first one's sooner (the shortest grace wins).
 */
export const shutdown = (state: SupervisorState, graceMillis: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    const done = state.shutdownDone
    if (state.closed) {
      const cut = state.graceCut
      if (cut === undefined || Deferred.isDoneUnsafe(cut)) return Deferred.await(done)
      return Effect.raceFirst(
        Deferred.await(done),
        Effect.andThen(
          Effect.sleep(graceMillis),
          Effect.andThen(Deferred.succeed(cut, undefined), Deferred.await(done))
        )
      )
    }
    state.closed = true
    const cut = (state.graceCut = Deferred.makeUnsafe<void>())
    for (let entry = state.overflow.shift(); entry !== undefined; entry = state.overflow.shift()) {
      const wake = entry.wake!
      entry.wake = undefined
      state.forgetId(entry)
      wake(false)
    }
    return Effect.gen(function* () {
      // queued where nothing starts them (the supervisor or their pool paused): the grace cannot
      // run them, so they are cancelled now rather than at its end
      const held = state.takeQueued(true)
      if (held.length > 0) {
        const now = state.now()
        for (const entry of held)
          yield* logContained(
            state,
            Effect.logWarning(`job ${entry.name} queued in a paused pool at shutdown; cancelling it`).pipe(
              Effect.annotateLogs({ ...jobAnnotations(entry), ageMillis: now - entry.admittedAt })
            )
          )
        for (const entry of held) state.cancelQueued(entry, true)
      }
      // waiting out their delay: one ending after the shutdown began is cancelled (`endDelay`), so
      // the grace cannot run them either; cancelled now, newest first
      const delayed = [...state.delayed].reverse()
      if (delayed.length > 0) {
        const now = state.now()
        for (const entry of delayed)
          yield* logContained(
            state,
            Effect.logWarning(`job ${entry.name} still delayed at shutdown; cancelling it`).pipe(
              Effect.annotateLogs({ ...jobAnnotations(entry), ageMillis: now - entry.admittedAt })
            )
          )
        for (const entry of delayed) state.cancelDelayed(entry)
      }
      const drained = yield* Effect.raceFirst(
        Effect.asSome(state.drain),
        Effect.as(Effect.raceFirst(Effect.sleep(graceMillis), Deferred.await(cut)), Option.none())
      )
      if (Option.isNone(drained)) {
        const now = state.now()
        const running = [...state.running].reverse() // newest first
        const queued = state.takeQueued().reverse() // newest first; out of their lanes, so none starts now
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
        for (const entry of queued) state.cancelQueued(entry, true)
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
      state.metrics?.close() // the final counts; the name is free again
      yield* Chan.close(state.published)
      forgetState(state) // `Job.fire`'s remembered supervisor: a shut-down one is not kept reachable
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
    const every = config.metricsMillis
    if (every !== undefined) {
      const metrics = new MetricsPublisher(config.name, state.pools.values(), context)
      state.metrics = metrics
      metrics.publish() // every series exists from the start, at 0
      yield* Effect.forkIn(
        Effect.forever(
          Effect.andThen(
            Effect.sleep(every),
            Effect.sync(() => metrics.publish())
          )
        ),
        scope
      )
    }
    return state
  })

/**
 * `fire`/`fork`'s admission: refuses when the supervisor is closed, applies `policy`; a job that
 * starts or is queued returns at once. `dropped` is logged here, in the caller's fiber (through the
 * supervisor's loggers and minimum level).
 */
export const admitEffect = (
  state: SupervisorState,
  entry: Entry,
  policy: FullPolicy
): Effect.Effect<"admitted" | "dropped", SupervisorClosedError | SupervisorFullError> => {
  if (state.closed) return Effect.fail(new SupervisorClosedError(state.config.name))
  const more = entry.more
  if (more !== undefined && more.delayMillis !== undefined && more.delayMillis > 0) {
    state.delay(entry, more.delayMillis)
    return admittedNow
  }
  const verdict =
    more === undefined || more.userId === undefined
      ? state.admit(entry, policy)
      : state.admitWithId(entry, more.userId, policy)
  switch (verdict) {
    case "started":
    case "queued":
      return admittedNow
    case "full":
      return Effect.fail(new SupervisorFullError(state.config.name, entry.name))
    case "dropped": {
      const annotations = jobAnnotations(entry)
      // a dropped job has no outcome: for a defined one, this line is the only record of its payload
      const defined = definedOf(entry.work)
      if (defined !== undefined) annotations["job.payload"] = defined.encoded
      const line = throughSupervisorLoggers(
        state.context,
        Effect.logWarning(`job ${entry.name} dropped: the queue is full`).pipe(Effect.annotateLogs(annotations))
      )
      return Effect.as(logContained(state, line), "dropped" as const)
    }
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
    return Effect.sync(() => withdraw(state, entry))
  })

/**
 * Takes an entry waiting for room (`waitForRoom`) out of the overflow: it will not be admitted, and
 * its `fire` is never woken (it is being interrupted). Nothing when it was admitted already.
 */
export const withdraw = (state: SupervisorState, entry: Entry): void => {
  if (entry.wake === undefined) return
  entry.wake = undefined
  state.overflow.remove(entry)
  state.forgetId(entry)
}

/** what `admitEffect` returns for a job admitted at once (callers may compare against it) */
export const admittedNow = Effect.succeed("admitted" as const)
