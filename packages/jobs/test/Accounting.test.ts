/**
 * The books balance: random programs of fires, forks, groups, interruptions, clock steps and
 * shutdowns in the middle, over jobs that succeed, fail, die, interrupt themselves, hang, time out
 * and retry. However a program goes, every admitted job has exactly one outcome line, and the
 * counters, the metrics, `reportTo`, `Job.await` and the `forkAll` ports all tell the same story.
 */
import { Chan, type ReadPort } from "@tributary/channel"
import { Effect, Exit, Fiber, Logger, Metric, Option, References, Schedule } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Job, Supervisor } from "../src/index.js"

type Kind = "ok" | "fail" | "die" | "selfInterrupt" | "sleep" | "never" | "retryForever" | "flaky" | "slow"
const kinds: ReadonlyArray<Kind> = [
  "ok",
  "fail",
  "die",
  "selfInterrupt",
  "sleep",
  "never",
  "retryForever",
  "flaky",
  "slow"
]

type Op =
  | { readonly op: "fire"; readonly kind: Kind; readonly pool: boolean; readonly key: number; readonly report: boolean }
  | { readonly op: "fork"; readonly kind: Kind; readonly pool: boolean; readonly key: number }
  | { readonly op: "interrupt"; readonly which: number }
  | { readonly op: "tick"; readonly millis: number }
  | { readonly op: "forkAll"; readonly items: ReadonlyArray<Kind> }
  | {
      readonly op: "all"
      readonly items: ReadonlyArray<Kind>
      readonly policy: "collectAll" | "failFast" | "firstSuccess"
    }
  | { readonly op: "interruptGroup"; readonly which: number }
  | { readonly op: "shutdown" }

/** A job of each kind; `flaky` fails every other attempt (its retry succeeds). */
const work = (kind: Kind, attempts: { n: number }): Effect.Effect<number, string> => {
  switch (kind) {
    case "ok":
      return Effect.succeed(1)
    case "fail":
      return Effect.fail("failed")
    case "die":
      return Effect.die(new Error("defect"))
    case "selfInterrupt":
      return Effect.interrupt
    case "sleep":
      return Effect.as(Effect.sleep("300 millis"), 2)
    case "never":
      return Effect.never
    case "retryForever":
      return Effect.fail("again")
    case "flaky":
      return Effect.suspend(() => (attempts.n++ % 2 === 0 ? Effect.fail("once") : Effect.succeed(3)))
    case "slow":
      return Effect.as(Effect.sleep("5 seconds"), 4)
  }
}
const optionsOf = (kind: Kind): Job.ItemOptions<number, string> => ({
  name: kind,
  ...(kind === "retryForever" || kind === "flaky" ? { retry: Schedule.spaced("100 millis") } : {}),
  ...(kind === "slow" || kind === "retryForever" ? { timeout: "1 second" } : {})
})
/** `Job.all` with one of its policies. */
const group = (
  items: ReadonlyArray<Job.Work<number, string, never>>,
  policy: "collectAll" | "failFast" | "firstSuccess"
): Effect.Effect<unknown, unknown, Supervisor.Supervisor> =>
  policy === "failFast"
    ? Job.all(items, { concurrency: 2, policy })
    : policy === "firstSuccess"
      ? Job.all(items, { concurrency: 2, policy })
      : Job.all(items, { concurrency: 2, policy })
const keyed = (pool: boolean, key: number) => (pool ? { pool: "p", key: `k${key}` } : {})

