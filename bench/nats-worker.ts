/**
 * A worker process of `nats.ts`: `nats-worker.ts <nats url> <prefix> <name> [<io url> <concurrency>]`
 * (without the last two: no I/O job, concurrency 16); runs until SIGTERM/SIGKILL.
 */
import { Supervisor } from "@tributary/jobs"
import { NatsWorker } from "@tributary/nats"
import { io, small } from "./nats-jobs.ts"

const [servers, prefix, name, ioUrl, concurrency] = process.argv.slice(2)
Supervisor.runMain(
  NatsWorker.run({
    servers,
    prefix,
    name,
    definitions: ioUrl === undefined ? [small] : [small, io(ioUrl)],
    concurrency: concurrency === undefined ? 16 : Number(concurrency),
    ackWait: "2 seconds"
  }),
  {
    logger: { level: "info" }
  }
)
