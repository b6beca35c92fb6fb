import { describe, expect, it } from 'vitest';
import {
  boxMuller,
  clipAction,
  gaussianBackward,
  gaussianEntropy,
  gaussianForward,
  gaussianLogProb,
  gaussianPolicyLoss,
  gaussianSample,
  gaussianUniforms,
  sampleGaussianAction,
  type GaussianLossInputs,
} from '../../src/cpu/gaussian.ts';
import { RNG_STREAM_ACTION, RNG_STREAM_GAUSSIAN, rngUniform } from '../../src/rng.ts';

const fill = (n: number, seed: number, scale = 1) => Float64Array.from({ length: n }, (_, i) => scale * (2 * rngUniform(seed, 0x7e57, i, 0) - 1));

/** log N(a; μ, σ²) of one dimension, written the textbook way (σ² directly, not through z). */
const logNormal = (a: number, mu: number, sigma: number) => -0.5 * Math.log(2 * Math.PI * sigma * sigma) - ((a - mu) * (a - mu)) / (2 * sigma * sigma);

/**
 * Rows whose |a − μ| is small (0.001) and large (5), both signs, for D dimensions; logStd = base + 0.1·d
 * so the dimensions differ.
 */
function rows(D: number, base: number) {
  const offsets = [0.001, -0.001, 5, -5, 0.3, -1.7];
  const B = offsets.length;
  const mu = fill(B * D, 21 + D, 2);
  const actions = Float64Array.from(mu, (m, i) => m + offsets[Math.floor(i / D)] * (1 + 0.25 * (i % D)));
  const logStd = Float64Array.from({ length: D }, (_, d) => base + 0.1 * d);
  return { B, mu, actions, logStd };
}

const CASES = [1, 2, 4].flatMap((D) => [-3, 0, 1.5].map((base) => ({ D, base })));

describe('gaussianLogProb and gaussianEntropy: closed forms', () => {
  it.each(CASES)('D = $D, logStd ≈ $base: log-prob is the sum of per-dimension normal log-densities', ({ D, base }) => {
    const { B, mu, actions, logStd } = rows(D, base);
    for (let b = 0; b < B; b++) {
      let expected = 0;
      for (let d = 0; d < D; d++) expected += logNormal(actions[b * D + d], mu[b * D + d], Math.exp(logStd[d]));
      expect(gaussianLogProb(actions, mu, logStd, b * D)).toBeCloseTo(expected, 9);
    }
    // Moderate rows: log of the product of the densities themselves.
    if (base === 0) {
      const density = Array.from({ length: D }, (_, d) => Math.exp(logNormal(actions[d], mu[d], Math.exp(logStd[d])))).reduce((p, q) => p * q, 1);
      expect(gaussianLogProb(actions, mu, logStd)).toBeCloseTo(Math.log(density), 12);
    }
  });

  it.each(CASES)('D = $D, logStd ≈ $base: entropy is Σ_d ½ log(2πe σ_d²)', ({ D, base }) => {
    const { logStd } = rows(D, base);
    let expected = 0;
    for (let d = 0; d < D; d++) expected += 0.5 * Math.log(2 * Math.PI * Math.E * Math.exp(2 * logStd[d]));
    expect(gaussianEntropy(logStd)).toBeCloseTo(expected, 13);
  });

  it('entropy = E[−log π(a|s)] over 100 000 samples (4.5 standard errors; Var(−log π) = D/2)', () => {
    const mu = [0.3, -1, 2, 0];
    const logStd = [-0.5, 0, 0.7, -3];
    const n = 100_000;
    let sum = 0;
    for (let i = 0; i < n; i++) sum -= gaussianLogProb(gaussianSample(mu, logStd, 5, 1, i), mu, logStd);
    expect(Math.abs(sum / n - gaussianEntropy(logStd))).toBeLessThan(4.5 * Math.sqrt(4 / 2 / n));
  });

  it('gaussianForward writes every row, entropy the same in each; D must match logStd', () => {
    const { B, mu, actions, logStd } = rows(2, 0);
    const logProb = new Float64Array(B).fill(Number.NaN);
    const entropy = new Float64Array(B).fill(Number.NaN);
    gaussianForward(logProb, entropy, actions, mu, logStd, B, 2);
    for (let b = 0; b < B; b++) {
      expect(logProb[b]).toBe(gaussianLogProb(actions, mu, logStd, b * 2));
      expect(entropy[b]).toBe(gaussianEntropy(logStd));
    }
    expect(() => gaussianForward(logProb, entropy, actions, mu, logStd, B, 3)).toThrow(/D = 3/);
  });
});

