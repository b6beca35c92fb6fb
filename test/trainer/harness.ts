/**
 * Helpers of the update-level test: run one GPU update, read every tensor it wrote back into the CPU
 * references' shapes, build env slots with episodes about to end, and compare arrays with a report of
 * the worst element.
 */
import { expect } from 'vitest';
import { defaultConfig, type TrainConfig } from '../../src/config.ts';
import { cartPoleSpec } from '../../src/envs/cartpole.ts';
import type { EnvSpec } from '../../src/envs/types.ts';
import { allocateRollout, type RolloutTensors } from '../../src/cpu/rollout.ts';
import { NORM_INITIAL_COUNT, type RunningStats } from '../../src/cpu/normalize.ts';
import type { UpdateTargets } from '../../src/cpu/update.ts';
import { readBuffer } from '../../src/gpu/kernel.ts';
import { METRIC_SLOTS, NUM_METRICS, type GpuTrainer } from '../../src/trainer/gpu-trainer.ts';

/** Words of a CartPole env slot: 4 state words, then elapsed, episode, return, discounted return. */
export const ENV_SLOT_WORDS = 8;

export function trainConfig(partial: Partial<TrainConfig>): TrainConfig {
  return { ...defaultConfig(), ...partial };
}

/** Encodes and submits update `update` (the uniform first, as TrainingSession.step does). */
export function submitUpdate(trainer: GpuTrainer, update: number): void {
  trainer.writeUniform(update);
  const encoder = trainer.ctx.device.createCommandEncoder({ label: `test update ${update}` });
  trainer.encodeUpdate(encoder, update);
  trainer.ctx.device.queue.submit([encoder.finish()]);
}

export async function readF32(trainer: GpuTrainer, buffer: GPUBuffer, count: number): Promise<Float32Array> {
  return new Float32Array(await readBuffer(trainer.ctx, buffer, count * 4));
}

export interface GpuMetrics {
  weightSum: number;
  advantageMean: number;
  advantageStd: number;
  explainedVariance: number;
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  gradNorm: number;
  nonFinite: number;
  clipScale: number;
}

export async function readMetrics(trainer: GpuTrainer): Promise<GpuMetrics> {
  const m = await readF32(trainer, trainer.buffers.metrics, NUM_METRICS);
  const out = {} as Record<string, number>;
  for (const [name, slot] of Object.entries(METRIC_SLOTS)) out[name] = m[slot];
  return out as unknown as GpuMetrics;
}

/** Everything one GPU update leaves in the trainer's buffers. */
export interface GpuUpdate {
  rollout: RolloutTensors;
  logits: Float32Array; // [T×N×A]
  targets: UpdateTargets;
  /** What the GPU stored as the weight (0/1) of each row, and its raw advantage/return for every row. */
  targetWeights: Float32Array;
  envs: Uint32Array;
  grads: Float32Array;
  params: Float32Array;
  optM: Float32Array;
  optV: Float32Array;
  metrics: GpuMetrics;
  stats: { finished: number; lengthSum: number };
}

/** `obsNorm`: the running statistics the update's rollout normalized with (the GPU merged new ones since). */
export async function readUpdate(trainer: GpuTrainer, obsNorm: RunningStats | null = null): Promise<GpuUpdate> {
  const { numEnvs: N, nSteps: T } = trainer.config;
  const rows = N * T;
  const A = trainer.shape.numActions;
  const P = trainer.layout.total;
  const b = trainer.buffers;
  const O = trainer.env.observationSize;
  const OV = Math.ceil(O / 4);
  const padded = await readF32(trainer, b.obs, rows * OV * 4);
  const obs = new Float32Array(rows * O);
  for (let r = 0; r < rows; r++) obs.set(padded.subarray(r * OV * 4, r * OV * 4 + O), r * O);
  const info = new Uint32Array(await readBuffer(trainer.ctx, b.stepInfo, rows * 4));
  const logits = await readF32(trainer, b.logits, rows * A);
  const valueBuf = await readF32(trainer, b.values, (rows + N) * 4);
  const targetBuf = await readF32(trainer, b.targets, rows * 4);
  const stats = new Uint32Array(await readBuffer(trainer.ctx, b.stats, 16));
  const rollout: RolloutTensors = { ...allocateRollout(T, N, O), obs, obsNorm: trainer.config.normalizeObservations ? obsNorm : null };
  const targets: UpdateTargets = { advantages: new Float64Array(rows), returns: new Float64Array(rows), weights: new Uint8Array(rows) };
  const targetWeights = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    rollout.actions[i] = info[i] & 0xff;
    rollout.terminated[i] = (info[i] >> 8) & 1;
    rollout.truncated[i] = (info[i] >> 9) & 1;
    rollout.values[i] = valueBuf[i * 4];
    rollout.bootstrapValues[i] = valueBuf[i * 4 + 1];
    rollout.rewards[i] = valueBuf[i * 4 + 2];
    rollout.discountedReturns[i] = valueBuf[i * 4 + 3];
    targets.advantages[i] = targetBuf[i * 4];
    targets.returns[i] = targetBuf[i * 4 + 1];
    targetWeights[i] = targetBuf[i * 4 + 2];
    targets.weights[i] = targetWeights[i] !== 0 ? 1 : 0;
  }
  for (let n = 0; n < N; n++) rollout.lastValues[n] = valueBuf[(rows + n) * 4];
  return {
    rollout,
    logits,
    targets,
    targetWeights,
    envs: await trainer.readEnvSlots(),
    grads: await readF32(trainer, b.grads, P),
    params: await readF32(trainer, b.params, P),
    optM: await readF32(trainer, b.optM, P),
    optV: await readF32(trainer, b.optV, P),
    metrics: await readMetrics(trainer),
    stats: { finished: stats[0], lengthSum: stats[1] },
  };
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise (on the rows `include` accepts) and
 * returns the worst ratio of error to allowance, so a failure names the element and its values.
 */
