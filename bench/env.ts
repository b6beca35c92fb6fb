/**
 * `bench env`: env-only stepping throughput of one env, the GPU kernel and its CPU reference in one run.
 * GPU timings stop only after `onSubmittedWorkDone`, so they include the whole of the GPU's work.
 */
import { CpuVecEnv } from '../src/envs/cpu-vec-env.ts';
import { envSpec } from '../src/envs/registry.ts';
import { actionDim } from '../src/envs/types.ts';
import { makeVecEnv } from '../src/envs/vec-env.ts';
import type { GpuContext } from '../src/platform/gpu-context.ts';
import { randomDiscrete, rngUniform, RNG_STREAM_RANDOM_POLICY } from '../src/rng.ts';

export interface EnvBenchRow {
  env: string;
  numEnvs: number;
  /** All T steps of a random policy fused in one dispatch, state in registers. */
  gpuFusedSps: number;
  /** One dispatch per step with actions from a buffer (what a step-by-step caller gets, minus readback). */
  gpuPerStepSps: number;
  /** The env's CPU reference (src/envs/<env>.ts) in a CpuVecEnv, single thread, f64. */
  cpuSps: number;
}

export interface EnvBenchOptions {
  env: string;
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

/** A fixed random action per env (a Box action per dimension uniform in its bounds), as the random policy draws them. */
function randomActions(env: string, n: number): Float32Array | Uint32Array {
  const spec = envSpec(env);
  const space = spec.actionSpace;
  if (space.type === 'Discrete') return Uint32Array.from({ length: n }, (_, i) => randomDiscrete(1, i, 0, space.n));
  const d = actionDim(spec);
  return Float32Array.from({ length: n * d }, (_, j) => {
    const k = j % d;
    return space.low[k] + (space.high[k] - space.low[k]) * rngUniform(1, RNG_STREAM_RANDOM_POLICY + 1 + k, Math.floor(j / d), 0);
  });
}

export async function benchEnv(ctx: GpuContext, opts: EnvBenchOptions, onRow?: (row: EnvBenchRow) => void): Promise<EnvBenchRow[]> {
  const rows: EnvBenchRow[] = [];
  for (const n of opts.sizes) {
    const actions = randomActions(opts.env, n);
    const env = makeVecEnv(ctx, { env: opts.env, numEnvs: n });
    await env.reset(1);
    const gpuFusedSps = await timeGpu(ctx, opts.seconds, () => {
      env.randomRollout(opts.stepsPerDispatch);
      return n * opts.stepsPerDispatch;
    });
    ctx.device.queue.writeBuffer(env.buffers.actions, 0, actions as Uint32Array<ArrayBuffer>);
    const perStep = Math.max(1, Math.min(64, Math.floor(4e7 / n)));
    const gpuPerStepSps = await timeGpu(ctx, opts.seconds, () => {
      env.encodeSteps(perStep);
      return n * perStep;
    });
    env.destroy();

    let cpuSps = Number.NaN;
    if (env.spec.cpu) {
      const cpu = new CpuVecEnv(n, env.spec, 'f64');
      cpu.reset(1);
      let cpuSteps = 0;
      const start = now();
      do {
        cpu.step(actions);
        cpuSteps += n;
      } while (now() - start < opts.seconds / 2);
      cpuSps = cpuSteps / (now() - start);
    }
    const row = { env: opts.env, numEnvs: n, gpuFusedSps, gpuPerStepSps, cpuSps };
    rows.push(row);
    onRow?.(row);
  }
  return rows;
}
