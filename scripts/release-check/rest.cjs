// The other packages, given their modules however they were loaded: an effect log line goes through
// @tributary/pino into a pino logger, @tributary/monitor serves a supervisor's snapshot on a free
// loopback port (read back over HTTP), and @tributary/nats refuses a bad option with its own tagged
// error before it connects to anything (no NATS server needed). Resolves to the line the consumer
// prints; rejects when one of them does not behave so.
exports.useRest = async ({ Effect, Supervisor, PinoLogger, pino, Monitor, NatsWorker, NatsArgumentError }, label) => {
  const lines = []
  const logger = pino({ level: "info" }, { write: (line) => lines.push(JSON.parse(line)) })
  const snapshot = await Effect.runPromise(
    Effect.gen(function* () {
      yield* Effect.logInfo("through pino")
      const monitor = yield* Monitor.serve({ port: 0 })
      const response = yield* Effect.promise(() => fetch(new URL("snapshot", monitor.url)))
      return yield* Effect.promise(() => response.json())
    }).pipe(
      Effect.scoped,
      Effect.provide(Supervisor.layer({ name: "consumer" })),
      Effect.provide(PinoLogger.layer(logger))
    )
  )
  if (!lines.some((l) => l.msg === "through pino" && l.level === 30))
    throw new Error(`${label}: no pino line for the effect log, got ${JSON.stringify(lines)}`)
  if (snapshot.supervisor !== "consumer")
    throw new Error(`${label}: the monitor's /snapshot is not the supervisor's: ${JSON.stringify(snapshot)}`)
  const error = await Effect.runPromise(
    Effect.flip(NatsWorker.run({ servers: "nats://127.0.0.1:4222", definitions: [], name: "" }))
  )
  if (!(error instanceof NatsArgumentError) || error._tag !== "NatsArgumentError" || error.argument !== "name")
    throw new Error(`${label}: expected a NatsArgumentError naming name, got ${String(error)}`)
  return `${label}: a log line through pino, a monitor snapshot over HTTP, a NatsArgumentError naming its option`
}
