/**
 * The types of one job shared by `Job` and the `Supervisor` service: its options, the handle of a
 * forked job and its status, and what a group (`forkAll`, `all`) takes. (`Job` re-exports them:
 * `Job.Options`, `Job.Handle`, `Job.Status`, `Job.Work`, `Job.Item`, `Job.GroupOptions`…)
 * Types only: the public modules and the group driver import this one, and it imports neither.
 *
 * @since 0.2.0
 */
import type { WritePort } from "@tributary/channel"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Schedule from "effect/Schedule"
import type { Outcome } from "./Outcome.js"

/**
 * Where a job is: waiting in the queue, waiting out its `delay`, running, or done (its outcome is out).
 *
 * @since 0.2.0
 */
export type Status = "queued" | "delayed" | "running" | "done"

/**
 * A forked job: pass it to `await`, `join`, `interrupt`, `status`.
 *
 * @since 0.2.0
 */
export interface Handle<A, E = never> {
  /** the job's id: its `id` option, or the supervisor's ("1", "2", …); `job.id` in its lines */
  readonly id: string
  /** the job's `name` option (default: its definition's name for a `Job.define` job, else "job") */
  readonly name: string
  /** @internal phantom */
  readonly "~tributary/Handle"?: (_: never) => [A, E]
}

/**
 * Options of `fire` and `fork`.
 *
 * @since 0.2.0
 */
export interface Options<A = unknown, E = unknown> {
  /**
   * the job's own id (default: the supervisor's, "1", "2", …), in its outcome and its lines as
   * `job.id`. Dedupe: while a job with this id is waiting, queued or running, `fire` with the
   * same id does nothing and `fork` returns that job's handle. Choose ids that do not look like
   * the supervisor's decimal ones.
   */
  readonly id?: string
  /** in log lines and outcomes (default "job") */
  readonly name?: string
  /** a named pool of the supervisor (default "default"); an unknown pool is a defect */
  readonly pool?: string
  /** for the pool's per-key cap */
  readonly key?: string
  /**
   * bound on the whole job, retries included, counted from its start: time spent queued or
   * delayed does not count; when it passes the outcome is "TimedOut"
   */
  readonly timeout?: Duration.Input
  /**
   * while the job waits in its pool's queue, higher goes first (default 0; any finite number):
   * among the waiting jobs of its key (or of its pool's keyless jobs), first in, first out within
   * a priority. Keys of a pool still take turns, and a job that can start at once starts.
   */
  readonly priority?: number
  /**
   * admit the job only after this much effect Clock time (`TestClock` drives it): meanwhile it
   * holds no running slot and no queue place (`status` "delayed"; `snapshot`'s `delayed`), and
   * `drain` waits for it. When the delay ends it starts, or joins its queue even if the queue is
   * full (it was accepted when fired). Cancelled by `interrupt` and by a shutdown (its outcome is
   * then "Interrupted", attempt 0).
   */
  readonly delay?: Duration.Input
  /** retries typed failures; each failed attempt that will be retried is logged at Warn with `attempt` */
  readonly retry?: Schedule.Schedule<unknown, E>
  /**
   * also receives the outcome, without suspending (core.async `put!`). A `Buffer.dropping` or
   * `Buffer.sliding` channel applies its policy: an outcome it drops goes to its `onUndelivered`,
   * with no warn line (it is still logged and counted). With `whenFull: "drop"`, a full queue
   * makes `fire` fail with SupervisorFullError rather than drop a job that has a `reportTo`.
   */
  readonly reportTo?: WritePort<Outcome<A, E>>
  /**
   * top-level fields on every log line of the job, the outcome line included; a field the
   * supervisor writes itself (`attempt`, `durationMillis`, `retryInMillis`, `ageMillis`, any
   * `job.*`) is refused with a JobArgumentError
   */
  readonly annotations?: Record<string, unknown>
}

/**
 * The per-job options a work of a group may carry (`Job.item`): everything `Options` has but
 * `reportTo` (a group reports on its own port and its `reportTo`) and `id` (no dedupe in a group).
 *
 * @since 0.2.0
 */
export type ItemOptions<A = unknown, E = unknown> = Omit<Options<A, E>, "reportTo" | "id">

/**
 * A work of `forkAll`/`all` with its own per-job options, made by `item`: its name, annotations,
 * key… override the group's.
 *
 * @since 0.2.0
 */
export interface Item<A, E, R> {
  /** the job's work */
  readonly work: Effect.Effect<A, E, R>
  /** its own options, over the group's (undefined: the group's alone) */
  readonly options?: ItemOptions<A, E> | undefined
}

/**
 * What `forkAll` and `all` take for each work: an Effect, or an `Item` (an Effect with its options).
 *
 * @since 0.2.0
 */
export type Work<A, E, R> = Effect.Effect<A, E, R> | Item<A, E, R>

/**
 * The options of `forkAll` and `all`: the group's own (`concurrency`, `name`, `reportTo`) and
 * every per-job option of `fire`, applied to each job of the group (an item's own options override
 * them; its annotations are merged over the group's).
 *
 * @since 0.2.0
 */
export interface GroupOptions<A = unknown, E = unknown> extends ItemOptions<A, E> {
  /** how many jobs of the group run at once, on top of the supervisor's and the pool's limits */
  readonly concurrency: number
  /** jobs are named `${name}-${index}` (index from 0) unless their item names them (default "job") */
  readonly name?: string
  /** also receives every outcome, with a suspending put (backpressure) */
  readonly reportTo?: WritePort<Outcome<A, E>>
}
