/**
 * The firing side: a layer that provides the `Supervisor` service of `@tributary/jobs` backed by
 * NATS JetStream. Firing or forking a job made by a `Job.define` definition publishes it to the
 * work-queue stream, to be run by a `NatsWorker`; its outcome comes back, is logged once by this
 * supervisor, put on `reportTo`, and completes `Job.await`, `Job.join` and `Job.all` as a local
 * job's would. A plain Effect cannot travel: it runs locally, with the same options and limits.
 * `dispatcher` provides only the sending side, for a supervisor that is already there (runMain's).
 *
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Job, Supervisor } from "@tributary/jobs"
 * import { NatsSupervisor } from "@tributary/nats"
 *
 * const clean = Job.define({ name: "clean", payload: Schema.Struct({ id: Schema.Number }), run: ({ id }) => Effect.succeed(id) })
 * const program = Effect.gen(function* () {
 *   const outcomes = yield* Job.all([1, 2, 3].map((id) => clean.make({ id })), { concurrency: 3 }) // run by the workers
 *   yield* Job.fire(Effect.log("local"))                                                          // runs here
 *   yield* Supervisor.drain
 *   return outcomes.map((o) => o._tag)
 * }).pipe(Effect.provide(NatsSupervisor.layer({ servers: "nats://127.0.0.1:4222", supervisor: { concurrency: 256 } })))
 * ```
 *
 * Gotchas:
 * - While a remote job runs, it holds a slot of this supervisor (its pool's and its key's too):
 *   the supervisor's `concurrency` bounds the jobs in flight from this process. Give it room
 *   (the workers' consumer's `maxAckPending` bounds what runs across all workers).
 * - A remote job's value and error come back as JSON: an error keeps its `_tag`, `name`, `message`
 *   and fields (so `Effect.catchTag` works), not its class; a bigint comes back as a string, a
 *   cycle as the string "[Circular]" at its place.
 * - Interrupting a remote job (`Job.interrupt`, its `timeout`, `Job.all`'s failFast, a shutdown past
 *   the grace) ends it here at once, as Interrupted, and cancels it on the workers, best effort: a
 *   worker that holds it interrupts it or drops it unrun, and a message not yet pulled is deleted
 *   from the stream. A worker cut off from the server at that moment runs it to its end (its
 *   outcome is ignored). See the README's Guarantees.
 * - `Job.progress` inside a remote job shows in this supervisor's `snapshot` and `watch` (the
 *   latest value, at most about four a second per job; progress is advisory: one sent while the
 *   connection is down is lost).
 * - A payload larger than the server's `max_payload` (1 MiB by default) is not published: the job
 *   dies at once with a `MessageTooLargeError`, as does one whose outcome is too large (on the
 *   worker). Pass a reference to large data instead.
 * - A payload travels as JSON, as its definition's Schema encoded it: one whose encoded side holds
 *   what JSON cannot carry (a bigint, a Date, a Map, a cycle, NaN, `undefined` in an array) is not
 *   published: the job dies at once with a `PayloadJsonError` naming the path. An `undefined`
 *   payload (`Schema.Undefined`, `Schema.Void`) travels.
 * - `retry` publishes the job again (a new message id per attempt); the worker retries typed
 *   failures itself first (`NatsWorker.run`'s `attempts`).
 *
 * @since 0.2.0
 */
import { type ConsumerMessages, type JsMsg, jetstream } from "@nats-io/jetstream"
import { Dispatcher, Job, Supervisor, type SupervisorConfigError } from "@tributary/jobs"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as References from "effect/References"
import * as Schedule from "effect/Schedule"
import { canceller } from "./internal/cancel.js"
import * as connection from "./internal/connection.js"
import {
  type CommonOptions,
  countOf,
  MAX_SERVER_MILLIS,
  millisOf,
  resolveCommon,
  supervisorConfigOf
} from "./internal/options.js"
import * as Publisher from "./internal/publisher.js"
import {
  decodeOutcome,
  decodeProgress,
  encodeHeaders,
  encodePayload,
  escapeHeader,
  exitOf,
  notJson
} from "./internal/wire.js"
import { MessageTooLargeError, type NatsArgumentError, NatsConnectError, PayloadJsonError } from "./NatsError.js"

