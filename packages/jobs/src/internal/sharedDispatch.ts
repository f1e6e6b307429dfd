/**
 * One dispatcher for all the fibers of a supervisor's jobs. An effect fiber makes its own
 * dispatcher the first time it schedules a task (a yield, a resumption after I/O), and a fresh
 * dispatcher arms its own `setImmediate`: a job that suspends once would cost a dispatcher, its
 * task buckets and one macrotask of its own. The jobs' fibers run instead with `SharedDispatch`,
 * a scheduler that delegates to the caller's scheduler (its execution mode, when to yield, how
 * tasks are run) but hands every fiber the same dispatcher, made once by that scheduler: the tasks
 * of all the jobs wait in one queue and run in one macrotask, in the order they were scheduled
 * (by priority, then FIFO, as any dispatcher of the caller's scheduler runs them).
 *
 * Invariant: `makeDispatcher` returns one dispatcher for the life of a `SharedDispatch`, the one
 * its `inner` scheduler made; `SharedBases.of` gives one derived context per caller context (so the
 * fibers of one caller share effect's per-context fiber cache).
 *
 * Cost: one derived context per distinct caller context (a WeakMap entry, and effect derives its
 * fiber cache once for it): a loop that fires many jobs pays it once; a service that fires one job
 * from each request's fiber pays it once per request.
 *
 * @internal
 */
import * as Context from "effect/Context"
import type * as Fiber from "effect/Fiber"
import * as Scheduler from "effect/Scheduler"

/** A scheduler that is `inner` but for one shared dispatcher. */
export class SharedDispatch implements Scheduler.Scheduler {
  readonly executionMode: "sync" | "async"
  private dispatcher: Scheduler.SchedulerDispatcher | undefined = undefined
  constructor(readonly inner: Scheduler.Scheduler) {
    this.executionMode = inner.executionMode
  }
  shouldYield(fiber: Fiber.Fiber<unknown, unknown>): boolean {
    return this.inner.shouldYield(fiber)
  }
  makeDispatcher(): Scheduler.SchedulerDispatcher {
    if (this.dispatcher === undefined) this.dispatcher = this.inner.makeDispatcher()
    return this.dispatcher
  }
}

/**
 * The contexts jobs run with, derived from their callers' contexts: the caller's services, its
 * scheduler wrapped in a `SharedDispatch` (one per distinct caller scheduler).
 */
export class SharedBases {
  private readonly bases = new WeakMap<Context.Context<never>, Context.Context<never>>()
  private readonly schedulers = new WeakMap<Scheduler.Scheduler, SharedDispatch>()

  /** The context of the jobs fired from `caller`. */
  of(caller: Context.Context<never>): Context.Context<never> {
    let base = this.bases.get(caller)
    if (base === undefined) {
      const scheduler = Context.get(caller, Scheduler.Scheduler)
      // a caller that runs inside a job already has the shared scheduler
      const shared = scheduler instanceof SharedDispatch ? scheduler : this.wrap(scheduler)
      base = shared === scheduler ? caller : Context.add(caller, Scheduler.Scheduler, shared)
      this.bases.set(caller, base)
    }
    return base
  }

  private wrap(scheduler: Scheduler.Scheduler): SharedDispatch {
    let shared = this.schedulers.get(scheduler)
    if (shared === undefined) {
      shared = new SharedDispatch(scheduler)
      this.schedulers.set(scheduler, shared)
    }
    return shared
  }
}
