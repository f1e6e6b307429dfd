/**
 * Model-based tests of the channel core under concurrency and interruption.
 *
 * 1. Random programs (fast-check) of puts, takes, offers, polls, selects, closes and interrupts issued
 *    from several fibers, checked against the contract: no value lost, none duplicated, none invented,
 *    FIFO per producer, close semantics, no handler left registered; and the fair hand-off, watched
 *    inside the state machine while the program runs: pending takes and puts are served in arrival
 *    order, and no take, poll or put completes at once ahead of one still waiting.
 * 2. Interrupt-at-every-step: an operation's scheduler steps are counted once, then it is run again
 *    and interrupted after each step in turn; whatever the step, the value is observed by the
 *    operation or still takeable, exactly once, and no handler is left registered.
 * 3. Interrupts that land inside the step of an operation (raised by a fiber that the operation
 *    itself resumed, as `Effect.race` does).
 * 4. A value handed to a take that is interrupted before its fiber runs again: order and close
 *    semantics as if it had never left the channel.
 *
 * Interleavings come from `Scheduler.MaxOpsBeforeYield` set to 3..6 (a fiber yields every few
 * operations; 1 and 2 make effect 4.1's run loop yield before every resumed step, so nothing ever
 * runs) and fast-check-chosen `yieldNow` counts. `Math.random` (used by `select`) is replaced by a
 * seeded generator during each run, so a run is determined by its fast-check input.
 */
import { Effect, Exit, Fiber, Option } from "effect"
import * as Scheduler from "effect/Scheduler"
import fc from "fast-check"
import { describe, expect, it, vi } from "vitest"
import { Chan, Xform } from "../src/index.js"
import { ChanCore, CLOSED, type Node, type NodeQueue, PENDING } from "../src/internal/channel.js"
import { fifoKinds, isInterrupted, type Kind, kinds, pending, run } from "./harness.js"

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

/** Whether `value` is still offered by a pending (registered, uncommitted) put on `ch`. */
const isQueuedPut = (ch: Chan.WritePort<never> | Chan.ReadPort<unknown>, value: unknown): boolean => {
  for (let node = (ch as unknown as ChanCore).putters.first; node !== undefined; node = node.next) {
    if (node.value === value) return true
  }
  return false
}

const showExit = (exit: Exit.Exit<unknown, unknown> | undefined): string =>
  exit === undefined
    ? "running"
    : Exit.isSuccess(exit)
      ? `success(${JSON.stringify(exit.value, (_k, v) => (typeof v === "symbol" ? String(v) : v))})`
      : isInterrupted(exit)
        ? "interrupted"
        : `failure(${String(exit.cause)})`

/** The kinds whose every accepted value is taken once or passed to `onUndelivered` once (all but promise). */
const queueKinds = kinds.filter((k) => k.policy !== "promise")

/**
 * Fixed channels with a stateful xform that batches (its completion step flushes the last batch):
 * what they deliver is batches of the values put, which the model flattens (`valuesIn`). Closing
 * one while puts are pending must deliver those values in the last batches, never lose them.
 */
type Batching = Chan.Options<Val | Array<Val>>
const batchingKinds: ReadonlyArray<Kind> = [
  {
    name: "fixed(1) partitionAll(2)",
    policy: "fixed",
    capacity: 1,
    make: (o) => Chan.makeUnsafe(1, { ...(o as Batching), xform: Xform.partitionAll<Val>(2) }) as never
  },
  {
    name: "fixed(3) partitionBy(producer)",
    policy: "fixed",
    capacity: 3,
    make: (o) => Chan.makeUnsafe(3, { ...(o as Batching), xform: Xform.partitionBy((v: Val) => v.p) }) as never
  }
]

/** The values put that a delivered value holds: itself, or those of a batch (`batchingKinds`). */
const valuesIn = (x: Val | ReadonlyArray<Val>): ReadonlyArray<Val> => (Array.isArray(x) ? x : [x as Val])

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

/** What the controller does after `wait` yields. Workers are picked among those running an operation. */
type Action =
  | { readonly tag: "interrupt"; readonly worker: number }
  | { readonly tag: "close"; readonly chan: number }
  /**
   * Arms a trigger: when `first`'s current operation ends, interrupt at once, in that same step, the current
   * operations of every worker of the other group (consumers if `first` is a producer, and vice
   * versa), as a race interrupts its losers. The interrupt may land while one of them is in the
   * middle of the step that ended `first`'s operation.
   */
  | { readonly tag: "raceInterrupt"; readonly first: number }

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
  { weight: 3, arbitrary: fc.record({ tag: fc.constant("raceInterrupt" as const), first: workerIx }) },
  { weight: 1, arbitrary: fc.constant(null) }
)

