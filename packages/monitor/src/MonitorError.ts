/**
 * The errors of `@tributary/monitor`: a bad option of `Monitor.serve` (naming the option and the
 * value) and an address the server could not listen on. Both are typed failures of `serve`.
 *
 * Each is an effect tagged error (`Data.TaggedError`): `yield*` it in `Effect.gen` to fail, match it
 * by `_tag` with `Effect.catchTag`, and it is still `instanceof` its class and `Error`.
 *
 * @since 0.2.0
 */

import { describeValue as show } from "@tributary/arguments"
import * as Data from "effect/Data"

/**
 * An option of `Monitor.serve` is wrong: `argument` names it (`"port"`, `"token"`, …), `value` is
 * what was given.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Monitor } from "@tributary/monitor"
 *
 * const port = Number(process.env.MONITOR_PORT ?? 7070) // NaN for a typo such as "70o0"
 * const monitor = Monitor.serve({ port }).pipe(
 *   Effect.tap((m) => Effect.log(`monitor: ${m.url}`)),
 *   Effect.catchTag("MonitorArgumentError", (e) => Effect.logError(`no monitor, fix ${e.argument}: ${e.message}`))
 * )
 * ```
 *
 * @since 0.2.0
 */
export class MonitorArgumentError extends Data.TaggedError("MonitorArgumentError")<{
  /** the option, e.g. `"port"` or `"token"` */
  readonly argument: string
  /** the value given (for a secret string, only `{ length }`) */
  readonly value: unknown
  /**
   * `Invalid Monitor.serve <option>: expected <what>, received <value>` (a secret's length only, a
   * long value cut after 200 characters); for a misspelt option, what it expects names the option
   * meant when one is close
   */
  readonly message: string
}> {
  constructor(argument: string, value: unknown, expected: string, shown: string = show(value)) {
    super({ argument, value, message: `Invalid Monitor.serve ${argument}: expected ${expected}, received ${shown}` })
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
 * ```ts
 * import { Effect } from "effect"
 * import { Monitor } from "@tributary/monitor"
 *
 * // the port is taken (another instance runs there): go on without a monitor
 * const monitor = Monitor.serve({ port: 7070 }).pipe(
 *   Effect.catchTag("MonitorListenError", (e) => Effect.logWarning(`no monitor on ${e.host}:${e.port}: ${e.reason}`))
 * )
 * ```
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
