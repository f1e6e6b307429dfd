/**
 * A live monitor page for a `Supervisor`: a `node:http` server that lives in the caller's scope
 * and serves one self-contained page (inline CSS, script and SVG charts; nothing loaded from
 * elsewhere, nothing to build) that updates itself over Server-Sent Events, plus the data it reads:
 *
 * - `GET /` — the page;
 * - `GET /snapshot` — `Supervisor.snapshot` as JSON (`SnapshotView`);
 * - `GET /events` — a Server-Sent Events stream of `Supervisor.watch(interval)` (`ProgressView`).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Job, Supervisor } from "@tributary/jobs"
 * import { Monitor } from "@tributary/monitor"
 *
 * const program = Effect.gen(function* () {
 *   const monitor = yield* Monitor.serve({ port: 7070 })
 *   yield* Effect.log(`monitor: ${monitor.url}`)
 *   yield* Job.fire(Effect.sleep("1 second"), { name: "nap" })
 *   yield* Supervisor.drain
 * }).pipe(Effect.scoped, Effect.provide(Supervisor.layer()))
 * ```
 *
 * Gotchas:
 * - It binds 127.0.0.1 by default. Any other `host` requires a `token`: requests then need
 *   `Authorization: Bearer <token>` or `?token=<token>` (the page keeps the one in its address),
 *   and get 401 otherwise. Without a token, a request whose `Host` header is not a loopback name
 *   gets 403.
 * - `secretKeys` (pino `redact` paths: `"password"`, `"user.token"`, `"*.secret"`,
 *   `'headers["x-key"]'`, `"cards[*].number"`) remove those fields from every failure's
 *   annotations and payload, from every listed job's `Job.progress` value, and from a failure
 *   that is not an `Error` (an object whose fields
 *   would be shown as JSON) and an error's `cause` chain, before anything is sent; pino's
 *   `"err.password"` reaches the error's `password`. A secret inside a message string or stack is
 *   not found by path: keep secrets out of messages.
 * - A slow client gets fewer updates, never a growing buffer: each connection holds at most the
 *   message its socket is still sending and one more waiting, replaced by each newer one.
 * - At most `maxConnections` `/events` streams are open at once (default 100): one more gets a 503
 *   (`Retry-After: 1`; the page tries again); the server holds at most twice as many sockets of any
 *   kind, those that have not sent a request yet (or a token) included, and closes a socket beyond
 *   those unanswered. A socket that has not sent its request headers 5 seconds after connecting
 *   (or its whole request after 10) gets a 408 and is closed, so idle sockets do not hold the page
 *   off for long.
 * - A value nested more than 100 levels deep (a progress value, an annotation) is sent as
 *   `"[too deep]"` at that depth when it could not be sent whole. An update that cannot be made at
 *   all is skipped (a `/snapshot` then gets a 500), with one error line in the log.
 * - A token has at least 16 characters; an error about it gives its length, never the token.
 * - The events list at most `listLimit` running, queued and delayed jobs each (`totals` has the
 *   full counts); `/snapshot` lists them all. A `/snapshot` asked while the previous one is still
 *   being sent to someone gets the same body (made once; at most an interval old).
 * - Closing the scope ends every open connection and stops the server.
 *
 * Invariants: nothing listens before every option is checked; everything `serve` starts belongs to
 * the caller's scope and ends when it closes, in reverse order — the watch fiber first (no more
 * messages), then every connection and the server (the release waits until the last socket is
 * closed), then the fibers answering `/snapshot`; a snapshot is serialized once per interval, for
 * all connections together, and a `/snapshot` body is made once for the requests that come while
 * it is being sent (until the next interval); no request, however malformed, throws out of the request handler (a
 * throw there would be an uncaught exception of the whole process).
 *
 * @since 0.2.0
 */
import type * as http from "node:http"
import { isIP, isIPv6 } from "node:net"
import { illFormedDuration, knownOption } from "@tributary/arguments"
import { Supervisor } from "@tributary/jobs"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { allowed, isLoopback } from "./internal/access.js"
import { type ConnectionStats, type Connections, frame, makeConnections } from "./internal/connections.js"
import { page, pageHeaders } from "./internal/page.js"
import { makeServer } from "./internal/server.js"
import { parseSecret, progressView, type SecretPath, snapshotView, toJson } from "./internal/view.js"
import { MonitorArgumentError, MonitorListenError } from "./MonitorError.js"

