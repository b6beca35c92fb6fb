/**
 * PPO on the GPU (the layered path's epochs of shuffled minibatches, one submit per update) against its
 * CPU reference, src/cpu/ppo.ts, from the GPU's own rollout: update 0 with all its epochs and minibatches,
 * tensor by tensor. Over several Adam steps f32 and f64 drift apart (a step divides by √v, so a gradient
 * near rounding level moves a parameter by up to the learning rate either way): one-step cases compare
 * tightly, multi-step ones compare the last minibatch's gradients and the parameters with that in mind.
 */
import { describe, expect, it } from 'vitest';
import { validateConfig, type TrainConfig } from '../../src/config.ts';
import { ppoUpdateReference, type PpoUpdateResult } from '../../src/cpu/ppo.ts';
import { rolloutCollect, type RolloutArgs } from '../../src/cpu/rollout.ts';
import { optimizerUpdate, learningRateAt, type OptimizerState } from '../../src/cpu/update.ts';
import type { RunningStats } from '../../src/cpu/normalize.ts';
import { GpuTrainer } from '../../src/trainer/gpu-trainer.ts';
import { encodeCheckpoint, decodeCheckpoint } from '../../src/checkpoint.ts';
import { train, TrainingSession } from '../../src/trainer/train.ts';
import { useGpu } from '../helpers/gpu.ts';
import { checkRollout } from './checks.ts';
import { expectClose, readUpdate, runningStats, submitUpdate, type GpuUpdate } from './harness.ts';

const gpu = useGpu();

interface PpoCase {
  name: string;
  config: Partial<TrainConfig>;
  maxRows?: number;
  /** Expected epochs run (the target-KL stop) and whether some ratio left the clip range. */
  epochs?: number;
  clips?: boolean;
}

interface Run {
  trainer: GpuTrainer;
  params: Float32Array;
  g: GpuUpdate;
  ref: PpoUpdateResult;
  metrics: Record<string, number>;
}

async function runUpdateZero(c: PpoCase): Promise<Run> {
  const config = validateConfig({ algo: 'ppo', evalEpisodes: 0, ...c.config });
  const { numEnvs: N, nSteps: T, seed } = config;
  const trainer = new GpuTrainer(gpu(), config, { maxRows: c.maxRows });
  expect(trainer.path).toBe('layered');
  const params = trainer.initialize();
  const slots = await trainer.readEnvSlots();
  let stats: RunningStats | null = null;
  if (trainer.normalizes) stats = runningStats(trainer.initialNormStats(), trainer.env.observationSize, 0);
  const norm = stats ? { stats, obs: config.normalizeObservations, reward: config.normalizeRewards, gamma: config.gamma } : undefined;
  const args: RolloutArgs = { params, shape: trainer.shape, env: trainer.env, envs: slots, seed, update: 0, T, N, norm };
  submitUpdate(trainer, 0);
  const g = await readUpdate(trainer, stats);
  const gaussian = trainer.shape.policy === 'gaussian';
  if (gaussian) g.rollout.boxActions = await trainer.layered!.readBoxActions();
  const cpu = rolloutCollect({ ...args, forcedActions: g.rollout.actions, ...(gaussian ? { forcedBoxActions: g.rollout.boxActions! } : {}) });
  checkRollout(g, cpu, args, true);
  const P = trainer.layout.total;
  const ref = ppoUpdateReference({ params: params.slice(), optM: new Float32Array(P), optV: new Float32Array(P) }, trainer.shape, g.rollout, config, 0, seed, 0);
  const metrics = g.metrics as unknown as Record<string, number>;
  return { trainer, params, g, ref, metrics };
}

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

