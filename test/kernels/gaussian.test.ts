/**
 * shaders/policy_gaussian.wgsl (f32) against src/cpu/gaussian.ts (f64 on the same f32 inputs), through the
 * test kernel shaders/gaussian_check.wgsl, for D = num_actions = 1…4 with NaN, ±Inf and 1e38 in the
 * lanes ≥ D. Tolerances follow from WGSL's accuracy rules for f32 (the spec, so they hold on any
 * conforming implementation, not only lavapipe):
 *   exp(x): 3 + 2|x| ULP, i.e. ≤ 9 ULP for e^{±log σ} and ≤ 15 ULP for e^{−2 log σ} with |log σ| ≤ 3;
 *   log(x): absolute 2⁻²¹ on [0.5, 2], 3 ULP elsewhere; cos: absolute 2⁻¹¹ on [−π, π]; sqrt ≈ 5 ULP.
 * Box-Muller ε = r·cos θ, r = sqrt(−2 ln(1 − u1)): |Δε| ≤ r·2⁻¹¹ (cos) + 2⁻¹⁰ (sqrt(2·2⁻²¹), log near 1,
 * worst where r → 0) + r·2⁻²⁰ (the rest); the uniforms themselves are bit-identical (test/kernels/rng.test.ts).
 * Log-prob: ½z² carries ≈ 2·(9 + 1.5) + 1 ≈ 22 ULP, the sums a few more: 2e-6 (≈ 34 ULP) of Σ_d |terms|.
 */
import { describe, expect, it } from 'vitest';
import { boxMuller, gaussianEntropy, gaussianLogProb, gaussianUniforms } from '../../src/cpu/gaussian.ts';
import { bindGroup, createKernel, createStorageBuffer, dispatch, readBuffer } from '../../src/gpu/kernel.ts';
import type { GpuContext } from '../../src/platform/gpu-context.ts';
import { rngU32 } from '../../src/rng.ts';
import { useGpu } from '../helpers/gpu.ts';

const CASE_FLOATS = 20; // a, mu, log_std, key (u32), upstream (d_log_prob, d_entropy, u1, u2)
const RESULT_FLOATS = 20; // eps, sample, grad_mu, grad_log_std, (log_prob, entropy, box_muller, 0)
const N = 8192;
const ULP = 2 ** -24;
const DEAD = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e38];

/** U[0, 1) from the test's own stream (not the head's), for building inputs. */
const rand = (i: number, k: number) => rngU32(77, 0x7e57, i, k) / 2 ** 32;

/** The cases: f32 inputs in one buffer (key words as u32 bits); live lanes d < D, junk beyond. */
function makeCases(D: number) {
  const buf = new ArrayBuffer(N * CASE_FLOATS * 4);
  const f = new Float32Array(buf);
  const u = new Uint32Array(buf);
  const edgeU1 = [0, 1 - 2 ** -24, 0.5, 2 ** -24, 0.75];
  const edgeU2 = [0, 0.25, 0.5, 0.75, 1 - 2 ** -24, 2 ** -24];
  for (let i = 0; i < N; i++) {
    const o = i * CASE_FLOATS;
    for (let d = 0; d < 4; d++) {
      if (d >= D) {
        f[o + d] = DEAD[(i + d) % 4];
        f[o + 4 + d] = DEAD[(i + d + 1) % 4];
        f[o + 8 + d] = DEAD[(i + d + 2) % 4];
        continue;
      }
      const logStd = i % 4 === 3 ? -3 + 4.5 * rand(i, d) : [-3, 0, 1.5][(i + d) % 3];
      const mu = 6 * rand(i, 4 + d) - 3;
      // a − μ in units of σ: tiny, moderate, large (the log-prob's ½z² up to 200).
      const k = [1e-3, 3, 20][(i >> 2) % 3] * (2 * rand(i, 8 + d) - 1);
      f[o + 8 + d] = logStd;
      f[o + 4 + d] = mu;
      f[o + d] = mu + Math.exp(logStd) * k;
    }
    u[o + 12] = i < 4 ? [0, 1, 0x7fffffff, 0xffffffff][i] : rngU32(78, 0, i, 0);
    u[o + 13] = i % 1000;
    u[o + 14] = i < 8 ? [0, 1, 0xfffffffe, 0xffffffff, 0x80000000, 7, 100, 1000][i] : rngU32(79, 0, i, 0);
    f[o + 16] = 4 * rand(i, 12) - 2;
    f[o + 17] = 0.2 * rand(i, 13) - 0.1;
    f[o + 18] = i < 30 ? edgeU1[i % 5] : (rngU32(80, 0, i, 0) >>> 8) * ULP;
    f[o + 19] = i < 30 ? edgeU2[Math.floor(i / 5)] : (rngU32(81, 0, i, 0) >>> 8) * ULP;
  }
  return { buf, f, u };
}

