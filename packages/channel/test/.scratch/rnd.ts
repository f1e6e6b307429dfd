import { Effect } from "effect"
import { run } from "../harness.js"
const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const orig = Math.random
for (const seed of [0, 1, 2, 3, 4, -5]) {
  let calls = 0
  const r = seededRandom(seed)
  Math.random = () => { calls++; const x = r(); if (calls < 5) console.log(seed, x); return x }
  const t = setTimeout(() => { console.log("hang", seed, calls); process.exit(1) }, 2000)
  console.log(seed, await run(Effect.succeed(1)), calls)
  clearTimeout(t)
  Math.random = orig
}
