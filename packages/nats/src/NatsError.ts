/**
 * The errors of `@tributary/nats`: a server that cannot be reached, bad options, the permanent
 * failures of a job on a worker (an unknown definition or pool, a payload that does not decode),
 * a payload JSON cannot carry, and a payload or outcome too large for the server.
 *
 * Each is an effect tagged error (`Data.TaggedError`): match it by `_tag` with `Effect.catchTag`;
 * it is still `instanceof` its class in the process that made it. A job's failure that crossed
 * the wire keeps its `_tag`, `name`, `message` and fields, not its class (see the README).
 *
 * @since 0.2.0
 */

import { describeValue as show } from "@tributary/arguments"
import * as Data from "effect/Data"
import { redactAll } from "./internal/credentials.js"

/**
 * The NATS server could not be reached (at start) or a JetStream request failed for good.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job } from "@tributary/jobs"
 * import { NatsSupervisor } from "@tributary/nats"
 *
 * const program = Job.fire(Effect.log("hello"), { name: "greet" }).pipe(
 *   Effect.provide(NatsSupervisor.layer({ servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222" })),
 *   // the layer connects when it is built: a server that cannot be reached fails it
 *   Effect.catchTag("NatsConnectError", (e) => Effect.logFatal(`no NATS at ${e.servers}: ${e.message}`))
 * )
 * ```
 *
 * @since 0.2.0
 */
export class NatsConnectError extends Data.TaggedError("NatsConnectError")<{
  /** the server URL(s) tried (credentials shown as `***`) */
  readonly servers: string
  /** names the servers (credentials hidden) and what the connection or request failed with */
  readonly message: string
  /** what the connection or the JetStream request failed with */
  readonly cause?: unknown
}> {
  constructor(servers: string, cause: unknown) {
    const shown = redactAll(servers) // no user, password or token in an error
    super({ servers: shown, cause, message: `cannot reach NATS at ${shown}: ${describe(cause)}` })
  }
}

/**
 * A bad option of `NatsSupervisor.layer`, `NatsSupervisor.dispatcher` or `NatsWorker.run`: names
 * the function, the option and the value (a misspelt option: the one meant, when one is close).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { NatsWorker } from "@tributary/nats"
 *
 * const concurrency = Number(process.env.CONCURRENCY) // NaN when unset
 * const worker = NatsWorker.run({ servers: "nats://127.0.0.1:4222", definitions: [], concurrency }).pipe(
 *   // checked before the server is touched
 *   Effect.catchTag("NatsArgumentError", (e) => Effect.logFatal(`fix ${e.argument}: ${e.message}`))
 * )
 * ```
 *
 * @since 0.2.0
 */
export class NatsArgumentError extends Data.TaggedError("NatsArgumentError")<{
  /** the option, e.g. `"servers"` or `"prefix"` */
  readonly argument: string
  /** the value given (a URL of `servers` with its credentials shown as `***`) */
  readonly value: unknown
  /**
   * `Invalid <function> <option>: expected <what>, received <value>`, the function being
   * `NatsSupervisor.layer`, `NatsSupervisor.dispatcher` or `NatsWorker.run` (a long value cut after
   * 200 characters); for a misspelt option, what it expects names the option meant when one is close
   */
  readonly message: string
}> {
  constructor(fn: string, argument: string, value: unknown, expected: string) {
    super({ argument, value, message: `Invalid ${fn} ${argument}: expected ${expected}, received ${show(value)}` })
  }
}

/**
 * A worker received a job whose definition it does not have: the job fails (termed, never
 * redelivered).
 *
 * ```ts
 * import { Effect, Predicate, Schema } from "effect"
 * import { Job } from "@tributary/jobs"
 *
 * // the firing side (NatsSupervisor.layer): workers deployed before "report" existed fail it for good
 * const report = Job.define({ name: "report", payload: Schema.Number, run: (month) => Effect.log(`report ${month}`) })
 * const program = Effect.gen(function* () {
 *   const h = yield* Job.fork(report.make(5))
 *   // the error crossed the wire: its _tag and fields are kept, not its class
 *   yield* Job.join(h).pipe(
 *     Effect.catch((e: unknown) =>
 *       Predicate.isTagged(e, "UnknownDefinitionError") ? Effect.logError("deploy the workers first") : Effect.fail(e)
 *     )
 *   )
 * })
 * ```
 *
 * @since 0.2.0
 */
