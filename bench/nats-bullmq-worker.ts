/**
 * A BullMQ worker process of `nats.ts`, the peer of `nats-worker.ts`: `nats-bullmq-worker.ts
 * <redis port> <queue>`; the same job body (its payload returned), concurrency 16, lock duration
 * and stalled interval 2 s (the peer of the NATS workers' 2 s ack wait). Runs until SIGTERM/SIGKILL.
 */
import { Worker } from "bullmq"
import { BULL_LOCK_MILLIS } from "./nats-bullmq.ts"

const [port, queue] = process.argv.slice(2)
const worker = new Worker(queue, async (job) => job.data, {
  connection: { host: "127.0.0.1", port: Number(port) },
  concurrency: 16,
  lockDuration: BULL_LOCK_MILLIS,
  stalledInterval: BULL_LOCK_MILLIS
})
worker.on("error", (e) => console.error(e))
await worker.waitUntilReady()
console.log(`worker pulling jobs from ${queue} (concurrency 16)`)
process.once("SIGTERM", () => {
  worker.close().then(() => process.exit(0))
})
