/**
 * Checkpoint files (Node only). Saving is atomic: the text is written to a temporary file in the
 * same directory, flushed to disk (fsync), and renamed over the target, and the directory is
 * flushed too. A rename within one file system replaces the name in one step, so a crash, a
 * kill or a full disk at any moment leaves either the old file, whole, or the new one, whole;
 * never a half-written or empty checkpoint. A failed save removes its temporary file, and only
 * that. The temp name, `.<name>.<pid>.<random>.tmp`, is opened exclusively and drawn again if it
 * exists, so no file left behind can make a save fail. A process killed mid-save (SIGKILL) cannot
 * clean up and leaves its temp file; the next successful save of the same target removes the temp
 * files of that name whose process is gone (a pid no longer running, or this process's own pid
 * with a name this process never made: a restarted container reuses pids).
 */
import { randomUUID } from 'node:crypto'
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs'
import { basename, dirname, isAbsolute, join, resolve } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import type { Layer } from '../layer.ts'
import type { DType, Shape } from '../tensor/tensor.ts'
import type { InDType, Tree } from '../tree.ts'
import type { JsonObject } from '../io/codecs.ts'
import {
  encodeCheckpoint,
  modelCheckpoint,
  parseFrom,
  type Checkpoint,
  type CheckpointInput,
  type DecodeOptions,
} from '../io/checkpoint.ts'
import { IoError } from '../io/error.ts'
import { checkOptions } from '../options.ts'

/** The temp files this process is writing now: with our pid, any other such name is a previous process's. */
const writing = new Set<string>()

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const CHUNK = 1 << 22

/** Writes a string in UTF-8 pieces (never splitting a surrogate pair), so a huge text is never copied whole. */
const writeText = (fd: number, text: string): void => {
  for (let start = 0; start < text.length;) {
    let end = Math.min(text.length, start + CHUNK)
    const last = text.charCodeAt(end - 1)
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end-- // keep a surrogate pair together
    const bytes = Buffer.from(text.slice(start, end), 'utf8')
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off)
    start = end
  }
}

const isCode = (e: unknown, code: string): boolean => e instanceof Error && 'code' in e && e.code === code

/** What is at a path: 'file', 'directory', another kind, or undefined when nothing is (or it cannot be seen). */
const kindAt = (path: string): 'file' | 'directory' | 'other' | undefined => {
  try {
    const s = statSync(path)
    return s.isDirectory() ? 'directory' : s.isFile() ? 'file' : 'other'
  } catch {
    return undefined
  }
}

/** What a file system entry that is neither a file nor a directory is, for messages: `a named pipe (FIFO)`. */
const special = (s: Stats): string | undefined =>
  s.isFIFO()
    ? 'a named pipe (FIFO)'
    : s.isCharacterDevice()
      ? 'a character device'
      : s.isBlockDevice()
        ? 'a block device'
        : s.isSocket()
          ? 'a socket'
          : undefined

/** Why `path` cannot name a file at all (not a string, empty, a NUL character, a trailing slash), or undefined when it can. */
const badPath = (path: unknown): string | undefined => {
  if (typeof path !== 'string')
    return `a path is a string, got ${path === null ? 'null' : typeof path === 'number' ? `the number ${path}` : typeof path}`
  if (path === '') return 'the path is empty: give the path of a file'
  if (path.includes('\0')) return 'the path holds a NUL character (\\0), which no file name can'
  if (path.endsWith('/')) return "the path ends in '/', so it names a directory: give the path of a file"
  return undefined
}

/** How `path` is shown in an IoError: as given when it is a string, else described. */
const shown = (path: unknown): string => (typeof path === 'string' ? path : String(path))

/**
 * The file a save of `path` replaces: `path` itself, or what a symbolic link there points to (a save writes through a
 * link, as editors do, rather than replacing the link with a file). Throws an IoError when that is not a file to
 * replace (a device, a pipe, a socket): renaming over it would remove it.
 */
const saveTarget = (path: string): string => {
  let target = path
  for (let hops = 0; hops < 40; hops++) {
    let s: Stats
    try {
      s = lstatSync(target)
    } catch {
      return target // nothing there yet: a new file
    }
    if (!s.isSymbolicLink()) {
      const what = special(s)
      if (what !== undefined)
        throw new IoError('io', path, `cannot save: ${target} is ${what}, not a file: give the path of a file; nothing was written`)
      return target
    }
    target = resolve(dirname(target), readlinkSync(target))
  }
  throw new IoError('io', path, 'cannot save: too many symbolic links (a loop?); nothing was written')
}

