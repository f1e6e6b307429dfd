/**
 * A partner API to sync from: a real `node:http` server on 127.0.0.1 that behaves like a partner
 * does — about 20 ms per request with jitter, a per-client rate limit (429 with `Retry-After`), a
 * limit on open requests (503), and seeded faults (see `dataset.ts`).
 *
 * - `GET /records?cursor=…&limit=100`: `{ records: [{ id, updatedAt }], next, total }` (`next` is null on the last page)
 * - `GET /records/:id`: the record, messy fields and all
 * - `GET /_stats`: what it served and refused (`PartnerStats`)
 *
 * `startPartner` starts it in-process (tests, and the job when no `--partner-url` is given); run it
 * alone with `npx -y pnpm@12.4.2 partner -- --port 8080 --seed 7 --records 2000`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { pathToFileURL } from "node:url"
import { parseArgs } from "node:util"
import { faultOf, faultsOf, recordOf, updatedAtOf } from "./dataset.js"

export interface PartnerOptions {
  /** default 0: an ephemeral port */
  readonly port?: number
  /** default 1 */
  readonly seed?: number
  /** how many records it has, ids 1..records (default 2000) */
  readonly records?: number
  /** mean latency of a request in ms (default 20) */
  readonly latencyMs?: number
  /** latency varies uniformly by ± this many ms (default 5) */
  readonly jitterMs?: number
  /** requests per second per client, a token bucket holding one second's worth (default 1000) */
  readonly rate?: number
  /** open requests at once (all clients) before it answers 503 (default 32) */
  readonly maxOpen?: number
  /** called as each request to /records or /records/:id arrives (tests act on it: "after the 100th request…") */
  readonly onRequest?: (stats: PartnerStats) => void
  /**
   * requests it takes (not refused with 429 or 503) wait for this before their latency starts
   * (tests hold requests open until they say so, instead of counting on timing)
   */
  readonly holdUntil?: Promise<unknown>
  /** the clock of the rate limit's token buckets, in ms (default `performance.now`; tests pass a still one) */
  readonly now?: () => number
}

export interface PartnerStats {
  /** every request to /records and /records/:id, refused ones included */
  readonly requests: number
  /** requests for /records/:id that were answered (not refused with 429 or 503) */
  readonly detailRequests: number
  /** requests for /records that were answered */
  readonly listRequests: number
  /** the most requests it ever had open at once (counted on arrival, refused ones included) */
  readonly maxConcurrent: number
  readonly rejected429: number
  readonly rejected503: number
  /** 500s sent for the seeded transient faults */
  readonly sent500: number
}

export interface Partner {
  readonly url: string
  readonly seed: number
  readonly records: number
  readonly stats: () => PartnerStats
  /** how many detail requests for record `id` were answered (not the 429s and 503s, refused before) */
  readonly detailRequestsFor: (id: number) => number
  readonly close: () => Promise<void>
}

