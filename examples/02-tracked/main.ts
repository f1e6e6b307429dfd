/**
 * The same sub-jobs as `01-fire-and-forget`, upgraded one step at a time without changing them:
 * 1. handles: `Job.fork` each, then `Job.await` each exit;
 * 2. a results channel: `Job.fire` with `reportTo`, then read one outcome per job;
 * 3. a group: `Job.all` returns every outcome in input order (`Job.item` gives each its name and
 *    annotations, as `fire` did).
 * Each step logs a summary line (`step`, `succeeded`, `failed`).
 *
 * Run: `node --conditions=tributary:source --import tsx examples/02-tracked/main.ts` — exit code 0
 * (not the `tsx` command: it SIGKILLs a program that is slow to acknowledge Ctrl-C).
 */
import { Chan } from "@tributary/channel"
import { Job, Supervisor } from "@tributary/jobs"
import { Effect, Exit, Option } from "effect"
import { ids, syncRecord } from "../partner/service.js"

const summary = (step: string, ok: ReadonlyArray<number>, failed: ReadonlyArray<number>) =>
  Effect.logInfo(`${step}: ${ok.length} saved, ${failed.length} failed`).pipe(
    Effect.annotateLogs({ step, succeeded: ok, failed })
  )

// 1. keep a handle per sub-job and await each one
const withHandles = Effect.gen(function* () {
  const handles = []
  for (const id of ids) handles.push(yield* Job.fork(syncRecord(id), { name: `handles-${id}` }))
  const ok: Array<number> = []
  const failed: Array<number> = []
  for (const [i, h] of handles.entries()) {
    const exit = yield* Job.await(h)
    if (Exit.isSuccess(exit)) ok.push(exit.value)
    else failed.push(ids[i])
  }
  yield* summary("handles", ok, failed)
})

// 2. results on a channel: each outcome also goes to `results`, read as they come
const withChannel = Effect.gen(function* () {
  const results = yield* Chan.make<Job.Outcome<number, unknown>>(ids.length)
  for (const id of ids)
    yield* Job.fire(syncRecord(id), { name: `channel-${id}`, reportTo: results, annotations: { recordId: id } })
  const ok: Array<number> = []
  const failed: Array<number> = []
  for (let n = 0; n < ids.length; n++) {
    const outcome = yield* Chan.take(results)
    if (Option.isNone(outcome)) break
    const o = outcome.value
    if (Exit.isSuccess(o.exit)) ok.push(o.exit.value)
    else failed.push(o.annotations?.recordId as number)
  }
  yield* summary("channel", ok.sort(), failed.sort())
})

// 3. a group: every outcome, in input order; each job keeps its own name and annotations
const withAll = Effect.gen(function* () {
  const outcomes = yield* Job.all(
    ids.map((id) => Job.item(syncRecord(id), { name: `all-${id}`, annotations: { recordId: id } })),
    { concurrency: 3 }
  )
  const ok: Array<number> = []
  const failed: Array<number> = []
  for (const [i, o] of outcomes.entries()) (o._tag === "Success" ? ok : failed).push(ids[i])
  yield* summary("all", ok, failed)
})

const program = Effect.gen(function* () {
  yield* withHandles
  yield* withChannel
  yield* withAll
})

Supervisor.runMain(program, { supervisor: { name: "etl", concurrency: 4, logSuccess: "info" } })
