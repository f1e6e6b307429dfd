/**
 * Remote interrupt and remote progress against a real nats-server, with in-process workers: a
 * remote job interrupted in the firing process stops on the worker (seen inside the job), ends
 * there once as Interrupted, and its message is termed (never redelivered); so does one the firing
 * supervisor's shutdown interrupts past its grace, and one past its `timeout` (ended here as
 * TimedOut); `Job.all`'s failFast cancels the others on the worker, and its firstSuccess the rest
 * once one succeeded; a job cancelled before any worker pulled it is deleted from the stream; a
 * cancel heard before its message arrives drops it unrun; `Job.progress` on the worker shows in the
 * firing supervisor's snapshot, coalesced; late and forged messages (an outcome and progress of a
 * job already interrupted here, progress and cancels of ids nobody knows, malformed ones) change
 * nothing.
 */
import { jetstreamManager } from "@nats-io/jetstream"
import { connect, headers, type NatsConnection } from "@nats-io/transport-node"
import { Chan } from "@tributary/channel"
import { Job, Supervisor } from "@tributary/jobs"
import { Deferred, Effect, Exit, Logger, References } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import type { NatsWorker } from "../src/index.js"
import { decodeOutcome, encodeHeaders, namesOf, type WireOutcome } from "../src/internal/wire.js"
import * as d from "./fixtures/definitions.js"
import { fire, outcomeLines, outcomeTags, startWorker } from "./harness.js"
import { available, skipReason, suiteServer } from "./server.js"

if (!available) console.log(skipReason)

/** a generous safety net on a wait that the test expects to end */
const awaitGate = (gate: Deferred.Deferred<void>) => Effect.timeout(Deferred.await(gate), "20 seconds")

/**
 * A connection of the test's own to the streams of `prefix`: counts the job messages published
 * (core subscription on the jobs subject) and the messages the workers' consumer terminated (the
 * server's MSG_TERMINATED advisories), and reads the streams' and consumer's state.
 */
const observe = async (url: string, prefix: string) => {
  const names = namesOf(prefix)
  const nc = await connect({ servers: url })
  const jsm = await jetstreamManager(nc)
  const counter = (subject: string) => {
    let count = 0
    const waiting: Array<{ readonly n: number; readonly resolve: () => void }> = []
    nc.subscribe(subject, {
      callback: () => {
        count++
        for (const w of waiting.filter((w) => w.n <= count)) {
          waiting.splice(waiting.indexOf(w), 1)
          w.resolve()
        }
      }
    })
    return (n: number) =>
      new Promise<void>((resolve) => {
        if (count >= n) resolve()
        else waiting.push({ n, resolve })
      })
  }
  const published = counter(names.jobsSubject)
  const terminated = counter(`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${names.jobsStream}.${names.consumer}`)
  await nc.flush()
  return {
    nc,
    names,
    /** resolves once `n` job messages were published */
    published,
    /** resolves once the consumer terminated `n` messages */
    terminated,
    /** the messages in the jobs stream */
    jobsMessages: async () => (await jsm.streams.info(names.jobsStream)).state.messages,
    /** what the jobs stream holds and its consumer still owes */
    jobsState: async () => {
      const stream = await jsm.streams.info(names.jobsStream)
      const consumer = await jsm.consumers.info(names.jobsStream, names.consumer)
      return {
        messages: stream.state.messages,
        pending: consumer.num_pending,
        ackPending: consumer.num_ack_pending,
        redelivered: consumer.num_redelivered
      }
    },
    /** every outcome stored in the outcomes stream */
    outcomes: async (): Promise<Array<WireOutcome>> => {
      const info = await jsm.streams.info(names.outcomesStream)
      const out: Array<WireOutcome> = []
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(names.outcomesStream, { seq })
        const o = m === null ? undefined : decodeOutcome(m.string())
        if (o !== undefined) out.push(o)
      }
      return out
    },
    close: () => nc.close()
  }
}