/**
 * The options of `dispatcher`.
 *
 * @since 0.2.0
 */
export interface DispatcherOptions extends CommonOptions {
  /** how long a job's publish may take while the server cannot be reached or does not ack (default "1 minute"): every try, and its wait for the stream's ack, ends within it, counted from the first try; past it the job fails with a NatsConnectError defect */
  readonly publishTimeout?: Duration.Input
  /** job publishes awaiting the stream's ack at once (default 16; more wait in order); bench/nats.ts measured 16, 256 and 1024 alike */
  readonly publishWindow?: number
  /** how long outcomes stay in their stream (default "1 hour", at least 1 second, at most about 292 years: the server's int64 nanoseconds): the longest this process may be away (disconnected, or slow to read) before a finished job's outcome is gone; the stream keeps the longest asked by any supervisor started, whoever made it */
  readonly outcomeMaxAge?: Duration.Input
}

/**
 * The options of `layer`.
 *
 * @since 0.2.0
 */
export interface Options extends DispatcherOptions {
  /** the local supervisor's configuration (plain Effects run here under it; remote jobs hold its slots while in flight) */
  readonly supervisor?: Supervisor.Config
}

/**
 * Provides `Supervisor` (and the `Dispatcher` that sends defined jobs to JetStream). Connects at
 * build time: a server that cannot be reached fails with a `NatsConnectError` naming the URL; a
 * bad `supervisor` option fails first, with the `SupervisorConfigError` naming its path
 * (`supervisor.pools.db.concurrency`).
 * When its scope closes, the supervisor shuts down first (its grace covers the remote jobs in
 * flight, whose outcomes still arrive), then the connection drains.
 *
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Job } from "@tributary/jobs"
 * import { NatsSupervisor } from "@tributary/nats"
 *
 * const resize = Job.define({ name: "resize", payload: Schema.String, run: (path) => Effect.log(`resizing ${path}`) })
 * const JobsLive = NatsSupervisor.layer({
 *   servers: ["nats://nats-1:4222", "nats://nats-2:4222"],
 *   supervisor: { name: "api", concurrency: 256, pools: { images: { concurrency: 64 } } },
 *   publishTimeout: "30 seconds"
 * })
 * // published to JetStream, run by a NatsWorker; its outcome is logged here
 * const upload = (path: string) => Job.fire(resize.make(path), { pool: "images", timeout: "2 minutes" })
 * const program = upload("uploads/cat.png").pipe(Effect.provide(JobsLive))
 * ```
 *
 * @since 0.2.0
 */
export const layer = (
  options: Options
): Layer.Layer<
  Supervisor.Supervisor | Dispatcher.Dispatcher,
  NatsConnectError | NatsArgumentError | SupervisorConfigError
> =>
  Layer.effectContext(
    Effect.gen(function* () {
      // a bad supervisor option is refused before the server is touched
      if (typeof options === "object" && options !== null)
        yield* supervisorConfigOf("NatsSupervisor.layer", "supervisor.", options.supervisor)
      const remote = yield* makeDispatcher("NatsSupervisor.layer", options, [...dispatcherOptionKeys, "supervisor"])
      // built last: its shutdown (grace for the jobs in flight) runs before the consumer and the connection close
      const supervisor = yield* Layer.build(Supervisor.layer(options.supervisor))
      return Context.add(supervisor, Dispatcher.Dispatcher, remote.service)
    })
  )

