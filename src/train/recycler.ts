/**
 * The memory a reusing training step (`Train.trainStep(..., { reuseBuffers: true })`) recycles: big
 * buffers it allocated and has let go of, handed to `buffer` and `buffer32` again instead of fresh
 * zero-filled memory. Letting go of a buffer detaches it: its ArrayBuffer is transferred to a new
 * one over the same memory, so every old view of it (a tensor of a state the step let go of) has
 * length 0 from then on, and is caught (`staleLeaf`) instead of read.
 */
import { leaves, leavesWithPaths, type Tree } from '../tree.ts'
import { showShape, sizeOf, withAllocator, type Allocator } from '../tensor/tensor.ts'

/** Buffers of at least this many bytes are recycled; smaller ones are allocated fresh, as without reuse. */
export const MIN_RECYCLED_BYTES = 16384

/** A new ArrayBuffer over `buf`'s memory; `buf` and every view of it are detached (length 0). */
const detach = (buf: ArrayBuffer): ArrayBuffer => structuredClone(buf, { transfer: [buf] })

/** The ArrayBuffers of every typed array reachable from a value through arrays and plain objects. */
export const buffersOf = (value: unknown): Set<ArrayBufferLike> => {
  const found = new Set<ArrayBufferLike>()
  const seen = new Set<object>()
  const walk = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return
    seen.add(v)
    if (ArrayBuffer.isView(v)) found.add(v.buffer)
    else for (const w of Array.isArray(v) ? v : Object.values(v)) walk(w)
  }
  walk(value)
  return found
}

/**
 * The first leaf (its path under `root`) whose data does not hold its shape's values (a buffer a
 * reusing step took), with what to say of it, or undefined.
 */
export const staleLeaf = (tree: Tree, root: string): { readonly path: string; readonly detail: string } | undefined => {
  if (leaves(tree).every((leaf) => leaf.data.length === sizeOf(leaf.shape))) return undefined // the usual case, without paths
  for (const { path, leaf } of leavesWithPaths(tree, root))
    if (leaf.data.length !== sizeOf(leaf.shape))
      return {
        path,
        detail:
          `holds ${leaf.data.length} values where its shape ${showShape(leaf.shape)} needs ${sizeOf(leaf.shape)}: ` +
          (leaf.data.length === 0
            ? 'its buffer was reused by a later step of a reusing trainStep (reuseBuffers: true), which keeps a state intact only ' +
              'until two steps after it was returned; keep a state longer with Train.copyState(state)'
            : "a tensor's data holds exactly the values its shape does, in row-major order (a tensor built by hand with the wrong " +
              'data or shape?)'),
      }
  return undefined
}

/**
 * A pool of free buffers by byte length, and the buffers allocated since `run` began. Only what it
 * allocated itself is ever recycled: never memory someone else may hold (a loaded checkpoint's, a
 * view into a larger buffer of another's).
 */
export class Recycler implements Allocator {
  private readonly free = new Map<number, ArrayBuffer[]>()
  private readonly owned = new WeakSet<ArrayBufferLike>()
  private made_: ArrayBufferLike[] = []
  /** Buffers handed out again, and buffers let go of (detached and pooled), so far. */
  readonly counts = { reused: 0, released: 0 }

  readonly take = (byteLength: number): ArrayBuffer | undefined => {
    if (byteLength < MIN_RECYCLED_BYTES) return undefined
    const buf = this.free.get(byteLength)?.pop()
    if (buf !== undefined) this.counts.reused++
    return buf
  }

  readonly made = (data: Float64Array | Float32Array | Int32Array): void => {
    if (data.byteLength < MIN_RECYCLED_BYTES) return
    this.owned.add(data.buffer)
    this.made_.push(data.buffer)
  }

  /** Runs f drawing on the pool; after a throw, what f allocated is left to the garbage collector, never recycled. */
  run<A>(f: () => A): A {
    this.made_ = []
    try {
      return withAllocator(this, f)
    } catch (e) {
      this.made_ = []
      throw e
    }
  }

  /** Lets go of the buffers `run` allocated last that are not in `keep`. */
  releaseMade(keep: ReadonlySet<ArrayBufferLike>): void {
    const made = this.made_
    this.made_ = []
    this.release(made, keep)
  }

  /** Lets go of the buffers among `candidates` this pool allocated that are not in `keep`: detached, then pooled. */
  release(candidates: Iterable<ArrayBufferLike>, keep: ReadonlySet<ArrayBufferLike>): void {
    for (const buf of candidates) {
      if (keep.has(buf) || !this.owned.has(buf) || !(buf instanceof ArrayBuffer) || buf.byteLength === 0) continue
      this.owned.delete(buf)
      const fresh = detach(buf)
      this.owned.add(fresh)
      const list = this.free.get(fresh.byteLength)
      if (list === undefined) this.free.set(fresh.byteLength, [fresh])
      else list.push(fresh)
      this.counts.released++
    }
  }
}
