/**
 * `Supervisor.runMain`: runs a whole program under a supervisor and a pino logger, and owns the
 * process around it — keep-alive, signals, uncaught errors, the exit code.
 *
 * Invariants (this file's own list; the supervisor's numbered one is in `supervisor.ts`):
 * 1. `stop` is resolved at most once, with the first reason to stop (a signal or a crash); the
 *    orchestrator reads it, shuts the supervisor down gracefully and exits with its code.
 * 2. Every process listener and the keep-alive timer installed by `runMain` is removed when the
 *    orchestrating fiber ends; only then is `process.exitCode` set and the event loop left to end.
 *    One exception: when a log write is still in flight then, a SIGINT and a SIGTERM listener
 *    stay (`lateListeners`; they hold nothing open) until the first such signal, which gives the
 *    write up (`PinoLogger.abandon`) and ends the process by the signal's own default action.
 *    A process whose run a signal stopped is ended `forceAfter` after the run if a log write still
 *    holds it then (blocked on a pipe or socket nobody reads; anything else holding it is the
 *    program's own): with `process.exit` and the run's code, or by the signal when a blocked
 *    write holds a thread `process.exit` waits for.
 * 3. `process.exit` is called only by a second signal (after one final line), by the hard
 *    deadline (`forceAfter` past the grace, after one line per stuck job and a final line), each
 *    time after a synchronous flush, or by a signal while the logger's final flush is waited for
 *    (`closing`: one final line, what the destination has not written given up on), or when a
 *    log write still holds the process `forceAfter` after a run a signal stopped (invariant 2);
 *    never otherwise. When a log write is still blocked on a pipe then (a thread `process.exit` would
 *    wait for), the signal is raised again with runMain's listeners removed instead, ending the
 *    process with the same code.
 * 4. Lines written outside Effect (`raw`, through `PinoLogger.writeUnsafe`) never throw: a
 *    destination that fails loses the line (counted in `PinoLogger.lostLines(logger)`, reported on
 *    stderr once per burst), and a job annotation named like a field of the line (`time`) cannot
 *    overwrite it.
 * 5. A crash report (uncaught exception, unhandled rejection) goes through the logger unless one
 *    is being written already (re-entry) or the logger has lost lines since the first one: then
 *    it goes to stderr, so a destination whose failures are themselves crashes (a rejected
 *    promise) cannot feed crash reports to itself for ever.
 *
 * @internal
 */

import * as fs from "node:fs"
import { PinoLogger, PinoLoggerConfigError } from "@tributary/pino"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import pino from "pino"
import { asLoggerOption } from "./config.js"
import { defaultStdoutLogger } from "./stdout.js"
import { jobAnnotations, type SupervisorState, shutdown } from "./supervisor.js"

// ── models ──────────────────────────────────────────────────────────────────

/** What `runMain` accepts for its logger: a pino logger, or the options to build one on stdout. */
export type LoggerInput = PinoLogger.AnyLoggerOrOptions

/** Why the process stops early. */
type Stop =
  | { readonly _tag: "Signal"; readonly signal: "SIGINT" | "SIGTERM"; readonly code: number }
  | { readonly _tag: "Crash"; readonly code: number }

/** What the public module hands over: its supervisor constructor, and the program with that supervisor provided. */
export interface Deps<A, E> {
  readonly make: Effect.Effect<SupervisorState, never, Scope.Scope>
  readonly program: (state: SupervisorState) => Effect.Effect<A, E>
}

/** The resolved options of `runMain`. */
export interface Options {
  readonly logger: LoggerInput | undefined
  readonly failOnJobFailure: boolean
  /** how long after the grace the stuck jobs may hold the process before it exits 1 anyway */
  readonly forceAfterMillis: number
  /** the lines a stalled destination may hold (PinoLogger.layer's; undefined: its default) */
  readonly maxHeldLines: number | undefined
}