const arbKind = fc.constantFrom(...kinds)
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 30,
    arbitrary: fc.record({
      op: fc.constant("fire" as const),
      kind: arbKind,
      pool: fc.boolean(),
      key: fc.nat(3),
      report: fc.boolean()
    })
  },
  {
    weight: 20,
    arbitrary: fc.record({ op: fc.constant("fork" as const), kind: arbKind, pool: fc.boolean(), key: fc.nat(3) })
  },
  { weight: 10, arbitrary: fc.record({ op: fc.constant("interrupt" as const), which: fc.nat() }) },
  { weight: 15, arbitrary: fc.record({ op: fc.constant("tick" as const), millis: fc.nat(700) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant("forkAll" as const),
      items: fc.array(arbKind, { maxLength: 6, size: "max" })
    })
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant("all" as const),
      items: fc.array(arbKind, { minLength: 1, maxLength: 6, size: "max" }),
      policy: fc.constantFrom("collectAll" as const, "failFast" as const, "firstSuccess" as const)
    })
  },
  { weight: 5, arbitrary: fc.record({ op: fc.constant("interruptGroup" as const), which: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ op: "shutdown" as const }) }
)

interface OutcomeLine {
  readonly id: string
  readonly tag: string
  readonly level: string
  readonly message: string
}

/** Runs `ops` under a supervisor and a TestClock, then a last shutdown; returns what each witness saw. */
const play = (ops: ReadonlyArray<Op>, whenFull: "fail" | "drop", maxQueued: number) => {
  const lines: Array<OutcomeLine> = []
  const recorder = Logger.make((options) => {
    const annotations = options.fiber.getRef(References.CurrentLogAnnotations)
    lines.push({
      id: String(annotations["job.id"]),
      tag: String(annotations["job.outcome"]),
      level: options.logLevel,
      message: String(Array.isArray(options.message) ? options.message[0] : options.message)
    })
  })
  const program = Effect.gen(function* () {
    const attempts = { n: 0 }
    const report = yield* Chan.make<Job.Outcome<number, string>>(1_000_000)
    const handles: Array<Job.Handle<number, string>> = []
    const ports: Array<{ readonly size: number; readonly port: ReadPort<Job.Outcome<number, string>> }> = []
    const groups: Array<Fiber.Fiber<unknown, unknown>> = []
    let reporting = 0
    for (const o of ops) {
      switch (o.op) {
        case "fire": {
          const options = { ...optionsOf(o.kind), ...keyed(o.pool, o.key), ...(o.report ? { reportTo: report } : {}) }
          const fired = yield* Effect.exit(Job.fire(work(o.kind, attempts), options))
          if (Exit.isSuccess(fired) && o.report) reporting++
          break
        }
        case "fork": {
          const forked = yield* Effect.exit(
            Job.fork(work(o.kind, attempts), { ...optionsOf(o.kind), ...keyed(o.pool, o.key) })
          )
          if (Exit.isSuccess(forked)) handles.push(forked.value)
          break
        }
        case "interrupt":
          if (handles.length > 0) yield* Job.interrupt(handles[o.which % handles.length])
          break
        case "tick":
          yield* TestClock.adjust(o.millis)
          break
        case "forkAll": {
          const items = o.items.map((kind) => Job.item(work(kind, attempts), optionsOf(kind)))
          const port = yield* Effect.exit(Job.forkAll(items, { concurrency: 2 }))
          if (Exit.isSuccess(port)) ports.push({ size: items.length, port: port.value })
          break
        }
        case "all": {
          const items = o.items.map((kind) => Job.item(work(kind, attempts), optionsOf(kind)))
          groups.push(yield* Effect.forkChild(group(items, o.policy)))
          break
        }
        case "interruptGroup":
          if (groups.length > 0) yield* Fiber.interrupt(groups[o.which % groups.length])
          break
        case "shutdown":
          yield* Effect.forkChild(Supervisor.shutdown({ grace: "500 millis" }))
          break
      }
    }
    const last = yield* Effect.forkChild(Supervisor.shutdown({ grace: "2 seconds" }))
    while (last.pollUnsafe() === undefined) yield* TestClock.adjust("1 second")
    const awaited = new Map<string, Exit.Exit<number, string>>()
    for (const h of handles) awaited.set(h.id, yield* Job.await(h))
    const portCounts: Array<readonly [number, number]> = []
    for (const { size, port } of ports) {
      let taken = 0
      while (Option.isSome(yield* Chan.take(port))) taken++
      portCounts.push([size, taken])
    }
    for (const group of groups) yield* Fiber.await(group)
    const reported: Array<string> = []
    for (let o = Chan.pollUnsafe(report); Option.isSome(o); o = Chan.pollUnsafe(report)) reported.push(o.value.id)
    const metrics = new Map<string, number>()
    for (const m of yield* Metric.snapshot)
      if (m.type === "Counter") metrics.set(m.id, (metrics.get(m.id) ?? 0) + Number(m.state.count))
    return { snapshot: yield* Supervisor.snapshot, awaited, portCounts, reported, reporting, metrics }
  })
  return Effect.runPromise(
    program.pipe(
      Effect.provide(
        Supervisor.layer({
          name: "books",
          concurrency: 4,
          maxQueued,
          whenFull,
          metrics: { interval: "1 second" },
          pools: { p: { concurrency: 2, perKey: 1, rate: { limit: 5, interval: "1 second" } } }
        })
      ),
      Effect.provide(Logger.layer([recorder])),
      Effect.provide(TestClock.layer()),
      Effect.provideService(References.MinimumLogLevel, "All"),
      Effect.provideService(Metric.MetricRegistry, new Map())
    )
  ).then((seen) => ({ ...seen, outcomeLines: lines.filter((l) => l.tag !== "undefined"), lines }))
}

