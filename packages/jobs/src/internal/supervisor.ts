/**
 * The supervisor's internals, one part per module, each with its invariants on top; imports go one
 * way, down this list:
 *
 * - `queues`: the O(1) queues entries are kept in;
 * - `options`: the checks of a job's options and of the durations a user gives;
 * - `model`: the configuration, the entry (one job), lanes and pools;
 * - `admission`: which job starts when (limits, queue, `whenFull`); synchronous, no fibers;
 * - `lines`: the job annotations and the containment of a throwing logger;
 * - `runner`: makes and observes the jobs' fibers (the trampoline), retries and timeouts;
 * - `stall`: noticing a limit whose every slot is held by jobs waiting for jobs that need it;
 * - `state`: the whole state — the outcomes of jobs, the counters and history;
 * - `context`: finding a supervisor's state from a fiber's context (`Job.fire`'s lookup);
 * - `logging`: the supervisor fiber, the only writer of outcome lines;
 * - `lifecycle`: starting a supervisor, the admission of `fire`/`fork`, shutdown.
 *
 * `Job.ts` and `Supervisor.ts` are thin Effect APIs over these; this module only re-exports them.
 * Above them, `submit` (the admission of one `fire`/`fork`) and `group` (the driver of
 * `Job.forkAll` and `Job.all`) build on these parts, and `config` reads the supervisor's
 * configuration and the arguments of its calls; nothing here imports them.
 *
 * The invariants of `admission`, `runner`, `state`, `lifecycle` and `logging` form one numbered
 * list, so that "invariant 15" names one rule wherever it is cited: admission 1–4, 8, 9 and 15;
 * runner 5, 6 and 16; state 5 (continued: what `finish` does with the outcome) and 7; lifecycle
 * 10–12; logging 13 and 14. The other modules (`stall`, `options`, `context`, `config`, `runMain`,
 * …) state their own invariants, numbered (if at all) within the file.
 *
 * @internal
 */
export * from "./admission.js"
export * from "./context.js"
export * from "./lifecycle.js"
export * from "./lines.js"
export * from "./logging.js"
export * from "./model.js"
export * from "./options.js"
export * from "./queues.js"
export * from "./runner.js"
export * from "./stall.js"
export * from "./state.js"
