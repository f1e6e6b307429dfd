/**
 * Reading the supervisor's configuration and the arguments of its calls: `resolve` checks a
 * `Supervisor.Config` (every option, a misspelt one included) and fills in the defaults, and the
 * arguments of `shutdown`, `pause`/`resume`, `watch` and `runMain` are checked here, at the call.
 * Pure functions: each returns what it read or throws — a SupervisorConfigError for the
 * configuration (and `runMain`'s options, and `shutdown`'s grace), a JobArgumentError for the
 * arguments of `watch`, `pause` and `resume` — naming the call (`operation`), the option and the
 * value.
 *
 * Invariants:
 * - Every key of an options object is checked against the options it may hold (`checkKeys`): a
 *   misspelt option is refused, never ignored; null is no option's value.
 * - One message per kind of bad value: a duration's is `durationExpected`'s, a count's says
 *   "an integer ≥ n (or Infinity)", whichever value was given.
 *
 * @internal
 */
import { knownOption } from "@tributary/arguments"
import { PinoLoggerConfigError } from "@tributary/pino"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as LogLevel from "effect/LogLevel"
import { inOperation, JobArgumentError, SupervisorConfigError } from "../SupervisorError.js"
import type { PoolConfigInput, ResolvedConfig } from "./model.js"
import { durationExpected, nonNegativeDuration, unknownKey } from "./options.js"
import type { SupervisorState } from "./state.js"

/**
 * `Supervisor.Config` as it is read here: any value in any option (each one is checked). The
 * public type lives in `Supervisor.ts`, which imports this module.
 */
interface ConfigInput {
  readonly name?: unknown
  readonly concurrency?: unknown
  readonly maxQueued?: unknown
  readonly whenFull?: unknown
  readonly pools?: unknown
  readonly logSuccess?: unknown
  readonly grace?: unknown
  readonly metrics?: unknown
}

/** `Supervisor.PoolConfig` as it is read here (see `ConfigInput`). */
interface PoolInput {
  readonly concurrency?: unknown
  readonly perKey?: unknown
  readonly rate?: { readonly limit?: unknown; readonly interval?: unknown }
}

/**
 * Throws the error of a bad value: `argument` names it, `expected` says what it must be. The
 * errors name no call: the exported functions below name theirs (`inOperation`), once one is thrown.
 */
type Refuse = (argument: string, value: unknown, expected: string) => never

/** A bad option of the supervisor's configuration (or of `runMain`, or `shutdown`'s grace). */
const refuseConfig: Refuse = (argument, value, expected) => {
  throw new SupervisorConfigError(argument, value, expected)
}

/** A bad argument of a call (`Supervisor.watch`, `pause`…): a JobArgumentError, as an unknown pool's. */
const refuseArgument: Refuse = (argument, value, expected) => {
  throw new JobArgumentError(argument, value, expected)
}

/**
 * Throws a JobArgumentError (see `refuseArgument`) unless `options` of a call is nothing, or an
 * object whose keys are all `known`.
 */
const checkCallOptions = (options: unknown, known: ReadonlyArray<string>): void => {
  if (options === undefined) return
  if (typeof options !== "object" || options === null || Array.isArray(options))
    refuseArgument("options", options, "an object (or nothing)")
  checkKeys(options as object, "", known, refuseArgument)
}

/** `input` as millis ≥ 0 (Infinity allowed), or a SupervisorConfigError naming `argument`. */
const toMillis = (argument: string, input: unknown): number => {
  const d = nonNegativeDuration(input)
  if (d === undefined) throw new SupervisorConfigError(argument, input, durationExpected("a duration ≥ 0", input))
  return Duration.toMillis(d)
}

/**
 * The grace of a `shutdown` in millis: `options.grace`, else the configured one; a bad option
 * throws a SupervisorConfigError naming `operation` (`Supervisor.shutdown`, `sup.shutdown`).
 */
export const graceOf = (
  s: SupervisorState,
  options: { readonly grace?: Duration.Input } | undefined,
  operation: string
): number => {
  if (options === undefined) return s.config.graceMillis
  try {
    if (typeof options !== "object" || options === null || Array.isArray(options))
      throw new SupervisorConfigError("options", options, "an object ({ grace }) or nothing")
    // a misspelt `grace` would wait out the configured one
    checkKeys(options, "", shutdownKeys)
    return options.grace === undefined ? s.config.graceMillis : toMillis("grace", options.grace)
  } catch (error) {
    throw inOperation(error, operation)
  }
}

