/**
 * The layered path (src/trainer/layered.ts: networks of any depth, either policy head) against the CPU
 * references, one full update tensor by tensor (test/trainer/checks.ts): two and three hidden layers,
 * ReLU and tanh, separate and shared trunks, unequal actor and critic, every algorithm, the Gaussian head
 * on Pendulum and MountainCarContinuous, running statistics, a one-layer network forced onto the layered
 * path (the fused kernels' semantics), and chunking: envs of a rollout step and rows of the update split
 * into awkward pieces. Then several agents side by side, each bit for bit its own run.
 */
import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../src/config.ts';
import { readBuffer } from '../../src/gpu/kernel.ts';
import { GpuTrainer } from '../../src/trainer/gpu-trainer.ts';
import { linearTilesFor } from '../../src/trainer/layered.ts';
import type { LinearTiles } from '../../src/ops/linear.ts';
import { useGpu } from '../helpers/gpu.ts';
import { registerWalk4 } from '../helpers/walk4.ts';
import { checkUpdateZero, type Case } from './checks.ts';
import { submitUpdate, trainConfig } from './harness.ts';

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

interface LayeredCase extends Case {
  maxRows?: number;
  tiles?: LinearTiles;
}

const CASES: LayeredCase[] = [
  {
    name: 'CartPole-v1, one layer (H = 64) forced onto the layered path, a2c, tanh, N = 16, T = 8',
    config: { env: 'CartPole-v1', hidden: 64, numEnvs: 16, nSteps: 8, seed: 61 },
  },
  {
    name: 'CartPole-v1, 64,64, relu, Adam, N = 65, T = 16',
    config: { env: 'CartPole-v1', netArch: '64,64', activation: 'relu', numEnvs: 65, nSteps: 16, seed: 62 },
  },
  {
    name: 'CartPole-v1, 16,16,16 shared trunk, tanh, reinforce, N = 1, T = 64',
    config: { env: 'CartPole-v1', netArch: '16,16,16', sharedTrunk: true, algo: 'reinforce', numEnvs: 1, nSteps: 64, seed: 63 },
  },
  {
    name: 'Acrobot-v1, pi=32,16/vf=8 (unequal), qac, RMSprop, N = 63, T = 8, observations and rewards normalized',
    config: { env: 'Acrobot-v1', netArch: 'pi=32,16/vf=8', algo: 'qac', optimizer: 'rmsprop', numEnvs: 63, nSteps: 8, normalizeObservations: true, normalizeRewards: true, seed: 64 },
    normStats: skewedStats,
  },
  {
    name: 'MountainCar-v0, 24,24 tdac, relu, N = 64, T = 4, rewards normalized',
    config: { env: 'MountainCar-v0', netArch: '24,24', algo: 'tdac', activation: 'relu', numEnvs: 64, nSteps: 4, normalizeRewards: true, seed: 65 },
    normStats: skewedStats,
  },
  {
    name: 'CartPole-v1, 20,70 (a width past one 64-input tile), relu, N = 65, T = 4, in chunks of 50 rows (envs 50 + 15, rows 5 × 50 + 10)',
    config: { env: 'CartPole-v1', netArch: '20,70', activation: 'relu', numEnvs: 65, nSteps: 4, seed: 66 },
    maxRows: 50,
  },
  {
    name: 'CartPole-v1, 32,32, N = 16, T = 8: episodes truncated inside and at the last step, terminated and truncated at once, terminated',
    config: { env: 'CartPole-v1', netArch: '32,32', numEnvs: 16, nSteps: 8, seed: 69 },
    scenarios: [[0, 'truncatedInside'], [3, 'truncatedLast'], [5, 'bothAtOnce'], [7, 'terminatedInside']],
  },
  {
    name: 'Walk4-test (a 40-step limit), 16,16, N = 65, T = 100: up to three truncations per env and rollout, in chunks of 40 rows',
    config: { env: 'Walk4-test', netArch: '16,16', numEnvs: 65, nSteps: 100, seed: 70 },
    maxRows: 40,
  },
  {
    name: 'CartPole-v1, 64,64, tanh, N = 65, T = 8, with the tiles a GPU gets (linearTilesFor)',
    config: { env: 'CartPole-v1', netArch: '64,64', numEnvs: 65, nSteps: 8, seed: 71 },
    tiles: linearTilesFor({ adapterName: 'NVIDIA H200' }),
  },
  {
    name: 'Pendulum-v1 (Gaussian, D = 1), 64,64, tanh, N = 65, T = 8, observations normalized',
    config: { env: 'Pendulum-v1', netArch: '64,64', numEnvs: 65, nSteps: 8, normalizeObservations: true, entCoef: 0.01, seed: 67 },
    normStats: skewedStats,
  },
  {
    name: 'MountainCarContinuous-v0 (Gaussian), one layer of 32, relu, shared trunk, N = 16, T = 16, in chunks of 7 rows',
    config: { env: 'MountainCarContinuous-v0', hidden: 32, activation: 'relu', sharedTrunk: true, numEnvs: 16, nSteps: 16, seed: 68 },
    maxRows: 7,
  },
];

describe('the layered path, update 0: GPU vs CPU reference, tensor by tensor', () => {
  for (const c of CASES) {
    it(c.name, () =>
      checkUpdateZero(gpu(), c, (config) => {
        const trainer = new GpuTrainer(gpu(), config, { path: 'layered', maxRows: c.maxRows, tiles: c.tiles });
        // Without a row limit the rollout's activations are kept and the update skips its forward; in chunks
        // they are recomputed: both ways are checked here.
        expect(trainer.layered?.keepsActivations).toBe(c.maxRows === undefined);
        return trainer;
      }));
  }
});

describe('the layered path with several agents', () => {
  it('agents with their own seeds and learning rates side by side are each bit for bit their own run (3 updates, 2 layers, chunked)', async () => {
    const base: Partial<TrainConfig> = { env: 'Pendulum-v1', netArch: '16,16', numEnvs: 9, nSteps: 4, evalEpisodes: 0 };
    const agents = [
      { seed: 3, learningRate: 0.001 },
      { seed: 4, learningRate: 0.01 },
      { seed: 5, learningRate: 0.003 },
    ];
    const run = async (config: TrainConfig) => {
      const trainer = new GpuTrainer(gpu(), config, { maxRows: 10 });
      expect(trainer.path).toBe('layered');
      trainer.initialize();
      for (let u = 0; u < 3; u++) submitUpdate(trainer, u);
      const params = new Float32Array(await readBuffer(gpu(), trainer.buffers.params, trainer.totalParams * 4));
      trainer.destroy();
      return params;
    };
    const together = await run(trainConfig({ ...base, numAgents: 3, agents }));
    const p = together.length / 3;
    for (const [a, h] of agents.entries()) {
      const alone = await run(trainConfig({ ...base, ...h }));
      expect(Buffer.from(together.buffer, a * p * 4, p * 4).equals(Buffer.from(alone.buffer)), `agent ${a}`).toBe(true);
    }
  });
});