export class UnknownDefinitionError extends Data.TaggedError("UnknownDefinitionError")<{
  /** the definition the job named */
  readonly definition: string
  /** the worker's name */
  readonly worker: string
  /** names the worker, the definition and the definitions the worker has */
  readonly message: string
}> {
  constructor(definition: string, worker: string, known: ReadonlyArray<string>) {
    super({
      definition,
      worker,
      message: `worker "${worker}" has no definition named ${show(definition)} (it has: ${known.join(", ")})`
    })
  }
}

/**
 * A worker received a job for a pool it does not have: the job fails (termed, never redelivered).
 *
 * ```ts
 * import { Cause, Effect, Exit, Predicate, Schema } from "effect"
 * import { Job } from "@tributary/jobs"
 *
 * // the firing side, whose supervisor has the pool "images": a worker started without it fails its jobs for good
 * const resize = Job.define({ name: "resize", payload: Schema.String, run: (path) => Effect.log(`resizing ${path}`) })
 * const program = Effect.gen(function* () {
 *   const outcomes = yield* Job.all(["a.png", "b.png"].map((path) => resize.make(path)), { concurrency: 2, pool: "images" })
 *   const refused = outcomes.filter((o) => Exit.isFailure(o.exit) && Predicate.isTagged(Cause.squash(o.exit.cause), "UnknownPoolError"))
 *   if (refused.length > 0) yield* Effect.logError(`${refused.length} jobs need a worker with the pool "images"`)
 * })
 * ```
 *
 * @since 0.2.0
 */
export class UnknownPoolError extends Data.TaggedError("UnknownPoolError")<{
  /** the pool the job named */
  readonly pool: string
  /** the worker's name */
  readonly worker: string
  /** names the worker and the pool */
  readonly message: string
}> {
  constructor(pool: string, worker: string) {
    super({ pool, worker, message: `worker "${worker}" has no pool named ${show(pool)}` })
  }
}

/**
 * A job's payload did not decode with its definition's schema on the worker: the job fails
 * (termed, never redelivered); the worker keeps going.
 *
 * ```ts
 * import { Effect, Predicate, Schema } from "effect"
 * import { Job } from "@tributary/jobs"
 *
 * // the firing side: workers still on the old Schema (`total` was `amount`) cannot decode the job
 * const invoice = Job.define({ name: "invoice", payload: Schema.Struct({ total: Schema.Number }), run: () => Effect.void })
 * const program = Job.fork(invoice.make({ total: 12 })).pipe(
 *   Effect.flatMap(Job.join),
 *   Effect.catch((e: unknown) =>
 *     Predicate.isTagged(e, "PayloadDecodeError") ? Effect.logError("the workers run another version of invoice") : Effect.fail(e)
 *   )
 * )
 * ```
 *
 * @since 0.2.0
 */
export class PayloadDecodeError extends Data.TaggedError("PayloadDecodeError")<{
  /** the job's definition */
  readonly definition: string
  /** the payload as it arrived, before decoding: its JSON parsed (its text when it is not JSON) */
  readonly payload: unknown
  /**
   * names the definition and the Schema's issue; never the payload, which is only in `payload`
   * (a message is a string no pino `redact` path reaches: `err.payload.password` does reach the field)
   */
  readonly message: string
}> {
  constructor(definition: string, payload: unknown, cause: unknown) {
    super({
      definition,
      payload,
      message: `the payload of job "${definition}" does not decode (it is in this error's payload field): ${describe(cause)}`
    })
  }
}

