/**
 * Shared scaffolding for the jobs tests: a runner that provides a `Supervisor`, a `TestClock` and
 * a logger that records every line (level, message, annotations, cause).
 */
import { type Cause, Effect, Logger, type LogLevel, References } from "effect"
import { TestClock } from "effect/testing"
import { vi } from "vitest"
import { Supervisor } from "../src/index.js"

/** One recorded log line. */
export interface Line {
  readonly level: string
  readonly message: string
  readonly annotations: Record<string, unknown>
  readonly cause: Cause.Cause<unknown>
  readonly fiberId: number
}

/** A logger that appends every line to `lines`. */
export const recorder = (lines: Array<Line>) =>
  Logger.make((options) => {
    const message = Array.isArray(options.message) ? options.message.map(String).join(" ") : String(options.message)
    lines.push({
      level: options.logLevel,
      message,
      annotations: { ...options.fiber.getRef(References.CurrentLogAnnotations) },
      cause: options.cause,
      fiberId: options.fiber.id
    })
  })

/**
 * Runs `program` with a supervisor built from `config`, a TestClock and the recorder, at the
 * minimum log level `level` (default "All"), wrapped at last in `around` (services the supervisor
 * itself should see, e.g. a metric registry); resolves with the result and the lines.
 */
export const run = <A, E>(
  program: Effect.Effect<A, E, Supervisor.Supervisor>,
  config: Supervisor.Config = {},
  level: LogLevel.LogLevel = "All",
  around: <X>(effect: Effect.Effect<X, E>) => Effect.Effect<X, E> = (effect) => effect
): Promise<{ readonly value: A; readonly lines: Array<Line> }> => {
  const lines: Array<Line> = []
  return Effect.runPromise(
    around(
      program.pipe(
        Effect.provide(Supervisor.layer(config)),
        Effect.provide(Logger.layer([recorder(lines)])),
        Effect.provide(TestClock.layer()),
        Effect.provideService(References.MinimumLogLevel, level),
        Effect.map((value) => ({ value, lines }))
      )
    )
  )
}

/** The lines about the job named `name` (its own lines and the supervisor's). */
export const linesOf = (lines: ReadonlyArray<Line>, name: string): Array<Line> =>
  lines.filter((l) => l.annotations["job.name"] === name)

/** Lets every fiber that can make progress do so (a few scheduler turns). */
export const settle: Effect.Effect<void> = Effect.gen(function* () {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow
})

/** What `f` throws (fails the test if it returns). */
export const thrownBy = (f: () => unknown): unknown => {
  try {
    f()
  } catch (error) {
    return error
  }
  throw new Error("expected a throw")
}

/** Collects what is written on stderr, instead of writing it (undone by `vi.restoreAllMocks()`). */
export const stderrLines = (): Array<string> => {
  const seen: Array<string> = []
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: any) => {
    seen.push(String(chunk))
    return true
  })
  return seen
}
