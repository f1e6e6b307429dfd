/**
 * Step 1 of the upgrade path: fire and forget. A job fires one independent sub-job per record, all
 * at once, and returns; nobody waits for them, yet every failure is in the log (the supervisor
 * logs every outcome) and the process ends only when the last sub-job ended.
 *
 * Run: `node --conditions=tributary:source --import tsx examples/01-fire-and-forget/main.ts` — exit
 * code 0 (failed sub-jobs are logged; pass `failOnJobFailure: true` to exit 1 for them). Not the
 * `tsx` command: it SIGKILLs a program that is slow to acknowledge Ctrl-C, before runMain's summary.
 */
import { Job, Supervisor } from "@tributary/jobs"
import { Effect } from "effect"
import { ids, syncRecord } from "../partner/service.js"

const syncAll = Effect.gen(function* () {
  for (const id of ids) yield* Job.fire(syncRecord(id), { name: `sync-${id}`, annotations: { recordId: id } })
  yield* Effect.logInfo(`fired ${ids.length} sub-jobs`)
})

const program = Job.fire(syncAll, { name: "sync-all" })

Supervisor.runMain(program, { supervisor: { name: "etl", concurrency: 4, logSuccess: "info" } })