describe('gaussianBackward', () => {
  it('matches the closed forms on a hand case', () => {
    // σ = 2, a − μ = 3: ∂/∂μ = 3/4, ∂/∂log σ = 9/4 − 1; dEntropy adds 1 per row to dLogStd.
    const dMu = new Float64Array(1), dLogStd = new Float64Array(1);
    gaussianBackward(dMu, dLogStd, [2], 0.5, [4], [1], [Math.LN2], 1, 1);
    expect(dMu[0]).toBeCloseTo(2 * 0.75, 15);
    expect(dLogStd[0]).toBeCloseTo(2 * 1.25 + 0.5, 15);
  });

  it.each(CASES)('D = $D, logStd ≈ $base: central finite differences of Σ_b (wL_b·log π_b + wH_b·H)', ({ D, base }) => {
    const { B, mu, actions, logStd } = rows(D, base);
    const wL = fill(B, 31), wH = fill(B, 32);
    const objective = () => {
      const logProb = new Float64Array(B), entropy = new Float64Array(B);
      gaussianForward(logProb, entropy, actions, mu, logStd, B, D);
      let s = 0;
      for (let b = 0; b < B; b++) s += wL[b] * logProb[b] + wH[b] * entropy[b];
      return s;
    };
    const dMu = new Float64Array(B * D).fill(Number.NaN);
    const dLogStd = new Float64Array(D).fill(Number.NaN);
    gaussianBackward(dMu, dLogStd, wL, wH, actions, mu, logStd, B, D);
    // Central differences, step h = 1e-5·max(1, |x|): truncation h²·f'''/6 and rounding ε·|f|/h stay
    // below 1e-6 of max(1, |g|, |f|/1000) for these rows (|z| ≤ 175 at σ ≈ e⁻³, |f| ≤ 2e3); measured ≤ 2e-8.
    const check = (x: Float64Array, i: number, g: number) => {
      const keep = x[i];
      const h = 1e-5 * Math.max(1, Math.abs(keep));
      x[i] = keep + h;
      const up = objective();
      x[i] = keep - h;
      const down = objective();
      x[i] = keep;
      const scale = Math.max(1, Math.abs(g), Math.abs(objective()) * 1e-3);
      expect(Math.abs((up - down) / (2 * h) - g)).toBeLessThanOrEqual(1e-6 * scale);
    };
    for (let i = 0; i < B * D; i++) check(mu, i, dMu[i]);
    for (let d = 0; d < D; d++) check(logStd, d, dLogStd[d]);
    // The entropy alone: ∂H/∂log σ_d = 1 for each d.
    gaussianBackward(dMu, dLogStd, new Float64Array(B), 1, actions, mu, logStd, B, D);
    for (let d = 0; d < D; d++) expect(dLogStd[d]).toBe(B);
    for (const g of dMu) expect(Math.abs(g)).toBe(0);
  });
});

