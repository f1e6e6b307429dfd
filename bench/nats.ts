/**
 * 10,000 small jobs through NATS JetStream (`@tributary/nats`): fired by one process, run by 1 and
 * by 3 worker processes (concurrency 16 each); jobs/s from the first fire to the last outcome. Then
 * recovery: 3 workers, one killed with SIGKILL when half the outcomes are in (ack wait 2 s): the
 * time from the kill to the last outcome, beside the same second half without a kill.
 *
 * `node --conditions=tributary:source --import tsx bench/nats.ts` (needs `nats-server`; it starts
 * its own on a free port with a temporary store). BullMQ, the peer the issue names, is not
 * installed here: this measures JetStream alone.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { arch, cpus, tmpdir } from "node:os"
import { join } from "node:path"
import { Chan } from "@tributary/channel"
import { Job } from "@tributary/jobs"
import { NatsSupervisor } from "@tributary/nats"
import { Effect, Logger } from "effect"
import { small } from "./nats-jobs.ts"

const JOBS = 10_000
const dir = mkdtempSync(join(tmpdir(), "tributary-bench-nats-"))
const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const p = (s.address() as { port: number }).port
    s.close(() => resolve(p))
  })
})
const url = `nats://127.0.0.1:${port}`
const server = spawn("nats-server", ["-js", "-sd", dir, "-p", String(port), "-a", "127.0.0.1"], {
  stdio: ["ignore", "ignore", "pipe"]
})
await new Promise<void>((resolve) => {
  let log = ""
  server.stderr!.on("data", (d) => {
    log += d
    if (log.includes("Server is ready")) resolve()
  })
})

const startWorkers = async (prefix: string, n: number): Promise<Array<ChildProcess>> => {
  const children = Array.from({ length: n }, (_, i) =>
    spawn(
      process.execPath,
      [...process.execArgv, join(import.meta.dirname, "nats-worker.ts"), url, prefix, `${prefix}-${i}`],
      {
        stdio: ["ignore", "pipe", "inherit"]
      }
    )
  )
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          let out = ""
          c.stdout!.on("data", (d) => {
            out += d
            if (out.includes("pulling jobs")) resolve()
          })
        })
    )
  )
  return children
}
const stop = (children: ReadonlyArray<ChildProcess>) =>
  Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve()
          c.once("exit", () => resolve())
          c.kill("SIGTERM")
        })
    )
  )

/** Fires JOBS jobs; `atHalf` runs when half the outcomes are in. Times in ms from the first fire. */
const run = (prefix: string, atHalf: () => void) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const t0 = performance.now()
      const port = yield* Job.forkAll(
        Array.from({ length: JOBS }, (_, n) => small.make(n)),
        { concurrency: JOBS }
      )
      let seen = 0
      let half = 0
      let failed = 0
      for (let o = yield* Chan.take(port); o._tag === "Some"; o = yield* Chan.take(port)) {
        if (o.value._tag !== "Success") failed++
        if (++seen === JOBS / 2) {
          half = performance.now() - t0
          atHalf()
        }
      }
      return { total: performance.now() - t0, half, failed }
    }).pipe(
      Effect.provide(
        NatsSupervisor.layer({ servers: url, prefix, supervisor: { concurrency: JOBS, maxQueued: JOBS } })
      ),
      Effect.provide(Logger.layer([]))
    )
  )

const rows: Array<string> = []
for (const n of [1, 3]) {
  const workers = await startWorkers(`w${n}`, n)
  const r = await run(`w${n}`, () => {})
  await stop(workers)
  rows.push(
    `| ${n} worker${n > 1 ? "s" : ""} | ${Math.round((JOBS / r.total) * 1000)} jobs/s | ${(r.total / 1000).toFixed(2)} s | ${r.failed} |`
  )
}
{
  const workers = await startWorkers("kill", 3)
  const r = await run("kill", () => workers[0].kill("SIGKILL"))
  await stop(workers)
  rows.push(
    `| 3 workers, one SIGKILLed at ${JOBS / 2} outcomes (ack wait 2 s) | kill → last outcome ${((r.total - r.half) / 1000).toFixed(2)} s | ${(r.total / 1000).toFixed(2)} s | ${r.failed} |`
  )
}
server.kill("SIGTERM")
await new Promise((resolve) => server.once("exit", resolve))
rmSync(dir, { recursive: true, force: true })

console.log(
  `${JOBS} small jobs through NATS JetStream (nats-server 2.9), Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model} (${arch()})`
)
console.log("| run | throughput | total | not Success |\n| --- | --- | --- | --- |")
for (const r of rows) console.log(r)
