/**
 * The entry of chainrule's WebAssembly module (compiled by scripts/build-wasm.ts): the GEMM of
 * ./gemm.ts, and one dispatcher, `part`, for the jobs that are cut into parts (the
 * convolutions of ./conv.ts, built on the GEMM, the element-wise passes of ./elementwise.ts, the
 * optimizer steps of ./optim.ts, and the float32 kernels: the chunks of a product of ./gemm32.ts
 * the SGD, Adam and RMSprop steps of ./sgd32.ts, ./adam32.ts and ./rms32.ts, the convolutions of
 * ./conv32.ts and the max-pooling of ./pool32.ts).
 */
import { adam32Part } from './adam32'
import { convPart } from './conv'
import { convPart32 } from './conv32'
import { maxPool2x2Part, maxPoolBackwardPart, reluPart } from './elementwise'
import { gemm32Part } from './gemm32'
import { optimPart } from './optim'
import { maxPool2x2Part32, maxPoolBackwardPart32 } from './pool32'
import { rms32Part } from './rms32'
import { sgd32Part } from './sgd32'

export { gemm } from './gemm'

// The ops of `part` (src/kernels/wasm/parts.ts names the same numbers).
const CONV_FORWARD = 0
const CONV_BACKWARD = 1
const RELU_FORWARD = 2
const RELU_BACKWARD = 3
const MAXPOOL_2X2_FORWARD = 4
const MAXPOOL_BACKWARD = 5
const SGD_STEP = 6
const ADAM_STEP = 7
const RMSPROP_STEP = 8
const ADAGRAD_STEP = 9
const GEMM32_CHUNK = 10
const SGD32_STEP = 11
const CONV32_FORWARD = 12
const CONV32_BACKWARD = 13
const MAXPOOL_2X2_FORWARD32 = 14
const MAXPOOL_BACKWARD32 = 15
const ADAM32_STEP = 16
const RMS32_STEP = 17

/** Runs part `index` of the job at byte `job` for op `op`, with this thread's workspace at byte `scratch`. */
export function part(op: i32, job: usize, index: i32, scratch: usize): void {
  if (op == CONV_FORWARD || op == CONV_BACKWARD) convPart(op, job, index, scratch)
  else if (op == RELU_FORWARD || op == RELU_BACKWARD) reluPart(job, index, op == RELU_BACKWARD)
  else if (op == MAXPOOL_2X2_FORWARD) maxPool2x2Part(job, index)
  else if (op == MAXPOOL_BACKWARD) maxPoolBackwardPart(job, index)
  else if (op >= SGD_STEP && op <= ADAGRAD_STEP) optimPart(job, index, op - SGD_STEP)
  else if (op == GEMM32_CHUNK) gemm32Part(job, index, scratch)
  else if (op == SGD32_STEP) sgd32Part(job, index)
  else if (op == CONV32_FORWARD || op == CONV32_BACKWARD) convPart32(op, job, index, scratch)
  else if (op == MAXPOOL_2X2_FORWARD32) maxPool2x2Part32(job, index)
  else if (op == MAXPOOL_BACKWARD32) maxPoolBackwardPart32(job, index)
  else if (op == ADAM32_STEP) adam32Part(job, index)
  else if (op == RMS32_STEP) rms32Part(job, index)
}
