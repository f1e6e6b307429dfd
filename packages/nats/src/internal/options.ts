/**
 * The options both sides take (servers, prefix) and the checks of numbers and durations, each
 * failing with a NatsArgumentError that names the option and the value.
 *
 * Invariant: what `resolveCommon` returns is valid for `namesOf` and `connect`.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { NatsArgumentError } from "../NatsError.js"
import { redact, splitCredentials } from "./credentials.js"
import { type Names, namesOf, validPrefix } from "./wire.js"

/** The options of both sides. */
export interface CommonOptions {
  /** the NATS server URL(s), e.g. "nats://127.0.0.1:4222", with credentials if the server wants them: "nats://user:password@host:4222" or "nats://token@host:4222" */
  readonly servers: string | ReadonlyArray<string>
  /** names the streams (`<PREFIX>_JOBS`, `<PREFIX>_OUTCOMES`: upper-cased, so two prefixes differing only in case clash, a NatsArgumentError at start), subjects and consumer (default "tributary") */
  readonly prefix?: string
}

export interface Common {
  readonly servers: ReadonlyArray<string>
  readonly names: Names
}

/**
 * Checks the options' keys (`servers`, `prefix` and the caller's `others`: a misspelt one would be
 * ignored; null is no option's value), then `servers` and `prefix`.
 */
export const resolveCommon = (
  options: CommonOptions,
  others: ReadonlyArray<string> = []
): Effect.Effect<Common, NatsArgumentError> =>
  Effect.suspend(() => {
    if (typeof options !== "object" || options === null)
      return Effect.fail(new NatsArgumentError("options", options, "an object with servers"))
    const known = ["servers", "prefix", ...others]
    for (const key of Object.keys(options)) {
      const value = (options as unknown as Record<string, unknown>)[key]
      if (!known.includes(key))
        return Effect.fail(new NatsArgumentError(key, value, `an option (they are ${known.join(", ")})`))
      if (value === null)
        return Effect.fail(new NatsArgumentError(key, value, "a value (leave the option out for its default)"))
    }
    const servers = typeof options.servers === "string" ? [options.servers] : options.servers
    if (!Array.isArray(servers) || servers.length === 0 || !servers.every((s) => typeof s === "string" && s !== ""))
      return Effect.fail(
        new NatsArgumentError("servers", redacted(options.servers), "a NATS URL or a non-empty array of them")
      )
    const malformed = servers.find((s) => !validServer(s))
    if (malformed !== undefined)
      return Effect.fail(
        new NatsArgumentError(
          "servers",
          redact(malformed),
          "a NATS URL: host, host:port, nats://host[:port] or tls://host[:port] (with user:password@ or token@ before the host, if any; this client speaks TCP: no http://, ws:// or wss://)"
        )
      )
    if (splitCredentials(servers) === undefined)
      return Effect.fail(
        new NatsArgumentError(
          "servers",
          redacted(servers),
          "URLs with the same credentials, if any (the client sends one set to every server)"
        )
      )
    const prefix = options.prefix ?? "tributary"
    if (!validPrefix(prefix))
      return Effect.fail(new NatsArgumentError("prefix", prefix, "1 to 32 letters, digits, '_' or '-'"))
    return Effect.succeed({ servers, names: namesOf(prefix) })
  })

/**
 * The longest duration the server takes, in millis: it reads durations as int64 nanoseconds
 * (about 292 years); a longer one was refused as "invalid JSON" or lost ("consumer not found").
 */
export const MAX_SERVER_MILLIS = 9_223_372_036_854 // ⌊(2^63 − 1) / 10^6⌋

/**
 * `value` (default `fallback`) as positive millis, or a NatsArgumentError naming `argument`; with
 * `maxMillis` (a duration the server is sent, say: `MAX_SERVER_MILLIS`), at most that.
 */
export const millisOf = (
  argument: string,
  value: Duration.Input | undefined,
  fallback: Duration.Input,
  maxMillis?: number
): Effect.Effect<number, NatsArgumentError> => {
  const d = Duration.fromInput(value ?? fallback)
  if (d._tag === "None" || !(Duration.toMillis(d.value) > 0) || !Number.isFinite(Duration.toMillis(d.value)))
    return Effect.fail(new NatsArgumentError(argument, value, "a positive, finite duration"))
  const millis = Duration.toMillis(d.value)
  if (maxMillis !== undefined && millis > maxMillis)
    return Effect.fail(
      new NatsArgumentError(
        argument,
        value,
        `a duration of at most ${maxMillis} ms (${Math.floor(maxMillis / 86_400_000)} days: the server takes durations in int64 nanoseconds)`
      )
    )
  return Effect.succeed(millis)
}

/** `value` (default `fallback`) as an integer ≥ 1, or a NatsArgumentError naming `argument`. */
export const countOf = (
  argument: string,
  value: number | undefined,
  fallback: number
): Effect.Effect<number, NatsArgumentError> => {
  const n = value ?? fallback
  return Number.isInteger(n) && n >= 1
    ? Effect.succeed(n)
    : Effect.fail(new NatsArgumentError(argument, value, "an integer ≥ 1"))
}

/**
 * A server URL the client dials as meant: it drops any scheme and talks NATS over TCP to the host
 * and port (`http://host:1` was dialled), so only `nats://`, `tls://` or none is taken, with a
 * host, an optional port (1 to 65535) and nothing after them but a `/`.
 */
const validServer = (server: string): boolean => {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(server)?.[1]?.toLowerCase()
  if (scheme !== undefined && scheme !== "nats" && scheme !== "tls") return false
  let url: URL
  try {
    url = new URL(scheme === undefined ? `nats://${server}` : server)
  } catch {
    return false
  }
  return (
    url.hostname !== "" &&
    (url.pathname === "" || url.pathname === "/") &&
    url.search === "" &&
    url.hash === "" &&
    url.port !== "0"
  )
}

/** `servers` as an error may show it: each URL's credentials as `***`. */
const redacted = (servers: unknown): unknown =>
  typeof servers === "string"
    ? redact(servers)
    : Array.isArray(servers)
      ? servers.map((s) => (typeof s === "string" ? redact(s) : s))
      : servers
