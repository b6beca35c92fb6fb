/**
 * CPU reference of the advantage and return targets over a rollout of T steps × N envs.
 * Every array is [T×N] with row t*N + n, except lastValues [N]. Accumulation in f64.
 *
 * Generalised advantage estimation (GAE), with termination and truncation kept apart (NOTES.md bugs 3, 5):
 *   nextValue_t = terminated_t ? 0
 *               : truncated_t  ? bootstrapValues_t       (V of the final observation of step t)
 *               : t == T−1     ? lastValues              (V(s_T), the observation after the rollout)
 *               :                values_{t+1}
 *   delta_t = r_t + γ·nextValue_t − V_t
 *   A_t     = delta_t + γλ·(terminated_t || truncated_t ? 0 : A_{t+1}),   A_T = 0
 *   R_t     = A_t + V_t
 * λ = 1 gives the n-step A2C returns (bootstrapped at the rollout's cut), λ = 0 the one-step TD error
 * (TD actor-critic). After a reset the autoreset observation s_{t+1} belongs to the NEXT episode, which
 * is why an ended step never reads values_{t+1}.
 *
 * Monte-Carlo returns (REINFORCE with baseline), backwards within each episode:
 *   G_t = r_t                           if terminated_t  (termination wins when both flags are set)
 *       = r_t + γ·bootstrapValues_t      if truncated_t   (the time limit is not part of the MDP)
 *       = r_t + γ·G_{t+1}               otherwise, if the episode ends inside the rollout
 *   Steps whose episode has not ended by step T−1 have no Monte-Carlo return: mask 0, G = A = 0.
 *   advantage_t = G_t − V_t on masked-in steps.
 */

export interface Rollout {
  T: number;
  N: number;
  rewards: ArrayLike<number>; // [T×N]
  terminated: ArrayLike<number>; // [T×N], 0/1
  truncated: ArrayLike<number>; // [T×N], 0/1
  values: ArrayLike<number>; // [T×N], V(s_t)
  bootstrapValues: ArrayLike<number>; // [T×N], V(final observation of step t); read only where truncated
  lastValues: ArrayLike<number>; // [N], V(s_T)
}

export interface Targets {
  advantages: Float64Array; // [T×N]
  returns: Float64Array; // [T×N]
}

export function computeAdvantages(ro: Rollout, gamma: number, lambda: number): Targets {
  const { T, N, rewards, terminated, truncated, values, bootstrapValues, lastValues } = ro;
  const advantages = new Float64Array(T * N);
  const returns = new Float64Array(T * N);
  for (let n = 0; n < N; n++) {
    let nextAdvantage = 0;
    for (let t = T - 1; t >= 0; t--) {
      const i = t * N + n;
      const term = terminated[i] !== 0;
      const trunc = truncated[i] !== 0;
      const nextValue = term ? 0 : trunc ? bootstrapValues[i] : t === T - 1 ? lastValues[n] : values[i + N];
      const delta = rewards[i] + gamma * nextValue - values[i];
      const a = delta + gamma * lambda * (term || trunc ? 0 : nextAdvantage);
      advantages[i] = a;
      returns[i] = a + values[i];
      nextAdvantage = a;
    }
  }
  return { advantages, returns };
}

export interface MonteCarloTargets extends Targets {
  mask: Uint8Array; // [T×N], 1 where the step's episode ended inside the rollout
}

export function monteCarloReturns(ro: Rollout, gamma: number): MonteCarloTargets {
  const { T, N, rewards, terminated, truncated, values, bootstrapValues } = ro;
  const advantages = new Float64Array(T * N);
  const returns = new Float64Array(T * N);
  const mask = new Uint8Array(T * N);
  for (let n = 0; n < N; n++) {
    let g = 0;
    let known = false; // whether the episode running at step t ends inside the rollout
    for (let t = T - 1; t >= 0; t--) {
      const i = t * N + n;
      if (terminated[i] !== 0) {
        g = rewards[i];
        known = true;
      } else if (truncated[i] !== 0) {
        g = rewards[i] + gamma * bootstrapValues[i];
        known = true;
      } else if (known) {
        g = rewards[i] + gamma * g;
      } else {
        continue;
      }
      returns[i] = g;
      advantages[i] = g - values[i];
      mask[i] = 1;
    }
  }
  return { advantages, returns, mask };
}

/**
 * In place: A ← (A − mean)/(std + 1e-8) over the entries with mask ≠ 0 (all when no mask); entries
 * outside the mask are set to 0 so they carry no signal even into a loss that forgot the mask.
 * std is the UNBIASED (n−1) standard deviation, because CleanRL and SB3 call torch's Tensor.std(),
 * which defaults to Bessel's correction. With fewer than two entries the std is taken as 0 (torch
 * would return NaN), so a single advantage normalizes to 0.
 */
export function normalizeAdvantages(adv: Float32Array | Float64Array, mask?: ArrayLike<number>): { mean: number; std: number } {
  let n = 0, sum = 0;
  for (let i = 0; i < adv.length; i++) {
    if (mask && mask[i] === 0) continue;
    n++;
    sum += adv[i];
  }
  const mean = n > 0 ? sum / n : 0;
  let sq = 0;
  for (let i = 0; i < adv.length; i++) {
    if (mask && mask[i] === 0) continue;
    const d = adv[i] - mean;
    sq += d * d;
  }
  const std = n > 1 ? Math.sqrt(sq / (n - 1)) : 0;
  for (let i = 0; i < adv.length; i++) adv[i] = mask && mask[i] === 0 ? 0 : (adv[i] - mean) / (std + 1e-8);
  return { mean, std };
}
