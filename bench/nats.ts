/**
 * 10,000 small jobs (the payload, a number, returned) through NATS JetStream (`@tributary/nats`)
 * and, side by side in the same run, through BullMQ on Redis: fired by this process, run by 1 and
 * by 3 worker processes (concurrency 16 each); jobs/s from the first fire to the last outcome seen
 * here. Then recovery: 3 workers, one killed with SIGKILL when half the outcomes are in, with the
 * NATS workers' ack wait and BullMQ's lock duration and stalled interval all 2 s: the time from
 * the kill to the last outcome. Runs interleave (ours, BullMQ, ours, … with the first peer
 * alternating by round), fresh workers and a fresh stream or queue per run, each first warmed up by
 * `--warmup` untimed jobs through the same workers (0: cold workers); medians of the rounds. Beside
 * the time: the CPU time per job of the firing process, the server and the workers (from /proc).
 *
 * `node --conditions=tributary:source --import tsx bench/nats.ts [--rounds 3] [--warmup 2000]
 * [--peers ours,bullmq] [--window 16] [--kinds 1,3,kill] [--worker nats-worker.ts]` (needs
 * `nats-server` and `redis-server`; it starts its own of each on free loopback ports with temporary
 * directories, and stops them at the end). `--kinds` picks the cases (1 worker, 3 workers, 3 with a
 * kill); `--worker` runs our workers from another script (relative to bench/), e.g. a copy of an
 * older worker for an A/B.
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
import { small } from "./nats-jobs.ts"
import { cpuMillis, type Server, startServer, startWorkers, stop } from "./nats-procs.ts"

const JOBS = 10_000
/** a run that has not seen every outcome by then has failed (ms) */
const LIMIT = 180_000
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
const peersArg = process.argv.indexOf("--peers")
const PEERS = peersArg === -1 ? ["ours", "bullmq"] : (process.argv[peersArg + 1] ?? "").split(",")
if (!PEERS.every((p) => p === "ours" || p === "bullmq"))
  throw new Error(`--peers: ours, bullmq or both (comma-separated), got ${process.argv[peersArg + 1]}`)

/** Ours: fires `jobs` jobs; `atHalf` runs when half the outcomes are in. Times in ms from the first fire. */
const runOurs = (url: string, prefix: string, jobs: number, atHalf: () => void): Promise<RunResult> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const t0 = performance.now()
      const port = yield* Job.forkAll(
        Array.from({ length: jobs }, (_, n) => small.make(n)),
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
}
const allKinds: ReadonlyArray<Kind & { readonly id: string }> = [
  { id: "1", label: "1 worker", workers: 1, kill: false },
  { id: "3", label: "3 workers", workers: 3, kill: false },
  { id: "kill", label: "3 workers, one SIGKILLed at half", workers: 3, kill: true }
]
const kindsArg = process.argv.indexOf("--kinds")
/** the ids of the cases run (all by default) */
const KINDS = kindsArg === -1 ? allKinds.map((k) => k.id) : (process.argv[kindsArg + 1] ?? "").split(",")
if (!KINDS.every((id) => allKinds.some((k) => k.id === id)))
  throw new Error(`--kinds: 1, 3 or kill (comma-separated), got ${process.argv[kindsArg + 1]}`)
/** the cases run, in their order */
const kinds: ReadonlyArray<Kind> = allKinds.filter((k) => KINDS.includes(k.id))

