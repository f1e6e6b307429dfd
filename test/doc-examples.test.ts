/**
 * Every ```ts example in the JSDoc of every package, in each package's README (its npm page), in
 * the guides (the Markdown files under docs/) and in the README compiles: each block is written to
 * its own module under `test/build/` (so `@tributary/*` resolves to the workspace packages' sources
 * through the `tributary:source` condition) and type-checked with the compiler options of
 * `tsconfig.base.json` (`strict`, `exactOptionalPropertyTypes`, `verbatimModuleSyntax`,
 * `isolatedModules`, `noUnusedLocals`, … as a user's project may set them), emit options aside.
 *
 * Invariants:
 * - a failure names the file and the line of the offending code (the fence's next line for the
 *   first line of a block);
 * - an unused import, local or parameter is an error, as in the packages' own code; a name declared
 *   at the top of an example (`const program = …`) is what the example shows, so it may go unused;
 * - a README block that does not start with an import is a fragment of the program the text
 *   around it builds (`Supervisor.runMain(program, { … })`): it is compiled after a prelude that
 *   declares what it continues (`fragmentPrelude`).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import ts from "typescript"
import { describe, expect, it } from "vitest"
import { root } from "./child.js"

interface Example {
  /** the line of the block's first line of code: `packages/x/src/File.ts:12` */
  readonly origin: string
  readonly code: string
  /** lines put before `code` (not in the documentation): see `fragmentPrelude` */
  readonly prelude?: ReadonlyArray<string>
}

/** The ```ts blocks of a source file's doc comments, with their first line. */
const examplesOf = (file: string): Array<Example> => {
  const lines = readFileSync(file, "utf8").split("\n")
  const found: Array<Example> = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*```ts\s*$/.test(lines[i])) continue
    const start = i + 1
    const body: Array<string> = []
    for (i = start; i < lines.length && !/^\s*\*\s*```\s*$/.test(lines[i]); i++)
      body.push(lines[i].replace(/^\s*\*( |$)/, ""))
    // `start` is the 0-based index of the first line of code: its line number is one more
    found.push({ origin: `${relative(root, file)}:${start + 1}`, code: body.join("\n") })
  }
  return found
}

/** The ```ts blocks of a Markdown guide, with their first line. */
const guideExamplesOf = (file: string): Array<Example> => {
  const lines = readFileSync(file, "utf8").split("\n")
  const found: Array<Example> = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ts\s*$/.test(lines[i])) continue
    const start = i + 1
    const body: Array<string> = []
    for (i = start; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i])
    found.push({ origin: `${relative(root, file)}:${start + 1}`, code: body.join("\n") })
  }
  return found
}

const filesOf = (dir: string, extension: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesOf(join(dir, d.name), extension) : d.name.endsWith(extension) ? [join(dir, d.name)] : []
  )
const sourcesOf = (dir: string): Array<string> => filesOf(dir, ".ts")

/** Every package under packages/ (a new one is checked as it lands). */
const packageDirs = (): Array<string> =>
  readdirSync(join(root, "packages"), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(root, "packages", d.name))

/**
 * The compiler options of `tsconfig.base.json` (what the packages compile with), without its emit
 * options: the examples are only type-checked.
 */
const compilerOptions = (): ts.CompilerOptions => {
  const file = join(root, "tsconfig.base.json")
  const { config, error } = ts.readConfigFile(file, ts.sys.readFile)
  const parsed = ts.convertCompilerOptionsFromJson(config?.compilerOptions, root, file)
  const problem = error ?? parsed.errors[0]
  if (problem !== undefined) throw new Error(ts.flattenDiagnosticMessageText(problem.messageText, "\n"))
  return {
    ...parsed.options,
    noEmit: true,
    composite: false,
    declaration: false,
    declarationMap: false,
    sourceMap: false
  }
}

/** The innermost node of `file` at `position`. */
const nodeAt = (file: ts.SourceFile, position: number): ts.Node => {
  let node: ts.Node = file
  for (let next: ts.Node | undefined = file; next !== undefined; ) {
    node = next
    next = ts.forEachChild(node, (c) => (c.getStart(file) <= position && position < c.getEnd() ? c : undefined))
  }
  return node
}

/** The nodes between a name declared at the top of a module and the module: `const a = …`, `const { a } = …`, `function a`, `class A`, … */
const topLevelParts: ReadonlyArray<(node: ts.Node) => boolean> = [
  ts.isIdentifier,
  ts.isVariableDeclaration,
  ts.isVariableDeclarationList,
  ts.isVariableStatement,
  ts.isBindingElement,
  ts.isObjectBindingPattern,
  ts.isArrayBindingPattern,
  ts.isFunctionDeclaration,
  ts.isClassDeclaration,
  ts.isInterfaceDeclaration,
  ts.isTypeAliasDeclaration,
  ts.isEnumDeclaration
]

