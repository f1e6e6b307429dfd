/**
 * Finding a supervisor's state from a fiber's context: the `Supervisor` service a context holds
 * carries its state under `stateKey` (`Supervisor.ts` makes the service; `Job.ts` and `promise.ts`
 * look the state up here, so the public module exports no lookup). `Job.fire` in a loop looks the
 * same context up again and again: the last context and its state are remembered.
 *
 * Invariants:
 * 1. A service carries its state under `stateKey` and is stored in a context under
 *    `supervisorKey`, the key of `Supervisor.ts`'s service class.
 * 2. The remembered state (`lastState`) is never one whose shutdown has ended: it is remembered
 *    only while its supervisor admits jobs, and `forgetState` (called by the end of `shutdown`)
 *    drops it with its context, so neither stays reachable from this module after the shutdown.
 *
 * @internal
 */
import * as Context from "effect/Context"
import { SupervisorMissingError } from "../SupervisorError.js"
import type { SupervisorState } from "./state.js"

/** The key of the `Supervisor` service in a context (the class in `Supervisor.ts` is made with it). */
export const supervisorKey = "@tributary/jobs/Supervisor"

/** The `Supervisor` service, seen from here: any object (a key's string is its identity in a context). */
const SupervisorService = Context.Service<object>(supervisorKey)

/** The field of a `Supervisor` service that holds its state. */
export const stateKey: unique symbol = Symbol.for("@tributary/jobs/Supervisor/state")

/** A `Supervisor` service as this package makes it: its state under `stateKey` (invariant 1). */
export interface StateCarrier {
  readonly [stateKey]: SupervisorState
}

/** The state behind a service `Supervisor.ts` made. */
const stateOf = (service: object): SupervisorState => (service as StateCarrier)[stateKey]

/** The supervisor of a fiber's context, or a SupervisorMissingError naming `operation`. */
export const stateIn = (context: Context.Context<never>, operation: string): SupervisorState => {
  const service = Context.getOrUndefined(context, SupervisorService)
  if (service === undefined) throw new SupervisorMissingError(operation)
  return stateOf(service)
}

/** The supervisor of a fiber's context, if it has one. */
export const stateIfAny = (context: Context.Context<never>): SupervisorState | undefined => {
  const service = Context.getOrUndefined(context, SupervisorService)
  return service === undefined ? undefined : stateOf(service)
}

/**
 * `stateIn`, remembering the last context and its state (jobs are fired in loops: a second call
 * with the same context costs one comparison). A supervisor that is shut down is not remembered
 * (invariant 2).
 */
export const lastStateIn = (context: Context.Context<never>, operation: string): SupervisorState => {
  if (context === lastContext) return lastState!
  const state = stateIn(context, operation)
  if (!state.closed) {
    lastContext = context
    lastState = state
  }
  return state
}
let lastContext: Context.Context<never> | undefined
let lastState: SupervisorState | undefined

/** Forgets `state` if it is the remembered one (its shutdown has ended: invariant 2). */
export const forgetState = (state: SupervisorState): void => {
  if (lastState === state) {
    lastContext = undefined
    lastState = undefined
  }
}
