/**
 * Cancelling a remote job, best effort across the network. The firing side, when a job it
 * published is interrupted there, publishes the job message's id on the cancel subject (core
 * NATS: every worker connected at that moment hears it) and deletes the message from the jobs
 * stream once it knows its sequence (no worker pulls it afterwards). A worker that holds the job
 * interrupts it or drops it unrun; a worker that hears the cancel before the message reaches it
 * remembers the id for a while (`RecentIds`) and drops the message when it comes.
 *
 * Invariants:
 * - `cancel` never throws and never waits: the cancel leaves with the connection's next write;
 *   the delete is a JetStream request whose answer is awaited by `settled` (each bounded by the
 *   request timeout). A delete that fails (the message is gone already: acked, termed, or the
 *   publish never reached the stream) is ignored.
 * - `RecentIds` holds at most `max` ids; the oldest goes first, and ids older than `ttlMillis` go
 *   at the next `add`. `has` is true for every id added and not yet dropped.
 *
 * @internal
 */
import type { JetStreamManager } from "@nats-io/jetstream"
import type { NatsConnection } from "@nats-io/transport-node"
import * as Effect from "effect/Effect"
import type { Names } from "./wire.js"

/** The firing side's half: cancels and the deletes they started. */
export interface Canceller {
  /** cancels the job whose message id is `id`; `stored` is its publish (its stream sequence), if one was made */
  readonly cancel: (id: string, stored: Promise<number> | undefined) => void
  /** until every delete started has been answered */
  readonly settled: Effect.Effect<void>
}

/** The canceller of the jobs published on `nc` to the streams named by `names`. */
export const canceller = (nc: NatsConnection, jsm: JetStreamManager, names: Names): Canceller => {
  const deletes = new Set<Promise<unknown>>()
  return {
    cancel: (id, stored) => {
      try {
        nc.publish(names.cancelSubject, id)
      } catch {
        // the connection is closed: no worker hears it (the delete below fails too, ignored)
      }
      if (stored === undefined) return
      const deleting = stored
        .then((seq) => jsm.streams.deleteMessage(names.jobsStream, seq, false))
        .catch(() => false)
        .finally(() => deletes.delete(deleting))
      deletes.add(deleting)
    },
    settled: Effect.promise(() => Promise.all([...deletes]))
  }
}

/** The ids of jobs cancelled lately, as a worker heard them. */
export class RecentIds {
  /** id → when it was added (insertion order is age order) */
  private readonly ids = new Map<string, number>()

  constructor(
    private readonly max: number,
    private readonly ttlMillis: number
  ) {}

  get size(): number {
    return this.ids.size
  }

  has(id: string): boolean {
    return this.ids.has(id)
  }

  add(id: string, nowMillis: number): void {
    this.ids.delete(id)
    this.ids.set(id, nowMillis)
    for (const [oldest, at] of this.ids) {
      if (this.ids.size <= this.max && at > nowMillis - this.ttlMillis) break
      this.ids.delete(oldest)
    }
  }
}
