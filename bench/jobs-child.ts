/**
 * One whole-process run of a job workload (W5, W5y or W6), spawned by bench/jobs.ts:
 *
 *   node --expose-gc --import tsx bench/jobs-child.ts \
 *     --workload W5 --impl ours --n 100000
 *   node … bench/jobs-child.ts --workload W6 --impl p-limit --n 1000 --port 41234
 *
 * Runs a warm-up (W5: n/10 jobs; W6: 100 requests, or `--warmup`), collects garbage, runs the same warm-up again
 * (the forced GC deoptimizes code), then one timed run, and for
 * W5 one more (untimed) run whose jobs wait for a gate, to sample the heap with all n queued;
 * checks that every job ran exactly once, and prints one JSON line (a `JobSample`) to stdout.
 * On failure it prints `{ impl, workload, error }` and exits with code 1.
 *
 * W6's `sequential` implementation is not a limiter: it sends `n` requests one after the other
 * (the driver passes n = 100 and scales the time to 1000 requests).
 */
import * as http from "node:http"
import { parseArgs } from "node:util"
import { Job, Supervisor } from "@tributary/jobs"
import { supervisor } from "@tributary/jobs/promise"
import { Effect, References } from "effect"
import pLimit from "p-limit"
import PQueue from "p-queue"
import { runChildMain } from "./child-main.ts"
import { type JobSample, W5_CONCURRENCY, W6_CONCURRENCY, type w5Impls, type w6Impls } from "./jobs-spec.ts"
import { effectWait, promiseWait } from "./w5y-wait.ts"

const { values } = parseArgs({
  options: {
    workload: { type: "string" },
    impl: { type: "string" },
    n: { type: "string" },
    port: { type: "string" },
    /** W6: requests per warm-up run (default 100) */
    warmup: { type: "string" }
  }
})

const workload = values.workload ?? ""
const implName = values.impl ?? ""

const mib = (bytes: number): number => bytes / 2 ** 20

/**
 * One run of n jobs. `queued` is called once every job is queued, before waiting for them, with
 * the number of jobs already done. With a `gate`, every job's operation first waits for it (the
 * heap run: jobs pile up in the queue until `queued` opens the gate).
 */
type Run = (n: number, hooks: Hooks) => Promise<number>

interface Hooks {
  readonly queued: (done: number) => void
  readonly gate?: Promise<void> | undefined
}

// ── W5: n jobs, each awaiting an already-resolved operation, concurrency 100 ──

/**
 * W5y's jobs wait for one turn of the event loop before counting, as a job that waits does, each
 * resumed by its own `setImmediate` callback on every side (bench/w5y-wait.ts says why not
 * `Effect.yieldNow`).
 */
const yielding = workload === "W5y"

/** The Effect job (ours and effect-forEach): counts itself (after the gate, if any; W5y: after one wait). */
const effectJob = (gate: Promise<void> | undefined, count: () => void): Effect.Effect<void> => {
  const body = yielding ? Effect.andThen(effectWait, Effect.sync(count)) : Effect.sync(count)
  return gate === undefined
    ? body
    : Effect.andThen(
        Effect.promise(() => gate),
        body
      )
}

/** The Promise peers' job: counts itself (after the gate, if any; W5y: after one wait). */
const promiseJob = (gate: Promise<void> | undefined, count: () => void): (() => Promise<void>) =>
  gate === undefined
    ? yielding
      ? async () => {
          await promiseWait()
          count()
        }
      : async () => {
          count()
        }
    : async () => {
        await gate
        if (yielding) await promiseWait()
        count()
      }

const quiet = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  // successes are logged at Debug (logSuccess), below this minimum level: nothing is printed
  Effect.provideService(effect, References.MinimumLogLevel, "Info")

/**
 * The Promise API's supervisor: the Effect API's configuration, and a pino logger at "info", so no
 * success line is written (they are logged at "debug").
 */
const promiseSupervisor = (concurrency: number, n: number) =>
  supervisor({ concurrency, maxQueued: n, logSuccess: "debug", logger: { level: "info" } })

/**
 * A W5 run through the Promise API: `submit` hands the n jobs to a fresh supervisor and returns
 * what resolves once they are done; `queued` is called right after it returned.
 */
