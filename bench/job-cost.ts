/**
 * Where the time of a W5y job goes (a job that waits one event-loop turn, resumed by its own
 * `setImmediate` callback; bench/jobs.ts measures the whole
 * workload against its peers). In one process, interleaved, medians of CPU time per job (or per
 * call) over `--rounds` rounds after a warm-up:
 *
 * - the parts a `Job.fire` loop pays before any job runs: a generator step (`yield* Effect.void`),
 *   a step of a primitive that reads the caller's fiber (`yield* Effect.withFiber(() => Effect.void)`,
 *   what `Job.fire` was until 2026-12-05; it now completes inside `yield*` when the job is admitted
 *   at once, see packages/jobs/src/internal/inline.ts), and `yield* Job.fire(work)` into a
 *   supervisor whose one slot is held (so every job is only queued: firing and queueing, nothing
 *   run); and one wall-clock reading (`Date.now()`, which every job's end time costs);
 * - the whole W5y workload three ways: `root fibers` — the smallest runner of root fibers with
 *   `Effect.runForkWith` (concurrency 100, a counter, no limits, no outcomes, no clock: a floor for
 *   any supervisor on effect 4), `effect-forEach` (`Effect.forEach(items, () => work, { concurrency:
 *   100 })`, the peer of bench/jobs.ts), `ours` (`Job.fire` × N then `Supervisor.drain`, as in
 *   bench/jobs.ts), and `ours, a defined job`: the same job made by a `Job.define` whose payload
 *   (`{ id }`, a `Schema.Struct`) is encoded by `make` for each job, whose `run` builds the job's
 *   Effect when it starts — compared with `ours, a job built per fire` (the same Effect built for
 *   each `Job.fire`, no definition), which is what "a defined job costs locally what
 *   `Job.fire(effect)` costs" is checked against.
 *
 *   node --conditions=tributary:source --import tsx bench/job-cost.ts [--n 100000] [--rounds 7]
 *
 * CPU time (user + system of this process) is used, so other work on the machine matters less
 * than for wall time; it still does (caches, frequency). Figures hold for this machine only.
 */
import { parseArgs } from "node:util"
import { Job, Supervisor } from "@tributary/jobs"
import { Context, Deferred, Effect, type Layer, References, Schema } from "effect"
import { effectWait } from "./w5y-wait.ts"

const { values } = parseArgs({
  options: { n: { type: "string", default: "100000" }, rounds: { type: "string", default: "7" } }
})
const n = Number(values.n)
const rounds = Number(values.rounds)
if (!Number.isInteger(n) || n < 1000) throw new Error(`--n: expected an integer >= 1000, received ${values.n}`)
if (!Number.isInteger(rounds) || rounds < 1)
  throw new Error(`--rounds: expected an integer >= 1, received ${values.rounds}`)

const quiet = <A, E>(effect: Effect.Effect<A, E, never>) =>
  Effect.provideService(effect, References.MinimumLogLevel, "Info")

/** a W5y job: enter, wait one event-loop turn (its own `setImmediate`, as in bench/jobs-child.ts), count */
const yielding = (count: () => void) => Effect.andThen(effectWait, Effect.sync(count))

/**
 * Each case runs `size` jobs or calls and resolves when done (with the CPU microseconds of the part
 * it times itself, if it does); the per-unit cost is CPU time ÷ size.
 */
