/**
 * Job benchmark driver (W5, W6; see bench/README.md). Runs every (workload, size, implementation)
 * in a fresh child process (bench/jobs-child.ts) per repetition, interleaved round-robin with the
 * starting implementation rotated, takes medians, and writes a markdown report.
 *
 *   tsx bench/jobs.ts [--reps 5] [--only W5,W5y,W6,W6w] [--scale 1] [--timeout 300] [--out bench/JOBS-RESULTS.md]
 *
 * W6's HTTP server runs in this process (127.0.0.1, ephemeral port), idle while a child runs
 * except for answering it; it is closed at the end. Raw samples go to bench/out/jobs-<timestamp>.json.
 */
import { readFileSync } from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { type JobSample, W5_CONCURRENCY, W6_CONCURRENCY, W6_SERVER_DELAY_MS, w5Impls, w6Impls } from "./jobs-spec.ts"
import {
  buildPackages,
  commandLine,
  machineRows,
  median,
  positive,
  type Results,
  root,
  row,
  rule,
  runChild,
  runInterleaved,
  version,
  writeReport
} from "./report.ts"

const usage = `Usage: tsx bench/jobs.ts [options]
  --reps N        repetitions per (workload, size, implementation) (default 5)
  --only LIST     workloads: W5,W5y,W6,W6w (default all four; W6w is W6 after warm-ups of 2000 requests)
  --scale X       multiplies W5's job counts (1e5 and 2e5) and W6's request count (1000) (default 1)
  --timeout S     seconds before a child process is killed (default 300)
  --out PATH      markdown report (default bench/JOBS-RESULTS.md)
  --help`

const { values: args } = parseArgs({
  options: {
    reps: { type: "string", default: "5" },
    only: { type: "string", default: "W5,W5y,W6,W6w" },
    scale: { type: "string", default: "1" },
    timeout: { type: "string", default: "300" },
    out: { type: "string", default: join("bench", "JOBS-RESULTS.md") },
    help: { type: "boolean", default: false }
  }
})

if (args.help) {
  console.log(usage)
  process.exit(0)
}

const reps = Math.floor(positive("reps", args.reps))
const scale = positive("scale", args.scale)
const timeoutMs = positive("timeout", args.timeout) * 1000
const only = new Set(args.only.split(",").map((s) => s.trim().toUpperCase()))
for (const id of only)
  if (id !== "W5" && id !== "W5Y" && id !== "W6" && id !== "W6W")
    throw new Error(`unknown workload ${id}; known: W5, W5y, W6, W6w`)

const sized = (n: number) => Math.max(1, Math.round(n * scale))
const w5Sizes = [sized(100_000), sized(200_000)] as const
const w6Size = sized(1000)
/** the sequential W6 pass: this many requests one after the other, scaled to w6Size */
const w6SeqSize = Math.max(1, Math.round(w6Size / 10))
/** W6w: requests per warm-up run (twice, as W6's 100), so the timed run measures code the JIT has optimized */
const w6WarmWarmup = sized(2000)

// ── build the packages' dist/ (as run.ts): without `tributary:source` the children import them compiled ──

buildPackages(["channel", "pino", "jobs"])
const jobsExports = JSON.parse(readFileSync(join(root, "packages/jobs/package.json"), "utf8")) as {
  exports?: Record<string, unknown>
}
const jobsHasDist = JSON.stringify(jobsExports.exports?.["."] ?? {}).includes('"default":"./dist/')

// ── the W6 server: loopback only, answers every request after 20 ms ──

let requests = 0
const server = http.createServer((req, res) => {
  requests++
  req.resume()
  setTimeout(() => {
    res.writeHead(200, { "content-type": "text/plain", "content-length": "2" })
    res.end("ok")
  }, W6_SERVER_DELAY_MS)
})
const port =
  only.has("W6") || only.has("W6W")
    ? await new Promise<number>((ready, fail) => {
        server.once("error", fail)
        server.listen(0, "127.0.0.1", () => ready((server.address() as AddressInfo).port))
      })
    : undefined

