/**
 * Model-based tests of the channel core under concurrency and interruption.
 *
 * 1. Random programs (fast-check) of puts, takes, offers, polls, selects, closes and interrupts issued
 *    from several fibers, checked against the contract: no value lost, none duplicated, none invented,
 *    FIFO per producer, close semantics, no handler left registered.
 * 2. Interrupt-at-every-step: an operation's scheduler steps are counted once, then it is run again
 *    and interrupted after each step in turn; whatever the step, the value is observed by the
 *    operation or still takeable, exactly once.
 * 3. Interrupts that land inside the step of an operation (raised by a fiber that the operation
 *    itself resumed, as `Effect.race` does).
 *
 * Interleavings come from `Scheduler.MaxOpsBeforeYield` set to 1..4 (a fiber yields every few
 * operations) and fast-check-chosen `yieldNow` counts; `Math.random` (used by `select`) is replaced by
 * a seeded generator during each run, so a run is determined by its fast-check input.
 */
import { Cause, Effect, Exit, Fiber, Option } from "effect"
import * as Scheduler from "effect/Scheduler"
import fc from "fast-check"
import { describe, expect, it, vi } from "vitest"
import { Chan } from "../src/index.js"
import { fifoKinds, type Kind, kinds, pending, run } from "./harness.js"

// ── determinism and scheduling ──────────────────────────────────────────────

/** A small seeded PRNG (mulberry32): the stand-in for `Math.random` while a program runs. */
const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Runs `effect` (with `TestClock`) while `Math.random` is seeded with `seed`. */
const runSeeded = async <A>(seed: number, effect: Effect.Effect<A>): Promise<A> => {
  const spy = vi.spyOn(Math, "random").mockImplementation(seededRandom(seed))
  try {
    return await run(effect)
  } finally {
    spy.mockRestore()
  }
}

/** Every fiber of `effect` (forked ones inherit it) yields after `n` operations. */
const withMaxOps =
  (n: number) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.provideService(effect, Scheduler.MaxOpsBeforeYield, n)

const isInterrupted = (exit: Exit.Exit<unknown, unknown>): boolean =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)

const showExit = (exit: Exit.Exit<unknown, unknown> | undefined): string =>
  exit === undefined
    ? "running"
    : Exit.isSuccess(exit)
      ? `success(${JSON.stringify(exit.value, (_k, v) => (typeof v === "symbol" ? String(v) : v))})`
      : isInterrupted(exit)
        ? "interrupted"
        : `failure(${String(exit.cause)})`

/** The kinds that deliver every accepted value (all but promise), and their indices in `kinds`. */
const queueKinds = kinds.filter((k) => k.policy !== "promise")

// ── 1. the model-based property ─────────────────────────────────────────────

/** An operation of a worker fiber. Channel and worker indices are taken modulo the actual counts. */
type WorkerOp =
  | { readonly tag: "put"; readonly chan: number }
  | { readonly tag: "offer"; readonly chan: number }
  | { readonly tag: "take"; readonly chan: number }
  | { readonly tag: "poll"; readonly chan: number }
  | {
      readonly tag: "select"
      readonly puts: ReadonlyArray<number>
      readonly takes: ReadonlyArray<number>
      readonly priority: boolean
    }
  | { readonly tag: "yield"; readonly n: number }

/** What the controller does after `wait` yields. */
type Action =
  | { readonly tag: "interrupt"; readonly worker: number }
  | { readonly tag: "close"; readonly chan: number }
  /** When `first`'s current operation ends, interrupt `then`'s at once, in that same step (as a race does). */
  | { readonly tag: "raceInterrupt"; readonly first: number; readonly then: number }

interface Program {
  /** Indices into the kind table of the property. */
  readonly chans: ReadonlyArray<number>
  readonly maxOps: number
  readonly seed: number
  readonly producers: ReadonlyArray<ReadonlyArray<WorkerOp>>
  readonly consumers: ReadonlyArray<ReadonlyArray<WorkerOp>>
  readonly controller: ReadonlyArray<{ readonly wait: number; readonly action: Action | null }>
  /** How the program ends: close every channel and drain it with polls, or `discard` it. */
  readonly end: "drain" | "discard"
}

