/**
 * The channel state machine: synchronous, no Effect inside (core.async's ManyToManyChannel, Go's
 * runtime/chan.go). The Effect API (`Chan.ts`) and the Promise facade wrap it.
 *
 * Invariants, true whenever no method of this class is on the stack:
 *  1. Every node in `takers` or `putters` is active (its flag is uncommitted): a node is removed from
 *     its queue in the same step that commits or withdraws it, so none leaks or counts toward
 *     `maxPending` afterwards.
 *  2. Fair hand-off. Pending takes and pending puts are each served strictly in arrival order (only
 *     the first node of a queue is ever committed; withdrawal may remove any). `owed` counts
 *     the buffered values reserved for takers woken with `WAKE` and not back yet; they are the
 *     line's front, so a take that arrives while `owed > 0` queues behind them (`tryTake`), a poll
 *     sees only the values beyond `owed` (`tryPoll`), and a woken taker back in its own step takes
 *     one of them (`takeOwed`). Every take removes the oldest buffered value, so the buffer's order
 *     is the order values are taken in, and `0 <= owed <= buf.size` (a `discard` resets it).
 *  3. If `takers` is non-empty then the buffer holds only owed values (`buf.size <= owed`) and no
 *     pending put could pair with them: `putters` is empty, except when one select waits on both
 *     sides of the same unbuffered channel (as in Go, a select never pairs with itself).
 *  4. If `putters` is non-empty then the channel is unbuffered, or its buffer is full (fixed
 *     policy: `buf.size - owed >= capacity`; an expanding xform can make `size` exceed it, and the
 *     buffer stays full until taken below it). A put never overtakes a pending put. A pending
 *     put's value is never also in the buffer.
 *  5. Once `closed`, no value enters the buffer except from the puts pending at the close (through
 *     the xform, in their order, as takes make room), from the xform's completion step, and from
 *     `requeue`; buffered values and pending puts stay takeable; takers wait only while nothing is
 *     takeable by them (values owed to others included: they may be passed on).
 *  5a. The xform's completion step runs once, after the value of every put accepted has gone
 *     through the xform (as core.async's `close!` and `take!`, so `partitionAll`'s last batch holds
 *     the values of the puts pending at the close), and no value goes through the xform after it:
 *     at the close if no put is pending, else once none is left: when a take pulls the last one in,
 *     or when a take (or `discard`) finds the closed channel without buffered value or pending put
 *     (the last ones withdrawn, or select cases that won elsewhere, which the channel does not see).
 *  6. Every value accepted (a put returned or will return `true`) ends exactly once: handed to a
 *     taker that observes it, or passed to `onUndelivered` (whose errors are recorded, never thrown
 *     from the middle of a state change). A waking taker is only told to take
 *     again (`WAKE`), so buffered values leave the buffer in the step that observes them; a woken
 *     taker withdrawn before its step passes its reservation to the next waiting taker, or leaves
 *     the value unreserved at the front of the buffer (`wokenTakerWithdrawn`); a taker handed
 *     a value directly and withdrawn before it observed it gives the value back through `requeue`
 *     (to the next taker, else the front of the buffer).
 *
 * Resumption: a committed node's callback runs only after every state change of the operation is
 * done (collect first, resume last), since a callback may re-enter the channel synchronously. For
 * the same reason no method a subclass may override (`close`) is called in the middle of one.
 *
 * @internal
 */
import * as Option from "effect/Option"
import { ChanPendingLimitError } from "../ChanError.js"
import type { Sink, Xform } from "../Xform.js"
import { type Buf, RingBuffer } from "./buffer.js"

/** What a take sees once the channel is closed and drained. Never a value on a channel. */
export const CLOSED: unique symbol = Symbol.for("@tributary/channel/closed")
export type CLOSED = typeof CLOSED

/** What `tryPut`/`tryTake` return when the operation cannot complete now. */
export const PENDING: unique symbol = Symbol.for("@tributary/channel/pending")
export type PENDING = typeof PENDING

/**
 * What a waking take node is completed with when a value it may take is buffered: "take again in
 * your own step". The value stays in the buffer until then, so a taker interrupted before it runs
 * consumed nothing, and the buffer's order is the order values are taken in.
 */
export const WAKE: unique symbol = Symbol.for("@tributary/channel/wake")
export type WAKE = typeof WAKE

