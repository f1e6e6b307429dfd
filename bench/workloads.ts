/**
 * The benchmark workloads: their spec sizes, how a `--scale` factor shrinks them,
 * and the interface every implementation (bench/impl/*.ts) provides.
 *
 * Every workload ends with one consumer that has received `count` values whose
 * `sum` is checked: the values sent are always 0..count-1, so the expected sum
 * is count * (count - 1) / 2.
 */

/** What the final consumer of a workload saw. */
export interface Tally {
  readonly count: number
  readonly sum: number
}

/** One implementation of the four workloads; each returns what its consumer received. */
export interface Implementation {
  /** One producer puts 0..n-1 into a channel of size `buffer` and closes it; one consumer drains it. */
  readonly w1: (n: number, buffer: number) => Promise<Tally>
  /** `n` round trips over two rendezvous channels: A puts i on ping, B echoes it on pong. */
  readonly w2: (n: number) => Promise<Tally>
  /** `producers` producers put n / producers values each into one channel of size `buffer`, then it is closed. */
  readonly w3: (n: number, producers: number, buffer: number) => Promise<Tally>
  /** `channels` channels of size `buffer`, one producer each; one consumer selects until it has all n values. */
  readonly w4: (n: number, channels: number, buffer: number) => Promise<Tally>
}

export type WorkloadId = "W1" | "W2" | "W3" | "W4"

/** A workload at a given size, as run by a child process. */
export interface Workload {
  readonly id: WorkloadId
  /** What is counted as one operation in ops/sec. */
  readonly unit: "values" | "round trips"
  readonly title: string
  /** Values (or round trips) the consumer must receive at scale 1. */
  readonly size: number
  readonly run: (impl: Implementation, size: number) => Promise<Tally>
  /** The size actually run for a scale: rounded so producers split it evenly. */
  readonly sized: (scale: number) => number
}

const W3_PRODUCERS = 100
const W4_CHANNELS = 4

/** A workload whose `sized` scales its `size`, rounded to a multiple of `multipleOf` (default 1, at least one). */
const defineWorkload = ({
  multipleOf = 1,
  ...spec
}: Omit<Workload, "sized"> & { readonly multipleOf?: number }): Workload => ({
  ...spec,
  sized: (scale) => Math.max(multipleOf, Math.round((spec.size * scale) / multipleOf) * multipleOf)
})

/** W1–W4, in report order. */
export const workloads: ReadonlyArray<Workload> = [
  defineWorkload({
    id: "W1",
    unit: "values",
    title: "1 producer → 1 consumer, buffer 1024",
    size: 1_000_000,
    run: (impl, n) => impl.w1(n, 1024)
  }),
  defineWorkload({
    id: "W2",
    unit: "round trips",
    title: "ping-pong over two rendezvous channels",
    size: 200_000,
    run: (impl, n) => impl.w2(n)
  }),
  defineWorkload({
    id: "W3",
    unit: "values",
    title: `${W3_PRODUCERS} producers → 1 consumer, buffer 64`,
    size: 1_000_000,
    run: (impl, n) => impl.w3(n, W3_PRODUCERS, 64),
    multipleOf: W3_PRODUCERS
  }),
  defineWorkload({
    id: "W4",
    unit: "values",
    title: `select over ${W4_CHANNELS} channels (buffer 64), 1 producer each`,
    size: 400_000,
    run: (impl, n) => impl.w4(n, W4_CHANNELS, 64),
    multipleOf: W4_CHANNELS
  })
]

/** The workload with this id, or an error listing the known ones. */
export const workloadById = (id: string): Workload => {
  const workload = workloads.find((w) => w.id === id)
  if (workload === undefined) {
    throw new Error(`unknown workload ${id}; known: ${workloads.map((w) => w.id).join(", ")}`)
  }
  return workload
}

/** Throws unless the consumer received exactly 0..count-1. */
export const verify = (workload: Workload, size: number, tally: Tally): void => {
  const sum = (size * (size - 1)) / 2
  if (tally.count !== size || tally.sum !== sum) {
    throw new Error(
      `${workload.id}: expected count ${size} and sum ${sum}, got count ${tally.count} and sum ${tally.sum}`
    )
  }
}
