/**
 * The queues the supervisor keeps its entries in, all O(1) per operation: two intrusive ones that
 * link items through fields of the items themselves (no allocation per push), and a plain FIFO.
 *
 * Invariant: an item is in at most one `EntryQueue` at a time (its `prev`/`next`), and in at most
 * one `RunningList` (its `runPrev`/`runNext`); `size` is the number of items linked.
 *
 * @internal
 */

/** What an item of an `EntryQueue` carries: its links. */
export interface Linked<E> {
  prev: E | undefined
  next: E | undefined
}

/** What an item of a `RunningList` carries: its links. */
export interface RunLinked<E> {
  runPrev: E | undefined
  runNext: E | undefined
}

/**
 * A FIFO of items linked through their own `prev`/`next` fields: O(1) push, shift and remove,
 * no allocation. An item is in at most one `EntryQueue` at a time.
 */
export class EntryQueue<E extends Linked<E>> implements Iterable<E> {
  head: E | undefined = undefined
  tail: E | undefined = undefined
  size = 0
  push(e: E): void {
    e.prev = this.tail
    e.next = undefined
    if (this.tail === undefined) this.head = e
    else this.tail.next = e
    this.tail = e
    this.size++
  }
  /** Puts `e` first. */
  unshift(e: E): void {
    e.prev = undefined
    e.next = this.head
    if (this.head === undefined) this.tail = e
    else this.head.prev = e
    this.head = e
    this.size++
  }
  /** Precondition: `ref` is in this queue. Puts `e` right after it. */
  insertAfter(ref: E, e: E): void {
    e.prev = ref
    e.next = ref.next
    if (ref.next === undefined) this.tail = e
    else ref.next.prev = e
    ref.next = e
    this.size++
  }
  shift(): E | undefined {
    const e = this.head
    if (e !== undefined) this.remove(e)
    return e
  }
  /** Precondition: `e` is in this queue. */
  remove(e: E): void {
    if (e.prev === undefined) this.head = e.next
    else e.prev.next = e.next
    if (e.next === undefined) this.tail = e.prev
    else e.next.prev = e.prev
    e.prev = e.next = undefined
    this.size--
  }
  *[Symbol.iterator](): Iterator<E> {
    for (let e = this.head; e !== undefined; e = e.next) yield e
  }
}

/** Items in insertion order, linked through their own `runPrev`/`runNext` fields (the running jobs). */
export class RunningList<E extends RunLinked<E>> implements Iterable<E> {
  private first: E | undefined = undefined
  private last: E | undefined = undefined
  size = 0
  add(e: E): void {
    e.runPrev = this.last
    e.runNext = undefined
    if (this.last === undefined) this.first = e
    else this.last.runNext = e
    this.last = e
    this.size++
  }
  /** Precondition: `e` is in the list. */
  delete(e: E): void {
    if (e.runPrev === undefined) this.first = e.runNext
    else e.runPrev.runNext = e.runNext
    if (e.runNext === undefined) this.last = e.runPrev
    else e.runNext.runPrev = e.runPrev
    e.runPrev = e.runNext = undefined
    this.size--
  }
  *[Symbol.iterator](): Iterator<E> {
    for (let e = this.first; e !== undefined; e = e.runNext) yield e
  }
}

/** A FIFO with O(1) push and shift (an array with a moving head, compacted now and then). */
export class Fifo<A> {
  private items: Array<A> = []
  private first = 0
  get size(): number {
    return this.items.length - this.first
  }
  push(a: A): void {
    this.items.push(a)
  }
  peek(): A | undefined {
    return this.first < this.items.length ? this.items[this.first] : undefined
  }
  shift(): A | undefined {
    if (this.first >= this.items.length) return undefined
    const a = this.items[this.first]
    this.items[this.first] = undefined as A
    this.first++
    if (this.first > 1024 && this.first * 2 > this.items.length) {
      this.items = this.items.slice(this.first)
      this.first = 0
    }
    return a
  }
}