const chanIx = fc.nat({ max: 2 })
const yieldOp = fc.record({ tag: fc.constant("yield" as const), n: fc.integer({ min: 1, max: 4 }) })
const oneChan = <T extends "put" | "offer" | "take" | "poll">(tag: T) =>
  fc.record({ tag: fc.constant(tag), chan: chanIx })
const selectOp = (main: "puts" | "takes") =>
  fc
    .record({
      main: fc.array(chanIx, { minLength: 1, maxLength: 3 }),
      other: fc.array(chanIx, { maxLength: 1 }),
      priority: fc.boolean()
    })
    .map(
      ({ main: m, other, priority }): WorkerOp =>
        main === "puts"
          ? { tag: "select", puts: m, takes: other, priority }
          : { tag: "select", puts: other, takes: m, priority }
    )

const producerOp: fc.Arbitrary<WorkerOp> = fc.oneof(
  { weight: 5, arbitrary: oneChan("put") },
  { weight: 2, arbitrary: oneChan("offer") },
  { weight: 3, arbitrary: selectOp("puts") },
  { weight: 1, arbitrary: yieldOp }
)
const consumerOp: fc.Arbitrary<WorkerOp> = fc.oneof(
  { weight: 5, arbitrary: oneChan("take") },
  { weight: 2, arbitrary: oneChan("poll") },
  { weight: 3, arbitrary: selectOp("takes") },
  { weight: 1, arbitrary: yieldOp }
)
const workerIx = fc.nat({ max: 6 })
const action: fc.Arbitrary<Action | null> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ tag: fc.constant("interrupt" as const), worker: workerIx }) },
  { weight: 1, arbitrary: fc.record({ tag: fc.constant("close" as const), chan: chanIx }) },
  {
    weight: 3,
    arbitrary: fc.record({ tag: fc.constant("raceInterrupt" as const), first: workerIx, then: workerIx })
  },
  { weight: 1, arbitrary: fc.constant(null) }
)

const programArb = (kindCount: number): fc.Arbitrary<Program> =>
  fc.record({
    chans: fc.array(fc.nat({ max: kindCount - 1 }), { minLength: 1, maxLength: 3 }),
    maxOps: fc.constantFrom(1, 2, 3, 4),
    seed: fc.integer(),
    producers: fc.array(fc.array(producerOp, { minLength: 1, maxLength: 7 }), { minLength: 2, maxLength: 4 }),
    consumers: fc.array(fc.array(consumerOp, { minLength: 1, maxLength: 7 }), { minLength: 1, maxLength: 3 }),
    controller: fc.array(fc.record({ wait: fc.nat({ max: 8 }), action }), { maxLength: 6 }),
    end: fc.constantFrom("drain" as const, "discard" as const)
  })

/** A value on a channel: which worker put it, and its sequence number within that worker. */
interface Val {
  readonly p: number
  readonly s: number
}
const keyOf = (v: Val): string => `${v.p}.${v.s}`

/** What became of a value some worker tried to put. */
interface PutRecord {
  readonly v: Val
  readonly op: string
  /** The channels it was offered on (several for a select). */
  readonly chans: ReadonlyArray<number>
  /** Every one of those channels was closed before the operation started. */
  readonly closedAtStart: boolean
  /** accepted: put/offer returned true, or the select committed this put case with true. */
  outcome: "pending" | "accepted" | "rejected" | "interrupted" | "notChosen" | "failed"
  /** The channel that accepted it. */
  chan?: number
}

interface TakeRecord {
  readonly v: Val
  readonly chan: number
  /** The worker that took it; -1 for the final drain. */
  readonly by: number
  readonly op: string
  /** A take on this channel had already returned None when this take started. */
  readonly startedAfterNone: boolean
}

interface Trace {
  readonly puts: Map<string, PutRecord>
  readonly takes: Array<TakeRecord>
  readonly undelivered: Array<{ readonly v: Val; readonly chan: number }>
  readonly discarded: Array<{ readonly v: Val; readonly chan: number }>
  readonly violations: Array<string>
  readonly stats: Stats
}

