/**
 * The partner's HTTP client: every request has its own timeout and is retried on what a partner
 * means as "later" — 429 and 503 after the `Retry-After` it sent, 500/502/504, timeouts and broken
 * connections with exponential backoff and full jitter — and fails with a `PartnerError` otherwise
 * (404 is final). Requests go through `node:http` on keep-alive connections; waits use effect's
 * Clock; retries are reported to `onRetry` for the summary. Nothing the partner answers is taken on
 * trust: a listing page is checked (every entry a positive integer id and a date) before the job
 * reads it, and `/_stats` is read under the same timeout, its counters checked.
 */
import http from "node:http"
import { Data, Duration, Effect, Random } from "effect"
import type { PartnerStats } from "./partner.js"

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
  /** a page of the listing; an answer that is not a page (an HTML error page, other JSON) is a PartnerError with reason "body", not retried */
  readonly listPage: (cursor: string | null) => Effect.Effect<Page, PartnerError>
  readonly getRecord: (id: number) => Effect.Effect<unknown, PartnerError>
  /** the partner's `/_stats`: one attempt under the same timeout; undefined when it has none (or not ours) */
  readonly stats: Effect.Effect<PartnerStats | undefined>
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
    listPage: (cursor) => {
      const path = `/records?limit=100${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`
      return Effect.flatMap(withRetries(path), (body) => {
        const problem = pageProblem(body)
        return problem === undefined
          ? Effect.succeed(body as Page)
          : Effect.fail(
              new PartnerError({ path, reason: "body", cause: new Error(`not a page of records: ${problem}`) })
            )
      })
    },
    getRecord: (id) => withRetries(`/records/${id}`),
    stats: Effect.map(Effect.option(once("/_stats")), (body) =>
      body._tag === "Some" && isStats(body.value) ? body.value : undefined
    )
  }
}

/** What is wrong with `u` as a page of the listing; undefined when it is one. */
const pageProblem = (u: unknown): string | undefined => {
  if (typeof u !== "object" || u === null || Array.isArray(u))
    return `${JSON.stringify(u)?.slice(0, 60)} is not an object`
  const p = u as Record<string, unknown>
  if (!Array.isArray(p.records)) return "it has no records array"
  if (p.next !== null && (typeof p.next !== "string" || p.next === ""))
    return `next ${JSON.stringify(p.next)} is neither a cursor nor null`
  if (p.total !== undefined && !(Number.isSafeInteger(p.total) && (p.total as number) >= 0))
    return `total ${JSON.stringify(p.total)} is not a count`
  for (const r of p.records as Array<unknown>) {
    const { id, updatedAt } = (typeof r === "object" && r !== null ? r : {}) as Record<string, unknown>
    const ok =
      typeof id === "number" &&
      Number.isSafeInteger(id) &&
      id > 0 &&
      typeof updatedAt === "string" &&
      !Number.isNaN(Date.parse(updatedAt))
    if (!ok) return `the entry ${JSON.stringify(r)?.slice(0, 80)} is not { id: a positive integer, updatedAt: a date }`
  }
  return undefined
}

/** Whether `u` has the counters the summary reads, each a count. */
const isStats = (u: unknown): u is PartnerStats =>
  typeof u === "object" &&
  u !== null &&
  (["requests", "maxConcurrent", "rejected429", "rejected503"] as const).every((k) => {
    const n = (u as Record<string, unknown>)[k]
    return typeof n === "number" && Number.isSafeInteger(n) && n >= 0
  })

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
