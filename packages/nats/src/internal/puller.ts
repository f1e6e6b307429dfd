/**
 * A worker's pull of job messages from the workers' durable pull consumer, on the core connection:
 * one subscription for the worker's life and one pull request at a time, asking for as many
 * messages as the worker has room for. This replaces `consumer.fetch`, which made a subscription,
 * an async iterator, a status iterator and a heartbeat monitor per pull, and `JsMsg`, which parses
 * its delivery info into an object of ten fields: a share of a worker's CPU per job in a profile of
 * `bench/nats.ts`.
 *
 * Invariants:
 * - At most one pull request is outstanding, sent only when `room()` is at least `minBatch`, and
 *   asking for `room()` messages; its messages reach `onMessage` in order of arrival, each once.
 * - A request ends when all its messages arrived, when the server ends it (a status on its own
 *   reply subject: 404/408 at its expiry, 409 and others), or, when neither came (a request lost
 *   with the connection or the server, or sent to a consumer that does not exist: the server
 *   answers such a request with nothing at all), `expires` + 1 s after it was sent. A status for an
 *   older request is ignored. After a status other than 404/408 the next request waits 250 ms.
 * - `onConsumerLost` hears every request that ended with the server's 409 Consumer Deleted or with
 *   no answer at all, and the server's advisory that the consumer was deleted (alone or with its
 *   stream: at once, even while no request is outstanding — a full worker sends none, and its first
 *   one after a deletion would wait `expires` + 1 s for nothing); never after `stop`. The consumer may be
 *   gone, and only its owner can make it again; `onTrouble` hears the other statuses.
 * - After `stop` no request is sent; `stop` resolves once the outstanding request ended, and
 *   messages it brings until then still reach `onMessage` (the worker hands them back).
 *
 * @internal
 */
import { createInbox, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node"

/** A job message pulled from the consumer, with its delivery number; replied to once (progress acks aside). */
export class Delivery {
  /** the delivery of this message (1 for the first) */
  readonly deliveryCount: number
  /** its sequence in the stream */
  readonly seq: number

  constructor(readonly msg: Msg) {
    // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending> (9 tokens),
    // or with <domain>.<account hash> after ACK (and a random token at the end)
    const tokens = (msg.reply ?? "").split(".")
    const at = tokens.length === 9 ? 4 : 6
    this.deliveryCount = Number(tokens[at]) || 1
    this.seq = Number(tokens[at + 1]) || 0
  }

  ack(): void {
    this.msg.respond(ACK)
  }

  /** handed back, delivered again after `delayMillis` (at once without) */
  nak(delayMillis?: number): void {
    this.msg.respond(
      delayMillis === undefined || delayMillis <= 0 ? NAK : `-NAK {"delay":${Math.round(delayMillis * 1_000_000)}}`
    )
  }

  /** never delivered again */
  term(): void {
    this.msg.respond(TERM)
  }

  /** a progress ack: the ack wait starts again */
  working(): void {
    this.msg.respond(WPI)
  }
}

export interface Options {
  readonly nc: NatsConnection
  readonly stream: string
  readonly consumer: string
  /** how long a request waits on the server for messages (ms) */
  readonly expiresMillis: number
  /** the smallest request sent */
  readonly minBatch: number
  /** how many more messages the worker can hold now */
  readonly room: () => number
  readonly onMessage: (delivery: Delivery) => void
  /** a status that ended a request other than its expiry and the consumer's deletion */
  readonly onTrouble: (description: string) => void
  /** the consumer may be gone: the server said it was deleted, or a request got no answer at all */
  readonly onConsumerLost: (description: string) => void
}

export interface Puller {
  /** sends a request if none is outstanding and there is room: call it when room was made */
  readonly poke: () => void
  readonly stop: () => Promise<void>
}

/** Subscribes; the first request leaves at the first `poke`. */
export const start = (options: Options): Puller => new Pull(options)

// ── private helpers ─────────────────────────────────────────────────────────

const ACK = "+ACK"
const NAK = "-NAK"
const TERM = "+TERM"
const WPI = "+WPI"

class Pull implements Puller {
  private readonly inbox = createInbox()
  private readonly subject: string
  private readonly sub: Subscription
  /** the server's advisory that the consumer was deleted */
  private readonly deletion: Subscription
  /** the reply subject of the outstanding request (undefined: none) */
  private current: string | undefined
  /** messages the outstanding request may still bring */
  private wanted = 0
  private next = 0
  private stopped = false
  private backingOff = false
  private ended: (() => void) | undefined
  /** ends a request that got neither all its messages nor a status (refreshed per request) */
  private readonly deadline: ReturnType<typeof setTimeout>

  constructor(private readonly o: Options) {
    this.subject = `$JS.API.CONSUMER.MSG.NEXT.${o.stream}.${o.consumer}`
    const statusPrefix = `${this.inbox}.`
    this.sub = o.nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => {
        if (error !== null) {
          o.onTrouble(`the pull subscription failed: ${error.message}`)
          return this.end(250)
        }
        if (!msg.subject.startsWith(statusPrefix)) {
          // a job message (it keeps the subject it was published to)
          o.onMessage(new Delivery(msg))
          if (this.wanted > 0 && --this.wanted === 0) this.end(0)
          return
        }
        if (msg.subject !== this.current) return // a status of a request already ended
        const code = msg.headers?.code ?? 0
        if (code === 100) return // an idle heartbeat
        if (code === 404 || code === 408) return this.end(0)
        const description = `the server ended a pull request: ${code} ${msg.headers?.description ?? ""}`
        if (code === 409 && /consumer deleted/i.test(msg.headers?.description ?? "")) o.onConsumerLost(description)
        else o.onTrouble(description)
        this.end(250)
      }
    })
    // also sent for each consumer of a stream being deleted
    this.deletion = o.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.DELETED.${o.stream}.${o.consumer}`, {
      callback: (error) => {
        if (error === null && !this.stopped) o.onConsumerLost("the server says the consumer was deleted")
      }
    })
    this.deadline = setTimeout(() => {
      if (this.current === undefined) return
      if (!this.stopped)
        o.onConsumerLost(
          `no answer to a pull request within ${o.expiresMillis + 1_000} ms (the consumer is gone, or the server)`
        )
      this.end(0)
    }, o.expiresMillis + 1_000)
    this.deadline.unref()
  }

  readonly poke = (): void => {
    if (this.stopped || this.backingOff || this.current !== undefined) return
    const room = this.o.room()
    if (room < this.o.minBatch) return
    const reply = `${this.inbox}.${(this.next++).toString(36)}`
    this.current = reply
    this.wanted = room
    this.deadline.refresh()
    try {
      this.o.nc.publish(this.subject, `{"batch":${room},"expires":${this.o.expiresMillis * 1_000_000}}`, { reply })
    } catch (cause) {
      this.o.onTrouble(`sending a pull request failed: ${String(cause)}`)
      this.end(250)
    }
  }

  readonly stop = (): Promise<void> => {
    this.stopped = true
    if (this.current === undefined) {
      this.close()
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      this.ended = resolve
    })
  }

  private end(backoffMillis: number): void {
    this.current = undefined
    this.wanted = 0
    if (this.stopped) {
      this.close()
      this.ended?.()
      return
    }
    if (backoffMillis === 0) {
      this.poke()
      return
    }
    this.backingOff = true
    setTimeout(() => {
      this.backingOff = false
      this.poke()
    }, backoffMillis).unref()
  }

  private close(): void {
    clearTimeout(this.deadline)
    for (const sub of [this.sub, this.deletion]) if (!sub.isClosed()) sub.unsubscribe()
  }
}