/**
 * Forks `reporting` (n, reporting 1 … count on the worker) and waits for the firing side's
 * `job progress` line of its last value.
 */
const forkUntilProgress = (n: number, count: number) =>
  Effect.gen(function* () {
    const last = yield* Deferred.make<void>()
    const latch = Logger.make((o) => {
      const p = o.fiber.getRef(References.CurrentLogAnnotations).progress as { done?: number } | undefined
      if (o.message === "job progress" || (Array.isArray(o.message) && o.message[0] === "job progress"))
        if (p?.done === count) Deferred.doneUnsafe(last, Exit.void)
    })
    const h = yield* Job.fork(d.reporting.make({ n, count })).pipe(
      Effect.provide(Logger.layer([latch], { mergeWithExisting: true }))
    )
    yield* awaitGate(last)
    return h
  })

const idle = { messages: 0, pending: 0, ackPending: 0, redelivered: 0 }

/**
 * Stops the worker, waits until the consumer has terminated `terminated` messages, and checks that
 * the jobs stream and its consumer hold nothing more (nothing left to redeliver).
 */
const stoppedIdle = async (
  w: { readonly stop: () => Promise<void> },
  obs: Awaited<ReturnType<typeof observe>>,
  terminated: number
): Promise<void> => {
  await w.stop()
  await obs.terminated(terminated)
  expect(await obs.jobsState()).toEqual(idle)
}

