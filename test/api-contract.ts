/**
 * The public API contract (shared/api.d.ts), written as calls: this file only has to type-check
 * (`tsc -b` runs on it in the test command). Each block uses the packages the way API.md shows,
 * so a change that would reject a call written against the contract fails the build.
 */
import { Buffer, Chan, ChanArgumentError, ChanPendingLimitError, Mix, Mult, Pub, Xform } from "@tributary/channel"
import {
  chan,
  onPut as onPutP,
  onTake as onTakeP,
  onTimeout as onTimeoutP,
  type PromiseChan,
  type Result,
  select as selectP,
  timeout as timeoutP
} from "@tributary/channel/promise"
import { Job, Supervisor, SupervisorClosedError, SupervisorFullError } from "@tributary/jobs"
import { type Config as PromiseConfig, supervisor as supervisorP } from "@tributary/jobs/promise"
import { PinoLogger } from "@tributary/pino"
import { Effect, Exit, type Layer, Option, Schedule, type Scope, type Stream } from "effect"
import pino from "pino"

// ── @tributary/channel ──────────────────────────────────────────────────────

export const construction = Effect.gen(function* () {
  const rendezvous: Chan.Chan<number> = yield* Chan.make<number>()
  const fixed = yield* Chan.make<number>(16, { name: "jobs", maxPending: 64, onUndelivered: (_n: number) => {} })
  const dropping = yield* Chan.make<string>(Buffer.dropping(4))
  const sliding: Chan.Chan<string> = Chan.makeUnsafe<string>(Buffer.sliding(1))
  const fixedBuffer: Chan.Chan<string> = Chan.makeUnsafe<string>(Buffer.fixed(2))
  const transformed: Chan.Chan<number, Array<string>> = yield* Chan.make(8, {
    xform: Xform.compose(
      Xform.filter((n: number) => n > 0),
      Xform.map((n: number) => String(n)),
      Xform.partitionAll<string>(10)
    ),
    onXformError: (_error: unknown, _input: number) => Option.none<Array<string>>()
  })
  const promised: Chan.Chan<number> = yield* Chan.promise<number>()
  const deadline: Chan.ReadPort<never> = yield* Chan.timeout("5 seconds")
  const live: Chan.ReadPort<never> = Chan.timeoutUnsafe(1000)
  const ok: boolean = Chan.isChan(fixed)
  return { rendezvous, fixed, dropping, sliding, fixedBuffer, transformed, promised, deadline, live, ok }
})

export const operations = (ch: Chan.Chan<number>, out: Chan.WritePort<number>, inp: Chan.ReadPort<number>) =>
  Effect.gen(function* () {
    const accepted: boolean = yield* Chan.put(out, 1)
    const taken: Option.Option<number> = yield* Chan.take(inp)
    const offered: boolean = yield* Chan.offer(out, 2)
    const polled: Option.Option<number> = yield* Chan.poll(inp)
    yield* Chan.close(out)
    const rest: Array<number> = yield* Chan.discard(ch)
    const closed: boolean = yield* Chan.isClosed(inp)
    const size: number = yield* Chan.size(out)
    const putNow: boolean = Chan.putUnsafe(out, 3, (_accepted: boolean) => {})
    const offerNow: boolean = Chan.offerUnsafe(out, 4)
    const pollNow: Option.Option<number> = Chan.pollUnsafe(inp)
    Chan.closeUnsafe(out)
    return { accepted, taken, offered, polled, rest, closed, size, putNow, offerNow, pollNow }
  })

export const selecting = (jobs: Chan.ReadPort<string>, results: Chan.WritePort<number>) =>
  Effect.gen(function* () {
    const r: string | number | "timed out" = yield* Chan.select([
      Chan.onTake(jobs, (v: Option.Option<string>) => Option.getOrElse(v, () => "closed")),
      Chan.onPut(results, 1, (accepted: boolean) => Effect.succeed(accepted ? 1 : 0)),
      Chan.onTimeout("5 seconds", () => "timed out" as const)
    ])
    const d: string = yield* Chan.select([Chan.onTake(jobs, () => "job")], {
      priority: true,
      orElse: () => "nothing ready"
    })
    return [r, d] as const
  })

