/**
 * CPU reference of the diagonal Gaussian policy head (continuous actions, Box(D); D is the action
 * dimension, the trainer's num_actions), as Stable-Baselines3 and CleanRL build it: the actor outputs the
 * mean μ [B×D]; a state-independent parameter logStd [D] (initialised to 0) gives σ = exp(logStd).
 * WGSL twin: shaders/policy_gaussian.wgsl (written from these formulas, not derived from this file).
 *
 * Per row b, with z_d = (a_d − μ_d)/σ_d:
 *   log π(a|s) = Σ_d [−z_d²/2 − log σ_d − ½ log 2π]
 *   H          = Σ_d [log σ_d + ½(1 + log 2π)]                 (state-independent)
 * Backward, given upstream dLogProb[b] and dEntropy[b] (or one scalar for every row):
 *   ∂log π/∂μ_d     = (a_d − μ_d)/σ_d² = z_d/σ_d
 *   ∂log π/∂log σ_d = z_d² − 1
 *   ∂H/∂log σ_d     = 1
 *   dMu[b,d]  = dLogProb[b]·z_d/σ_d                             overwritten
 *   dLogStd[d] = Σ_b (dLogProb[b]·(z_{b,d}² − 1) + dEntropy[b])  overwritten (summed over the B rows)
 *
 * Sampling: a = μ + σ·ε, ε ~ N(0, 1) by Box-Muller from two counter-RNG uniforms per dimension,
 *   ε_d = sqrt(−2 ln(1 − u1_d)) · cos(2π u2_d)
 *   u1_d = rngUniform(seed, RNG_STREAM_GAUSSIAN + 2d,     env, counter)
 *   u2_d = rngUniform(seed, RNG_STREAM_GAUSSIAN + 2d + 1, env, counter)
 * u1 ∈ [0, 1 − 2⁻²⁴], so 1 − u1 ∈ [2⁻²⁴, 1] (exact in f32): never log 0, |ε| ≤ sqrt(48 ln 2) ≈ 5.77.
 * `counter` is what the categorical head passes (update·T + t), `env` the env index; the streams
 * 0x700…0x707 (D ≤ 4 on the GPU) are used by nothing else, so a Box run never reuses a categorical draw.
 * The action is stored UNCLIPPED (the log-prob is of the sample) and clipped to the Box only when the env
 * is stepped (clipAction). Greedy evaluation takes μ.
 */
import { RNG_STREAM_GAUSSIAN, rngUniform } from '../rng.ts';
import type { FloatArray } from '../model/layout.ts';

/** ½ log 2π. */
export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** log π(a|s) of one row: a, mu read at [offset, offset + D), D = logStd.length. */
export function gaussianLogProb(a: ArrayLike<number>, mu: ArrayLike<number>, logStd: ArrayLike<number>, offset = 0): number {
  let s = 0;
  for (let d = 0; d < logStd.length; d++) {
    const z = (a[offset + d] - mu[offset + d]) / Math.exp(logStd[d]);
    s += -0.5 * z * z - logStd[d] - HALF_LOG_2PI;
  }
  return s;
}

/** H of the Gaussian with standard deviations exp(logStd) [D]: the same for every row. */
export function gaussianEntropy(logStd: ArrayLike<number>): number {
  let s = 0;
  for (let d = 0; d < logStd.length; d++) s += logStd[d] + 0.5 + HALF_LOG_2PI;
  return s;
}

export function gaussianForward(
  logProb: FloatArray, // [B], overwritten
  entropy: FloatArray, // [B], overwritten (every row the same)
  actions: ArrayLike<number>, // [B×D], the unclipped samples
  mu: ArrayLike<number>, // [B×D]
  logStd: ArrayLike<number>, // [D]
  B: number,
  D: number,
): void {
  checkD(logStd, D);
  const h = gaussianEntropy(logStd);
  for (let b = 0; b < B; b++) {
    logProb[b] = gaussianLogProb(actions, mu, logStd, b * D);
    entropy[b] = h;
  }
}

export function gaussianBackward(
  dMu: FloatArray, // [B×D], overwritten
  dLogStd: FloatArray, // [D], overwritten: summed over the B rows
  dLogProb: ArrayLike<number>, // [B]
  dEntropy: ArrayLike<number> | number, // [B], or one value for every row
  actions: ArrayLike<number>, // [B×D]
  mu: ArrayLike<number>, // [B×D]
  logStd: ArrayLike<number>, // [D]
  B: number,
  D: number,
): void {
  checkD(logStd, D);
  for (let d = 0; d < D; d++) dLogStd[d] = 0;
  for (let b = 0; b < B; b++) {
    const dH = typeof dEntropy === 'number' ? dEntropy : dEntropy[b];
    for (let d = 0; d < D; d++) {
      const i = b * D + d;
      const invStd = Math.exp(-logStd[d]);
      const z = (actions[i] - mu[i]) * invStd;
      dMu[i] = dLogProb[b] * z * invStd;
      dLogStd[d] += dLogProb[b] * (z * z - 1) + dH;
    }
  }
}

