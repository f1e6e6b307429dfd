/**
 * docs/troubleshooting.md's `UnknownPoolError` row, the one NATS row no other test shows: a worker
 * that receives a job for a pool it does not have fails that job with `UnknownPoolError` (naming
 * the pool and the worker), does not run it, does not redeliver it (one run attempt: the outcome
 * arrives at once, not after retries), and goes on; giving the worker the same `pools` as the
 * firing side is the fix. A real nats-server (skipped with one line when it is absent).
 */
import { Job, type Supervisor } from "@tributary/jobs"
import { NatsSupervisor, NatsWorker } from "@tributary/nats"
import { PinoLogger } from "@tributary/pino"
import { Effect, Exit, Fiber, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { available, skipReason, suiteServer } from "../../packages/nats/test/server.js"
import { type Line, pinoLines } from "./pino-lines.js"

if (!available) console.log(skipReason)

const runs: Array<number> = []
const square = Job.define({
  name: "guide-square",
  payload: Schema.Struct({ n: Schema.Number }),
  run: ({ n }) => Effect.sync(() => runs.push(n)).pipe(Effect.as(n * n))
})

/**
 * Runs a worker with `pools` while `program` fires through a NATS supervisor that has the pool
 * "partner"; resolves with the program's value and the worker's pino lines once it stopped.
 */
const withWorker = async <A, E>(
  url: string,
  prefix: string,
  pools: Record<string, Supervisor.PoolConfig>,
  program: Effect.Effect<A, E, Supervisor.Supervisor>
): Promise<{ readonly value: A; readonly workerLines: Array<Line> }> => {
  const { logger, lines: workerLines } = pinoLines()
  const worker = Effect.runFork(
    NatsWorker.run({ servers: url, prefix, definitions: [square], name: "w1", pools, attempts: 3 }).pipe(
      Effect.provide(PinoLogger.layer(logger))
    )
  )
  try {
    const value = await Effect.runPromise(
      program.pipe(
        Effect.provide(
          NatsSupervisor.layer({ servers: url, prefix, supervisor: { pools: { partner: { concurrency: 2 } } } })
        ),
        Effect.provide(PinoLogger.layer(pinoLines().logger))
      )
    )
    return { value, workerLines }
  } finally {
    await Effect.runPromise(Fiber.interrupt(worker))
  }
}

describe.skipIf(!available)("troubleshooting.md: UnknownPoolError", () => {
  const server = suiteServer()

  it("a worker without the job's pool fails it with UnknownPoolError, once, without running it; the same pools fix it", async () => {
    runs.length = 0
    const { value: missing, workerLines } = await withWorker(
      server.url,
      "guide-a",
      {},
      Job.fork(square.make({ n: 3 }), { pool: "partner" }).pipe(Effect.flatMap(Job.await))
    )
    expect(Exit.isFailure(missing) && Exit.findErrorOption(missing)).toMatchObject({
      _tag: "Some",
      value: { _tag: "UnknownPoolError", pool: "partner", worker: "w1" }
    })
    expect(runs).toEqual([])
    // one attempt on the worker: failed once, never redelivered (attempts: 3 would retry a typed failure)
    const failures = workerLines.filter((l) => l.err?._tag === "UnknownPoolError")
    expect(failures.map((l) => l.err.message)).toEqual(['worker "w1" has no pool named "partner"'])

    const { value: fixed } = await withWorker(
      server.url,
      "guide-b",
      { partner: { concurrency: 2 } },
      Job.fork(square.make({ n: 3 }), { pool: "partner" }).pipe(Effect.flatMap(Job.join))
    )
    expect(fixed).toBe(9)
    expect(runs).toEqual([3])
  })
})
