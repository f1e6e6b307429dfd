/**
 * The jobs of `nats.ts`, shared with its worker processes: the smallest job (its payload returned)
 * and a job that waits on I/O (a GET to the driver's server, `nats-io.ts`, answered after 20 ms;
 * its value is the number the server answered: the payload).
 */
import { Job } from "@tributary/jobs"
import { Effect, Schema } from "effect"
import { get } from "./nats-io.ts"

export const small = Job.define({ name: "bench-small", payload: Schema.Number, run: (n) => Effect.succeed(n) })

/** The job that waits: `GET <url>/<n>`, the same body (`get`) as BullMQ's workers run. */
export const io = (url: string) =>
  Job.define({ name: "bench-io", payload: Schema.Number, run: (n) => Effect.promise(() => get(`${url}/${n}`)) })
