/**
 * Jobs through NATS JetStream (`@tributary/nats`) and, side by side in the same run, through BullMQ
 * on Redis, fired by this process and run by worker processes, with the same job body on both:
 *
 * - 10,000 small jobs (the payload, a number, returned) run by 1 and by 3 workers (concurrency 16
 *   each), jobs/s from the first fire to the last outcome seen here. Then recovery: 3 workers, one
 *   killed with SIGKILL when half the outcomes are in, with the NATS workers' ack wait and BullMQ's
 *   lock duration and stalled interval all 2 s: the time from the kill to the last outcome.
 * - `--io-jobs` (2,000) jobs that wait on I/O: each a GET to an HTTP server in this process that
 *   answers after 20 ms (`nats-io.ts`), run by 1 and by 3 workers at `--io-concurrency` (4) each,
 *   so the wait dominates; jobs/s against the ideal, (workers × concurrency) ÷ 20 ms, the GETs the
 *   server answered per job (1 when each job ran once), and the floor: the same GETs at the same
 *   total concurrency made by this process with no queue (after both peers, each round).
 *
 * Runs interleave (ours, BullMQ, ours, … with the first peer alternating by round), fresh workers
 * and a fresh stream or queue per run, each first warmed up by `--warmup` untimed jobs of its kind
 * through the same workers (at most 400 for the jobs that wait; 0: cold workers); medians of the
 * rounds. Beside the time: the CPU time per job of the firing process (with the HTTP server, for the
 * jobs that wait), the server and the workers (from /proc).
 *
 * `npx -y pnpm@12.4.2 bench:nats [--rounds 3] [--warmup 2000] [--peers ours,bullmq] [--window 16]
 * [--kinds 1,3,kill,io1,io3] [--io-jobs 2000] [--io-concurrency 4] [--worker nats-worker.ts]`, which
 * builds the packages (`node scripts/build.mjs`) and runs `node --import tsx bench/nats.ts …`: the
 * firing side and the workers then load `@tributary/*` from their compiled `dist/`, as an installed
 * package runs and as BullMQ runs from its own compiled JavaScript. (Run with
 * `--conditions=tributary:source`, they load the TypeScript sources through tsx instead, which
 * wraps every named closure in a name-keeping helper call: measured slower, so the summary says
 * which it was.) Needs `nats-server` and `redis-server`; it starts its own of each on free loopback
 * ports with temporary directories, and stops them at the end.
 * `--kinds` picks the cases (small jobs on 1 worker, 3 workers, 3 with a kill; jobs that wait on 1
 * worker, 3 workers); `--worker` runs our workers from another script (relative to bench/), e.g. a
 * copy of an older worker for an A/B.
 */
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { arch, cpus, loadavg } from "node:os"
import { join } from "node:path"
import { Chan } from "@tributary/channel"
import { Job } from "@tributary/jobs"
import { NatsSupervisor } from "@tributary/nats"
import { Effect, Logger } from "effect"
import { BULL_LOCK_MILLIS, type RunResult, runBull } from "./nats-bullmq.ts"
import { getAll, IO_DELAY_MILLIS, type IoServer, startIoServer } from "./nats-io.ts"
import { io, small } from "./nats-jobs.ts"
import { cpuMillis, type Server, startServer, startWorkers, stop } from "./nats-procs.ts"

const JOBS = 10_000
/** a run that has not seen every outcome by then has failed (ms) */
const LIMIT = 180_000
/** the flags this driver reads (each takes a value); anything else is refused before a server starts */
const FLAGS = ["--rounds", "--warmup", "--window", "--worker", "--io-jobs", "--io-concurrency", "--peers", "--kinds"]
const USAGE = `Usage: npx -y pnpm@12.4.2 bench:nats [--rounds 3] [--warmup 2000]
  [--peers ours,bullmq] [--window 16] [--kinds 1,3,kill,io1,io3] [--io-jobs 2000] [--io-concurrency 4]
  [--worker nats-worker.ts]   (builds the packages, then runs node --import tsx bench/nats.ts with
  these flags: @tributary/* from dist/; the header of bench/nats.ts says what each flag does)`
if (process.argv.includes("--help")) {
  console.log(USAGE)
  process.exit(0)
}
for (const arg of process.argv.slice(2))
  if (arg.startsWith("--") && !FLAGS.includes(arg)) throw new Error(`unknown flag ${arg}\n${USAGE}`)