// ── run, interleaved ─────────────────────────────────────────────────────────

interface Cell {
  readonly workload: "W5" | "W5y" | "W6" | "W6w"
  readonly impl: string
  readonly n: number
}

const cells: Array<Array<Cell>> = []
if (only.has("W5")) for (const n of w5Sizes) cells.push(w5Impls.map((impl) => ({ workload: "W5", impl, n })))
if (only.has("W5Y")) for (const n of w5Sizes) cells.push(w5Impls.map((impl) => ({ workload: "W5y", impl, n })))
if (only.has("W6"))
  cells.push(w6Impls.map((impl) => ({ workload: "W6", impl, n: impl === "sequential" ? w6SeqSize : w6Size })))
// W6w: the limiters only (the sequential estimate is W6's)
if (only.has("W6W"))
  cells.push(w6Impls.filter((i) => i !== "sequential").map((impl) => ({ workload: "W6w", impl, n: w6Size })))

const key = (c: { workload: string; impl: string; n: number }) => `${c.workload}/${c.n}/${c.impl}`

const started = new Date()
const loadAtStart = os.loadavg()
console.error(`${reps} reps; W5 sizes ${w5Sizes.join(", ")}; W6 ${w6Size} requests (sequential pass ${w6SeqSize})`)
let results: Results<JobSample>
try {
  results = await runInterleaved<Cell, JobSample>({
    reps,
    groups: cells,
    key,
    label: key,
    run: ({ workload, impl, n }) => {
      const args = ["--workload", workload === "W6w" ? "W6" : workload, "--impl", impl, "--n", String(n)]
      if (workload.startsWith("W6") && port !== undefined) args.push("--port", String(port))
      if (workload === "W6w") args.push("--warmup", String(w6WarmWarmup))
      return runChild("jobs-child.ts", args, timeoutMs, impl, workload)
    },
    progress: (sample) => `${sample.ms.toFixed(1)} ms`
  })
} finally {
  server.closeAllConnections()
  server.close()
}

// ── report ───────────────────────────────────────────────────────────────────

interface Summary {
  readonly runs: number
  readonly medianMs: number
  readonly minMs: number
  readonly maxMs: number
  readonly heapQueuedMiB: number
  readonly heapDeltaMiB: number
  readonly pendingAtSample: number
  readonly maxRssMiB: number
}

const summarize = (workload: string, impl: string, n: number): Summary | undefined => {
  const runs = results.samples.get(key({ workload, impl, n }))
  if (runs === undefined || runs.length === 0) return undefined
  const ms = runs.map((s) => s.ms)
  return {
    runs: runs.length,
    medianMs: median(ms),
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    heapQueuedMiB: median(runs.map((s) => s.heapQueuedMiB ?? Number.NaN)),
    heapDeltaMiB: median(runs.map((s) => s.heapDeltaMiB ?? Number.NaN)),
    pendingAtSample: median(runs.map((s) => s.pendingAtSample ?? Number.NaN)),
    maxRssMiB: median(runs.map((s) => s.maxRssMiB))
  }
}

const fx = (x: number | undefined, digits: number, suffix = "") =>
  x === undefined || !Number.isFinite(x) ? "n/a" : `${x.toFixed(digits)}${suffix}`
const verdict = (ok: boolean | undefined) => (ok === undefined ? "n/a" : ok ? "met" : "**not met**")
/** `test(x)`, or undefined when nothing was measured */
const ok = (x: number | undefined, test: (x: number) => boolean) => (x === undefined ? undefined : test(x))

const command = commandLine(import.meta.url)

