/**
 * Env slots that make episodes end at chosen places of a rollout (injected with loadEnvSlots), and the
 * check that the CPU reference's rollout really ended them there, so a scenario cannot silently miss.
 */
import { expect } from 'vitest';
import { rolloutCollect, type CpuRollout, type RolloutArgs } from '../../src/cpu/rollout.ts';
import { ENV_SLOT_WORDS, setSlot } from './harness.ts';

export type Scenario =
  | 'truncatedInside' // time limit at step 2
  | 'truncatedLast' // time limit at step T−1
  | 'terminatedInside' // pole falls at step 0 or 1
  | 'terminatedLast' // pole falls at step T−1 (found by search under the sampled actions)
  | 'bothAtOnce'; // pole falls on the step that reaches the time limit: terminated and truncated, no bootstrap

/** Writes the scenarios into `args.envs` (in place). Needs T ≥ 4. */
export function injectScenarios(args: RolloutArgs, scenarios: [number, Scenario][]): void {
  const { envs, T, env } = args;
  const L = env.maxEpisodeSteps;
  for (const [n, scenario] of scenarios) {
    const f32 = new Float32Array(envs.buffer, n * ENV_SLOT_WORDS * 4, 4);
    const resetState = Array.from(f32);
    if (scenario === 'truncatedInside') setSlot(envs, n, resetState, L - 3);
    if (scenario === 'terminatedInside') setSlot(envs, n, [0.1, 0, 0.19, 0.8], 20);
    if (scenario === 'bothAtOnce') setSlot(envs, n, [0, 0, 0.2, 1], L - 1);
  }
  // Whether and when the pole falls depends on the sampled pushes, so the last two scenarios search their
  // start with the CPU reference. The pushes are keyed by (env, step), not by the state: only the start
  // can balance them.
  for (const [n] of scenarios.filter(([, s]) => s === 'truncatedLast')) {
    const starts = Array.from({ length: 121 }, (_, k) => [0, 0, 0.02 * ((k % 11) - 5), 0.1 * (Math.floor(k / 11) - 5)]);
    const start = starts.find((state) => {
      const first = trial(args, n, state, L - T);
      return first?.t === T - 1 && !first.terminated;
    });
    expect(start, `no start keeps env ${n} up for ${T} steps`).toBeDefined();
    setSlot(envs, n, start!, L - T);
  }
  // The middle of the start angles that fall exactly at T−1 keeps the threshold crossing far from any rounding.
  for (const [n] of scenarios.filter(([, s]) => s === 'terminatedLast')) {
    const hits: number[] = [];
    for (let theta = -0.2; theta < 0.2; theta += 0.002) {
      const first = trial(args, n, [0, 0, theta, 0.3], 20);
      if (first?.t === T - 1 && first.terminated) hits.push(theta);
      else if (hits.length > 0) break;
    }
    expect(hits.length, `no start angle ends env ${n} at step ${T - 1}`).toBeGreaterThan(0);
    setSlot(envs, n, [0, 0, hits[hits.length >> 1], 0.3], 20);
  }
}

function firstDone(ro: CpuRollout, n: number): { t: number; terminated: boolean; truncated: boolean } | null {
  for (let t = 0; t < ro.T; t++) {
    const row = t * ro.N + n;
    if (ro.terminated[row] || ro.truncated[row]) return { t, terminated: ro.terminated[row] === 1, truncated: ro.truncated[row] === 1 };
  }
  return null;
}

/** Where env n's first episode ends when it starts from `state` with `elapsed` steps taken (env n alone). */
function trial(args: RolloutArgs, n: number, state: number[], elapsed: number) {
  const envs = new Uint32Array(ENV_SLOT_WORDS);
  setSlot(envs, 0, state, elapsed);
  return firstDone(rolloutCollect({ ...args, envs, N: 1, envIndices: [n] }), 0);
}

/** The rollout ended each scenario's episode where the scenario says. */
export function expectScenarios(ro: CpuRollout, scenarios: [number, Scenario][]): void {
  for (const [n, scenario] of scenarios) {
    const first = firstDone(ro, n);
    const where = `env ${n} (${scenario})`;
    expect(first, where).not.toBeNull();
    const { t, terminated, truncated } = first!;
    if (scenario === 'truncatedInside') expect([t, terminated, truncated], where).toEqual([2, false, true]);
    if (scenario === 'truncatedLast') expect([t, terminated, truncated], where).toEqual([ro.T - 1, false, true]);
    if (scenario === 'terminatedInside') expect(t < ro.T - 1 && terminated && !truncated, where).toBe(true);
    if (scenario === 'terminatedLast') expect([t, terminated, truncated], where).toEqual([ro.T - 1, true, false]);
    if (scenario === 'bothAtOnce') expect([t, terminated, truncated, ro.bootstrapValues[n]], where).toEqual([0, true, true, 0]);
    if (truncated && !terminated) expect(ro.bootstrapValues[t * ro.N + n], `${where}: bootstrap value`).not.toBe(0);
  }
}
