/**
 * "floor": the raw lower bound. A minimal callback channel (ring buffer plus
 * FIFOs of waiting takers and putters, synchronous fast path, waiters resumed
 * by a direct call on the caller's stack) driven by a tiny generator runner.
 * No scheduler, no interruption, no error handling: what any channel library
 * pays beyond this is its own overhead.
 */
import type { Implementation, Tally } from "../workloads.ts"

export const CLOSED: unique symbol = Symbol("closed")
export const PENDING: unique symbol = Symbol("pending")
export const EMPTY: unique symbol = Symbol("empty")

export type Resume = (result: unknown) => void
/** Shared by the takers one `alts` registers; the first to fire wins, the rest are skipped. */
type Alt = { done: boolean }
type Taker = {
  readonly resume: Resume
  readonly alt: Alt | undefined
  readonly index: number
}
type Putter = { readonly value: unknown; readonly resume: Resume }

/** Growable ring FIFO. */
class Fifo<T> {
  private items: Array<T | undefined> = new Array(16)
  private head = 0
  length = 0
  push(item: T): void {
    if (this.length === this.items.length) {
      this.items = [...this.items.slice(this.head), ...this.items.slice(0, this.head)]
      this.items.length *= 2
      this.head = 0
    }
    this.items[(this.head + this.length++) % this.items.length] = item
  }
  shift(): T {
    const item = this.items[this.head] as T
    this.items[this.head] = undefined
    this.head = (this.head + 1) % this.items.length
    this.length--
    return item
  }
}

export class Chan {
  private readonly buffer = new Fifo<unknown>()
  readonly takers = new Fifo<Taker>()
  private readonly putters = new Fifo<Putter>()
  private closed = false
  constructor(private readonly capacity: number) {}

  put(value: unknown, resume: Resume): boolean | typeof PENDING {
    if (this.closed) return false
    while (this.takers.length > 0) {
      const taker = this.takers.shift()
      if (taker.alt !== undefined) {
        if (taker.alt.done) continue
        taker.alt.done = true
      }
      taker.resume(taker.alt === undefined ? value : { value, index: taker.index })
      return true
    }
    if (this.buffer.length < this.capacity) {
      this.buffer.push(value)
      return true
    }
    this.putters.push({ value, resume })
    return PENDING
  }

  /** A value, CLOSED, or EMPTY if taking would have to wait. */
  poll(): unknown {
    if (this.buffer.length > 0) {
      const value = this.buffer.shift()
      if (this.putters.length > 0) {
        const putter = this.putters.shift()
        this.buffer.push(putter.value)
        putter.resume(true)
      }
      return value
    }
    if (this.putters.length > 0) {
      const putter = this.putters.shift()
      putter.resume(true)
      return putter.value
    }
    return this.closed ? CLOSED : EMPTY
  }

  take(resume: Resume): unknown {
    const value = this.poll()
    if (value !== EMPTY) return value
    this.takers.push({ resume, alt: undefined, index: 0 })
    return PENDING
  }

  close(): void {
    this.closed = true
    while (this.takers.length > 0) {
      const taker = this.takers.shift()
      if (taker.alt === undefined) taker.resume(CLOSED)
      else if (!taker.alt.done) {
        taker.alt.done = true
        taker.resume({ value: CLOSED, index: taker.index })
      }
    }
    while (this.putters.length > 0) this.putters.shift().resume(false)
  }
}

/** What a process yields; `go` performs it and sends the result back into the generator. */
type Op =
  | { readonly tag: "put"; readonly chan: Chan; readonly value: unknown }
  | { readonly tag: "take"; readonly chan: Chan }
  | { readonly tag: "alts"; readonly chans: ReadonlyArray<Chan> }

let altsStart = 0

/** Takes from the first ready channel (scanning from a rotating start), else waits on all. */
export const alts = (chans: ReadonlyArray<Chan>, resume: Resume): unknown => {
  const start = altsStart++ % chans.length
  for (let k = 0; k < chans.length; k++) {
    const index = (start + k) % chans.length
    const value = chans[index].poll()
    if (value !== EMPTY) return { value, index }
  }
  const alt: Alt = { done: false }
  for (let index = 0; index < chans.length; index++) {
    chans[index].takers.push({ resume, alt, index })
  }
  return PENDING
}

const perform = (op: Op, resume: Resume): unknown =>
  op.tag === "take" ? op.chan.take(resume) : op.tag === "put" ? op.chan.put(op.value, resume) : alts(op.chans, resume)

/** Runs a process to completion; blocked ops resume it directly from the waking call. */
const go = <R>(process: Generator<Op, R, unknown>): Promise<R> =>
  new Promise((resolve) => {
    const step: Resume = (input) => {
      let next = process.next(input)
      while (!next.done) {
        const result = perform(next.value, step)
        if (result === PENDING) return
        next = process.next(result)
      }
      resolve(next.value)
    }
    step(undefined)
  })

const put = (chan: Chan, value: unknown): Op => ({ tag: "put", chan, value })
const take = (chan: Chan): Op => ({ tag: "take", chan })

function* produce(chan: Chan, from: number, step: number, count: number): Generator<Op, void, unknown> {
  for (let i = 0; i < count; i++) yield put(chan, from + i * step)
}

function* drain(chan: Chan): Generator<Op, Tally, unknown> {
  let count = 0
  let sum = 0
  const op = take(chan)
  for (;;) {
    const value = yield op
    if (value === CLOSED) return { count, sum }
    count++
    sum += value as number
  }
}

export const impl: Implementation = {
  async w1(n, buffer) {
    const chan = new Chan(buffer)
    const consumer = go(drain(chan))
    await go(produce(chan, 0, 1, n))
    chan.close()
    return consumer
  },

  async w2(n) {
    const ping = new Chan(0)
    const pong = new Chan(0)
    const echo = go(
      (function* () {
        for (let i = 0; i < n; i++) yield put(pong, yield take(ping))
      })()
    )
    const tally = await go(
      (function* () {
        let sum = 0
        for (let i = 0; i < n; i++) {
          yield put(ping, i)
          sum += (yield take(pong)) as number
        }
        return { count: n, sum }
      })()
    )
    await echo
    return tally
  },

  async w3(n, producers, buffer) {
    const chan = new Chan(buffer)
    const consumer = go(drain(chan))
    const per = n / producers
    await Promise.all(Array.from({ length: producers }, (_, p) => go(produce(chan, p, producers, per))))
    chan.close()
    return consumer
  },

  async w4(n, channels, buffer) {
    const chans = Array.from({ length: channels }, () => new Chan(buffer))
    const per = n / channels
    const feeding = Promise.all(chans.map((chan, c) => go(produce(chan, c * per, 1, per))))
    const tally = await go(
      (function* () {
        let sum = 0
        for (let i = 0; i < n; i++) {
          const { value } = (yield { tag: "alts", chans }) as { value: number }
          sum += value
        }
        return { count: n, sum }
      })()
    )
    await feeding
    return tally
  }
}