const roundsArg = process.argv.indexOf("--rounds")
const ROUNDS = roundsArg === -1 ? 3 : Number(process.argv[roundsArg + 1])
if (!Number.isInteger(ROUNDS) || ROUNDS < 1)
  throw new Error(`--rounds: an integer ≥ 1, got ${process.argv[roundsArg + 1]}`)
const warmupArg = process.argv.indexOf("--warmup")
/** jobs run through the same workers before each timed run, untimed */
const WARMUP = warmupArg === -1 ? 2_000 : Number(process.argv[warmupArg + 1])
if (!Number.isInteger(WARMUP) || WARMUP < 0 || WARMUP % 2 !== 0)
  throw new Error(`--warmup: an even integer ≥ 0, got ${process.argv[warmupArg + 1]}`)
const windowArg = process.argv.indexOf("--window")
/** the firing layer's publishWindow (its default when not given) */
const WINDOW = windowArg === -1 ? undefined : Number(process.argv[windowArg + 1])
const workerArg = process.argv.indexOf("--worker")
/** our worker script, relative to bench/ (another one, e.g. a copy of an older worker, for an A/B) */
const WORKER = workerArg === -1 ? "nats-worker.ts" : (process.argv[workerArg + 1] ?? "")
/** a flag's value: a positive integer, or `fallback` when the flag is absent */
const countArg = (flag: string, fallback: number): number => {
  const at = process.argv.indexOf(flag)
  if (at === -1) return fallback
  const n = Number(process.argv[at + 1])
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: an integer ≥ 1, got ${process.argv[at + 1]}`)
  return n
}
/** the jobs of a run of jobs that wait on I/O (even: the half is a job count) */
const IO_JOBS = countArg("--io-jobs", 2_000)
if (IO_JOBS % 2 !== 0) throw new Error(`--io-jobs: an even integer, got ${IO_JOBS}`)
/** each worker's concurrency for the jobs that wait on I/O */
const IO_CONCURRENCY = countArg("--io-concurrency", 4)
/** the untimed jobs before a run of jobs that wait on I/O */
const IO_WARMUP = Math.min(WARMUP, 400)
const peersArg = process.argv.indexOf("--peers")
const PEERS = peersArg === -1 ? ["ours", "bullmq"] : (process.argv[peersArg + 1] ?? "").split(",")
if (!PEERS.every((p) => p === "ours" || p === "bullmq"))
  throw new Error(`--peers: ours, bullmq or both (comma-separated), got ${process.argv[peersArg + 1]}`)

/** Ours: fires `jobs` jobs made by `make`; `atHalf` runs when half the outcomes are in. Times in ms from the first fire. */
const runOurs = (
  url: string,
  prefix: string,
  make: typeof small.make,
  jobs: number,
  atHalf: () => void
): Promise<RunResult> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const t0 = performance.now()
      const port = yield* Job.forkAll(
        Array.from({ length: jobs }, (_, n) => make(n)),
        { concurrency: jobs }
      )
      let seen = 0
      let half = 0
      let failed = 0
      for (let o = yield* Chan.take(port); o._tag === "Some"; o = yield* Chan.take(port)) {
        if (o.value._tag !== "Success") failed++
        if (++seen === jobs / 2) {
          half = performance.now() - t0
          atHalf()
        }
      }
      return { total: performance.now() - t0, half, failed }
    }).pipe(
      Effect.timeoutOrElse({
        duration: LIMIT,
        orElse: () => Effect.die(new Error(`ours: not every outcome after ${LIMIT} ms`))
      }),
      Effect.provide(
        NatsSupervisor.layer({
          servers: url,
          prefix,
          supervisor: { concurrency: jobs, maxQueued: jobs },
          ...(WINDOW === undefined ? {} : { publishWindow: WINDOW })
        })
      ),
      Effect.provide(Logger.layer([]))
    )
  )

type Peer = "ours" | "bullmq"
interface Kind {
  readonly label: string
  readonly workers: number
  readonly kill: boolean
  /** its jobs wait on I/O (a GET answered after IO_DELAY_MILLIS), at IO_CONCURRENCY per worker */
  readonly io: boolean
}
const allKinds: ReadonlyArray<Kind & { readonly id: string }> = [
  { id: "1", label: "1 worker", workers: 1, kill: false, io: false },
  { id: "3", label: "3 workers", workers: 3, kill: false, io: false },
  { id: "kill", label: "3 workers, one SIGKILLed at half", workers: 3, kill: true, io: false },
  { id: "io1", label: "jobs that wait, 1 worker", workers: 1, kill: false, io: true },
  { id: "io3", label: "jobs that wait, 3 workers", workers: 3, kill: false, io: true }
]
const kindsArg = process.argv.indexOf("--kinds")
/** the ids of the cases run (all by default) */
const KINDS = kindsArg === -1 ? allKinds.map((k) => k.id) : (process.argv[kindsArg + 1] ?? "").split(",")
if (!KINDS.every((id) => allKinds.some((k) => k.id === id)))
  throw new Error(`--kinds: 1, 3, kill, io1 or io3 (comma-separated), got ${process.argv[kindsArg + 1]}`)
/** the cases run, in their order */
const kinds: ReadonlyArray<Kind> = allKinds.filter((k) => KINDS.includes(k.id))

/** the jobs of a timed run of `kind` */
const jobsOf = (kind: Kind) => (kind.io ? IO_JOBS : JOBS)

/** a run's result, the CPU time (ms) used during it by this (the firing) process, the server and the workers, and the GETs answered during it */
interface Sample extends RunResult {
  readonly cpu: number
  readonly serverCpu: number
  readonly workersCpu: number
  readonly gets: number
  /** the GETs' mean time in the HTTP server (ms) */
  readonly held: number
}
/** One run of `peer` on `kind`, with its own workers (started before, stopped after, not timed). */
const runOne = async (
  nats: Server,
  redis: Server,
  http: IoServer,
  peer: Peer,
  kind: Kind,
  name: string
): Promise<Sample> => {
  const url = `nats://127.0.0.1:${nats.port}`
  const server = peer === "ours" ? nats : redis
  const ioArgs = kind.io ? [http.url, String(IO_CONCURRENCY)] : []
  const workers =
    peer === "ours"
      ? await startWorkers(WORKER, kind.workers, (i) => [url, name, `${name}-${i}`, ...ioArgs])
      : await startWorkers("nats-bullmq-worker.ts", kind.workers, () => [String(redis.port), name, ...ioArgs])
  const workersCpu = () => workers.reduce((sum, w) => sum + cpuMillis(w), 0)
  let killedCpu = 0
  const atHalf = () => {
    if (!kind.kill) return
    killedCpu = cpuMillis(workers[0])
    workers[0].kill("SIGKILL")
  }
  const definition = kind.io ? io(http.url) : small
  const run = (jobs: number, atHalf: () => void) =>
    peer === "ours"
      ? runOurs(url, name, definition.make, jobs, atHalf)
      : runBull(redis.port, name, definition.name, jobs, atHalf, LIMIT)
  // the same workers, stream or queue and firing code warmed up first (untimed), as in a service that runs for a while
  const warmup = kind.io ? IO_WARMUP : WARMUP
  if (warmup > 0) await run(warmup, () => {})
  const cpu0 = process.cpuUsage()
  const server0 = cpuMillis(server.child)
  const workers0 = workersCpu()
  const served0 = http.served()
  const held0 = http.heldMillis()
  try {
    const r = await run(jobsOf(kind), atHalf)
    const cpu = process.cpuUsage(cpu0)
    const gets = http.served() - served0
    return {
      ...r,
      cpu: (cpu.user + cpu.system) / 1000,
      serverCpu: cpuMillis(server.child) - server0,
      workersCpu: workersCpu() + killedCpu - workers0,
      gets,
      held: gets === 0 ? Number.NaN : (http.heldMillis() - held0) / gets
    }
  } finally {
    await stop(workers)
  }
}

