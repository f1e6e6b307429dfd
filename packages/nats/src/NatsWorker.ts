/**
 * The worker side: `run` pulls jobs from the JetStream work-queue stream (a durable pull consumer
 * shared by every worker) and runs each by its `Job.define` definition through a local
 * `Supervisor`, so per-pool limits, per-key caps and rates hold as in-process. Each job's outcome
 * is published back to the supervisor that fired it.
 *
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Job, Supervisor } from "@tributary/jobs"
 * import { NatsWorker } from "@tributary/nats"
 *
 * const clean = Job.define({ name: "clean", payload: Schema.Struct({ id: Schema.Number }), run: ({ id }) => Effect.succeed(id) })
 * // runs until interrupted (runMain interrupts it on SIGTERM: the worker hands back what it holds)
 * Supervisor.runMain(
 *   NatsWorker.run({ servers: "nats://127.0.0.1:4222", definitions: [clean], concurrency: 16, pools: { db: { concurrency: 4 } } })
 * )
 * ```
 *
 * What it does with a job message:
 * - ack when the job succeeded (after its outcome is stored in the outcomes stream), with progress
 *   acks (`working`) every third of `ackWait` while the worker holds it (queued or running);
 * - a typed failure is retried: nak with a delay of `retryDelay` × the delivery number, until the
 *   `attempts`-th delivery, whose failure is final (published, then termed);
 * - a defect, an unknown definition or pool, or a payload that does not decode is final at once
 *   (published, termed: never redelivered);
 * - an outcome larger than the server's `max_payload` is published as a `MessageTooLargeError`
 *   defect in its place (the message then acked or termed as the job's own outcome says);
 * - an interrupted job (shutdown past its grace) is handed back: nak, no outcome; a job whose run
 *   interrupts itself is final (published as Interrupted, termed);
 * - a job its supervisor cancelled (see `NatsSupervisor`) is interrupted if it runs, dropped unrun
 *   if it is only held or arrives later (the worker remembers cancelled ids for two minutes, up to
 *   10,000): its outcome is published as Interrupted (not retried) and the message termed.
 *
 * `Job.progress` inside a job is sent back to the supervisor that fired it (core NATS): the latest
 * value of each job at most every 250 ms.
 *
 * Gotchas:
 * - Execution is at least once: a worker that dies holding jobs has them run again elsewhere after
 *   `ackWait`; a job that succeeded while its outcome could not be stored runs again.
 * - A worker holds up to 2 × `concurrency` messages (the running ones and as many pulled ahead).
 * - `maxAckPending` and `ackWait` are the consumer's, shared by every worker: a worker that finds
 *   them set otherwise fails at start with a NatsArgumentError naming both values (with 1 s beside
 *   30 s, a live worker's job ran 3 times), unless started with `updateConsumer: true` (it then
 *   sets them for all).
 *
 * @since 0.2.0
 */
import type { NatsConnection } from "@nats-io/transport-node"
import { Buffer, Chan } from "@tributary/channel"
import { Dispatcher, Job, JobArgumentError, Supervisor, SupervisorConfigError } from "@tributary/jobs"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as References from "effect/References"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { RecentIds } from "./internal/cancel.js"
import * as connection from "./internal/connection.js"
import { type CommonOptions, countOf, MAX_SERVER_MILLIS, millisOf, resolveCommon } from "./internal/options.js"
import * as Publisher from "./internal/publisher.js"
import { type Delivery, start as startPuller } from "./internal/puller.js"
import {
  decodeHeaders,
  decodePayload,
  encodeOutcome,
  encodeProgress,
  type JobHeaders,
  PROBE_HEADER,
  progressSubjectOf
} from "./internal/wire.js"
import {
  MessageTooLargeError,
  NatsArgumentError,
  type NatsConnectError,
  PayloadDecodeError,
  UnknownDefinitionError,
  UnknownPoolError
} from "./NatsError.js"

/**
 * The options of `run`.
 *
 * @since 0.2.0
 */
