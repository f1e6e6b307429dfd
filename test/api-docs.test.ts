/**
 * Every public export has its documentation, and every export the documentation names exists: the API reference (`pnpm run docs`, typedoc over the
 * packages' entry points) shows each export with the JSDoc written on it, so an export without
 * one is a blank entry there.
 *
 * Invariants:
 * - the exports read are those of every entry point in each published package's `exports` map
 *   (its `tributary:source` file), and one level into each namespace export (`Chan.make`,
 *   `Job.fire`): what a user reaches by name;
 * - a deprecated alias counts as documented when it says so (`@deprecated`);
 * - so does every member the reference shows of an exported interface, class or type alias: its
 *   properties and methods (each overload, inherited ones included), and the members of a type
 *   literal a property's type holds (`PoolSnapshot.rate.limit`), declared in the packages' sources;
 *   a member tagged `@internal` (a type brand) is not shown, so it needs none;
 * - every function and class (and const holding a function) among those exports and namespace
 *   members has a ```ts example in its JSDoc — on the export, a re-export on the way or the
 *   declaration; in the description or an `@example` tag — unless it is `@internal` (not in the
 *   reference); doc-examples.test.ts compiles every such block;
 * - every `Namespace.member` the READMEs, the guides and CONTRIBUTING name (`Chan.make`,
 *   `Supervisor.runMain`) is an export of that namespace, value or type;
 * - a failure names the entry point and the export, or the member's path under it (the file and
 *   line of a name the docs use).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
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

let cached: ts.Program | undefined
/** One program over every entry point's source, shared by the checks. */
const entryProgram = (): ts.Program => {
  cached ??= ts.createProgram(
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
  return cached
}

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

/** A declaration in the packages' own sources (not effect's, pino's or the standard library's). */
const ours = (node: ts.Node): boolean => {
  const file = node.getSourceFile().fileName
  return file.startsWith(join(root, "packages")) && file.includes("/src/") && !file.includes("/node_modules/")
}

/** The JSDoc blocks written on a declaration (a property's, a method's, an overload's). */
const jsDocs = (node: ts.Node): Array<ts.JSDoc> => ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc)

const internal = (node: ts.Node): boolean =>
  jsDocs(node).some((d) => d.tags?.some((t) => t.tagName.text === "internal"))

/** A declaration with a comment of its own, or one that says it is deprecated. */
const commented = (node: ts.Node): boolean =>
  jsDocs(node).some(
    (d) => ts.getTextOfJSDocComment(d.comment)?.trim() || d.tags?.some((t) => t.tagName.text === "deprecated")
  )

/** The type literals (`{ readonly limit: number }`) a property's type is made of, unions opened. */
const literalsOf = (type: ts.Type): Array<ts.Type> =>
  (type.isUnion() || type.isIntersection() ? type.types : [type]).filter((t) =>
    (t.symbol?.declarations ?? []).some((d) => ts.isTypeLiteralNode(d) && ours(d))
  )

/**
 * The members of `type` the reference shows blank, each as `path.member`: one declared in the
 * sources without a comment (every overload counts), then, depth first, those of the type literals
 * its properties hold. `seen` keeps a recursive type from being walked twice.
 */
const blankMembers = (type: ts.Type, path: string, checker: ts.TypeChecker, seen: Set<ts.Type>): Array<string> => {
  if (seen.has(type)) return []
  seen.add(type)
  return (type.isUnion() ? type.types : [type]).flatMap((t) =>
    t.getProperties().flatMap((member) => {
      const declarations = (member.declarations ?? []).filter(ours)
      if (declarations.length === 0 || declarations.some(internal)) return []
      const name = `${path}.${member.name}`
      const own = declarations.some((d) => !commented(d)) ? [name] : []
      const nested = literalsOf(checker.getTypeOfSymbol(member)).flatMap((l) => blankMembers(l, name, checker, seen))
      return [...own, ...nested]
    })
  )
}

/** For each export (and each member of a namespace export) that is an interface, a class or a type alias: its blank members. */
const undocumentedMembers = (entry: Entry, program: ts.Program): Array<string> => {
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(entry.file)
  const module = source === undefined ? undefined : checker.getSymbolAtLocation(source)
  if (module === undefined) return [`${entry.spec}: not a module`]
  const resolve = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s)
  const ofSymbol = (symbol: ts.Symbol, path: string): Array<string> => {
    const seen = new Set<ts.Type>()
    const found: Array<string> = []
    if (symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class | ts.SymbolFlags.TypeAlias))
      found.push(...blankMembers(checker.getDeclaredTypeOfSymbol(symbol), path, checker, seen))
    if (symbol.flags & ts.SymbolFlags.Class) {
      // the static side: `MonitorArgumentError.hidden`
      found.push(
        ...blankMembers(checker.getTypeOfSymbol(symbol), path, checker, seen).filter((m) => !m.endsWith(".prototype"))
      )
    }
    return found
  }
  return checker.getExportsOfModule(module).flatMap((exported) => {
    const target = resolve(exported)
    const own = ofSymbol(target, exported.name)
    if (!(target.flags & ts.SymbolFlags.ValueModule)) return own.map((m) => `${entry.spec}: ${m}`)
    const members = checker
      .getExportsOfModule(target)
      .flatMap((m) => ofSymbol(resolve(m), `${exported.name}.${m.name}`))
    return [...own, ...members].map((m) => `${entry.spec}: ${m}`)
  })
}

/** The symbols an export goes through, from the export itself to the declaration it names (`export { X } from`, `export * as`, …). */
const aliasChain = (symbol: ts.Symbol, checker: ts.TypeChecker): Array<ts.Symbol> => {
  const chain = [symbol]
  for (let s = symbol; s.flags & ts.SymbolFlags.Alias; ) {
    const next = checker.getImmediateAliasedSymbol(s)
    if (next === undefined || chain.includes(next)) break
    chain.push(next)
    s = next
  }
  return chain
}

