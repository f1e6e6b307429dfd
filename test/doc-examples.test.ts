/**
 * Every ```ts example in the JSDoc of every package, in each package's README (its npm page), in
 * the guides (the Markdown files under docs/) and each block of the README that starts with an
 * import (a whole module; its other blocks are fragments) compiles: each block is written to its own module
 * under `test/build/` (so `@tributary/*`
 * resolves to the workspace packages' sources through the `tributary:source` condition) and
 * type-checked with the project's compiler options. A failure names the file and line of the block.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import ts from "typescript"
import { describe, expect, it } from "vitest"
import { root } from "./child.js"

interface Example {
  /** where the block starts: `packages/x/src/File.ts:12` */
  readonly origin: string
  readonly code: string
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
    found.push({ origin: `${relative(root, file)}:${start}`, code: body.join("\n") })
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
    // a module of its own; names it declares but does not use are fine in an example
    writeFileSync(file, `${example.code}\nexport {}\n`)
    return file
  })
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2022.d.ts"],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    customConditions: ["tributary:source"],
    strict: true,
    exactOptionalPropertyTypes: true,
    noImplicitOverride: true,
    skipLibCheck: true,
    noEmit: true,
    types: ["node"]
  })
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && files.includes(d.file.fileName))
    .map((d) => {
      const index = files.indexOf(d.file!.fileName)
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0)
      const [path, first] = examples[index].origin.split(":")
      return `${path}:${Number(first) + line}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`
    })
}

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

  it("every ```ts block of the README that starts with an import compiles (the rest are fragments)", () => {
    const examples = guideExamplesOf(join(root, "README.md")).filter((e) => e.code.trimStart().startsWith("import "))
    expect(examples.length).toBeGreaterThan(5)
    expect(compile("readme-programs", examples)).toEqual([])
  })

  it("every ```ts block in the guides (docs/) compiles", () => {
    const examples = filesOf(join(root, "docs"), ".md").flatMap(guideExamplesOf)
    expect(examples.length).toBeGreaterThan(10)
    expect(compile("guide-examples", examples)).toEqual([])
  })
})