/** The exit code of each signal (128 + its number). */
const signalCodes = { SIGINT: 130, SIGTERM: 143 } as const

// ── runMain ─────────────────────────────────────────────────────────────────

/** Runs the program under a fresh supervisor and the pino logger and sets the exit code; see `Supervisor.runMain`. */
export const runMain = <A, E>(deps: Deps<A, E>, options: Options): void => {
  // resolved first, as PinoLogger.layer does (the same inputs refused with the same
  // PinoLoggerConfigError): a refused logger throws here, before any listener or the keep-alive
  // timer is installed — not later, from inside them, with nothing left to stop the process
  let logger: ReturnType<typeof PinoLogger.resolve>
  try {
    // any pino logger (PinoLogger.resolve checks what it is at run time)
    logger = PinoLogger.resolve((options.logger ?? defaultStdoutLogger()) as PinoLogger.LoggerOrOptions<any>)
  } catch (error) {
    throw asLoggerOption(error, "Supervisor.runMain")
  }
  // the final flush waits at most forceAfter (default 5 s): a destination that never finishes
  // (a flush that never calls back, a pipe nobody reads) cannot hold the end of the run for ever
  const loggerLayer = PinoLogger.layer(logger, {
    ...(Number.isFinite(options.forceAfterMillis) ? { flushTimeout: options.forceAfterMillis } : {}),
    ...(options.maxHeldLines === undefined ? {} : { maxHeldLines: options.maxHeldLines })
  })
  /** writes one line outside Effect; a failing destination costs the line (invariant 4) */
  const raw = (
    level: "fatal" | "error",
    fields: Record<string, unknown>,
    msg: string,
    cause?: Cause.Cause<unknown>
  ): void => PinoLogger.writeUnsafe(logger, level, msg, fields, cause)
  const stop = Deferred.makeUnsafe<Stop>()
  let stopping: Stop | undefined
  let finished = false
  /** the orchestration has ended: only the logger's final flush (bounded by its flushTimeout) is left */
  let closing = false
  let crashed = false
  /** a crash report is being written (invariant 5) */
  let reportingCrash = false
  /** `PinoLogger.lostLines(logger)` once the first crash report was written (invariant 5) */
  let lostAfterFirstCrash: number | undefined
  /** set by a second signal just before `process.exit`, so the exit hook adds no line */
  let exitingNow = false
  let current: SupervisorState | undefined

  const requestStop = (reason: Stop): void => {
    if (stopping !== undefined) return
    stopping = reason
    Deferred.doneUnsafe(stop, Effect.succeed(reason))
  }

  const onSignal = (signal: "SIGINT" | "SIGTERM") => (): void => {
    if (closing && !finished) {
      // nothing is left to stop but the wait for the log destination: the signal ends it
      exitingNow = true
      // given up on first: the fatal line's synchronous flush then drops what waits behind a
      // blocked write instead of blocking on it too
      const blocked = PinoLogger.abandon(logger)
      raw(
        "fatal",
        { signal, exitCode: signalCodes[signal] },
        `${signal} while the logger was being flushed: exiting now`
      )
      if (!blocked) {
        flushSync(logger)
        process.exit(signalCodes[signal])
      }
      // a write blocked on a pipe holds a thread that process.exit would wait for: the signal's
      // own default action ends the process (with the same code, 128 + the signal's number) — so
      // no listener may be left for it, the program's own included (it would swallow the signal)
      for (const [event, listener] of Object.entries(listeners)) process.removeListener(event, listener)
      process.removeAllListeners(signal)
      process.kill(process.pid, signal)
      return
    }
    if (stopping === undefined && !finished) {
      requestStop({ _tag: "Signal", signal, code: signalCodes[signal] })
      return
    }
    const code = stopping?.code ?? (typeof process.exitCode === "number" ? process.exitCode : signalCodes[signal])
    exitingNow = true
    raw(
      "fatal",
      { signal, exitCode: code, ...pendingFields(current) },
      `second signal (${signal}): exiting now without waiting for jobs`
    )
    flushSync(logger)
    process.exit(code)
  }
  const onCrash =
    (kind: "uncaught exception" | "unhandled rejection") =>
    (error: unknown): void => {
      crashed = true
      const lost = PinoLogger.lostLines(logger)
      if (reportingCrash || (lostAfterFirstCrash !== undefined && lost > lostAfterFirstCrash)) {
        writeStderr(`@tributary/jobs runMain: ${kind}; shutting down: ${describe(error)}`)
      } else {
        reportingCrash = true
        try {
          raw(kind === "uncaught exception" ? "fatal" : "error", {}, `${kind}; shutting down`, Cause.die(error))
        } finally {
          reportingCrash = false
        }
        lostAfterFirstCrash ??= lost
        if (PinoLogger.lostLines(logger) > lost)
          writeStderr(`@tributary/jobs runMain: ${kind}; shutting down: ${describe(error)}`)
      }
      requestStop({ _tag: "Crash", code: 1 })
    }
  const onExit = (code: number): void => {
    if (finished || exitingNow) return
    raw(
      "error",
      { exitCode: code, ...pendingFields(current) },
      "process.exit called while runMain was running: unfinished jobs are abandoned without an outcome"
    )
    // written now: an asynchronous destination's own exit hook does not always get this line out
    flushSync(logger)
  }
  const listeners = {
    SIGINT: onSignal("SIGINT"),
    SIGTERM: onSignal("SIGTERM"),
    uncaughtException: onCrash("uncaught exception"),
    unhandledRejection: onCrash("unhandled rejection")
  }
  for (const [event, listener] of Object.entries(listeners)) process.on(event, listener)
  /** A signal after the run ended while a log write was in flight (invariant 2): gives the write up, and the signal ends the process. */
  const onLateSignal = (signal: "SIGINT" | "SIGTERM") => (): void => {
    for (const [event, listener] of Object.entries(lateListeners)) process.removeListener(event, listener)
    PinoLogger.abandon(logger)
    // the signal's own default action, unless the program listens to it itself
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
  }
  const lateListeners = { SIGINT: onLateSignal("SIGINT"), SIGTERM: onLateSignal("SIGTERM") }
  /** The end of a process a signal stopped and something still holds `forceAfter` after its run (invariant 2). */
  const endHeld = (signal: "SIGINT" | "SIGTERM", code: number): void => {
    // only a write still held: anything else holding the process (the program's own cleanup after
    // runMain, a server it keeps) is the program's business
    if (!PinoLogger.isWriting(logger) && stdioHeld() === 0) return
    for (const [event, listener] of Object.entries(lateListeners)) process.removeListener(event, listener)
    writeStderrNow(
      `@tributary/jobs runMain: a log write was still held ${options.forceAfterMillis} ms after the run ended ` +
        `(its reader takes nothing): exiting with ${code}`
    )
    if (!PinoLogger.abandon(logger)) process.exit(code)
    // a write blocked on a pipe holds a thread that process.exit would wait for (see onSignal)
    process.removeAllListeners(signal)
    process.kill(process.pid, signal)
  }
  // before pino's own exit hook, which ends the stream
  process.prependListener("exit", onExit)
  // an Effect fiber suspended on a callback holds no handle: keep the process alive until the end
  const keepAlive = setInterval(() => {}, 2 ** 31 - 1)

  /** the hard deadline, armed when a stop begins its shutdown */
  let deadline: ReturnType<typeof setTimeout> | undefined
  /** Past the grace and `forceAfter`: one line per job still running, a final line, exit 1 (invariant 3). */
  const force = (): void => {
    if (finished) return
    exitingNow = true
    const state = current
    const stuck = state === undefined ? [] : [...state.running]
    const now = state?.now() ?? 0
    for (const entry of stuck)
      raw(
        "fatal",
        { ...jobAnnotations(entry), ageMillis: now - entry.startedAt },
        `job ${entry.name} still running ${options.forceAfterMillis} ms after the grace: abandoning it`
      )
    raw(
      "fatal",
      { exitCode: 1, forceAfterMillis: options.forceAfterMillis, ...pendingFields(state) },
      `forceAfter passed with ${stuck.length} job${stuck.length === 1 ? "" : "s"} still running: exiting with code 1`
    )
    flushSync(logger)
    process.exit(1)
  }

  const orchestrate = Effect.gen(function* () {
    const state = yield* deps.make
    current = state
    const programFiber = yield* Effect.forkChild(deps.program(state))
    const untilStop = <X>(effect: Effect.Effect<X>): Effect.Effect<X | Stop> =>
      Effect.raceFirst(effect, Deferred.await(stop))
    let programExit: Exit.Exit<unknown, unknown> | undefined
    let reason: Stop | undefined
    let cutShort = false

    const first = yield* untilStop(Fiber.await(programFiber))
    if (isStop(first)) reason = first
    else {
      programExit = first
      // interrupted before any stop: not by runMain, so by itself (joining a job that timed out
      // or was interrupted, `Effect.interrupt`): cut short, which is no success
      if (Exit.isFailure(first) && Cause.hasInterruptsOnly(first.cause)) {
        cutShort = true
        yield* Effect.logError(
          "program was interrupted before it ended (not by a signal or a shutdown; e.g. Job.join of a job that timed out or was interrupted)",
          first.cause
        )
      }
      yield* logProgramFailure(first)
      const second = yield* untilStop(state.drain)
      if (isStop(second)) reason = second
    }
    if (reason !== undefined) {
      const pending = state.running.size + state.queued + state.delayed.size
      yield* Effect.logWarning(
        reason._tag === "Signal"
          ? `${reason.signal} received: stopping; waiting up to ${state.config.graceMillis} ms for ${pending} jobs`
          : `stopping after a crash; waiting up to ${state.config.graceMillis} ms for ${pending} jobs`
      ).pipe(Effect.annotateLogs(reason._tag === "Signal" ? { signal: reason.signal } : {}))
      const after = state.config.graceMillis + options.forceAfterMillis
      if (Number.isFinite(after)) deadline = setTimeout(force, after)
    }
    yield* shutdown(state, state.config.graceMillis)
    if (programExit === undefined) {
      yield* Fiber.interrupt(programFiber)
      const exit = yield* Fiber.await(programFiber)
      programExit = exit
      yield* logProgramFailure(exit)
    }
    const counters = state.counters
    const jobsFailed = counters.failed + counters.timedOut
    const code =
      reason !== undefined
        ? reason.code
        : crashed || cutShort || programFailed(programExit) || (options.failOnJobFailure && jobsFailed > 0)
          ? 1
          : 0
    yield* Effect.logInfo(`exiting with code ${code}`).pipe(
      Effect.annotateLogs({
        exitCode: code,
        ...countersFields(counters),
        // the supervisor counts what a throwing logger cost it; pino counts what its destination lost
        "log.linesLost": counters.linesLost + PinoLogger.lostLines(logger)
      })
    )
    return code
  })

  const fiber = Effect.runFork(
    orchestrate.pipe(
      Effect.scoped,
      Effect.ensuring(
        Effect.sync(() => {
          closing = true
        })
      ),
      Effect.provide(loggerLayer)
    )
  )
  fiber.addObserver((exit) => {
    finished = true
    clearInterval(keepAlive)
    if (deadline !== undefined) clearTimeout(deadline)
    // a log write still in flight may hold the process open (a pipe nobody reads) until the layer
    // gives up on it: a signal caught now, or while it blocks, still ends the process (installed
    // before runMain's own are removed, so that a signal being delivered reaches one of them)
    if (PinoLogger.isWriting(logger))
      for (const [event, listener] of Object.entries(lateListeners)) process.on(event, listener)
    for (const [event, listener] of Object.entries(listeners)) process.removeListener(event, listener)
    process.removeListener("exit", onExit)
    // a run a signal stopped ends the process: a log write that still holds it `forceAfter` later
    // (blocked on a pipe or socket nobody reads, pino's or stdio's) is given up (unref'd: a
    // process that can end ends by itself first)
    if (stopping?._tag === "Signal" && Number.isFinite(options.forceAfterMillis)) {
      const { signal, code } = stopping
      setTimeout(() => endHeld(signal, code), options.forceAfterMillis).unref()
    }
    if (Exit.isSuccess(exit)) process.exitCode = exit.value
    else {
      // only a defect of runMain itself lands here, or the logger's refusal when its layer is built
      // (a file destination that cannot be opened): that logger cannot write its own refusal
      const refusal = loggerRefusal(exit.cause)
      if (refusal !== undefined) writeStderr(`@tributary/jobs runMain: ${refusal.stack ?? refusal.message}`)
      else raw("fatal", {}, "runMain failed", exit.cause)
      process.exitCode = 1
    }
  })
}

