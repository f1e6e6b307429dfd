/**
 * What `Job.progress` costs per call, under `References.MinimumLogLevel` "Info" (the progress
 * lines are not written), in two shapes:
 *
 * - every job reports: R jobs run at once (concurrency R), each reports C values in a loop;
 * - the youngest reports: R − 1 jobs wait, the last one started reports Y values (each call has
 *   to find its job among R running ones).
 *
 * Prints each shape's time per call (the mean of two runs, after one warm-up run).
 *
 *   node --import tsx bench/jobs-progress.ts [R=1000] [C=100] [Y=1000]
 *
 * Runs against the compiled package (`node scripts/build.mjs packages/jobs` first), or add
 * `--conditions=tributary:source` for the sources.
 */
import { Job, Supervisor } from "@tributary/jobs"
import { Deferred, Effect, References } from "effect"

const args = process.argv.slice(2)
const [running, calls, youngestCalls] = [1000, 100, 1000].map((byDefault, i) => {
  const n = args[i] === undefined ? byDefault : Number(args[i])
  if (!(Number.isInteger(n) && n > 0))
    throw new Error(`usage: jobs-progress.ts [R ≥ 1] [C ≥ 1] [Y ≥ 1]; argument ${i + 1} is ${args[i]}`)
  return n
})

const report = (count: number) =>
  Effect.gen(function* () {
    for (let k = 0; k < count; k++) yield* Job.progress(k)
  })

const supervised = <A>(program: Effect.Effect<A, unknown, Supervisor.Supervisor>) =>
  Effect.runPromise(
    program.pipe(
      Effect.provide(Supervisor.layer({ concurrency: running, logSuccess: "debug" })),
      Effect.provideService(References.MinimumLogLevel, "Info")
    )
  )

/** Every job reports; resolves with the ms of the whole run. */
const everyJob = async (): Promise<number> => {
  const start = performance.now()
  await supervised(
    Effect.gen(function* () {
      // every job starts before any reports
      for (let i = 0; i < running; i++)
        yield* Job.fire(Effect.andThen(Effect.yieldNow, report(calls)), {
          name: "progress"
        })
      yield* Supervisor.drain
    })
  )
  return performance.now() - start
}

/** The youngest of `running` jobs reports; resolves with the ms of its reports. */
const youngest = (): Promise<number> =>
  supervised(
    Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      for (let i = 0; i < running - 1; i++) yield* Job.fire(Deferred.await(gate), { name: "waiting" })
      const start = performance.now()
      yield* Job.await(yield* Job.fork(report(youngestCalls), { name: "progress" }))
      const ms = performance.now() - start
      yield* Deferred.succeed(gate, undefined)
      yield* Supervisor.drain
      return ms
    })
  )

const perCall = async (shape: () => Promise<number>, callsPerRun: number): Promise<string> => {
  await shape()
  const ms = ((await shape()) + (await shape())) / 2
  return `${((ms * 1000) / callsPerRun).toFixed(2)} µs per call`
}

console.log(`${running} jobs × ${calls} Job.progress calls each: ${await perCall(everyJob, running * calls)}`)
console.log(
  `the youngest of ${running} running jobs, ${youngestCalls} calls: ${await perCall(youngest, youngestCalls)}`
)
