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
import * as Data from "effect/Data"
import { redactAll } from "./internal/credentials.js"

/**
 * The NATS server could not be reached (at start) or a JetStream request failed for good.
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
 * A bad option of `NatsSupervisor.layer` or `NatsWorker.run`: names the option and the value.
 *
 * @since 0.2.0
 */
export class NatsArgumentError extends Data.TaggedError("NatsArgumentError")<{
  /** the option, e.g. `"servers"` or `"prefix"` */
  readonly argument: string
  /** the value given (a URL of `servers` with its credentials shown as `***`) */
  readonly value: unknown
  /** names the option, what it expects and the value given (a long value cut after 200 characters) */
  readonly message: string
}> {
  constructor(argument: string, value: unknown, expected: string) {
    super({ argument, value, message: `${argument}: expected ${expected}, got ${show(value)}` })
  }
}

/**
 * A worker received a job whose definition it does not have: the job fails (termed, never
 * redelivered).
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

const show = (value: unknown): string => {
  // JSON says null for these (a concurrency of NaN read "got null")
  if (typeof value === "number" && !Number.isFinite(value)) return String(value)
  try {
    const s = JSON.stringify(value)
    return s === undefined ? String(value) : s.length > 200 ? `${s.slice(0, 200)}…` : s
  } catch {
    return String(value)
  }
}
