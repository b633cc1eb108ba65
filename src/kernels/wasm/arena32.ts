/**
 * The memory the float32 optimizer steps (./step32.ts: SGD, Adam, RMSprop and their kin) and the
 * float32 tensor products (./gemm32.ts, `gemm32Resident`) share: one instance of the module, whose memory no other kernel writes, cut
 * into blocks. Arrays copied in, and results left there, stay in their blocks, and a
 * table weakly keyed by the arrays says which block holds which; a later kernel that reads one of
 * those arrays reads its block in place instead of copying it in. This is valid only for arrays no
 * one writes again, as tensors are: these kernels are reached from tensor operations only.
 *
 * Who gives a block back: an optimizer step, its inputs' blocks once read (params and its state
 * are read once); the products, the oldest of the last few blocks they kept (`keepRecent`). Past a budget
 * every block is given up (nothing is lost but the copies saved).
 *
 * Two threads: while the worker of ./threads.ts is up, the arena is its second shared memory
 * (`sharedArena`), on which both threads have an instance, so a product or an optimizer step split
 * between them reads the resident operands in place. The arena moves there (empty) when the worker
 * comes up, and stays there when it stops (this thread's instance still runs every job alone).
 * Blocks are whole 64-byte cache lines, so two threads writing neighbouring blocks never share one.
 */
import { reserve, wasmModule, type PartExport } from './gemm.ts'
import { sharedArena } from './threads.ts'

/** Bytes at address 0 for a job block (the product's 20 i32 fields, the SGD step's 12). */
export const ARENA_JOB_BYTES = 128
/** The largest memory the arena may grow to (bytes); past `BUDGET` in use, every kept block is given up. */
export const ARENA_MAX_BYTES = 2 ** 31
const BUDGET = 2 ** 28
/** Blocks the products keep at most (their inputs and kept results), the oldest given back first. */
const RECENT = 12

/** Where an array's values are: the block's address and size in bytes, and whether the products' list owns it. */
export interface Held {
  readonly at: number
  readonly bytes: number
  readonly recent: boolean
}

/** The arena: its memory (and its cap in bytes), blocks by size that are free, the bump pointer, which block holds which array. */
export interface Arena {
  readonly memory: WebAssembly.Memory
  readonly part: PartExport
  readonly maxBytes: number
  free: Map<number, number[]>
  top: number
  kept: WeakMap<Float32Array, Held>
  /** The products' kept arrays, oldest first. */
  recent: { readonly array: Float32Array; readonly at: number; readonly bytes: number }[]
}

let arena: Arena | null | undefined

const empty = (memory: WebAssembly.Memory, part: PartExport, maxBytes: number): Arena => ({
  memory,
  part,
  maxBytes,
  free: new Map(),
  top: ARENA_JOB_BYTES,
  kept: new WeakMap(),
  recent: [],
})

/**
 * The arena (created at first use; null where WebAssembly SIMD is missing; moved, empty, to the
 * worker's shared memory once the worker is up), emptied first when it has grown past the budget.
 */
export function arenaFor(maxBytes: number): Arena | null {
  const shared = arena === null ? null : sharedArena()
  if (shared !== null && arena?.memory !== shared.memory) arena = empty(shared.memory, shared.part, shared.maxBytes)
  if (arena === undefined) {
    const module = wasmModule()
    if (module === null) return (arena = null)
    const memory = new WebAssembly.Memory({ initial: 1 })
    const part = new WebAssembly.Instance(module, { env: { memory } }).exports['part'] as PartExport
    arena = empty(memory, part, ARENA_MAX_BYTES)
  }
  if (arena !== null && arena.top > Math.min(BUDGET, maxBytes)) {
    arena.free = new Map()
    arena.top = ARENA_JOB_BYTES
    arena.kept = new WeakMap()
    arena.recent = []
  }
  return arena
}

/** The address of the block of `bytes` holding `array`'s values, or undefined. */
export function held(arena: Arena, array: Float32Array, bytes: number): Held | undefined {
  const k = arena.kept.get(array)
  return k !== undefined && k.bytes === bytes ? k : undefined
}

/** A free block of `bytes`, or a new one past the top (growing the memory); -1 when the memory cannot grow. */
export function take(arena: Arena, bytes: number, maxBytes: number): number {
  const reuse = arena.free.get(bytes)?.pop()
  if (reuse !== undefined) return reuse
  if (!reserve(arena.memory, arena.top + bytes, Math.min(maxBytes, arena.maxBytes))) return -1
  const at = arena.top
  arena.top += bytes
  return at
}

/** Gives a block back. */
export function give(arena: Arena, at: number, bytes: number): void {
  const list = arena.free.get(bytes)
  if (list === undefined) arena.free.set(bytes, [at])
  else list.push(at)
}

/** Records that the block at `at` holds `array` (owned by the products' list), giving back the oldest beyond the list's length. */
export function keepRecent(arena: Arena, array: Float32Array, at: number, bytes: number): void {
  arena.kept.set(array, { at, bytes, recent: true })
  arena.recent.push({ array, at, bytes })
  while (arena.recent.length > RECENT) {
    const old = arena.recent.shift()!
    if (arena.kept.get(old.array)?.at === old.at) arena.kept.delete(old.array)
    give(arena, old.at, old.bytes)
  }
}

/** Bytes of a block for n float32s: n rounded up to 16 (a 64-byte cache line), so every block starts on a cache line. */
export const blockBytes = (n: number): number => Math.ceil(n / 16) * 64
