import { describe, expect, it } from 'vitest';
import { adamStep, clipGradNorm, rmspropStep } from '../../src/cpu/optimizer.ts';

describe('clipGradNorm (torch.nn.utils.clip_grad_norm_)', () => {
  it('scales by maxNorm/(norm + 1e-6) when the norm is above maxNorm', () => {
    const g = Float64Array.from([3, 0, -4]);
    const { norm, scale } = clipGradNorm(g, 1);
    expect(norm).toBe(5);
    expect(scale).toBe(1 / (5 + 1e-6));
    expect(g[0]).toBeCloseTo(3 / 5.000001, 15);
    expect(g[2]).toBeCloseTo(-4 / 5.000001, 15);
  });

  it('clamps the coefficient at 1: small and zero gradients unchanged, norm == maxNorm still scaled', () => {
    const g = Float64Array.from([0.3, 0.4]);
    // At norm == maxNorm PyTorch still scales, by maxNorm/(norm + 1e-6) < 1: the clamp is on the coefficient.
    expect(clipGradNorm(g, 0.5)).toEqual({ norm: 0.5, scale: 0.5 / (0.5 + 1e-6) });
    const small = Float64Array.from([0.3, 0.4]);
    expect(clipGradNorm(small, 10)).toEqual({ norm: 0.5, scale: 1 });
    expect(Array.from(small)).toEqual([0.3, 0.4]);
    const zero = new Float64Array(3);
    expect(clipGradNorm(zero, 0.5)).toEqual({ norm: 0, scale: 1 });
  });
});

describe('adamStep vs steps computed by hand (lr 0.1, β = (0.9, 0.999), eps 1e-8)', () => {
  it('three steps: moments and parameters', () => {
    const p = Float64Array.from([1, -0.5]);
    const m = new Float64Array(2), v = new Float64Array(2);

    // Step 1, g = [0.1, −0.2]: m = 0.1·g, v = 0.001·g², m̂ = g, v̂ = g² → p −= 0.1·g/(|g| + eps)
    adamStep(p, [0.1, -0.2], m, v, 1, 0.1);
    expect(m[0]).toBeCloseTo(0.01, 16);
    expect(m[1]).toBeCloseTo(-0.02, 16);
    expect(v[0]).toBeCloseTo(1e-5, 18);
    expect(v[1]).toBeCloseTo(4e-5, 18);
    const p1 = [1 - (0.1 * 0.1) / (0.1 + 1e-8), -0.5 + (0.1 * 0.2) / (0.2 + 1e-8)];
    expect(p[0]).toBeCloseTo(p1[0], 14);
    expect(p[1]).toBeCloseTo(p1[1], 14);

    // Step 2, g = [−0.3, 0.1]: m = [0.009 − 0.03, −0.018 + 0.01], v = [0.999e-5 + 9e-5, 3.996e-5 + 1e-5],
    // bias1 = 1 − 0.81 = 0.19, bias2 = 1 − 0.998001 = 0.001999
    adamStep(p, [-0.3, 0.1], m, v, 2, 0.1);
    const m2 = [-0.021, -0.008], v2 = [9.999e-5, 4.996e-5];
    expect(m[0]).toBeCloseTo(m2[0], 16);
    expect(m[1]).toBeCloseTo(m2[1], 16);
    expect(v[0]).toBeCloseTo(v2[0], 18);
    expect(v[1]).toBeCloseTo(v2[1], 18);
    const p2 = p1.map((pk, k) => pk - (0.1 * (m2[k] / 0.19)) / (Math.sqrt(v2[k] / 0.001999) + 1e-8));
    expect(p[0]).toBeCloseTo(p2[0], 14);
    expect(p[1]).toBeCloseTo(p2[1], 14);

    // Step 3, g = [0.05, 0.05]: m = [−0.0189 + 0.005, −0.0072 + 0.005], v = [9.989001e-5 + 2.5e-6, 4.991004e-5 + 2.5e-6],
    // bias1 = 1 − 0.729 = 0.271, bias2 = 1 − 0.997002999 = 0.002997001
    adamStep(p, [0.05, 0.05], m, v, 3, 0.1);
    const m3 = [-0.0139, -0.0022], v3 = [1.0239001e-4, 5.241004e-5];
    expect(m[0]).toBeCloseTo(m3[0], 16);
    expect(m[1]).toBeCloseTo(m3[1], 16);
    expect(v[0]).toBeCloseTo(v3[0], 18);
    expect(v[1]).toBeCloseTo(v3[1], 18);
    const p3 = p2.map((pk, k) => pk - (0.1 * (m3[k] / 0.271)) / (Math.sqrt(v3[k] / 0.002997001) + 1e-8));
    expect(p[0]).toBeCloseTo(p3[0], 14);
    expect(p[1]).toBeCloseTo(p3[1], 14);
  });

  it('eps is added to sqrt(v̂), after bias correction (a tiny gradient moves p by lr/2 at step 1)', () => {
    // m̂ = 1e-8, sqrt(v̂) = 1e-8: update = lr·1e-8/(1e-8 + 1e-8). With eps added to the raw sqrt(v) it would be ≈ 0.03·lr.
    const p = Float64Array.from([0]);
    adamStep(p, [1e-8], new Float64Array(1), new Float64Array(1), 1, 1);
    expect(p[0]).toBeCloseTo(-0.5, 7);
  });

  it('f32 state gives the f64 result to f32 precision', () => {
    const p64 = Float64Array.from([0.25, -1.5, 3]), p32 = Float32Array.from(p64);
    const m64 = new Float64Array(3), v64 = new Float64Array(3), m32 = new Float32Array(3), v32 = new Float32Array(3);
    for (let t = 1; t <= 3; t++) {
      const g = [0.5 / t, -0.25 * t, 0.125];
      adamStep(p64, g, m64, v64, t, 3e-4);
      adamStep(p32, g, m32, v32, t, 3e-4);
    }
    for (let i = 0; i < 3; i++) expect(Math.abs(p32[i] - p64[i])).toBeLessThan(4e-7 * Math.abs(p64[i]));
  });

  it('rejects a 0-based step (bias correction would divide by 0)', () => {
    expect(() => adamStep(new Float64Array(1), [1], new Float64Array(1), new Float64Array(1), 0, 0.1)).toThrow();
  });
});

