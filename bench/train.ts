/**
 * Training benchmarks, each with its CPU reference measured in the same run:
 *   kernels  forward+backward of the actor-critic over B rows (the backward kernel recomputes the
 *            hidden layers): GFLOP/s and rows/s vs src/cpu/actor-critic.ts + losses
 *   rollout  policy forward + sampling + env step, env-steps/s vs src/cpu/rollout.ts
 *   train    whole updates, env-steps/s and updates/s vs src/cpu/rollout.ts + src/cpu/update.ts
 * GPU timings run until `onSubmittedWorkDone`, so they include all of the GPU's work.
 */
import { defaultConfig, type TrainConfig } from '../src/config.ts';
import { actorCriticBackward, actorCriticForward } from '../src/cpu/actor-critic.ts';
import { initParams } from '../src/cpu/init.ts';
import { actorCriticLoss } from '../src/cpu/losses.ts';
import { rolloutCollect } from '../src/cpu/rollout.ts';
import { updateReference, type OptimizerState } from '../src/cpu/update.ts';
import type { GpuContext } from '../src/platform/gpu-context.ts';
import { GpuTrainer, type NetworkPath, type Phase } from '../src/trainer/gpu-trainer.ts';

const now = () => performance.now() / 1000;

/** Repeats `work` (which submits) until `seconds` passed and the GPU is idle; returns work units per second. */
async function timeGpu(ctx: GpuContext, seconds: number, work: () => number): Promise<number> {
  work();
  await ctx.device.queue.onSubmittedWorkDone();
  let units = 0;
  const start = now();
  do {
    units += work();
    // Keep a few submits in flight without letting the queue grow without bound.
    if (units > 0) await ctx.device.queue.onSubmittedWorkDone();
  } while (now() - start < seconds);
  return units / (now() - start);
}

function timeCpu(seconds: number, work: () => number): number {
  let units = 0;
  const start = now();
  do units += work();
  while (now() - start < seconds);
  return units / (now() - start);
}

function makeTrainer(ctx: GpuContext, overrides: Partial<TrainConfig>, options: { path?: NetworkPath } = {}): GpuTrainer {
  const trainer = new GpuTrainer(ctx, { ...defaultConfig(), evalEpisodes: 0, ...overrides }, options);
  trainer.initialize();
  return trainer;
}

function submitPhases(ctx: GpuContext, trainer: GpuTrainer, phases: readonly Phase[], update: number, repeats = 1) {
  trainer.writeUniform(update);
  const encoder = ctx.device.createCommandEncoder();
  for (let i = 0; i < repeats; i++) trainer.encodePhases(encoder, phases);
  ctx.device.queue.submit([encoder.finish()]);
}

/** Model FLOPs per row of a forward+backward: 2·MACs of the forward, times 3 (backward ≈ 2 forwards). */
export function flopsPerRow(hidden: number, valueOutputs = 1, obs = 4, actions = 2): number {
  const forwardMacs = obs * hidden + hidden * actions + obs * hidden + hidden * valueOutputs;
  return 3 * 2 * forwardMacs;
}

export interface KernelBenchRow {
  rows: number;
  hidden: number;
  gpuRowsPerSec: number;
  gpuGflops: number;
  cpuRowsPerSec: number;
  cpuGflops: number;
  /** Rows the CPU reference was timed at (it is flat in B; large B would take minutes). */
  cpuRows: number;
}

