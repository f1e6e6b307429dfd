/**
 * Every public export has its documentation: the API reference (`pnpm run docs`, typedoc over the
 * packages' entry points) shows each export with the JSDoc written on it, so an export without
 * one is a blank entry there.
 *
 * Invariants:
 * - the exports read are those of every entry point in each published package's `exports` map
 *   (its `tributary:source` file), and one level into each namespace export (`Chan.make`,
 *   `Job.fire`): what a user reaches by name;
 * - a deprecated alias counts as documented when it says so (`@deprecated`);
 * - a failure names the entry point and the export.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import ts from "typescript"
import { describe, expect, it } from "vitest"
import { root } from "./child.js"

interface Entry {
  readonly spec: string
  readonly file: string
}

const entries: Array<Entry> = readdirSync(join(root, "packages"), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, "packages", d.name, "package.json")))
  .flatMap((d) => {
    const dir = join(root, "packages", d.name)
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
    if (manifest.private === true) return []
    return Object.entries(manifest.exports as Record<string, { "tributary:source"?: string } | string | null>)
      .filter(([, target]) => typeof target === "object" && target?.["tributary:source"] !== undefined)
      .map(([sub, target]) => ({
        spec: manifest.name + sub.slice(1),
        file: join(dir, (target as { "tributary:source": string })["tributary:source"])
      }))
  })

/** A module's own comment: the JSDoc block at the top of its file (what typedoc shows for a namespace). */
const moduleComment = (symbol: ts.Symbol): boolean =>
  (symbol.declarations ?? []).some(
    (d) => ts.isSourceFile(d) && /^\s*\/\*\*\s*\n\s*\*\s*[^@\s]/.test(d.text.replace(/^#!.*\n/, ""))
  )

const documented = (symbol: ts.Symbol, checker: ts.TypeChecker): boolean =>
  symbol.getDocumentationComment(checker).length > 0 ||
  symbol.getJsDocTags(checker).some((t) => t.name === "deprecated") ||
  moduleComment(symbol)

/**
 * Exports that carry only `@since` today (blank entries in the reference), listed so the check
 * holds every other export now; each is to get its JSDoc in its package, and then leaves this list
 * (an entry that is documented fails the check, so the list only shrinks).
 */
const knownUndocumented = [
  "@tributary/channel: Chan.CaseResult",
  "@tributary/channel: Chan.Unwrap",
  "@tributary/channel: Chan.ErrorOf",
  "@tributary/channel: Chan.ContextOf",
  "@tributary/channel: Xform.isXform",
  "@tributary/channel/async: CaseResult",
  "@tributary/channel/promise: CaseResult"
]

/** `name` and, for a namespace export, `name.member` for each of its members. */
const undocumented = (entry: Entry, program: ts.Program): Array<string> => {
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(entry.file)
  const module = source === undefined ? undefined : checker.getSymbolAtLocation(source)
  if (module === undefined) return [`${entry.spec}: not a module`]
  return checker.getExportsOfModule(module).flatMap((exported) => {
    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
    const own = documented(exported, checker) || documented(target, checker) ? [] : [`${entry.spec}: ${exported.name}`]
    if (!(target.flags & ts.SymbolFlags.ValueModule)) return own
    const members = checker
      .getExportsOfModule(target)
      .filter((m) => !documented(m, checker))
      .filter((m) => !(m.flags & ts.SymbolFlags.Alias) || !documented(checker.getAliasedSymbol(m), checker))
      .map((m) => `${entry.spec}: ${exported.name}.${m.name}`)
    return [...own, ...members]
  })
}

describe("API documentation", () => {
  it("reads every entry point", () => {
    expect(entries.map((e) => e.spec)).toEqual(
      expect.arrayContaining(["@tributary/channel", "@tributary/channel/async", "@tributary/jobs/promise"])
    )
  })

  it("every export of every entry point, and every member of a namespace export, has its JSDoc", () => {
    const program = ts.createProgram(
      entries.map((e) => e.file),
      {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        customConditions: ["tributary:source"],
        strict: true,
        skipLibCheck: true,
        noEmit: true,
        types: ["node"]
      }
    )
    const found = entries.flatMap((entry) => undocumented(entry, program))
    expect(found.filter((e) => !knownUndocumented.includes(e))).toEqual([])
    expect(knownUndocumented.filter((e) => !found.includes(e))).toEqual([])
  })
})