export interface Options<R> extends CommonOptions {
  /** the definitions this worker can run (by name); a job of another name fails for good */
  readonly definitions: ReadonlyArray<Job.Definition<any, any, any, R>>
  /** jobs running at once in this worker (default 16) */
  readonly concurrency?: number
  /** the worker's pools, as in `Supervisor.Config` (a job naming a pool the worker lacks fails for good) */
  readonly pools?: Record<string, Supervisor.PoolConfig>
  /** in log lines and outcomes (default `worker-<pid>`) */
  readonly name?: string
  /**
   * the consumer's ack wait (default "30 seconds", at least "1 second"): how long before a dead
   * worker's jobs are redelivered. The consumer is shared: a worker that finds it with another ack
   * wait fails at start with a NatsArgumentError naming both, unless `updateConsumer` is true
   */
  readonly ackWait?: Duration.Input
  /** the consumer's max ack pending (default 1000): the bound on jobs held across all workers (shared as `ackWait` is) */
  readonly maxAckPending?: number
  /**
   * set the shared consumer's `ackWait` and `maxAckPending` to this worker's when they differ,
   * for every worker (default false: such a worker fails at start with a NatsArgumentError)
   */
  readonly updateConsumer?: boolean
  /** deliveries of a job whose run fails with a typed error, the last one final (default 3) */
  readonly attempts?: number
  /** the delay of the nak after a typed failure, times the delivery number (default "1 second") */
  readonly retryDelay?: Duration.Input
  /** how long a shutdown lets running jobs finish before interrupting them (default "10 seconds") */
  readonly grace?: Duration.Input
}

/** The options of `run` beyond `servers` and `prefix`. */
const workerOptionKeys: ReadonlyArray<string> = [
  "definitions",
  "concurrency",
  "pools",
  "name",
  "ackWait",
  "maxAckPending",
  "updateConsumer",
  "attempts",
  "retryDelay",
  "grace"
]

/**
 * Runs a worker until interrupted. On interruption: stops pulling and starting jobs, hands back
 * (nak) every job not started once its last pull request has ended (at most 1 s), lets the running
 * ones finish within `grace`, interrupts and hands back the rest, then drains the connection. A
 * server that cannot be reached at start fails with `NatsConnectError`; a bad option fails with a
 * `NatsArgumentError` naming it (a bad `pools` with the `SupervisorConfigError` of its path, e.g.
 * `pools.db.concurrency`), before the server is touched.
 *
 * ```ts
 * import { Context, Effect, Layer, Schema } from "effect"
 * import { Job } from "@tributary/jobs"
 * import { NatsWorker } from "@tributary/nats"
 *
 * class Db extends Context.Service<Db, { readonly execute: (sql: string) => Effect.Effect<number> }>()("app/Db") {}
 * const purge = Job.define({
 *   name: "purge",
 *   payload: Schema.Struct({ days: Schema.Number }),
 *   run: ({ days }) => Effect.flatMap(Effect.service(Db), (db) => db.execute(`DELETE FROM events WHERE age_days > ${days}`))
 * })
 * const DbLive = Layer.succeed(Db, { execute: () => Effect.succeed(0) })
 * // the definitions' requirements are the worker's: provide them around it
 * const worker = NatsWorker.run({ servers: "nats://127.0.0.1:4222", definitions: [purge], attempts: 5, retryDelay: "10 seconds" }).pipe(
 *   Effect.provide(DbLive)
 * )
 * ```
 *
 * @since 0.2.0
 */