/** Starts the partner on 127.0.0.1; resolves once it listens. */
export const startPartner = (options: PartnerOptions = {}): Promise<Partner> => {
  const seed = options.seed ?? 1
  const records = options.records ?? 2000
  const latency = options.latencyMs ?? 20
  const jitter = options.jitterMs ?? 5
  const rate = options.rate ?? 1000
  const clock = options.now ?? (() => performance.now())
  const maxOpen = options.maxOpen ?? 32
  const stats = { requests: 0, detailRequests: 0, listRequests: 0, maxConcurrent: 0, rejected429: 0, rejected503: 0 }
  let sent500 = 0
  let open = 0
  const perId = new Map<number, number>()
  /** ids whose transient 500 was already sent */
  const failedOnce = new Set<number>()
  const buckets = new Map<string, { tokens: number; at: number }>()

  /** Takes a token of `client`'s bucket; the seconds to wait when there is none. */
  const takeToken = (client: string): number | undefined => {
    const now = clock()
    const b = buckets.get(client) ?? { tokens: rate, at: now }
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) / 1000) * rate)
    b.at = now
    buckets.set(client, b)
    if (b.tokens >= 1) {
      b.tokens -= 1
      return undefined
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate))
  }

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers })
    res.end(JSON.stringify(body))
  }

  const serve = (url: URL, res: ServerResponse) => {
    if (url.pathname === "/records") {
      stats.listRequests++
      const cursor = url.searchParams.get("cursor")
      const from = cursor === null ? 1 : Number(Buffer.from(cursor, "base64url").toString())
      const limit = Math.min(100, Math.max(1, Number(url.searchParams.get("limit") ?? 100) || 100))
      if (!Number.isInteger(from) || from < 1) return send(res, 400, { error: `bad cursor ${cursor}` })
      const to = Math.min(records, from + limit - 1)
      const page = []
      for (let id = from; id <= to; id++) page.push({ id, updatedAt: updatedAtOf(seed, id) })
      const next = to < records ? Buffer.from(String(to + 1)).toString("base64url") : null
      return send(res, 200, { records: page, next, total: records })
    }
    const match = /^\/records\/(\d+)$/.exec(url.pathname)
    if (match === null) return send(res, 404, { error: `no route ${url.pathname}` })
    const id = Number(match[1])
    stats.detailRequests++
    perId.set(id, (perId.get(id) ?? 0) + 1)
    const fault = faultOf(seed, id)
    if (id < 1 || id > records || fault === "gone") return send(res, 404, { error: `record ${id} not found` })
    if (fault === "transient" && !failedOnce.has(id)) {
      failedOnce.add(id)
      sent500++
      return send(res, 500, { error: "internal error, try again" })
    }
    send(res, 200, recordOf(seed, id))
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://partner")
    if (url.pathname === "/_stats") return send(res, 200, { ...stats, sent500, seed, records })
    if (req.method !== "GET") return send(res, 405, { error: "GET only" })
    stats.requests++
    open++
    stats.maxConcurrent = Math.max(stats.maxConcurrent, open)
    options.onRequest?.({ ...stats, sent500 })
    res.on("close", () => open--)
    if (open > maxOpen) {
      stats.rejected503++
      return send(res, 503, { error: "too many open requests" }, { "retry-after": "1" })
    }
    const client = String(req.headers["x-client-id"] ?? req.socket.remoteAddress)
    const wait = takeToken(client)
    if (wait !== undefined) {
      stats.rejected429++
      return send(res, 429, { error: "rate limit exceeded" }, { "retry-after": String(wait) })
    }
    const delay = Math.max(0, latency + (Math.random() * 2 - 1) * jitter)
    const answer = () => setTimeout(() => serve(url, res), delay)
    if (options.holdUntil === undefined) answer()
    else void options.holdUntil.then(answer)
  })
  server.keepAliveTimeout = 5_000

  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        seed,
        records,
        stats: () => ({ ...stats, sent500 }),
        detailRequestsFor: (id) => perId.get(id) ?? 0,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          })
      })
    })
  })
}

export { faultsOf }

// ── run alone ───────────────────────────────────────────────────────────────

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // a bad flag: its name and value, exit 2; a port in use: exit 1 — one line each, no stack
  const fail = (message: string, code: number): never => {
    process.stderr.write(`${message}\n`)
    process.exit(code)
  }
  let values: Record<string, string | undefined> = {}
  try {
    ;({ values } = parseArgs({
      // `pnpm partner -- --port 8080` hands the script its "--"
      args: process.argv.slice(2).filter((a) => a !== "--"),
      options: {
        port: { type: "string", default: "8080" },
        seed: { type: "string", default: "1" },
        records: { type: "string", default: "2000" },
        latency: { type: "string", default: "20" },
        rate: { type: "string", default: "1000" },
        "max-open": { type: "string", default: "32" }
      }
    }))
  } catch (e) {
    fail(`${(e as Error).message}\nflags: --port N --seed N --records N --latency MS --rate N --max-open N`, 2)
  }
  const number = (flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const text = values[flag] ?? ""
    const n = Number(text)
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max)
      fail(
        `Invalid --${flag}: expected an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : " up"}, received ${JSON.stringify(text)}`,
        2
      )
    return n
  }
  const options = {
    port: number("port", 0, 65535),
    seed: number("seed", 0),
    records: number("records", 0),
    latencyMs: number("latency", 0),
    rate: number("rate", 1),
    maxOpen: number("max-open", 1)
  }
  const partner = await startPartner(options).catch((e: Error) =>
    fail(`cannot listen on 127.0.0.1:${options.port}: ${e.message}`, 1)
  )
  process.stdout.write(`partner listening on ${partner.url} (seed ${partner.seed}, ${partner.records} records)\n`)
  const stop = () => {
    process.stdout.write(`${JSON.stringify(partner.stats())}\n`)
    void partner.close()
  }
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
}