describe('gaussianPolicyLoss', () => {
  const D = 2;
  const base = rows(D, -0.4);
  const inputs = (weights?: number[]): GaussianLossInputs => ({
    mu: base.mu, logStd: base.logStd, actions: base.actions, advantages: fill(base.B, 41, 2), weights, B: base.B, D, entCoef: 0.05,
  });

  it('terms as actorCriticLoss computes them: −mean_w(Â log π), mean_w(H), entropy subtracted', () => {
    const weights = [1, 0, 0.5, 2, 1, 0];
    const r = gaussianPolicyLoss(inputs(weights));
    const adv = inputs().advantages;
    const W = weights.reduce((s, w) => s + w, 0);
    let policy = 0;
    for (let b = 0; b < base.B; b++) policy -= (weights[b] * adv[b] * gaussianLogProb(base.actions, base.mu, base.logStd, b * D)) / W;
    const H = gaussianEntropy(base.logStd);
    expect(r.policyLoss).toBeCloseTo(policy, 13);
    expect(r.entropy).toBeCloseTo(H, 14);
    expect(r.loss).toBeCloseTo(policy - 0.05 * H, 13);
    // Rows of weight 0 get no gradient.
    for (const b of [1, 5]) for (let d = 0; d < D; d++) expect(Math.abs(r.dMu[b * D + d])).toBe(0);
  });

  it('weights omitted = all ones; a 0/1 mask averages over the counted rows only', () => {
    const all = gaussianPolicyLoss(inputs());
    const ones = gaussianPolicyLoss(inputs(new Array(base.B).fill(1)));
    expect(all.loss).toBe(ones.loss);
    expect(Array.from(all.dLogStd)).toEqual(Array.from(ones.dLogStd));
    const masked = gaussianPolicyLoss(inputs([1, 1, 0, 0, 0, 0]));
    const firstTwo = gaussianPolicyLoss({ ...inputs(), B: 2, mu: base.mu.slice(0, 4), actions: base.actions.slice(0, 4), advantages: Array.from(inputs().advantages).slice(0, 2) });
    expect(masked.loss).toBeCloseTo(firstTwo.loss, 15);
    for (let d = 0; d < D; d++) expect(masked.dLogStd[d]).toBeCloseTo(firstTwo.dLogStd[d], 15);
  });

  it('no row counted (W = 0): every term and gradient 0', () => {
    const r = gaussianPolicyLoss(inputs(new Array(base.B).fill(0)));
    expect([r.policyLoss, r.entropy, r.loss].map(Math.abs)).toEqual([0, 0, 0]);
    expect([...r.dMu, ...r.dLogStd].every((g) => g === 0)).toBe(true);
  });

  it('dMu and dLogStd agree with central finite differences of the loss', () => {
    const inp = inputs([1, 0.25, 0, 2, 1, 1]);
    const mu = Float64Array.from(inp.mu), logStd = Float64Array.from(inp.logStd);
    const r = gaussianPolicyLoss({ ...inp, mu, logStd });
    const loss = () => gaussianPolicyLoss({ ...inp, mu, logStd }).loss;
    const check = (x: Float64Array, i: number, g: number) => {
      const keep = x[i], h = 1e-6;
      x[i] = keep + h;
      const up = loss();
      x[i] = keep - h;
      const down = loss();
      x[i] = keep;
      expect(Math.abs((up - down) / (2 * h) - g)).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(g)));
    };
    for (let i = 0; i < mu.length; i++) check(mu, i, r.dMu[i]);
    for (let d = 0; d < D; d++) check(logStd, d, r.dLogStd[d]);
  });
});

