/**
 * The implementations under test, by name. Each is loaded lazily so a child
 * process only loads the one it runs, and one that fails to load (e.g. while
 * `@tributary/channel` is still being written) does not stop the others.
 */
import type { Implementation } from "./workloads.ts"

const impls = {
  ours: () => import("./impl/ours.ts"),
  queue: () => import("./impl/queue.ts"),
  "queue-race": () => import("./impl/queue-race.ts"),
  "js-csp": () => import("./impl/csp.ts"),
  floor: () => import("./impl/floor.ts"),
  facade: () => import("./impl/facade.ts"),
  "raw-await": () => import("./impl/raw-await.ts")
} satisfies Record<string, () => Promise<{ readonly impl: Implementation }>>

export type ImplName = keyof typeof impls

/** Every implementation's name, in report order. */
export const implNames = Object.keys(impls) as ReadonlyArray<ImplName>

/** Whether `name` is an implementation's name. */
export const isImplName = (name: string): name is ImplName => Object.hasOwn(impls, name)

/** Imports the implementation named `name`. */
export const loadImpl = async (name: ImplName): Promise<Implementation> => (await impls[name]()).impl