const promiseRun =
  (submit: (sup: ReturnType<typeof promiseSupervisor>, job: () => Promise<void>, n: number) => Promise<unknown>): Run =>
  async (n, { queued, gate }) => {
    let done = 0
    const sup = promiseSupervisor(W5_CONCURRENCY, n)
    const finished = submit(
      sup,
      promiseJob(gate, () => done++),
      n
    )
    queued(done)
    await finished
    await sup.shutdown()
    return done
  }

const w5: Record<(typeof w5Impls)[number], Run> = {
  ours: (n, { queued, gate }) => {
    let done = 0
    const work = effectJob(gate, () => done++)
    return Effect.runPromise(
      quiet(
        Effect.gen(function* () {
          for (let i = 0; i < n; i++) yield* Job.fire(work, { name: "w5" })
          queued(done)
          yield* Supervisor.drain
          return done
        }).pipe(
          Effect.provide(
            Supervisor.layer({ concurrency: W5_CONCURRENCY, maxQueued: n, whenFull: "wait", logSuccess: "debug" })
          )
        )
      )
    )
  },
  "ours-promise": promiseRun((sup, job, n) => {
    for (let i = 0; i < n; i++) sup.fire(job, { name: "w5" })
    return sup.drain()
  }),
  "ours-promise-run": promiseRun((sup, job, n) => {
    const all: Array<Promise<void>> = new Array(n)
    for (let i = 0; i < n; i++) all[i] = sup.run(job, { name: "w5" })
    return Promise.all(all)
  }),
  // the group admits at most `concurrency` at once: the rest wait in the group, not in the queue
  "ours-promise-all": promiseRun((sup, job, n) =>
    sup.all(new Array<typeof job>(n).fill(job), { concurrency: W5_CONCURRENCY, name: "w5", policy: "failFast" })
  ),
  "p-limit": async (n, { queued, gate }) => {
    let done = 0
    const limit = pLimit(W5_CONCURRENCY)
    const fn = promiseJob(gate, () => done++)
    const all: Array<Promise<void>> = new Array(n)
    for (let i = 0; i < n; i++) all[i] = limit(fn)
    queued(done)
    await Promise.all(all)
    return done
  },
  "p-queue": async (n, { queued, gate }) => {
    let done = 0
    const queue = new PQueue({ concurrency: W5_CONCURRENCY })
    const fn = promiseJob(gate, () => done++)
    for (let i = 0; i < n; i++) void queue.add(fn)
    queued(done)
    await queue.onIdle()
    return done
  },
  "effect-forEach": (n, { queued, gate }) => {
    let done = 0
    const work = effectJob(gate, () => done++)
    const items = Array.from({ length: n }, (_, i) => i)
    // forEach has no separate "queued" moment: the heap is sampled once its first batch started
    let sampled = false
    return Effect.runPromise(
      quiet(
        Effect.map(
          Effect.forEach(
            items,
            () => {
              if (!sampled) {
                sampled = true
                queued(done)
              }
              return work
            },
            { concurrency: W5_CONCURRENCY, discard: true }
          ),
          () => done
        )
      )
    )
  }
}

// ── W6: n HTTP GETs to the driver's loopback server, concurrency 50 ──

const port = Number(values.port)
const agent = new http.Agent({ keepAlive: true })

const get = (): Promise<void> =>
  new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/", agent }, (res) => {
      res.resume()
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))))
      res.on("error", reject)
    })
    req.on("error", reject)
  })

/** A counter and a FIFO of resolvers: the smallest correct Promise limiter. */
const handLimiter = (max: number) => {
  let active = 0
  const waiting: Array<() => void> = []
  let head = 0
  return async <A>(fn: () => Promise<A>): Promise<A> => {
    if (active < max) active++
    else await new Promise<void>((resume) => waiting.push(resume))
    try {
      return await fn()
    } finally {
      // hand the slot straight to the next waiter, or free it
      if (head < waiting.length) {
        const next = waiting[head] as () => void
        waiting[head++] = undefined as never
        next()
      } else active--
    }
  }
}

