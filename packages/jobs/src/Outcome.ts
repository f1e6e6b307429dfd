/**
 * The outcome of a job: how it ended, when, after how many attempts, with which `Exit`. Every job
 * has exactly one, put on the supervisor's outcome port, on `reportTo`, on a group's port, and
 * written as its outcome line. `Job`, `Supervisor` and the supervisor's internals all speak of
 * outcomes through this module (it imports nothing of theirs).
 *
 * @since 0.2.0
 */
import type * as Exit from "effect/Exit"

/**
 * How a job ended; a defect is a "Failure" whose cause holds the defect.
 *
 * @since 0.2.0
 */
export type OutcomeTag = "Success" | "Failure" | "Interrupted" | "TimedOut"

/**
 * The one outcome of a job, put on the supervisor's outcome queue (and `reportTo`) when it ends.
 *
 * @since 0.2.0
 */
export interface Outcome<A = unknown, E = unknown> {
  /** how the job ended */
  readonly _tag: OutcomeTag
  /** the job's id: its `id` option, or the supervisor's ("1", "2", …) */
  readonly id: string
  /** the job's `name` option (default: its definition's name for a `Job.define` job, else "job") */
  readonly name: string
  /** "default" when the job has no pool */
  readonly pool: string
  /** the job's `key` option; absent when it has none */
  readonly key?: string
  /** 1-based; 0 for a job cancelled before it started */
  readonly attempt: number
  /** epoch millis from Effect's Clock */
  readonly startedAt: number
  /** epoch millis from Effect's Clock */
  readonly endedAt: number
  /** `endedAt` minus `startedAt`: every attempt included, 0 for a job cancelled before it started */
  readonly durationMillis: number
  /** a "TimedOut" job's exit is an interruption */
  readonly exit: Exit.Exit<A, E>
  /** the job's `annotations` option (fields of its log lines) */
  readonly annotations?: Record<string, unknown>
  /** for a job made by a definition (`Job.define`): its payload, encoded by the definition's Schema */
  readonly payload?: unknown
}
