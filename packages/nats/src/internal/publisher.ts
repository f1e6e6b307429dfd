/**
 * JetStream publishes that wait for the stream's ack, pipelined: each message is published on the
 * core connection with a reply subject of its own under one inbox subscription, and its PubAck is
 * matched by that subject. This replaces `js.publish`, whose request machinery (a mux entry, a
 * timer, a deferred and an Error per call) was the largest share of the firing process's CPU in a
 * profile of `bench/nats.ts`.
 *
 * Invariants:
 * - A publish settles once: resolved by the stream's ack with the message's stream sequence (a
 *   duplicate's too: the stream already holds the message, and its ack names that message's
 *   sequence), rejected by an error reply (`NoStreamError` when no stream listens on the
 *   subject), or when no ack came within `timeoutMillis` of its send, or by its own `deadline`
 *   (a `Date.now()` time: one still waiting for room by then is never sent). A message
 *   larger than the server's `max_payload` is rejected with `TooLargeError` (it can never be
 *   sent: publishing it again is pointless).
 *   A late reply to a rejected publish is ignored (its token is gone).
 * - Every message carries `Nats-Msg-Id`, so a publish retried after a timeout is not stored twice
 *   (within the stream's duplicate window).
 * - At most `window` publishes await their ack at once; the rest wait in order of arrival and go
 *   out as acks come back. A publish is sent when the code running now ends (a microtask: after
 *   every job a scheduler task ran, say), so those made meanwhile leave in one socket write (the
 *   client writes once per microtask turn): a write per publish was the firing
 *   process's largest cost after the request machinery.
 * - When the scope closes, publishes still waiting are rejected (the connection is draining).
 * - A publish withdrawn while it waits for room is rejected at once and never sent; one already
 *   sent cannot be withdrawn (`withdraw` says which).
 * - A function given to `beforeNextSend` runs once, at the start of the next send.
 *
 * @internal
 */
import { createInbox, type MsgHdrs, headers as makeHeaders, type NatsConnection } from "@nats-io/transport-node"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/** Publishes to JetStream and waits for the stream's ack. */
export interface Publisher {
  /**
   * Resolves with the message's sequence in the stream. With `deadline` (a `Date.now()` time), it
   * is rejected by then at the latest, sent or not (a caller's bound on the whole publish).
   */
  readonly publish: (
    subject: string,
    body: string,
    msgID: string,
    headers?: MsgHdrs,
    deadline?: number
  ) => Promise<number>
  /**
   * Runs `send` at the start of the next send, before the publishes: what it writes on the connection
   * (a worker's acks) leaves in the same socket write as they.
   */
  readonly beforeNextSend: (send: () => void) => void
  /**
   * Withdraws the publish of `msgID` if it still waits for room in the window (never sent: it is
   * rejected with a PublishError); false when it was sent already, or is unknown.
   */
  readonly withdraw: (msgID: string) => boolean
}

/** A publisher on `nc` for the current scope. */
export const make = (
  nc: NatsConnection,
  timeoutMillis: number,
  window: number
): Effect.Effect<Publisher, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => new Pipeline(nc, timeoutMillis, window)),
    (p) => Effect.sync(() => p.close())
  )

// ── private helpers ─────────────────────────────────────────────────────────

interface Pending {
  readonly resolve: (seq: number) => void
  readonly reject: (error: Error) => void
  readonly deadline: number
  /** its deadline is the caller's (before the ack timeout) */
  readonly callers: boolean
}

interface Queued {
  readonly msgID: string
  readonly subject: string
  readonly body: string
  readonly headers: MsgHdrs
  readonly resolve: (seq: number) => void
  readonly reject: (error: Error) => void
  /** the caller's deadline (`Date.now()` time; Infinity when none) */
  readonly deadline: number
  /** withdrawn before it was sent: skipped */
  withdrawn?: true
}

/** A publish that the stream did not ack: an error reply, no stream for the subject, or no reply in time. */
export class PublishError extends Error {
  override readonly name = "PublishError"
}

/** No stream listens on the subject (the server's 503 No Responders): the stream is missing. */
export class NoStreamError extends PublishError {}

/** A message larger than the server's `max_payload`: it cannot be published at all. */
export class TooLargeError extends PublishError {
  constructor(
    subject: string,
    /** its body and headers, in bytes */
    readonly bytes: number,
    /** the server's max_payload */
    readonly limit: number
  ) {
    super(`the message to ${subject} is ${bytes} bytes, more than the server's max_payload of ${limit}`)
  }
}