/**
 * The one-shot commit of an operation. A plain put/take is its own flag; the cases of a select
 * share one (`SelectFlag`), so exactly one of them commits.
 */
export interface Flag {
  active: boolean
  /** All nodes sharing this flag (select only): the losers are removed when one commits. */
  readonly nodes: Array<Node> | undefined
}

/** A select's shared flag. */
export class SelectFlag implements Flag {
  active = true
  readonly nodes: Array<Node> = []
}

/**
 * A pending operation in a channel's queue (a node of an intrusive doubly-linked list, so that
 * withdrawing it is O(1)).
 */
export class Node<A = any> implements Flag {
  prev: Node | undefined = undefined
  next: Node | undefined = undefined
  queue: NodeQueue | undefined = undefined
  active = true
  readonly nodes: Array<Node> | undefined = undefined
  readonly flag: Flag

  constructor(
    /** For a put: the value offered; for a take: whatever its owner keeps there (see `done`). */
    readonly value: A,
    /**
     * Called once, after commit, as a method of the node (`this` is the node): a take gets the value
     * or `CLOSED` (or `WAKE`, for a waking take), a put gets `accepted`.
     */
    readonly done: (result: any) => void,
    flag?: Flag,
    /** For a take on a ring-buffered channel: be woken (`WAKE`) instead of handed a value. */
    readonly wake = false
  ) {
    this.flag = flag ?? this
  }
}

/** A FIFO of pending nodes with O(1) removal from anywhere. */
export class NodeQueue {
  first: Node | undefined = undefined
  last: Node | undefined = undefined
  size = 0

  push(node: Node): void {
    node.queue = this
    node.prev = this.last
    if (this.last === undefined) this.first = node
    else this.last.next = node
    this.last = node
    this.size++
  }

  unshift(node: Node): void {
    node.queue = this
    node.next = this.first
    if (this.first === undefined) this.last = node
    else this.first.prev = node
    this.first = node
    this.size++
  }

  /** Precondition: `node.queue === this`. */
  remove(node: Node): void {
    if (node.prev === undefined) this.first = node.next
    else node.prev.next = node.next
    if (node.next === undefined) this.last = node.prev
    else node.next.prev = node.prev
    node.prev = node.next = node.queue = undefined
    this.size--
  }
}

/** Commits `node`'s flag and removes the node and, for a select, every sibling from their queues. */
export const commit = (node: Node): void => {
  const flag = node.flag
  flag.active = false
  node.queue?.remove(node)
  const siblings = flag.nodes
  if (siblings !== undefined) {
    for (let i = 0; i < siblings.length; i++) siblings[i].queue?.remove(siblings[i])
  }
}

/** A put whose value was requeued after its taker was withdrawn: it has already completed. */
const orphanDone = (): void => {}

/** Options of the state machine (validated by the public constructors). */
export interface CoreOptions<I, O> {
  readonly name?: string | undefined
  readonly maxPending?: number | undefined
  readonly onUndelivered?: ((value: I) => void) | undefined
  readonly xform?: Xform<I, O> | undefined
  readonly onXformError?: ((error: unknown, input: I) => Option.Option<O>) | undefined
}

/**
 * An error of a user callback nobody handled (an xform step, or `onUndelivered`), kept for the
 * Effect API to log at Error level: the state machine never lets one escape mid-change.
 */
export interface XformFailure {
  /** What failed, as logged: "xform failed; the value was dropped" or "onUndelivered failed". */
  readonly message: string
  readonly error: unknown
  readonly input: unknown
  readonly channel: string | undefined
}

/**
 * Whether `u` is a channel (a `ChanCore`, or the Promise facade's subclass): a brand on the
 * prototype, as cheap as a property read, for the checks on every operation (`instanceof` costs
 * tens of nanoseconds more there).
 */
export const isChanCore = (u: unknown): u is ChanCore => (u as ChanCore | undefined)?.["~tributary/Chan"] === true

/** The pending puts and takes a channel allows each when its options do not say (`maxPending`). */
export const defaultMaxPending = 1024

