/**
 * The extension point for running defined jobs elsewhere (another process, a queue): a
 * `Dispatcher` in the context of the code that fires a `Job.define` job decides what the local
 * supervisor runs in its place. `@tributary/nats` provides one that publishes the job to NATS
 * JetStream and waits for its outcome from a worker. Plain Effects are never dispatched: they
 * cannot leave the process.
 *
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Dispatcher, Job, Supervisor } from "@tributary/jobs"
 *
 * const greet = Job.define({ name: "greet", payload: Schema.String, run: (who) => Effect.log(`hello ${who}`) })
 * // every defined job is logged before it runs (a dispatcher may also run something else entirely)
 * const traced = Dispatcher.layer((defined, work) => Effect.andThen(Effect.log(`dispatching ${defined.name}`), work))
 * const program = Job.fire(greet.make("ada")).pipe(
 *   Effect.andThen(Supervisor.drain),
 *   Effect.provide(Supervisor.layer()),
 *   Effect.provide(traced)
 * )
 * ```
 *
 * Gotchas:
 * - The stand-in runs under the job's options (pool, key, timeout, retry) in the firing
 *   supervisor: it holds a slot of its pool while it runs, and `retry` runs it again.
 * - The dispatcher is read from the context of the fiber that fires the job (as every service of a
 *   job is); a job fired where no dispatcher is provided runs locally.
 * - `ProgressListener` is the other half, on the side that runs the jobs: it hears every
 *   `Job.progress` of the jobs fired where it is provided, to send it back.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Dispatcher, type DispatcherService } from "./internal/dispatch.js"
import { JobArgumentError } from "./SupervisorError.js"

/**
 * The service: what runs in the firing supervisor in place of a defined job.
 *
 * ```ts
 * import { Effect, Option } from "effect"
 * import { Dispatcher } from "@tributary/jobs"
 *
 * // whether the defined jobs fired here leave the process
 * const remote = Effect.map(Effect.serviceOption(Dispatcher.Dispatcher), Option.isSome)
 * ```
 *
 * @since 0.2.0
 */
export { Dispatcher }

/**
 * A defined job as the dispatcher sees it: the definition's name and the payload in its encoded
 * form (what the definition's Schema made of it: data that can travel).
 *
 * @since 0.2.0
 */
export interface Defined {
  /** the definition's name (`Job.define({ name })`) */
  readonly name: string
  /** the payload as the definition's Schema encoded it */
  readonly encoded: unknown
}

/**
 * What a dispatcher does with one defined job.
 *
 * @since 0.2.0
 */
export type Service = DispatcherService

/**
 * Provides a dispatcher: `dispatch(defined, work)` returns the work to run in place of the defined
 * job (`work` is the job as it would run locally). Throws a `JobArgumentError` when `dispatch` is
 * not a function; a `dispatch` that returns no Effect fails the job it was given with one.
 *
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Dispatcher, Job } from "@tributary/jobs"
 *
 * // in a test: record the defined jobs instead of running them
 * const sent: Array<string> = []
 * const recording = Dispatcher.layer((defined) => Effect.sync(() => sent.push(`${defined.name} ${JSON.stringify(defined.encoded)}`)))
 * const invoice = Job.define({ name: "invoice", payload: Schema.Struct({ id: Schema.Number }), run: () => Effect.void })
 * const program = Job.fire(invoice.make({ id: 7 })).pipe(Effect.provide(recording)) // sent: ['invoice {"id":7}']
 * ```
 *
 * @since 0.2.0
 */
export const layer = (
  dispatch: (defined: Defined, work: Effect.Effect<unknown, unknown, any>) => Effect.Effect<unknown, unknown, any>
): Layer.Layer<Dispatcher> => {
  if (typeof dispatch !== "function")
    throw new JobArgumentError("Dispatcher.layer dispatch", dispatch, "a function (defined, work) => Effect")
  return Layer.succeed(Dispatcher, { dispatch })
}

/**
 * Where `Job.progress` also reports, besides the job's entry: a function of the job's id (its
 * `job.id` in the supervisor that runs it) and the value, read from the job's context. None by
 * default. A worker that runs jobs for another process provides it around the jobs it fires, to
 * send their progress back (`@tributary/nats` does). It is called synchronously inside the job's
 * `Job.progress`, for every value: coalesce there, and do not block. Jobs that never call
 * `Job.progress` never reach it.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Dispatcher, Job, Supervisor } from "@tributary/jobs"
 *
 * const latest = new Map<string, unknown>()
 * const program = Job.fire(Job.progress(0.5)).pipe(
 *   Effect.andThen(Supervisor.drain),
 *   Effect.provideService(Dispatcher.ProgressListener, (jobId, value) => latest.set(jobId, value)),
 *   Effect.provide(Supervisor.layer())
 * )
 * ```
 *
 * @since 0.2.0
 */
export const ProgressListener: Context.Reference<((jobId: string, value: unknown) => void) | undefined> =
  Context.Reference<((jobId: string, value: unknown) => void) | undefined>(
    "@tributary/jobs/Dispatcher/ProgressListener",
    { defaultValue: () => undefined }
  )