interface Stats {
  interruptedPuts: number
  interruptedTakes: number
  interruptedSelects: number
  /** Interrupted puts whose value was nevertheless delivered (the documented window). */
  deliveredAfterInterrupt: number
  accepted: number
  taken: number
  closedTakes: number
  raceInterrupts: number
}

const newStats = (): Stats => ({
  interruptedPuts: 0,
  interruptedTakes: 0,
  interruptedSelects: 0,
  deliveredAfterInterrupt: 0,
  accepted: 0,
  taken: 0,
  closedTakes: 0,
  raceInterrupts: 0
})

type SelectResult =
  | { readonly side: "take"; readonly chan: number; readonly value: Option.Option<Val> }
  | { readonly side: "put"; readonly chan: number; readonly accepted: boolean }

/** Runs `program` over channels of `table[i]` and records everything that happened. */
const runProgram = (program: Program, table: ReadonlyArray<Kind>): Effect.Effect<Trace> =>
  Effect.gen(function* () {
    const nChans = program.chans.length
    const puts = new Map<string, PutRecord>()
    const takes: Array<TakeRecord> = []
    const undelivered: Array<{ v: Val; chan: number }> = []
    const discarded: Array<{ v: Val; chan: number }> = []
    const violations: Array<string> = []
    const stats = newStats()
    const closed: Array<boolean> = program.chans.map(() => false)
    const noneSeen: Array<boolean> = program.chans.map(() => false)
    const chans = program.chans.map((k, i) =>
      table[k].make<Val>({ name: `c${i}`, onUndelivered: (v) => undelivered.push({ v, chan: i }) })
    )
    const workerOps = [...program.producers, ...program.consumers]
    const nWorkers = workerOps.length
    const current: Array<Fiber.Fiber<unknown> | undefined> = workerOps.map(() => undefined)
    let events = 0

    const recordTake = (v: Val, chan: number, by: number, op: string, startedAfterNone: boolean) => {
      stats.taken++
      takes.push({ v, chan, by, op, startedAfterNone })
      if (startedAfterNone) {
        violations.push(`worker ${by} ${op} on c${chan} got ${keyOf(v)} although a take had already seen None`)
      }
    }
    const recordNone = (chan: number, by: number, op: string) => {
      stats.closedTakes++
      noneSeen[chan] = true
      if (!closed[chan]) violations.push(`worker ${by} ${op} on c${chan} returned None on an open channel`)
    }
    const newPut = (w: number, seq: number, op: string, cs: ReadonlyArray<number>): PutRecord => {
      const rec: PutRecord = {
        v: { p: w, s: seq },
        op,
        chans: cs,
        closedAtStart: cs.every((c) => closed[c]),
        outcome: "pending"
      }
      puts.set(keyOf(rec.v), rec)
      return rec
    }

    /** Runs one operation in its own fiber (the controller interrupts that fiber) and returns its Exit. */
    const runOp = <A>(w: number, effect: Effect.Effect<A>) =>
      Effect.gen(function* () {
        const fiber = yield* Effect.forkChild(effect, { startImmediately: true })
        current[w] = fiber
        const exit = yield* Fiber.await(fiber)
        current[w] = undefined
        return exit
      })

    const worker = (w: number, ops: ReadonlyArray<WorkerOp>) =>
      Effect.gen(function* () {
        let seq = 0
        for (const op of ops) {
          events++
          if (op.tag === "yield") {
            for (let i = 0; i < op.n; i++) yield* Effect.yieldNow
            continue
          }
          if (op.tag === "put" || op.tag === "offer") {
            const c = op.chan % nChans
            const rec = newPut(w, seq++, `${op.tag}(c${c})`, [c])
            const exit = yield* runOp(w, (op.tag === "put" ? Chan.put : Chan.offer)(chans[c], rec.v))
            if (Exit.isSuccess(exit)) {
              rec.outcome = exit.value ? "accepted" : "rejected"
              if (exit.value) rec.chan = c
            } else if (isInterrupted(exit)) {
              rec.outcome = "interrupted"
              stats.interruptedPuts++
            } else {
              rec.outcome = "failed"
              violations.push(`${rec.op} of ${keyOf(rec.v)} failed: ${String(exit.cause)}`)
            }
            continue
          }
          if (op.tag === "take" || op.tag === "poll") {
            const c = op.chan % nChans
            const name = `${op.tag}(c${c})`
            const afterNone = noneSeen[c]
            const exit = yield* runOp(w, (op.tag === "take" ? Chan.take : Chan.poll)(chans[c]))
            if (Exit.isSuccess(exit)) {
              if (Option.isSome(exit.value)) recordTake(exit.value.value, c, w, name, afterNone)
              else if (op.tag === "take") recordNone(c, w, name)
            } else if (isInterrupted(exit)) {
              stats.interruptedTakes++
            } else {
              violations.push(`worker ${w} ${name} failed: ${String(exit.cause)}`)
            }
            continue
          }
          // select: every put case offers the same value; exactly one case may commit
          const putChans = op.puts.map((c) => c % nChans)
          const takeChans = op.takes.map((c) => c % nChans)
          const name = `select(put ${putChans.map((c) => `c${c}`).join(",")}; take ${takeChans.map((c) => `c${c}`).join(",")}${op.priority ? "; priority" : ""})`
          const rec = putChans.length > 0 ? newPut(w, seq++, name, putChans) : undefined
          const afterNone = takeChans.map((c) => noneSeen[c])
          const cases = [
            ...putChans.map((c) =>
              Chan.onPut(chans[c], rec!.v, (accepted): SelectResult => ({ side: "put", chan: c, accepted }))
            ),
            ...takeChans.map((c) => Chan.onTake(chans[c], (value): SelectResult => ({ side: "take", chan: c, value })))
          ]
          const exit = yield* runOp(w, Chan.select(cases, { priority: op.priority }))
          if (Exit.isSuccess(exit)) {
            const r = exit.value
            if (r.side === "put") {
              rec!.outcome = r.accepted ? "accepted" : "rejected"
              if (r.accepted) rec!.chan = r.chan
            } else {
              if (rec !== undefined) rec.outcome = "notChosen"
              if (Option.isSome(r.value))
                recordTake(r.value.value, r.chan, w, name, afterNone[takeChans.indexOf(r.chan)])
              else recordNone(r.chan, w, name)
            }
          } else if (isInterrupted(exit)) {
            stats.interruptedSelects++
            if (rec !== undefined) rec.outcome = "interrupted"
          } else {
            if (rec !== undefined) rec.outcome = "failed"
            violations.push(`worker ${w} ${name} failed: ${String(exit.cause)}`)
          }
        }
      })

    const controller = Effect.gen(function* () {
      for (const { wait, action } of program.controller) {
        for (let i = 0; i < wait; i++) yield* Effect.yieldNow
        events++
        if (action === null) continue
        if (action.tag === "close") {
          const c = action.chan % nChans
          Chan.closeUnsafe(chans[c])
          closed[c] = true
        } else if (action.tag === "interrupt") {
          const fiber = current[action.worker % nWorkers]
          if (fiber !== undefined) yield* Fiber.interrupt(fiber)
        } else {
          const first = current[action.first % nWorkers]
          const then = action.then % nWorkers
          if (first === undefined) continue
          // the interrupt is raised in the very callback that reports `first`'s end, so it can land
          // while some other fiber is in the middle of the step that ended `first`
          yield* Effect.callback<void>((resume) => {
            first.addObserver(() => {
              const target = current[then]
              if (target !== undefined && target !== first) {
                stats.raceInterrupts++
                target.interruptUnsafe()
              }
              resume(Effect.void)
            })
          })
        }
      }
    })

    const workers: Array<Fiber.Fiber<void>> = []
    for (let w = 0; w < nWorkers; w++) workers.push(yield* Effect.forkChild(worker(w, workerOps[w])))
    const ctl = yield* Effect.forkChild(controller)
    const fibers: Array<Fiber.Fiber<void>> = [...workers, ctl]
    const allDone = () => fibers.every((f) => f.pollUnsafe() !== undefined)

    // run until everything ended or nothing happened for a while (all blocked)
    let last = -1
    let still = 0
    for (let round = 0; !allDone() && still < 10 && round < 2000; round++) {
      yield* Effect.yieldNow
      if (events === last) still++
      else {
        still = 0
        last = events
      }
    }

    // end: close every channel, then drain (polls) or discard until every fiber ended
    const drainOnce = Effect.gen(function* () {
      for (let c = 0; c < nChans; c++) {
        if (program.end === "discard") {
          for (const v of yield* Chan.discard(chans[c])) discarded.push({ v, chan: c })
        } else {
          for (let o = Chan.pollUnsafe(chans[c]); Option.isSome(o); o = Chan.pollUnsafe(chans[c])) {
            recordTake(o.value, c, -1, "drain", false)
          }
        }
      }
    })
    for (let c = 0; c < nChans; c++) {
      Chan.closeUnsafe(chans[c])
      closed[c] = true
    }
    let rounds = 0
    while (!allDone()) {
      yield* drainOnce
      yield* Effect.yieldNow
      if (++rounds > 2000) {
        violations.push(
          `fibers still running after the channels were closed and drained: ${fibers
            .map((f, i) => `${i < nWorkers ? `worker ${i}` : "controller"}: ${showExit(f.pollUnsafe())}`)
            .join(", ")}; pending ${JSON.stringify(chans.map(pending))}`
        )
        yield* Fiber.interruptAll(fibers)
        break
      }
    }
    // whatever is left (a value given back after the last drain) goes to onUndelivered
    for (let c = 0; c < nChans; c++) {
      for (const v of yield* Chan.discard(chans[c])) discarded.push({ v, chan: c })
    }
    for (let i = 0; i < fibers.length; i++) {
      const exit = fibers[i].pollUnsafe()
      if (exit === undefined || !Exit.isSuccess(exit)) {
        violations.push(`${i < nWorkers ? `worker ${i}` : "controller"} ended ${showExit(exit)}`)
      }
    }
    for (let c = 0; c < nChans; c++) {
      const p = pending(chans[c])
      if (p.puts !== 0 || p.takes !== 0) violations.push(`c${c} still has pending handlers ${JSON.stringify(p)}`)
    }
    return { puts, takes, undelivered, discarded, violations, stats }
  }).pipe(withMaxOps(program.maxOps))