/**
 * `input` as millis, finite and > 0, or the error of `refuse` (a SupervisorConfigError by default)
 * naming `argument` (one message for every bad value).
 */
const positiveMillis = (argument: string, input: unknown, refuse: Refuse = refuseConfig): number => {
  const d = nonNegativeDuration(input)
  const millis = d === undefined ? Number.NaN : Duration.toMillis(d)
  if (!(millis > 0 && Number.isFinite(millis)))
    refuse(argument, input, durationExpected("a finite duration > 0", input))
  return millis
}

/**
 * Throws the error of `refuse` (a SupervisorConfigError by default) naming `prefix` + the first key
 * of `o` not in `known` (a misspelt option would be ignored: a pool meant to be bounded running
 * unbounded), listing the known ones.
 */
const checkKeys = (o: object, prefix: string, known: ReadonlyArray<string>, refuse: Refuse = refuseConfig): void => {
  const key = unknownKey(o, known)
  if (key !== undefined) refuse(`${prefix}${key}`, (o as Record<string, unknown>)[key], knownOption(key, known))
  // null is no option's value (it would read as "not given": the default, silently)
  for (const k in o)
    if ((o as Record<string, unknown>)[k] === null)
      refuse(`${prefix}${k}`, null, "a value (leave the option out for its default)")
}

/** The options of `Config`, `PoolConfig`, a pool's `rate`, `metrics`, `RunMainOptions`… */
const configKeys: ReadonlyArray<string> = [
  "name",
  "concurrency",
  "maxQueued",
  "whenFull",
  "pools",
  "logSuccess",
  "grace",
  "metrics"
]
const poolKeys: ReadonlyArray<string> = ["concurrency", "perKey", "rate"]
const rateKeys: ReadonlyArray<string> = ["limit", "interval"]
const metricsKeys: ReadonlyArray<string> = ["interval"]
const runMainKeys: ReadonlyArray<string> = ["supervisor", "logger", "failOnJobFailure", "forceAfter", "maxHeldLines"]
/** The options of `shutdown`, `pause`/`resume` and `watch`. */
const shutdownKeys: ReadonlyArray<string> = ["grace"]
const pauseKeys: ReadonlyArray<string> = ["pool"]
const watchKeys: ReadonlyArray<string> = ["listLimit"]

/**
 * Throws a SupervisorConfigError naming `operation` (the Promise API's `supervisor`) for a key of
 * `config` that is not an option of `Config` or one of `extra` (`supervisor` also takes `logger`);
 * the values are checked by `make`.
 */
export const checkConfigKeys = (config: object, extra: ReadonlyArray<string>, operation: string): void => {
  try {
    checkKeys(config, "", [...configKeys, ...extra])
  } catch (error) {
    throw inOperation(error, operation)
  }
}

/**
 * Throws a JobArgumentError naming `operation` (`Supervisor.pause`, `sup.resume`…) unless
 * `options` of `pause` or `resume` is nothing or `{ pool? }`.
 */
export const checkPauseOptions = (options: unknown, operation: string): void => {
  try {
    // a misspelt `pool` would pause every pool
    checkCallOptions(options, pauseKeys)
  } catch (error) {
    throw inOperation(error, operation)
  }
}

/**
 * The arguments of `watch`, read: its interval in millis and its list limit (Infinity when not
 * given); a bad one throws a JobArgumentError naming `operation` (`Supervisor.watch`, `sup.watch`).
 */
export const watchArguments = (
  interval: unknown,
  options: unknown,
  operation: string
): { readonly millis: number; readonly listLimit: number } => {
  try {
    // arguments of a call, not options of the supervisor: JobArgumentErrors, as `pause`'s pool
    const millis = positiveMillis("interval", interval, refuseArgument)
    checkCallOptions(options, watchKeys)
    const listLimit = (options as { readonly listLimit?: number } | undefined)?.listLimit ?? Number.POSITIVE_INFINITY
    if (!(Number.isInteger(listLimit) && listLimit >= 0) && listLimit !== Number.POSITIVE_INFINITY)
      refuseArgument("listLimit", listLimit, "an integer ≥ 0")
    return { millis, listLimit }
  } catch (error) {
    throw inOperation(error, operation)
  }
}

