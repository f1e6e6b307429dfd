/**
 * One whole-process benchmark run, spawned by run.ts:
 *
 *   node --expose-gc --import tsx bench/child.ts --impl ours --workload W1 [--scale 1] [--warmup 0.1]
 *
 * Loads one implementation, runs the workload once at `scale * warmup` of its
 * size (warm-up, verified, not timed), collects garbage, runs the warm-up again (the forced GC
 * deoptimizes code, as bench/README.md explains under "Job workloads"), then runs it once at
 * `scale` (timed, verified) and prints one JSON line (a `Sample`) to stdout.
 * On failure it prints `{ impl, workload, error }` and exits with code 1.
 */
import { parseArgs } from "node:util"
import { runChildMain } from "./child-main.ts"
import { isImplName, loadImpl } from "./impls.ts"
import { verify, workloadById } from "./workloads.ts"

/** What a child reports. */
export interface Sample {
  readonly impl: string
  readonly workload: string
  /** Values (or round trips) in the timed run. */
  readonly size: number
  readonly ms: number
  readonly opsPerSec: number
  readonly warmupSize: number
  readonly warmupMs: number
  /** Peak resident set size of the child, in MiB. */
  readonly maxRssMiB: number
}

const { values } = parseArgs({
  options: {
    impl: { type: "string" },
    workload: { type: "string" },
    scale: { type: "string", default: "1" },
    warmup: { type: "string", default: "0.1" }
  }
})

const implName = values.impl ?? ""
const workloadId = values.workload ?? ""

const main = async (): Promise<Sample> => {
  if (!isImplName(implName)) throw new Error(`unknown implementation "${implName}"`)
  const workload = workloadById(workloadId)
  const scale = Number(values.scale)
  const impl = await loadImpl(implName)

  const warmupSize = workload.sized(scale * Number(values.warmup))
  let start = performance.now()
  verify(workload, warmupSize, await workload.run(impl, warmupSize))
  const warmupMs = performance.now() - start

  globalThis.gc?.()
  verify(workload, warmupSize, await workload.run(impl, warmupSize))

  const size = workload.sized(scale)
  start = performance.now()
  const tally = await workload.run(impl, size)
  const ms = performance.now() - start
  verify(workload, size, tally)

  return {
    impl: implName,
    workload: workload.id,
    size,
    ms,
    opsPerSec: (size * 1000) / ms,
    warmupSize,
    warmupMs,
    maxRssMiB: process.resourceUsage().maxRSS / 1024
  }
}

runChildMain(implName, workloadId, main)
