/**
 * CPU reference of rolloutCollect (shaders/rollout.wgsl): N envs stepped through the T steps of update
 * `update`, written by hand from the shader's header and the CartPole/RNG references, never derived
 * from the kernel. Per step t and env n (row t*N + n):
 *   logits_t = actor(s_t)                                   f64 forward over the f32 state
 *   u        = rngUniform(seed, RNG_STREAM_ACTION, n, update*T + t)
 *   a_t      = inverse CDF: the first a < A−1 with u < Σ_{k≤a} exp(logp_k), else A−1
 *   value_t  = V(s_t), or Q(s_t, a_t) for a Q-critic
 *   s_{t+1}  = cartpoleStep(s_t, a_t, 'f32'); elapsed += 1; return += 1 (f32); reward 1
 *   terminated by the thresholds, truncated when elapsed ≥ maxEpisodeSteps
 *   bootstrap_t = stateValue(final observation) where truncated and not terminated, else 0
 *   where done: same-step autoreset to resetComponent(seed, n, episode + 1, ·, 'f32')
 * then lastValues = stateValue(s_T). stateValue is V, or Σ_a π(a|s)·Q(s, a) for a Q-critic.
 * Env slots are the GPU's layout: [N×8] u32, per env 4 × f32 state bits, elapsed, episode, return
 * (f32 bits), 0. Network arithmetic is f64 (src/cpu/actor-critic.ts); the env state stays f32 as the GPU's.
 */
import type { CartPoleParams } from '../envs/cartpole.ts';
import type { FloatArray, NetShape } from '../model/layout.ts';
import { RNG_STREAM_ACTION, rngUniform } from '../rng.ts';
import { actorCriticForward } from './actor-critic.ts';
import { cartpoleStep, resetComponent } from '../envs/cartpole.ts';
import { policyHeadForward } from './policy-head.ts';

export const ENV_SLOT_WORDS = 8;

/** What an update consumes from a rollout; the GPU's buffers decode to the same shape. Rows t*N + n. */
export interface RolloutTensors {
  T: number;
  N: number;
  obs: Float32Array; // [T×N×4], s_t
  actions: Uint32Array; // [T×N]
  terminated: Uint8Array; // [T×N]
  truncated: Uint8Array; // [T×N]
  rewards: Float64Array; // [T×N]
  values: Float64Array; // [T×N], V(s_t) or Q(s_t, a_t)
  bootstrapValues: Float64Array; // [T×N], stateValue(final observation) where truncated only, else 0
  lastValues: Float64Array; // [N], stateValue(s_T)
}

/** Zeroed rollout tensors for T steps of N envs. */
export function allocateRollout(T: number, N: number): RolloutTensors {
  const rows = T * N;
  return {
    T,
    N,
    obs: new Float32Array(rows * 4),
    actions: new Uint32Array(rows),
    terminated: new Uint8Array(rows),
    truncated: new Uint8Array(rows),
    rewards: new Float64Array(rows),
    values: new Float64Array(rows),
    bootstrapValues: new Float64Array(rows),
    lastValues: new Float64Array(N),
  };
}

export interface CpuRollout extends RolloutTensors {
  logits: Float64Array; // [T×N×A]
  uniforms: Float64Array; // [T×N], the u each sample drew
  sampledActions: Uint32Array; // [T×N], what the inverse CDF chose (= actions unless forced)
  envs: Uint32Array; // [N×8], the slots after the rollout
  finishedReturns: number[]; // per finished episode, in (step, env) order
  finishedLengths: number[];
}

export interface RolloutArgs {
  params: FloatArray; // [P]
  shape: NetShape;
  envParams: CartPoleParams;
  envs: Uint32Array; // [N×8], read only
  seed: number;
  update: number;
  T: number;
  N: number;
  /**
   * [T×N]: take these actions instead of the sampled ones (still reported in sampledActions). Lets a
   * test follow the GPU's trajectory where f32 and f64 probabilities fall on either side of u.
   */
  forcedActions?: ArrayLike<number>;
  /** [N]: slot n is env envIndices[n] of a larger batch (its RNG keys and resets); default n. */
  envIndices?: ArrayLike<number>;
}

/** Inverse CDF of the categorical distribution with log-probabilities logp[offset .. offset+A) at u. */
export function sampleAction(logp: ArrayLike<number>, offset: number, A: number, u: number): number {
  let cdf = 0;
  for (let a = 0; a + 1 < A; a++) {
    cdf += Math.exp(logp[offset + a]);
    if (u < cdf) return a;
  }
  return A - 1;
}