export const run = <R = never>(
  options: Options<R>
): Effect.Effect<never, NatsConnectError | NatsArgumentError | SupervisorConfigError, R> =>
  Effect.scoped(
    Effect.gen(function* () {
      const { servers, names } = yield* resolveCommon(RUN, options, workerOptionKeys)
      const concurrency = yield* countOf(RUN, "concurrency", options.concurrency, 16)
      const maxAckPending = yield* countOf(RUN, "maxAckPending", options.maxAckPending, 1000)
      const attempts = yield* countOf(RUN, "attempts", options.attempts, 3)
      const ackWait = yield* millisOf(RUN, "ackWait", options.ackWait, "30 seconds", {
        min: {
          millis: MIN_ACK_WAIT_MILLIS,
          why: "the progress acks, every third of it, must beat it: with 1 ms a live worker's jobs ran up to 6 times"
        },
        max: MAX_SERVER_MILLIS
      })
      // the last nak's delay (retryDelay × the delivery number) goes to the server too
      const retryDelay = yield* millisOf(RUN, "retryDelay", options.retryDelay, "1 second", {
        max: Math.floor(MAX_SERVER_MILLIS / attempts)
      })
      const updateConsumer = options.updateConsumer ?? false
      if (typeof updateConsumer !== "boolean")
        return yield* new NatsArgumentError(RUN, "updateConsumer", updateConsumer, "a boolean")
      const grace = yield* millisOf(RUN, "grace", options.grace, "10 seconds")
      const name = options.name ?? `worker-${process.pid}`
      if (typeof name !== "string" || name === "")
        return yield* new NatsArgumentError(RUN, "name", name, "a non-empty string")
      const definitions = yield* definitionsOf(options.definitions)
      const pools = options.pools ?? {}

      const capacity = 2 * concurrency
      // before the server is touched: a bad `pools` fails here (the SupervisorConfigError the
      // supervisor dies with, as a typed failure like the worker's other options), without having
      // set the shared consumer's ackWait and maxAckPending for every worker. Its own shutdown at
      // the scope's end finds it shut down already (see the finalizer below)
      const supervisor = Context.get(
        yield* Layer.build(Supervisor.layer({ name, concurrency, pools, maxQueued: capacity, grace: grace })).pipe(
          Effect.catchDefect((defect) =>
            defect instanceof SupervisorConfigError
              ? Effect.fail(new SupervisorConfigError(defect.argument, defect.value, defect.expected, RUN))
              : Effect.die(defect)
          )
        ),
        Supervisor.Supervisor
      )
      const nc = yield* connection.open(servers, name)
      const jsm = yield* connection.manager(nc, servers)
      yield* connection.ensureStreams(RUN, jsm, names, 3_600_000, servers)
      const found = yield* connection.ensureConsumer(jsm, names, ackWait, maxAckPending, servers, updateConsumer)
      if (found !== undefined) return yield* consumerMismatch(names.consumer, found, options, ackWait, maxAckPending)
      // outcomes are bounded by the jobs held (capacity), so the window never holds one back
      const publisher = yield* Publisher.make(nc, PUBLISH_ACK_MILLIS, capacity)

      /** every message received and not yet acked, naked or termed */
      const held = new Map<Delivery, Held>()
      /** the messages whose jobs reported progress, by the job's id in this worker's supervisor */
      const progressing = new Map<string, Delivery>()
      const forgetProgress = (m: Delivery) => {
        const jobId = held.get(m)?.jobId
        if (jobId !== undefined) progressing.delete(jobId)
      }
      let stopping = false
      /** messages received and not yet taken by the firing loop; `arrived` wakes it */
      let arrivals: Array<Delivery> = []
      const arrived = Chan.makeUnsafe<void>(Buffer.sliding(1))
      const wakeFiring = () => Chan.offerUnsafe(arrived, undefined)
      const services = yield* Effect.context<never>()
      const puller = startPuller({
        nc,
        stream: names.jobsStream,
        consumer: names.consumer,
        expiresMillis: 1_000,
        // a pull when half the room is free, for all of it (a worker holds up to 2 × concurrency)
        minBatch: capacity - concurrency,
        room: () => capacity - held.size,
        onMessage: (m) => {
          held.set(m, { started: false, cancelled: false, fiber: undefined, jobId: undefined })
          if (stopping) return // handed back once the pull request has ended (see the finalizer)
          // the firing loop wakes once the socket read that brought it is parsed, for all it brought
          if (arrivals.push(m) === 1) queueMicrotask(wakeFiring)
        },
        onTrouble: (description) => {
          Effect.runForkWith(services)(Effect.logWarning(`pulling jobs: ${description}; retrying`))
        },
        onConsumerLost: (description) => restore(`pulling jobs: ${description}`)
      })
      /**
       * The consumer may be gone (deleted under the workers, with its stream or alone), or a
       * stream (an outcome found no stream to store it): the streams and the consumer are made
       * again where missing, one restore at a time, tried again after a failure (in 250 ms,
       * doubling up to 5 s) until it succeeds or the worker stops; pulling goes on meanwhile. A
       * stream found missing is made only after RESTORE_SETTLE_MILLIS, and checked (see
       * `connection.ensureStreams`): the server told the consumer it was deleted before it removed
       * the stream's files, and a stream made before they are gone cannot store jobs. The messages
       * the consumer had delivered are delivered again by the new one (at least once). A warning
       * for what was gone and made again, and when a try failed; none when all was there (a late
       * answer, an event loop blocked for a while).
       */
      let restoring = false
      let restoreFiber: Fiber.Fiber<void> | undefined
      const restore = (reason: string): void => {
        if (restoring || stopping) return
        restoring = true
        const attempt = Effect.all([
          connection.ensureStreams(RUN, jsm, names, 3_600_000, servers, { settleMillis: RESTORE_SETTLE_MILLIS }),
          connection.restoreConsumer(jsm, names, ackWait, maxAckPending, servers)
        ])
        const until = (delay: number): Effect.Effect<void> =>
          Effect.matchEffect(attempt, {
            onSuccess: ([streams, consumer]) => {
              const made: Array<string> = streams.map((s) =>
                s === names.jobsStream ? "the jobs stream" : "the outcomes stream"
              )
              if (consumer) made.push("the consumer")
              return made.length === 0
                ? Effect.void
                : Effect.logWarning(
                    `${reason}; ${made.join(" and ")} ${made.length > 1 ? "were" : "was"} gone: made again`
                  )
            },
            onFailure: (e) =>
              Effect.logWarning(
                `${reason}; making the streams and the consumer again failed: ${e.message}; trying again in ${delay} ms`
              ).pipe(
                Effect.andThen(Effect.sleep(delay)),
                Effect.andThen(() => until(Math.min(2 * delay, RESTORE_MAX_DELAY_MILLIS)))
              )
          })
        const fiber = Effect.runForkWith(services)(
          until(RESTORE_FIRST_DELAY_MILLIS).pipe(
            Effect.ensuring(
              Effect.sync(() => {
                restoring = false
                restoreFiber = undefined
                puller.poke()
              })
            )
          )
        )
        if (restoring) restoreFiber = fiber
      }
      // acks, naks and terms leave with the outcome publishes (see the publisher), in one socket
      // write: one write per ack, then one per ack and per outcome, were a large share of a
      // worker's CPU in bench/nats.ts
      let replies: Array<{ readonly m: Delivery; readonly how: "ack" | "nak" | "term"; readonly delay?: number }> = []
      const sendReplies = () => {
        const batch = replies
        replies = []
        for (const r of batch)
          if (r.how === "ack") r.m.ack()
          else if (r.how === "nak") r.m.nak(r.delay)
          else r.m.term()
        puller.poke() // room was made: the pull request joins the replies' write
      }
      const settle = (m: Delivery, how: "ack" | "nak" | "term", delayMillis?: number): void => {
        if (progressing.size > 0) forgetProgress(m)
        if (!held.delete(m)) return
        if (replies.push(delayMillis === undefined ? { m, how } : { m, how, delay: delayMillis }) === 1)
          publisher.beforeNextSend(sendReplies)
      }

      /**
       * stores the outcome in the outcomes stream once (fails when the stream did not ack it); an
       * outcome too large for the server is stored as a MessageTooLargeError defect in its place
       */
      const storeOutcome = (m: Delivery, h: JobHeaders, exit: Exit.Exit<unknown, unknown>) => {
        const id = idOf(m)
        const store = (exit: Exit.Exit<unknown, unknown>) =>
          Effect.tryPromise({
            try: () => publisher.publish(h.reply, encodeOutcome(id, exit, name, m.deliveryCount), `outcome.${id}`),
            catch: (cause) => cause as Publisher.PublishError
          })
        return Effect.catch(store(exit), (error) => {
          if (!(error instanceof Publisher.TooLargeError)) return Effect.fail(error)
          const tooLarge = new MessageTooLargeError(h.definition, "outcome", error.bytes, error.limit)
          return Effect.andThen(Effect.logWarning(tooLarge.message), store(Exit.die(tooLarge)))
        })
      }
      /** stores the outcome in the outcomes stream (retried until it is, or the job is interrupted) */
      const publishOutcome = (m: Delivery, h: JobHeaders, exit: Exit.Exit<unknown, unknown>) => {
        const once = storeOutcome(m, h, exit)
        // the first try has no retry machinery; after a failure, every 250 ms until it is stored
        const again: Effect.Effect<unknown> = Effect.catch(once, (e) => {
          // the outcomes stream is gone (deleted under the running processes): made again
          if (e instanceof Publisher.NoStreamError) restore(`storing a job outcome: ${e.message}`)
          return Effect.andThen(Effect.logWarning("storing a job outcome failed; retrying", e), Effect.sleep(250)).pipe(
            Effect.andThen(() => again)
          )
        })
        return again
      }

      /**
       * Ends a job its supervisor cancelled: its outcome published as Interrupted (once: the
       * supervisor no longer waits for it), then the message termed. Once per message.
       */
      const endCancelled = (m: Delivery): Effect.Effect<void> => {
        if (!held.has(m)) return Effect.void
        const h = decodeHeaders(m.msg.headers)
        const store = h === undefined ? Effect.void : Effect.ignore(storeOutcome(m, h, Exit.interrupt()))
        return Effect.andThen(
          store,
          Effect.sync(() => settle(m, "term"))
        )
      }
      /** an interrupted job: ended as cancelled if its supervisor cancelled it, else handed back */
      const interrupted = (m: Delivery, mark: Held): Effect.Effect<void> =>
        mark.cancelled ? endCancelled(m) : Effect.sync(() => settle(m, "nak"))

      /** the job of one message: its definition's run, then ack, nak or term */
      const jobOf = (m: Delivery, h: JobHeaders): Effect.Effect<unknown, unknown, R> =>
        Effect.withFiber((fiber) => {
          const mark = held.get(m)
          // handed back or cancelled while queued, or the worker is stopping (the finalizer hands it back)
          if (mark === undefined || mark.cancelled || stopping) return Effect.interrupt
          mark.started = true
          const definition = definitions.get(h.definition)
          const delivery = m.deliveryCount
          let work: Effect.Effect<unknown, unknown, R>
          let final = true
          if (definition === undefined)
            work = Effect.fail(new UnknownDefinitionError(h.definition, name, [...definitions.keys()]))
          else if (h.pool !== undefined && !(h.pool in pools)) work = Effect.fail(new UnknownPoolError(h.pool, name))
          else {
            const payload = decodePayload(m.msg.string())
            const decoded = Schema.decodeUnknownExit(definition.payload as Schema.Codec<unknown, unknown>)(payload)
            if (Exit.isFailure(decoded))
              work = Effect.fail(new PayloadDecodeError(h.definition, payload, Cause.squash(decoded.cause)))
            else {
              work = runOf(definition, decoded.value)
              final = delivery >= attempts
            }
          }
          mark.fiber = fiber // while the work runs, a cancel interrupts it
          return Effect.exit(work).pipe(
            Effect.flatMap((exit): Effect.Effect<unknown, unknown> => {
              mark.fiber = undefined
              if (Exit.isSuccess(exit))
                return Effect.andThen(
                  Effect.andThen(
                    publishOutcome(m, h, exit),
                    Effect.sync(() => settle(m, "ack"))
                  ),
                  exit
                )
              // interrupted from outside (its supervisor's cancel, this worker's shutdown): ended as
              // cancelled or handed back; a job that interrupted itself ends as Interrupted, final
              // below (handed back, it would be redelivered and interrupt itself again, for ever)
              if (Cause.hasInterruptsOnly(exit.cause) && (stopping || mark.cancelled))
                return Effect.andThen(interrupted(m, mark), exit)
              if (!final && !mark.cancelled && exit.cause.reasons.some((r) => r._tag === "Fail"))
                return Effect.andThen(
                  Effect.sync(() => settle(m, "nak", retryDelay * delivery)),
                  exit
                )
              return Effect.andThen(
                Effect.andThen(
                  publishOutcome(m, h, exit),
                  Effect.sync(() => settle(m, "term"))
                ),
                exit
              )
            }),
            Effect.onInterrupt(() => interrupted(m, mark))
          )
        })

      /** takes one message in: fires its job, or hands it back when stopping */
      const receive = (m: Delivery): Effect.Effect<void, never, R> => {
        const mark = held.get(m)
        if (mark === undefined || mark.cancelled) return Effect.void // handed back or cancelled already
        if (stopping) return Effect.void // handed back once the pull request has ended (see the finalizer)
        // cancelled before it arrived: the cancel loop ends it unrun
        if (recent.size > 0 && recent.has(idOf(m))) return Effect.sync(() => heardCancel(idOf(m)))
        const h = decodeHeaders(m.msg.headers)
        // the probe of a jobs stream just made (connection.ensureStreams), pulled before it was deleted
        if (h === undefined && m.msg.headers?.has(PROBE_HEADER)) return Effect.sync(() => settle(m, "ack"))
        if (h === undefined)
          return Effect.andThen(
            Effect.sync(() => settle(m, "term")),
            Effect.logWarning(`a message without job headers was termed (stream sequence ${m.seq})`)
          )
        return Job.fire(jobOf(m, h), {
          name: h.name,
          ...(h.pool !== undefined && h.pool in pools ? { pool: h.pool } : {}),
          ...(h.key !== undefined ? { key: h.key } : {}),
          annotations: { ...h.annotations, "nats.worker": name, "nats.delivery": m.deliveryCount }
        }).pipe(
          Effect.provideService(Supervisor.Supervisor, supervisor),
          // the supervisor refused it (stopping, or its queue full): handed back, run elsewhere or later
          Effect.catchCause(() => Effect.sync(() => settle(m, "nak"))),
          Effect.asVoid
        )
      }

      // ── cancels: the ids of jobs their supervisor cancelled (core NATS, every worker hears them)
      const recent = new RecentIds(CANCEL_MEMORY, CANCEL_MEMORY_MILLIS)
      /** ids heard and not yet taken by the cancel loop; `heard` wakes it */
      let cancelled: Array<string> = []
      const heard = Chan.makeUnsafe<void>(Buffer.sliding(1))
      const heardCancel = (id: string) => {
        if (cancelled.push(id) === 1) Chan.offerUnsafe(heard, undefined)
      }
      nc.subscribe(names.cancelSubject, {
        callback: (error, msg) => {
          if (error !== null) return
          const id = msg.string()
          recent.add(id, Date.now())
          heardCancel(id)
        }
      })
      // ── progress: Job.progress of the jobs running here, sent back to their supervisor (core
      // NATS, advisory), the latest value of each job at most every PROGRESS_INTERVAL_MILLIS
      /** the latest value of each job since the last send; `toSend` wakes the progress loop */
      let reported = new Map<Delivery, unknown>()
      const toSend = Chan.makeUnsafe<void>(Buffer.sliding(1))
      /** Dispatcher.ProgressListener of the jobs: `jobId` is the job's id in this worker's supervisor */
      const reportProgress = (jobId: string, value: unknown): void => {
        let m = progressing.get(jobId)
        if (m === undefined) {
          m = messageOfJob(held, jobId)
          if (m === undefined) return // not the job of a message (one a job fired here, say)
          progressing.set(jobId, m)
          held.get(m)!.jobId = jobId
        }
        const first = reported.size === 0
        reported.set(m, value)
        if (first) Chan.offerUnsafe(toSend, undefined) // after the set: the offer may run the progress loop at once
      }
      const sendProgress = () => {
        const batch = reported
        reported = new Map()
        for (const [m, value] of batch) {
          if (!held.has(m)) continue // ended: its outcome says the rest
          const id = idOf(m)
          publishQuietly(nc, progressSubjectOf(names, id), encodeProgress(id, value))
        }
      }

      // the firing loop: fires the jobs of the messages that arrived, in order, a batch per wake-up;
      // their Job.progress reaches `reportProgress`
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.flatMap(Chan.take(arrived), () =>
            Effect.suspend(() => {
              const batch = arrivals
              arrivals = []
              return Effect.forEach(batch, receive, { discard: true })
            })
          )
        ).pipe(Effect.provideService(Dispatcher.ProgressListener, reportProgress))
      )

      // the progress loop: a send, then a pause, so a job's values are coalesced between sends
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.andThen(
            Effect.andThen(Chan.take(toSend), Effect.sync(sendProgress)),
            Effect.sleep(PROGRESS_INTERVAL_MILLIS)
          )
        )
      )
      // the cancel loop: interrupts the running jobs of the ids heard, ends the held ones unrun
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.flatMap(Chan.take(heard), () =>
            Effect.suspend(() => {
              const ids = new Set(cancelled)
              cancelled = []
              const unstarted: Array<Delivery> = []
              for (const [m, mark] of held) {
                if (mark.cancelled || !ids.has(idOf(m))) continue
                mark.cancelled = true
                if (mark.fiber !== undefined)
                  mark.fiber.interruptUnsafe() // its job ends it (see jobOf)
                else if (!mark.started) unstarted.push(m)
                // else its run has ended: its own outcome is on its way
              }
              return Effect.forEach(unstarted, endCancelled, { concurrency: "unbounded", discard: true })
            })
          )
        )
      )
      puller.poke()
      // progress acks for every held message, so a queued or long job is not redelivered while held
      yield* Effect.forkScoped(
        Effect.repeat(
          Effect.sync(() => {
            for (const m of held.keys()) m.working()
          }),
          Schedule.spaced(Math.max(1, Math.floor(ackWait / 3)))
        )
      )
      // added last, so it runs first when the scope closes: before the puller is interrupted and
      // the supervisor shut down by their own finalizers
      yield* Effect.addFinalizer(() =>
        Effect.gen(function* () {
          // from now on no job starts here (one queued behind its pool, say, stays unstarted) and
          // what arrives is only held
          stopping = true
          if (restoreFiber !== undefined) yield* Fiber.interrupt(restoreFiber)
          // the outstanding pull request ends (at most its expiry). Only then are the jobs not
          // started handed back: sooner, each would come back at once to that same request, to be
          // handed back again (31 deliveries of one job in a test: its `attempts` used up)
          yield* Effect.promise(() => puller.stop())
          // a cancelled one is termed (never run again)
          for (const [m, mark] of held) if (!mark.started) settle(m, mark.cancelled ? "term" : "nak")
          yield* supervisor.shutdown()
          for (const [m, mark] of [...held]) settle(m, mark.cancelled ? "term" : "nak")
          sendReplies() // before the connection drains
          yield* Effect.logInfo(`worker ${name} stopped; every job it held was finished or handed back`)
        })
      )
      yield* Effect.logInfo(`worker ${name} pulling jobs (concurrency ${concurrency})`)
      return yield* Effect.never
    })
  )

