/**
 * One full update, GPU vs CPU reference tensor by tensor (test/trainer/checks.ts), on the envs beyond
 * CartPole: observations of 6 (Acrobot: two vec4s) and 2 floats (MountainCar), three actions, a Q-critic
 * with three outputs, the four-unit backward with two observation vec4s, and a fixture with four actions
 * and five observations (the second rest row per unit, three padded lanes); with the running statistics
 * of observations and rewards (VecNormalize) started away from their initial values, and their merge.
 * Then an exact resume with normalization: K + K updates through a checkpoint equal 2K in one go.
 */
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/checkpoint.ts';
import type { TrainConfig } from '../../src/config.ts';
import { GpuTrainer } from '../../src/trainer/gpu-trainer.ts';
import { TrainingSession } from '../../src/trainer/train.ts';
import { useGpu } from '../helpers/gpu.ts';
import { registerWalk4 } from '../helpers/walk4.ts';
import { checkUpdateZero, type Case } from './checks.ts';

const gpu = useGpu();

registerWalk4();

/** Running statistics far from RunningMeanStd's start, so that normalization changes every input. */
function skewedStats(trainer: GpuTrainer): Float32Array {
  const stats = trainer.initialNormStats();
  const ov4 = Math.ceil(trainer.env.observationSize / 4) * 4;
  for (let k = 0; k < trainer.env.observationSize; k++) {
    stats[k] = 0.3 * Math.sin(k + 1);
    stats[ov4 + k] = 0.05 + 0.4 * k;
  }
  stats[2 * ov4] = -2;
  stats[2 * ov4 + 1] = 40;
  return stats;
}

const trainers: GpuTrainer[] = [];
function makeTrainer(config: TrainConfig): GpuTrainer {
  const trainer = new GpuTrainer(gpu(), config);
  trainers.push(trainer);
  return trainer;
}

const CASES: Case[] = [
  {
    name: 'Acrobot-v1 (O = 6, A = 3), a2c, tanh, Adam, N = 64, T = 16, observations and rewards normalized',
    config: { env: 'Acrobot-v1', algo: 'a2c', activation: 'tanh', hidden: 8, numEnvs: 64, nSteps: 16, entCoef: 0.01, normalizeObservations: true, normalizeRewards: true, seed: 41 },
    normStats: skewedStats,
  },
  {
    name: 'Acrobot-v1, qac (Q with three outputs), relu, RMSprop, N = 65, T = 8',
    config: { env: 'Acrobot-v1', algo: 'qac', activation: 'relu', hidden: 72, numEnvs: 65, nSteps: 8, optimizer: 'rmsprop', seed: 42 },
  },
  {
    name: 'Acrobot-v1, a2c, relu, H = 300 (four units per backward thread over two observation vec4s), N = 1030, T = 4, observations normalized',
    config: { env: 'Acrobot-v1', algo: 'a2c', activation: 'relu', hidden: 300, numEnvs: 1030, nSteps: 4, normalizeObservations: true, seed: 43 },
    normStats: skewedStats,
  },
  {
    name: 'MountainCar-v0 (O = 2), tdac, tanh, N = 63, T = 32, rewards normalized',
    config: { env: 'MountainCar-v0', algo: 'tdac', activation: 'tanh', hidden: 16, numEnvs: 63, nSteps: 32, normalizeRewards: true, seed: 44 },
    normStats: skewedStats,
  },
  {
    name: 'Walk4-test (O = 5, A = 4), a2c, tanh, shared trunk, N = 65, T = 16',
    config: { env: 'Walk4-test', algo: 'a2c', activation: 'tanh', hidden: 8, numEnvs: 65, nSteps: 16, sharedTrunk: true, entCoef: 0.02, seed: 45 },
  },
  {
    name: 'Walk4-test, qac (Q with four outputs), relu, H = 300, N = 1030, T = 4, observations normalized',
    config: { env: 'Walk4-test', algo: 'qac', activation: 'relu', hidden: 300, numEnvs: 1030, nSteps: 4, normalizeObservations: true, seed: 46 },
    normStats: skewedStats,
  },
];

