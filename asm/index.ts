/**
 * The entry of chainrule's WebAssembly module (compiled by scripts/build-wasm.ts): the GEMM of
 * ./gemm.ts and the convolution parts of ./conv.ts, which are built on it.
 */
export { gemm } from './gemm'
export { convPart } from './conv'
