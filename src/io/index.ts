/**
 * The io namespace: `import { IO } from 'chainrule'`. Networks as data (specs, a registry of
 * kinds, fromSpec), model summaries, and checkpoints that save and load exactly.
 *
 *   const text = IO.encodeCheckpoint(IO.modelCheckpoint(net, [1, 28, 28], params, state))
 *   const ck = IO.parseCheckpoint(text)          // Either<IoError, Checkpoint>
 *   console.log(IO.summary(net, [1, 28, 28]))
 */
export { IoError, type IoErrorKind } from './error.ts'
export { encodeBase64, decodeBase64 } from './base64.ts'
export {
  encodeTensor,
  encodeTree,
  decodeTensor,
  decodeTree,
  TensorCodec,
  TreeCodec,
  MAX_TREE_DEPTH,
  type EncodedTensor,
  type EncodedTree,
} from './tree.ts'
export {
  JsonCodec,
  JsonObjectCodec,
  FiniteNumber,
  PositiveInt,
  NonNegativeInt,
  Uint32,
  Bool,
  ShapeCodec,
  KeyCodec,
  SpecShape,
  Children,
  NonEmptyChildren,
  PositivePair,
  PaddingCodec,
  UnitInterval,
  PositiveNumber,
  oneOf,
  refine,
  closed,
  closedPartial,
  firstError,
  decodeWith,
  type JsonObject,
} from './codecs.ts'
export { specOf, checkSpec, layerKind, LayerKind, type SpecCodec, type SpecOf, type SpecOfOptions, type CheckSpecOptions } from './kind.ts'
export {
  builtins,
  builtinKinds,
  registryOf,
  extend,
  checkRegistry,
  entry,
  fromSpec,
  layerCodec,
  specCodec,
  toSpec,
  jsonDiff,
  MAX_SPEC_DEPTH,
  type Build,
  type Builder,
  type Registry,
} from './registry.ts'
export { summarize, summary, formatSummary, type Summary, type SummaryRow } from './summary.ts'
export {
  FORMAT,
  VERSION,
  MAX_UNCHECKED_INPUT,
  UNCHECKED_ALLOCATION_FACTOR,
  modelCheckpoint,
  trainingCheckpoint,
  toDocument,
  encodeCheckpoint,
  decodeCheckpoint,
  parseCheckpoint,
  trainState,
  type Checkpoint,
  type CheckpointInput,
  type TrainingCheckpointOptions,
  type CheckpointDocument,
  type DecodeOptions,
  type Training,
} from './checkpoint.ts'
