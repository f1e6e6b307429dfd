/**
 * The buffers behind a channel: one small interface, two implementations (a ring buffer for the
 * fixed, dropping and sliding policies; a one-slot cell for promise channels).
 *
 * @internal
 */

/** How a buffer reacts when a value arrives while it holds `capacity` values. */
export type Policy = "fixed" | "dropping" | "sliding"

/** The buffer interface the channel state machine works against. */
export interface Buf<A> {
  /** How many values a take can remove (a promise cell: 0 or 1). */
  readonly size: number
  /**
   * Whether a put must wait (only the fixed policy is ever full), when `reserved` of the buffered
   * values are owed to woken takers (the channel's `owed`): those do not count against the
   * capacity, since a waiting taker is room, as in a direct hand-off.
   */
  isFull(reserved: number): boolean
  /** Adds `value`; a policy that drops a value (the new one or the oldest) passes it to `onDrop`. */
  add(value: A, onDrop: (dropped: A) => void): void
  /** Removes and returns the oldest value (a promise cell returns its value and keeps it). Precondition: `size > 0`. */
  remove(): A
  /** Puts `value` back at the front, ignoring capacity: the value a withdrawn taker had been handed. */
  unshift(value: A): void
  /** Empties the buffer, returning what it held in order (a promise cell returns nothing). */
  drain(): Array<A>
}

/**
 * A growable ring buffer with a logical capacity. Storage grows by doubling up to what is used, so
 * `Buffer.fixed(1e6)` costs nothing until it fills.
 * Invariant: `0 <= length <= items.length`, `items.length` a power of two; slots outside
 * `[head, head + length)` (mod `items.length`) hold `undefined`.
 */
export class RingBuffer<A> implements Buf<A> {
  private items: Array<A | undefined> = new Array(8)
  private head = 0
  private length = 0

  constructor(
    readonly policy: Policy,
    readonly capacity: number
  ) {}

  get size(): number {
    return this.length
  }

  isFull(reserved: number): boolean {
    return this.policy === "fixed" && this.length - reserved >= this.capacity
  }

  add(value: A, onDrop: (dropped: A) => void): void {
    if (this.length >= this.capacity) {
      if (this.policy === "dropping") {
        onDrop(value)
        return
      }
      if (this.policy === "sliding") onDrop(this.remove())
    }
    if (this.length === this.items.length) this.grow()
    this.items[(this.head + this.length) & (this.items.length - 1)] = value
    this.length++
  }

  remove(): A {
    const value = this.items[this.head] as A
    this.items[this.head] = undefined
    this.head = (this.head + 1) & (this.items.length - 1)
    this.length--
    return value
  }

  unshift(value: A): void {
    if (this.length === this.items.length) this.grow()
    this.head = (this.head - 1) & (this.items.length - 1)
    this.items[this.head] = value
    this.length++
  }

  drain(): Array<A> {
    const out = new Array<A>(this.length)
    for (let i = 0; i < out.length; i++) out[i] = this.remove()
    return out
  }

  private grow(): void {
    const old = this.items
    const next = new Array<A | undefined>(old.length * 2)
    for (let i = 0; i < this.length; i++) next[i] = old[(this.head + i) & (old.length - 1)]
    this.items = next
    this.head = 0
  }
}

/**
 * The cell of a promise channel: the first value added is kept forever and given to every take;
 * later values are dropped (to `onDrop`).
 */
export class PromiseCell<A> implements Buf<A> {
  private value: A | undefined = undefined
  private filled = false

  get size(): number {
    return this.filled ? 1 : 0
  }

  isFull(_reserved: number): boolean {
    return false
  }

  add(value: A, onDrop: (dropped: A) => void): void {
    if (this.filled) {
      onDrop(value)
      return
    }
    this.value = value
    this.filled = true
  }

  remove(): A {
    return this.value as A
  }

  unshift(_value: A): void {
    // the value never left the cell
  }

  drain(): Array<A> {
    return []
  }
}