/**
 * Provides only the `Dispatcher`: defined jobs fired under the `Supervisor` already in context
 * (the one of `Supervisor.runMain`, say) go to JetStream and are counted, logged, watched and shut
 * down by that supervisor like its local jobs — its exit line's `jobs.started` includes them.
 * Provide it around the program that fires the jobs: when its scope closes, it waits for the
 * outcomes of the remote jobs still in flight (at most `outcomeMaxAge`, with a warning line when
 * there are any: with no worker running it waits that long), then the connection drains. Under `runMain`, a signal shuts the supervisor down first (its grace covers the remote
 * jobs), then the program and this layer end.
 *
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Job, Supervisor } from "@tributary/jobs"
 * import { NatsSupervisor } from "@tributary/nats"
 *
 * const clean = Job.define({ name: "clean", payload: Schema.Struct({ id: Schema.Number }), run: ({ id }) => Effect.succeed(id) })
 * Supervisor.runMain(
 *   Job.all([1, 2, 3].map((id) => clean.make({ id })), { concurrency: 3 }).pipe(
 *     Effect.provide(NatsSupervisor.dispatcher({ servers: "nats://127.0.0.1:4222" }))
 *   ),
 *   { supervisor: { concurrency: 256 } }
 * )
 * ```
 *
 * @since 0.2.0
 */
export const dispatcher = (
  options: DispatcherOptions
): Layer.Layer<Dispatcher.Dispatcher, NatsConnectError | NatsArgumentError> =>
  Layer.effect(
    Dispatcher.Dispatcher,
    Effect.gen(function* () {
      // the supervisor that runs the jobs (runMain's, say), outside this layer: its jobs fired
      // and not yet started when this scope closes are waited for too
      const supervisor = yield* Effect.serviceOption(Supervisor.Supervisor)
      const remote = yield* makeDispatcher("NatsSupervisor.dispatcher", options)
      yield* Effect.addFinalizer(() =>
        remote.settled(supervisor._tag === "Some" ? supervisor.value.snapshot : Effect.succeed(undefined))
      )
      return remote.service
    })
  )

/** How often the workers' consumer is looked at while remote jobs wait (see `workersIdle`). */
const WORKER_CHECK_MILLIS = 10_000

/** The options of `dispatcher` beyond `servers` and `prefix` (`layer` adds `supervisor`). */
const dispatcherOptionKeys: ReadonlyArray<string> = ["publishTimeout", "publishWindow", "outcomeMaxAge"]

/**
 * The connection, the outcomes consumer, the publisher and the stand-in of every defined job, in the
 * current scope; a bad option fails with a NatsArgumentError naming `fn` (`layer` or `dispatcher`).
 */