/**
 * Checks a trace against the contract. `fifo`: FIFO per producer per channel, as seen by each
 * consumer (rendezvous and fixed channels only).
 */
const checkTrace = (trace: Trace, options: { readonly fifo: boolean }): Array<string> => {
  const out = [...trace.violations]
  const seen = new Map<string, Array<{ readonly chan: number; readonly how: string }>>()
  const note = (v: Val, chan: number, how: string) => {
    const k = keyOf(v)
    const list = seen.get(k)
    if (list === undefined) seen.set(k, [{ chan, how }])
    else list.push({ chan, how })
  }
  for (const t of trace.takes) {
    const rec = trace.puts.get(keyOf(t.v))
    if (rec === undefined || rec.v !== t.v)
      out.push(`${t.op} by worker ${t.by} on c${t.chan} got ${keyOf(t.v)}, never put`)
    else if (!rec.chans.includes(t.chan)) out.push(`${keyOf(t.v)} was put on ${rec.chans} but taken from c${t.chan}`)
    note(t.v, t.chan, `taken from c${t.chan} by ${t.by === -1 ? "the drain" : `worker ${t.by}`} (${t.op})`)
  }
  for (const u of trace.undelivered) {
    const rec = trace.puts.get(keyOf(u.v))
    if (rec === undefined || rec.v !== u.v) out.push(`onUndelivered(${keyOf(u.v)}) on c${u.chan}: never put`)
    else if (!rec.chans.includes(u.chan))
      out.push(`${keyOf(u.v)} was put on ${rec.chans} but undelivered on c${u.chan}`)
    note(u.v, u.chan, `onUndelivered on c${u.chan}`)
  }
  for (const d of trace.discarded) {
    if (!trace.undelivered.some((u) => u.v === d.v && u.chan === d.chan)) {
      out.push(`discard(c${d.chan}) returned ${keyOf(d.v)} without passing it to onUndelivered`)
    }
  }
  for (const [k, rec] of trace.puts) {
    const endings = seen.get(k) ?? []
    const ends = endings.map((e) => e.how)
    const what = `${rec.op} of ${k} (${rec.outcome}${rec.closedAtStart ? ", started after close" : ""})`
    switch (rec.outcome) {
      case "accepted":
        if (ends.length !== 1) out.push(`${what} ended ${ends.length} times: [${ends.join("; ")}]`)
        else if (endings[0].chan !== rec.chan) out.push(`${what} accepted on c${rec.chan} but ${ends[0]}`)
        if (rec.closedAtStart) out.push(`${what}: accepted by a channel closed before the put started`)
        break
      case "rejected":
      case "notChosen":
        if (ends.length !== 0) out.push(`${what} was not delivered, yet: [${ends.join("; ")}]`)
        break
      case "interrupted":
        // never lost, never twice: at most once (a taker had it before the putter resumed)
        if (ends.length > 1) out.push(`${what} ended ${ends.length} times: [${ends.join("; ")}]`)
        break
      case "pending":
      case "failed":
        if (ends.length > 1) out.push(`${what} ended ${ends.length} times: [${ends.join("; ")}]`)
        break
    }
  }
  if (options.fifo) {
    // a consumer never receives, from one channel, a producer's value after a later one of the same producer
    const lastSeq = new Map<string, { s: number; op: string }>()
    for (const t of trace.takes) {
      const k = `${t.by}/${t.chan}/${t.v.p}`
      const prev = lastSeq.get(k)
      if (prev !== undefined && prev.s >= t.v.s) {
        out.push(
          `FIFO: ${t.by === -1 ? "the drain" : `worker ${t.by}`} took ${keyOf(t.v)} (${t.op}) from c${t.chan} after ${t.v.p}.${prev.s} (${prev.op})`
        )
      }
      lastSeq.set(k, { s: t.v.s, op: t.op })
    }
  }
  return out
}

