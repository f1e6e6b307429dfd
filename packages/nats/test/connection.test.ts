/**
 * The shared topology (internal/connection.ts) against a real nats-server: `ensureStreams` makes
 * the streams that are missing and checks each one it made with a probe message that it removes
 * again; a stream that cannot store (made while the server was still deleting a stream of the same
 * name: it takes over the old files, which the server then removes) is deleted and made again; a
 * stream that does not answer its probe yet is probed again.
 */
import { cpSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Effect, Exit, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { NatsSupervisor } from "../src/index.js"
import * as connection from "../src/internal/connection.js"
import { namesOf } from "../src/internal/wire.js"
import * as d from "./fixtures/definitions.js"
import { fire, Job, startWorker } from "./harness.js"
import { available, type NatsServer, skipReason, startServer, suiteServer } from "./server.js"

if (!available) console.log(skipReason)

describe.skipIf(!available)("ensureStreams", () => {
  const server = suiteServer()

  /** the store directory of the stream `name` (the server's default account) */
  const dirOf = (name: string) => join(server.storeDir, "jetstream", "$G", "streams", name)

  /** runs `f` with a JetStream manager on a connection of its own, closed after */
  const withManager = async (f: (jsm: JetStreamManager) => Promise<void>) => {
    const nc = await connect({ servers: server.url })
    try {
      await f(await jetstreamManager(nc))
    } finally {
      await nc.close()
    }
  }

  it("makes both streams; the probe that checks each leaves nothing in them", async () => {
    await withManager(async (jsm) => {
      const names = namesOf("ensurefresh")
      await Effect.runPromise(connection.ensureStreams("NatsWorker.run", jsm, names, 60_000, [server.url]))
      const jobs = await jsm.streams.info(names.jobsStream)
      const outcomes = await jsm.streams.info(names.outcomesStream)
      expect([jobs.state.messages, outcomes.state.messages]).toEqual([0, 0])
      // the probe was stored (then deleted): the stream could store
      expect([jobs.state.last_seq, outcomes.state.last_seq]).toEqual([1, 1])
    })
  })

  it("a stream made again while the server still deletes the old one (it takes over the old files, then they are removed): made again until it stores; a job published then is stored, the deleted job does not come back", async () => {
    const nc = await connect({ servers: server.url })
    const leftover = mkdtempSync(join(tmpdir(), "tributary-leftover-"))
    try {
      const jsm = await jetstreamManager(nc)
      const js = jetstream(nc)
      const names = namesOf("ensureleftover")
      const dir = dirOf(names.jobsStream)
      await Effect.runPromise(connection.ensureStreams("NatsWorker.run", jsm, names, 60_000, [server.url]))
      await js.publish(names.jobsSubject, "deleted with its stream")
      // the server deletes a stream in two steps: it forgets it (its consumers hear 409 Consumer
      // Deleted), then removes its files. The files as they are between the two steps:
      cpSync(dir, leftover, { recursive: true })
      await jsm.streams.delete(names.jobsStream)
      cpSync(leftover, dir, { recursive: true })
      let removals = 0
      await Effect.runPromise(
        connection.ensureStreams("NatsWorker.run", jsm, names, 60_000, [server.url], {
          // the second step, once the stream was made again (the first time only)
          afterMake: async (stream) => {
            if (stream === names.jobsStream && removals++ === 0) rmSync(dir, { recursive: true, force: true })
          }
        })
      )
      const ack = await js.publish(names.jobsSubject, "fired after")
      const info = await jsm.streams.info(names.jobsStream)
      expect(removals).toBe(2) // made twice: the first could not store
      expect(info.state.messages).toBe(1)
      expect((await jsm.streams.getMessage(names.jobsStream, { seq: ack.seq }))?.string()).toBe("fired after")
    } finally {
      rmSync(leftover, { recursive: true, force: true })
      await nc.close()
    }
  })

  it("a stream that does not answer its first probe (made but not yet listening on its subjects) is probed again until it does", async () => {
    await withManager(async (jsm) => {
      const names = namesOf("ensurelate")
      let config: Awaited<ReturnType<typeof jsm.streams.info>>["config"] | undefined
      let retries = 0
      const made = await Effect.runPromise(
        connection.ensureStreams("NatsWorker.run", jsm, names, 60_000, [server.url], {
          // nothing listens on the probe's subject when it is published: the stream is gone
          afterMake: async (stream) => {
            if (stream !== names.jobsStream) return
            config = (await jsm.streams.info(stream)).config
            await jsm.streams.delete(stream)
          },
          // and it listens again before the second probe
          beforeProbeRetry: async () => {
            retries++
            if (config !== undefined) await jsm.streams.add(config)
          }
        })
      )
      expect([...made].sort()).toEqual([names.jobsStream, names.outcomesStream].sort())
      expect(retries).toBe(1)
      const jobs = await jsm.streams.info(names.jobsStream)
      // the second probe was stored, then deleted
      expect([jobs.state.messages, jobs.state.last_seq]).toEqual([0, 1])
    })
  })

  it("a stream that never answers its probe fails ensureStreams with NatsConnectError after the last try", async () => {
    await withManager(async (jsm) => {
      const names = namesOf("ensuregone")
      let retries = 0
      const exit = await Effect.runPromiseExit(
        connection.ensureStreams("NatsWorker.run", jsm, names, 60_000, [server.url], {
          afterMake: async (stream) => {
            if (stream === names.jobsStream) await jsm.streams.delete(stream)
          },
          beforeProbeRetry: async () => {
            retries++
          }
        })
      )
      expect(exit._tag).toBe("Failure")
      expect(String(exit)).toContain("NatsConnectError")
      expect(retries).toBe(6)
    })
  })
})

describe.skipIf(!available)("restoreConsumer", () => {
  const server = suiteServer()

  it("a consumer made again over the files a failed delete left takes over the old state (its deliveries held until the ack wait): it is deleted and made again, and every unacked job is delivered at once", async () => {
    const nc = await connect({ servers: server.url })
    const leftover = mkdtempSync(join(tmpdir(), "tributary-leftover-"))
    try {
      const jsm = await jetstreamManager(nc)
      const js = jetstream(nc)
      const names = namesOf("consumerleftover")
      const servers = [server.url]
      await Effect.runPromise(connection.ensureStreams("NatsWorker.run", jsm, names, 60_000, servers))
      await Effect.runPromise(connection.ensureConsumer(jsm, names, 60_000, 100, servers, false))
      for (let i = 0; i < 5; i++) await js.publish(names.jobsSubject, String(i))
      const consumer = await js.consumers.get(names.jobsStream, names.consumer)
      const first: Array<string> = []
      for await (const m of await consumer.fetch({ max_messages: 3, expires: 1_000 })) first.push(m.string()) // never acked
      const dir = join(server.storeDir, "jetstream", "$G", "streams", names.jobsStream, "obs", names.consumer)
      // the consumer writes its state file after the deliveries (on its own schedule)
      while (!existsSync(join(dir, "o.dat")) || statSync(join(dir, "o.dat")).size === 0)
        await new Promise((r) => setImmediate(r))
      // a delete that forgot the consumer but left its files
      cpSync(dir, leftover, { recursive: true })
      await jsm.consumers.delete(names.jobsStream, names.consumer)
      cpSync(leftover, dir, { recursive: true })
      const made = await Effect.runPromise(connection.restoreConsumer(jsm, names, 60_000, 100, servers))
      const info = await jsm.consumers.info(names.jobsStream, names.consumer)
      const again: Array<string> = []
      const restored = await js.consumers.get(names.jobsStream, names.consumer)
      for await (const m of await restored.fetch({ max_messages: 5, expires: 1_000 }))
        again.push(`${m.string()}/${m.info.deliveryCount}`)
      expect(first).toEqual(["0", "1", "2"])
      // a fresh consumer: nothing delivered, nothing waiting for an ack
      expect({ made, delivered: info.delivered.consumer_seq, ackPending: info.num_ack_pending }).toEqual({
        made: true,
        delivered: 0,
        ackPending: 0
      })
      expect(again).toEqual(["0/1", "1/1", "2/1", "3/1", "4/1"])
    } finally {
      rmSync(leftover, { recursive: true, force: true })
      await nc.close()
    }
  })

  it("a consumer another worker made (and pulled from) between the server's 'missing' and this add is kept, its deliveries with it", async () => {
    const nc = await connect({ servers: server.url })
    try {
      const jsm = await jetstreamManager(nc)
      const js = jetstream(nc)
      const names = namesOf("consumerrace")
      const servers = [server.url]
      await Effect.runPromise(connection.ensureStreams("NatsWorker.run", jsm, names, 60_000, servers))
      for (let i = 0; i < 5; i++) await js.publish(names.jobsSubject, String(i))
      let created = ""
      const made = await Effect.runPromise(
        connection.restoreConsumer(jsm, names, 60_000, 100, servers, async () => {
          // the other worker: makes the consumer and holds 3 jobs
          await Effect.runPromise(connection.restoreConsumer(jsm, names, 60_000, 100, servers))
          const consumer = await js.consumers.get(names.jobsStream, names.consumer)
          for await (const _ of await consumer.fetch({ max_messages: 3, expires: 1_000 })) {
          }
          created = (await jsm.consumers.info(names.jobsStream, names.consumer)).created
        })
      )
      const info = await jsm.consumers.info(names.jobsStream, names.consumer)
      expect({ made, same: info.created === created, ackPending: info.num_ack_pending }).toEqual({
        made: true,
        same: true,
        ackPending: 3
      })
    } finally {
      await nc.close()
    }
  })
})

describe.skipIf(!available)("credentials in the server URL", () => {
  let server: NatsServer
  beforeAll(async () => {
    server = await startServer(
      'authorization { users = [ { user: "w", password: "p4ss@w0rd" }, { user: "other", password: "0ther-pass" } ] }'
    )
  })
  afterAll(() => server?.stop())
  const withUser = (userinfo: string) => server.url.replace("nats://", `nats://${userinfo}@`)

  it("a user and password in the URL are sent (the client ignored them: Authorization Violation); a job runs", async () => {
    const url = withUser("w:p4ss%40w0rd") // percent-encoded as in any URL
    const w = startWorker(url, "w", { prefix: "auth" })
    try {
      const { value } = await fire(url, Effect.flatMap(Job.fork(d.square.make({ n: 7 })), Job.join), undefined, "auth")
      expect(value).toBe(49)
    } finally {
      await w.stop()
    }
  })

  it("a refused password is a NatsConnectError that shows no credentials", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.scoped(Layer.build(NatsSupervisor.layer({ servers: withUser("w:wr0ng-pass") })))
    )
    expect(exit._tag).toBe("Failure")
    const error = Exit.isFailure(exit) ? Exit.findErrorOption(exit) : undefined
    expect(error).toMatchObject({ value: { _tag: "NatsConnectError", servers: withUser("***") } })
    expect(JSON.stringify(error) + String(exit)).not.toContain("wr0ng-pass")
  })

  it("URLs with different credentials are a NatsArgumentError that shows none of them", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.scoped(
        Layer.build(NatsSupervisor.layer({ servers: [withUser("w:p4ss%40w0rd"), withUser("other:0ther-pass")] }))
      )
    )
    const error = Exit.isFailure(exit) ? Exit.findErrorOption(exit) : undefined
    expect(error).toMatchObject({ value: { _tag: "NatsArgumentError", argument: "servers" } })
    expect(JSON.stringify(error) + String(exit)).not.toMatch(/p4ss|0ther-pass/)
  })
})

