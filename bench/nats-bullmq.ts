/**
 * The BullMQ side of `nats.ts`: fires `jobs` jobs to a queue on Redis with `Queue.addBulk`
 * (BullMQ's way to add many jobs) and follows them as BullMQ users do, with `QueueEvents`
 * ('completed' and 'failed', one per job id); the workers are `nats-bullmq-worker.ts` processes.
 *
 * Invariants: the QueueEvents reader reads every event from its creation on (before the first
 * add), so no outcome is missed; the events stream keeps 10 × `jobs` entries (BullMQ's default,
 * 10,000, is trimmed faster than a 10,000-job run is read); a run that has not seen every outcome
 * within `limitMillis` rejects.
 */
import { Queue, QueueEvents } from "bullmq"

/** the workers' lock duration and stalled interval (ms), equal to the NATS workers' ack wait */
export const BULL_LOCK_MILLIS = 2_000

export interface RunResult {
  /** ms from the first fire to the last outcome */
  readonly total: number
  /** ms from the first fire to the outcome that made half */
  readonly half: number
  /** outcomes that were not a success */
  readonly failed: number
}

/** Fires `jobs` jobs named `name` (payload 0 … jobs − 1) to `queue`; `atHalf` runs when half the outcomes are in. */
export const runBull = async (
  port: number,
  queue: string,
  name: string,
  jobs: number,
  atHalf: () => void,
  limitMillis: number
): Promise<RunResult> => {
  const connection = { host: "127.0.0.1", port }
  const q = new Queue(queue, { connection, streams: { events: { maxLen: 10 * jobs } } })
  // from now on, not from the first read ('$', BullMQ's default): a job that ends before the reader's
  // first XREAD would be missed (seen with warm workers: 9,999 of 10,000 outcomes)
  const events = new QueueEvents(queue, { connection, lastEventId: `${Date.now()}-0` })
  await Promise.all([q.waitUntilReady(), events.waitUntilReady()])
  try {
    return await new Promise<RunResult>((resolve, reject) => {
      const seen = new Set<string>()
      let failed = 0
      let half = 0
      const t0 = performance.now()
      const timer = setTimeout(
        () => reject(new Error(`BullMQ: ${seen.size} of ${jobs} outcomes after ${limitMillis} ms`)),
        limitMillis
      )
      const outcome = (jobId: string, ok: boolean) => {
        if (seen.has(jobId)) return
        seen.add(jobId)
        if (!ok) failed++
        if (seen.size === jobs / 2) {
          half = performance.now() - t0
          atHalf()
        }
        if (seen.size === jobs) {
          clearTimeout(timer)
          resolve({ total: performance.now() - t0, half, failed })
        }
      }
      events.on("completed", ({ jobId }) => outcome(jobId, true))
      events.on("failed", ({ jobId }) => outcome(jobId, false))
      q.addBulk(Array.from({ length: jobs }, (_, n) => ({ name, data: n }))).catch(reject)
    })
  } finally {
    await Promise.all([events.close(), q.close()])
  }
}