/** The channel itself; the public `Chan` values are instances of this class. */
export class ChanCore<I = any, O = I> {
  static {
    ;(ChanCore.prototype as { "~tributary/Chan": true })["~tributary/Chan"] = true
  }
  /** The brand `isChanCore` reads (on the prototype). */
  declare readonly "~tributary/Chan": true
  readonly name: string | undefined
  readonly maxPending: number
  readonly takers = new NodeQueue()
  readonly putters = new NodeQueue()
  /**
   * How many of the buffered values are owed to takers woken with `WAKE` and not back yet
   * (invariant 2). They do not count against the capacity: a waiting taker is room, as in a direct
   * hand-off (`buf.isFull(owed)`).
   */
  owed = 0
  closed = false
  /** The Effect API's `take` of this channel, made once (a take holds no state of its own). */
  takeEffect: unknown = undefined
  /** Unhandled xform and `onUndelivered` errors since the Effect API last logged them. */
  xformFailures: Array<XformFailure> | undefined = undefined
  private readonly sink: Sink<I> | undefined
  private xformDone = false
  /** The xform's completion step has run (invariant 5a). */
  private xformCompleted = false
  private readonly onUndelivered: ((value: any) => void) | undefined
  private readonly onXformError: ((error: unknown, input: I) => Option.Option<O>) | undefined
  /**
   * Passes a value that no taker will receive to `onUndelivered` (bound once, used as a callback).
   * Never throws: an error of `onUndelivered` is recorded (and logged), so the operation that
   * dropped the value still completes and every other value and waiter is still served.
   */
  readonly undeliver: (value: any) => void
  /** The buffer when it is a fixed ring buffer without an xform (where `putBuffered` applies). */
  private readonly plain: RingBuffer<O> | undefined

  constructor(
    readonly buf: Buf<O> | undefined,
    options: CoreOptions<I, O> | undefined
  ) {
    this.name = options?.name
    this.maxPending = options?.maxPending ?? defaultMaxPending
    this.onUndelivered = options?.onUndelivered
    this.onXformError = options?.onXformError
    this.undeliver = (value) => {
      const onUndelivered = this.onUndelivered
      if (onUndelivered === undefined) return
      try {
        onUndelivered(value)
      } catch (error) {
        this.recordFailure("onUndelivered failed", error, value)
      }
    }
    this.sink = options?.xform?.make({
      step: (o) => {
        this.buf!.add(o, this.undeliver)
        return true
      },
      complete: () => {}
    })
    this.plain = buf instanceof RingBuffer && buf.policy === "fixed" && this.sink === undefined ? buf : undefined
  }

  /**
   * The put that only buffers, when that is all `tryPut` would do: an open channel with a fixed
   * buffer that has room, no xform, and no pending put or take. Then it adds `value` and returns
   * `true`, without calling anything else (no callback, no user code); otherwise it changes nothing
   * and returns `false`. Callers use it to skip their guard against re-entry.
   */
  putBuffered(value: I): boolean {
    const buf = this.plain
    if (buf === undefined || this.closed || this.putters.size > 0 || this.takers.size > 0 || buf.isFull(this.owed))
      return false
    buf.add(value as unknown as O, this.undeliver)
    return true
  }

  /**
   * The take that only removes a buffered value, when that is all `tryTake` would do: an open
   * channel with a plain fixed buffer holding a value no woken taker is owed, and no pending put
   * (which a take would let in). Then it removes and returns the oldest value, calling nothing
   * else; otherwise it changes nothing and returns `PENDING`.
   */
  takeBuffered(): O | PENDING {
    const buf = this.plain
    if (buf === undefined || buf.size === 0 || this.owed > 0 || this.putters.size > 0 || this.closed) return PENDING
    return buf.remove()
  }

  /**
   * Whether a take that must not lose a value once handed over (an Effect fiber's) should wait as a
   * waking take: on a channel with a fixed buffer (see `WAKE`).
   */
  get wakesTakers(): boolean {
    return this.buf instanceof RingBuffer && this.buf.policy === "fixed"
  }

  /** Values a take can have now without a pending put: buffered ones. */
  get size(): number {
    return this.buf === undefined ? 0 : this.buf.size
  }