/** Where a relative path starts from, for messages about missing files. */
const fromCwd = (path: string): string => (isAbsolute(path) ? '' : `; a relative path starts at ${process.cwd()}`)

/** Why a path cannot be read or written, said about the path: a directory given for a file, a missing directory, a file in the way. */
const pathProblem = (path: string, e: unknown): string => {
  if (isCode(e, 'EISDIR') || kindAt(path) === 'directory') {
    let json: string[] = []
    try {
      json = readdirSync(path).filter((n) => n.endsWith('.json'))
    } catch {
      // not listable: say no more
    }
    const inside = json.length === 0 ? '' : ` (it holds ${json.slice(0, 5).join(', ')}${json.length > 5 ? ', ...' : ''})`
    return `it is a directory, not a file: give the path of a file${inside}`
  }
  let dir = dirname(path)
  if (isCode(e, 'ENOENT') && kindAt(dir) === undefined) {
    while (kindAt(dirname(dir)) === undefined && dirname(dir) !== dir) dir = dirname(dir)
    return `no such file: the directory ${dir} does not exist${fromCwd(path)}`
  }
  if (isCode(e, 'ENOENT')) return `no such file in ${dir}${fromCwd(path)}`
  for (dir = dirname(path); dirname(dir) !== dir; dir = dirname(dir))
    if (kindAt(dir) === 'file') return `${dir} is a file, not a directory: nothing can be inside it`
  return message(e)
}

