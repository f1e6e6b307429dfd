import { defineConfig } from "vitest/config"

/** On CI (CI=true) a JSON report is written too, so `.ci/run` can print one "N passed, N failed" line. */
export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts", "examples/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: process.env.CI ? ["default", ["json", { outputFile: "test-results.json" }]] : ["default"]
  }
})
