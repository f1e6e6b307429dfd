/**
 * The release check (last step of `pnpm test`): what a user installs is what the repository
 * means to publish.
 *
 *   node scripts/release-check.mjs [--keep]     (--keep leaves the temporary folder for a look)
 *
 * For every published package under packages/ (none named here: a new one is checked as it lands):
 * 1. `pnpm pack` it (its `prepack` builds dist/, dependencies first), and check the tarball holds
 *    dist/ JavaScript and declarations for every entry point, README.md and LICENSE, and no
 *    build info;
 * 2. lint the tarball with publint (warnings are errors) and @arethetypeswrong/cli (every rule but
 *    `cjs-resolves-to-esm`: the packages are ESM only, and `require` of them works from Node 20.19
 *    on, which their `engines` demand), and, once all are packed (so built), build the API
 *    reference as `pnpm run docs` does (typedoc.json, warnings as errors) without writing it;
 * 3. install all the tarballs with npm into a fresh consumer project in a temporary folder (the
 *    registry only serves the third-party dependencies: effect, pino, @types/node, ...), and there
 *    import every entry point and run a job that moves a value through a channel from ESM, from
 *    CommonJS and from TypeScript (type-checked under moduleResolution nodenext, bundler and
 *    node10, the nodenext build run, an ES module and a CommonJS one: commonjs.cts); the ESM and
 *    CommonJS consumers also log through @tributary/pino, read a @tributary/monitor snapshot over
 *    HTTP and get a @tributary/nats argument error (rest.cjs: no NATS server needed). The
 *    consumer sources are in scripts/release-check/. The CommonJS consumer `require`s every entry
 *    point, which also proves that no module the packages load uses top-level await (Node refuses
 *    to `require` such a module: ERR_REQUIRE_ASYNC_MODULE).
 *
 * Invariants:
 * - nothing outside the temporary folder is written but each package's dist/ (its build);
 * - the consumer never sees the workspace: it resolves the packages from the tarballs alone, with
 *   no `tributary:source` condition (NODE_OPTIONS is cleared for every child);
 * - with no registry reachable, steps 1 and 2 still run and step 3 is skipped with one line saying
 *   so (CI has the registry); any other failure exits 1 naming the step and package.
 */
import { execFileSync } from "node:child_process"
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { buildOrder, workspacePackages } from "./build.mjs"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const fixtures = join(root, "scripts/release-check")
const rootPkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
/** The script of a root devDependency's command (read from its manifest: not all export it). */
const bin = (pkg, name) => {
  const dir = join(root, "node_modules", pkg)
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
  return join(dir, typeof manifest.bin === "string" ? manifest.bin : manifest.bin[name])
}
const env = { ...process.env, NODE_OPTIONS: "" }
const log = (line) => process.stdout.write(`release check: ${line}\n`)

