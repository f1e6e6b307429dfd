/**
 * What a log line costs in memory while its destination has not answered it, and what
 * `maxHeldLines` bounds: a Writable that never calls its write callbacks, written by plain pino and
 * through `PinoLogger.make` (its per-line bookkeeping), heap measured after a forced gc.
 *
 *   node --expose-gc --conditions=tributary:source --import tsx bench/held-lines.ts [--lines 20000]
 */
import { Writable } from "node:stream"
import { parseArgs } from "node:util"
import { PinoLogger } from "@tributary/pino"
import { Effect, Logger } from "effect"
import pino from "pino"

const { values } = parseArgs({ options: { lines: { type: "string", default: "20000" } } })
const lines = Number(values.lines)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error("run with node --expose-gc")

/** A destination that takes every write and never answers it (a stalled socket, say). */
const stalled = () => new Writable({ write: () => {} })

/** Heap used after a collection, once pending callbacks have run. */
const heap = async (): Promise<number> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** Heap per line (bytes) while `lines` lines wait, written by `write`. */
const perLine = async (write: (i: number) => void): Promise<number> => {
  const before = await heap()
  for (let i = 0; i < lines; i++) write(i)
  return ((await heap()) - before) / lines
}

const plain = pino({ level: "info" }, stalled())
const plainBytes = await perLine((i) => plain.info({ fiberId: "#1" }, `line ${i}`))

const run = (maxHeldLines: number) => {
  const logger = pino({ level: "info" }, stalled())
  const layer = Logger.layer([PinoLogger.make(logger, { maxHeldLines })])
  return {
    logger,
    write: (i: number) => Effect.runSync(Effect.log(`line ${i}`).pipe(Effect.provide(layer)))
  }
}
const unbounded = run(Number.POSITIVE_INFINITY)
const trackedBytes = await perLine(unbounded.write)
const bounded = run(1000)
const boundedBytes = await perLine(bounded.write)

console.log(`Node ${process.version}, ${lines} lines to a destination that never answers; heap per line after gc:`)
console.log(`  plain pino:                             ${plainBytes.toFixed(0)} B`)
console.log(`  PinoLogger.make, maxHeldLines Infinity:  ${trackedBytes.toFixed(0)} B`)
console.log(
  `  PinoLogger.make, maxHeldLines 1000:      ${boundedBytes.toFixed(1)} B (lines lost: ${PinoLogger.lostLines(bounded.logger)})`
)
process.exit(0)