// ── private helpers ─────────────────────────────────────────────────────────

/** What the worker knows of a message it holds. */
interface Held {
  /** its job's run began */
  started: boolean
  /** its supervisor cancelled it */
  cancelled: boolean
  /** the job's fiber while its work runs (a cancel interrupts it) */
  fiber: Fiber.Fiber<unknown, unknown> | undefined
  /** its job's id in the worker's supervisor, once the job reported progress */
  jobId: string | undefined
}

/** The message whose job has the id `jobId` and is running. */
const messageOfJob = (held: ReadonlyMap<Delivery, Held>, jobId: string): Delivery | undefined => {
  for (const [m, mark] of held) if (mark.fiber?.getRef(References.CurrentLogAnnotations)["job.id"] === jobId) return m
  return undefined
}

/** A core-NATS publish; on a closed connection it is dropped (what goes this way is best effort). */
const publishQuietly = (nc: NatsConnection, subject: string, body: string): void => {
  try {
    nc.publish(subject, body)
  } catch {
    // the connection is closed
  }
}

/** the job message's id (`Nats-Msg-Id`) */
const idOf = (m: Delivery): string => m.msg.headers?.get("Nats-Msg-Id") ?? ""

/** the shortest ack wait: a shorter one lets the server redeliver jobs a live worker holds (its progress acks come too late) */
const MIN_ACK_WAIT_MILLIS = 1_000

