/**
 * What `Job.progress` costs per call: R jobs run at once (concurrency R), each reports C values
 * in a loop, under `References.MinimumLogLevel` "Info" (the progress lines are not written).
 * Prints the time of one such run (the mean of two, after one warm-up) per progress call.
 *
 *   node --import tsx bench/jobs-progress.ts [R=1000] [C=100]
 *
 * Runs against the compiled package (`node scripts/build.mjs packages/jobs` first), or add
 * `--conditions=tributary:source` for the sources.
 */
import { Job, Supervisor } from "@tributary/jobs"
import { Effect, References } from "effect"

const [runningArg = "1000", callsArg = "100"] = process.argv.slice(2)
const running = Number(runningArg)
const calls = Number(callsArg)
if (!(Number.isInteger(running) && running > 0 && Number.isInteger(calls) && calls > 0))
  throw new Error(`usage: jobs-progress.ts [running jobs ≥ 1] [calls per job ≥ 1], got ${runningArg} ${callsArg}`)

const job = Effect.gen(function* () {
  yield* Effect.yieldNow // every job starts before any reports
  for (let k = 0; k < calls; k++) yield* Job.progress(k)
})

const once = () =>
  Effect.runPromise(
    Effect.gen(function* () {
      for (let i = 0; i < running; i++) yield* Job.fire(job, { name: "progress" })
      yield* Supervisor.drain
    }).pipe(
      Effect.provide(Supervisor.layer({ concurrency: running, logSuccess: "debug" })),
      Effect.provideService(References.MinimumLogLevel, "Info")
    )
  )

await once()
const start = performance.now()
await once()
await once()
const ms = (performance.now() - start) / 2
console.log(
  `${running} jobs × ${calls} Job.progress calls: ${ms.toFixed(1)} ms, ${((ms * 1000) / (running * calls)).toFixed(2)} µs per call`
)