  /**
   * Completes a put now if it can: `true` accepted (buffered or handed to a taker), `false` closed,
   * `PENDING` when it would have to wait (nothing changed).
   */
  tryPut(value: I): boolean | PENDING {
    if (this.closed) return false
    const buf = this.buf
    if (buf !== undefined) {
      // pending puts go first
      if (this.putters.size > 0 || buf.isFull(this.owed)) return PENDING
      const taker = this.takers.first
      if (taker !== undefined && !taker.wake && buf.size === 0 && this.plain !== undefined) {
        // what buffering it and serving the takers would do: the value goes to the first taker
        commit(taker)
        taker.done(value)
        return true
      }
      this.addInput(value)
      if (this.xformDone) this.finishEarly()
      else if (this.takers.size > 0) this.serveTakers()
      return true
    }
    const taker = this.takers.first
    if (taker === undefined) return PENDING
    commit(taker)
    taker.done(value)
    return true
  }

  /**
   * Completes a take now if it can: a value, `CLOSED` once closed and drained, or `PENDING` when it
   * would have to wait (nothing changed).
   */
  tryTake(): O | CLOSED | PENDING {
    const buf = this.buf
    if (buf !== undefined && buf.size > 0) {
      // takers woken and not back yet are in line before this take: it queues behind them
      if (this.owed > 0) return PENDING
      return this.removeFront(buf)
    }
    const putter = this.putters.first
    if (putter !== undefined) {
      commit(putter)
      putter.done(true)
      return putter.value
    }
    if (!this.closed) return PENDING
    // the last pending puts left unseen (invariant 5a): what the completion step adds is takeable
    if (this.completeWhenDrained() && buf!.size > 0) return this.removeFront(buf!)
    return CLOSED
  }

  /**
   * Completes a poll now if it can: like `tryTake`, but a poll never waits in line, so it may take a
   * buffered value that no woken taker is owed even while woken takers are still on their way.
   */
  tryPoll(): O | CLOSED | PENDING {
    const buf = this.buf
    if (buf !== undefined && buf.size > 0) return buf.size > this.owed ? this.removeFront(buf) : PENDING
    return this.tryTake()
  }

  /**
   * The take of a taker woken by `WAKE`, in its own step: takes one of the values owed to woken
   * takers. `CLOSED` (or `PENDING`) only if `discard` emptied the buffer meanwhile.
   * Precondition: the taker was woken and has not returned nor been withdrawn.
   */
  takeOwed(): O | CLOSED | PENDING {
    const buf = this.buf!
    if (this.owed > 0) this.owed--
    if (buf.size > 0) return this.removeFront(buf)
    return this.tryTake()
  }

  /** Whether `tryTake` would complete now (nothing changes). */
  canTake(): boolean {
    const buf = this.buf
    if (buf !== undefined && buf.size > 0) return this.owed === 0
    return this.putters.size > 0 || this.closed
  }

  /** Whether `tryPut` would complete now (nothing changes). */
  canPut(): boolean {
    if (this.closed) return true
    return this.buf === undefined ? this.takers.size > 0 : this.putters.size === 0 && !this.buf.isFull(this.owed)
  }

  /** Queues a pending put. Precondition: `tryPut` returned `PENDING` in this same synchronous step. */
  enqueuePut(node: Node<I>): void {
    if (this.putters.size >= this.maxPending) throw new ChanPendingLimitError("put", this.name, this.maxPending)
    this.putters.push(node)
  }

  /**
   * Queues a pending take. Precondition: `tryTake` returned `PENDING` in this same synchronous step.
   * If it queued behind woken takers while values no one is owed are buffered, it is served at once
   * (woken, or handed one), so `node.done` may run before this returns.
   */
  enqueueTake(node: Node): void {
    if (this.takers.size >= this.maxPending) throw new ChanPendingLimitError("take", this.name, this.maxPending)
    this.takers.push(node)
    const buf = this.buf
    if (buf !== undefined && buf.size > this.owed) {
      this.serveTakers()
      // waking it made room (owed values do not count against the capacity)
      if (this.putters.size > 0 && !buf.isFull(this.owed)) this.refill()
    }
  }

  /**
   * A woken taker was withdrawn before its step (interrupted, aborted): the value it was owed goes to
   * the next waiting taker, or stays, unreserved, at the front of the buffer.
   */
  wokenTakerWithdrawn(): void {
    if (this.owed > 0) this.owed-- // 0 if `discard` emptied the buffer meanwhile
    if (this.takers.size > 0) this.serveTakers()
  }