describe('sampling', () => {
  it('Box-Muller edges: u1 = 0 gives 0, the largest u1 = 1 − 2⁻²⁴ stays finite (|ε| = sqrt(48 ln 2))', () => {
    expect(boxMuller(0, 0.3)).toBeCloseTo(0, 15);
    expect(boxMuller(1 - 2 ** -24, 0)).toBeCloseTo(Math.sqrt(48 * Math.LN2), 12);
    expect(boxMuller(1 - 2 ** -24, 0.5)).toBeCloseTo(-Math.sqrt(48 * Math.LN2), 12);
    expect(boxMuller(0.5, 0.25)).toBeCloseTo(0, 12);
  });

  it('dimension d takes u1, u2 from streams RNG_STREAM_GAUSSIAN + 2d, + 2d + 1 at (seed, env, counter)', () => {
    expect(RNG_STREAM_GAUSSIAN).toBe(0x700);
    const mu = [0.5, -1, 2, 3], logStd = [0, 0.5, -1, 1];
    const a = gaussianSample(mu, logStd, 9, 17, 1234);
    for (let d = 0; d < 4; d++) {
      const u1 = rngUniform(9, 0x700 + 2 * d, 17, 1234), u2 = rngUniform(9, 0x701 + 2 * d, 17, 1234);
      expect(gaussianUniforms(9, 17, 1234, d)).toEqual([u1, u2]);
      expect(a[d]).toBe(mu[d] + Math.exp(logStd[d]) * boxMuller(u1, u2));
      // Never the categorical head's draw of the same (seed, env, counter).
      expect(u1).not.toBe(rngUniform(9, RNG_STREAM_ACTION, 17, 1234));
    }
    expect(Array.from(sampleGaussianAction(mu, logStd, [0, 0, 0, 0], [0, 0, 0, 0]))).toEqual(mu);
    // Reading a row of a [B×D] mean at its offset.
    expect(Array.from(gaussianSample([7, 7, ...mu.slice(0, 2)], logStd.slice(0, 2), 9, 17, 1234, 2))).toEqual(Array.from(a.slice(0, 2)));
  });

  it('100 000 draws from the counter RNG: mean μ, std σ, uncorrelated dimensions, Gaussian tails', () => {
    // Tolerances are 4.5 standard errors of each statistic for n = 100 000 independent normals:
    // mean σ/√n, std σ/√(2n), correlation 1/√n, fourth moment √(96/n) (Var ε⁴ = 105 − 9); P(|N(0,1)| > 3.5) = 4.65e-4.
    const mu = [0.3, -1, 2, 0];
    const logStd = [-0.5, 0, 0.7, -3];
    const D = 4, n = 100_000, k = 4.5;
    const sum = new Float64Array(D), sumSq = new Float64Array(D), sum4 = new Float64Array(D);
    let cross01 = 0, cross23 = 0, tail = 0;
    for (let i = 0; i < n; i++) {
      const a = gaussianSample(mu, logStd, 2024, i % 1000, Math.floor(i / 1000));
      const e = a.map((x, d) => (x - mu[d]) / Math.exp(logStd[d]));
      for (let d = 0; d < D; d++) {
        sum[d] += a[d]; sumSq[d] += e[d] * e[d]; sum4[d] += e[d] ** 4;
        if (Math.abs(e[d]) > 3.5) tail++;
      }
      cross01 += e[0] * e[1]; cross23 += e[2] * e[3];
    }
    for (let d = 0; d < D; d++) {
      const sigma = Math.exp(logStd[d]);
      expect(Math.abs(sum[d] / n - mu[d])).toBeLessThan((k * sigma) / Math.sqrt(n));
      expect(Math.abs(Math.sqrt(sumSq[d] / n) - 1)).toBeLessThan(k / Math.sqrt(2 * n));
      expect(Math.abs(sum4[d] / n - 3)).toBeLessThan(k * Math.sqrt(96 / n));
    }
    expect(Math.abs(cross01 / n)).toBeLessThan(k / Math.sqrt(n));
    expect(Math.abs(cross23 / n)).toBeLessThan(k / Math.sqrt(n));
    // Binomial(4n, 4.65e-4): mean 186, sd 13.6.
    expect(Math.abs(tail - 4 * n * 4.65e-4)).toBeLessThan(k * Math.sqrt(4 * n * 4.65e-4));
  });
});

describe('clipAction', () => {
  it('clips each dimension to its own bounds, leaves the inside untouched', () => {
    expect(Array.from(clipAction([3.5], [-2], [2]))).toEqual([2]);
    expect(Array.from(clipAction([-2.5], [-2], [2]))).toEqual([-2]);
    expect(Array.from(clipAction([0.25, -7, 9, 1], [-1, -1, 0, 0], [1, 1, 5, 1]))).toEqual([0.25, -1, 5, 1]);
  });

  it('the log-prob is of the unclipped sample: clipping happens after, on a copy', () => {
    const mu = [1.9], logStd = [0];
    const a = sampleGaussianAction(mu, logStd, [0.99], [0]);
    expect(a[0]).toBeGreaterThan(2);
    const clipped = clipAction(a, [-2], [2]);
    expect(clipped[0]).toBe(2);
    expect(a[0]).toBeGreaterThan(2);
    expect(gaussianLogProb(a, mu, logStd)).toBeCloseTo(logNormal(a[0], 1.9, 1), 14);
  });
});
