/**
 * The connection to NATS and the JetStream topology both sides share: the work-queue stream of
 * jobs (file storage), the stream of outcomes (file storage, kept `outcomeMaxAge`), and the
 * durable pull consumer of the workers.
 *
 * Invariants:
 * - The connection is opened in the caller's scope and drained when it closes (pending acks and
 *   publishes are flushed first); it reconnects for ever while the scope is open.
 * - `ensureStreams` and `ensureConsumer` are idempotent: each side may call them at every start;
 *   the consumer's `ack_wait` and `max_ack_pending` follow the last worker started.
 * - `restoreConsumer` (a worker whose consumer may be gone) makes the consumer only if it is
 *   missing: one that is there keeps its configuration.
 *
 * @internal
 */
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType
} from "@nats-io/jetstream"
import { connect, type NatsConnection } from "@nats-io/transport-node"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { NatsConnectError } from "../NatsError.js"
import type { Names } from "./wire.js"

/** Opens a connection in the current scope, drained when it closes; a server that cannot be reached fails with NatsConnectError. */
export const open = (
  servers: ReadonlyArray<string>,
  name: string
): Effect.Effect<NatsConnection, NatsConnectError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () =>
        connect({
          servers: [...servers],
          name,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          timeout: 5_000,
          // without it every request (each publish awaiting its ack) makes two Errors up front for
          // their stack traces: a quarter of the firing process's CPU in a profile of bench/nats.ts
          noAsyncTraces: true
        }),
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

/** Makes the jobs and outcomes streams if they do not exist. */
export const ensureStreams = (
  jsm: JetStreamManager,
  names: Names,
  outcomeMaxAgeMillis: number,
  servers: ReadonlyArray<string>
): Effect.Effect<void, NatsConnectError> =>
  Effect.tryPromise({
    try: () =>
      Promise.all([
        addIfMissing(jsm, names.jobsStream, () =>
          jsm.streams.add({
            name: names.jobsStream,
            subjects: [names.jobsSubject],
            retention: RetentionPolicy.Workqueue,
            storage: StorageType.File
          })
        ),
        addIfMissing(jsm, names.outcomesStream, () =>
          jsm.streams.add({
            name: names.outcomesStream,
            subjects: [`${names.outcomesPrefix}.>`],
            retention: RetentionPolicy.Limits,
            storage: StorageType.File,
            max_age: outcomeMaxAgeMillis * 1_000_000
          })
        )
      ]),
    catch: (cause) => new NatsConnectError(servers.join(", "), cause)
  })

/** Makes the workers' durable pull consumer, or updates its ack wait and max ack pending. */
export const ensureConsumer = (
  jsm: JetStreamManager,
  names: Names,
  ackWaitMillis: number,
  maxAckPending: number,
  servers: ReadonlyArray<string>
): Effect.Effect<void, NatsConnectError> =>
  Effect.asVoid(consumerOf(jsm, names, ackWaitMillis, maxAckPending, servers, true))

/**
 * Makes the workers' durable pull consumer if it is missing (deleted under the workers, say);
 * true when this call made it.
 */
export const restoreConsumer = (
  jsm: JetStreamManager,
  names: Names,
  ackWaitMillis: number,
  maxAckPending: number,
  servers: ReadonlyArray<string>
): Effect.Effect<boolean, NatsConnectError> => consumerOf(jsm, names, ackWaitMillis, maxAckPending, servers, false)

// ── private helpers ─────────────────────────────────────────────────────────

const consumerOf = (
  jsm: JetStreamManager,
  names: Names,
  ackWaitMillis: number,
  maxAckPending: number,
  servers: ReadonlyArray<string>,
  update: boolean
): Effect.Effect<boolean, NatsConnectError> =>
  Effect.tryPromise({
    try: (): Promise<boolean> =>
      jsm.consumers.info(names.jobsStream, names.consumer).then(
        () =>
          update
            ? jsm.consumers
                .update(names.jobsStream, names.consumer, {
                  ack_wait: ackWaitMillis * 1_000_000,
                  max_ack_pending: maxAckPending
                })
                .then(() => false)
            : false,
        () =>
          jsm.consumers
            .add(names.jobsStream, {
              durable_name: names.consumer,
              ack_policy: AckPolicy.Explicit,
              deliver_policy: DeliverPolicy.All,
              ack_wait: ackWaitMillis * 1_000_000,
              max_ack_pending: maxAckPending,
              max_deliver: -1
            })
            .then(
              () => true,
              // another worker may have made it meanwhile
              () => jsm.consumers.info(names.jobsStream, names.consumer).then(() => false)
            )
      ),
    catch: (cause) => new NatsConnectError(servers.join(", "), cause)
  })

const addIfMissing = (jsm: JetStreamManager, stream: string, add: () => Promise<unknown>): Promise<unknown> =>
  jsm.streams.info(stream).then(
    (info) => info,
    // another process may have made it meanwhile
    () => add().catch(() => jsm.streams.info(stream))
  )
