/**
 * Benchmark driver. Runs every (implementation, workload) pair in a fresh child
 * process (bench/child.ts) per repetition, interleaved round-robin so machine
 * noise hits all peers alike, takes the median, and writes a markdown report.
 *
 *   tsx bench/run.ts [--reps 5] [--only W1,W2] [--impls ours,queue] [--scale 1]
 *                    [--warmup 0.1] [--timeout 300] [--out bench/RESULTS.md]
 *
 * Raw samples also go to bench/out/run-<timestamp>.json (git-ignored).
 */
import * as os from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import type { Sample } from "./child.ts"
import { type ImplName, implNames, isImplName } from "./impls.ts"
import {
  buildPackages,
  commandLine,
  machineRows,
  median,
  positive,
  row,
  rule,
  runChild,
  runInterleaved,
  version,
  writeReport
} from "./report.ts"
import { type Workload, workloadById, workloads } from "./workloads.ts"

const usage = `Usage: tsx bench/run.ts [options]
  --reps N        repetitions per (implementation, workload) pair (default 5)
  --only LIST     workloads, e.g. W1,W2 (default: ${workloads.map((w) => w.id).join(",")})
  --impls LIST    implementations (default: ${implNames.join(",")})
  --scale X       multiply every workload size by X (default 1)
  --warmup X      warm-up size as a fraction of the timed size (default 0.1)
  --timeout S     seconds before a child process is killed (default 300)
  --out PATH      markdown report (default bench/RESULTS.md)
  --help`

const { values: args } = parseArgs({
  options: {
    reps: { type: "string", default: "5" },
    only: { type: "string" },
    impls: { type: "string" },
    scale: { type: "string", default: "1" },
    warmup: { type: "string", default: "0.1" },
    timeout: { type: "string", default: "300" },
    out: { type: "string", default: join("bench", "RESULTS.md") },
    help: { type: "boolean", default: false }
  }
})

if (args.help) {
  console.log(usage)
  process.exit(0)
}

const list = (text: string | undefined): Array<string> | undefined =>
  text
    ?.split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")

const reps = Math.floor(positive("reps", args.reps))
const scale = positive("scale", args.scale)
const warmup = positive("warmup", args.warmup)
const timeoutMs = positive("timeout", args.timeout) * 1000
const selected: ReadonlyArray<Workload> = list(args.only)?.map((id) => workloadById(id.toUpperCase())) ?? workloads
const impls: ReadonlyArray<ImplName> =
  list(args.impls)?.map((name) => {
    if (!isImplName(name)) throw new Error(`unknown implementation "${name}"; known: ${implNames.join(", ")}`)
    return name
  }) ?? implNames

// ── build the package under test (ours imports its compiled dist/, as users get it) ──

buildPackages(["channel"])

// ── run, interleaved ─────────────────────────────────────────────────────────

const key = (impl: string, workload: string) => `${workload}/${impl}`

const formatOps = (opsPerSec: number): string =>
  opsPerSec >= 1e6 ? `${(opsPerSec / 1e6).toPrecision(3)} M/s` : `${(opsPerSec / 1e3).toPrecision(3)} k/s`

const started = new Date()
const loadAtStart = os.loadavg()
console.error(
  `${reps} reps × ${selected.length} workloads × ${impls.length} implementations, scale ${scale}, warm-up ${warmup}`
)
const results = await runInterleaved<{ readonly impl: ImplName; readonly workload: Workload }, Sample>({
  reps,
  groups: selected.map((workload) => impls.map((impl) => ({ impl, workload }))),
  key: (cell) => key(cell.impl, cell.workload.id),
  label: (cell) => `${cell.workload.id} ${cell.impl}`,
  run: ({ impl, workload }) =>
    runChild(
      "child.ts",
      ["--impl", impl, "--workload", workload.id, "--scale", String(scale), "--warmup", String(warmup)],
      timeoutMs,
      impl,
      workload.id
    ),
  progress: (sample) => `${sample.ms.toFixed(1)} ms, ${formatOps(sample.opsPerSec)}`
})

// ── report ───────────────────────────────────────────────────────────────────

interface Summary {
  readonly runs: number
  readonly size: number
  readonly medianMs: number
  readonly minMs: number
  readonly maxMs: number
  readonly opsPerSec: number
  readonly maxRssMiB: number
}

const summarize = (impl: string, workload: string): Summary | undefined => {
  const runs = results.samples.get(key(impl, workload))
  if (runs === undefined || runs.length === 0) return undefined
  const ms = runs.map((s) => s.ms)
  const medianMs = median(ms)
  const size = (runs[0] as Sample).size
  return {
    runs: runs.length,
    size,
    medianMs,
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    opsPerSec: (size * 1000) / medianMs,
    maxRssMiB: median(runs.map((s) => s.maxRssMiB))
  }
}

const peers = impls.filter((impl) => impl !== "ours")
const hasOurs = impls.includes("ours")
const command = commandLine(import.meta.url)

