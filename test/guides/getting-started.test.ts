/**
 * docs/getting-started.md, claim by claim: the async/await supervisor against a real HTTP server
 * (a signal per job, one outcome each, a failure logged with its error, `run` gives the value),
 * the Effect section's promises (a fired job outlives its caller; cancelled and cut jobs still get
 * their outcome line; limits hold across fire and all; the retry schedule retries 3 times with
 * backoff), and the core.async table and example. Lines go through a real pino logger; time is a
 * `TestClock` wherever the claim is about time.
 */
import { once } from "node:events"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Chan } from "@tributary/channel"
import { Job, Supervisor } from "@tributary/jobs"
import { supervisor } from "@tributary/jobs/promise"
import { PinoLogger } from "@tributary/pino"
import { Effect, Fiber, Layer, Option, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { run as runChild } from "../child.js"
import { outcomeLines, pinoLines } from "./pino-lines.js"

/** A partner API: /tenants/<name> answers 200, /tenants/broken 500; it counts requests per tenant. */
let server: Server
let base = ""
const requests: Array<string> = []
beforeAll(async () => {
  server = createServer((req, res) => {
    const tenant = req.url?.split("/")[2] ?? ""
    requests.push(tenant)
    res.statusCode = tenant === "broken" ? 500 : 200
    res.end(JSON.stringify({ tenant }))
  })
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => server.close())

/** Settles every fiber that can make progress. */
const settle = Effect.gen(function* () {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow
})

/** Runs an Effect program with a supervisor, a real pino logger and a TestClock. */
const runEffect = <A, E>(program: Effect.Effect<A, E, Supervisor.Supervisor>, config: Supervisor.Config = {}) => {
  const { logger, lines } = pinoLines()
  const layer = Supervisor.layer(config).pipe(Layer.provideMerge(PinoLogger.layer(logger)))
  return Effect.runPromise(program.pipe(Effect.provide(layer), Effect.provide(TestClock.layer()))).then((value) => ({
    value,
    lines
  }))
}

describe("getting-started.md: If you write async/await", () => {
  it("fire returns at once and its failure is logged with its error; run gives the value; each job has a signal and one outcome", async () => {
    const { logger, lines } = pinoLines()
    const sup = supervisor({ concurrency: 16, pools: { partner: { concurrency: 4, perKey: 1 } }, logger })
    const signals: Array<unknown> = []
    const syncTenant = async (tenant: string, signal: AbortSignal): Promise<number> => {
      signals.push(signal)
      const response = await fetch(`${base}/tenants/${tenant}`, { signal })
      if (response.status !== 200) throw new Error(`partner answered ${response.status} for ${tenant}`)
      return response.status
    }

    expect(sup.fire((signal) => syncTenant("broken", signal), { name: "sync", pool: "partner", key: "broken" })).toBe(
      undefined
    )
    expect(requests).not.toContain("broken") // fire did not wait for the job
    const status = await sup.run((signal) => syncTenant("globex", signal), { name: "sync", pool: "partner" })
    expect(status).toBe(200)
    await sup.shutdown({ grace: "10 seconds" })

    expect(signals).toHaveLength(2)
    for (const s of signals) expect(s).toBeInstanceOf(AbortSignal)
    const outcomes = outcomeLines(lines)
    expect(outcomes).toHaveLength(2)
    const failed = outcomes.find((l) => l["job.key"] === "broken")
    expect(failed).toMatchObject({ level: 50, "job.outcome": "Failure", "job.name": "sync", "job.pool": "partner" })
    expect(failed?.err).toMatchObject({ message: "partner answered 500 for broken" })
  })
})

describe("getting-started.md: If you write async/await (a program of its own)", () => {
  it("with no logger given, the failure is one JSON line on stdout; after shutdown the process ends by itself, code 0", async () => {
    const { code, lines } = await runChild("test/guides/fixtures/promise-stdout.ts")
    expect(code).toBe(0)
    const failures = lines.filter((l) => l["job.outcome"] === "Failure")
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatchObject({ level: 50, "job.name": "sync", "job.key": "acme" })
    expect((failures[0].err as { message: string }).message).toBe("partner refused acme")
    expect(lines.find((l) => l.msg === "status")).toMatchObject({ status: 200 })
  })
})

describe("getting-started.md: If you use Effect", () => {
  it("a fired job outlives the fiber that fired it", async () => {
    const { lines } = await runEffect(
      Effect.gen(function* () {
        const caller = yield* Effect.forkChild(
          Effect.gen(function* () {
            yield* Job.fire(Effect.sleep("1 second").pipe(Effect.as("done")), { name: "outlives" })
            yield* Effect.never
          })
        )
        yield* settle
        yield* Fiber.interrupt(caller)
        yield* TestClock.adjust("1 second")
        yield* Supervisor.drain
      }),
      { logSuccess: "info" }
    )
    expect(outcomeLines(lines)).toMatchObject([{ "job.name": "outlives", "job.outcome": "Success" }])
  })

  it("jobs cancelled while queued and jobs cut by a shutdown each get one outcome line", async () => {
    const { lines } = await runEffect(
      Effect.gen(function* () {
        yield* Job.fire(Effect.never, { name: "running" })
        const queued = yield* Job.fork(Effect.void, { name: "queued" })
        yield* settle
        yield* Job.interrupt(queued)
        yield* Supervisor.shutdown({ grace: 0 })
      }),
      { concurrency: 1 }
    )
    const outcomes = outcomeLines(lines)
    expect(outcomes.map((l) => [l["job.name"], l["job.outcome"]]).sort()).toEqual([
      ["queued", "Interrupted"],
      ["running", "Interrupted"]
    ])
  })

  it("a pool's limits hold across fire and all alike", async () => {
    let active = 0
    let most = 0
    const work = Effect.gen(function* () {
      active++
      most = Math.max(most, active)
      yield* Effect.sleep("1 second")
      active--
    })
    await runEffect(
      Effect.gen(function* () {
        for (let i = 0; i < 3; i++) yield* Job.fire(work, { name: "fired", pool: "partner" })
        const all = yield* Effect.forkChild(Job.all([work, work, work], { concurrency: 3, pool: "partner" }))
        yield* settle
        for (let i = 0; i < 6; i++) {
          yield* TestClock.adjust("1 second")
          yield* settle
        }
        yield* Fiber.join(all)
        yield* Supervisor.drain
      }),
      { pools: { partner: { concurrency: 2 } } }
    )
    expect(most).toBe(2)
  })

  it("the example's retry schedule retries at most 3 times, 100, 200 then 400 ms apart", async () => {
    const attempts: Array<number> = []
    const { value } = await runEffect(
      Effect.gen(function* () {
        const fetchOrders = Effect.gen(function* () {
          attempts.push(yield* Effect.clockWith((clock) => clock.currentTimeMillis))
          return yield* Effect.fail("partner down")
        })
        const all = yield* Effect.forkChild(
          Job.all([fetchOrders], {
            concurrency: 2,
            pool: "partner",
            timeout: "30 seconds",
            retry: Schedule.max([Schedule.exponential("100 millis"), Schedule.recurs(3)])
          })
        )
        yield* settle
        for (let i = 0; i < 10; i++) {
          yield* TestClock.adjust("100 millis")
          yield* settle
        }
        return yield* Fiber.join(all)
      }),
      { pools: { partner: { concurrency: 4, perKey: 1 } } }
    )
    expect(attempts.map((t) => t - attempts[0])).toEqual([0, 100, 300, 700])
    expect(value.map((o) => [o._tag, o.attempt])).toEqual([["Failure", 4]])
  })
})

describe("getting-started.md: If you know core.async", () => {
  it("the guide's example returns [1, 2]", async () => {
    const program = Effect.gen(function* () {
      const ch = yield* Chan.make<number>(1)
      yield* Effect.forkScoped(Chan.onto(ch, [1, 2, 3]))
      const first = yield* Chan.take(ch)
      const winner = yield* Chan.select([
        Chan.onTake(ch, (v) => Option.getOrElse(v, () => -1)),
        Chan.onTimeout("1 second", () => 0)
      ])
      return [Option.getOrThrow(first), winner]
    })
    expect(await Effect.runPromise(Effect.scoped(program))).toEqual([1, 2])
  })

  it("Chan.timeout is a channel that closes after the duration; Job.fire(Chan.put(ch, v)) is put!", async () => {
    await runEffect(
      Effect.gen(function* () {
        const t = yield* Chan.timeout("1 second")
        const take = yield* Effect.forkChild(Chan.take(t))
        yield* TestClock.adjust("999 millis")
        yield* settle
        expect(take.pollUnsafe()).toBe(undefined)
        yield* TestClock.adjust("1 millis")
        expect(yield* Fiber.join(take)).toEqual(Option.none())

        const ch = yield* Chan.make<string>()
        yield* Job.fire(Chan.put(ch, "v"), { name: "put!" }) // returns although nobody takes yet
        expect(yield* Chan.take(ch)).toEqual(Option.some("v"))
        yield* Supervisor.drain
      })
    )
  })
})