describe('PPO, one minibatch step (ratio 1): GPU vs CPU reference, tensor by tensor', () => {
  const cases: PpoCase[] = [
    { name: 'CartPole-v1, one layer of 64, N = 16, T = 8, value clipping', config: { numEnvs: 16, nSteps: 8, updateEpochs: 1, numMinibatches: 1, seed: 81 } },
    { name: 'Acrobot-v1, 32,32 relu, N = 63, T = 4, observations normalized, in chunks of 50 rows', config: { env: 'Acrobot-v1', netArch: '32,32', activation: 'relu', numEnvs: 63, nSteps: 4, updateEpochs: 1, numMinibatches: 1, normalizeObservations: true, seed: 82 }, maxRows: 50 },
    { name: 'Pendulum-v1 (Gaussian), 64,64, N = 16, T = 8', config: { env: 'Pendulum-v1', numEnvs: 16, nSteps: 8, updateEpochs: 1, numMinibatches: 1, seed: 83 } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { trainer, params, g, ref, metrics } = await runUpdateZero(c);
      const P = trainer.layout.total;
      expect(metrics.epochs).toBe(1);
      expect(metrics.adamSteps).toBe(1);
      expect(metrics.minibatches).toBe(1);
      expect(ref.stepsAfter).toBe(1);
      // log π_old stored by the GPU (targets.w) against the CPU's, from the same parameters.
      const targetBuf = new Float32Array(await (await import('../../src/gpu/kernel.ts')).readBuffer(trainer.ctx, trainer.buffers.targets, trainer.numRows * 16));
      const oldLogProb = Array.from({ length: trainer.numRows }, (_, i) => targetBuf[i * 4 + 3]);
      expectClose('log π_old', oldLogProb, ref.oldLogProb, { rtol: 1e-5, atol: 1e-6 });
      const want = ref.minibatches[0].grads;
      for (const slot of trainer.layout.tensors) {
        const part = want.subarray(slot.offset, slot.offset + slot.size);
        expectClose(`grads.${slot.name}`, g.grads.subarray(slot.offset, slot.offset + slot.size), part, { rtol: 1e-4, atol: 1e-5 * maxAbs(part) + 1e-12 });
      }
      expectClose('policyLoss', [metrics.policyLoss], [ref.pgLoss], { rtol: 1e-4, atol: 1e-6 });
      expectClose('valueLoss', [metrics.valueLoss], [ref.vLoss], { rtol: 1e-5, atol: 1e-7 });
      expectClose('entropy', [metrics.entropy], [ref.entropy], { rtol: 1e-5, atol: 1e-7 });
      expectClose('approxKl', [metrics.approxKl], [ref.approxKl], { rtol: 0, atol: 1e-6 });
      expect(metrics.clipFractionSum).toBe(0);
      // The step on the GPU's own gradients: Adam's t = 1 counted on the GPU, its bias corrections in f32.
      const state: OptimizerState = { params: params.slice(), optM: new Float32Array(P), optV: new Float32Array(P) };
      optimizerUpdate(state, g.grads, { policyLoss: metrics.policyLoss, valueLoss: metrics.valueLoss, entropy: metrics.entropy }, trainer.config, 0, learningRateAt(trainer.config, trainer.numRows, 0));
      let maxStep = 0;
      for (let i = 0; i < P; i++) maxStep = Math.max(maxStep, Math.abs(state.params[i] - params[i]));
      expect(maxStep).toBeGreaterThan(0);
      expectClose('params', g.params, state.params, { rtol: 2.5e-7, atol: 1e-5 * maxStep });
      expectClose('optV', g.optV, state.optV, { rtol: 5e-5, atol: 1e-20 });
      trainer.destroy();
    });
  }
});

describe('PPO, a whole update (epochs × shuffled minibatches, clipping): GPU vs CPU reference', () => {
  const cases: PpoCase[] = [
    {
      name: 'CartPole-v1, 3 epochs × 4 minibatches of 32, lr 0.01 (ratios leave the clip range), N = 16, T = 8',
      config: { numEnvs: 16, nSteps: 8, updateEpochs: 3, numMinibatches: 4, learningRate: 0.01, clipCoef: 0.1, seed: 91 },
      clips: true,
    },
    {
      name: 'CartPole-v1, 32,32, 2 epochs × 2 minibatches of 65 in chunks of 20 rows, RMSprop, no value clipping, N = 65, T = 2',
      config: { netArch: '32,32', numEnvs: 65, nSteps: 2, updateEpochs: 2, numMinibatches: 2, optimizer: 'rmsprop', clipVloss: false, learningRate: 3e-3, seed: 92 },
      maxRows: 20,
    },
    {
      name: 'Pendulum-v1 (Gaussian), 64,64, 4 epochs × 2 minibatches, lr 0.01, rewards normalized, N = 8, T = 16',
      config: { env: 'Pendulum-v1', numEnvs: 8, nSteps: 16, updateEpochs: 4, numMinibatches: 2, learningRate: 0.01, clipCoef: 0.1, normalizeRewards: true, seed: 93 },
      clips: true,
    },
    {
      name: 'CartPole-v1, the target KL stops the update after its first epoch (of 4), shared trunk 32',
      config: { hidden: 32, sharedTrunk: true, numEnvs: 16, nSteps: 8, updateEpochs: 4, numMinibatches: 4, learningRate: 0.01, targetKl: 1e-7, seed: 94 },
      epochs: 1,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { trainer, params, g, ref, metrics } = await runUpdateZero(c);
      const { updateEpochs: E, numMinibatches: MB } = trainer.config;
      const epochs = c.epochs ?? E;
      expect(ref.epochsRun, 'the reference ran the epochs this case is about').toBe(epochs);
      expect(metrics.epochs, 'epochs run on the GPU').toBe(epochs);
      expect(metrics.adamSteps, "Adam's step count").toBe(epochs * MB);
      expect(metrics.minibatches).toBe(epochs * MB);
      expect(metrics.klStopped).toBe(epochs < E ? 1 : 0);
      if (c.clips) expect(ref.clipFraction, 'some ratio left the clip range').toBeGreaterThan(0);
      // The last minibatch's gradients, at parameters a few f32 steps from the CPU's. (After a target-KL stop
      // the GPU still computes the later minibatches' gradients, at the parameters it keeps: not compared.)
      const last = ref.minibatches[ref.minibatches.length - 1];
      if (epochs === E) for (const slot of trainer.layout.tensors) {
        const part = last.grads.subarray(slot.offset, slot.offset + slot.size);
        expectClose(`last minibatch grads.${slot.name}`, g.grads.subarray(slot.offset, slot.offset + slot.size), part, { rtol: 2e-2, atol: 2e-2 * maxAbs(part) + 1e-9 });
      }
      expectClose('approxKl', [metrics.approxKl], [ref.approxKl], { rtol: 2e-2, atol: 1e-6 });
      // A row whose ratio sits within rounding of 1 ± c may count on one side only: one row per minibatch.
      const rowsPerMinibatch = trainer.numRows / MB;
      expectClose('clipFraction', [metrics.clipFractionSum / metrics.minibatches], [ref.clipFraction], { rtol: 0, atol: 1 / rowsPerMinibatch + 1e-6 });
      expectClose('valueLoss', [metrics.valueLoss], [ref.vLoss], { rtol: 2e-3, atol: 1e-6 });
      expectClose('entropy', [metrics.entropy], [ref.entropy], { rtol: 1e-4, atol: 1e-6 });
      // Parameters after every step: each within a few learning rates of the CPU's (Adam's sign(g)-like first
      // steps amplify rounding where a gradient is ~0), and nearly all of them within 1% of the step taken.
      const lr = trainer.config.learningRate;
      let within = 0, moved = 0;
      for (let i = 0; i < params.length; i++) {
        const step = Math.abs(ref.state.params[i] - params[i]);
        const err = Math.abs(g.params[i] - ref.state.params[i]);
        expect(err, `param ${i}: GPU ${g.params[i]} vs CPU ${ref.state.params[i]}`).toBeLessThanOrEqual(2 * lr * epochs * MB);
        if (step > 0) moved++;
        if (err <= 1e-2 * step + 1e-6 * lr) within++;
      }
      expect(moved, 'the update moved the parameters').toBeGreaterThan(params.length / 2);
      expect(within / params.length, 'parameters within 1% of their step').toBeGreaterThan(0.97);
      trainer.destroy();
    });
  }
});

