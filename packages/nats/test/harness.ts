/**
 * Scaffolding of the NATS tests: in-process workers (each its own fiber, interrupted to stop), the
 * firing side with a logger that records its lines, and the outcome lines among them.
 */
import { Job, type Supervisor } from "@tributary/jobs"
import { Context, Effect, Exit, Fiber, Logger, References } from "effect"
import { NatsSupervisor, NatsWorker } from "../src/index.js"
import * as definitions from "./fixtures/definitions.js"

export interface Line {
  readonly level: string
  readonly message: string
  readonly annotations: Record<string, unknown>
}

/** A logger that records its lines in `lines`. */
export const recorder = (lines: Array<Line>) =>
  Logger.make((options) => {
    lines.push({
      level: options.logLevel,
      message: Array.isArray(options.message) ? options.message.map(String).join(" ") : String(options.message),
      annotations: { ...options.fiber.getRef(References.CurrentLogAnnotations) }
    })
  })

/**
 * A worker running in this process until `stop` (which waits for its graceful shutdown). `services`
 * are added to its context: a TestClock's Clock and Scheduler (`TestClock.layer` built), say, so
 * its supervisor's rates and delays move only with that clock's `adjust`.
 */
export const startWorker = (
  url: string,
  name: string,
  options: Partial<NatsWorker.Options<never>> = {},
  services: Context.Context<never> = Context.empty()
): { readonly stop: () => Promise<void>; readonly lines: Array<Line> } => {
  const lines: Array<Line> = []
  const fiber = Effect.runFork(
    NatsWorker.run({ servers: url, definitions: definitions.all, name, ackWait: "2 seconds", ...options }).pipe(
      Effect.provide(Logger.layer([recorder(lines)])),
      Effect.provideContext(services)
    )
  )
  return {
    lines,
    stop: async () => {
      const exit = await Effect.runPromise(Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber))))
      if (Exit.isFailure(exit) && !Exit.hasInterrupts(exit))
        throw new Error(`worker ${name} failed: ${String(exit.cause)}`)
    }
  }
}

/** Runs `program` with the NATS-backed supervisor (`options` besides); resolves with its value and the lines it logged. */
export const fire = async <A, E>(
  url: string,
  program: Effect.Effect<A, E, Supervisor.Supervisor>,
  supervisor: Supervisor.Config = { concurrency: 1000 },
  prefix?: string,
  options: Partial<NatsSupervisor.DispatcherOptions> = {}
): Promise<{ readonly value: A; readonly lines: Array<Line> }> => {
  const lines: Array<Line> = []
  const value = await Effect.runPromise(
    program.pipe(
      Effect.provide(
        NatsSupervisor.layer({ servers: url, supervisor, ...(prefix === undefined ? {} : { prefix }), ...options })
      ),
      Effect.provide(Logger.layer([recorder(lines)])),
      Effect.provideService(References.MinimumLogLevel, "All")
    )
  )
  return { value, lines }
}

/** The outcome lines (the supervisor's one line per job end) by job id. */
export const outcomeLines = (lines: ReadonlyArray<Line>): Map<string, Array<Line>> => {
  const byId = new Map<string, Array<Line>>()
  for (const l of lines)
    if ("job.outcome" in l.annotations) {
      const id = String(l.annotations["job.id"])
      byId.set(id, [...(byId.get(id) ?? []), l])
    }
  return byId
}

/** The outcome tags of the job `id`'s outcome lines (one per end: a job that ended once has one). */
export const outcomeTags = (lines: ReadonlyArray<Line>, id: string): Array<unknown> | undefined =>
  outcomeLines(lines)
    .get(id)
    ?.map((l) => l.annotations["job.outcome"])

export { Job }
