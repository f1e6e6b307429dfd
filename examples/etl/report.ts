/**
 * The text a run shows: the progress line (from the tally and the supervisor's snapshot), the
 * summary table, and the `--json` object.
 */
import type { Supervisor } from "@tributary/jobs"
import { failedTotal, makeTally, type Summary, summarize, type Tally } from "./tally.js"
import { table } from "./terminal.js"

/**
 * "1200/2000 done · saved 1100 · unchanged 0 · failed 12 · 16 in flight · 64 queued (held by
 * concurrency) · 780 rec/s · ETA 1s" — what holds the queued sub-jobs back comes from the pool's
 * snapshot.
 */
export const progressLine = (tally: Tally, snapshot: Supervisor.Snapshot, elapsedMillis: number): string => {
  const done = tally.unchanged + tally.handedOver + tally.failed.partner + tally.failed.clean
  const fetched = tally.handedOver + tally.failed.partner + tally.failed.clean
  const perSecond = elapsedMillis > 0 ? (fetched / elapsedMillis) * 1000 : 0
  const total = Math.max(tally.total ?? 0, tally.listed)
  const heldBy = snapshot.pools.find((p) => p.name === "default")?.heldBy
  const left = total - done
  const eta = perSecond > 0 ? `${Math.ceil(left / perSecond)}s` : "?"
  return [
    `${done}/${total} done`,
    `saved ${tally.saved}`,
    `unchanged ${tally.unchanged}`,
    `failed ${failedTotal(tally)}`,
    `${snapshot.totals.running} in flight`,
    `${snapshot.totals.queued} queued${heldBy === undefined ? "" : ` (held by ${heldBy})`}`,
    `${Math.round(perSecond)} rec/s`,
    `ETA ${eta}`
  ].join(" · ")
}

/** The summary as a table; `columns`: the width to fit (default: stdout's, on a terminal). */
export const summaryTable = (s: Summary, columns?: number): string => {
  const stage = (name: "partner" | "clean" | "db") =>
    [
      `  failed at ${name}`,
      `${s.failed[name]}${s.firstError[name] ? `  (first: ${clip(s.firstError[name])})` : ""}`
    ] as const
  return table(
    [
      ["mode / database", `${s.mode ?? "?"} / ${s.database}`],
      ["records listed", String(s.records)],
      ["saved", String(s.saved)],
      ["unchanged (skipped)", String(s.unchanged)],
      ["failed", String(s.failed.partner + s.failed.clean + s.failed.db)],
      stage("partner"),
      stage("clean"),
      stage("db"),
      ...(s.stopped || s.error !== null
        ? [[`not done (${s.stopped ? "stopped" : "failed"}; the next run does them)`, String(s.notDone)] as const]
        : []),
      ["retries", String(s.retries)],
      [
        "partner: requests / max open / 429s / 503s",
        `${s.partner.requests} / ${s.partner.maxConcurrent} / ${s.partner.rejected429} / ${s.partner.rejected503}`
      ],
      [
        "rows in the table",
        s.dbRows === null ? "not counted (the run ended early, or the count failed)" : String(s.dbRows)
      ],
      ["wall time", `${(s.durationMs / 1000).toFixed(2)} s`],
      ["records/s", String(s.recordsPerSecond)],
      ["speed-up over one at a time", s.speedup === null ? "not measured" : `${s.speedup.toFixed(1)}×`],
      ...(s.error === null ? [] : [["the run failed", s.error] as const])
    ],
    columns
  )
}

/** The `--json` object: the keys scripts rely on first, then the rest. */
export const summaryJson = (s: Summary): string =>
  JSON.stringify({
    records: s.records,
    saved: s.saved,
    unchanged: s.unchanged,
    failed: s.failed,
    retries: s.retries,
    partner: s.partner,
    dbRows: s.dbRows,
    durationMs: s.durationMs,
    recordsPerSecond: s.recordsPerSecond,
    speedup: s.speedup,
    notDone: s.notDone,
    stopped: s.stopped,
    error: s.error,
    mode: s.mode,
    firstError: s.firstError
  })

const clip = (s: string | undefined): string => (s === undefined || s.length <= 60 ? (s ?? "") : `${s.slice(0, 57)}...`)

/**
 * The `--json` object of a run refused before it started (a bad flag or `DATABASE_URL`: exit 2):
 * nothing listed, counted or measured, `error` the refusal, `mode` null when the flags could not
 * be read.
 *
 * ```ts
 * import { refusedJson } from "./report.js"
 *
 * refusedJson('Invalid --concurrency: expected an integer >= 1, received "0"', null)
 * ```
 */
export const refusedJson = (error: string, mode: string | null): string =>
  summaryJson({
    ...summarize(makeTally(), {
      mode: "",
      database: "",
      partner: undefined,
      dbRows: null,
      durationMs: 0,
      speedup: null,
      stopped: false,
      error
    }),
    mode
  })
