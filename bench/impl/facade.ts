/**
 * "facade": the Promise facade of @tributary/channel (`@tributary/channel/async`),
 * written the way a user without Effect would: plain async functions, one
 * `await` per operation (`await ch.put(v)`, `await ch.take()` until `done`),
 * producers started as async calls and joined with `await` / `Promise.all`.
 * W2 uses `chan()` (rendezvous); W4 awaits one `select` of the 4 channels'
 * `onTake` cases per value (the case list is built once and reused, as "ours"
 * builds its select effect once).
 */

// the compiled package under the `tributary:dist` condition (see ours.ts)
import { type AsyncChan, chan, onTake, select } from "@tributary/channel/async"
import type { Implementation, Tally } from "../workloads.ts"

async function produce(ch: AsyncChan<number>, from: number, step: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await ch.put(from + i * step)
}

async function drain(ch: AsyncChan<number>): Promise<Tally> {
  let count = 0
  let sum = 0
  for (;;) {
    const r = await ch.take()
    if (r.done) return { count, sum }
    count++
    sum += r.value
  }
}

export const impl: Implementation = {
  async w1(n, buffer) {
    const ch = chan<number>(buffer)
    const consumer = drain(ch)
    await produce(ch, 0, 1, n)
    ch.close()
    return consumer
  },

  async w2(n) {
    const ping = chan<number>()
    const pong = chan<number>()
    const echo = (async () => {
      for (let i = 0; i < n; i++) {
        const r = await ping.take()
        if (!r.done) await pong.put(r.value)
      }
    })()
    let count = 0
    let sum = 0
    for (let i = 0; i < n; i++) {
      await ping.put(i)
      const r = await pong.take()
      if (!r.done) {
        count++
        sum += r.value
      }
    }
    await echo
    return { count, sum }
  },

  async w3(n, producers, buffer) {
    const ch = chan<number>(buffer)
    const consumer = drain(ch)
    const per = n / producers
    await Promise.all(Array.from({ length: producers }, (_, p) => produce(ch, p, producers, per)))
    ch.close()
    return consumer
  },

  async w4(n, channels, buffer) {
    const chans = Array.from({ length: channels }, () => chan<number>(buffer))
    const per = n / channels
    const feeding = Promise.all(chans.map((ch, c) => produce(ch, c * per, 1, per)))
    const cases = chans.map((ch) => onTake(ch, (r) => r))
    let count = 0
    let sum = 0
    for (let i = 0; i < n; i++) {
      const r = await select(cases)
      if (!r.done) {
        count++
        sum += r.value
      }
    }
    await feeding
    return { count, sum }
  }
}
