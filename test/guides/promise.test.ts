/**
 * docs/promise.md, claim by claim, with the async/await entry points only (as its readers write
 * code): the jobs example and what it gives, the signal of a job that ignores it, what a thrown
 * value is, no signal handlers installed, bad arguments thrown at the call; then the channels
 * example and what it prints, offer/poll, `{ signal }`, and an AsyncChan used by the Effect API.
 * Lines go through a real pino logger. Job ends are gates the test opens, never a wait on time.
 */
import { Chan } from "@tributary/channel"
import { chan, close, offer, onTake, onTimeout, poll, put, select, take } from "@tributary/channel/async"
import { JobArgumentError } from "@tributary/jobs"
import { supervisor } from "@tributary/jobs/promise"
import { Effect, Option } from "effect"
import { describe, expect, it } from "vitest"
import { outcomeLines, pinoLines } from "./pino-lines.js"

describe("promise.md: Jobs", () => {
  it("the example: run gives 42, all with failFast gives [1, 2], drain and shutdown resolve", async () => {
    const { logger, lines } = pinoLines()
    const sup = supervisor({ concurrency: 16, pools: { partner: { concurrency: 4, perKey: 1 } }, logger })
    sup.fire(
      async () => {
        throw new Error("partner down")
      },
      { name: "sync", pool: "partner", key: "acme", timeout: "5 seconds", retry: { times: 2, delay: "1 millis" } }
    )
    const total = await sup.run(async () => 42, { name: "count" })
    const values = await sup.all([async () => 1, async () => 2], { concurrency: 4, policy: "failFast" })
    expect([total, values]).toEqual([42, [1, 2]])
    await sup.drain()
    // a thrown value is the job's failure: retried, then logged as err
    const sync = lines.filter((l) => l["job.name"] === "sync")
    expect(sync.map((l) => [l.level, l.attempt])).toEqual([
      [40, 1],
      [40, 2],
      [50, 3]
    ])
    expect(sync[2].err).toMatchObject({ message: "partner down" })
    await sup.shutdown({ grace: "10 seconds" })
  })

  it("a job that ignores its signal keeps running after its TimedOut outcome was written", async () => {
    const { logger, lines } = pinoLines()
    const sup = supervisor({ logger })
    let finished = false
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const aborted = new Promise<unknown>((resolve) => {
      sup.fire(
        async (signal) => {
          signal.addEventListener("abort", () => resolve(signal.reason))
          await gate // ignores the signal
          finished = true
        },
        { name: "stubborn", timeout: "1 millis" }
      )
    })
    await aborted
    await sup.drain()
    expect(outcomeLines(lines)).toMatchObject([{ "job.name": "stubborn", "job.outcome": "TimedOut" }])
    expect(finished).toBe(false)
    release()
    await gate
    await new Promise((resolve) => setImmediate(resolve))
    expect(finished).toBe(true) // it went on in the background
    await sup.shutdown()
  })

  it("a job gets its signal as an ordinary parameter; one whose length is 0 (rest or default parameter) is called without", async () => {
    const sup = supervisor({ logger: pinoLines().logger })
    const ordinary = await sup.run(async (signal: AbortSignal) => signal instanceof AbortSignal)
    const rest = await sup.run(async (...args: Array<unknown>) => args[0])
    const withDefault = await sup.run(async (signal: AbortSignal | undefined = undefined) => signal)
    expect([ordinary, rest, withDefault]).toEqual([true, undefined, undefined])
    await sup.shutdown()
  })

  it("nothing installs signal handlers", async () => {
    const before = ["SIGTERM", "SIGINT"].map((s) => process.listenerCount(s))
    const sup = supervisor({ logger: pinoLines().logger })
    await sup.run(async () => 1)
    expect(["SIGTERM", "SIGINT"].map((s) => process.listenerCount(s))).toEqual(before)
    await sup.shutdown()
  })

  it("bad arguments (a job that is not a function, an unknown pool) throw JobArgumentError at the call, naming the argument", async () => {
    const sup = supervisor({ logger: pinoLines().logger, pools: { partner: {} } })
    const thrown = (f: () => unknown) => {
      try {
        f()
      } catch (error) {
        return error
      }
      return undefined
    }
    const notAFunction = thrown(() => sup.fire(Promise.resolve(1) as never))
    expect(notAFunction).toBeInstanceOf(JobArgumentError)
    expect(notAFunction).toMatchObject({ argument: "work" })
    expect((notAFunction as Error).message).toContain("received a Promise")
    const unknownPool = thrown(() => sup.fire(async () => 1, { pool: "nope" }))
    expect(unknownPool).toBeInstanceOf(JobArgumentError)
    expect(unknownPool).toMatchObject({ argument: "pool", value: "nope" })
    await sup.shutdown()
  })
})

describe("promise.md: Channels", () => {
  it("the example prints 1, 2, 3, then 'timeout', then { done: true, value: undefined }", async () => {
    const printed: Array<unknown> = []
    const ch = chan<number>(2)
    const producer = (async () => {
      for (const n of [1, 2, 3]) await put(ch, n)
      close(ch)
    })()
    for await (const n of ch) printed.push(n)
    await producer
    const other = chan<string>()
    printed.push(await select([onTake(other, (r) => (r.done ? "closed" : r.value)), onTimeout(100, () => "timeout")]))
    printed.push(await take(ch))
    expect(printed).toEqual([1, 2, 3, "timeout", { done: true, value: undefined }])
  })

  it("a put waits while the buffer is full; offer and poll never wait", async () => {
    const ch = chan<number>(1)
    await put(ch, 1)
    let second = false
    const pending = put(ch, 2).then(() => {
      second = true
    })
    await new Promise((resolve) => setImmediate(resolve))
    expect(second).toBe(false)
    expect(offer(ch, 3)).toBe(false)
    expect(poll(ch)).toEqual({ done: false, value: 1 })
    await pending
    expect(second).toBe(true)
    expect(poll(ch)).toEqual({ done: false, value: 2 })
    expect(poll(ch)).toBe(undefined)
  })

  it("put, take and select give up waiting when their signal aborts", async () => {
    const empty = chan<number>()
    const full = chan<number>()
    const controller = new AbortController()
    const waits = [
      take(empty, { signal: controller.signal }),
      put(full, 1, { signal: controller.signal }),
      select([onTake(empty, () => "taken")], { signal: controller.signal })
    ]
    controller.abort(new Error("gave up"))
    for (const w of waits) await expect(w).rejects.toThrow("gave up")
    expect(poll(full)).toBe(undefined) // nothing was put
  })

  it("an AsyncChan is also a Chan: the Effect API accepts it", async () => {
    const ch = chan<string>(1)
    await Effect.runPromise(Chan.put(ch, "from Effect"))
    expect(await take(ch)).toEqual({ done: false, value: "from Effect" })
    await put(ch, "from async")
    expect(await Effect.runPromise(Chan.take(ch))).toEqual(Option.some("from async"))
  })
})