describe('update 0 beyond CartPole: GPU vs CPU reference, tensor by tensor', () => {
  for (const c of CASES) it(c.name, () => checkUpdateZero(gpu(), c, makeTrainer));
});

describe('exact resume with running statistics', () => {
  it('Acrobot-v1 with observations and rewards normalized: 4 + 4 updates through a checkpoint equal 8 in one go, bit for bit', async () => {
    const config: Partial<TrainConfig> = { env: 'Acrobot-v1', numEnvs: 32, nSteps: 8, hidden: 16, normalizeObservations: true, normalizeRewards: true, seed: 47, metricsEvery: 2 };
    const whole = new TrainingSession(gpu(), config);
    whole.initialize();
    for (let i = 0; i < 8; i++) await whole.step();
    const want = await whole.checkpoint();
    whole.destroy();

    const first = new TrainingSession(gpu(), config);
    first.initialize();
    for (let i = 0; i < 4; i++) await first.step();
    const bytes = encodeCheckpoint(await first.checkpoint());
    first.destroy();
    const saved = decodeCheckpoint(bytes);
    expect(saved.normStats, 'the checkpoint carries the statistics').not.toBeNull();
    const second = new TrainingSession(gpu(), saved.config);
    second.restore(saved);
    for (let i = 0; i < 4; i++) await second.step();
    const got = await second.checkpoint();
    second.destroy();

    const bits = (a: Float32Array | Uint32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    for (const key of ['params', 'optM', 'optV', 'envSlots', 'normStats'] as const) expect(bits(got[key]!).equals(bits(want[key]!)), key).toBe(true);
    // The statistics moved away from their start (mean 0, variance 1).
    expect(Array.from(want.normStats!.subarray(0, 6)).some((v) => v !== 0)).toBe(true);
  });

  it('a target counts as reached at the first report where 100 finished episodes average it, however few envs run', async () => {
    // Every CartPole episode lasts at least 8 steps and returns its length, so a target of 5 holds for any
    // episode: only the count decides. Two envs finish two episodes long before a hundred.
    const session = new TrainingSession(gpu(), { env: 'CartPole-v1', numEnvs: 2, nSteps: 8, hidden: 8, targetReturn: 5, metricsEvery: 1, seed: 7 });
    session.initialize();
    const finishedAt: number[] = [];
    while (session.solvedAtStep[0] === null) {
      await session.step();
      await session.drain();
      finishedAt.push(session.returns.length);
      expect(session.update).toBeLessThan(2000);
    }
    session.destroy();
    expect(finishedAt.at(-1)).toBeGreaterThanOrEqual(100);
    expect(finishedAt.at(-2)).toBeLessThan(100);
    expect(session.solvedAtStep[0]).toBe(finishedAt.length * 2 * 8);
  });

  it('a run checkpointed after reaching its target resumes with the same solvedAtStep and stops at the same update', async () => {
    const config: Partial<TrainConfig> = { env: 'CartPole-v1', numEnvs: 16, nSteps: 8, hidden: 8, targetReturn: 15, metricsEvery: 2, seed: 48 };
    const first = new TrainingSession(gpu(), config);
    first.initialize();
    while (first.solvedAtStep[0] === null) {
      await first.step();
      await first.drain();
    }
    const saved = decodeCheckpoint(encodeCheckpoint(await first.checkpoint()));
    const stopAt = first.stopAtUpdate;
    first.destroy();
    expect(saved.solvedAtStep).toEqual(first.solvedAtStep);
    expect(stopAt).not.toBeNull();

    const second = new TrainingSession(gpu(), saved.config);
    second.restore(saved);
    expect(second.solved).toBe(true);
    expect(second.solvedAtStep).toEqual(first.solvedAtStep);
    expect(second.stopAtUpdate).toBe(stopAt);
    second.destroy();
  });
});
