/**
 * float32 reductions the dense layer and the losses need, as readable loops and fast loops:
 *
 *   bias gradient   db[f] = Σₙ dy[n, f]        (dense's db: the bias is added to every row)
 *   softmax cross-entropy on logits z (N × C) and target rows t (one-hot or probabilities):
 *     logZₙ = m + log Σⱼ e^(zₙⱼ − m),  m = maxⱼ zₙⱼ          (no overflow)
 *     L = −(1/N) Σₙ Σⱼ tₙⱼ·(zₙⱼ − logZₙ)                     (terms with tₙⱼ = 0 skipped)
 *     ∂L/∂zₙⱼ = (e^(zₙⱼ − logZₙ)·Σᵢ tₙᵢ − tₙⱼ) / N
 *   the float64 loss of src/loss.ts, step for step.
 *
 * Rounding, exactly: every add, subtract, multiply and divide is one float32 operation, in the
 * order written (sums from +0, n then j ascending; max is exact); exp and log are the float64
 * Math.exp and Math.log of a float32 argument, rounded to float32 (fl32∘exp, fl32∘log: the
 * definition of float32 exp and log here, so every family computes the same bits).
 * `biasGrad32Reference` reads a column at a time; `biasGrad32` walks dy row by row (in memory
 * order) with the same sum per column. The loss is O(N·C), next to the O(N·C·K) product that
 * makes its logits, so it has one loop, `softmaxCrossEntropy32` (test/kernels/reduce32.test.ts).
 */

const need = (where: string, what: string, a: ArrayLike<number>, n: number): void => {
  if (a.length !== n) throw new RangeError(`${where}: ${what} has ${a.length} values, expected ${n}`)
}

/** db[f] = Σₙ dy[n, f] over the N rows of dy (N × F), one float32 running sum per column from +0, n ascending. */
export const biasGrad32Reference = (N: number, F: number, dy: Float32Array, db: Float32Array): void => {
  need('biasGrad32', 'dy', dy, N * F)
  need('biasGrad32', 'db', db, F)
  const f = Math.fround
  for (let j = 0; j < F; j++) {
    let s = 0
    for (let n = 0; n < N; n++) s = f(s + dy[n * F + j]!)
    db[j] = s
  }
}

/** biasGrad32Reference's bits, reading dy in memory order: row n added onto db (each add rounded by the Float32Array store). */
export const biasGrad32 = (N: number, F: number, dy: Float32Array, db: Float32Array): void => {
  need('biasGrad32', 'dy', dy, N * F)
  need('biasGrad32', 'db', db, F)
  db.fill(0)
  for (let n = 0; n < N; n++) {
    const row = n * F
    for (let j = 0; j < F; j++) db[j] = db[j]! + dy[row + j]! // a float64 sum of two float32s, stored: fl32(db + dy), exactly
  }
}

/**
 * Softmax cross-entropy on float32 logits z (N × C) and target rows t (N × C): returns the mean
 * loss L (a float32 value) and writes ∂L/∂z into grad (N × C), with the rounding stated above.
 *
 * @example
 * const grad = new Float32Array(2)
 * softmaxCrossEntropy32(1, 2, Float32Array.of(2, 0), Float32Array.of(1, 0), grad) // ≈ 0.127 = log(1 + e⁻²); grad ≈ [−0.119, 0.119]
 */
export const softmaxCrossEntropy32 = (N: number, C: number, z: Float32Array, t: Float32Array, grad: Float32Array): number => {
  need('softmaxCrossEntropy32', 'z', z, N * C)
  need('softmaxCrossEntropy32', 't', t, N * C)
  need('softmaxCrossEntropy32', 'grad', grad, N * C)
  const f = Math.fround
  let total = 0
  for (let n = 0; n < N; n++) {
    const r = n * C
    let m = -Infinity
    for (let j = 0; j < C; j++) m = Math.max(m, z[r + j]!)
    let s = 0
    for (let j = 0; j < C; j++) s = f(s + f(Math.exp(f(z[r + j]! - m))))
    const logZ = f(m + f(Math.log(s)))
    let tsum = 0
    for (let j = 0; j < C; j++) {
      const tj = t[r + j]!
      tsum = f(tsum + tj)
      if (tj !== 0) total = f(total - f(tj * f(z[r + j]! - logZ)))
    }
    for (let j = 0; j < C; j++) grad[r + j] = f(f(f(f(Math.exp(f(z[r + j]! - logZ))) * tsum) - t[r + j]!) / N)
  }
  return f(total / N)
}
