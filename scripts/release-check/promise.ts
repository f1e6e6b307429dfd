// TypeScript consumer of the Promise API, under every moduleResolution, node10 included (its
// types come from `types` and `typesVersions`; effect itself has no node10 types, so this one
// imports no effect module).
import { type AsyncChan, chan, put, type Result, take } from "@tributary/channel/async"
import { type PromiseSupervisor, supervisor } from "@tributary/jobs/promise"

export const moveOne = async (): Promise<number> => {
  const sup: PromiseSupervisor = supervisor()
  const ch: AsyncChan<number> = chan<number>(1)
  sup.fire(() => put(ch, 43), { name: "put" })
  const result: Result<number> = await take(ch)
  await sup.shutdown()
  return result.done ? 0 : result.value
}