const lines: Array<string> = [
  "# Tributary benchmark results",
  "",
  `Produced by \`${command}\` on ${started.toISOString()}. See bench/README.md for the workloads and method.`,
  "",
  "## Environment",
  "",
  ...machineRows(started, loadAtStart),
  row(["effect", version("node_modules/effect/package.json")]),
  row(["js-csp", version("node_modules/js-csp/package.json")]),
  row(["tsx", version("node_modules/tsx/package.json")]),
  row(["@tributary/channel", `${version("packages/channel/package.json")} (working tree)`]),
  "",
  `Method: each (implementation, workload) pair ran ${reps} times, each in a fresh Node process that first ran a`,
  `warm-up at ${warmup} × the timed size, collected garbage, ran the same warm-up again (the forced gc deoptimizes`,
  "code), then one timed run; runs were interleaved round-robin across",
  `implementations. Sizes are scaled by ${scale}. Figures are medians.`,
  "",
  "## Throughput (ops/sec of the median run; higher is better)",
  "",
  row(["Workload", "Size", ...impls]),
  rule(["l", "r", ...impls.map(() => "r" as const)]),
  ...selected.map((w) =>
    row([
      `${w.id}: ${w.title}`,
      `${w.sized(scale).toLocaleString("en-US")} ${w.unit}`,
      ...impls.map((impl) => {
        const s = summarize(impl, w.id)
        return s === undefined ? "failed" : formatOps(s.opsPerSec)
      })
    ])
  ),
  ""
]

/** `subject` ops/sec ÷ `peer` ops/sec on one workload; undefined if either failed or did not run. */
const rawRatio = (subject: ImplName, peer: ImplName, workload: string): number | undefined => {
  const a = summarize(subject, workload)
  const b = summarize(peer, workload)
  return a === undefined || b === undefined ? undefined : a.opsPerSec / b.opsPerSec
}

/** The same, formatted; "n/a" if either failed. */
const ratio = (subject: ImplName, peer: ImplName, workload: string): string => {
  const r = rawRatio(subject, peer, workload)
  return r === undefined ? "n/a" : `${r.toFixed(2)}×`
}

if (hasOurs && peers.length > 0) {
  lines.push(
    "## ours vs peers (ours ops/sec ÷ peer ops/sec; above 1 means ours is faster)",
    "",
    row(["Workload", ...peers.map((p) => `ours / ${p}`)]),
    rule(["l", ...peers.map(() => "r" as const)]),
    ...selected.map((w) => row([w.id, ...peers.map((peer) => ratio("ours", peer, w.id))])),
    ""
  )
}

// The Promise facade against the await-per-operation floor and js-csp (the targets).
const facadePeers = (["raw-await", "js-csp"] as const).filter((peer) => impls.includes(peer))
if (impls.includes("facade") && facadePeers.length > 0) {
  lines.push(
    "## Promise facade (facade ops/sec ÷ peer ops/sec; above 1 means the facade is faster)",
    "",
    row(["Workload", ...facadePeers.map((p) => `facade / ${p}`)]),
    rule(["l", ...facadePeers.map(() => "r" as const)]),
    ...selected.map((w) => row([w.id, ...facadePeers.map((peer) => ratio("facade", peer, w.id))])),
    ""
  )
}

/** The issues' targets, each a ratio of ops/sec in this run: [subject, peer, workload, at least]. */
const targets: ReadonlyArray<readonly [ImplName, ImplName, string, number]> = [
  ["ours", "queue", "W1", 2],
  ["ours", "queue", "W2", 2],
  ["ours", "js-csp", "W4", 3],
  ["facade", "raw-await", "W1", 0.8],
  ["facade", "js-csp", "W1", 8]
]
lines.push(
  "## Targets (from the issues; ops/sec ratios of this run)",
  "",
  row(["Target", "Measured", "Verdict"]),
  rule(["l", "r", "l"]),
  ...targets.map(([subject, peer, workload, least]) => {
    const measured = rawRatio(subject, peer, workload)
    const verdict = measured === undefined ? "n/a" : measured >= least ? "met" : "**not met**"
    return row([`${workload}: ${subject} / ${peer} ≥ ${least}×`, ratio(subject, peer, workload), verdict])
  }),
  ""
)

lines.push(
  "## Timed runs (ms)",
  "",
  row(["Workload", "Implementation", "Runs", "Median ms", "Min ms", "Max ms", "Peak RSS MiB"]),
  rule(["l", "l", "r", "r", "r", "r", "r"]),
  ...selected.flatMap((w) =>
    impls.map((impl) => {
      const s = summarize(impl, w.id)
      return s === undefined
        ? row([w.id, impl, "0", "failed", "", "", ""])
        : row([
            w.id,
            impl,
            String(s.runs),
            s.medianMs.toFixed(1),
            s.minMs.toFixed(1),
            s.maxMs.toFixed(1),
            s.maxRssMiB.toFixed(0)
          ])
    })
  ),
  "",
  "## Notes",
  "",
  "- ours: `@tributary/channel` Effect API (`Chan.make/put/take/close/select`), fibers via `Effect.forkChild`.",
  "- queue: effect's `Queue`. W2 uses `Queue.bounded(0)`, which in effect 4.1 is a rendezvous queue.",
  "  W4 has no select: the consumer polls the 4 queues from a rotating start and, when all are empty, waits on",
  "  `Effect.raceAll` of `Queue.peek`s (non-consuming), so no value can be lost to a losing race branch.",
  "- js-csp: generator processes; its dispatcher runs blocked processes from `setImmediate` batches.",
  "- floor: a hand-written callback channel resuming waiters synchronously, no scheduler: a bound on what a channel that resumes one value at a time costs, not a peer (ours, which completes buffered operations inside `yield*` and lets a producer fill the buffer before its consumer runs, can beat it on W1).",
  "- facade: `@tributary/channel/async` (`chan`, `await ch.put/take`, `select` of `onTake`s), plain async functions.",
  "- raw-await: floor's channel behind a minimal Promise wrapper, every put/take/alts awaited (pre-resolved Promise",
  "  when floor completes at once): the lower bound for await-per-operation code, not a peer.",
  "- Every run checks that the consumer received exactly the values 0..size-1 (count and sum)."
)

writeReport({
  lines,
  results,
  out: args.out,
  rawPrefix: "run",
  started,
  raw: { command, started, reps, scale, warmup }
})
