/**
 * The package manifests say what the README says, and what a user installs needs: the fast
 * checks of packaging, run with every test (the release check, `pnpm release:check`, packs and
 * installs the packages, which takes minutes and the registry).
 *
 * Invariants:
 * - every package under packages/ that is not private is checked (a new one as it lands);
 * - the README's list of entry points ("Use it in your project") is exactly the packages' exports
 *   (the `./package.json` export and closed `null` paths aside);
 * - each package declares the fields a registry page and a consumer's tools read, with the same
 *   `engines` as the workspace and one `effect` peer range, which the workspace's own `effect`
 *   version satisfies;
 * - `npm pack` of a package with a `workspace:` dependency stops in its prepack, before anything is
 *   built, naming pnpm (npm would ship the dependency as written: an uninstallable tarball).
 */
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { root } from "./child.js"

interface Manifest {
  readonly name: string
  readonly private?: boolean
  readonly [field: string]: unknown
}

const read = (path: string): Manifest => JSON.parse(readFileSync(path, "utf8"))
const rootManifest = read(join(root, "package.json"))
const packages = readdirSync(join(root, "packages"), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, "packages", d.name, "package.json")))
  .map((d) => ({ dir: join(root, "packages", d.name), manifest: read(join(root, "packages", d.name, "package.json")) }))
  .filter((p) => p.manifest.private !== true)

type Target = { readonly [condition: string]: string }
const exportsOf = (m: Manifest) => Object.entries(m.exports as Record<string, Target | string | null>)

/** The import specifiers a package publishes: its name plus each subpath (not package.json). */
const entryPoints = (m: Manifest): Array<string> =>
  exportsOf(m)
    .filter(([sub, target]) => target !== null && sub !== "./package.json")
    .map(([sub]) => m.name + sub.slice(1))

/** The `@tributary/…` specifiers in the README's "Entry points" bullet. */
const readmeEntryPoints = (): Array<string> => {
  const readme = readFileSync(join(root, "README.md"), "utf8")
  const bullet = /^- \*\*Entry points\*\*:([\s\S]*?)(?=\n- |\n\n)/m.exec(readme)
  if (bullet === null) throw new Error("README.md has no '- **Entry points**:' bullet")
  return [...bullet[1].matchAll(/`(@tributary\/[\w/-]+)`/g)].map((m) => m[1])
}

describe("package manifests", () => {
  it("reads every published package", () => {
    expect(packages.map((p) => p.manifest.name)).toEqual(
      expect.arrayContaining(["@tributary/channel", "@tributary/jobs", "@tributary/pino"])
    )
  })

  it("the README's entry points are exactly the packages' exports", () => {
    const exported = packages.flatMap((p) => entryPoints(p.manifest)).sort()
    expect([...new Set(readmeEntryPoints())].sort()).toEqual(exported)
  })

  it.each(packages.map((p) => [p.manifest.name, p] as const))(
    "%s declares what a consumer reads",
    (_, { dir, manifest }) => {
      const problems: Array<string> = []
      for (const field of ["version", "description", "license", "keywords", "main", "types", "files"])
        if (manifest[field] === undefined) problems.push(`no ${field}`)
      if (manifest.type !== "module") problems.push(`type is ${String(manifest.type)}`)
      if (manifest.sideEffects !== false) problems.push("sideEffects is not false")
      for (const file of ["README.md", "LICENSE"]) if (!existsSync(join(dir, file))) problems.push(`no ${file}`)
      const engines = manifest.engines as { node?: string } | undefined
      if (engines?.node !== (rootManifest.engines as { node: string }).node)
        problems.push(`engines.node ${engines?.node} differs from the workspace's`)
      const scripts = manifest.scripts as { prepack?: string } | undefined
      if (scripts?.prepack === undefined) problems.push("no prepack (a pack from a clean clone would ship no dist/)")
      for (const [sub, target] of exportsOf(manifest)) {
        if (target === null || typeof target === "string") continue
        if (!target.types?.startsWith("./dist/") || !target.default?.startsWith("./dist/"))
          problems.push(`exports["${sub}"] does not point into dist/`)
        const source = target["tributary:source"]
        if (source === undefined || !existsSync(join(dir, source)))
          problems.push(`exports["${sub}"] has no source file`)
      }
      const dot = exportsOf(manifest).find(([sub]) => sub === ".")?.[1] as Target | undefined
      if (manifest.main !== dot?.default || manifest.types !== dot?.types)
        problems.push("main/types differ from exports['.'] (node10 resolution)")
      expect(problems).toEqual([])
    }
  )

  it("every package takes the same effect peer range, and the workspace's effect is in it", () => {
    const ranges = new Set(packages.map((p) => (p.manifest.peerDependencies as Record<string, string>).effect))
    expect([...ranges]).toEqual(["^4.1.0"])
    expect((rootManifest.devDependencies as Record<string, string>).effect).toMatch(/^4\.(1|[2-9])\.\d+$/)
  })

  it("npm pack of a package with workspace dependencies stops at its prepack, naming pnpm", () => {
    const jobs = packages.find((p) => p.manifest.name === "@tributary/jobs")!
    const npm = spawnSync(process.platform === "win32" ? "npm.cmd" : "npm", ["pack", "--dry-run"], {
      cwd: jobs.dir,
      encoding: "utf8",
      // as a user's shell would run it: without the npm_* variables of the client running this test
      // (under `pnpm test`, npm would read npm_config_user_agent as its own and pass for pnpm)
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))), NODE_OPTIONS: "" }
    })
    expect(npm.status).not.toBe(0)
    expect(npm.stderr).toContain("@tributary/jobs: pack and publish it with pnpm")
    expect(npm.stderr).toContain("@tributary/channel@workspace:*")
  })
})