/**
 * Whether `d` says a name declared at the top of an example is unused: what the example shows
 * (`const program = …`, or the imports of an example that is only its import lines) needs no use.
 * An unused import of an example that uses others, a local or a parameter stays an error.
 */
const shownName = (d: ts.Diagnostic): boolean => {
  if (d.reportsUnnecessary === undefined || d.file === undefined || d.start === undefined) return false
  const onlyImports = d.file.statements.every((s) => ts.isImportDeclaration(s) || ts.isExportDeclaration(s))
  for (let node = nodeAt(d.file, d.start); node.parent !== undefined; node = node.parent) {
    if (ts.isSourceFile(node.parent)) return onlyImports || !ts.isImportDeclaration(node)
    if (!topLevelParts.some((is) => is(node))) return false
  }
  return false
}

/** Type-checks each example as its own module under `test/build/<name>/`; the problems found. */
const compile = (name: string, examples: ReadonlyArray<Example>): Array<string> => {
  const dir = join(root, "test", "build", name)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const files = examples.map((example, i) => {
    // the blocks of one document share a folder, where a block that names its file on its first
    // line (`// jobs.ts — …`) is that file, so the document's other blocks can import it
    const folder = join(dir, example.origin.split(":")[0].replace(/[^\w.-]+/g, "_"))
    mkdirSync(folder, { recursive: true })
    const named = /^\/\/ ([\w-]+\.ts)\b/.exec(example.code)?.[1]
    const file =
      named !== undefined && !existsSync(join(folder, named)) ? join(folder, named) : join(folder, `example-${i}.ts`)
    // a module of its own (`export {}`), after the prelude of a fragment
    writeFileSync(file, `${[...(example.prelude ?? []), example.code].join("\n")}\nexport {}\n`)
    return file
  })
  const program = ts.createProgram(files, compilerOptions())
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && files.includes(d.file.fileName) && !shownName(d))
    .flatMap((d) => {
      const example = examples[files.indexOf(d.file!.fileName)]
      const skipped = example.prelude?.length ?? 0
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0)
      // a prelude's name the fragment does not use is no fault of the fragment
      if (line < skipped && d.reportsUnnecessary !== undefined) return []
      const [path, first] = example.origin.split(":")
      return [`${path}:${Number(first) + line - skipped}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`]
    })
}

/**
 * What a README fragment continues: the README's blocks build one program, and a block that does
 * not start with an import (`Supervisor.runMain(program, { … })`) uses the names the text gives it.
 */
const fragmentPrelude: ReadonlyArray<string> = [
  'import type { Effect } from "effect"',
  'import { Supervisor } from "@tributary/jobs"',
  "declare const program: Effect.Effect<void, never, Supervisor.Supervisor>"
]

// each case runs tsc over a few dozen files: ~20 s on an idle 2-core machine, 86 s seen under load
describe("JSDoc examples", { timeout: 240_000 }, () => {
  it("every ```ts block in packages/*/src compiles", () => {
    const examples = packageDirs().flatMap((dir) => sourcesOf(join(dir, "src")).flatMap(examplesOf))
    expect(examples.length).toBeGreaterThan(40)
    expect(compile("doc-examples", examples)).toEqual([])
  })

  it("every ```ts block of the package READMEs (their npm pages) compiles", () => {
    const readmes = packageDirs().map((dir) => join(dir, "README.md"))
    const examples = readmes.flatMap(guideExamplesOf)
    expect(examples.length).toBeGreaterThanOrEqual(readmes.length)
    expect(compile("readme-examples", examples)).toEqual([])
  })

  it("every ```ts block of the README compiles (a fragment after the prelude of what it continues)", () => {
    const blocks = guideExamplesOf(join(root, "README.md"))
    const examples = blocks.map((e) =>
      e.code.trimStart().startsWith("import ") ? e : { ...e, prelude: fragmentPrelude }
    )
    expect(examples.filter((e) => e.prelude === undefined).length).toBeGreaterThan(5)
    expect(compile("readme-programs", examples)).toEqual([])
  })

  it("every ```ts block in the guides (docs/) compiles", () => {
    const examples = filesOf(join(root, "docs"), ".md").flatMap(guideExamplesOf)
    expect(examples.length).toBeGreaterThan(10)
    expect(compile("guide-examples", examples)).toEqual([])
  })
})
