/**
 * CPU reference of rolloutCollect (shaders/rollout.wgsl): N envs of any env (its CPU reference, in f32 as
 * the GPU holds the state) stepped through the T steps of update `update`, written by hand from the
 * shader's header and the env/RNG references, never derived from the kernel. Per step t and env n
 * (row t*N + n):
 *   o_t      = observe(s_t) (f32);  x_t = o_t, or normalized by the frozen running statistics
 *   logits_t = actor(x_t)                                   f64 forward
 *   u        = rngUniform(seed, RNG_STREAM_ACTION, n, update*T + t)
 *   a_t      = inverse CDF: the first a < A−1 with u < Σ_{k≤a} exp(logp_k), else A−1
 *              (a Gaussian policy: a_t = μ_t + σ·ε from (seed, n, update*T + t), kept unclipped in f32,
 *              the env stepped with it clipped to the Box)
 *   value_t  = V(x_t), or Q(x_t, a_t) for a Q-critic
 *   s_{t+1}, r_t, terminated = env.step(s_t, a_t, 'f32'); elapsed += 1; return += r_t (f32)
 *   truncated when elapsed ≥ maxEpisodeSteps
 *   reward normalization: ret = γ·ret + r_t (f32), stored r_t / sqrt(ret_var + 1e-8) clipped to ±10
 *   bootstrap_t = stateValue(x of the final observation) where truncated and not terminated, else 0
 *   where done: same-step autoreset to env.reset(seed, n, episode + 1, 'f32'); ret = 0
 * then lastValues = stateValue(x_T). stateValue is V, or Σ_a π(a|x)·Q(x, a) for a Q-critic.
 * Env slots are the GPU's layout: [N × (S+4)] u32, per env S × f32 state bits, elapsed, episode, return
 * (f32 bits), discounted return (f32 bits). Network arithmetic is f64 (src/cpu/actor-critic.ts).
 */
import type { EnvSpec } from '../envs/types.ts';
import type { FloatArray, NetShape } from '../model/layout.ts';
import { RNG_STREAM_ACTION, rngUniform } from '../rng.ts';
import { paramLayout, tensorView } from '../model/layout.ts';
import { actorCriticForward } from './actor-critic.ts';
import { clipAction, gaussianSample } from './gaussian.ts';
import { normalizeObservation, normalizeReward, type RunningStats } from './normalize.ts';
import { policyHeadForward } from './policy-head.ts';

/** What an update consumes from a rollout; the GPU's buffers decode to the same shape. Rows t*N + n. */
export interface RolloutTensors {
  T: number;
  N: number;
  /** O: floats per observation. */
  O: number;
  obs: Float32Array; // [T×N×O], the raw observation of s_t
  actions: Uint32Array; // [T×N]
  terminated: Uint8Array; // [T×N]
  truncated: Uint8Array; // [T×N]
  rewards: Float64Array; // [T×N], normalized when the rollout normalized rewards
  values: Float64Array; // [T×N], V(x_t) or Q(x_t, a_t)
  bootstrapValues: Float64Array; // [T×N], stateValue(final observation) where truncated only, else 0
  lastValues: Float64Array; // [N], stateValue(x_T)
  /** [T×N]: the discounted return that normalizes rewards (0 without reward normalization). */
  discountedReturns: Float64Array;
  /** The frozen statistics the network's inputs were normalized with; null: raw observations. */
  obsNorm: RunningStats | null;
  /** [T×N×D]: a Gaussian policy's unclipped samples (f32, as the GPU stores them); null for Discrete envs. */
  boxActions: Float32Array | null;
}

/** Zeroed rollout tensors for T steps of N envs with O-float observations. */
export function allocateRollout(T: number, N: number, O = 4): RolloutTensors {
  const rows = T * N;
  return {
    T,
    N,
    O,
    obs: new Float32Array(rows * O),
    actions: new Uint32Array(rows),
    terminated: new Uint8Array(rows),
    truncated: new Uint8Array(rows),
    rewards: new Float64Array(rows),
    values: new Float64Array(rows),
    bootstrapValues: new Float64Array(rows),
    lastValues: new Float64Array(N),
    discountedReturns: new Float64Array(rows),
    obsNorm: null,
    boxActions: null,
  };
}