const w6: Record<(typeof w6Impls)[number], Run> = {
  ours: (n, { queued }) => {
    // the job is the GET alone (as for the peers); the supervisor's counters tell how many succeeded
    const work = Effect.tryPromise(get)
    return Effect.runPromise(
      quiet(
        Effect.gen(function* () {
          for (let i = 0; i < n; i++) yield* Job.fire(work, { name: "w6" })
          queued(0)
          yield* Supervisor.drain
          const { succeeded, failed } = (yield* Supervisor.snapshot).counters
          if (failed > 0) return yield* Effect.die(new Error(`${failed} requests failed`))
          return succeeded
        }).pipe(
          Effect.provide(
            Supervisor.layer({ concurrency: W6_CONCURRENCY, maxQueued: n, whenFull: "wait", logSuccess: "debug" })
          )
        )
      )
    )
  },
  "ours-promise": async (n, { queued }) => {
    const sup = promiseSupervisor(W6_CONCURRENCY, n)
    for (let i = 0; i < n; i++) sup.fire(get, { name: "w6" })
    queued(0)
    await sup.drain()
    const { succeeded, failed } = (await sup.snapshot()).counters
    await sup.shutdown()
    if (failed > 0) throw new Error(`${failed} requests failed`)
    return succeeded
  },
  "p-limit": async (n, { queued }) => {
    const limit = pLimit(W6_CONCURRENCY)
    const all: Array<Promise<void>> = new Array(n)
    for (let i = 0; i < n; i++) all[i] = limit(get)
    queued(0)
    return (await Promise.all(all)).length
  },
  hand: async (n, { queued }) => {
    const limit = handLimiter(W6_CONCURRENCY)
    const all: Array<Promise<void>> = new Array(n)
    for (let i = 0; i < n; i++) all[i] = limit(get)
    queued(0)
    return (await Promise.all(all)).length
  },
  sequential: async (n, { queued }) => {
    queued(0)
    let done = 0
    for (let i = 0; i < n; i++) {
      await get()
      done++
    }
    return done
  }
}

// ── one run ──

const pick = <K extends string>(table: Record<K, Run>, name: string): Run => {
  if (!Object.hasOwn(table, name)) throw new Error(`unknown ${workload} implementation "${name}"`)
  return table[name as K]
}

const main = async (): Promise<JobSample> => {
  const n = Number(values.n)
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`--n must be a positive integer, got "${values.n}"`)
  let run: Run
  let warmupN: number
  if (workload === "W5" || workload === "W5y") {
    run = pick(w5, implName)
    warmupN = Math.max(1, Math.round(n / 10))
  } else if (workload === "W6") {
    if (!(port > 0)) throw new Error("W6 needs --port (the driver's server)")
    run = pick(w6, implName)
    warmupN = values.warmup === undefined ? Math.min(n, 100) : Number(values.warmup)
    if (!(Number.isInteger(warmupN) && warmupN > 0))
      throw new Error(`--warmup must be a positive integer, got "${values.warmup}"`)
  } else throw new Error(`unknown workload "${workload}"`)

  const check = (expected: number, got: number) => {
    if (got !== expected) throw new Error(`${workload}/${implName}: expected ${expected} jobs done, got ${got}`)
  }

  const noHooks: Hooks = { queued: () => {} }
  let start = performance.now()
  check(warmupN, await run(warmupN, noHooks))
  const warmupMs = performance.now() - start

  // A full GC leaves a clean heap for the timed run, but it also throws away optimized code that
  // embedded objects of the warm-up run (V8 deoptimizes it: "weak objects"), in every
  // implementation; a second, equal warm-up re-optimizes it, so the timed run measures warm code.
  globalThis.gc?.()
  check(warmupN, await run(warmupN, noHooks))
  start = performance.now()
  const done = await run(n, noHooks)
  const ms = performance.now() - start
  check(n, done)

  // W5's heap run (not timed): n jobs whose operation waits for a gate, so they pile up in the
  // queue; the heap is sampled once all are queued, then the gate opens and they run
  let heap: Pick<JobSample, "heapQueuedMiB" | "heapDeltaMiB" | "pendingAtSample"> = {}
  if (workload === "W5") {
    globalThis.gc?.()
    const heapBefore = process.memoryUsage().heapUsed
    let open = () => {}
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    const queued = (doneSoFar: number) => {
      const heapQueued = process.memoryUsage().heapUsed
      heap = {
        heapQueuedMiB: mib(heapQueued),
        heapDeltaMiB: mib(heapQueued - heapBefore),
        pendingAtSample: n - doneSoFar
      }
      open()
    }
    check(n, await run(n, { queued, gate }))
  }

  return {
    impl: implName,
    workload,
    n,
    ms,
    warmupMs,
    ...heap,
    maxRssMiB: process.resourceUsage().maxRSS / 1024
  }
}

runChildMain(implName, workload, main, () => agent.destroy())
