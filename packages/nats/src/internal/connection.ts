/**
 * The connection to NATS and the JetStream topology both sides share: the work-queue stream of
 * jobs (file storage), the stream of outcomes (file storage, kept `outcomeMaxAge`), and the
 * durable pull consumer of the workers.
 *
 * Invariants:
 * - The connection is opened in the caller's scope and drained when it closes (pending acks and
 *   publishes are flushed first); it reconnects for ever while the scope is open.
 * - `ensureStreams` and `ensureConsumer` are idempotent: each side may call them at every start;
 *   `ensureConsumer` changes the consumer's `ack_wait` and `max_ack_pending` only when told to
 *   (otherwise it says what they are when they differ from the worker's).
 * - `restoreConsumer` (a worker whose consumer may be gone) makes the consumer only if it is
 *   missing: one that is there keeps its configuration. A consumer made where the server said none
 *   was holds no old deliveries: one made over the files a delete of its name left (the server
 *   takes over their state: delivered, never active) is deleted and made again, up to 3 times; one
 *   another worker made meanwhile is kept.
 * - A stream `ensureStreams` made stores messages when it returns: it stored a probe message
 *   (removed again at once). The server deletes a stream in two steps: it forgets it (its consumers
 *   hear 409 Consumer Deleted, and `streams.info` says it is gone), then removes its files; a stream
 *   of that name made between the two takes over the old files (and the old messages), and once
 *   they are removed it cannot store any more (every publish is refused: "error opening msg block
 *   file"). Such a stream is deleted (the server answers once its files are gone) and made again,
 *   up to 3 times. The probe goes to a subject of its own (`<jobs subject>.probe`,
 *   `<outcomes prefix>.probe`) and carries the `PROBE_HEADER`: no job, no supervisor's outcome.
 *   A stream the server made but does not yet listen on its subjects (no responders: seen on a
 *   loaded machine) is probed again for up to 4.35 s before `ensureStreams` fails.
 * - A stream of our name that does not take our subject (made with a prefix differing only in
 *   case: stream names are upper-cased; or not ours at all) is not used: `ensureStreams` fails with
 *   a NatsArgumentError naming the prefix (its jobs could never be stored or pulled).
 * - With `raiseOutcomeMaxAge`, the outcomes stream keeps its outcomes at least as long as asked:
 *   the longest `outcomeMaxAge` of the supervisors started holds (a worker makes it with 1 hour).
 * - With `settleMillis`, a stream found missing is made only that long later, and only if it is
 *   missing still (the server may be between the two steps above).
 *
 * @internal
 */
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo
} from "@nats-io/jetstream"
import { connect, headers as makeHeaders, type NatsConnection } from "@nats-io/transport-node"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { NatsArgumentError, NatsConnectError } from "../NatsError.js"
import { splitCredentials } from "./credentials.js"
import { type Names, PROBE_HEADER } from "./wire.js"

/**
 * Opens a connection in the current scope, drained when it closes; a server that cannot be reached
 * fails with NatsConnectError. Credentials in the URLs (`nats://user:password@host`,
 * `nats://token@host`) are sent as the client's options (it ignores them in a URL). A `tls://` URL requires TLS: the client alone drops the scheme and
 * talks in the clear to a server that does not offer TLS; here such a server is refused.
 */
export const open = (
  servers: ReadonlyArray<string>,
  name: string
): Effect.Effect<NatsConnection, NatsConnectError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => {
        const split = splitCredentials(servers)
        if (split === undefined) throw new Error("the URLs carry different credentials (the client sends one set)")
        return connect({
          servers: split.urls,
          ...split.auth,
          name,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          timeout: 5_000,
          // without it every request (each publish awaiting its ack) makes two Errors up front for
          // their stack traces: a quarter of the firing process's CPU in a profile of bench/nats.ts
          noAsyncTraces: true,
          ...(servers.some((url) => /^tls:\/\//i.test(url)) ? { tls: {} } : {})
        })
      },
      catch: (cause) => new NatsConnectError(servers.join(", "), cause)
    }),
    (nc) => Effect.promise(() => nc.drain().catch(() => nc.close()))
  )

/** The JetStream manager of `nc`. */
export const manager = (
  nc: NatsConnection,
  servers: ReadonlyArray<string>
): Effect.Effect<JetStreamManager, NatsConnectError> =>
  Effect.tryPromise({
    try: () => jetstreamManager(nc),
    catch: (cause) => new NatsConnectError(servers.join(", "), cause)
  })

