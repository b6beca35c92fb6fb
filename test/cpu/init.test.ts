import { describe, expect, it } from 'vitest';
import { gaussianDraw, initParams, ORTHOGONAL_GAINS, RNG_STREAM_INIT } from '../../src/cpu/init.ts';
import { paramLayout, tensorView, type NetShape } from '../../src/model/layout.ts';
import { rngUniform } from '../../src/rng.ts';

const shapeOf = (O: number, H: number, A: number, V: number): NetShape => ({ obsSize: O, hiddenSize: H, numActions: A, valueOutputs: V, activation: 'relu' });

/** Gram matrix of the smaller side of an [rows × cols] row-major matrix: W·Wᵀ if rows ≤ cols, else Wᵀ·W. */
function smallGram(w: ArrayLike<number>, rows: number, cols: number): number[][] {
  const k = Math.min(rows, cols);
  const g = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let s = 0;
      if (rows <= cols) for (let c = 0; c < cols; c++) s += w[a * cols + c] * w[b * cols + c];
      else for (let r = 0; r < rows; r++) s += w[r * cols + a] * w[r * cols + b];
      g[a][b] = s;
    }
  }
  return g;
}

describe("initParams 'pytorch' (nn.Linear default)", () => {
  const shape = shapeOf(64, 256, 2, 1);
  const L = paramLayout(shape);
  const params = initParams(new Float64Array(L.total), shape, 'pytorch', 42);

  it('every tensor lies within ±1/sqrt(fan_in) and reaches close to the bound', () => {
    for (const slot of L.tensors) {
      const bound = 1 / Math.sqrt(slot.fanIn);
      const t = tensorView(params, slot);
      let max = 0;
      for (const x of t) max = Math.max(max, Math.abs(x));
      expect(max, slot.name).toBeLessThanOrEqual(bound);
      if (slot.size >= 256) expect(max, slot.name).toBeGreaterThan(0.98 * bound);
    }
  });

  it('weights look uniform: mean ≈ 0 and variance ≈ bound²/3 (16 384 draws)', () => {
    const t = tensorView(params, L.actorW1);
    const bound = 1 / 8; // fan_in 64
    const n = t.length;
    const mean = t.reduce((s, x) => s + x, 0) / n;
    const variance = t.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
    const sd = bound / Math.sqrt(3);
    expect(Math.abs(mean)).toBeLessThan((4 * sd) / Math.sqrt(n));
    expect(Math.abs(variance / (sd * sd) - 1)).toBeLessThan(0.04);
  });

  it('draws element e of tensor i from (seed, RNG_STREAM_INIT + i, e, 0), as a GPU twin will', () => {
    expect(RNG_STREAM_INIT).toBe(0x400);
    const slot = L.criticB1; // tensor 5, fan_in 64
    const u = rngUniform(42, 0x400 + 5, 17, 0);
    expect(params[slot.offset + 17]).toBe(-0.125 + 0.25 * u);
  });
});