async function runCheck(ctx: GpuContext, D: number, buf: ArrayBuffer): Promise<Float32Array> {
  const kernel = createKernel(ctx, {
    label: `gaussianCheck D=${D}`,
    stems: ['rng', 'policy_gaussian', 'gaussian_check'],
    bindings: ['read-only-storage', 'storage'],
    entryPoints: ['gaussianCheck'],
    constants: { num_actions: D },
  });
  const cases = createStorageBuffer(ctx, 'gaussian cases', buf.byteLength);
  const results = createStorageBuffer(ctx, 'gaussian results', N * RESULT_FLOATS * 4);
  ctx.device.queue.writeBuffer(cases, 0, buf);
  const encoder = ctx.device.createCommandEncoder({ label: 'gaussianCheck' });
  const pass = encoder.beginComputePass();
  dispatch(pass, ctx, kernel, 'gaussianCheck', bindGroup(ctx, kernel, 'gaussianCheck', [cases, results]), N);
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  const out = new Float32Array(await readBuffer(ctx, results, N * RESULT_FLOATS * 4));
  cases.destroy();
  results.destroy();
  return out;
}

/** The spec bound on |Δε| of one Box-Muller draw (header). */
const epsTolerance = (u1: number) => {
  const r = Math.sqrt(-2 * Math.log(1 - u1));
  return r * 2 ** -11 + 2 ** -10 + r * 2 ** -20;
};

describe('policy_gaussian.wgsl against src/cpu/gaussian.ts', () => {
  const gpu = useGpu();

  it.each([1, 2, 3, 4])('D = %i: ε, samples, log-prob, entropy, both gradients; lanes ≥ D ignored', async (D) => {
    const { buf, f, u } = makeCases(D);
    const out = await runCheck(gpu(), D, buf);
    // Worst error over tolerance per quantity: every one must stay ≤ 1.
    const worst: Record<string, number> = { eps: 0, sample: 0, logProb: 0, entropy: 0, gradMu: 0, gradLogStd: 0, boxMuller: 0 };
    const note = (name: string, err: number, tol: number) => {
      worst[name] = Math.max(worst[name], Number.isNaN(err) ? Infinity : err / tol);
    };
    let deadNonzero = 0;
    for (let i = 0; i < N; i++) {
      const o = i * CASE_FLOATS, r = i * RESULT_FLOATS;
      const a = Array.from(f.subarray(o, o + D));
      const mu = Array.from(f.subarray(o + 4, o + 4 + D));
      const logStd = Array.from(f.subarray(o + 8, o + 8 + D));
      const [seed, env, counter] = [u[o + 12], u[o + 13], u[o + 14]];
      const [dLogProb, dEntropy, u1, u2] = f.subarray(o + 16, o + 20);
      for (let d = 0; d < D; d++) {
        const [v1, v2] = gaussianUniforms(seed, env, counter, d);
        const eps = boxMuller(v1, v2);
        const sigma = Math.exp(logStd[d]);
        note('eps', Math.abs(out[r + d] - eps), epsTolerance(v1));
        const sample = mu[d] + sigma * eps;
        note('sample', Math.abs(out[r + 4 + d] - sample), sigma * epsTolerance(v1) + 16 * ULP * (Math.abs(mu[d]) + sigma * Math.abs(eps)));
        const z = (a[d] - mu[d]) / sigma;
        const gMu = (dLogProb * (a[d] - mu[d])) / (sigma * sigma);
        note('gradMu', Math.abs(out[r + 8 + d] - gMu), 20 * ULP * Math.abs(gMu) + 1e-38);
        const gLogStd = dLogProb * (z * z - 1) + dEntropy;
        note('gradLogStd', Math.abs(out[r + 12 + d] - gLogStd), 2e-6 * (Math.abs(dLogProb) * (z * z + 1) + Math.abs(dEntropy)));
      }
      for (let d = D; d < 4; d++) {
        for (const k of [0, 4, 8, 12]) if (out[r + k + d] !== 0) deadNonzero++;
      }
      const magnitude = a.reduce((s, _, d) => s + 0.5 * ((a[d] - mu[d]) / Math.exp(logStd[d])) ** 2 + Math.abs(logStd[d]) + 0.92, 0);
      note('logProb', Math.abs(out[r + 16] - gaussianLogProb(a, mu, logStd)), 2e-6 * magnitude);
      note('entropy', Math.abs(out[r + 17] - gaussianEntropy(logStd)), 8 * ULP * logStd.reduce((s, l) => s + Math.abs(l) + 1.42, 0));
      note('boxMuller', Math.abs(out[r + 18] - boxMuller(u1, u2)), epsTolerance(u1));
    }
    expect(deadNonzero).toBe(0);
    for (const [name, ratio] of Object.entries(worst)) expect(ratio, name).toBeLessThanOrEqual(1);
  });

  it('same (seed, env, counter), different D: a dimension draws the same ε whatever D is', async () => {
    const c = makeCases(1);
    const four = await runCheck(gpu(), 4, c.buf);
    const one = await runCheck(gpu(), 1, c.buf);
    for (let i = 0; i < N; i++) expect(one[i * RESULT_FLOATS]).toBe(four[i * RESULT_FLOATS]);
  });
});
