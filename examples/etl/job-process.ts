/**
 * The ETL job as its tests start it: `main.ts` in a child process, run from the workspace's
 * sources (the `tributary:source` condition), stdout and stderr piped, no `DATABASE_URL` unless
 * `env` gives one (so a developer's variable never points a test at their database).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"

const root = join(import.meta.dirname, "..", "..")

/** Starts `main.ts` with `args`; `env` is added to this process's environment. */
export const spawnJob = (args: ReadonlyArray<string>, env: Record<string, string> = {}): ChildProcess =>
  spawn(
    process.execPath,
    ["--conditions=tributary:source", "--import", "tsx", join(root, "examples/etl/main.ts"), ...args],
    { cwd: root, env: { ...process.env, DATABASE_URL: "", ...env }, stdio: ["ignore", "pipe", "pipe"] }
  )