export async function benchKernels(ctx: GpuContext, sizes: number[], hidden: number, seconds: number, onRow?: (r: KernelBenchRow) => void): Promise<KernelBenchRow[]> {
  const rows: KernelBenchRow[] = [];
  const nSteps = 8;
  for (const b of sizes) {
    const numEnvs = Math.ceil(b / nSteps);
    const trainer = makeTrainer(ctx, { numEnvs, nSteps, hidden, activation: 'relu' });
    submitPhases(ctx, trainer, ['rollout', 'advantages', 'moments'], 0);
    const gpuRowsPerSec = await timeGpu(ctx, seconds, () => {
      submitPhases(ctx, trainer, ['backward', 'reduce'], 0, 4);
      return 4 * trainer.numRows;
    });
    trainer.destroy();

    const cpuRows = Math.min(b, 4096);
    const shape = { obsSize: 4, hiddenSize: hidden, numActions: 2, valueOutputs: 1, activation: 'relu' as const };
    const params = initParams(new Float64Array(trainer.layout.total), shape, 'orthogonal', 1);
    const obs = Float64Array.from({ length: cpuRows * 4 }, (_, i) => Math.sin(i) * 0.1);
    const actions = Uint32Array.from({ length: cpuRows }, (_, i) => i & 1);
    const advantages = Float64Array.from({ length: cpuRows }, (_, i) => Math.cos(i));
    const cpuRowsPerSec = timeCpu(seconds / 2, () => {
      const cache = actorCriticForward(params, shape, obs, cpuRows);
      const loss = actorCriticLoss({ logits: cache.logits, values: cache.values, actions, advantages, returns: advantages, B: cpuRows, A: 2, V: 1, vfCoef: 0.5, entCoef: 0.01 });
      actorCriticBackward(params, shape, obs, cache, loss.dLogits, loss.dValues, cpuRows);
      return cpuRows;
    });
    const flops = flopsPerRow(hidden);
    const row = { rows: trainer.numRows, hidden, gpuRowsPerSec, gpuGflops: (gpuRowsPerSec * flops) / 1e9, cpuRowsPerSec, cpuGflops: (cpuRowsPerSec * flops) / 1e9, cpuRows };
    rows.push(row);
    onRow?.(row);
  }
  return rows;
}

export interface TrainBenchRow {
  numEnvs: number;
  nSteps: number;
  gpuStepsPerSec: number;
  gpuUpdatesPerSec: number;
  cpuStepsPerSec: number;
  cpuEnvs: number;
}

/** `phases` = ['rollout'] for bench rollout, all of them for bench train. */
export async function benchTraining(
  ctx: GpuContext,
  kind: 'rollout' | 'train',
  sizes: number[],
  config: Partial<TrainConfig>,
  seconds: number,
  onRow?: (r: TrainBenchRow) => void,
  options: { path?: NetworkPath } = {},
): Promise<TrainBenchRow[]> {
  const rows: TrainBenchRow[] = [];
  const phases: readonly Phase[] = kind === 'rollout' ? ['rollout'] : ['rollout', 'advantages', 'moments', 'backward', 'reduce', 'norm', 'optimizer'];
  for (const n of sizes) {
    const trainer = makeTrainer(ctx, { ...config, numEnvs: n }, options);
    const c = trainer.config;
    let update = 0;
    const updatesPerSubmit = Math.max(1, Math.min(16, Math.floor(2e6 / trainer.numRows)));
    const gpuUpdatesPerSec = await timeGpu(ctx, seconds, () => {
      // Several updates per submit at small N, as a training loop would have in flight.
      for (let i = 0; i < updatesPerSubmit; i++) submitPhases(ctx, trainer, phases, update++);
      return updatesPerSubmit;
    });
    const envSlots = await trainer.readEnvSlots();
    trainer.destroy();

    // CPU reference at up to 1024 envs: its throughput does not depend on N.
    const cpuEnvs = Math.min(n, 1024);
    const shape = trainer.shape;
    const params = initParams(new Float32Array(trainer.layout.total), shape, c.init, c.seed);
    let envs: Uint32Array = envSlots.slice(0, cpuEnvs * trainer.slotWords);
    let opt: OptimizerState = { params, optM: new Float32Array(params.length), optV: new Float32Array(params.length) };
    let cpuUpdate = 0;
    const cpuStepsPerSec = timeCpu(seconds / 2, () => {
      const ro = rolloutCollect({ params: opt.params, shape, env: trainer.env, envs, seed: c.seed, update: cpuUpdate, T: c.nSteps, N: cpuEnvs });
      envs = ro.envs;
      if (kind === 'train') opt = updateReference(opt, shape, ro, c, cpuUpdate).state;
      cpuUpdate++;
      return cpuEnvs * c.nSteps;
    });
    const row = { numEnvs: n, nSteps: c.nSteps, gpuStepsPerSec: gpuUpdatesPerSec * trainer.numRows, gpuUpdatesPerSec, cpuStepsPerSec, cpuEnvs };
    rows.push(row);
    onRow?.(row);
  }
  return rows;
}
