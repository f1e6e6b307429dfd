/**
 * How a benchmark child (bench/child.ts, bench/jobs-child.ts) ends: it prints one JSON line to
 * stdout, its sample or `{ impl, workload, error }`, and exits (code 1 on failure). Kept apart
 * from report.ts so children load nothing of the drivers.
 */

/**
 * Runs `main` and reports its sample, or its error, as one JSON line led by `impl` and `workload`,
 * then exits; `cleanup` runs first either way. A run that never settles is reported as a failure.
 */
export const runChildMain = <S extends object>(
  impl: string,
  workload: string,
  main: () => Promise<S>,
  cleanup: () => void = () => {}
): void => {
  let reported = false
  const report = (code: number, body: object): void => {
    reported = true
    process.stdout.write(`${JSON.stringify({ impl, workload, ...body })}\n`)
    process.exitCode = code
  }

  // A workload whose fibers all wait forever leaves nothing on the event loop,
  // so Node would exit quietly with code 0: report that as a failure instead.
  process.on("exit", (code) => {
    if (code === 0 && !reported) report(1, { error: "event loop drained before the workload finished (deadlock?)" })
  })

  main().then(
    (sample) => {
      cleanup()
      report(0, sample)
      process.exit()
    },
    (error: unknown) => {
      cleanup()
      report(1, { error: error instanceof Error ? (error.stack ?? error.message) : String(error) })
      process.exit()
    }
  )
}
