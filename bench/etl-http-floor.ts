/**
 * What the ETL job's partner traffic costs by itself on this machine: the same 2,000 detail GETs
 * (`/records/:id`) the job sends, through plain `node:http` on a keep-alive agent, 16 at a time,
 * against the job's partner (examples/etl/partner.ts) started as its own process, as in
 * bench/etl.ts. No limiter, no retries, no parsing, no database: a floor for any implementation of
 * the job. Prints, per round, the wall time against the ideal (requests × latency ÷ concurrency)
 * and the CPU time this process spent per request (user + system, all its threads).
 *
 *   node --import tsx bench/etl-http-floor.ts [--rounds 3] [--records 2000] [--concurrency 16]
 *
 * Each round after a warm-up round of the same size (not printed). Requests that do not answer 200
 * (the partner's seeded 500s and 404s) are counted, not retried.
 */
import { spawn } from "node:child_process"
import http from "node:http"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    records: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "16" }
  }
})
const positive = (flag: string, text: string): number => {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag}: expected an integer >= 1, received ${text}`)
  return n
}
const rounds = positive("rounds", values.rounds)
const records = positive("records", values.records)
const concurrency = positive("concurrency", values.concurrency)
const latencyMs = 20

const partnerScript = fileURLToPath(new URL("../examples/etl/partner.ts", import.meta.url))
const partner = spawn(
  process.execPath,
  ["--import", "tsx", partnerScript, "--port", "0", "--records", String(records), "--latency", String(latencyMs)],
  { stdio: ["ignore", "pipe", "inherit"] }
)
const url = await new Promise<string>((resolve, reject) => {
  let out = ""
  partner.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString()
    const m = /listening on (\S+)/.exec(out)
    if (m !== null) resolve(m[1])
  })
  partner.once("exit", (code) => reject(new Error(`the partner exited (${code}) before it listened`)))
})

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
const get = (path: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const req = http.get(`${url}${path}`, { agent }, (res) => {
      res.resume()
      res.on("end", () => resolve(res.statusCode ?? 0))
      res.on("error", reject)
    })
    req.on("error", reject)
  })

const round = async () => {
  let next = 1
  let failed = 0
  const worker = async () => {
    while (next <= records) if ((await get(`/records/${next++}`)) !== 200) failed++
  }
  const cpu = process.cpuUsage()
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const wallMs = performance.now() - start
  const used = process.cpuUsage(cpu)
  return { wallMs, cpuUsPerRequest: (used.user + used.system) / records, failed }
}

try {
  const ideal = (records * latencyMs) / concurrency
  await round() // warm-up
  console.log(`${records} GETs of /records/:id, ${concurrency} at a time, partner latency ${latencyMs} ± 5 ms`)
  console.log(`ideal ${ideal} ms; Node ${process.version}`)
  for (let r = 1; r <= rounds; r++) {
    const { wallMs, cpuUsPerRequest, failed } = await round()
    console.log(
      `round ${r}: ${wallMs.toFixed(0)} ms (${(((wallMs - ideal) / ideal) * 100).toFixed(1)}% over ideal), ` +
        `${cpuUsPerRequest.toFixed(0)} µs CPU per request in this process ` +
        `(${((cpuUsPerRequest * records) / 1000 / wallMs).toFixed(2)} of a core), ${failed} not 200`
    )
  }
} finally {
  agent.destroy()
  partner.kill("SIGTERM")
}
