/**
 * Every link in the repository's Markdown leads somewhere: a relative link names a file or folder
 * that exists, and its `#anchor` names a heading of the Markdown file it points at (GitHub's
 * heading ids). A package's README is also the page its npm listing shows, read outside the
 * repository, so it holds no relative link at all (only absolute URLs and in-page anchors).
 *
 * Invariants:
 * - the Markdown read is every `*.md` of the repository but generated or scratch folders
 *   (node_modules, dist, build, docs/api, .changeset, .scratch), so a new guide is checked as it lands;
 * - links inside fenced code blocks and inline code are not links and are not read; a repository
 *   path in inline code (`examples/etl/main.ts`, from the repository's root) is read, and exists;
 * - a failure names the file, the line and the link.
 */
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { describe, expect, it } from "vitest"
import { root } from "./child.js"

const skipped = new Set(["node_modules", "dist", "build", ".changeset", ".scratch", ".git", ".data"])

const markdownFiles = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name)
    if (d.isDirectory())
      return skipped.has(d.name) || relative(root, path) === join("docs", "api") ? [] : markdownFiles(path)
    return d.name.endsWith(".md") ? [path] : []
  })

interface Link {
  readonly line: number
  readonly target: string
}

/** The lines of a Markdown file with fenced code blocks blanked. */
const unfencedLines = (text: string): Array<string> => {
  let fenced = false
  return text.split("\n").map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced
      return ""
    }
    return fenced ? "" : line
  })
}

/** The lines that can hold links: no fenced code blocks, no inline code. */
const proseLines = (text: string): Array<string> => unfencedLines(text).map((line) => line.replace(/(`+)[^`]*?\1/g, ""))

/** Inline links and images `[text](target "title")` and reference definitions `[id]: target`. */
const linksOf = (text: string): Array<Link> =>
  proseLines(text).flatMap((line, i) => [
    ...[...line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => ({ line: i + 1, target: m[1] })),
    ...[...line.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/g)].map((m) => ({ line: i + 1, target: m[1] }))
  ])

const isAbsolute = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target)

/** GitHub's id of a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
const headingIds = (text: string): Set<string> => {
  const ids = new Set<string>()
  const seen = new Map<string, number>()
  for (const line of unfencedLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (heading === null) continue
    const base = heading[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-")
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    ids.add(n === 0 ? base : `${base}-${n}`)
  }
  return ids
}

/** What is wrong with one link of `file`, or undefined when it leads somewhere. */
const problemOf = (file: string, target: string): string | undefined => {
  if (isAbsolute(target)) return undefined
  const [path, anchor] = target.split("#", 2)
  const resolved = path === "" ? file : join(dirname(file), decodeURIComponent(path))
  if (!existsSync(resolved)) return "no such file"
  if (anchor === undefined || anchor === "") return undefined
  if (statSync(resolved).isDirectory() || !resolved.endsWith(".md")) return "an anchor into a file that is not Markdown"
  return headingIds(readFileSync(resolved, "utf8")).has(decodeURIComponent(anchor).toLowerCase())
    ? undefined
    : "no heading with that id"
}

const isPackageReadme = (file: string) => /^packages\/[^/]+\/README\.md$/.test(relative(root, file))

describe("links in the Markdown", () => {
  const files = markdownFiles(root)

  it("reads the READMEs and the guides", () => {
    const names = files.map((f) => relative(root, f))
    expect(names).toContain("README.md")
    expect(names).toContain(join("docs", "README.md"))
    expect(names).toContain(join("packages", "jobs", "README.md"))
  })

  it("every relative link names a file that exists, and its anchor a heading there", () => {
    const broken = files.flatMap((file) =>
      linksOf(readFileSync(file, "utf8")).flatMap(({ line, target }) => {
        const problem = problemOf(file, target)
        return problem === undefined ? [] : [`${relative(root, file)}:${line}: ${target} (${problem})`]
      })
    )
    expect(broken).toEqual([])
  })

  it("a package README, read on npm outside the repository, has no relative link", () => {
    const relativeLinks = files.filter(isPackageReadme).flatMap((file) =>
      linksOf(readFileSync(file, "utf8"))
        .filter(({ target }) => !isAbsolute(target) && !target.startsWith("#"))
        .map(({ line, target }) => `${relative(root, file)}:${line}: ${target}`)
    )
    expect(relativeLinks).toEqual([])
  })

  it("finds the links and heading ids it is meant to", () => {
    const sample = [
      "# The real job: a partner API into Postgres (`examples/etl`)",
      "## Jobs",
      "## Jobs",
      "See [a](docs/a.md#x), ![b](b.png) and `[c](not-a-link.md)`.",
      "```md",
      "[d](in-a-fence.md)",
      "```",
      "[e]: https://example.com"
    ].join("\n")
    expect([...headingIds(sample)]).toEqual(["the-real-job-a-partner-api-into-postgres-examplesetl", "jobs", "jobs-1"])
    expect(linksOf(sample).map((l) => l.target)).toEqual(["docs/a.md#x", "b.png", "https://example.com"])
  })

  it("every repository path the Markdown names in inline code exists (`examples/etl/main.ts`), build outputs aside", () => {
    const missing = files.flatMap((file) =>
      unfencedLines(readFileSync(file, "utf8")).flatMap((line, i) =>
        [...line.matchAll(/`((?:examples|bench|packages|scripts|docs|test)\/[\w./-]+?)(?::\d+)*`/g)]
          .filter((m) => !existsSync(join(root, m[1])))
          .map((m) => ({ where: `${relative(root, file)}:${i + 1}`, path: m[1]! }))
      )
    )
    // a path the repository ignores (dist/, docs/api/: made by a build) need not exist in a fresh clone
    const ignored = new Set(
      missing.length === 0
        ? []
        : spawnSync("git", ["check-ignore", "--no-index", ...new Set(missing.map((m) => m.path))], {
            cwd: root,
            encoding: "utf8"
          }).stdout.split("\n")
    )
    expect(missing.filter((m) => !ignored.has(m.path)).map((m) => `${m.where}: ${m.path}`)).toEqual([])
  })
})
