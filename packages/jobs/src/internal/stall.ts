/**
 * Stalls. A job that waits for other jobs in its own fiber (`Job.all`, `Job.await`, `Job.join`)
 * keeps its slots while it waits. When every slot of a limit — the supervisor's `concurrency`, a
 * pool's `concurrency`, or a key's `perKey` — is held by jobs that wait for jobs needing that same
 * limit, none of those can ever start: nothing fails, and `drain` never returns. This part notices
 * that moment so the supervisor can write one warn line naming the limit, the waiting jobs and what
 * they wait for. It changes no job: a timeout or an interruption of a waiting job still ends it (and
 * the stall).
 *
 * Invariants (this file's own list; the supervisor's numbered one is in `supervisor.ts`):
 * 1. An entry's `waits` holds one function per wait in progress in its fibers (`beginWaiting` adds
 *    it, `endWaiting` removes it); `waitingOnJobs` of the supervisor, its pools and lanes count the
 *    entries with at least one, overall, in the pool and in the lane.
 * 2. A limit is stalled when it is full, nothing is paused, every running entry holding it waits,
 *    and each of them waits for at least one entry that has not started (queued, or waiting for
 *    room in the queue) and needs that limit (for the supervisor's `concurrency`: any such entry).
 * 3. `stallsOf` runs only when a limit may just have become stalled: a job begins waiting, an
 *    entry could not start at once while some job waits (`Admission.blocked`, a delay's end
 *    included), a job of a "failFast"/"firstSuccess" group ends while some job waits (the group's
 *    caller may now wait only for jobs that cannot start), or a
 *    pause ends (`stallsAfterResume`); its checks cost O(1) unless every holder of the limit waits.
 * 4. A stall is reported once: `stallWarned` (of the supervisor, pool or lane) is set when it is
 *    found and cleared whenever a job of that limit stops waiting.
 *
 * @internal
 */
import type { Admission } from "./admission.js"
import type { Entry, Lane, Pool } from "./model.js"

/** A limit whose every slot is held by jobs that wait for jobs needing it (invariant 2). */
export interface Stall {
  /** the limit as a line names it: `concurrency 4`, `pool "p" (concurrency 4)`, `key "k" of pool "p" (perKey 1)` */
  readonly limit: string
  /** the jobs holding the limit, each with one job it waits for that cannot start */
  readonly held: ReadonlyArray<readonly [waiting: Entry, awaited: Entry]>
}

/** Counts `entry` (running) as waiting for the entries `waits` gives, until `endWaiting` (invariant 1). */
export const beginWaiting = (admission: Admission, entry: Entry, waits: () => Iterable<Entry>): void => {
  const more = entry.extra()
  if (more.waits === undefined) {
    more.waits = [waits]
    admission.waitingOnJobs++
    entry.pool.waitingOnJobs++
    entry.lane.waitingOnJobs++
  } else more.waits.push(waits)
}

/** Ends one wait `beginWaiting` counted (the same `waits`). */
export const endWaiting = (admission: Admission, entry: Entry, waits: () => Iterable<Entry>): void => {
  const all = entry.more?.waits
  const i = all?.indexOf(waits) ?? -1
  if (i < 0) return
  all!.splice(i, 1)
  admission.stallWarned = false
  entry.pool.stallWarned = false
  entry.lane.stallWarned = false
  if (all!.length > 0) return
  entry.more!.waits = undefined
  admission.waitingOnJobs--
  entry.pool.waitingOnJobs--
  entry.lane.waitingOnJobs--
}

/** Whether `entry` has not started and can only start in a free slot: queued, or waiting for room. */
const unstarted = (entry: Entry): boolean => entry.state === "queued" || entry.state === "waiting"

/**
 * The stall of `holders` (the running entries of a full limit) if every one of them waits for an
 * entry that has not started and `needs` the limit; else undefined.
 */
const stalled = (limit: string, holders: Iterable<Entry>, needs: (entry: Entry) => boolean): Stall | undefined => {
  const held: Array<readonly [Entry, Entry]> = []
  for (const holder of holders) {
    const waits = holder.more?.waits
    if (waits === undefined) return undefined
    let awaited: Entry | undefined
    for (const of of waits) {
      for (const entry of of())
        if (unstarted(entry) && needs(entry)) {
          awaited = entry
          break
        }
      if (awaited !== undefined) break
    }
    if (awaited === undefined) return undefined
    held.push([holder, awaited])
  }
  return held.length === 0 ? undefined : { limit, held }
}

/** The running entries for which `holds` is true. */
function* running(admission: Admission, holds: (entry: Entry) => boolean): Iterable<Entry> {
  for (const entry of admission.running) if (holds(entry)) yield entry
}

/**
 * The limits `lane`'s jobs need that are stalled and not reported yet: the supervisor's
 * `concurrency`, the lane's pool, its key. Each one found is marked reported (invariant 4).
 */
export const stallsOf = (admission: Admission, lane: Lane): Array<Stall> => {
  const found: Array<Stall> = []
  if (admission.paused || admission.waitingOnJobs === 0) return found
  const { concurrency } = admission.config
  if (
    !admission.stallWarned &&
    admission.running.size >= concurrency &&
    admission.waitingOnJobs >= admission.running.size
  ) {
    const stall = stalled(`concurrency ${concurrency}`, admission.running, () => true)
    if (stall !== undefined) {
      admission.stallWarned = true
      found.push(stall)
    }
  }
  const pool = lane.pool
  if (pool.paused) return found
  if (
    pool.waitingOnJobs > 0 &&
    pool.waitingOnJobs >= pool.running &&
    !pool.stallWarned &&
    pool.running >= pool.concurrency
  ) {
    const stall = stalled(
      `pool "${pool.name}" (concurrency ${pool.concurrency})`,
      running(admission, (entry) => entry.pool === pool),
      (entry) => entry.pool === pool
    )
    if (stall !== undefined) {
      pool.stallWarned = true
      found.push(stall)
    }
  }
  if (
    lane.key !== undefined &&
    lane.waitingOnJobs > 0 &&
    lane.waitingOnJobs >= lane.running &&
    !lane.stallWarned &&
    lane.running >= pool.perKey
  ) {
    const stall = stalled(
      `key "${lane.key}" of pool "${pool.name}" (perKey ${pool.perKey})`,
      running(admission, (entry) => entry.lane === lane),
      (entry) => entry.lane === lane
    )
    if (stall !== undefined) {
      lane.stallWarned = true
      found.push(stall)
    }
  }
  return found
}

/**
 * The stalls a resume (`Supervisor.resume`, of one pool or of all) lets show: those of every lane
 * of the resumed pools (a paused limit is never reported stalled, invariant 2).
 */
export const stallsAfterResume = (admission: Admission, pools: Iterable<Pool>): Array<Stall> => {
  const found: Array<Stall> = []
  if (admission.waitingOnJobs === 0) return found
  for (const pool of pools)
    if (pool.waitingOnJobs > 0 || admission.running.size >= admission.config.concurrency)
      for (const lane of pool.allLanes()) found.push(...stallsOf(admission, lane))
  return found
}