/**
 * A job's payload (on the firing side) or outcome (on the worker) is larger than the server's
 * `max_payload` (1 MiB by default), so it cannot travel: the job ends at once with this defect,
 * naming the sizes, instead of retrying a publish that can never succeed. A payload too large is
 * never published; an outcome too large is replaced by this error (the job's message is done, not
 * run again). Pass a reference (a key, a URL) to large data instead of the data.
 *
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Job } from "@tributary/jobs"
 * import { MessageTooLargeError } from "@tributary/nats"
 *
 * const importCsv = Job.define({ name: "import-csv", payload: Schema.String, run: (csv) => Effect.log(`${csv.length} bytes`) })
 * const program = Effect.gen(function* () {
 *   const h = yield* Job.fork(importCsv.make("x".repeat(2_000_000))) // 2 MB, over the default max_payload of 1 MiB
 *   yield* Job.join(h)
 * }).pipe(
 *   // a defect, raised in this process (so instanceof works): send a key to the file instead
 *   Effect.catchDefect((d) => (d instanceof MessageTooLargeError ? Effect.logError(`${d.what}: ${d.bytes} > ${d.limit} bytes`) : Effect.die(d)))
 * )
 * ```
 *
 * @since 0.2.0
 */
export class MessageTooLargeError extends Data.TaggedError("MessageTooLargeError")<{
  /** the job's definition */
  readonly definition: string
  /** which message was too large: the job's payload or its outcome */
  readonly what: "payload" | "outcome"
  /** the size of the message in bytes (its body and headers) */
  readonly bytes: number
  /** the server's max_payload in bytes */
  readonly limit: number
  /** names what was too large, of which job, and both sizes */
  readonly message: string
}> {
  constructor(definition: string, what: "payload" | "outcome", bytes: number, limit: number) {
    super({
      definition,
      what,
      bytes,
      limit,
      message: `the ${what} of job ${show(definition)} is ${bytes} bytes, more than the server's max_payload of ${limit} bytes`
    })
  }
}

/**
 * A job's encoded payload (what its definition's Schema made of it) holds what JSON cannot carry:
 * a bigint, a Date, a Map or another object that is not plain data, a cycle, a function, a number
 * that is not finite, `undefined` in an array. The job dies at once in the firing process with this
 * defect and is never published (sent as it was, it reached the worker changed: a bigint as a
 * string, a Date as a string its Schema refused, NaN as null). Give the definition a Schema whose
 * encoded side is JSON data (strings, finite numbers, booleans, null, arrays, plain objects).
 *
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Job } from "@tributary/jobs"
 * import { PayloadJsonError } from "@tributary/nats"
 *
 * // Schema.Date encodes to a Date, which JSON cannot carry (Schema.DateFromString would travel)
 * const remind = Job.define({ name: "remind", payload: Schema.Struct({ at: Schema.Date }), run: () => Effect.void })
 * const program = Job.fork(remind.make({ at: new Date() })).pipe(
 *   Effect.flatMap(Job.join),
 *   Effect.catchDefect((d) => (d instanceof PayloadJsonError ? Effect.logError(`${d.path} is ${d.found}`) : Effect.die(d))) // payload.at is a Date
 * )
 * ```
 *
 * @since 0.2.0
 */
export class PayloadJsonError extends Data.TaggedError("PayloadJsonError")<{
  /** the job's definition */
  readonly definition: string
  /** where in the encoded payload, e.g. `payload.items[2].at` */
  readonly path: string
  /** what is there, e.g. `a Date` */
  readonly found: string
  /** names the job, the path and what is there, and says which Schema to give the definition */
  readonly message: string
}> {
  constructor(definition: string, path: string, found: string) {
    super({
      definition,
      path,
      found,
      message: `the payload of job ${show(definition)} cannot travel as JSON: ${path} is ${found} (give the definition a Schema that encodes it to strings, finite numbers, booleans, null, arrays or plain objects)`
    })
  }
}

// ── private helpers ─────────────────────────────────────────────────────────

const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))