export type {
  /** @since 0.2.0 */
  ConnectionStats
} from "./internal/connections.js"
export type {
  /** @since 0.2.0 */
  FailureView,
  /** @since 0.2.0 */
  ProgressView,
  /** @since 0.2.0 */
  SnapshotView
} from "./internal/view.js"

// ── models ──────────────────────────────────────────────────────────────────

/**
 * The options of `serve`.
 *
 * @since 0.2.0
 */
export interface Options {
  /** the TCP port, 0..65535 (default 0: a free port, see `Monitor.url`) */
  readonly port?: number
  /** the address to bind: a host name or an IP address, an IPv6 one with or without brackets (default "127.0.0.1"); any non-loopback address requires `token` */
  readonly host?: string
  /** the secret a request must carry (visible ASCII, no spaces); required off loopback */
  readonly token?: string
  /** how often the page gets a snapshot (default 500 millis; a finite duration ≥ 50 millis) */
  readonly interval?: Duration.Input
  /** paths never sent (failures' annotations, payload and error; jobs' progress), e.g. the pino `redact` paths (default none) */
  readonly secretKeys?: ReadonlyArray<string>
  /** at most this many running, queued and delayed jobs each per event (default 100, ≥ 1) */
  readonly listLimit?: number
  /** at most this many open `/events` streams, a 503 beyond; 2 × as many sockets in all (default 100, ≥ 1) */
  readonly maxConnections?: number
}

/**
 * A running monitor.
 *
 * @since 0.2.0
 */
export interface Monitor {
  /** the page's address, e.g. `http://127.0.0.1:7070/` (without the token) */
  readonly url: string
  /** the address it listens on: the `host` option as given (default "127.0.0.1"), an IPv6 one without brackets */
  readonly host: string
  /** the port it listens on (the one chosen when `port` was 0) */
  readonly port: number
  /** the open `/events` connections: what each was sent, skipped, and holds now */
  readonly connections: Effect.Effect<ReadonlyArray<ConnectionStats>>
}

// ── constructors ────────────────────────────────────────────────────────────

/**
 * Serves the monitor of the current `Supervisor` until the scope closes. Fails with a
 * `MonitorArgumentError` for a bad option and a `MonitorListenError` when it cannot listen.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Supervisor } from "@tributary/jobs"
 * import { Monitor } from "@tributary/monitor"
 *
 * // reachable from other machines: a token, and the pino redact paths kept out of the page
 * const monitor = Monitor.serve({
 *   host: "0.0.0.0",
 *   port: 7070,
 *   token: "a-long-random-secret",
 *   secretKeys: ["password", "user.apiKey"]
 * }).pipe(Effect.andThen(() => Effect.never), Effect.scoped, Effect.provide(Supervisor.layer()))
 * ```
 *
 * @since 0.2.0
 */
export const serve = (
  options: Options = {}
): Effect.Effect<Monitor, MonitorArgumentError | MonitorListenError, Supervisor.Supervisor | Scope.Scope> =>
  Effect.gen(function* () {
    const config = yield* checked(options)
    const supervisor = yield* Supervisor.Supervisor
    const runPromise = yield* FiberSet.makeRuntimePromise<never>()
    const context = yield* Effect.context<never>()
    const log = (message: string) => Effect.runForkWith(context)(Effect.logError(message))
    const eventText = guarded("an /events update, skipped it", log)
    const snapshotText = guarded("a /snapshot body, answered 500", log)
    const connections = makeConnections(1000, config.maxConnections)
    // A /snapshot body is shared (the same bytes) by every request that comes while it is still
    // being sent to another, until the next interval: with 100,000 queued jobs one is 11 MB and
    // takes 0.4 s to make, and 50 requests at once, each with its own, took 1.3 GB and 22 s.
    let shared: { readonly body: Promise<Buffer | undefined>; readers: number } | undefined
    const snapshotBody = (res: http.ServerResponse): Promise<Buffer | undefined> => {
      const s = (shared ??= {
        body: runPromise(
          Effect.map(supervisor.snapshot, (s) => {
            const text = snapshotText(() => toJson(snapshotView(s, config.secrets)))
            return text === undefined ? undefined : Buffer.from(text)
          })
        ),
        readers: 0
      })
      s.readers++
      res.once("close", () => {
        if (--s.readers === 0 && shared === s) shared = undefined
      })
      return s.body
    }
    const server = makeServer(
      (req, res) => respond(req, res, config.token, connections, snapshotBody),
      2 * config.maxConnections // sockets of any kind
    )
    const port = yield* Effect.acquireRelease(listen(server, config.host, config.port), () => stop(server, connections))
    // the supervisor lists no more than the page shows: an event costs the same however long the
    // queue; an event that cannot be made is skipped (`eventText`), so this loop never fails
    yield* supervisor.watch(config.intervalMillis, { listLimit: config.listLimit }).pipe(
      Stream.runForEach((p) =>
        Effect.sync(() => {
          shared = undefined // a /snapshot is at most an interval old
          connections.publish(() => eventText(() => frame(toJson(progressView(p, config.secrets)))))
        })
      ),
      Effect.forkScoped
    )
    const host = config.host.includes(":") ? `[${config.host}]` : config.host
    return {
      url: `http://${host}:${port}/`,
      host: config.host,
      port,
      connections: Effect.sync(connections.stats)
    }
  })