/** the public function a worker's bad option is refused by (its NatsArgumentError names it) */
const RUN = "NatsWorker.run"

/** how many cancelled ids a worker remembers, and how long: a cancel heard before its message arrived */
const CANCEL_MEMORY = 10_000
const CANCEL_MEMORY_MILLIS = 120_000

/** how long a worker whose consumer was lost waits before it makes a missing stream again (the server may still be removing its files) */
const RESTORE_SETTLE_MILLIS = 1_000
/** the pause after the first failed restore, doubled after each failure up to the second */
const RESTORE_FIRST_DELAY_MILLIS = 250
const RESTORE_MAX_DELAY_MILLIS = 5_000

/** the shortest time between two progress messages of a job */
const PROGRESS_INTERVAL_MILLIS = 250

/** The NatsArgumentError of a worker whose `ackWait` or `maxAckPending` is not the shared consumer's. */
const consumerMismatch = (
  consumer: string,
  found: connection.ConsumerLimits,
  options: { readonly ackWait?: Duration.Input | undefined; readonly maxAckPending?: number | undefined },
  ackWait: number,
  maxAckPending: number
): NatsArgumentError => {
  const also = "; pass updateConsumer: true to set it for every worker (or start this worker with that value)"
  return found.ackWaitMillis !== ackWait
    ? new NatsArgumentError(
        RUN,
        "ackWait",
        options.ackWait ?? `${ackWait} ms (the default)`,
        `the ack wait of the workers' consumer ${consumer}, ${found.ackWaitMillis} ms, that another worker set${also}`
      )
    : new NatsArgumentError(
        RUN,
        "maxAckPending",
        options.maxAckPending ?? `${maxAckPending} (the default)`,
        `the max ack pending of the workers' consumer ${consumer}, ${found.maxAckPending}, that another worker set${also}`
      )
}

