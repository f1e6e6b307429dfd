// The consumers' scenario, given the packages' modules however they were loaded: a fired job puts
// a value on a channel and the caller takes it, once through the Effect API and once through the
// Promise API. Resolves to the line the consumer prints; rejects when a value is not the one put.
exports.move = async ({ Chan, Job, Supervisor, Effect, Option, AsyncChan, PromiseJobs }, label) => {
  const viaEffect = await Effect.runPromise(
    Effect.gen(function* () {
      const ch = yield* Chan.make(1)
      yield* Job.fire(Chan.put(ch, 42), { name: "put" })
      return yield* Chan.take(ch)
    }).pipe(Effect.provide(Supervisor.layer()))
  )
  const sup = PromiseJobs.supervisor()
  const ch = AsyncChan.chan(1)
  sup.fire(() => AsyncChan.put(ch, 43), { name: "put" })
  const viaPromise = await AsyncChan.take(ch)
  await sup.shutdown()
  if (Option.getOrUndefined(viaEffect) !== 42 || viaPromise.value !== 43) {
    throw new Error(`${label}: expected 42 and 43, got ${String(viaEffect)} and ${JSON.stringify(viaPromise)}`)
  }
  return `${label}: a fired job moved 42 (Effect) and 43 (Promise) through a channel`
}
