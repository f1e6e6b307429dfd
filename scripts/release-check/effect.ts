// TypeScript consumer of the Effect API and (through ./promise.js) the Promise API, checked under
// moduleResolution nodenext and bundler, then compiled and run.
import { Chan, type ReadPort } from "@tributary/channel"
import { Job, Supervisor, type SupervisorClosedError, type SupervisorFullError } from "@tributary/jobs"
import { Effect, Option } from "effect"
import { moveOne } from "./promise.js"

const program: Effect.Effect<number, SupervisorClosedError | SupervisorFullError> = Effect.gen(function* () {
  const ch = yield* Chan.make<number>(1)
  const port: ReadPort<number> = ch
  yield* Job.fire(Chan.put(ch, 42), { name: "put" })
  const taken = yield* Chan.take(port)
  return Option.getOrElse(taken, () => 0)
}).pipe(Effect.provide(Supervisor.layer()))

const viaEffect = await Effect.runPromise(program)
const viaPromise = await moveOne()
if (viaEffect !== 42 || viaPromise !== 43) throw new Error(`ts: expected 42 and 43, got ${viaEffect} and ${viaPromise}`)
console.log("ts: a fired job moved 42 (Effect) and 43 (Promise) through a channel")
