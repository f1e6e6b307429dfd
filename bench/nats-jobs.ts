/** The job of `nats.ts`, shared with its worker processes: the smallest job, its payload returned. */
import { Job } from "@tributary/jobs"
import { Effect, Schema } from "effect"

export const small = Job.define({ name: "bench-small", payload: Schema.Number, run: (n) => Effect.succeed(n) })