const programArb = (kindCount: number): fc.Arbitrary<Program> =>
  fc.record({
    chans: fc.array(fc.nat({ max: kindCount - 1 }), { minLength: 1, maxLength: 3 }),
    maxOps: fc.constantFrom(3, 4, 5, 6),
    seed: fc.integer(),
    producers: fc.array(fc.array(producerOp, { minLength: 1, maxLength: 7 }), { minLength: 2, maxLength: 4 }),
    consumers: fc.array(fc.array(consumerOp, { minLength: 1, maxLength: 7 }), { minLength: 1, maxLength: 3 }),
    controller: fc.array(fc.record({ wait: fc.nat({ max: 4 }), action }), { maxLength: 12 }),
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
  /** It was still offered by a registered, uncommitted put when the interrupt was raised. */
  queuedAtInterrupt?: boolean
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
  taken: number
  closedTakes: number
  raceInterrupts: number
}

const newStats = (): Stats => ({
  interruptedPuts: 0,
  interruptedTakes: 0,
  interruptedSelects: 0,
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
      table[k].make<Val>({
        name: `c${i}`,
        onUndelivered: (x) => {
          for (const v of valuesIn(x)) undelivered.push({ v, chan: i })
        }
      })
    )
    const workerOps = [...program.producers, ...program.consumers]
    const nWorkers = workerOps.length
    const current: Array<Fiber.Fiber<unknown> | undefined> = workerOps.map(() => undefined)
    /** The value the current operation of each worker offers, if it puts. */
    const currentPut: Array<PutRecord | undefined> = workerOps.map(() => undefined)
    /** Interrupts worker `w`'s current operation, noting whether its value was still waiting to be taken. */
    const interruptOp = (w: number, fiber: Fiber.Fiber<unknown>) => {
      const rec = currentPut[w]
      if (rec !== undefined && fiber.pollUnsafe() === undefined) {
        rec.queuedAtInterrupt = rec.chans.some((c) => isQueuedPut(chans[c], rec.v))
      }
      fiber.interruptUnsafe()
    }
    let events = 0

    const recordTake = (taken: Val, chan: number, by: number, op: string, startedAfterNone: boolean) => {
      for (const v of valuesIn(taken)) {
        stats.taken++
        takes.push({ v, chan, by, op, startedAfterNone })
        if (startedAfterNone) {
          violations.push(`worker ${by} ${op} on c${chan} got ${keyOf(v)} although a take had already seen None`)
        }
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
    const runOp = <A>(w: number, effect: Effect.Effect<A>, put?: PutRecord) =>
      Effect.gen(function* () {
        currentPut[w] = put
        // scheduled, not started at once: `current[w]` is set before the operation's first step
        const fiber = yield* Effect.forkChild(effect)
        current[w] = fiber
        const exit = yield* Fiber.await(fiber)
        current[w] = undefined
        currentPut[w] = undefined
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
            const exit = yield* runOp(w, (op.tag === "put" ? Chan.put : Chan.offer)(chans[c], rec.v), rec)
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
          const exit = yield* runOp(w, Chan.select(cases, { priority: op.priority }), rec)
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
          closed[c] = true
          Chan.closeUnsafe(chans[c])
        } else {
          const busy = current.flatMap((f, w) => (f === undefined ? [] : [w]))
          if (busy.length === 0) continue
          if (action.tag === "interrupt") {
            const w = busy[action.worker % busy.length]
            const fiber = current[w]!
            interruptOp(w, fiber)
            yield* Fiber.await(fiber)
            continue
          }
          const f = busy[action.first % busy.length]
          const first = current[f]!
          const nProducers = program.producers.length
          const losers =
            f < nProducers
              ? workerOps.map((_, w) => w).slice(nProducers)
              : workerOps.map((_, w) => w).slice(0, nProducers)
          // armed, not awaited: several may be armed at once
          first.addObserver(() => {
            for (const w of losers) {
              const target = current[w]
              if (target !== undefined && target.pollUnsafe() === undefined) {
                stats.raceInterrupts++
                interruptOp(w, target)
              }
            }
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
          for (const v of (yield* Chan.discard(chans[c])).flatMap(valuesIn)) discarded.push({ v, chan: c })
        } else {
          for (let o = Chan.pollUnsafe(chans[c]); Option.isSome(o); o = Chan.pollUnsafe(chans[c])) {
            recordTake(o.value, c, -1, "drain", false)
          }
        }
      }
    })
    for (let c = 0; c < nChans; c++) {
      closed[c] = true
      Chan.closeUnsafe(chans[c])
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
      for (const v of (yield* Chan.discard(chans[c])).flatMap(valuesIn)) discarded.push({ v, chan: c })
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
        // never lost, never twice: at most once, and only if it had been handed over before the
        // interrupt landed (a put still waiting then is withdrawn)
        if (ends.length > 1) out.push(`${what} ended ${ends.length} times: [${ends.join("; ")}]`)
        else if (ends.length === 1 && rec.queuedAtInterrupt === true) {
          out.push(`${what} was still waiting when interrupted, yet it was delivered: ${ends[0]}`)
        }
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

/** How often the fairness probe saw a pending node served, and an operation arrive while others waited. */
interface ProbeCounts {
  served: number
  arrivedWhileWaiting: number
}

/**
 * Watches the state machine while a program runs (spies on `ChanCore` and `NodeQueue`), recording
 * every breach of the fair hand-off in `violations`:
 * - a pending take or put (registered by `enqueueTake`/`enqueuePut`) is served only when no take
 *   (put) registered before it on that channel still waits (withdrawals may remove any node);
 * - a take, poll or select take case never completes with a value at once while an earlier take is
 *   still waiting afterwards, and a take never while a woken taker is on its way back (`owed`);
 * - a put or offer never completes at once while an earlier put is still waiting afterwards.
 * Returns the function that removes the spies.
 */
const watchFairness = (violations: Array<string>, counts: ProbeCounts): (() => void) => {
  const proto = ChanCore.prototype
  const { tryTake, tryPoll, tryPut, enqueueTake, enqueuePut } = proto
  /** The arrival order of the pending nodes. */
  const arrival = new WeakMap<Node, number>()
  let arrivals = 0
  const stillWaiting = (node: Node | undefined, queue: NodeQueue) => node?.flag.active === true && node.queue === queue
  const isValue = (result: unknown) => result !== PENDING && result !== CLOSED
  const servedInTurn = (side: string, core: ChanCore, queue: NodeQueue, node: Node) => {
    const seq = arrivals++
    arrival.set(node, seq)
    const done = node.done
    ;(node as { done: (result: unknown) => void }).done = (result) => {
      counts.served++
      for (let other = queue.first; other !== undefined; other = other.next) {
        if ((arrival.get(other) ?? Infinity) < seq && other.flag.active) {
          violations.push(`${core.name}: a pending ${side} was served while an earlier ${side} still waited`)
          break
        }
      }
      done(result)
    }
  }
  const spies = [
    vi.spyOn(proto, "enqueueTake").mockImplementation(function (this: ChanCore, node: Node) {
      servedInTurn("take", this, this.takers, node)
      enqueueTake.call(this, node)
    }),
    vi.spyOn(proto, "enqueuePut").mockImplementation(function (this: ChanCore, node: Node) {
      servedInTurn("put", this, this.putters, node)
      enqueuePut.call(this, node)
    }),
    vi.spyOn(proto, "tryTake").mockImplementation(function (this: ChanCore) {
      const waiting = this.takers.first
      const owed = this.owed
      const result = tryTake.call(this)
      if (waiting !== undefined || owed > 0) counts.arrivedWhileWaiting++
      if (isValue(result) && stillWaiting(waiting, this.takers)) {
        violations.push(`${this.name}: a take got a value at once while an earlier take still waited`)
      }
      if (isValue(result) && owed > 0) {
        violations.push(`${this.name}: a take got a value at once while ${owed} woken taker(s) were on their way`)
      }
      return result
    }),
    vi.spyOn(proto, "tryPoll").mockImplementation(function (this: ChanCore) {
      const waiting = this.takers.first
      const result = tryPoll.call(this)
      if (isValue(result) && stillWaiting(waiting, this.takers)) {
        violations.push(`${this.name}: a poll got a value while an earlier take still waited`)
      }
      return result
    }),
    vi.spyOn(proto, "tryPut").mockImplementation(function (this: ChanCore, value: unknown) {
      const waiting = this.putters.first
      const result = tryPut.call(this, value)
      if (waiting !== undefined) counts.arrivedWhileWaiting++
      if (result === true && stillWaiting(waiting, this.putters)) {
        violations.push(`${this.name}: a put completed at once while an earlier put still waited`)
      }
      return result
    })
  ]
  return () => {
    for (const spy of spies) spy.mockRestore()
  }
}

const probeCounts: ProbeCounts = { served: 0, arrivedWhileWaiting: 0 }

const modelProperty = (table: ReadonlyArray<Kind>, options: { readonly fifo: boolean }, totals: Stats) =>
  fc.asyncProperty(programArb(table.length), async (program) => {
    const fairness: Array<string> = []
    const unwatch = watchFairness(fairness, probeCounts)
    let trace: Trace
    try {
      trace = await runSeeded(program.seed, runProgram(program, table))
    } finally {
      unwatch()
    }
    for (const key of Object.keys(totals) as Array<keyof Stats>) totals[key] += trace.stats[key]
    const violations = [...checkTrace(trace, options), ...fairness]
    if (violations.length > 0) {
      throw new Error(
        `${violations.length} violation(s):\n  ${violations.join("\n  ")}\nprogram: ${describeProgram(program, table)}`
      )
    }
  })

describe("model: random programs of puts, takes, offers, polls, selects, closes and interrupts", () => {
  it("FIFO kinds (rendezvous, fixed(1), fixed(3)): nothing lost, duplicated or invented; FIFO per producer; close semantics", async () => {
    const totals = newStats()
    await fc.assert(modelProperty(fifoKinds, { fifo: true }, totals), { numRuns: 1500 })
    // the property is not vacuous: values moved, and operations of every kind were interrupted
    expect(totals.taken).toBeGreaterThan(2000)
    expect(totals.interruptedTakes).toBeGreaterThan(50)
    expect(totals.interruptedPuts).toBeGreaterThan(50)
    expect(totals.interruptedSelects).toBeGreaterThan(50)
    expect(totals.closedTakes).toBeGreaterThan(50)
    expect(totals.raceInterrupts).toBeGreaterThan(50)
    // the fairness probe saw pending operations served, and operations arriving while others waited
    expect(probeCounts.served).toBeGreaterThan(2000)
    expect(probeCounts.arrivedWhileWaiting).toBeGreaterThan(500)
  })

  it("batching xforms (partitionAll, partitionBy) with the FIFO kinds: nothing lost at a close with puts pending; FIFO per producer", async () => {
    const totals = newStats()
    await fc.assert(modelProperty([...batchingKinds, ...fifoKinds], { fifo: true }, totals), { numRuns: 600 })
    expect(totals.taken).toBeGreaterThan(1000)
    expect(totals.interruptedPuts + totals.interruptedSelects).toBeGreaterThan(50)
    expect(totals.closedTakes).toBeGreaterThan(20)
  })

  it("all queue kinds (with dropping(2), sliding(2)): accepted = taken + undelivered, each exactly once", async () => {
    const totals = newStats()
    await fc.assert(modelProperty(queueKinds, { fifo: false }, totals), { numRuns: 600 })
    expect(totals.taken).toBeGreaterThan(1000)
    expect(totals.interruptedTakes + totals.interruptedSelects).toBeGreaterThan(50)
  })
})

// ── 2. interrupt at every step ──────────────────────────────────────────────

/** Where an interrupt-at-every-step scenario runs: which channel kind, how the fibers are staggered. */
interface Setup {
  readonly kind: Kind
  readonly maxOps: number
  /** The operation's fiber is forked before its counterpart's. */
  readonly targetFirst: boolean
  /** Extra operations before the operation, and yields before its counterpart (they move the interleaving). */
  readonly offTarget: number
  readonly offOther: number
}

interface StepResult {
  /** How many driver steps the operation took (when not interrupted). */
  readonly steps: number
  readonly interrupted: boolean
}

/** A scenario run with an interrupt after `k` driver steps (`undefined`: never). It asserts by itself. */
type Scenario = (setup: Setup, k: number | undefined) => Effect.Effect<StepResult>

/** `effect` after `n` more operations of its fiber. */
const after = <A, E>(n: number, effect: Effect.Effect<A, E>): Effect.Effect<A, E> => {
  let e = effect
  for (let i = 0; i < n; i++) e = Effect.andThen(Effect.void, e)
  return e
}

/**
 * The driver: yields until `target` ended, or, after `k` yields, interrupts it (and waits for its
 * end); `snapshot` records what had happened just before the interrupt.
 */
const drive = <A, S>(target: Fiber.Fiber<A>, k: number | undefined, snapshot: () => S) =>
  Effect.gen(function* () {
    let steps = 0
    let before: S | undefined
    while (target.pollUnsafe() === undefined) {
      if (steps === k) {
        before = snapshot()
        yield* Fiber.interrupt(target)
        break
      }
      yield* Effect.yieldNow
      if (++steps > 10_000) throw new Error("the operation never ended")
    }
    return { steps, before, exit: target.pollUnsafe()! }
  })

/** Yields until every fiber of `fibers` ended, running `between` at every turn (to take what they offer). */
const settleWhile = (fibers: ReadonlyArray<Fiber.Fiber<unknown, unknown>>, between: () => void) =>
  Effect.gen(function* () {
    for (let n = 0; fibers.some((f) => f.pollUnsafe() === undefined); n++) {
      between()
      yield* Effect.yieldNow
      if (n > 10_000) throw new Error("a counterpart never ended")
    }
    between()
  })

/** Takes everything takeable now from `ch` into `into`. */
const pollAll = <A>(ch: Chan.Chan<A>, into: Array<A>) => {
  for (let o = Chan.pollUnsafe(ch); Option.isSome(o); o = Chan.pollUnsafe(ch)) into.push(o.value)
}

/** `effect` after `n` yields of its fiber. */
const later = <A, E>(n: number, effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  n === 0 ? effect : Effect.andThen(Effect.yieldNow, later(n - 1, effect))

/**
 * Forks `target` (after `offTarget` more operations) and its counterparts (after `offOther` yields)
 * in the setup's order; they yield every `maxOps` operations (the driver, every 2048).
 */
const forkAll = <A, B>(setup: Setup, target: Effect.Effect<A>, others: ReadonlyArray<Effect.Effect<B>>) =>
  Effect.gen(function* () {
    const small = withMaxOps(setup.maxOps)
    const forkOthers = Effect.forEach(others, (other) => Effect.forkChild(small(later(setup.offOther, other))))
    const forkTarget = Effect.forkChild(small(after(setup.offTarget, target)))
    if (setup.targetFirst) {
      const t = yield* forkTarget
      return [t, yield* forkOthers] as const
    }
    const o = yield* forkOthers
    return [yield* forkTarget, o] as const
  })

/** `forkAll` with one counterpart. */
const forkPair = <A, B>(setup: Setup, target: Effect.Effect<A>, other: Effect.Effect<B>) =>
  Effect.map(forkAll(setup, target, [other]), ([t, [o]]) => [t, o] as const)

const successValue = <A>(exit: Exit.Exit<A, unknown> | undefined): A => {
  if (exit === undefined || !Exit.isSuccess(exit)) throw new Error(`expected a success, got ${showExit(exit)}`)
  return exit.value
}

/** Channels of a kind, with their `onUndelivered` calls recorded; `prefill` fills each buffer with `${name}0`. */
const makeChans = (kind: Kind, names: ReadonlyArray<string>, prefill: boolean) => {
  const undelivered: Array<string> = []
  const chans = names.map((name) => {
    const ch = kind.make<string>({ name, onUndelivered: (v) => undelivered.push(v) })
    if (prefill) for (let i = 0; i < kind.capacity; i++) expect(Chan.offerUnsafe(ch, `${name}${i}`)).toBe(true)
    return ch
  })
  const prefilled = (i: number) => (prefill ? Array.from({ length: kind.capacity }, (_, j) => `${names[i]}${j}`) : [])
  /** Checks that nothing is left to take, no handler is left registered and nothing went to onUndelivered. */
  const finish = () => {
    for (const ch of chans) {
      const left: Array<string> = []
      pollAll(ch, left)
      expect(left, "values left in a channel after everything was taken").toEqual([])
      Chan.closeUnsafe(ch)
      expect(pending(ch), "a handler was left registered").toEqual({ puts: 0, takes: 0 })
    }
    expect(undelivered, "values passed to onUndelivered").toEqual([])
  }
  return { chans, prefilled, finish }
}

/**
 * take (target) against put (counterpart). With `prefill` (buffered kinds) the buffer is full and the
 * put waits: the take pulls it in.
 */
const takeScenario =
  (prefill: boolean): Scenario =>
  (setup, k) =>
    Effect.gen(function* () {
      const { chans, prefilled, finish } = makeChans(setup.kind, ["c"], prefill)
      const [ch] = chans
      const [target, putter] = yield* forkPair(setup, Chan.take(ch), Chan.put(ch, "p"))
      const { steps, exit } = yield* drive(target, k, () => undefined)
      const drained: Array<string> = []
      yield* settleWhile([putter], () => pollAll(ch, drained))
      expect(successValue(putter.pollUnsafe()), "the put").toBe(true)
      const got: Array<string> = []
      if (Exit.isSuccess(exit)) got.push(Option.getOrThrowWith(exit.value, () => new Error("None on an open channel")))
      else expect(isInterrupted(exit), showExit(exit)).toBe(true)
      // every value exactly once, in FIFO order: an interrupted take consumed nothing
      expect([...got, ...drained], `take ended ${showExit(exit)}`).toEqual([...prefilled(0), "p"])
      finish()
      return { steps, interrupted: !Exit.isSuccess(exit) }
    })

/**
 * put (target) against take (counterpart). If the put ends interrupted, its value is delivered at
 * most once, and only in the documented window: it had already been handed over (to a taker, or into
 * the buffer by a take that made room) when the interrupt landed, and the putter had not run since.
 * A put still registered, waiting, when the interrupt lands is withdrawn and delivers nothing.
 */
const putScenario =
  (prefill: boolean): Scenario =>
  (setup, k) =>
    Effect.gen(function* () {
      const { chans, prefilled, finish } = makeChans(setup.kind, ["c"], prefill)
      const [ch] = chans
      const [target, taker] = yield* forkPair(setup, Chan.put(ch, "p"), Chan.take(ch))
      const { steps, exit, before } = yield* drive(target, k, () => ({
        taker: taker.pollUnsafe(),
        queued: isQueuedPut(ch, "p"),
        ...pending(ch)
      }))
      Chan.closeUnsafe(ch) // a put still pending stays takeable; the taker sees None once drained
      const drained: Array<string> = []
      yield* settleWhile([taker], () => pollAll(ch, drained))
      const taken = successValue(taker.pollUnsafe())
      const all = [...Option.toArray(taken), ...drained]
      const pCount = all.filter((v) => v === "p").length
      expect(
        all.filter((v) => v !== "p"),
        "the buffered values"
      ).toEqual(prefilled(0))
      if (Exit.isSuccess(exit)) {
        expect(exit.value).toBe(true)
        expect(pCount, "an accepted value is delivered exactly once").toBe(1)
      } else {
        expect(isInterrupted(exit), showExit(exit)).toBe(true)
        expect(pCount, "an interrupted put's value is delivered at most once").toBeLessThanOrEqual(1)
        // the documented window: the put had committed (its value was handed over) before the interrupt
        // landed, and the putter had not run since. A put still waiting when interrupted is withdrawn.
        if (pCount === 1) {
          expect(
            before?.queued,
            `the put was still waiting when interrupted, yet its value was delivered (${Option.contains(taken, "p") ? "to the taker" : "into the channel"}) (then: taker ${showExit(before?.taker)}, ${before?.puts} put(s) and ${before?.takes} take(s) pending)`
          ).toBe(false)
        }
      }
      finish()
      return { steps, interrupted: !Exit.isSuccess(exit) }
    })

type Tagged = readonly [chan: string, result: unknown]

/** select with take cases on a and b (target) against a put on b (counterpart). */
const selectTakeScenario =
  (prefill: boolean): Scenario =>
  (setup, k) =>
    Effect.gen(function* () {
      const { chans, prefilled, finish } = makeChans(setup.kind, ["a", "b"], prefill)
      const [a, b] = chans
      const select = Chan.select([Chan.onTake(a, (o): Tagged => ["a", o]), Chan.onTake(b, (o): Tagged => ["b", o])])
      const [target, putter] = yield* forkPair(setup, select, Chan.put(b, "p"))
      const { steps, exit } = yield* drive(target, k, () => undefined)
      const fromA: Array<string> = []
      const fromB: Array<string> = []
      yield* settleWhile([putter], () => {
        pollAll(a, fromA)
        pollAll(b, fromB)
      })
      expect(successValue(putter.pollUnsafe()), "the put").toBe(true)
      if (Exit.isSuccess(exit)) {
        const [c, o] = exit.value
        const v = Option.getOrThrowWith(o as Option.Option<string>, () => new Error("None on an open channel"))
        ;(c === "a" ? fromA : fromB).unshift(v)
      } else expect(isInterrupted(exit), showExit(exit)).toBe(true)
      expect(fromA, `select ended ${showExit(exit)}`).toEqual(prefilled(0))
      expect(fromB, `select ended ${showExit(exit)}`).toEqual([...prefilled(1), "p"])
      finish()
      return { steps, interrupted: !Exit.isSuccess(exit) }
    })

/** select with put cases of one value on a and b (target) against a take on b (counterpart). */
const selectPutScenario =
  (prefill: boolean): Scenario =>
  (setup, k) =>
    Effect.gen(function* () {
      const { chans, prefilled, finish } = makeChans(setup.kind, ["a", "b"], prefill)
      const [a, b] = chans
      const select = Chan.select([
        Chan.onPut(a, "p", (ok): Tagged => ["a", ok]),
        Chan.onPut(b, "p", (ok): Tagged => ["b", ok])
      ])
      const [target, taker] = yield* forkPair(setup, select, Chan.take(b))
      const { steps, exit, before } = yield* drive(target, k, () => ({
        taker: taker.pollUnsafe(),
        queued: isQueuedPut(a, "p") || isQueuedPut(b, "p"),
        a: pending(a),
        b: pending(b)
      }))
      Chan.closeUnsafe(a)
      Chan.closeUnsafe(b)
      const fromA: Array<string> = []
      const fromB: Array<string> = []
      yield* settleWhile([taker], () => {
        pollAll(a, fromA)
        pollAll(b, fromB)
      })
      const taken = successValue(taker.pollUnsafe())
      fromB.unshift(...Option.toArray(taken))
      const pCount = [...fromA, ...fromB].filter((v) => v === "p").length
      expect(
        fromA.filter((v) => v !== "p"),
        "a's buffered values"
      ).toEqual(prefilled(0))
      expect(
        fromB.filter((v) => v !== "p"),
        "b's buffered values"
      ).toEqual(prefilled(1))
      if (Exit.isSuccess(exit)) {
        const [c, ok] = exit.value
        expect(ok).toBe(true)
        expect(
          (c === "a" ? fromA : fromB).filter((v) => v === "p"),
          `select won on ${c}`
        ).toEqual(["p"])
        expect(pCount, "the value is delivered exactly once").toBe(1)
      } else {
        expect(isInterrupted(exit), showExit(exit)).toBe(true)
        expect(pCount, "an interrupted select's value is delivered at most once").toBeLessThanOrEqual(1)
        if (pCount === 1) {
          expect(
            before?.queued,
            `the select was still waiting when interrupted, yet its put case delivered (${fromA.includes("p") ? "on a" : Option.contains(taken, "p") ? "to b's taker" : "into b"}) (then: taker ${showExit(before?.taker)}, pending on a ${JSON.stringify(before?.a)}, on b ${JSON.stringify(before?.b)})`
          ).toBe(false)
        }
      }
      finish()
      return { steps, interrupted: !Exit.isSuccess(exit) }
    })

/**
 * select with a take case on a and a put case on b (target) against a put on a and a take on b:
 * exactly one case commits, or (interrupted) nothing is consumed.
 */
const selectMixedScenario =
  (prefill: boolean): Scenario =>
  (setup, k) =>
    Effect.gen(function* () {
      const { chans, prefilled, finish } = makeChans(setup.kind, ["a", "b"], prefill)
      const [a, b] = chans
      const select = Chan.select([
        Chan.onTake(a, (o): Tagged => ["a", o]),
        Chan.onPut(b, "w", (ok): Tagged => ["b", ok])
      ])
      const [target, others] = yield* forkAll<Tagged, unknown>(setup, select, [Chan.put(a, "p"), Chan.take(b)])
      const putter = others[0] as Fiber.Fiber<boolean>
      const taker = others[1] as Fiber.Fiber<Option.Option<string>>
      const { steps, exit, before } = yield* drive(target, k, () => ({
        taker: taker.pollUnsafe(),
        queued: isQueuedPut(b, "w")
      }))
      const fromA: Array<string> = []
      const fromB: Array<string> = []
      yield* settleWhile([putter], () => pollAll(a, fromA))
      expect(successValue(putter.pollUnsafe()), "the put on a").toBe(true)
      Chan.closeUnsafe(b)
      yield* settleWhile([taker], () => pollAll(b, fromB))
      pollAll(a, fromA)
      const taken = successValue(taker.pollUnsafe())
      fromB.unshift(...Option.toArray(taken))
      const wCount = fromB.filter((v) => v === "w").length
      expect(
        fromB.filter((v) => v !== "w"),
        "b's buffered values"
      ).toEqual(prefilled(1))
      if (Exit.isSuccess(exit)) {
        const [c, r] = exit.value
        if (c === "a") {
          fromA.unshift(Option.getOrThrowWith(r as Option.Option<string>, () => new Error("None on an open channel")))
          expect(wCount, "the put case lost: its value is not delivered").toBe(0)
        } else {
          expect(r).toBe(true)
          expect(wCount, "the put case won: its value is delivered once").toBe(1)
        }
        expect(fromA, `select won on ${c}`).toEqual([...prefilled(0), "p"])
      } else {
        expect(isInterrupted(exit), showExit(exit)).toBe(true)
        expect(fromA, "an interrupted select consumed nothing").toEqual([...prefilled(0), "p"])
        expect(wCount).toBeLessThanOrEqual(1)
        if (wCount === 1) {
          expect(
            before?.queued,
            `the select was still waiting when interrupted, yet its put case delivered (taker then: ${showExit(before?.taker)})`
          ).toBe(false)
        }
      }
      finish()
      return { steps, interrupted: !Exit.isSuccess(exit) }
    })

/**
 * take (target) in line with another take, against one producer putting p1 then p2: on a buffered
 * channel the target often arrives while the other take is woken and on its way (it queues behind
 * it), and an interrupt then lands before or after it was woken. Every value is taken exactly once
 * (by a take or the final drain), the drain's values in FIFO order; an interrupted target consumed
 * nothing (a reservation it held passed on).
 */
const queuedTakeScenario =
  (prefill: boolean): Scenario =>
  (setup, k) =>
    Effect.gen(function* () {
      const { chans, prefilled, finish } = makeChans(setup.kind, ["c"], prefill)
      const [ch] = chans
      const putBoth = Effect.andThen(Chan.put(ch, "p1"), Chan.put(ch, "p2"))
      const [target, others] = yield* forkAll<Option.Option<string>, unknown>(setup, Chan.take(ch), [
        Chan.take(ch),
        putBoth
      ])
      const other = others[0] as Fiber.Fiber<Option.Option<string>>
      const putter = others[1] as Fiber.Fiber<boolean>
      const { steps, exit } = yield* drive(target, k, () => undefined)
      const drained: Array<string> = []
      yield* settleWhile([other, putter], () => pollAll(ch, drained))
      expect(successValue(putter.pollUnsafe()), "the puts").toBe(true)
      const taken = [...Option.toArray(successValue(other.pollUnsafe()))]
      if (Exit.isSuccess(exit))
        taken.push(Option.getOrThrowWith(exit.value, () => new Error("None on an open channel")))
      else expect(isInterrupted(exit), showExit(exit)).toBe(true)
      const all = [...prefilled(0), "p1", "p2"]
      expect([...taken, ...drained].sort(), `take ended ${showExit(exit)}; drained ${drained}`).toEqual([...all].sort())
      expect(drained, "the drain's values in FIFO order").toEqual(all.filter((v) => drained.includes(v)))
      finish()
      return { steps, interrupted: !Exit.isSuccess(exit) }
    })

const stepKinds = fifoKinds.filter((k) => k.capacity <= 1) // rendezvous, fixed(1)

/**
 * Runs `scenario` without an interrupt to count its steps, then once per step interrupting there,
 * for every stagger of the fibers. Collects every failure (one line each) instead of stopping at the
 * first.
 */
const everyStep = async (scenario: Scenario, kindsToRun: ReadonlyArray<Kind>, maxOps: number) => {
  const totals = { runs: 0, interrupted: 0, completed: 0 }
  const failures: Array<string> = []
  for (const kind of kindsToRun) {
    for (const targetFirst of [true, false]) {
      for (let offTarget = 0; offTarget < 3; offTarget++) {
        for (let offOther = 0; offOther < 4; offOther++) {
          const setup: Setup = { kind, maxOps, targetFirst, offTarget, offOther }
          const where = (k: number | undefined) =>
            `${kind.name}, ${targetFirst ? "target" : "counterpart"} forked first, offsets ${offTarget}/${offOther}, interrupt after ${k ?? "no"} step(s)`
          // the same seed for every run: `select`'s random choice is the same up to the interrupt
          const once = (k: number | undefined) =>
            runSeeded(0, scenario(setup, k)).then(
              (r) => r,
              (error: unknown) => {
                failures.push(`${where(k)}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`)
                return undefined
              }
            )
          const base = await once(undefined)
          if (base === undefined) continue
          expect(base.interrupted).toBe(false)
          for (let k = 0; k <= base.steps; k++) {
            const r = await once(k)
            totals.runs++
            if (r === undefined) continue
            if (r.interrupted) totals.interrupted++
            else totals.completed++
          }
        }
      }
    }
  }
  expect(
    failures.length,
    `${failures.length} of ${totals.runs} interrupted runs broke the contract, e.g.:\n  ${failures.slice(0, 4).join("\n  ")}\n`
  ).toBe(0)
  return totals
}

const buffered = stepKinds.filter((k) => k.capacity > 0)

/** The scenarios run with an interrupt at every step, each with what an interrupted run must still satisfy. */
const stepScenarios: ReadonlyArray<{
  readonly name: string
  readonly buffers: "buffer" | "buffers"
  readonly claim: string
  readonly scenario: (prefill: boolean) => Scenario
}> = [
  { name: "take", buffers: "buffer", claim: "an interrupted take consumed nothing", scenario: takeScenario },
  {
    name: "take in line with another take",
    buffers: "buffer",
    claim: "every value taken once; an interrupted take consumed nothing",
    scenario: queuedTakeScenario
  },
  { name: "put", buffers: "buffer", claim: "delivered exactly once, or not at all", scenario: putScenario },
  {
    name: "select, take cases",
    buffers: "buffers",
    claim: "an interrupted select consumed nothing",
    scenario: selectTakeScenario
  },
  {
    name: "select, put cases",
    buffers: "buffers",
    claim: "delivered exactly once, or not at all",
    scenario: selectPutScenario
  },
  {
    name: "select, a take and a put case",
    buffers: "buffers",
    claim: "one commits, or nothing",
    scenario: selectMixedScenario
  }
]

/** Each scenario runs with empty buffers on every step kind, and with full buffers on the buffered ones. */
const prefillCases = [
  { prefill: false, kinds: stepKinds },
  { prefill: true, kinds: buffered }
]

describe.each([3, 4, 5])("interrupt at every step (MaxOpsBeforeYield %i)", (maxOps) => {
  describe.each(stepScenarios)("$name", ({ buffers, claim, scenario }) => {
    it.each(prefillCases)(`(full ${buffers}: $prefill): ${claim}`, async ({ prefill, kinds: ks }) => {
      const t = await everyStep(scenario(prefill), ks, maxOps)
      expect(t.interrupted).toBeGreaterThan(10)
      expect(t.completed).toBeGreaterThan(10)
    })
  })
})

// ── 3. interrupts that land inside an operation's step ──────────────────────

/**
 * A fiber resumed by a channel operation runs on the resumer's stack, inside the operation's step:
 * if it interrupts the resumer there (as the loser of a race is interrupted), the interrupt lands
 * between "the channel changed" and "the result reached the caller". The contract still holds:
 * an interrupted take consumed nothing; an interrupted put delivered nothing, or (the documented
 * window) exactly once, to a taker.
 */
describe("interrupts raised inside the operation's step", () => {
  const oneOrFull = fifoKinds.filter((k) => k.capacity <= 1)
  /**
   * Interrupts `fiber` if it has not ended. Where the channel resumes the counterpart at once (inside
   * the operation's step, as this implementation does after a rendezvous), the interrupt lands inside
   * that step; where it resumes it later, the scenario is a plain hand-off, and the same checks hold.
   */
  const interrupt = (fiber: Fiber.Fiber<unknown, unknown> | undefined) => {
    if (fiber !== undefined && fiber.pollUnsafe() === undefined) fiber.interruptUnsafe()
  }

  it.each(oneOrFull)(
    "$name: a take that completes at once, interrupted by the putter it resumes, consumed nothing",
    (kind) =>
      run(
        Effect.gen(function* () {
          const { chans, prefilled, finish } = makeChans(kind, ["c"], true)
          const [ch] = chans
          let target: Fiber.Fiber<Option.Option<string>> | undefined
          // a put that waits (no taker, or a full buffer) and, once done, interrupts the taker
          const putter = yield* Effect.forkChild(
            Effect.tap(Chan.put(ch, "p"), () => Effect.sync(() => interrupt(target)))
          )
          for (let i = 0; i < 5 && pending(ch).puts === 0; i++) yield* Effect.yieldNow
          expect(pending(ch).puts).toBe(1)
          target = yield* Effect.forkChild(Chan.take(ch))
          const exit = yield* Fiber.await(target)
          expect(successValue(yield* Fiber.await(putter))).toBe(true)
          const drained: Array<string> = []
          pollAll(ch, drained)
          const got = Exit.isSuccess(exit) ? Option.toArray(exit.value) : []
          expect([...got, ...drained], `the take ended ${showExit(exit)}`).toEqual([...prefilled(0), "p"])
          finish()
        })
      )
  )

  it.each(oneOrFull)(
    "$name: a select take case that completes at once, interrupted by the putter it resumes, consumed nothing",
    (kind) =>
      run(
        Effect.gen(function* () {
          const { chans, prefilled, finish } = makeChans(kind, ["a", "b"], true)
          const [a, b] = chans
          let target: Fiber.Fiber<Tagged> | undefined
          const putter = yield* Effect.forkChild(
            Effect.tap(Chan.put(b, "p"), () => Effect.sync(() => interrupt(target)))
          )
          for (let i = 0; i < 5 && pending(b).puts === 0; i++) yield* Effect.yieldNow
          expect(pending(b).puts).toBe(1)
          // `a` has nothing to take (rendezvous) or is full as well: with priority, b's case is chosen
          // only when a's is not ready
          const cases =
            kind.capacity === 0
              ? [Chan.onTake(a, (o): Tagged => ["a", o]), Chan.onTake(b, (o): Tagged => ["b", o])]
              : [Chan.onTake(b, (o): Tagged => ["b", o])]
          target = yield* Effect.forkChild(Chan.select(cases, { priority: true }))
          const exit = yield* Fiber.await(target)
          expect(successValue(yield* Fiber.await(putter))).toBe(true)
          const fromA: Array<string> = []
          const fromB: Array<string> = []
          pollAll(a, fromA)
          pollAll(b, fromB)
          if (Exit.isSuccess(exit)) fromB.unshift(...Option.toArray(exit.value[1] as Option.Option<string>))
          expect(fromA).toEqual(prefilled(0))
          expect(fromB, `the select ended ${showExit(exit)}`).toEqual([...prefilled(1), "p"])
          finish()
        })
      )
  )

  it.each([true, false])(
    "Effect.race of two takes (jobs first: %s): the loser's value is not lost when the winner is woken by the loser's own step",
    (jobsFirst) =>
      run(
        Effect.gen(function* () {
          const jobs = Chan.makeUnsafe<string>()
          const stop = Chan.makeUnsafe<string>()
          // the producer's last job waits for a taker; once it is taken, the producer signals stop
          const producer = yield* Effect.forkChild(
            Effect.gen(function* () {
              const sent = yield* Chan.put(jobs, "job")
              const stopped = yield* Chan.put(stop, "stop")
              return [sent, stopped] as const
            })
          )
          for (let i = 0; i < 5 && pending(jobs).puts === 0; i++) yield* Effect.yieldNow
          expect(pending(jobs).puts).toBe(1)
          const takeJob = Effect.map(Chan.take(jobs), (o) => ["jobs", o] as const)
          const takeStop = Effect.map(Chan.take(stop), (o) => ["stop", o] as const)
          const consumer = yield* Effect.forkChild(
            jobsFirst ? Effect.race(takeJob, takeStop) : Effect.race(takeStop, takeJob)
          )
          const [from, value] = successValue(yield* Fiber.await(consumer))
          const leftover: Array<string> = []
          for (let i = 0; i < 5 && producer.pollUnsafe() === undefined; i++) {
            pollAll(jobs, leftover)
            pollAll(stop, leftover)
            yield* Effect.yieldNow
          }
          pollAll(jobs, leftover)
          const [sent] = successValue(producer.pollUnsafe())
          expect(sent, "the job's put returned").toBe(true)
          // the job was accepted: the consumer has it, or it is still in `jobs`
          const jobs_ = [...(from === "jobs" ? Option.toArray(value) : []), ...leftover.filter((v) => v === "job")]
          expect(jobs_, `the race returned ${from}: ${String(value)}`).toEqual(["job"])
          expect(pending(jobs)).toEqual({ puts: 0, takes: 0 })
          expect(pending(stop)).toEqual({ puts: 0, takes: 0 })
        })
      )
  )

  it.each(oneOrFull)(
    "$name: a put that completes at once, interrupted by the taker it resumes, delivered exactly once (the documented window)",
    (kind) =>
      run(
        Effect.gen(function* () {
          const { chans, finish } = makeChans(kind, ["c"], false)
          const [ch] = chans
          let target: Fiber.Fiber<boolean> | undefined
          const taker = yield* Effect.forkChild(Effect.tap(Chan.take(ch), () => Effect.sync(() => interrupt(target))))
          for (let i = 0; i < 5 && pending(ch).takes === 0; i++) yield* Effect.yieldNow
          expect(pending(ch).takes).toBe(1)
          target = yield* Effect.forkChild(Chan.put(ch, "p"))
          const exit = yield* Fiber.await(target)
          const taken = successValue(yield* Fiber.await(taker))
          const drained: Array<string> = []
          pollAll(ch, drained)
          // the taker received it before the putter ran again: delivered once, whatever the put's Exit
          expect([...Option.toArray(taken), ...drained]).toEqual(["p"])
          expect(Exit.isSuccess(exit) ? exit.value : isInterrupted(exit)).toBe(true)
          finish()
        })
      )
  )
})

// ── 4. a value handed to a take that is interrupted before it runs ─────────

/**
 * A waiting take can be handed a value and then be interrupted before its fiber runs again (the
 * hand-off gap); it consumed nothing, so the value must behave as if it had never left the channel:
 * still first in line for the producer's order, and still there for the takes that follow a close.
 */
describe("a value handed to a take interrupted before it ran", () => {
  it.each(fifoKinds)("$name: a producer's values still reach a consumer in order", (kind) =>
    run(
      Effect.gen(function* () {
        const ch = kind.make<string>()
        const first = yield* Effect.forkChild(Chan.take(ch))
        const second = yield* Effect.forkChild(
          Effect.gen(function* () {
            const got: Array<string> = []
            for (let o = yield* Chan.take(ch); Option.isSome(o); o = yield* Chan.take(ch)) got.push(o.value)
            return got
          })
        )
        for (let i = 0; i < 5 && pending(ch).takes < 2; i++) yield* Effect.yieldNow
        expect(pending(ch).takes).toBe(2)
        // one producer: v1 then v2; the first taker is interrupted right after
        expect(Chan.putUnsafe(ch, "v1")).toBe(true)
        expect(Chan.putUnsafe(ch, "v2")).toBe(true)
        first.interruptUnsafe()
        const firstExit = yield* Fiber.await(first)
        yield* Effect.yieldNow
        Chan.closeUnsafe(ch)
        const got = successValue(yield* Fiber.await(second))
        const firstGot = Exit.isSuccess(firstExit) ? Option.toArray(firstExit.value) : []
        // every value once, and the second consumer saw the producer's values in the order they were put
        expect([...firstGot, ...got].sort(), `first take ${showExit(firstExit)}`).toEqual(["v1", "v2"])
        expect(got, `first take ${showExit(firstExit)}; the second consumer received`).toEqual(
          ["v1", "v2"].filter((v) => got.includes(v))
        )
        expect(pending(ch)).toEqual({ puts: 0, takes: 0 })
      })
    )
  )

  it.each(fifoKinds)("$name: once a take saw the channel closed and drained, no value turns up later", (kind) =>
    run(
      Effect.gen(function* () {
        const undelivered: Array<string> = []
        const ch = kind.make<string>({ onUndelivered: (v) => undelivered.push(v) })
        const first = yield* Effect.forkChild(Chan.take(ch))
        const second = yield* Effect.forkChild(Chan.take(ch))
        for (let i = 0; i < 5 && pending(ch).takes < 2; i++) yield* Effect.yieldNow
        expect(pending(ch).takes).toBe(2)
        expect(Chan.putUnsafe(ch, "v")).toBe(true)
        Chan.closeUnsafe(ch)
        first.interruptUnsafe()
        const firstExit = yield* Fiber.await(first)
        const secondGot = successValue(yield* Fiber.await(second))
        const later = yield* Chan.take(ch)
        const firstGot = Exit.isSuccess(firstExit) ? Option.toArray(firstExit.value) : []
        const all = [...firstGot, ...Option.toArray(secondGot), ...Option.toArray(later), ...undelivered]
        const story = `first take ${showExit(firstExit)}, second ${String(secondGot)}, a later take ${String(later)}`
        expect(all, story).toEqual(["v"])
        // None means closed and drained: nothing accepted may be taken after it
        if (Option.isNone(secondGot)) expect(Option.isNone(later), story).toBe(true)
        expect(pending(ch)).toEqual({ puts: 0, takes: 0 })
      })
    )
  )
})

describe("discard while woken takers are on their way", () => {
  it.each(kinds.filter((k) => k.policy === "fixed"))(
    "$name: nothing is owed any more (0 <= owed <= size), and the woken taker sees the channel closed",
    (kind) =>
      run(
        Effect.gen(function* () {
          const undelivered: Array<string> = []
          const ch = kind.make<string>({ onUndelivered: (v) => undelivered.push(v) })
          const core = ch as unknown as ChanCore
          const taker = yield* Effect.forkChild(Chan.take(ch))
          for (let i = 0; i < 5 && pending(ch).takes < 1; i++) yield* Effect.yieldNow
          expect(pending(ch).takes).toBe(1)
          // the taker is woken for "v" (owed to it), and the channel is discarded before it runs again
          expect(Chan.offerUnsafe(ch, "v")).toBe(true)
          expect([core.owed, core.size]).toEqual([1, 1])
          const discarded = yield* Chan.discard(ch)
          expect([core.owed, core.size]).toEqual([0, 0])
          const taken = successValue(yield* Fiber.await(taker))
          expect({ discarded, undelivered, taken }).toEqual({
            discarded: ["v"],
            undelivered: ["v"],
            taken: Option.none()
          })
          expect([core.owed, pending(ch)]).toEqual([0, { puts: 0, takes: 0 }])
        })
      )
  )
})
