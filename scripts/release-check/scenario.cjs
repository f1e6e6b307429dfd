// CommonJS consumer: the packages loaded with `require` (ESM from CommonJS, Node 20.19+).
const { Chan } = require("@tributary/channel")
const AsyncChan = require("@tributary/channel/async")
const { Job, Supervisor } = require("@tributary/jobs")
const PromiseJobs = require("@tributary/jobs/promise")
const { Monitor } = require("@tributary/monitor")
const { NatsArgumentError, NatsWorker } = require("@tributary/nats")
const { PinoLogger } = require("@tributary/pino")
const { Effect, Option } = require("effect")
const pino = require("pino")
const { move } = require("./move.cjs")
const { useRest } = require("./rest.cjs")

const main = async () => {
  console.log(await move({ Chan, Job, Supervisor, Effect, Option, AsyncChan, PromiseJobs }, "cjs"))
  console.log(await useRest({ Effect, Supervisor, PinoLogger, pino, Monitor, NatsWorker, NatsArgumentError }, "cjs"))
}
main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