/** What `ensureStreams` does besides making the missing streams. */
export interface EnsureOptions {
  /**
   * How long a stream found missing waits before it is made, and then only if it is still missing
   * (default 0): a worker whose consumer was deleted gives the server time to finish deleting the
   * stream (see the invariants).
   */
  readonly settleMillis?: number
  /**
   * An outcomes stream that exists keeps its outcomes at least `outcomeMaxAgeMillis`: a shorter
   * max age (made by a worker, or by a supervisor with a shorter `outcomeMaxAge`) is raised to it,
   * never lowered (the firing side sets it: a worker does not know the supervisors' needs)
   */
  readonly raiseOutcomeMaxAge?: boolean
  /** runs after a stream was made, before it is checked (tests: the server removing the old files then) */
  readonly afterMake?: (stream: string) => Promise<void>
  /** runs before a probe is published again because the stream did not answer (tests: the stream made then) */
  readonly beforeProbeRetry?: (stream: string) => Promise<void>
}

/**
 * Makes the jobs and outcomes streams if they do not exist; a stream it made stores messages when
 * it succeeds (see the invariants). The names of the streams it made. A prefix whose streams are
 * another's fails with a NatsArgumentError naming `fn`, the public function that was given it.
 */
export const ensureStreams = (
  fn: string,
  jsm: JetStreamManager,
  names: Names,
  outcomeMaxAgeMillis: number,
  servers: ReadonlyArray<string>,
  options: EnsureOptions = {}
): Effect.Effect<ReadonlyArray<string>, NatsConnectError | NatsArgumentError> =>
  Effect.all(
    [
      streamOf(
        jsm,
        names.jobsSubject,
        {
          name: names.jobsStream,
          // the probe has a subject of its own: what listens to the jobs subject never sees it
          subjects: [names.jobsSubject, `${names.jobsSubject}.probe`],
          retention: RetentionPolicy.Workqueue,
          storage: StorageType.File
        },
        `${names.jobsSubject}.probe`,
        options
      ),
      streamOf(
        jsm,
        `${names.outcomesPrefix}.>`,
        {
          name: names.outcomesStream,
          subjects: [`${names.outcomesPrefix}.>`],
          retention: RetentionPolicy.Limits,
          storage: StorageType.File,
          max_age: nanos(outcomeMaxAgeMillis)
        },
        // no supervisor listens there
        `${names.outcomesPrefix}.probe`,
        options
      )
    ],
    { concurrency: 2 }
  ).pipe(
    Effect.map((made) => made.filter((name) => name !== undefined)),
    Effect.mapError((cause) =>
      cause instanceof StreamTaken
        ? new NatsArgumentError(
            fn,
            "prefix",
            names.prefix,
            `a prefix whose streams are its own: the stream ${cause.stream} exists with the subjects ${cause.subjects.join(", ") || "(none)"}, not ${cause.subject} (made with another prefix, one differing only in case: stream names are upper-cased)`
          )
        : new NatsConnectError(servers.join(", "), cause)
    )
  )

/** The consumer's settings a worker gives. */
export interface ConsumerLimits {
  readonly ackWaitMillis: number
  readonly maxAckPending: number
}

/**
 * Makes the workers' durable pull consumer. One that exists with another ack wait or max ack
 * pending is updated to these with `update`; without, it is left alone and its values are
 * returned (undefined when it was made, or has these values).
 */
export const ensureConsumer = (
  jsm: JetStreamManager,
  names: Names,
  ackWaitMillis: number,
  maxAckPending: number,
  servers: ReadonlyArray<string>,
  update: boolean
): Effect.Effect<ConsumerLimits | undefined, NatsConnectError> =>
  Effect.flatMap(consumerOf(jsm, names, ackWaitMillis, maxAckPending, servers), (made) =>
    made
      ? Effect.succeed(undefined)
      : Effect.tryPromise({
          // there already (or made by another worker meanwhile, with its values)
          try: async (): Promise<ConsumerLimits | undefined> => {
            const { config } = await jsm.consumers.info(names.jobsStream, names.consumer)
            // the server's defaults when unset (30 s, 1000); one made by another tool may lack them
            const ackWait = config.ack_wait ?? 30_000_000_000
            const found = { ackWaitMillis: ackWait / 1_000_000, maxAckPending: config.max_ack_pending ?? 1000 }
            if (ackWait === nanos(ackWaitMillis) && found.maxAckPending === maxAckPending) return undefined
            if (!update) return found
            await jsm.consumers.update(names.jobsStream, names.consumer, {
              ack_wait: nanos(ackWaitMillis),
              max_ack_pending: maxAckPending
            })
            return undefined
          },
          catch: (cause) => new NatsConnectError(servers.join(", "), cause)
        })
  )

/**
 * Makes the workers' durable pull consumer if it is missing (deleted under the workers, say);
 * true when this call made it (or found it made by another meanwhile). `beforeAdd` runs once the
 * server said it was missing (tests: another worker makes it then).
 */
