/**
 * The queues the supervisor keeps its entries in, all O(1) (amortized) per operation: two intrusive
 * ones that link items through fields of the items themselves (no allocation per push), a plain
 * FIFO, and a ring of flat records (queued jobs that have no entry object yet).
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

/** Slots per record of a `SlotRing`. */
const Width = 5
/** Records per chunk of a `SlotRing` of more than one chunk (2 ** ChunkShift). */
const ChunkRecords = 1024
const ChunkShift = 10
/** Record room of a new (or emptied) `SlotRing`. */
const SmallRoom = 8

/**
 * A FIFO of five-slot records stored flat in arrays: O(1) amortized push and shift, and no object
 * per record — a queue of 100,000 records is about a hundred arrays, which the garbage collector
 * moves and scans as such. Up to `ChunkRecords` records live in one array that grows by doubling;
 * past that the ring is a list of chunks of `ChunkRecords` records: it grows by one chunk without
 * copying what it holds (a burst of 100,000 jobs queued at once copied each record ~2 times when
 * the one array doubled, a share of their cost), and a chunk emptied at the head is kept as the
 * next one at the tail. Emptied, the ring starts small again.
 *
 * Invariants:
 * - The records are the `length` consecutive ones from record `first` of `chunks[0]`: record `i`
 *   is at position `first + i`, in `chunks[pos >> ChunkShift]` at `(pos & (ChunkRecords - 1)) * Width`.
 * - `room` is the record room of `chunks`: one chunk of `room` ≤ `ChunkRecords` records (a power
 *   of two), or `chunks.length` chunks of `ChunkRecords` records; `first < room`, `first + length ≤ room`.
 * - Every slot outside the records is undefined (nothing is kept alive by a shifted record), the
 *   spare chunk's too.
 */
export class SlotRing {
  private chunks: Array<Array<unknown>> = [slots(SmallRoom)]
  private room = SmallRoom
  /** the record index of the head in `chunks[0]` */
  private first = 0
  /** an emptied chunk of `ChunkRecords` records, for the next one the tail needs */
  private spare: Array<unknown> | undefined = undefined
  length = 0
  /** Appends one record. */
  push(a: unknown, b: unknown, c: unknown, d: unknown, e: unknown): void {
    const pos = this.first + this.length
    if (pos === this.room) this.makeRoom()
    const at = this.first + this.length
    const s = this.chunks[at >> ChunkShift]
    const base = (at & (ChunkRecords - 1)) * Width
    s[base] = a
    s[base + 1] = b
    s[base + 2] = c
    s[base + 3] = d
    s[base + 4] = e
    this.length++
  }
  /** Slot `k` of the head record. Precondition: `length > 0`. */
  head(k: number): unknown {
    return this.chunks[0][this.first * Width + k]
  }
  /** Slot `k` of the record `i` places behind the head. Precondition: `i < length`. */
  at(i: number, k: number): unknown {
    const pos = this.first + i
    return this.chunks[pos >> ChunkShift][(pos & (ChunkRecords - 1)) * Width + k]
  }
  /** Removes the head record. Precondition: `length > 0`. */
  shift(): void {
    const s = this.chunks[0]
    const base = this.first * Width
    for (let k = 0; k < Width; k++) s[base + k] = undefined
    this.first++
    if (--this.length === 0) {
      this.first = 0
      if (this.room > ChunkRecords || this.chunks.length > 1) {
        this.chunks = [slots(SmallRoom)]
        this.room = SmallRoom
        this.spare = undefined
      }
    } else if (this.first === ChunkRecords) {
      // the head chunk is empty: the next one holds the head
      this.spare = this.chunks.shift()
      this.room -= ChunkRecords
      this.first = 0
    }
  }
  /** Precondition: `first + length === room`. */
  private makeRoom(): void {
    if (this.room >= ChunkRecords) {
      this.chunks.push(this.spare ?? slots(ChunkRecords))
      this.spare = undefined
      this.room += ChunkRecords
      return
    }
    // one small chunk: a bigger one (or the same size, when half of it is shifted out)
    const room = this.length * 2 > this.room ? this.room * 2 : this.room
    const old = this.chunks[0]
    const fresh = slots(room)
    for (let i = 0; i < this.length * Width; i++) fresh[i] = old[this.first * Width + i]
    this.chunks[0] = fresh
    this.room = room
    this.first = 0
  }
}

/** An array of `records` empty records. */
const slots = (records: number): Array<unknown> => new Array(records * Width).fill(undefined)
