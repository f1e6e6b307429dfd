/**
 * A BullMQ worker process of `nats.ts`, the peer of `nats-worker.ts`: `nats-bullmq-worker.ts
 * <redis port> <queue> [<io url> <concurrency>]`; the same job bodies (the small job returns its
 * payload; the I/O job, named "bench-io", makes the same GET with the same function, `nats-io.ts`),
 * concurrency 16 unless given, lock duration and stalled interval 2 s (the peer of the NATS
 * workers' 2 s ack wait). Runs until SIGTERM/SIGKILL.
 */
import { Worker } from "bullmq"
import { BULL_LOCK_MILLIS } from "./nats-bullmq.ts"
import { get } from "./nats-io.ts"

const [port, queue, ioUrl, concurrencyArg] = process.argv.slice(2)
const concurrency = concurrencyArg === undefined ? 16 : Number(concurrencyArg)
const worker = new Worker(queue, async (job) => (job.name === "bench-io" ? get(`${ioUrl}/${job.data}`) : job.data), {
  connection: { host: "127.0.0.1", port: Number(port) },
  concurrency,
  lockDuration: BULL_LOCK_MILLIS,
  stalledInterval: BULL_LOCK_MILLIS
})
worker.on("error", (e) => console.error(e))
await worker.waitUntilReady()
console.log(`worker pulling jobs from ${queue} (concurrency ${concurrency})`)
process.once("SIGTERM", () => {
  worker.close().then(() => process.exit(0))
})