/** The Promise API against p-limit on `workload` (no target: for scale). */
const promiseRows = (workload: "W5" | "W5y"): Array<string> => {
  const ratio = (impl: string, n: number) => {
    const a = summarize(workload, impl, n)?.medianMs
    const b = summarize(workload, "p-limit", n)?.medianMs
    return a === undefined || b === undefined ? undefined : b / a
  }
  const impls = ["ours-promise", "ours-promise-run", "ours-promise-all"]
  return [
    "The Promise API against p-limit, for scale (no target): t(p-limit)/t(implementation), above 1 when ours is",
    "faster. ours-promise: `sup.fire(job)` × N, then `drain()`; ours-promise-run: `sup.run(job)` × N (a Promise",
    "each), then `Promise.all`; ours-promise-all: one `sup.all(jobs, { concurrency })`.",
    "",
    row(["N", ...impls]),
    rule(["r", ...impls.map(() => "r" as const)]),
    ...w5Sizes.map((n) => row([n.toLocaleString("en-US"), ...impls.map((impl) => fx(ratio(impl, n), 2, "×"))]))
  ]
}

const lines: Array<string> = [
  "# Tributary job benchmark results (W5, W5y, W6, W6w)",
  "",
  `Produced by \`${command}\` on ${started.toISOString()}. See bench/README.md ("Job workloads") for the method.`,
  "",
  "## Environment",
  "",
  ...machineRows(started, loadAtStart),
  row(["effect", version("node_modules/effect/package.json")]),
  row(["p-limit", version("node_modules/p-limit/package.json")]),
  row(["p-queue", version("node_modules/p-queue/package.json")]),
  row(["tsx", version("node_modules/tsx/package.json")]),
  row([
    "@tributary/jobs",
    `${version("packages/jobs/package.json")} (working tree, ${jobsHasDist ? "compiled dist/" : "src/ through tsx: its exports default to src/"})`
  ]),
  row(["@tributary/channel", `${version("packages/channel/package.json")} (working tree, compiled dist/)`]),
  "",
  `Method: every (workload, size, implementation) ran ${reps} times, each in a fresh Node process (warm-up, gc,`,
  "the same warm-up again — the forced gc deoptimizes code that embedded objects of the first warm-up — then one",
  "timed run), interleaved round-robin across implementations with the first one rotated per repetition.",
  `Figures are medians. The 1-minute load average at the start was ${loadAtStart[0]!.toFixed(2)} on ${os.cpus().length} cores${
    loadAtStart[0]! >= 0.5 ? ": other work was running, so timings are noisier" : ""
  }.`,
  ""
]

