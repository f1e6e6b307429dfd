/**
 * One worker process of `--workers N`: `worker.ts <name> <concurrency> <rate>`, with the NATS URL in
 * `ETL_WORKER_NATS` and the partner's in `ETL_WORKER_PARTNER_URL` (kept off the command line, which
 * `ps` shows to every user: they may hold credentials).
 * Runs the `fetch-clean-record` jobs it pulls from NATS, under the same partner limits as the
 * in-process sync (its share of them), until SIGTERM (it hands back what it holds) or SIGKILL
 * (its jobs are redelivered to the others after the ack wait).
 */
import { Supervisor } from "@tributary/jobs"
import { NatsWorker } from "@tributary/nats"
import pino from "pino"
import { makeClient } from "./client.js"
import { fetchCleanRecord, retryCounts } from "./remote.js"

const [name, concurrency, rate] = process.argv.slice(2)
const nats = process.env.ETL_WORKER_NATS ?? ""
const partnerUrl = process.env.ETL_WORKER_PARTNER_URL ?? ""
// each record's retries go back with its row, for the summary of the job that fired it
const retries = retryCounts()
Supervisor.runMain(
  NatsWorker.run({
    servers: nats,
    name,
    definitions: [fetchCleanRecord(makeClient(partnerUrl, { onRetry: retries.onRetry }), retries.take)],
    concurrency: Number(concurrency),
    pools: { default: { rate: { limit: Number(rate), interval: "1 second" } } },
    ackWait: "5 seconds",
    // the partner client retries 429 and 503 itself: what still fails is final (a 404, a record that does not clean)
    attempts: 1
  }),
  // warnings and errors on stderr (the parent shows it; a worker's stdout is not read), synchronously:
  // a worker that cannot start says why before it exits
  { logger: pino({ level: "warn" }, pino.destination({ dest: 2, sync: true })) }
)
