/**
 * `@tributary/jobs/promise` exports every error class its functions throw, so that a project using
 * only this entry point can match them with `instanceof`: `supervisor` throws `PinoLoggerConfigError`
 * (the class of `@tributary/pino`) for a logger it cannot use.
 */
import { PinoLoggerConfigError as FromPino } from "@tributary/pino"
import { describe, expect, it } from "vitest"
import { PinoLoggerConfigError, supervisor } from "../src/promise.js"

const thrownBy = (f: () => unknown): unknown => {
  try {
    f()
  } catch (error) {
    return error
  }
  return expect.unreachable("expected a throw")
}

describe("@tributary/jobs/promise exports the errors it throws", () => {
  it("PinoLoggerConfigError: the class of @tributary/pino, what supervisor throws for a bad logger", () => {
    expect(PinoLoggerConfigError).toBe(FromPino)
    const notALogger = thrownBy(() => supervisor({ logger: "debug" as never }))
    expect(notALogger).toBeInstanceOf(PinoLoggerConfigError)
    expect(notALogger).toMatchObject({ argument: "logger", value: "debug" })
    const badLevel = thrownBy(() => supervisor({ logger: { level: "verbose" } }))
    expect(badLevel).toBeInstanceOf(PinoLoggerConfigError)
    expect(badLevel).toMatchObject({
      argument: "logger.level",
      value: "verbose",
      message: expect.stringMatching(/^Invalid supervisor logger\.level: expected one of .*, received "verbose"$/)
    })
  })
})