/** What a user calls or constructs: a function, a class, or a const holding a function. */
const callable = (symbol: ts.Symbol, checker: ts.TypeChecker): boolean => {
  if (symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class)) return true
  if (!(symbol.flags & ts.SymbolFlags.Variable)) return false
  const type = checker.getTypeOfSymbol(symbol)
  return type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0
}

/**
 * Whether a JSDoc block on one of `symbol`'s declarations holds a ```ts block (in its text or a
 * tag's, as pino's `@example`); a re-export's block may sit on its `export { … }` statement.
 */
const hasExample = (symbol: ts.Symbol): boolean =>
  (symbol.declarations ?? [])
    .flatMap((d) => (ts.isExportSpecifier(d) ? [d, d.parent.parent] : [d]))
    .some((d) => jsDocs(d).some((doc) => /^\s*\*?\s*```ts\s*$/m.test(doc.getText())))

/** `file:line` of a symbol's first declaration, relative to the repository. */
const whereDeclared = (symbol: ts.Symbol): string => {
  const declaration = symbol.declarations?.[0]
  if (declaration === undefined) return "?"
  const file = declaration.getSourceFile()
  return `${relative(root, file.fileName)}:${file.getLineAndCharacterOfPosition(declaration.getStart()).line + 1}`
}

/**
 * The functions and classes (and consts holding a function) of an entry point, one level into its
 * namespaces, whose JSDoc — on the export, a re-export on the way, or the declaration — has no
 * ```ts example; an `@internal` one (not in the reference) is left out. Each as
 * `spec: Namespace.name (file:line)`.
 */
const withoutExample = (entry: Entry, program: ts.Program): Array<string> => {
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(entry.file)
  const module = source === undefined ? undefined : checker.getSymbolAtLocation(source)
  if (module === undefined) return [`${entry.spec}: not a module`]
  const check = (exported: ts.Symbol, path: string): Array<string> => {
    const chain = aliasChain(exported, checker)
    const target = chain[chain.length - 1]
    if (!callable(target, checker) || chain.some((s) => (s.declarations ?? []).some(internal))) return []
    return chain.some(hasExample) ? [] : [`${entry.spec}: ${path} (${whereDeclared(target)})`]
  }
  return checker.getExportsOfModule(module).flatMap((exported) => {
    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
    if (!(target.flags & ts.SymbolFlags.ValueModule)) return check(exported, exported.name)
    return checker.getExportsOfModule(target).flatMap((m) => check(m, `${exported.name}.${m.name}`))
  })
}

/** The namespace exports of the entry points (`Chan`, `Job`, …) and the names each one exports. */
const namespaces = (program: ts.Program): Map<string, Set<string>> => {
  const checker = program.getTypeChecker()
  const found = new Map<string, Set<string>>()
  for (const entry of entries) {
    const source = program.getSourceFile(entry.file)
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source)
    for (const exported of module === undefined ? [] : checker.getExportsOfModule(module)) {
      const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
      if (!(target.flags & ts.SymbolFlags.ValueModule)) continue
      const names = found.get(exported.name) ?? new Set<string>()
      for (const member of checker.getExportsOfModule(target)) names.add(member.name)
      found.set(exported.name, names)
    }
  }
  return found
}

/** The Markdown a user reads: the READMEs, the guides and CONTRIBUTING. */
const userDocs = (): Array<string> => [
  join(root, "README.md"),
  join(root, "CONTRIBUTING.md"),
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => join(root, "docs", f)),
  ...readdirSync(join(root, "packages"))
    .map((d) => join(root, "packages", d, "README.md"))
    .filter((f) => existsSync(f))
]

describe("API documentation", () => {
  it("reads every entry point", () => {
    expect(entries.map((e) => e.spec)).toEqual(
      expect.arrayContaining(["@tributary/channel", "@tributary/channel/async", "@tributary/jobs/promise"])
    )
  })

  it("every export of every entry point, and every member of a namespace export, has its JSDoc", () => {
    const program = entryProgram()
    const found = entries.flatMap((entry) => undocumented(entry, program))
    expect(found).toEqual([])
  })

  it("every member of an exported interface, class or type literal has its JSDoc (PoolSnapshot.rate.limit, …)", () => {
    const program = entryProgram()
    const found = [...new Set(entries.flatMap((entry) => undocumentedMembers(entry, program)))]
    expect(found).toEqual([])
  })

  it("every exported function and class (and const holding a function) has a ```ts example in its JSDoc", () => {
    const found = [...new Set(entries.flatMap((entry) => withoutExample(entry, entryProgram())))]
    expect(
      found,
      `${found.length} exports have no \`\`\`ts example in their JSDoc (on the export or its declaration):\n${found.join("\n")}`
    ).toEqual([])
  })

  it("every Namespace.member the READMEs and guides name exists (Chan.make, Job.fire, …)", () => {
    const known = namespaces(entryProgram())
    expect([...known.keys()]).toEqual(expect.arrayContaining(["Chan", "Job", "Supervisor", "PinoLogger"]))
    const pattern = new RegExp(`\\b(${[...known.keys()].join("|")})\\.([A-Za-z_$][\\w$]*)`, "g")
    const missing = userDocs().flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .flatMap((line, i) =>
          [...line.matchAll(pattern)]
            // a file name (Chan.ts, Job.js) is not a member
            .filter((m) => !["ts", "js", "md", "json"].includes(m[2]) && !known.get(m[1])?.has(m[2]))
            .map((m) => `${relative(root, file)}:${i + 1}: ${m[0]}`)
        )
    )
    expect(missing).toEqual([])
  })
})