if (only.has("W5")) {
  const [n1, n2] = w5Sizes
  lines.push(
    `## W5: ${n1.toLocaleString("en-US")} / ${n2.toLocaleString("en-US")} already-resolved jobs, concurrency ${W5_CONCURRENCY}`,
    "",
    row([
      "N",
      "Implementation",
      "Runs",
      "Median ms",
      "µs/job",
      "Min ms",
      "Max ms",
      "Heap queued MiB",
      "Heap Δ MiB",
      "Pending at sample",
      "Max RSS MiB"
    ]),
    rule(["r", "l", "r", "r", "r", "r", "r", "r", "r", "r", "r"])
  )
  for (const n of w5Sizes)
    for (const impl of w5Impls) {
      const s = summarize("W5", impl, n)
      lines.push(
        s === undefined
          ? row([n.toLocaleString("en-US"), impl, "0", "failed", "", "", "", "", "", "", ""])
          : row([
              n.toLocaleString("en-US"),
              impl,
              String(s.runs),
              fx(s.medianMs, 1),
              fx((s.medianMs * 1000) / n, 2),
              fx(s.minMs, 1),
              fx(s.maxMs, 1),
              fx(s.heapQueuedMiB, 1),
              fx(s.heapDeltaMiB, 1),
              fx(s.pendingAtSample, 0),
              fx(s.maxRssMiB, 0)
            ])
      )
    }
  lines.push(
    "",
    "Heap: sampled in a separate, untimed run of N jobs whose operation first waits for a gate, so they pile up:",
    "heap queued is `heapUsed` right after all N were queued (then the gate opens); heap Δ is the same minus",
    "`heapUsed` after `gc()` just before that run. Pending at sample: jobs not done then (N when nothing ran early).",
    "effect-forEach has no queue: its heap is sampled when its first job runs. The heap target compares heap Δ per",
    "pending job.",
    "",
    `### Scaling: t(${n2.toLocaleString("en-US")}) / t(${n1.toLocaleString("en-US")})`,
    "",
    row(["Implementation", "t(2N)/t(N)"]),
    rule(["l", "r"])
  )
  const t = (impl: string, n: number) => summarize("W5", impl, n)?.medianMs
  const scaling = (impl: string) => {
    const a = t(impl, n1)
    const b = t(impl, n2)
    return a === undefined || b === undefined ? undefined : b / a
  }
  for (const impl of w5Impls) lines.push(row([impl, fx(scaling(impl), 2)]))
  const usPerJob = (n: number) => {
    const ms = t("ours", n)
    return ms === undefined ? undefined : (ms * 1000) / n
  }
  const speedup = (n: number) => {
    const a = t("ours", n)
    const b = t("p-limit", n)
    return a === undefined || b === undefined ? undefined : b / a
  }
  const perPending = (impl: string) => {
    const s = summarize("W5", impl, n1)
    return s === undefined ? undefined : s.heapDeltaMiB / s.pendingAtSample
  }
  const heapOurs = perPending("ours")
  const heapPq = perPending("p-queue")
  const heapRatio = heapOurs === undefined || heapPq === undefined ? undefined : heapOurs / heapPq
  lines.push(
    "",
    "### W5 targets (from the issue)",
    "",
    row(["Target", "Measured", "Verdict"]),
    rule(["l", "r", "l"]),
    ...w5Sizes.map((n) =>
      row([
        `ours ≤ 1.5 µs/job (N = ${n.toLocaleString("en-US")})`,
        fx(usPerJob(n), 2, " µs"),
        verdict(ok(usPerJob(n), (x) => x <= 1.5))
      ])
    ),
    ...w5Sizes.map((n) =>
      row([
        `ours ≥ 1.5× faster than p-limit (N = ${n.toLocaleString("en-US")}; t(p-limit)/t(ours))`,
        fx(speedup(n), 2, "×"),
        verdict(ok(speedup(n), (x) => x >= 1.5))
      ])
    ),
    row(["ours t(2N)/t(N) ≤ 2.2", fx(scaling("ours"), 2), verdict(ok(scaling("ours"), (x) => x <= 2.2))]),
    row([
      `ours heap for ${n1.toLocaleString("en-US")} queued jobs ≤ 0.5× p-queue's (heap Δ per pending job)`,
      fx(heapRatio, 2, "×"),
      verdict(ok(heapRatio, (x) => x <= 0.5))
    ]),
    "",
    ...promiseRows("W5"),
    ""
  )
}