describe('rmspropStep vs steps computed by hand (lr 0.01, α 0.99, eps 1e-8)', () => {
  it('three steps', () => {
    const p = Float64Array.from([1]);
    const sq = new Float64Array(1);
    rmspropStep(p, [0.5], sq, 0.01);
    expect(sq[0]).toBeCloseTo(0.0025, 17); // 0.01·0.25
    const p1 = 1 - (0.01 * 0.5) / (0.05 + 1e-8);
    expect(p[0]).toBeCloseTo(p1, 15);
    rmspropStep(p, [-1], sq, 0.01);
    expect(sq[0]).toBeCloseTo(0.012475, 16); // 0.99·0.0025 + 0.01·1
    const p2 = p1 + 0.01 / (Math.sqrt(0.012475) + 1e-8);
    expect(p[0]).toBeCloseTo(p2, 15);
    rmspropStep(p, [0.2], sq, 0.01);
    expect(sq[0]).toBeCloseTo(0.01275025, 16); // 0.99·0.012475 + 0.01·0.04
    expect(p[0]).toBeCloseTo(p2 - (0.01 * 0.2) / (Math.sqrt(0.01275025) + 1e-8), 15);
  });

  it('eps sits outside the sqrt (PyTorch), not inside (TensorFlow)', () => {
    // g = 1e-6, eps = 1e-5: sq = 0.01·1e-12 = 1e-14, sqrt = 1e-7 → step 1e-6/(1e-7 + 1e-5) ≈ 0.099;
    // inside the sqrt it would be 1e-6/sqrt(1e-14 + 1e-5) ≈ 3.2e-4.
    const p = Float64Array.from([0]);
    rmspropStep(p, [1e-6], new Float64Array(1), 1, 0.99, 1e-5);
    expect(p[0]).toBeCloseTo(-1e-6 / (1e-7 + 1e-5), 15);
  });
});
