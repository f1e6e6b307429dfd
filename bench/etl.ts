/**
 * The ETL benchmark: the real job (examples/etl) over 2,000 records at 20 ms partner latency, side
 * by side in one run with a hand-written `p-limit` peer (bench/etl-peer.ts) on the same database
 * layer, the ideal (records × latency ÷ concurrency), and a sequential run of the job
 * (`--concurrency 1`) on a sample of the records, extrapolated.
 *
 *   tsx bench/etl.ts [--reps 5] [--records 2000] [--modes fire,handles,channel,all] [--sample 100]
 *                    [--concurrency 16] [--timeout 300] [--out bench/ETL-RESULTS.md]
 *
 * Every run is a fresh Node process (the job's `main.ts --json`, or the peer) against a fresh
 * partner served by this process (127.0.0.1, seed 1, 20 ± 5 ms, its default limits), on one
 * database: PGlite in a temporary folder, or the PostgreSQL server of DATABASE_URL when it is set.
 * Each run starts from an empty table (`--fresh`). The time is the job's own `durationMs` (from
 * the stored versions read to the last row written: process start and opening the database are
 * left out, for both). Runs are interleaved round-robin with the first one rotated per repetition;
 * figures are medians. A run whose counts do not add up (a record lost or saved twice) fails.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import pg from "pg"
import { type Partner, startPartner } from "../examples/etl/partner.ts"
import {
  benchDir,
  commandLine,
  type Failure,
  machineRows,
  median,
  positive,
  type Results,
  root,
  row,
  rule,
  runInterleaved,
  version,
  writeReport
} from "./report.ts"

const usage = `Usage: tsx bench/etl.ts [options]
  --reps N          repetitions of each run (default 5)
  --records N       records of the partner (default 2000)
  --modes LIST      the job's --mode values to run (default fire,handles,channel,all)
  --sample N        records of the sequential run, extrapolated to --records (default 100)
  --concurrency N   the job's and the peer's concurrency (default 16)
  --timeout S       seconds before a run is killed (default 300)
  --out PATH        markdown report (default bench/ETL-RESULTS.md)
  --help`

/** Every option but --help, with its default. */
const defaults = {
  reps: "5",
  records: "2000",
  modes: "fire,handles,channel,all",
  sample: "100",
  concurrency: "16",
  timeout: "300",
  out: join("bench", "ETL-RESULTS.md")
}
const parsed = parseArgs({
  options: {
    ...Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, { type: "string" as const, default: v }])),
    help: { type: "boolean" }
  }
}).values
if (parsed.help === true) {
  console.log(usage)
  process.exit(0)
}
const args = Object.fromEntries(
  Object.keys(defaults).map((k) => [k, String((parsed as Record<string, unknown>)[k])])
) as typeof defaults

const reps = Math.floor(positive("reps", args.reps))
const records = Math.floor(positive("records", args.records))
const sampleSize = Math.min(records, Math.floor(positive("sample", args.sample)))
const concurrency = Math.floor(positive("concurrency", args.concurrency))
const timeoutMs = positive("timeout", args.timeout) * 1000
const modes = args.modes.split(",").map((m) => m.trim())
for (const m of modes)
  if (!["fire", "handles", "channel", "all"].includes(m))
    throw new Error(`--modes: unknown mode ${JSON.stringify(m)}; known: fire, handles, channel, all`)

const latencyMs = 20
const seed = 1
const idealMs = (records * latencyMs) / concurrency
const databaseUrl = process.env.DATABASE_URL === "" ? undefined : process.env.DATABASE_URL
const dataDir = mkdtempSync(join(os.tmpdir(), "tributary-bench-etl-"))

/**
 * Runs `script` (relative to bench/) in a fresh `node --import tsx`, the packages resolved to their
 * sources — as `pnpm etl` runs the job — and resolves to the JSON object on its stdout's last line, or a `Failure`.
 */
