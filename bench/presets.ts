/**
 * `bench presets`: does `train --env X --algo Y` alone learn? For each env × algorithm, the preset
 * (defaultConfig(algo, env): the schema's defaults, the algorithm's, the env's, the env × algorithm's)
 * trains S seeds side by side in one process (--num-agents; agents that do not fit the fused kernels'
 * packed-weight buffer together run in consecutive batches of near-equal size) until every agent reached
 * the target or the preset's step budget ran out. Per cell: agents that reached the target, median env steps to it, median mean return
 * of the last 100 episodes at the end, wall time.
 */
import { defaultConfig, type Algo, type TrainConfig } from '../src/config.ts';
import { envSpec } from '../src/envs/registry.ts';
import { maxAgentsPerSession, nearEqualSizes } from '../src/sweep.ts';
import type { GpuContext } from '../src/platform/gpu-context.ts';
import { train, type TrainMetrics } from '../src/trainer/train.ts';
import { summarize } from './solve.ts';

export interface PresetRow {
  env: string;
  algo: Algo;
  seeds: number;
  target: number;
  budget: number;
  /** Agents whose mean return of the last 100 episodes reached the target within the budget. */
  solved: number;
  /** Env steps (per agent) to the target: median over the agents that reached it; null if none did. */
  medianSteps: number | null;
  maxSteps: number | null;
  /** Mean return of the last 100 episodes when training stopped, median over agents. */
  medianFinalReturn: number;
  wallSeconds: number;
}

/**
 * The sessions S seeds of a preset train in, as a sweep batches them: the fused kernels' packed weights hold
 * ~15 one-layer agents, so 16 seeds run as 8 + 8; the layered path (deeper networks, Gaussian heads, PPO)
 * takes all at once — run as 15 + 1, the 16 PPO seeds of CartPole-v1, CartPole-v0 and Acrobot-v1 took 11–43 %
 * longer on lavapipe. Each agent trains bit for bit as it would alone, whatever the batching.
 */
export function presetBatches(preset: TrainConfig, seeds: number): number[] {
  return nearEqualSizes(seeds, maxAgentsPerSession(preset));
}

/** How often a long cell says where it is (`onProgress`), in seconds of wall time. */
const PROGRESS_EVERY_S = 60;

export async function benchPreset(
  ctx: GpuContext,
  env: string,
  algo: Algo,
  seeds: number,
  overrides: Partial<TrainConfig> = {},
  onProgress?: (line: string) => void,
): Promise<PresetRow> {
  const preset = { ...defaultConfig(algo, env), evalEpisodes: 0, ...overrides };
  const target = preset.targetReturn ?? envSpec(env).rewardThreshold;
  if (target === null) throw new Error(`${env} has no reward threshold: give bench presets --target-return`);
  const batches = presetBatches(preset, seeds);
  const solvedAt: (number | null)[] = [];
  const finals: number[] = [];
  const start = performance.now();
  let nextProgress = start + PROGRESS_EVERY_S * 1000;
  let first = 0;
  for (const g of batches) {
    // A cell can run for an hour on a CPU adapter: say, now and then, how far the agents have come.
    const onMetrics = (m: TrainMetrics) => {
      const now = performance.now();
      if (!onProgress || now < nextProgress) return;
      nextProgress = now + PROGRESS_EVERY_S * 1000;
      const means = m.agents ? m.agents.map((a) => a.meanReturn100) : [m.meanReturn100];
      const reached = m.agents ? m.agents.filter((a) => a.solved).length : Number(m.meanReturn100 >= target);
      onProgress(`${env} ${algo}, seeds ${first + 1}–${first + g} of ${seeds}: ${m.globalStep} of ${preset.totalSteps} steps, ${reached}/${g} reached ${target}, median mean return ${summarize(means).median.toFixed(1)}, ${((now - start) / 1000).toFixed(0)} s`);
    };
    const result = await train(ctx, { ...preset, seed: preset.seed + first, numAgents: g, targetReturn: target }, { onMetrics });
    solvedAt.push(...result.solvedAtStep);
    const last = result.history.at(-1);
    finals.push(...(last?.agents ? last.agents.map((a) => a.meanReturn100) : [result.meanReturn100]));
    first += g;
  }
  const reached = solvedAt.filter((s): s is number => s !== null);
  const steps = reached.length > 0 ? summarize(reached) : null;
  return {
    env,
    algo,
    seeds,
    target,
    budget: preset.totalSteps,
    solved: reached.length,
    medianSteps: steps?.median ?? null,
    maxSteps: steps?.max ?? null,
    medianFinalReturn: summarize(finals).median,
    wallSeconds: (performance.now() - start) / 1000,
  };
}
