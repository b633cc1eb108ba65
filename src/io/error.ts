/**
 * The one error type of the io module, and the helpers its decoders share to report where and
 * what. Decoders never throw on bad input: they return `E.left(IoError)`, whose `kind` says what
 * class of problem it is and whose `path` says where (`params[2].W`, `spec.children[1].units`).
 * The message is `path: detail`.
 */
import { showKey } from '../options.ts'

/** What was wrong; each kind has its own remedy (see docs/checkpoints.md). */
export type IoErrorKind =
  | 'not-json' // the text (or bytes) is not JSON (or not UTF-8)
  | 'wrong-format' // not an object with format: 'chainrule-checkpoint'
  | 'unsupported-version' // a version this chainrule cannot read
  | 'invalid' // a field is missing or has the wrong type
  | 'unknown-kind' // a spec's kind is not in the registry
  | 'bad-spec' // a spec's hyper-parameters are rejected, or its entry built a different spec
  | 'bad-input-shape' // the network cannot take the stored input shape
  | 'bad-base64' // a tensor's data is not canonical base64
  | 'wrong-length' // a tensor's data holds a different number of values than its shape
  | 'non-finite' // NaN or ±Infinity in params, state or optimizer state
  | 'structure-mismatch' // a tree's structure differs from what the spec (or optimizer) makes
  | 'shape-mismatch' // a tensor's shape differs from what the spec (or optimizer) makes
  | 'dtype-mismatch' // tensors of two dtypes where one is needed (params and state; optimizer state vs params; the dtype asked)
  | 'too-large' // a size claimed is more than the data present bounds (see docs/checkpoints.md)
  | 'optimizer-mismatch' // the optimizer state does not fit the optimizer given for resuming
  | 'not-training' // a training state was asked of a model-only checkpoint
  | 'io' // (Node) the file cannot be read or written

/** A problem found while encoding or decoding a spec or checkpoint: its kind, where (a JSON path) and what. */
export class IoError extends Error {
  override readonly name = 'IoError'
  constructor(
    readonly kind: IoErrorKind,
    /** Where, as a path into the checkpoint or spec: `params[2].W`, `spec.children[0].units`, or '' for the whole. */
    readonly path: string,
    /** What was wrong, without the path. */
    readonly detail: string,
    options?: { readonly cause?: unknown },
  ) {
    super(path === '' ? detail : `${path}: ${detail}`, options)
  }
}

/** Joins a path and a key or index: `at('params', 2)` is `params[2]`, `at('params[2]', 'W')` is `params[2].W` (a long key shortened). */
export const at = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path === '' ? showKey(key) : `${path}.${showKey(key)}`

/** True for a JSON object: an object that is neither null nor an array. */
export const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u)

/** A short, safe description of any value for error messages (never throws). */
export const describe = (v: unknown): string => {
  if (v === undefined) return 'nothing'
  if (v === null) return 'null'
  if (typeof v === 'number') return String(v)
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v)
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  if (Array.isArray(v)) return `an array of ${v.length}`
  if (typeof v === 'object') {
    const keys = Object.keys(v)
    return keys.length === 0
      ? 'an empty object'
      : `an object {${keys.slice(0, 6).map(showKey).join(', ')}${keys.length > 6 ? ', ...' : ''}}`
  }
  return typeof v
}
