/**
 * What a queued job keeps alive: fires N jobs that wait for a gate (so they pile up in the queue
 * behind `concurrency: 100`), collects garbage, and prints the heap that stayed per queued job.
 * Unlike W5's "heap queued" (sampled without a collection, so it includes the fire loop's
 * garbage), this is what the queue itself holds.
 *
 *   node --expose-gc --import tsx bench/jobs-retained.ts [--n 100000]
 */
import { parseArgs } from "node:util"
import { Job, Supervisor } from "@tributary/jobs"
import { Effect, References } from "effect"

const { values } = parseArgs({ options: { n: { type: "string", default: "100000" } } })
const n = Number(values.n)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error("run with node --expose-gc")

let open!: () => void
const gate = new Promise<void>((resolve) => (open = resolve))
const work = Effect.andThen(
  Effect.promise(() => gate),
  Effect.void
)

const program = Effect.gen(function* () {
  gc()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < n; i++) yield* Job.fire(work, { name: "retained" })
  gc()
  const after = process.memoryUsage().heapUsed
  const { queued } = yield* Supervisor.snapshot
  console.log(
    `${n} jobs fired, ${queued.length} queued: ${((after - before) / n).toFixed(0)} bytes retained per job (heap after gc)`
  )
  open()
  yield* Supervisor.drain
}).pipe(
  Effect.provide(Supervisor.layer({ concurrency: 100, maxQueued: n, logSuccess: "debug" })),
  Effect.provideService(References.MinimumLogLevel, "Info")
)

await Effect.runPromise(program)