  /** Withdraws a pending node that has not committed (interrupted, aborted, lost select). */
  withdraw(node: Node): void {
    if (node.flag.active && node.queue !== undefined) node.queue.remove(node)
  }

  /**
   * Gives back a value handed to a taker that was withdrawn before it observed it: to the next
   * taker, else to the front of the buffer, else to the front of the pending puts (as a put that
   * has already completed). A promise channel never gave its value away.
   */
  requeue(value: O): void {
    const taker = this.takers.first
    if (taker !== undefined) {
      commit(taker)
      taker.done(value)
    } else if (this.buf !== undefined) {
      this.buf.unshift(value)
    } else {
      this.putters.unshift(new Node(value, orphanDone))
    }
  }

  /**
   * Closes the channel (idempotent): runs the xform's completion step unless puts are pending
   * (then later: invariant 5a), hands buffered values to waiting takers, and, once nothing is left
   * to take, completes the remaining takers with `CLOSED`.
   */
  close(): void {
    this.closeChannel()
  }

  /**
   * What `close` does, for the state machine's own use in the middle of a change (`finishEarly`):
   * never the overridable `close`, which the Promise facade's channel extends with logging (user
   * code, which must run only once the change is done).
   */
  private closeChannel(): void {
    if (this.closed) return
    this.closed = true
    this.completeWhenDrained()
    if (this.takers.size > 0) this.serveTakers()
  }

  /**
   * Closes and empties the channel at once: pending puts complete with `false` (their values never
   * reach the xform), the xform's completion step runs, and buffered values (what it added
   * included) are returned and passed to `onUndelivered`.
   */
  discard(): Array<O> {
    this.close()
    const orphans: Array<O> = []
    const rejected: Array<Node> = []
    while (this.putters.first !== undefined) {
      const putter = this.putters.first
      commit(putter)
      if (putter.done === orphanDone) orphans.push(putter.value)
      else rejected.push(putter)
    }
    this.completeWhenDrained()
    // requeued values wait as pending puts only on an unbuffered channel (`requeue`)
    const values: Array<O> = this.buf === undefined ? orphans : this.buf.drain()
    this.owed = 0
    // takers that waited behind woken ones (the buffer was all owed) see the channel closed and empty
    this.closeTakersIfDrained()
    for (let i = 0; i < values.length; i++) this.undeliver(values[i])
    for (let i = 0; i < rejected.length; i++) rejected[i].done(false)
    return values
  }

  // ── private ───────────────────────────────────────────────────────────────

  /**
   * Removes the oldest buffered value for a take, then lets pending puts in (while there is room)
   * or, once closed, serves the waiting takers. Precondition: `buf.size > 0`.
   */
  private removeFront(buf: Buf<O>): O {
    const value = buf.remove()
    if (this.putters.size > 0) {
      if (!buf.isFull(this.owed)) this.refill()
    } else if (this.closed && this.takers.size > 0) this.serveTakers()
    return value
  }

  /** Adds a put's value to the buffer, through the xform if there is one. Precondition: a buffer. */
  private addInput(value: I): void {
    const sink = this.sink
    if (sink === undefined) {
      this.buf!.add(value as unknown as O, this.undeliver)
      return
    }
    try {
      if (!sink.step(value)) this.xformDone = true
    } catch (error) {
      this.xformError(error, value)
    }
  }

  /**
   * Serves waiting takers: hands them buffered values no woken taker is owed (a waking take is woken
   * instead: `WAKE`), and, once the channel is closed with nothing left to take, completes them with
   * `CLOSED`. Callbacks run after every taker served is committed.
   */
  private serveTakers(): void {
    const buf = this.buf
    const first = this.takers.first!
    if (buf !== undefined && buf.size > this.owed) {
      commit(first)
      const firstResult = this.serve(first, buf)
      if (this.takers.size === 0 || buf.size <= this.owed) {
        first.done(firstResult)
        this.closeTakersIfDrained()
        return
      }
      // an expanding xform (flatMap) or a promise cell can serve several takers at once
      const resumed: Array<Node> = [first]
      const results: Array<unknown> = [firstResult]
      while (this.takers.first !== undefined && buf.size > this.owed) {
        const taker = this.takers.first
        commit(taker)
        resumed.push(taker)
        results.push(this.serve(taker, buf))
      }
      for (let i = 0; i < resumed.length; i++) resumed[i].done(results[i])
    }
    this.closeTakersIfDrained()
  }