export const combinators = (
  from: Chan.ReadPort<number>,
  to: Chan.Chan<string>,
  stream: Stream.Stream<number>,
  iterable: AsyncIterable<number>
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    yield* Chan.pipe(from, Chan.makeUnsafe<number>(4), { close: false })
    yield* Chan.pipeline(from, to, (n: number) => Effect.succeed(String(n)), {
      concurrency: 4,
      ordered: false,
      close: true,
      onError: (_e: never, n: number) => Option.some(`failed ${n}`)
    })
    const merged: Chan.ReadPort<number> = yield* Chan.merge([from, from], 8)
    const [evens, odds]: [Chan.ReadPort<number>, Chan.ReadPort<number>] = yield* Chan.split(
      (n: number) => n % 2 === 0,
      merged
    )
    const listed: Chan.ReadPort<number> = yield* Chan.fromIterable([1, 2, 3])
    yield* Chan.onto(Chan.makeUnsafe<number>(3), [1, 2, 3], { close: true })
    const all: Array<number> = yield* Chan.toArray(evens)
    const sum: number = yield* Chan.reduce(odds, 0, (acc: number, n: number) => acc + n)
    yield* Chan.forEach(listed, (n: number) => Effect.log(n))
    const m: Mult.Mult<number> = yield* Chan.mult(from)
    yield* Mult.tap(m, Chan.makeUnsafe<number>(1), { close: true })
    yield* Mult.untap(m, Chan.makeUnsafe<number>(1))
    yield* Mult.untapAll(m)
    const p: Pub.Pub<number, "even" | "odd"> = yield* Chan.pub(
      from,
      (n: number) => (n % 2 === 0 ? ("even" as const) : ("odd" as const)),
      () => 8
    )
    yield* Pub.sub(p, "even", Chan.makeUnsafe<number>(1), { close: false })
    yield* Pub.unsub(p, "even", Chan.makeUnsafe<number>(1))
    yield* Pub.unsubAll(p)
    yield* Pub.unsubAll(p, "odd")
    const x: Mix.Mix<number> = yield* Chan.mix(Chan.makeUnsafe<number>(1))
    yield* Mix.add(x, from)
    yield* Mix.toggle(x, new Map([[from, { mute: true, pause: false, solo: false }]]))
    yield* Mix.soloMode(x, "pause")
    yield* Mix.remove(x, from)
    const s: Stream.Stream<number> = Chan.toStream(from)
    const fromS: Chan.ReadPort<number> = yield* Chan.fromStream(stream, 16)
    const it: AsyncIterable<number> = Chan.toAsyncIterable(from)
    const fromIt: Chan.ReadPort<number> = yield* Chan.fromAsyncIterable(iterable, 16)
    void [all, sum, s, fromS, it, fromIt]
  })

export const errors = (e: unknown): string =>
  e instanceof ChanArgumentError ? e._tag : e instanceof ChanPendingLimitError ? e._tag : "other"

// ── @tributary/channel/promise ──────────────────────────────────────────────

export const facade = async (signal: AbortSignal): Promise<number> => {
  const ch: PromiseChan<number> = chan<number>(16, { name: "n", maxPending: 8, onUndelivered: () => {} })
  const fromEffect: Chan.Chan<number> = ch
  const accepted: boolean = await ch.put(1, { signal })
  const r: Result<number> = await ch.take({ signal })
  const offered: boolean = ch.offer(2)
  const polled: Result<number> | undefined = ch.poll()
  ch.close()
  for await (const n of ch) void n
  const t: PromiseChan<never> = timeoutP(100)
  const won: number | string = await selectP(
    [
      onTakeP(ch, (res: Result<number>) => (res.done ? "closed" : res.value)),
      onPutP(ch, 3, () => 1),
      onTimeoutP(50, () => "late")
    ],
    { priority: false, orElse: () => "none", signal }
  )
  void [fromEffect, accepted, offered, polled, t, won]
  return r.done ? 0 : r.value
}

// ── @tributary/jobs ─────────────────────────────────────────────────────────

declare const fetchOrders: (tenant: string) => Effect.Effect<Array<string>, Error>

