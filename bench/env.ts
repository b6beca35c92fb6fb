/**
 * `bench env`: env-only stepping throughput, the GPU kernel and the TS CPU reference in one run.
 * GPU timings stop only after `onSubmittedWorkDone`, so they include the whole of the GPU's work.
 */
import { CpuCartPoleVecEnv } from '../src/cpu/cartpole.ts';
import { cartPoleParams } from '../src/env/cartpole-params.ts';
import { CartPoleVecEnv } from '../src/env/cartpole-vec-env.ts';
import type { GpuContext } from '../src/platform/gpu-context.ts';

export interface EnvBenchRow {
  numEnvs: number;
  /** All T steps of a random policy fused in one dispatch, state in registers. */
  gpuFusedSps: number;
  /** One dispatch per step with actions from a buffer (what a step-by-step caller gets, minus readback). */
  gpuPerStepSps: number;
  /** src/cpu/cartpole.ts, single thread, f64. */
  cpuSps: number;
}

export interface EnvBenchOptions {
  sizes: number[];
  /** Steps per fused dispatch. */
  stepsPerDispatch: number;
  /** Seconds each measurement runs for, at least. */
  seconds: number;
}

const now = () => performance.now() / 1000;

async function timeGpu(ctx: GpuContext, minSeconds: number, work: () => number): Promise<number> {
  work(); // warm-up: pipeline creation, first touch of buffers
  await ctx.device.queue.onSubmittedWorkDone();
  let steps = 0;
  const start = now();
  do {
    steps += work();
    await ctx.device.queue.onSubmittedWorkDone();
  } while (now() - start < minSeconds);
  return steps / (now() - start);
}

export async function benchEnv(ctx: GpuContext, opts: EnvBenchOptions, onRow?: (row: EnvBenchRow) => void): Promise<EnvBenchRow[]> {
  const rows: EnvBenchRow[] = [];
  const params = cartPoleParams('CartPole-v1');
  for (const n of opts.sizes) {
    const env = CartPoleVecEnv.create(ctx, { numEnvs: n });
    await env.reset(1);
    const gpuFusedSps = await timeGpu(ctx, opts.seconds, () => {
      env.randomRollout(opts.stepsPerDispatch);
      return n * opts.stepsPerDispatch;
    });
    const perStep = Math.max(1, Math.min(64, Math.floor(4e7 / n)));
    const gpuPerStepSps = await timeGpu(ctx, opts.seconds, () => {
      env.encodeSteps(perStep);
      return n * perStep;
    });
    env.destroy();

    const cpu = new CpuCartPoleVecEnv(n, params, 'f64');
    cpu.reset(1);
    const actions = Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 31);
    let cpuSteps = 0;
    const start = now();
    do {
      cpu.step(actions);
      cpuSteps += n;
    } while (now() - start < opts.seconds / 2);
    const cpuSps = cpuSteps / (now() - start);
    const row = { numEnvs: n, gpuFusedSps, gpuPerStepSps, cpuSps };
    rows.push(row);
    onRow?.(row);
  }
  return rows;
}
