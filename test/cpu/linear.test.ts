import { describe, expect, it } from 'vitest';
import { linearBackward, linearForward } from '../../src/cpu/linear.ts';
import { rngUniform } from '../../src/rng.ts';

/** Test data in [-1, 1), from the project's counter RNG on a stream no library code uses. */
const fill = (n: number, seed: number) => Float64Array.from({ length: n }, (_, i) => 2 * rngUniform(seed, 0x7e57, i, 0) - 1);

describe('linearForward', () => {
  it('matches a product worked out by hand and overwrites its output', () => {
    // x [2×2], w [2×3] stored [in × out], b [3]
    const x = [1, 2, 3, 4];
    const w = [1, 0, -1, 2, 1, 0];
    const b = [0.5, -1, 2];
    const out = new Float64Array(6).fill(Number.NaN);
    linearForward(out, x, w, b, 2, 2, 3);
    // row 0: [1·1 + 2·2 + 0.5, 1·0 + 2·1 − 1, 1·(−1) + 2·0 + 2]; row 1: [3 + 8 + 0.5, 0 + 4 − 1, −3 + 0 + 2]
    expect(Array.from(out)).toEqual([5.5, 1, 1, 11.5, 3, -1]);
  });

  it('accumulates in f64 even when the operands are f32', () => {
    // In f32, 2^24 + 1 rounds to 2^24 and the sum would come out 0.
    const out = new Float64Array(1);
    linearForward(out, Float32Array.from([1, 1, 1]), Float32Array.from([2 ** 24, 1, -(2 ** 24)]), Float32Array.from([0]), 1, 3, 1);
    expect(out[0]).toBe(1);
  });
});

describe('linearBackward', () => {
  it('matches gradients worked out by hand', () => {
    // x [2×2], w [2×1], dOut [2×1]
    const x = [1, 2, 3, 4];
    const w = [5, 6];
    const dOut = [1, -1];
    const dX = new Float64Array(4).fill(Number.NaN);
    const dW = new Float64Array(2).fill(Number.NaN);
    const db = new Float64Array(1).fill(Number.NaN);
    linearBackward(dX, dW, db, dOut, x, w, 2, 2, 1);
    expect(Array.from(dW)).toEqual([1 * 1 + 3 * -1, 2 * 1 + 4 * -1]); // xᵀ·dOut
    expect(Array.from(db)).toEqual([0]);
    expect(Array.from(dX)).toEqual([5, 6, -5, -6]); // dOut·wᵀ
  });

  it('agrees with central finite differences for dX, dW and db', () => {
    const [B, K, N] = [3, 4, 5];
    const x = fill(B * K, 1), w = fill(K * N, 2), b = fill(N, 3), r = fill(B * N, 4);
    // Objective f = Σ out ⊙ r, so dOut = r.
    const f = () => {
      const out = new Float64Array(B * N);
      linearForward(out, x, w, b, B, K, N);
      return out.reduce((s, v, i) => s + v * r[i], 0);
    };
    const dX = new Float64Array(B * K), dW = new Float64Array(K * N), db = new Float64Array(N);
    linearBackward(dX, dW, db, r, x, w, B, K, N);
    const h = 1e-6;
    for (const [arr, grad] of [[x, dX], [w, dW], [b, db]] as const) {
      for (let i = 0; i < arr.length; i++) {
        const keep = arr[i];
        arr[i] = keep + h;
        const up = f();
        arr[i] = keep - h;
        const down = f();
        arr[i] = keep;
        const fd = (up - down) / (2 * h);
        expect(Math.abs(fd - grad[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(grad[i])));
      }
    }
  });

  it('skips dX when given null (first layer) and still writes dW and db', () => {
    const dW = new Float64Array(2), db = new Float64Array(1);
    linearBackward(null, dW, db, [2], [3, 4], [0, 0], 1, 2, 1);
    expect(Array.from(dW)).toEqual([6, 8]);
    expect(Array.from(db)).toEqual([2]);
  });
});