export function expectClose(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { rtol: number; atol: number },
  include: (i: number) => boolean = () => true,
): number {
  expect(actual.length, `${name}: length`).toBe(expected.length);
  let worst = 0, at = -1;
  for (let i = 0; i < expected.length; i++) {
    if (!include(i)) continue;
    const err = Math.abs(actual[i] - expected[i]);
    const ratio = err / (tol.atol + tol.rtol * Math.abs(expected[i]));
    // NaN fails too: the comparison below is false for it.
    if (!(ratio <= worst)) {
      worst = Number.isNaN(ratio) ? Infinity : ratio;
      at = i;
    }
  }
  if (worst > 1) {
    expect.fail(`${name}[${at}]: GPU ${actual[at]} vs CPU ${expected[at]} (|err| ${Math.abs(actual[at] - expected[at]).toExponential(2)}, ${worst.toFixed(1)}× the tolerance rtol ${tol.rtol} atol ${tol.atol})`);
  }
  return worst;
}

/**
 * Agent `agent`'s running statistics as the GPU holds them ([G × (2·OV + 1) × 4] f32, train_params.wgsl)
 * in the CPU reference's form; the count is the host's (it is no GPU state).
 */
export function runningStats(norm: Float32Array, O: number, agent: number, count = NORM_INITIAL_COUNT): RunningStats {
  const OV = Math.ceil(O / 4);
  const base = agent * (2 * OV + 1) * 4;
  return {
    obsMean: Float64Array.from(norm.subarray(base, base + O)),
    obsVar: Float64Array.from(norm.subarray(base + OV * 4, base + OV * 4 + O)),
    retMean: norm[base + 2 * OV * 4],
    retVar: norm[base + 2 * OV * 4 + 1],
    count,
  };
}

/** Env slots: every env at the reset state of (seed, env, 0), as rolloutReset leaves them (default CartPole). */
export function resetSlots(seed: number, N: number, env: EnvSpec = cartPoleSpec('CartPole-v1')): Uint32Array {
  const S = env.stateNames.length;
  const slots = new Uint32Array(N * (S + 4));
  const f32 = new Float32Array(slots.buffer);
  for (let n = 0; n < N; n++) env.cpu!.reset(f32.subarray(n * (S + 4), n * (S + 4) + S), seed, n, 0, 'f32');
  return slots;
}

/** Overwrites env `n`'s slot: state, steps already taken in the episode, episode index; return = elapsed. */
export function setSlot(slots: Uint32Array, n: number, state: number[], elapsed: number, episode = 3): void {
  const f32 = new Float32Array(slots.buffer);
  const o = n * ENV_SLOT_WORDS;
  for (let k = 0; k < 4; k++) f32[o + k] = state[k];
  slots[o + 4] = elapsed;
  slots[o + 5] = episode;
  f32[o + 6] = elapsed;
  slots[o + 7] = 0;
}

/** The rollout rows, logits and env slots of envs `ids` only (T steps each), as a GpuUpdate of N = ids.length. */
export function selectEnvs(g: GpuUpdate, ids: number[]): GpuUpdate {
  const { T, N } = g.rollout;
  const M = ids.length;
  const r = g.rollout;
  const rows = (t: number, j: number) => t * N + ids[j];
  const pick = <U extends Float32Array | Float64Array | Uint8Array | Uint32Array>(src: U, width: number, make: new (n: number) => U): U => {
    const out = new make(T * M * width);
    for (let t = 0; t < T; t++) for (let j = 0; j < M; j++) out.set(src.subarray(rows(t, j) * width, rows(t, j) * width + width), (t * M + j) * width);
    return out;
  };
  const envs = new Uint32Array(M * ENV_SLOT_WORDS);
  ids.forEach((n, j) => envs.set(g.envs.subarray(n * ENV_SLOT_WORDS, (n + 1) * ENV_SLOT_WORDS), j * ENV_SLOT_WORDS));
  return {
    ...g,
    rollout: {
      T,
      N: M,
      O: r.O,
      obsNorm: r.obsNorm,
      boxActions: r.boxActions,
      discountedReturns: pick(r.discountedReturns, 1, Float64Array),
      obs: pick(r.obs, r.O, Float32Array),
      actions: pick(r.actions, 1, Uint32Array),
      terminated: pick(r.terminated, 1, Uint8Array),
      truncated: pick(r.truncated, 1, Uint8Array),
      rewards: pick(r.rewards, 1, Float64Array),
      values: pick(r.values, 1, Float64Array),
      bootstrapValues: pick(r.bootstrapValues, 1, Float64Array),
      lastValues: Float64Array.from(ids, (n) => r.lastValues[n]),
    },
    logits: pick(g.logits, 2, Float32Array),
    envs,
  };
}