const runNode = (script: string, scriptArgs: ReadonlyArray<string>, impl: string): Promise<Sample | Failure> =>
  new Promise((done) => {
    execFile(
      process.execPath,
      ["--conditions=tributary:source", "--import", "tsx", join(benchDir, script), ...scriptArgs],
      { cwd: root, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        try {
          // the job's `--json` line has `error`: null when the run succeeded, else why it failed
          const line = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Sample & { readonly error?: unknown }
          const { error: failed, ...sample } = line
          done(
            failed === undefined || failed === null
              ? sample
              : {
                  impl,
                  workload: "etl",
                  error: `the run failed: ${String(failed)}\n${stderr.trim().slice(-2000)}`.trim()
                }
          )
        } catch {
          const reason = error?.killed ? `killed after ${timeoutMs / 1000}s` : (error?.message ?? "no output")
          done({ impl, workload: "etl", error: `${reason}\n${stderr.trim().slice(-2000)}`.trim() })
        }
      }
    )
  })

/** The database both sides write to, as the report names it. */
const databaseLabel = async (): Promise<string> => {
  if (databaseUrl === undefined)
    return `PGlite ${version("node_modules/@electric-sql/pglite/package.json")} (embedded, in the job's process), a fresh data folder`
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  const { rows } = await client.query<{ server_version: string }>("SHOW server_version")
  await client.end()
  return `PostgreSQL ${rows[0]?.server_version} server (DATABASE_URL, on this machine), through a \`pg\` ${version("node_modules/pg/package.json")} pool`
}
const database = await databaseLabel()

// ── one run ──────────────────────────────────────────────────────────────────

interface Cell {
  /** "ours/fire", …, "p-limit", "sequential" */
  readonly impl: string
}

/** What a run reports: the job's `--json` keys, and what the partner and the machine said. */
interface Sample {
  readonly impl: string
  readonly records: number
  readonly saved: number
  readonly unchanged: number
  readonly failed: { readonly partner: number; readonly clean: number; readonly db: number }
  readonly retries: number
  readonly dbRows: number
  readonly durationMs: number
  readonly partnerMaxOpen: number
  readonly partner429: number
  readonly partner503: number
  /** the 1-minute load average when the run started */
  readonly load: number
}

const runOnce = async ({ impl }: Cell): Promise<Sample | Failure> => {
  const n = impl === "sequential" ? sampleSize : records
  const partner: Partner = await startPartner({ seed, records: n, latencyMs })
  const load = os.loadavg()[0] ?? 0
  const common = ["--partner-url", partner.url, "--data-dir", dataDir, "--fresh"]
  try {
    const outcome =
      impl === "p-limit"
        ? await runNode("etl-peer.ts", [...common, "--concurrency", String(concurrency)], impl)
        : await runNode(
            "../examples/etl/main.ts",
            [
              ...common,
              "--json",
              "--sample",
              "0",
              "--mode",
              impl === "sequential" ? "fire" : impl.slice("ours/".length),
              "--concurrency",
              impl === "sequential" ? "1" : String(concurrency)
            ],
            impl
          )
    if ("error" in outcome) return outcome
    const s = outcome
    const failed = s.failed.partner + s.failed.clean + s.failed.db
    if (s.records !== n || s.saved + s.unchanged + failed !== n || s.dbRows !== s.saved)
      return {
        impl,
        workload: "etl",
        error: `counts do not add up: ${n} records, ${JSON.stringify({ ...s, impl: undefined })}`
      }
    const stats = partner.stats()
    return {
      impl,
      records: s.records,
      saved: s.saved,
      unchanged: s.unchanged,
      failed: s.failed,
      retries: s.retries,
      dbRows: s.dbRows,
      durationMs: s.durationMs,
      partnerMaxOpen: stats.maxConcurrent,
      partner429: stats.rejected429,
      partner503: stats.rejected503,
      load
    }
  } finally {
    await partner.close()
  }
}

