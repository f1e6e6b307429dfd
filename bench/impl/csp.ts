/**
 * "js-csp": the js-csp package (generator processes in the style of core.async).
 * It is CommonJS without type declarations, so it is loaded with `createRequire`
 * and typed here with just the surface the workloads use.
 */
import { createRequire } from "node:module"
import type { Implementation, Tally } from "../workloads.ts"

/** An instruction a js-csp process yields. */
type Instruction = { readonly __instruction: never }
type Channel = { close(): void }
type Process<R> = Generator<Instruction, R, unknown>

interface Csp {
  readonly CLOSED: unknown
  readonly buffers: { fixed(size: number): unknown }
  chan(buffer?: unknown): Channel
  go<R>(body: () => Process<R>): Channel
  put(channel: Channel, value: unknown): Instruction
  take(channel: Channel): Instruction
  alts(channels: ReadonlyArray<Channel>): Instruction
  takeAsync(channel: Channel, callback: (value: unknown) => void): void
}

const csp = createRequire(import.meta.url)("js-csp") as Csp

/** Runs a process; resolves with its return value. */
const go = <R>(body: () => Process<R>): Promise<R> =>
  new Promise((resolve) => csp.takeAsync(csp.go(body), (value) => resolve(value as R)))

function* produce(channel: Channel, from: number, step: number, count: number): Process<void> {
  for (let i = 0; i < count; i++) yield csp.put(channel, from + i * step)
}

function* drain(channel: Channel): Process<Tally> {
  let count = 0
  let sum = 0
  for (;;) {
    const value = yield csp.take(channel)
    if (value === csp.CLOSED) return { count, sum }
    count++
    sum += value as number
  }
}

export const impl: Implementation = {
  async w1(n, buffer) {
    const channel = csp.chan(csp.buffers.fixed(buffer))
    const consumer = go(() => drain(channel))
    await go(() => produce(channel, 0, 1, n))
    channel.close()
    return consumer
  },

  async w2(n) {
    const ping = csp.chan()
    const pong = csp.chan()
    const echo = go(function* () {
      for (let i = 0; i < n; i++) yield csp.put(pong, yield csp.take(ping))
    })
    const tally = await go(function* () {
      let sum = 0
      for (let i = 0; i < n; i++) {
        yield csp.put(ping, i)
        sum += (yield csp.take(pong)) as number
      }
      return { count: n, sum }
    })
    await echo
    return tally
  },

  async w3(n, producers, buffer) {
    const channel = csp.chan(csp.buffers.fixed(buffer))
    const consumer = go(() => drain(channel))
    const per = n / producers
    await Promise.all(Array.from({ length: producers }, (_, p) => go(() => produce(channel, p, producers, per))))
    channel.close()
    return consumer
  },

  async w4(n, channels, buffer) {
    const chans = Array.from({ length: channels }, () => csp.chan(csp.buffers.fixed(buffer)))
    const per = n / channels
    const feeding = Promise.all(chans.map((channel, c) => go(() => produce(channel, c * per, 1, per))))
    const tally = await go(function* () {
      let sum = 0
      for (let i = 0; i < n; i++) {
        const { value } = (yield csp.alts(chans)) as { value: number }
        sum += value
      }
      return { count: n, sum }
    })
    await feeding
    return tally
  }
}
