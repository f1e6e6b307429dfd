/**
 * The errors of `@tributary/monitor`: a bad option of `Monitor.serve` (naming the option and the
 * value) and an address the server could not listen on. Both are typed failures of `serve`.
 *
 * Each is an effect tagged error (`Data.TaggedError`): `yield*` it in `Effect.gen` to fail, match it
 * by `_tag` with `Effect.catchTag`, and it is still `instanceof` its class and `Error`.
 *
 * @since 0.2.0
 */
import * as Data from "effect/Data"

/**
 * An option of `Monitor.serve` is wrong: `argument` names it (`"port"`, `"token"`, …), `value` is
 * what was given.
 *
 * @since 0.2.0
 */
export class MonitorArgumentError extends Data.TaggedError("MonitorArgumentError")<{
  /** the option, e.g. `"port"` or `"token"` */
  readonly argument: string
  /** the value given (for a secret string, only `{ length }`) */
  readonly value: unknown
  /** names the option, what it must be and the value received (a secret's length only) */
  readonly message: string
}> {
  constructor(argument: string, value: unknown, expected: string, shown: string = show(value)) {
    super({ argument, value, message: `Monitor.serve: ${argument} must be ${expected}, received ${shown}` })
  }

  /**
   * The error for a secret option (`token`): a string is neither kept nor shown, only its length
   * (`value` is then `{ length }`), so the error can be logged safely.
   */
  static hidden(argument: string, value: unknown, expected: string): MonitorArgumentError {
    if (typeof value !== "string") return new MonitorArgumentError(argument, value, expected)
    const n = value.length
    return new MonitorArgumentError(
      argument,
      { length: n },
      expected,
      `a string of ${n} character${n === 1 ? "" : "s"} (not shown)`
    )
  }
}

/**
 * The server could not listen on `host`:`port` (the port is taken, the host is not an address of
 * this machine, …); `reason` is Node's message.
 *
 * @since 0.2.0
 */
export class MonitorListenError extends Data.TaggedError("MonitorListenError")<{
  /** the address it tried to bind */
  readonly host: string
  /** the port it tried to listen on */
  readonly port: number
  /** Node's message (e.g. "listen EADDRINUSE: address already in use 127.0.0.1:7070") */
  readonly reason: string
  /** `Monitor.serve: cannot listen on <host>:<port>: <reason>` */
  readonly message: string
}> {
  constructor(host: string, port: number, reason: string) {
    super({ host, port, reason, message: `Monitor.serve: cannot listen on ${host}:${port}: ${reason}` })
  }
}

// ── private helpers ─────────────────────────────────────────────────────────

/** A value as it reads in a message (strings quoted, the rest as JSON when it can be). */
const show = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "number" || value === undefined) return String(value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}
