/**
 * Builds a `Snapshot` from a supervisor's state: a read-only walk over the running list, the
 * pools' lanes and the history, done in one synchronous section (so it is consistent).
 *
 * Invariants:
 * - It changes nothing a job can observe: its only write is `refillTokens`, which brings a pool's
 *   tokens up to the Clock's now, as admission would; no job starts, no entry moves.
 * - A snapshot shares no mutable object with the state: counters are copied, entries become
 *   `JobInfo`s (a queued record becomes a new entry, read and dropped).
 * - With a finite `listLimit`, its cost does not grow with the length of the queue (`snapshotOf`).
 *
 * @internal
 */
import type { JobInfo, KeySnapshot, Limit, PoolSnapshot, Snapshot } from "../Snapshot.js"
import type { Entry, Lane, Pool, SupervisorState } from "./supervisor.js"

/**
 * The snapshot of `state` now. `listLimit`: the most jobs listed in each of `running`, `queued` and
 * `delayed` (the oldest; the counts in `pools` stay whole), so a snapshot of a supervisor with a
 * long queue costs O(listLimit), not O(queue) (see `oldestQueued`). Precondition: an integer ≥ 0,
 * or Infinity.
 */
export const snapshotOf = (state: SupervisorState, listLimit = Number.POSITIVE_INFINITY): Snapshot => {
  const now = state.now()
  const running: Array<JobInfo> = []
  for (const e of state.running) {
    if (running.length >= listLimit) break
    running.push(info(e, now - e.startedAt))
  }
  const queued = (listLimit === Number.POSITIVE_INFINITY ? state.queuedEntries() : state.oldestQueued(listLimit)).map(
    (e) => info(e, now - e.admittedAt)
  )
  const delayed: Array<JobInfo> = []
  for (const e of state.delayed) {
    if (delayed.length >= listLimit) break
    delayed.push(info(e, now - e.admittedAt))
  }
  const pools: Array<PoolSnapshot> = []
  for (const pool of state.pools.values()) pools.push(poolSnapshot(state, pool))
  return {
    supervisor: state.config.name,
    at: state.epoch + now,
    closed: state.closed,
    paused: state.paused,
    running,
    queued,
    delayed,
    totals: { running: state.running.size, queued: state.queued, delayed: state.delayed.size },
    waitingForRoom: state.overflow.size,
    counters: { ...state.counters },
    pools,
    durations: state.history.percentiles(),
    recentFailures: state.history.recentFailures()
  }
}

const info = (e: Entry, ageMillis: number): JobInfo => {
  const base =
    e.key === undefined
      ? { id: e.id, name: e.name, pool: e.pool.name, ageMillis }
      : { id: e.id, name: e.name, pool: e.pool.name, key: e.key, ageMillis }
  const progress = e.progress
  return progress === undefined ? base : { ...base, progress }
}

const poolSnapshot = (state: SupervisorState, pool: Pool): PoolSnapshot => {
  state.refillTokens(pool)
  const keys: Array<KeySnapshot> = []
  let queued = pool.keyless.size
  for (const lane of pool.lanes.values()) {
    queued += lane.size
    if (lane.running > 0 || lane.size > 0)
      keys.push({
        key: lane.key!,
        running: lane.running,
        queued: lane.size,
        heldBy: lane.size === 0 ? undefined : state.paused || pool.paused ? "paused" : laneLimit(lane)
      })
  }
  keys.sort((a, b) => b.queued - a.queued)
  const base = {
    name: pool.name,
    paused: pool.paused,
    running: pool.running,
    queued,
    heldBy: queued === 0 ? undefined : poolLimit(state, pool, keys),
    concurrency: pool.concurrency,
    perKey: pool.perKey,
    keys,
    counters: { ...pool.counters }
  }
  return pool.rateLimit === Number.POSITIVE_INFINITY
    ? base
    : {
        ...base,
        rate: { limit: pool.rateLimit, intervalMillis: pool.rateIntervalMillis, tokens: Math.floor(pool.tokens) }
      }
}

/** Why a pool's queued jobs wait: its own bounds first, then the supervisor's, else their keys'. */
const poolLimit = (state: SupervisorState, pool: Pool, keys: ReadonlyArray<KeySnapshot>): Limit => {
  if (state.paused || pool.paused) return "paused"
  if (pool.running >= pool.concurrency) return "concurrency"
  if (pool.tokens < 1) return "rate"
  if (state.running.size >= state.config.concurrency) return "supervisor"
  return pool.keyless.size === 0 && keys.every((k) => k.queued === 0 || k.heldBy === "perKey") ? "perKey" : "supervisor"
}

const laneLimit = (lane: Lane): Limit => {
  if (lane.running >= lane.pool.perKey) return "perKey"
  if (lane.pool.running >= lane.pool.concurrency) return "concurrency"
  if (lane.pool.tokens < 1) return "rate"
  return "supervisor"
}