const loadAtStart = loadavg()
const nats = await startServer(
  "nats-server",
  (port, dir) => ["-js", "-sd", dir, "-p", String(port), "-a", "127.0.0.1"],
  "Server is ready"
)
const redis = await startServer(
  "redis-server",
  (port, dir) => ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir],
  "Ready to accept connections"
)
const http = await startIoServer(IO_DELAY_MILLIS)
const results = new Map<string, Array<Sample>>()
/** the floor of each kind of jobs that wait: the ms of its GETs made directly, by round */
const floors = new Map<string, Array<number>>()
try {
  for (let round = 0; round < ROUNDS; round++)
    for (const [k, kind] of kinds.entries()) {
      const order: ReadonlyArray<Peer> = round % 2 === 0 ? ["ours", "bullmq"] : ["bullmq", "ours"]
      for (const peer of order.filter((p) => PEERS.includes(p))) {
        const r = await runOne(nats, redis, http, peer, kind, `b${round}k${k}${peer === "ours" ? "n" : "q"}`)
        const key = `${peer}|${kind.label}`
        results.set(key, [...(results.get(key) ?? []), r])
        console.error(
          `round ${round + 1}/${ROUNDS} ${peer} ${kind.label}: ${(r.total / 1000).toFixed(2)} s, half at ${(r.half / 1000).toFixed(2)} s, ${r.failed} not Success, ${r.gets} GETs, CPU µs/job: firing ${Math.round((r.cpu * 1000) / jobsOf(kind))}, server ${Math.round((r.serverCpu * 1000) / jobsOf(kind))}, workers ${Math.round((r.workersCpu * 1000) / jobsOf(kind))}`
        )
      }
      if (!kind.io) continue
      // the floor: the same GETs at the same total concurrency from this process, no queue
      const total = await getAll(http.url, IO_JOBS, kind.workers * IO_CONCURRENCY)
      floors.set(kind.label, [...(floors.get(kind.label) ?? []), total])
      console.error(`round ${round + 1}/${ROUNDS} direct GETs, no queue, ${kind.label}: ${(total / 1000).toFixed(2)} s`)
    }
} finally {
  await Promise.all([nats.stop(), redis.stop(), http.close()])
}

