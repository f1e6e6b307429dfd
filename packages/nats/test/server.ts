/**
 * A real nats-server for the tests: JetStream on a free loopback port with a temporary store
 * directory (`storeDir`); `restart` stops it and starts it again on the same port and store (file storage);
 * `stop` ends it. `available` is false when the binary is missing (the tests then skip).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"

const candidates = [
  process.env.NATS_SERVER,
  "/usr/sbin/nats-server",
  "/usr/bin/nats-server",
  "/usr/local/bin/nats-server"
]
export const binary = candidates.find((p): p is string => p !== undefined && existsSync(p))
export const available = binary !== undefined
export const skipReason =
  "nats-server is not installed (set NATS_SERVER or apt-get install nats-server): NATS tests skipped"

export interface NatsServer {
  readonly url: string
  /** its JetStream store directory (the account's streams are in `<storeDir>/jetstream/$G/streams/<name>`) */
  readonly storeDir: string
  readonly restart: () => Promise<void>
  readonly stop: () => Promise<void>
}

/** Starts a server; `config` is more of its configuration file (an `authorization` block, say). */
export const startServer = async (config = ""): Promise<NatsServer> => {
  const dir = mkdtempSync(join(tmpdir(), "tributary-nats-"))
  if (config !== "") writeFileSync(join(dir, "server.conf"), config)
  const { port, child: first } = await launchOnFreePort(dir)
  let child = first
  return {
    url: `nats://127.0.0.1:${port}`,
    storeDir: dir,
    restart: async () => {
      await end(child)
      child = await launch(port, dir)
    },
    stop: async () => {
      await end(child)
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

const launch = (port: number, dir: string): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const file = join(dir, "server.conf")
    const configured = existsSync(file) ? ["-c", file] : []
    const child = spawn(binary!, [...configured, "-js", "-sd", dir, "-p", String(port), "-a", "127.0.0.1"], {
      stdio: ["ignore", "ignore", "pipe"]
    })
    let log = ""
    child.stderr!.on("data", (chunk: Buffer) => {
      log += chunk.toString()
      if (log.includes("Server is ready")) resolve(child)
    })
    child.on("exit", (code) => reject(new Error(`nats-server exited (${code}) before it was ready:\n${log}`)))
  })

/**
 * `launch` on a port `freePort` found: another process may take that port between its check and
 * nats-server's bind (the server then exits, "address already in use"), so a few more are tried.
 */
const launchOnFreePort = async (dir: string): Promise<{ readonly port: number; readonly child: ChildProcess }> => {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    try {
      return { port, child: await launch(port, dir) }
    } catch (e) {
      if (attempt >= 5 || !String(e).includes("address already in use")) throw e
    }
  }
}

const end = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill("SIGTERM")
  })

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer()
    s.listen(0, "127.0.0.1", () => {
      const address = s.address()
      s.close(() =>
        typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))
      )
    })
  })

/**
 * A nats-server for the enclosing `describe`: started before its tests, stopped after them. The
 * returned handle reads the running server, so use it inside tests and hooks (not while the suite
 * is being declared).
 */
export const suiteServer = (): NatsServer => {
  let started: NatsServer | undefined
  beforeAll(async () => {
    started = await startServer()
  })
  afterAll(async () => {
    await started?.stop()
  })
  const current = (): NatsServer => {
    if (started === undefined) throw new Error("the suite's nats-server is not started yet: use it inside a test")
    return started
  }
  return {
    get url() {
      return current().url
    },
    get storeDir() {
      return current().storeDir
    },
    restart: () => current().restart(),
    stop: () => current().stop()
  }
}