/** The definitions by name, or a NatsArgumentError (not an array of definitions, a name twice). */
const definitionsOf = <R>(
  definitions: ReadonlyArray<Job.Definition<any, any, any, R>>
): Effect.Effect<Map<string, Job.Definition<any, any, any, R>>, NatsArgumentError> =>
  Effect.suspend(() => {
    if (!Array.isArray(definitions) || definitions.length === 0)
      return Effect.fail(
        new NatsArgumentError(RUN, "definitions", definitions, "a non-empty array of Job.define definitions")
      )
    const byName = new Map<string, Job.Definition<any, any, any, R>>()
    for (const [i, d] of definitions.entries()) {
      if (typeof d?.name !== "string" || typeof d.run !== "function" || !Schema.isSchema(d.payload))
        return Effect.fail(new NatsArgumentError(RUN, `definitions[${i}]`, d, "a Job.define definition"))
      if (byName.has(d.name))
        return Effect.fail(new NatsArgumentError(RUN, `definitions[${i}].name`, d.name, "a name not used twice"))
      byName.set(d.name, d)
    }
    return Effect.succeed(byName)
  })

/**
 * The work of `definition` for `payload`, as in-process (`Job.define`'s `make`): a `run` that throws
 * dies with what it threw, one that returns no Effect (a Promise, a value) dies with a
 * JobArgumentError naming `run`. Both are defects: final, published, termed.
 */
const runOf = <R>(
  definition: Job.Definition<any, any, any, R>,
  payload: unknown
): Effect.Effect<unknown, unknown, R> => {
  let job: unknown
  try {
    job = definition.run(payload)
  } catch (error) {
    return Effect.die(error)
  }
  return Effect.isEffect(job)
    ? (job as Effect.Effect<unknown, unknown, R>)
    : Effect.die(
        new JobArgumentError(
          "run",
          job,
          `an Effect from the run of job "${definition.name}" (wrap a Promise-returning function as Effect.tryPromise(() => f()))`,
          "Job.define"
        )
      )
}

/** how long an outcome's publish waits for the stream's ack before it is tried again (same message id) */
const PUBLISH_ACK_MILLIS = 5_000