/** What `runMainArguments` reads: `failOnJobFailure`, `forceAfter` in millis, `maxHeldLines` (undefined: pino's default). */
export interface RunMainArguments {
  readonly failOnJobFailure: boolean
  readonly forceAfterMillis: number
  readonly maxHeldLines: number | undefined
}

/**
 * The arguments of `runMain`, checked at the call, before anything is installed or run (its
 * `supervisor` configuration too, by `resolve`): its `failOnJobFailure`, its `forceAfter` in
 * millis and its `maxHeldLines`. A bad one throws a SupervisorConfigError naming it (and `Supervisor.runMain`).
 */
export const runMainArguments = (program: unknown, options: unknown): RunMainArguments => {
  try {
    return readRunMainArguments(program, options)
  } catch (error) {
    throw inOperation(error, "Supervisor.runMain")
  }
}

/** `runMainArguments`, its errors naming no call. */
const readRunMainArguments = (program: unknown, options: unknown): RunMainArguments => {
  if (!Effect.isEffect(program)) throw new SupervisorConfigError("program", program, "an Effect")
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw new SupervisorConfigError("options", options, "an object (or nothing)")
  checkKeys(options, "", runMainKeys)
  const o = options as {
    readonly supervisor?: unknown
    readonly failOnJobFailure?: unknown
    readonly forceAfter?: unknown
    readonly maxHeldLines?: unknown
  }
  const failOnJobFailure = o.failOnJobFailure ?? false
  if (typeof failOnJobFailure !== "boolean")
    throw new SupervisorConfigError("failOnJobFailure", failOnJobFailure, "a boolean")
  const forceAfterMillis = toMillis("forceAfter", o.forceAfter ?? "5 seconds")
  read(o.supervisor ?? {}, "supervisor.")
  return { failOnJobFailure, forceAfterMillis, maxHeldLines: heldLinesOf(o.maxHeldLines) }
}

/**
 * The `maxHeldLines` of `runMain` or of the Promise API's `supervisor` (passed on to
 * `PinoLogger.layer`): undefined (its default) or an integer ≥ 1 or Infinity, else a
 * SupervisorConfigError naming it.
 */
export const heldLinesOf = (value: unknown): number | undefined => {
  if (value === undefined) return undefined
  if (typeof value === "number" && value >= 1 && (Number.isInteger(value) || value === Number.POSITIVE_INFINITY))
    return value
  throw new SupervisorConfigError("maxHeldLines", value, "an integer ≥ 1, or Infinity (no bound)")
}

/**
 * A PinoLoggerConfigError about a part of the `logger` option that `operation` (`runMain`, the
 * Promise API's `supervisor`) passed on to `@tributary/pino`, worded as that call's:
 * `Invalid Supervisor.runMain logger.level: …` instead of naming the pino function the caller
 * never called. Any other error (a destination refused, options pino itself rejects) is returned
 * as it is.
 */
export const asLoggerOption = (error: unknown, operation: string): unknown => {
  if (!(error instanceof PinoLoggerConfigError) || error.expected === undefined) return error
  const argument = error.argument === "logger" ? "logger" : `logger.${error.argument}`
  // the value as the refusal showed it (a logger of another library is described, not dumped)
  const tail = `: expected ${error.expected}, received `
  const at = error.message.indexOf(tail)
  const shown = at < 0 ? undefined : error.message.slice(at + tail.length)
  return new PinoLoggerConfigError(argument, error.reason, error.expected, {
    refused: { fn: operation, value: error.value, shown },
    ...(error.cause === undefined ? {} : { cause: error.cause })
  })
}

/** The metrics' interval in millis (undefined: no metrics), or a SupervisorConfigError (`prefix`: see `resolve`). */
const metricsMillis = (metrics: unknown, prefix: string): number | undefined => {
  if (metrics === undefined || metrics === false) return undefined
  if (metrics === true) return 1000
  if (typeof metrics !== "object" || metrics === null || Array.isArray(metrics))
    throw new SupervisorConfigError(`${prefix}metrics`, metrics, "a boolean or { interval }")
  checkKeys(metrics, `${prefix}metrics.`, metricsKeys)
  const interval = (metrics as { readonly interval?: unknown }).interval
  if (interval === undefined) return 1000
  return positiveMillis(`${prefix}metrics.interval`, interval)
}

/** `n` if it is an integer ≥ `min` or Infinity, else a SupervisorConfigError naming `argument`. */
const count = (argument: string, n: unknown, min: number): number => {
  if (typeof n === "number" && n >= min && (Number.isInteger(n) || n === Number.POSITIVE_INFINITY)) return n
  throw new SupervisorConfigError(argument, n, `an integer ≥ ${min} (or Infinity)`)
}

