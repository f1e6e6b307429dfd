/** A worker process of `nats.ts`: `nats-worker.ts <nats url> <prefix> <name>`; runs until SIGTERM/SIGKILL. */
import { Supervisor } from "@tributary/jobs"
import { NatsWorker } from "@tributary/nats"
import { small } from "./nats-jobs.ts"

const [servers, prefix, name] = process.argv.slice(2)
Supervisor.runMain(
  NatsWorker.run({ servers, prefix, name, definitions: [small], concurrency: 16, ackWait: "2 seconds" }),
  {
    logger: { level: "info" }
  }
)
