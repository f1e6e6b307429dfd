// TypeScript compiled to CommonJS (a .cts file under module nodenext): each import becomes a
// `require` of an ES module, which TypeScript 5.8+ accepts and Node 20.19+ runs. Under module
// node16 the same imports are refused (TS1479), effect's as much as ours.
import { Chan } from "@tributary/channel"
import { chan, put, take } from "@tributary/channel/async"
import { Job, Supervisor } from "@tributary/jobs"
import { supervisor } from "@tributary/jobs/promise"
import { Effect, Option } from "effect"

const main = async (): Promise<string> => {
  const viaEffect = await Effect.runPromise(
    Effect.gen(function* () {
      const ch = yield* Chan.make<number>(1)
      yield* Job.fire(Chan.put(ch, 42), { name: "put" })
      return Option.getOrElse(yield* Chan.take(ch), () => 0)
    }).pipe(Effect.provide(Supervisor.layer()))
  )
  const sup = supervisor()
  const ch = chan<number>(1)
  sup.fire(() => put(ch, 43), { name: "put" })
  const viaPromise = await take(ch)
  await sup.shutdown()
  if (viaEffect !== 42 || viaPromise.value !== 43)
    throw new Error(`ts commonjs: expected 42 and 43, got ${viaEffect} and ${JSON.stringify(viaPromise)}`)
  return "ts commonjs: a fired job moved 42 (Effect) and 43 (Promise) through a channel"
}

main().then(console.log, (error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