// ── private helpers ─────────────────────────────────────────────────────────

interface Config {
  readonly port: number
  readonly host: string
  readonly token: string | undefined
  readonly intervalMillis: number
  readonly secrets: ReadonlyArray<SecretPath>
  readonly listLimit: number
  readonly maxConnections: number
}

/** A token shorter than this is refused: a short secret is guessed by trying. */
const minTokenLength = 16

/**
 * A shorter interval is refused: every interval serializes a snapshot and writes it to every
 * client (with 1 nanosecond, 1,400 a second took most of the event loop of the program watched).
 */
const minIntervalMillis = 50

/** The options `serve` reads: any other key is refused (a misspelt `prot` would listen on a random port). */
const optionKeys: ReadonlyArray<keyof Options> = [
  "port",
  "host",
  "token",
  "interval",
  "secretKeys",
  "listLimit",
  "maxConnections"
]

/** The options with their defaults, or the first bad one. */
const checked = (options: Options): Effect.Effect<Config, MonitorArgumentError> =>
  Effect.suspend(() => {
    if (typeof options !== "object" || options === null || Array.isArray(options))
      return Effect.fail(new MonitorArgumentError("options", options, "an object (or nothing)"))
    const unknown = Object.keys(options).find((key) => !(optionKeys as ReadonlyArray<string>).includes(key))
    if (unknown !== undefined)
      return Effect.fail(
        new MonitorArgumentError(
          unknown,
          (options as Record<string, unknown>)[unknown],
          knownOption(unknown, optionKeys)
        )
      )
    const {
      port = 0,
      host: hostOption = "127.0.0.1",
      token,
      interval = "500 millis",
      secretKeys = [],
      listLimit = 100,
      maxConnections = 100
    } = options
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      return Effect.fail(new MonitorArgumentError("port", port, "an integer from 0 to 65535"))
    const host = typeof hostOption === "string" ? bindable(hostOption) : undefined
    if (host === undefined)
      return Effect.fail(
        new MonitorArgumentError(
          "host",
          hostOption,
          "a host name or an IP address (an IPv6 one with or without brackets)"
        )
      )
    const goodToken = typeof token === "string" && token.length >= minTokenLength && /^[\x21-\x7e]+$/.test(token)
    if (token !== undefined && !goodToken)
      return Effect.fail(
        MonitorArgumentError.hidden(
          "token",
          token,
          `a string of at least ${minTokenLength} visible ASCII characters (no spaces)`
        )
      )
    if (token === undefined && !isLoopback(host))
      return Effect.fail(
        new MonitorArgumentError("token", token, `a token when host is not loopback (host ${JSON.stringify(host)})`)
      )
    const ill = illFormedDuration(interval)
    const duration = ill ? Option.none() : Duration.fromInput(interval)
    const intervalMillis = Option.isSome(duration) ? Duration.toMillis(duration.value) : Number.NaN
    if (!(intervalMillis >= minIntervalMillis && Number.isFinite(intervalMillis)))
      return Effect.fail(
        new MonitorArgumentError(
          "interval",
          interval,
          `a finite duration of at least ${minIntervalMillis} millis${ill ? " (an object takes units such as seconds or milliseconds, each a number)" : ""}`
        )
      )
    const secrets = Array.isArray(secretKeys)
      ? secretKeys.map((k) => (typeof k === "string" ? parseSecret(k) : undefined))
      : [undefined]
    if (!secrets.every((p) => p !== undefined))
      return Effect.fail(
        new MonitorArgumentError("secretKeys", secretKeys, 'an array of pino redact paths (a.b, a["x-key"], a[0], *.b)')
      )
    if (!Number.isInteger(listLimit) || listLimit < 1)
      return Effect.fail(new MonitorArgumentError("listLimit", listLimit, "an integer ≥ 1"))
    if (!Number.isInteger(maxConnections) || maxConnections < 1)
      return Effect.fail(new MonitorArgumentError("maxConnections", maxConnections, "an integer ≥ 1"))
    return Effect.succeed({ port, host, token, intervalMillis, secrets, listLimit, maxConnections })
  })

