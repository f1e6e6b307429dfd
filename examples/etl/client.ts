/**
 * The partner's HTTP client: every request has its own timeout and is retried on what a partner
 * means as "later" — 429 and 503 after the `Retry-After` it sent, 500/502/504, timeouts and broken
 * connections with exponential backoff and full jitter — and fails with a `PartnerError` otherwise
 * (404 is final). Requests go through `node:http` on keep-alive connections; waits use effect's
 * Clock; retries are reported to `onRetry` for the summary.
 */
import http from "node:http"
import { Data, Duration, Effect, Random } from "effect"

export class PartnerError extends Data.TaggedError("PartnerError")<{
  readonly path: string
  /** the HTTP status, when there was an answer */
  readonly status?: number
  readonly reason: "status" | "timeout" | "network" | "body"
  /** from a `Retry-After` header */
  readonly retryAfterMillis?: number
  readonly cause?: unknown
}> {
  override get message() {
    const what = this.reason === "status" ? String(this.status) : this.reason
    const why = this.cause instanceof Error ? ` (${this.cause.message})` : ""
    return `GET ${this.path}: ${what}${why}`
  }

  get retryable(): boolean {
    return this.reason !== "status" || [429, 500, 502, 503, 504].includes(this.status ?? 0)
  }
}

export interface Page {
  readonly records: ReadonlyArray<{ readonly id: number; readonly updatedAt: string }>
  readonly next: string | null
  /** how many records there are in all */
  readonly total?: number
}

export interface ClientOptions {
  /** per request (default 2000 ms) */
  readonly timeoutMillis?: number
  /** attempts per request, the first included (default 5) */
  readonly attempts?: number
  /** first backoff step (default 50 ms), doubled per attempt, capped at 2 s */
  readonly backoffMillis?: number
  /** keep-alive sockets at most (default 64) */
  readonly maxSockets?: number
  /** told before each retry */
  readonly onRetry?: (error: PartnerError, attempt: number) => void
}

export interface PartnerClient {
  readonly listPage: (cursor: string | null) => Effect.Effect<Page, PartnerError>
  readonly getRecord: (id: number) => Effect.Effect<unknown, PartnerError>
}

export const makeClient = (baseUrl: string, options: ClientOptions = {}): PartnerClient => {
  const timeout = options.timeoutMillis ?? 2000
  const attempts = options.attempts ?? 5
  const backoff = options.backoffMillis ?? 50

  // keep-alive connections, as many as requests may be open at once
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 })

  const once = (path: string): Effect.Effect<unknown, PartnerError> =>
    Effect.tryPromise({
      try: (signal) => get(agent, `${baseUrl}${path}`, signal),
      catch: (cause) => new PartnerError({ path, reason: "network", cause })
    }).pipe(
      Effect.flatMap((res) => {
        if (res.status !== 200) return Effect.fail(statusError(path, res.status, res.retryAfter))
        return Effect.try({
          try: () => JSON.parse(res.body) as unknown,
          catch: (cause) => new PartnerError({ path, status: res.status, reason: "body", cause })
        })
      }),
      Effect.timeoutOrElse({
        duration: timeout,
        orElse: () => Effect.fail(new PartnerError({ path, reason: "timeout" }))
      })
    )

  const withRetries = (path: string, attempt = 1): Effect.Effect<unknown, PartnerError> =>
    Effect.catchIf(
      once(path),
      (e) => e.retryable && attempt < attempts,
      (e) =>
        Effect.gen(function* () {
          yield* Effect.sync(() => options.onRetry?.(e, attempt))
          const ceiling = Math.min(2000, backoff * 2 ** (attempt - 1))
          const jittered = Math.round((yield* Random.next) * ceiling)
          yield* Effect.sleep(Duration.millis(Math.max(e.retryAfterMillis ?? 0, jittered)))
          return yield* withRetries(path, attempt + 1)
        })
    )

  return {
    listPage: (cursor) =>
      withRetries(
        `/records?limit=100${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`
      ) as Effect.Effect<Page, PartnerError>,
    getRecord: (id) => withRetries(`/records/${id}`)
  }
}

const statusError = (path: string, status: number, retryAfter: string | undefined): PartnerError => {
  const seconds = retryAfter === undefined ? Number.NaN : Number(retryAfter)
  return Number.isFinite(seconds) && seconds >= 0
    ? new PartnerError({ path, status, reason: "status", retryAfterMillis: seconds * 1000 })
    : new PartnerError({ path, status, reason: "status" })
}

/** One GET on `agent`: the status, the Retry-After header and the body; aborted by `signal`. */
const get = (
  agent: http.Agent,
  url: string,
  signal: AbortSignal
): Promise<{ status: number; retryAfter: string | undefined; body: string }> =>
  new Promise((resolve, reject) => {
    const req = http.get(url, { agent, signal }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        body += chunk
      })
      res.on("end", () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"], body }))
      res.on("error", reject)
    })
    req.on("error", reject)
  })
