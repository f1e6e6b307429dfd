/**
 * The dispatcher of defined jobs: an optional service that decides where a job made by a
 * `Job.define` definition runs. `Job.fire`, `fork`, `forkAll` and `all` consult it when they build
 * the entry of a defined job; a plain Effect never reaches it. What it returns is the work the
 * local supervisor runs in the job's place (e.g. "publish the job, then wait for its outcome from
 * another process"), under the job's own options and limits.
 *
 * Invariants:
 * - A plain Effect (no definition mark) and a defined job without a dispatcher in the caller's
 *   context are returned unchanged: the cost off this path is one property read.
 * - The work that stands for a defined job carries the same mark (name, encoded payload), so the
 *   job is named, logged and reported exactly as the original would be.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { JobArgumentError } from "../SupervisorError.js"
import { type Defined, definedOf, markDefined } from "./definition.js"

/** What a dispatcher does with one defined job: the work to run in its place. */
export interface DispatcherService {
  /** the work the firing supervisor runs in place of `defined` (`work` is the job as it would run locally) */
  readonly dispatch: (
    defined: Defined,
    work: Effect.Effect<unknown, unknown, any>
  ) => Effect.Effect<unknown, unknown, any>
}

/** The service key of the dispatcher (public as `Dispatcher.Dispatcher`). */
export class Dispatcher extends Context.Service<Dispatcher, DispatcherService>()("@tributary/jobs/Dispatcher") {}

/** The work to admit for `work`: the dispatcher's stand-in for a defined job, else `work` itself. */
export const dispatched = <W extends Effect.Effect<any, any, any>>(work: W, context: Context.Context<never>): W => {
  const defined = definedOf(work)
  if (defined === undefined) return work
  const dispatcher = Context.getOrUndefined(context, Dispatcher)
  if (dispatcher === undefined) return work
  // the dispatcher gets the mark as plain data (a defined job is its own mark: see definition.ts)
  const mark: Defined = { name: defined.name, encoded: defined.encoded }
  const standIn: unknown = dispatcher.dispatch(mark, work)
  // a dispatcher that returns no Effect fails the job it was given, naming what it returned
  const run = Effect.isEffect(standIn)
    ? standIn
    : Effect.die(
        new JobArgumentError("Dispatcher dispatch result", standIn, "an Effect (the work to run in place of the job)")
      )
  return markDefined(run, mark.name, mark.encoded) as W
}