const describeProgram = (program: Program, table: ReadonlyArray<Kind>): string =>
  JSON.stringify({ ...program, chans: program.chans.map((k) => table[k].name) })

const modelProperty = (table: ReadonlyArray<Kind>, options: { readonly fifo: boolean }, totals: Stats) =>
  fc.asyncProperty(programArb(table.length), async (program) => {
    const trace = await runSeeded(program.seed, runProgram(program, table))
    for (const key of Object.keys(totals) as Array<keyof Stats>) totals[key] += trace.stats[key]
    for (const rec of trace.puts.values()) {
      if (rec.outcome === "accepted") totals.accepted++
      if (rec.outcome === "interrupted" && trace.takes.some((t) => t.v === rec.v)) totals.deliveredAfterInterrupt++
    }
    const violations = checkTrace(trace, options)
    if (violations.length > 0) {
      throw new Error(
        `${violations.length} violation(s):\n  ${violations.join("\n  ")}\nprogram: ${describeProgram(program, table)}`
      )
    }
  })

describe("model: random programs of puts, takes, offers, polls, selects, closes and interrupts", () => {
  it("FIFO kinds (rendezvous, fixed(1), fixed(3)): nothing lost, duplicated or invented; FIFO per producer; close semantics", async () => {
    const totals = newStats()
    await fc.assert(modelProperty(fifoKinds, { fifo: true }, totals), {
      numRuns: Number(process.env.MODEL_RUNS ?? 500),
      endOnFailure: true
    })
    // the property is not vacuous: values moved, and operations of every kind were interrupted
    expect(totals.taken).toBeGreaterThan(2000)
    expect(totals.interruptedTakes).toBeGreaterThan(50)
    expect(totals.interruptedPuts).toBeGreaterThan(50)
    expect(totals.interruptedSelects).toBeGreaterThan(50)
    expect(totals.closedTakes).toBeGreaterThan(50)
    expect(totals.raceInterrupts).toBeGreaterThan(50)
  })

  it("all queue kinds (with dropping(2), sliding(2)): accepted = taken + undelivered, each exactly once", async () => {
    const totals = newStats()
    await fc.assert(modelProperty(queueKinds, { fifo: false }, totals), {
      numRuns: Number(process.env.MODEL_RUNS ?? 300),
      endOnFailure: true
    })
    expect(totals.taken).toBeGreaterThan(1000)
    expect(totals.interruptedTakes + totals.interruptedSelects).toBeGreaterThan(50)
  })
})
