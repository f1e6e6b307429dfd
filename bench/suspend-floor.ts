/**
 * What W2 (ping-pong over two rendezvous channels) can cost at least on effect 4: every round trip
 * suspends and resumes two fibers, whatever the channel. This runs W2's shape three ways, each in a
 * process of its own, and prints round trips per second of CPU time (medians of `--runs` runs after a
 * warm-up):
 *
 * - `callback floor`: the smallest rendezvous on `Effect.callback` (a waiting put or take is one
 *   `resume` kept in a field; a taken putter is resumed in a microtask, as ours does). No
 *   interruption handling, no queue of waiters: a lower bound, not a channel.
 * - `queue`: effect's `Queue.bounded(0)` (a rendezvous queue in effect 4.1), as bench/impl/queue.ts.
 * - `ours`: `Chan.make()` from `@tributary/channel`, as bench/impl/ours.ts.
 *
 *   node --expose-gc --import tsx bench/suspend-floor.ts [--n 200000] [--runs 5] [--peer ours]
 *
 * With `--peer` it runs that peer only, in this process, and prints its median.
 *
 * (`@tributary/channel` resolves to its dist/ without the `tributary:source` condition: build it
 * first with `node scripts/build.mjs packages/channel`, or add `--conditions=tributary:source`.)
 */
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { Chan } from "@tributary/channel"
import { Effect, Fiber, Option, Queue } from "effect"

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "200000" },
    runs: { type: "string", default: "5" },
    peer: { type: "string" }
  }
})
const n = Number(values.n)
const runs = Number(values.runs)

/** One side of the floor's rendezvous: at most one waiting put or take (W2 never has more). */
class Rendezvous {
  value = 0
  putter: ((effect: Effect.Effect<boolean>) => void) | undefined = undefined
  taker: ((effect: Effect.Effect<number>) => void) | undefined = undefined
}

const put = (r: Rendezvous, value: number): Effect.Effect<boolean> =>
  Effect.suspend(() => {
    const taker = r.taker
    if (taker !== undefined) {
      r.taker = undefined
      taker(Effect.succeed(value))
      return Effect.succeed(true)
    }
    return Effect.callback<boolean>((resume) => {
      r.value = value
      r.putter = resume
    })
  })

const take = (r: Rendezvous): Effect.Effect<number> =>
  Effect.suspend(() => {
    const putter = r.putter
    if (putter !== undefined) {
      r.putter = undefined
      queueMicrotask(() => putter(Effect.succeed(true)))
      return Effect.succeed(r.value)
    }
    return Effect.callback<number>((resume) => {
      r.taker = resume
    })
  })

/** W2 over any rendezvous: A puts i on ping, B echoes it on pong; resolves to the sum A received. */
const pingPong = <P>(
  make: () => P,
  putOn: (p: P, value: number) => Effect.Effect<unknown>,
  takeFrom: (p: P) => Effect.Effect<number>,
  rounds: number
): Promise<number> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const ping = make()
      const pong = make()
      const echo = yield* Effect.forkChild(
        Effect.gen(function* () {
          for (let i = 0; i < rounds; i++) yield* putOn(pong, yield* takeFrom(ping))
        })
      )
      let sum = 0
      for (let i = 0; i < rounds; i++) {
        yield* putOn(ping, i)
        sum += yield* takeFrom(pong)
      }
      yield* Fiber.join(echo)
      return sum
    })
  )

const peers: Record<string, (rounds: number) => Promise<number>> = {
  "callback floor": (rounds) => pingPong(() => new Rendezvous(), put, take, rounds),
  queue: (rounds) =>
    pingPong(
      () => Effect.runSync(Queue.bounded<number>(0)),
      (queue, value) => Queue.offer(queue, value),
      (queue) => Queue.take(queue),
      rounds
    ),
  ours: (rounds) =>
    pingPong(
      () => Chan.makeUnsafe<number>(),
      Chan.put,
      (ch) =>
        Effect.map(
          Chan.take(ch),
          Option.getOrElse(() => -1)
        ),
      rounds
    )
}

/** Median round trips per second of CPU time of `peer`, run in this process. */
const measure = async (peer: string): Promise<number> => {
  const run = peers[peer]
  if (run === undefined) throw new Error(`unknown peer "${peer}"; known: ${Object.keys(peers).join(", ")}`)
  const gc = (globalThis as { gc?: () => void }).gc
  const expected = (n * (n - 1)) / 2
  await run(n / 10)
  const perSecond: Array<number> = []
  for (let r = 0; r < runs; r++) {
    gc?.()
    const before = process.cpuUsage()
    const sum = await run(n)
    const used = process.cpuUsage(before)
    if (sum !== expected) throw new Error(`${peer}: sum ${sum}, expected ${expected}`)
    perSecond.push(n / ((used.user + used.system) / 1e6))
  }
  perSecond.sort((a, b) => a - b)
  return perSecond[Math.floor(runs / 2)]
}

if (values.peer !== undefined) {
  console.log(JSON.stringify({ peer: values.peer, perSecond: await measure(values.peer) }))
} else {
  const medians: Record<string, number> = {}
  for (const peer of Object.keys(peers)) {
    const out = execFileSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), "--n", String(n), "--runs", String(runs), "--peer", peer],
      { encoding: "utf8" }
    )
    medians[peer] = (JSON.parse(out.trim().split("\n").at(-1)!) as { perSecond: number }).perSecond
    console.log(`${peer.padEnd(15)} ${(medians[peer] / 1000).toFixed(0).padStart(5)} k round trips/s of CPU time`)
  }
  const ratio = (peer: string) => (medians[peer] / medians.queue).toFixed(2)
  console.log(`callback floor / queue ${ratio("callback floor")}×, ours / queue ${ratio("ours")}×`)
}