/** The network's inputs of every row [T×N×O]: the observations, normalized when the rollout was. */
export function networkInputs(ro: Pick<RolloutTensors, 'obs' | 'O' | 'obsNorm'>): Float64Array {
  const x = Float64Array.from(ro.obs);
  if (!ro.obsNorm) return x;
  for (let r = 0; r < x.length / ro.O; r++) normalizeObservation(x.subarray(r * ro.O, (r + 1) * ro.O), ro.obs.subarray(r * ro.O, (r + 1) * ro.O), ro.obsNorm);
  return x;
}

export interface CpuRollout extends RolloutTensors {
  logits: Float64Array; // [T×N×A]
  uniforms: Float64Array; // [T×N], the u each sample drew
  sampledActions: Uint32Array; // [T×N], what the inverse CDF chose (= actions unless forced)
  states: Float32Array; // [T×N×S], each env's state before the step of row t*N + n
  envs: Uint32Array; // [N×(S+4)], the slots after the rollout
  finishedReturns: number[]; // per finished episode, in (step, env) order
  finishedLengths: number[];
}

export interface RolloutArgs {
  params: FloatArray; // [P]
  shape: NetShape;
  env: EnvSpec;
  envs: Uint32Array; // [N×(S+4)], read only
  seed: number;
  update: number;
  T: number;
  N: number;
  /** Running statistics, frozen for the rollout, and which of them apply; absent: no normalization. */
  norm?: { stats: RunningStats; obs: boolean; reward: boolean; gamma: number };
  /**
   * [T×N]: take these actions instead of the sampled ones (still reported in sampledActions). Lets a
   * test follow the GPU's trajectory where f32 and f64 probabilities fall on either side of u.
   */
  forcedActions?: ArrayLike<number>;
  /** [N]: slot n is env envIndices[n] of a larger batch (its RNG keys and resets); default n. */
  envIndices?: ArrayLike<number>;
  /** [T×N×D]: a Gaussian policy's samples to take instead of its own (the GPU's: f32 sampling differs by ulps). */
  forcedBoxActions?: ArrayLike<number>;
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

/** stateValue of each of B network inputs: V(x), or Σ_a π(a|x)·Q(x, a) for a Q-critic. */
export function stateValues(params: FloatArray, shape: NetShape, inputs: ArrayLike<number>, B: number): Float64Array {
  const { numActions: A, valueOutputs: V } = shape;
  const cache = actorCriticForward(params, shape, inputs, B);
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
  const { params, shape, env, seed, update, T, N, forcedActions, envIndices, norm, forcedBoxActions } = args;
  const { numActions: A, valueOutputs: V } = shape;
  const gaussian = shape.policy === 'gaussian';
  const box = env.actionSpace.type === 'Box' ? env.actionSpace : null;
  if (gaussian !== (box !== null)) throw new Error(`rolloutCollect: a ${shape.policy ?? 'categorical'} policy cannot act in ${env.id}`);
  const logStd = gaussian ? Float64Array.from(tensorView(params, paramLayout(shape).logStd!)) : null;
  const cpu = env.cpu;
  if (!cpu) throw new Error(`rolloutCollect: env "${env.id}" has no CPU reference`);
  const S = env.stateNames.length;
  const O = env.observationSize;
  const W = S + 4;
  if (args.envs.length !== N * W) throw new Error(`rolloutCollect: envs holds ${args.envs.length / W} slots, N = ${N}`);
  const envs = args.envs.slice();
  const f32 = new Float32Array(envs.buffer);
  const rows = T * N;
  const out: CpuRollout = {
    ...allocateRollout(T, N, O),
    obsNorm: norm?.obs ? norm.stats : null,
    logits: new Float64Array(rows * A),
    uniforms: new Float64Array(rows),
    sampledActions: new Uint32Array(rows),
    states: new Float32Array(rows * S),
    envs,
    finishedReturns: [],
    finishedLengths: [],
    boxActions: gaussian ? new Float32Array(rows * A) : null,
  };
  const state = new Float32Array(N * S); // s_t of every env
  for (let n = 0; n < N; n++) state.set(f32.subarray(n * W, n * W + S), n * S);
  const raw = new Float32Array(O);
  /** The network's input for state s (f32 observation, normalized in f64 when asked). */
  const input = (s: ArrayLike<number>, into: Float64Array) => {
    cpu.observe(s, raw, 'f32');
    if (out.obsNorm) normalizeObservation(into, raw, out.obsNorm);
    else into.set(raw);
    return into;
  };
  const inputs = new Float64Array(N * O);
  const logp = new Float64Array(N * A);
  const s = new Float32Array(S);
  const step = { reward: 0, terminated: false };

  for (let t = 0; t < T; t++) {
    const base = t * N;
    out.states.set(state, base * S);
    for (let n = 0; n < N; n++) {
      cpu.observe(state.subarray(n * S, (n + 1) * S), raw, 'f32');
      out.obs.set(raw, (base + n) * O);
      input(state.subarray(n * S, (n + 1) * S), inputs.subarray(n * O, (n + 1) * O));
    }
    const cache = actorCriticForward(params, shape, inputs, N);
    out.logits.set(cache.logits, base * A);
    if (!gaussian) policyHeadForward(logp, new Float64Array(N), new Float64Array(N), cache.logits, new Uint32Array(N), N, A);
    const truncatedOnly: number[] = [];
    const finalInputs: number[] = [];
    for (let n = 0; n < N; n++) {
      const row = base + n;
      const envIndex = envIndices ? envIndices[n] : n;
      let action = 0;
      let envAction: number | Float64Array;
      if (gaussian) {
        // a = μ + σ·ε from the counter RNG (src/cpu/gaussian.ts), stored unclipped in f32; the env sees it clipped.
        const a = forcedBoxActions
          ? Float64Array.from({ length: A }, (_, d) => forcedBoxActions[row * A + d])
          : Float64Array.from(gaussianSample(cache.logits, logStd!, seed, envIndex, update * T + t, n * A), Math.fround);
        out.boxActions!.set(a, row * A);
        envAction = clipAction(a, box!.low, box!.high);
      } else {
        const u = rngUniform(seed, RNG_STREAM_ACTION, envIndex, update * T + t);
        const sampled = sampleAction(logp, n * A, A, u);
        action = forcedActions ? forcedActions[row] : sampled;
        out.uniforms[row] = u;
        out.sampledActions[row] = sampled;
        envAction = action;
      }
      out.actions[row] = action;
      out.values[row] = cache.values[n * V + (V === 1 ? 0 : action)];

      const slot = n * W;
      s.set(state.subarray(n * S, (n + 1) * S));
      cpu.step(s, envAction, 'f32', step);
      envs[slot + S] += 1;
      f32[slot + S + 2] = f32[slot + S + 2] + step.reward;
      let reward = step.reward;
      if (norm?.reward) {
        f32[slot + S + 3] = Math.fround(Math.fround(f32[slot + S + 3] * Math.fround(norm.gamma)) + Math.fround(step.reward));
        out.discountedReturns[row] = f32[slot + S + 3];
        reward = normalizeReward(step.reward, norm.stats);
      }
      const truncated = envs[slot + S] >= env.maxEpisodeSteps;
      out.terminated[row] = step.terminated ? 1 : 0;
      out.truncated[row] = truncated ? 1 : 0;
      out.rewards[row] = reward;
      if (truncated && !step.terminated) {
        truncatedOnly.push(row);
        finalInputs.push(...input(s, new Float64Array(O)));
      }
      if (step.terminated || truncated) {
        out.finishedReturns.push(f32[slot + S + 2]);
        out.finishedLengths.push(envs[slot + S]);
        envs[slot + S] = 0;
        envs[slot + S + 1] += 1;
        f32[slot + S + 2] = 0;
        f32[slot + S + 3] = 0;
        cpu.reset(s, seed, envIndex, envs[slot + S + 1], 'f32');
      }
      state.set(s, n * S);
    }
    if (truncatedOnly.length > 0) {
      const boot = stateValues(params, shape, finalInputs, truncatedOnly.length);
      truncatedOnly.forEach((row, i) => (out.bootstrapValues[row] = boot[i]));
    }
  }
  for (let n = 0; n < N; n++) input(state.subarray(n * S, (n + 1) * S), inputs.subarray(n * O, (n + 1) * O));
  out.lastValues.set(stateValues(params, shape, inputs, N));
  for (let n = 0; n < N; n++) f32.set(state.subarray(n * S, (n + 1) * S), n * W);
  return out;
}
