/**
 * The ETL job as its tests start it: `main.ts` in a child process, run from the workspace's
 * sources (the `tributary:source` condition), stdout and stderr piped, no `DATABASE_URL` unless
 * `env` gives one (so a developer's variable never points a test at their database).
 */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process"
import { join } from "node:path"

const root = join(import.meta.dirname, "..", "..")

/** The command that runs `main.ts` with `args`: the program, then its arguments. */
export const jobCommand = (args: ReadonlyArray<string>): [string, ...Array<string>] => [
  process.execPath,
  "--conditions=tributary:source",
  "--import",
  "tsx",
  join(root, "examples/etl/main.ts"),
  ...args
]

/** How the tests start a process: the workspace as its folder, `env` over this process's environment, `DATABASE_URL` empty unless given. */
export const jobOptions = (env: Record<string, string>): SpawnOptions => ({
  cwd: root,
  env: { ...process.env, DATABASE_URL: "", ...env },
  stdio: ["ignore", "pipe", "pipe"]
})

/** Starts `main.ts` with `args`; `env` is added to this process's environment. */
export const spawnJob = (args: ReadonlyArray<string>, env: Record<string, string> = {}): ChildProcess => {
  const [command, ...rest] = jobCommand(args)
  return spawn(command, rest, jobOptions(env))
}
