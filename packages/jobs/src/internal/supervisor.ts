/**
 * The supervisor's internals, one part per module, each with its invariants on top; imports go one
 * way, down this list:
 *
 * - `queues`: the O(1) queues entries are kept in;
 * - `model`: the configuration, the entry (one job), lanes and pools;
 * - `admission`: which job starts when (limits, queue, `whenFull`); synchronous, no fibers;
 * - `lines`: the job annotations and the containment of a throwing logger;
 * - `runner`: makes and observes the jobs' fibers (the trampoline), retries and timeouts;
 * - `stall`: noticing a limit whose every slot is held by jobs waiting for jobs that need it;
 * - `state`: the whole state — the outcomes of jobs, the counters and history;
 * - `logging`: the supervisor fiber, the only writer of outcome lines;
 * - `lifecycle`: starting a supervisor, the admission of `fire`/`fork`, shutdown.
 *
 * `Job.ts` and `Supervisor.ts` are thin Effect APIs over these; this module only re-exports them.
 * Above them, `submit` (the admission of one `fire`/`fork`) and `group` (the driver of
 * `Job.forkAll` and `Job.all`) build on these parts; nothing here imports them.
 *
 * @internal
 */
export * from "./admission.js"
export * from "./lifecycle.js"
export * from "./lines.js"
export * from "./logging.js"
export * from "./model.js"
export * from "./queues.js"
export * from "./runner.js"
export * from "./stall.js"
export * from "./state.js"