describe.skipIf(!available)("a token in the server URL", () => {
  let server: NatsServer
  beforeAll(async () => {
    server = await startServer('authorization { token: "t0ken-abc" }')
  })
  afterAll(() => server?.stop())

  it("nats://<token>@host is token authentication", async () => {
    const url = server.url.replace("nats://", "nats://t0ken-abc@")
    const connected = await Effect.runPromiseExit(
      Effect.scoped(Effect.map(connection.open([url], "token-probe"), (nc) => nc.isClosed()))
    )
    expect(connected).toEqual(Exit.succeed(false))
  })
})

describe.skipIf(!available)("open", () => {
  const server = suiteServer()

  it("a tls:// URL to a server that offers no TLS is refused (NatsConnectError), never a connection in the clear", async () => {
    const address = server.url.replace(/^nats:\/\//, "")
    const secure = await Effect.runPromiseExit(Effect.scoped(connection.open([`tls://${address}`], "tls-probe")))
    expect(secure._tag).toBe("Failure")
    expect(String(secure)).toContain("NatsConnectError")
    expect(String(secure)).toContain(`tls://${address}`)
    // the same server without the scheme's demand: connected
    const plain = await Effect.runPromiseExit(
      Effect.scoped(Effect.map(connection.open([`nats://${address}`], "plain-probe"), (nc) => nc.isClosed()))
    )
    expect(plain).toEqual(Exit.succeed(false))
  })
})