/** A host name as DNS allows it (letters, digits, "-" and "_" in dot-separated labels of 1 to 63). */
const hostName =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i

/** The address to listen on for a `host` option (an IPv6 address without its brackets), or undefined when it is none. */
const bindable = (host: string): string | undefined => {
  const inner = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : undefined
  if (inner !== undefined) return isIPv6(inner) ? inner : undefined
  return isIP(host) !== 0 || hostName.test(host) ? host : undefined
}

/**
 * `make`'s text, or undefined when it throws (what no JSON text can hold: see `toJson`), `what`
 * then logged as one error line — the first of a run of failures only, so a value that stays
 * unrenderable does not write a line every interval.
 */
const guarded = (what: string, log: (message: string) => void) => {
  let failing = false
  return (make: () => string): string | undefined => {
    try {
      const text = make()
      failing = false
      return text
    } catch (error) {
      if (!failing) log(`monitor: could not make ${what}: ${oneLine(error)}`)
      failing = true
      return undefined
    }
  }
}

/** The first line of `error` as text (never throws: its `toString` may). */
const oneLine = (error: unknown): string => {
  try {
    return String(error).split("\n")[0]
  } catch {
    return "an error that cannot be shown as text"
  }
}

/** Listens on `host`:`port`; succeeds with the port bound. */
const listen = (server: http.Server, host: string, port: number): Effect.Effect<number, MonitorListenError> =>
  Effect.callback<number, MonitorListenError>((resume) => {
    const onError = (e: Error) => resume(Effect.fail(new MonitorListenError(host, port, e.message)))
    server.once("error", onError)
    server.listen(port, host, () => {
      server.off("error", onError)
      const address = server.address()
      resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : port))
    })
  })

/** Ends every connection and stops listening; done when the last socket closed. */
const stop = (server: http.Server, connections: Connections): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    connections.closeAll()
    server.close(() => resume(Effect.void))
    server.closeAllConnections()
  })

/** A request target `URL` cannot parse (`//[`, `//a:b`): answered 400, before anything else. */
const parseTarget = (target: string | undefined): URL | undefined => {
  try {
    return new URL(target ?? "/", "http://monitor.invalid")
  } catch {
    return undefined
  }
}

/**
 * Answers one request (callback code: it runs on Node's request event, where a throw would be an
 * uncaught exception of the whole process — so nothing here throws: a malformed target is a 400).
 */
const respond = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  token: string | undefined,
  connections: Connections,
  snapshotBody: (res: http.ServerResponse) => Promise<Buffer | undefined>
): void => {
  const url = parseTarget(req.url)
  if (url === undefined) {
    res.writeHead(400, { "content-type": "text/plain; charset=utf-8" })
    res.end("400: malformed request target\n")
    return
  }
  if (!allowed(req, url, token)) {
    const unauthorized = token !== undefined
    res.writeHead(unauthorized ? 401 : 403, {
      "content-type": "text/plain; charset=utf-8",
      ...(unauthorized ? { "www-authenticate": 'Bearer realm="tributary monitor"' } : {})
    })
    res.end(unauthorized ? "401: a token is required (Authorization: Bearer or ?token=)\n" : "403: host not allowed\n")
    return
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" })
    res.end("405: GET or HEAD only\n")
    return
  }
  // HEAD: the same status and headers as GET; Node's response leaves the body out
  switch (url.pathname) {
    case "/":
      res.writeHead(200, pageHeaders)
      res.end(page)
      return
    case "/events":
      if (req.method === "HEAD") {
        res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store" })
        res.end()
      } else connections.add(res)
      return
    case "/snapshot":
      snapshotBody(res).then(
        (json) => {
          if (json === undefined) {
            res.writeHead(500, { "content-type": "text/plain; charset=utf-8" })
            res.end("500: the snapshot could not be made (see the program's log)\n")
            return
          }
          res.writeHead(200, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" })
          res.end(json)
        },
        () => {
          res.writeHead(503, { "content-type": "text/plain; charset=utf-8" })
          res.end("503: the monitor is stopping\n")
        }
      )
      return
    default:
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" })
      res.end("404: not found (try /, /snapshot or /events)\n")
  }
}