// ── private helpers ─────────────────────────────────────────────────────────

/** The `PinoLoggerConfigError` the logger's layer died with when it was built, if that is how runMain ended. */
const loggerRefusal = (cause: Cause.Cause<unknown>): PinoLoggerConfigError | undefined => {
  for (const reason of cause.reasons) {
    if (Cause.isDieReason(reason) && reason.defect instanceof PinoLoggerConfigError) return reason.defect
  }
  return undefined
}

/** `error` in one line for stderr; never throws. */
const describe = (error: unknown): string => {
  try {
    return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error)
  } catch {
    return "an unprintable error"
  }
}

/** The bytes Node's stdout and stderr streams hold that their readers have not taken yet. */
const stdioHeld = (): number => {
  try {
    return process.stdout.writableLength + process.stderr.writableLength
  } catch {
    return 0
  }
}

/** `line` on stderr now or never (a stderr nobody reads takes nothing: the line is dropped); never throws. */
const writeStderrNow = (line: string): void => {
  try {
    fs.writeSync(2, `${line}\n`)
  } catch {
    // EAGAIN (full), EPIPE (gone): the exit code is all that is left
  }
}

const writeStderr = (line: string): void => {
  try {
    process.stderr.write(`${line}\n`)
  } catch {
    // stderr is broken too: the exit code is all that is left
  }
}