describe("initParams 'orthogonal' (SB3/CleanRL layer_init)", () => {
  const cases = [shapeOf(4, 64, 2, 1), shapeOf(4, 64, 2, 2), shapeOf(8, 8, 3, 1)];

  it.each(cases)('smaller-side Gram matrix = gain²·I and zero biases (O=$obsSize H=$hiddenSize A=$numActions V=$valueOutputs)', (shape) => {
    const L = paramLayout(shape);
    const params = initParams(new Float64Array(L.total).fill(Number.NaN), shape, 'orthogonal', 7);
    const gains = { actorW1: Math.SQRT2, actorW2: 0.01, criticW1: Math.SQRT2, criticW2: 1 };
    expect(ORTHOGONAL_GAINS).toEqual({ hidden: Math.SQRT2, policy: 0.01, value: 1 });
    for (const slot of L.tensors) {
      const t = tensorView(params, slot);
      if (slot.shape.length === 1) {
        expect(t.every((x) => x === 0), slot.name).toBe(true);
        continue;
      }
      const gain = gains[slot.name as keyof typeof gains];
      const [rows, cols] = slot.shape;
      const g = smallGram(t, rows, cols);
      for (let a = 0; a < g.length; a++) {
        for (let b = 0; b < g.length; b++) expect(Math.abs(g[a][b] - (a === b ? gain * gain : 0)), `${slot.name}[${a},${b}]`).toBeLessThan(1e-12 * gain * gain);
      }
      // Orthogonal and dense, not an identity-like matrix.
      expect(t.filter((x) => x === 0).length).toBe(0);
      if (rows === cols) {
        const other = smallGram(Array.from({ length: rows * cols }, (_, i) => t[(i % rows) * cols + Math.floor(i / rows)]), rows, cols);
        for (let a = 0; a < rows; a++) expect(other[a][a]).toBeCloseTo(gain * gain, 12);
      }
    }
  });

  it("is the sign-fixed QR of torch's Gaussian: R = Qᵀ·M is upper triangular with a positive diagonal", () => {
    // actorW1 of shapeOf(4, 64, 2, 1): torch's weight is [64 × 4] (tall), our storage [4 × 64].
    // Torch's Gaussian M[o][i] is drawn at our storage index i*64 + o; its columns are our rows.
    const shape = shapeOf(4, 64, 2, 1);
    const L = paramLayout(shape);
    const w = tensorView(initParams(new Float64Array(L.total), shape, 'orthogonal', 3), L.actorW1);
    const gain = Math.SQRT2;
    for (let a = 0; a < 4; a++) {
      for (let b = 0; b < 4; b++) {
        let r = 0; // (Qᵀ·M)[a][b] = Σ_o Q[o][a]·M[o][b]
        for (let o = 0; o < 64; o++) r += (w[a * 64 + o] / gain) * gaussianDraw(3, RNG_STREAM_INIT + 0, b * 64 + o);
        if (a > b) expect(Math.abs(r), `R[${a},${b}]`).toBeLessThan(1e-12);
        if (a === b) expect(r, `R[${a},${a}]`).toBeGreaterThan(0);
      }
    }
  });

  it('policy output is tiny (gain 0.01) and value output unit-norm', () => {
    const shape = shapeOf(4, 64, 2, 1);
    const L = paramLayout(shape);
    const params = initParams(new Float64Array(L.total), shape, 'orthogonal', 11);
    const value = tensorView(params, L.criticW2);
    expect(value.reduce((s, x) => s + x * x, 0)).toBeCloseTo(1, 12);
    for (const x of tensorView(params, L.actorW2)) expect(Math.abs(x)).toBeLessThan(0.01);
  });
});

describe('gaussianDraw (Box–Muller on the counter RNG)', () => {
  it('is sqrt(−2 ln(1 − u1))·cos(2π u2) of counters 0 and 1', () => {
    const u1 = rngUniform(5, 0x400, 9, 0), u2 = rngUniform(5, 0x400, 9, 1);
    expect(gaussianDraw(5, 0x400, 9)).toBe(Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
  });

  it('has mean ≈ 0 and variance ≈ 1 over 40 000 draws', () => {
    const n = 40_000;
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = gaussianDraw(1, 0x400, i);
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });
});

describe.each(['pytorch', 'orthogonal'] as const)('initParams %s: determinism', (scheme) => {
  const shape = shapeOf(4, 32, 2, 1);
  const P = paramLayout(shape).total;

  it('same seed → identical parameters; another seed → different ones; f32 = rounded f64', () => {
    const a = initParams(new Float64Array(P), shape, scheme, 123);
    const b = initParams(new Float64Array(P), shape, scheme, 123);
    const c = initParams(new Float64Array(P), shape, scheme, 124);
    expect(Array.from(b)).toEqual(Array.from(a));
    const weights = paramLayout(shape).tensors.filter((t) => t.shape.length === 2);
    for (const slot of weights) expect(Array.from(tensorView(c, slot))).not.toEqual(Array.from(tensorView(a, slot)));
    const f32 = initParams(new Float32Array(P), shape, scheme, 123);
    expect(Array.from(f32)).toEqual(Array.from(Float32Array.from(a)));
  });

  it('the actor and critic first layers (same shape) get different values', () => {
    const L = paramLayout(shape);
    const p = initParams(new Float64Array(P), shape, scheme, 9);
    expect(Array.from(tensorView(p, L.actorW1))).not.toEqual(Array.from(tensorView(p, L.criticW1)));
  });
});
