/** Matrix products, with the transposed variants backprop needs (never materialising a transpose). */
import { view } from '../kernels/gemm.ts'
import { view32 } from '../kernels/gemm32.ts'
import { currentGemm, currentGemm32 } from '../kernels/backend.ts'
import { gemm32Resident, gemm32Wasm, gemm32Wasm2 } from '../kernels/wasm/gemm32.ts'
import { assertTensor, buffer, buffer32, dtypeMismatch, isFloat32, showShape, TensorError } from './tensor.ts'
import type { AnyTensor, Tensor, Tensor32 } from './tensor.ts'

const dims = (t: AnyTensor, where: string): [number, number] => {
  if (t.shape.length !== 2) throw new TensorError(`${where}: expected a matrix, got shape ${showShape(t.shape)}`)
  return t.shape as [number, number]
}

const product = (a: AnyTensor, ta: boolean, b: AnyTensor, tb: boolean, where: string): AnyTensor => {
  const [ar, ac] = dims(a, where)
  const [br, bc] = dims(b, where)
  const [m, k] = ta ? [ac, ar] : [ar, ac]
  const [k2, n] = tb ? [bc, br] : [br, bc]
  if (k !== k2) {
    throw new TensorError(`${where}: inner sizes differ, ${showShape(a.shape)}${ta ? 'ᵀ' : ''} · ${showShape(b.shape)}${tb ? 'ᵀ' : ''}`)
  }
  if (isFloat32(a) || isFloat32(b)) {
    if (!isFloat32(a) || !isFloat32(b)) throw dtypeMismatch(where, a, b)
    const out = buffer32(m * n) // float32: each product and sum one float32 operation (src/kernels/gemm32.ts)
    const gemm = currentGemm32()
    const [va, vb] = [view32(a.data, ar, ac, ta), view32(b.data, br, bc, tb)]
    // The WebAssembly product reads operands already in WebAssembly memory in place and keeps
    // dW = xᵀ·dy there for the optimizer (tensors are never written; the same bits), on one thread or two.
    const threads = gemm === gemm32Wasm ? 1 : gemm === gemm32Wasm2 ? 2 : 0
    if (threads === 0 || !gemm32Resident(m, n, k, va, vb, out, ta && !tb, threads)) gemm(m, n, k, va, vb, out, 0, false)
    return { shape: [m, n], data: out }
  }
  const out = buffer(m * n)
  currentGemm()(m, n, k, view(a.data, ar, ac, ta), view(b.data, br, bc, tb), out, 0, false)
  return { shape: [m, n], data: out }
}

/** A · B for matrices (m×k)·(k×n), both of one dtype (float32: the float32 kernels). */
export function matmul(a: Tensor, b: Tensor): Tensor
export function matmul(a: Tensor32, b: Tensor32): Tensor32
export function matmul(a: AnyTensor, b: AnyTensor): AnyTensor {
  assertTensor(a, 'T.matmul', 'first argument')
  assertTensor(b, 'T.matmul', 'second argument')
  return product(a, false, b, false, 'matmul')
}

/** Aᵀ · B: (k×m)ᵀ·(k×n), e.g. dW = xᵀ · dy. */
export function matmulTN(a: Tensor, b: Tensor): Tensor
export function matmulTN(a: Tensor32, b: Tensor32): Tensor32
export function matmulTN(a: AnyTensor, b: AnyTensor): AnyTensor {
  assertTensor(a, 'T.matmulTN', 'first argument')
  assertTensor(b, 'T.matmulTN', 'second argument')
  return product(a, true, b, false, 'matmulTN')
}

/** A · Bᵀ: (m×k)·(n×k)ᵀ, e.g. dx = dy · Wᵀ. */
export function matmulNT(a: Tensor, b: Tensor): Tensor
export function matmulNT(a: Tensor32, b: Tensor32): Tensor32
export function matmulNT(a: AnyTensor, b: AnyTensor): AnyTensor {
  assertTensor(a, 'T.matmulNT', 'first argument')
  assertTensor(b, 'T.matmulNT', 'second argument')
  return product(a, false, b, true, 'matmulNT')
}