const severities: ReadonlyArray<string> = ["Fatal", "Error", "Warn", "Info", "Debug", "Trace"]

/** Pool `name`'s configuration, checked; `at` names it in errors (`pools.<name>`, or `supervisor.pools.<name>`). */
const pool = (at: string, input: unknown): PoolConfigInput => {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new SupervisorConfigError(at, input, "an object { concurrency?, perKey?, rate? }")
  checkKeys(input, `${at}.`, poolKeys)
  const p = input as PoolInput
  const out: { -readonly [K in keyof PoolConfigInput]: PoolConfigInput[K] } = {}
  if (p.concurrency !== undefined) out.concurrency = count(`${at}.concurrency`, p.concurrency, 1)
  if (p.perKey !== undefined) out.perKey = count(`${at}.perKey`, p.perKey, 1)
  if (p.rate !== undefined) {
    if (typeof p.rate !== "object" || p.rate === null || Array.isArray(p.rate))
      throw new SupervisorConfigError(`${at}.rate`, p.rate, "an object { limit, interval }")
    checkKeys(p.rate, `${at}.rate.`, rateKeys)
    const limit = p.rate.limit
    // a bucket that holds less than one token (burst = limit) would never start a job
    if (!(typeof limit === "number" && limit >= 1 && Number.isFinite(limit)))
      throw new SupervisorConfigError(
        `${at}.rate.limit`,
        limit,
        'a finite number ≥ 1 (fewer than one start per interval: lengthen the interval, { limit: 1, interval: "2 seconds" })'
      )
    positiveMillis(`${at}.rate.interval`, p.rate.interval)
    out.rate = { limit, interval: p.rate.interval as Duration.Input }
  }
  return out
}

/**
 * Reads `config`, filling in defaults; a bad option (a misspelt one included) throws a
 * SupervisorConfigError naming it and `operation` (`Supervisor.layer`, `Supervisor.make`…).
 */
export const resolve = (input: unknown, operation: string): ResolvedConfig => {
  try {
    return read(input, "")
  } catch (error) {
    throw inOperation(error, operation)
  }
}

/**
 * `resolve`, its errors naming no call; the option is named after `prefix` (`runMain`'s options
 * name it `supervisor.<option>`).
 */
const read = (input: unknown, prefix: string): ResolvedConfig => {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new SupervisorConfigError(prefix === "" ? "config" : prefix.slice(0, -1), input, "an object (or nothing)")
  checkKeys(input, prefix, configKeys)
  const config = input as ConfigInput
  const name = config.name ?? "supervisor"
  // the name is in every line, error and metric series: an empty one names nothing
  if (typeof name !== "string" || name === "")
    throw new SupervisorConfigError(`${prefix}name`, name, "a non-empty string")
  const whenFull = config.whenFull ?? "wait"
  if (whenFull !== "wait" && whenFull !== "fail" && whenFull !== "drop")
    throw new SupervisorConfigError(`${prefix}whenFull`, whenFull, '"wait", "fail" or "drop"')
  const level = config.logSuccess ?? "Debug"
  const severity = typeof level === "string" ? level.charAt(0).toUpperCase() + level.slice(1).toLowerCase() : ""
  if (!severities.includes(severity))
    throw new SupervisorConfigError(`${prefix}logSuccess`, level, `one of ${severities.join(", ")} (any case)`)
  const pools: Record<string, PoolConfigInput> = {}
  if (config.pools !== undefined) {
    if (typeof config.pools !== "object" || config.pools === null || Array.isArray(config.pools))
      throw new SupervisorConfigError(`${prefix}pools`, config.pools, "an object of pool configurations")
    for (const [poolName, p] of Object.entries(config.pools)) pools[poolName] = pool(`${prefix}pools.${poolName}`, p)
  }
  return {
    name,
    concurrency: count(`${prefix}concurrency`, config.concurrency ?? 64, 1),
    maxQueued: count(`${prefix}maxQueued`, config.maxQueued ?? 10_000, 0),
    whenFull,
    pools,
    logSuccess: severity as LogLevel.Severity,
    graceMillis: toMillis(`${prefix}grace`, config.grace ?? "10 seconds"),
    metricsMillis: metricsMillis(config.metrics, prefix)
  }
}
