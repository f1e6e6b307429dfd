/**
 * The job's command line: what a hostile or careless user types is refused with a `FlagError`
 * naming the flag and the value (main.ts prints it with the usage and exits 2).
 */
import { describe, expect, it } from "vitest"
import { FlagError, parseDatabaseUrl, parseFlags } from "./flags.js"

const refused = (argv: ReadonlyArray<string>): FlagError => {
  try {
    parseFlags(argv)
  } catch (e) {
    if (e instanceof FlagError) return e
    throw e
  }
  throw new Error(`accepted: ${argv.join(" ")}`)
}

describe("the job's flags", () => {
  it("the defaults", () => {
    expect(parseFlags([])).toMatchObject({
      mode: "fire",
      records: 2000,
      seed: 1,
      concurrency: 16,
      rate: 800,
      json: false
    })
  })

  it("a negative number is refused by its flag's own check, naming the value", () => {
    expect(refused(["--records", "-5"]).message).toBe(
      'Invalid --records: expected an integer from 1 to 1000000, received "-5"'
    )
    expect(refused(["--concurrency", "-1"]).message).toBe(
      'Invalid --concurrency: expected an integer >= 1, received "-1"'
    )
    expect(refused(["--seed=-3"]).message).toBe('Invalid --seed: expected an integer >= 0, received "-3"')
  })

  it("a number is plain decimal digits within its bounds: no exponent, hex, blanks or fractions", () => {
    for (const text of ["1e3", "0x10", " 5", "5 ", "2.5", "+7", ""])
      expect(refused(["--concurrency", text])).toMatchObject({ flag: "concurrency", value: text })
    expect(refused(["--records", "1e9"]).message).toBe(
      'Invalid --records: expected an integer from 1 to 1000000, received "1e9"'
    )
    expect(refused(["--records", "1000001"]).flag).toBe("records")
    expect(parseFlags(["--records", "1000000"]).records).toBe(1_000_000)
  })

  it("the messages name the real flag and bound: a negative --monitor port, a number past the largest safe one, an unknown short flag", () => {
    expect(refused(["--monitor", "-1"]).message).toBe(
      'Invalid --monitor: expected a port from 0 to 65535, received "-1"'
    )
    expect(refused(["--monitor", "70000"]).message).toBe(
      'Invalid --monitor: expected a port from 0 to 65535, received "70000"'
    )
    expect(refused(["--rate", "99999999999999999999"]).message).toBe(
      'Invalid --rate: expected an integer from 1 to 9007199254740991, received "99999999999999999999"'
    )
    expect(refused(["--records"]).value).toBeUndefined()
    expect(refused(["-x"]).message).toBe(
      'Invalid argument: expected a flag this job knows (-h lists them), received "-x"'
    )
    expect(parseFlags(["--monitor", "--json"])).toMatchObject({ monitor: 7070, json: true })
  })

  it("-h and --help ask for the usage, whatever else is given", () => {
    expect(parseFlags([]).help).toBe(false)
    expect(parseFlags(["-h"])).toMatchObject({ help: true, mode: "fire", concurrency: 16 })
    expect(parseFlags(["--help", "--concurrency", "0"]).help).toBe(true)
  })

  it("a flag given twice is refused, not silently overridden", () => {
    expect(refused(["--records", "5", "--records", "6"]).message).toBe(
      'Invalid --records: expected the flag once, received ["5","6"]'
    )
    expect(refused(["--fresh", "--json", "--fresh"]).message).toBe(
      'Invalid --fresh: expected the flag once, received "--fresh --fresh"'
    )
  })

  it("a switch given a value, an unknown flag, a missing value, a stray argument", () => {
    expect(refused(["--json=3"]).message).toBe('Invalid --json: expected no value (it is a switch), received "3"')
    expect(refused(["--bogus"]).message).toBe('Invalid --bogus: expected a flag this job knows, received "--bogus"')
    expect(refused(["--records"]).message).toBe("Invalid --records: expected a value, no value given")
    expect(refused(["--records", "--json"]).message).toBe("Invalid --records: expected a value, no value given")
    expect(refused(["oops"]).flag).toBe("argument")
    expect(refused(["--mode", "bogus"]).message).toBe(
      'Invalid --mode: expected fire, handles, channel or all, received "bogus"'
    )
  })

  it("DATABASE_URL: unset or empty is PGlite; a postgres URL is taken; anything else is refused, its password hidden", () => {
    expect(parseDatabaseUrl(undefined)).toBeUndefined()
    expect(parseDatabaseUrl("")).toBeUndefined()
    for (const url of [
      "postgres://u:pw@127.0.0.1:5432/db",
      "postgresql://db.example.com/app",
      "postgres:///app?host=/var/run/postgresql"
    ])
      expect(parseDatabaseUrl(url)).toBe(url)
    const expected = "a postgres:// URL such as postgres://user:password@host:5432/db (unset: PGlite)"
    const refusedUrl = (url: string) => {
      try {
        parseDatabaseUrl(url)
      } catch (e) {
        if (e instanceof FlagError) return e
      }
      throw new Error(`accepted ${url}`)
    }
    expect(refusedUrl("not a url").message).toBe(`Invalid DATABASE_URL: expected ${expected}, received "not a url"`)
    expect(refusedUrl("mysql://x:secret@127.0.0.1/y").message).toBe(
      `Invalid DATABASE_URL: expected ${expected}, received "mysql://x:***@127.0.0.1/y"`
    )
    expect(refusedUrl("postgres://u:secret@/db").message).not.toContain("secret")
  })

  it("--records and --seed shape the in-process partner: with --partner-url they are refused, not ignored", () => {
    expect(refused(["--partner-url", "http://127.0.0.1:8080", "--records", "50"]).message).toBe(
      `Invalid --records: expected no value with --partner-url (it sets the in-process partner's), received "50"`
    )
    expect(refused(["--seed", "7", "--partner-url", "http://127.0.0.1:8080"]).flag).toBe("seed")
    expect(parseFlags(["--partner-url", "http://127.0.0.1:8080/"]).partnerUrl).toBe("http://127.0.0.1:8080")
  })
})