class Pipeline implements Publisher {
  private readonly inbox = createInbox()
  private readonly pending = new Map<string, Pending>()
  /** publishes waiting for room in the window, from `head` on (compacted when half is consumed) */
  private queue: Array<Queued> = []
  private head = 0
  /** the publishes in `queue` not sent yet, by message id (for `withdraw`) */
  private readonly queued = new Map<string, Queued>()
  private next = 0
  private closed = false
  private pumping = false
  private before: Array<() => void> = []
  private readonly sweeper: ReturnType<typeof setInterval>

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMillis: number,
    private readonly window: number
  ) {
    const prefix = this.inbox.length + 1
    nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => {
        if (error !== null) return
        const token = msg.subject.slice(prefix)
        const p = this.pending.get(token)
        if (p === undefined) return
        this.pending.delete(token)
        const status = msg.headers?.code ?? 0
        const ack = parseAck(status, msg.data.length === 0 ? "" : msg.string())
        if (typeof ack === "number") p.resolve(ack)
        else p.reject(status === 503 ? new NoStreamError(ack) : new PublishError(`${ack} (${msg.subject})`))
        this.drain()
      }
    })
    // one timer for every publish: those past their deadline are rejected (every 100 ms at most: a
    // caller's deadline may come before the ack timeout)
    this.sweeper = setInterval(() => this.expire(), Math.max(10, Math.min(100, Math.floor(timeoutMillis / 4))))
    this.sweeper.unref()
  }

  publish(subject: string, body: string, msgID: string, headers?: MsgHdrs, deadline = Infinity): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      if (this.closed) return reject(new PublishError("the connection is closing"))
      const h = headers ?? makeHeaders()
      h.set("Nats-Msg-Id", msgID)
      const q: Queued = { msgID, subject, body, headers: h, resolve, reject, deadline }
      this.queue.push(q)
      this.queued.set(msgID, q)
      this.schedule()
    })
  }

  withdraw(msgID: string): boolean {
    const q = this.queued.get(msgID)
    if (q === undefined) return false
    this.queued.delete(msgID)
    q.withdrawn = true
    q.reject(new PublishError(`withdrawn before it was sent (${msgID})`))
    return true
  }

  beforeNextSend(send: () => void): void {
    this.before.push(send)
    this.schedule()
  }

  private schedule(): void {
    if (this.pumping) return
    this.pumping = true
    queueMicrotask(this.pump)
  }

  /** sends what the window has room for, once per run of code: its publishes leave in one write */
  private readonly pump = (): void => {
    this.pumping = false
    if (this.before.length > 0) {
      const before = this.before
      this.before = []
      for (const send of before) send()
    }
    if (!this.closed) this.drain()
  }

  close(): void {
    this.closed = true
    clearInterval(this.sweeper)
    const error = new PublishError("the connection is closing")
    for (const p of this.pending.values()) p.reject(error)
    this.pending.clear()
    for (let i = this.head; i < this.queue.length; i++) this.queue[i].reject(error)
    this.queue = []
    this.head = 0
    this.queued.clear()
  }

  private send(q: Queued, now: number): void {
    if (q.deadline <= now) {
      q.reject(pastDeadline())
      return
    }
    const token = (this.next++).toString(36)
    const timeout = now + this.timeoutMillis
    this.pending.set(token, {
      resolve: q.resolve,
      reject: q.reject,
      deadline: Math.min(timeout, q.deadline),
      callers: q.deadline < timeout
    })
    try {
      this.nc.publish(q.subject, q.body, { headers: q.headers, reply: `${this.inbox}.${token}` })
    } catch (cause) {
      this.pending.delete(token)
      q.reject(this.tooLarge(q) ?? new PublishError(`publishing to ${q.subject} failed`, { cause }))
    }
  }

  /** `q` as a TooLargeError when it is larger than the server's max_payload (what the client checks) */
  private tooLarge(q: Queued): TooLargeError | undefined {
    const limit = this.nc.info?.max_payload
    if (limit === undefined) return undefined
    const bytes = Buffer.byteLength(q.body) + Buffer.byteLength(q.headers.toString())
    return bytes > limit ? new TooLargeError(q.subject, bytes, limit) : undefined
  }

  private drain(): void {
    const now = Date.now()
    while (this.pending.size < this.window && this.head < this.queue.length) {
      const q = this.queue[this.head++]
      if (q.withdrawn) continue
      // only its own entry: a later publish of the same message id may wait behind it
      if (this.queued.get(q.msgID) === q) this.queued.delete(q.msgID)
      this.send(q, now)
    }
    if (this.head === this.queue.length) {
      this.queue = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
  }

  private expire(): void {
    const now = Date.now()
    let expired = false
    for (const [token, p] of this.pending)
      if (p.deadline <= now) {
        this.pending.delete(token)
        p.reject(
          p.callers ? pastDeadline() : new PublishError(`no ack from the stream within ${this.timeoutMillis} ms`)
        )
        expired = true
      }
    // those still waiting for room past their deadline: never sent
    for (const q of this.queued.values())
      if (q.deadline <= now) {
        this.queued.delete(q.msgID)
        q.withdrawn = true
        q.reject(pastDeadline())
      }
    if (expired) this.drain()
  }
}

const pastDeadline = (): PublishError => new PublishError("no ack from the stream by the publish's deadline")

/** The stream sequence a PubAck names, or why the reply is not one: no stream for the subject, or the stream's error. */
const parseAck = (status: number, text: string): number | string => {
  if (status === 503) return "no stream listens on the subject"
  if (text === "") return status === 0 ? "an empty reply" : `status ${status}`
  try {
    const reply = JSON.parse(text) as { stream?: unknown; seq?: unknown; error?: { description?: unknown } }
    if (reply.error !== undefined) return `the stream refused it: ${String(reply.error.description)}`
    return typeof reply.stream === "string" && typeof reply.seq === "number"
      ? reply.seq
      : "a reply that is not a PubAck"
  } catch {
    return "a reply that is not JSON"
  }
}
