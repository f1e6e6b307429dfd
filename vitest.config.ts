import { defineConfig } from "vitest/config"

/**
 * The workspace packages resolve to their sources (`src/*.ts`) through the `tributary:source`
 * export condition, so the tests need no build; published consumers, who do not set it, get
 * `dist/`. The remaining conditions are Vite's defaults for server code, which setting the list
 * replaces.
 *
 * On CI (CI=true) a JSON report is written too, so `.ci/run` can print one "N passed, N failed" line.
 */
const conditions = ["tributary:source", "module", "node", "development|production"]

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts", "examples/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: process.env.CI ? ["default", ["json", { outputFile: "test-results.json" }]] : ["default"]
  }
})