describe.skipIf(!available)("remote interrupt and progress", () => {
  const server = suiteServer()

  /** Runs `body` with an observer of the streams of `prefix` and a worker on them, both ended after it. */
  const withWorker = async (
    prefix: string,
    options: Partial<NatsWorker.Options<never>>,
    body: (obs: Awaited<ReturnType<typeof observe>>, worker: ReturnType<typeof startWorker>) => Promise<void>
  ): Promise<void> => {
    const obs = await observe(server.url, prefix)
    d.runs.length = 0
    const worker = startWorker(server.url, `${prefix}-worker`, { prefix, ...options })
    try {
      await body(obs, worker)
    } finally {
      await worker.stop()
      await obs.close()
    }
  }

  it("Job.all failFast over 2,001 remote jobs: those still waiting to be published when it fails are never published (nor cancelled, nor deleted one by one)", async () => {
    const prefix = "cancelmany"
    await withWorker(prefix, { concurrency: 16 }, async (obs, w) => {
      let published = 0
      obs.nc.subscribe(obs.names.jobsSubject, {
        callback: () => {
          published++
        }
      })
      await obs.nc.flush()
      const jobs = [
        d.crashing.make({ n: 1 }),
        ...Array.from({ length: 2000 }, (_, i) => d.endless.make({ n: 10_000 + i }))
      ]
      const { value } = await fire(
        server.url,
        Effect.exit(Job.all(jobs, { concurrency: 2001, policy: "failFast" })),
        { concurrency: 3000 },
        prefix,
        // one publish at a time: the failure comes back long before the last of 2,001 is sent
        { publishWindow: 1 }
      )
      expect(Exit.isFailure(value)).toBe(true)
      await w.stop()
      await obs.nc.flush()
      expect(published).toBeLessThan(1000)
      expect(await obs.jobsMessages()).toBe(0)
    })
  })

  it("a running remote job interrupted here stops on the worker, ends once as Interrupted and is termed (never redelivered); one held behind it is dropped unrun", async () => {
    const prefix = "cancelrun"
    await withWorker(prefix, { concurrency: 1 }, async (obs, w) => {
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          const a = yield* Job.fork(d.endless.make({ n: 101 }))
          yield* awaitGate(d.gateOf(101).started) // running on the worker
          // published (so a worker may hold it: it has room for one more than it runs)
          const b = yield* Job.fork(d.endless.make({ n: 102 }))
          yield* Effect.promise(() => obs.published(2))
          yield* Job.interrupt(b)
          yield* Job.interrupt(a)
          yield* awaitGate(d.gateOf(101).interrupted) // seen inside the job, on the worker
          return { a: yield* Job.await(a), b: yield* Job.await(b), ids: [a.id, b.id] }
        }),
        undefined,
        prefix
      )
      expect(Exit.hasInterrupts(value.a)).toBe(true)
      expect(Exit.hasInterrupts(value.b)).toBe(true)
      // each ended once here, as Interrupted
      expect(value.ids.map((id) => outcomeTags(lines, id))).toEqual([["Interrupted"], ["Interrupted"]])
      await w.stop()
      await obs.terminated(2)
      // both messages are gone: nothing left to redeliver
      expect(await obs.jobsState()).toEqual(idle)
      // the worker published both outcomes as Interrupted
      expect((await obs.outcomes()).map((o) => o.tag)).toEqual(["Interrupted", "Interrupted"])
      // a ran once; b never ran
      expect(d.runs.filter(([def]) => def === "endless").map(([, n]) => n)).toEqual([101])
    })
  })

  it("a firing supervisor's shutdown past its grace cancels its remote jobs on the worker", async () => {
    const prefix = "cancelshutdown"
    await withWorker(prefix, {}, async (obs, w) => {
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          const h = yield* Job.fork(d.endless.make({ n: 151 }))
          yield* awaitGate(d.gateOf(151).started)
          return h.id // the layer's scope closes: the supervisor's grace passes, then it interrupts the job
        }),
        { concurrency: 1000, grace: "100 millis" },
        prefix
      )
      await Effect.runPromise(awaitGate(d.gateOf(151).interrupted)) // seen inside the job, on the worker
      expect(outcomeTags(lines, value)).toEqual(["Interrupted"])
      await stoppedIdle(w, obs, 1)
    })
  })

  it("Job.all failFast over remote jobs: the first failure cancels the others on the worker", async () => {
    const prefix = "cancelfast"
    await withWorker(prefix, { concurrency: 4, attempts: 1 }, async (obs, w) => {
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          const reported = yield* Chan.make<Job.Outcome<unknown, unknown>>(8)
          const exit = yield* Effect.exit(
            Job.all(
              [
                d.endless.make({ n: 201 }),
                d.endless.make({ n: 202 }),
                d.endless.make({ n: 203 }),
                // fails once the three others run on the worker
                d.failsAfter.make({ n: 204, after: [201, 202, 203] })
              ],
              { concurrency: 4, policy: "failFast", reportTo: reported }
            )
          )
          // each of the three stopped on the worker
          yield* Effect.forEach([201, 202, 203], (n) => awaitGate(d.gateOf(n).interrupted), { discard: true })
          const outcomes = yield* Effect.forEach([1, 2, 3, 4], () => Chan.take(reported))
          return { exit, outcomes }
        }),
        undefined,
        prefix
      )
      expect(Exit.isFailure(value.exit) && value.exit.cause.reasons[0]).toMatchObject({
        _tag: "Fail",
        error: { _tag: "Flaky", n: 204 }
      })
      const tags = value.outcomes.map((o) => (o._tag === "Some" ? [o.value.name, o.value._tag] : o))
      expect(tags.sort()).toEqual([
        ["endless-0", "Interrupted"],
        ["endless-1", "Interrupted"],
        ["endless-2", "Interrupted"],
        ["fails-after-3", "Failure"]
      ])
      expect([...outcomeLines(lines).values()].map((ls) => ls.length)).toEqual([1, 1, 1, 1])
      await stoppedIdle(w, obs, 4) // the failure (final) and the three cancelled
      expect(
        d.runs
          .filter(([def]) => def === "endless")
          .map(([, n]) => n)
          .sort()
      ).toEqual([201, 202, 203])
    })
  })

  it("a remote job past its timeout ends here once as TimedOut and stops on the worker, its message termed", async () => {
    const prefix = "canceltimeout"
    await withWorker(prefix, {}, async (obs, w) => {
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          // the firing side's timer, on a TestClock (the job's fiber runs with its caller's Clock): it
          // passes once the job runs on the worker, never before (on the live clock a slow pull lost
          // the race: the job was dropped unrun). The job never ends by itself: only the timeout ends it.
          const h = yield* Job.fork(d.endless.make({ n: 251 }), { timeout: "300 millis" })
          yield* Deferred.await(d.gateOf(251).started) // running on the worker (the test's own timeout is the net)
          yield* TestClock.adjust("300 millis")
          const exit = yield* Job.await(h)
          yield* Deferred.await(d.gateOf(251).interrupted) // seen inside the job, on the worker
          return { id: h.id, exit }
        }).pipe(Effect.provide(TestClock.layer())),
        undefined,
        prefix
      )
      expect(Exit.isFailure(value.exit)).toBe(true)
      expect(outcomeTags(lines, value.id)).toEqual(["TimedOut"])
      await stoppedIdle(w, obs, 1)
      expect(d.runs.filter(([def]) => def === "endless").map(([, n]) => n)).toEqual([251])
    })
  })

  it("Job.all firstSuccess over remote jobs: the first success cancels the others on the worker", async () => {
    const prefix = "cancelfirst"
    await withWorker(prefix, { concurrency: 3 }, async (obs, w) => {
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          const first = yield* Job.all(
            [
              d.endless.make({ n: 261 }),
              d.endless.make({ n: 262 }),
              // succeeds once the two others run on the worker
              d.succeedsAfter.make({ n: 263, after: [261, 262] })
            ],
            { concurrency: 3, policy: "firstSuccess" }
          )
          yield* Effect.forEach([261, 262], (n) => awaitGate(d.gateOf(n).interrupted), { discard: true })
          return first
        }),
        undefined,
        prefix
      )
      expect(value).toBe(263)
      const outcomes = [...outcomeLines(lines).values()].map((ls) => ls.map((l) => l.annotations["job.outcome"]))
      expect(outcomes.map((o) => o.join()).sort()).toEqual(["Interrupted", "Interrupted", "Success"])
      await stoppedIdle(w, obs, 2) // the two cancelled; the success is acked
      expect(
        d.runs
          .filter(([def]) => def === "endless")
          .map(([, n]) => n)
          .sort()
      ).toEqual([261, 262])
    })
  })

  it("a job cancelled before any worker pulled it is deleted from the stream: a worker started later never runs it", async () => {
    const prefix = "cancelearly"
    const obs = await observe(server.url, prefix)
    d.runs.length = 0
    // no worker yet: the job waits in the stream
    const first = await fire(
      server.url,
      Effect.gen(function* () {
        const h = yield* Job.fork(d.endless.make({ n: 301 }))
        yield* Effect.promise(() => obs.published(1))
        yield* Job.interrupt(h)
        return yield* Job.await(h)
      }),
      undefined,
      prefix
    ) // the layer's end waits for the delete's answer
    expect(Exit.hasInterrupts(first.value)).toBe(true)
    expect(await obs.jobsMessages()).toBe(0)
    const w = startWorker(server.url, "late", { prefix })
    try {
      const second = await fire(
        server.url,
        Effect.flatMap(Job.fork(d.square.make({ n: 7 })), Job.join),
        undefined,
        prefix
      )
      expect(second.value).toBe(49)
      expect(d.runs.map(([def, n]) => [def, n])).toEqual([["square", 7]])
      await w.stop()
      expect(await obs.jobsState()).toEqual(idle)
    } finally {
      await w.stop()
      await obs.close()
    }
  })

  it("a cancel heard before its message arrives: the worker drops the job unrun, publishes it Interrupted and terms it", async () => {
    const prefix = "cancelheard"
    await withWorker(prefix, {}, async (obs, w) => {
      // the worker is up (it listens for cancels before it pulls)
      expect(
        (await fire(server.url, Effect.flatMap(Job.fork(d.square.make({ n: 3 })), Job.join), undefined, prefix)).value
      ).toBe(9)
      const reply = `${obs.names.outcomesPrefix}.test`
      const outcome = new Promise<string>((resolve) => {
        obs.nc.subscribe(reply, { max: 1, callback: (_, m) => resolve(m.string()) })
      })
      const id = "test.401.1"
      // on one connection, in this order: the worker hears the cancel before the stream delivers the job
      obs.nc.publish(obs.names.cancelSubject, id)
      await publishJob(obs.nc, obs.names.jobsSubject, id, reply, '{"n":401}')
      expect(decodeOutcome(await outcome)).toMatchObject({ id, tag: "Interrupted", worker: "cancelheard-worker" })
      await stoppedIdle(w, obs, 1)
      expect(d.runs.map(([def, n]) => [def, n])).toEqual([["square", 3]])
    })
  })

  it("Job.progress on the worker shows in the firing supervisor's snapshot: the latest value, coalesced", async () => {
    const prefix = "progress"
    await withWorker(prefix, {}, async () => {
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          const h = yield* forkUntilProgress(501, 1000)
          const snapshot = yield* Supervisor.snapshot
          yield* Job.interrupt(h)
          return { id: h.id, progress: snapshot.running.find((j) => j.id === h.id)?.progress }
        }),
        undefined,
        prefix
      )
      expect(value.progress).toEqual({ done: 1000, count: 1000 })
      // 1,000 values reported on the worker, a few messages sent (at most one per 250 ms)
      const received = lines.filter((l) => l.message === "job progress" && l.annotations["job.id"] === value.id)
      expect(received.length).toBeGreaterThanOrEqual(1)
      expect(received.length).toBeLessThan(10)
    })
  })

  it("a logger that throws on the firing side's progress line loses that line, not the progress that follows", async () => {
    const prefix = "progressthrow"
    await withWorker(prefix, {}, async () => {
      const { value } = await fire(
        server.url,
        Effect.gen(function* () {
          const threw = yield* Deferred.make<void>()
          const second = yield* Deferred.make<void>()
          // throws on the line of the first value; opens `second` on the line of the second
          const throwing = Logger.make((o) => {
            if (!(o.message === "job progress" || (Array.isArray(o.message) && o.message[0] === "job progress"))) return
            const p = o.fiber.getRef(References.CurrentLogAnnotations).progress as { done?: number } | undefined
            if (p?.done === 1) {
              Deferred.doneUnsafe(threw, Exit.void)
              throw new Error("the log destination is broken")
            }
            if (p?.done === 2) Deferred.doneUnsafe(second, Exit.void)
          })
          const h = yield* Job.fork(d.reportsTwice.make({ n: 801 })).pipe(
            Effect.provide(Logger.layer([throwing], { mergeWithExisting: true }))
          )
          yield* awaitGate(threw)
          yield* Deferred.succeed(d.gateOf(801).started, undefined) // the job reports its second value
          yield* awaitGate(second)
          const snapshot = yield* Supervisor.snapshot
          yield* Job.interrupt(h)
          return snapshot.running.find((j) => j.id === h.id)?.progress
        }),
        undefined,
        prefix
      )
      expect(value).toEqual({ done: 2 })
    })
  })

  it("late and forged messages change nothing: an outcome and progress of a job interrupted here, progress and cancels nobody knows, malformed ones", async () => {
    const prefix = "stale"
    await withWorker(prefix, { concurrency: 2 }, async (obs, w) => {
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          const seen = yield* Effect.promise(() => nextJob(obs.nc, obs.names.jobsSubject))
          const h = yield* Job.fork(d.endless.make({ n: 601 }))
          const { id, reply } = yield* Effect.timeout(
            Effect.promise(() => seen.next),
            "20 seconds"
          )
          yield* awaitGate(d.gateOf(601).started)
          yield* Job.interrupt(h)
          yield* awaitGate(d.gateOf(601).interrupted) // the worker publishes it Interrupted (ignored here)
          const instance = id.split(".")[0]
          const progressSubject = `${obs.names.progressPrefix}.${instance}`
          // a later outcome of it, stored in the outcomes stream (another message id: not deduplicated)
          yield* Effect.promise(async () => {
            const forged = headers()
            forged.set("Nats-Msg-Id", `forged.${id}`)
            const body = JSON.stringify({ id, tag: "Success", value: 1, worker: "forger", delivery: 1 })
            await obs.nc.request(reply, body, { headers: forged, timeout: 5_000 })
            await obs.nc.request(reply, "not json", { headers: headers(), timeout: 5_000 })
          })
          // progress of it, of an id nobody knows, malformed; cancels nobody knows, malformed
          obs.nc.publish(progressSubject, JSON.stringify({ id, progress: "resurrected" }))
          obs.nc.publish(progressSubject, JSON.stringify({ id: `${instance}.nobody.1`, progress: 1 }))
          obs.nc.publish(progressSubject, "{")
          obs.nc.publish(progressSubject, "null")
          obs.nc.publish(obs.names.cancelSubject, `${instance}.nobody.1`)
          obs.nc.publish(obs.names.cancelSubject, "")
          yield* Effect.promise(() => obs.nc.flush()) // the server has them all: they reach each side before what follows
          // a job fired after them: its progress and outcome come after theirs, on the same subscriptions
          const live = yield* forkUntilProgress(602, 1)
          yield* Job.interrupt(live)
          const after = yield* Effect.flatMap(Job.fork(d.square.make({ n: 603 })), Job.join)
          const snapshot = yield* Supervisor.snapshot
          return { id: h.id, exit: yield* Job.await(h), after, running: snapshot.running.map((j) => j.id) }
        }),
        undefined,
        prefix
      )
      expect(Exit.hasInterrupts(value.exit)).toBe(true)
      expect(value.after).toBe(603 * 603)
      expect(value.running).toEqual([])
      // one outcome line for it, Interrupted; no progress of it after its end
      expect(outcomeTags(lines, value.id)).toEqual(["Interrupted"])
      expect(lines.filter((l) => l.message === "job progress" && l.annotations["job.id"] === value.id)).toEqual([])
      // the worker kept going, and nothing it logged is an error
      expect(w.lines.filter((l) => l.level === "Error" || l.level === "Fatal")).toEqual([])
      expect(d.runs.map(([def, n]) => [def, n])).toEqual([
        ["endless", 601],
        ["endless", 602],
        ["square", 603]
      ])
    })
  })
})

