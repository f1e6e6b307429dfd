/**
 * `@tributary/monitor`: a live monitor page for a `@tributary/jobs` supervisor, served by
 * `node:http` from the caller's scope over Server-Sent Events; loopback by default.
 *
 * ```ts
 * import { Monitor } from "@tributary/monitor"
 * ```
 *
 * @since 0.2.0
 */

/** @since 0.2.0 */
export * as Monitor from "./Monitor.js"
/** @since 0.2.0 */
export { MonitorArgumentError, MonitorListenError } from "./MonitorError.js"
