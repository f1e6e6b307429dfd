// CommonJS consumer: the packages loaded with `require` (ESM from CommonJS, Node 20.19+).
const { Chan } = require("@tributary/channel")
const AsyncChan = require("@tributary/channel/async")
const { Job, Supervisor } = require("@tributary/jobs")
const PromiseJobs = require("@tributary/jobs/promise")
const { Effect, Option } = require("effect")
const { move } = require("./move.cjs")

move({ Chan, Job, Supervisor, Effect, Option, AsyncChan, PromiseJobs }, "cjs").then(console.log, (error) => {
  console.error(error)
  process.exitCode = 1
})