/** A job message seen on the jobs subject: its id and where its outcome goes. */
interface Seen {
  readonly id: string
  readonly reply: string
}

/**
 * Subscribes to `subject` (resolving once the server has the subscription); `next` resolves with
 * the first job message published there from then on.
 */
const nextJob = async (nc: NatsConnection, subject: string): Promise<{ readonly next: Promise<Seen> }> => {
  const next = new Promise<Seen>((resolve) => {
    nc.subscribe(subject, {
      max: 1,
      callback: (_, m) =>
        resolve({ id: m.headers?.get("Nats-Msg-Id") ?? "", reply: m.headers?.get("Tributary-Reply") ?? "" })
    })
  })
  await nc.flush()
  return { next }
}

/** publishes a job message straight to the jobs stream (as a firing supervisor would) and waits for its ack */
const publishJob = async (nc: NatsConnection, subject: string, id: string, reply: string, body: string) => {
  const headers = encodeHeaders({
    definition: "endless",
    name: "endless",
    pool: undefined,
    key: undefined,
    reply,
    annotations: undefined
  })
  headers.set("Nats-Msg-Id", id)
  const ack = await nc.request(subject, body, { headers, timeout: 5_000 })
  expect(JSON.parse(ack.string())).toMatchObject({ stream: expect.any(String) })
}
