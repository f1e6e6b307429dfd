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
 * - a folder PGlite is about to create a database in is marked (`creatingFile`) until `created()`:
 *   a run killed while PGlite wrote its files (creating one takes seconds) leaves the mark, and the
 *   next claimant empties the folder and has PGlite create it again — it held no rows yet (the
 *   table is made after), and only the claim's holder ever empties it;
 * - `release` removes the claim (only if it is still ours).
 */
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { Data } from "effect"

/** The claim's file name, inside the data folder. */
export const claimFile = "tributary-etl.pid"

/** The mark of a folder whose database PGlite is creating, inside the data folder. */
export const creatingFile = "tributary-etl.creating"

/** Thrown by `claim`: the folder (`dataDir`) and what to do (`message`). */
export class DataFolderError extends Data.TaggedError("DataFolderError")<{
  readonly dataDir: string
  readonly message: string
}> {}

/** A folder claimed for this process. */
export interface Claim {
  /** PGlite will create the database (the folder holds none yet); call `created` once it has */
  readonly creating: boolean
  /** the folder held the files of a database a killed run was creating: they were removed */
  readonly recreated: boolean
  /** PGlite finished creating the database: the mark goes */
  readonly created: () => void
  /** gives the folder back */
  readonly release: () => void
}

/** Whether `dataDir` holds a whole PGlite database (opening it takes a second or two; creating one, several). */
export const holdsDatabase = (dataDir: string): boolean =>
  existsSync(join(dataDir, "PG_VERSION")) && !existsSync(join(dataDir, creatingFile))

/** Makes `dataDir` if needed and claims it for this process (see the module doc). */
export const claim = (dataDir: string): Claim => {
  if (existsSync(dataDir) && !statSync(dataDir).isDirectory())
    throw new DataFolderError({ dataDir, message: `${dataDir} is a file, not a folder: give --data-dir a folder` })
  makeFolder(dataDir)
  const others = readdirSync(dataDir).filter((f) => !ours(f))
  const marked = existsSync(join(dataDir, creatingFile))
  if (others.length > 0 && !marked && !existsSync(join(dataDir, "PG_VERSION")))
    throw new DataFolderError({
      dataDir,
      message: `${dataDir} is not empty and holds no PGlite database (${others.length} other files): give --data-dir a new or empty folder`
    })
  const release = take(dataDir)
  try {
    // ours now: a mark left by a killed run means a database half-written (read again, under the claim)
    const recreated = existsSync(join(dataDir, creatingFile))
    if (recreated)
      for (const f of readdirSync(dataDir)) if (!ours(f)) rmSync(join(dataDir, f), { recursive: true, force: true })
    const creating = recreated || !existsSync(join(dataDir, "PG_VERSION"))
    if (creating) writeFileSync(join(dataDir, creatingFile), String(process.pid))
    return { creating, recreated, created: () => rmSync(join(dataDir, creatingFile), { force: true }), release }
  } catch (e) {
    release()
    throw e
  }
}

/** The job's own files in the folder: the claim (and its temporary twin) and the mark. */
const ours = (file: string): boolean => file.startsWith(claimFile) || file === creatingFile

/** Takes the claim file for this process; returns its release. */
const take = (dataDir: string): (() => void) => {
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