const median = (xs: ReadonlyArray<number>): number => {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`
const version = (command: string, flag: string) => execFileSync(command, [flag], { encoding: "utf8" }).trim()
const packageVersion = (dir: string) =>
  (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version
const root = join(import.meta.dirname, "..")

/** whether `@tributary/*` resolve to their TypeScript sources (the `tributary:source` condition) rather than dist/ */
const fromSources = process.execArgv.some((a) => a.includes("tributary:source"))
const smallKinds = kinds.filter((k) => !k.io)
const ioKinds = kinds.filter((k) => k.io)
console.log(
  `${smallKinds.length > 0 ? `${JOBS} small jobs (payload: a number, returned) after ${WARMUP} untimed through the same workers; ` : ""}` +
    `${ioKinds.length > 0 ? `${IO_JOBS} jobs that wait (a GET answered after ${IO_DELAY_MILLIS} ms) at concurrency ${IO_CONCURRENCY} per worker, after ${IO_WARMUP} untimed; ` : ""}` +
    `${ROUNDS} rounds, medians. @tributary/* from ${fromSources ? "their sources through tsx" : "their compiled dist/"}. Node ${process.version}, ` +
    `${cpus().length} × ${cpus()[0]?.model} (${arch()}), load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}, at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}.`
)
console.log(
  `${version("nats-server", "--version")}, @nats-io/jetstream ${packageVersion(join(root, "packages/nats/node_modules/@nats-io/jetstream"))}; ` +
    `${version("redis-server", "--version").split(" ").slice(0, 3).join(" ")}, bullmq ${packageVersion(join(root, "node_modules/bullmq"))}. ` +
    `Ack wait = lock duration = stalled interval = ${BULL_LOCK_MILLIS / 1000} s.`
)
const rate = (rs: ReadonlyArray<Sample>, jobs: number) =>
  rs.length === 0 ? Number.NaN : jobs / (median(rs.map((r) => r.total)) / 1000)
const each = (rs: ReadonlyArray<Sample>) => rs.map((r) => (r.total / 1000).toFixed(2)).join(", ")
const failed = (rs: ReadonlyArray<Sample>) => rs.reduce((n, r) => n + r.failed, 0)
const perJob = (rs: ReadonlyArray<Sample>, jobs: number, of: (r: Sample) => number) =>
  Math.round((median(rs.map(of)) * 1000) / jobs)
const cpus3 = (rs: ReadonlyArray<Sample>, jobs: number) =>
  `${perJob(rs, jobs, (r) => r.cpu)} + ${perJob(rs, jobs, (r) => r.serverCpu)} + ${perJob(rs, jobs, (r) => r.workersCpu)}`
const samplesOf = (kind: Kind) =>
  [results.get(`ours|${kind.label}`) ?? [], results.get(`bullmq|${kind.label}`) ?? []] as const
if (smallKinds.length > 0) {
  console.log(
    "\n| run | ours jobs/s | BullMQ jobs/s | ours / BullMQ | ours total, s (each round) | BullMQ total, s (each round) | ours CPU µs/job: firing + server + workers | BullMQ CPU µs/job | not Success (ours, BullMQ) |"
  )
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
}
for (const kind of smallKinds) {
  const [ours, bull] = samplesOf(kind)
  console.log(
    `| ${kind.label} | ${Math.round(rate(ours, JOBS))} | ${Math.round(rate(bull, JOBS))} | ${(rate(ours, JOBS) / rate(bull, JOBS)).toFixed(2)} | ${each(ours)} | ${each(bull)} | ${cpus3(ours, JOBS)} | ${cpus3(bull, JOBS)} | ${failed(ours)}, ${failed(bull)} |`
  )
}
if (KINDS.includes("3") || KINDS.includes("kill")) console.log("\n| 3 workers | ours | BullMQ |\n| --- | --- | --- |")
const secondHalf = (key: string) => median((results.get(key) ?? []).map((r) => r.total - r.half))
if (KINDS.includes("3"))
  console.log(
    `| second half of the outcomes, no kill | ${secs(secondHalf("ours|3 workers"))} | ${secs(secondHalf("bullmq|3 workers"))} |`
  )
if (KINDS.includes("kill"))
  console.log(
    `| second half, one worker SIGKILLed at its start (kill → last outcome) | ${secs(secondHalf(`ours|${allKinds[2].label}`))} | ${secs(secondHalf(`bullmq|${allKinds[2].label}`))} |`
  )
if (ioKinds.length > 0) {
  console.log(
    `\n| ${IO_JOBS} jobs that wait ${IO_DELAY_MILLIS} ms, concurrency ${IO_CONCURRENCY} per worker | ideal jobs/s | direct GETs, no queue, per s (of ideal) | ours jobs/s (of ideal) | BullMQ jobs/s (of ideal) | ours / BullMQ | direct, s (each round) | ours total, s (each round) | BullMQ total, s (each round) | ours CPU µs/job: firing with the HTTP server + server + workers | BullMQ CPU µs/job | GETs per job (ours, BullMQ) | mean time a GET was held by the HTTP server, ms (ours, BullMQ) | not Success (ours, BullMQ) |`
  )
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
}
/** jobs × delay ÷ (workers × concurrency), as jobs/s */
const ideal = (kind: Kind) => (kind.workers * IO_CONCURRENCY * 1000) / IO_DELAY_MILLIS
const ofIdeal = (r: number, kind: Kind) => `${Math.round(r)} (${Math.round((100 * r) / ideal(kind))}%)`
const getsPerJob = (rs: ReadonlyArray<Sample>) =>
  (rs.reduce((n, r) => n + r.gets, 0) / (rs.length * IO_JOBS)).toFixed(3)
const held = (rs: ReadonlyArray<Sample>) => median(rs.map((r) => r.held)).toFixed(1)
for (const kind of ioKinds) {
  const [ours, bull] = samplesOf(kind)
  const floor = floors.get(kind.label) ?? []
  const direct = IO_JOBS / (median(floor) / 1000)
  console.log(
    `| ${kind.label} | ${Math.round(ideal(kind))} | ${ofIdeal(direct, kind)} | ${ofIdeal(rate(ours, IO_JOBS), kind)} | ${ofIdeal(rate(bull, IO_JOBS), kind)} | ${(rate(ours, IO_JOBS) / rate(bull, IO_JOBS)).toFixed(2)} | ${floor.map((ms) => (ms / 1000).toFixed(2)).join(", ")} | ${each(ours)} | ${each(bull)} | ${cpus3(ours, IO_JOBS)} | ${cpus3(bull, IO_JOBS)} | ${getsPerJob(ours)}, ${getsPerJob(bull)} | ${held(ours)}, ${held(bull)} | ${failed(ours)}, ${failed(bull)} |`
  )
}
