/**
 * PGlite's data folder, claimed for one run at a time. PGlite is Postgres in this process's
 * memory, writing its files with no lock of its own: two runs on the same folder each keep their
 * own copy of the table and write over each other's files (a primary key then held the same id
 * twice). So `claim` takes the folder for this process:
 *
 * - the folder is made when missing; a file in its place is refused; a folder that is not empty
 *   and holds no PGlite database (no `PG_VERSION`) is refused, never filled with a database's files;
 * - the claim is a file in the folder holding this process's pid, created with its content at once
 *   (a hard link of a written file: nobody reads it empty); a claim whose process is gone (killed)
 *   is stale and taken over; a live one is refused, naming its pid;
 * - `release` removes the claim (only if it is still ours).
 */
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { Data } from "effect"

/** The claim's file name, inside the data folder. */
export const claimFile = "tributary-etl.pid"

/** Thrown by `claim`: the folder (`dataDir`) and what to do (`message`). */
export class DataFolderError extends Data.TaggedError("DataFolderError")<{
  readonly dataDir: string
  readonly message: string
}> {}

/** Makes `dataDir` if needed and claims it for this process; returns the release. */
export const claim = (dataDir: string): (() => void) => {
  if (existsSync(dataDir) && !statSync(dataDir).isDirectory())
    throw new DataFolderError({ dataDir, message: `${dataDir} is a file, not a folder: give --data-dir a folder` })
  makeFolder(dataDir)
  const others = readdirSync(dataDir).filter((f) => !f.startsWith(claimFile))
  if (others.length > 0 && !existsSync(join(dataDir, "PG_VERSION")))
    throw new DataFolderError({
      dataDir,
      message: `${dataDir} is not empty and holds no PGlite database (${others.length} other files): give --data-dir a new or empty folder`
    })
  const path = join(dataDir, claimFile)
  const mine = `${path}.${process.pid}`
  writeFileSync(mine, String(process.pid))
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(mine, path) // fails with EEXIST when claimed
        return () => {
          if (holder(path) === process.pid) rmSync(path, { force: true })
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
        const pid = holder(path)
        if (pid !== undefined && alive(pid))
          throw new DataFolderError({
            dataDir,
            message: `${dataDir} is in use by another run of the job (pid ${pid}); wait for it to end, or give another --data-dir`
          })
        rmSync(path, { force: true }) // stale: its process is gone
      }
    }
  } finally {
    rmSync(mine, { force: true })
  }
  throw new DataFolderError({ dataDir, message: `${dataDir} was claimed by another run just now; try again` })
}

/**
 * `mkdir -p`, one level at a time: Node's own recursive mkdir retries for ever, the event loop
 * blocked (no signal handled), when mkdir answers ENOENT under a parent that exists (/proc/x).
 */
const makeFolder = (dir: string): void => {
  const parent = dirname(dir)
  if (existsSync(dir)) return
  if (parent !== dir) makeFolder(parent)
  try {
    mkdirSync(dir)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
  }
}

/** The pid in the claim file, if it holds one. */
const holder = (path: string): number | undefined => {
  try {
    const pid = Number(readFileSync(path, "utf8").trim())
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/** Whether process `pid` exists (signal 0 checks without sending anything; EPERM: it exists, not ours). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}
