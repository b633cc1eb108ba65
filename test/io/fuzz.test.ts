import { describe, test } from 'vitest'
import { defaultSeed } from '../../laws/index.ts'
import { properties } from '../../bench/fuzz-decoders.ts'

// The decoders never throw and never return a model from invalid input. A few hundred cases per
// property here; `npx tsx bench/fuzz-decoders.ts --runs=20000` runs thousands.
const runs: Record<string, number> = {
  'a mutated valid checkpoint → a Left, or a Right that is itself valid; breaking mutations → a Left': 1000,
  'a mutated valid checkpoint (float32) → a Left, or a Right that is itself valid; breaking mutations → a Left': 1000,
  'a mutated valid spec (of a random network) → fromSpec: a Left, or a network whose spec is exactly the input': 600,
}

describe('fuzzing the checkpoint, spec and IDX decoders', () => {
  for (const p of properties) test(p.name, () => p.run(runs[p.name] ?? 400, defaultSeed()))
})
