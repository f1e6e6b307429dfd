/**
 * Submitting one job to a given supervisor's state: the one admission path of `Job.fire`,
 * `Job.fork` and the `Supervisor` service's `fire`/`fork` (the module functions find the state in
 * the caller's context; the service is bound to its own). Also the handle of a forked job.
 *
 * Invariants:
 * - A job with a caller-given id that is live (waiting for room, queued, delayed or running) is
 *   not submitted again: `fireIn` does nothing, `forkIn` returns the live job's handle.
 * - A defined job goes through the caller's `Dispatcher` (if any) before it is admitted.
 * - A job with a handle or a `reportTo` is never dropped by `whenFull: "drop"`: it fails with
 *   SupervisorFullError instead (whoever waits for its outcome would wait for ever).
 * - A plain job (see `needsMore`) that starts or is queued at once gets no entry object until it
 *   starts (`firePlain`); every other job is one entry admitted by `admitEffect`.
 * - `fire` and `fork` (`FireCall`, `ForkCall`) read the caller's context where they run, and
 *   complete inside `yield*` when the job is admitted at once (see inline.ts).
 * - A bad argument throws a JobArgumentError naming the call (`Job.fire`, `sup.fork`…): the
 *   checks on the way name none, and `FireCall`/`ForkCall` name theirs once one is thrown (nothing
 *   is allocated or passed per call for it).
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type { Handle, Options } from "../Options.js"
import {
  inOperation,
  JobArgumentError,
  type SupervisorClosedError,
  type SupervisorFullError
} from "../SupervisorError.js"
import { dispatched } from "./dispatch.js"
import { ContextCall } from "./inline.js"
import { admitEffect, admittedNow } from "./lifecycle.js"
import { type Entry, needsMore } from "./model.js"
import type { SupervisorState } from "./state.js"

/** The handle of a forked job: its entry and its supervisor's state. */
class HandleImpl<A, E> implements Handle<A, E> {
  readonly id: string
  readonly name: string
  constructor(
    readonly state: SupervisorState,
    readonly entry: Entry
  ) {
    this.id = entry.id
    this.name = entry.name
  }
}

/** The handle itself; throws a JobArgumentError naming `operation` for anything else. */
const handleOf = <A, E>(h: Handle<A, E>, operation: string): HandleImpl<A, E> => {
  if (h instanceof HandleImpl) return h
  throw new JobArgumentError(`${operation} handle`, h, "a job handle (what Job.fork returns)")
}

/** The entry behind a handle (a JobArgumentError naming `operation` when `h` is none). */
export const entryOf = <A, E>(h: Handle<A, E>, operation: string): Entry => handleOf(h, operation).entry

/** The supervisor's state behind a handle (a JobArgumentError naming `operation` when `h` is none). */
export const stateOf = <A, E>(h: Handle<A, E>, operation: string): SupervisorState => handleOf(h, operation).state

/** `Job.fire` on `state`, with the caller's services `context`. */
export const fireIn = <A, E, R>(
  state: SupervisorState,
  work: Effect.Effect<A, E, R>,
  options: Options<A, E> | undefined,
  context: Context.Context<never>
): Effect.Effect<void, SupervisorClosedError | SupervisorFullError> => {
  // a live job with the same caller-given id stands for this one (dedupe), once its options are checked
  if (options?.id !== undefined && state.liveById(options.id) !== undefined) {
    state.checkJob(work, options, "work", "")
    return Effect.void
  }
  const job = dispatched(work, context)
  // a plain job that starts or is queued needs no entry object yet (see `Lane`)
  if (!needsMore(options) && state.firePlain(job, options, context)) return Effect.void
  const entry = state.entry(job, options, context)
  // a job whose outcome someone reads on reportTo is never dropped (as a handle's): its reader would wait for ever
  const policy = state.config.whenFull
  const admitted = admitEffect(state, entry, policy === "drop" && options?.reportTo !== undefined ? "fail" : policy)
  return admitted === admittedNow ? Effect.void : Effect.asVoid(admitted)
}

