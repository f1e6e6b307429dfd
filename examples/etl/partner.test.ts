/**
 * The partner server on its own, over real HTTP: its pages, its messy records, its seeded faults,
 * its rate limit (429 with Retry-After), its open-request limit (503) and `/_stats`. What the job
 * does against it is in etl.test.ts.
 */
import { spawn } from "node:child_process"
import { join } from "node:path"
import { Effect, Exit } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { faultRates, faultsOf } from "./dataset.js"
import { type Partner, type PartnerOptions, startPartner } from "./partner.js"
import { clean } from "./record.js"

const started: Array<Partner> = []
const partner = async (options: PartnerOptions): Promise<Partner> => {
  const p = await startPartner(options)
  started.push(p)
  return p
}
afterAll(() => Promise.all(started.map((p) => p.close())))

const get = async (p: Partner, path: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${p.url}${path}`, { headers })
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as any }
}

/** The first record without a seeded fault. */
const healthyId = (seed: number): number => {
  const f = faultsOf(seed, 100)
  return Array.from({ length: 100 }, (_, i) => i + 1).find(
    (id) => !f.transient.includes(id) && !f.gone.includes(id) && !f.dirty.includes(id)
  )!
}

/** Every page from the first: the ids and updatedAt listed, in order, and the totals the pages gave. */
const listAll = async (p: Partner) => {
  const listed: Array<{ id: number; updatedAt: string }> = []
  const totals = new Set<number>()
  let cursor: string | null = null
  let pages = 0
  do {
    const { status, body } = await get(p, `/records?limit=100${cursor === null ? "" : `&cursor=${cursor}`}`)
    expect(status).toBe(200)
    listed.push(...body.records)
    totals.add(body.total)
    cursor = body.next
    pages++
  } while (cursor !== null)
  return { listed, totals: [...totals], pages }
}

describe("the partner", () => {
  it("lists every record once, 100 a page, with the total; the same seed lists the same updatedAt", async () => {
    const a = await partner({ seed: 5, records: 250, latencyMs: 0, jitterMs: 0 })
    const b = await partner({ seed: 5, records: 250, latencyMs: 0, jitterMs: 0 })
    const c = await partner({ seed: 6, records: 250, latencyMs: 0, jitterMs: 0 })
    const all = await listAll(a)
    expect(all.pages).toBe(3)
    expect(all.totals).toEqual([250])
    expect(all.listed.map((r) => r.id)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1))
    expect((await listAll(b)).listed).toEqual(all.listed)
    expect((await listAll(c)).listed).not.toEqual(all.listed)
    expect(await get(a, "/records?cursor=@@")).toMatchObject({ status: 400 })
  })

  it("serves messy records that clean into rows; the same seed serves the same record", async () => {
    const a = await partner({ seed: 5, records: 100, latencyMs: 0, jitterMs: 0 })
    const b = await partner({ seed: 5, records: 100, latencyMs: 0, jitterMs: 0 })
    const faults = faultsOf(5, 100)
    const healthy = Array.from({ length: 100 }, (_, i) => i + 1).filter(
      (id) => !faults.gone.includes(id) && !faults.dirty.includes(id) && !faults.transient.includes(id)
    )
    const raws = await Promise.all(healthy.map(async (id) => (await get(a, `/records/${id}`)).body))
    // messy: some name, price or currency needs trimming or a case fix, and some optional field is missing
    expect(raws.some((r) => r.name !== r.name.trim() || /\s{2}/.test(r.name))).toBe(true)
    expect(raws.some((r) => r.price !== r.price.trim() || /[$,]/.test(r.price))).toBe(true)
    expect(raws.some((r) => r.currency === undefined || r.country === undefined || r.email === undefined)).toBe(true)
    for (const raw of raws) {
      const row = Effect.runSyncExit(clean(raw))
      expect(Exit.isSuccess(row), JSON.stringify(raw)).toBe(true)
    }
    expect((await get(b, `/records/${healthy[0]}`)).body).toEqual(raws[0])
  })

  it("fails the seeded records: 500 once then the record, 404 every time, or a record cleaning rejects", async () => {
    // the advertised shares (2%, 0.5%, 1%), disjoint: over 100,000 records within 10%
    const many = faultsOf(1, 100_000)
    for (const kind of ["transient", "gone", "dirty"] as const) {
      expect(many[kind].length).toBeGreaterThan(100_000 * faultRates[kind] * 0.9)
      expect(many[kind].length).toBeLessThan(100_000 * faultRates[kind] * 1.1)
    }
    expect(new Set([...many.transient, ...many.gone, ...many.dirty]).size).toBe(
      many.transient.length + many.gone.length + many.dirty.length
    )
    const records = 2000
    const faults = faultsOf(1, records)
    const p = await partner({ seed: 1, records, latencyMs: 0, jitterMs: 0 })
    const [transient, gone, dirty] = [faults.transient[0]!, faults.gone[0]!, faults.dirty[0]!]
    expect((await get(p, `/records/${transient}`)).status).toBe(500)
    expect(await get(p, `/records/${transient}`)).toMatchObject({ status: 200, body: { id: transient } })
    expect((await get(p, `/records/${gone}`)).status).toBe(404)
    expect((await get(p, `/records/${gone}`)).status).toBe(404)
    const row = Effect.runSyncExit(clean((await get(p, `/records/${dirty}`)).body))
    expect(Exit.isFailure(row)).toBe(true)
    expect((await get(p, `/records/${records + 1}`)).status).toBe(404)
    expect(p.stats()).toMatchObject({ sent500: 1, detailRequests: 6 })
    expect(p.detailRequestsFor(transient)).toBe(2)
  })

  it("answers 429 with Retry-After once a client used its rate, per client", async () => {
    // the buckets' clock stands still (no refill) until the test moves it
    let now = 0
    const p = await partner({ rate: 5, latencyMs: 0, jitterMs: 0, now: () => now })
    const id = healthyId(1)
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => get(p, `/records/${id}`, { "x-client-id": "a" }))
    )
    const refused = answers.filter((a) => a.status === 429)
    // a bucket of one second's worth: 5 served, the other 15 refused, told to come back in a second
    expect(answers.filter((a) => a.status === 200).length).toBe(5)
    expect(refused.length).toBe(15)
    for (const r of refused) expect(r.retryAfter).toBe("1")
    // another client has its own bucket
    expect((await get(p, `/records/${id}`, { "x-client-id": "b" })).status).toBe(200)
    expect(p.stats().rejected429).toBe(15)
    // 200 ms later, one token more (5 per second): one served, the next refused
    now += 200
    expect((await get(p, `/records/${id}`, { "x-client-id": "a" })).status).toBe(200)
    expect((await get(p, `/records/${id}`, { "x-client-id": "a" })).status).toBe(429)
  })

  it("answers 503 with Retry-After over its open-request limit, and /_stats counts what it did", async () => {
    // the two it takes are held open until the fifth request has arrived: the other three find two open
    let allArrived!: () => void
    const arrived = new Promise<void>((resolve) => {
      allArrived = resolve
    })
    const p = await partner({
      maxOpen: 2,
      latencyMs: 0,
      jitterMs: 0,
      holdUntil: arrived,
      onRequest: (s) => {
        if (s.requests === 5) allArrived()
      }
    })
    const id = healthyId(1)
    const answers = await Promise.all(Array.from({ length: 5 }, () => get(p, `/records/${id}`)))
    const refused = answers.filter((a) => a.status === 503)
    expect(refused.length).toBe(3)
    for (const r of refused) expect(r.retryAfter).toBe("1")
    const stats = await get(p, "/_stats")
    expect(stats.body).toMatchObject({
      requests: 5,
      detailRequests: 2,
      listRequests: 0,
      rejected429: 0,
      rejected503: 3,
      seed: 1,
      records: 2000
    })
    // counted on arrival: the refused ones close at once, so at least the two held and one refused were open together
    expect(stats.body.maxConcurrent).toBeGreaterThanOrEqual(3)
    // /_stats is not counted
    expect(p.stats().requests).toBe(5)
  })

  it("run alone (`pnpm partner -- --port 0 …`): it takes the flags after pnpm's --, serves, and prints its stats on SIGTERM; a bad flag exits 2 with one line", async () => {
    const alone = (args: ReadonlyArray<string>, onLine?: (line: string, kill: () => void) => void) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ["--conditions=tributary:source", "--import", "tsx", join(import.meta.dirname, "partner.ts"), ...args],
          { stdio: ["ignore", "pipe", "pipe"] }
        )
        let stdout = ""
        let stderr = ""
        child.stdout.on("data", (d: Buffer) => {
          stdout += d
          onLine?.(stdout, () => child.kill("SIGTERM"))
        })
        child.stderr.on("data", (d: Buffer) => (stderr += d))
        child.on("error", reject)
        child.on("close", (code) => resolve({ code, stdout, stderr }))
      })
    let stats: any
    let asked = false
    const run = await alone(["--", "--port", "0", "--seed", "7", "--records", "5"], (out, kill) => {
      const url = /partner listening on (http:\/\/\S+)/.exec(out)?.[1]
      if (url === undefined || asked) return
      asked = true
      void fetch(`${url}/_stats`)
        .then((r) => r.json())
        .then((s) => {
          stats = s
          kill()
        })
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain("(seed 7, 5 records)")
    expect(stats).toMatchObject({ seed: 7, records: 5, requests: 0 })
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe(
      JSON.stringify({
        requests: 0,
        detailRequests: 0,
        listRequests: 0,
        maxConcurrent: 0,
        rejected429: 0,
        rejected503: 0,
        sent500: 0
      })
    )

    const bad = await alone(["--rate", "0"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe('Invalid --rate: expected an integer from 1 up, received "0"\n')
  }, 60_000)
})