/** Runs a command; on failure throws with what it printed, labelled with the step. */
const run = (step, file, args, options = {}) => {
  try {
    return execFileSync(file, args, { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"], ...options })
  } catch (error) {
    throw new Error(`${step} failed (exit ${error.status}):\n${error.stdout ?? ""}${error.stderr ?? error.message}`)
  }
}
const node = (step, args, options) => run(step, process.execPath, args, options)
const npx = process.platform === "win32" ? "npx.cmd" : "npx"
const pnpm = ["-y", rootPkg.packageManager]

/** The import specifiers a package publishes: its name plus each subpath of `exports`. */
const entryPoints = (manifest) =>
  Object.entries(manifest.exports)
    .filter(([sub, target]) => target !== null && !sub.includes("*") && !sub.endsWith(".json"))
    .map(([sub, target]) => ({ spec: manifest.name + sub.slice(1), target }))

/** Packs one package; `built` names the packages packed (so built) before it, which its prepack skips. */
const pack = (pkg, into, built) => {
  const before = new Set(readdirSync(into))
  run(`pack ${pkg.name}`, npx, [...pnpm, "pack", "--pack-destination", into], {
    cwd: pkg.dir,
    env: { ...env, TRIBUTARY_BUILT: built.join(",") }
  })
  const made = readdirSync(into).filter((f) => !before.has(f) && f.endsWith(".tgz"))
  if (made.length !== 1) throw new Error(`pack ${pkg.name}: expected one new tarball, found ${made.join(", ")}`)
  const tarball = join(into, made[0])
  const files = new Set(run(`list ${made[0]}`, "tar", ["-tzf", tarball]).split("\n").filter(Boolean))
  const manifest = JSON.parse(run(`read ${made[0]}`, "tar", ["-xzOf", tarball, "package/package.json"]))
  const wanted = ["package/README.md", "package/LICENSE", `package/${manifest.main.slice(2)}`]
  for (const { target } of entryPoints(manifest)) wanted.push(`package/${target.types.slice(2)}`)
  for (const { target } of entryPoints(manifest)) wanted.push(`package/${target.default.slice(2)}`)
  const missing = wanted.filter((f) => !files.has(f))
  if (missing.length > 0) throw new Error(`${made[0]} lacks ${missing.join(", ")}`)
  const stray = [...files].filter((f) => f.endsWith(".tsbuildinfo"))
  if (stray.length > 0) throw new Error(`${made[0]} ships build info: ${stray.join(", ")}`)
  return { tarball, manifest }
}

const lint = ({ tarball }) => {
  node(`publint ${basename(tarball)}`, [bin("publint", "publint"), "run", tarball, "--strict"])
  node(`attw ${basename(tarball)}`, [
    bin("@arethetypeswrong/cli", "attw"),
    tarball,
    "--ignore-rules",
    "cjs-resolves-to-esm",
    "--format",
    "table-flipped",
    "--no-color",
    "--no-emoji"
  ])
}

const registryReachable = () => {
  try {
    execFileSync(npx === "npx" ? "npm" : "npm.cmd", ["ping"], { env, stdio: "ignore", timeout: 30_000 })
    return true
  } catch {
    return false
  }
}

/** The generated part of the consumer: every entry point of every package, imported three ways. */
const writeEntries = (dir, packed) => {
  const specs = packed.flatMap(({ manifest }) => entryPoints(manifest).map((e) => e.spec))
  const esm = specs.map((s, i) => `import * as m${i} from "${s}"`)
  const check = (kind) => [
    `const all = { ${specs.map((s, i) => `"${s}": m${i}`).join(", ")} }`,
    "const empty = Object.entries(all).filter(([, m]) => Object.keys(m).length === 0).map(([s]) => s)",
    `if (empty.length > 0) throw new Error(\`${kind}: no exports in \${empty.join(", ")}\`)`,
    `console.log("${kind}: imported ${specs.length} entry points")`
  ]
  writeFileSync(join(dir, "entries.mjs"), [...esm, ...check("esm entries")].join("\n"))
  const cjs = specs.map((s, i) => `const m${i} = require("${s}")`)
  writeFileSync(join(dir, "entries.cjs"), [...cjs, ...check("cjs entries")].join("\n"))
  writeFileSync(
    join(dir, "entries.ts"),
    [...esm, `export const all = [${specs.map((_, i) => `m${i}`).join(", ")}]`].join("\n")
  )
  return specs.length
}

/** A consumer's compiler options: strict, its own code checked, the libraries' declarations not
 * (effect's need the DOM lib; ours are tsc's own output, already checked by the build). */
const tsconfig = (options, files) => ({
  compilerOptions: { target: "ES2022", lib: ["ES2022"], strict: true, types: ["node"], skipLibCheck: true, ...options },
  files
})

const consume = (dir, packed) => {
  const dev = rootPkg.devDependencies
  const dependencies = { effect: dev.effect, pino: dev.pino, "@types/node": dev["@types/node"] }
  for (const { tarball, manifest } of packed) dependencies[manifest.name] = `file:${tarball}`
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module", dependencies }, null, 2)
  )
  run("npm install", npx === "npx" ? "npm" : "npm.cmd", ["install", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: dir
  })
  for (const f of ["move.cjs", "rest.cjs", "scenario.mjs", "scenario.cjs", "effect.ts", "promise.ts", "commonjs.cts"])
    copyFileSync(join(fixtures, f), join(dir, f))
  const count = writeEntries(dir, packed)

  const out = []
  out.push(node("esm consumer", ["entries.mjs"], { cwd: dir }), node("esm consumer", ["scenario.mjs"], { cwd: dir }))
  out.push(node("cjs consumer", ["entries.cjs"], { cwd: dir }), node("cjs consumer", ["scenario.cjs"], { cwd: dir }))

  const tsc = bin("typescript", "tsc")
  const configs = {
    nodenext: tsconfig({ module: "NodeNext", moduleResolution: "NodeNext", outDir: "out" }, [
      "effect.ts",
      "promise.ts",
      "entries.ts",
      "commonjs.cts"
    ]),
    bundler: tsconfig({ module: "Preserve", moduleResolution: "Bundler", noEmit: true }, [
      "effect.ts",
      "promise.ts",
      "entries.ts"
    ]),
    // effect publishes no types for node10, so this consumer imports no effect module: what is
    // checked is that every entry point of ours resolves to its declarations
    node10: tsconfig({ module: "CommonJS", moduleResolution: "Node10", noEmit: true }, ["promise.ts", "entries.ts"])
  }
  for (const [name, config] of Object.entries(configs)) {
    writeFileSync(join(dir, `tsconfig.${name}.json`), JSON.stringify(config, null, 2))
    node(`tsc (moduleResolution ${name})`, [tsc, "-p", `tsconfig.${name}.json`], { cwd: dir })
  }
  out.push(node("ts consumer", [join("out", "effect.js")], { cwd: dir }))
  out.push(node("ts commonjs consumer", [join("out", "commonjs.cjs")], { cwd: dir }))
  for (const line of out
    .join("")
    .split("\n")
    .filter((l) => /^(esm|cjs|ts)[: ]/.test(l)))
    log(line)
  log(`types of ${count} entry points resolve under moduleResolution nodenext, bundler and node10`)
}

const main = () => {
  const keep = process.argv.includes("--keep")
  const started = process.hrtime.bigint()
  const tmp = mkdtempSync(join(tmpdir(), "tributary-release-"))
  try {
    const byName = workspacePackages()
    const tarballs = join(tmp, "tarballs")
    mkdirSync(tarballs)
    const packed = []
    for (const pkg of buildOrder(
      byName,
      [...byName.values()].map((p) => p.dir)
    )) {
      const result = pack(
        pkg,
        tarballs,
        packed.map((p) => p.manifest.name)
      )
      lint(result)
      log(`${basename(result.tarball)}: packed, publint and attw clean`)
      packed.push(result)
    }
    node("typedoc (the API reference, nothing written)", [bin("typedoc", "typedoc"), "--emit", "none"], { cwd: root })
    log("the API reference builds (typedoc, warnings as errors)")
    if (!registryReachable()) {
      log("the npm registry is unreachable: consumer install skipped (CI runs it)")
      return
    }
    const consumer = join(tmp, "consumer")
    mkdirSync(consumer)
    consume(consumer, packed)
    log(`passed in ${Math.round(Number(process.hrtime.bigint() - started) / 1e9)} s`)
  } finally {
    if (keep) log(`kept ${tmp}`)
    else rmSync(tmp, { recursive: true, force: true })
  }
}

try {
  main()
} catch (error) {
  process.stderr.write(`release check: ${error.message}\n`)
  process.exit(1)
}
