/**
 * `@tributary/nats`: the same job definitions run on a pool of worker processes over NATS
 * JetStream. `NatsSupervisor.layer` provides the `Supervisor` that publishes defined jobs
 * (`NatsSupervisor.dispatcher`, only the sending side, for runMain's supervisor); `NatsWorker.run`
 * runs them.
 *
 * ```ts
 * import { NatsSupervisor, NatsWorker } from "@tributary/nats"
 * ```
 *
 * @since 0.2.0
 */

/** @since 0.2.0 */
export * from "./NatsError.js"
/** @since 0.2.0 */
export * as NatsSupervisor from "./NatsSupervisor.js"
/** @since 0.2.0 */
export * as NatsWorker from "./NatsWorker.js"
