/**
 * The mark a job made from a `Job.define` definition carries: the definition's name and the job's
 * payload in its encoded form (what the definition's Schema made of it, e.g. dates as ISO strings).
 * `Job.define` sets it; the supervisor reads it to name the job and to put the payload on its
 * outcome and its outcome line. Another process can rebuild the job from the name and the encoded
 * payload (decode, then `run`): an Effect closure cannot travel, a definition's data can.
 *
 * Invariant: `encoded` is what the definition's schema encoded from the payload; a payload that
 * does not encode never gets a mark (`make` throws first).
 *
 * A job `make` returns is a `DefinedJob`: an Effect (a `ContextCall`, see inline.ts) whose
 * evaluation calls the definition's `run` with the payload, carrying its mark as a field of one
 * fixed shape — no wrapper Effect and no property added to an Effect object per job. Any other
 * Effect can be marked too (`markDefined`: a dispatcher's stand-in for a defined job).
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { ContextCall } from "./inline.js"

/** The property key of the mark on a defined job's Effect. */
const DefinedJobTypeId: unique symbol = Symbol.for("@tributary/jobs/DefinedJob")

/** What a defined job carries. */
export interface Defined {
  readonly name: string
  readonly encoded: unknown
}

/** The mark of `work`, if it is a job made by a definition (any value may be asked). */
export const definedOf = (work: unknown): Defined | undefined =>
  (work as { readonly [DefinedJobTypeId]?: Defined } | null | undefined)?.[DefinedJobTypeId]

/** Marks `job` as made by the definition `name` with the encoded payload `encoded`. */
export const markDefined = <J extends object>(job: J, name: string, encoded: unknown): J => {
  Object.defineProperty(job, DefinedJobTypeId, { value: { name, encoded } satisfies Defined })
  return job
}

/**
 * A job made by a definition: evaluating it calls `run(payload)` (when the job starts, not at
 * `make`); a `run` that returns no Effect fails the job with `notAnEffect(value)`, a defect.
 */
export class DefinedJob<P, A, E> extends ContextCall<A, E> implements Defined {
  /** its own mark: it carries `name` and `encoded` itself (one object per job, not two) */
  readonly [DefinedJobTypeId]: Defined = this
  constructor(
    readonly name: string,
    readonly encoded: unknown,
    readonly payload: P,
    readonly run: (payload: P) => Effect.Effect<A, E, any>,
    readonly notAnEffect: (value: unknown) => unknown
  ) {
    super()
  }
  call(_context: Context.Context<never>): Effect.Effect<A, E> {
    const job = this.run(this.payload)
    // from JavaScript, `run` may return a Promise or a value: a typed defect, not effect's "Not a valid effect"
    return Effect.isEffect(job) ? (job as Effect.Effect<A, E>) : Effect.die(this.notAnEffect(job))
  }
}