const isStop = (u: unknown): u is Stop =>
  typeof u === "object" && u !== null && "_tag" in u && (u._tag === "Signal" || u._tag === "Crash") && "code" in u

/** A failure or defect of the program; its own interruption (by runMain, at shutdown) is not one. */
const programFailed = (exit: Exit.Exit<unknown, unknown> | undefined): boolean =>
  exit !== undefined && Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)

const logProgramFailure = (exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> =>
  programFailed(exit) && Exit.isFailure(exit) ? Effect.logError("program failed", exit.cause) : Effect.void

const pendingFields = (s: SupervisorState | undefined): Record<string, number> => ({
  running: s === undefined ? 0 : s.running.size,
  queued: s === undefined ? 0 : s.queued
})

const countersFields = (c: SupervisorState["counters"]): Record<string, number> => ({
  "jobs.started": c.started,
  "jobs.succeeded": c.succeeded,
  "jobs.failed": c.failed,
  "jobs.interrupted": c.interrupted,
  "jobs.timedOut": c.timedOut,
  "jobs.dropped": c.dropped
})

/** Best effort before `process.exit`: a sonic-boom destination can be flushed synchronously. */
const flushSync = (logger: pino.Logger): void => {
  const stream = (logger as any)[pino.symbols.streamSym]
  if (stream !== null && typeof stream === "object" && typeof stream.flushSync === "function") {
    try {
      stream.flushSync()
    } catch {
      // not ready yet (still opening): pino's own exit hook flushes what it can
    }
  }
}
