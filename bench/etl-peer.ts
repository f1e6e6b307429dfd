/**
 * The hand-written peer of the ETL job (examples/etl) for bench/etl.ts: the same work — list the
 * partner's pages, skip records whose `updatedAt` is stored, fetch → clean → persist each other
 * record, rows upserted in batches of 100 or 50 ms — written the way it is written without
 * Tributary: `p-limit` for the concurrency, plain promises, `node:http` on keep-alive sockets.
 * It uses the job's own database layer (examples/etl/db.ts: PGlite, or a `pg` pool when
 * DATABASE_URL is set) and clean step (record.ts), so only the orchestration differs.
 *
 *   node --import tsx bench/etl-peer.ts --partner-url URL [--data-dir DIR] [--concurrency 16] [--fresh]
 *
 * Invariants: every listed record ends counted once (unchanged, saved, or failed by stage); the
 * timed span is the job's (from the stored versions read to the last batch written); the last
 * stdout line is one JSON object with the job's `--json` keys that bench/etl.ts reads.
 */
import http from "node:http"
import { parseArgs } from "node:util"
import { Effect, Exit } from "effect"
import pLimit from "p-limit"
import { type Database, open } from "../examples/etl/db.ts"
import { clean, type Row } from "../examples/etl/record.ts"

const { values } = parseArgs({
  options: {
    "partner-url": { type: "string" },
    "data-dir": { type: "string", default: ".data/etl-peer" },
    concurrency: { type: "string", default: "16" },
    fresh: { type: "boolean", default: false }
  }
})
const partnerUrl = values["partner-url"]
const concurrency = Number(values.concurrency)
if (partnerUrl === undefined || !/^https?:\/\//.test(partnerUrl))
  throw new Error(`--partner-url: expected an http:// URL, received ${JSON.stringify(partnerUrl)}`)
if (!Number.isSafeInteger(concurrency) || concurrency < 1)
  throw new Error(`--concurrency: expected an integer >= 1, received ${JSON.stringify(values.concurrency)}`)

// ── the partner: one GET with a timeout, retried as the job's client retries ──

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
let retries = 0

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMillis: number | undefined
  ) {
    super(`HTTP ${status}`)
  }
}

const getOnce = (path: string): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const req = http.get(`${partnerUrl}${path}`, { agent, signal: AbortSignal.timeout(2000) }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        body += chunk
      })
      res.on("end", () => {
        if (res.statusCode !== 200) {
          const seconds = Number(res.headers["retry-after"])
          reject(new HttpError(res.statusCode ?? 0, Number.isFinite(seconds) ? seconds * 1000 : undefined))
        } else {
          try {
            resolve(JSON.parse(body))
          } catch (e) {
            reject(e)
          }
        }
      })
      res.on("error", reject)
    })
    req.on("error", reject)
  })

const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms))

/** 5 attempts; 429/500/502/503/504, timeouts and network errors retried after Retry-After or a jittered backoff. */
const get = async (path: string): Promise<unknown> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await getOnce(path)
    } catch (e) {
      const retryable = !(e instanceof HttpError) || [429, 500, 502, 503, 504].includes(e.status)
      if (!retryable || attempt >= 5) throw e
      retries++
      const jittered = Math.round(Math.random() * Math.min(2000, 50 * 2 ** (attempt - 1)))
      await sleep(Math.max(e instanceof HttpError ? (e.retryAfterMillis ?? 0) : 0, jittered))
    }
  }
}

// ── the writer: batches of 100 rows or 50 ms, one transaction each, one at a time ──

const makeWriter = (db: Database, counts: { saved: number; failedDb: number }) => {
  let batch: Array<Row> = []
  let timer: NodeJS.Timeout | undefined
  let writing: Promise<void> = Promise.resolve()
  const write = async (rows: ReadonlyArray<Row>) => {
    for (let attempt = 1; ; attempt++) {
      const exit = await Effect.runPromiseExit(db.upsert(rows))
      if (Exit.isSuccess(exit)) return void (counts.saved += rows.length)
      if (attempt > 3) return void (counts.failedDb += rows.length)
      await sleep(20 * 2 ** (attempt - 1))
    }
  }
  const flush = () => {
    clearTimeout(timer)
    timer = undefined
    if (batch.length === 0) return
    const rows = batch
    batch = []
    writing = writing.then(() => write(rows))
  }
  return {
    add: (row: Row) => {
      batch.push(row)
      if (batch.length >= 100) flush()
      else timer ??= setTimeout(flush, 50)
    },
    close: () => {
      flush()
      return writing
    }
  }
}

// ── the job ──────────────────────────────────────────────────────────────────

interface PageBody {
  readonly records: ReadonlyArray<{ readonly id: number; readonly updatedAt: string }>
  readonly next: string | null
}

const run = async (db: Database) => {
  const known = await Effect.runPromise(db.versions)
  const started = performance.now()
  const counts = { listed: 0, unchanged: 0, saved: 0, failedDb: 0, failedPartner: 0, failedClean: 0 }
  const writer = makeWriter(db, counts)
  const limit = pLimit(concurrency)
  const tasks: Array<Promise<void>> = []
  let cursor: string | null = null
  do {
    const page = (await get(
      `/records?limit=100${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`
    )) as PageBody
    counts.listed += page.records.length
    for (const { id, updatedAt } of page.records) {
      if (known.get(id) === Date.parse(updatedAt)) {
        counts.unchanged++
        continue
      }
      tasks.push(
        limit(async () => {
          let raw: unknown
          try {
            raw = await get(`/records/${id}`)
          } catch {
            counts.failedPartner++
            return
          }
          const row = Effect.runSyncExit(clean(raw))
          if (Exit.isSuccess(row)) writer.add(row.value)
          else counts.failedClean++
        })
      )
    }
    cursor = page.next
  } while (cursor !== null)
  await Promise.all(tasks)
  await writer.close()
  const durationMs = Math.round(performance.now() - started)
  const dbRows = await Effect.runPromise(db.count)
  return {
    records: counts.listed,
    saved: counts.saved,
    unchanged: counts.unchanged,
    failed: { partner: counts.failedPartner, clean: counts.failedClean, db: counts.failedDb },
    retries,
    dbRows: dbRows.rows,
    durationMs
  }
}

const databaseUrl = process.env.DATABASE_URL === "" ? undefined : process.env.DATABASE_URL
const summary = await Effect.runPromise(
  Effect.scoped(
    Effect.gen(function* () {
      const db = yield* open({ url: databaseUrl, dataDir: values["data-dir"] })
      if (values.fresh) yield* db.truncate
      return yield* Effect.promise(() => run(db))
    })
  )
)
agent.destroy()
process.stdout.write(`${JSON.stringify(summary)}\n`)
