/** Matrix products, with the transposed variants backprop needs (never materialising a transpose). */
import { view } from '../kernels/gemm.ts'
import { currentGemm } from '../kernels/backend.ts'
import { buffer, showShape, TensorError, type Tensor } from './tensor.ts'

const dims = (t: Tensor, where: string): [number, number] => {
  if (t.shape.length !== 2) throw new TensorError(`${where}: expected a matrix, got shape ${showShape(t.shape)}`)
  return t.shape as [number, number]
}

const product = (a: Tensor, ta: boolean, b: Tensor, tb: boolean, where: string): Tensor => {
  const [ar, ac] = dims(a, where)
  const [br, bc] = dims(b, where)
  const [m, k] = ta ? [ac, ar] : [ar, ac]
  const [k2, n] = tb ? [bc, br] : [br, bc]
  if (k !== k2) {
    throw new TensorError(`${where}: inner sizes differ, ${showShape(a.shape)}${ta ? 'ᵀ' : ''} · ${showShape(b.shape)}${tb ? 'ᵀ' : ''}`)
  }
  const out = buffer(m * n)
  currentGemm()(m, n, k, view(a.data, ar, ac, ta), view(b.data, br, bc, tb), out, 0, false)
  return { shape: [m, n], data: out }
}

/** A · B for matrices (m×k)·(k×n). */
export const matmul = (a: Tensor, b: Tensor): Tensor => product(a, false, b, false, 'matmul')

/** Aᵀ · B: (k×m)ᵀ·(k×n), e.g. dW = xᵀ · dy. */
export const matmulTN = (a: Tensor, b: Tensor): Tensor => product(a, true, b, false, 'matmulTN')

/** A · Bᵀ: (m×k)·(n×k)ᵀ, e.g. dx = dy · Wᵀ. */
export const matmulNT = (a: Tensor, b: Tensor): Tensor => product(a, false, b, true, 'matmulNT')
