/**
 * A throw-away PostgreSQL server for the tests: `TRIBUTARY_TEST_DATABASE_URL` when it is set (CI
 * sets it, see `.ci/run`), else a fresh cluster made with Debian's `postgresql` binaries (initdb
 * and pg_ctl live off PATH, in /usr/lib/postgresql/<version>/bin) in a temporary folder, listening
 * on a free loopback port, run as the `postgres` user when we are root. Resolves to a reason to
 * skip when no server can be had.
 */
import { execFile } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"

export interface TestPostgres {
  readonly url: string
  readonly stop: () => Promise<void>
}

const exec = promisify(execFile)

/** A server to test against, or `{ skip }` saying why there is none. */
export const testPostgres = async (): Promise<TestPostgres | { readonly skip: string }> => {
  const given = process.env.TRIBUTARY_TEST_DATABASE_URL
  if (given !== undefined && given !== "") return { url: given, stop: async () => {} }
  const bin = binDir()
  if (bin === undefined)
    return { skip: "no PostgreSQL found (apt-get install postgresql, or set TRIBUTARY_TEST_DATABASE_URL)" }
  const root = process.getuid?.() === 0
  const dir = mkdtempSync(join(tmpdir(), "tributary-pg-"))
  const data = join(dir, "data")
  // as root, the server must run as another user: Debian's package made `postgres`
  const as = (cmd: string, args: Array<string>) =>
    root ? exec("runuser", ["-u", "postgres", "--", join(bin, cmd), ...args]) : exec(join(bin, cmd), args)
  try {
    if (root) {
      const { stdout } = await exec("id", ["-u", "postgres"])
      const { stdout: gid } = await exec("id", ["-g", "postgres"])
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()))
    }
    await as("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
    const port = await startOnFreePort(
      async (port) => {
        const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`
        await as("pg_ctl", ["-D", data, "-w", "-t", "30", "-l", join(dir, "log"), "-o", opts, "start"])
      },
      join(dir, "log")
    )
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      stop: async () => {
        await as("pg_ctl", ["-D", data, "-m", "immediate", "stop"]).catch(() => {})
        rmSync(dir, { recursive: true, force: true })
      }
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    return { skip: `could not start PostgreSQL from ${bin}: ${(e as Error).message.split("\n")[0]}` }
  }
}

/** The newest /usr/lib/postgresql/<version>/bin holding initdb. */
const binDir = (): string | undefined => {
  const base = "/usr/lib/postgresql"
  if (!existsSync(base)) return undefined
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a))
  return versions.length === 0 ? undefined : join(base, versions[0], "bin")
}

/**
 * `start` on a port `freePort` found, which another process may take before the server binds it
 * (the start then fails, "Address already in use" in the server's `log`): a few more are tried.
 */
const startOnFreePort = async (start: (port: number) => Promise<unknown>, log: string): Promise<number> => {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    try {
      await start(port)
      return port
    } catch (e) {
      const text = existsSync(log) ? readFileSync(log, "utf8") : ""
      const taken = text.includes("Address already in use") && text.includes(`port ${port}`)
      if (attempt >= 5 || !taken) throw e
    }
  }
}

/** A loopback port nobody listens on now. */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const address = s.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      s.close(() => resolve(port))
    })
  })