const cases: Record<string, (size: number) => Promise<number | void>> = {
  "generator step: yield* Effect.void": (size) =>
    Effect.runPromise(
      Effect.gen(function* () {
        for (let i = 0; i < size; i++) yield* Effect.void
      })
    ),
  "primitive step: yield* Effect.withFiber(() => Effect.void)": (size) =>
    Effect.runPromise(
      Effect.gen(function* () {
        for (let i = 0; i < size; i++) yield* Effect.withFiber(() => Effect.void)
      })
    ),
  "firing: yield* Job.fire(work) (queued only)": (size) => {
    // only the firing loop is timed (here, not by the caller); then the queued jobs run and drain
    const program = Effect.gen(function* () {
      const hold = yield* Deferred.make<void>()
      yield* Job.fire(Deferred.await(hold)) // holds the one slot: every job below is only queued
      const before = process.cpuUsage()
      for (let i = 0; i < size; i++) yield* Job.fire(Effect.void, { name: "w5" })
      const used = process.cpuUsage(before)
      yield* Deferred.succeed(hold, undefined)
      yield* Supervisor.drain
      return used.user + used.system
    })
    const layer = Supervisor.layer({ concurrency: 1, maxQueued: size + 1, logSuccess: "debug" })
    return Effect.runPromise(quiet(Effect.provide(program, layer)))
  },
  "clock: Date.now()": async (size) => {
    let sum = 0
    for (let i = 0; i < size; i++) sum += Date.now()
    if (sum === 0) throw new Error("unreachable")
  },
  "W5y root fibers (floor)": (size) =>
    new Promise<void>((resolve) => {
      let started = 0
      let running = 0
      const work = yielding(() => {})
      const run = Effect.runForkWith(Context.add(Context.empty(), References.MinimumLogLevel, "Info"))
      const onEnd = (): void => {
        running--
        if (started < size) startOne()
        else if (running === 0) resolve()
      }
      const startOne = (): void => {
        running++
        started++
        const fiber = run(work)
        if (fiber.pollUnsafe() !== undefined) onEnd()
        else fiber.addObserver(onEnd)
      }
      while (running < 100 && started < size) startOne()
    }),
  "W5y effect-forEach": (size) =>
    Effect.runPromise(
      quiet(
        Effect.forEach(
          Array.from({ length: size }, (_, i) => i),
          () => yielding(() => {}),
          { concurrency: 100, discard: true }
        )
      )
    ),
  // the three W5y cases of ours repeat their loop on purpose: a shared helper would share its call
  // sites' inline caches between the cases (V8 would see three kinds of job there), so a case's
  // figure could depend on the cases run before it
  "W5y ours, a job built per fire (Job.fire(job(i)) × N, drain)": (size) => {
    let done = 0
    const job = (_id: number) =>
      yielding(() => {
        done++
      })
    const program = Effect.gen(function* () {
      for (let i = 0; i < size; i++) yield* Job.fire(job(i))
      yield* Supervisor.drain
      if (done !== size) throw new Error(`ran ${done} of ${size} jobs`)
    })
    const layer: Layer.Layer<Supervisor.Supervisor> = Supervisor.layer({
      concurrency: 100,
      maxQueued: size,
      whenFull: "wait",
      logSuccess: "debug"
    })
    return Effect.runPromise(quiet(Effect.provide(program, layer)))
  },
  "W5y ours, a defined job (Job.fire(def.make({ id })) × N, drain)": (size) => {
    let done = 0
    const def = Job.define({
      name: "w5",
      payload: Schema.Struct({ id: Schema.Number }),
      run: () =>
        yielding(() => {
          done++
        })
    })
    const program = Effect.gen(function* () {
      for (let i = 0; i < size; i++) yield* Job.fire(def.make({ id: i }))
      yield* Supervisor.drain
      if (done !== size) throw new Error(`ran ${done} of ${size} jobs`)
    })
    const layer: Layer.Layer<Supervisor.Supervisor> = Supervisor.layer({
      concurrency: 100,
      maxQueued: size,
      whenFull: "wait",
      logSuccess: "debug"
    })
    return Effect.runPromise(quiet(Effect.provide(program, layer)))
  },
  "W5y ours (Job.fire × N, drain)": (size) => {
    let done = 0
    const work = yielding(() => {
      done++
    })
    const program = Effect.gen(function* () {
      for (let i = 0; i < size; i++) yield* Job.fire(work, { name: "w5" })
      yield* Supervisor.drain
      if (done !== size) throw new Error(`ran ${done} of ${size} jobs`)
    })
    const layer: Layer.Layer<Supervisor.Supervisor> = Supervisor.layer({
      concurrency: 100,
      maxQueued: size,
      whenFull: "wait",
      logSuccess: "debug"
    })
    return Effect.runPromise(quiet(Effect.provide(program, layer)))
  }
}

const names = Object.keys(cases)
for (const name of names) for (let i = 0; i < 2; i++) await cases[name]!(Math.max(1000, n / 10))
const samples = new Map<string, Array<number>>(names.map((k) => [k, []]))
for (let r = 0; r < rounds; r++) {
  for (const name of names) {
    const size = name.startsWith("clock") || name.includes("step") ? n * 10 : n
    const before = process.cpuUsage()
    const own = await cases[name]!(size)
    const used = process.cpuUsage(before)
    samples.get(name)!.push(((typeof own === "number" ? own : used.user + used.system) * 1000) / size) // ns per unit
  }
}
const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
console.log(`Node ${process.version}, n = ${n}, ${rounds} rounds; median CPU ns per job (or per call)`)
for (const name of names) console.log(`${median(samples.get(name)!).toFixed(0).padStart(7)} ns  ${name}`)
