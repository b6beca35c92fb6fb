/**
 * `bench solve`: wall time from process start to solved (and evaluated) on CartPole-v1, over seeds,
 * each a fresh `webgpu-rl train --json` process, so start-up, device creation and shader compilation count.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface SolveRun {
  seed: number;
  solved: boolean;
  wallSeconds: number;
  envSteps: number;
  updates: number;
  evalMeanReturn: number | null;
}

const BIN = fileURLToPath(new URL('../bin/webgpu-rl.mjs', import.meta.url));

export function benchSolve(seeds: number[], extraArgs: string[], onRun?: (r: SolveRun) => void): SolveRun[] {
  return seeds.map((seed) => {
    const child = spawnSync(process.execPath, [BIN, 'train', '--json', '--no-plots', '--seed', String(seed), ...extraArgs, '--out', `runs/bench-solve/seed${seed}-${Date.now()}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const last = child.stdout.trim().split('\n').at(-1) ?? '';
    let summary: { solved: boolean; wallSeconds: number; envSteps: number; updates: number; evalMeanReturn: number | null };
    try {
      summary = JSON.parse(last);
    } catch {
      throw new Error(`train --seed ${seed} failed (exit ${child.status}): ${child.stderr.trim().split('\n').at(-1) ?? ''}`);
    }
    const run = { seed, solved: summary.solved, wallSeconds: summary.wallSeconds, envSteps: summary.envSteps, updates: summary.updates, evalMeanReturn: summary.evalMeanReturn };
    onRun?.(run);
    return run;
  });
}

export function summarize(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}
