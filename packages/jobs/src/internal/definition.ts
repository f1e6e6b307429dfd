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
 * @internal
 */

/** The property key of the mark on a defined job's Effect. */
export const DefinedJobTypeId: unique symbol = Symbol.for("@tributary/jobs/DefinedJob")

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