describe("every job's outcome is accounted for once, by every witness", () => {
  it("property: lines, counters, metrics, reportTo, Job.await and forkAll ports agree, shutdowns included", async () => {
    let outcomes = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbOp, { minLength: 20, maxLength: 300, size: "max" }),
        fc.constantFrom("fail" as const, "drop" as const),
        fc.integer({ min: 1, max: 3000 }),
        async (ops, whenFull, maxQueued) => {
          const seen = await play(ops, whenFull, maxQueued)
          const { counters, totals } = seen.snapshot
          const ids = seen.outcomeLines.map((l) => l.id)
          outcomes += ids.length
          expect(new Set(ids).size).toBe(ids.length) // one line per job
          const byTag = (tag: string) => seen.outcomeLines.filter((l) => l.tag === tag).length
          expect({
            succeeded: byTag("Success"),
            failed: byTag("Failure"),
            interrupted: byTag("Interrupted"),
            timedOut: byTag("TimedOut")
          }).toEqual({
            succeeded: counters.succeeded,
            failed: counters.failed,
            interrupted: counters.interrupted,
            timedOut: counters.timedOut
          })
          const dropLines = seen.lines.filter((l) => l.message.endsWith("dropped: the queue is full")).length
          expect(dropLines).toBe(counters.dropped)
          expect(seen.metrics.get("tributary_jobs_started")).toBe(counters.started)
          expect(seen.metrics.get("tributary_jobs_ended")).toBe(ids.length)
          expect(seen.metrics.get("tributary_jobs_dropped")).toBe(counters.dropped)
          expect(totals).toMatchObject({ running: 0, queued: 0, delayed: 0 })
          expect(seen.reported).toHaveLength(seen.reporting)
          expect(new Set(seen.reported).size).toBe(seen.reported.length)
          for (const [size, taken] of seen.portCounts) expect(taken).toBe(size)
          const tagOf = new Map(seen.outcomeLines.map((l) => [l.id, l.tag]))
          for (const [id, exit] of seen.awaited) {
            const tag = tagOf.get(id)
            if (Exit.isSuccess(exit)) expect(tag).toBe("Success")
            else if (Exit.hasInterrupts(exit)) expect(["Interrupted", "TimedOut"]).toContain(tag)
            else expect(tag).toBe("Failure")
          }
        }
      ),
      { numRuns: 60 }
    )
    expect(outcomes).toBeGreaterThan(1000)
  })
})
