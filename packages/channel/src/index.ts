/**
 * `@tributary/channel`: core.async channels for effect 4.
 *
 * ```ts
 * import { Buffer, Chan, Xform } from "@tributary/channel"
 * ```
 *
 * @since 0.2.0
 */

/** @since 0.2.0 */
export type { BufferSpec } from "./Buffer.js"
/** @since 0.2.0 */
export * as Buffer from "./Buffer.js"
/** @since 0.2.0 */
export type { ReadPort, WritePort } from "./Chan.js"
/** @since 0.2.0 */
export * as Chan from "./Chan.js"
/** @since 0.2.0 */
export { ChanArgumentError, ChanPendingLimitError } from "./ChanError.js"
/** @since 0.2.0 */
export * as Mix from "./Mix.js"
/** @since 0.2.0 */
export * as Mult from "./Mult.js"
/** @since 0.2.0 */
export * as Pub from "./Pub.js"
/** @since 0.2.0 */
export * as Xform from "./Xform.js"