export interface GaussianLossInputs {
  mu: ArrayLike<number>; // [B×D], the actor's outputs
  logStd: ArrayLike<number>; // [D]
  actions: ArrayLike<number>; // [B×D], the unclipped samples of the rollout
  advantages: ArrayLike<number>; // [B], constants (detached)
  /** [B] row weights w_b ≥ 0 (a 0/1 mask as in src/cpu/losses.ts is the common case); omitted: all 1. */
  weights?: ArrayLike<number>;
  B: number;
  D: number;
  entCoef: number;
}

export interface GaussianLossResult {
  policyLoss: number;
  entropy: number;
  /** policyLoss − entCoef·entropy: the policy's part of actorCriticLoss's loss (add vfCoef·valueLoss). */
  loss: number;
  logProb: Float64Array; // [B]
  dMu: Float64Array; // [B×D]
  dLogStd: Float64Array; // [D]
}

/**
 * The policy terms of the A2C loss with this head, as src/cpu/losses.ts computes them for the categorical
 * head, with W = Σ_b w_b (no rows counted, W = 0: every term and gradient 0):
 *   policyLoss = −Σ_b w_b·adv_b·log π(a_b|s_b) / W
 *   entropy    = Σ_b w_b·H / W   (= H when W > 0)
 *   loss       = policyLoss − entCoef·entropy
 *   dMu, dLogStd = gaussianBackward with dLogProb_b = −w_b·adv_b/W, dEntropy_b = −entCoef·w_b/W
 * The critic's terms are the categorical head's, untouched.
 */
export function gaussianPolicyLoss(inp: GaussianLossInputs): GaussianLossResult {
  const { mu, logStd, actions, advantages, weights, B, D, entCoef } = inp;
  const logProb = new Float64Array(B);
  const rowEntropy = new Float64Array(B);
  gaussianForward(logProb, rowEntropy, actions, mu, logStd, B, D);

  let W = 0;
  for (let b = 0; b < B; b++) W += weights ? weights[b] : 1;
  const inv = W > 0 ? 1 / W : 0;

  let policySum = 0, entropySum = 0;
  const dLogProb = new Float64Array(B);
  const dEntropy = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    const w = (weights ? weights[b] : 1) * inv;
    policySum += w * advantages[b] * logProb[b];
    entropySum += w * rowEntropy[b];
    dLogProb[b] = -w * advantages[b];
    dEntropy[b] = -entCoef * w;
  }
  const dMu = new Float64Array(B * D);
  const dLogStd = new Float64Array(D);
  gaussianBackward(dMu, dLogStd, dLogProb, dEntropy, actions, mu, logStd, B, D);
  const policyLoss = -policySum;
  return { policyLoss, entropy: entropySum, loss: policyLoss - entCoef * entropySum, logProb, dMu, dLogStd };
}

/** ε ~ N(0, 1) from two U[0, 1) draws (Box-Muller, cosine branch); 1 − u1 ∈ (0, 1]: never log 0. */
export function boxMuller(u1: number, u2: number): number {
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}

/** The two uniforms of dimension d of the sample of (seed, env, counter): see the header for the keys. */
export function gaussianUniforms(seed: number, env: number, counter: number, d: number): [number, number] {
  return [rngUniform(seed, RNG_STREAM_GAUSSIAN + 2 * d, env, counter), rngUniform(seed, RNG_STREAM_GAUSSIAN + 2 * d + 1, env, counter)];
}

/** a_d = μ_d + σ_d·boxMuller(u1[d], u2[d]) for d < D = logStd.length; mu read at [offset, offset + D). */
export function sampleGaussianAction(mu: ArrayLike<number>, logStd: ArrayLike<number>, u1: ArrayLike<number>, u2: ArrayLike<number>, offset = 0): Float64Array {
  const a = new Float64Array(logStd.length);
  for (let d = 0; d < logStd.length; d++) a[d] = mu[offset + d] + Math.exp(logStd[d]) * boxMuller(u1[d], u2[d]);
  return a;
}

/** The action of (seed, env, counter): sampleGaussianAction with the counter RNG's uniforms (gaussian_sample in WGSL). */
export function gaussianSample(mu: ArrayLike<number>, logStd: ArrayLike<number>, seed: number, env: number, counter: number, offset = 0): Float64Array {
  const D = logStd.length;
  const u1 = new Float64Array(D);
  const u2 = new Float64Array(D);
  for (let d = 0; d < D; d++) [u1[d], u2[d]] = gaussianUniforms(seed, env, counter, d);
  return sampleGaussianAction(mu, logStd, u1, u2, offset);
}

/** The action the env sees: each a_d clipped to [low_d, high_d] (the Box's bounds). */
export function clipAction(a: ArrayLike<number>, low: ArrayLike<number>, high: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let d = 0; d < a.length; d++) out[d] = Math.min(Math.max(a[d], low[d]), high[d]);
  return out;
}

function checkD(logStd: ArrayLike<number>, D: number) {
  if (logStd.length !== D) throw new Error(`gaussian head: logStd has ${logStd.length} entries, D = ${D}`);
}