export const supervisorLayer: Layer.Layer<Supervisor.Supervisor> = Supervisor.layer({
  name: "etl",
  concurrency: 16,
  maxQueued: 10_000,
  whenFull: "wait",
  pools: {
    db: { concurrency: 8 },
    partner: { concurrency: 4, perKey: 1, rate: { limit: 50, interval: "1 second" } }
  },
  logSuccess: "debug",
  grace: "10 seconds"
})

export const jobs = Effect.gen(function* () {
  const results = Chan.makeUnsafe<Job.Outcome<Array<string>, Error>>(64)
  yield* Job.fire(fetchOrders("acme"), {
    name: "fetch",
    pool: "partner",
    key: "acme",
    timeout: "30 seconds",
    retry: Schedule.recurs(3),
    reportTo: results,
    annotations: { tenant: "acme" }
  })
  const h: Job.Handle<Array<string>, Error> = yield* Job.fork(fetchOrders("acme"), { name: "fetch" })
  const exit: Exit.Exit<Array<string>, Error> = yield* Job.await(h)
  const joined: Effect.Effect<Array<string>, Error> = Job.join(h)
  const status: Job.Status = yield* Job.status(h)
  yield* Job.interrupt(h)
  const outcomes: Chan.ReadPort<Job.Outcome<Array<string>, Error>> = yield* Job.forkAll(
    [fetchOrders("a"), fetchOrders("b")],
    { concurrency: 2, name: "fetch" }
  )
  const every: Array<Job.Outcome<Array<string>, Error>> = yield* Job.all([fetchOrders("a")], { concurrency: 2 })
  const values: Array<Array<string>> = yield* Job.all([fetchOrders("a")], { concurrency: 2, policy: "failFast" })
  const first: Array<string> = yield* Job.all([fetchOrders("a")], { concurrency: 2, policy: "firstSuccess" })
  yield* Supervisor.drain
  const snap: Supervisor.Snapshot = yield* Supervisor.snapshot
  yield* Supervisor.shutdown({ grace: "1 second" })
  const tag: Job.OutcomeTag | undefined = Exit.isSuccess(exit) ? "Success" : undefined
  void [status, joined, outcomes, every, values, first, snap.counters.started, tag]
})

export const scopedOutcomes = Effect.scoped(Effect.flatMap(Supervisor.outcomes, (tap) => Chan.take(tap)))

export const closedOrFull = (e: unknown): boolean =>
  e instanceof SupervisorClosedError || e instanceof SupervisorFullError

export const main = (): void =>
  Supervisor.runMain(jobs, { supervisor: { name: "etl" }, logger: { level: "info" }, failOnJobFailure: true })

// a pino instance the program built, with or without custom levels, under this project's
// exactOptionalPropertyTypes (a `pino.Logger<never>` was refused where `LoggerOrOptions<any>` was asked)
export const mainWithLogger = (): void => {
  Supervisor.runMain(jobs, { logger: pino({ level: "info" }, process.stdout) })
  Supervisor.runMain(jobs, { logger: pino({ customLevels: { audit: 35 } }), maxHeldLines: 10_000 })
}
// and in options written apart from the call, annotated (a `pino.Logger` is `pino.Logger<never>`)
const plainLogger: pino.Logger = pino({ level: "info" })
export const runMainOptions: Supervisor.RunMainOptions = { logger: plainLogger }
export const customRunMainOptions: Supervisor.RunMainOptions = { logger: pino({ customLevels: { audit: 35 } }) }
export const promiseConfig: PromiseConfig = { logger: plainLogger, concurrency: 4 }
// an object with only the log methods is no pino logger: refused at run time, and by the type
const logMethodsOnly = {} as pino.BaseLogger
// @ts-expect-error -- no levelVal, no child
export const notALogger: Supervisor.RunMainOptions = { logger: logMethodsOnly }
export const promiseSupervisors = () => [
  supervisorP({ logger: pino({ level: "info" }) }),
  supervisorP({ logger: pino({ customLevels: { audit: 35 } }), maxHeldLines: Number.POSITIVE_INFINITY })
]

// ── @tributary/pino ─────────────────────────────────────────────────────────

export const logging: Layer.Layer<never> = PinoLogger.layer(pino({ level: "info" }))
export const loggingFromOptions: Layer.Layer<never> = PinoLogger.layer({ level: "debug" })
export const logger = PinoLogger.make(pino())