describe('PPO with several agents', () => {
  it('agent 1 of a G = 2 run is bit for bit the lone run seeded seed + 1 (its own shuffle, KL stop and Adam count)', async () => {
    const common = { algo: 'ppo' as const, numEnvs: 8, nSteps: 16, updateEpochs: 3, numMinibatches: 4, targetKl: 0.002, learningRate: 0.01, totalSteps: 8 * 16 * 6, evalEpisodes: 0 };
    const together = await train(gpu(), { ...common, numAgents: 2, seed: 7 });
    const alone = await train(gpu(), { ...common, numAgents: 1, seed: 8 });
    const P = alone.state.params.length;
    expect(Array.from(together.state.params.subarray(P, 2 * P))).toEqual(Array.from(alone.state.params));
    expect(Array.from(together.state.optV.subarray(P, 2 * P))).toEqual(Array.from(alone.state.optV));
    expect(together.state.adamSteps![1]).toBe(alone.state.adamSteps![0]);
    // The target KL fired in some update: fewer steps than 6 updates × 3 epochs × 4 minibatches.
    expect(alone.state.adamSteps![0]).toBeLessThan(6 * 3 * 4);
    expect(alone.state.adamSteps![0]).toBeGreaterThanOrEqual(6 * 4);
  });
});

describe('PPO through a checkpoint', () => {
  it("3 + 3 updates through a checkpoint equal 6 in one go, bit for bit, with the target KL cutting some updates short (Adam's count saved)", async () => {
    const config: Partial<TrainConfig> = { algo: 'ppo', env: 'Acrobot-v1', netArch: '16,16', numEnvs: 8, nSteps: 16, updateEpochs: 4, numMinibatches: 2, learningRate: 0.01, targetKl: 0.001, seed: 95, metricsEvery: 1 };
    const whole = new TrainingSession(gpu(), config);
    whole.initialize();
    for (let i = 0; i < 6; i++) await whole.step();
    const want = await whole.checkpoint();
    whole.destroy();

    const first = new TrainingSession(gpu(), config);
    first.initialize();
    for (let i = 0; i < 3; i++) await first.step();
    const saved = decodeCheckpoint(encodeCheckpoint(await first.checkpoint()));
    first.destroy();
    const second = new TrainingSession(gpu(), saved.config);
    second.restore(saved);
    for (let i = 0; i < 3; i++) await second.step();
    const got = await second.checkpoint();
    second.destroy();

    // Some update stopped early: fewer Adam steps than 6 updates × 4 epochs × 2 minibatches.
    expect(saved.adamSteps![0]).toBeLessThan(3 * 4 * 2);
    expect(want.adamSteps![0]).toBeLessThan(6 * 4 * 2);
    expect(got.adamSteps![0]).toBe(want.adamSteps![0]);
    const bits = (a: Float32Array | Uint32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    for (const key of ['params', 'optM', 'optV', 'envSlots'] as const) expect(bits(got[key]!).equals(bits(want[key]!)), key).toBe(true);
  });
});
