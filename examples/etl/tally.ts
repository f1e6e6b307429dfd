/**
 * What the run did, counted as it happens: every listed record ends in exactly one of unchanged,
 * saved or failed (by stage), or is left for the next run when the job was stopped (a signal) or
 * failed (the partner's listing or the database gave out). Sub-jobs and
 * the writer update it synchronously; the progress line and the summary read it.
 */
import type { PartnerStats } from "./partner.js"

export type Stage = "partner" | "clean" | "db"

export interface Tally {
  /** the partner's count of records, from the first page */
  total: number | undefined
  listed: number
  unchanged: number
  /** fetched, cleaned and handed to the writer */
  handedOver: number
  /** committed by the writer */
  saved: number
  failed: Record<Stage, number>
  /** the first error of each stage */
  firstError: Partial<Record<Stage, string>>
  /** ids of the failed records, by stage */
  failedIds: Record<Stage, Array<number>>
  retries: number
  /** ids handed over this run, in order (the speed-up sample is taken from them) */
  handedOverIds: Array<number>
}

export const makeTally = (): Tally => ({
  total: undefined,
  listed: 0,
  unchanged: 0,
  handedOver: 0,
  saved: 0,
  failed: { partner: 0, clean: 0, db: 0 },
  firstError: {},
  failedIds: { partner: [], clean: [], db: [] },
  retries: 0,
  handedOverIds: []
})

export const recordFailure = (tally: Tally, stage: Stage, ids: ReadonlyArray<number>, message: string): void => {
  tally.failed[stage] += ids.length
  tally.failedIds[stage].push(...ids)
  tally.firstError[stage] ??= message
}

export const failedTotal = (tally: Tally): number => tally.failed.partner + tally.failed.clean + tally.failed.db

/** The outcome of a run, as the summary table and `--json` show it. */
export interface Summary {
  /** null: the command line was refused before a mode was read */
  readonly mode: string | null
  readonly database: string
  readonly records: number
  readonly saved: number
  readonly unchanged: number
  readonly failed: Record<Stage, number>
  readonly firstError: Partial<Record<Stage, string>>
  /** listed but neither saved, unchanged nor failed: the run was stopped or failed first */
  readonly notDone: number
  readonly retries: number
  readonly partner: {
    readonly requests: number
    readonly maxConcurrent: number
    readonly rejected429: number
    readonly rejected503: number
  }
  /** rows in the table at the end; null when they were not counted (the run failed or was stopped first, or the count failed) */
  readonly dbRows: number | null
  readonly durationMs: number
  readonly recordsPerSecond: number
  /** the sample's time per record × the records fetched, over `durationMs`, to two decimals (null: not measured) */
  readonly speedup: number | null
  /** by SIGINT or SIGTERM */
  readonly stopped: boolean
  /** why the run failed (exit 1); null when it ran to its end or was stopped */
  readonly error: string | null
}

export const summarize = (
  tally: Tally,
  about: {
    readonly mode: string
    readonly database: string
    readonly partner: PartnerStats | undefined
    readonly dbRows: number | null
    readonly durationMs: number
    readonly speedup: number | null
    readonly stopped: boolean
    readonly error: string | null
  }
): Summary => {
  const fetched = tally.handedOver + tally.failed.partner + tally.failed.clean
  return {
    mode: about.mode,
    database: about.database,
    records: tally.listed,
    saved: tally.saved,
    unchanged: tally.unchanged,
    failed: { ...tally.failed },
    firstError: { ...tally.firstError },
    notDone: tally.listed - tally.saved - tally.unchanged - failedTotal(tally),
    retries: tally.retries,
    partner: {
      requests: about.partner?.requests ?? 0,
      maxConcurrent: about.partner?.maxConcurrent ?? 0,
      rejected429: about.partner?.rejected429 ?? 0,
      rejected503: about.partner?.rejected503 ?? 0
    },
    dbRows: about.dbRows,
    durationMs: Math.round(about.durationMs),
    recordsPerSecond: about.durationMs > 0 ? Math.round((fetched / about.durationMs) * 1000) : 0,
    // rounded once: the table (one decimal) and --json (two) show the same figure
    speedup: about.speedup === null ? null : Math.round(about.speedup * 100) / 100,
    stopped: about.stopped,
    error: about.error
  }
}