if (only.has("W5Y")) {
  const [n1, n2] = w5Sizes
  lines.push(
    `## W5y: ${n1.toLocaleString("en-US")} / ${n2.toLocaleString("en-US")} jobs that wait one event-loop turn, concurrency ${W5_CONCURRENCY}`,
    "",
    "Each job waits for one turn of the event loop before it ends, resumed by its own `setImmediate` callback, as a",
    "job waiting on I/O is resumed by its callback: the Effect job is `Effect.andThen(Effect.callback((resume) =>",
    "{ setImmediate(() => resume(Effect.void)) }), Effect.sync(count))` (ours and effect-forEach), the Promise peers'",
    "job `async () => { await new Promise((resolve) => setImmediate(resolve)); count() }` (bench/w5y-wait.ts).",
    "",
    row(["N", "Implementation", "Runs", "Median ms", "µs/job", "Min ms", "Max ms", "Max RSS MiB"]),
    rule(["r", "l", "r", "r", "r", "r", "r", "r"])
  )
  for (const n of w5Sizes)
    for (const impl of w5Impls) {
      const s = summarize("W5y", impl, n)
      lines.push(
        s === undefined
          ? row([n.toLocaleString("en-US"), impl, "0", "failed", "", "", "", ""])
          : row([
              n.toLocaleString("en-US"),
              impl,
              String(s.runs),
              fx(s.medianMs, 1),
              fx((s.medianMs * 1000) / n, 2),
              fx(s.minMs, 1),
              fx(s.maxMs, 1),
              fx(s.maxRssMiB, 0)
            ])
      )
    }
  const t = (impl: string, n: number) => summarize("W5y", impl, n)?.medianMs
  const ratio = (a: string, b: string, n: number) => {
    const x = t(a, n)
    const y = t(b, n)
    return x === undefined || y === undefined ? undefined : x / y
  }
  lines.push(
    "",
    "### W5y targets (from the issue)",
    "",
    row(["Target", "Measured", "Verdict"]),
    rule(["l", "r", "l"]),
    ...w5Sizes.map((n) =>
      row([
        `ours ≤ 1.3× effect-forEach's time (N = ${n.toLocaleString("en-US")}; t(ours)/t(effect-forEach))`,
        fx(ratio("ours", "effect-forEach", n), 2, "×"),
        verdict(ok(ratio("ours", "effect-forEach", n), (x) => x <= 1.3))
      ])
    ),
    ...w5Sizes.map((n) =>
      row([
        `ours ≥ 2× faster than p-limit (N = ${n.toLocaleString("en-US")}; t(p-limit)/t(ours))`,
        fx(ratio("p-limit", "ours", n), 2, "×"),
        verdict(ok(ratio("p-limit", "ours", n), (x) => x >= 2))
      ])
    ),
    "",
    ...promiseRows("W5y"),
    ""
  )
}

/** The W6 report (`workload` "W6" or "W6w": the same requests after longer warm-ups). */
const w6Report = (workload: "W6" | "W6w", warmup: number) => {
  const ideal = (w6Size / W6_CONCURRENCY) * W6_SERVER_DELAY_MS
  const seq = summarize("W6", "sequential", w6SeqSize)
  const seqEstimate = seq === undefined ? undefined : (seq.medianMs * w6Size) / w6SeqSize
  const limiters = w6Impls.filter((i) => i !== "sequential")
  lines.push(
    `## ${workload}: ${w6Size} HTTP GETs (keep-alive agent) to a local server answering after ${W6_SERVER_DELAY_MS} ms, concurrency ${W6_CONCURRENCY}, after warm-ups of ${warmup} requests`,
    "",
    ...(workload === "W6w"
      ? [
          "W6 again, but each child first runs two warm-ups of this many requests (W6: 100), so the timed run",
          "measures code the JIT has optimized, as in a service that has been up for a while.",
          ""
        ]
      : []),
    `Sequential estimate: a sequential pass of ${w6SeqSize} requests (own child process, median ${fx(seq?.medianMs, 1)} ms),`,
    `scaled × ${w6Size / w6SeqSize}: ${fx(seqEstimate, 0)} ms. Ideal: ${w6Size} / ${W6_CONCURRENCY} × ${W6_SERVER_DELAY_MS} ms = ${ideal} ms.`,
    "",
    row([
      "Implementation",
      "Runs",
      "Median ms",
      "Min ms",
      "Max ms",
      "Speed-up over sequential",
      "÷ ideal",
      "Max RSS MiB"
    ]),
    rule(["l", "r", "r", "r", "r", "r", "r", "r"])
  )
  for (const impl of limiters) {
    const s = summarize(workload, impl, w6Size)
    lines.push(
      s === undefined
        ? row([impl, "0", "failed", "", "", "", "", ""])
        : row([
            impl,
            String(s.runs),
            fx(s.medianMs, 1),
            fx(s.minMs, 1),
            fx(s.maxMs, 1),
            seqEstimate === undefined ? "n/a" : fx(seqEstimate / s.medianMs, 1, "×"),
            fx(s.medianMs / ideal, 3, "×"),
            fx(s.maxRssMiB, 0)
          ])
    )
  }
  const ours = summarize(workload, "ours", w6Size)?.medianMs
  let best: readonly [string, number] | undefined
  for (const impl of limiters) {
    const ms = impl.startsWith("ours") ? undefined : summarize(workload, impl, w6Size)?.medianMs
    if (ms !== undefined && (best === undefined || ms < best[1])) best = [impl, ms]
  }
  const over = ours === undefined || best === undefined ? undefined : ours / best[1] - 1
  const promise = summarize(workload, "ours-promise", w6Size)?.medianMs
  const promiseOver = promise === undefined || best === undefined ? undefined : promise / best[1] - 1
  lines.push(
    "",
    `### ${workload} target (from the issue)`,
    "",
    row(["Target", "Measured", "Verdict"]),
    rule(["l", "r", "l"]),
    row([
      `ours within 5% of the best peer${best === undefined ? "" : ` (${best[0]})`}`,
      over === undefined ? "n/a" : `${over >= 0 ? "+" : ""}${(over * 100).toFixed(1)}%`,
      verdict(over === undefined ? undefined : over <= 0.05)
    ]),
    "",
    `The Promise API (ours-promise, \`sup.fire(get)\`) against the same peer: ${
      promiseOver === undefined ? "n/a" : `${promiseOver >= 0 ? "+" : ""}${(promiseOver * 100).toFixed(1)}%`
    } (no target: for scale).`,
    ""
  )
}
if (only.has("W6")) w6Report("W6", Math.min(w6Size, 100))
if (only.has("W6W")) w6Report("W6w", w6WarmWarmup)
if (port !== undefined) lines.push(`The W6 server answered ${requests} requests in all (warm-ups included).`, "")