export const restoreConsumer = (
  jsm: JetStreamManager,
  names: Names,
  ackWaitMillis: number,
  maxAckPending: number,
  servers: ReadonlyArray<string>,
  beforeAdd?: () => Promise<void>
): Effect.Effect<boolean, NatsConnectError> => consumerOf(jsm, names, ackWaitMillis, maxAckPending, servers, beforeAdd)

// ── private helpers ─────────────────────────────────────────────────────────

const consumerOf = (
  jsm: JetStreamManager,
  names: Names,
  ackWaitMillis: number,
  maxAckPending: number,
  servers: ReadonlyArray<string>,
  beforeAdd: () => Promise<void> = () => Promise.resolve()
): Effect.Effect<boolean, NatsConnectError> =>
  Effect.tryPromise({
    try: (): Promise<boolean> =>
      jsm.consumers.info(names.jobsStream, names.consumer).then(
        () => false,
        (e: unknown) =>
          beforeAdd().then(() =>
            addFresh(
              jsm,
              names,
              {
                durable_name: names.consumer,
                ack_policy: AckPolicy.Explicit,
                deliver_policy: DeliverPolicy.All,
                ack_wait: nanos(ackWaitMillis),
                max_ack_pending: maxAckPending,
                max_deliver: -1
              },
              // only a consumer the server said was missing can have been made over leftover files
              isApiError(e, JetStreamApiCodes.ConsumerNotFound) ? MAKE_ATTEMPTS : 1
            ).then(
              () => true,
              // another worker may have made it meanwhile
              () => jsm.consumers.info(names.jobsStream, names.consumer).then(() => false)
            )
          )
      ),
    catch: (cause) => new NatsConnectError(servers.join(", "), cause)
  })

/**
 * Adds the consumer, which the server said was missing. One that took over the state of a deleted
 * consumer of that name (made over the files its delete left: it has delivered messages but never
 * been active — a consumer another worker made meanwhile and pulled from has a `last_active`, and
 * is kept) would hold the jobs it had delivered until the ack wait before anyone ran them again:
 * it is deleted, which removes those files, and added again, up to `attempts` times.
 */
const addFresh = (
  jsm: JetStreamManager,
  names: Names,
  config: Partial<ConsumerConfig> & { readonly durable_name: string },
  attempts: number
): Promise<ConsumerInfo> =>
  jsm.consumers
    .add(names.jobsStream, config)
    .then((info) =>
      info.delivered.consumer_seq === 0 || info.delivered.last_active !== undefined || attempts <= 1
        ? info
        : jsm.consumers.delete(names.jobsStream, names.consumer).then(() => addFresh(jsm, names, config, attempts - 1))
    )

/** millis as the server's whole nanoseconds (a fraction is not JSON it takes) */
const nanos = (millis: number): number => Math.round(millis * 1_000_000)

/** how many times `streamOf` makes a stream that cannot store before it gives up (its caller may try again later) */
const MAKE_ATTEMPTS = 3

/** JetStream's error code of a message the stream's store could not write (not in JetStreamApiCodes) */
const STORE_FAILED = 10077

const call = <A>(f: () => Promise<A>): Effect.Effect<A, unknown> => Effect.tryPromise({ try: f, catch: (e) => e })

/** The stream's info, or undefined when it does not exist. */
const infoOf = (jsm: JetStreamManager, stream: string): Effect.Effect<StreamInfo | undefined, unknown> =>
  Effect.catch(
    call(() => jsm.streams.info(stream)),
    (e) => (isApiError(e, JetStreamApiCodes.StreamNotFound) ? Effect.succeed(undefined) : Effect.fail(e))
  )

const exists = (jsm: JetStreamManager, stream: string): Effect.Effect<boolean, unknown> =>
  Effect.map(infoOf(jsm, stream), (info) => info !== undefined)

/** A stream of our name that does not take our subject (see the invariants). */
class StreamTaken {
  constructor(
    readonly stream: string,
    readonly subjects: ReadonlyArray<string>,
    readonly subject: string
  ) {}
}

const isApiError = (e: unknown, code: number): e is JetStreamApiError =>
  e instanceof JetStreamApiError && e.code === code

/**
 * Makes the stream `config.name` if it is missing (after `settleMillis`, if it is missing still),
 * then publishes a probe message to `probeSubject` and deletes it. A stream whose store refused the
 * probe is deleted and made again (see the invariants). Its name when this call made it.
 */