  /** The result for a committed taker: `WAKE` for a waking take (one value owed), else the oldest value. */
  private serve(taker: Node, buf: Buf<O>): unknown {
    if (!taker.wake) return buf.remove()
    this.owed++
    return WAKE
  }

  /**
   * Once closed and drained (no buffered value, no pending put), every waiting taker gets `CLOSED`,
   * unless the xform's completion step, run now (invariant 5a), adds values for them.
   */
  private closeTakersIfDrained(): void {
    if (!this.closed || this.takers.size === 0 || this.putters.size > 0) return
    if (this.buf !== undefined && this.buf.size > 0) return
    if (this.completeWhenDrained() && this.buf!.size > 0) {
      this.serveTakers()
      return
    }
    const resumed: Array<Node> = []
    while (this.takers.first !== undefined) {
      const taker = this.takers.first
      commit(taker)
      resumed.push(taker)
    }
    for (let i = 0; i < resumed.length; i++) resumed[i].done(CLOSED)
  }

  /** After a take freed room: pulls pending puts into the buffer. Precondition: a buffer, putters waiting. */
  private refill(): void {
    const buf = this.buf!
    const first = this.putters.first!
    commit(first)
    this.addInput(first.value)
    if (buf.isFull(this.owed) || this.putters.size === 0 || this.xformDone) {
      this.refilled()
      first.done(true)
      return
    }
    const resumed: Array<Node> = [first]
    while (!buf.isFull(this.owed) && this.putters.first !== undefined && !this.xformDone) {
      const putter = this.putters.first
      commit(putter)
      this.addInput(putter.value)
      resumed.push(putter)
    }
    this.refilled()
    for (let i = 0; i < resumed.length; i++) resumed[i].done(true)
  }

  /**
   * After `refill` let pending puts in: an xform that finished closes the channel; on a closed
   * channel whose last pending put is in, the xform's completion step runs (invariant 5a).
   */
  private refilled(): void {
    if (this.xformDone) this.finishEarly()
    else if (this.closed) this.completeWhenDrained()
  }

  /**
   * The xform finished early: close the channel; puts pending now complete with `true` and their
   * values go to `onUndelivered` (as core.async releases them).
   */
  private finishEarly(): void {
    const released: Array<Node> = []
    while (this.putters.first !== undefined) {
      const putter = this.putters.first
      commit(putter)
      released.push(putter)
    }
    this.closeChannel()
    // when it finished on a closed channel (a take pulled a pending put in), closing did not run it
    this.completeWhenDrained()
    for (let i = 0; i < released.length; i++) {
      this.undeliver(released[i].value)
      if (released[i].done !== orphanDone) released[i].done(true)
    }
  }

  /**
   * Runs the xform's completion step if it is due (invariant 5a): the channel is closed, no put is
   * pending, and it has not run yet. Returns whether it ran now.
   */
  private completeWhenDrained(): boolean {
    if (this.sink === undefined || this.xformCompleted || !this.closed || this.putters.size > 0) return false
    this.xformCompleted = true
    try {
      this.sink.complete()
    } catch (error) {
      this.xformError(error, undefined as I)
    }
    return true
  }

  private xformError(error: unknown, input: I): void {
    const handler = this.onXformError
    if (handler !== undefined) {
      try {
        const replacement = handler(error, input)
        if (Option.isSome(replacement)) this.buf!.add(replacement.value, this.undeliver)
        return
      } catch (handlerError) {
        error = handlerError
      }
    }
    this.recordFailure("xform failed; the value was dropped", error, input)
  }

  private recordFailure(message: string, error: unknown, input: unknown): void {
    ;(this.xformFailures ??= []).push({ message, error, input, channel: this.name })
    failureRecorded(this)
  }
}

/**
 * Told of each failure a channel records, in the middle of the operation (so it must not run user
 * code: it may only arrange for the failures to be logged once the operation is done). The
 * logging side sets it when it loads (`xformLog.ts`); the state machine imports nothing of it.
 */
let failureRecorded: (core: ChanCore) => void = () => {}

/** Sets what is told of each failure recorded (see `failureRecorded`). */
export const onFailureRecorded = (f: (core: ChanCore) => void): void => {
  failureRecorded = f
}