/** stateValue of each of B observations: V(s), or Σ_a π(a|s)·Q(s, a) for a Q-critic. */
export function stateValues(params: FloatArray, shape: NetShape, obs: ArrayLike<number>, B: number): Float64Array {
  const { numActions: A, valueOutputs: V } = shape;
  const cache = actorCriticForward(params, shape, obs, B);
  const out = new Float64Array(B);
  if (V === 1) {
    out.set(cache.values);
    return out;
  }
  const logp = new Float64Array(B * A);
  policyHeadForward(logp, new Float64Array(B), new Float64Array(B), cache.logits, new Uint32Array(B), B, A);
  for (let b = 0; b < B; b++) {
    let e = 0;
    for (let a = 0; a < A; a++) e += Math.exp(logp[b * A + a]) * cache.values[b * V + a];
    out[b] = e;
  }
  return out;
}

export function rolloutCollect(args: RolloutArgs): CpuRollout {
  const { params, shape, envParams, seed, update, T, N, forcedActions, envIndices } = args;
  const { numActions: A, valueOutputs: V } = shape;
  if (args.envs.length !== N * ENV_SLOT_WORDS) throw new Error(`rolloutCollect: envs holds ${args.envs.length / ENV_SLOT_WORDS} slots, N = ${N}`);
  const envs = args.envs.slice();
  const f32 = new Float32Array(envs.buffer);
  const rows = T * N;
  const out: CpuRollout = {
    ...allocateRollout(T, N),
    logits: new Float64Array(rows * A),
    uniforms: new Float64Array(rows),
    sampledActions: new Uint32Array(rows),
    envs,
    finishedReturns: [],
    finishedLengths: [],
  };
  const state = new Float32Array(N * 4); // s_t of every env
  for (let n = 0; n < N; n++) state.set(f32.subarray(n * ENV_SLOT_WORDS, n * ENV_SLOT_WORDS + 4), n * 4);
  const logp = new Float64Array(N * A);
  const s = new Float32Array(4);

  for (let t = 0; t < T; t++) {
    const base = t * N;
    out.obs.set(state, base * 4);
    const cache = actorCriticForward(params, shape, state, N);
    out.logits.set(cache.logits, base * A);
    policyHeadForward(logp, new Float64Array(N), new Float64Array(N), cache.logits, new Uint32Array(N), N, A);
    const truncatedOnly: number[] = [];
    const finalObs: number[] = [];
    for (let n = 0; n < N; n++) {
      const row = base + n;
      const env = envIndices ? envIndices[n] : n;
      const u = rngUniform(seed, RNG_STREAM_ACTION, env, update * T + t);
      const sampled = sampleAction(logp, n * A, A, u);
      const action = forcedActions ? forcedActions[row] : sampled;
      out.uniforms[row] = u;
      out.sampledActions[row] = sampled;
      out.actions[row] = action;
      out.values[row] = cache.values[n * V + (V === 1 ? 0 : action)];

      const slot = n * ENV_SLOT_WORDS;
      s.set(state.subarray(n * 4, n * 4 + 4));
      const terminated = cartpoleStep(s, action, envParams, 'f32');
      envs[slot + 4] += 1;
      f32[slot + 6] = f32[slot + 6] + 1;
      const truncated = envs[slot + 4] >= envParams.maxEpisodeSteps;
      out.terminated[row] = terminated ? 1 : 0;
      out.truncated[row] = truncated ? 1 : 0;
      out.rewards[row] = 1;
      if (truncated && !terminated) {
        truncatedOnly.push(row);
        finalObs.push(s[0], s[1], s[2], s[3]);
      }
      if (terminated || truncated) {
        out.finishedReturns.push(f32[slot + 6]);
        out.finishedLengths.push(envs[slot + 4]);
        envs[slot + 4] = 0;
        envs[slot + 5] += 1;
        f32[slot + 6] = 0;
        for (let lane = 0; lane < 4; lane++) s[lane] = resetComponent(seed, env, envs[slot + 5], lane, 'f32');
      }
      state.set(s, n * 4);
    }
    if (truncatedOnly.length > 0) {
      const boot = stateValues(params, shape, finalObs, truncatedOnly.length);
      truncatedOnly.forEach((row, i) => (out.bootstrapValues[row] = boot[i]));
    }
  }
  out.lastValues.set(stateValues(params, shape, state, N));
  for (let n = 0; n < N; n++) f32.set(state.subarray(n * 4, n * 4 + 4), n * ENV_SLOT_WORDS);
  return out;
}
