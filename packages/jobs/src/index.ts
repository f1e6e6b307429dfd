/**
 * `@tributary/jobs`: supervised jobs for effect 4. Every sub-job runs as a detached fiber owned by a
 * `Supervisor`, bounded globally, per pool and per key; its outcome goes on a channel and is logged.
 *
 * ```ts
 * import { Job, Supervisor } from "@tributary/jobs"
 * ```
 *
 * @since 0.2.0
 */

/** @since 0.2.0 */
export * as Dispatcher from "./Dispatcher.js"
/** @since 0.2.0 */
export * as Job from "./Job.js"
/** @since 0.2.0 */
export * as Outcome from "./Outcome.js"
/** @since 0.2.0 */
export * as Supervisor from "./Supervisor.js"
/** @since 0.2.0 */
export {
  JobAbortedError,
  JobArgumentError,
  JobPayloadError,
  SupervisorClosedError,
  SupervisorConfigError,
  SupervisorFullError,
  SupervisorMissingError
} from "./SupervisorError.js"
