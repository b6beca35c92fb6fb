/**
 * `bench sweep`: 16 agents (4 learning rates × 4 seeds) on CartPole-v1, each to the end of the same budget,
 * trained as `webgpu-rl sweep` trains them (src/sweep.ts batches, one TrainingSession per batch, one after
 * another), against one agent alone, in the same process and GPU session. Both timings run from creating
 * the session (shader compilation included) until the GPU finished the last update.
 */
import type { GpuContext } from '../src/platform/gpu-context.ts';
import { expandSweep, parseSweepSpec, storageCap, sweepBase, sweepBatches } from '../src/sweep.ts';
import type { TrainConfig } from '../src/config.ts';
import { maxTrainEnvs } from '../src/trainer/gpu-trainer.ts';
import { TrainingSession } from '../src/trainer/train.ts';
import { median } from '../src/sweep-report.ts';

export const SWEEP_BENCH_LEARNING_RATES = [1e-3, 3e-3, 1e-2, 3e-2];

export interface SweepBenchResult {
  env: string;
  agents: number;
  /** Sessions the agents were split into (the packed weights of 15 agents of H = 64 fill the buffer). */
  sessions: number;
  agentsPerSession: number[];
  totalSteps: number;
  /** Each side timed this many times, alternating; the medians are reported. */
  repeats: number;
  oneAgentSeconds: number;
  sweepSeconds: number;
  /** sweepSeconds / oneAgentSeconds: the target is at most 3. */
  ratio: number;
  oneAgentSps: number;
  /** Env steps of all agents per second. */
  sweepSps: number;
}

/** Trains `config` to its budget; seconds from the session's creation until the GPU is idle. */
async function timeSession(ctx: GpuContext, config: TrainConfig): Promise<{ seconds: number; steps: number }> {
  const start = performance.now();
  const session = new TrainingSession(ctx, config);
  session.initialize();
  while (session.update < session.maxUpdates) await session.step();
  await session.drain();
  await ctx.device.queue.onSubmittedWorkDone();
  const seconds = (performance.now() - start) / 1000;
  const steps = session.envSteps * config.numAgents;
  session.destroy();
  ctx.throwIfErrors();
  return { seconds, steps };
}

export async function benchSweep(ctx: GpuContext, options: { totalSteps: number; seeds: number; repeats: number }, progress: (line: string) => void): Promise<SweepBenchResult> {
  const spec = parseSweepSpec(
    { base: { env: 'CartPole-v1', totalSteps: options.totalSteps, evalEpisodes: 0 }, grid: { learningRate: SWEEP_BENCH_LEARNING_RATES }, seeds: options.seeds },
    'bench sweep',
  );
  const agents = expandSweep(spec, sweepBase(spec, {}, 'bench sweep'));
  const batches = sweepBatches(agents, storageCap((t, g, env) => maxTrainEnvs(ctx.device, t, g, env)));
  // Warm-up: the device's first session pays for pipeline creation paths once.
  await timeSession(ctx, { ...agents[0].config, totalSteps: 1 });
  // Alternated and repeated, medians compared: a busy machine slows both sides alike.
  let oneSteps = 0;
  const oneTimes: number[] = [];
  const sweepTimes: number[] = [];
  let steps = 0;
  for (let r = 0; r < options.repeats; r++) {
    const one = await timeSession(ctx, agents[0].config);
    oneTimes.push(one.seconds);
    oneSteps = one.steps;
    const start = performance.now();
    steps = 0;
    for (const batch of batches) steps += (await timeSession(ctx, batch.config)).steps;
    sweepTimes.push((performance.now() - start) / 1000);
    progress(`repeat ${r + 1}/${options.repeats}: one agent ${oneTimes.at(-1)!.toFixed(2)} s, sweep ${sweepTimes.at(-1)!.toFixed(2)} s`);
  }
  const oneSeconds = median(oneTimes);
  const sweepSeconds = median(sweepTimes);
  return {
    env: 'CartPole-v1',
    agents: agents.length,
    sessions: batches.length,
    agentsPerSession: batches.map((b) => b.agents.length),
    totalSteps: options.totalSteps,
    repeats: options.repeats,
    oneAgentSeconds: oneSeconds,
    sweepSeconds,
    ratio: sweepSeconds / oneSeconds,
    oneAgentSps: oneSteps / oneSeconds,
    sweepSps: steps / sweepSeconds,
  };
}

export function sweepBenchMarkdown(r: SweepBenchResult, command: string, adapter: string): string {
  return [
    `${command}\nadapter: ${adapter}`,
    `${r.agents} agents (${SWEEP_BENCH_LEARNING_RATES.length} learning rates × ${r.agents / SWEEP_BENCH_LEARNING_RATES.length} seeds) on ${r.env}, ${r.totalSteps} env steps each, in ${r.sessions} session(s) of ${r.agentsPerSession.join(' + ')} agents, vs one agent alone; same process, median of ${r.repeats} alternating runs\n`,
    '| | wall seconds | env steps/s (all agents) |',
    '|---|---:|---:|',
    `| one agent | ${r.oneAgentSeconds.toFixed(2)} | ${Math.round(r.oneAgentSps)} |`,
    `| sweep of ${r.agents} | ${r.sweepSeconds.toFixed(2)} | ${Math.round(r.sweepSps)} |`,
    '',
    `sweep / one agent: ${r.ratio.toFixed(2)}x wall time (target: at most 3x)`,
  ].join('\n');
}
