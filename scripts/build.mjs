/**
 * Compiles packages into their `dist/` (JavaScript and declarations), dependencies first.
 *
 *   node scripts/build.mjs              every published package under packages/
 *   node scripts/build.mjs <dir>...     those packages and the workspace packages they depend on
 *
 * Each package's `prepack` runs it on the package itself, so a pack from a clean clone ships code.
 *
 * Invariants:
 * - a package is compiled after every workspace package it depends on (its `dist/*.d.ts` are what
 *   the dependant's declarations import: tsconfig.build.json resolves without `tributary:source`);
 * - the order comes from the package.json files, so a new package or dependency needs no edit here;
 * - as a prepack under npm or yarn, a package with a `workspace:` dependency is refused before
 *   anything is compiled (those clients would ship the dependency unchanged: an uninstallable
 *   tarball); pnpm rewrites it to the version;
 * - a package named in TRIBUTARY_BUILT (comma-separated names) is taken as built already: the
 *   release check packs in dependency order, so each prepack needs to compile its own package only;
 * - each compile is incremental (tsconfig.build.json keeps its build info inside `dist/`, so
 *   deleting `dist/` always means a full compile), and any compile error stops the build (exit 1).
 */
import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { basename, dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc")

/** The published packages of the workspace, by name: `{ name, dir, deps }`. */
export const workspacePackages = () => {
  const byName = new Map()
  for (const entry of readdirSync(join(root, "packages"), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue
    const dir = join(root, "packages", entry.name)
    let pkg
    try {
      pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
    } catch {
      continue
    }
    if (pkg.private) continue
    const deps = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.devDependencies })
    byName.set(pkg.name, { name: pkg.name, dir, deps })
  }
  for (const pkg of byName.values()) pkg.deps = pkg.deps.filter((d) => byName.has(d))
  return byName
}

/** The packages named (by directory) and their workspace dependencies, dependencies first. */
export const buildOrder = (byName, dirs) => {
  const order = []
  const state = new Map()
  const visit = (pkg) => {
    if (state.get(pkg.name) === "done") return
    if (state.get(pkg.name) === "visiting") throw new Error(`dependency cycle through ${pkg.name}`)
    state.set(pkg.name, "visiting")
    for (const dep of pkg.deps) visit(byName.get(dep))
    state.set(pkg.name, "done")
    order.push(pkg)
  }
  const all = [...byName.values()]
  for (const dir of dirs) {
    const pkg = all.find((p) => p.dir === resolve(dir))
    if (pkg === undefined) throw new Error(`build: ${dir} is not a published package under packages/`)
    visit(pkg)
  }
  return order
}

/**
 * As a package's prepack under a client other than pnpm (npm, yarn): refuses a package with a
 * `workspace:` dependency, which that client would ship unchanged and no client can install
 * (pnpm writes the version in its place).
 */
const refuseForeignPack = () => {
  if (process.env.npm_lifecycle_event !== "prepack") return
  const agent = process.env.npm_config_user_agent ?? ""
  if (agent.startsWith("pnpm/")) return
  const manifest = JSON.parse(readFileSync(join(process.cwd(), "package.json"), "utf8"))
  const linked = Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })
    .filter(([, range]) => String(range).startsWith("workspace:"))
    .map(([name, range]) => `${name}@${range}`)
  if (linked.length === 0) return
  const client = agent.split("/")[0] || "this client"
  throw new Error(
    `${manifest.name}: pack and publish it with pnpm (npx -y pnpm@12.4.2 pack): ${client} would ship ` +
      `${linked.join(", ")} as written, which no package manager can install`
  )
}

const main = () => {
  refuseForeignPack()
  const byName = workspacePackages()
  const args = process.argv.slice(2)
  const dirs = args.length > 0 ? args : [...byName.values()].map((p) => p.dir)
  const built = new Set((process.env.TRIBUTARY_BUILT ?? "").split(",").filter(Boolean))
  for (const pkg of buildOrder(byName, dirs).filter((p) => !built.has(p.name))) {
    process.stderr.write(`build: ${pkg.name} (packages/${basename(pkg.dir)}/dist)\n`)
    execFileSync(process.execPath, [tsc, "-p", join(pkg.dir, "tsconfig.build.json")], { stdio: "inherit" })
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main()
  } catch (error) {
    process.stderr.write(`${error.message}\n`)
    process.exit(1)
  }
}