/** Opens a fresh temp file beside `path` exclusively, drawing another random name if one exists. */
const openTemp = (path: string): { readonly tmp: string; readonly fd: number } => {
  for (let attempt = 0; ; attempt++) {
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomUUID()}.tmp`)
    try {
      return { tmp, fd: openSync(tmp, 'wx', 0o644) }
    } catch (e) {
      if (!isCode(e, 'EEXIST') || attempt >= 8) throw e
    }
  }
}

/** True while a process with this pid runs (EPERM: it runs under another user). */
const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return isCode(e, 'EPERM')
  }
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * The temp files of `path` left by a process that is gone: named `.<name>.<pid>.<anything>.tmp`
 * with a pid that no longer runs, or with this process's pid but not being written by it.
 */
export const staleTempFiles = (path: string): readonly string[] => {
  const pattern = new RegExp(`^\\.${escapeRegExp(basename(path))}\\.(\\d+)\\.[^.]+\\.tmp$`)
  let names: string[]
  try {
    names = readdirSync(dirname(path))
  } catch {
    return []
  }
  return names.flatMap((name) => {
    const m = pattern.exec(name)
    if (m === null) return []
    const pid = Number(m[1])
    const file = join(dirname(path), name)
    const gone = pid === process.pid ? !writing.has(file) : !running(pid)
    return gone ? [file] : []
  })
}

/**
 * Writes `data` to `path` atomically: temp file in the same directory, fsync, rename, fsync of the
 * directory. Creates the directory if needed. Throws an IoError (kind 'io') if any step fails,
 * after removing its own temp file; the old file at `path`, if any, is untouched. After a
 * successful save, the stale temp files of `path` (see staleTempFiles) are removed. A symbolic link is written through
 * (the file it points to is replaced, the link kept); a pipe, a device or a socket at `path` is refused.
 */
export const writeFileAtomic = (given: string, data: string | Uint8Array): void => {
  const bad = badPath(given)
  if (bad !== undefined) throw new IoError('io', shown(given), `cannot save: ${bad}; nothing was written`)
  if (kindAt(given) === 'directory') throw new IoError('io', given, `cannot save: ${pathProblem(given, undefined)}; nothing was written`)
  const path = saveTarget(given)
  const dir = dirname(path)
  let tmp: string | undefined
  let fd: number | undefined
  try {
    mkdirSync(dir, { recursive: true })
    ;({ tmp, fd } = openTemp(path))
    writing.add(tmp)
    if (typeof data === 'string') writeText(fd, data)
    else for (let off = 0; off < data.length;) off += writeSync(fd, data, off, Math.min(data.length - off, CHUNK))
    fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    renameSync(tmp, path)
    writing.delete(tmp)
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd)
      } catch {
        // already failing; the write error is the one to report
      }
    }
    if (tmp !== undefined) {
      writing.delete(tmp)
      try {
        unlinkSync(tmp)
      } catch {
        // already failing; the write error is the one to report
      }
    }
    throw new IoError('io', given, `cannot save: ${pathProblem(path, e)}; any previous file there is unchanged`, { cause: e })
  }
  // Make the rename itself durable. Some platforms cannot fsync a directory; the file is saved either way.
  try {
    const dfd = openSync(dir, 'r')
    try {
      fsyncSync(dfd)
    } finally {
      closeSync(dfd)
    }
  } catch {
    // best effort
  }
  for (const stale of staleTempFiles(path)) {
    try {
      unlinkSync(stale)
    } catch {
      // another save may have removed it first
    }
  }
}

/**
 * Encodes and saves a checkpoint atomically. The encoding (and its validation) happens before the
 * file is touched, so an invalid checkpoint throws an IoError and leaves any old file as it was.
 * @example saveCheckpoint('out/run.json', IO.trainingCheckpoint({ model, inShape: [2], state, runKey: key }))
 */
export const saveCheckpoint = (path: string, input: CheckpointInput): void => writeFileAtomic(path, encodeCheckpoint(input))

/** What saveModel needs: the network, its per-example input shape, params and state (PD and SD: the model's own, or in float32), and optional metadata. */
export interface SaveModelOptions<P extends Tree, S extends Tree, Tape, PD extends Tree = P, SD extends Tree = S> {
  readonly model: Layer<P, S, Tape>
  readonly inShape: Shape
  readonly params: PD
  readonly state: SD
  readonly metadata?: JsonObject
}

/**
 * Saves a trained model (spec, params, state, metadata) to a JSON checkpoint file, atomically, each tensor in its dtype.
 * @example saveModel('out/mnist-mlp.json', { model, inShape: [1, 28, 28], params: state.params, state: state.state, metadata: { testAccuracy: 0.981 } })
 */
export function saveModel<P extends Tree, S extends Tree, Tape>(path: string, options: SaveModelOptions<P, S, Tape>): void
/** The same for params and state in float32 (`Tree.Float32<P>`) or either dtype. */
export function saveModel<P extends Tree, S extends Tree, Tape>(
  path: string,
  options: SaveModelOptions<P, S, Tape, InDType<P, DType>, InDType<S, DType>>,
): void
export function saveModel<P extends Tree, S extends Tree, Tape>(path: string, options: SaveModelOptions<P, S, Tape>): void {
  checkOptions('saveModel', options, ['model', 'inShape', 'params', 'state', 'metadata'])
  saveCheckpoint(path, modelCheckpoint(options.model, options.inShape, options.params, options.state, options.metadata ?? {}))
}

/**
 * Reads and fully validates a checkpoint file. Never throws: Left(IoError) with kind 'io' when the
 * file cannot be read (or is not a regular file: a pipe or a device is never read), or any decoding kind (see IO.parseCheckpoint).
 * @example
 * const ck = loadCheckpoint('out/mnist-mlp.json')
 * if (E.isLeft(ck)) throw ck.left
 */
export const loadCheckpoint = (path: string, options: DecodeOptions = {}): E.Either<IoError, Checkpoint> => {
  checkOptions('loadCheckpoint', options, ['registry', 'dtype'])
  const bad = badPath(path)
  if (bad !== undefined) return E.left(new IoError('io', shown(path), `cannot read the checkpoint file: ${bad}`))
  let bytes: Uint8Array
  try {
    // A pipe or a device (/dev/zero, /dev/stdin) could be read forever: only a regular file is read.
    const what = special(statSync(path))
    if (what !== undefined) return E.left(new IoError('io', path, `cannot read the checkpoint file: it is ${what}, not a file`))
    bytes = readFileSync(path)
  } catch (e) {
    return E.left(new IoError('io', path, `cannot read the checkpoint file: ${pathProblem(path, e)}`, { cause: e }))
  }
  const r = parseFrom(bytes, options, path)
  if (E.isRight(r) || r.left.kind === 'not-json') return r // a not-json error names the file itself
  return E.left(new IoError(r.left.kind, r.left.path, `${r.left.detail} (in ${path})`, { cause: r.left }))
}
