// ESM consumer: the packages loaded with `import`.
import { Chan } from "@tributary/channel"
import * as AsyncChan from "@tributary/channel/async"
import { Job, Supervisor } from "@tributary/jobs"
import * as PromiseJobs from "@tributary/jobs/promise"
import { Monitor } from "@tributary/monitor"
import { NatsArgumentError, NatsWorker } from "@tributary/nats"
import { PinoLogger } from "@tributary/pino"
import { Effect, Option } from "effect"
import pino from "pino"
import { move } from "./move.cjs"
import { useRest } from "./rest.cjs"

console.log(await move({ Chan, Job, Supervisor, Effect, Option, AsyncChan, PromiseJobs }, "esm"))
console.log(await useRest({ Effect, Supervisor, PinoLogger, pino, Monitor, NatsWorker, NatsArgumentError }, "esm"))
