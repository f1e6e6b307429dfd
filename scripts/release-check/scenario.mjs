// ESM consumer: the packages loaded with `import`.
import { Chan } from "@tributary/channel"
import * as AsyncChan from "@tributary/channel/async"
import { Job, Supervisor } from "@tributary/jobs"
import * as PromiseJobs from "@tributary/jobs/promise"
import { Effect, Option } from "effect"
import { move } from "./move.cjs"

console.log(await move({ Chan, Job, Supervisor, Effect, Option, AsyncChan, PromiseJobs }, "esm"))