// ── run, interleaved ─────────────────────────────────────────────────────────

const impls = [...modes.map((m) => `ours/${m}`), "p-limit", "sequential"]
const started = new Date()
const loadAtStart = os.loadavg()
console.error(
  `${reps} reps of ${impls.join(", ")}; ${records} records (sequential: ${sampleSize}); concurrency ${concurrency}; ${database}`
)
let results: Results<Sample>
try {
  results = await runInterleaved<Cell, Sample>({
    reps,
    groups: [impls.map((impl) => ({ impl }))],
    key: (c) => c.impl,
    label: (c) => c.impl,
    run: runOnce,
    progress: (s) =>
      `${s.durationMs} ms (load ${s.load.toFixed(2)}, max open ${s.partnerMaxOpen}, retries ${s.retries})`
  })
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}

// ── report ───────────────────────────────────────────────────────────────────

const runsOf = (impl: string) => results.samples.get(impl) ?? []
const medianOf = (impl: string, f: (s: Sample) => number): number | undefined => {
  const runs = runsOf(impl)
  return runs.length === 0 ? undefined : median(runs.map(f))
}
const fx = (x: number | undefined, digits: number, suffix = "") =>
  x === undefined || !Number.isFinite(x) ? "n/a" : `${x.toFixed(digits)}${suffix}`
const pct = (x: number | undefined) => (x === undefined ? "n/a" : `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`)
const verdict = (x: number | undefined) => (x === undefined ? "n/a" : x <= 0.15 ? "met" : "**not met**")

const peerMs = medianOf("p-limit", (s) => s.durationMs)
const seqMs = medianOf("sequential", (s) => s.durationMs)
const seqExtrapolated = seqMs === undefined ? undefined : (seqMs * records) / sampleSize
const allLoads = [...results.samples.values()].flat().map((s) => s.load)