const streamOf = (
  jsm: JetStreamManager,
  subject: string,
  config: Partial<StreamConfig> & { readonly name: string },
  probeSubject: string,
  options: EnsureOptions
): Effect.Effect<string | undefined, unknown> =>
  Effect.gen(function* () {
    const name = config.name
    const found = yield* infoOf(jsm, name)
    if (found !== undefined) {
      const subjects = found.config.subjects ?? []
      if (!subjects.includes(subject)) return yield* Effect.fail(new StreamTaken(name, subjects, subject))
      // only the outcomes stream has a max age; 0 is no limit
      const maxAge = config.max_age ?? 0
      if (options.raiseOutcomeMaxAge === true && found.config.max_age > 0 && found.config.max_age < maxAge)
        yield* call(() => jsm.streams.update(name, { ...found.config, max_age: maxAge }))
      return undefined
    }
    if (options.settleMillis !== undefined && options.settleMillis > 0) {
      yield* Effect.sleep(options.settleMillis)
      if (yield* exists(jsm, name)) return undefined
    }
    for (let attempt = 1; ; attempt++) {
      // another process may have made it meanwhile (with another configuration: the add fails)
      const added = yield* Effect.catch(
        Effect.as(
          call(() => jsm.streams.add(config)),
          true
        ),
        (e) => Effect.flatMap(exists(jsm, name), (there) => (there ? Effect.succeed(false) : Effect.fail(e)))
      )
      if (!added) return undefined
      if (options.afterMake !== undefined) yield* call(() => options.afterMake!(name))
      const refused = yield* probe(jsm, name, probeSubject, options)
      if (refused === undefined) return name
      if (attempt >= MAKE_ATTEMPTS)
        return yield* Effect.fail(new Error(`the stream ${name} cannot store messages: ${refused.message}`))
      // answered once the server has removed its files: the next one starts clean
      yield* Effect.ignore(call(() => jsm.streams.delete(name)))
    }
  })

/**
 * Publishes a probe message to the stream (then deletes it): the store error that refused it, or
 * undefined when it was stored. A stream that does not answer yet (the server has made it but not
 * yet subscribed it to its subjects — seen on a loaded machine: the client says "jetstream is not
 * enabled") is probed again after `PROBE_WAITS[i]` ms, each time after `beforeProbeRetry`. Other
 * failures, or no answer after the last wait, fail.
 */
const probe = (
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  options: EnsureOptions
): Effect.Effect<Error | undefined, unknown> => {
  const headers = makeHeaders()
  headers.set(PROBE_HEADER, "1")
  const once = (attempt: number): Effect.Effect<Error | undefined, unknown> =>
    Effect.matchEffect(
      call(() =>
        jsm.jetstream().publish(subject, "", {
          msgID: `tributary-probe.${crypto.randomUUID()}`,
          headers,
          expect: { streamName: stream }
        })
      ),
      {
        onSuccess: (ack) =>
          // a worker may have pulled it already (it acks a probe without a word)
          Effect.as(Effect.ignore(call(() => jsm.streams.deleteMessage(stream, ack.seq, false))), undefined),
        onFailure: (e) => {
          if (isApiError(e, STORE_FAILED)) return Effect.succeed(e)
          if (!notListening(e) || attempt >= PROBE_WAITS.length) return Effect.fail(e)
          return Effect.sleep(PROBE_WAITS[attempt]!).pipe(
            Effect.andThen(
              options.beforeProbeRetry === undefined ? Effect.void : call(() => options.beforeProbeRetry!(stream))
            ),
            Effect.andThen(once(attempt + 1))
          )
        }
      }
    )
  return once(0)
}

/** the waits (ms) before each new probe of a stream that does not answer yet: 4.35 s in all */
const PROBE_WAITS: ReadonlyArray<number> = [50, 100, 200, 500, 1_000, 2_500]

/** a request nobody answered: the client's JetStreamNotEnabled (its cause: no responders) */
const notListening = (e: unknown): boolean => e instanceof Error && e.name === "JetStreamNotEnabled"

/**
 * Whether no worker pulls the jobs: the workers' consumer does not exist (no worker ever started
 * with this prefix), or it has neither a pull request waiting (an idle worker asks for jobs all the
 * time) nor a job delivered and not yet acked (a busy worker holds its jobs until they end).
 */
export const workersIdle = (
  info: { readonly num_waiting: number; readonly num_ack_pending: number } | undefined
): boolean => info === undefined || (info.num_waiting === 0 && info.num_ack_pending === 0)

/**
 * One look at the workers' consumer for the no-worker warning: `idle` as `workersIdle` says,
 * `missing` when the server says there is no such consumer; undefined when the server did not
 * answer the question (a lost connection, a permission the firing account lacks): that look
 * counts neither way.
 */
export const lookAtWorkers = (
  jsm: JetStreamManager,
  names: Names
): Effect.Effect<{ readonly idle: boolean; readonly missing: boolean } | undefined> =>
  Effect.tryPromise({
    try: () => jsm.consumers.info(names.jobsStream, names.consumer),
    catch: (e) => e
  }).pipe(
    Effect.map((info) => ({ idle: workersIdle(info), missing: false })),
    Effect.catch((e) =>
      Effect.succeed(isApiError(e, JetStreamApiCodes.ConsumerNotFound) ? { idle: true, missing: true } : undefined)
    )
  )