lines.push(
  "## Notes",
  "",
  "- ours (W5): `Job.fire(Effect.sync(count), { name })` × N inside one `Effect.gen`, then `Supervisor.drain`;",
  `  \`Supervisor.layer({ concurrency: ${W5_CONCURRENCY}, maxQueued: N, whenFull: "wait", logSuccess: "debug" })\` with`,
  '  `References.MinimumLogLevel` "Info", so no success line is written (the supervisor builds none below the minimum level).',
  '- ours-promise: `supervisor({ concurrency, maxQueued: N, logSuccess: "debug", logger: { level: "info" } })` from',
  "  `@tributary/jobs/promise`, `sup.fire(async () => count(), { name })` × N (W6: `sup.fire(get)`), `await sup.drain()`;",
  "  ours-promise-run: `sup.run(job, { name })` × N, `await Promise.all`; ours-promise-all: `await sup.all(jobs,",
  '  { concurrency, name, policy: "failFast" })` (at most `concurrency` of its jobs are admitted at once: its heap',
  "  sample has the rest waiting in the group, not in the queue).",
  "- p-limit: `limit(async () => count())` × N, `await Promise.all`. p-queue: `queue.add(…)` × N, `await queue.onIdle()`.",
  "- effect-forEach: `Effect.forEach(items, () => Effect.sync(count), { concurrency, discard: true })` (no supervisor).",
  "- W6 ours: `Job.fire(Effect.tryPromise(get))`; p-limit: `limit(get)`; hand: a counter and a FIFO of resolvers.",
  "  `get` is `http.get` on a keep-alive `http.Agent` (one per child), body drained, status 200 checked.",
  ...(jobsHasDist
    ? []
    : [
        "- @tributary/jobs ran from src/ through tsx (its exports map defaults to src/): tsx's",
        "  name-keeping wrapper around closures may slow ours down compared with compiled dist/."
      ])
)

writeReport({
  lines,
  results,
  out: args.out,
  rawPrefix: "jobs",
  started,
  raw: { command, started, reps, scale }
})