const lines: Array<string> = [
  "# Tributary ETL benchmark results",
  "",
  `Produced by \`${commandLine(import.meta.url)}\` on ${started.toISOString()}.`,
  "",
  "## Environment",
  "",
  // each run is `node --import tsx`, not the other drivers' child flags
  ...machineRows(started, loadAtStart).map((l) =>
    l.startsWith("| Node |")
      ? row([
          "Node",
          `${process.version}, each run \`node --conditions=tributary:source --import tsx\` (the packages from their sources, as \`pnpm etl\` runs the job)`
        ])
      : l
  ),
  row(["Database (both sides)", database]),
  row(["effect", version("node_modules/effect/package.json")]),
  row(["p-limit", version("node_modules/p-limit/package.json")]),
  row(["pg", version("node_modules/pg/package.json")]),
  row(["@electric-sql/pglite", version("node_modules/@electric-sql/pglite/package.json")]),
  row(["tsx", version("node_modules/tsx/package.json")]),
  row(["@tributary/jobs", `${version("packages/jobs/package.json")} (working tree, sources through tsx)`]),
  row([
    "1-minute load average at each run's start",
    allLoads.length === 0
      ? "n/a"
      : `${Math.min(...allLoads).toFixed(2)} – ${Math.max(...allLoads).toFixed(2)} (median ${median(allLoads).toFixed(2)}; 2 cores: above 1 means other work competed)`
  ]),
  "",
  "## Workload",
  "",
  `The job of examples/etl over ${records.toLocaleString("en-US")} records (seed ${seed}: 2% answer 500 once, 0.5% are`,
  `404, 1% cannot be cleaned) from the partner of examples/etl/partner.ts at ${latencyMs} ± 5 ms per request, served`,
  "by the benchmark's own process (a fresh partner per run; its limits: 1,000 requests/s per client, 32 open).",
  `Concurrency ${concurrency} on both sides. Ours: \`main.ts --json --fresh --sample 0 --mode M\` with its defaults`,
  "(the sub-jobs and the list pages in the supervisor's default pool: 16 at once, at most 800 starts/s, at most 64",
  "queued). The p-limit peer (bench/etl-peer.ts): the same listing, skip, fetch → clean → persist, retries and",
  "batches of 100 rows or 50 ms, through `p-limit` and promises, on the job's own database layer and clean step; it",
  "has no rate limit and lists pages outside its limit (the job lists them inside its pool).",
  `Time: the job's \`durationMs\` (from the stored versions read to the last row written), the same span in the peer.`,
  `Ideal: records × latency ÷ concurrency = ${records} × ${latencyMs} ms ÷ ${concurrency} = ${fx(idealMs, 0)} ms.`,
  `Sequential: the job with \`--concurrency 1\` over a partner of ${sampleSize} records, its time × ${records} / ${sampleSize}`,
  `(extrapolated, not run over ${records}). Each implementation ran ${reps} times, each in a fresh Node process,`,
  "interleaved round-robin with the first one rotated per repetition; figures are medians.",
  "",
  "## Results",
  "",
  row([
    "Run",
    "Runs",
    "Median ms",
    "Min ms",
    "Max ms",
    "records/s",
    "vs ideal",
    "vs p-limit",
    "retries",
    "max open",
    "429 / 503"
  ]),
  rule(["l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"])
]
for (const impl of impls) {
  const runs = runsOf(impl)
  if (runs.length === 0) {
    lines.push(row([impl, "0", "n/a", "", "", "", "", "", "", "", ""]))
    continue
  }
  const ms = runs.map((s) => s.durationMs)
  const med = median(ms)
  const n = impl === "sequential" ? sampleSize : records
  const seq = impl === "sequential"
  lines.push(
    row([
      seq ? `sequential (${sampleSize} records; × ${records / sampleSize} = ${fx(seqExtrapolated, 0)} ms)` : impl,
      String(runs.length),
      fx(med, 0),
      fx(Math.min(...ms), 0),
      fx(Math.max(...ms), 0),
      fx((n / med) * 1000, 0),
      seq ? "" : pct(med / idealMs - 1),
      seq || impl === "p-limit" || peerMs === undefined ? "" : pct(med / peerMs - 1),
      fx(median(runs.map((s) => s.retries)), 0),
      fx(median(runs.map((s) => s.partnerMaxOpen)), 0),
      `${median(runs.map((s) => s.partner429))} / ${median(runs.map((s) => s.partner503))}`
    ])
  )
}
lines.push(
  "",
  `Ideal: ${fx(idealMs, 0)} ms. Speed-up of the job (${impls[0]}) over the sequential run: ${fx(
    seqExtrapolated === undefined
      ? undefined
      : seqExtrapolated / (medianOf(impls[0] ?? "", (s) => s.durationMs) ?? Number.NaN),
    1,
    "×"
  )}.`,
  "",
  "## Targets (from the issue)",
  "",
  row(["Target", "Measured", "Verdict"]),
  rule(["l", "r", "l"])
)
for (const impl of impls.filter((i) => i.startsWith("ours/"))) {
  const med = medianOf(impl, (s) => s.durationMs)
  const vsIdeal = med === undefined ? undefined : med / idealMs - 1
  const vsPeer = med === undefined || peerMs === undefined ? undefined : med / peerMs - 1
  lines.push(row([`${impl} within 15% of the ideal`, pct(vsIdeal), verdict(vsIdeal)]))
  lines.push(row([`${impl} within 15% of the p-limit peer`, pct(vsPeer), verdict(vsPeer)]))
}
lines.push(
  row(["p-limit peer against the ideal (for scale)", pct(peerMs === undefined ? undefined : peerMs / idealMs - 1), ""])
)

writeReport({
  lines,
  results,
  out: args.out,
  rawPrefix: "etl",
  started,
  raw: { command: commandLine(import.meta.url), database, records, sampleSize, concurrency, idealMs, reps }
})