/**
 * `Job.fork` on `state`, with the caller's services `context`: when the queue is full, "wait"
 * suspends, "fail" and "drop" fail with SupervisorFullError (a handle's job is never dropped).
 */
export const forkIn = <A, E, R>(
  state: SupervisorState,
  work: Effect.Effect<A, E, R>,
  options: Options<A, E> | undefined,
  context: Context.Context<never>
): Effect.Effect<Handle<A, E>, SupervisorClosedError | SupervisorFullError> => {
  const forked = forkUnsafe(state, work, options, context)
  return forked.admission === admittedNow ? Effect.succeed(forked.handle) : Effect.as(forked.admission, forked.handle)
}

/**
 * `forkIn` up to its admission, synchronously: the job's handle, and `admission`, the effect that
 * admits it — `admittedNow` when it is admitted already (no fiber needed), else one that waits for
 * room or fails. Throws a JobArgumentError for a bad option.
 */
export const forkUnsafe = <A, E, R>(
  state: SupervisorState,
  work: Effect.Effect<A, E, R>,
  options: Options<A, E> | undefined,
  context: Context.Context<never>
): {
  readonly handle: Handle<A, E>
  readonly admission: Effect.Effect<unknown, SupervisorClosedError | SupervisorFullError>
} => {
  // a live job with the same caller-given id: its handle is returned (dedupe)
  const live = options?.id === undefined ? undefined : state.liveById(options.id)
  if (live !== undefined) {
    state.checkJob(work, options!, "work", "")
    return { handle: new HandleImpl<A, E>(state, live), admission: admittedNow }
  }
  const entry = state.entry(dispatched(work, context), options, context)
  const policy = state.config.whenFull
  return {
    handle: new HandleImpl<A, E>(state, entry),
    admission: admitEffect(state, entry, policy === "drop" ? "fail" : policy)
  }
}

/** The supervisor a call submits to: a given one, or the one found in the caller's context. */
export type Target = SupervisorState | ((context: Context.Context<never>) => SupervisorState)

const stateFor = (target: Target, context: Context.Context<never>): SupervisorState =>
  typeof target === "function" ? target(context) : target

/** A submission of `work` with `options` to `target`, as an Effect that completes inside `yield*`. */
abstract class SubmitCall<A, E, R, Out> extends ContextCall<Out, SupervisorClosedError | SupervisorFullError> {
  constructor(
    readonly target: Target,
    readonly work: Effect.Effect<A, E, R>,
    readonly options: Options<A, E> | undefined
  ) {
    super()
  }
}

/**
 * `fire` of `work` with `options` on `target`; a bad argument throws a JobArgumentError naming
 * `Job.fire` (the target found in the caller's context) or `sup.fire` (the service's own state).
 */
export class FireCall<A, E, R> extends SubmitCall<A, E, R, void> {
  call(context: Context.Context<never>): Effect.Effect<void, SupervisorClosedError | SupervisorFullError> {
    try {
      return fireIn(stateFor(this.target, context), this.work, this.options, context)
    } catch (error) {
      throw inOperation(error, typeof this.target === "function" ? "Job.fire" : "sup.fire")
    }
  }
}

/** `fork` of `work` with `options` on `target`: its handle (a bad argument: see `FireCall`, `Job.fork` or `sup.fork`). */
export class ForkCall<A, E, R> extends SubmitCall<A, E, R, Handle<A, E>> {
  call(context: Context.Context<never>): Effect.Effect<Handle<A, E>, SupervisorClosedError | SupervisorFullError> {
    try {
      return forkIn(stateFor(this.target, context), this.work, this.options, context)
    } catch (error) {
      throw inOperation(error, typeof this.target === "function" ? "Job.fork" : "sup.fork")
    }
  }
}
