/**
 * "raw-await": floor's callback channel (impl/floor.ts) behind the smallest
 * Promise API that makes every operation awaited, used exactly as "facade"
 * uses the Promise facade (async functions, one `await` per put/take/alts).
 * It is the lower bound for await-per-operation code: the facade's target is
 * measured against it.
 *
 * - `put` resolves `true` once buffered or handed over, `false` if closed; when
 *   floor completes it at once the result is a pre-resolved Promise (no new
 *   Promise), otherwise a Promise resolved by floor's callback.
 * - `take` resolves the value itself, or `CLOSED` once closed and drained (no
 *   `{ done, value }` wrapper, unlike the facade): `Promise.resolve(value)` on
 *   the synchronous path, else a Promise resolved by floor's callback.
 * - `alts` takes from the first ready channel (floor's rotating scan), else
 *   waits on all of them with floor's `alts`; resolves `{ value, index }`.
 */
import type { Implementation, Tally } from "../workloads.ts"
import { alts, Chan, CLOSED, EMPTY, PENDING, type Resume } from "./floor.ts"

const resolvedTrue = Promise.resolve(true)
const resolvedFalse = Promise.resolve(false)

class AwaitChan {
  private readonly chan: Chan
  constructor(capacity: number) {
    this.chan = new Chan(capacity)
  }

  put(value: unknown): Promise<boolean> {
    // floor needs the callback up front; it only fires after put returned PENDING,
    // by which time the Promise below exists.
    let settle: Resume | undefined
    const result = this.chan.put(value, (accepted) => settle!(accepted))
    if (result !== PENDING) return result ? resolvedTrue : resolvedFalse
    return new Promise((resolve) => {
      settle = resolve as Resume
    })
  }

  take(): Promise<unknown> {
    const value = this.chan.poll()
    if (value !== EMPTY) return Promise.resolve(value)
    return new Promise((resolve) => {
      const result = this.chan.take(resolve)
      if (result !== PENDING) resolve(result)
    })
  }

  close(): void {
    this.chan.close()
  }

  /** Floor's channel, for `alts`. */
  get raw(): Chan {
    return this.chan
  }
}

let altsStart = 0

const awaitAlts = (chans: ReadonlyArray<Chan>): Promise<{ readonly value: unknown; readonly index: number }> => {
  const start = altsStart++ % chans.length
  for (let k = 0; k < chans.length; k++) {
    const index = (start + k) % chans.length
    const value = chans[index].poll()
    if (value !== EMPTY) return Promise.resolve({ value, index })
  }
  return new Promise((resolve) => {
    const result = alts(chans, resolve as Resume)
    if (result !== PENDING) resolve(result as { value: unknown; index: number })
  })
}

async function produce(ch: AwaitChan, from: number, step: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await ch.put(from + i * step)
}

async function drain(ch: AwaitChan): Promise<Tally> {
  let count = 0
  let sum = 0
  for (;;) {
    const value = await ch.take()
    if (value === CLOSED) return { count, sum }
    count++
    sum += value as number
  }
}

export const impl: Implementation = {
  async w1(n, buffer) {
    const ch = new AwaitChan(buffer)
    const consumer = drain(ch)
    await produce(ch, 0, 1, n)
    ch.close()
    return consumer
  },

  async w2(n) {
    const ping = new AwaitChan(0)
    const pong = new AwaitChan(0)
    const echo = (async () => {
      for (let i = 0; i < n; i++) {
        const value = await ping.take()
        if (value !== CLOSED) await pong.put(value)
      }
    })()
    let count = 0
    let sum = 0
    for (let i = 0; i < n; i++) {
      await ping.put(i)
      const value = await pong.take()
      if (value !== CLOSED) {
        count++
        sum += value as number
      }
    }
    await echo
    return { count, sum }
  },

  async w3(n, producers, buffer) {
    const ch = new AwaitChan(buffer)
    const consumer = drain(ch)
    const per = n / producers
    await Promise.all(Array.from({ length: producers }, (_, p) => produce(ch, p, producers, per)))
    ch.close()
    return consumer
  },

  async w4(n, channels, buffer) {
    const chans = Array.from({ length: channels }, () => new AwaitChan(buffer))
    const raw = chans.map((ch) => ch.raw)
    const per = n / channels
    const feeding = Promise.all(chans.map((ch, c) => produce(ch, c * per, 1, per)))
    let count = 0
    let sum = 0
    for (let i = 0; i < n; i++) {
      const { value } = await awaitAlts(raw)
      if (value !== CLOSED) {
        count++
        sum += value as number
      }
    }
    await feeding
    return { count, sum }
  }
}