/** One run of `peer` on `kind`, with its own workers (started before, stopped after, not timed). */
/** a run's result and the CPU time (ms) used during it by this (the firing) process, the server and the workers */
interface Sample extends RunResult {
  readonly cpu: number
  readonly serverCpu: number
  readonly workersCpu: number
}
const runOne = async (nats: Server, redis: Server, peer: Peer, kind: Kind, name: string): Promise<Sample> => {
  const url = `nats://127.0.0.1:${nats.port}`
  const server = peer === "ours" ? nats : redis
  const workers =
    peer === "ours"
      ? await startWorkers(WORKER, kind.workers, (i) => [url, name, `${name}-${i}`])
      : await startWorkers("nats-bullmq-worker.ts", kind.workers, () => [String(redis.port), name])
  const workersCpu = () => workers.reduce((sum, w) => sum + cpuMillis(w), 0)
  let killedCpu = 0
  const atHalf = () => {
    if (!kind.kill) return
    killedCpu = cpuMillis(workers[0])
    workers[0].kill("SIGKILL")
  }
  const run = (jobs: number, atHalf: () => void) =>
    peer === "ours" ? runOurs(url, name, jobs, atHalf) : runBull(redis.port, name, jobs, atHalf, LIMIT)
  // the same workers, stream or queue and firing code warmed up first (untimed), as in a service that runs for a while
  if (WARMUP > 0) await run(WARMUP, () => {})
  const cpu0 = process.cpuUsage()
  const server0 = cpuMillis(server.child)
  const workers0 = workersCpu()
  try {
    const r = await run(JOBS, atHalf)
    const cpu = process.cpuUsage(cpu0)
    return {
      ...r,
      cpu: (cpu.user + cpu.system) / 1000,
      serverCpu: cpuMillis(server.child) - server0,
      workersCpu: workersCpu() + killedCpu - workers0
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
const results = new Map<string, Array<Sample>>()
try {
  for (let round = 0; round < ROUNDS; round++)
    for (const [k, kind] of kinds.entries()) {
      const order: ReadonlyArray<Peer> = round % 2 === 0 ? ["ours", "bullmq"] : ["bullmq", "ours"]
      for (const peer of order.filter((p) => PEERS.includes(p))) {
        const r = await runOne(nats, redis, peer, kind, `b${round}k${k}${peer === "ours" ? "n" : "q"}`)
        const key = `${peer}|${kind.label}`
        results.set(key, [...(results.get(key) ?? []), r])
        console.error(
          `round ${round + 1}/${ROUNDS} ${peer} ${kind.label}: ${(r.total / 1000).toFixed(2)} s, half at ${(r.half / 1000).toFixed(2)} s, ${r.failed} not Success, CPU µs/job: firing ${Math.round((r.cpu * 1000) / JOBS)}, server ${Math.round((r.serverCpu * 1000) / JOBS)}, workers ${Math.round((r.workersCpu * 1000) / JOBS)}`
        )
      }
    }
} finally {
  await Promise.all([nats.stop(), redis.stop()])
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

console.log(
  `${JOBS} small jobs (payload: a number, returned) after ${WARMUP} untimed through the same workers, ${ROUNDS} rounds, medians. Node ${process.version}, ` +
    `${cpus().length} × ${cpus()[0]?.model} (${arch()}), load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}, at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}.`
)
console.log(
  `${version("nats-server", "--version")}, @nats-io/jetstream ${packageVersion(join(root, "packages/nats/node_modules/@nats-io/jetstream"))}; ` +
    `${version("redis-server", "--version").split(" ").slice(0, 3).join(" ")}, bullmq ${packageVersion(join(root, "node_modules/bullmq"))}. ` +
    `Ack wait = lock duration = stalled interval = ${BULL_LOCK_MILLIS / 1000} s.`
)
const rate = (rs: ReadonlyArray<Sample>) =>
  rs.length === 0 ? Number.NaN : JOBS / (median(rs.map((r) => r.total)) / 1000)
const each = (rs: ReadonlyArray<Sample>) => rs.map((r) => (r.total / 1000).toFixed(2)).join(", ")
const failed = (rs: ReadonlyArray<Sample>) => rs.reduce((n, r) => n + r.failed, 0)
const perJob = (rs: ReadonlyArray<Sample>, of: (r: Sample) => number) => Math.round((median(rs.map(of)) * 1000) / JOBS)
const cpus3 = (rs: ReadonlyArray<Sample>) =>
  `${perJob(rs, (r) => r.cpu)} + ${perJob(rs, (r) => r.serverCpu)} + ${perJob(rs, (r) => r.workersCpu)}`
console.log(
  "\n| run | ours jobs/s | BullMQ jobs/s | ours / BullMQ | ours total, s (each round) | BullMQ total, s (each round) | ours CPU µs/job: firing + server + workers | BullMQ CPU µs/job | not Success (ours, BullMQ) |"
)
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for (const kind of kinds) {
  const ours = results.get(`ours|${kind.label}`) ?? []
  const bull = results.get(`bullmq|${kind.label}`) ?? []
  console.log(
    `| ${kind.label} | ${Math.round(rate(ours))} | ${Math.round(rate(bull))} | ${(rate(ours) / rate(bull)).toFixed(2)} | ${each(ours)} | ${each(bull)} | ${cpus3(ours)} | ${cpus3(bull)} | ${failed(ours)}, ${failed(bull)} |`
  )
}
console.log("\n| 3 workers | ours | BullMQ |\n| --- | --- | --- |")
const secondHalf = (key: string) => median((results.get(key) ?? []).map((r) => r.total - r.half))
if (KINDS.includes("3"))
  console.log(
    `| second half of the outcomes, no kill | ${secs(secondHalf("ours|3 workers"))} | ${secs(secondHalf("bullmq|3 workers"))} |`
  )
if (KINDS.includes("kill"))
  console.log(
    `| second half, one worker SIGKILLed at its start (kill → last outcome) | ${secs(secondHalf(`ours|${allKinds[2].label}`))} | ${secs(secondHalf(`bullmq|${allKinds[2].label}`))} |`
  )