const makeDispatcher = (fn: string, options: DispatcherOptions, others: ReadonlyArray<string> = dispatcherOptionKeys) =>
  Effect.gen(function* () {
    const { servers, names } = yield* resolveCommon(fn, options, others)
    const publishTimeout = yield* millisOf(fn, "publishTimeout", options.publishTimeout, "1 minute")
    const outcomeMaxAge = yield* millisOf(fn, "outcomeMaxAge", options.outcomeMaxAge, "1 hour", {
      min: {
        millis: MIN_OUTCOME_MAX_AGE_MILLIS,
        why: "an outcome must outlive a reader that is a moment late; the server refuses less than 100 ms"
      },
      max: MAX_SERVER_MILLIS
    })
    const publishWindow = yield* countOf(fn, "publishWindow", options.publishWindow, 16)
    const instance = crypto.randomUUID().replaceAll("-", "")
    const nc = yield* connection.open(servers, `tributary-supervisor-${instance}`)
    const jsm = yield* connection.manager(nc, servers)
    yield* connection.ensureStreams(fn, jsm, names, outcomeMaxAge, servers, { raiseOutcomeMaxAge: true })
    const js = jetstream(nc)
    const reply = `${names.outcomesPrefix}.${instance}`

    // the jobs waiting for their outcome, by message id: each is completed at most once
    const waiting = new Map<string, Waiter>()
    /** the jobs dispatched (fired) whose stand-in has not started yet */
    let unstarted = 0
    const onOutcome = (m: JsMsg) => {
      const o = decodeOutcome(m.string())
      if (o === undefined) return
      const waiter = waiting.get(o.id)
      if (waiter === undefined) return // a second outcome of a redelivered job, or one no longer awaited
      waiting.delete(o.id)
      Deferred.doneUnsafe(waiter.deferred, exitOf(o) as Exit.Exit<unknown, unknown>)
    }
    /** an ordered consumer of this supervisor's outcomes, from the start of the stream */
    const consumeOutcomes = Effect.tryPromise({
      try: () =>
        js.consumers.get(names.outcomesStream, { filter_subjects: reply }).then((c) =>
          c.consume({
            // a short pull expiry: after a server restart the consumer is back within seconds
            // (with the default 30 s it stalled ~45 s here)
            expires: 2_000,
            callback: onOutcome
          })
        ),
      catch: (cause) => new NatsConnectError(servers.join(", "), cause)
    })
    let outcomes = yield* consumeOutcomes
    yield* Effect.addFinalizer(() => Effect.promise(() => outcomes.close().catch(() => undefined)))
    /** when the outcomes stream was made (another time: it was deleted and made again); undefined while it is missing */
    const streamCreated = Effect.tryPromise(() => jsm.streams.info(names.outcomesStream)).pipe(
      Effect.map((info) => info.created),
      Effect.orElseSucceed(() => undefined)
    )
    let created = yield* streamCreated
    /**
     * Replaces the consumer when the outcomes stream was deleted and made again (by a worker whose
     * outcome found no stream): the ordered consumer comes back by itself, but at the old stream's
     * next sequence, which the new one (its sequences start at 1) may not reach for a long while.
     * The new consumer reads the new stream from its start (an outcome seen twice is ignored).
     */
    const watchOutcomes = (messages: ConsumerMessages): Effect.Effect<void> => {
      const statuses = messages.status()[Symbol.asyncIterator]()
      const next: Effect.Effect<void> = Effect.flatMap(
        Effect.promise(() => statuses.next()),
        (status): Effect.Effect<void> => {
          if (status.done === true) return Effect.void // closed
          if (status.value.type !== "ordered_consumer_recreated") return next
          return Effect.flatMap(streamCreated, (now) => {
            if (now === undefined || now === created) return next
            created = now
            return Effect.promise(() => messages.close().catch(() => undefined)).pipe(
              Effect.andThen(Effect.retry(consumeOutcomes, { schedule: Schedule.spaced(250) })),
              Effect.flatMap((fresh) => {
                outcomes = fresh
                return watchOutcomes(fresh)
              }),
              Effect.ignore
            )
          })
        }
      )
      return next
    }
    yield* Effect.forkScoped(watchOutcomes(outcomes))

    // the progress of this supervisor's jobs (core NATS, coalesced by the workers): set on the
    // job's entry by `Job.progress` run in the context of its stand-in's fiber
    yield* Effect.acquireRelease(
      Effect.sync(() =>
        nc.subscribe(`${names.progressPrefix}.${instance}`, {
          callback: (error, m) => {
            if (error !== null) return
            const p = decodeProgress(m.string())
            const waiter = p === undefined ? undefined : waiting.get(p.id)
            if (p === undefined || waiter === undefined) return // late: the job has ended here
            // never throws (a callback that throws ends the subscription): a logger that throws on
            // the progress line loses that line only
            Effect.runSyncExitWith(waiter.fiber.context)(Job.progress(p.progress))
          }
        })
      ),
      (sub) => Effect.sync(() => sub.unsubscribe())
    )

    // a job waits in the stream until a worker pulls it: with no worker running, it would wait with no
    // word (a newcomer's first try). While remote jobs wait, the workers' consumer is looked at every
    // WORKER_CHECK_MILLIS; one warn line when two looks in a row find nobody pulling (an idle
    // worker may be between two pull requests at one look), again only after a look found a
    // worker pulling, or no remote job waiting
    yield* Effect.forkScoped(
      Effect.gen(function* () {
        let idleLooks = 0
        while (true) {
          yield* Effect.sleep(WORKER_CHECK_MILLIS)
          if (waiting.size === 0) {
            idleLooks = 0
            continue
          }
          const look = yield* connection.lookAtWorkers(jsm, names)
          if (look === undefined) continue // the server did not say: this look counts neither way
          if (!look.idle) {
            idleLooks = 0
            continue
          }
          if (++idleLooks !== 2) continue
          yield* Effect.logWarning(
            `${waiting.size} remote job(s) wait for a worker, and no worker is pulling from ${names.jobsStream} ` +
              `(consumer ${names.consumer} ${look.missing ? "does not exist yet" : "has no pull request waiting and no job in hand"}): ` +
              `start one with NatsWorker.run({ servers, prefix: "${names.prefix}", definitions }); the jobs run once one pulls them`
          )
        }
      })
    )

    const publisher = yield* Publisher.make(nc, PUBLISH_ACK_MILLIS, publishWindow)
    const cancels = canceller(nc, jsm, names)
    // before the connection drains: the deletes of jobs cancelled by the shutdown are answered
    yield* Effect.addFinalizer(() => cancels.settled)

    /** What runs here in place of one defined job: publish it, then wait for its outcome. */
    const remote = (definition: string, body: string): Effect.Effect<unknown, unknown> => {
      let attempt = 0
      unstarted++
      return Effect.withFiber<unknown, unknown>((fiber) => {
        if (attempt === 0) unstarted--
        const annotations = fiber.getRef(References.CurrentLogAnnotations)
        // a caller-given job id may hold a line break, which a header cannot
        const id = `${instance}.${escapeHeader(String(annotations["job.id"]))}.${++attempt}`
        const deferred = Deferred.makeUnsafe<unknown, unknown>()
        waiting.set(id, { deferred, fiber })
        const headers = encodeHeaders({
          definition,
          name: String(annotations["job.name"] ?? definition),
          pool: poolOf(annotations["job.pool"]),
          key: typeof annotations["job.key"] === "string" ? annotations["job.key"] : undefined,
          reply,
          annotations: userAnnotations(annotations)
        })
        /** the latest publish of the job (its stream sequence), for a cancel to delete the message */
        let stored: Promise<number> | undefined
        /** the publishes of the job tried (a retry follows one that may have reached the stream) */
        let tries = 0
        /** one try, rejected by `deadline` (a `Date.now()` time) at the latest, sent or not */
        const publishOnce = (deadline: number) =>
          Effect.tryPromise({
            try: () => {
              tries++
              return (stored = publisher.publish(names.jobsSubject, body, id, headers, deadline))
            },
            catch: (cause) =>
              cause instanceof Publisher.TooLargeError
                ? new MessageTooLargeError(definition, "payload", cause.bytes, cause.limit)
                : new NatsConnectError(servers.join(", "), cause)
          })
        // the whole publish ends by `publishTimeout` after the first try began: retried with the
        // same message id (a publish that did reach the stream is not a second job) every 250 ms,
        // each try waiting for its ack at most what is left (the publisher's wall clock: the acks
        // come over the network); a payload too large for the server is never retried
        const retryUntil = (deadline: number): Effect.Effect<unknown> =>
          Effect.catch(publishOnce(deadline), (error) => {
            if (error._tag === "MessageTooLargeError") return Effect.die(error)
            const left = deadline - Date.now()
            return left <= 0
              ? Effect.die(
                  new NatsConnectError(
                    servers.join(", "),
                    new Error(`the job's publish was not acked within publishTimeout (${publishTimeout} ms)`, {
                      cause: error.cause
                    })
                  )
                )
              : Effect.andThen(Effect.sleep(Math.min(250, left)), retryUntil(deadline))
          })
        const publish = Effect.suspend(() => retryUntil(Date.now() + publishTimeout))
        return Effect.andThen(publish, Deferred.await(deferred)).pipe(
          // interrupted here (Job.interrupt, a timeout, a group's failFast, a shutdown): cancelled on
          // the workers; not when its outcome said Interrupted (it has ended there: no longer waited
          // for), nor when its only publish still waited in the window (withdrawn: never sent; a
          // failFast group of 2,001 jobs published 1,951 after its failure, then deleted each)
          Effect.onInterrupt(() =>
            Effect.sync(() => {
              if (!waiting.has(id)) return
              if (publisher.withdraw(id) && tries === 1) return
              cancels.cancel(id, stored)
            })
          ),
          Effect.ensuring(Effect.sync(() => waiting.delete(id)))
        )
      })
    }
    const service: Dispatcher.Service = {
      // checked when the job is fired: one JSON cannot carry dies at once, never published
      dispatch: (defined) => {
        const problem = notJson(defined.encoded)
        return problem === undefined
          ? remote(defined.name, encodePayload(defined.encoded))
          : Effect.die(new PayloadJsonError(defined.name, problem.path, problem.found))
      }
    }
    /**
     * The remote jobs in flight: those waiting for their outcome, and those dispatched (fired) and
     * not yet started while the supervisor that runs them (its `snapshot`) has jobs to start — once
     * it has none, the unstarted ones were dropped or discarded and never will. Without that
     * supervisor, only the first.
     */
    const inFlight = (snapshot: Effect.Effect<Supervisor.Snapshot | undefined>) =>
      Effect.gen(function* () {
        if (unstarted === 0) return waiting.size
        const s = yield* snapshot
        const pending = s === undefined ? 0 : s.totals.running + s.totals.queued + s.totals.delayed + s.waitingForRoom
        return waiting.size + (pending > 0 ? unstarted : 0)
      })
    /**
     * until no remote job is in flight (or `outcomeMaxAge` has passed: an outcome is gone by then),
     * saying so when one is: with no worker running, that is the whole `outcomeMaxAge`. A job fired
     * just before (`Job.fire`, then the program ends) is published and waited for: it failed on the
     * closed connection
     */
    const settled = (snapshot: Effect.Effect<Supervisor.Snapshot | undefined>) =>
      Effect.gen(function* () {
        const first = yield* inFlight(snapshot)
        if (first === 0) return
        yield* Effect.logInfo(
          `waiting for the outcomes of ${first} remote job(s) still in flight, at most outcomeMaxAge (${outcomeMaxAge} ms)`
        )
        const deadline = (yield* Clock.currentTimeMillis) + outcomeMaxAge
        let left = first
        while (left > 0 && (yield* Clock.currentTimeMillis) < deadline) {
          yield* Effect.sleep(25)
          left = yield* inFlight(snapshot)
        }
        if (left > 0)
          yield* Effect.logWarning(`gave up waiting for the outcomes of ${left} remote job(s) after outcomeMaxAge`)
      })
    return { service, settled }
  })

// ── private helpers ─────────────────────────────────────────────────────────

/** A remote job in flight: its outcome completes `deferred`; its progress is set in `fiber`'s context. */
interface Waiter {
  readonly deferred: Deferred.Deferred<unknown, unknown>
  readonly fiber: Fiber.Fiber<unknown, unknown>
}

/** how long a job's publish waits for the stream's ack before it is tried again (same message id) */
const PUBLISH_ACK_MILLIS = 5_000

/** an outcomeMaxAge below this is refused (the server refuses one below 100 ms, as "cannot reach NATS") */
const MIN_OUTCOME_MAX_AGE_MILLIS = 1_000

/** The pool a job names; the default pool travels as none. */
const poolOf = (pool: unknown): string | undefined =>
  typeof pool === "string" && pool !== "default" ? pool : undefined

/** The job's log annotations without its identity (`job.*`), for the worker's lines. */
const userAnnotations = (annotations: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined => {
  let out: Record<string, unknown> | undefined
  for (const k of Object.keys(annotations))
    if (!k.startsWith("job.")) {
      out ??= {}
      out[k] = annotations[k]
    }
  return out
}
